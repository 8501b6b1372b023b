//! The sled implementation of [`Store`], with group commit.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use tracing::debug;

use super::chunk_files::ChunkFiles;

use super::{
    BackendError, Manifest, OutboxKey, SessionRecord, SessionStep, Store, StoreError,
    WebhookDeliveryId, check_status,
};

/// How long [`SledStore::open`] waits for the directory's lock. A restarted node's previous
/// instance releases it only when its last task has dropped the store; on a loaded machine
/// that took more than 3 s (seen in CI), so the wait is generous.
pub const LOCK_WAIT: Duration = Duration::from_secs(15);

/// [`Store`] on sled 0.34, the embedded default.
///
/// # Layout
///
/// One sled tree per table. Keys are fixed-width big-endian so that sled's byte order is the
/// order callers are promised: key events under `party ‖ index`, attestations (as
/// `subject ‖ bytes`) under `id` with an index `subject ‖ id`, sessions under `id` with an
/// index `status ‖ 0x00 ‖ id`, document manifests under their digests, evidence under
/// `index`, outbox entries under `recipient ‖ seq`, webhook deliveries under `id`. Writes that
/// touch two trees (an attestation and its index, a session and its status index) are sled
/// transactions. Document chunks are files under `chunks/`, not sled values: sled keeps
/// every value it wrote in memory (see `node/src/store/chunk_files.rs`).
///
/// # Durability
///
/// sled applies a write in memory and writes it to its log at the next `flush`. On Linux,
/// sled 0.34's `flush` ends with `sync_file_range`, which neither flushes the drive's write
/// cache nor the file's metadata, and sled writes large values and pages (over a quarter of
/// a segment, see [`SEGMENT_BYTES`]) to separate files under `blobs/` without syncing them
/// at all. That survives a
/// process crash but not a power loss. So after each `flush` this store also syncs every
/// new blob file, the `blobs` directory, and the log file (`fdatasync`). This relies on
/// sled 0.34's on-disk layout (`db`, `blobs/`), which is fixed for the pinned version.
///
/// # Group commit
///
/// Every acknowledged write waits for a flush-and-sync that *started after* the write was
/// applied. Concurrent writers share them: the first waiting writer becomes the leader and
/// syncs; writers that arrive meanwhile wait for the next round, which one of them leads and
/// which covers them all. So N concurrent writers cost about two syncs, not N. A single
/// writer still pays one sync per write: batch at the layer above where rate matters (see
/// [`Store::put_outbox_batch`]). Measured with the `store_bench` example (release build,
/// a 2-core VM shared with other work, 256-byte records; the spread is the load): one writer
/// 1,600–4,800 durable writes/s, 4 writers about 8,000, 16 writers 23,000–25,000, one
/// writer committing batches of 32 entries 24,000–40,000.
///
/// Appends (key events, evidence) take a process-local lock to pick the next index; sled
/// itself refuses a second process opening the same directory.
#[derive(Debug)]
pub struct SledStore {
    db: sled::Db,
    key_logs: sled::Tree,
    /// Attestations by the digest of their signed bytes.
    attestations: sled::Tree,
    sessions: sled::Tree,
    sessions_by_status: sled::Tree,
    chunks: ChunkFiles,
    manifests: sled::Tree,
    evidence: sled::Tree,
    /// Hashes of complete blocks of the evidence log, by block index (big-endian).
    evidence_blocks: sled::Tree,
    outbox: sled::Tree,
    webhooks: sled::Tree,
    meta: sled::Tree,
    append_lock: Mutex<()>,
    commit: GroupCommit,
    /// The group-commit ticket of the newest deferred step (0: none yet): [`Store::sync`]
    /// returns once a flush covering it has completed.
    deferred: AtomicU64,
    disk: DiskSync,
}

/// sled's segment size for a new store, in bytes. sled writes any page over a quarter of a
/// segment (less a header) to a file of its own under `blobs/`, which each sync must then
/// open, sync and follow with a sync of the directory. A leaf of the sessions tree holds up
/// to 17 records of about 15 KB (a two-party session's snapshot and listing), about 255 KB:
/// over the 128 KB threshold of sled's default 512 KiB segments, so every consolidation of
/// such a leaf was a new blob file and three more syncs. At 2 MiB the threshold is about
/// 512 KB. sled keeps a few segment-sized write buffers, so this costs a few MiB of memory.
pub const SEGMENT_BYTES: usize = 2 * 1024 * 1024;

