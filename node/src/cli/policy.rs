//! `signet policy`: the trust policy's CA roots and CRLs (spec §6.11). Without `--dir` a
//! command asks the running node over its HTTP API (`--api`, `--token`, as the client
//! commands do) and the change is in effect at once; with `--dir` it edits the party
//! directory of a stopped node, which takes the change at its next start.

use std::path::PathBuf;

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Subcommand;
use der::Decode;
use serde_json::{Value, json};
use signet_node::certificate::pem_blocks;
use signet_node::service::config::{CRL_DIR, CaRootConfig, NodeConfig};
use signet_protocol::Timestamp;

use super::client::{Conn, call_json};
use super::{Exit, exit, read_file};

/// `signet policy …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// CA roots: certificates of licensed CAs whose certificates identify parties.
    #[command(subcommand)]
    Ca(CaCommand),
    /// CRLs of those CAs, needed to trust a certificate-backed identity (a current CRL of
    /// every CA on the path). A running node fetches them itself (see `ca add --crl-url`).
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
        #[command(flatten)]
        conn: Conn,
        /// The party directory of a stopped node (default: ask the running node).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// A name for the CA.
        #[arg(long)]
        name: String,
        /// Where the CA publishes its CRL (`http://`); the node fetches it from there, else
        /// from the CRL distribution points of the certificates the CA issued.
        #[arg(long)]
        crl_url: Option<String>,
        /// The root certificate.
        file: PathBuf,
    },
    /// List the CA roots, with each one's CRL status when asked of the running node.
    List {
        #[command(flatten)]
        conn: Conn,
        /// The party directory of a stopped node (default: ask the running node).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// `signet policy crl …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CrlCommand {
    /// Add a CRL (PEM or DER) of a CA root: checked and in effect at once on the running
    /// node, or written to a stopped node's `crls/` with `--dir`.
    Add {
        #[command(flatten)]
        conn: Conn,
        /// The party directory of a stopped node (default: give it to the running node).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The CRL file.
        file: PathBuf,
    },
    /// Have the running node fetch every CA root's CRL now; exits 4 when one is refused.
    Fetch {
        #[command(flatten)]
        conn: Conn,
    },
}

fn load(dir: &std::path::Path) -> Result<NodeConfig> {
    NodeConfig::load(dir).map_err(|e| Exit(2, e.to_string()).into())
}

/// The directory to edit, or the connection to the running node; not both.
fn target(conn: Conn, dir: Option<PathBuf>, outer: &Conn) -> Result<Result<PathBuf, Conn>> {
    match dir {
        Some(_) if conn.is_given() || outer.is_given() => exit(
            2,
            "--dir edits a stopped node's directory; --api, --token and --api-ca ask a running node: give one or the other",
        ),
        Some(dir) => Ok(Ok(dir)),
        None => Ok(Err(conn.resolve(outer)?)),
    }
}

fn time(value: &Value) -> String {
    value
        .as_u64()
        .map_or_else(|| "-".to_string(), |t| Timestamp::from_unix(t).to_string())
}

/// One root as `ca list` and `crl fetch` print it, then the intermediate CAs below it whose
/// CRLs the node keeps, indented.
fn print_root(root: &Value) {
    let line = |indent: &str, name: &str, subject: &str, crl: &Value| {
        println!(
            "{indent}{name}\t{subject}\tcrl {} .. {} from {}\tfetched {}{}",
            time(&crl["this_update"]),
            time(&crl["next_update"]),
            crl["source"].as_str().unwrap_or("-"),
            time(&crl["last_fetch"]),
            crl["last_error"]
                .as_str()
                .map(|e| format!("\terror: {e}"))
                .unwrap_or_default(),
        );
    };
    line(
        "",
        root["name"].as_str().unwrap_or(""),
        root["subject"].as_str().unwrap_or(""),
        &root["crl"],
    );
    for below in root["intermediates"].as_array().into_iter().flatten() {
        line(
            "  ",
            "intermediate",
            below["subject"].as_str().unwrap_or(""),
            &below["crl"],
        );
    }
}

