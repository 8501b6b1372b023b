//! `signet demo`: a small federation of real nodes on loopback, narrated.
//!
//! Every node is a real [`Service`]: its own party directory and sled store in a temporary
//! directory, its own libp2p identity, listening on 127.0.0.1 over TCP; messages, documents
//! and cosignature requests go over real libp2p connections. Key logs and attestations
//! also spread by gossip; the demo hands them to every node directly as well (as
//! `signet attest import-key-log` / `import` would), so each step runs at once instead of
//! waiting for the gossip mesh to form.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use signet_node::keyfile;
use signet_node::service::config::{AnchorConfig, PolicyConfig};
use signet_node::service::init::{InitOptions, init};
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession, Service, now};
use signet_protocol::attestation::AttestationKind;
use signet_protocol::bundle::{Outcome, verify_bundle};
use signet_protocol::party::PartyId;
use signet_protocol::registration::uscc_check_character;
use signet_protocol::session::{Role, SealPlacement, SessionId};
use signet_protocol::trust::{TrustAnchor, TrustPolicy};
use signet_protocol::{Digest, SecretKey};
use tokio::sync::watch;

/// `signet demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Keep the nodes' directories here instead of a temporary directory.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// After the narration, keep the nodes running with their web consoles (Brand A and
    /// Supplier X), print an administrator's invitation link for each, and wait for Ctrl-C.
    #[arg(long)]
    console: bool,
}

struct Node {
    name: &'static str,
    service: Arc<Service>,
    delegate: SecretKey,
    address: String,
    _shutdown: watch::Sender<bool>,
}

impl Node {
    fn party(&self) -> PartyId {
        self.service.party()
    }
}

/// A valid USCC derived from a name (demo parties are fictitious).
fn uscc(name: &str) -> Result<String> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let digest = Digest::of(name.as_bytes());
    let mut code = String::from("91");
    for b in &digest.as_bytes()[..15] {
        code.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
    }
    let check = uscc_check_character(&code)?;
    code.push(check);
    Ok(code)
}

async fn start(
    root: &Path,
    name: &'static str,
    anchors: &[AnchorConfig],
    witness: bool,
) -> Result<Node> {
    let dir = root.join(name.replace(' ', "-"));
    let key_path = root.join(format!("{}-delegate.key", name.replace(' ', "-")));
    let next_root_path = root.join(format!("{}-next-root.key", name.replace(' ', "-")));
    let options = InitOptions {
        legal_name: name.to_string(),
        registration: uscc(name)?,
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        bootstrap: vec![],
        api: "127.0.0.1:0".into(),
        witness,
        policy: PolicyConfig {
            anchors: anchors.to_vec(),
            ..PolicyConfig::default()
        },
        delegate_key: key_path.clone(),
        next_root_key: next_root_path,
        delegate_name: format!("{name} signatory"),
        mandate_days: 365,
        seal_algorithm: Default::default(),
        delegate_algorithm: Default::default(),
        attest_algorithm: Default::default(),
        storage: Default::default(),
        certificate: None,
    };
    init(&dir, &options, now())?;
    let service = Service::open(&dir)?;
    let (tx, rx) = watch::channel(false);
    let listening = service.start(rx).await?;
    let first = listening.first().context("the node listens")?;
    let address = format!("{first}/p2p/{}", service.client()?.peer_id());
    Ok(Node {
        name,
        delegate: keyfile::read(&key_path)?,
        service,
        address,
        _shutdown: tx,
    })
}

/// Publishes an attestation to every node (a stand-in for gossip).
fn publish(nodes: &[&Node], bytes: &[u8]) -> Result<()> {
    for n in nodes {
        n.service.import_attestation(bytes)?;
    }
    Ok(())
}

async fn until(what: &str, mut check: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("timed out waiting for {what}")
}

struct Tally {
    /// (relying party, counterparty) pairs whose identity came from a shared attestation.
    relied: BTreeSet<(PartyId, PartyId)>,
    rows: Vec<(String, String, String)>,
}

