//! Inputs that the fuzz targets in `protocol/fuzz/` found to break an invariant, replayed
//! through the same API with the behaviour that is correct; see `protocol/fuzz/README.md` for
//! the findings and their fixes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use signet_protocol::Timestamp;
use signet_protocol::cose::Signed;
use signet_protocol::party::PartyId;
use signet_protocol::session::{
    Context, MessageBody, Role, SESSION_MESSAGE_CONTENT_TYPE, Session, SessionError, SessionId,
    SessionMessage, Step,
};
use signet_protocol::testkit::TestNetwork;

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// The `session` target's first genuine session: Alpha proposes to Beta (signer, group 0),
/// Gamma (approver, group 1) and itself (signer, group 2); everyone has the proposal.
fn proposed() -> (TestNetwork, SessionId, [PartyId; 3]) {
    let mut net = TestNetwork::new(&["Alpha", "Beta", "Gamma"], &["procurement"], T0);
    let ids: Vec<PartyId> = net.nodes.iter().map(|n| n.party.id()).collect();
    let (alpha, beta, gamma) = (ids[1], ids[2], ids[3]);
    let p = net.proposal(
        &alpha,
        &[
            (beta, Role::Signer, 0),
            (gamma, Role::Approver, 1),
            (alpha, Role::Signer, 2),
        ],
        "procurement",
        1,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    (net, sid, [alpha, beta, gamma])
}

/// `node`'s session `sid` handles `bytes` at `now`; returns the session before, the result,
/// and the session after.
fn handle(
    net: &mut TestNetwork,
    node: &PartyId,
    sid: SessionId,
    bytes: &[u8],
    now: Timestamp,
) -> (Session, Result<Step, SessionError>, Session) {
    let i = net
        .nodes
        .iter()
        .position(|n| n.party.id() == *node)
        .unwrap();
    let n = &mut net.nodes[i];
    let ctx = Context {
        store: &n.store,
        policy: &n.policy,
        now,
        node_key: &n.party.node,
    };
    let session = n.sessions.get_mut(&sid).unwrap();
    let before = session.clone();
    let result = session.handle(bytes, &ctx);
    (before, result, session.clone())
}

/// Target `session`, input `01702e000020` (6 bytes): Gamma holds the proposal; the initiator
/// relays the propose message Gamma has already seen. `Session::handle` answers
/// `Step { duplicate: true }` ("a message already handled; nothing changed") but records the
/// relay's digest in the session's seen set, so the session did change.
#[test]
fn a_relay_of_a_message_already_seen_is_a_duplicate_that_changes_nothing() {
    let (mut net, sid, [alpha, _, gamma]) = proposed();
    let initiator = &net.nodes[1];
    let session = &initiator.sessions[&sid];
    let propose = Signed::sign(
        SessionMessage {
            session: sid,
            proposal: session.proposal().digest(),
            from: alpha,
            time: T0,
            body: MessageBody::Propose {
                proposal: session.proposal().bytes().to_vec(),
            },
        },
        SESSION_MESSAGE_CONTENT_TYPE,
        &initiator.party.node,
    )
    .unwrap();
    // What Gamma received: the same propose message, signed again gives the same bytes.
    let relay = Signed::sign(
        SessionMessage {
            session: sid,
            proposal: session.proposal().digest(),
            from: alpha,
            time: T0,
            body: MessageBody::Relay {
                message: propose.bytes().to_vec(),
            },
        },
        SESSION_MESSAGE_CONTENT_TYPE,
        &initiator.party.node,
    )
    .unwrap();
    let (before, result, after) = handle(&mut net, &gamma, sid, relay.bytes(), T0);
    let step = result.expect("a relay of a message already seen is harmless");
    assert!(step.duplicate);
    assert_eq!(before, after, "a duplicate step changed the session");
}

/// The same fault without a forged message: a participant acknowledges twice (two messages,
/// at two times). The initiator answers the second with `duplicate: true`, documented as
/// "repeating it costs the receiver nothing", yet keeps its digest: every further
/// acknowledgement grows the initiator's session by one digest, without bound.
#[test]
fn a_second_acknowledgement_is_a_duplicate_that_changes_nothing() {
    let (mut net, sid, [alpha, beta, _]) = proposed();
    let mut acks = Vec::new();
    for k in 1..=2 {
        net.now = T0.plus(60 * k);
        net.act(&beta, sid, |s, ctx, _, _| s.acknowledge(ctx))
            .unwrap();
        let (_, bytes) = net.queue.pop_back().unwrap();
        acks.push(bytes);
    }
    let now = net.now;
    let (_, first, _) = handle(&mut net, &alpha, sid, &acks[0], now);
    assert!(!first.unwrap().duplicate);
    let (before, second, after) = handle(&mut net, &alpha, sid, &acks[1], now);
    assert!(second.unwrap().duplicate);
    assert_eq!(before, after, "a duplicate step changed the session");
}
