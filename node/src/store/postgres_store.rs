//! The PostgreSQL implementation of [`Store`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::{Client, NoTls};
use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use tracing::{debug, warn};

use super::postgres_lease::{
    Fence, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_RETRIES, VANISHED_AFTER,
};
use super::{
    BackendError, Manifest, OutboxKey, SessionRecord, SessionStep, Store, StoreError,
    WebhookDeliveryId, check_status,
};

/// How many connections [`PostgresStore::open`] keeps when not told otherwise.
pub const DEFAULT_CONNECTIONS: usize = 4;

/// The most connections one store keeps (each is a thread and a server process).
pub const MAX_CONNECTIONS: usize = 64;

/// How long connecting to the server may take before the store gives up.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The advisory-lock key under which schema migrations run, so that two nodes starting
/// against one new database do not both create the tables ("signetmg" in ASCII).
const MIGRATION_LOCK: i64 = 0x7369_676e_6574_6d67;

// The schema, as refinery migrations compiled into the binary (`V<n>__<name>.sql`). A
// database migrated by a newer version (one with migrations this binary does not know) is
// refused rather than used.
#[allow(unreachable_pub, missing_docs)]
mod embedded {
    refinery::embed_migrations!("src/store/postgres_migrations");
}

/// [`Store`] on a PostgreSQL server (version 13 or later).
///
/// # Layout
///
/// One table per kind of record (see `node/src/store/postgres_migrations/`), keyed by the
/// same fixed-width identifiers as [`super::SledStore`]'s trees, as `bytea`, whose order
/// in PostgreSQL is bytewise: scans come back in the order the trait promises. Sessions
/// carry their status in a column with an index on `(status, id)`, so the status index
/// cannot disagree with the records. Document chunks are rows too (`bytea`, at most
/// [`super::CHUNK_SIZE`] each, stored out of line uncompressed): a database backup or
/// replica then holds every document, with nothing beside it on a file system; a document is
/// written and read one chunk per statement, so it is never in memory whole. The schema is
/// created and upgraded by [refinery](https://github.com/rust-db/refinery) migrations
/// embedded in the binary, under an advisory lock.
///
/// # Durability and atomicity
///
/// Every mutating method is one transaction, committed before it returns; with
/// PostgreSQL's `synchronous_commit = on` a commit returns once its WAL record is flushed.
/// The store turns `synchronous_commit` back on for its own connections if the server's
/// default is `off` (and warns at open if the server runs with `fsync = off`, which no client
/// can make up for). [`Store::put_chunk`] and [`Store::remove_outbox`], which the trait
/// allows to be lost, commit with `synchronous_commit = off`: a later synchronous commit
/// (the document's manifest) flushes the WAL up to itself, and so them with it.
///
/// [`Store::commit_session_step`] is one transaction: it first moves the evidence log's
/// length (a single row) from the step's `evidence_from` to the new length, which matches
/// no row if another append came first ([`StoreError::OutOfOrder`], and nothing of the step
/// is written); the row's lock orders concurrent appenders, across processes too.
///
/// # A standby, and fencing
///
/// Several processes of one party may share its database, one at a time active: the holder
/// of the party's [`super::PartyLease`] opens its store with [`PostgresStore::open_fenced`],
/// and every write transaction then first checks, under a share lock on the `lease` row,
/// that the lease's epoch is still the one it took ([`StoreError::Fenced`] otherwise, with
/// nothing committed). Each mutating method is one transaction for that reason too. Reads
/// are not fenced. Every connection sets TCP keepalive on both its ends (see
/// [`super::VANISHED_AFTER`]), so that the server ends the connections of a node whose
/// machine vanished, and with them its lease and row locks.
///
/// # Threads
///
/// The trait is synchronous and is called from `spawn_blocking` and, for document chunks,
/// from async tasks. The `postgres` client runs its own small Tokio runtime per connection,
/// which must not be entered from a thread already inside one. So each connection lives on
/// a dedicated thread of the store's, and a call hands its work to one of them over a
/// bounded channel and waits for the answer: it works the same from any thread. A
/// connection found broken is opened again for the next call, and the store's other
/// connections check theirs before their next use; the call that found it fails with
/// [`StoreError::Backend`] and is not retried (a commit whose outcome is unknown must not be
/// applied twice).
pub struct PostgresStore {
    jobs: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
    /// Where the store is, without credentials (for logs and `Debug`).
    target: String,
    /// For a store of the party's lease holder: the lease every write checks it still holds.
    fence: Option<Fence>,
}

