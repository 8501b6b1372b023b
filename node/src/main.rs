//! The `signet` command. The node itself (networking, storage, HTTP API, CLI subcommands and
//! the demo) is not built yet; until it is, the command says so plainly instead of pretending.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            println!("signet {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "signet: the node and its subcommands are not available in this build yet.\n\
                 The protocol core is: run `./demo.sh` or `cargo run -p signet-protocol --example walkthrough`."
            );
            ExitCode::from(2)
        }
    }
}
