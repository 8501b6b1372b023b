//! Whole flows in memory across three tiers: a brand, tier-1 suppliers, a tier-2 supplier
//! and the CA every node trusts.

use super::*;
use crate::Timestamp;
use crate::cose::Signed;
use crate::party::PartyId;
use crate::testkit::{DAY, TestNetwork};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

struct Chain {
    net: TestNetwork,
    brand: PartyId,
    tier1: PartyId,
    tier1b: PartyId,
    tier2: PartyId,
}

fn chain() -> Chain {
    let net = TestNetwork::new(
        &["Brand", "Tier-1 A", "Tier-1 B", "Tier-2"],
        &["procurement"],
        T0,
    );
    let ids: Vec<PartyId> = net.nodes.iter().map(|n| n.party.id()).collect();
    Chain {
        brand: ids[1],
        tier1: ids[2],
        tier1b: ids[3],
        tier2: ids[4],
        net,
    }
}

/// The session's status at `party`; on the way, checks that the session as it stands
/// survives a snapshot unchanged (so every state a flow test looks at is a snapshot test).
fn status(net: &TestNetwork, party: &PartyId, sid: SessionId) -> Status {
    let session = &net.node(party).sessions[&sid];
    let snapshot = session.snapshot().unwrap();
    assert_eq!(&Session::restore(&snapshot).unwrap(), session);
    session.status().clone()
}

fn completed(s: &Status) -> bool {
    matches!(s, Status::Completed { .. })
}

#[test]
fn sequential_three_party_contract_down_the_tiers() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[
            (brand, Role::Signer, 0),
            (tier1, Role::Signer, 1),
            (tier2, Role::Signer, 2),
        ],
        "procurement",
        1,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    for party in [&tier1, &tier2] {
        assert_eq!(status(&net, party, sid), Status::Open);
    }
    // Tier 2 may not sign before tier 1.
    assert!(
        matches!(net.sign(&tier2, sid), Err(ActionError::NotYourTurn(w)) if w == vec![brand, tier1])
    );
    net.sign(&brand, sid).unwrap();
    net.deliver_all();
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    net.sign(&tier2, sid).unwrap();
    net.deliver_all();
    for party in [&brand, &tier1, &tier2] {
        let node = net.node(party);
        assert!(
            completed(&status(&net, party, sid)),
            "{party}: {:?} refused {:?}",
            status(&net, party, sid),
            node.refused
        );
        assert_eq!(node.sessions[&sid].actions().len(), 3);
        assert!(node.refused.is_empty(), "{:?}", node.refused);
    }
    // The third signature commits to the first two: routing order is in the evidence.
    let actions = net.node(&brand).sessions[&sid].actions();
    let last = actions[2].record.as_ref().unwrap().seal_signature.payload();
    let mut expected = vec![actions[0].digest(), actions[1].digest()];
    expected.sort();
    let mut prior = last.prior.clone();
    prior.sort();
    assert_eq!(prior, expected);
}

#[test]
fn parallel_group_signs_in_any_order() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier1b,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[
            (tier1, Role::Signer, 1),
            (tier1b, Role::Signer, 1),
            (brand, Role::Signer, 2),
        ],
        "procurement",
        2,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    assert!(matches!(
        net.sign(&brand, sid),
        Err(ActionError::NotYourTurn(_))
    ));
    net.sign(&tier1b, sid).unwrap();
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    net.sign(&brand, sid).unwrap();
    net.deliver_all();
    for party in [&brand, &tier1, &tier1b] {
        assert!(
            completed(&status(&net, party, sid)),
            "{:?}",
            net.node(party).refused
        );
    }
}

#[test]
fn mixed_routing_with_an_approver_and_a_copy() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier1b,
        tier2,
    } = chain();
    let p = net.proposal(
        &brand,
        &[
            (tier1, Role::Approver, 0),
            (tier2, Role::Signer, 1),
            (tier1b, Role::Copy, 1),
            (brand, Role::Signer, 2),
        ],
        "procurement",
        3,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    assert!(matches!(
        net.sign(&tier2, sid),
        Err(ActionError::NotYourTurn(_))
    ));
    net.act(&tier1, sid, |s, ctx, _, _| s.approve(ctx)).unwrap();
    net.deliver_all();
    net.sign(&tier2, sid).unwrap();
    net.deliver_all();
    net.sign(&brand, sid).unwrap();
    net.deliver_all();
    for party in [&brand, &tier1, &tier1b, &tier2] {
        assert!(completed(&status(&net, party, sid)), "{party}");
    }
    // The copy recipient cannot act.
    assert!(matches!(
        net.act(&tier1b, sid, |s, ctx, _, _| s.decline("no", ctx)),
        Err(ActionError::NotAllowed(_))
    ));
}

