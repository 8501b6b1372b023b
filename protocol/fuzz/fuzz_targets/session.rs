//! The session state machine fed message sequences the input chooses.
//!
//! Once per process, a `TestNetwork` (a CA, Alpha, Beta, Gamma) runs four genuine sessions:
//! a three-actor session with an approver that completes and whose parties share evidence;
//! one that is revised, signed once and declined; one that is cancelled; one initiated by
//! Beta. Every message they carry is kept (with its recipient), and each initiator's session
//! right after it proposed.
//!
//! Per input, the nodes start with only those initiator sessions, and the input chooses steps:
//! deliver a genuine message to its recipient or to any node, a byte-flipped or truncated copy,
//! a message the run itself produced, a relay or completion forged by the initiator's own node
//! key around genuine messages, a local action (acknowledge, sign, approve, decline, cancel,
//! remind, complete, revise), or an advance of time (then every session ticks). Delivery works
//! as `TestNetwork::deliver`: `Session::handle` if the node holds the session, else
//! `Session::receive`. Asserted after every step:
//! - a refused message or action changes nothing;
//! - a step answered as a duplicate changes nothing visible (status, actions,
//!   acknowledgements, completion, evidence, proposal);
//! - a message accepted once is a duplicate the second time, changing nothing at all;
//! - a message about another session is refused;
//! - an ended status (completed, declined, cancelled, expired) never changes;
//! - a completed session holds exactly one action from every actor and its completion;
//! - actions come only from actors, one each; a decline only from an actor;
//! - an initiator whose every actor has acted is not open.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use signet_protocol::Timestamp;
use signet_protocol::codec::Limits;
use signet_protocol::cose::{Signed, Unverified};
use signet_protocol::party::PartyId;
use signet_protocol::session::{
    ActionError, Context, INTENT_CONTENT_TYPE, IntentMethod, IntentProof, MessageBody, Role,
    SESSION_MESSAGE_CONTENT_TYPE, Session, SessionId, SessionMessage, Side, Status, Step,
};
use signet_protocol::testkit::{DAY, TestNetwork};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);
const NODES: usize = 4;
const MAX_OPS: usize = 40;
const MAX_PRODUCED: usize = 64;

struct World {
    net: TestNetwork,
    /// Every genuine message: recipient node and bytes.
    pool: Vec<(usize, Vec<u8>)>,
    /// Each initiator's session as it stood right after it proposed: node and session.
    initial: Vec<(usize, Session)>,
    sids: Vec<SessionId>,
}

