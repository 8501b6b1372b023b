//! `signet keygen`: a person makes their own software key on their own device, without a
//! party directory. Only the public key leaves the file; it is printed as
//! `signet delegations add --public-key` takes it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde_json::json;
use signet_node::keyfile::{self, Replace};
use signet_node::service::init::{SealAlgorithm, new_key};

use super::Exit;

/// `signet keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The key's algorithm: `sm2` for a person who signs intent proofs with SM2 and SM3.
    #[arg(long, value_enum, default_value_t = SealAlgorithm::Ed25519)]
    algorithm: SealAlgorithm,
    /// Where to write the key file (owner-only, mode 0600; it must not exist). `signet sign`
    /// reads it.
    #[arg(long)]
    out: PathBuf,
}

/// `signet keygen`: writes the key file, prints the public key (hex for Ed25519, `sm2:` and
/// the compressed point in hex for SM2) on standard output.
pub(crate) fn keygen(a: KeygenArgs, as_json: bool) -> Result<u8> {
    let key = new_key(a.algorithm).map_err(|e| Exit(5, e.to_string()))?;
    keyfile::write_log_key(&a.out, &key, Replace::No).map_err(|e| Exit(2, e.to_string()))?;
    let public = key.public_key().to_string();
    if as_json {
        let algorithm = match a.algorithm {
            SealAlgorithm::Ed25519 => "ed25519",
            SealAlgorithm::Sm2 => "sm2",
        };
        println!(
            "{}",
            json!({"algorithm": algorithm, "public_key": public, "file": a.out.display().to_string()})
        );
    } else {
        // The key alone on standard output, for scripts; the advice on standard error.
        println!("{public}");
        eprintln!(
            "Wrote {} (keep it private). Give the public key above to your party's administrator: `signet delegations add --public-key {public} …`",
            a.out.display()
        );
    }
    Ok(0)
}