#[test]
fn decline_ends_the_session_for_everyone() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (tier2, Role::Signer, 0)],
        "procurement",
        4,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.act(&tier1, sid, |s, ctx, _, _| s.acknowledge(ctx))
        .unwrap();
    net.act(&tier1, sid, |s, ctx, _, _| s.decline("price too low", ctx))
        .unwrap();
    net.deliver_all();
    for party in [&brand, &tier1, &tier2] {
        assert!(
            matches!(status(&net, party, sid), Status::Declined { by, .. } if by == tier1),
            "{party}"
        );
    }
    assert!(matches!(
        net.sign(&tier2, sid),
        Err(ActionError::Ended("declined"))
    ));
    assert_eq!(net.node(&brand).sessions[&sid].acknowledged(), &[tier1]);
}

#[test]
fn cancel_stops_every_later_action() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 5);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.act(&brand, sid, |s, ctx, _, _| s.cancel("wrong supplier", ctx))
        .unwrap();
    net.deliver_all();
    assert!(matches!(
        status(&net, &tier1, sid),
        Status::Cancelled { .. }
    ));
    assert!(matches!(
        net.sign(&tier1, sid),
        Err(ActionError::Ended("cancelled"))
    ));
}

#[test]
fn deadline_expires_the_session() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 6);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    // A signature made in time but delivered after the deadline is refused.
    net.sign(&tier1, sid).unwrap();
    net.now = net.now.plus(31 * DAY);
    net.deliver_all();
    assert!(matches!(
        net.node(&brand).refused.last(),
        Some(SessionError::Expired(_))
    ));
    let now = net.now;
    for party in [brand, tier1] {
        net.act(&party, sid, |s, _, _, _| Ok(s.tick(now))).unwrap();
        assert!(matches!(status(&net, &party, sid), Status::Expired { .. }));
    }
}

#[test]
fn a_delegate_outside_its_mandate_cannot_sign() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    // The mandates cover "procurement" only.
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "equity transfer", 7);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    let err = net.sign(&tier1, sid).unwrap_err();
    assert!(
        matches!(
            &err,
            ActionError::Record(RecordError::Mandate(
                crate::attestation::MandateError::PurposeNotCovered(_)
            ))
        ),
        "{err:?}"
    );
}

#[test]
fn a_party_signing_alone_needs_a_mandate_too() {
    let Chain { mut net, brand, .. } = chain();
    // The brand is the only participant: no other party, and still its mandate must cover
    // the purpose.
    let p = net.proposal(&brand, &[(brand, Role::Signer, 0)], "equity transfer", 8);
    let sid = net.propose(p).unwrap();
    let err = net.sign(&brand, sid).unwrap_err();
    assert!(
        matches!(
            &err,
            ActionError::Record(RecordError::Mandate(
                crate::attestation::MandateError::PurposeNotCovered(_)
            ))
        ),
        "{err:?}"
    );
    // Within its mandate, it signs alone and completes.
    let p = net.proposal(&brand, &[(brand, Role::Signer, 0)], "procurement", 9);
    let sid = net.propose(p).unwrap();
    net.sign(&brand, sid).unwrap();
    assert!(completed(&status(&net, &brand, sid)));
}

#[test]
fn a_revocation_between_two_signatures_stops_the_second() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (tier2, Role::Signer, 1)],
        "procurement",
        8,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    // The CA revokes tier 2's identity attestation.
    let tier2_identity = net.nodes[0]
        .store
        .about(&tier2, crate::attestation::AttestationKind::Identity)
        .next()
        .unwrap()
        .payload()
        .id;
    net.now = net.now.plus(DAY);
    let now = net.now;
    let revocation = net.nodes[0].party.revoke(tier2_identity, now, now);
    net.publish(&revocation);
    net.now = net.now.plus(60);
    // Tier 2's own node signs (it does not judge itself), but the initiator refuses.
    net.sign(&tier2, sid).unwrap();
    net.deliver_all();
    let refused = &net.node(&brand).refused;
    assert!(
        matches!(refused.last(), Some(SessionError::Record { party, error: RecordError::Untrusted { .. } }) if *party == tier2),
        "{refused:?}"
    );
    assert_eq!(status(&net, &brand, sid), Status::Open);
    assert_eq!(net.node(&brand).sessions[&sid].waiting_for(), vec![tier2]);
}

