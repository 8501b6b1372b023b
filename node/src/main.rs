//! The `signet` command: create a party (`init`), run its node (`run`), copy its data
//! (`backup`, `restore`, `migrate`), make a person's key (`keygen`), verify bundles offline
//! (`verify`), run a demonstration federation (`demo`), and talk to a running node
//! over its local HTTP API (`send`, `inbox`, `status`, `sign`, …).
//!
//! Exit codes: 0 success (for `verify`: VALID); 1 `verify`: INVALID; 2 usage error;
//! 3 `verify`: INDETERMINATE; 4 the node refused the request; 5 the node is unreachable or
//! failed; 6 authentication failed (missing, unknown or read-only token); 7 `run`: another
//! process took the party's lease on its PostgreSQL database (a standby took over).

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Signet: federated e-contract signing.
#[derive(Debug, Parser)]
#[command(name = "signet", version, about)]
struct Args {
    /// Print JSON instead of human-readable text.
    #[arg(long, global = true)]
    json: bool,
    /// For the commands against a running node: its API (may also follow the subcommand).
    #[arg(long = "api", id = "outer_api", value_name = "URL")]
    api: Option<String>,
    /// For the commands against a running node: the API token (may also follow the
    /// subcommand).
    #[arg(long = "token", id = "outer_token", value_name = "TOKEN")]
    token: Option<String>,
    /// For the commands against a running node: a CA file for its TLS certificate.
    #[arg(long = "api-ca", id = "outer_api_ca", value_name = "PEM")]
    api_ca: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a party: keys, key event log, seals, the delegate's key and mandate, config.
    Init(cli::InitArgs),
    /// Run the node (network, service and HTTP API) until interrupted.
    Run {
        /// The party directory.
        #[arg(long, default_value = "signet-node")]
        dir: PathBuf,
    },
    /// Copy the party (configuration, keys, store) into a new directory, its node stopped.
    Backup(cli::store_admin::BackupArgs),
    /// Create a party directory from a backup, on sled or in a PostgreSQL database.
    Restore(cli::store_admin::RestoreArgs),
    /// Move the party's data from its sled store into PostgreSQL, its node stopped.
    Migrate(cli::store_admin::MigrateArgs),
    /// The trust policy's CA roots and CRLs (certificate-backed identities): on the running
    /// node, in effect at once, or in a stopped node's party directory (`--dir`).
    #[command(subcommand)]
    Policy(cli::policy::PolicyCommand),
    /// Make a person's key (Ed25519 or SM2) on this device, without a party: writes the key
    /// file and prints the public key for `signet delegations add --public-key`.
    Keygen(cli::keygen::KeygenArgs),
    /// Verify a bundle offline and print the per-check report; exit 0 only for VALID.
    Verify(cli::VerifyArgs),
    /// Run a small federation on loopback and narrate it.
    Demo(cli::demo::DemoArgs),
    /// Commands against a running node's HTTP API.
    #[command(flatten)]
    Client(cli::client::ClientCommand),
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The demo narrates; its nodes' warnings (an expected refusal) would interleave.
    let default_level = if matches!(args.command, Command::Demo(_)) {
        "error"
    } else {
        // The node republishes its key log and attestations on a beat shorter than
        // gossipsub's duplicate cache; gossipsub warns at each such expected refusal.
        "warn,libp2p_gossipsub::behaviour=error"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGNET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let outer = cli::client::Conn::new(args.api, args.token, args.api_ca);
    if !matches!(args.command, Command::Client(_) | Command::Policy(_)) && outer.is_given() {
        eprintln!(
            "signet: --api, --token and --api-ca are for the commands that talk to a running node"
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("signet: cannot start the runtime: {e}");
            return ExitCode::from(5);
        }
    };
    let result = runtime.block_on(async move {
        match args.command {
            Command::Init(a) => cli::init(a, args.json),
            Command::Run { dir } => cli::run(dir).await,
            Command::Backup(a) => cli::store_admin::backup(a, args.json),
            Command::Restore(a) => cli::store_admin::restore(a, args.json),
            Command::Migrate(a) => cli::store_admin::migrate(a, args.json),
            Command::Keygen(a) => cli::keygen::keygen(a, args.json),
            Command::Verify(a) => cli::verify(a, args.json),
            Command::Policy(c) => cli::policy::run(c, &outer, args.json).await,
            Command::Demo(a) => cli::demo::demo(a).await,
            Command::Client(c) => cli::client::run(c, &outer, args.json).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("signet: {e:#}");
            let code = e.downcast_ref::<cli::Exit>().map_or(5, |exit| exit.0);
            ExitCode::from(code)
        }
    }
}
