//! The durable outbox: messages the node must deliver, kept until the recipient acknowledges.
//!
//! [`Outbox::enqueue`] stores a message durably before it returns; from then on the message
//! survives crashes and is retried until [`Outbox::acked`]. The scheduling logic is
//! sans-clock: every method that needs the time takes `now` (a [`Duration`] since the Unix
//! epoch) and the jitter comes from an RNG the caller passes in, so tests can run hours of
//! simulated outage in microseconds and reproduce them from a seed.
//!
//! # Delivery semantics
//!
//! - **Per-recipient FIFO.** Only the oldest undelivered message of a recipient is ever due;
//!   the next one becomes due once it is acknowledged. Recipients are independent: one
//!   offline counterparty never delays another.
//! - **At least once, exactly once in effect.** A message may be sent again after a crash
//!   or a lost acknowledgement; receivers deduplicate by the message's digest (the
//!   protocol's `Session` treats a repeated message as harmless). Enqueuing the same
//!   `(recipient, id)` twice stores it once.
//! - **Backoff.** After each failure the recipient's head message waits an exponentially
//!   growing, jittered delay ([`Backoff`]), capped, and is then due again. A message handed
//!   out by [`Outbox::due`] is leased for [`OutboxConfig::attempt_timeout`]; if the caller
//!   reports neither success nor failure by then, it is due again.
//! - **Bounded.** Entry count, per-recipient count, message size and total bytes are capped
//!   ([`OutboxConfig`]); enqueue refuses beyond them instead of growing without limit. Only
//!   metadata is kept in memory; message bytes are read from the store when due.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use rand_chacha::ChaCha8Rng;
//! use rand_core::SeedableRng;
//! use signet_node::outbox::{Outbox, OutboxConfig};
//! use signet_node::store::MemoryStore;
//! use signet_protocol::{Digest, party::PartyId};
//!
//! let mut outbox = Outbox::open(Arc::new(MemoryStore::new()), OutboxConfig::default())?;
//! let mut rng = ChaCha8Rng::seed_from_u64(1);
//! let bob = PartyId::from_digest(Digest::of(b"bob"));
//! let message = b"signed session message".to_vec();
//! let t0 = Duration::from_secs(1_800_000_000);
//! outbox.enqueue(bob, Digest::of(&message), &message, t0)?;
//!
//! let attempt = outbox.due(t0, 16)?.remove(0);
//! // Bob is offline: try again after a jittered backoff.
//! let retry_at = outbox.failed(&attempt.key, t0, &mut rng)?.ok_or("queued")?;
//! assert!(outbox.due(t0, 16)?.is_empty());
//! let attempt = outbox.due(retry_at, 16)?.remove(0);
//! // Bob acknowledged it.
//! outbox.acked(&attempt.key, retry_at)?;
//! assert!(outbox.is_empty());
//! # Ok(()) }
//! ```
//!
//! Messages are never dropped by the outbox itself: giving up on a recipient is a decision
//! for the layer above (it can [`Outbox::acked`] an entry to discard it). A recipient that
//! answers with a refusal (a wire error code) has received the message: that is an answer to
//! surface, not a delivery failure to retry, so ack the entry.

mod backoff;
#[cfg(test)]
mod tests;

pub use backoff::Backoff;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rand_core::Rng;
use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use tracing::{debug, warn};

use crate::store::{OutboxKey, Store, StoreError};

/// A batch checked and encoded by [`Outbox::plan`], to be stored by the caller and then
/// scheduled with [`Outbox::apply`].
#[derive(Debug)]
pub struct Planned {
    now: Duration,
    next_seq: u64,
    keys: Vec<Option<OutboxKey>>,
    /// The entries to store, under their keys.
    pub entries: Vec<(OutboxKey, Vec<u8>)>,
    metas: Vec<(OutboxKey, Digest, usize)>,
}

/// Limits and retry policy of an [`Outbox`].
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxConfig {
    /// Retry delays.
    pub backoff: Backoff,
    /// How long a message handed out by [`Outbox::due`] is leased before it is due again
    /// without a report.
    pub attempt_timeout: Duration,
    /// The most messages queued in all.
    pub max_entries: usize,
    /// The most messages queued for one recipient.
    pub max_per_recipient: usize,
    /// The largest message, in bytes.
    pub max_message_len: usize,
    /// The most message bytes queued in all.
    pub max_total_bytes: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            attempt_timeout: Duration::from_secs(60),
            max_entries: 100_000,
            max_per_recipient: 10_000,
            max_message_len: 1024 * 1024,
            max_total_bytes: 1 << 30,
        }
    }
}