#[test]
fn duplicates_are_harmless() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (brand, Role::Signer, 1)],
        "procurement",
        9,
    );
    let sid = net.propose(p).unwrap();
    let propose = net.queue[0].1.clone();
    net.deliver_all();
    net.deliver(&tier1, &propose);
    net.sign(&tier1, sid).unwrap();
    let sign = net.queue[0].1.clone();
    net.deliver_all();
    let before = net.node(&brand).sessions[&sid].clone();
    net.deliver(&brand, &sign);
    assert_eq!(net.node(&brand).sessions[&sid], before);
    assert!(net.node(&brand).refused.is_empty());
    assert!(net.node(&tier1).refused.is_empty());
}

#[test]
fn a_message_replayed_into_another_session_is_refused() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let a = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 10);
    let b = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 11);
    let sid_a = net.propose(a).unwrap();
    let sid_b = net.propose(b).unwrap();
    net.deliver_all();
    net.sign(&tier1, sid_a).unwrap();
    let sign_a = net.queue[0].1.clone();
    let now = net.now;
    let node = &net
        .nodes
        .iter()
        .position(|n| n.party.id() == brand)
        .unwrap();
    let node = &mut net.nodes[*node];
    let ctx = Context {
        store: &node.store,
        policy: &node.policy,
        now,
        node_key: &node.party.node,
    };
    let session_b = node.sessions.get_mut(&sid_b).unwrap();
    assert!(matches!(
        session_b.handle(&sign_a, &ctx),
        Err(SessionError::WrongSession { .. })
    ));
}

/// Signs an arbitrary message as `party` (to forge what an honest node would not send).
/// A `sign` message by `party` in session `sid`, built by hand as a signer could (its
/// delegate's intent proof, its mandate, its contract seal, its node key), committing to
/// `prior` and naming the PDF revisions `pdf`, whatever its turn.
fn signed_by_hand(
    net: &TestNetwork,
    party: &PartyId,
    sid: SessionId,
    prior: Vec<crate::Digest>,
    pdf: Vec<PdfRevision>,
) -> Vec<u8> {
    let me = &net.node(party).party;
    let proposal = net.node(party).sessions[&sid].proposal();
    let intent = IntentChallenge {
        session: sid,
        proposal: proposal.digest(),
        documents: proposal.payload().document_digests(),
        signer: *party,
        seal: me.contract_seal.public_key().into(),
        method: IntentMethod::SoftwareKey,
        time: net.now,
    };
    let intent = Signed::sign(intent, INTENT_CONTENT_TYPE, &me.delegate).unwrap();
    let mandate = net.node(party).mandate.clone().unwrap();
    let ss = SealSignature {
        session: sid,
        proposal: proposal.digest(),
        documents: proposal.payload().document_digests(),
        signer: *party,
        time: net.now,
        intent: intent.digest(),
        delegation: mandate.digest(),
        relied: vec![],
        prior,
        pdf,
    };
    let record = SignatureRecord {
        seal_signature: Signed::sign(ss, SEAL_SIGNATURE_CONTENT_TYPE, &me.contract_seal)
            .unwrap()
            .into_log_key(),
        intent: IntentProof::Signed(intent.into_key()),
        delegation: mandate,
    };
    let message = SessionMessage {
        session: sid,
        proposal: proposal.digest(),
        from: *party,
        time: net.now,
        body: MessageBody::Sign(record.to_bytes()),
    };
    forge(net, party, message)
}

fn forge(net: &TestNetwork, party: &PartyId, message: SessionMessage) -> Vec<u8> {
    Signed::sign(
        message,
        SESSION_MESSAGE_CONTENT_TYPE,
        &net.node(party).party.node,
    )
    .unwrap()
    .bytes()
    .to_vec()
}

#[test]
fn a_signature_out_of_routing_order_is_refused() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (tier2, Role::Signer, 1)],
        "procurement",
        12,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    // Tier 2 builds a complete, well-signed record out of turn.
    let bytes = signed_by_hand(&net, &tier2, sid, vec![], vec![]);
    net.deliver(&brand, &bytes);
    assert!(matches!(
        net.node(&brand).refused.last(),
        Some(SessionError::RoutingOrder { party, waiting_for }) if *party == tier2 && *waiting_for == vec![tier1]
    ));
    assert!(net.node(&brand).sessions[&sid].actions().is_empty());
}

