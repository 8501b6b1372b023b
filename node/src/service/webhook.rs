//! Webhooks: every session event is POSTed as JSON to each configured URL, signed with
//! HMAC-SHA256, retried with exponential backoff until delivered, and kept in a delivery log.
//!
//! Each delivery carries `Signet-Timestamp: <unix seconds>` and
//! `Signet-Signature: sha256=<hex HMAC-SHA256(secret, timestamp "." body)>`; a receiver
//! recomputes it and rejects stale timestamps. Deliveries are records in the store
//! (`Store::put_webhook_delivery`), written in the same commit path as the session's
//! journal, so a crash does not lose one; a delivered record stays in the log (the newest
//! [`MAX_DELIVERED_KEPT`] of them) for `GET /v1/webhooks/deliveries`.
//! Only `http://` URLs are supported (loopback or a local relay); TLS is not built.

use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

/// Queues a delivery of `body` to `url`.
pub fn enqueue(store: &dyn Store, url: &str, body: String, now_ms: u64) -> Result<(), StoreError> {
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
    store.put_webhook_delivery(&WebhookDeliveryId(id), &encode(&d))
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

/// Attempts every due delivery once; returns how many were delivered.
pub async fn run_due(
    store: &dyn Store,
    secret_of: &(dyn Fn(&str) -> Option<String> + Sync),
    now_ms: u64,
) -> usize {
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
        let secret = secret_of(&d.url).unwrap_or_default();
        let timestamp = now_ms / 1000;
        let result = post(
            &d.url,
            &d.body,
            timestamp,
            &signature(&secret, timestamp, &d.body),
        )
        .await;
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

/// POSTs `body` to an `http://host:port/path` URL; returns the status.
async fn post(url: &str, body: &str, timestamp: u64, signature: &str) -> Result<u16, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| "only http:// webhook URLs are supported".to_string())?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let io = async {
        let mut stream = TcpStream::connect(host).await?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\nSignet-Timestamp: {timestamp}\r\nSignet-Signature: {signature}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut first = [0u8; 64];
        let n = stream.read(&mut first).await?;
        Ok::<_, std::io::Error>(first[..n].to_vec())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_depend_on_secret_time_and_body() {
        let s = signature("k", 1, "{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert_ne!(s, signature("k2", 1, "{}"));
        assert_ne!(s, signature("k", 2, "{}"));
        assert_ne!(s, signature("k", 1, "{ }"));
    }
}
