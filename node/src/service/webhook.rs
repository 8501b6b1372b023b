//! Webhooks: every session event is POSTed as JSON to each configured URL, signed with
//! HMAC-SHA256, retried with exponential backoff until delivered, and kept in a delivery log.
//!
//! Each delivery carries `Signet-Timestamp: <unix seconds>` and
//! `Signet-Signature: sha256=<hex HMAC-SHA256(secret, timestamp "." body)>`; a receiver
//! recomputes it and rejects stale timestamps. Deliveries are records in the store, written
//! in the same atomic commit as the session's state (`Store::commit_session_step`), so a
//! crash does not lose one; a delivered record stays in the log (the newest
//! [`MAX_DELIVERED_KEPT`] of them) for `GET /v1/webhooks/deliveries`.
//!
//! URLs are `http://` or `https://`. HTTPS uses rustls (TLS 1.2 and 1.3, the aws-lc-rs
//! provider libp2p's QUIC already brings) and checks the receiver's certificate against the
//! system's trust store plus, per webhook, the CA certificates of its `ca_file` (PEM): a
//! receiver with a certificate from a private CA is trusted by naming that CA, never by
//! turning checks off. The HTTP exchange itself is the same minimal HTTP/1.1 over either.

use std::path::Path;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::RootCertStore;
use tokio_rustls::rustls::pki_types::ServerName;

use super::config::WebhookConfig;
use crate::store::{Store, StoreError, WebhookDeliveryId};

/// Delivered records kept in the log.
pub const MAX_DELIVERED_KEPT: usize = 1000;
/// Longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// One delivery, as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Id (hex).
    pub id: String,
    /// Target URL.
    pub url: String,
    /// The JSON body sent.
    pub body: String,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (unix ms); 0 once delivered.
    pub next_attempt_ms: u64,
    /// When it was delivered (unix ms), if it was.
    pub delivered_ms: Option<u64>,
    /// The last HTTP status or error.
    pub last_result: Option<String>,
}

/// The signature header's value for `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = match <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A new delivery of `body` to `url`, as stored (for [`Store::commit_session_step`]).
pub fn delivery_record(url: &str, body: String, now_ms: u64) -> (WebhookDeliveryId, Vec<u8>) {
    let mut id = [0u8; 16];
    if let Ok(bytes) = super::random_bytes() {
        id.copy_from_slice(&bytes[..16]);
    }
    // Ids sort by time first, so the log reads in order.
    id[..8].copy_from_slice(&now_ms.to_be_bytes());
    let d = Delivery {
        id: hex::encode(id),
        url: url.to_string(),
        body,
        attempts: 0,
        next_attempt_ms: now_ms,
        delivered_ms: None,
        last_result: None,
    };
    (WebhookDeliveryId(id), encode(&d))
}

/// Queues a delivery of `body` to `url`.
pub fn enqueue(store: &dyn Store, url: &str, body: String, now_ms: u64) -> Result<(), StoreError> {
    let (id, record) = delivery_record(url, body, now_ms);
    store.put_webhook_delivery(&id, &record)
}

fn encode(d: &Delivery) -> Vec<u8> {
    serde_json::to_vec(d).unwrap_or_default()
}

/// Every delivery in the log, oldest first.
pub fn deliveries(store: &dyn Store) -> Result<Vec<Delivery>, StoreError> {
    Ok(store
        .webhook_deliveries()?
        .into_iter()
        .filter_map(|(_, b)| serde_json::from_slice(&b).ok())
        .collect())
}

fn id_of(d: &Delivery) -> Option<WebhookDeliveryId> {
    let mut id = [0u8; 16];
    hex::decode_to_slice(&d.id, &mut id).ok()?;
    Some(WebhookDeliveryId(id))
}

/// A webhook target cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The URL is not `http://host[:port][/path]` or `https://…`.
    #[error("webhook URL {0:?}: expected http://host[:port]/path or https://host[:port]/path")]
    Url(String),
    /// The extra CA file could not be read.
    #[error("webhook CA file {path}: {source}")]
    CaFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The extra CA file holds no usable certificate.
    #[error("webhook CA file {path}: {reason}")]
    CaCertificate {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// TLS could not be set up.
    #[error("webhook TLS: {0}")]
    Tls(String),
}