#[test]
fn a_completion_missing_a_signature_is_refused_by_participants() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (tier2, Role::Signer, 0)],
        "procurement",
        13,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.sign(&tier1, sid).unwrap();
    // Only tier 1's signature: the initiator (dishonestly) completes anyway.
    let sign = net.queue.pop_front().unwrap().1;
    let proposal = net.node(&brand).sessions[&sid].proposal().digest();
    let complete = forge(
        &net,
        &brand,
        SessionMessage {
            session: sid,
            proposal,
            from: brand,
            time: net.now,
            body: MessageBody::Complete {
                actions: vec![sign],
            },
        },
    );
    net.deliver(&tier2, &complete);
    assert!(matches!(
        net.node(&tier2).refused.last(),
        Some(SessionError::Completion("lacks an action"))
    ));
    assert_eq!(status(&net, &tier2, sid), Status::Open);
}

#[test]
fn a_revision_replaces_the_proposal_only_before_anyone_acts() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (tier2, Role::Signer, 1)],
        "procurement",
        14,
    );
    let sid = net.propose(p.clone()).unwrap();
    net.deliver_all();
    let mut revised = p.clone();
    revised.title = "Supply agreement (revised)".into();
    net.act(&brand, sid, |s, ctx, _, _| s.revise(revised, ctx))
        .unwrap();
    net.deliver_all();
    assert_eq!(
        net.node(&tier1).sessions[&sid]
            .proposal()
            .payload()
            .revision,
        1
    );
    assert_eq!(
        net.node(&tier1).sessions[&sid].proposal().payload().title,
        "Supply agreement (revised)"
    );
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    let mut again = p;
    again.title = "Changed after signing".into();
    assert!(matches!(
        net.act(&brand, sid, |s, ctx, _, _| s.revise(again, ctx)),
        Err(ActionError::ProposalFrozen)
    ));
}

#[test]
fn a_stranger_cannot_take_part() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 15);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    let proposal = net.node(&brand).sessions[&sid].proposal().digest();
    let decline = forge(
        &net,
        &tier2,
        SessionMessage {
            session: sid,
            proposal,
            from: tier2,
            time: net.now,
            body: MessageBody::Decline {
                reason: "not mine".into(),
            },
        },
    );
    net.deliver(&brand, &decline);
    assert!(matches!(
        net.node(&brand).refused.last(),
        Some(SessionError::NotAllowed { .. })
    ));
    assert_eq!(status(&net, &brand, sid), Status::Open);
}

#[test]
fn a_message_signed_by_another_partys_key_is_refused() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 16);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    let proposal = net.node(&brand).sessions[&sid].proposal().digest();
    // Tier 2 signs a decline claiming to be tier 1.
    let forged = Signed::sign(
        SessionMessage {
            session: sid,
            proposal,
            from: tier1,
            time: net.now,
            body: MessageBody::Decline { reason: "x".into() },
        },
        SESSION_MESSAGE_CONTENT_TYPE,
        &net.node(&tier2).party.node,
    )
    .unwrap();
    net.deliver(&brand, forged.bytes());
    assert!(matches!(
        net.node(&brand).refused.last(),
        Some(SessionError::SenderKey(_))
    ));
    assert_eq!(status(&net, &brand, sid), Status::Open);
}

#[test]
fn proposals_round_trip_and_invalid_ones_are_refused() {
    let Chain {
        net, brand, tier1, ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 17);
    let bytes = crate::codec::encode(&p).unwrap();
    assert_eq!(
        crate::codec::decode::<Proposal>(&bytes, &crate::codec::Limits::DEFAULT).unwrap(),
        p
    );
    let mut bad = p.clone();
    bad.participants.push(bad.participants[0].clone());
    assert_eq!(bad.check(), Err(ProposalError::DuplicateParticipant(tier1)));
    let mut no_seal = p.clone();
    no_seal.participants[0].seal_kind = None;
    assert_eq!(no_seal.check(), Err(ProposalError::SealKind(tier1)));
    let mut late = p;
    late.deadline = late.created_at;
    assert_eq!(late.check(), Err(ProposalError::Deadline));
}

#[test]
fn a_party_will_not_sign_with_an_untrusted_counterparty() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 18);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    let brand_identity = net.nodes[0]
        .store
        .about(&brand, crate::attestation::AttestationKind::Identity)
        .next()
        .unwrap()
        .payload()
        .id;
    let now = net.now;
    let revocation = net.nodes[0].party.revoke(brand_identity, now, now);
    net.publish(&revocation);
    let err = net.sign(&tier1, sid).unwrap_err();
    assert!(
        matches!(err, ActionError::Untrusted { party, .. } if party == brand),
        "{err:?}"
    );
}

