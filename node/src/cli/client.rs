//! Subcommands that talk to a running node over its HTTP API.

use std::path::PathBuf;

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use signet_node::service::init::SealAlgorithm;
use signet_protocol::session::IntentChallenge;

use super::http::{Endpoint, Reply, download, request, upload};
use super::{Exit, exit};

/// The API address used when neither `--api` nor `SIGNET_API` gives one.
pub(crate) const DEFAULT_API: &str = "http://127.0.0.1:7400";

/// Where the node's API is and the token to use. Either may also come before the
/// subcommand (`signet --api URL --token T inbox`), or from the environment.
#[derive(Debug, Args, Default, Clone)]
pub(crate) struct Conn {
    /// The node's API (default: env SIGNET_API, else http://127.0.0.1:7400; https:// when the
    /// node serves TLS).
    #[arg(long, global = true)]
    api: Option<String>,
    /// An API token (default: env SIGNET_TOKEN): read scope for queries, sign scope to act in
    /// sessions, admin scope for mandates, attestations and keys.
    #[arg(long, global = true)]
    token: Option<String>,
    /// A PEM file of the CA certificate(s) that issued the node's TLS certificate, when it is
    /// not in the system's store (default: env SIGNET_API_CA).
    #[arg(long, global = true)]
    api_ca: Option<PathBuf>,
}

impl Conn {
    /// Connection flags given before the subcommand.
    pub(crate) fn new(api: Option<String>, token: Option<String>, api_ca: Option<PathBuf>) -> Self {
        Self { api, token, api_ca }
    }

    /// Whether any flag is given.
    pub(crate) fn is_given(&self) -> bool {
        self.api.is_some() || self.token.is_some() || self.api_ca.is_some()
    }

    /// This connection with what it leaves open taken from `outer` (flags before the
    /// subcommand), then from the environment, then the default address. Giving a flag twice
    /// with different values is a usage error.
    pub(crate) fn resolve(self, outer: &Conn) -> Result<Conn> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let api = one("--api", self.api, outer.api.clone())?
            .or_else(|| env("SIGNET_API"))
            .or_else(|| Some(DEFAULT_API.to_string()));
        let token =
            one("--token", self.token, outer.token.clone())?.or_else(|| env("SIGNET_TOKEN"));
        let api_ca = one("--api-ca", self.api_ca, outer.api_ca.clone())?
            .or_else(|| env("SIGNET_API_CA").map(PathBuf::from));
        Ok(Conn { api, token, api_ca })
    }

    fn api(&self) -> &str {
        self.api.as_deref().unwrap_or(DEFAULT_API)
    }

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint {
            base: self.api(),
            token: self.token.as_deref(),
            ca: self.api_ca.as_deref(),
        }
    }
}

