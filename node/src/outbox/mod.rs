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
//! - **Lanes, FIFO within each.** Every message goes in a *lane* of its recipient (the node
//!   uses one lane per session; [`DEFAULT_LANE`] otherwise). Only the oldest undelivered
//!   message of a lane is ever due; the next one becomes due once it is acknowledged, so a
//!   recipient gets each lane's messages in order. Lanes of one recipient go side by side, at
//!   most [`OutboxConfig::max_in_flight_per_recipient`] at a time, so many sessions with one
//!   counterparty do not wait for each other's round trips. Recipients are independent: one
//!   offline counterparty never delays another.
//! - **At least once, exactly once in effect.** A message may be sent again after a crash
//!   or a lost acknowledgement; receivers deduplicate by the message's digest (the
//!   protocol's `Session` treats a repeated message as harmless). Enqueuing the same
//!   `(recipient, id)` twice stores it once.
//! - **Backoff.** After each failure the lane's head message waits an exponentially
//!   growing, jittered delay ([`Backoff`]), capped, and is then due again; until one of the
//!   recipient's messages is acknowledged, its other lanes wait too and only one message at a
//!   time probes it (an offline counterparty is not dialled once per lane). A message handed
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
    metas: Vec<(OutboxKey, Digest, Lane, usize)>,
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
    /// The most messages of one recipient handed out at once (each from its own lane).
    pub max_in_flight_per_recipient: usize,
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
            max_in_flight_per_recipient: 32,
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

/// A lane of a recipient's messages (see the [module documentation](self)).
pub type Lane = [u8; 32];

/// The lane of messages enqueued without one.
pub const DEFAULT_LANE: Lane = [0; 32];

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

/// The stored form: version (2) ‖ id ‖ failures ‖ next attempt (ms) ‖ lane ‖ message.
/// Version 1 (before lanes) has no lane: its entries are in [`DEFAULT_LANE`].
const ENTRY_VERSION: u8 = 2;
const ENTRY_HEADER_V1: usize = 1 + 32 + 4 + 8;
const ENTRY_HEADER: usize = ENTRY_HEADER_V1 + 32;

/// A stored entry, decoded.
#[derive(Debug, PartialEq, Eq)]
struct Entry<'a> {
    id: Digest,
    failures: u32,
    next_attempt: Duration,
    lane: Lane,
    message: &'a [u8],
}

fn encode_entry(
    id: &Digest,
    failures: u32,
    next_attempt: Duration,
    lane: &Lane,
    message: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENTRY_HEADER + message.len());
    out.push(ENTRY_VERSION);
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&failures.to_be_bytes());
    out.extend_from_slice(&millis(next_attempt).to_be_bytes());
    out.extend_from_slice(lane);
    out.extend_from_slice(message);
    out
}

