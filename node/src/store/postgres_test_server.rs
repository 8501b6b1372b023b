//! A real PostgreSQL server for tests, and a fresh database on it per test.
//!
//! The server is, in order:
//! 1. the one `SIGNET_TEST_POSTGRES_URL` names (a URL whose user may `CREATE DATABASE`);
//! 2. a throwaway one this process starts: `initdb` and `pg_ctl` (from `PATH`, else the
//!    newest `/usr/lib/postgresql/<version>/bin`, Debian's place) make a cluster in a
//!    temporary directory, listening on 127.0.0.1 on a free port and a socket in that
//!    directory, with trust authentication. PostgreSQL refuses to run as root, so as root it
//!    runs as the `postgres` user (Debian's package creates it) through `runuser`. A
//!    watchdog shell stops it (`pg_ctl stop -m immediate`) and deletes the directory once
//!    the test process has exited, however it exited.
//!
//! When neither works the test fails, saying why, unless `SIGNET_SKIP_POSTGRES=1` is set:
//! then [`fresh_database`] returns `None` and the test returns early (for machines without
//! PostgreSQL; CI installs it, see `.ci/ensure-postgres.sh`).
//!
//! This file is a module of the library's unit tests and, by `#[path]`, of the integration
//! tests that need a server.
#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// A database of its own for one test, dropped with this value.
#[derive(Debug)]
pub(crate) struct TestDatabase {
    url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    /// The database's URL, for `PostgresStore::open` or `[storage] url`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Best effort: a throwaway server goes away whole anyway.
        let _ = off_runtime(move || {
            let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)?;
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        });
    }
}

/// Runs `f` on a thread of its own: the `postgres` client must not run inside a Tokio
/// runtime, and tests may call this from one.
fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().expect("thread")
}

/// A new, empty database on the test server, or `None` when there is no server and
/// `SIGNET_SKIP_POSTGRES=1` allows skipping. `label` goes into the database's name.
pub(crate) fn fresh_database(label: &str) -> Option<TestDatabase> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let admin_url = match SERVER.get_or_init(find_or_start_server) {
        Ok(url) => url.clone(),
        Err(why) if std::env::var("SIGNET_SKIP_POSTGRES").as_deref() == Ok("1") => {
            eprintln!("skipped: no PostgreSQL server ({why}); SIGNET_SKIP_POSTGRES=1");
            return None;
        }
        Err(why) => panic!(
            "these tests need a PostgreSQL server and none could be found or started: {why}.\n\
             Install PostgreSQL (Debian: apt-get install postgresql; .ci/ensure-postgres.sh does), \
             or set SIGNET_TEST_POSTGRES_URL to a server where this user may create databases, \
             or set SIGNET_SKIP_POSTGRES=1 to skip these tests on this machine"
        ),
    };
    let label: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(30)
        .collect();
    let name = format!(
        "signet_test_{}_{}_{label}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let created = {
        let (admin_url, name) = (admin_url.clone(), name.clone());
        off_runtime(move || {
            let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)?;
            admin.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        })
    };
    if let Err(e) = created {
        panic!(
            "creating test database {name} on the PostgreSQL test server: {}",
            with_causes(&e)
        );
    }
    Some(TestDatabase {
        url: with_database(&admin_url, &name),
        name,
        admin_url,
    })
}

/// An error with its sources (the client's own message is often only "error connecting").
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

fn find_or_start_server() -> Result<String, String> {
    if let Ok(url) = std::env::var("SIGNET_TEST_POSTGRES_URL") {
        let check = url.clone();
        return off_runtime(move || {
            postgres::Client::connect(&check, postgres::NoTls)
                .map(drop)
                .map_err(|e| {
                    format!(
                        "SIGNET_TEST_POSTGRES_URL does not connect: {}",
                        with_causes(&e)
                    )
                })
        })
        .map(|()| url);
    }
    start_server()
}

/// Where `initdb` and `pg_ctl` are: on `PATH`, else Debian's newest versioned directory.
fn binaries() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Ok(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "initdb and pg_ctl are not on PATH and /usr/lib/postgresql does not exist")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no /usr/lib/postgresql/<version>/bin holds initdb".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command that runs `program` as the server's owner: `postgres` when this process is
/// root (PostgreSQL refuses root), else this user.
fn as_owner(root: bool, program: &Path) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str, log: &Path) -> Result<(), String> {
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let status = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        let output = std::fs::read_to_string(log).unwrap_or_default();
        Err(format!("{what} failed ({status}): {}", output.trim()))
    }
}

fn start_server() -> Result<String, String> {
    // Left running: its watchdog stops it when the process exits.
    Cluster::start_new().map(|cluster| cluster.url("postgres"))
}