/// The segment size to open `dir` with: the one its store was created with (sled refuses
/// to open a store with another), else [`SEGMENT_BYTES`]. sled 0.34 records it in the
/// file `conf`, lines of text (`segment_size: N`) followed by a CRC-32 of them; stores
/// made before this setting existed have sled's default there, and keep it.
fn segment_size(dir: &Path) -> Result<usize, StoreError> {
    let conf = match fs::read(dir.join("conf")) {
        Ok(conf) => String::from_utf8_lossy(&conf).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SEGMENT_BYTES),
        Err(e) => return Err(io_error(e)),
    };
    conf.lines()
        .find_map(|line| line.strip_prefix("segment_size: ")?.trim().parse().ok())
        .ok_or_else(|| StoreError::Corrupt {
            table: "conf",
            reason: "sled's conf file names no segment_size".into(),
        })
}

/// sled's page cache, in bytes. sled's default (1 GiB) would let a few large documents
/// passing through a node take a gigabyte of memory; documents are read chunk by chunk and
/// do not need a large cache.
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl SledStore {
    /// Opens (or creates) the store in directory `path`.
    ///
    /// Only one `SledStore` may have a directory open. sled releases its lock on the
    /// directory a moment after the last handle is dropped (when its background threads
    /// finish), so `open` waits up to [`LOCK_WAIT`] for a lock held by this or another process.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let deadline = Instant::now() + LOCK_WAIT;
        let db = loop {
            let config = sled::Config::new()
                .path(path.as_ref())
                .cache_capacity(CACHE_BYTES)
                .segment_size(segment_size(path.as_ref())?);
            match config.open() {
                // sled 0.34 (pinned) reports a held lock only as this I/O error message.
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                result => break result?,
            }
        };
        let tree = |name: &str| db.open_tree(name);
        let store = Self {
            key_logs: tree("key_logs")?,
            attestations: tree("attestations_by_digest")?,
            sessions: tree("sessions")?,
            sessions_by_status: tree("sessions_by_status")?,
            chunks: ChunkFiles::open(&path.as_ref().join("chunks"))?,
            manifests: tree("manifests")?,
            evidence: tree("evidence")?,
            evidence_blocks: tree("evidence_blocks")?,
            outbox: tree("outbox")?,
            webhooks: tree("webhooks")?,
            meta: tree("meta")?,
            append_lock: Mutex::new(()),
            commit: GroupCommit::default(),
            deferred: AtomicU64::new(0),
            disk: DiskSync::open(path.as_ref())?,
            db,
        };
        store.migrate_attestations()?;
        debug!(path = %path.as_ref().display(), recovered = store.db.was_recovered(), "opened store");
        Ok(store)
    }

    /// Stores written before attestations were keyed by digest kept them by their
    /// issuer-chosen id (a second object with the same id replaced the first); move what they
    /// hold into the digest-keyed tree once, and drop the old trees.
    fn migrate_attestations(&self) -> Result<(), StoreError> {
        let names = ["attestations", "attestations_by_subject"];
        if !self
            .db
            .tree_names()
            .iter()
            .any(|n| names.iter().any(|m| n.as_ref() == m.as_bytes()))
        {
            return Ok(());
        }
        let old = self.db.open_tree(names[0])?;
        for value in old.iter().values() {
            // Stored as subject (32 bytes) ‖ signed bytes.
            let value = value?;
            let bytes = value
                .get(32..)
                .ok_or_else(|| corrupt("attestations", "short record"))?;
            self.attestations
                .insert(Digest::of(bytes).as_bytes(), bytes)?;
        }
        self.db.flush()?;
        for name in names {
            self.db.drop_tree(name)?;
        }
        self.db.flush()?;
        Ok(())
    }

    /// Waits until every write this thread applied so far is on disk.
    fn durable(&self) -> Result<(), StoreError> {
        let ticket = self.commit.ticket();
        self.commit.wait(ticket, || self.flush_all())
    }

    /// One flush: sled's log, then the files sled and the chunk store wrote beside it.
    fn flush_all(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.disk.sync()
    }

    /// A session step's atomic write (see [`Store::commit_session_step`]), not yet synced.
    fn write_session_step(&self, step: &SessionStep<'_>) -> Result<(), StoreError> {
        check_status(&step.record.status)?;
        let encoded = encode_session(step.record);
        let id = step.session;
        {
            // Evidence indices are picked under the append lock; the rest of the step goes
            // in the same transaction, so it is all on disk or none of it is.
            let _guard = self.lock_appends();
            let next = match self.evidence.last()? {
                Some((key, _)) => u64_at(&key, "evidence")? + 1,
                None => 0,
            };
            if next != step.evidence_from {
                return Err(StoreError::OutOfOrder {
                    table: "evidence",
                    expected: next,
                    got: step.evidence_from,
                });
            }
            unwrap_tx(
                (
                    &self.evidence,
                    &self.sessions,
                    &self.sessions_by_status,
                    &self.webhooks,
                    &self.outbox,
                )
                    .transaction(
                        |(evidence, sessions, by_status, webhooks, outbox)| {
                            for (i, entry) in (step.evidence_from..).zip(step.evidence) {
                                evidence.insert(&i.to_be_bytes()[..], &entry[..])?;
                            }
                            if let Some(old) = sessions.get(id.as_bytes())? {
                                let old = decode_session(&old)
                                    .map_err(ConflictableTransactionError::Abort)?;
                                by_status.remove(status_key(&old.status, id))?;
                            }
                            sessions.insert(&id.as_bytes()[..], &encoded[..])?;
                            by_status.insert(status_key(&step.record.status, id), &[][..])?;
                            for (wid, record) in step.webhooks {
                                webhooks.insert(&wid.0[..], &record[..])?;
                            }
                            for (key, entry) in step.outbox {
                                outbox.insert(&outbox_key(key)[..], &entry[..])?;
                            }
                            Ok(())
                        },
                    ),
            )?;
        }
        Ok(())
    }

    fn lock_appends(&self) -> MutexGuard<'_, ()> {
        // The lock guards no data, only the read-then-insert of an index.
        self.append_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
