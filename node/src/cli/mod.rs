//! The `signet` subcommands (binary only: errors are `anyhow`).

pub(crate) mod client;
pub(crate) mod demo;
pub(crate) mod http;
pub(crate) mod keygen;
pub(crate) mod policy;
mod ses;
pub(crate) mod store_admin;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Args;
use serde_json::json;
use signet_node::service::config::{AnchorConfig, NodeConfig, PolicyConfig, StorageConfig};
use signet_node::service::init::{
    CertificateFiles, InitOptions, SealAlgorithm, init as init_party,
};
use signet_node::service::{Service, ServiceError, now};
use signet_node::store::{PartyLease, PostgresStore};
use signet_protocol::Digest;
use signet_protocol::bundle::{Outcome, Report, verify_bundle_with};
use signet_protocol::party::PartyId;
use signet_protocol::session::PdfRevision;

/// An error with its exit code.
#[derive(Debug)]
pub(crate) struct Exit(pub(crate) u8, pub(crate) String);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for Exit {}

/// Fails with an exit code.
pub(crate) fn exit<T>(code: u8, message: impl Into<String>) -> Result<T> {
    Err(Exit(code, message.into()).into())
}

/// `signet init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The party directory to create.
    #[arg(long, default_value = "signet-node")]
    dir: PathBuf,
    /// The party's registered legal name (taken from `--certificate` when absent).
    #[arg(long, required_unless_present = "certificate")]
    name: Option<String>,
    /// Its unified social credit code (18 characters, check character validated; taken from
    /// `--certificate` when absent).
    #[arg(long, required_unless_present = "certificate")]
    registration: Option<String>,
    /// The party's certificate path from a licensed CA (PEM, its own certificate first):
    /// the party's identity is bootstrapped from it (spec §6.11).
    #[arg(long, requires = "certificate_key")]
    certificate: Option<PathBuf>,
    /// The certificate's private key, PEM or DER: SM2 or P-256 (PKCS #8 or SEC1), or RSA of
    /// 2048 to 4096 bits (PKCS #8 or PKCS #1). It is copied into the party directory,
    /// owner-only.
    #[arg(long, requires = "certificate")]
    certificate_key: Option<PathBuf>,
    /// For an SM2 certificate (whose key then also seals the party's PDFs): the GB/T 38540
    /// electronic seal (`SESeal`, DER) its seal maker made listing the certificate; each PDF
    /// seal then carries an `SES_Signature`.
    #[arg(long, requires = "certificate")]
    certificate_seal: Option<PathBuf>,
    /// Where to write the delegate's person key (give it to the person; not kept by the node).
    #[arg(long)]
    delegate_key: PathBuf,
    /// Where to write the pre-committed next root key, outside the party directory (take it
    /// off the machine; `signet rotate` needs it).
    #[arg(long)]
    next_root_key: PathBuf,
    /// The delegate's name.
    #[arg(long, default_value = "authorised signatory")]
    delegate_name: String,
    /// libp2p listen addresses.
    #[arg(long, default_values_t = ["/ip4/0.0.0.0/tcp/4001".to_string(), "/ip4/0.0.0.0/udp/4001/quic-v1".to_string()])]
    listen: Vec<String>,
    /// Bootstrap peers (`/ip4/…/tcp/…/p2p/<peer id>`).
    #[arg(long)]
    bootstrap: Vec<String>,
    /// The HTTP API's address.
    #[arg(long, default_value = "127.0.0.1:7400")]
    api: String,
    /// Run as a witness.
    #[arg(long)]
    witness: bool,
    /// Trust anchors: `PARTY_ID=NAME`.
    #[arg(long)]
    anchor: Vec<String>,
    /// Days the delegate's seal mandate is valid.
    #[arg(long, default_value_t = 365)]
    mandate_days: u64,
    /// The algorithm of the party's seals: `sm2` seals in China's national algorithms
    /// (SM2 with SM3, GB/T 32918), as PRC rules on commercial cryptography expect.
    #[arg(long, value_enum, default_value_t = SealAlgorithm::Ed25519)]
    seal_algorithm: SealAlgorithm,
    /// The algorithm of the delegate's person key: `sm2` for a person who signs intent proofs
    /// with SM2 (`signet sign` reads either key file).
    #[arg(long, value_enum, default_value_t = SealAlgorithm::Ed25519)]
    delegate_algorithm: SealAlgorithm,
    /// The algorithm of the party's attest key, which signs every attestation the party
    /// issues (identities, mandates, revocations): `sm2` attests with SM2 and SM3.
    #[arg(long, value_enum, default_value_t = SealAlgorithm::Ed25519)]
    attest_algorithm: SealAlgorithm,
    /// Keep the party's data in this PostgreSQL database (a `postgres://` URL; it must hold
    /// no other party's data) instead of the embedded store in DIR/store.
    #[arg(long, value_name = "URL")]
    postgres_url: Option<String>,
}