#[test]
fn signatures_record_the_attestations_relied_on() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 19);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    let action = &net.node(&brand).sessions[&sid].actions()[0];
    let relied = &action
        .record
        .as_ref()
        .unwrap()
        .seal_signature
        .payload()
        .relied;
    let brand_identity = net.nodes[0]
        .store
        .about(&brand, crate::attestation::AttestationKind::Identity)
        .next()
        .unwrap()
        .digest();
    assert_eq!(relied, &vec![brand_identity]);
}

#[test]
fn a_backdated_signature_does_not_dodge_a_revocation() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 20);
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    let start = net.now;
    let identity = net.nodes[0]
        .store
        .about(&tier1, crate::attestation::AttestationKind::Identity)
        .next()
        .unwrap()
        .payload()
        .id;
    let revoked_at = start.plus(DAY);
    let revocation = net.nodes[0].party.revoke(identity, revoked_at, revoked_at);
    net.publish(&revocation);
    // Tier 1 signs with its clock set back to before the revocation...
    net.now = start.plus(60);
    net.sign(&tier1, sid).unwrap();
    // ...but the initiator receives it after, and judges the signer as of now.
    net.now = revoked_at.plus(60);
    net.deliver_all();
    assert!(matches!(
        net.node(&brand).refused.last(),
        Some(SessionError::Record {
            error: RecordError::Untrusted { .. },
            ..
        })
    ));
    assert_eq!(status(&net, &brand, sid), Status::Open);
}

#[test]
fn an_initiator_that_declines_ends_the_session_for_everyone() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[
            (brand, Role::Signer, 0),
            (tier1, Role::Signer, 1),
            (tier2, Role::Signer, 1),
        ],
        "procurement",
        21,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.act(&brand, sid, |s, ctx, _, _| s.decline("terms changed", ctx))
        .unwrap();
    net.deliver_all();
    for party in [&brand, &tier1, &tier2] {
        assert!(
            matches!(status(&net, party, sid), Status::Declined { by, .. } if by == brand),
            "{party}"
        );
        assert!(
            net.node(party).refused.is_empty(),
            "{:?}",
            net.node(party).refused
        );
    }
}

#[test]
fn a_participants_decline_goes_to_the_initiator_alone() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (tier2, Role::Signer, 0)],
        "procurement",
        22,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.act(&tier1, sid, |s, ctx, _, _| s.decline("no", ctx))
        .unwrap();
    assert_eq!(net.queue.len(), 1);
    assert_eq!(net.queue[0].0, brand);
    net.deliver_all();
    assert!(net.node(&tier2).refused.is_empty());
    assert!(matches!(status(&net, &tier2, sid), Status::Declined { .. }));
}

/// `p` with its document sealed as a PDF by every signer, `placements` given.
fn sealed(mut p: Proposal, placements: Vec<SealPlacement>) -> Proposal {
    p.documents[0].pdf_seals = Some(placements);
    p
}

/// The PDF revisions of `party`'s record in session `sid`, as `viewer` holds them.
fn revisions_of(
    net: &TestNetwork,
    viewer: &PartyId,
    party: &PartyId,
    sid: SessionId,
) -> Vec<PdfRevision> {
    net.node(viewer).sessions[&sid]
        .actions()
        .iter()
        .find(|a| a.party == *party)
        .and_then(|a| a.record.as_ref())
        .map(|r| r.seal_signature.payload().pdf.clone())
        .unwrap_or_default()
}

#[test]
fn pdf_sealers_of_one_group_seal_in_listed_order_each_over_the_last_revision() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier1b,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[
            (tier1b, Role::Signer, 1),
            (tier1, Role::Signer, 1),
            (brand, Role::Signer, 2),
        ],
        "procurement",
        40,
    );
    let original = p.documents[0].digest;
    let sid = net.propose(sealed(p, vec![])).unwrap();
    net.deliver_all();
    // Parallel signers of a sealed PDF are serialised: listed order within the group.
    assert!(matches!(net.sign(&tier1, sid), Err(ActionError::NotYourTurn(w)) if w == vec![tier1b]));
    net.sign(&tier1b, sid).unwrap();
    net.deliver_all();
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    net.sign(&brand, sid).unwrap();
    net.deliver_all();
    for party in [&brand, &tier1, &tier1b] {
        assert!(
            completed(&status(&net, party, sid)),
            "{:?}",
            net.node(party).refused
        );
    }
    let first = revisions_of(&net, &tier1, &tier1b, sid);
    let second = revisions_of(&net, &tier1b, &tier1, sid);
    let third = revisions_of(&net, &tier1, &brand, sid);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].base, original);
    assert_eq!(second[0].base, first[0].sealed);
    assert_eq!(third[0].base, second[0].sealed);
}