impl SledStore {
    /// Replaces a chunk's bytes, bypassing content addressing (to simulate corruption).
    pub(crate) fn overwrite_chunk(&self, digest: &Digest, bytes: &[u8]) {
        self.chunks.overwrite(digest, bytes);
    }

    /// How many blob files the last sync knew as synced.
    pub(crate) fn synced_blob_count(&self) -> usize {
        self.disk.synced.lock().unwrap().len()
    }
}

/// What sled's `flush` leaves undone, done after it: see "Durability" on [`SledStore`].
#[derive(Debug)]
struct DiskSync {
    /// sled 0.34's log file, `<dir>/db`.
    log: File,
    /// sled 0.34's directory of large values, `<dir>/blobs`.
    blobs: PathBuf,
    /// Blob files already synced, with the length they had then.
    synced: Mutex<BTreeMap<OsString, u64>>,
}

impl DiskSync {
    fn open(dir: &Path) -> Result<Self, StoreError> {
        let log = File::open(dir.join("db")).map_err(io_error)?;
        Ok(Self {
            log,
            blobs: dir.join("blobs"),
            synced: Mutex::new(BTreeMap::new()),
        })
    }

    /// Makes what sled flushed durable: new blob files, their directory, then the log.
    fn sync(&self) -> Result<(), StoreError> {
        // Only the group-commit leader calls this; the map holds no invariant a panic
        // could break.
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        let mut current = BTreeMap::new();
        let mut new_files = false;
        match fs::read_dir(&self.blobs) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(io_error)?;
                    let Ok(meta) = entry.metadata() else {
                        continue; // removed by sled's cleaner meanwhile
                    };
                    let name = entry.file_name();
                    if synced.get(&name) != Some(&meta.len()) {
                        match File::open(entry.path()) {
                            Ok(file) => file.sync_all().map_err(io_error)?,
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(e) => return Err(io_error(e)),
                        }
                        new_files = true;
                    }
                    current.insert(name, meta.len());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(e)),
        }
        if new_files {
            File::open(&self.blobs)
                .and_then(|d| d.sync_all())
                .map_err(io_error)?;
        }
        *synced = current;
        self.log.sync_data().map_err(io_error)
    }
}