fn anchors(list: &[String]) -> Result<Vec<AnchorConfig>> {
    list.iter()
        .map(|a| {
            let (party, name) = a.split_once('=').unwrap_or((a.as_str(), "anchor"));
            party
                .parse::<PartyId>()
                .map_err(|_| Exit(2, format!("--anchor {a}: not a party id")))?;
            Ok(AnchorConfig {
                party: party.to_string(),
                name: name.to_string(),
            })
        })
        .collect()
}

/// `signet init`.
pub(crate) fn init(a: InitArgs, as_json: bool) -> Result<u8> {
    let options = InitOptions {
        legal_name: a.name.clone().unwrap_or_default(),
        registration: a.registration.clone().unwrap_or_default(),
        listen: a.listen,
        bootstrap: a.bootstrap,
        api: a.api.clone(),
        witness: a.witness,
        policy: PolicyConfig {
            anchors: anchors(&a.anchor)?,
            ..PolicyConfig::default()
        },
        delegate_key: a.delegate_key.clone(),
        next_root_key: a.next_root_key.clone(),
        delegate_name: a.delegate_name,
        mandate_days: a.mandate_days,
        seal_algorithm: a.seal_algorithm,
        delegate_algorithm: a.delegate_algorithm,
        attest_algorithm: a.attest_algorithm,
        storage: match a.postgres_url {
            Some(url) => StorageConfig::Postgres {
                url,
                connections: signet_node::store::DEFAULT_CONNECTIONS,
            },
            None => StorageConfig::Sled {},
        },
        certificate: match (a.certificate, a.certificate_key) {
            (Some(chain), Some(key)) => Some(CertificateFiles {
                chain,
                key,
                seal: a.certificate_seal,
            }),
            _ => None,
        },
    };
    let made = match init_party(&a.dir, &options, now()) {
        Ok(m) => m,
        Err(signet_node::service::ServiceError::Usage(m)) => return exit(2, m),
        Err(e) => return Err(e.into()),
    };
    if as_json {
        println!(
            "{}",
            json!({
                "party": made.party.to_string(),
                "dir": a.dir,
                "delegate_key": a.delegate_key,
                "next_root_key": a.next_root_key,
                "api": format!("http://{}", a.api),
                "admin_token": made.admin_token,
                "sign_token": made.sign_token,
                "read_token": made.read_token,
            })
        );
    } else {
        println!("Created party {} ({})", made.legal_name, made.party);
        if made.certificate_backed {
            println!(
                "  identity      from its CA certificate (key declared, possession proven; counterparties with the CA root in their policy trust it)"
            );
        }
        println!("  directory     {}", a.dir.display());
        println!(
            "  delegate key  {} (give it to the person; the node does not keep it)",
            a.delegate_key.display()
        );
        println!(
            "  next root key {} (take it off this machine and keep it offline: it takes the identity back if the node is ever compromised; `signet rotate` needs it)",
            a.next_root_key.display()
        );
        println!("  API           http://{}", a.api);
        println!("API tokens (shown once; only their SHA-256 is stored):");
        println!(
            "  admin scope   {} (mandates, attestations, revocations, rotation)",
            made.admin_token
        );
        println!(
            "  sign scope    {} (sessions: send, sign, approve, decline)",
            made.sign_token
        );
        println!("  read scope    {}", made.read_token);
        println!("Next: signet run --dir {}", a.dir.display());
    }
    Ok(0)
}