fn decode_entry(bytes: &[u8]) -> Option<Entry<'_>> {
    let header = match bytes.first() {
        Some(1) => ENTRY_HEADER_V1,
        Some(2) => ENTRY_HEADER,
        _ => return None,
    };
    if bytes.len() < header {
        return None;
    }
    let id = Digest::from_slice(&bytes[1..33]).ok()?;
    let failures = u32::from_be_bytes(bytes[33..37].try_into().ok()?);
    let next = u64::from_be_bytes(bytes[37..45].try_into().ok()?);
    let lane = match header {
        ENTRY_HEADER => bytes[45..77].try_into().ok()?,
        _ => DEFAULT_LANE,
    };
    Some(Entry {
        id,
        failures,
        next_attempt: Duration::from_millis(next),
        lane,
        message: &bytes[header..],
    })
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
    /// One FIFO queue per recipient and lane.
    queues: BTreeMap<(PartyId, Lane), VecDeque<Meta>>,
    /// One element per non-empty queue: (when its head may be tried, recipient, lane).
    schedule: BTreeSet<(Duration, PartyId, Lane)>,
    /// The lane of every queued entry.
    lanes: BTreeMap<OutboxKey, Lane>,
    /// How many messages each recipient has queued, over all its lanes.
    queued: BTreeMap<PartyId, usize>,
    /// The lanes of each recipient whose head is handed out (leased).
    leased: BTreeMap<PartyId, BTreeSet<Lane>>,
    /// Recipients whose last attempt failed, with when to try them again: until one of
    /// their messages is acknowledged, one lane probes them at a time.
    failing: BTreeMap<PartyId, Duration>,
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
            lanes: BTreeMap::new(),
            queued: BTreeMap::new(),
            leased: BTreeMap::new(),
            failing: BTreeMap::new(),
            ids: BTreeSet::new(),
            next_seq: 0,
            entries: 0,
            bytes: 0,
        };
        // Keys come ordered by recipient then seq: each queue is built in FIFO order.
        for (key, bytes) in outbox.store.outbox_entries()? {
            let entry = decode_entry(&bytes).ok_or(OutboxError::Corrupt {
                recipient: key.recipient,
                seq: key.seq,
            })?;
            outbox.next_seq = outbox.next_seq.max(key.seq.saturating_add(1));
            outbox.ids.insert((key.recipient, entry.id));
            outbox.entries += 1;
            outbox.bytes += entry.message.len() as u64;
            outbox.lanes.insert(key, entry.lane);
            *outbox.queued.entry(key.recipient).or_default() += 1;
            outbox
                .queues
                .entry((key.recipient, entry.lane))
                .or_default()
                .push_back(Meta {
                    seq: key.seq,
                    id: entry.id,
                    len: entry.message.len(),
                    failures: entry.failures,
                    next_attempt: entry.next_attempt,
                });
        }
        let heads: Vec<(Duration, PartyId, Lane)> = outbox
            .queues
            .iter()
            .filter_map(|((p, l), q)| q.front().map(|m| (m.next_attempt, *p, *l)))
            .collect();
        for (at, recipient, lane) in heads {
            outbox.schedule.insert((at, recipient, lane));
            // A head that failed before the restart: its recipient is still failing.
            let failed = outbox.queues[&(recipient, lane)]
                .front()
                .is_some_and(|m| m.failures > 0);
            if failed {
                let until = outbox.failing.entry(recipient).or_default();
                *until = (*until).max(at);
            }
        }
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
        let in_lanes: Vec<(PartyId, Digest, Lane, &[u8])> = messages
            .iter()
            .map(|&(to, id, m)| (to, id, DEFAULT_LANE, m))
            .collect();
        self.plan_in_lanes(&in_lanes, now)
    }

    /// [`Outbox::plan`] with each message's lane: messages of one lane to one recipient are
    /// delivered in order, lanes side by side.
    pub fn plan_in_lanes(
        &self,
        messages: &[(PartyId, Digest, Lane, &[u8])],
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
        for &(recipient, id, lane, message) in messages {
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
            let queued = self.queued_for(&recipient) + *added;
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
                .push((key, encode_entry(&id, 0, now, &lane, message)));
            planned.metas.push((key, id, lane, message.len()));
            planned.keys.push(Some(key));
        }
        Ok(planned)
    }

    /// Schedules a batch from [`Outbox::plan`] once its entries are stored. Returns each
    /// message's key, as [`Outbox::enqueue_many`] does.
    pub fn apply(&mut self, planned: Planned) -> Vec<Option<OutboxKey>> {
        debug_assert_eq!(planned.next_seq, self.next_seq, "planned on a stale outbox");
        self.next_seq += planned.metas.len() as u64;
        for (key, id, lane, len) in planned.metas {
            self.ids.insert((key.recipient, id));
            self.entries += 1;
            self.bytes += len as u64;
            self.lanes.insert(key, lane);
            *self.queued.entry(key.recipient).or_default() += 1;
            let queue = self.queues.entry((key.recipient, lane)).or_default();
            queue.push_back(Meta {
                seq: key.seq,
                id,
                len,
                failures: 0,
                next_attempt: planned.now,
            });
            if queue.len() == 1 {
                self.schedule.insert((planned.now, key.recipient, lane));
            }
        }
        planned.keys
    }

    /// Whether the head of `lane` may be handed out to `recipient` at `now`, `taken` more of
    /// its lanes being handed out with it: its lane is leased already (an expired lease,
    /// handed out again), or the recipient has room for one more in flight — one while it
    /// is failing, and not before its retry time.
    fn may_send(&self, recipient: &PartyId, lane: &Lane, now: Duration, taken: usize) -> bool {
        let leased = self.leased.get(recipient);
        if leased.is_some_and(|l| l.contains(lane)) {
            return true;
        }
        let in_flight = leased.map_or(0, BTreeSet::len) + taken;
        match self.failing.get(recipient) {
            Some(until) => *until <= now && in_flight == 0,
            None => in_flight < self.config.max_in_flight_per_recipient.max(1),
        }
    }

    /// The messages to try now: the head of each lane whose time has come and whose
    /// recipient has room (see [`OutboxConfig::max_in_flight_per_recipient`]), at most
    /// `limit` of them, earliest first. Each is leased until `now + attempt_timeout`; report
    /// it with [`Outbox::acked`] or [`Outbox::failed`].
    pub fn due(&mut self, now: Duration, limit: usize) -> Result<Vec<Attempt>, OutboxError> {
        let mut ready: Vec<(Duration, PartyId, Lane)> = Vec::new();
        let mut taken: BTreeMap<PartyId, usize> = BTreeMap::new();
        for &(at, recipient, lane) in self.schedule.iter().take_while(|(at, _, _)| *at <= now) {
            if ready.len() == limit {
                break;
            }
            let fresh = !self
                .leased
                .get(&recipient)
                .is_some_and(|l| l.contains(&lane));
            let extra = taken.get(&recipient).copied().unwrap_or(0);
            if !self.may_send(&recipient, &lane, now, extra) {
                continue;
            }
            if fresh {
                *taken.entry(recipient).or_default() += 1;
            }
            ready.push((at, recipient, lane));
        }
        let lease = now.saturating_add(self.config.attempt_timeout);
        let mut attempts = Vec::with_capacity(ready.len());
        for (at, recipient, lane) in ready {
            let Some(head) = self
                .queues
                .get_mut(&(recipient, lane))
                .and_then(|q| q.front_mut())
            else {
                // Invariant: scheduled lanes have non-empty queues. Repair if not.
                warn!(%recipient, "outbox schedule named an empty queue");
                self.schedule.remove(&(at, recipient, lane));
                continue;
            };
            let key = OutboxKey {
                recipient,
                seq: head.seq,
            };
            let stored = self.store.outbox_entry(&key)?;
            let entry = stored
                .as_deref()
                .and_then(decode_entry)
                .ok_or(OutboxError::Corrupt {
                    recipient,
                    seq: head.seq,
                })?;
            attempts.push(Attempt {
                key,
                id: entry.id,
                message: entry.message.to_vec(),
                failures: head.failures,
            });
            head.next_attempt = lease;
            self.schedule.remove(&(at, recipient, lane));
            self.schedule.insert((lease, recipient, lane));
            self.leased.entry(recipient).or_default().insert(lane);
        }
        Ok(attempts)
    }

    /// The lane `key` was handed out from is no longer leased.
    fn release(&mut self, recipient: &PartyId, lane: &Lane) {
        if let Some(l) = self.leased.get_mut(recipient) {
            l.remove(lane);
            if l.is_empty() {
                self.leased.remove(recipient);
            }
        }
    }

    /// The recipient acknowledged the message (or the caller gives up on it): it is removed
    /// and its lane's next message becomes due; the recipient is no longer failing. Returns
    /// whether it was queued. The removal is not synced by itself ([`Store::remove_outbox`]):
    /// after a crash that loses it, the message is sent again and its recipient answers it
    /// as a duplicate.
    pub fn acked(&mut self, key: &OutboxKey, now: Duration) -> Result<bool, OutboxError> {
        let Some(lane) = self.lanes.get(key).copied() else {
            return Ok(false);
        };
        let Some(queue) = self.queues.get_mut(&(key.recipient, lane)) else {
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
        let next = queue.front_mut().map(|next| {
            // The recipient is reachable: the lane's next message goes now.
            next.next_attempt = next.next_attempt.min(now);
            next.next_attempt
        });
        if queue.is_empty() {
            self.queues.remove(&(key.recipient, lane));
        }
        self.lanes.remove(key);
        self.ids.remove(&(key.recipient, meta.id));
        self.entries -= 1;
        self.bytes -= meta.len as u64;
        if let Some(n) = self.queued.get_mut(&key.recipient) {
            *n -= 1;
            if *n == 0 {
                self.queued.remove(&key.recipient);
            }
        }
        if was_head {
            self.schedule
                .remove(&(meta.next_attempt, key.recipient, lane));
            if let Some(at) = next {
                self.schedule.insert((at, key.recipient, lane));
            }
            self.release(&key.recipient, &lane);
            self.failing.remove(&key.recipient);
        }
        Ok(true)
    }

    /// The attempt failed at `now`: the message is rescheduled after a jittered backoff
    /// drawn from `rng`, durably, and the recipient's other lanes wait until then too.
    /// Returns when it will be due again, or `None` if the entry is not queued (or is not
    /// its lane's head, which was never handed out).
    pub fn failed<R: Rng + ?Sized>(
        &mut self,
        key: &OutboxKey,
        now: Duration,
        rng: &mut R,
    ) -> Result<Option<Duration>, OutboxError> {
        let Some(lane) = self.lanes.get(key).copied() else {
            return Ok(None);
        };
        let Some(head) = self
            .queues
            .get_mut(&(key.recipient, lane))
            .and_then(|q| q.front_mut())
            .filter(|m| m.seq == key.seq)
        else {
            return Ok(None);
        };
        let failures = head.failures.saturating_add(1);
        let next = to_millis(now.saturating_add(self.config.backoff.delay(failures, rng)));
        let stored = self.store.outbox_entry(key)?;
        let entry = stored
            .as_deref()
            .and_then(decode_entry)
            .ok_or(OutboxError::Corrupt {
                recipient: key.recipient,
                seq: key.seq,
            })?;
        self.store.put_outbox(
            key,
            &encode_entry(&entry.id, failures, next, &lane, entry.message),
        )?;
        self.schedule
            .remove(&(head.next_attempt, key.recipient, lane));
        head.failures = failures;
        head.next_attempt = next;
        self.schedule.insert((next, key.recipient, lane));
        self.release(&key.recipient, &lane);
        let until = self.failing.entry(key.recipient).or_default();
        *until = (*until).max(next);
        debug!(recipient = %key.recipient, failures, "delivery failed; rescheduled");
        Ok(Some(next))
    }

    /// When the next message may be handed out (to sleep until then), if any is queued and
    /// not held back by its recipient's in-flight limit (an acknowledgement frees room).
    pub fn next_due(&self) -> Option<Duration> {
        self.schedule
            .iter()
            .map(|(at, recipient, lane)| {
                let retry = self.failing.get(recipient).copied().unwrap_or_default();
                ((*at).max(retry), recipient, lane)
            })
            .filter(|(at, recipient, lane)| self.may_send(recipient, lane, *at, 0))
            .map(|(at, _, _)| at)
            .min()
    }

    /// The number of queued messages.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The number of messages queued for `recipient`, over all its lanes.
    pub fn queued_for(&self, recipient: &PartyId) -> usize {
        self.queued.get(recipient).copied().unwrap_or(0)
    }

    /// The recipients with queued messages, and how many each has.
    pub fn recipients(&self) -> impl Iterator<Item = (&PartyId, usize)> {
        self.queued.iter().map(|(p, n)| (p, *n))
    }
}
