//! A party's own authority through the HTTP API: its seals, the seal mandates it gives and
//! revokes (a new delegate signs a real session; once revoked, they cannot), endorsements
//! and accreditations it issues, and the inbox and session paging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use signet_node::keyfile;
use signet_protocol::SecretKey;
use support::{brand_and_supplier, http, one_signer, serve_api, until};

async fn get(addr: &str, path: &str) -> Value {
    let (status, _, body) = http(addr, "GET", path, Some("read-token"), "").await;
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Signs session `id` over the API as the person holding `person`: the challenge comes from
/// the node, the proof is made here. (status, body) of the last call.
async fn sign_over_api(addr: &str, id: &str, person: &SecretKey) -> (u16, Value) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    for _ in 0..100 {
        let (status, _, body) = http(
            addr,
            "GET",
            &format!("/v1/sessions/{id}/intent?method=software-key"),
            Some("sign-token"),
            "",
        )
        .await;
        let offer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if status != 200 {
            // Until the document has been fetched from the initiator's node.
            if offer["title"] == "documents not fetched yet" {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            return (status, offer);
        }
        let bytes = b64.decode(offer["challenge"].as_str().unwrap()).unwrap();
        let challenge: signet_protocol::session::IntentChallenge =
            signet_protocol::codec::decode(&bytes, &signet_protocol::codec::Limits::DEFAULT)
                .unwrap();
        let proof = signet_node::person::prove_intent(&challenge, person).unwrap();
        return post(
            addr,
            &format!("/v1/sessions/{id}/sign"),
            &json!({ "intent": b64.encode(proof) }),
        )
        .await;
    }
    panic!("the documents never arrived");
}

async fn post(addr: &str, path: &str, body: &Value) -> (u16, Value) {
    // Mandates and attestations of others need admin scope (it includes signing).
    let (status, _, body) = http(addr, "POST", path, Some("admin-token"), &body.to_string()).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seals_mandates_endorsements_and_the_inbox_through_the_api() {
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let api = serve_api(&supplier).await;

    // Seals come from the key event log: the contract and the company seal, both valid.
    let seals = get(&api, "/v1/seals").await;
    let seals = seals["seals"].as_array().unwrap().clone();
    assert_eq!(seals.len(), 2);
    assert!(seals.iter().all(|s| s["valid"] == true));
    let contract_seal = seals.iter().find(|s| s["kind"] == "contract").unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();

    // The mandate `init` gave the first signatory.
    let mandates = get(&api, "/v1/delegations").await;
    assert_eq!(mandates["delegations"].as_array().unwrap().len(), 1);
    assert_eq!(mandates["delegations"][0]["state"], "active");

    // A second signatory: their key stays with them; the node gets the public key only.
    let person = SecretKey::from_seed(&[42; 32]);
    let person_file = root.path().join("second-signatory.key");
    keyfile::write(&person_file, &person, keyfile::Replace::No).unwrap();
    let mandate = json!({
        "name": "Second signatory",
        "key": person.public_key().to_string(),
        "seals": [contract_seal],
        "purposes": ["procurement"],
        "counterparties": [brand.party().to_string()],
        "days": 90,
    });
    let (status, _, _) = http(
        &api,
        "POST",
        "/v1/delegations",
        Some("read-token"),
        &mandate.to_string(),
    )
    .await;
    assert_eq!(status, 403, "read scope cannot give mandates");
    let mut bad = mandate.clone();
    bad["key"] = json!("not hex");
    assert_eq!(post(&api, "/v1/delegations", &bad).await.0, 400);
    bad = mandate.clone();
    bad["seals"] = json!([person.public_key().to_string()]);
    let (status, problem) = post(&api, "/v1/delegations", &bad).await;
    assert_eq!(status, 422, "not a seal of this party");
    assert!(problem["detail"].as_str().unwrap().contains("not a seal"));
    bad = mandate.clone();
    bad["purposes"] = json!([]);
    assert_eq!(post(&api, "/v1/delegations", &bad).await.0, 422);
    let (status, given) = post(&api, "/v1/delegations", &mandate).await;
    assert_eq!(status, 201, "{given}");
    assert_eq!(given["kind"], "Delegation");
    assert_eq!(given["delegate"]["name"], "Second signatory");
    assert_eq!(given["counterparties"][0], brand.party().to_string());
    let mandate_id = given["id"].as_str().unwrap().to_string();
    // An SM2 person: `sm2:` and the compressed key; an ESP256 key is no person's key.
    let sm2_person = signet_protocol::sm2::Sm2SecretKey::from_bytes(&[43; 32])
        .unwrap()
        .public_key();
    let mut sm2_mandate = mandate.clone();
    sm2_mandate["name"] = json!("SM2 signatory");
    sm2_mandate["key"] = json!(format!("sm2:{sm2_person}"));
    let (status, given) = post(&api, "/v1/delegations", &sm2_mandate).await;
    assert_eq!(status, 201, "{given}");
    assert_eq!(given["delegate"]["key"], format!("sm2:{sm2_person}"));
    bad = mandate.clone();
    let esp256 = p256::ecdsa::SigningKey::from_slice(&[44; 32]).unwrap();
    let esp256 = signet_protocol::keylog::EcdsaP256Key::from_verifying_key(esp256.verifying_key());
    bad["key"] = json!(signet_protocol::keylog::LogKey::EcdsaP256(esp256).to_string());
    let (status, problem) = post(&api, "/v1/delegations", &bad).await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("a person's key is Ed25519 or SM2"),
        "{problem}"
    );
    assert_eq!(
        get(&api, "/v1/delegations").await["delegations"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // The brand learns the mandate by gossip; the second signatory signs a real session.
    until("the brand learns the new mandate", || {
        brand
            .service
            .attestations()
            .unwrap()
            .iter()
            .any(|a| a.payload().id.to_string() == mandate_id)
    })
    .await;
    let first = brand
        .service
        .create_session(one_signer(
            "Supply agreement",
            supplier.party(),
            b"first".to_vec(),
        ))
        .unwrap();
    until("the session reaches the supplier's inbox", || {
        supplier.service.session(first).is_ok()
    })
    .await;
    let inbox = get(&api, "/v1/inbox").await;
    assert_eq!(inbox["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(inbox["sessions"][0]["id"], first.to_string());
    let signed = sign_over_api(&api, &first.to_string(), &person).await;
    assert_eq!(signed.0, 200, "{}", signed.1);
    until("both see the session completed", || {
        brand.service.session(first).unwrap().status == "completed"
            && supplier.service.session(first).unwrap().status == "completed"
    })
    .await;
    assert!(
        get(&api, "/v1/inbox").await["sessions"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Revoked, the mandate no longer lets them sign.
    let (status, _) = post(
        &api,
        &format!("/v1/attestations/{mandate_id}/revoke"),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 201);
    let mandates = get(&api, "/v1/delegations").await;
    let revoked = mandates["delegations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == mandate_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(revoked["state"], "revoked");
    let second = brand
        .service
        .create_session(one_signer(
            "Supply agreement",
            supplier.party(),
            b"second".to_vec(),
        ))
        .unwrap();
    until("the second session arrives", || {
        supplier.service.session(second).is_ok()
    })
    .await;
    let refused = sign_over_api(&api, &second.to_string(), &person).await;
    // The node looks for a mandate the verifier will accept before it signs: there is none.
    assert_eq!(refused.0, 403, "{}", refused.1);
    let detail = refused.1["detail"].as_str().unwrap();
    assert!(detail.contains("delegation was revoked"), "{detail}");

    // Endorsements and accreditations of others; not of oneself.
    let brand_id = brand.party().to_string();
    let endorse = json!({
        "subject": brand_id,
        "legal_name": "Brand",
        "registration": signet_protocol::testkit::test_uscc("Brand").number(),
        "relationship": "customer since 2019",
    });
    let (status, e) = post(&api, "/v1/attestations/endorsement", &endorse).await;
    assert_eq!(status, 201, "{e}");
    assert_eq!(e["kind"], "Endorsement");
    assert_eq!(e["subject"], brand_id.as_str());
    let mut own = endorse.clone();
    own["subject"] = json!(supplier.party().to_string());
    assert_eq!(
        post(&api, "/v1/attestations/endorsement", &own).await.0,
        422
    );
    own = endorse.clone();
    own["registration"] = json!("91350100M000100Y4X");
    assert_eq!(
        post(&api, "/v1/attestations/endorsement", &own).await.0,
        422
    );
    let (status, a) = post(
        &api,
        "/v1/attestations/accreditation",
        &json!({ "subject": brand_id, "may_accredit": false }),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["kind"], "Accreditation");

    // Paging and filters over the two sessions.
    let page = get(&api, "/v1/sessions?limit=1").await;
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1);
    let next = page["next"].as_str().unwrap().to_string();
    let rest = get(&api, &format!("/v1/sessions?limit=1&after={next}")).await;
    assert_eq!(rest["sessions"].as_array().unwrap().len(), 1);
    assert!(rest["next"].is_null());
    assert_ne!(rest["sessions"][0]["id"], page["sessions"][0]["id"]);
    let completed = get(&api, "/v1/sessions?status=completed&side=participant").await;
    assert_eq!(completed["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(completed["sessions"][0]["id"], first.to_string());
    for bad in [
        "/v1/sessions?limit=0",
        "/v1/sessions?limit=501",
        "/v1/sessions?side=sideways",
        "/v1/sessions?status=signed",
        "/v1/sessions?after=zz",
        "/v1/sessions?colour=red",
    ] {
        let (status, head, _) = http(&api, "GET", bad, Some("read-token"), "").await;
        assert_eq!(status, 400, "{bad}");
        assert!(head.contains("application/problem+json"));
    }
}