fn io_error(error: std::io::Error) -> StoreError {
    StoreError::Backend(BackendError::new(error))
}

/// Leader-based group commit: see [`SledStore`].
#[derive(Debug, Default)]
struct GroupCommit {
    state: Mutex<CommitState>,
    flushed: Condvar,
}

#[derive(Debug, Default)]
struct CommitState {
    /// Tickets handed out: one per write that asked to be made durable.
    issued: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    /// A flush is running.
    flushing: bool,
    /// Flushes led so far.
    rounds: u64,
}

impl GroupCommit {
    /// A ticket for the writes applied so far: a flush that starts after it is taken covers
    /// them.
    fn ticket(&self) -> u64 {
        // The counters stay consistent under any panic, so a poisoned lock is usable.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.issued += 1;
        state.issued
    }

    /// Returns once `ticket` is durable: at once if a flush covering it has completed;
    /// otherwise after the running flush (if it covers the ticket) or one this caller leads
    /// with `flush`, which covers every ticket issued before it starts.
    fn wait(
        &self,
        ticket: u64,
        flush: impl Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if state.flushing {
                state = self
                    .flushed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead a flush covering every ticket issued so far: those writes were applied
            // before their tickets were taken, hence before this flush starts.
            state.flushing = true;
            state.rounds += 1;
            let covers = state.issued;
            drop(state);
            let result = flush();
            state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.flushing = false;
            if result.is_ok() {
                state.durable = state.durable.max(covers);
            }
            self.flushed.notify_all();
            // On failure, waiting writers retry (one leads the next flush); this one reports.
            result?;
        }
    }
}

fn key_event_key(party: &PartyId, index: u64) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(party.digest().as_bytes());
    key[32..].copy_from_slice(&index.to_be_bytes());
    key
}

fn outbox_key(key: &OutboxKey) -> [u8; 40] {
    key_event_key(&key.recipient, key.seq)
}

fn digest_at(bytes: &[u8], table: &'static str) -> Result<Digest, StoreError> {
    bytes
        .get(..32)
        .and_then(|b| Digest::from_slice(b).ok())
        .ok_or_else(|| corrupt(table, "short key"))
}

fn u64_at(bytes: &[u8], table: &'static str) -> Result<u64, StoreError> {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt(table, "short key"))
}

fn corrupt(table: &'static str, reason: &str) -> StoreError {
    StoreError::Corrupt {
        table,
        reason: reason.into(),
    }
}

fn encode_session(record: &SessionRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + record.status.len() + record.state.len());
    // check_status bounds the length by MAX_STATUS_LEN (< 256).
    out.push(record.status.len() as u8);
    out.extend_from_slice(record.status.as_bytes());
    out.extend_from_slice(&record.state);
    out
}

fn decode_session(bytes: &[u8]) -> Result<SessionRecord, StoreError> {
    let bad = || corrupt("sessions", "bad session record");
    let (&len, rest) = bytes.split_first().ok_or_else(bad)?;
    let status = rest.get(..len as usize).ok_or_else(bad)?;
    let status = std::str::from_utf8(status).map_err(|_| bad())?.to_owned();
    Ok(SessionRecord {
        status,
        state: rest[len as usize..].to_vec(),
    })
}

fn status_key(status: &str, id: &SessionId) -> Vec<u8> {
    let mut key = Vec::with_capacity(status.len() + 33);
    key.extend_from_slice(status.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
    key
}

fn unwrap_tx<T>(result: Result<T, TransactionError<StoreError>>) -> Result<T, StoreError> {
    result.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => e.into(),
    })
}

impl Store for SledStore {
    fn append_key_event(
        &self,
        party: &PartyId,
        index: u64,
        event: &[u8],
    ) -> Result<(), StoreError> {
        {
            let _guard = self.lock_appends();
            let next = match self
                .key_logs
                .scan_prefix(party.digest().as_bytes())
                .keys()
                .next_back()
            {
                Some(key) => u64_at(&key?[32..], "key_logs")? + 1,
                None => 0,
            };
            if index != next {
                return Err(StoreError::OutOfOrder {
                    table: "key_logs",
                    expected: next,
                    got: index,
                });
            }
            self.key_logs.insert(key_event_key(party, index), event)?;
        }
        self.durable()
    }

