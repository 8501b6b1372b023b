//! Complete signing sessions driven through `testkit::TestNetwork`, with every message
//! recorded as the bytes that travelled.
//!
//! Everything is deterministic: the network's keys come from fixed test seeds, time is
//! virtual and starts at [`T0`], and nothing reads a clock or a random source. The same
//! transcript is therefore byte-identical on every run, which the committed vectors in
//! `spec/vectors/` rely on.

use signet_protocol::attestation::Amount;
use signet_protocol::bundle::{Bundle, assemble};
use signet_protocol::party::PartyId;
use signet_protocol::session::{ActionError, Role, SessionId};
use signet_protocol::testkit::TestNetwork;
use signet_protocol::trust::TrustPolicy;
use signet_protocol::{Digest, Timestamp};

/// The start of virtual time: 2027-01-15T08:00:00Z.
pub const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// One message as it travelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The recipient.
    pub to: PartyId,
    /// The signed session message's bytes.
    pub bytes: Vec<u8>,
    /// The virtual time of delivery.
    pub at: Timestamp,
}

/// A finished run of the network.
#[derive(Debug)]
pub struct Transcript {
    /// The network after the run (its nodes hold the sessions, logs and stores).
    pub net: TestNetwork,
    /// The brand (initiator), the supplier and the auditor.
    pub brand: PartyId,
    /// Signs first (order 0).
    pub supplier: PartyId,
    /// Approves second (order 1).
    pub auditor: PartyId,
    /// Receives a copy; never acts.
    pub observer: PartyId,
    /// The completed session.
    pub completed: SessionId,
    /// A session the supplier declined.
    pub declined: SessionId,
    /// A session the brand revised, then cancelled.
    pub cancelled: SessionId,
    /// Every message delivered, in order.
    pub deliveries: Vec<Delivery>,
    /// The completed session's bundle, as assembled by the brand.
    pub bundle: Vec<u8>,
    /// The brand's trust policy (what the bundle is verified under).
    pub policy: TrustPolicy,
}

/// The document of session `tag`: what the proposal's digest is of.
pub fn document(tag: u8) -> Vec<u8> {
    vec![tag; 1234]
}

fn deliver_all(net: &mut TestNetwork, out: &mut Vec<Delivery>) {
    while let Some((to, bytes)) = net.queue.pop_front() {
        out.push(Delivery {
            to,
            bytes: bytes.clone(),
            at: net.now,
        });
        net.deliver(&to, &bytes);
    }
}

