//! The world every wire attack runs in: real nodes on loopback, a verifier CA, the victim
//! (Brand), an honest counterparty (Supplier) and Mallory, a counterparty the CA verified
//! who attacks from her own node with her own keys. Mallory's keys are read from her party
//! directory, so a test can sign whatever she would.

use std::time::Duration;

use signet_node::keyfile;
use signet_node::net::NetError;
use signet_node::service::keys::PartyKeys;
use signet_protocol::attestation::SignedAttestation;
use signet_protocol::attestation::{Attestation, Claims};
use signet_protocol::cose::Signed;
use signet_protocol::error::ErrorCode;
use signet_protocol::keylog::KeyLog;
use signet_protocol::party::{AttestationId, PartyId};
use signet_protocol::session::{
    INTENT_CONTENT_TYPE, IntentChallenge, IntentMethod, MessageBody, PROPOSAL_CONTENT_TYPE,
    Proposal, SEAL_SIGNATURE_CONTENT_TYPE, SESSION_MESSAGE_CONTENT_TYPE, SealSignature, SessionId,
    SessionMessage, SignatureRecordBytes,
};
use signet_protocol::{Digest, SecretKey, Timestamp};

use crate::support::{Node, create, federate, one_signer, start, test_tokens, until};

/// A federation with an attacker in it.
pub struct World {
    pub root: tempfile::TempDir,
    pub ca: Node,
    pub brand: Node,
    pub supplier: Node,
    pub mallory: Node,
    /// Mallory's party keys (root, node, attest, log, seals).
    pub keys: PartyKeys,
    /// Mallory's delegate's person key.
    pub delegate: SecretKey,
}

/// What a node holds of its sessions, to show that a refused input stored nothing.
/// (Attestations are left out: what parties say of themselves arrives by gossip at any
/// time; the tests about attestations count them where it matters.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub sessions: usize,
    pub evidence: u64,
    pub outbox: usize,
}

pub fn snapshot(node: &Node) -> Snapshot {
    Snapshot {
        sessions: node
            .service
            .sessions_by_status()
            .unwrap()
            .values()
            .sum::<u64>() as usize,
        evidence: node.service.evidence_len().unwrap(),
        outbox: node.service.outbox_len().unwrap(),
    }
}

/// The refusal code of a send, or a panic if it was not refused.
pub fn refused(result: Result<(), NetError>) -> ErrorCode {
    match result {
        Err(NetError::Refused(code)) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

impl World {
    pub async fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
        let ca = start("Verifier CA", &ca_dir, &ca_key).await;
        let anchors = [(ca.party(), "Verifier CA")];
        let mut nodes = Vec::new();
        for name in ["Brand", "Supplier", "Mallory"] {
            let (dir, key) = create(root.path(), name, &anchors);
            test_tokens(&dir);
            nodes.push(start(name, &dir, &key).await);
        }
        let mallory = nodes.pop().unwrap();
        let supplier = nodes.pop().unwrap();
        let brand = nodes.pop().unwrap();
        federate(&ca, &[&brand, &supplier, &mallory]).await;
        let keys = PartyKeys::load(&mallory.dir.join("keys")).unwrap();
        let delegate = keyfile::read(&mallory.delegate_key).unwrap();
        Self {
            root,
            ca,
            brand,
            supplier,
            mallory,
            keys,
            delegate,
        }
    }

    /// Mallory's key log, as everyone knows it.
    pub fn mallory_log(&self) -> KeyLog {
        KeyLog::replay(self.mallory.service.own_key_log().unwrap()).unwrap()
    }

    /// Sends `bytes` from Mallory's node to `to`'s node; the refusal code.
    pub async fn mallory_sends(&self, to: &Node, bytes: Vec<u8>) -> Result<(), NetError> {
        self.mallory
            .service
            .client()
            .unwrap()
            .send_message(to.party(), bytes)
            .await
    }

    /// Brand proposes a session to `participants` (party, order) with signers only; returns
    /// its id and the signed proposal once every participant holds it.
    pub async fn brand_proposes(
        &self,
        title: &str,
        participants: &[(&Node, u32)],
    ) -> (SessionId, Signed<Proposal>) {
        let mut new = one_signer(title, participants[0].0.party(), title.as_bytes().to_vec());
        new.participants = participants
            .iter()
            .map(|(n, order)| signet_node::service::NewParticipant {
                party: n.party(),
                role: signet_protocol::session::Role::Signer,
                order: *order,
            })
            .collect();
        let id = self.brand.service.create_session(new).unwrap();
        for (n, _) in participants {
            until("the participant holds the proposal", || {
                n.service.session(id).is_ok()
            })
            .await;
        }
        // Delivered and acknowledged on the wire: nothing of it left in Brand's outbox.
        until("Brand's outbox drains", || {
            self.brand.service.outbox_len().unwrap() == 0
        })
        .await;
        let bytes = self.brand.service.signed_proposal(id).unwrap();
        let proposal = Signed::decode(
            &bytes,
            PROPOSAL_CONTENT_TYPE,
            &signet_protocol::codec::Limits::DEFAULT,
        )
        .unwrap();
        (id, proposal)
    }

    /// Mallory issues an attestation with her attest key (what she may say about herself).
    pub fn mallory_issues(
        &self,
        claims: Claims,
        from: Timestamp,
        until: Timestamp,
    ) -> SignedAttestation {
        let digest = Digest::of(format!("{claims:?}{from}{until}").as_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest.as_bytes()[..16]);
        Attestation {
            id: AttestationId::from_bytes(id),
            issuer: self.mallory.party(),
            subject: self.mallory.party(),
            issued_at: from,
            valid_from: from,
            valid_until: until,
            claims,
        }
        .issue(&self.keys.attest, &self.mallory_log())
        .unwrap()
    }

    /// Mallory's current mandate for her delegate (the one `init` gave).
    pub fn mallory_mandate(&self) -> SignedAttestation {
        self.mallory
            .service
            .attestations()
            .unwrap()
            .into_iter()
            .find(|a| {
                a.payload().issuer == self.mallory.party()
                    && matches!(a.payload().claims, Claims::Delegation(_))
            })
            .unwrap()
    }

    /// A session between Brand and Supplier completes: the victim keeps serving.
    pub async fn still_serving(&self) {
        let (id, _) = self
            .brand_proposes("Still serving", &[(&self.supplier, 0)])
            .await;
        let delegate = keyfile::read(&self.supplier.delegate_key).unwrap();
        until("the supplier signs", || {
            signet_node::person::sign_as(&self.supplier.service, id, &delegate).is_ok()
        })
        .await;
        until("Brand completes a session after the attack", || {
            self.brand.service.session(id).unwrap().status == "completed"
        })
        .await;
    }
}

/// A sign message as Mallory's node would send it, with every part open to tampering.
pub struct Forge<'a> {
    pub proposal: &'a Signed<Proposal>,
    pub party: PartyId,
    pub node: &'a SecretKey,
    pub seal: &'a signet_protocol::keylog::LogSecretKey,
    pub delegate: &'a SecretKey,
    pub mandate: SignedAttestation,
    pub time: Timestamp,
    pub prior: Vec<Digest>,
    /// The session and proposal the message (not the record) names.
    pub envelope: Option<(SessionId, Digest)>,
}

