//! How sessions are kept: as snapshots, restored without signing anything; ended sessions
//! stay on disk until asked for; journals written by older versions are replayed once and
//! stored as snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::service::journal::{self, Entry, Input, Stored};
use signet_node::service::{Service, SessionFilter};
use signet_node::store::{SessionRecord, SledStore, Store};
use signet_protocol::Timestamp;
use support::{create, one_signer};

/// Brand's node with Supplier's key log imported, and a session proposed to Supplier.
fn brand_with_a_session(
    root: &std::path::Path,
) -> (std::path::PathBuf, signet_protocol::session::SessionId) {
    let (dir, _) = create(root, "Brand", &[]);
    let (other, _) = create(root, "Supplier", &[]);
    let log = Service::open(&other).unwrap().own_key_log().unwrap();
    let supplier = signet_protocol::keylog::KeyLog::replay(log.iter().map(Vec::as_slice))
        .unwrap()
        .party();
    let brand = Service::open(&dir).unwrap();
    brand.import_key_log(&log).unwrap();
    let id = brand
        .create_session(one_signer("Stored", supplier, b"%PDF-1.7 stored".to_vec()))
        .unwrap();
    (dir, id)
}

fn stored(dir: &std::path::Path, id: &signet_protocol::session::SessionId) -> (String, Stored) {
    let store = SledStore::open(dir.join("store")).unwrap();
    let record = store.session(id).unwrap().unwrap();
    (
        record.status,
        journal::decode_stored(&record.state).unwrap(),
    )
}

#[test]
fn an_older_versions_journal_is_replayed_once_and_kept_as_a_snapshot() {
    let root = tempfile::tempdir().unwrap();
    let (dir, id) = brand_with_a_session(root.path());
    let (view, proposal) = {
        let brand = Service::open(&dir).unwrap();
        (
            brand.session(id).unwrap(),
            brand.signed_proposal(id).unwrap(),
        )
    };
    let (status, now_stored) = stored(&dir, &id);
    let Stored::Snapshot {
        snapshot,
        evidence,
        listing,
    } = now_stored
    else {
        panic!("this version writes snapshots");
    };
    assert_eq!(status, "open");
    assert!(!evidence.is_empty());

    // Make the store look as an older version left it: the session as a journal of its one
    // input (the proposal), and no record that the migration ran.
    {
        let store = SledStore::open(dir.join("store")).unwrap();
        let old = journal::encode(&[Entry {
            input: Input::Propose(proposal.clone()),
            time: Timestamp::from_unix(1_800_000_000),
            evidence: evidence.clone(),
        }]);
        store
            .put_session(
                &id,
                &SessionRecord {
                    status: "open".into(),
                    state: old,
                },
            )
            .unwrap();
        store.put_meta("session-layout", b"journal").unwrap();
    }

    // Opening replays it (signing the proposal again gives the same bytes) and stores the
    // very snapshot this version had written.
    let brand = Service::open(&dir).unwrap();
    assert_eq!(brand.session(id).unwrap(), view);
    assert_eq!(brand.signed_proposal(id).unwrap(), proposal);
    drop(brand);
    assert_eq!(
        stored(&dir, &id),
        (
            "open".to_string(),
            Stored::Snapshot {
                snapshot: snapshot.clone(),
                evidence: evidence.clone(),
                listing: listing.clone(),
            }
        )
    );
    // And the session goes on from there.
    let brand = Service::open(&dir).unwrap();
    brand.cancel(id, "migrated, then cancelled").unwrap();
    assert_eq!(brand.session(id).unwrap().status, "cancelled");
}

#[test]
fn ended_sessions_are_served_from_the_store_and_listed_page_by_page() {
    let root = tempfile::tempdir().unwrap();
    let (dir, first) = brand_with_a_session(root.path());
    let brand = Service::open(&dir).unwrap();
    let supplier = brand
        .known_parties()
        .unwrap()
        .first()
        .map(|p| p.party.parse().unwrap())
        .unwrap();
    let mut ids = vec![first];
    for n in 0..4 {
        let title = format!("Order {n}");
        ids.push(
            brand
                .create_session(one_signer(&title, supplier, vec![n; 100]))
                .unwrap(),
        );
    }
    let cancelled_ids = ids[..3].to_vec();
    for id in &cancelled_ids {
        brand.cancel(*id, "not needed").unwrap();
    }
    ids.sort();
    drop(brand);

    // After a restart the cancelled sessions are not loaded, yet read as before.
    let brand = Service::open(&dir).unwrap();
    let counts = brand.sessions_by_status().unwrap();
    assert_eq!(counts.get("cancelled"), Some(&3));
    assert_eq!(counts.get("open"), Some(&2));
    for id in &ids {
        assert_eq!(brand.session(*id).unwrap().id, id.to_string());
    }
    // Pages of two, across statuses, in id order, each page with the next one's cursor.
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = brand
            .sessions(&SessionFilter {
                after,
                limit: 2,
                ..Default::default()
            })
            .unwrap();
        assert!(page.sessions.len() <= 2);
        listed.extend(page.sessions.iter().map(|s| s.id.clone()));
        match page.next {
            Some(next) => after = Some(next.parse().unwrap()),
            None => break,
        }
    }
    let expected: Vec<String> = ids.iter().map(ToString::to_string).collect();
    assert_eq!(listed, expected);
    let cancelled = brand
        .sessions(&SessionFilter {
            statuses: vec!["cancelled".into()],
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(cancelled.sessions.len(), 3);
    assert!(cancelled.sessions.iter().all(|s| s.status == "cancelled"));
    assert_eq!(cancelled.next, None);
    // An ended session refuses actions as it did when it was in memory.
    assert!(brand.cancel(cancelled_ids[0], "again").is_err());
}