#[test]
fn a_record_sealing_another_revision_than_the_last_is_refused() {
    let Chain {
        mut net,
        brand,
        tier1,
        tier2,
        ..
    } = chain();
    let p = net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (tier2, Role::Signer, 1)],
        "procurement",
        41,
    );
    let original = p.documents[0].digest;
    let sid = net.propose(sealed(p, vec![])).unwrap();
    net.deliver_all();
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    // Tier 2 seals the original document, skipping tier 1's seal.
    let session = &net.node(&tier2).sessions[&sid];
    assert_eq!(
        session.pdf_bases().unwrap(),
        vec![(0, revisions_of(&net, &tier2, &tier1, sid)[0].sealed)]
    );
    let prior = vec![session.actions()[0].digest()];
    let fork = PdfRevision {
        document: 0,
        base: original,
        sealed: crate::Digest::of(b"a fork"),
        size: 10,
    };
    let bytes = signed_by_hand(&net, &tier2, sid, prior, vec![fork]);
    net.deliver(&brand, &bytes);
    assert!(matches!(
        net.node(&brand).refused.last(),
        Some(SessionError::Record { party, error: RecordError::Binding("PDF revision chain") }) if *party == tier2
    ));
    assert_eq!(net.node(&brand).sessions[&sid].actions().len(), 1);
}

#[test]
fn seal_placements_are_checked() {
    let Chain {
        net, brand, tier1, ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 42);
    let place = |signer, x, width| SealPlacement {
        signer,
        page: Some(2),
        x,
        y: 40,
        width,
        height: 120,
    };
    assert_eq!(
        sealed(p.clone(), vec![place(tier1, 400, 120)]).check(),
        Ok(())
    );
    let refused = |p: Proposal, reason: &str| {
        assert!(
            matches!(p.check(), Err(ProposalError::SealPlacement { document: 0, reason: r }) if r == reason),
            "{:?}",
            p.check()
        );
    };
    refused(
        sealed(p.clone(), vec![place(brand, 400, 120)]),
        "a placement for a party that is not a signer",
    );
    refused(
        sealed(
            p.clone(),
            vec![place(tier1, 400, 120), place(tier1, 40, 120)],
        ),
        "two placements for one signer",
    );
    refused(
        sealed(p.clone(), vec![place(tier1, 14_300, 120)]),
        "a seal outside the largest possible page",
    );
    refused(
        sealed(p.clone(), vec![place(tier1, 400, 0)]),
        "a seal outside the largest possible page",
    );
    let mut first_page = place(tier1, 400, 120);
    first_page.page = Some(0);
    refused(
        sealed(p.clone(), vec![first_page]),
        "pages are numbered from 1",
    );
    let mut text = sealed(p, vec![]);
    text.documents[0].media_type = "text/plain".into();
    refused(text, "PDF seals on a document that is not application/pdf");
}

/// The brand proposes to tier 1, whose contract seal is the SM2 key of `scalar` (of which
/// it also returns the public key), and signs first; tier 1's turn is next.
fn sm2_session(scalar: u8, revoked: bool) -> (Chain, SessionId, crate::keylog::LogKey) {
    let mut chain = chain();
    let (brand, tier1) = (chain.brand, chain.tier1);
    let net = &mut chain.net;
    let sm2 = crate::sm2::Sm2SecretKey::from_bytes(&[scalar; 32]).unwrap();
    let key = sm2.public_key();
    net.use_sm2_contract_seal(&tier1, sm2, &["procurement"]);
    if revoked {
        let now = net.now;
        let i = net
            .nodes
            .iter()
            .position(|n| n.party.id() == tier1)
            .unwrap();
        let revocation = net.nodes[i].party.revoke_key(key, now, now);
        // The revocation names the SM2 key as [alg, key] and every node learns it.
        let crate::attestation::Claims::Revocation(r) = &revocation.payload().claims else {
            panic!("a revocation");
        };
        assert!(matches!(
            &r.target,
            crate::attestation::RevocationTarget::Key(crate::keylog::LogKey::Sm2(_))
        ));
        for node in &mut net.nodes {
            node.store.add_attestation(revocation.clone());
        }
    }
    let p = net.proposal(
        &brand,
        &[(brand, Role::Signer, 0), (tier1, Role::Signer, 1)],
        "procurement",
        scalar,
    );
    let sid = net.propose(p).unwrap();
    net.deliver_all();
    net.sign(&brand, sid).unwrap();
    net.deliver_all();
    (chain, sid, crate::keylog::LogKey::Sm2(key))
}