/// The outbox refused an operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The store failed; the operation did not take effect.
    #[error("outbox storage failed: {0}")]
    Store(#[from] StoreError),
    /// A limit in [`OutboxConfig`] would be exceeded.
    #[error("outbox full: {limit}")]
    Full {
        /// Which limit.
        limit: &'static str,
    },
    /// The message exceeds [`OutboxConfig::max_message_len`].
    #[error("message of {len} bytes exceeds the outbox limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A stored entry does not decode.
    #[error("corrupt outbox entry {seq} for {recipient}")]
    Corrupt {
        /// The recipient.
        recipient: PartyId,
        /// The entry's sequence number.
        seq: u64,
    },
}

/// A message to try now, as handed out by [`Outbox::due`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The entry, to pass back to [`Outbox::acked`] or [`Outbox::failed`].
    pub key: OutboxKey,
    /// The message's id (its digest, as the caller gave it).
    pub id: Digest,
    /// The message bytes.
    pub message: Vec<u8>,
    /// How many attempts failed before this one.
    pub failures: u32,
}

/// What the outbox keeps in memory per entry (the message bytes stay in the store).
#[derive(Debug, Clone, Copy)]
struct Meta {
    seq: u64,
    id: Digest,
    len: usize,
    failures: u32,
    /// When it may be tried (persisted after failures; leases are in memory only).
    next_attempt: Duration,
}

/// The stored form: version ‖ id ‖ failures ‖ next attempt (ms) ‖ message.
const ENTRY_VERSION: u8 = 1;
const ENTRY_HEADER: usize = 1 + 32 + 4 + 8;

fn encode_entry(id: &Digest, failures: u32, next_attempt: Duration, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENTRY_HEADER + message.len());
    out.push(ENTRY_VERSION);
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&failures.to_be_bytes());
    out.extend_from_slice(&millis(next_attempt).to_be_bytes());
    out.extend_from_slice(message);
    out
}