/// Exit code of `signet run` when another process took the party's lease on its database.
pub(crate) const EXIT_LEASE_LOST: i32 = 7;

/// `signet run`.
pub(crate) async fn run(dir: PathBuf) -> Result<u8> {
    let opening = || format!("opening the node in {}", dir.display());
    let config = NodeConfig::load(&dir).with_context(opening)?;
    // On PostgreSQL, the party's lease first: a standby waits here, with nothing open that
    // writes, until the active process is gone.
    let lease = match &config.storage {
        StorageConfig::Postgres { url, connections } => {
            let lease = take_lease(&config, url).await?;
            let store = PostgresStore::open_fenced(url, *connections, lease.fence())
                .map_err(ServiceError::from)
                .with_context(opening)?;
            Some((lease, Arc::new(store)))
        }
        StorageConfig::Sled {} => None,
    };
    let service = match &lease {
        Some((_, store)) => Service::with_store(&dir, config, store.clone()),
        None => Service::open(&dir),
    }
    .with_context(opening)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let listening = service.start(stop_rx.clone()).await?;
    let api = service.config().api.clone();
    let listener = tokio::net::TcpListener::bind(&api)
        .await
        .with_context(|| format!("binding the API to {api}"))?;
    let peer = service.client()?.peer_id();
    println!(
        "signet node for {} ({})",
        service.config().legal_name,
        service.party()
    );
    for a in &listening {
        println!("  listening  {a}/p2p/{peer}");
    }
    let local = listener.local_addr()?;
    let scheme = if service.config().api_tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("  API        {scheme}://{local}");
    if let Some(origin) = signet_node::api::console_origin(&service, local) {
        println!(
            "  console    {origin}/console/  (invite people: signet console invite --name NAME --role admin)"
        );
    }
    let mut stop = stop_rx;
    let server = tokio::spawn(signet_node::api::serve(
        service.clone(),
        listener,
        async move {
            let _ = stop.changed().await;
        },
    ));
    let lost = async {
        match &lease {
            Some((lease, _)) => lease.lost().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted?,
        why = lost => {
            // Every write of this process is refused from now on (the store is fenced);
            // stop at once rather than serve what may be stale.
            eprintln!("signet: lost the party's lease on the database: {why}; exiting");
            std::process::exit(EXIT_LEASE_LOST);
        }
    }
    println!("stopping");
    let _ = stop_tx.send(true);
    let _ = server.await;
    service.join().await;
    drop(service);
    // The store closes before the lease goes: a standby takes over once nothing here writes.
    drop(lease);
    Ok(0)
}

/// Takes the party's lease on its database, waiting as a standby while another process
/// holds it.
async fn take_lease(config: &NodeConfig, url: &str) -> Result<PartyLease> {
    let party = config.party_id().context("the configuration's party")?;
    let holder = format!(
        "{} pid {} (API {}, listening {})",
        host_name(),
        std::process::id(),
        config.api,
        config.listen.join(" ")
    );
    let (taken_tx, taken) = tokio::sync::oneshot::channel();
    let url = url.to_owned();
    // A thread of its own: the blocking client must not run inside the runtime, and a
    // standby stopped with Ctrl-C leaves it waiting until the process exits.
    std::thread::Builder::new()
        .name("lease".into())
        .spawn(move || {
            let lease = PartyLease::acquire(&url, &party, &holder, |held_by| {
                println!("standby: waiting for the party's lease, held by {held_by}");
            });
            let _ = taken_tx.send(lease);
        })?;
    tokio::select! {
        lease = taken => {
            let lease = lease.context("the lease thread ended")??;
            println!("took the party's lease (epoch {})", lease.epoch());
            Ok(lease)
        }
        interrupted = tokio::signal::ctrl_c() => {
            interrupted?;
            println!("stopping");
            std::process::exit(0);
        }
    }
}

/// This machine's name, for the lease's holder description.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "unknown host".into())
}

