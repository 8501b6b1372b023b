//! The party's lease on its PostgreSQL database: of several `signet run` processes of one
//! party on one database, the one holding the lease is active and the others wait as
//! standbys.
//!
//! # Lease
//!
//! The lease is a session-level advisory lock (`pg_advisory_lock`, on a key derived from the
//! party) held by a connection of its own. PostgreSQL releases it when that connection
//! ends: at once when the holding process dies (the kernel closes its socket, `SIGKILL`
//! included), and, when its machine vanishes, once TCP keepalive gives up on it (the
//! connection sets the server's `tcp_keepalives_*` and `tcp_user_timeout` for its own
//! socket: [`VANISHED_AFTER`]). A standby blocks in `pg_advisory_lock` and so takes the lease
//! the moment it is released.
//!
//! # Fencing
//!
//! A lock alone does not stop a process that lost it (its connection cut, the process
//! itself alive) from writing on with its other connections. So each holder adds one to
//! the `epoch` of the single row of the `lease` table as it takes the lease, before it
//! reads anything, and every write transaction of a [`super::PostgresStore`] opened with
//! the holder's [`Fence`] first reads that row `FOR SHARE` and refuses to go on
//! ([`super::StoreError::Fenced`]) unless the epoch is still its own. The share lock and
//! the next holder's `UPDATE` exclude each other: a stale write either commits before the
//! new epoch (and the new holder, which reads only after it, sees it) or sees the new epoch
//! and commits nothing.
//!
//! The holder checks its lease every [`CHECK_EVERY`]. When its connection breaks (a server
//! restart, say), it connects again and takes the lock again if no other process took the
//! lease meanwhile (same epoch); otherwise, or when the server stays out of reach for
//! [`RETAKE_FOR`], the lease is lost: [`PartyLease::lost`] says why, and `signet run`
//! exits.

use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use sha2::{Digest as _, Sha256};
use signet_protocol::party::PartyId;
use tokio::sync::watch;
use tracing::{info, warn};

use super::StoreError;
use super::postgres_store::{CONNECT_TIMEOUT, keep_alive, migrate, parse_url};

/// How long a connection of the node's may be silent before either end probes it.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(5);

/// Time between two unanswered keepalive probes.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(2);

/// Unanswered probes after which a connection is dead.
pub const KEEPALIVE_RETRIES: u32 = 3;

/// How long after its machine vanished (power off, network gone) the server gives up on a
/// node's connection and so releases its lease: [`KEEPALIVE_IDLE`] plus
/// [`KEEPALIVE_RETRIES`] × [`KEEPALIVE_INTERVAL`] (also the server's `tcp_user_timeout`, for
/// data it sent that was never acknowledged).
pub const VANISHED_AFTER: Duration = Duration::from_secs(11);

/// How often the holder checks that it still holds the lease.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How long a holder whose lease connection broke tries to take the lease again before it
/// counts it lost.
pub const RETAKE_FOR: Duration = Duration::from_secs(30);

/// How long a standby whose connection broke waits before it connects again.
const STANDBY_RETRY: Duration = Duration::from_secs(3);

/// What a store needs to refuse writes once its process no longer holds the party's lease:
/// the epoch the process took, and where to report that it is lost.
#[derive(Debug, Clone)]
pub struct Fence {
    epoch: i64,
    lost: Arc<watch::Sender<Option<String>>>,
}

impl Fence {
    /// The lease's epoch this process took (1 for the first holder of a database).
    pub fn epoch(&self) -> u64 {
        // Epochs count up from 0 (a CHECK constraint), so never negative.
        self.epoch.unsigned_abs()
    }

    /// Inside a write transaction: holds the lease row's share lock until the transaction
    /// ends and refuses to go on unless its epoch is still this process's.
    pub(super) fn check(&self, tx: &mut postgres::Transaction<'_>) -> Result<(), StoreError> {
        let current: i64 = tx
            .query_one("SELECT epoch FROM lease FOR SHARE", &[])?
            .try_get(0)?;
        if current == self.epoch {
            return Ok(());
        }
        let error = StoreError::Fenced {
            held: self.epoch(),
            current: current.unsigned_abs(),
        };
        self.lose(error.to_string());
        Err(error)
    }

    /// Records why the lease is lost (the first reason stays).
    fn lose(&self, why: String) {
        self.lost.send_if_modified(|lost| {
            if lost.is_some() {
                return false;
            }
            *lost = Some(why);
            true
        });
    }
}

