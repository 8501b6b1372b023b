//! `signet backup`, `signet restore` and `signet migrate` on a party that has signed: the
//! restored or migrated node exports the same bundle byte for byte, completes a session that
//! was open at the backup, goes on signing, and
//! its evidence log after the restore is consistent with a checkpoint taken before the
//! backup (an RFC 9162 consistency proof verifies). Runs the real binary, against a real
//! PostgreSQL server (see `src/store/postgres_test_server.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../src/store/postgres_test_server.rs"]
mod postgres_test_server;
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use signet_node::service::Service;
use signet_node::service::config::{NodeConfig, StorageConfig};
use signet_node::store::{PostgresStore, Store};
use signet_protocol::evidence::Checkpoint;
use signet_protocol::evidence::merkle::{self, MerkleTree, verify_consistency};
use signet_protocol::session::SessionId;
use support::{Node, brand_and_supplier, one_signer, start};

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");

/// Runs `signet ARGS`; panics unless it exits with `code`. Returns its output.
fn signet(args: &[&str], code: i32) -> String {
    let out = Command::new(SIGNET).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(code), "signet {args:?}: {text}");
    text
}

/// The brand proposes to the supplier, the supplier's delegate signs, and the brand sees
/// the session completed.
async fn sign(brand: &Node, supplier: &Node, title: &str) -> SessionId {
    let id = brand
        .service
        .create_session(one_signer(
            title,
            supplier.party(),
            title.as_bytes().to_vec(),
        ))
        .unwrap();
    let key = signet_node::keyfile::read(&supplier.delegate_key).unwrap();
    support::until("the proposal reaches the supplier", || {
        signet_node::person::sign_as(&supplier.service, id, &key).is_ok()
    })
    .await;
    support::until("the brand sees it completed", || {
        brand.service.session(id).unwrap().status == "completed"
    })
    .await;
    id
}

/// The brand's checkpoint now (its signature is not what this test is about).
fn checkpoint(service: &Arc<Service>) -> Checkpoint {
    let note = service.checkpoint().unwrap();
    Checkpoint::from_note_unverified(note.as_bytes()).unwrap()
}

/// The RFC 9162 consistency proof from `old` to `new`, computed from the store's entries,
/// verifies: the log after the restore extends the one checkpointed before the backup.
fn assert_consistent(store: &dyn Store, old: &Checkpoint, new: &Checkpoint) {
    let entries = store.evidence_range(0, new.size()).unwrap();
    let tree = MerkleTree::from_leaf_hashes(entries.iter().map(|e| merkle::leaf_hash(e)).collect());
    assert_eq!(&tree.root(), new.root());
    let proof = tree.consistency_proof(old.size(), new.size()).unwrap();
    verify_consistency(old.size(), new.size(), old.root(), new.root(), &proof).unwrap();
    assert!(new.size() > old.size());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_postgresql_and_signs_on_and_a_sled_party_migrates() {
    let Some(db) = postgres_test_server::fresh_database("restore") else {
        return;
    };
    let Some(db2) = postgres_test_server::fresh_database("migrate") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let party = brand.party();
    let first = sign(&brand, &supplier, "Before the backup").await;
    let bundle = brand.service.export_bundle(first).unwrap();
    // A session still open at the backup: the supplier holds the proposal, nobody signed.
    let pending = brand
        .service
        .create_session(one_signer(
            "Open at the backup",
            supplier.party(),
            b"pending".to_vec(),
        ))
        .unwrap();
    support::until("the proposal reaches the supplier", || {
        supplier.service.session(pending).is_ok()
    })
    .await;
    let before = checkpoint(&brand.service);
    let (dir, delegate_key) = brand.stop().await;

    // A node that runs cannot be backed up (sled holds its lock); this one is stopped.
    let backup = root.path().join("backup");
    let out = signet(&["backup", "--dir", s(&dir), "--out", s(&backup)], 0);
    assert!(out.contains("backed up"), "{out}");
    assert!(backup.join("keys").is_dir());
    // Not over an existing directory.
    signet(&["backup", "--dir", s(&dir), "--out", s(&backup)], 2);

    // Restored on "another machine": a new directory, the store in PostgreSQL.
    let restored = root.path().join("restored");
    let out = signet(
        &[
            "restore",
            "--from",
            s(&backup),
            "--dir",
            s(&restored),
            "--postgres-url",
            db.url(),
        ],
        0,
    );
    assert!(out.contains("restored"), "{out}");
    assert!(matches!(
        NodeConfig::load(&restored).unwrap().storage,
        StorageConfig::Postgres { .. }
    ));
    assert!(!restored.join("store").exists());

    let brand = start("Brand", &restored, &delegate_key).await;
    assert_eq!(brand.party(), party);
    assert_eq!(brand.service.export_bundle(first).unwrap(), bundle);
    // The supplier learns where the brand is now, and they sign again.
    supplier.service.add_peer(&brand.address).await.unwrap();
    brand.service.add_peer(&supplier.address).await.unwrap();
    let second = sign(&brand, &supplier, "After the restore").await;
    // The session open at the backup goes on: the supplier signs it now, and the restored
    // brand completes it.
    let key = signet_node::keyfile::read(&supplier.delegate_key).unwrap();
    signet_node::person::sign_as(&supplier.service, pending, &key).unwrap();
    support::until("the restored brand completes the pending session", || {
        brand.service.session(pending).unwrap().status == "completed"
    })
    .await;
    let after = checkpoint(&brand.service);
    brand.stop().await;
    let url = db.url().to_string();
    let (b, a) = (before.clone(), after.clone());
    tokio::task::spawn_blocking(move || {
        let store = PostgresStore::open(&url, 1).unwrap();
        assert_consistent(&store, &b, &a);
        assert_eq!(store.count_sessions("completed").unwrap(), 3);
    })
    .await
    .unwrap();

    // The backup restored onto sled, then moved into PostgreSQL in place.
    let on_sled = root.path().join("on-sled");
    signet(&["restore", "--from", s(&backup), "--dir", s(&on_sled)], 0);
    let out = signet(
        &["migrate", "--dir", s(&on_sled), "--to-postgres", db2.url()],
        0,
    );
    assert!(out.contains("moved to PostgreSQL"), "{out}");
    assert!(on_sled.join("store.before-postgres").is_dir());
    assert!(!on_sled.join("store").exists());
    // Once is enough.
    signet(
        &["migrate", "--dir", s(&on_sled), "--to-postgres", db2.url()],
        2,
    );
    let migrated = Service::open(&on_sled).unwrap();
    assert_eq!(migrated.export_bundle(first).unwrap(), bundle);
    assert!(migrated.session(second).is_err(), "signed after the backup");
    drop(migrated);

    // Restoring into a database that holds a party already is refused, and changes nothing.
    let again = root.path().join("again");
    let out = signet(
        &[
            "restore",
            "--from",
            s(&backup),
            "--dir",
            s(&again),
            "--postgres-url",
            db2.url(),
        ],
        5,
    );
    assert!(out.contains("not empty"), "{out}");
    supplier.stop().await;
    ca.stop().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
