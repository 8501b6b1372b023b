//! The `signet` binary, run as a user runs it: `init`, offline `verify` of a real bundle
//! (VALID, and INVALID once tampered), tokens refused by the API, and a node killed with
//! SIGKILL mid-session that completes the session after a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use signet_node::service::config::NodeConfig;
use signet_node::service::init::{InitOptions, init};
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession, Service, now};
use signet_protocol::session::Role;
use signet_protocol::testkit::test_uscc;
use support::{create, federate, one_signer, start, until};

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");

fn signet(args: &[&str]) -> Output {
    Command::new(SIGNET).args(args).output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[test]
fn init_creates_a_party_and_refuses_an_invalid_registration_number() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("acme");
    let key = dir.path().join("zhang.key");
    let next_root = dir.path().join("acme-next-root.key");
    let uscc = test_uscc("Acme");
    let out = signet(&[
        "--json",
        "init",
        "--dir",
        node.to_str().unwrap(),
        "--name",
        "Acme Ltd",
        "--registration",
        uscc.number(),
        "--delegate-key",
        key.to_str().unwrap(),
        "--next-root-key",
        next_root.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = printed["sign_token"].as_str().unwrap();
    let config = NodeConfig::load(&node).unwrap();
    assert_eq!(config.party, printed["party"].as_str().unwrap());
    assert_eq!(
        config.api, "127.0.0.1:7400",
        "the API binds to loopback by default"
    );
    let text = std::fs::read_to_string(node.join("signet.toml")).unwrap();
    assert!(!text.contains(token), "the token itself is not stored");
    assert!(
        config
            .tokens
            .iter()
            .any(|t| t.sha256 == signet_node::service::init::token_hash(token))
    );
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(node.join("keys")).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(key.exists() && !node.join("keys").join("delegate.key").exists());
    // Neither is the next root key: it is where it was asked to go, off the node.
    assert!(next_root.exists() && !node.join("keys").join("next-root.key").exists());
    // The delegate key is outside the node directory; the node opens without it.
    drop(Service::open(&node).unwrap());
    // A next root key asked to be written inside the node's directory is refused.
    let inside = dir.path().join("inside");
    let out = signet(&[
        "init",
        "--dir",
        inside.to_str().unwrap(),
        "--name",
        "Inside Ltd",
        "--registration",
        uscc.number(),
        "--delegate-key",
        dir.path().join("inside-delegate.key").to_str().unwrap(),
        "--next-root-key",
        inside.join("keys/next.key").to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the party directory"));

    // Again in the same directory: refused, nothing overwritten.
    let again = signet(&[
        "init",
        "--dir",
        node.to_str().unwrap(),
        "--name",
        "Acme Ltd",
        "--registration",
        uscc.number(),
        "--delegate-key",
        dir.path().join("k2").to_str().unwrap(),
        "--next-root-key",
        dir.path().join("n2").to_str().unwrap(),
    ]);
    assert_eq!(code(&again), 2);
    assert_eq!(NodeConfig::load(&node).unwrap().party, config.party);

    // A wrong check character: refused with exit 2, nothing created.
    let mut bad = uscc.number().to_string();
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    let other = dir.path().join("bad");
    let out = signet(&[
        "init",
        "--dir",
        other.to_str().unwrap(),
        "--name",
        "Bad",
        "--registration",
        &bad,
        "--delegate-key",
        dir.path().join("bad.key").to_str().unwrap(),
        "--next-root-key",
        dir.path().join("bad-next.key").to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("registration number"));
    assert!(!other.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_a_real_bundle_valid_then_tampered_invalid() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    let document = b"%PDF-1.7 contract".to_vec();
    let id = brand
        .service
        .create_session(one_signer("Contract", supplier.party(), document.clone()))
        .unwrap();
    let delegate = signet_node::keyfile::read(&s_key).unwrap();
    until("signed", || {
        signet_node::person::sign_as(&supplier.service, id, &delegate).is_ok()
    })
    .await;
    until("completed", || {
        brand.service.session(id).unwrap().status == "completed"
    })
    .await;
    let bundle = brand.service.export_bundle(id).unwrap();
    let bundle_path = root.path().join("c.bundle");
    let doc_path = root.path().join("c.pdf");
    std::fs::write(&bundle_path, &bundle).unwrap();
    std::fs::write(&doc_path, &document).unwrap();
    let anchor = format!("{}=Verifier CA", ca.party());
    let args = |bundle: &Path| {
        vec![
            "verify".to_string(),
            bundle.to_str().unwrap().to_string(),
            "--document".into(),
            doc_path.to_str().unwrap().into(),
            "--anchor".into(),
            anchor.clone(),
        ]
    };

    let out = Command::new(SIGNET)
        .args(args(&bundle_path))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("VALID"));
    let mut json_args = vec!["--json".to_string()];
    json_args.extend(args(&bundle_path));
    let out = Command::new(SIGNET).args(&json_args).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "VALID");
    assert!(report["checks"].as_array().unwrap().len() > 5);

    // A missing file is a usage error.
    assert_eq!(code(&signet(&["verify", "/nonexistent.bundle"])), 2);
    // Without the anchor the signers' identities cannot be established: not VALID.
    let out = signet(&["verify", bundle_path.to_str().unwrap()]);
    assert_ne!(code(&out), 0);

    // One byte changed in the middle of the bundle: INVALID, exit 1.
    let mut tampered = bundle.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let tampered_path = root.path().join("tampered.bundle");
    std::fs::write(&tampered_path, &tampered).unwrap();
    let out = Command::new(SIGNET)
        .args(args(&tampered_path))
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("INVALID"));

    // A different document: INVALID.
    std::fs::write(&doc_path, b"%PDF-1.7 another contract").unwrap();
    let out = Command::new(SIGNET)
        .args(args(&bundle_path))
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
}

/// A free loopback port (racy in theory; fine for a test).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `signet run` for `dir`; returns the child and its libp2p address.
fn spawn_node(dir: &Path) -> (Child, String) {
    let mut child = Command::new(SIGNET)
        .args(["run", "--dir", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut address = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(a) = line.trim().strip_prefix("listening") {
            address = Some(a.trim().to_string());
        }
        if line.trim().starts_with("API") {
            break;
        }
    }
    // Keep draining stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, address.expect("the node printed its address"))
}

fn client(api: &str, token: &str, args: &[&str]) -> Output {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    Command::new(SIGNET)
        .args(&all)
        .env("SIGNET_API", api)
        .env("SIGNET_TOKEN", token)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_and_a_node_killed_mid_session_completes_it_after_restart() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;

    // The supplier's node runs as a child process.
    let s_dir = root.path().join("supplier");
    let s_key = root.path().join("supplier-delegate.key");
    let port = free_port();
    let made = init(
        &s_dir,
        &InitOptions {
            legal_name: "Supplier".into(),
            registration: test_uscc("Supplier").number().into(),
            listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            bootstrap: vec![brand.address.clone()],
            api: format!("127.0.0.1:{port}"),
            witness: false,
            policy: signet_node::service::config::PolicyConfig {
                anchors: vec![signet_node::service::config::AnchorConfig {
                    party: ca.party().to_string(),
                    name: "Verifier CA".into(),
                }],
                ..signet_node::service::config::PolicyConfig::default()
            },
            delegate_key: s_key.clone(),
            next_root_key: root.path().join("supplier-next-root.key"),
            delegate_name: "Supplier signatory".into(),
            mandate_days: 365,
            seal_algorithm: Default::default(),
            // The supplier's person signs with an SM2 key file (`signet sign` reads either).
            delegate_algorithm: signet_node::service::init::SealAlgorithm::Sm2,
            attest_algorithm: Default::default(),
            storage: Default::default(),
            certificate: None,
        },
        now(),
    )
    .unwrap();
    // Federate with the supplier's store opened in-process, before its node starts.
    brand
        .service
        .import_key_log(&ca.service.own_key_log().unwrap())
        .unwrap();
    ca.service
        .import_key_log(&brand.service.own_key_log().unwrap())
        .unwrap();
    {
        let supplier = Service::open(&s_dir).unwrap();
        for n in [&ca, &brand] {
            supplier
                .import_key_log(&n.service.own_key_log().unwrap())
                .unwrap();
            n.service
                .import_key_log(&supplier.own_key_log().unwrap())
                .unwrap();
        }
        for subject in [(brand.party(), "Brand"), (supplier.party(), "Supplier")] {
            let a = ca
                .service
                .attest_identity(
                    subject.0,
                    subject.1,
                    test_uscc(subject.1).number(),
                    "rep",
                    365,
                )
                .unwrap();
            supplier.import_attestation(a.bytes()).unwrap();
            brand.service.import_attestation(a.bytes()).unwrap();
        }
        // What gossip would carry: the CA's revocation list (fresh revocation status is
        // required by default) and each party's own attestations.
        for a in ca.service.attestations().unwrap() {
            if a.payload().issuer == ca.party() {
                supplier.import_attestation(a.bytes()).unwrap();
                brand.service.import_attestation(a.bytes()).unwrap();
            }
        }
        for a in supplier.attestations().unwrap() {
            if a.payload().issuer == supplier.party() {
                brand.service.import_attestation(a.bytes()).unwrap();
            }
        }
        for a in brand.service.attestations().unwrap() {
            if a.payload().issuer == brand.party() {
                supplier.import_attestation(a.bytes()).unwrap();
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // sled releases its lock
    let (mut child, address) = spawn_node(&s_dir);
    brand.service.add_peer(&address).await.unwrap();
    let api = format!("http://127.0.0.1:{port}");

    // Tokens: none, unknown, and read scope for a change are refused (exit 6); read works.
    let out = Command::new(SIGNET)
        .args(["inbox"])
        .env("SIGNET_API", &api)
        .env_remove("SIGNET_TOKEN")
        .output()
        .unwrap();
    assert_eq!(code(&out), 6, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(code(&client(&api, "not-a-token", &["inbox"])), 6);
    assert_eq!(code(&client(&api, &made.read_token, &["inbox"])), 0);
    let refused = client(&api, &made.read_token, &["cancel", "00", "--reason", "x"]);
    assert_eq!(code(&refused), 6);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("sign scope"));
    // Malformed ids are the caller's error (exit 4), and the node keeps serving.
    assert_eq!(code(&client(&api, &made.sign_token, &["status", "zz"])), 4);

    // The brand proposes; the supplier's node receives it; then it is killed (SIGKILL).
    let id = brand
        .service
        .create_session(one_signer(
            "Crash-safe contract",
            made.party,
            vec![5u8; 300_000],
        ))
        .unwrap();
    let sid = id.to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while code(&client(&api, &made.read_token, &["status", &sid])) != 0 {
        assert!(
            Instant::now() < deadline,
            "the supplier never received the proposal"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    assert!(
        std::fs::read_to_string(&s_key)
            .unwrap()
            .starts_with("signet-sm2-scalar:"),
        "the delegate's key file is SM2"
    );
    // Restarted, the node rebuilds the session from its journal; the delegate signs with the
    // SM2 key file.
    let (mut child, address) = spawn_node(&s_dir);
    brand.service.add_peer(&address).await.unwrap();
    let status = client(&api, &made.read_token, &["status", &sid]);
    assert_eq!(code(&status), 0, "the session survived the kill");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = client(
            &api,
            &made.sign_token,
            &["sign", &sid, "--delegate-key", s_key.to_str().unwrap()],
        );
        if code(&out) == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sign: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    until("the brand sees the session completed", || {
        brand.service.session(id).unwrap().status == "completed"
    })
    .await;
    let out = client(&api, &made.read_token, &["status", &sid]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "completed");
    // The metrics endpoint answers with the session counted.
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_reaches_routing_approvers_copies_deadline_documents_and_witnesses() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let mut config = NodeConfig::load(&b_dir).unwrap();
    config.tokens = vec![signet_node::service::config::TokenConfig {
        sha256: signet_node::service::init::token_hash("sign-token"),
        scope: "sign".into(),
    }];
    config.save(&b_dir).unwrap();
    let brand = start("Brand", &b_dir, &b_key).await;
    let mut others = Vec::new();
    for name in ["Supplier", "Auditor", "Observer"] {
        let (dir, key) = create(root.path(), name, &anchors);
        others.push(start(name, &dir, &key).await);
    }
    let [supplier, auditor, observer] = &others[..] else {
        unreachable!()
    };
    federate(&ca, &[&brand, supplier, auditor, observer]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(signet_node::api::serve(
        brand.service.clone(),
        listener,
        std::future::pending(),
    ));
    let contract = root.path().join("contract.pdf");
    std::fs::write(&contract, b"%PDF-1.7 supply agreement").unwrap();
    let annex = root.path().join("annex.md");
    std::fs::write(&annex, b"# Annex: prices").unwrap();
    let (s, a, o, w) = (
        supplier.party().to_string(),
        auditor.party().to_string(),
        observer.party().to_string(),
        ca.party().to_string(),
    );

    // Usage errors are caught before the node is asked: exit 2.
    for bad in [
        vec!["--to", "signet1nope"],
        vec!["--to", &s, "--approver", "x:1"],
        vec!["--to", &s, "--approver", &format!("{a}:first")],
        vec!["--to", &s, "--cc", "nobody"],
    ] {
        let mut args = vec!["send", "--title", "t", "--document"];
        args.push(contract.to_str().unwrap());
        args.extend(bad.iter().copied());
        let out = client(&api, "sign-token", &args);
        assert_eq!(
            code(&out),
            2,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let missing = client(
        &api,
        "sign-token",
        &[
            "send",
            "--title",
            "t",
            "--to",
            &s,
            "--document",
            "/nonexistent.pdf",
        ],
    );
    assert_eq!(code(&missing), 2);
    assert_eq!(
        brand
            .service
            .sessions_by_status()
            .unwrap()
            .values()
            .sum::<u64>() as usize,
        0
    );

    // The auditor approves first (order 0), then the supplier signs (order 1); the observer
    // gets a copy; the evidence must carry the CA's cosignature.
    let annex_arg = format!("{}=text/markdown", annex.display());
    let out = client(
        &api,
        "sign-token",
        &[
            "send",
            "--title",
            "Supply agreement",
            "--purpose",
            "procurement",
            "--to",
            &format!("{s}:1"),
            "--approver",
            &format!("{a}:0"),
            "--cc",
            &o,
            "--document",
            contract.to_str().unwrap(),
            "--document",
            &annex_arg,
            "--deadline-days",
            "3",
            "--witness",
            &w,
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sid = v["id"].as_str().unwrap().to_string();
    let id = sid.parse().unwrap();

    let out = client(&api, "sign-token", &["status", &sid]);
    assert_eq!(code(&out), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let participants: Vec<(String, String, u64)> = v["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["party"].as_str().unwrap().to_string(),
                p["role"].as_str().unwrap().to_string(),
                p["order"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(participants.len(), 3, "{v}");
    assert!(participants.contains(&(s.clone(), "signer".into(), 1)));
    assert!(participants.contains(&(a.clone(), "approver".into(), 0)));
    assert!(participants.contains(&(o.clone(), "copy".into(), 0)));
    assert_eq!(v["documents"].as_array().unwrap().len(), 2);
    assert_eq!(v["witnesses"], serde_json::json!([w]));
    let in_three_days = now().plus(3 * 86_400).to_string();
    assert_eq!(
        v["deadline"].as_str().unwrap()[..10],
        in_three_days[..10],
        "{v}"
    );
    let waiting: Vec<&str> = v["waiting_for"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(waiting.contains(&a.as_str()), "{v}");

    // The supplier may not sign before the approval (once it has the documents, the
    // protocol refuses the signature as out of turn).
    let delegate = signet_node::keyfile::read(&supplier.delegate_key).unwrap();
    until("the supplier is refused as out of turn", || {
        matches!(
            signet_node::person::sign_as(&supplier.service, id, &delegate),
            Err(signet_node::service::ServiceError::Action(_))
        )
    })
    .await;
    until("the auditor approved", || {
        auditor.service.approve(id).is_ok()
    })
    .await;
    until("the supplier signed", || {
        signet_node::person::sign_as(&supplier.service, id, &delegate).is_ok()
    })
    .await;
    until("completed at the brand", || {
        brand.service.session(id).unwrap().status == "completed"
    })
    .await;
    until("the copy recipient sees it completed", || {
        observer
            .service
            .session(id)
            .is_ok_and(|s| s.status == "completed")
    })
    .await;
    assert!(
        observer.service.approve(id).is_err(),
        "a copy recipient never acts"
    );
}

/// A one-signer session from `brand` to `supplier`, signed by the supplier's delegate and
/// completed at the brand.
async fn complete_one(brand: &support::Node, supplier: &support::Node, title: &str) -> String {
    let id = brand
        .service
        .create_session(NewSession {
            title: title.into(),
            purpose: "procurement".into(),
            participants: vec![NewParticipant {
                party: supplier.party(),
                role: Role::Signer,
                order: 0,
            }],
            documents: vec![NewDocument {
                name: "c.pdf".into(),
                media_type: "application/pdf".into(),
                source: DocumentSource::Bytes(title.as_bytes().to_vec()),
                pdf_seals: None,
            }],
            deadline_days: 30,
            algorithms: None,
            witnesses: vec![],
        })
        .unwrap();
    let delegate = signet_node::keyfile::read(&supplier.delegate_key).unwrap();
    until(
        "the supplier signed",
        || match signet_node::person::sign_as(&supplier.service, id, &delegate) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("sign: {e}");
                false
            }
        },
    )
    .await;
    until("completed at the brand", || {
        brand.service.session(id).unwrap().status == "completed"
    })
    .await;
    id.to_string()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_seal_attest_log_and_node_keys_then_sign_verify_and_restart() {
    use signet_protocol::bundle::{Outcome, verify_bundle};
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let mut config = NodeConfig::load(&s_dir).unwrap();
    config.tokens = vec![signet_node::service::config::TokenConfig {
        sha256: signet_node::service::init::token_hash("admin-token"),
        scope: "admin".into(),
    }];
    config.save(&s_dir).unwrap();
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(signet_node::api::serve(
        supplier.service.clone(),
        listener,
        async move {
            let _ = api_stopped.await;
        },
    ));
    let before = complete_one(&brand, &supplier, "Signed with the first seal").await;

    let keys = s_dir.join("keys");
    let old_seal = std::fs::read(keys.join("seal-contract.key")).unwrap();
    let mut length = supplier.service.own_key_log().unwrap().len() as u64;
    for key in ["seal-contract", "attest", "log"] {
        let out = client(&api, "admin-token", &["rotate", "--key", key]);
        assert_eq!(
            code(&out),
            0,
            "{key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        length += 2; // add-key, retire-key
        assert_eq!(v["key_log_length"], length, "{v}");
        assert_eq!(v["key"], key);
        assert_eq!(mode(&keys.join(format!("{key}.key"))), 0o600);
    }
    let new_seal = std::fs::read(keys.join("seal-contract.key")).unwrap();
    assert_ne!(old_seal, new_seal);
    let retired: Vec<_> = std::fs::read_dir(keys.join("retired"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(retired.len(), 3, "{retired:?}");
    assert!(retired.iter().all(|p| mode(p) == 0o600));
    assert!(
        retired
            .iter()
            .any(|p| std::fs::read(p).unwrap() == old_seal)
    );
    assert!(
        std::fs::read_dir(&keys).unwrap().all(|e| !e
            .unwrap()
            .path()
            .to_string_lossy()
            .ends_with(".pending"))
    );
    // The node key is declared now, beside the current one, and taken at the next start; a
    // second rotation before that is refused. An unknown key is a usage error.
    let old_node = std::fs::read(keys.join("node.key")).unwrap();
    let out = client(&api, "admin-token", &["rotate", "--key", "node"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["restart_required"], true, "{v}");
    length += 1; // add-key
    assert_eq!(v["key_log_length"], length, "{v}");
    assert_eq!(mode(&keys.join("node.key.pending")), 0o600);
    let again = client(&api, "admin-token", &["rotate", "--key", "node"]);
    assert_eq!(code(&again), 4);
    assert!(String::from_utf8_lossy(&again.stderr).contains("restart"));
    assert_eq!(
        code(&client(&api, "admin-token", &["rotate", "--key", "x"])),
        2
    );

    // The brand learns the new key log and the re-issued mandate by gossip; the supplier
    // signs with the new seal; both bundles verify offline.
    let after = complete_one(&brand, &supplier, "Signed with the second seal").await;
    let policy = NodeConfig::load(&b_dir).unwrap().trust_policy().unwrap();
    for (id, doc) in [
        (&before, &b"Signed with the first seal"[..]),
        (&after, &b"Signed with the second seal"[..]),
    ] {
        let bundle = brand.service.export_bundle(id.parse().unwrap()).unwrap();
        let report = verify_bundle(&bundle, &[doc], &policy, now());
        assert_eq!(report.outcome, Outcome::Valid, "{id}: {report:?}");
    }

    // Restarted, the supplier restores both sessions (signed with its old seal and node
    // key), takes the new node key as its identity and retires the old one.
    stop_api.send(()).unwrap();
    server.await.unwrap().unwrap();
    let (s_dir, s_key) = supplier.stop().await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    for id in [&before, &after] {
        let s = supplier.service.session(id.parse().unwrap()).unwrap();
        assert_eq!(s.status, "completed", "{id}");
    }
    length += 1; // retire-key of the old node key
    assert_eq!(supplier.service.own_key_log().unwrap().len() as u64, length);
    assert_ne!(std::fs::read(keys.join("node.key")).unwrap(), old_node);
    assert!(!keys.join("node.key.pending").exists());
    assert!(
        std::fs::read_dir(keys.join("retired"))
            .unwrap()
            .any(|e| std::fs::read(e.unwrap().path()).unwrap() == old_node)
    );
    // The brand reaches the supplier under its new identity (its new address given, as a
    // bootstrap list or the DHT would) and they sign again; what the old node key signed
    // still verifies.
    brand.service.add_peer(&supplier.address).await.unwrap();
    supplier.service.add_peer(&brand.address).await.unwrap();
    let third = complete_one(&brand, &supplier, "Signed after the node key rotation").await;
    for (id, doc) in [
        (&before, &b"Signed with the first seal"[..]),
        (&third, &b"Signed after the node key rotation"[..]),
    ] {
        let bundle = brand.service.export_bundle(id.parse().unwrap()).unwrap();
        let report = verify_bundle(&bundle, &[doc], &policy, now());
        assert_eq!(report.outcome, Outcome::Valid, "{id}: {report:?}");
    }
}

/// A CA and a `localhost` certificate it issued, written under `dir`: (ca.pem, cert.pem,
/// key.pem).
fn tls_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Supplier internal CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_reads_the_documents_over_tls_by_names_with_flags_anywhere() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    support::test_tokens(&s_dir);
    let (ca_pem, cert, key) = tls_files(root.path());
    let mut config = NodeConfig::load(&s_dir).unwrap();
    config.api_tls = Some(signet_node::service::config::ApiTls { cert, key });
    config.save(&s_dir).unwrap();
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(signet_node::api::serve(
        supplier.service.clone(),
        listener,
        std::future::pending(),
    ));
    let contract = b"%PDF-1.7 the supply agreement".to_vec();
    let id = brand
        .service
        .create_session(one_signer(
            "Supply agreement",
            supplier.party(),
            contract.clone(),
        ))
        .unwrap()
        .to_string();
    until("the supplier holds the document", || {
        supplier
            .service
            .session(id.parse().unwrap())
            .is_ok_and(|s| s.document_list.iter().all(|d| d.present))
    })
    .await;
    let ca_pem = ca_pem.to_str().unwrap();

    // The connection flags before the subcommand; the parties by name.
    let out = signet(&[
        "--api",
        &api,
        "--api-ca",
        ca_pem,
        "--token",
        "read-token",
        "status",
        &id,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("from     Brand"), "{text}");
    assert!(text.contains("[verified]"), "how the name is known: {text}");
    assert!(text.contains("Supplier (this party)"), "{text}");
    assert!(
        text.contains("supply agreement") || text.contains("contract.pdf"),
        "{text}"
    );
    // … or after it, or both when they agree; not both disagreeing.
    let out = signet(&[
        "inbox",
        "--api",
        &api,
        "--api-ca",
        ca_pem,
        "--token",
        "read-token",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Supply agreement"));
    let out = signet(&["--api", "https://localhost:1", "inbox", "--api", &api]);
    assert_eq!(code(&out), 2, "conflicting --api values are a usage error");
    let out = signet(&["--token", "x", "verify", "some.bundle"]);
    assert_eq!(
        code(&out),
        2,
        "connection flags are for commands that talk to a node"
    );

    // The document, fetched to read before signing, checked against the proposal's digest.
    let out = signet(&[
        "--api",
        &api,
        "--api-ca",
        ca_pem,
        "--token",
        "read-token",
        "documents",
        "list",
        &id,
    ]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("contract.pdf")
            && listing.contains(&signet_protocol::Digest::of(&contract).to_hex()),
        "{listing}"
    );
    let into = root.path().join("to-read");
    std::fs::create_dir(&into).unwrap();
    let out = signet(&[
        "--api",
        &api,
        "--api-ca",
        ca_pem,
        "--token",
        "read-token",
        "documents",
        "get",
        &id,
        "--out",
        into.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(into.join("contract.pdf")).unwrap(), contract);
    // An existing file is not replaced.
    let out = signet(&[
        "--api",
        &api,
        "--api-ca",
        ca_pem,
        "--token",
        "read-token",
        "documents",
        "get",
        &id,
        "--out",
        into.to_str().unwrap(),
    ]);
    assert_ne!(code(&out), 0);
    assert_eq!(std::fs::read(into.join("contract.pdf")).unwrap(), contract);

    // Without the CA that issued the node's certificate, nothing is sent.
    let out = signet(&["--api", &api, "--token", "read-token", "inbox"]);
    assert_eq!(code(&out), 5);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TLS"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `signet pdf`: the CA hands out its CA certificate and CRL without a token; a party seals
/// a PDF with its sign token (a read token is refused), the sealed file carries its
/// signature, and a file is never overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_seals_a_pdf_and_its_ca_hands_out_its_certificate_and_crl() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    support::test_tokens(&b_dir);
    let brand = start("Brand", &b_dir, &b_key).await;
    federate(&ca, &[&brand]).await;
    let ca_api = format!("http://{}", support::serve_api(&ca).await);
    let brand_api = format!("http://{}", support::serve_api(&brand).await);
    let dir = root.path();

    let ca_der = dir.join("ca.der");
    let out = client(
        &ca_api,
        "no-token",
        &["pdf", "ca-certificate", "--out", ca_der.to_str().unwrap()],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let certificate = std::fs::read(&ca_der).unwrap();
    assert_eq!(certificate, ca.service.pdf_ca_certificate().unwrap());
    let crl = dir.join("ca.crl");
    let out = client(
        &ca_api,
        "no-token",
        &["pdf", "crl", "--out", crl.to_str().unwrap()],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(&crl).unwrap().starts_with(&[0x30]));

    // A minimal one-page PDF.
    use lopdf::{Dictionary, Object};
    let mut doc = lopdf::Document::with_version("1.7");
    let pages = doc.new_object_id();
    let mut page = Dictionary::new();
    page.set("Type", Object::Name(b"Page".to_vec()));
    page.set("Parent", Object::Reference(pages));
    page.set(
        "MediaBox",
        Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
    );
    let page = doc.add_object(page);
    let mut tree = Dictionary::new();
    tree.set("Type", Object::Name(b"Pages".to_vec()));
    tree.set("Kids", Object::Array(vec![Object::Reference(page)]));
    tree.set("Count", Object::Integer(1));
    doc.objects.insert(pages, Object::Dictionary(tree));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages));
    let catalog = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(catalog));
    let input = dir.join("contract.pdf");
    doc.save(&input).unwrap();

    let sealed = dir.join("sealed.pdf");
    let seal = |token: &str, out: &Path| {
        client(
            &brand_api,
            token,
            &[
                "pdf",
                "seal",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    let out = seal("read-token", &sealed);
    assert_eq!(code(&out), 6, "a read token cannot seal");
    assert!(!sealed.exists());
    let out = seal("sign-token", &sealed);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let infos = signet_node::pdf::verify::signatures(&std::fs::read(&sealed).unwrap()).unwrap();
    assert_eq!(infos.len(), 1);
    assert!(infos[0].digest_matches && infos[0].signature_valid && infos[0].covers_whole_file);
    assert_eq!(infos[0].signer_legal_name.as_deref(), Some("Brand"));
    let out = seal("sign-token", &sealed);
    assert_eq!(code(&out), 2, "an existing file is not replaced");
    // A node that certified nobody has no CA certificate, and a request does not make one.
    let none = dir.join("brand-ca.der");
    let out = client(
        &brand_api,
        "no-token",
        &["pdf", "ca-certificate", "--out", none.to_str().unwrap()],
    );
    assert_eq!(code(&out), 4, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!none.exists());
    assert!(brand.service.pdf_ca_certificate().is_err());

    // `signet verify` of the PDF, offline: VALID only with the CA certificate and a current
    // CRL; without the CRL, INDETERMINATE; one changed signed byte, INVALID.
    let verify = |file: &Path, extra: &[&str]| {
        let mut args = vec!["verify", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        signet(&args)
    };
    let with_both = [
        "--ca",
        ca_der.to_str().unwrap(),
        "--crl",
        crl.to_str().unwrap(),
    ];
    let out = verify(&sealed, &with_both);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(code(&out), 0, "{text}");
    assert!(text.contains("the certificate is not revoked"), "{text}");
    let out = verify(&sealed, &with_both[..2]);
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stdout));
    let out = verify(&sealed, &[]);
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stdout));
    let mut bytes = std::fs::read(&sealed).unwrap();
    // The page's width, 595 points, becomes 596: still a PDF, no longer what was sealed.
    let at = bytes.windows(3).position(|w| w == b"595").unwrap();
    bytes[at + 2] = b'6';
    let tampered = dir.join("tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    let out = verify(&tampered, &with_both);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
}

/// `signet verify PDF --bundle`: the sealed PDF against its session's bundle. The original
/// revision is the bundle's document and the supplier's seal is the bundle's signer; the
/// brand's seal cannot be matched (the bundle does not identify its initiator), so the
/// verdict is INDETERMINATE, not VALID. A PDF of another contract fails the document check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_pdf_is_cross_checked_against_its_bundle() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let (ca_dir, ca_key) = create(dir, "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(dir, "Brand", &anchors);
    let (s_dir, s_key) = create(dir, "Supplier", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    let contract =
        signet_node::pdf::sample::contract("Supply agreement", &["Brand", "Supplier"], 2).unwrap();
    let id = brand
        .service
        .create_session(one_signer(
            "Supply agreement",
            supplier.party(),
            contract.clone(),
        ))
        .unwrap();
    let delegate = signet_node::keyfile::read(&supplier.delegate_key).unwrap();
    until("the supplier signs", || {
        signet_node::person::sign_as(&supplier.service, id, &delegate).is_ok()
    })
    .await;
    until("completion", || {
        brand
            .service
            .session(id)
            .is_ok_and(|s| s.status == "completed")
    })
    .await;
    until("certificates", || {
        [&brand, &supplier]
            .iter()
            .all(|n| n.service.seal_pdf(&contract, None).is_ok())
    })
    .await;
    let bundle = dir.join("contract.bundle");
    std::fs::write(&bundle, brand.service.export_bundle(id).unwrap()).unwrap();
    let ca_der = dir.join("ca.der");
    std::fs::write(&ca_der, ca.service.pdf_ca_certificate().unwrap()).unwrap();
    let sealed = supplier
        .service
        .seal_pdf(&brand.service.seal_pdf(&contract, None).unwrap(), None)
        .unwrap();
    let pdf = dir.join("sealed.pdf");
    std::fs::write(&pdf, &sealed).unwrap();
    let anchor = format!("{}=Verifier CA", ca.party());
    let check = |file: &Path| {
        signet(&[
            "verify",
            file.to_str().unwrap(),
            "--ca",
            ca_der.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--anchor",
            &anchor,
        ])
    };
    let out = check(&pdf);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(code(&out), 3, "{text}");
    assert!(
        text.contains("VALID the PDF before its seals is the bundle's document"),
        "{text}"
    );
    assert!(
        text.contains("VALID Seal2") && text.contains("is the bundle's signer"),
        "{text}"
    );
    assert!(text.contains("INDETERMINATE Seal1"), "{text}");
    // Another contract, sealed the same way: not the bundle's document.
    let other = signet_node::pdf::sample::contract("Another agreement", &["Brand"], 1).unwrap();
    let other_pdf = dir.join("other.pdf");
    std::fs::write(&other_pdf, brand.service.seal_pdf(&other, None).unwrap()).unwrap();
    let out = check(&other_pdf);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(code(&out), 1, "{text}");
    assert!(
        text.contains("INVALID the PDF before its seals is the bundle's document"),
        "{text}"
    );
}

/// `signet keygen` writes a person's key file, owner-only, and prints only its public key, in
/// the form `signet delegations add --public-key` takes; a party made with `signet init
/// --attest-algorithm sm2` gives that person a mandate signed with its SM2 attest key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_makes_a_person_key_that_an_sm2_attesting_party_mandates() {
    use signet_protocol::keylog::LogKey;
    let root = tempfile::tempdir().unwrap();
    let person = root.path().join("wang.key");
    let out = signet(&[
        "keygen",
        "--algorithm",
        "sm2",
        "--out",
        person.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&person), 0o600);
    let printed = String::from_utf8(out.stdout).unwrap();
    let printed = printed.trim_end();
    let secret = signet_node::keyfile::read_log_key(&person).unwrap();
    assert_eq!(printed, secret.public_key().to_string());
    assert!(
        matches!(LogKey::from_text(printed), Ok(LogKey::Sm2(_))),
        "{printed}"
    );
    // Nothing secret is printed: the file's hex appears on neither stream.
    let file = std::fs::read_to_string(&person).unwrap();
    let scalar = file.trim_end().strip_prefix("signet-sm2-scalar:").unwrap();
    assert!(!printed.contains(scalar));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(scalar));
    // An existing key file is never replaced.
    let again = signet(&["keygen", "--out", person.to_str().unwrap()]);
    assert_eq!(code(&again), 2);
    assert_eq!(std::fs::read_to_string(&person).unwrap(), file);
    // Ed25519 is the default: 64 hex digits.
    let ed = root.path().join("li.key");
    let out = signet(&["--json", "keygen", "--out", ed.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["algorithm"], "ed25519");
    assert_eq!(v["public_key"].as_str().unwrap().len(), 64);
    assert_eq!(mode(&ed), 0o600);

    // A party whose attest key is SM2.
    let dir = root.path().join("acme");
    let out = signet(&[
        "--json",
        "init",
        "--dir",
        dir.to_str().unwrap(),
        "--name",
        "Acme",
        "--registration",
        test_uscc("Acme").number(),
        "--delegate-key",
        root.path().join("acme-delegate.key").to_str().unwrap(),
        "--next-root-key",
        root.path().join("acme-next-root.key").to_str().unwrap(),
        "--attest-algorithm",
        "sm2",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--api",
        "127.0.0.1:0",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let attest_file = std::fs::read_to_string(dir.join("keys").join("attest.key")).unwrap();
    assert!(attest_file.starts_with("signet-sm2-scalar:"));
    assert_eq!(mode(&dir.join("keys").join("attest.key")), 0o600);
    support::test_tokens(&dir);
    let acme = start("Acme", &dir, &root.path().join("acme-delegate.key")).await;
    let api = format!("http://{}", support::serve_api(&acme).await);
    let out = client(
        &api,
        "admin-token",
        &[
            "delegations",
            "add",
            "--name",
            "Wang",
            "--public-key",
            printed,
            "--purpose",
            "procurement",
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["delegate"]["key"], printed, "{v}");
    let id = v["id"].as_str().unwrap();
    let mandate = acme
        .service
        .attestations()
        .unwrap()
        .into_iter()
        .find(|a| a.payload().id.to_string() == id)
        .unwrap();
    assert_eq!(
        mandate.algorithm(),
        signet_protocol::cose::Algorithm::Sm2Sm3
    );
    // `signet rotate --key attest` keeps the key SM2; `--algorithm` changes it, and is
    // refused for any other key.
    // An SM2 key is `sm2:` and its 33-byte compressed point; an Ed25519 one its 32 bytes.
    for (algorithm, prefix, len) in [(None, "sm2:", 70), (Some("ed25519"), "", 64)] {
        let mut args = vec!["rotate", "--key", "attest"];
        args.extend(algorithm.iter().flat_map(|a| ["--algorithm", a]));
        let out = client(&api, "admin-token", &args);
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let public = v["public_key"].as_str().unwrap();
        assert!(public.starts_with(prefix) && public.len() == len, "{v}");
    }
    let attest_file = std::fs::read_to_string(dir.join("keys").join("attest.key")).unwrap();
    assert!(attest_file.starts_with("signet-ed25519-seed:"));
    let out = client(
        &api,
        "admin-token",
        &["rotate", "--key", "log", "--algorithm", "sm2"],
    );
    assert_eq!(code(&out), 4, "{}", String::from_utf8_lossy(&out.stderr));
}
