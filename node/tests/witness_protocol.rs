//! The witness protocol between real nodes (spec 10.5.4, 12.5.2): a requester whose idea of
//! the witness's size is stale asks again from the size the refusal names; a witness keeps
//! its state across a restart; an answer nobody awaits is still acknowledged, so the
//! witness's outbox lets go of it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession};
use signet_protocol::Digest;
use signet_protocol::error::ErrorCode;
use signet_protocol::evidence::witness_name;
use signet_protocol::session::Role;
use signet_protocol::transport::witness::{Refused, WitnessMessage};
use support::{create, create_witness, federate, start};

fn session_to(party: signet_protocol::party::PartyId, tag: &[u8]) -> NewSession {
    NewSession {
        title: "Witnessed".into(),
        purpose: "procurement".into(),
        participants: vec![NewParticipant {
            party,
            role: Role::Signer,
            order: 0,
        }],
        documents: vec![NewDocument {
            name: "w.pdf".into(),
            media_type: "application/pdf".into(),
            source: DocumentSource::Bytes(tag.to_vec()),
            pdf_seals: None,
        }],
        deadline_days: 30,
        algorithms: None,
        witnesses: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_sizes_are_corrected_and_the_witness_survives_restarts() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (w_dir, w_key) = create_witness(root.path(), "Witness", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let witness = start("Witness", &w_dir, &w_key).await;
    federate(&ca, &[&brand, &witness]).await;
    let w = witness.party();
    let name = witness_name(&w);

    // Some evidence, cosigned once.
    brand
        .service
        .create_session(session_to(ca.party(), b"one"))
        .unwrap();
    let first = brand.service.cosigned_checkpoint(w).await.unwrap();
    let size = first.checkpoint().size();
    assert!(size > 0);
    assert!(first.note().to_text().contains(&name));

    // The brand restarts and forgets the witness's size; its log grows. Its request carries
    // the (empty) proof from size 0, the witness refuses it with bad-proof and its size, and
    // the brand asks again with the proof from that size: without the second request this
    // call fails.
    let (b_dir, b_key) = brand.stop().await;
    let brand = start("Brand", &b_dir, &b_key).await;
    federate(&ca, &[&brand, &witness]).await;
    brand
        .service
        .create_session(session_to(ca.party(), b"two"))
        .unwrap();
    let again = brand.service.cosigned_checkpoint(w).await.unwrap();
    assert!(again.checkpoint().size() > size);
    let size = again.checkpoint().size();

    // The witness restarts: it still holds that size, so a larger checkpoint is cosigned
    // with the proof from it, and the witness's rule still applies.
    let (w_dir, w_key) = witness.stop().await;
    let witness = start("Witness", &w_dir, &w_key).await;
    federate(&ca, &[&brand, &witness]).await;
    brand
        .service
        .create_session(session_to(ca.party(), b"three"))
        .unwrap();
    let larger = brand.service.cosigned_checkpoint(w).await.unwrap();
    assert!(larger.checkpoint().size() > size);

    // An answer that nobody awaits is acknowledged (and ignored), so the witness would stop
    // resending it; a cosign request to a node that is not a witness is refused on the wire.
    let stray = WitnessMessage::Refused(Refused {
        checkpoint: Digest::of(b"no such request"),
        code: ErrorCode::BadProof,
        last_size: Some(1),
        reason: None,
        equivocation: None,
    });
    let client = witness.service.client().unwrap();
    client
        .send_message(brand.party(), stray.encode().unwrap())
        .await
        .unwrap();
    let refused = ca.service.cosigned_checkpoint(brand.party()).await;
    assert!(refused.is_err(), "a node that is not a witness cosigned");
}
