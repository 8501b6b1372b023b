//! Session events reach a webhook, signed with HMAC-SHA256 over timestamp and body; a
//! failed delivery is retried, and the delivery log records it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};

use signet_node::service::config::{NodeConfig, WebhookConfig};
use signet_node::service::webhook::signature;
use support::{create, federate, one_signer, start, until};
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
        ca_file: None,
    });
    config.save(&b_dir).unwrap();
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;

    let id = brand
        .service
        .create_session(one_signer("Hooked", supplier.party(), b"hook".to_vec()))
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
    let event = signed_event(request, "s3cret");
    assert_eq!(event["session"], id.to_string());
    assert_eq!(event["event"], "ProposalSent");
    let _ = supplier;
}

/// An HTTPS receiver with a certificate for `localhost` from a private CA; returns its port
/// and the CA's PEM. Each request's text is pushed to `log`.
async fn https_receiver(log: Arc<Mutex<Vec<String>>>) -> (u16, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    use tokio_rustls::rustls;
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Acme webhook test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            // A client that does not trust the certificate aborts the handshake.
            let Ok(mut tls) = acceptor.accept(socket).await else {
                continue;
            };
            let mut buf = vec![0u8; 64 * 1024];
            let mut len = 0;
            loop {
                let n = tls.read(&mut buf[len..]).await.unwrap_or(0);
                len += n;
                let text = String::from_utf8_lossy(&buf[..len]).to_string();
                let complete = text.find("\r\n\r\n").is_some_and(|split| {
                    let cl: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    len >= split + 4 + cl
                });
                if complete || n == 0 {
                    break;
                }
            }
            let _ = tls
                .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                .await;
            let _ = tls.shutdown().await;
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..len]).to_string());
        }
    });
    (port, ca.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_webhooks_trust_a_configured_ca_and_refuse_an_unknown_certificate() {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let (port, ca_pem) = https_receiver(received.clone()).await;
    let trusted = format!("https://localhost:{port}/trusted");
    let untrusted = format!("https://localhost:{port}/untrusted");

    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    std::fs::write(b_dir.join("hooks-ca.pem"), &ca_pem).unwrap();
    let mut config = NodeConfig::load(&b_dir).unwrap();
    config.webhooks = vec![
        WebhookConfig {
            url: trusted.clone(),
            secret: "tls-secret".into(),
            ca_file: Some("hooks-ca.pem".into()),
        },
        WebhookConfig {
            url: untrusted.clone(),
            secret: "tls-secret".into(),
            ca_file: None,
        },
    ];
    config.save(&b_dir).unwrap();
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    let id = brand
        .service
        .create_session(one_signer(
            "Hooked over TLS",
            supplier.party(),
            b"hook".to_vec(),
        ))
        .unwrap();
    until(
        "delivered over HTTPS, and refused where the CA is unknown",
        || {
            let log = brand.service.webhook_deliveries().unwrap();
            log.iter()
                .any(|d| d.url == trusted && d.delivered_ms.is_some())
                && log.iter().any(|d| d.url == untrusted && d.attempts > 0)
        },
    )
    .await;
    let log = brand.service.webhook_deliveries().unwrap();
    for d in log.iter().filter(|d| d.url == untrusted) {
        assert!(d.delivered_ms.is_none(), "{d:?}");
        let why = d.last_result.clone().unwrap_or_default();
        assert!(why.contains("certificate"), "{why}");
    }
    let requests = received.lock().unwrap().clone();
    assert!(requests.iter().all(|r| r.starts_with("POST /trusted ")));
    let request = requests.first().unwrap();
    let event = signed_event(request, "tls-secret");
    assert_eq!(event["session"], id.to_string());
    let _ = supplier;
}

/// The JSON event of a delivered webhook request, once its HMAC signature over the
/// timestamp and body checks out with `secret`.
fn signed_event(request: &str, secret: &str) -> serde_json::Value {
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
        signature(secret, timestamp, body)
    );
    serde_json::from_str(body).unwrap()
}
