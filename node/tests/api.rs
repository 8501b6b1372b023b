//! The HTTP API over a running node: tokens and scopes, problem documents for every error,
//! the OpenAPI document, metrics, and a session created and listed through it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::service::config::NodeConfig;
use support::{create, federate, http, serve_api, serve_service, start, test_tokens, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_checks_tokens_answers_with_problems_and_runs_a_session() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    test_tokens(&b_dir);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;

    let addr = serve_api(&brand).await;

    let (status, head, body) = http(&addr, "GET", "/openapi.json", None, "").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/sessions"].is_object());
    assert!(head.contains("application/json"));

    // No token, a wrong token, a read token for a change: problem documents.
    for (token, want) in [(None, 401), (Some("wrong"), 401), (Some("read-token"), 403)] {
        let (status, head, body) = http(&addr, "POST", "/v1/sessions", token, "{}").await;
        assert_eq!(status, want);
        assert!(head.contains("application/problem+json"));
        let p: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(p["status"], want);
    }
    // Malformed bodies and ids, unknown endpoints and sessions: problem documents too.
    let (status, head, _) = http(
        &addr,
        "POST",
        "/v1/sessions",
        Some("sign-token"),
        "{not json",
    )
    .await;
    assert_eq!(status, 400);
    assert!(head.contains("application/problem+json"));
    let (status, _, _) = http(
        &addr,
        "POST",
        "/v1/sessions",
        Some("sign-token"),
        r#"{"title":"t","purpose":"p","participants":[],"documents":[],"extra":1}"#,
    )
    .await;
    assert!(status == 400 || status == 422, "{status}");
    let (status, _, _) = http(&addr, "GET", "/v1/sessions/nothex", Some("read-token"), "").await;
    assert_eq!(status, 400);
    let (status, _, _) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{}", "ab".repeat(32)),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 404);
    let (status, head, _) = http(&addr, "GET", "/v1/nowhere", Some("read-token"), "").await;
    assert_eq!(status, 404);
    assert!(head.contains("application/problem+json"));

    // PDF seals in a proposal: a placement for a party that is not a signer is refused with
    // the proposal rule; a valid one is taken, and the document shows it is sealed.
    let sealed = |placements: serde_json::Value| {
        serde_json::json!({
            "title": "Sealed contract",
            "purpose": "procurement",
            "participants": [{"party": supplier.party().to_string()}],
            "documents": [{"name": "c.pdf", "content": "JVBERi0xLjc=", "pdf_seals": placements}],
        })
        .to_string()
    };
    let misplaced = sealed(serde_json::json!([
        {"signer": brand.party().to_string(), "x": 40, "y": 40, "width": 120, "height": 120}
    ]));
    let (status, _, problem) = http(
        &addr,
        "POST",
        "/v1/sessions",
        Some("sign-token"),
        &misplaced,
    )
    .await;
    assert!((400..500).contains(&status), "{status} {problem}");
    assert!(problem.contains("not a signer"), "{problem}");
    let placed = sealed(serde_json::json!([
        {"signer": supplier.party().to_string(), "page": 1, "x": 40, "y": 40, "width": 120, "height": 120}
    ]));
    let (status, _, created) =
        http(&addr, "POST", "/v1/sessions", Some("sign-token"), &placed).await;
    assert_eq!(status, 201, "{created}");
    let sealed_id: serde_json::Value = serde_json::from_str(&created).unwrap();
    let sealed_id = sealed_id["id"].as_str().unwrap().to_string();
    let (status, _, view) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{sealed_id}"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(view.contains("\"pdf_sealed\":true"), "{view}");

    // A session through the API; the supplier signs; the bundle comes back as CBOR.
    let body = serde_json::json!({
        "title": "API contract",
        "purpose": "procurement",
        "participants": [{"party": supplier.party().to_string()}],
        "documents": [{"name": "c.pdf", "content": "JVBERi0xLjc="}],
    })
    .to_string();
    let (status, _, created) = http(&addr, "POST", "/v1/sessions", Some("sign-token"), &body).await;
    assert_eq!(status, 201, "{created}");
    let id: serde_json::Value = serde_json::from_str(&created).unwrap();
    let id = id["id"].as_str().unwrap().to_string();
    let sid = id.parse().unwrap();
    let delegate = signet_node::keyfile::read(&supplier.delegate_key).unwrap();
    until("signed", || {
        signet_node::person::sign_as(&supplier.service, sid, &delegate).is_ok()
    })
    .await;
    until("completed", || {
        brand.service.session(sid).unwrap().status == "completed"
    })
    .await;
    let (status, _, list) = http(&addr, "GET", "/v1/sessions", Some("read-token"), "").await;
    assert_eq!(status, 200);
    assert!(list.contains(&id) && list.contains("completed"));
    let (status, head, _) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{id}/bundle"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(head.contains("application/cbor"));
    // Its document is not sealed as a PDF: there is no signed PDF to download.
    let (status, _, problem) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{id}/pdf"),
        Some("read-token"),
        "",
    )
    .await;
    assert!((400..500).contains(&status), "{status} {problem}");
    assert!(problem.contains("not sealed as a PDF"), "{problem}");
    // Acting on an ended session: 409 with the protocol's reason.
    let (status, _, problem) = http(
        &addr,
        "POST",
        &format!("/v1/sessions/{id}/cancel"),
        Some("sign-token"),
        r#"{"reason":"late"}"#,
    )
    .await;
    assert_eq!(status, 409, "{problem}");

    let (status, _, metrics) = http(&addr, "GET", "/metrics", Some("read-token"), "").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("signet_sessions{status=\"completed\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("signet_messages_in_total"));
    assert!(metrics.contains("signet_outbox_depth"));
    // The session's steps were made durable, so the store has flushed.
    let flushes: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("signet_store_flushes_total "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no store flush count: {metrics}"));
    assert!(flushes > 0, "{metrics}");
    let (status, _, _) = http(&addr, "GET", "/metrics", None, "").await;
    assert_eq!(status, 401);
}

/// Starts the API of an unstarted node in a fresh directory, with `limits` and two tokens.
async fn limited_api(
    root: &std::path::Path,
    limits: signet_node::service::config::ApiLimits,
) -> String {
    let (dir, _) = create(root, "Limited", &[]);
    test_tokens(&dir);
    let mut config = NodeConfig::load(&dir).unwrap();
    config.api_limits = limits;
    config.save(&dir).unwrap();
    serve_service(signet_node::service::Service::open(&dir).unwrap()).await
}

fn retry_after(head: &str) -> u64 {
    head.lines()
        .find_map(|l| l.strip_prefix("retry-after: "))
        .expect("a Retry-After header")
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_budget_gets_429_with_retry_after_and_others_go_on() {
    let root = tempfile::tempdir().unwrap();
    let limits = signet_node::service::config::ApiLimits {
        requests_per_second: 1,
        burst: 3,
        ..Default::default()
    };
    let addr = limited_api(root.path(), limits).await;
    for _ in 0..3 {
        let (status, _, body) = http(&addr, "GET", "/v1/sessions", Some("read-token"), "").await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, head, body) = http(&addr, "GET", "/v1/sessions", Some("read-token"), "").await;
    assert_eq!(status, 429, "{body}");
    assert!(head.contains("application/problem+json"));
    assert_eq!(retry_after(&head), 1);
    let p: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["status"], 429);
    assert_eq!(p["title"], "too many requests with this token");
    // Another token has its own budget.
    let (status, _, _) = http(&addr, "GET", "/v1/sessions", Some("sign-token"), "").await;
    assert_eq!(status, 200);
    // The budget refills: one request a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _, _) = http(&addr, "GET", "/v1/sessions", Some("read-token"), "").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_tokens_are_throttled_even_for_a_right_one_then_recover() {
    let root = tempfile::tempdir().unwrap();
    let limits = signet_node::service::config::ApiLimits {
        failed_auth_per_minute: 60, // one a second once the burst is spent
        failed_auth_burst: 4,
        ..Default::default()
    };
    let addr = limited_api(root.path(), limits).await;
    for token in [Some("guess-1"), None, Some("guess-2"), Some("guess-3")] {
        let (status, _, _) = http(&addr, "GET", "/v1/sessions", token, "").await;
        assert_eq!(status, 401);
    }
    let (status, head, body) = http(&addr, "GET", "/v1/sessions", Some("guess-4"), "").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(retry_after(&head), 1);
    assert!(body.contains("failed authentications"), "{body}");
    // While throttled, the address cannot tell a right token from a wrong one.
    let (status, head, _) = http(&addr, "GET", "/v1/sessions", Some("read-token"), "").await;
    assert_eq!(status, 429);
    assert!(retry_after(&head) >= 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _, _) = http(&addr, "GET", "/v1/sessions", Some("read-token"), "").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_cap_are_refused_with_413_except_document_uploads() {
    let root = tempfile::tempdir().unwrap();
    let limits = signet_node::service::config::ApiLimits {
        max_body_bytes: 1024,
        max_upload_bytes: 64 * 1024,
        ..Default::default()
    };
    let addr = limited_api(root.path(), limits).await;
    let id = "ab".repeat(32);
    let big = format!(r#"{{"reason":"{}"}}"#, "x".repeat(4096));
    for path in [
        format!("/v1/sessions/{id}/decline"),
        format!("/v1/sessions/{id}/evidence"),
        "/v1/keylogs/import".to_string(),
    ] {
        let (status, head, body) = http(&addr, "POST", &path, Some("admin-token"), &big).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(head.contains("application/problem+json"), "{path}");
    }
    // The same size is fine for a session with documents (refused for its content here:
    // no participants), and over the upload cap it is not.
    let doc = "A".repeat(4096);
    let upload = format!(
        r#"{{"title":"t","purpose":"p","participants":[],"documents":[{{"name":"d","content":"{doc}"}}]}}"#
    );
    let (status, _, body) = http(&addr, "POST", "/v1/sessions", Some("sign-token"), &upload).await;
    assert!(status != 413 && status >= 400, "{status} {body}");
    let huge = format!(r#"{{"title":"{}"}}"#, "t".repeat(70 * 1024));
    let (status, _, _) = http(&addr, "POST", "/v1/sessions", Some("sign-token"), &huge).await;
    assert_eq!(status, 413);
}
