//! Subcommands that talk to a running node over its HTTP API.

use std::path::PathBuf;

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::http::request;
use super::{Exit, exit};

/// Where the node's API is and the token to use.
#[derive(Debug, Args)]
pub(crate) struct Conn {
    /// The node's API.
    #[arg(long, env = "SIGNET_API", default_value = "http://127.0.0.1:7400")]
    api: String,
    /// An API token (sign scope for changes, read scope for queries).
    #[arg(long, env = "SIGNET_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// Client subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Propose a session: send documents to counterparties for signing.
    ///
    /// Routing: lower orders act first, equal orders in parallel; approvers approve without a
    /// seal, copy recipients receive the proposal and the outcome and never act.
    Send {
        #[command(flatten)]
        conn: Conn,
        /// Title.
        #[arg(long)]
        title: String,
        /// Purpose (matched against seal mandates), e.g. procurement.
        #[arg(long, default_value = "procurement")]
        purpose: String,
        /// Signers, `PARTY_ID[:ORDER]` (repeat; equal orders sign in parallel).
        #[arg(long = "to", required = true)]
        to: Vec<String>,
        /// Approvers, `PARTY_ID[:ORDER]` (repeat).
        #[arg(long = "approver")]
        approvers: Vec<String>,
        /// Copy recipients, `PARTY_ID` (repeat).
        #[arg(long = "cc")]
        copies: Vec<String>,
        /// Documents, `FILE[=MEDIA_TYPE]` (repeat; the media type is guessed from the file
        /// name otherwise).
        #[arg(long = "document", required = true)]
        documents: Vec<String>,
        /// Days until the deadline.
        #[arg(long, default_value_t = 30)]
        deadline_days: u64,
        /// Witnesses whose cosignature every party's evidence must carry, `PARTY_ID` (repeat).
        #[arg(long = "witness")]
        witnesses: Vec<String>,
    },
    /// List sessions.
    Inbox {
        #[command(flatten)]
        conn: Conn,
    },
    /// Show one session.
    Status {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
    },
    /// Sign a session with the delegate's key (used once, never stored by the node).
    Sign {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// The delegate's key file (or env SIGNET_DELEGATE_KEY: a key file path or content).
        #[arg(long, env = "SIGNET_DELEGATE_KEY", hide_env_values = true)]
        delegate_key: String,
    },
    /// Acknowledge receipt of a proposal.
    Acknowledge {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
    },
    /// Approve a session (as an approver).
    Approve {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
    },
    /// Remind the parties a session waits for.
    Remind {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Share this party's evidence about a completed session (optionally cosigned first).
    Evidence {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// A witness party id to cosign the checkpoint first.
        #[arg(long)]
        witness: Option<String>,
    },
    /// Decline a session.
    Decline {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Cancel a session you proposed.
    Cancel {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Export a completed session's bundle.
    Export {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Attest a party's identity (as a verifier), or import attestations or key logs.
    Attest {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        what: AttestCommand,
    },
    /// Revoke one of this party's attestations, effective now.
    Revoke {
        #[command(flatten)]
        conn: Conn,
        /// Attestation id.
        id: String,
    },
    /// Rotate one of the party's keys (peers learn the new key log by gossip; export it
    /// with `attest export-key-log` for those that are not connected).
    Rotate {
        #[command(flatten)]
        conn: Conn,
        /// Which key: the root (pre-rotation), the attestation or evidence-log key, or a seal
        /// (its mandates are re-issued for the new seal). The node key is not rotated.
        #[arg(long, default_value = "root", value_parser = ["root", "attest", "log", "seal-contract", "seal-company", "node"])]
        key: String,
    },
    /// Show connected peers, or add a peer address.
    Peers {
        #[command(flatten)]
        conn: Conn,
        /// Add this peer (`/ip4/…/tcp/…/p2p/<peer id>`).
        #[arg(long)]
        add: Option<String>,
    },
    /// Print a signed checkpoint of the evidence log.
    Checkpoint {
        #[command(flatten)]
        conn: Conn,
    },
}

/// `signet attest …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AttestCommand {
    /// Attest a subject's identity after real-name verification.
    Identity {
        /// The subject's party id.
        #[arg(long)]
        subject: String,
        /// Its legal name.
        #[arg(long)]
        legal_name: String,
        /// Its USCC.
        #[arg(long)]
        registration: String,
        /// Its legal representative.
        #[arg(long)]
        representative: String,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u64,
    },
    /// List known attestations.
    List,
    /// Import an attestation (file of its signed bytes).
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Write this party's key event log (JSON) for counterparties to import.
    ExportKeyLog {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a counterparty's key event log (the JSON `export-key-log` wrote).
    ImportKeyLog {
        /// The file.
        file: PathBuf,
    },
}

async fn call(conn: &Conn, method: &str, path: &str, body: Option<Value>) -> Result<Vec<u8>> {
    let reply = request(
        &conn.api,
        conn.token.as_deref(),
        method,
        path,
        body.as_ref(),
    )
    .await
    .map_err(|e| Exit(5, format!("{e:#}")))?;
    if (200..300).contains(&reply.status) {
        return Ok(reply.body);
    }
    let problem: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    let title = problem["title"].as_str().unwrap_or("request failed");
    let detail = problem["detail"]
        .as_str()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    let code = match reply.status {
        401 | 403 => 6,
        400..=499 => 4,
        _ => 5,
    };
    exit(code, format!("{title}{detail} (HTTP {})", reply.status))
}

async fn call_json(conn: &Conn, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
    let bytes = call(conn, method, path, body).await?;
    serde_json::from_slice(&bytes).context("the node's answer is not JSON")
}

fn print(v: &Value, as_json: bool, human: impl FnOnce(&Value)) {
    if as_json {
        println!("{v}");
    } else {
        human(v);
    }
}

fn print_session(s: &Value) {
    println!(
        "{}  {:10} {:11} {}",
        s["id"].as_str().unwrap_or("?"),
        s["status"].as_str().unwrap_or("?"),
        s["side"].as_str().unwrap_or("?"),
        s["title"].as_str().unwrap_or("")
    );
    for p in s["participants"].as_array().into_iter().flatten() {
        println!(
            "    {:8} order {:>2}  {}",
            p["role"].as_str().unwrap_or("?"),
            p["order"],
            p["party"].as_str().unwrap_or("?")
        );
    }
    if let Some(w) = s["waiting_for"].as_array().filter(|w| !w.is_empty()) {
        let names: Vec<&str> = w.iter().filter_map(Value::as_str).collect();
        println!("    waiting for {}", names.join(", "));
    }
}

/// A party id given to `flag`, checked here so a typo is a usage error (exit 2).
fn party_id(flag: &str, text: &str) -> Result<String> {
    text.parse::<signet_protocol::party::PartyId>()
        .map_err(|_| Exit(2, format!("{flag} {text}: not a party id")))?;
    Ok(text.to_string())
}

/// `PARTY_ID[:ORDER]` given to `flag`.
fn routed(flag: &str, text: &str) -> Result<(String, u32)> {
    let (party, order) = match text.rsplit_once(':') {
        Some((p, o)) => (
            p,
            o.parse::<u32>()
                .map_err(|_| Exit(2, format!("{flag} {text}: the order must be a number")))?,
        ),
        None => (text, 0),
    };
    Ok((party_id(flag, party)?, order))
}

/// A media type from a file name's extension.
fn media_type_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "ofd" => "application/ofd",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "xml" => "application/xml",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Runs a client subcommand.
pub(crate) async fn run(command: ClientCommand, as_json: bool) -> Result<u8> {
    match command {
        ClientCommand::Send {
            conn,
            title,
            purpose,
            to,
            approvers,
            copies,
            documents,
            deadline_days,
            witnesses,
        } => {
            let mut participants = Vec::new();
            for (flag, role, list) in [
                ("--to", "signer", &to),
                ("--approver", "approver", &approvers),
            ] {
                for t in list {
                    let (party, order) = routed(flag, t)?;
                    participants.push(json!({"party": party, "role": role, "order": order}));
                }
            }
            for c in &copies {
                participants.push(json!({"party": party_id("--cc", c)?, "role": "copy"}));
            }
            let witnesses = witnesses
                .iter()
                .map(|w| party_id("--witness", w))
                .collect::<Result<Vec<_>>>()?;
            let mut docs = Vec::new();
            for d in &documents {
                let (path, media_type) = match d.split_once('=') {
                    Some((p, t)) if t.contains('/') => (PathBuf::from(p), t.to_string()),
                    _ => (PathBuf::from(d), media_type_of(d).to_string()),
                };
                let bytes = std::fs::read(&path)
                    .map_err(|e| Exit(2, format!("--document {}: {e}", path.display())))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                docs.push(
                    json!({"name": name, "media_type": media_type, "content": B64.encode(bytes)}),
                );
            }
            let v = call_json(
                &conn,
                "POST",
                "/v1/sessions",
                Some(json!({
                    "title": title, "purpose": purpose, "participants": participants,
                    "documents": docs, "deadline_days": deadline_days, "witnesses": witnesses,
                })),
            )
            .await?;
            print(&v, as_json, |v| {
                println!("Proposed session {}", v["id"].as_str().unwrap_or("?"))
            });
        }
        ClientCommand::Inbox { conn } => {
            let v = call_json(&conn, "GET", "/v1/sessions", None).await?;
            print(&v, as_json, |v| {
                let list = v["sessions"].as_array().cloned().unwrap_or_default();
                if list.is_empty() {
                    println!("No sessions.");
                }
                for s in &list {
                    print_session(s);
                }
            });
        }
        ClientCommand::Status { conn, id } => {
            let v = call_json(&conn, "GET", &format!("/v1/sessions/{id}"), None).await?;
            print(&v, as_json, print_session);
        }
        ClientCommand::Sign {
            conn,
            id,
            delegate_key,
        } => {
            let text = if delegate_key.starts_with("signet-ed25519-seed:") {
                delegate_key
            } else {
                let path = PathBuf::from(&delegate_key);
                let key = signet_node::keyfile::read(&path).map_err(|e| Exit(2, e.to_string()))?;
                signet_node::keyfile::to_text(&key).to_string()
            };
            let v = call_json(
                &conn,
                "POST",
                &format!("/v1/sessions/{id}/sign"),
                Some(json!({"delegate_key": text})),
            )
            .await?;
            print(&v, as_json, |_| println!("Signed {id}"));
        }
        ClientCommand::Acknowledge { conn, id } => {
            let v = call_json(
                &conn,
                "POST",
                &format!("/v1/sessions/{id}/acknowledge"),
                None,
            )
            .await?;
            print(&v, as_json, |_| println!("Acknowledged {id}"));
        }
        ClientCommand::Approve { conn, id } => {
            let v = call_json(&conn, "POST", &format!("/v1/sessions/{id}/approve"), None).await?;
            print(&v, as_json, |_| println!("Approved {id}"));
        }
        ClientCommand::Remind { conn, id, note } => {
            let v = call_json(
                &conn,
                "POST",
                &format!("/v1/sessions/{id}/remind"),
                Some(json!({ "reason": note })),
            )
            .await?;
            print(&v, as_json, |_| {
                println!("Reminded the awaited parties of {id}")
            });
        }
        ClientCommand::Evidence { conn, id, witness } => {
            let body = witness.map(|w| json!({ "witness": w }));
            let v = call_json(&conn, "POST", &format!("/v1/sessions/{id}/evidence"), body).await?;
            print(&v, as_json, |_| {
                println!("Shared this party's evidence about {id}")
            });
        }
        ClientCommand::Decline { conn, id, reason } => {
            let v = call_json(
                &conn,
                "POST",
                &format!("/v1/sessions/{id}/decline"),
                Some(json!({"reason": reason})),
            )
            .await?;
            print(&v, as_json, |_| println!("Declined {id}"));
        }
        ClientCommand::Cancel { conn, id, reason } => {
            let v = call_json(
                &conn,
                "POST",
                &format!("/v1/sessions/{id}/cancel"),
                Some(json!({"reason": reason})),
            )
            .await?;
            print(&v, as_json, |_| println!("Cancelled {id}"));
        }
        ClientCommand::Export { conn, id, out } => {
            let bytes = call(&conn, "GET", &format!("/v1/sessions/{id}/bundle"), None).await?;
            std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            let v = json!({"id": id, "bundle": out, "bytes": bytes.len()});
            print(&v, as_json, |_| {
                println!(
                    "Wrote {} ({} bytes); check it with `signet verify {}`",
                    out.display(),
                    bytes.len(),
                    out.display()
                )
            });
        }
        ClientCommand::Attest { conn, what } => {
            match what {
                AttestCommand::Identity {
                    subject,
                    legal_name,
                    registration,
                    representative,
                    days,
                } => {
                    let v = call_json(&conn, "POST", "/v1/attestations/identity", Some(json!({
                    "subject": subject, "legal_name": legal_name, "registration": registration,
                    "legal_representative": representative, "days": days,
                }))).await?;
                    print(&v, as_json, |v| {
                        println!(
                            "Attested {} as attestation {}",
                            subject,
                            v["id"].as_str().unwrap_or("?")
                        )
                    });
                }
                AttestCommand::List => {
                    let v = call_json(&conn, "GET", "/v1/attestations", None).await?;
                    print(&v, as_json, |v| {
                        for a in v["attestations"].as_array().cloned().unwrap_or_default() {
                            println!(
                                "{}  {:14} issuer {} subject {}",
                                a["id"].as_str().unwrap_or("?"),
                                a["kind"].as_str().unwrap_or("?"),
                                a["issuer"].as_str().unwrap_or("?"),
                                a["subject"].as_str().unwrap_or("?")
                            );
                        }
                    });
                }
                AttestCommand::Import { file } => {
                    let bytes = std::fs::read(&file)
                        .map_err(|e| Exit(2, format!("{}: {e}", file.display())))?;
                    let v = call_json(
                        &conn,
                        "POST",
                        "/v1/attestations/import",
                        Some(json!({"bytes": B64.encode(bytes)})),
                    )
                    .await?;
                    print(&v, as_json, |v| {
                        println!("Imported attestation {}", v["id"].as_str().unwrap_or("?"))
                    });
                }
                AttestCommand::ExportKeyLog { out } => {
                    let v = call_json(&conn, "GET", "/v1/keylog", None).await?;
                    std::fs::write(&out, v.to_string())
                        .with_context(|| format!("writing {}", out.display()))?;
                    print(&v, as_json, |v| {
                        println!(
                            "Wrote the key event log of {} to {}",
                            v["party"].as_str().unwrap_or("?"),
                            out.display()
                        )
                    });
                }
                AttestCommand::ImportKeyLog { file } => {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| Exit(2, format!("{}: {e}", file.display())))?;
                    let log: Value = serde_json::from_str(&text)
                        .map_err(|e| Exit(2, format!("{}: {e}", file.display())))?;
                    let v = call_json(
                        &conn,
                        "POST",
                        "/v1/keylogs/import",
                        Some(json!({"events": log["events"]})),
                    )
                    .await?;
                    print(&v, as_json, |v| {
                        println!(
                            "Imported the key event log of {}",
                            v["party"].as_str().unwrap_or("?")
                        )
                    });
                }
            }
        }
        ClientCommand::Revoke { conn, id } => {
            let v = call_json(
                &conn,
                "POST",
                &format!("/v1/attestations/{id}/revoke"),
                None,
            )
            .await?;
            print(&v, as_json, |v| {
                println!(
                    "Revoked {id} (revocation {})",
                    v["id"].as_str().unwrap_or("?")
                )
            });
        }
        ClientCommand::Peers { conn, add } => {
            if let Some(address) = add {
                let v = call_json(
                    &conn,
                    "POST",
                    "/v1/peers",
                    Some(json!({"address": address})),
                )
                .await?;
                print(&v, as_json, |_| println!("Added peer {address}"));
            } else {
                let v = call_json(&conn, "GET", "/v1/peers", None).await?;
                print(&v, as_json, |v| {
                    println!("This node: {}", v["peer_id"].as_str().unwrap_or("?"));
                    for p in v["connected"].as_array().cloned().unwrap_or_default() {
                        println!("  connected {}", p.as_str().unwrap_or("?"));
                    }
                });
            }
        }
        ClientCommand::Rotate { conn, key } => {
            let v = call_json(
                &conn,
                "POST",
                "/v1/keylog/rotate",
                Some(json!({ "key": key })),
            )
            .await?;
            print(&v, as_json, |v| {
                println!(
                    "Rotated the {key} key (now {}); the key event log has {} events. Peers learn it by gossip; `signet attest export-key-log` writes it for others.",
                    v["public_key"].as_str().unwrap_or("?"),
                    v["key_log_length"]
                )
            });
        }
        ClientCommand::Checkpoint { conn } => {
            let v = call_json(&conn, "GET", "/v1/checkpoint", None).await?;
            print(&v, as_json, |v| {
                print!("{}", v["checkpoint"].as_str().unwrap_or(""))
            });
        }
    }
    Ok(0)
}