/// Runs the three-party federation: a brand proposes to a supplier (signer, order 0) and an
/// auditor (approver, order 1) and signs last itself (order 2), with an observer receiving a
/// copy (a fourth party that never acts); the supplier acknowledges,
/// the brand reminds, everyone acts, the session completes, and every party shares its
/// witnessed evidence. Then a second session is declined by the supplier and a third is
/// revised and cancelled by the brand, so that every message kind occurs.
pub fn three_party_session() -> Result<Transcript, ActionError> {
    let mut net = TestNetwork::new(
        &["Brand", "Supplier", "Auditor", "Observer"],
        &["procurement"],
        T0,
    );
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    let auditor = net.nodes[3].party.id();
    let observer = net.nodes[4].party.id();
    let mut deliveries = Vec::new();
    let participants = [
        (supplier, Role::Signer, 0),
        (auditor, Role::Approver, 1),
        (brand, Role::Signer, 2),
        (observer, Role::Copy, 0),
    ];

    let mut proposal = net.proposal(&brand, &participants, "procurement", 1);
    proposal.value = Some(Amount {
        currency: "CNY".into(),
        minor_units: 125_000_000,
    });
    let completed = net.propose(proposal)?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(30);
    net.act(&supplier, completed, |s, ctx, _, _| s.acknowledge(ctx))?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(30);
    net.act(&brand, completed, |s, ctx, _, _| {
        s.remind("Please sign before the end of the month.", ctx)
    })?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(60);
    net.sign(&supplier, completed)?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(60);
    net.act(&auditor, completed, |s, ctx, _, _| s.approve(ctx))?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(60);
    net.sign(&brand, completed)?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(60);
    for party in [brand, supplier, auditor, observer] {
        net.share_evidence(&party, completed)?;
    }
    deliver_all(&mut net, &mut deliveries);

    // A declined session.
    net.now = net.now.plus(60);
    let proposal = net.proposal(&brand, &participants, "procurement", 2);
    let declined = net.propose(proposal)?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(60);
    net.act(&supplier, declined, |s, ctx, _, _| {
        s.decline("The delivery terms are not those agreed.", ctx)
    })?;
    deliver_all(&mut net, &mut deliveries);

    // A revised, then cancelled session.
    net.now = net.now.plus(60);
    let proposal = net.proposal(&brand, &participants, "procurement", 3);
    let cancelled = net.propose(proposal.clone())?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(60);
    let mut revised = proposal;
    revised.title = "Supply agreement 3, revised".into();
    net.act(&brand, cancelled, |s, ctx, _, _| s.revise(revised, ctx))?;
    deliver_all(&mut net, &mut deliveries);
    net.now = net.now.plus(60);
    net.act(&brand, cancelled, |s, ctx, _, _| {
        s.cancel("Superseded by another agreement.", ctx)
    })?;
    deliver_all(&mut net, &mut deliveries);

    let node = net.node(&brand);
    let policy = node.policy.clone();
    let bundle = assemble(&node.sessions[&completed], &node.store, &node.policy)
        .ok()
        .and_then(|b: Bundle| b.encode().ok())
        .ok_or(ActionError::NotAllowed("assemble the bundle"))?;
    Ok(Transcript {
        net,
        brand,
        supplier,
        auditor,
        observer,
        completed,
        declined,
        cancelled,
        deliveries,
        bundle,
        policy,
    })
}

impl Transcript {
    /// The digest of the completed session's document.
    pub fn document_digest(&self) -> Digest {
        Digest::of(&document(1))
    }
}

/// What one party did or received, in the order it happened: the script of a
/// `session-play` vector (spec/conformance.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Played {
    /// A message delivered to `to`.
    Received(Delivery),
    /// A local action of `party` at `at`.
    Acted {
        /// Who acted.
        party: PartyId,
        /// When.
        at: Timestamp,
        /// What it did.
        action: LocalAction,
    },
}

/// A local action of a party, with what it needs beyond its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalAction {
    /// Propose: the proposal's CBOR payload, unsigned.
    Propose(Vec<u8>),
    /// Acknowledge the proposal.
    Acknowledge,
    /// Sign with this intent proof (its bytes) under the party's mandate.
    Sign(Vec<u8>),
    /// Share this `party-evidence` (CBOR).
    ShareEvidence(Vec<u8>),
}

/// A two-party session, played: the brand proposes to the supplier (signer, order 0) and signs
/// last itself (order 1); the supplier acknowledges and signs; the brand's signature
/// completes the session; both share their evidence.
#[derive(Debug)]
pub struct TwoParty {
    /// The network after the run.
    pub net: TestNetwork,
    /// The initiator.
    pub brand: PartyId,
    /// The participant.
    pub supplier: PartyId,
    /// The session.
    pub session: SessionId,
    /// Everything that happened, in order.
    pub played: Vec<Played>,
}

impl TwoParty {
    /// What `party` did and received, in order.
    pub fn script(&self, party: &PartyId) -> Vec<Played> {
        self.played
            .iter()
            .filter(|p| match p {
                Played::Received(d) => d.to == *party,
                Played::Acted { party: who, .. } => who == party,
            })
            .cloned()
            .collect()
    }

    /// The bundle of `party`'s view of the completed session.
    pub fn bundle(&self, party: &PartyId) -> Result<Vec<u8>, ActionError> {
        let node = self.net.node(party);
        let session = node
            .sessions
            .get(&self.session)
            .ok_or(ActionError::NotAllowed("assemble without the session"))?;
        assemble(session, &node.store, &node.policy)
            .ok()
            .and_then(|b: Bundle| b.encode().ok())
            .ok_or(ActionError::NotAllowed("assemble the bundle"))
    }
}

