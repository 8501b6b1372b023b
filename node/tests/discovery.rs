//! Address discovery through the DHT: two parties that know only a third node's address
//! find each other by their signed address records and complete a signing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::keyfile;
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession};
use signet_protocol::session::Role;
use support::{create, introduce, start, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parties_that_share_only_a_bootstrap_node_find_each_other_and_sign() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    // Key logs and attestations are known; addresses are not: each knows only the CA's.
    introduce(&ca, &[&brand, &supplier]).await;
    brand.service.add_peer(&ca.address).await.unwrap();
    supplier.service.add_peer(&ca.address).await.unwrap();

    let path = root.path().join("agreement.pdf");
    std::fs::write(&path, b"found through the DHT").unwrap();
    let id = brand
        .service
        .create_session(NewSession {
            title: "Supply agreement".into(),
            purpose: "procurement".into(),
            participants: vec![NewParticipant {
                party: supplier.party(),
                role: Role::Signer,
                order: 0,
            }],
            documents: vec![NewDocument {
                name: "agreement.pdf".into(),
                media_type: "application/pdf".into(),
                source: DocumentSource::Path(path),
                pdf_seals: None,
            }],
            deadline_days: 30,
            algorithms: None,
            witnesses: vec![],
        })
        .unwrap();
    until("the supplier receives the proposal and signs", || {
        supplier.service.session(id).is_ok()
            && signet_node::person::sign_as(
                &supplier.service,
                id,
                &keyfile::read(&supplier.delegate_key).unwrap(),
            )
            .is_ok()
    })
    .await;
    until("the brand sees the session completed", || {
        brand.service.session(id).unwrap().status == "completed"
    })
    .await;
    until("the supplier sees it completed", || {
        supplier.service.session(id).unwrap().status == "completed"
    })
    .await;

    // Both published signed records: the brand finds the supplier's node by them.
    let brand_client = brand.service.client().unwrap().clone();
    let supplier_id = supplier.party();
    let found = loop {
        if let Ok(found) = brand_client.lookup(supplier_id).await {
            break found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let supplier_peer = supplier.service.client().unwrap().peer_id().to_string();
    assert!(
        !found.is_empty()
            && found
                .iter()
                .all(|a| a.to_string().ends_with(&supplier_peer)),
        "{found:?}"
    );
}
