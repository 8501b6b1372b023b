//! The HTTP API over a running node: tokens and scopes, problem documents for every error,
//! the OpenAPI document, metrics, and a session created and listed through it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::service::config::{NodeConfig, TokenConfig};
use signet_node::service::init::token_hash;
use support::{create, federate, start, until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_checks_tokens_answers_with_problems_and_runs_a_session() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let mut config = NodeConfig::load(&b_dir).unwrap();
    config.tokens = vec![
        TokenConfig {
            sha256: token_hash("sign-token"),
            scope: "sign".into(),
        },
        TokenConfig {
            sha256: token_hash("read-token"),
            scope: "read".into(),
        },
    ];
    config.save(&b_dir).unwrap();
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(signet_node::api::serve(
        brand.service.clone(),
        listener,
        std::future::pending(),
    ));

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
    until("signed", || supplier.service.sign(sid, &delegate).is_ok()).await;
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
    let (status, _, _) = http(&addr, "GET", "/metrics", None, "").await;
    assert_eq!(status, 401);
}
