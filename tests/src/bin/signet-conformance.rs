//! The conformance runner: drives an implementation through every vector of `spec/vectors/`
//! over the contract of spec/conformance.md and reports pass or fail per vector.
//!
//! `signet-conformance --impl "<command>" [--vectors spec/vectors]`

use std::path::PathBuf;

use anyhow::bail;

fn main() -> anyhow::Result<()> {
    let mut command = None;
    let mut vectors = PathBuf::from("spec/vectors");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--impl" => command = args.next(),
            "--vectors" => vectors = args.next().map(PathBuf::from).unwrap_or(vectors),
            "-h" | "--help" => {
                println!("usage: signet-conformance --impl \"<command>\" [--vectors <dir>]");
                return Ok(());
            }
            other => bail!("unknown argument {other}"),
        }
    }
    let Some(command) = command else {
        bail!("usage: signet-conformance --impl \"<command>\" [--vectors <dir>]");
    };
    let summary = signet_tests::runner::run(&command, &vectors, &mut std::io::stdout())?;
    if summary.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
