//! An insider with an API token, or without one: what each token may not do.

use serde_json::json;

use crate::support::{http, serve_api};
use crate::world::{World, snapshot};

/// The admin acts a node offers, with a body each (valid or not: authorisation comes first).
fn admin_acts(world: &World) -> Vec<(&'static str, String, serde_json::Value)> {
    let subject = world.supplier.party().to_string();
    vec![
        (
            "POST",
            "/v1/delegations".to_string(),
            json!({"name": "Clerk", "public_key": "00".repeat(32), "purposes": ["procurement"]}),
        ),
        (
            "POST",
            "/v1/attestations/identity".to_string(),
            json!({"subject": subject, "legal_name": "X", "registration": "91350100M000100Y43", "legal_representative": "Y"}),
        ),
        (
            "POST",
            "/v1/attestations/accreditation".to_string(),
            json!({"subject": subject, "may_accredit": true}),
        ),
        (
            "POST",
            "/v1/attestations/endorsement".to_string(),
            json!({"subject": subject, "legal_name": "X", "registration": "91350100M000100Y43", "relationship": "none"}),
        ),
        (
            "POST",
            format!("/v1/attestations/{}/revoke", "00".repeat(16)),
            json!({}),
        ),
        (
            "POST",
            "/v1/keylog/rotate".to_string(),
            json!({"key": "attest"}),
        ),
        (
            "POST",
            "/v1/keylogs/import".to_string(),
            json!({"events": []}),
        ),
        (
            "POST",
            "/v1/attestations/import".to_string(),
            json!({"attestation": ""}),
        ),
        (
            "POST",
            "/v1/peers".to_string(),
            json!({"address": "/ip4/127.0.0.1/tcp/1"}),
        ),
    ]
}

/// Every admin act with `token` gets `status`; the node changes nothing and keeps serving.
async fn admin_acts_refused(token: Option<&str>, status: u16) {
    let world = World::new().await;
    let api = serve_api(&world.brand).await;
    let before = snapshot(&world.brand);
    let log = world.brand.service.own_key_log().unwrap();
    for (method, path, body) in admin_acts(&world) {
        let (got, _, answer) = http(&api, method, &path, token, &body.to_string()).await;
        assert_eq!(got, status, "{method} {path} with {token:?}: {answer}");
    }
    assert_eq!(snapshot(&world.brand), before);
    assert_eq!(
        world.brand.service.own_key_log().unwrap(),
        log,
        "a key was rotated"
    );
    world.still_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a40_api_without_a_token() {
    admin_acts_refused(None, 401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a41_api_with_a_wrong_token() {
    admin_acts_refused(Some("not-a-token"), 401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a42_read_only_token_attempting_admin_acts() {
    admin_acts_refused(Some("read-token"), 403).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a43_sign_only_token_attempting_admin_acts() {
    // A signing clerk's token cannot give itself (or anyone) a mandate, attest, revoke or
    // rotate: only the admin token can.
    admin_acts_refused(Some("sign-token"), 403).await;
}