/// Delivers everything queued, keeping each message.
fn pump(net: &mut TestNetwork, pool: &mut Vec<(usize, Vec<u8>)>) {
    while let Some((to, bytes)) = net.queue.pop_front() {
        let index = net
            .nodes
            .iter()
            .position(|n| n.party.id() == to)
            .expect("a node");
        pool.push((index, bytes.clone()));
        net.deliver(&to, &bytes);
    }
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let mut net = TestNetwork::new(&["Alpha", "Beta", "Gamma"], &["procurement"], T0);
    let ids: Vec<PartyId> = net.nodes.iter().map(|n| n.party.id()).collect();
    let (alpha, beta, gamma) = (ids[1], ids[2], ids[3]);
    let mut pool = Vec::new();
    let mut initial = Vec::new();
    let mut sids = Vec::new();
    let tick = |net: &mut TestNetwork| net.now = net.now.plus(60);

    // 1: Beta signs, Gamma approves, Alpha signs; completed; everyone shares evidence.
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
    let sid = net.propose(p).expect("propose");
    initial.push((1, net.nodes[1].sessions[&sid].clone()));
    sids.push(sid);
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.act(&beta, sid, |s, ctx, _, _| s.acknowledge(ctx))
        .expect("acknowledge");
    net.act(&alpha, sid, |s, ctx, _, _| s.remind("please sign", ctx))
        .expect("remind");
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.sign(&beta, sid).expect("Beta signs");
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.act(&gamma, sid, |s, ctx, _, _| s.approve(ctx))
        .expect("approve");
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.sign(&alpha, sid).expect("Alpha signs");
    pump(&mut net, &mut pool);
    tick(&mut net);
    for party in [&alpha, &beta, &gamma] {
        net.share_evidence(party, sid).expect("share evidence");
    }
    pump(&mut net, &mut pool);
    for party in [&alpha, &beta, &gamma] {
        assert!(
            matches!(
                net.node(party).sessions[&sid].status(),
                Status::Completed { .. }
            ),
            "the genuine session completes"
        );
    }

    // 2: revised, Beta signs, Gamma declines.
    tick(&mut net);
    let p = net.proposal(
        &alpha,
        &[(beta, Role::Signer, 0), (gamma, Role::Signer, 0)],
        "procurement",
        2,
    );
    let mut revised = p.clone();
    revised.title = "Supply agreement 2 (revised)".into();
    let sid = net.propose(p).expect("propose");
    initial.push((1, net.nodes[1].sessions[&sid].clone()));
    sids.push(sid);
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.act(&alpha, sid, |s, ctx, _, _| s.revise(revised, ctx))
        .expect("revise");
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.sign(&beta, sid).expect("Beta signs");
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.act(&gamma, sid, |s, ctx, _, _| s.decline("price", ctx))
        .expect("decline");
    pump(&mut net, &mut pool);

    // 3: cancelled.
    tick(&mut net);
    let p = net.proposal(&alpha, &[(gamma, Role::Signer, 0)], "procurement", 3);
    let sid = net.propose(p).expect("propose");
    initial.push((1, net.nodes[1].sessions[&sid].clone()));
    sids.push(sid);
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.act(&alpha, sid, |s, ctx, _, _| s.cancel("wrong supplier", ctx))
        .expect("cancel");
    pump(&mut net, &mut pool);

    // 4: Beta initiates, Alpha signs, Beta signs, Gamma gets a copy.
    tick(&mut net);
    let p = net.proposal(
        &beta,
        &[
            (alpha, Role::Signer, 0),
            (beta, Role::Signer, 1),
            (gamma, Role::Copy, 1),
        ],
        "procurement",
        4,
    );
    let sid = net.propose(p).expect("propose");
    initial.push((2, net.nodes[2].sessions[&sid].clone()));
    sids.push(sid);
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.sign(&alpha, sid).expect("Alpha signs");
    pump(&mut net, &mut pool);
    tick(&mut net);
    net.sign(&beta, sid).expect("Beta signs");
    pump(&mut net, &mut pool);
    for n in &net.nodes {
        assert!(
            n.refused.is_empty(),
            "the genuine flows refuse nothing: {:?}",
            n.refused
        );
    }
    World {
        net,
        pool,
        initial,
        sids,
    }
});

/// With `SIGNET_FUZZ_TRACE` set, every delivery is printed (to read a crashing input).
static TRACE: LazyLock<bool> = LazyLock::new(|| std::env::var_os("SIGNET_FUZZ_TRACE").is_some());

fn describe(bytes: &[u8]) -> String {
    match Unverified::<SessionMessage>::decode(
        bytes,
        SESSION_MESSAGE_CONTENT_TYPE,
        &Limits::DEFAULT,
    ) {
        Ok(m) => {
            let m = m.payload();
            let inner = match &m.body {
                MessageBody::Relay { message } => format!(" [{}]", describe(message)),
                _ => String::new(),
            };
            format!(
                "{} from {} at {} in {}{inner}",
                m.body.kind(),
                m.from,
                m.time,
                m.session
            )
        }
        Err(e) => format!("undecodable ({e})"),
    }
}

/// Time steps the input picks, in seconds.
const STEPS: [u64; 8] = [1, 60, 299, 301, 3600, DAY, 10 * DAY, 31 * DAY];

struct Run<'a> {
    world: &'a World,
    sessions: Vec<BTreeMap<SessionId, Session>>,
    now: Timestamp,
    /// Messages this run produced: recipient node and bytes.
    produced: Vec<(usize, Vec<u8>)>,
}

fn is_ended(s: &Status) -> bool {
    !matches!(s, Status::Open)
}

fn index_of(world: &World, party: &PartyId) -> usize {
    world
        .net
        .nodes
        .iter()
        .position(|n| n.party.id() == *party)
        .expect("a node")
}