/// Runs one signing: `initiator` proposes to `signers` (party, routing order); each signs
/// in turn as soon as its node has the proposal and the document. Returns the session.
async fn signing(
    tally: &mut Tally,
    title: &str,
    initiator: &Node,
    signers: &[(&Node, u32)],
    witness: &Node,
    document: &[u8],
    pdf_seals: Option<Vec<SealPlacement>>,
) -> Result<SessionId> {
    let started = Instant::now();
    let id = initiator.service.create_session(NewSession {
        title: title.to_string(),
        purpose: "procurement".into(),
        participants: signers
            .iter()
            .map(|(n, order)| NewParticipant {
                party: n.party(),
                role: Role::Signer,
                order: *order,
            })
            .collect(),
        documents: vec![NewDocument {
            name: "contract.pdf".into(),
            media_type: "application/pdf".into(),
            source: DocumentSource::Bytes(document.to_vec()),
            pdf_seals,
        }],
        deadline_days: 30,
        algorithms: None,
        witnesses: vec![witness.party()],
    })?;
    // Routing order; within a group, listed order (the sealing order when PDFs are sealed).
    let mut order: Vec<&(&Node, u32)> = signers.iter().collect();
    order.sort_by_key(|(_, o)| *o);
    for (node, _) in order {
        until(&format!("{} to sign", node.name), || {
            node.service.session(id).is_ok()
                && signet_node::person::sign_as(&node.service, id, &node.delegate).is_ok()
        })
        .await?;
        println!(
            "      {} signed (its delegate's intent proof + contract seal)",
            node.name
        );
    }
    until("completion", || {
        initiator
            .service
            .session(id)
            .is_ok_and(|s| s.status == "completed")
            && signers
                .iter()
                .all(|(n, _)| n.service.session(id).is_ok_and(|s| s.status == "completed"))
    })
    .await?;
    let ms = started.elapsed().as_millis();
    println!("      completed on every node in {ms} ms");
    let mut all: Vec<&Node> = vec![initiator];
    all.extend(signers.iter().map(|(n, _)| *n));
    for a in &all {
        for b in &all {
            if a.party() != b.party() {
                tally.relied.insert((a.party(), b.party()));
            }
        }
    }
    tally
        .rows
        .push((title.to_string(), "completed".into(), format!("{ms} ms")));
    Ok(id)
}

/// The sealed PDF of a session in which every signer sealed the contract (spec §8.2.4), as
/// the initiator's node holds it once the last signer's revision has reached it: written to
/// `root` with the CA certificate, and its seals listed.
async fn sealed_in_session(
    root: &Path,
    ca: &Node,
    initiator: &Node,
    id: SessionId,
    kept: bool,
) -> Result<()> {
    let mut sealed = Vec::new();
    until(
        "the last sealed revision to reach the initiator",
        || match initiator.service.session_pdf(id, 0) {
            Ok(bytes) => {
                sealed = bytes;
                true
            }
            Err(_) => false,
        },
    )
    .await?;
    // What the brand keeps: the file with the validation data a verifier needs years from
    // now (the CA's current CRL, as from its public `/v1/pdf/crl`) and the witness's
    // document time-stamp over all of it (PAdES B-LTA).
    let crl = ca.service.pdf_crl()?;
    let sealed = initiator
        .service
        .clone()
        .export_pdf_with(id, 0, vec![crl])
        .await?;
    let path = root.join("A-X-Z-sealed.pdf");
    std::fs::write(&path, &sealed)?;
    let ca_path = root.join("ca.der");
    std::fs::write(&ca_path, ca.service.pdf_ca_certificate()?)?;
    let ca_der = ca.service.pdf_ca_certificate()?;
    let levels = signet_node::pdf::assess::assess(&sealed, &[ca_der], &[], now())?;
    println!(
        "      the sealed PDF ({} bytes): one revision per signer, each named in its seal signature; then validation data and the witness's document time-stamp ({})",
        sealed.len(),
        levels.first().map_or("no seal".to_string(), |a| format!(
            "PAdES {}",
            a.levels.level()
        ))
    );
    for s in signet_node::pdf::verify::signatures(&sealed)? {
        println!(
            "        {}: {} (USCC {}), digest {}, signature {}, {}, {}",
            s.field_name,
            s.signer_legal_name.as_deref().unwrap_or("?"),
            s.signer_uscc.as_deref().unwrap_or("?"),
            if s.digest_matches {
                "intact"
            } else {
                "CHANGED"
            },
            if s.signature_valid {
                "valid"
            } else {
                "INVALID"
            },
            match &s.timestamp {
                Some(t) if t.signature_valid && t.imprint_matches =>
                    "time-stamped by the witness's TSA",
                Some(_) => "time-stamp INVALID",
                None => "no time-stamp",
            },
            if s.covers_whole_file {
                "covers the whole file"
            } else {
                "covers its revision"
            },
        );
    }
    if kept {
        println!(
            "      (PDF kept at {}; validate it with `pyhanko sign validate --pretty-print --trust {} {}`, or against the session's bundle with `signet verify {} --ca {} --crl CRL --bundle {} --anchor {}`)",
            path.display(),
            ca_path.display(),
            path.display(),
            path.display(),
            ca_path.display(),
            root.join("A-X-Z.bundle").display(),
            ca.party(),
        );
    }
    Ok(())
}