type Job = Box<dyn FnOnce(&mut Link) + Send>;

/// How long checking an idle connection may take.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection, owned by one worker thread, opened again when found broken.
///
/// The `postgres` client notices a broken connection only when it uses it, so after a
/// server restart each idle connection would fail one call of its own. Instead, the first
/// connection to find its connection broken bumps `breaks`, shared by the store's
/// connections, and each of them checks its own (a round trip) before its next use.
struct Link {
    config: postgres::Config,
    client: Option<Client>,
    /// How many broken connections the store's connections have found.
    breaks: Arc<AtomicU64>,
    /// `breaks` when this connection was last known good.
    seen: u64,
}

impl Link {
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        let breaks = self.breaks.load(Ordering::Acquire);
        if let Some(client) = &mut self.client
            && (client.is_closed()
                || (self.seen != breaks && client.is_valid(PING_TIMEOUT).is_err()))
        {
            self.client = None;
        }
        let client = match self.client.take() {
            Some(client) => client,
            None => connect(&self.config)?,
        };
        self.seen = breaks;
        Ok(self.client.insert(client))
    }

    /// After a call failed: if the connection is what failed, drop it (the next call
    /// opens a new one) and tell the other connections to check theirs.
    fn check_after_error(&mut self) {
        if let Some(client) = &mut self.client
            && (client.is_closed() || client.is_valid(PING_TIMEOUT).is_err())
        {
            self.client = None;
            self.breaks.fetch_add(1, Ordering::AcqRel);
        }
    }
}

fn connect(config: &postgres::Config) -> Result<Client, StoreError> {
    let mut client = config.connect(NoTls)?;
    keep_alive(&mut client)?;
    // The durability contract needs synchronous commits; `local` and the remote levels
    // are at least as strong as `on` on this server.
    let level: String = client
        .query_one("SHOW synchronous_commit", &[])?
        .try_get(0)?;
    if level == "off" {
        client.batch_execute("SET synchronous_commit = on")?;
    }
    Ok(client)
}

/// Parses a URL or connection string, with keepalive and a TCP user timeout on the
/// client's end of its connections: a server that vanished is noticed within
/// [`VANISHED_AFTER`], whether the connection was idle or waiting for an answer.
pub(super) fn parse_url(url: &str) -> Result<postgres::Config, StoreError> {
    let mut config: postgres::Config =
        url.parse()
            .map_err(|e: postgres::Error| StoreError::BadUrl {
                // The parser's message names the bad part, never the password.
                reason: e.to_string(),
            })?;
    config
        .keepalives(true)
        .keepalives_idle(KEEPALIVE_IDLE)
        .keepalives_interval(KEEPALIVE_INTERVAL)
        .keepalives_retries(KEEPALIVE_RETRIES)
        .tcp_user_timeout(VANISHED_AFTER);
    Ok(config)
}

/// Sets keepalive on the server's end of a connection (for its own socket; ignored on a
/// Unix socket): the server ends the connection of a node whose machine vanished within
/// [`VANISHED_AFTER`], which releases its lease and any row lock it held. Without it, the
/// operating system's default keeps a dead connection for hours.
pub(super) fn keep_alive(client: &mut Client) -> Result<(), StoreError> {
    client.batch_execute(&format!(
        "SET tcp_keepalives_idle = {}; SET tcp_keepalives_interval = {}; \
         SET tcp_keepalives_count = {}; SET tcp_user_timeout = {}",
        KEEPALIVE_IDLE.as_secs(),
        KEEPALIVE_INTERVAL.as_secs(),
        KEEPALIVE_RETRIES,
        VANISHED_AFTER.as_millis()
    ))?;
    Ok(())
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("connections", &self.workers.len())
            .finish()
    }
}