/// The same flag from inside and outside the subcommand: either, or both when equal.
fn one<T: PartialEq>(flag: &str, inner: Option<T>, outer: Option<T>) -> Result<Option<T>> {
    match (inner, outer) {
        (Some(a), Some(b)) if a != b => {
            exit(2, format!("{flag} is given twice, with different values"))
        }
        (Some(a), _) | (None, Some(a)) => Ok(Some(a)),
        (None, None) => Ok(None),
    }
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
        /// The first that answers also time-stamps PDF seals.
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// Have every signer seal the PDF documents in the session (a visible seal and a
        /// PAdES signature each, in sealing order), each seal in its default place.
        #[arg(long)]
        seal_pdf: bool,
        /// Require national algorithms of the session (spec 8.2.5): every signer seals with
        /// SM2 (and its PDF seal is SM2/SM3), every document is named by its SM3 digest too.
        /// Implied when this party's policy requires them.
        #[arg(long)]
        national: bool,
    },
    /// List the open sessions awaiting this party's action.
    Inbox {
        #[command(flatten)]
        conn: Conn,
    },
    /// List sessions, filtered, a page at a time.
    Sessions {
        #[command(flatten)]
        conn: Conn,
        /// Only this status: open, completed, declined, cancelled, expired.
        #[arg(long)]
        status: Option<String>,
        /// Only sessions this party proposed (initiator) or was invited to (participant).
        #[arg(long)]
        side: Option<String>,
        /// At most this many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// The page after this session id (printed as `next` by the previous page).
        #[arg(long)]
        after: Option<String>,
    },
    /// List this party's seals (from its key event log).
    Seals {
        #[command(flatten)]
        conn: Conn,
    },
    /// List the seal mandates this party gave its delegates, or give one.
    Delegations {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        what: Option<DelegationCommand>,
    },
    /// PDF seals: seal a PDF for this party, or fetch this verifier's CA certificate or CRL.
    Pdf {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        what: PdfCommand,
    },
    /// List a session's documents, or fetch them to read before signing (each is checked
    /// against the digest the proposal commits to).
    Documents {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        what: DocumentsCommand,
    },
    /// Show one session.
    Status {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
    },
    /// Sign a session as the delegate: the node's intent challenge is signed here, with the
    /// person's key file, and only the proof goes to the node (method `software-key`).
    Sign {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// The delegate's key file, Ed25519 or SM2 (or env SIGNET_DELEGATE_KEY: a key file path
        /// or content).
        #[arg(long, env = "SIGNET_DELEGATE_KEY", hide_env_values = true)]
        delegate_key: String,
        /// Local copies of the documents, to check against the challenge before signing (each
        /// must be one of the session's documents).
        #[arg(long)]
        document: Vec<PathBuf>,
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
    /// Export a completed session's bundle (`--out`) and, for a document every signer
    /// sealed as a PDF, the signed PDF (`--pdf`), with each SM2 seal's GB/T 38540 seal
    /// signature beside it (`<pdf stem>.<field>.ses`).
    Export {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// Where to write the bundle.
        #[arg(long, required_unless_present = "pdf")]
        out: Option<PathBuf>,
        /// Where to write the signed PDF (every seal, each a PAdES signature).
        #[arg(long)]
        pdf: Option<PathBuf>,
        /// Which of the session's documents the PDF is (its index in the proposal).
        #[arg(long, default_value_t = 0, requires = "pdf")]
        document: usize,
        /// A CA's CRL (DER) to add to the PDF's validation data (PAdES B-LT) besides what
        /// the node gathered, e.g. one `signet pdf crl` wrote on the CA's node (repeat).
        #[arg(long, requires = "pdf")]
        crl: Vec<PathBuf>,
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
        /// Which key: the root (pre-rotation), the attestation or evidence-log key, a seal
        /// (its mandates are re-issued for the new seal), or the node key (declared now,
        /// taken at the node's next start, when the old one is retired).
        #[arg(long, default_value = "root", value_parser = ["root", "attest", "log", "seal-contract", "seal-company", "node"])]
        key: String,
        /// For the root key: the file holding the committed next root key (kept off the node;
        /// `signet init --next-root-key` wrote it). The node reads it: run this on the node's
        /// machine.
        #[arg(long)]
        next_root_key: Option<PathBuf>,
        /// For the root key: where to write the fresh next root key (must not exist; take it
        /// off the node afterwards).
        #[arg(long)]
        new_next_root_key: Option<PathBuf>,
        /// For the attest key: the fresh key's algorithm (default: the current key's), `sm2`
        /// to attest with SM2 and SM3 from now on, `ed25519` to go back.
        #[arg(long, value_enum)]
        algorithm: Option<SealAlgorithm>,
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
    /// The web console's people.
    Console {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        what: ConsoleCommand,
    },
}

/// `signet console …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConsoleCommand {
    /// Invite a person to the console: prints a one-time link (valid three days) where they
    /// create a passkey. Needs an admin token.
    Invite {
        /// The person's name, as they will sign in and as seal mandates will name them.
        #[arg(long)]
        name: String,
        /// What they may do: reader, signer (act in sessions) or admin (also mandates,
        /// attestations, peers, people).
        #[arg(long, default_value = "signer", value_parser = ["reader", "signer", "admin"])]
        role: String,
    },
}