    fn key_events(&self, party: &PartyId) -> Result<Vec<Vec<u8>>, StoreError> {
        self.key_logs
            .scan_prefix(party.digest().as_bytes())
            .values()
            .map(|v| Ok(v?.to_vec()))
            .collect()
    }

    fn key_log_parties(&self) -> Result<Vec<PartyId>, StoreError> {
        let mut parties: Vec<PartyId> = Vec::new();
        for key in self.key_logs.iter().keys() {
            let party = PartyId::from_digest(digest_at(&key?, "key_logs")?);
            if parties.last() != Some(&party) {
                parties.push(party);
            }
        }
        Ok(parties)
    }

    fn put_attestation(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        self.attestations.insert(digest.as_bytes(), bytes)?;
        self.durable()
    }

    fn remove_attestation(&self, digest: &Digest) -> Result<(), StoreError> {
        self.attestations.remove(digest.as_bytes())?;
        self.durable()
    }

    fn attestations(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.attestations
            .iter()
            .values()
            .map(|v| Ok(v?.to_vec()))
            .collect()
    }

    fn put_session(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        check_status(&record.status)?;
        let encoded = encode_session(record);
        unwrap_tx((&self.sessions, &self.sessions_by_status).transaction(
            |(sessions, by_status)| {
                if let Some(old) = sessions.get(id.as_bytes())? {
                    let old = decode_session(&old).map_err(ConflictableTransactionError::Abort)?;
                    by_status.remove(status_key(&old.status, id))?;
                }
                sessions.insert(&id.as_bytes()[..], &encoded[..])?;
                by_status.insert(status_key(&record.status, id), &[][..])?;
                Ok(())
            },
        ))?;
        self.durable()
    }

    fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.sessions
            .get(id.as_bytes())?
            .map(|v| decode_session(&v))
            .transpose()
    }

    fn sessions_page(
        &self,
        status: &str,
        after: Option<&SessionId>,
        limit: usize,
    ) -> Result<Vec<SessionId>, StoreError> {
        check_status(status)?;
        let mut prefix = status.as_bytes().to_vec();
        prefix.push(0);
        let mut end = status.as_bytes().to_vec();
        end.push(1);
        let start = match after {
            // The key just after `after`'s own.
            Some(id) => {
                let mut k = status_key(status, id);
                k.push(0);
                k
            }
            None => prefix.clone(),
        };
        self.sessions_by_status
            .range(start..end)
            .keys()
            .take(limit)
            .map(|key| {
                let key = key?;
                let id = digest_at(&key[prefix.len()..], "sessions_by_status")?;
                Ok(SessionId::from_bytes(*id.as_bytes()))
            })
            .collect()
    }

    fn count_sessions(&self, status: &str) -> Result<u64, StoreError> {
        check_status(status)?;
        let mut prefix = status.as_bytes().to_vec();
        prefix.push(0);
        let mut n = 0u64;
        for key in self.sessions_by_status.scan_prefix(&prefix).keys() {
            key?;
            n += 1;
        }
        Ok(n)
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.meta.get(name.as_bytes())?.map(|v| v.to_vec()))
    }

    fn meta_names(&self) -> Result<Vec<String>, StoreError> {
        self.meta
            .iter()
            .keys()
            .map(|key| {
                String::from_utf8(key?.to_vec()).map_err(|_| corrupt("meta", "name is not UTF-8"))
            })
            .collect()
    }

    fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.meta.insert(name.as_bytes(), value)?;
        self.durable()
    }

    fn sessions_with_status(&self, status: &str) -> Result<Vec<SessionId>, StoreError> {
        check_status(status)?;
        let mut prefix = status.as_bytes().to_vec();
        prefix.push(0);
        self.sessions_by_status
            .scan_prefix(&prefix)
            .keys()
            .map(|key| {
                let key = key?;
                let id = digest_at(&key[prefix.len()..], "sessions_by_status")?;
                Ok(SessionId::from_bytes(*id.as_bytes()))
            })
            .collect()
    }

    fn put_chunk(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        self.chunks.put(digest, bytes)
    }

    fn chunk(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        self.chunks.get(digest)
    }

    fn put_manifest(&self, document: &Digest, manifest: &Manifest) -> Result<(), StoreError> {
        // The chunks are durable before the manifest that names them is written.
        self.chunks.sync(manifest.chunks())?;
        self.manifests
            .insert(document.as_bytes(), manifest.encode())?;
        self.durable()
    }

    fn manifest(&self, document: &Digest) -> Result<Option<Manifest>, StoreError> {
        self.manifests
            .get(document.as_bytes())?
            .map(|v| Manifest::decode(&v).ok_or_else(|| corrupt("manifests", "bad manifest")))
            .transpose()
    }

    fn documents(&self) -> Result<Vec<Digest>, StoreError> {
        self.manifests
            .iter()
            .keys()
            .map(|key| digest_at(&key?, "manifests"))
            .collect()
    }

    fn append_evidence(&self, entry: &[u8]) -> Result<u64, StoreError> {
        let index = {
            let _guard = self.lock_appends();
            let index = match self.evidence.last()? {
                Some((key, _)) => u64_at(&key, "evidence")? + 1,
                None => 0,
            };
            self.evidence.insert(index.to_be_bytes(), entry)?;
            index
        };
        self.durable()?;
        Ok(index)
    }

    fn append_evidence_batch(&self, from: u64, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        {
            let _guard = self.lock_appends();
            let len = self.evidence_len()?;
            if len != from {
                return Err(StoreError::OutOfOrder {
                    table: "evidence",
                    expected: len,
                    got: from,
                });
            }
            let mut batch = sled::Batch::default();
            for (i, entry) in (from..).zip(entries) {
                batch.insert(&i.to_be_bytes()[..], &entry[..]);
            }
            self.evidence.apply_batch(batch)?;
        }
        self.durable()
    }

    fn commit_session_step(&self, step: &SessionStep<'_>) -> Result<(), StoreError> {
        self.write_session_step(step)?;
        self.durable()
    }

    fn commit_session_step_deferred(&self, step: &SessionStep<'_>) -> Result<(), StoreError> {
        self.write_session_step(step)?;
        // The ticket is taken after the write: any flush that starts after this covers it.
        let ticket = self.commit.ticket();
        self.deferred.fetch_max(ticket, Ordering::SeqCst);
        Ok(())
    }

    fn sync(&self) -> Result<(), StoreError> {
        // Whoever calls this may have seen (or written) any deferred step so far, so it waits
        // for the newest: not merely for a flush to start, since one that another caller
        // leads may still be running (returning then would acknowledge a step not yet on
        // disk). With nothing deferred since the last flush, this is one uncontended lock.
        match self.deferred.load(Ordering::SeqCst) {
            0 => Ok(()),
            ticket => self.commit.wait(ticket, || self.flush_all()),
        }
    }

    fn flushes(&self) -> Option<u64> {
        // The counters stay consistent under any panic, so a poisoned lock is usable.
        let state = self.commit.state.lock();
        Some(state.unwrap_or_else(PoisonError::into_inner).rounds)
    }

    fn evidence(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.evidence.get(index.to_be_bytes())?.map(|v| v.to_vec()))
    }

    fn evidence_len(&self) -> Result<u64, StoreError> {
        match self.evidence.last()? {
            Some((key, _)) => Ok(u64_at(&key, "evidence")? + 1),
            None => Ok(0),
        }
    }

    fn evidence_range(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut entries = Vec::new();
        let range = self.evidence.range(from.to_be_bytes()..to.to_be_bytes());
        for (expected, item) in (from..).zip(range) {
            let (key, value) = item?;
            if u64_at(&key, "evidence")? != expected {
                break;
            }
            entries.push(value.to_vec());
        }
        Ok(entries)
    }

    fn put_evidence_block(&self, index: u64, hash: &Digest) -> Result<(), StoreError> {
        self.evidence_blocks
            .insert(index.to_be_bytes(), &hash.as_bytes()[..])?;
        Ok(())
    }

    fn evidence_blocks(&self) -> Result<Vec<Digest>, StoreError> {
        let mut blocks = Vec::new();
        for item in self.evidence_blocks.iter() {
            let (key, value) = item?;
            if u64_at(&key, "evidence_blocks")? != blocks.len() as u64 {
                break;
            }
            blocks.push(digest_at(&value, "evidence_blocks")?);
        }
        Ok(blocks)
    }

    fn put_outbox(&self, key: &OutboxKey, entry: &[u8]) -> Result<(), StoreError> {
        self.outbox.insert(outbox_key(key), entry)?;
        self.durable()
    }

    fn put_outbox_batch(&self, entries: &[(OutboxKey, Vec<u8>)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, entry) in entries {
            batch.insert(&outbox_key(key)[..], &entry[..]);
        }
        self.outbox.apply_batch(batch)?;
        self.durable()
    }

    fn remove_outbox(&self, key: &OutboxKey) -> Result<(), StoreError> {
        // Not synced: see the trait. sled writes it out with the next flush.
        self.outbox.remove(outbox_key(key))?;
        Ok(())
    }

    fn outbox_entry(&self, key: &OutboxKey) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.outbox.get(outbox_key(key))?.map(|v| v.to_vec()))
    }

    fn outbox_entries(&self) -> Result<Vec<(OutboxKey, Vec<u8>)>, StoreError> {
        self.outbox
            .iter()
            .map(|item| {
                let (key, value) = item?;
                let recipient = PartyId::from_digest(digest_at(&key, "outbox")?);
                let seq = u64_at(key.get(32..).unwrap_or_default(), "outbox")?;
                Ok((OutboxKey { recipient, seq }, value.to_vec()))
            })
            .collect()
    }

    fn put_webhook_delivery(
        &self,
        id: &WebhookDeliveryId,
        record: &[u8],
    ) -> Result<(), StoreError> {
        self.webhooks.insert(id.0, record)?;
        self.durable()
    }

    fn remove_webhook_delivery(&self, id: &WebhookDeliveryId) -> Result<(), StoreError> {
        self.webhooks.remove(id.0)?;
        self.durable()
    }

    fn webhook_deliveries(&self) -> Result<Vec<(WebhookDeliveryId, Vec<u8>)>, StoreError> {
        self.webhooks
            .iter()
            .map(|item| {
                let (key, value) = item?;
                let id: [u8; 16] = key[..]
                    .try_into()
                    .map_err(|_| corrupt("webhooks", "bad key"))?;
                Ok((WebhookDeliveryId(id), value.to_vec()))
            })
            .collect()
    }
}