/// `signet verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The bundle file, a sealed PDF (read as one when it starts with `%PDF-`), or a GB/T
    /// 38540 seal signature (a DER `SES_Signature`, checked over `--document`).
    bundle: PathBuf,
    /// For a PDF: a CA certificate (DER or PEM) to chain the seals' certificates to (repeat).
    #[arg(long)]
    ca: Vec<PathBuf>,
    /// A CA's CRL (DER or PEM; repeat): for a PDF, to show its seals' certificates'
    /// revocation status (`signet pdf crl`); for a bundle, the current CRL of a CA the policy
    /// lists as a root, without which an identity from that CA's certificate is
    /// INDETERMINATE.
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// For a PDF: the session's bundle, to cross-check: the PDF's original revision must be
    /// the bundle's document, and each seal's enterprise a signer the bundle shows. For a
    /// seal signature: the bundle whose key logs must show its signer's key as a `pdf` key.
    #[arg(long = "bundle")]
    with_bundle: Option<PathBuf>,
    /// Documents to check against the bundle's digests.
    #[arg(long)]
    document: Vec<PathBuf>,
    /// A trust policy file (TOML: `anchors = [{ party = "…", name = "…" }]`).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Trust anchors `PARTY_ID=NAME`, in addition to the policy file's.
    #[arg(long)]
    anchor: Vec<String>,
    /// Revocation information obtained now (the JSON `signet attest export-revocations`
    /// writes, from a node that follows the issuers): the policy asks for revocation status
    /// fresh at the time of verification, which the bundle alone may not show.
    #[arg(long)]
    revocations: Vec<PathBuf>,
}