/// `signet documents …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DocumentsCommand {
    /// List the session's documents: name, type, size, SHA-256 and whether the node holds it.
    List {
        /// Session id.
        id: String,
    },
    /// Fetch the session's documents (or one) into a directory, checking each one's SHA-256.
    Get {
        /// Session id.
        id: String,
        /// Only the document of this index (as `documents list` numbers them).
        #[arg(long)]
        index: Option<usize>,
        /// The directory to write into (files are created; existing ones are not replaced).
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

/// `signet pdf …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PdfCommand {
    /// Seal a PDF for this party (its visible seal and a PAdES signature by its PDF key,
    /// under the certificate its verifier issued), appended so earlier seals stay valid.
    Seal {
        /// The PDF to seal.
        input: PathBuf,
        /// Where to write the sealed PDF (created; it must not exist).
        #[arg(long)]
        out: PathBuf,
        /// The 1-based page of the seal (with --rect; default: the last page).
        #[arg(long, requires = "rect")]
        page: Option<u32>,
        /// `x1,y1,x2,y2` in PDF points from the page's lower left corner (default: the first
        /// free slot along the bottom of the last page).
        #[arg(long)]
        rect: Option<String>,
    },
    /// Write this verifier's CA certificate (DER): the trust root to give PDF validators.
    CaCertificate {
        /// Where to write it (created; it must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Its SM2 CA certificate instead (national algorithms, `[pdf] algorithm = "sm2"`).
        #[arg(long)]
        sm2: bool,
    },
    /// Write this verifier's current CRL (DER).
    Crl {
        /// Where to write it (created; it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

/// `signet delegations …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DelegationCommand {
    /// Give a delegate a seal mandate (revoke it with `signet revoke ID`).
    Add {
        /// The delegate's name.
        #[arg(long)]
        name: String,
        /// The delegate's key file, Ed25519 or SM2 (only its public key is used and sent), or
        /// `--public-key`.
        #[arg(
            long,
            conflicts_with = "public_key",
            required_unless_present = "public_key"
        )]
        key_file: Option<PathBuf>,
        /// The delegate's public key: hex for Ed25519, `sm2:` and the compressed point in hex
        /// for SM2.
        #[arg(long)]
        public_key: Option<String>,
        /// A seal key the delegate may apply, as `signet seals` prints it (hex, or `sm2:` and hex
        /// for an SM2 seal); repeat; default: every seal valid now.
        #[arg(long = "seal")]
        seals: Vec<String>,
        /// A contract purpose covered, matched exactly; repeat.
        #[arg(long = "purpose", required = true)]
        purposes: Vec<String>,
        /// Largest contract value covered, `CURRENCY:MINOR_UNITS` (e.g. CNY:10000000 for
        /// 100,000 yuan).
        #[arg(long)]
        value_cap: Option<String>,
        /// A counterparty covered (party id); repeat; default: any.
        #[arg(long = "counterparty")]
        counterparties: Vec<String>,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u64,
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
        #[arg(
            long,
            required_unless_present = "certificate",
            conflicts_with = "certificate"
        )]
        legal_name: Option<String>,
        /// Its USCC.
        #[arg(
            long,
            required_unless_present = "certificate",
            conflicts_with = "certificate"
        )]
        registration: Option<String>,
        /// Its legal representative.
        #[arg(long)]
        representative: String,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u64,
        /// Attest from the subject's CA-issued certificate path (PEM, its certificate first;
        /// spec §6.11): the legal name and USCC are the certificate's, and this node must
        /// trust the subject on it (its CA root and a current CRL in this node's policy, the
        /// subject's ca-identity attestation held).
        #[arg(long)]
        certificate: Option<std::path::PathBuf>,
    },
    /// Endorse a counterparty's identity after this party's own checks.
    Endorsement {
        /// The subject's party id.
        #[arg(long)]
        subject: String,
        /// Its legal name, as checked.
        #[arg(long)]
        legal_name: String,
        /// Its USCC, as checked.
        #[arg(long)]
        registration: String,
        /// The relationship, e.g. "supplier since 2019".
        #[arg(long)]
        relationship: String,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u64,
    },
    /// Accredit another party as a verifier of identities.
    Accreditation {
        /// The subject's party id.
        #[arg(long)]
        subject: String,
        /// Let it accredit further verifiers.
        #[arg(long)]
        may_accredit: bool,
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
    /// Write every revocation and each issuer's newest revocation list this node holds (JSON),
    /// for `signet verify --revocations`.
    ExportRevocations {
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
    let reply = request(&conn.endpoint(), method, path, body.as_ref())
        .await
        .map_err(|e| Exit(5, format!("{e:#}")))?;
    if (200..300).contains(&reply.status) {
        return Ok(reply.body);
    }
    refused(&reply)
}

/// A successful reply's JSON body, or the exit its problem document calls for.
fn answer(reply: Reply) -> Result<Value> {
    if (200..300).contains(&reply.status) {
        return serde_json::from_slice(&reply.body).context("the node's answer is not JSON");
    }
    refused(&reply)
}

fn refused<T>(reply: &Reply) -> Result<T> {
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

/// Streams each document to the node (`POST /v1/documents`) and returns the session's
/// document entries, naming each by its digest.
/// Uploads `FILE[=MEDIA_TYPE]` documents (the media type is guessed from the name
/// otherwise); returns their references for a new session.
async fn upload_documents(conn: &Conn, files: &[String]) -> Result<Vec<Value>> {
    let mut docs = Vec::new();
    for arg in files {
        let (file, media_type) = match arg.split_once('=') {
            Some((p, t)) if t.contains('/') => (PathBuf::from(p), t.to_string()),
            _ => (
                PathBuf::from(arg),
                signet_node::api::media_type_of(arg).to_string(),
            ),
        };
        if !file.is_file() {
            return exit(2, format!("{}: not a readable file", file.display()));
        }
        let reply = upload(&conn.endpoint(), "/v1/documents", &file)
            .await
            .map_err(|e| Exit(5, format!("{e:#}")))?;
        let v = answer(reply)?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        docs.push(json!({"name": name, "media_type": media_type, "digest": v["digest"]}));
    }
    Ok(docs)
}

pub(crate) async fn call_json(
    conn: &Conn,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<Value> {
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

/// Party `id` of session summary `s` as a person reads it: legal name and registration
/// number as this node's trust evaluation established them, or that it is unverified.
fn party_label(s: &Value, id: &str) -> String {
    let n = &s["parties"][id];
    let short = id.get(..12).unwrap_or(id);
    match (n["legal_name"].as_str(), n["basis"].as_str()) {
        (Some(name), Some("this-party")) => format!("{name} (this party)"),
        (Some(name), basis) => {
            let reg = n["registration"]
                .as_str()
                .map(|r| format!(", {r}"))
                .unwrap_or_default();
            format!("{name}{reg} [{}]", basis.unwrap_or("?"))
        }
        _ => format!("unverified party {short}…"),
    }
}

fn print_session(s: &Value) {
    let id = |v: &Value| v.as_str().unwrap_or("?").to_string();
    println!(
        "{}  {:10} {:11} {}",
        id(&s["id"]),
        id(&s["status"]),
        id(&s["side"]),
        s["title"].as_str().unwrap_or("")
    );
    println!("    from     {}", party_label(s, &id(&s["initiator"])));
    for p in s["participants"].as_array().into_iter().flatten() {
        let party = id(&p["party"]);
        println!(
            "    {:8} {}  (order {}, party {})",
            id(&p["role"]),
            party_label(s, &party),
            p["order"],
            party.get(..12).unwrap_or(&party)
        );
    }
    if let Some(w) = s["waiting_for"].as_array().filter(|w| !w.is_empty()) {
        let names: Vec<String> = w.iter().map(|p| party_label(s, &id(p))).collect();
        println!("    waiting for {}", names.join("; "));
    }
    if let Some(reason) = s["status_reason"].as_str() {
        println!("    reason   {reason}");
    }
}

/// A detailed view of one session: parties, documents, timeline.
fn print_session_detail(s: &Value) {
    print_session(s);
    println!("    purpose  {}", s["purpose"].as_str().unwrap_or(""));
    println!("    deadline {}", s["deadline"].as_str().unwrap_or(""));
    for d in s["document_list"].as_array().into_iter().flatten() {
        println!(
            "    document {} {} ({} bytes, {}) SHA-256 {}{}",
            d["index"],
            d["name"].as_str().unwrap_or("?"),
            d["size"],
            d["media_type"].as_str().unwrap_or("?"),
            d["digest"].as_str().unwrap_or("?"),
            if d["present"].as_bool() == Some(true) {
                ""
            } else {
                " (not fetched yet)"
            }
        );
    }
    for (party, n) in s["parties"].as_object().into_iter().flatten() {
        if let Some(why) = n["unverified_because"].as_str() {
            println!(
                "    unverified {}…: {why}",
                party.get(..12).unwrap_or(party)
            );
        }
    }
    for e in s["timeline"].as_array().into_iter().flatten() {
        let who = party_label(s, e["party"].as_str().unwrap_or("?"));
        let mut line = format!(
            "    {:25} {:9} {who}",
            e["time"].as_str().unwrap_or(""),
            e["event"].as_str().unwrap_or("?")
        );
        if let Some(person) = e["person"].as_str() {
            line.push_str(&format!(
                ", by {person} (intent: {})",
                e["method"].as_str().unwrap_or("?")
            ));
        }
        if let Some(reason) = e["reason"].as_str() {
            line.push_str(&format!(": {reason}"));
        }
        println!("{line}");
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

/// Issues an attestation of `kind` (`POST /v1/attestations/<kind>`) and reports it.
async fn issue(conn: &Conn, as_json: bool, kind: &str, body: Value, done: &str) -> Result<()> {
    let subject = body["subject"].as_str().unwrap_or("?").to_string();
    let path = format!("/v1/attestations/{kind}");
    let v = call_json(conn, "POST", &path, Some(body)).await?;
    print(&v, as_json, |v| {
        println!(
            "{done} {subject}: {kind} attestation {}",
            v["id"].as_str().unwrap_or("?")
        )
    });
    Ok(())
}

fn print_sessions(v: &Value, empty: &str) {
    let list = v["sessions"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!("{empty}");
    }
    for s in &list {
        print_session(s);
    }
}

fn print_mandate(d: &Value) {
    println!(
        "{}  {:13} delegate {} ({})",
        d["id"].as_str().unwrap_or("?"),
        d["state"].as_str().unwrap_or("?"),
        d["delegate"]["name"].as_str().unwrap_or("?"),
        d["delegate"]["key"].as_str().unwrap_or("?"),
    );
    let list = |name: &str| {
        d[name]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "any".into())
    };
    println!("    purposes        {}", list("purposes"));
    println!("    seals           {}", list("seals"));
    println!("    counterparties  {}", list("counterparties"));
    if let Some(cap) = d["value_cap"].as_object() {
        println!(
            "    value cap       {} {} (minor units)",
            cap.get("currency").and_then(Value::as_str).unwrap_or("?"),
            cap.get("minor_units").and_then(Value::as_u64).unwrap_or(0)
        );
    }
    println!(
        "    valid           {} to {}",
        d["valid_from"].as_str().unwrap_or("?"),
        d["valid_until"].as_str().unwrap_or("?")
    );
}

impl ClientCommand {
    fn conn_mut(&mut self) -> &mut Conn {
        match self {
            Self::Send { conn, .. }
            | Self::Inbox { conn }
            | Self::Sessions { conn, .. }
            | Self::Seals { conn }
            | Self::Delegations { conn, .. }
            | Self::Documents { conn, .. }
            | Self::Pdf { conn, .. }
            | Self::Status { conn, .. }
            | Self::Sign { conn, .. }
            | Self::Acknowledge { conn, .. }
            | Self::Approve { conn, .. }
            | Self::Remind { conn, .. }
            | Self::Evidence { conn, .. }
            | Self::Decline { conn, .. }
            | Self::Cancel { conn, .. }
            | Self::Export { conn, .. }
            | Self::Attest { conn, .. }
            | Self::Revoke { conn, .. }
            | Self::Rotate { conn, .. }
            | Self::Peers { conn, .. }
            | Self::Checkpoint { conn }
            | Self::Console { conn, .. } => conn,
        }
    }
}

/// Runs a client subcommand; `outer` holds the connection flags given before it.
pub(crate) async fn run(mut command: ClientCommand, outer: &Conn, as_json: bool) -> Result<u8> {
    let conn = command.conn_mut();
    *conn = std::mem::take(conn).resolve(outer)?;
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
            seal_pdf,
            national,
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
            let mut docs = upload_documents(&conn, &documents).await?;
            if seal_pdf {
                for d in docs
                    .iter_mut()
                    .filter(|d| d["media_type"] == "application/pdf")
                {
                    d["pdf_seals"] = json!([]);
                }
            }
            let mut body = json!({
                "title": title, "purpose": purpose, "participants": participants,
                "documents": docs, "deadline_days": deadline_days, "witnesses": witnesses,
            });
            if national {
                body["algorithms"] = json!("national");
            }
            let v = call_json(&conn, "POST", "/v1/sessions", Some(body)).await?;
            print(&v, as_json, |v| {
                println!("Proposed session {}", v["id"].as_str().unwrap_or("?"))
            });
        }
        ClientCommand::Inbox { conn } => {
            let v = call_json(&conn, "GET", "/v1/inbox", None).await?;
            print(&v, as_json, |v| {
                print_sessions(v, "Nothing awaits this party.")
            });
        }
        ClientCommand::Sessions {
            conn,
            status,
            side,
            limit,
            after,
        } => {
            let mut query = format!("/v1/sessions?limit={limit}");
            for (name, value) in [("status", status), ("side", side), ("after", after)] {
                if let Some(value) = value {
                    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        return exit(2, format!("--{name} {value:?}"));
                    }
                    query.push_str(&format!("&{name}={value}"));
                }
            }
            let v = call_json(&conn, "GET", &query, None).await?;
            print(&v, as_json, |v| {
                print_sessions(v, "No sessions.");
                if let Some(next) = v["next"].as_str() {
                    println!("more: --after {next}");
                }
            });
        }
        ClientCommand::Seals { conn } => {
            let v = call_json(&conn, "GET", "/v1/seals", None).await?;
            print(&v, as_json, |v| {
                for s in v["seals"].as_array().cloned().unwrap_or_default() {
                    let state = if s["valid"].as_bool() == Some(true) {
                        "valid"
                    } else {
                        "retired"
                    };
                    println!(
                        "{}  {:20} {:7} {}",
                        s["key"].as_str().unwrap_or("?"),
                        s["kind"].as_str().unwrap_or("?"),
                        state,
                        s["name"].as_str().unwrap_or("")
                    );
                }
            });
        }
        ClientCommand::Delegations { conn, what } => match what {
            None => {
                let v = call_json(&conn, "GET", "/v1/delegations", None).await?;
                print(&v, as_json, |v| {
                    let list = v["delegations"].as_array().cloned().unwrap_or_default();
                    if list.is_empty() {
                        println!("No seal mandates.");
                    }
                    for d in &list {
                        print_mandate(d);
                    }
                });
            }
            Some(DelegationCommand::Add {
                name,
                key_file,
                public_key,
                seals,
                purposes,
                value_cap,
                counterparties,
                days,
            }) => {
                let key = match (key_file, public_key) {
                    (Some(path), _) => signet_node::keyfile::read_log_key(&path)
                        .map_err(|e| Exit(2, e.to_string()))?
                        .public_key()
                        .to_string(),
                    (None, Some(hex)) => hex,
                    (None, None) => return exit(2, "--key-file or --public-key is required"),
                };
                let value_cap = match value_cap {
                    None => Value::Null,
                    Some(text) => {
                        let parsed = text
                            .split_once(':')
                            .and_then(|(c, n)| Some((c, n.parse::<u64>().ok()?)));
                        let Some((currency, minor_units)) = parsed else {
                            return exit(2, format!("--value-cap {text:?}: CURRENCY:MINOR_UNITS"));
                        };
                        json!({"currency": currency, "minor_units": minor_units})
                    }
                };
                let counterparties = if counterparties.is_empty() {
                    Value::Null
                } else {
                    json!(counterparties)
                };
                let v = call_json(
                    &conn,
                    "POST",
                    "/v1/delegations",
                    Some(json!({
                        "name": name, "key": key, "seals": seals, "purposes": purposes,
                        "value_cap": value_cap, "counterparties": counterparties, "days": days,
                    })),
                )
                .await?;
                print(&v, as_json, |v| {
                    println!("Gave a seal mandate:");
                    print_mandate(v);
                });
            }
        },
        ClientCommand::Documents { conn, what } => documents(&conn, what, as_json).await?,
        ClientCommand::Pdf { conn, what } => pdf(&conn, what).await?,
        ClientCommand::Console {
            conn,
            what: ConsoleCommand::Invite { name, role },
        } => {
            let v = call_json(
                &conn,
                "POST",
                "/v1/console/invitations",
                Some(json!({ "name": name, "role": role })),
            )
            .await?;
            print(&v, as_json, |v| {
                println!(
                    "Invited {} as {}: open this link to create a passkey (once, within three days):",
                    v["name"].as_str().unwrap_or("?"),
                    v["role"].as_str().unwrap_or("?")
                );
                println!("  {}", v["link"].as_str().unwrap_or("?"));
            });
        }
        ClientCommand::Status { conn, id } => {
            let v = call_json(&conn, "GET", &format!("/v1/sessions/{id}"), None).await?;
            print(&v, as_json, print_session_detail);
        }
        ClientCommand::Sign {
            conn,
            id,
            delegate_key,
            document,
        } => {
            // An Ed25519 or an SM2 key file, or its content.
            let key = if delegate_key.starts_with("signet-") {
                signet_node::keyfile::parse_log_key(&delegate_key)
                    .ok_or_else(|| Exit(2, "malformed delegate key".into()))?
            } else {
                signet_node::keyfile::read_log_key(&PathBuf::from(&delegate_key))
                    .map_err(|e| Exit(2, e.to_string()))?
            };
            let offer = call_json(
                &conn,
                "GET",
                &format!("/v1/sessions/{id}/intent?method=software-key"),
                None,
            )
            .await?;
            let bytes = offer["challenge"]
                .as_str()
                .and_then(|b| B64.decode(b).ok())
                .ok_or_else(|| Exit(5, "the node's challenge is not base64".into()))?;
            let challenge: IntentChallenge =
                signet_protocol::codec::decode(&bytes, &signet_protocol::codec::Limits::DEFAULT)
                    .map_err(|e| Exit(5, format!("the node's challenge: {e}")))?;
            if challenge.session.to_string() != id {
                return exit(5, "the node offered a challenge for another session");
            }
            // What the person is about to sign, checked here rather than taken on trust.
            for path in &document {
                let bytes =
                    std::fs::read(path).map_err(|e| Exit(2, format!("{}: {e}", path.display())))?;
                let digest = signet_protocol::Digest::of(&bytes);
                if !challenge.documents.contains(&digest) {
                    return exit(
                        2,
                        format!(
                            "{} (SHA-256 {digest}) is not a document of this session: not signed",
                            path.display()
                        ),
                    );
                }
            }
            let proof = signet_node::person::prove_intent(&challenge, &key)
                .map_err(|e| Exit(2, e.to_string()))?;
            let v = call_json(
                &conn,
                "POST",
                &format!("/v1/sessions/{id}/sign"),
                Some(json!({"intent": B64.encode(&proof)})),
            )
            .await?;
            print(&v, as_json, |_| {
                println!(
                    "Signed {id}: the intent proof was made here with the key file; the node received the proof only"
                );
                for d in &challenge.documents {
                    println!("  document SHA-256 {d}");
                }
            });
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
        ClientCommand::Export {
            conn,
            id,
            out,
            pdf,
            document,
            crl,
        } => {
            let mut written = Vec::new();
            if let Some(out) = &out {
                let bytes = call(&conn, "GET", &format!("/v1/sessions/{id}/bundle"), None).await?;
                std::fs::write(out, &bytes)
                    .with_context(|| format!("writing {}", out.display()))?;
                written.push(("bundle", out.clone(), bytes.len()));
            }
            if let Some(pdf) = &pdf {
                let path = format!("/v1/sessions/{id}/pdf?document={document}");
                let mut bytes = call(&conn, "GET", &path, None).await?;
                if !crl.is_empty() {
                    let mut crls = Vec::new();
                    for path in &crl {
                        crls.push(
                            std::fs::read(path)
                                .with_context(|| format!("reading {}", path.display()))?,
                        );
                    }
                    let data = signet_node::pdf::ltv::ValidationData {
                        certificates: Vec::new(),
                        crls,
                    };
                    bytes = signet_node::pdf::ltv::add_validation_data(&bytes, &data)
                        .context("adding the CRLs to the PDF")?;
                }
                std::fs::write(pdf, &bytes)
                    .with_context(|| format!("writing {}", pdf.display()))?;
                written.push(("pdf", pdf.clone(), bytes.len()));
                // Each SM2 seal's GB/T 38540 seal signature, beside the PDF.
                for (field, der) in signet_node::pdf::national::ses_signatures(&bytes)
                    .context("reading the seals' GB/T 38540 signatures")?
                {
                    let safe: String = field
                        .chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() || c == '-' {
                                c
                            } else {
                                '_'
                            }
                        })
                        .collect();
                    let path = pdf.with_extension(format!("{safe}.ses"));
                    std::fs::write(&path, &der)
                        .with_context(|| format!("writing {}", path.display()))?;
                    written.push(("ses", path, der.len()));
                }
            }
            let v = json!({
                "id": id,
                "files": written.iter().map(|(kind, path, bytes)| json!({"kind": kind, "path": path, "bytes": bytes})).collect::<Vec<_>>(),
            });
            print(&v, as_json, |_| {
                for (kind, path, bytes) in &written {
                    let check = if *kind == "pdf" {
                        format!(
                            "signet verify {} --ca CA_CERTIFICATE [--bundle BUNDLE]",
                            path.display()
                        )
                    } else if *kind == "ses" {
                        format!(
                            "signet verify {} --document PDF --ca CA_CERTIFICATE --bundle BUNDLE",
                            path.display()
                        )
                    } else {
                        format!("signet verify {}", path.display())
                    };
                    println!(
                        "Wrote {} ({bytes} bytes); check it with `{check}`",
                        path.display()
                    );
                }
            });
        }
        ClientCommand::Attest { conn, what } => match what {
            AttestCommand::Identity {
                subject,
                legal_name,
                registration,
                representative,
                days,
                certificate,
            } => {
                let body = match certificate {
                    Some(path) => {
                        let bytes = std::fs::read(&path)
                            .map_err(|e| Exit(2, format!("{}: {e}", path.display())))?;
                        let chain = signet_node::certificate::read_chain(&bytes)
                            .map_err(|e| Exit(2, format!("{}: {e}", path.display())))?;
                        json!({
                            "subject": subject, "certificate": B64.encode(&chain[0]),
                            "legal_representative": representative, "days": days,
                        })
                    }
                    None => json!({
                        "subject": subject, "legal_name": legal_name, "registration": registration,
                        "legal_representative": representative, "days": days,
                    }),
                };
                issue(&conn, as_json, "identity", body, "Attested").await?;
            }
            AttestCommand::Endorsement {
                subject,
                legal_name,
                registration,
                relationship,
                days,
            } => {
                let body = json!({
                    "subject": subject, "legal_name": legal_name, "registration": registration,
                    "relationship": relationship, "days": days,
                });
                issue(&conn, as_json, "endorsement", body, "Endorsed").await?;
            }
            AttestCommand::Accreditation {
                subject,
                may_accredit,
                days,
            } => {
                let body = json!({"subject": subject, "may_accredit": may_accredit, "days": days});
                issue(&conn, as_json, "accreditation", body, "Accredited").await?;
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
            AttestCommand::ExportRevocations { out } => {
                let v = call_json(&conn, "GET", "/v1/revocations", None).await?;
                std::fs::write(&out, v.to_string())
                    .with_context(|| format!("writing {}", out.display()))?;
                print(&v, as_json, |v| {
                    println!(
                        "Wrote {} revocations and revocation lists to {}",
                        v["revocations"].as_array().map_or(0, Vec::len),
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
        },
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
        ClientCommand::Rotate {
            conn,
            key,
            next_root_key,
            new_next_root_key,
            algorithm,
        } => {
            let absolute = |p: Option<PathBuf>| -> Result<Option<String>> {
                p.map(|p| {
                    std::path::absolute(&p)
                        .map(|p| p.display().to_string())
                        .map_err(|e| Exit(2, format!("{}: {e}", p.display())).into())
                })
                .transpose()
            };
            let mut body = json!({ "key": key });
            match algorithm {
                None => {}
                Some(SealAlgorithm::Ed25519) => body["algorithm"] = json!("ed25519"),
                Some(SealAlgorithm::Sm2) => body["algorithm"] = json!("sm2"),
            }
            if key == "root" {
                let (Some(next), Some(new_next)) =
                    (absolute(next_root_key)?, absolute(new_next_root_key)?)
                else {
                    return exit(
                        2,
                        "rotating the root key needs --next-root-key FILE (the committed next root key) and --new-next-root-key FILE (where to write the fresh one)",
                    );
                };
                body["next_root_key"] = json!(next);
                body["new_next_root_key"] = json!(new_next);
            }
            let v = call_json(&conn, "POST", "/v1/keylog/rotate", Some(body)).await?;
            print(&v, as_json, |v| {
                if v["restart_required"].as_bool() == Some(true) {
                    println!(
                        "Declared a new node key ({}) beside the current one; the key event log has {} events. Restart the node (`signet run`) to take it: the old key is retired then. Peers learn it by gossip meanwhile.",
                        v["public_key"].as_str().unwrap_or("?"),
                        v["key_log_length"]
                    );
                    return;
                }
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

/// `signet documents list|get`.
async fn pdf(conn: &Conn, what: PdfCommand) -> Result<()> {
    let (reply, out) = match what {
        PdfCommand::Seal {
            input,
            out,
            page,
            rect,
        } => {
            let mut query = Vec::new();
            if let Some(page) = page {
                query.push(format!("page={page}"));
            }
            if let Some(rect) = rect {
                query.push(format!("rect={}", rect.replace(' ', "")));
            }
            let path = if query.is_empty() {
                "/v1/pdf/seal".to_string()
            } else {
                format!("/v1/pdf/seal?{}", query.join("&"))
            };
            let reply = upload(&conn.endpoint(), &path, &input)
                .await
                .map_err(|e| Exit(5, format!("{e:#}")))?;
            (reply, out)
        }
        PdfCommand::CaCertificate { out, sm2 } => {
            let path = if sm2 {
                "/v1/pdf/ca-certificate?algorithm=sm2"
            } else {
                "/v1/pdf/ca-certificate"
            };
            let reply = request(&conn.endpoint(), "GET", path, None).await?;
            (reply, out)
        }
        PdfCommand::Crl { out } => {
            let reply = request(&conn.endpoint(), "GET", "/v1/pdf/crl", None).await?;
            (reply, out)
        }
    };
    if !(200..300).contains(&reply.status) {
        return refused(&reply);
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&out)
        .map_err(|e| Exit(2, format!("{}: {e}", out.display())))?;
    std::io::Write::write_all(&mut file, &reply.body)?;
    file.sync_all()?;
    println!("wrote {} ({} bytes)", out.display(), reply.body.len());
    Ok(())
}

async fn documents(conn: &Conn, what: DocumentsCommand, as_json: bool) -> Result<()> {
    let (id, only, out) = match what {
        DocumentsCommand::List { id } => (id, None, None),
        DocumentsCommand::Get { id, index, out } => (id, index, Some(out)),
    };
    if id.parse::<signet_protocol::session::SessionId>().is_err() {
        return exit(2, format!("{id}: not a session id"));
    }
    let v = call_json(conn, "GET", &format!("/v1/sessions/{id}/documents"), None).await?;
    let list = v["documents"].as_array().cloned().unwrap_or_default();
    let Some(out) = out else {
        print(&v, as_json, |_| {
            for d in &list {
                println!(
                    "{}  {}  {} bytes  {}  SHA-256 {}{}",
                    d["index"],
                    d["name"].as_str().unwrap_or("?"),
                    d["size"],
                    d["media_type"].as_str().unwrap_or("?"),
                    d["digest"].as_str().unwrap_or("?"),
                    if d["present"].as_bool() == Some(true) {
                        ""
                    } else {
                        "  (not fetched yet)"
                    }
                );
            }
        });
        return Ok(());
    };
    if let Some(i) = only
        && i >= list.len()
    {
        return exit(
            2,
            format!("the session has {} document(s); no index {i}", list.len()),
        );
    }
    let mut written = Vec::new();
    for d in list
        .iter()
        .filter(|d| only.is_none_or(|i| d["index"].as_u64() == Some(i as u64)))
    {
        let index = d["index"].as_u64().unwrap_or(0);
        let expected = d["digest"].as_str().unwrap_or("");
        let name = safe_file_name(d["name"].as_str().unwrap_or(""), index);
        let path = out.join(&name);
        let (reply, got) = download(
            &conn.endpoint(),
            &format!("/v1/sessions/{id}/documents/{index}?download=true"),
            &path,
        )
        .await
        .map_err(|e| Exit(5, format!("{e:#}")))?;
        let Some((size, digest)) = got else {
            return refused(&reply);
        };
        if digest.to_hex() != expected {
            let _ = std::fs::remove_file(&path);
            return exit(
                5,
                format!("{name}: SHA-256 {digest} is not the proposal's {expected}: removed"),
            );
        }
        written.push(json!({"index": index, "file": path.display().to_string(), "size": size, "digest": expected}));
    }
    let v = json!({ "session": id, "written": written });
    print(&v, as_json, |v| {
        for w in v["written"].as_array().into_iter().flatten() {
            println!(
                "{}  ({} bytes, SHA-256 {} as the proposal commits)",
                w["file"].as_str().unwrap_or("?"),
                w["size"],
                w["digest"].as_str().unwrap_or("?")
            );
        }
    });
    Ok(())
}

/// A file name from a counterparty's document name: no directories, no leading dots, no
/// control characters; `document-N` when nothing usable is left.
fn safe_file_name(name: &str, index: u64) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim_start_matches('.')
        .trim()
        .to_string();
    if cleaned.is_empty() {
        format!("document-{index}")
    } else {
        cleaned
    }
}
