//! Counters the node keeps for `/metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use signet_protocol::error::ErrorCode;

/// Message and refusal counters (since start).
#[derive(Debug, Default)]
pub struct Metrics {
    /// Session messages accepted from peers.
    pub messages_in: AtomicU64,
    /// Session messages delivered to peers.
    pub messages_out: AtomicU64,
    /// Deliveries that failed and will be retried.
    pub delivery_failures: AtomicU64,
    refusals: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub(crate) fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self, code: ErrorCode) {
        if let Ok(mut map) = self.refusals.lock() {
            *map.entry(code.name()).or_default() += 1;
        }
    }

    /// Inbound refusals by wire error code name.
    pub fn refusals(&self) -> BTreeMap<&'static str, u64> {
        self.refusals.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// A counter's value.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