/// Where a webhook URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) tls: bool,
    /// `host:port`, to connect to.
    pub(crate) authority: String,
    /// The host alone (the TLS server name).
    pub(crate) host: String,
    /// The path with its query, starting with `/`.
    pub(crate) path: String,
}

/// Parses an `http://` or `https://` URL into what a request needs.
pub(crate) fn endpoint(url: &str) -> Result<Endpoint, TargetError> {
    let bad = || TargetError::Url(url.to_string());
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad());
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    // `[v6]:port`, `[v6]`, `host:port`, `host`.
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port: u16 = match port {
        Some(p) => p.parse().map_err(|_| bad())?,
        None if tls => 443,
        None => 80,
    };
    if host.is_empty() {
        return Err(bad());
    }
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok(Endpoint {
        tls,
        authority,
        host,
        path,
    })
}

/// A configured webhook, ready to deliver to.
#[derive(Clone)]
pub struct Target {
    url: String,
    secret: String,
    endpoint: Endpoint,
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// The configured webhooks, ready to deliver to.
#[derive(Debug, Clone, Default)]
pub struct Targets(Vec<Target>);

impl Targets {
    /// Checks the webhooks of the configuration and sets up TLS for the `https://` ones: the
    /// system's trust store plus each webhook's `ca_file` (relative to `dir`, the party
    /// directory).
    pub fn new(hooks: &[WebhookConfig], dir: &Path) -> Result<Self, TargetError> {
        let mut system: Option<RootCertStore> = None;
        let mut out = Vec::new();
        for hook in hooks {
            let endpoint = endpoint(&hook.url)?;
            let tls = if endpoint.tls {
                let mut roots = match &system {
                    Some(r) => r.clone(),
                    None => {
                        let r = crate::tls::system_roots();
                        system = Some(r.clone());
                        r
                    }
                };
                if let Some(file) = &hook.ca_file {
                    crate::tls::add_ca_file(&mut roots, &dir.join(file))?;
                }
                Some(crate::tls::connector(roots)?)
            } else {
                None
            };
            out.push(Target {
                url: hook.url.clone(),
                secret: hook.secret.clone(),
                endpoint,
                tls,
            });
        }
        Ok(Self(out))
    }

    fn get(&self, url: &str) -> Option<&Target> {
        self.0.iter().find(|t| t.url == url)
    }
}

impl From<crate::tls::TlsError> for TargetError {
    fn from(e: crate::tls::TlsError) -> Self {
        match e {
            crate::tls::TlsError::File { path, source } => Self::CaFile { path, source },
            crate::tls::TlsError::Pem { path, reason } => Self::CaCertificate { path, reason },
            other => Self::Tls(other.to_string()),
        }
    }
}

/// Attempts every due delivery once; returns how many were delivered.
pub async fn run_due(store: &dyn Store, targets: &Targets, now_ms: u64) -> usize {
    let Ok(all) = deliveries(store) else {
        return 0;
    };
    let mut delivered = 0;
    let done: Vec<&Delivery> = all.iter().filter(|d| d.delivered_ms.is_some()).collect();
    if done.len() > MAX_DELIVERED_KEPT {
        for d in &done[..done.len() - MAX_DELIVERED_KEPT] {
            if let Some(id) = id_of(d) {
                let _ = store.remove_webhook_delivery(&id);
            }
        }
    }
    for mut d in all
        .into_iter()
        .filter(|d| d.delivered_ms.is_none() && d.next_attempt_ms <= now_ms)
    {
        let Some(id) = id_of(&d) else { continue };
        let timestamp = now_ms / 1000;
        let result = match targets.get(&d.url) {
            Some(t) => {
                post(
                    t,
                    &d.body,
                    timestamp,
                    &signature(&t.secret, timestamp, &d.body),
                )
                .await
            }
            // A delivery queued for a webhook since removed from the configuration.
            None => Err("this webhook is no longer configured".to_string()),
        };
        d.attempts += 1;
        match result {
            Ok(status) if (200..300).contains(&status) => {
                d.delivered_ms = Some(now_ms);
                d.next_attempt_ms = 0;
                d.last_result = Some(format!("HTTP {status}"));
                delivered += 1;
            }
            other => {
                let backoff = Duration::from_secs(1u64 << d.attempts.min(10)).min(MAX_BACKOFF);
                d.next_attempt_ms = now_ms + u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX);
                d.last_result = Some(match other {
                    Ok(status) => format!("HTTP {status}"),
                    Err(e) => e,
                });
                tracing::warn!(url = %d.url, attempts = d.attempts, result = ?d.last_result, "webhook delivery failed; will retry");
            }
        }
        if let Err(e) = store.put_webhook_delivery(&id, &encode(&d)) {
            tracing::error!(error = %e, "webhook delivery record");
        }
    }
    delivered
}

