//! Sessions that require national algorithms (spec §8.2.5) between real nodes: a brand whose
//! policy requires them (`[policy] require_national_algorithms`) proposes; a supplier whose
//! seals are SM2 signs, and the bundle verifies VALID with every seal signature SM2 and the
//! document's SM3 digest checked; a supplier whose seals are Ed25519 is refused, naming the
//! requirement, before anything is signed or stored; a supplier without an SM2 PDF key is
//! refused rather than sealing with ECDSA; and the brand refuses a proposal that does not
//! require national algorithms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::keyfile;
use signet_node::service::config::NodeConfig;
use signet_node::service::{
    DocumentSource, NewDocument, NewParticipant, NewSession, ServiceError, now,
};
use signet_protocol::bundle::{Outcome, verify_bundle};
use signet_protocol::cose::Algorithm;
use signet_protocol::error::ErrorCode;
use signet_protocol::session::{ActionError, Algorithms, Role, SessionId};
use signet_protocol::sm2::Sm3Digest;
use support::{Node, create, create_sm2, federate, start, until};

fn sign(node: &Node, id: SessionId) -> Result<(), ServiceError> {
    let key = keyfile::read(&node.delegate_key).unwrap();
    signet_node::person::sign_as(&node.service, id, &key)
}

/// A session `from` proposes in which `to` signs first and `from` second, over `bytes`
/// (sealed as a PDF by every signer when `pdf`), requiring `algorithms`.
fn propose(
    from: &Node,
    to: &Node,
    bytes: &[u8],
    pdf: bool,
    algorithms: Option<Algorithms>,
) -> Result<SessionId, ServiceError> {
    from.service.create_session(NewSession {
        title: format!("Supply agreement for {}", to.name),
        purpose: "procurement".into(),
        participants: vec![
            NewParticipant {
                party: to.party(),
                role: Role::Signer,
                order: 0,
            },
            NewParticipant {
                party: from.party(),
                role: Role::Signer,
                order: 1,
            },
        ],
        documents: vec![NewDocument {
            name: if pdf { "supply.pdf" } else { "supply.txt" }.into(),
            media_type: if pdf { "application/pdf" } else { "text/plain" }.into(),
            source: DocumentSource::Bytes(bytes.to_vec()),
            pdf_seals: pdf.then(Vec::new),
        }],
        deadline_days: 30,
        algorithms,
        witnesses: vec![],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_policy_that_requires_national_algorithms_is_enforced_by_every_node() {
    let root = tempfile::tempdir().unwrap();
    let (v_dir, v_key) = create(root.path(), "Verifier", &[]);
    let verifier = start("Verifier", &v_dir, &v_key).await;
    let anchors = [(verifier.party(), "Verifier")];
    // The brand seals with SM2 and its policy requires national algorithms.
    let (b_dir, b_key) = create_sm2(root.path(), "Brand", &anchors);
    let policy = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["policy", "national", "--dir", b_dir.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(policy(&[]).contains("not required"));
    assert!(policy(&["--require"]).contains("required"));
    assert!(
        NodeConfig::load(&b_dir)
            .unwrap()
            .policy
            .require_national_algorithms
    );
    assert_eq!(
        policy(&[]).trim(),
        "National algorithms required",
        "the setting is kept in signet.toml"
    );
    let (s_dir, s_key) = create_sm2(root.path(), "SM2 Supplier", &anchors);
    let (e_dir, e_key) = create(root.path(), "Ed25519 Supplier", &anchors);
    support::test_tokens(&e_dir);
    let brand = start("Brand", &b_dir, &b_key).await;
    let sm2_supplier = start("SM2 Supplier", &s_dir, &s_key).await;
    let ed_supplier = start("Ed25519 Supplier", &e_dir, &e_key).await;
    federate(&verifier, &[&brand, &sm2_supplier, &ed_supplier]).await;

    // 1. The brand proposes without asking: its policy makes the session national, and the
    //    document carries its SM3 digest. The SM2 supplier sees the requirement and signs.
    let contract = b"Supply agreement: 10,000 units, national algorithms".to_vec();
    let id = propose(&brand, &sm2_supplier, &contract, false, None).unwrap();
    let view = brand.service.session(id).unwrap();
    assert_eq!(view.algorithms.as_deref(), Some("national"));
    let sm3 = Sm3Digest::of(&contract).to_hex();
    assert_eq!(view.document_list[0].sm3.as_deref(), Some(sm3.as_str()));
    until("the proposal to reach the SM2 supplier", || {
        sm2_supplier
            .service
            .session(id)
            .is_ok_and(|s| s.document_list[0].present)
    })
    .await;
    assert_eq!(
        sm2_supplier
            .service
            .session(id)
            .unwrap()
            .algorithms
            .as_deref(),
        Some("national")
    );
    until("the SM2 supplier to sign", || {
        sign(&sm2_supplier, id).is_ok()
    })
    .await;
    until("the brand to sign", || sign(&brand, id).is_ok()).await;
    until("the session to complete at both", || {
        [&brand, &sm2_supplier]
            .iter()
            .all(|n| n.service.session(id).is_ok_and(|s| s.status == "completed"))
    })
    .await;
    let bundle = brand.service.export_bundle(id).unwrap();
    let policy = NodeConfig::load(&b_dir).unwrap().trust_policy().unwrap();
    let report = verify_bundle(&bundle, &[&contract], &policy, now());
    assert!(
        report.is_valid(),
        "{:#?}",
        report.failures().collect::<Vec<_>>()
    );
    let algorithms: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.name == "signature.algorithms")
        .collect();
    assert_eq!(algorithms.len(), 2, "{algorithms:?}");
    assert!(algorithms.iter().all(|c| c.outcome == Outcome::Valid));
    for record in support::signature_records(&bundle) {
        assert_eq!(record.seal_signature.algorithm(), Algorithm::Sm2Sm3);
    }
    // The same bundle with another document: the SM3 (and SHA-256) check fails.
    let report = verify_bundle(&bundle, &[b"another contract"], &policy, now());
    assert_eq!(report.outcome, Outcome::Invalid);

    // 2. An Ed25519-sealed supplier cannot sign a national session: refused with the
    //    requirement named, and nothing signed, sent or stored.
    let id = propose(&brand, &ed_supplier, b"Second agreement", false, None).unwrap();
    until("the proposal to reach the Ed25519 supplier", || {
        ed_supplier
            .service
            .session(id)
            .is_ok_and(|s| s.document_list[0].present)
    })
    .await;
    let err = sign(&ed_supplier, id).unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::Action(ActionError::SealAlgorithm(Algorithms::National))
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("national algorithms"), "{err}");
    let view = ed_supplier.service.session(id).unwrap();
    assert_eq!(view.status, "open");
    assert!(view.acted.is_empty());

    // 3. A national session whose PDF the SM2 supplier would seal without an SM2 PDF key:
    //    refused rather than sealed with ECDSA; nothing signed.
    let pdf =
        signet_node::pdf::sample::contract("National PDF", &["SM2 Supplier", "Brand"], 1).unwrap();
    let id = propose(&brand, &sm2_supplier, &pdf, true, None).unwrap();
    until("the PDF to reach the SM2 supplier", || {
        sm2_supplier
            .service
            .session(id)
            .is_ok_and(|s| s.document_list[0].present)
    })
    .await;
    let err = sign(&sm2_supplier, id).unwrap_err();
    assert!(
        matches!(err, ServiceError::NationalAlgorithms(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("SM2 PDF key"), "{err}");
    assert!(sm2_supplier.service.session(id).unwrap().acted.is_empty());

    // 4. The brand refuses a proposal that does not require national algorithms.
    let id = propose(&ed_supplier, &brand, b"An ordinary agreement", false, None).unwrap();
    until("the brand to refuse the ordinary proposal", || {
        brand.service.refusals().iter().any(|r| {
            r.session == Some(id)
                && r.code == ErrorCode::InvalidProposal
                && r.reason.contains("requires national algorithms")
        })
    })
    .await;
    assert!(brand.service.session(id).is_err());
    // Asked for over the API, the Ed25519 supplier's proposal is national, and the brand
    // takes it; an unknown requirement is a bad request that creates nothing.
    let api = support::serve_api(&ed_supplier).await;
    let body = |algorithms: &str| {
        serde_json::json!({
            "title": "A national agreement",
            "purpose": "procurement",
            "participants": [{"party": brand.party().to_string(), "role": "signer", "order": 0}],
            "documents": [{"name": "a.txt", "media_type": "text/plain", "content": "bmF0aW9uYWw="}],
            "algorithms": algorithms,
        })
        .to_string()
    };
    let before = ed_supplier.service.sessions_by_status().unwrap();
    let (status, _, answer) = support::http(
        &api,
        "POST",
        "/v1/sessions",
        Some("sign-token"),
        &body("quantum"),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("unknown algorithms"), "{answer}");
    assert_eq!(ed_supplier.service.sessions_by_status().unwrap(), before);
    let (status, _, answer) = support::http(
        &api,
        "POST",
        "/v1/sessions",
        Some("sign-token"),
        &body("national"),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let id: SessionId = serde_json::from_str::<serde_json::Value>(&answer).unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, _, view) = support::http(
        &api,
        "GET",
        &format!("/v1/sessions/{id}"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let view: serde_json::Value = serde_json::from_str(&view).unwrap();
    assert_eq!(view["algorithms"], "national", "{view}");
    assert_eq!(
        view["document_list"][0]["sm3"],
        Sm3Digest::of(b"national").to_hex().as_str()
    );
    until("the brand to receive the national proposal", || {
        brand.service.session(id).is_ok()
    })
    .await;
}