/// `signet verify` of a sealed PDF: each signature's checks and verdict, offline.
fn verify_pdf(pdf: &[u8], a: &VerifyArgs, as_json: bool) -> Result<u8> {
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|e| Exit(2, format!("reading {}: {e}", p.display())))
    };
    let mut roots = Vec::new();
    for path in &a.ca {
        roots.push(der_of(&read(path)?));
    }
    let mut crls = Vec::new();
    for path in &a.crl {
        crls.push(read(path)?);
    }
    let assessments = signet_node::pdf::assess::assess(pdf, &roots, &crls, now())
        .map_err(|e| Exit(1, format!("{}: {e}", a.bundle.display())))?;
    let time_stamps =
        signet_node::pdf::assess::assess_document_time_stamps(pdf, &roots, &crls, now())
            .map_err(|e| Exit(1, format!("{}: {e}", a.bundle.display())))?;
    // After the last seal, only validation data (B-LT) and document time-stamps (B-LTA).
    let last_seal_end = assessments
        .iter()
        .filter_map(|s| s.info.byte_range)
        .filter_map(|[_, _, start, len]| usize::try_from(start.checked_add(len)?).ok())
        .max();
    let last_covers_all = match last_seal_end {
        Some(end) => signet_node::pdf::changes::maintenance_only(pdf, end)
            .map_err(|e| Exit(1, format!("{}: {e}", a.bundle.display())))?,
        None => false,
    };
    let mut outcome = if assessments.is_empty() {
        Outcome::Invalid
    } else {
        assessments
            .iter()
            .map(|s| s.outcome)
            .max_by_key(|o| match o {
                Outcome::Valid => 0,
                Outcome::Indeterminate => 1,
                _ => 2,
            })
            .unwrap_or(Outcome::Invalid)
    };
    if outcome == Outcome::Valid && !last_covers_all {
        outcome = Outcome::Indeterminate;
    }
    let cross = match &a.with_bundle {
        Some(path) => Some(cross_check(pdf, &read_file(path)?, &assessments, a)?),
        None => None,
    };
    if let Some((bundle_outcome, _)) = &cross {
        outcome = worst(outcome, *bundle_outcome);
    }
    for t in &time_stamps {
        outcome = worst(outcome, t.outcome);
    }
    if as_json {
        let signatures: Vec<serde_json::Value> = assessments
            .iter()
            .map(|s| {
                serde_json::json!({
                    "field": s.info.field_name,
                    "signer": s.info.signer_legal_name,
                    "uscc": s.info.signer_uscc,
                    "claimed_time": s.info.claimed_time,
                    "covers_whole_file": s.info.covers_whole_file,
                    "algorithms": s.info.suite.map(|x| x.to_string()),
                    "checkable_by": s.info.suite.map(|x| x.validators()),
                    "level": pades_level(s),
                    "ses_signature": s.info.ses.as_ref().map(|x| B64.encode(&x.der)),
                    "outcome": s.outcome.as_str(),
                    "checks": s.checks.iter().map(|(o, what)| serde_json::json!({"outcome": o.as_str(), "check": what})).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "outcome": outcome.as_str(),
                "unsigned_changes_after_the_last_signature": !last_covers_all,
                "bundle": cross.as_ref().map(|(o, lines)| serde_json::json!({"outcome": o.as_str(), "checks": lines})),
                "signatures": signatures,
                "document_time_stamps": time_stamps.iter().map(|t| serde_json::json!({
                    "field": t.info.field_name,
                    "outcome": t.outcome.as_str(),
                    "checks": t.checks.iter().map(|(o, what)| serde_json::json!({"outcome": o.as_str(), "check": what})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            }))?
        );
    } else {
        if assessments.is_empty() {
            println!("no signature in this PDF");
        }
        for s in &assessments {
            println!(
                "{} {}: {} (USCC {}), claimed time {}",
                s.outcome.as_str(),
                s.info.field_name,
                s.info.signer_legal_name.as_deref().unwrap_or("?"),
                s.info.signer_uscc.as_deref().unwrap_or("?"),
                s.info.claimed_time.as_deref().unwrap_or("none"),
            );
            for (o, what) in &s.checks {
                println!("  {} {what}", o.as_str());
            }
            if let Some(suite) = s.info.suite {
                println!("  algorithms: {suite}; checkable by {}", suite.validators());
            }
            match pades_level(s) {
                Some(level) => println!("  PAdES level held: {level}"),
                None => println!("  not a PAdES signature (its digest is not a PAdES one)"),
            }
        }
        for t in &time_stamps {
            println!(
                "{} {}: document time-stamp",
                t.outcome.as_str(),
                t.info.field_name
            );
            for (o, what) in &t.checks {
                println!("  {} {what}", o.as_str());
            }
        }
        if !assessments.is_empty() && !last_covers_all {
            println!(
                "the file was changed after its last seal by more than validation data and document time-stamps (content no seal covers)"
            );
        }
        if let Some((o, lines)) = &cross {
            println!("{} against the bundle:", o.as_str());
            for line in lines {
                println!("  {line}");
            }
        }
        println!("outcome: {}", outcome.as_str());
    }
    Ok(match outcome {
        Outcome::Valid => 0,
        Outcome::Invalid => 1,
        _ => 3,
    })
}

/// The PAdES level a seal holds; none for a seal that is not PAdES (SM2/SM3).
fn pades_level(s: &signet_node::pdf::assess::Assessment) -> Option<String> {
    s.pades_level().map(|level| level.to_string())
}

/// The worse of two outcomes (INVALID, then INDETERMINATE, then VALID).
fn worst(a: Outcome, b: Outcome) -> Outcome {
    let rank = |o: Outcome| match o {
        Outcome::Valid => 0,
        Outcome::Indeterminate => 1,
        _ => 2,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// The PDF against the session's bundle: the bundle verified with the PDF's original
/// revision as its document (so its document-integrity check says whether they are the
/// same contract), and every seal's USCC that of a party whose signature the bundle shows.
fn cross_check(
    pdf: &[u8],
    bundle: &[u8],
    assessments: &[signet_node::pdf::assess::Assessment],
    a: &VerifyArgs,
) -> Result<(Outcome, Vec<String>)> {
    let originals =
        signet_node::pdf::verify::original_revisions(pdf).map_err(|e| Exit(1, e.to_string()))?;
    let mut report = bundle_report(bundle, &[pdf], a)?;
    for original in originals {
        report = bundle_report(bundle, &[original], a)?;
        if report.reliability.document_integrity.outcome == Outcome::Valid {
            break;
        }
    }
    let mut lines = vec![format!("the bundle verifies {}", report.outcome.as_str())];
    let mut outcome = report.outcome;
    let document = &report.reliability.document_integrity;
    lines.push(format!(
        "{} the PDF before its seals is the bundle's document: {}",
        document.outcome.as_str(),
        document.basis
    ));
    outcome = worst(outcome, document.outcome);
    let (revisions_outcome, revision_lines) = cross_check_revisions(pdf, &report, assessments);
    outcome = worst(outcome, revisions_outcome);
    lines.extend(revision_lines);
    for s in assessments {
        let uscc = s.info.signer_uscc.as_deref().unwrap_or("");
        // A party of the contract: its initiator, or a signer whose signature the bundle
        // verified, with its identity established and this registration number.
        let party = report.parties.iter().find(|p| {
            (p.signed.is_some() || p.role == "initiator")
                && p.established == Outcome::Valid
                && p.identity
                    .as_ref()
                    .and_then(|i| i.registration.as_ref())
                    .is_some_and(|r| r.number() == uscc)
        });
        match party {
            Some(p) => {
                lines.push(format!(
                    "VALID {} (USCC {uscc}) is the bundle's {} {}",
                    s.info.field_name, p.role, p.party
                ));
                // An SM2 seal's key must be the party's own: a `pdf` key in its key log
                // when it signed (spec 8.2.4.1), whoever issued the certificate.
                let sm2 = s
                    .info
                    .signer_certificate
                    .as_deref()
                    .and_then(|c| signet_protocol::x509::sm2::certificate_sm2_key(c).ok());
                if let Some(key) = sm2 {
                    let at = p.signed.as_ref().map_or_else(now, |by| by.time);
                    if ses::pdf_key_of(bundle, &p.party, key, at) {
                        lines.push(format!(
                            "VALID {}: its SM2 key was a pdf key in {}'s key log when it signed",
                            s.info.field_name, p.party
                        ));
                    } else {
                        outcome = Outcome::Invalid;
                        lines.push(format!(
                            "INVALID {}: its SM2 key is not a pdf key in {}'s key log when it signed",
                            s.info.field_name, p.party
                        ));
                    }
                }
            }
            // Some party's identity the bundle does not establish: the seal may be its.
            None if report
                .parties
                .iter()
                .any(|p| p.established != Outcome::Valid) =>
            {
                outcome = worst(outcome, Outcome::Indeterminate);
                lines.push(format!(
                    "INDETERMINATE {} (USCC {uscc}): no party the bundle identifies has this registration, and it does not identify every party",
                    s.info.field_name
                ));
            }
            None => {
                outcome = Outcome::Invalid;
                lines.push(format!(
                    "INVALID {} (USCC {uscc}): no party of the contract has this registration",
                    s.info.field_name
                ));
            }
        }
    }
    Ok((outcome, lines))
}

/// Checks each seal's revision against the PDF revisions the bundle's seal signatures name
/// (spec §8.4.2): the bytes up to the end of each seal's increment must be a revision the
/// bundle says the seal's enterprise sealed. A bundle whose signers sealed no PDF names none:
/// then only the enterprises are matched (by the caller).
fn cross_check_revisions(
    pdf: &[u8],
    report: &Report,
    assessments: &[signet_node::pdf::assess::Assessment],
) -> (Outcome, Vec<String>) {
    let named: Vec<(&signet_protocol::bundle::PartyReport, &PdfRevision)> = report
        .parties
        .iter()
        .filter_map(|p| p.signed.as_ref().map(|s| (p, s)))
        .flat_map(|(p, s)| s.pdf.iter().map(move |r| (p, r)))
        .collect();
    if named.is_empty() {
        return (
            Outcome::Valid,
            vec![
                "the bundle's seal signatures name no PDF revision (sealed outside the session)"
                    .into(),
            ],
        );
    }
    let mut outcome = Outcome::Valid;
    let mut lines = Vec::new();
    for s in assessments {
        let revision = s
            .info
            .byte_range
            .and_then(|[_, _, start, len]| usize::try_from(start.checked_add(len)?).ok())
            .and_then(|end| pdf.get(..end));
        let Some(revision) = revision else {
            outcome = Outcome::Invalid;
            lines.push(format!(
                "INVALID {}: its signed range is not a revision of this file",
                s.info.field_name
            ));
            continue;
        };
        let digest = Digest::of(revision);
        let uscc = s.info.signer_uscc.as_deref().unwrap_or("");
        match named.iter().find(|(_, r)| r.sealed == digest) {
            Some((party, r)) => {
                let same = party
                    .identity
                    .as_ref()
                    .and_then(|i| i.registration.as_ref())
                    .is_some_and(|reg| reg.number() == uscc);
                if same {
                    lines.push(format!(
                        "VALID {}: the revision it ends ({} bytes, {digest}) is the one {} sealed in the session (document {})",
                        s.info.field_name, r.size, party.label(), r.document
                    ));
                } else {
                    outcome = Outcome::Invalid;
                    lines.push(format!(
                        "INVALID {}: its revision is {}'s in the bundle, but the seal's certificate names USCC {uscc}",
                        s.info.field_name,
                        party.label()
                    ));
                }
            }
            None => {
                outcome = Outcome::Invalid;
                lines.push(format!(
                    "INVALID {}: the revision it ends ({digest}) is not one any signer sealed in the session",
                    s.info.field_name
                ));
            }
        }
    }
    (outcome, lines)
}

/// A certificate as DER, from DER or PEM.
fn der_of(bytes: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes.to_vec();
    };
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    B64.decode(body.trim()).unwrap_or_else(|_| bytes.to_vec())
}

/// `signet verify`: fully offline.
pub(crate) fn verify(a: VerifyArgs, as_json: bool) -> Result<u8> {
    let bytes = read_file(&a.bundle)?;
    if bytes.starts_with(b"%PDF-") {
        return verify_pdf(&bytes, &a, as_json);
    }
    if ses::is_ses_signature(&bytes) {
        return ses::verify_ses(&bytes, &a, as_json);
    }
    let mut documents = Vec::new();
    for d in &a.document {
        documents.push(read_file(d)?);
    }
    let docs: Vec<&[u8]> = documents.iter().map(Vec::as_slice).collect();
    let report = bundle_report(&bytes, &docs, &a)?;
    print_report(&report, as_json);
    Ok(exit_code(report.outcome))
}

fn read_file(p: &std::path::Path) -> Result<Vec<u8>> {
    Ok(std::fs::read(p).map_err(|e| Exit(2, format!("reading {}: {e}", p.display())))?)
}

fn exit_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Valid => 0,
        Outcome::Invalid => 1,
        _ => 3,
    }
}

/// Verifies the bundle `bytes` with `documents`, under the policy and revocation
/// information `a` names.
fn bundle_report(bytes: &[u8], documents: &[&[u8]], a: &VerifyArgs) -> Result<Report> {
    let mut policy_config = match &a.policy {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str::<PolicyConfig>(&text)
                .map_err(|e| Exit(2, format!("{}: {e}", p.display())))?
        }
        None => PolicyConfig::default(),
    };
    policy_config.anchors.extend(anchors(&a.anchor)?);
    let config = signet_node::service::config::NodeConfig {
        party: String::new(),
        legal_name: String::new(),
        registration: String::new(),
        listen: vec![],
        bootstrap: vec![],
        api: String::new(),
        witness: false,
        tokens: vec![],
        webhooks: vec![],
        policy: policy_config,
        api_limits: Default::default(),
        peer_limits: Default::default(),
        console: Default::default(),
        api_tls: None,
        pdf: Default::default(),
        storage: Default::default(),
    };
    let policy = config.trust_policy().map_err(|e| Exit(2, e.to_string()))?;
    if policy.anchors.is_empty() {
        eprintln!(
            "note: no trust anchors given (--policy or --anchor): identities cannot be established"
        );
    }
    let mut revocations: Vec<Vec<u8>> = Vec::new();
    for path in &a.revocations {
        let text = String::from_utf8(read_file(path)?)
            .map_err(|_| Exit(2, format!("{}: not UTF-8 JSON", path.display())))?;
        let file: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Exit(2, format!("{}: {e}", path.display())))?;
        let items = file["revocations"].as_array().ok_or_else(|| {
            Exit(
                2,
                format!("{}: no \"revocations\" array (write it with `signet attest export-revocations`)", path.display()),
            )
        })?;
        for item in items {
            let bytes = item
                .as_str()
                .and_then(|b| B64.decode(b).ok())
                .ok_or_else(|| Exit(2, format!("{}: an entry is not base64", path.display())))?;
            revocations.push(bytes);
        }
    }
    for path in &a.crl {
        revocations.extend(signet_node::certificate::pem_blocks(
            &read_file(path)?,
            "X509 CRL",
        ));
    }
    let revs: Vec<&[u8]> = revocations.iter().map(Vec::as_slice).collect();
    Ok(verify_bundle_with(bytes, documents, &revs, &policy, now()))
}