#[test]
fn a_party_signs_with_an_sm2_seal_and_every_party_verifies_it() {
    let (mut chain, sid, sm2_key) = sm2_session(0x5a, false);
    let (net, brand, tier1) = (&mut chain.net, chain.brand, chain.tier1);
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    for party in [&brand, &tier1] {
        let node = net.node(party);
        assert!(completed(&status(net, party, sid)), "{:?}", node.refused);
        assert!(node.refused.is_empty(), "{:?}", node.refused);
    }
    let actions = net.node(&brand).sessions[&sid].actions();
    let record = actions[1].record.as_ref().unwrap();
    assert_eq!(record.seal_signature.signer(), &sm2_key);
    assert_eq!(
        record.seal_signature.algorithm(),
        crate::cose::Algorithm::Sm2Sm3
    );
    assert_eq!(record.intent.challenge().seal, sm2_key);
    // The record travels as bytes and reads back the same, SM2 signature checked.
    let back = SignatureRecord::from_bytes(&record.to_bytes()).unwrap();
    assert_eq!(&back, record);
}

#[test]
fn an_sm2_seal_signature_that_does_not_verify_is_refused() {
    let (mut chain, sid, _) = sm2_session(0x5b, false);
    let (net, tier1) = (&mut chain.net, chain.tier1);
    net.sign(&tier1, sid).unwrap();
    let record = net.node(&tier1).sessions[&sid].actions()[1]
        .record
        .as_ref()
        .unwrap()
        .to_bytes();
    // Flip one bit of the SM2 signature (the last bytes of the COSE_Sign1).
    let mut bad = record.clone();
    let last = bad.seal_signature.len() - 1;
    bad.seal_signature[last] ^= 1;
    assert!(matches!(
        SignatureRecord::from_bytes(&bad),
        Err(RecordError::SealSignatureObject(
            crate::cose::CoseError::BadSignature
        ))
    ));
}

#[test]
fn a_revoked_sm2_seal_signs_nothing() {
    let (mut chain, sid, _) = sm2_session(0x5c, true);
    let (net, tier1) = (&mut chain.net, chain.tier1);
    let now = net.now;
    let err = net.sign(&tier1, sid).unwrap_err();
    assert!(
        matches!(&err, ActionError::Record(RecordError::SealRevoked(at)) if *at == now),
        "{err:?}"
    );
}

/// A session the brand proposes that requires national algorithms, to tier 1 (signing
/// first) and tier 1B (second); the parties in `sm2` seal with SM2 keys, the others with
/// Ed25519.
fn national_session(tag: u8, sm2: &[usize]) -> (Chain, SessionId) {
    let mut chain = chain();
    let (brand, tier1, tier1b) = (chain.brand, chain.tier1, chain.tier1b);
    for (i, party) in [tier1, tier1b].into_iter().enumerate() {
        if sm2.contains(&i) {
            let key = crate::sm2::Sm2SecretKey::from_bytes(&[tag + i as u8; 32]).unwrap();
            chain
                .net
                .use_sm2_contract_seal(&party, key, &["procurement"]);
        }
    }
    let p = chain.net.proposal(
        &brand,
        &[(tier1, Role::Signer, 0), (tier1b, Role::Signer, 1)],
        "procurement",
        tag,
    );
    let p = crate::testkit::require_national(p, &[&[tag; 1234]]);
    let sid = chain.net.propose(p).unwrap();
    chain.net.deliver_all();
    (chain, sid)
}

#[test]
fn a_session_requiring_national_algorithms_completes_with_sm2_seals() {
    let (mut chain, sid) = national_session(0x70, &[0, 1]);
    let (net, brand, tier1, tier1b) = (&mut chain.net, chain.brand, chain.tier1, chain.tier1b);
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    net.sign(&tier1b, sid).unwrap();
    net.deliver_all();
    for party in [&brand, &tier1, &tier1b] {
        assert!(
            completed(&status(net, party, sid)),
            "{:?}",
            net.node(party).refused
        );
        assert!(net.node(party).refused.is_empty());
        assert!(
            net.node(party).sessions[&sid]
                .proposal()
                .payload()
                .requires_national()
        );
    }
    for action in net.node(&brand).sessions[&sid].actions() {
        let record = action.record.as_ref().unwrap();
        assert_eq!(
            record.seal_signature.algorithm(),
            crate::cose::Algorithm::Sm2Sm3
        );
    }
}