/// A throwaway server of a test's own, for tests that stop it (for every other test the
/// shared one of [`fresh_database`] does), or `None` when none can be started and
/// `SIGNET_SKIP_POSTGRES=1` allows skipping. Needs the server programs even when
/// `SIGNET_TEST_POSTGRES_URL` is set.
pub(crate) fn private_cluster() -> Option<Cluster> {
    match Cluster::start_new() {
        Ok(cluster) => Some(cluster),
        Err(why) if std::env::var("SIGNET_SKIP_POSTGRES").as_deref() == Ok("1") => {
            eprintln!("skipped: no PostgreSQL server of its own ({why}); SIGNET_SKIP_POSTGRES=1");
            None
        }
        Err(why) => panic!(
            "this test needs a PostgreSQL server of its own and none could be started: {why}.\n\
             Install PostgreSQL (Debian: apt-get install postgresql; .ci/ensure-postgres.sh does), \
             or set SIGNET_SKIP_POSTGRES=1 to skip it on this machine"
        ),
    }
}

/// A PostgreSQL cluster in a temporary directory, on a port of its own; a watchdog stops it
/// and deletes the directory once the test process exits.
#[derive(Debug)]
pub(crate) struct Cluster {
    bin: PathBuf,
    root: bool,
    dir: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Cluster {
    /// The URL of database `name` on this server.
    pub(crate) fn url(&self, name: &str) -> String {
        format!("postgres://signet@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server as a crash would: `pg_ctl stop -m immediate` ends every server
    /// process at once, without a checkpoint; the next start replays the WAL.
    pub(crate) fn crash(&self) -> Result<(), String> {
        let mut stop = as_owner(self.root, &self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate"]);
        run(stop, "pg_ctl stop", &self.dir.join("stop.log"))
    }

    /// Starts the (stopped) server again, on the same port.
    pub(crate) fn restart(&self) -> Result<(), String> {
        self.start(self.port)
    }

    fn start(&self, port: u16) -> Result<(), String> {
        let mut start = as_owner(self.root, &self.bin.join("pg_ctl"));
        start
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!(
                "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
                self.dir.display()
            ))
            .arg("start");
        run(start, "pg_ctl start", &self.dir.join("start.log")).map_err(|e| {
            let server_log =
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            format!("{e}; server log: {}", server_log.trim())
        })
    }

    fn start_new() -> Result<Cluster, String> {
        let bin = binaries()?;
        let root = is_root();
        if root
            && !Command::new("id")
                .arg("postgres")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        {
            return Err(
                "running as root, and there is no `postgres` user to run the server as".into(),
            );
        }
        static CLUSTERS: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "signet-postgres-{}-{}-{}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let data = dir.join("data");
        if root {
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(&dir);
            run(chown, "chown", &dir.join("chown.log"))?;
        }
        // The watchdog first, so that whatever happens next the directory goes away.
        let pg_ctl = bin.join("pg_ctl");
        let stop = format!(
            "{}'{}' -D '{}' stop -m immediate",
            if root { "runuser -u postgres -- " } else { "" },
            pg_ctl.display(),
            data.display()
        );
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
                pid = std::process::id(),
                dir = dir.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the watchdog: {e}"))?;
        let mut initdb = as_owner(root, &bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-U",
            "signet",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        run(initdb, "initdb", &dir.join("initdb.log"))?;
        let mut cluster = Cluster {
            bin,
            root,
            dir,
            data,
            port: 0,
        };
        let mut last_error = String::new();
        // A free port may be taken between finding it and the server binding it: try again.
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("finding a free port: {e}"))?
                .port();
            match cluster.start(port) {
                Ok(()) => {
                    cluster.port = port;
                    return Ok(cluster);
                }
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }
}

/// Ends, from the server's side, the connection that holds `key`'s lease on the database
/// at `url` (as a cut network link would); returns how many it ended.
pub(crate) fn cut_lease_connection(url: &str, key: i64) -> usize {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        // A bigint advisory key is (classid, objid) = (high, low) 32 bits.
        let bits = key as u64;
        let (high, low) = (i64::from((bits >> 32) as u32), i64::from(bits as u32));
        admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_locks \
                 WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
                 AND classid::bigint = $1 AND objid::bigint = $2 \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[&high, &low],
            )
            .unwrap()
            .len()
    })
    .join()
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_in_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres?sslmode=disable", "t"),
            "postgres://u:p@h:5/t?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:5", "t"), "postgres://u@h:5/t");
        assert_eq!(with_database("postgresql://h/", "t"), "postgresql://h/t");
    }
}