impl<'a> Forge<'a> {
    pub fn new(world: &'a World, proposal: &'a Signed<Proposal>) -> Self {
        Self {
            proposal,
            party: world.mallory.party(),
            node: &world.keys.node,
            seal: &world.keys.contract_seal,
            delegate: &world.delegate,
            mandate: world.mallory_mandate(),
            time: signet_node::service::now(),
            prior: Vec::new(),
            envelope: None,
        }
    }

    /// The signature record's three signed objects.
    pub fn record(&self) -> SignatureRecordBytes {
        let p = self.proposal.payload();
        let intent = Signed::sign(
            IntentChallenge {
                session: p.session,
                proposal: self.proposal.digest(),
                documents: p.document_digests(),
                signer: self.party,
                seal: self.seal.public_key(),
                method: IntentMethod::SoftwareKey,
                time: self.time,
            },
            INTENT_CONTENT_TYPE,
            self.delegate,
        )
        .unwrap();
        let seal_signature = Signed::sign(
            SealSignature {
                session: p.session,
                proposal: self.proposal.digest(),
                documents: p.document_digests(),
                signer: self.party,
                time: self.time,
                intent: intent.digest(),
                delegation: self.mandate.digest(),
                relied: Vec::new(),
                prior: self.prior.clone(),
                pdf: Vec::new(),
            },
            SEAL_SIGNATURE_CONTENT_TYPE,
            self.seal,
        )
        .unwrap();
        SignatureRecordBytes {
            seal_signature: seal_signature.bytes().to_vec(),
            intent: intent.bytes().to_vec(),
            delegation: self.mandate.bytes().to_vec(),
        }
    }

    /// A message with `body`, signed by the node key.
    pub fn message(&self, body: MessageBody) -> Vec<u8> {
        let (session, proposal) = self
            .envelope
            .unwrap_or((self.proposal.payload().session, self.proposal.digest()));
        Signed::sign(
            SessionMessage {
                session,
                proposal,
                from: self.party,
                time: self.time,
                body,
            },
            SESSION_MESSAGE_CONTENT_TYPE,
            self.node,
        )
        .unwrap()
        .bytes()
        .to_vec()
    }

    /// The sign message.
    pub fn sign(&self) -> Vec<u8> {
        self.message(MessageBody::Sign(self.record()))
    }
}

/// Waits a little for anything in flight to land, then returns.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}