fn deliver_played(net: &mut TestNetwork, played: &mut Vec<Played>) {
    let mut deliveries = Vec::new();
    deliver_all(net, &mut deliveries);
    played.extend(deliveries.into_iter().map(Played::Received));
}

/// Runs [`TwoParty`]'s session.
pub fn two_party_session() -> Result<TwoParty, ActionError> {
    two_party_session_sealed(None)
}

/// [`two_party_session`], the supplier sealing with `supplier_sm2` (an SM2 contract seal it
/// declares first) when given.
pub fn two_party_session_sealed(
    supplier_sm2: Option<signet_protocol::sm2::Sm2SecretKey>,
) -> Result<TwoParty, ActionError> {
    use signet_protocol::codec;
    use signet_protocol::cose::Signed;
    use signet_protocol::session::{INTENT_CONTENT_TYPE, IntentMethod, IntentProof, MessageBody};

    let mut net = TestNetwork::new(&["Brand", "Supplier"], &["procurement"], T0);
    let brand = net.nodes[1].party.id();
    let supplier = net.nodes[2].party.id();
    if let Some(key) = supplier_sm2 {
        net.use_sm2_contract_seal(&supplier, key, &["procurement"]);
    }
    let mut played = Vec::new();
    let encode = |e: codec::EncodeError| ActionError::from(e);

    let proposal = net.proposal(
        &brand,
        &[(supplier, Role::Signer, 0), (brand, Role::Signer, 1)],
        "procurement",
        7,
    );
    played.push(Played::Acted {
        party: brand,
        at: net.now,
        action: LocalAction::Propose(codec::encode(&proposal).map_err(encode)?),
    });
    let session = net.propose(proposal)?;
    deliver_played(&mut net, &mut played);

    net.now = net.now.plus(30);
    played.push(Played::Acted {
        party: supplier,
        at: net.now,
        action: LocalAction::Acknowledge,
    });
    net.act(&supplier, session, |s, ctx, _, _| s.acknowledge(ctx))?;
    deliver_played(&mut net, &mut played);

    for signer in [supplier, brand] {
        net.now = net.now.plus(60);
        let mut intent_bytes = Vec::new();
        net.act(&signer, session, |s, ctx, me, mandate| {
            let challenge =
                s.intent_challenge(me.contract_seal_key(), IntentMethod::SoftwareKey, ctx.now)?;
            let intent = IntentProof::Signed(
                Signed::sign(challenge, INTENT_CONTENT_TYPE, &me.delegate)?.into_key(),
            );
            intent_bytes = intent.bytes().to_vec();
            let mandate = mandate
                .cloned()
                .ok_or(ActionError::NotAllowed("sign without a mandate"))?;
            me.seal_contract(s, intent, mandate, Vec::new(), ctx)
        })?;
        played.push(Played::Acted {
            party: signer,
            at: net.now,
            action: LocalAction::Sign(intent_bytes),
        });
        deliver_played(&mut net, &mut played);
    }

    net.now = net.now.plus(60);
    for party in [brand, supplier] {
        let queued = net.queue.len();
        net.share_evidence(&party, session)?;
        let (_, bytes) = net
            .queue
            .get(queued)
            .ok_or(ActionError::NotAllowed("share evidence"))?;
        let shared = Signed::<signet_protocol::session::SessionMessage>::decode(
            bytes,
            signet_protocol::session::SESSION_MESSAGE_CONTENT_TYPE,
            &signet_protocol::codec::Limits::DEFAULT,
        )
        .map_err(|_| ActionError::NotAllowed("decode the evidence message"))?;
        let MessageBody::Evidence(evidence) = &shared.payload().body else {
            return Err(ActionError::NotAllowed("share evidence"));
        };
        played.push(Played::Acted {
            party,
            at: net.now,
            action: LocalAction::ShareEvidence(codec::encode(evidence).map_err(encode)?),
        });
    }
    deliver_played(&mut net, &mut played);
    Ok(TwoParty {
        net,
        brand,
        supplier,
        session,
        played,
    })
}