/// Where a configuration points, without its password.
fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "postgres://{}@{}:{}/{}",
        config.get_user().unwrap_or("(default user)"),
        hosts.join(","),
        ports.join(","),
        config.get_dbname().unwrap_or("(default database)")
    )
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL or a `key=value` connection
    /// string, as libpq takes them; no TLS yet: use a Unix socket or a trusted network) with
    /// `connections` connections (at least 1, at most [`MAX_CONNECTIONS`]), and creates or
    /// upgrades the schema.
    ///
    /// Its writes are not fenced: for a node that may have a standby, take the party's
    /// lease and use [`PostgresStore::open_fenced`].
    pub fn open(url: &str, connections: usize) -> Result<Self, StoreError> {
        Self::open_with(url, connections, None)
    }

    /// [`PostgresStore::open`] for the holder of the party's lease ([`super::PartyLease`]):
    /// every write transaction first checks that the lease's epoch is still `fence`'s, and
    /// fails with [`StoreError::Fenced`] (committing nothing) once another process took it.
    pub fn open_fenced(url: &str, connections: usize, fence: Fence) -> Result<Self, StoreError> {
        Self::open_with(url, connections, Some(fence))
    }

    fn open_with(url: &str, connections: usize, fence: Option<Fence>) -> Result<Self, StoreError> {
        let mut config = parse_url(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let target = describe(&config);
        let connections = connections.clamp(1, MAX_CONNECTIONS);
        // Bounded: a caller waits for a free connection rather than queueing without end.
        let (jobs, queue) = sync_channel::<Job>(connections);
        let queue = Arc::new(Mutex::new(queue));
        let breaks = Arc::new(AtomicU64::new(0));
        let (ready, started) = sync_channel(connections);
        let mut workers = Vec::with_capacity(connections);
        for n in 0..connections {
            let queue = queue.clone();
            let ready = ready.clone();
            let config = config.clone();
            let breaks = breaks.clone();
            let worker = std::thread::Builder::new()
                .name(format!("postgres-{n}"))
                .spawn(move || work(config, breaks, &queue, &ready))
                .map_err(|e| StoreError::Backend(BackendError::new(e)))?;
            workers.push(worker);
        }
        drop(ready);
        let store = Self {
            jobs: Some(jobs),
            workers,
            target,
            fence,
        };
        // Every connection must open: a wrong password or an unreachable server shows at
        // start, not at the first write.
        for _ in 0..connections {
            match started.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(store.stopped()),
            }
        }
        store.run(migrate)?;
        debug!(target = %store.target, connections, "opened PostgreSQL store");
        Ok(store)
    }

    /// Runs `job` on one of the store's connections and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = sync_channel(1);
        let job: Job = Box::new(move |link: &mut Link| {
            let result = link.client().and_then(job);
            let failed = result.is_err();
            // The caller may have gone (it cannot: it waits below); nothing to do then.
            let _ = answer.send(result);
            if failed {
                link.check_after_error();
            }
        });
        let jobs = self.jobs.as_ref().ok_or_else(|| self.stopped())?;
        jobs.send(job).map_err(|_| self.stopped())?;
        answered.recv().map_err(|_| self.stopped())?
    }

    /// Runs `job` in a transaction on one of the store's connections and commits it; for a
    /// fenced store, only while this process still holds the party's lease.
    fn write<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let fence = self.fence.clone();
        self.run(move |c| {
            let mut tx = c.transaction()?;
            if let Some(fence) = &fence {
                fence.check(&mut tx)?;
            }
            let value = job(&mut tx)?;
            tx.commit()?;
            Ok(value)
        })
    }

    fn stopped(&self) -> StoreError {
        StoreError::Backend(BackendError::new(std::io::Error::other(format!(
            "the connection threads of {} have stopped",
            self.target
        ))))
    }
}

