//! Two `signet run` processes of one party on one PostgreSQL database: the first takes the
//! party's lease and serves, the second waits as a standby. A counterparty signs a session
//! through the active one; the active one is killed (`SIGKILL`); the standby takes over,
//! and a session the counterparty signs after the kill completes through it, with
//! everything acknowledged before the kill still there and nothing applied twice. Runs
//! against a real server (see `src/store/postgres_test_server.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../src/store/postgres_test_server.rs"]
mod postgres_test_server;
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signet_node::keyfile;
use signet_node::service::config::{NodeConfig, StorageConfig};
use signet_node::store::{PostgresStore, Store, lease_key};
use signet_protocol::party::PartyId;
use signet_protocol::session::SessionId;
use support::{create, http, introduce, start, test_tokens, until};

/// A `signet run` process, its standard output collected line by line.
struct Run {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    log: std::path::PathBuf,
}

impl Run {
    fn start(dir: &Path, log: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["run", "--dir"])
            .arg(dir)
            .env("SIGNET_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let collected = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                collected.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            lines,
            log: log.to_path_buf(),
        }
    }

    /// What it printed, and the end of its log, for a failure's message.
    fn output(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: String = log
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        format!("{:?}\n{tail}", self.lines.lock().unwrap())
    }

    /// The first output line that starts with `prefix`, once there (waits up to `limit`).
    async fn line(&mut self, prefix: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.trim_start().starts_with(prefix))
            {
                return line.clone();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "signet run exited ({status}) before printing {prefix:?}: {}",
                    self.output()
                );
            }
            assert!(
                start.elapsed() < limit,
                "no {prefix:?} line within {limit:?}: {}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether an output line starts with `prefix` already.
    fn printed(&self, prefix: &str) -> bool {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.trim_start().starts_with(prefix))
    }

    /// The API's address, from the `API http://…` line.
    async fn api(&mut self, limit: Duration) -> String {
        let line = self.line("API ", limit).await;
        line.trim()
            .trim_start_matches("API")
            .trim()
            .trim_start_matches("http://")
            .to_string()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates the brand's party directory under `root`, its data in `db`.
fn brand_on(
    db: &postgres_test_server::TestDatabase,
    root: &Path,
    anchors: &[(PartyId, &str)],
) -> (PathBuf, PathBuf) {
    let storage = StorageConfig::Postgres {
        url: db.url().to_string(),
        connections: 2,
    };
    let (dir, delegate_key) = support::create_on(root, "Brand", anchors, storage);
    test_tokens(&dir);
    (dir, delegate_key)
}

async fn status_of(api: &str, id: &str) -> String {
    let (code, _, body) = http(
        api,
        "GET",
        &format!("/v1/sessions/{id}"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    view["status"].as_str().unwrap().to_string()
}

async fn evidence_size(api: &str) -> u64 {
    let (code, _, body) = http(api, "GET", "/v1/node", Some("read-token"), "").await;
    assert_eq!(code, 200, "{body}");
    let node: serde_json::Value = serde_json::from_str(&body).unwrap();
    node["evidence_log_size"].as_u64().unwrap()
}

async fn propose(api: &str, supplier: &str, title: &str) -> (String, SessionId) {
    let body = serde_json::json!({
        "title": title,
        "purpose": "procurement",
        "participants": [{"party": supplier}],
        "documents": [{"name": "c.pdf", "content": "JVBERi0xLjc="}],
    })
    .to_string();
    let (code, _, created) = http(api, "POST", "/v1/sessions", Some("sign-token"), &body).await;
    assert_eq!(code, 201, "{created}");
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let sid = id.parse().unwrap();
    (id, sid)
}

/// Polls until `api` reports session `id` with `status` (up to 60 s).
async fn until_status(api: &str, id: &str, status: &str) {
    for _ in 0..600 {
        if status_of(api, id).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("session {id} never became {status} at {api}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_when_the_active_process_is_killed_and_loses_nothing() {
    let Some(db) = postgres_test_server::fresh_database("failover") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let supplier = start("Supplier", &s_dir, &s_key).await;

    // The brand keeps its data in PostgreSQL; introduced to the others from a node in
    // this process, then stopped.
    let (active_dir, delegate_key) = brand_on(&db, root.path(), &anchors);
    let brand = start("Brand", &active_dir, &delegate_key).await;
    introduce(&ca, &[&brand, &supplier]).await;
    brand.stop().await;
    // The active process dials the counterparty and the CA at start; the standby knows
    // only the CA, a node the counterparty knows too: the standby, once active, and the
    // counterparty find each other through the DHT (its address record, published from
    // its start), not through configuration.
    supplier.service.add_peer(&ca.address).await.unwrap();
    let mut config = NodeConfig::load(&active_dir).unwrap();
    config.bootstrap = vec![supplier.address.clone(), ca.address.clone()];
    config.save(&active_dir).unwrap();
    // The standby's directory: the same configuration and keys (its own ports, both 0).
    let standby_dir = root.path().join("Brand-standby");
    support::copy_dir(&active_dir, &standby_dir);
    config.bootstrap = vec![ca.address.clone()];
    config.save(&standby_dir).unwrap();

    let mut active = Run::start(&active_dir, &root.path().join("active.log"));
    let active_api = active.api(Duration::from_secs(60)).await;
    assert!(active.printed("took the party's lease (epoch 1)"));
    let mut standby = Run::start(&standby_dir, &root.path().join("standby.log"));
    let waiting = standby
        .line(
            "standby: waiting for the party's lease",
            Duration::from_secs(60),
        )
        .await;
    assert!(
        waiting.contains(&format!("pid {}", active.child.id())),
        "{waiting}"
    );

    // A session signed through the active process.
    let supplier_id = supplier.party().to_string();
    let delegate = keyfile::read(&supplier.delegate_key).unwrap();
    let (first, first_sid) = propose(&active_api, &supplier_id, "Before the kill").await;
    until("the supplier signs the first session", || {
        signet_node::person::sign_as(&supplier.service, first_sid, &delegate).is_ok()
    })
    .await;
    until_status(&active_api, &first, "completed").await;
    // A second one, proposed (and acknowledged) before the kill, signed after it.
    let (second, second_sid) = propose(&active_api, &supplier_id, "Across the kill").await;
    until("the supplier receives the second session", || {
        supplier.service.session(second_sid).is_ok()
    })
    .await;
    let evidence_before = evidence_size(&active_api).await;
    // The standby is still waiting, serving nothing.
    assert!(!standby.printed("API "));
    assert!(standby.child.try_wait().unwrap().is_none());

    let killed = Instant::now();
    active.child.kill().unwrap();
    active.child.wait().unwrap();
    let standby_api = standby.api(Duration::from_secs(60)).await;
    let takeover = killed.elapsed();
    eprintln!("the standby served its API {takeover:?} after the active process was killed");
    assert!(standby.printed("took the party's lease (epoch 2)"));
    assert!(takeover < Duration::from_secs(30), "{takeover:?}");

    // Everything acknowledged before the kill is there.
    assert_eq!(status_of(&standby_api, &first).await, "completed");
    assert_eq!(status_of(&standby_api, &second).await, "open");
    assert!(evidence_size(&standby_api).await >= evidence_before);

    // The counterparty signs now: its signature reaches the new active process, which
    // completes the session; the counterparty sees it completed too.
    until("the supplier signs the second session", || {
        signet_node::person::sign_as(&supplier.service, second_sid, &delegate).is_ok()
    })
    .await;
    until_status(&standby_api, &second, "completed").await;
    eprintln!(
        "the session signed after the kill completed at the new active process {:?} after the kill",
        killed.elapsed()
    );
    until("the supplier sees the second session completed", || {
        supplier.service.session(second_sid).unwrap().status == "completed"
    })
    .await;
    assert!(evidence_size(&standby_api).await > evidence_before);
    assert!(standby.child.try_wait().unwrap().is_none());
    drop(standby);

    // Nothing was applied twice: every evidence entry in the database is there once, and
    // the two sessions are the only ones, both completed.
    let url = db.url().to_string();
    let (entries, completed) = tokio::task::spawn_blocking(move || {
        let store = PostgresStore::open(&url, 1).unwrap();
        let len = store.evidence_len().unwrap();
        let entries = store.evidence_range(0, len).unwrap();
        (entries, store.sessions_with_status("completed").unwrap())
    })
    .await
    .unwrap();
    let mut distinct = entries.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        entries.len(),
        "an evidence entry is there twice"
    );
    let mut expected = vec![first_sid, second_sid];
    expected.sort();
    assert_eq!(completed, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_process_whose_lease_connection_is_cut_exits_and_the_standby_takes_over() {
    let Some(db) = postgres_test_server::fresh_database("lease_cut") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (active_dir, _) = brand_on(&db, root.path(), &[]);
    let party = NodeConfig::load(&active_dir).unwrap().party_id().unwrap();
    let standby_dir = root.path().join("Brand-standby");
    support::copy_dir(&active_dir, &standby_dir);
    let mut active = Run::start(&active_dir, &root.path().join("active.log"));
    active.api(Duration::from_secs(60)).await;
    let mut standby = Run::start(&standby_dir, &root.path().join("standby.log"));
    standby
        .line(
            "standby: waiting for the party's lease",
            Duration::from_secs(60),
        )
        .await;

    // Only the active process's lease connection goes; the process itself lives on.
    let url = db.url().to_string();
    let cut = tokio::task::spawn_blocking(move || {
        postgres_test_server::cut_lease_connection(&url, lease_key(&party))
    })
    .await
    .unwrap();
    assert_eq!(cut, 1);
    let standby_api = standby.api(Duration::from_secs(60)).await;
    assert!(standby.printed("took the party's lease (epoch 2)"));
    // The old active process notices within a few of its checks, and exits with status 7.
    let start = Instant::now();
    let status = loop {
        if let Some(status) = active.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the old active process still runs: {}",
            active.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(7), "{}", active.output());
    let log = std::fs::read_to_string(&active.log).unwrap();
    assert!(
        log.contains("lost the party's lease on the database: another process"),
        "{log}"
    );
    // The new active one serves.
    let (code, _, body) = http(&standby_api, "GET", "/v1/node", Some("read-token"), "").await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(&party.to_string()), "{body}");
    assert!(standby.child.try_wait().unwrap().is_none());
}
