//! A node whose `[storage]` is PostgreSQL: created by `init`, started, given a session,
//! stopped, and started again with everything still there, in the database and nowhere
//! else. Runs against a real server (see `src/store/postgres_test_server.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../src/store/postgres_test_server.rs"]
mod postgres_test_server;
mod support;

use std::io::Read;

use signet_node::service::Service;
use signet_node::service::config::{NodeConfig, PolicyConfig, StorageConfig};
use signet_node::service::init::{InitOptions, init};
use signet_node::store::{DocumentReader, PostgresStore, Store};
use signet_protocol::Digest;
use signet_protocol::testkit::test_uscc;
use support::{create, one_signer, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_postgres_keeps_its_session_across_a_restart() {
    let Some(db) = postgres_test_server::fresh_database("node_restart") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("Brand");
    let delegate_key = root.path().join("Brand-delegate.key");
    let storage = StorageConfig::Postgres {
        url: db.url().to_string(),
        connections: 2,
    };
    let options = InitOptions {
        legal_name: "Brand".into(),
        registration: test_uscc("Brand").number().to_string(),
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        bootstrap: vec![],
        api: "127.0.0.1:0".into(),
        witness: false,
        policy: PolicyConfig::default(),
        delegate_key: delegate_key.clone(),
        next_root_key: root.path().join("Brand-next-root.key"),
        delegate_name: "Brand signatory".into(),
        mandate_days: 365,
        seal_algorithm: Default::default(),
        delegate_algorithm: Default::default(),
        attest_algorithm: Default::default(),
        storage: storage.clone(),
        certificate: None,
    };
    init(&dir, &options, signet_node::service::now()).unwrap();
    // The configuration names the database; no sled store was made.
    assert_eq!(NodeConfig::load(&dir).unwrap().storage, storage);
    assert!(!dir.join("store").exists());

    // A second party may not be created in the same database.
    let mut again = options.clone();
    again.legal_name = "Other".into();
    again.registration = test_uscc("Other").number().to_string();
    again.delegate_key = root.path().join("Other-delegate.key");
    again.next_root_key = root.path().join("Other-next-root.key");
    let refused = init(
        &root.path().join("Other"),
        &again,
        signet_node::service::now(),
    )
    .unwrap_err();
    assert!(refused.to_string().contains("already holds"), "{refused}");

    let (supplier_dir, _) = create(root.path(), "Supplier", &[]);
    let supplier_log = Service::open(&supplier_dir).unwrap().own_key_log().unwrap();

    let contract = b"%PDF-1.7 kept in PostgreSQL".to_vec();
    let node = start("Brand", &dir, &delegate_key).await;
    let supplier = node.service.import_key_log(&supplier_log).unwrap();
    let id = node
        .service
        .create_session(one_signer("On PostgreSQL", supplier, contract.clone()))
        .unwrap();
    let before = node.service.session(id).unwrap();
    node.stop().await;

    // Started again from the same directory: the session, its document and the evidence
    // come back from the database.
    let node = start("Brand", &dir, &delegate_key).await;
    let after = node.service.session(id).unwrap();
    assert_eq!(after.title, "On PostgreSQL");
    assert_eq!(after.status, "open");
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(after.waiting_for, before.waiting_for);
    node.stop().await;
    assert!(!dir.join("store").exists());

    let url = db.url().to_string();
    let contract_back = tokio::task::spawn_blocking(move || {
        let store = PostgresStore::open(&url, 1).unwrap();
        assert_eq!(store.sessions_with_status("open").unwrap(), vec![id]);
        assert!(store.evidence_len().unwrap() > 0);
        let mut back = Vec::new();
        DocumentReader::open(&store, &Digest::of(&contract))
            .unwrap()
            .expect("the document is in the database")
            .read_to_end(&mut back)
            .unwrap();
        back
    })
    .await
    .unwrap();
    assert_eq!(contract_back, b"%PDF-1.7 kept in PostgreSQL");
}

#[test]
fn a_postgres_storage_section_parses_and_sled_stays_the_default() {
    let base = "party = \"p\"\nlegal_name = \"n\"\nregistration = \"r\"\nlisten = []\napi = \"127.0.0.1:1\"\n";
    let parse = |extra: &str| toml::from_str::<NodeConfig>(&format!("{base}{extra}"));
    assert_eq!(parse("").unwrap().storage, StorageConfig::Sled {});
    assert_eq!(
        parse("[storage]\nkind = \"postgres\"\nurl = \"postgres://signet@db/signet\"\n")
            .unwrap()
            .storage,
        StorageConfig::Postgres {
            url: "postgres://signet@db/signet".into(),
            connections: signet_node::store::DEFAULT_CONNECTIONS,
        }
    );
    assert!(
        parse("[storage]\nkind = \"postgres\"\n").is_err(),
        "a url is required"
    );
    assert!(parse("[storage]\nkind = \"mysql\"\n").is_err());
    assert!(parse("[storage]\nkind = \"sled\"\nurl = \"x\"\n").is_err());
}

#[test]
fn signet_init_with_a_postgres_url_keeps_the_party_in_that_database() {
    let Some(db) = postgres_test_server::fresh_database("cli_init") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    let uscc = test_uscc("Acme");
    let init = |dir: &std::path::Path, name: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["init", "--dir"])
            .arg(dir)
            .args(["--name", "Acme Ltd", "--registration", uscc.number()])
            .arg("--delegate-key")
            .arg(root.path().join(format!("{name}-delegate.key")))
            .arg("--next-root-key")
            .arg(root.path().join(format!("{name}-next.key")))
            .args(["--postgres-url", db.url()])
            .output()
            .unwrap()
    };
    let out = init(&dir, "acme");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = NodeConfig::load(&dir).unwrap();
    assert!(
        matches!(&config.storage, StorageConfig::Postgres { url, .. } if url == db.url()),
        "{:?}",
        config.storage
    );
    assert!(!dir.join("store").exists());
    let text = std::fs::read_to_string(dir.join("signet.toml")).unwrap();
    assert!(
        text.contains("[storage]") && text.contains("kind = \"postgres\""),
        "{text}"
    );
    let url = db.url().to_string();
    let parties = std::thread::spawn(move || {
        PostgresStore::open(&url, 1)
            .unwrap()
            .key_log_parties()
            .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(
        parties.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec![config.party]
    );
    // The same database for a second party: refused (exit status 2, a usage error), and
    // no key written.
    let out = init(&root.path().join("second"), "second");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!root.path().join("second-delegate.key").exists());
}