/// The advisory-lock key of `party`'s lease: the first 8 bytes of a SHA-256 over the party.
pub fn lease_key(party: &PartyId) -> i64 {
    let mut hash = Sha256::new();
    hash.update(b"signet/lease/1");
    hash.update(party.digest().as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// This process's hold on its party's lease; dropping it releases the lease.
#[derive(Debug)]
pub struct PartyLease {
    fence: Fence,
    lost: watch::Receiver<Option<String>>,
    stop: Option<Sender<()>>,
    monitor: Option<JoinHandle<()>>,
}

impl PartyLease {
    /// Takes `party`'s lease on the database at `url` (a URL or connection string, as for
    /// [`super::PostgresStore::open`]), waiting as long as another process holds it; then
    /// creates or upgrades the schema and moves the epoch on. `holder` says who this
    /// process is (host, process id, addresses); it is stored for the next standby to show.
    /// `waiting` is called once, with the current holder's description, if this process
    /// has to wait.
    ///
    /// Blocks: call it on a thread of its own, not inside an async runtime (the `postgres`
    /// client runs one of its own). Fails if the server cannot be reached at the first try;
    /// a connection that breaks while waiting is opened again.
    pub fn acquire(
        url: &str,
        party: &PartyId,
        holder: &str,
        waiting: impl FnOnce(&str),
    ) -> Result<Self, StoreError> {
        let config = lease_config(url)?;
        let key = lease_key(party);
        let mut waiting = Some(waiting);
        let (mut client, epoch) = loop {
            match take(&config, key, holder, &mut waiting) {
                Ok(taken) => break taken,
                // Not waited yet: a wrong URL or password shows at start.
                Err(e) if waiting.is_some() => return Err(e),
                Err(error) => {
                    warn!(%error, "the connection waiting for the lease broke; connecting again");
                    // Longer than the holder's retry: after a server restart, the process
                    // that held the lease usually takes it back.
                    std::thread::sleep(STANDBY_RETRY);
                }
            }
        };
        let (lost_tx, lost) = watch::channel(None);
        let fence = Fence {
            epoch,
            lost: Arc::new(lost_tx),
        };
        let (stop, stopped) = channel();
        let watcher = fence.clone();
        let monitor = std::thread::Builder::new()
            .name("postgres-lease".into())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(CHECK_EVERY) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    match check(&mut client, epoch) {
                        Ok(()) => continue,
                        Err(Check::Taken(why)) => return watcher.lose(why),
                        Err(Check::Broken(error)) => {
                            warn!(%error, "the lease connection broke; taking the lease again");
                            match retake(&config, key, epoch) {
                                Ok(again) => {
                                    info!(epoch, "took the lease again");
                                    client = again;
                                }
                                Err(why) => return watcher.lose(why),
                            }
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Backend(super::BackendError::new(e)))?;
        Ok(Self {
            fence,
            lost,
            stop: Some(stop),
            monitor: Some(monitor),
        })
    }

    /// The fence to open the party's store with ([`super::PostgresStore::open_fenced`]).
    pub fn fence(&self) -> Fence {
        self.fence.clone()
    }

    /// The epoch this process took.
    pub fn epoch(&self) -> u64 {
        self.fence.epoch()
    }

    /// Why the lease is lost, if it is.
    pub fn lost_now(&self) -> Option<String> {
        self.lost.borrow().clone()
    }

    /// Waits until the lease is lost (another process took it, or its connection broke and
    /// it could not be taken again), and says why.
    pub async fn lost(&self) -> String {
        let mut lost = self.lost.clone();
        loop {
            if let Some(why) = lost.borrow_and_update().clone() {
                return why;
            }
            if lost.changed().await.is_err() {
                // The fence's sender lives as long as `self`: not reached while it does.
                std::future::pending::<()>().await;
            }
        }
    }
}

impl Drop for PartyLease {
    fn drop(&mut self) {
        // The monitor ends at the closed channel and drops its connection: the lock goes.
        self.stop = None;
        if let Some(monitor) = self.monitor.take() {
            let _ = monitor.join();
        }
    }
}

fn lease_config(url: &str) -> Result<postgres::Config, StoreError> {
    let mut config = parse_url(url)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// Connects, with keepalive set on both ends of the connection.
fn connect(config: &postgres::Config) -> Result<Client, StoreError> {
    let mut client = config.connect(NoTls)?;
    keep_alive(&mut client)?;
    // A standby waits in one statement for as long as the lease is held.
    client.batch_execute("SET statement_timeout = 0")?;
    Ok(client)
}

/// One try at taking the lease: connect, wait for the lock, migrate, move the epoch on.
fn take(
    config: &postgres::Config,
    key: i64,
    holder: &str,
    waiting: &mut Option<impl FnOnce(&str)>,
) -> Result<(Client, i64), StoreError> {
    let mut client = connect(config)?;
    let free: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
        .try_get(0)?;
    if !free {
        if let Some(waiting) = waiting.take() {
            waiting(&current_holder(&mut client));
        }
        client.execute("SELECT pg_advisory_lock($1)", &[&key])?;
    }
    // Only the holder migrates: a newer standby does not change the tables under an
    // older active process.
    migrate(&mut client)?;
    let epoch: i64 = client
        .query_one(
            "UPDATE lease SET epoch = epoch + 1, holder = $1, since = now() RETURNING epoch",
            &[&holder],
        )?
        .try_get(0)?;
    info!(epoch, "took the party's lease");
    Ok((client, epoch))
}

/// Who holds the lease, as its holder described itself.
fn current_holder(client: &mut Client) -> String {
    // The table is missing only before the first holder migrated.
    match client.query_opt(
        "SELECT holder, since::text FROM lease WHERE holder <> ''",
        &[],
    ) {
        Ok(Some(row)) => match (row.try_get::<_, String>(0), row.try_get::<_, String>(1)) {
            (Ok(holder), Ok(since)) => format!("{holder} (since {since})"),
            _ => "another process".into(),
        },
        _ => "another process".into(),
    }
}

enum Check {
    /// Another process took the lease.
    Taken(String),
    /// The connection broke.
    Broken(StoreError),
}

fn check(client: &mut Client, epoch: i64) -> Result<(), Check> {
    let current: i64 = client
        .query_one("SELECT epoch FROM lease", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|e| Check::Broken(e.into()))?;
    if current == epoch {
        Ok(())
    } else {
        Err(Check::Taken(format!(
            "another process took the lease (epoch {current}; this process held {epoch})"
        )))
    }
}

/// Takes the lock again after the lease connection broke, if no other process took the
/// lease meanwhile; tries for [`RETAKE_FOR`].
fn retake(config: &postgres::Config, key: i64, epoch: i64) -> Result<Client, String> {
    let deadline = Instant::now() + RETAKE_FOR;
    loop {
        let error = match connect(config) {
            Ok(mut client) => {
                let locked = client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .and_then(|row| row.try_get::<_, bool>(0));
                match locked {
                    Ok(true) => match check(&mut client, epoch) {
                        Ok(()) => return Ok(client),
                        Err(Check::Taken(why)) => return Err(why),
                        Err(Check::Broken(e)) => e.to_string(),
                    },
                    Ok(false) => return Err("another process holds the lease".into()),
                    Err(e) => e.to_string(),
                }
            }
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "the lease connection broke and the server was not reachable again within {} s: {error}",
                RETAKE_FOR.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use signet_protocol::Digest;
    use signet_protocol::session::SessionId;

    use super::*;
    use crate::store::postgres_test_server::{cut_lease_connection, fresh_database};
    use crate::store::{PostgresStore, SessionRecord, SessionStep, Store};

    fn party() -> PartyId {
        PartyId::from_digest(Digest::of(b"a party with a standby"))
    }

    fn free(_: &str) {
        panic!("the lease is free: nobody should wait");
    }

    #[test]
    fn a_store_whose_lease_another_process_took_commits_nothing() {
        let Some(db) = fresh_database("lease_fenced") else {
            return;
        };
        let first = PartyLease::acquire(db.url(), &party(), "first", free).unwrap();
        assert_eq!(first.epoch(), 1);
        let stale = PostgresStore::open_fenced(db.url(), 2, first.fence()).unwrap();
        stale.put_meta("before", b"1").unwrap();
        // The first holder's lease connection ends while its store lives on (as when only
        // that connection was cut); a second process takes the lease.
        let fence = first.fence();
        drop(first);
        let second = PartyLease::acquire(db.url(), &party(), "second", free).unwrap();
        assert_eq!(second.epoch(), 2);

        let err = stale.put_meta("after", b"stale").unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Fenced {
                    held: 1,
                    current: 2
                }
            ),
            "{err}"
        );
        assert!(
            fence.lost.borrow().is_some(),
            "the refusal reports the loss"
        );
        let id = SessionId::from_bytes([3; 32]);
        let record = SessionRecord {
            status: "open".into(),
            state: b"state".to_vec(),
        };
        let step = SessionStep {
            session: &id,
            record: &record,
            evidence_from: 0,
            evidence: &[b"an entry".to_vec()],
            webhooks: &[],
            outbox: &[],
        };
        assert!(matches!(
            stale.commit_session_step(&step),
            Err(StoreError::Fenced { .. })
        ));
        assert!(matches!(
            stale.append_evidence(b"x"),
            Err(StoreError::Fenced { .. })
        ));
        // Reads still work, and show nothing of the refused writes.
        assert_eq!(stale.meta("after").unwrap(), None);
        assert_eq!(stale.evidence_len().unwrap(), 0);
        assert_eq!(stale.session(&id).unwrap(), None);

        // The new holder writes, and sees what the old one committed before.
        let current = PostgresStore::open_fenced(db.url(), 1, second.fence()).unwrap();
        current.commit_session_step(&step).unwrap();
        assert_eq!(current.meta("before").unwrap(), Some(b"1".to_vec()));
        assert_eq!(current.evidence_len().unwrap(), 1);
        assert!(second.lost_now().is_none());
    }

    #[test]
    fn a_standby_waits_then_takes_over_when_the_holders_connection_is_cut() {
        let Some(db) = fresh_database("lease_standby") else {
            return;
        };
        let active = PartyLease::acquire(db.url(), &party(), "active on host-a", free).unwrap();
        let store = PostgresStore::open_fenced(db.url(), 1, active.fence()).unwrap();
        let (told_tx, told) = std::sync::mpsc::channel();
        let url = db.url().to_owned();
        let standby = std::thread::spawn(move || {
            PartyLease::acquire(&url, &party(), "standby on host-b", move |holder| {
                told_tx.send(holder.to_owned()).unwrap();
            })
            .unwrap()
        });
        let holder = told.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(holder.starts_with("active on host-a (since "), "{holder}");
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            !standby.is_finished(),
            "the standby waits while the lease is held"
        );
        store.put_meta("while active", b"1").unwrap();

        // The active's lease connection is cut; its process lives on.
        assert_eq!(cut_lease_connection(db.url(), lease_key(&party())), 1);
        let standby = standby.join().unwrap();
        assert_eq!(standby.epoch(), 2);
        // The old active learns within a few checks that the lease is gone, and its
        // store commits nothing more.
        let start = Instant::now();
        while active.lost_now().is_none() {
            assert!(
                start.elapsed() < CHECK_EVERY * 10,
                "the old active did not notice"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let why = active.lost_now().unwrap();
        assert!(why.contains("another process"), "{why}");
        assert!(matches!(
            store.put_meta("after", b"2"),
            Err(StoreError::Fenced {
                held: 1,
                current: 2
            })
        ));
        assert!(standby.lost_now().is_none());
    }

    #[test]
    fn the_holder_takes_its_lease_back_after_a_server_restart() {
        let Some(cluster) = crate::store::postgres_test_server::private_cluster() else {
            return;
        };
        let url = cluster.url("postgres");
        let lease = PartyLease::acquire(&url, &party(), "holder", free).unwrap();
        let store = PostgresStore::open_fenced(&url, 1, lease.fence()).unwrap();
        store.put_meta("before", b"1").unwrap();
        cluster.crash().unwrap();
        std::thread::sleep(CHECK_EVERY * 2);
        cluster.restart().unwrap();
        // The first write may meet the connection the crash broke.
        let start = Instant::now();
        while store.put_meta("after", b"2").is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no write after the restart"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // No other process took it: the same epoch, and the lock held again (a second
        // process would have to wait).
        std::thread::sleep(CHECK_EVERY * 3);
        assert_eq!(lease.lost_now(), None);
        let mut other = Client::connect(&url, NoTls).unwrap();
        let free: bool = other
            .query_one("SELECT pg_try_advisory_lock($1)", &[&lease_key(&party())])
            .unwrap()
            .get(0);
        assert!(!free, "the holder took its lock back");
        assert_eq!(store.meta("before").unwrap(), Some(b"1".to_vec()));
    }

    #[test]
    fn the_stated_bound_for_a_vanished_machine_is_what_keepalive_gives() {
        assert_eq!(
            VANISHED_AFTER,
            KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_RETRIES
        );
    }

    #[test]
    fn lease_keys_differ_between_parties_and_from_the_migration_lock() {
        let other = PartyId::from_digest(Digest::of(b"another party"));
        assert_ne!(lease_key(&party()), lease_key(&other));
        assert_eq!(lease_key(&party()), lease_key(&party()));
        assert_ne!(lease_key(&party()), 0x7369_676e_6574_6d67);
    }
}