/// The invariants of one session on its own.
fn check_session(s: &Session) {
    let p = s.proposal().payload();
    let actors: Vec<PartyId> = p.actors().map(|a| a.party).collect();
    let mut acted: Vec<PartyId> = s.actions().iter().map(|a| a.party).collect();
    assert!(
        acted.iter().all(|a| actors.contains(a)),
        "an action from a non-actor"
    );
    acted.sort();
    let n = acted.len();
    acted.dedup();
    assert_eq!(acted.len(), n, "two actions from one party");
    match s.status() {
        Status::Completed { .. } => {
            assert!(s.waiting_for().is_empty(), "completed while waiting");
            assert_eq!(s.actions().len(), actors.len());
            assert!(s.completion().is_some(), "completed without a completion");
        }
        Status::Declined { by, .. } => {
            assert!(actors.contains(by), "declined by a non-actor");
        }
        Status::Open if s.side() == Side::Initiator => {
            assert!(
                !s.waiting_for().is_empty(),
                "every actor acted but the initiator did not complete"
            );
        }
        _ => {}
    }
}

/// Everything of a session but the digests of the messages it has seen.
fn same_visible(a: &Session, b: &Session) -> bool {
    a.side() == b.side()
        && a.me() == b.me()
        && a.proposal() == b.proposal()
        && a.status() == b.status()
        && a.actions() == b.actions()
        && a.acknowledged() == b.acknowledged()
        && a.completion() == b.completion()
        && a.evidence().eq(b.evidence())
}

/// A step's invariants against the session before it.
///
/// A duplicate step must leave the session as it was. `Session::handle` does record the
/// digest of a *new* message it answers as a duplicate (a second acknowledgement, a relay of
/// an action already held) in its seen set (found by this target; see the README): that part
/// is not compared here, so that the campaign goes on looking for other faults.
fn check_step(before: &Session, after: &Session, step: &Step) {
    if step.duplicate {
        assert!(
            same_visible(before, after),
            "a duplicate changed the session"
        );
        assert!(step.outbound.is_empty() && step.events.is_empty());
    }
    if is_ended(before.status()) {
        assert_eq!(
            before.status(),
            after.status(),
            "an ended session changed status"
        );
    }
    check_session(after);
}