/// POSTs `body` to the target; returns the HTTP status.
async fn post(target: &Target, body: &str, timestamp: u64, signature: &str) -> Result<u16, String> {
    let e = &target.endpoint;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\nSignet-Timestamp: {timestamp}\r\nSignet-Signature: {signature}\r\n\r\n",
        e.path,
        e.authority,
        body.len()
    );
    let io = async {
        let tcp = TcpStream::connect(&e.authority).await?;
        match &target.tls {
            None => exchange(tcp, &head, body).await,
            Some(connector) => {
                let name = ServerName::try_from(e.host.clone()).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a TLS server name")
                })?;
                let stream = connector.connect(name, tcp).await?;
                exchange(stream, &head, body).await
            }
        }
    };
    let reply = tokio::time::timeout(Duration::from_secs(10), io)
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let line = String::from_utf8_lossy(&reply);
    line.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "malformed HTTP response".to_string())
}

/// Writes the request; returns the first bytes of the answer (its status line).
async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    head: &str,
    body: &str,
) -> std::io::Result<Vec<u8>> {
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await?;
    let mut first = [0u8; 64];
    let n = stream.read(&mut first).await?;
    Ok(first[..n].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_default_ports_and_bad_ones_are_refused() {
        let e = endpoint("https://hooks.example.com/in?x=1").unwrap();
        assert!(e.tls);
        assert_eq!(e.authority, "hooks.example.com:443");
        assert_eq!(e.host, "hooks.example.com");
        assert_eq!(e.path, "/in?x=1");
        let e = endpoint("http://127.0.0.1:8080").unwrap();
        assert!(!e.tls);
        assert_eq!(
            (e.authority.as_str(), e.path.as_str()),
            ("127.0.0.1:8080", "/")
        );
        let e = endpoint("https://[::1]:8443/h").unwrap();
        assert_eq!(
            (e.authority.as_str(), e.host.as_str()),
            ("[::1]:8443", "::1")
        );
        assert_eq!(endpoint("http://h").unwrap().authority, "h:80");
        for bad in [
            "ftp://h/",
            "https://",
            "https://:443/",
            "http://h:port/",
            "https://user@h/",
            "h:80",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty.pem"), "not a certificate").unwrap();
        let hook = |ca: &str| WebhookConfig {
            url: "https://localhost:1/".into(),
            secret: "s".into(),
            ca_file: Some(ca.into()),
        };
        assert!(matches!(
            Targets::new(&[hook("empty.pem")], dir.path()),
            Err(TargetError::CaCertificate { .. })
        ));
        assert!(matches!(
            Targets::new(&[hook("missing.pem")], dir.path()),
            Err(TargetError::CaFile { .. })
        ));
    }

    #[test]
    fn signatures_depend_on_secret_time_and_body() {
        let s = signature("k", 1, "{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert_ne!(s, signature("k2", 1, "{}"));
        assert_ne!(s, signature("k", 2, "{}"));
        assert_ne!(s, signature("k", 1, "{ }"));
    }
}
