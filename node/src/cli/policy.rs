//! `signet policy`: the trust policy's CA roots and CRLs, edited in the party directory
//! (spec §6.11). A running node takes the change at its next start.

use std::path::PathBuf;

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Subcommand;
use der::Decode;
use serde_json::json;
use signet_node::certificate::pem_blocks;
use signet_node::service::config::{CRL_DIR, CaRootConfig, NodeConfig};

use super::{Exit, exit, read_file};

/// `signet policy …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// CA roots: certificates of licensed CAs whose certificates identify parties.
    #[command(subcommand)]
    Ca(CaCommand),
    /// CRLs of those CAs, needed to trust a certificate-backed identity (a current CRL of
    /// every CA on the path).
    #[command(subcommand)]
    Crl(CrlCommand),
    /// Whether every session of this party requires national algorithms (spec 8.2.5: SM2
    /// seals, SM3 digests, SM2/SM3 PDF signatures): shown, or set with `--require` or
    /// `--off`. With it, the party proposes only such sessions and refuses proposals that
    /// do not require them.
    National {
        /// The party directory.
        #[arg(long, default_value = "signet-node")]
        dir: PathBuf,
        /// Require national algorithms.
        #[arg(long, conflicts_with = "off")]
        require: bool,
        /// Stop requiring them.
        #[arg(long)]
        off: bool,
    },
}

/// `signet policy ca …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CaCommand {
    /// Add a CA root certificate (PEM or DER).
    Add {
        /// The party directory.
        #[arg(long, default_value = "signet-node")]
        dir: PathBuf,
        /// A name for the CA.
        #[arg(long)]
        name: String,
        /// The root certificate.
        file: PathBuf,
    },
    /// List the CA roots.
    List {
        /// The party directory.
        #[arg(long, default_value = "signet-node")]
        dir: PathBuf,
    },
}

/// `signet policy crl …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CrlCommand {
    /// Add a CRL (PEM or DER) to the party directory's `crls/`.
    Add {
        /// The party directory.
        #[arg(long, default_value = "signet-node")]
        dir: PathBuf,
        /// The CRL file.
        file: PathBuf,
    },
}

fn load(dir: &std::path::Path) -> Result<NodeConfig> {
    NodeConfig::load(dir).map_err(|e| Exit(2, e.to_string()).into())
}

/// Runs a `signet policy` command.
pub(crate) fn run(command: PolicyCommand, as_json: bool) -> Result<u8> {
    match command {
        PolicyCommand::National { dir, require, off } => {
            let mut config = load(&dir)?;
            if require || off {
                config.policy.require_national_algorithms = require;
                config.save(&dir)?;
            }
            let required = config.policy.require_national_algorithms;
            if as_json {
                println!("{}", json!({"require_national_algorithms": required}));
            } else if require || off {
                println!(
                    "National algorithms {}; restart the node to apply",
                    if required { "required" } else { "not required" }
                );
            } else {
                println!(
                    "National algorithms {}",
                    if required { "required" } else { "not required" }
                );
            }
        }
        PolicyCommand::Ca(CaCommand::Add { dir, name, file }) => {
            let mut config = load(&dir)?;
            let der = match pem_blocks(&read_file(&file)?, "CERTIFICATE").as_slice() {
                [der] => der.clone(),
                _ => return exit(2, format!("{}: not one certificate", file.display())),
            };
            let certificate = x509_cert::Certificate::from_der(&der)
                .map_err(|_| Exit(2, format!("{}: not an x.509 certificate", file.display())))?;
            let tbs = certificate.tbs_certificate();
            let is_ca = tbs
                .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
                .ok()
                .flatten()
                .is_some_and(|(_, bc)| bc.ca);
            if !is_ca {
                return exit(2, format!("{}: not a CA certificate", file.display()));
            }
            let name = name.trim().to_string();
            if name.is_empty() || config.policy.ca_roots.iter().any(|r| r.name == name) {
                return exit(
                    2,
                    format!("a CA root needs a new, non-empty name: {name:?}"),
                );
            }
            let encoded = B64.encode(&der);
            if config
                .policy
                .ca_roots
                .iter()
                .any(|r| r.certificate == encoded)
            {
                return exit(2, "this CA root is in the policy already");
            }
            config.policy.ca_roots.push(CaRootConfig {
                name: name.clone(),
                certificate: encoded,
            });
            config.trust_policy().map_err(|e| Exit(2, e.to_string()))?;
            config.save(&dir)?;
            let subject = tbs.subject().to_string();
            if as_json {
                println!("{}", json!({"added": name, "subject": subject}));
            } else {
                println!("Added CA root {name:?} ({subject}); restart the node to use it");
            }
        }
        PolicyCommand::Ca(CaCommand::List { dir }) => {
            let config = load(&dir)?;
            let roots: Vec<serde_json::Value> = config
                .policy
                .ca_roots
                .iter()
                .map(|r| {
                    let subject = B64
                        .decode(&r.certificate)
                        .ok()
                        .and_then(|der| x509_cert::Certificate::from_der(&der).ok())
                        .map(|c| c.tbs_certificate().subject().to_string())
                        .unwrap_or_default();
                    json!({"name": r.name, "subject": subject})
                })
                .collect();
            if as_json {
                println!("{}", serde_json::Value::Array(roots));
            } else {
                for root in &roots {
                    println!(
                        "{}\t{}",
                        root["name"].as_str().unwrap_or(""),
                        root["subject"].as_str().unwrap_or("")
                    );
                }
            }
        }
        PolicyCommand::Crl(CrlCommand::Add { dir, file }) => {
            load(&dir)?;
            let blocks = pem_blocks(&read_file(&file)?, "X509 CRL");
            let [der] = blocks.as_slice() else {
                return exit(2, format!("{}: not one CRL", file.display()));
            };
            let list = <x509_cert::crl::CertificateList>::from_der(der)
                .map_err(|_| Exit(2, format!("{}: not an x.509 CRL", file.display())))?;
            let folder = dir.join(CRL_DIR);
            std::fs::create_dir_all(&folder)?;
            let digest = signet_protocol::Digest::of(der);
            let path = folder.join(format!("{}.crl", hex::encode(&digest.as_bytes()[..16])));
            std::fs::write(&path, der)?;
            let issuer = list.tbs_cert_list.issuer.to_string();
            if as_json {
                println!("{}", json!({"added": path, "issuer": issuer}));
            } else {
                println!("Added a CRL of {issuer}; restart the node to use it");
            }
        }
    }
    Ok(0)
}