impl Run<'_> {
    fn keep(&mut self, step: &Step) {
        for out in &step.outbound {
            for to in &out.to {
                if self.produced.len() < MAX_PRODUCED {
                    let i = index_of(self.world, to);
                    self.produced.push((i, out.message.bytes().to_vec()));
                }
            }
        }
    }

    /// Delivers `bytes` to node `to` as `TestNetwork::deliver` does; with `wrong`, to a
    /// session of that node other than the message's own.
    fn deliver(&mut self, to: usize, bytes: &[u8], wrong: Option<usize>) {
        let world = self.world;
        if *TRACE {
            eprintln!(
                "deliver to node {to} (wrong session: {wrong:?}): {}",
                describe(bytes)
            );
        }
        let Ok(sid) = Unverified::<SessionMessage>::decode(
            bytes,
            SESSION_MESSAGE_CONTENT_TYPE,
            &Limits::DEFAULT,
        )
        .map(|m| m.payload().session) else {
            return;
        };
        let node = &world.net.nodes[to];
        let ctx = Context {
            store: &node.store,
            policy: &node.policy,
            now: self.now,
            node_key: &node.party.node,
        };
        if let Some(w) = wrong {
            let target = world.sids[w % world.sids.len()];
            if target != sid
                && let Some(session) = self.sessions[to].get_mut(&target)
            {
                let before = session.clone();
                let result = session.handle(bytes, &ctx);
                assert!(
                    result.is_err(),
                    "a message about another session was taken: {result:?}"
                );
                assert_eq!(&before, session, "a refused message changed the session");
                return;
            }
        }
        let step = match self.sessions[to].get_mut(&sid) {
            Some(session) => {
                let before = session.clone();
                match session.handle(bytes, &ctx) {
                    Ok(step) => {
                        check_step(&before, session, &step);
                        if !step.duplicate {
                            let after = session.clone();
                            let again = session.handle(bytes, &ctx);
                            assert!(
                                matches!(&again, Ok(s) if s.duplicate),
                                "a message taken once is not a duplicate the second time: {again:?}"
                            );
                            assert_eq!(&after, session, "a duplicate changed the session");
                        }
                        step
                    }
                    Err(_) => {
                        assert_eq!(&before, session, "a refused message changed the session");
                        return;
                    }
                }
            }
            None => match Session::receive(bytes, node.party.id(), &ctx) {
                Ok((mut session, step)) => {
                    assert_eq!(session.status(), &Status::Open);
                    assert_eq!(session.side(), Side::Participant);
                    assert_eq!(session.proposal().payload().session, sid);
                    check_session(&session);
                    let again = session.handle(bytes, &ctx);
                    assert!(
                        matches!(&again, Ok(s) if s.duplicate),
                        "the proposal is not a duplicate once received: {again:?}"
                    );
                    self.sessions[to].insert(sid, session);
                    step
                }
                Err(_) => return,
            },
        };
        self.keep(&step);
    }

    /// A local action by node `who` on session `sid`.
    fn act(&mut self, who: usize, sid: SessionId, kind: u8) {
        let world = self.world;
        let node = &world.net.nodes[who];
        let now = self.now;
        let ctx = Context {
            store: &node.store,
            policy: &node.policy,
            now,
            node_key: &node.party.node,
        };
        let Some(session) = self.sessions[who].get_mut(&sid) else {
            return;
        };
        let before = session.clone();
        if *TRACE {
            eprintln!("node {who} acts ({}) at {now}", kind % 8);
        }
        let result: Result<Step, ActionError> = match kind % 8 {
            0 => session.acknowledge(&ctx),
            1 => (|| {
                let me = &node.party;
                let challenge = session.intent_challenge(
                    me.contract_seal_key(),
                    IntentMethod::SoftwareKey,
                    now,
                )?;
                let intent = IntentProof::Signed(
                    Signed::sign(challenge, INTENT_CONTENT_TYPE, &me.delegate)?.into_key(),
                );
                let mandate = node
                    .mandate
                    .clone()
                    .ok_or(ActionError::NotAllowed("sign without a mandate"))?;
                session.sign(intent, mandate, &me.contract_seal, Vec::new(), &ctx)
            })(),
            2 => session.approve(&ctx),
            3 => session.decline("fuzz decline", &ctx),
            4 => session.cancel("fuzz cancel", &ctx),
            5 => session.remind("fuzz reminder", &ctx),
            6 => session.complete(&ctx),
            _ => {
                let mut p = session.proposal().payload().clone();
                p.title = format!("{} (fuzz revision)", p.title);
                session.revise(p, &ctx)
            }
        };
        match result {
            Ok(step) => {
                check_step(&before, session, &step);
                self.keep(&step);
            }
            Err(_) => assert_eq!(&before, session, "a refused action changed the session"),
        }
    }

    /// A message signed with the initiator's own node key (a dishonest initiator): a relay
    /// of `inner`, or a completion holding `actions`.
    fn forge(&self, sid: SessionId, body: MessageBody) -> Option<(usize, Vec<u8>)> {
        let (node, session) = self.sessions.iter().enumerate().find_map(|(i, m)| {
            m.get(&sid)
                .filter(|s| s.side() == Side::Initiator)
                .map(|s| (i, s))
        })?;
        let m = SessionMessage {
            session: sid,
            proposal: session.proposal().digest(),
            from: session.me(),
            time: self.now,
            body,
        };
        let key = &self.world.net.nodes[node].party.node;
        let signed = Signed::sign(m, SESSION_MESSAGE_CONTENT_TYPE, key).ok()?;
        Some((node, signed.bytes().to_vec()))
    }

    fn op(&mut self, u: &mut Unstructured<'_>) -> ArbResult<()> {
        let world = self.world;
        match u.int_in_range(0..=11u8)? {
            0..=2 => {
                let (to, bytes) = u.choose(&world.pool)?;
                self.deliver(*to, bytes, None);
            }
            3 => {
                let (_, bytes) = u.choose(&world.pool)?;
                let to = u.choose_index(NODES)?;
                self.deliver(to, bytes, None);
            }
            4 => {
                let (to, bytes) = u.choose(&world.pool)?;
                let wrong = u.choose_index(world.sids.len())?;
                self.deliver(*to, bytes, Some(wrong));
            }
            5 => {
                // A byte-flipped copy.
                let (to, bytes) = u.choose(&world.pool)?;
                let mut bytes = bytes.clone();
                for _ in 0..u.int_in_range(1..=3u8)? {
                    let at = u.choose_index(bytes.len())?;
                    let mask: u8 = u.arbitrary()?;
                    bytes[at] ^= mask.max(1);
                }
                self.deliver(*to, &bytes, None);
            }
            6 => {
                // A truncated copy.
                let (to, bytes) = u.choose(&world.pool)?;
                let len = u.choose_index(bytes.len())?;
                self.deliver(*to, &bytes[..len], None);
            }
            7 => {
                if self.produced.is_empty() {
                    return Ok(());
                }
                let (to, bytes) = u.choose(&self.produced)?.clone();
                let to = if u.ratio(1, 4)? {
                    u.choose_index(NODES)?
                } else {
                    to
                };
                self.deliver(to, &bytes, None);
            }
            8 => {
                let step = *u.choose(&STEPS)?;
                self.now = self.now.plus(step);
                if *TRACE {
                    eprintln!("time advances to {}", self.now);
                }
                let now = self.now;
                for sessions in &mut self.sessions {
                    for session in sessions.values_mut() {
                        let before = session.clone();
                        let step = session.tick(now);
                        check_step(&before, session, &step);
                        if now >= session.proposal().payload().deadline {
                            assert!(is_ended(session.status()), "open after the deadline");
                        }
                    }
                }
            }
            9 => {
                let who = u.int_in_range(1..=3usize)?;
                let sid = *u.choose(&world.sids)?;
                let kind: u8 = u.arbitrary()?;
                self.act(who, sid, kind);
            }
            10 => {
                // A relay forged by the initiator around any genuine or produced message.
                let sid = *u.choose(&world.sids)?;
                let inner = if !self.produced.is_empty() && u.arbitrary()? {
                    u.choose(&self.produced)?.1.clone()
                } else {
                    u.choose(&world.pool)?.1.clone()
                };
                if let Some((_, bytes)) = self.forge(sid, MessageBody::Relay { message: inner }) {
                    let to = u.int_in_range(1..=3usize)?;
                    self.deliver(to, &bytes, None);
                }
            }
            _ => {
                // A completion forged by the initiator, holding messages the input picks.
                let sid = *u.choose(&world.sids)?;
                let mut actions = Vec::new();
                for _ in 0..u.int_in_range(0..=4u8)? {
                    let pick = if !self.produced.is_empty() && u.arbitrary()? {
                        u.choose(&self.produced)?.1.clone()
                    } else {
                        u.choose(&world.pool)?.1.clone()
                    };
                    actions.push(pick);
                }
                if let Some((_, bytes)) = self.forge(sid, MessageBody::Complete { actions }) {
                    let to = u.int_in_range(1..=3usize)?;
                    self.deliver(to, &bytes, None);
                }
            }
        }
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let world = &*WORLD;
    let mut sessions: Vec<BTreeMap<SessionId, Session>> = vec![BTreeMap::new(); NODES];
    for (node, session) in &world.initial {
        sessions[*node].insert(session.proposal().payload().session, session.clone());
    }
    let mut run = Run {
        world,
        sessions,
        now: T0,
        produced: Vec::new(),
    };
    let mut u = Unstructured::new(data);
    for _ in 0..MAX_OPS {
        if u.is_empty() || run.op(&mut u).is_err() {
            break;
        }
        for sessions in &run.sessions {
            for session in sessions.values() {
                check_session(session);
            }
        }
    }
    // Sessions of one id held by two nodes agree on the session and on who initiated it.
    let mut initiators: BTreeMap<SessionId, PartyId> = BTreeMap::new();
    for sessions in &run.sessions {
        for (sid, s) in sessions {
            let initiator = s.proposal().payload().initiator;
            assert_eq!(s.proposal().payload().session, *sid);
            assert_eq!(*initiators.entry(*sid).or_insert(initiator), initiator);
        }
    }
});