#[test]
fn an_ed25519_seal_cannot_sign_a_session_requiring_national_algorithms() {
    // Tier 1B's seal is Ed25519: it is refused before anything is signed or sent.
    let (mut chain, sid) = national_session(0x72, &[0]);
    let (net, tier1, tier1b) = (&mut chain.net, chain.tier1, chain.tier1b);
    net.sign(&tier1, sid).unwrap();
    net.deliver_all();
    let before = net.node(&tier1b).sessions[&sid].clone();
    let err = net.sign(&tier1b, sid).unwrap_err();
    assert_eq!(err, ActionError::SealAlgorithm(Algorithms::National));
    assert!(err.to_string().contains("national algorithms"), "{err}");
    assert_eq!(net.node(&tier1b).sessions[&sid], before);
    // The intent challenge itself is refused for an Ed25519 seal.
    let ed25519 = net.node(&tier1b).party.contract_seal_key();
    assert_eq!(
        before.intent_challenge(ed25519, IntentMethod::SoftwareKey, net.now),
        Err(ActionError::SealAlgorithm(Algorithms::National))
    );
}

#[test]
fn a_received_ed25519_seal_signature_fails_the_algorithms_check() {
    // An ordinary session signed with Ed25519, judged against the same proposal made to
    // require national algorithms: the algorithms check names the requirement.
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 0x74);
    let sid = net.propose(p.clone()).unwrap();
    net.deliver_all();
    net.sign(&tier1, sid).unwrap();
    let session = &net.node(&tier1).sessions[&sid];
    let record = session.actions()[0].record.clone().unwrap();
    let participant = p.participant(&tier1).unwrap().clone();
    let national = crate::testkit::require_national(p, &[&[0x74; 1234]]);
    let key = crate::testkit::test_key("Brand", "node");
    let signed = Signed::sign(national, PROPOSAL_CONTENT_TYPE, &key).unwrap();
    let node = net.node(&brand);
    let check = RecordCheck {
        proposal: &signed,
        participant: &participant,
        prior: &[],
        pdf_bases: Some(&[]),
        store: &node.store,
        policy: &node.policy,
        viewer: Some(brand),
        judged: Judged::Live { now: net.now },
    };
    assert_eq!(
        record.check(RecordCheckKind::Algorithms, &check),
        Err(RecordError::SealAlgorithm(Algorithms::National))
    );
    // Under the proposal as it was, the check has nothing to say.
    let original = session.proposal();
    let check = RecordCheck {
        proposal: original,
        ..check
    };
    assert_eq!(record.check(RecordCheckKind::Algorithms, &check), Ok(()));
}

#[test]
fn a_proposal_requiring_national_algorithms_needs_every_sm3_digest() {
    let Chain {
        net, brand, tier1, ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 0x75);
    let national = crate::testkit::require_national(p.clone(), &[&[0x75; 1234]]);
    assert_eq!(national.check(), Ok(()));
    assert!(national.documents[0].matches(&[0x75; 1234]));
    assert!(!national.documents[0].sm3_matches(&[0x76; 1234]));
    let mut missing = national.clone();
    missing.documents[0].sm3 = None;
    assert_eq!(missing.check(), Err(ProposalError::MissingSm3(0)));
    let mut unknown = national.clone();
    unknown.algorithms = Some(Algorithms::Unknown(7));
    assert_eq!(
        unknown.check(),
        Err(ProposalError::UnknownAlgorithms(Algorithms::Unknown(7)))
    );
    // Without the requirement an SM3 digest is optional, and checked where given.
    let mut optional = p.clone();
    optional.documents[0].sm3 = national.documents[0].sm3;
    assert_eq!(optional.check(), Ok(()));
    assert_eq!(p.check(), Ok(()));
    // The new fields are absent from an ordinary proposal's bytes, so they keep their
    // meaning and bytes; a national proposal round-trips.
    let bytes = crate::codec::encode(&p).unwrap();
    assert!(crate::codec::encode(&optional).unwrap().len() > bytes.len());
    let back: Proposal = crate::codec::decode(
        &crate::codec::encode(&national).unwrap(),
        &crate::codec::Limits::DEFAULT,
    )
    .unwrap();
    assert_eq!(back, national);
}

#[test]
fn a_receiver_refuses_a_national_proposal_missing_an_sm3_digest() {
    let Chain {
        mut net,
        brand,
        tier1,
        ..
    } = chain();
    let p = net.proposal(&brand, &[(tier1, Role::Signer, 0)], "procurement", 0x76);
    let mut national = crate::testkit::require_national(p, &[&[0x76; 1234]]);
    national.documents[0].sm3 = None;
    // The initiator's own machine refuses it.
    assert_eq!(
        net.propose(national).unwrap_err(),
        ActionError::Proposal(ProposalError::MissingSm3(0))
    );
}