#[cfg(test)]
mod group_commit_tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Barrier, mpsc};

    use super::*;

    /// A writer whose ticket another caller's flush covers must wait for that flush to end:
    /// returning when the flush merely started would acknowledge a write not yet on disk.
    #[test]
    fn a_ticket_covered_by_a_running_flush_waits_for_it_to_complete() {
        let commit = Arc::new(GroupCommit::default());
        let ticket = commit.ticket();
        let (started, flushing) = mpsc::channel();
        let release = Arc::new(Barrier::new(2));
        let leader = {
            let (commit, release) = (commit.clone(), release.clone());
            std::thread::spawn(move || {
                let own = commit.ticket();
                commit.wait(own, || {
                    started.send(()).unwrap();
                    release.wait();
                    Ok(())
                })
            })
        };
        flushing.recv().unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (commit, done) = (commit.clone(), done.clone());
            std::thread::spawn(move || {
                // Never leads here: the running flush covers the ticket.
                let result = commit.wait(ticket, || panic!("a second flush was not needed"));
                done.store(true, Ordering::SeqCst);
                result
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(!done.load(Ordering::SeqCst), "returned while the flush ran");
        release.wait();
        leader.join().unwrap().unwrap();
        waiter.join().unwrap().unwrap();
        assert!(done.load(Ordering::SeqCst));
        assert_eq!(commit.state.lock().unwrap().rounds, 1);
    }

    /// A failed flush makes nothing durable: the next caller leads another.
    #[test]
    fn after_a_failed_flush_the_ticket_is_flushed_again() {
        let commit = GroupCommit::default();
        let ticket = commit.ticket();
        let failure = || Err(io_error(std::io::Error::other("disk full")));
        assert!(commit.wait(ticket, failure).is_err());
        let flushed = AtomicBool::new(false);
        commit
            .wait(ticket, || {
                flushed.store(true, Ordering::SeqCst);
                Ok(())
            })
            .unwrap();
        assert!(flushed.load(Ordering::SeqCst));
        // Durable now: waiting again flushes nothing.
        commit.wait(ticket, || panic!("flushed twice")).unwrap();
    }
}