#[cfg(test)]
impl PostgresStore {
    /// Replaces a chunk's bytes, bypassing content addressing (to simulate corruption).
    pub(crate) fn overwrite_chunk(&self, digest: &Digest, bytes: &[u8]) {
        let (digest, bytes) = (digest.as_bytes().to_vec(), bytes.to_vec());
        self.run(move |c| {
            c.execute(
                "UPDATE chunks SET bytes = $2 WHERE digest = $1",
                &[&digest, &bytes],
            )?;
            Ok(())
        })
        .unwrap();
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closing the queue ends every worker after its current job; each closes its
        // connection as it goes.
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A worker thread: connects, reports, then runs jobs until the store is dropped.
fn work(
    config: postgres::Config,
    breaks: Arc<AtomicU64>,
    queue: &Mutex<Receiver<Job>>,
    ready: &SyncSender<Result<(), StoreError>>,
) {
    let mut link = Link {
        client: None,
        config,
        breaks,
        seen: 0,
    };
    let _ = ready.send(link.client().map(|_| ()));
    loop {
        // Whoever holds the lock waits for the next job; the others wait for the lock.
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { break };
        if catch_unwind(AssertUnwindSafe(|| job(&mut link))).is_err() {
            // The connection may be mid-transaction: start afresh. The caller sees the
            // dropped answer channel as an error.
            link.client = None;
        }
    }
}

pub(super) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let fsync: String = client.query_one("SHOW fsync", &[])?.try_get(0)?;
    if fsync != "on" {
        warn!(
            "the PostgreSQL server runs with fsync = off: a power loss can lose acknowledged writes"
        );
    }
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let migrated = embedded::migrations::runner()
        .set_abort_divergent(true)
        .set_abort_missing(true)
        .run(client)
        .map(|report| report.applied_migrations().len())
        .map_err(|e| StoreError::Backend(BackendError::new(e)));
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    let applied = migrated?;
    unlocked?;
    if applied > 0 {
        debug!(applied, "migrated the PostgreSQL schema");
    }
    Ok(())
}

fn corrupt(table: &'static str, reason: &str) -> StoreError {
    StoreError::Corrupt {
        table,
        reason: reason.into(),
    }
}

fn digest_from(bytes: &[u8], table: &'static str) -> Result<Digest, StoreError> {
    Digest::from_slice(bytes).map_err(|_| corrupt(table, "bad key length"))
}

fn count(value: i64, table: &'static str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(table, "negative count"))
}

/// An outbox sequence number as a bigint in the same order: the top bit flipped.
fn seq_key(seq: u64) -> i64 {
    (seq ^ (1 << 63)) as i64
}

fn seq_from_key(key: i64) -> u64 {
    (key as u64) ^ (1 << 63)
}

/// Stores a session's record: the status index is the same row.
fn upsert_session(
    client: &mut impl postgres::GenericClient,
    id: &[u8],
    record: &SessionRecord,
) -> Result<(), StoreError> {
    client.execute(
        "INSERT INTO sessions (id, status, state) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, state = EXCLUDED.state",
        &[&id, &record.status, &record.state],
    )?;
    Ok(())
}

/// Stores outbox entries, replacing any under the same keys, in one statement.
fn upsert_outbox(
    client: &mut impl postgres::GenericClient,
    entries: &[(OutboxKey, Vec<u8>)],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let recipients: Vec<&[u8]> = entries
        .iter()
        .map(|(k, _)| &k.recipient.digest().as_bytes()[..])
        .collect();
    let seqs: Vec<i64> = entries.iter().map(|(k, _)| seq_key(k.seq)).collect();
    let values: Vec<&[u8]> = entries.iter().map(|(_, v)| &v[..]).collect();
    client.execute(
        "INSERT INTO outbox (recipient, seq_key, entry) \
         SELECT * FROM unnest($1::bytea[], $2::int8[], $3::bytea[]) \
         ON CONFLICT (recipient, seq_key) DO UPDATE SET entry = EXCLUDED.entry",
        &[&recipients, &seqs, &values],
    )?;
    Ok(())
}

fn upsert_webhooks(
    client: &mut impl postgres::GenericClient,
    deliveries: &[(WebhookDeliveryId, Vec<u8>)],
) -> Result<(), StoreError> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let ids: Vec<&[u8]> = deliveries.iter().map(|(id, _)| &id.0[..]).collect();
    let records: Vec<&[u8]> = deliveries.iter().map(|(_, r)| &r[..]).collect();
    client.execute(
        "INSERT INTO webhook_deliveries (id, record) \
         SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
         ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
        &[&ids, &records],
    )?;
    Ok(())
}

fn evidence_len(client: &mut impl postgres::GenericClient) -> Result<u64, StoreError> {
    let len: i64 = client
        .query_one("SELECT len FROM evidence_head", &[])?
        .try_get(0)?;
    count(len, "evidence_head")
}

/// Appends `entries` to the evidence log at `from`, inside the caller's transaction; the
/// log's length row stays locked until that transaction ends.
fn append_evidence_at(
    tx: &mut postgres::Transaction<'_>,
    from: u64,
    entries: &[Vec<u8>],
) -> Result<(), StoreError> {
    let out_of_order = |tx: &mut postgres::Transaction<'_>| -> StoreError {
        match evidence_len(tx) {
            Ok(expected) => StoreError::OutOfOrder {
                table: "evidence",
                expected,
                got: from,
            },
            Err(e) => e,
        }
    };
    let (Ok(start), Ok(n)) = (i64::try_from(from), i64::try_from(entries.len())) else {
        return Err(out_of_order(tx));
    };
    let moved = tx.execute(
        "UPDATE evidence_head SET len = len + $2 WHERE len = $1",
        &[&start, &n],
    )?;
    if moved != 1 {
        return Err(out_of_order(tx));
    }
    if !entries.is_empty() {
        tx.execute(
            "INSERT INTO evidence (idx, entry) \
             SELECT $1 + ord - 1, entry FROM unnest($2::bytea[]) WITH ORDINALITY AS e(entry, ord)",
            &[&start, &entries],
        )?;
    }
    Ok(())
}