/// Runs a `signet policy` command.
pub(crate) async fn run(command: PolicyCommand, outer: &Conn, as_json: bool) -> Result<u8> {
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
        PolicyCommand::Ca(CaCommand::Add {
            conn,
            dir,
            name,
            crl_url,
            file,
        }) => {
            let dir = match target(conn, dir, outer)? {
                Ok(dir) => dir,
                Err(conn) => {
                    let mut body =
                        json!({"name": name, "certificate": B64.encode(read_file(&file)?)});
                    if let Some(url) = &crl_url {
                        body["crl_url"] = json!(url);
                    }
                    let added = call_json(&conn, "POST", "/v1/policy/ca-roots", Some(body)).await?;
                    if as_json {
                        println!("{added}");
                    } else {
                        println!("Added CA root {name:?}, in effect now; the node fetches its CRL");
                    }
                    return Ok(0);
                }
            };
            if let Some(url) = &crl_url
                && !url.starts_with("http://")
            {
                return exit(2, format!("a CRL URL is an http:// URL: {url:?}"));
            }
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
                crl_url,
            });
            config.trust_policy().map_err(|e| Exit(2, e.to_string()))?;
            config.save(&dir)?;
            let subject = tbs.subject().to_string();
            if as_json {
                println!("{}", json!({"added": name, "subject": subject}));
            } else {
                println!(
                    "Added CA root {name:?} ({subject}); the node takes it at its next start (leave out --dir to add it to the running node at once)"
                );
            }
        }
        PolicyCommand::Ca(CaCommand::List { conn, dir }) => {
            let dir = match target(conn, dir, outer)? {
                Ok(dir) => dir,
                Err(conn) => {
                    let listed = call_json(&conn, "GET", "/v1/policy/ca-roots", None).await?;
                    if as_json {
                        println!("{}", listed["roots"]);
                    } else {
                        for root in listed["roots"].as_array().into_iter().flatten() {
                            print_root(root);
                        }
                    }
                    return Ok(0);
                }
            };
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
                    json!({"name": r.name, "subject": subject, "crl": {"crl_url": r.crl_url}})
                })
                .collect();
            if as_json {
                println!("{}", serde_json::Value::Array(roots));
            } else {
                for root in &roots {
                    println!(
                        "{}\t{}\tcrl url {}",
                        root["name"].as_str().unwrap_or(""),
                        root["subject"].as_str().unwrap_or(""),
                        root["crl"]["crl_url"].as_str().unwrap_or("-")
                    );
                }
            }
        }
        PolicyCommand::Crl(CrlCommand::Add { conn, dir, file }) => {
            let dir = match target(conn, dir, outer)? {
                Ok(dir) => dir,
                Err(conn) => {
                    let body = json!({"crl": B64.encode(read_file(&file)?)});
                    let taken = call_json(&conn, "POST", "/v1/policy/crls", Some(body)).await?;
                    if as_json {
                        println!("{taken}");
                    } else if taken["changed"].as_bool() == Some(false) {
                        println!(
                            "The node holds this CRL of {} already",
                            taken["root"].as_str().unwrap_or("")
                        );
                    } else {
                        println!(
                            "Took the CRL of {} ({} .. {}, {} revoked), in effect now",
                            taken["root"].as_str().unwrap_or(""),
                            time(&taken["this_update"]),
                            time(&taken["next_update"]),
                            taken["revoked"]
                        );
                    }
                    return Ok(0);
                }
            };
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
                println!(
                    "Added a CRL of {issuer}; the node takes it at its next start (leave out --dir to give it to the running node at once)"
                );
            }
        }
        PolicyCommand::Crl(CrlCommand::Fetch { conn }) => {
            let conn = conn.resolve(outer)?;
            let fetched = call_json(&conn, "POST", "/v1/policy/crls/fetch", None).await?;
            let refused = fetched["refused"].as_array().cloned().unwrap_or_default();
            if as_json {
                println!("{fetched}");
            } else {
                for root in fetched["roots"].as_array().into_iter().flatten() {
                    print_root(root);
                }
            }
            for r in &refused {
                eprintln!(
                    "signet: the CRL of {} is not current: {}",
                    r["root"].as_str().unwrap_or(""),
                    r["error"].as_str().unwrap_or("")
                );
            }
            return Ok(if refused.is_empty() { 0 } else { 4 });
        }
    }
    Ok(0)
}