fn print_report(report: &Report, as_json: bool) {
    if as_json {
        println!("{}", signet_node::report::report_json(report));
        return;
    }
    println!(
        "{}: {}",
        report.title.as_deref().unwrap_or("(untitled)"),
        report.outcome.as_str()
    );
    if !report.parties.is_empty() {
        println!("Parties:");
    }
    for p in &report.parties {
        println!("  {} — {}", p.label(), p.role);
        println!("      party {}", p.party);
        println!("      identity [{}] {}", p.established.as_str(), p.basis);
        if let Some(s) = &p.signed {
            println!(
                "      signed {} by {} (intent: {})",
                s.time, s.person, s.method
            );
        }
    }
    println!("Checks:");
    for c in &report.checks {
        println!(
            "  [{:13}] {:28} {} — {}",
            c.outcome.as_str(),
            c.name,
            c.subject,
            c.detail
        );
    }
    let r = &report.reliability;
    println!("Reliability (PRC Electronic Signature Law Art. 13):");
    for (name, c) in [
        (
            "signature creation data belong to the signer",
            &r.signer_binding,
        ),
        ("the signer alone controlled them", &r.signer_control),
        (
            "changes to the signature are detectable",
            &r.signature_integrity,
        ),
        (
            "changes to the document are detectable",
            &r.document_integrity,
        ),
    ] {
        println!("  [{:13}] {name}: {}", c.outcome.as_str(), c.basis);
    }
}