fn decode_entry(bytes: &[u8]) -> Option<(Digest, u32, Duration, &[u8])> {
    if bytes.len() < ENTRY_HEADER || bytes[0] != ENTRY_VERSION {
        return None;
    }
    let id = Digest::from_slice(&bytes[1..33]).ok()?;
    let failures = u32::from_be_bytes(bytes[33..37].try_into().ok()?);
    let next = u64::from_be_bytes(bytes[37..45].try_into().ok()?);
    Some((
        id,
        failures,
        Duration::from_millis(next),
        &bytes[ENTRY_HEADER..],
    ))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `d` truncated to whole milliseconds, the resolution entries are stored at, so that what
/// is scheduled in memory equals what a restart reads back.
fn to_millis(d: Duration) -> Duration {
    Duration::from_millis(millis(d))
}

/// The durable outbox. Owned by one task; see the [module documentation](self).
///
/// Methods that change the outbox write through to the store and wait for durability, so
/// call them where blocking for an fsync is acceptable (a dedicated task or
/// `spawn_blocking`). [`Outbox::plan`] and [`Outbox::apply`] let a caller store new
/// messages in a commit of its own instead.
#[derive(Debug)]
pub struct Outbox<S: Store + ?Sized> {
    store: Arc<S>,
    config: OutboxConfig,
    queues: BTreeMap<PartyId, VecDeque<Meta>>,
    /// One element per non-empty queue: (when its head may be tried, recipient).
    schedule: BTreeSet<(Duration, PartyId)>,
    ids: BTreeSet<(PartyId, Digest)>,
    next_seq: u64,
    entries: usize,
    bytes: u64,
}

impl<S: Store + ?Sized> Outbox<S> {
    /// Loads the outbox from `store`. Entries left from before are due at their persisted
    /// retry time.
    pub fn open(store: Arc<S>, config: OutboxConfig) -> Result<Self, OutboxError> {
        let mut outbox = Self {
            store,
            config,
            queues: BTreeMap::new(),
            schedule: BTreeSet::new(),
            ids: BTreeSet::new(),
            next_seq: 0,
            entries: 0,
            bytes: 0,
        };
        // Keys come ordered by recipient then seq: each queue is built in FIFO order.
        for (key, bytes) in outbox.store.outbox_entries()? {
            let (id, failures, next_attempt, message) =
                decode_entry(&bytes).ok_or(OutboxError::Corrupt {
                    recipient: key.recipient,
                    seq: key.seq,
                })?;
            outbox.next_seq = outbox.next_seq.max(key.seq.saturating_add(1));
            outbox.ids.insert((key.recipient, id));
            outbox.entries += 1;
            outbox.bytes += message.len() as u64;
            outbox
                .queues
                .entry(key.recipient)
                .or_default()
                .push_back(Meta {
                    seq: key.seq,
                    id,
                    len: message.len(),
                    failures,
                    next_attempt,
                });
        }
        let heads: Vec<(Duration, PartyId)> = outbox
            .queues
            .iter()
            .filter_map(|(p, q)| q.front().map(|m| (m.next_attempt, *p)))
            .collect();
        outbox.schedule.extend(heads);
        debug!(entries = outbox.entries, "outbox loaded");
        Ok(outbox)
    }

    /// Stores a message for `recipient` durably and schedules it. `id` identifies the message
    /// (use its digest): enqueuing the same `(recipient, id)` again does nothing and returns
    /// `None`.
    pub fn enqueue(
        &mut self,
        recipient: PartyId,
        id: Digest,
        message: &[u8],
        now: Duration,
    ) -> Result<Option<OutboxKey>, OutboxError> {
        Ok(self
            .enqueue_many(&[(recipient, id, message)], now)?
            .pop()
            .flatten())
    }

    /// Stores several messages atomically with one durable commit (for example every
    /// message of one protocol step), and schedules them. All or none are stored: a limit
    /// that one would exceed refuses the whole batch. Returns each message's key, or `None`
    /// for a message already queued (or repeated in the batch).
    pub fn enqueue_many(
        &mut self,
        messages: &[(PartyId, Digest, &[u8])],
        now: Duration,
    ) -> Result<Vec<Option<OutboxKey>>, OutboxError> {
        let planned = self.plan(messages, now)?;
        if !planned.entries.is_empty() {
            self.store.put_outbox_batch(&planned.entries)?;
        }
        Ok(self.apply(planned))
    }

    /// Checks and encodes a batch like [`Outbox::enqueue_many`] without storing it: the
    /// caller stores [`Planned::entries`] in a commit of its own (with the protocol step that
    /// produced them), then calls [`Outbox::apply`]. Nothing may be planned or enqueued in
    /// between.
    pub fn plan(
        &self,
        messages: &[(PartyId, Digest, &[u8])],
        now: Duration,
    ) -> Result<Planned, OutboxError> {
        let now = to_millis(now);
        let mut planned = Planned {
            now,
            next_seq: self.next_seq,
            keys: Vec::with_capacity(messages.len()),
            entries: Vec::new(),
            metas: Vec::new(),
        };
        let mut seen: BTreeSet<(PartyId, Digest)> = BTreeSet::new();
        let mut added_for: BTreeMap<PartyId, usize> = BTreeMap::new();
        let mut added_bytes = 0u64;
        for &(recipient, id, message) in messages {
            if self.ids.contains(&(recipient, id)) || !seen.insert((recipient, id)) {
                planned.keys.push(None);
                continue;
            }
            if message.len() > self.config.max_message_len {
                return Err(OutboxError::TooLarge {
                    len: message.len(),
                    max: self.config.max_message_len,
                });
            }
            if self.entries + planned.metas.len() >= self.config.max_entries {
                return Err(OutboxError::Full {
                    limit: "max_entries",
                });
            }
            let added = added_for.entry(recipient).or_default();
            let queued = self.queues.get(&recipient).map_or(0, VecDeque::len) + *added;
            if queued >= self.config.max_per_recipient {
                return Err(OutboxError::Full {
                    limit: "max_per_recipient",
                });
            }
            if self.bytes + added_bytes + message.len() as u64 > self.config.max_total_bytes {
                return Err(OutboxError::Full {
                    limit: "max_total_bytes",
                });
            }
            *added += 1;
            added_bytes += message.len() as u64;
            let key = OutboxKey {
                recipient,
                seq: self.next_seq + planned.metas.len() as u64,
            };
            planned
                .entries
                .push((key, encode_entry(&id, 0, now, message)));
            planned.metas.push((key, id, message.len()));
            planned.keys.push(Some(key));
        }
        Ok(planned)
    }

    /// Schedules a batch from [`Outbox::plan`] once its entries are stored. Returns each
    /// message's key, as [`Outbox::enqueue_many`] does.
    pub fn apply(&mut self, planned: Planned) -> Vec<Option<OutboxKey>> {
        debug_assert_eq!(planned.next_seq, self.next_seq, "planned on a stale outbox");
        self.next_seq += planned.metas.len() as u64;
        for (key, id, len) in planned.metas {
            self.ids.insert((key.recipient, id));
            self.entries += 1;
            self.bytes += len as u64;
            let queue = self.queues.entry(key.recipient).or_default();
            queue.push_back(Meta {
                seq: key.seq,
                id,
                len,
                failures: 0,
                next_attempt: planned.now,
            });
            if queue.len() == 1 {
                self.schedule.insert((planned.now, key.recipient));
            }
        }
        planned.keys
    }

    /// The messages to try now: the head of each recipient's queue whose time has come, at
    /// most `limit` of them, earliest first. Each is leased until `now +
    /// attempt_timeout`; report it with [`Outbox::acked`] or [`Outbox::failed`].
    pub fn due(&mut self, now: Duration, limit: usize) -> Result<Vec<Attempt>, OutboxError> {
        let ready: Vec<(Duration, PartyId)> = self
            .schedule
            .iter()
            .take_while(|(at, _)| *at <= now)
            .take(limit)
            .copied()
            .collect();
        let lease = now.saturating_add(self.config.attempt_timeout);
        let mut attempts = Vec::with_capacity(ready.len());
        for (at, recipient) in ready {
            let Some(head) = self.queues.get_mut(&recipient).and_then(|q| q.front_mut()) else {
                // Invariant: scheduled recipients have non-empty queues. Repair if not.
                warn!(%recipient, "outbox schedule named an empty queue");
                self.schedule.remove(&(at, recipient));
                continue;
            };
            let key = OutboxKey {
                recipient,
                seq: head.seq,
            };
            let stored = self.store.outbox_entry(&key)?;
            let (id, _, _, message) =
                stored
                    .as_deref()
                    .and_then(decode_entry)
                    .ok_or(OutboxError::Corrupt {
                        recipient,
                        seq: head.seq,
                    })?;
            attempts.push(Attempt {
                key,
                id,
                message: message.to_vec(),
                failures: head.failures,
            });
            head.next_attempt = lease;
            self.schedule.remove(&(at, recipient));
            self.schedule.insert((lease, recipient));
        }
        Ok(attempts)
    }

    /// The recipient acknowledged the message (or the caller gives up on it): it is removed
    /// and the recipient's next message becomes due. Returns whether it was queued. The
    /// removal is not synced by itself ([`Store::remove_outbox`]): after a crash that loses
    /// it, the message is sent again and its recipient answers it as a duplicate.
    pub fn acked(&mut self, key: &OutboxKey, now: Duration) -> Result<bool, OutboxError> {
        let Some(queue) = self.queues.get_mut(&key.recipient) else {
            return Ok(false);
        };
        let Some(position) = queue.iter().position(|m| m.seq == key.seq) else {
            return Ok(false);
        };
        self.store.remove_outbox(key)?;
        let was_head = position == 0;
        let Some(meta) = queue.remove(position) else {
            return Ok(false);
        };
        self.ids.remove(&(key.recipient, meta.id));
        self.entries -= 1;
        self.bytes -= meta.len as u64;
        if was_head {
            self.schedule.remove(&(meta.next_attempt, key.recipient));
            match queue.front_mut() {
                Some(next) => {
                    // The recipient is reachable: its next message goes now.
                    next.next_attempt = next.next_attempt.min(now);
                    self.schedule.insert((next.next_attempt, key.recipient));
                }
                None => {
                    self.queues.remove(&key.recipient);
                }
            }
        }
        Ok(true)
    }

    /// The attempt failed at `now`: the message is rescheduled after a jittered backoff
    /// drawn from `rng`, durably. Returns when it will be due again, or `None` if the entry
    /// is not queued (or is not its recipient's head, which was never handed out).
    pub fn failed<R: Rng + ?Sized>(
        &mut self,
        key: &OutboxKey,
        now: Duration,
        rng: &mut R,
    ) -> Result<Option<Duration>, OutboxError> {
        let Some(head) = self
            .queues
            .get_mut(&key.recipient)
            .and_then(|q| q.front_mut())
            .filter(|m| m.seq == key.seq)
        else {
            return Ok(None);
        };
        let failures = head.failures.saturating_add(1);
        let next = to_millis(now.saturating_add(self.config.backoff.delay(failures, rng)));
        let stored = self.store.outbox_entry(key)?;
        let (id, _, _, message) =
            stored
                .as_deref()
                .and_then(decode_entry)
                .ok_or(OutboxError::Corrupt {
                    recipient: key.recipient,
                    seq: key.seq,
                })?;
        self.store
            .put_outbox(key, &encode_entry(&id, failures, next, message))?;
        self.schedule.remove(&(head.next_attempt, key.recipient));
        head.failures = failures;
        head.next_attempt = next;
        self.schedule.insert((next, key.recipient));
        debug!(recipient = %key.recipient, failures, "delivery failed; rescheduled");
        Ok(Some(next))
    }

    /// When the next message will be due (to sleep until then), if any is queued.
    pub fn next_due(&self) -> Option<Duration> {
        self.schedule.first().map(|(at, _)| *at)
    }

    /// The number of queued messages.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The number of messages queued for `recipient`.
    pub fn queued_for(&self, recipient: &PartyId) -> usize {
        self.queues.get(recipient).map_or(0, VecDeque::len)
    }

    /// The recipients with queued messages, and how many each has.
    pub fn recipients(&self) -> impl Iterator<Item = (&PartyId, usize)> {
        self.queues.iter().map(|(p, q)| (p, q.len()))
    }
}