impl Store for PostgresStore {
    fn append_key_event(
        &self,
        party: &PartyId,
        index: u64,
        event: &[u8],
    ) -> Result<(), StoreError> {
        let party = party.digest().as_bytes().to_vec();
        let event = event.to_vec();
        self.write(move |tx| {
            let next = |tx: &mut postgres::Transaction<'_>| -> Result<u64, StoreError> {
                let next: i64 = tx
                    .query_one(
                        "SELECT coalesce(max(idx) + 1, 0) FROM key_events WHERE party = $1",
                        &[&party],
                    )?
                    .try_get(0)?;
                count(next, "key_events")
            };
            let out_of_order = |expected| StoreError::OutOfOrder {
                table: "key_events",
                expected,
                got: index,
            };
            let Ok(idx) = i64::try_from(index) else {
                return Err(out_of_order(next(tx)?));
            };
            // Inserted only at the log's length; a concurrent append at the same index
            // meets the primary key and inserts nothing (an error would end the
            // transaction, and with it the look at the log's length).
            let inserted = tx.execute(
                "INSERT INTO key_events (party, idx, event) SELECT $1, $2, $3 \
                 WHERE (SELECT coalesce(max(idx) + 1, 0) FROM key_events WHERE party = $1) = $2 \
                 ON CONFLICT (party, idx) DO NOTHING",
                &[&party, &idx, &event],
            )?;
            if inserted == 1 {
                Ok(())
            } else {
                Err(out_of_order(next(tx)?))
            }
        })
    }

    fn key_events(&self, party: &PartyId) -> Result<Vec<Vec<u8>>, StoreError> {
        let party = party.digest().as_bytes().to_vec();
        self.run(move |c| {
            c.query(
                "SELECT event FROM key_events WHERE party = $1 ORDER BY idx",
                &[&party],
            )?
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
        })
    }

    fn key_log_parties(&self) -> Result<Vec<PartyId>, StoreError> {
        self.run(|c| {
            c.query("SELECT DISTINCT party FROM key_events ORDER BY party", &[])?
                .iter()
                .map(|row| {
                    let party: &[u8] = row.try_get(0)?;
                    Ok(PartyId::from_digest(digest_from(party, "key_events")?))
                })
                .collect()
        })
    }

    fn put_attestation(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        let (digest, bytes) = (digest.as_bytes().to_vec(), bytes.to_vec());
        self.write(move |tx| {
            // Keyed by the digest of the bytes: a row already there holds the same bytes.
            tx.execute(
                "INSERT INTO attestations (digest, bytes) VALUES ($1, $2) \
                 ON CONFLICT (digest) DO NOTHING",
                &[&digest, &bytes],
            )?;
            Ok(())
        })
    }

    fn remove_attestation(&self, digest: &Digest) -> Result<(), StoreError> {
        let digest = digest.as_bytes().to_vec();
        self.write(move |tx| {
            tx.execute("DELETE FROM attestations WHERE digest = $1", &[&digest])?;
            Ok(())
        })
    }

    fn attestations(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.run(|c| {
            c.query("SELECT bytes FROM attestations ORDER BY digest", &[])?
                .iter()
                .map(|row| Ok(row.try_get(0)?))
                .collect()
        })
    }

    fn put_session(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        check_status(&record.status)?;
        let (id, record) = (id.as_bytes().to_vec(), record.clone());
        self.write(move |tx| upsert_session(tx, &id, &record))
    }

    fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let id = id.as_bytes().to_vec();
        self.run(move |c| {
            c.query_opt("SELECT status, state FROM sessions WHERE id = $1", &[&id])?
                .map(|row| {
                    Ok(SessionRecord {
                        status: row.try_get(0)?,
                        state: row.try_get(1)?,
                    })
                })
                .transpose()
        })
    }

    fn sessions_of(&self, ids: &[SessionId]) -> Result<Vec<Option<SessionRecord>>, StoreError> {
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| id.as_bytes().to_vec()).collect();
        let ids = ids.to_vec();
        self.run(move |c| {
            let mut found = std::collections::BTreeMap::new();
            for row in c.query(
                "SELECT id, status, state FROM sessions WHERE id = ANY($1)",
                &[&keys],
            )? {
                let id = digest_from(row.try_get(0)?, "sessions")?;
                let record = SessionRecord {
                    status: row.try_get(1)?,
                    state: row.try_get(2)?,
                };
                found.insert(*id.as_bytes(), record);
            }
            Ok(ids
                .iter()
                .map(|id| found.get(id.as_bytes()).cloned())
                .collect())
        })
    }

    fn sessions_with_status(&self, status: &str) -> Result<Vec<SessionId>, StoreError> {
        check_status(status)?;
        self.sessions_page(status, None, usize::MAX)
    }

    fn sessions_page(
        &self,
        status: &str,
        after: Option<&SessionId>,
        limit: usize,
    ) -> Result<Vec<SessionId>, StoreError> {
        check_status(status)?;
        let status = status.to_owned();
        // No cursor is NULL: from the first id.
        let after = after.map(|id| id.as_bytes().to_vec());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            c.query(
                "SELECT id FROM sessions WHERE status = $1 AND ($2::bytea IS NULL OR id > $2) \
                 ORDER BY id LIMIT $3",
                &[&status, &after, &limit],
            )?
            .iter()
            .map(|row| {
                let id: &[u8] = row.try_get(0)?;
                Ok(SessionId::from_bytes(
                    *digest_from(id, "sessions")?.as_bytes(),
                ))
            })
            .collect()
        })
    }

    fn count_sessions(&self, status: &str) -> Result<u64, StoreError> {
        check_status(status)?;
        let status = status.to_owned();
        self.run(move |c| {
            let n: i64 = c
                .query_one(
                    "SELECT count(*) FROM sessions WHERE status = $1",
                    &[&status],
                )?
                .try_get(0)?;
            count(n, "sessions")
        })
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let name = name.to_owned();
        self.run(move |c| {
            c.query_opt("SELECT value FROM meta WHERE name = $1", &[&name])?
                .map(|row| Ok(row.try_get(0)?))
                .transpose()
        })
    }

    fn meta_names(&self) -> Result<Vec<String>, StoreError> {
        self.run(|c| {
            c.query("SELECT name FROM meta ORDER BY name", &[])?
                .iter()
                .map(|row| Ok(row.try_get(0)?))
                .collect()
        })
    }

    fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let (name, value) = (name.to_owned(), value.to_vec());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO meta (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&name, &value],
            )?;
            Ok(())
        })
    }

    fn put_chunk(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        let (digest, bytes) = (digest.as_bytes().to_vec(), bytes.to_vec());
        self.write(move |tx| {
            // Staged, not durable (see the trait): the manifest's commit flushes it.
            tx.batch_execute("SET LOCAL synchronous_commit = off")?;
            tx.execute(
                "INSERT INTO chunks (digest, bytes) VALUES ($1, $2) \
                 ON CONFLICT (digest) DO NOTHING",
                &[&digest, &bytes],
            )?;
            Ok(())
        })
    }

    fn chunk(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let digest = digest.as_bytes().to_vec();
        self.run(move |c| {
            c.query_opt("SELECT bytes FROM chunks WHERE digest = $1", &[&digest])?
                .map(|row| Ok(row.try_get(0)?))
                .transpose()
        })
    }

    fn put_manifest(&self, document: &Digest, manifest: &Manifest) -> Result<(), StoreError> {
        let document = document.as_bytes().to_vec();
        let mut chunks: Vec<Vec<u8>> = manifest
            .chunks()
            .iter()
            .map(|d| d.as_bytes().to_vec())
            .collect();
        chunks.sort();
        chunks.dedup();
        let encoded = manifest.encode();
        self.write(move |tx| {
            // A manifest never names a chunk that is not stored; FOR SHARE keeps the
            // chunks from being deleted under it until the commit.
            let present = tx
                .query(
                    "SELECT digest FROM chunks WHERE digest = ANY($1) FOR SHARE",
                    &[&chunks],
                )?
                .len();
            if present != chunks.len() {
                return Err(corrupt(
                    "chunks",
                    &format!(
                        "{} of the document's chunks missing when it was stored",
                        chunks.len() - present
                    ),
                ));
            }
            tx.execute(
                "INSERT INTO manifests (document, manifest) VALUES ($1, $2) \
                 ON CONFLICT (document) DO UPDATE SET manifest = EXCLUDED.manifest",
                &[&document, &encoded],
            )?;
            Ok(())
        })
    }

    fn manifest(&self, document: &Digest) -> Result<Option<Manifest>, StoreError> {
        let document = document.as_bytes().to_vec();
        self.run(move |c| {
            c.query_opt(
                "SELECT manifest FROM manifests WHERE document = $1",
                &[&document],
            )?
            .map(|row| {
                let bytes: &[u8] = row.try_get(0)?;
                Manifest::decode(bytes).ok_or_else(|| corrupt("manifests", "bad manifest"))
            })
            .transpose()
        })
    }

    fn documents_present(&self, documents: &[Digest]) -> Result<Vec<bool>, StoreError> {
        let keys: Vec<Vec<u8>> = documents.iter().map(|d| d.as_bytes().to_vec()).collect();
        let documents = documents.to_vec();
        self.run(move |c| {
            let mut present = std::collections::BTreeSet::new();
            for row in c.query(
                "SELECT document FROM manifests WHERE document = ANY($1)",
                &[&keys],
            )? {
                present.insert(digest_from(row.try_get(0)?, "manifests")?);
            }
            Ok(documents.iter().map(|d| present.contains(d)).collect())
        })
    }

    fn documents(&self) -> Result<Vec<Digest>, StoreError> {
        self.run(|c| {
            c.query("SELECT document FROM manifests ORDER BY document", &[])?
                .iter()
                .map(|row| digest_from(row.try_get(0)?, "manifests"))
                .collect()
        })
    }

    fn append_evidence(&self, entry: &[u8]) -> Result<u64, StoreError> {
        let entry = entry.to_vec();
        self.write(move |tx| {
            let len: i64 = tx
                .query_one(
                    "UPDATE evidence_head SET len = len + 1 RETURNING len - 1",
                    &[],
                )?
                .try_get(0)?;
            tx.execute(
                "INSERT INTO evidence (idx, entry) VALUES ($1, $2)",
                &[&len, &entry],
            )?;
            count(len, "evidence_head")
        })
    }

    fn append_evidence_batch(&self, from: u64, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.write(move |tx| append_evidence_at(tx, from, &entries))
    }

    fn evidence(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Ok(index) = i64::try_from(index) else {
            return Ok(None);
        };
        self.run(move |c| {
            c.query_opt("SELECT entry FROM evidence WHERE idx = $1", &[&index])?
                .map(|row| Ok(row.try_get(0)?))
                .transpose()
        })
    }

    fn evidence_len(&self) -> Result<u64, StoreError> {
        self.run(evidence_len)
    }

    fn evidence_range(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let (Ok(from), Ok(to)) = (i64::try_from(from), i64::try_from(to)) else {
            return Ok(Vec::new());
        };
        self.run(move |c| {
            let rows = c.query(
                "SELECT idx, entry FROM evidence WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&from, &to],
            )?;
            let mut entries = Vec::with_capacity(rows.len());
            for (expected, row) in (from..).zip(rows) {
                if row.try_get::<_, i64>(0)? != expected {
                    break;
                }
                entries.push(row.try_get(1)?);
            }
            Ok(entries)
        })
    }

    fn put_evidence_block(&self, index: u64, hash: &Digest) -> Result<(), StoreError> {
        let index = i64::try_from(index).map_err(|_| corrupt("evidence_blocks", "index"))?;
        let hash = hash.as_bytes().to_vec();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO evidence_blocks (idx, hash) VALUES ($1, $2) \
                 ON CONFLICT (idx) DO UPDATE SET hash = EXCLUDED.hash",
                &[&index, &hash],
            )?;
            Ok(())
        })
    }

    fn evidence_blocks(&self) -> Result<Vec<Digest>, StoreError> {
        self.run(|c| {
            let rows = c.query("SELECT idx, hash FROM evidence_blocks ORDER BY idx", &[])?;
            let mut blocks = Vec::with_capacity(rows.len());
            for (expected, row) in (0i64..).zip(rows) {
                if row.try_get::<_, i64>(0)? != expected {
                    break;
                }
                let hash: &[u8] = row.try_get(1)?;
                blocks.push(
                    Digest::from_slice(hash)
                        .map_err(|_| corrupt("evidence_blocks", "hash length"))?,
                );
            }
            Ok(blocks)
        })
    }

    fn commit_session_step(&self, step: &SessionStep<'_>) -> Result<(), StoreError> {
        check_status(&step.record.status)?;
        let id = step.session.as_bytes().to_vec();
        let record = step.record.clone();
        let from = step.evidence_from;
        let evidence = step.evidence.to_vec();
        let webhooks = step.webhooks.to_vec();
        let outbox = step.outbox.to_vec();
        self.write(move |tx| {
            append_evidence_at(tx, from, &evidence)?;
            upsert_session(tx, &id, &record)?;
            upsert_webhooks(tx, &webhooks)?;
            upsert_outbox(tx, &outbox)?;
            Ok(())
        })
    }

    fn put_outbox(&self, key: &OutboxKey, entry: &[u8]) -> Result<(), StoreError> {
        self.put_outbox_batch(&[(*key, entry.to_vec())])
    }

    fn put_outbox_batch(&self, entries: &[(OutboxKey, Vec<u8>)]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.write(move |tx| upsert_outbox(tx, &entries))
    }

    fn remove_outbox(&self, key: &OutboxKey) -> Result<(), StoreError> {
        let recipient = key.recipient.digest().as_bytes().to_vec();
        let seq = seq_key(key.seq);
        self.write(move |tx| {
            // Not durable (see the trait): the next synchronous commit flushes it.
            tx.batch_execute("SET LOCAL synchronous_commit = off")?;
            tx.execute(
                "DELETE FROM outbox WHERE recipient = $1 AND seq_key = $2",
                &[&recipient, &seq],
            )?;
            Ok(())
        })
    }

    fn outbox_entry(&self, key: &OutboxKey) -> Result<Option<Vec<u8>>, StoreError> {
        let recipient = key.recipient.digest().as_bytes().to_vec();
        let seq = seq_key(key.seq);
        self.run(move |c| {
            c.query_opt(
                "SELECT entry FROM outbox WHERE recipient = $1 AND seq_key = $2",
                &[&recipient, &seq],
            )?
            .map(|row| Ok(row.try_get(0)?))
            .transpose()
        })
    }

    fn outbox_entries(&self) -> Result<Vec<(OutboxKey, Vec<u8>)>, StoreError> {
        self.run(|c| {
            c.query(
                "SELECT recipient, seq_key, entry FROM outbox ORDER BY recipient, seq_key",
                &[],
            )?
            .iter()
            .map(|row| {
                let recipient: &[u8] = row.try_get(0)?;
                let key = OutboxKey {
                    recipient: PartyId::from_digest(digest_from(recipient, "outbox")?),
                    seq: seq_from_key(row.try_get(1)?),
                };
                Ok((key, row.try_get(2)?))
            })
            .collect()
        })
    }

    fn put_webhook_delivery(
        &self,
        id: &WebhookDeliveryId,
        record: &[u8],
    ) -> Result<(), StoreError> {
        let delivery = [(*id, record.to_vec())];
        self.write(move |tx| upsert_webhooks(tx, &delivery))
    }

    fn remove_webhook_delivery(&self, id: &WebhookDeliveryId) -> Result<(), StoreError> {
        let id = id.0.to_vec();
        self.write(move |tx| {
            tx.execute("DELETE FROM webhook_deliveries WHERE id = $1", &[&id])?;
            Ok(())
        })
    }

    fn webhook_deliveries(&self) -> Result<Vec<(WebhookDeliveryId, Vec<u8>)>, StoreError> {
        self.run(|c| {
            c.query("SELECT id, record FROM webhook_deliveries ORDER BY id", &[])?
                .iter()
                .map(|row| {
                    let id: &[u8] = row.try_get(0)?;
                    let id: [u8; 16] = id
                        .try_into()
                        .map_err(|_| corrupt("webhook_deliveries", "bad key"))?;
                    Ok((WebhookDeliveryId(id), row.try_get(1)?))
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_sequence_keys_keep_u64_order() {
        let seqs = [0, 1, 300, (1 << 63) - 1, 1 << 63, u64::MAX];
        for pair in seqs.windows(2) {
            assert!(seq_key(pair[0]) < seq_key(pair[1]), "{pair:?}");
        }
        for seq in seqs {
            assert_eq!(seq_from_key(seq_key(seq)), seq);
        }
    }

    #[test]
    fn a_bad_url_is_refused_before_connecting_and_without_echoing_a_password() {
        let err = PostgresStore::open("postgres://u:secret@host:notaport/db", 1).unwrap_err();
        assert!(matches!(err, StoreError::BadUrl { .. }), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn an_unreachable_server_fails_open_with_a_backend_error() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err =
            PostgresStore::open(&format!("postgres://signet@127.0.0.1:{port}/x"), 2).unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{err}");
    }

    #[test]
    fn debug_output_names_the_server_but_not_the_password() {
        let config: postgres::Config = "postgres://alice:hunter2@db.example:5433/signet"
            .parse()
            .unwrap();
        let described = describe(&config);
        assert_eq!(described, "postgres://alice@db.example:5433/signet");
    }
}