/// Runs the demo.
pub(crate) async fn demo(args: DemoArgs) -> Result<u8> {
    let started = Instant::now();
    let temp = tempfile::tempdir()?;
    let root = match &args.keep {
        Some(p) => {
            std::fs::create_dir_all(p)?;
            p.clone()
        }
        None => temp.path().to_path_buf(),
    };
    println!(
        "Signet demo: a federation of 7 real nodes on loopback (own sled store, own libp2p key each)"
    );
    if !args.console {
        println!(
            "  (to click through it in a browser afterwards: `signet demo --console` keeps Brand A's and Supplier X's web consoles running)"
        );
    }
    println!();
    println!("[1] Starting the nodes");
    let ca = start(&root, "Verifier CA", &[], false).await?;
    let anchors = [AnchorConfig {
        party: ca.party().to_string(),
        name: "Verifier CA".into(),
    }];
    let witness = start(&root, "Witness", &anchors, true).await?;
    let brand_a = start(&root, "Brand A", &anchors, false).await?;
    let brand_b = start(&root, "Brand B", &anchors, false).await?;
    let x = start(&root, "Supplier X", &anchors, false).await?;
    let y = start(&root, "Supplier Y", &anchors, false).await?;
    let z = start(&root, "Supplier Z", &anchors, false).await?;
    let all = [&ca, &witness, &brand_a, &brand_b, &x, &y, &z];
    for n in &all {
        let role = match n.name {
            "Verifier CA" => "verifier (trust anchor)",
            "Witness" => "witness (cosigns checkpoints)",
            "Supplier X" => "tier-1 supplier, shared by both brands",
            "Supplier Y" => "tier-1 supplier",
            "Supplier Z" => "tier-2 supplier",
            _ => "brand",
        };
        println!("    {:11} {:40} {}", n.name, role, n.address);
    }
    // Public key logs and addresses: every node learns every other's.
    for a in &all {
        for b in &all {
            if a.party() != b.party() {
                a.service.import_key_log(&b.service.own_key_log()?)?;
                a.service.add_peer(&b.address).await?;
            }
        }
    }
    // Each party's seal mandate is public: counterparties check signatures against it.
    for n in &all {
        for a in n.service.attestations()? {
            if a.payload().issuer == n.party() {
                publish(&all, a.bytes())?;
            }
        }
    }

    println!();
    println!(
        "[2] The CA verifies each firm's identity once (实名认证) and publishes its attestation"
    );
    let mut verifications_done = 0u32;
    let mut z_attestation = None;
    // The witness too: a verifier counts a witness's cosignature only if it trusts the
    // witness's identity (a notary, an industry body).
    for n in [&witness, &brand_a, &brand_b, &x, &y, &z] {
        let a = ca.service.attest_identity(
            n.party(),
            n.name,
            &uscc(n.name)?,
            &format!("{} legal representative", n.name),
            365,
        )?;
        verifications_done += 1;
        publish(&all, a.bytes())?;
        println!(
            "    attested {:11} (attestation {})",
            n.name,
            a.payload().id
        );
        if n.name == "Supplier Z" {
            z_attestation = Some(a.payload().id);
        }
    }
    // With each identity, the CA certified the firm's PDF key (spec 6.10); its own CA
    // certificate came first. Gossip would carry them; the demo hands them over at once.
    let mut certificates = 0;
    for a in ca.service.attestations()? {
        let p = a.payload();
        if p.issuer == ca.party() && p.claims.kind() == AttestationKind::PdfCertificate {
            publish(&all, a.bytes())?;
            certificates += 1;
        }
    }
    println!(
        "    and certified each firm's PDF key: {certificates} PDF certificates (the CA's own included)"
    );
    let mut tally = Tally {
        relied: BTreeSet::new(),
        rows: Vec::new(),
    };

    println!();
    println!("[3] Brand A signs with Supplier X");
    let doc1 = b"%PDF-1.7 Supply agreement: Brand A / Supplier X".repeat(2000);
    let first = signing(
        &mut tally,
        "A-X supply agreement",
        &brand_a,
        &[(&x, 0)],
        &witness,
        &doc1,
        None,
    )
    .await?;

    println!();
    println!(
        "[4] Brand B signs with the same Supplier X: it relies on the CA's attestation, no new verification"
    );
    let doc2 = b"%PDF-1.7 Supply agreement: Brand B / Supplier X".to_vec();
    signing(
        &mut tally,
        "B-X supply agreement",
        &brand_b,
        &[(&x, 0)],
        &witness,
        &doc2,
        None,
    )
    .await?;

    println!();
    println!(
        "[5] A three-party contract down the tiers, sealed in its PDF: Brand A and Supplier X (one routing group, sealing in listed order), then Supplier Z"
    );
    let doc3 = signet_node::pdf::sample::contract(
        "Tiered component agreement",
        &[brand_a.name, x.name, z.name],
        3,
    )?;
    // Every signer seals the PDF in the session: Brand A and Supplier X form one routing
    // group (sealed in listed order), Supplier Z follows; the proposal places each seal on
    // the last page.
    let place = |node: &Node, x: u32| SealPlacement {
        signer: node.party(),
        page: None,
        x,
        y: 70,
        width: 130,
        height: 130,
    };
    let tiered = signing(
        &mut tally,
        "A-X-Z tiered agreement",
        &brand_a,
        &[(&brand_a, 0), (&x, 0), (&z, 1)],
        &witness,
        &doc3,
        Some(vec![place(&brand_a, 60), place(&x, 232), place(&z, 404)]),
    )
    .await?;
    std::fs::write(
        root.join("A-X-Z.bundle"),
        brand_a.service.export_bundle(tiered)?,
    )?;
    sealed_in_session(&root, &ca, &brand_a, tiered, args.keep.is_some()).await?;

    println!();
    println!("[6] A parallel contract: Brand B -> Supplier X and Supplier Y at once");
    let doc4 = b"%PDF-1.7 Dual-source agreement".to_vec();
    signing(
        &mut tally,
        "B-X+Y dual source",
        &brand_b,
        &[(&x, 0), (&y, 0)],
        &witness,
        &doc4,
        None,
    )
    .await?;

    println!();
    println!("[7] A decline: Brand A -> Supplier Y, who declines");
    let declined = brand_a.service.create_session(NewSession {
        title: "A-Y pricing".into(),
        purpose: "procurement".into(),
        participants: vec![NewParticipant {
            party: y.party(),
            role: Role::Signer,
            order: 0,
        }],
        documents: vec![NewDocument {
            name: "pricing.pdf".into(),
            media_type: "application/pdf".into(),
            source: DocumentSource::Bytes(b"%PDF-1.7 pricing".to_vec()),
            pdf_seals: None,
        }],
        deadline_days: 30,
        algorithms: None,
        witnesses: vec![],
    })?;
    until("Supplier Y to decline", || {
        y.service.session(declined).is_ok()
            && y.service.decline(declined, "unit price too low").is_ok()
    })
    .await?;
    until("Brand A to see the decline", || {
        brand_a
            .service
            .session(declined)
            .is_ok_and(|s| s.status == "declined")
    })
    .await?;
    println!("      Brand A sees: declined by Supplier Y (\"unit price too low\")");
    tally
        .rows
        .push(("A-Y pricing".into(), "declined".into(), "-".into()));

    println!();
    println!(
        "[8] A revocation: the CA revokes Supplier Z's identity attestation; Brand B then tries to sign with Z"
    );
    let z_id = z_attestation.context("Z was attested")?;
    let revocation = ca.service.revoke(z_id)?;
    publish(&all, revocation.bytes())?;
    println!("      revocation {} published", revocation.payload().id);
    let refused_before = brand_b.service.refusals().len();
    let revoked = brand_b.service.create_session(NewSession {
        title: "B-Z direct agreement".into(),
        purpose: "procurement".into(),
        participants: vec![NewParticipant {
            party: z.party(),
            role: Role::Signer,
            order: 0,
        }],
        documents: vec![NewDocument {
            name: "direct.pdf".into(),
            media_type: "application/pdf".into(),
            source: DocumentSource::Bytes(b"%PDF-1.7 direct".to_vec()),
            pdf_seals: None,
        }],
        deadline_days: 30,
        algorithms: None,
        witnesses: vec![],
    })?;
    until("Supplier Z to sign", || {
        z.service.session(revoked).is_ok()
            && signet_node::person::sign_as(&z.service, revoked, &z.delegate).is_ok()
    })
    .await?;
    until("Brand B to judge Z's signature", || {
        brand_b.service.refusals().len() > refused_before
    })
    .await?;
    let refusal = brand_b.service.refusals().pop().context("a refusal")?;
    println!(
        "      Brand B refused Z's signature [{}]: {}",
        refusal.code.name(),
        refusal.reason
    );
    let status = brand_b.service.session(revoked)?.status;
    println!("      the session stays {status}; Brand B cancels it");
    brand_b
        .service
        .cancel(revoked, "counterparty identity revoked")?;
    tally.rows.push((
        "B-Z direct agreement".into(),
        format!("refused ({})", refusal.code.name()),
        "-".into(),
    ));

    println!();
    println!(
        "[9] Evidence: Brand A and Supplier X checkpoint their evidence logs; the witness cosigns over the network"
    );
    for n in [&brand_a, &x] {
        n.service
            .share_witnessed_evidence(first, witness.party())
            .await?;
        println!(
            "      {} shared its evidence for \"A-X supply agreement\" under a cosigned checkpoint",
            n.name
        );
    }
    until("both parties' evidence at Brand A", || {
        brand_a
            .service
            .session(first)
            .is_ok_and(|s| s.evidence_from.len() == 2)
    })
    .await?;
    println!("      Brand A holds both parties' evidence. Its log's latest checkpoint, cosigned:");
    let cp = brand_a.service.cosigned_checkpoint(witness.party()).await?;
    for line in String::from_utf8_lossy(&cp.to_bytes()).lines() {
        println!("        {line}");
    }

    println!();
    println!(
        "[10] Brand A exports the bundle; it is verified offline (no node), with the document"
    );
    let bundle = brand_a.service.export_bundle(first)?;
    let path = root.join("A-X.bundle");
    std::fs::write(&path, &bundle)?;
    // The default policy: revocation status must be fresh now; the bundle carries the
    // newest revocation lists of every party and issuer, made today.
    let policy = TrustPolicy::with_anchors(vec![TrustAnchor {
        party: ca.party(),
        name: "Verifier CA".into(),
    }]);
    let report = verify_bundle(&bundle, &[&doc1], &policy, now());
    let passed = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Valid)
        .count();
    println!(
        "      {} bytes; {} checks, {} passed; outcome {}",
        bundle.len(),
        report.checks.len(),
        passed,
        report.outcome.as_str()
    );
    for c in report
        .checks
        .iter()
        .filter(|c| c.name.contains("witness") || c.name.contains("cosign"))
        .take(3)
    {
        println!("        {} {}: {}", c.outcome.as_str(), c.name, c.detail);
    }
    let r = &report.reliability;
    println!(
        "      Art. 13 reliability: binding {}, control {}, signature integrity {}, document integrity {}",
        r.signer_binding.outcome.as_str(),
        r.signer_control.outcome.as_str(),
        r.signature_integrity.outcome.as_str(),
        r.document_integrity.outcome.as_str()
    );
    if args.keep.is_some() {
        println!(
            "      (bundle kept at {}; try `signet verify {} --anchor {}`)",
            path.display(),
            path.display(),
            ca.party()
        );
    }

    println!();
    println!("Summary");
    println!("  {:24} {:24} time", "contract", "outcome");
    for (t, o, ms) in &tally.rows {
        println!("  {t:24} {o:24} {ms}");
    }
    let avoided = tally.relied.len();
    println!();
    println!("  identity verifications done (by the CA, once per firm):     {verifications_done}");
    println!("  verifications avoided (a firm relying on a shared attestation");
    println!("    instead of verifying a new counterparty itself):          {avoided}");
    let (mut sent, mut received) = (0, 0);
    for n in &all {
        sent += signet_node::service::metrics::Metrics::get(&n.service.metrics().messages_out);
        received += signet_node::service::metrics::Metrics::get(&n.service.metrics().messages_in);
    }
    println!("  session messages delivered over libp2p: {sent} sent, {received} accepted");
    println!("  bundle verified offline: {}", report.outcome.as_str());
    println!("  total time: {:.1} s", started.elapsed().as_secs_f64());
    if args.console {
        consoles(&[&brand_a, &x]).await?;
    }
    Ok(if report.outcome == Outcome::Valid {
        0
    } else {
        1
    })
}

/// Serves the consoles of `nodes` on loopback, with an administrator's invitation each,
/// until Ctrl-C.
async fn consoles(nodes: &[&Node]) -> Result<()> {
    println!();
    println!("Web consoles (open each link in a browser with passkeys: it registers you as the");
    println!("node's administrator; give yourself a seal mandate under Seals and mandates, then");
    println!("send, read and sign contracts between the two):");
    for n in nodes {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let local = listener.local_addr()?;
        let origin = signet_node::api::console_origin(&n.service, local)
            .context("the console has no origin")?;
        let console = signet_node::console::Console::new(n.service.clone(), &origin)?;
        let link = console.invite("Demo Admin", signet_node::console::Role::Admin)?;
        let app = signet_node::api::app(n.service.clone(), Some(console))
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("console: {e}");
            }
        });
        println!("  {:11} {origin}/console/", n.name);
        println!("              invitation: {link}");
    }
    println!();
    println!("Press Ctrl-C to stop the nodes.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
