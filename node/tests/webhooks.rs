//! Session events reach a webhook, signed with HMAC-SHA256 over timestamp and body; a
//! failed delivery is retried, and the delivery log records it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};

use signet_node::service::config::{NodeConfig, WebhookConfig};
use signet_node::service::webhook::signature;
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession};
use signet_protocol::session::Role;
use support::{create, federate, start, until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_events_are_posted_signed_and_retried() {
    // A receiver that fails its first request, then accepts.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/signet", listener.local_addr().unwrap());
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = received.clone();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let mut len = 0;
            // Read until the body (Content-Length) is complete.
            loop {
                let n = socket.read(&mut buf[len..]).await.unwrap();
                len += n;
                let text = String::from_utf8_lossy(&buf[..len]).to_string();
                if let Some(split) = text.find("\r\n\r\n") {
                    let cl: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .unwrap()
                        .trim()
                        .parse()
                        .unwrap();
                    if len >= split + 4 + cl || n == 0 {
                        break;
                    }
                }
            }
            let status = if first {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            first = false;
            socket
                .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                .await
                .unwrap();
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..len]).to_string());
        }
    });

    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let mut config = NodeConfig::load(&b_dir).unwrap();
    config.webhooks.push(WebhookConfig {
        url: url.clone(),
        secret: "s3cret".into(),
    });
    config.save(&b_dir).unwrap();
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;

    let id = brand
        .service
        .create_session(NewSession {
            title: "Hooked".into(),
            purpose: "procurement".into(),
            participants: vec![NewParticipant {
                party: supplier.party(),
                role: Role::Signer,
                order: 0,
            }],
            documents: vec![NewDocument {
                name: "h.pdf".into(),
                media_type: "application/pdf".into(),
                source: DocumentSource::Bytes(b"hook".to_vec()),
            }],
            deadline_days: 30,
            witnesses: vec![],
        })
        .unwrap();
    until("the first event delivered after a retry", || {
        brand
            .service
            .webhook_deliveries()
            .unwrap()
            .iter()
            .any(|d| d.delivered_ms.is_some() && d.attempts == 2)
    })
    .await;
    let requests = received.lock().unwrap().clone();
    assert!(requests.len() >= 2);
    let request = requests.last().unwrap();
    assert!(request.starts_with("POST /hooks/signet HTTP/1.1"));
    let header = |name: &str| {
        request
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let timestamp: u64 = header("Signet-Timestamp:").parse().unwrap();
    let body = &request[request.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        header("Signet-Signature:"),
        signature("s3cret", timestamp, body)
    );
    let event: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["session"], id.to_string());
    assert_eq!(event["event"], "ProposalSent");
    let _ = supplier;
}
