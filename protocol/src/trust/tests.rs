//! The table of trust scenarios (spec §7.4 lists the same cases).

use super::*;
use crate::attestation::{Amount, MandateError, MandateUse};
use crate::cose::Signed;
use crate::testkit::{DAY, TestParty};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

fn at(days: u64) -> Timestamp {
    T0.plus(days * DAY)
}

/// A CA (anchor), an accredited verifier, a sub-verifier, a brand and two suppliers.
struct World {
    ca: TestParty,
    verifier: TestParty,
    sub_verifier: TestParty,
    brand: TestParty,
    supplier: TestParty,
    store: TrustStore,
    policy: TrustPolicy,
}

impl World {
    fn new() -> Self {
        let w = Self {
            ca: TestParty::new("CA", T0),
            verifier: TestParty::new("Verifier", T0),
            sub_verifier: TestParty::new("SubVerifier", T0),
            brand: TestParty::new("Brand", T0),
            supplier: TestParty::new("Supplier", T0),
            store: TrustStore::new(),
            policy: TrustPolicy::with_anchors(vec![]),
        };
        let mut w = w;
        w.policy = TrustPolicy {
            revocation_freshness: None,
            ..TrustPolicy::with_anchors(vec![TrustAnchor {
                party: w.ca.id(),
                name: "Test CA".into(),
            }])
        };
        for log in [
            &w.ca.log,
            &w.verifier.log,
            &w.sub_verifier.log,
            &w.brand.log,
            &w.supplier.log,
        ] {
            w.store.add_key_log(log.clone());
        }
        w
    }

    fn add(&mut self, signed: SignedAttestation) -> AttestationId {
        let id = signed.payload().id;
        self.store.add_attestation(signed);
        id
    }

    fn eval(&self, when: Timestamp) -> Verdict {
        evaluate(&self.policy, &self.store, &self.supplier.id(), when)
    }
}

fn chain_len(v: &Verdict) -> Option<usize> {
    match v {
        Verdict::Trusted {
            path: TrustPath::Chain(links),
            ..
        } => Some(links.len()),
        _ => None,
    }
}

fn has_problem(v: &Verdict, pred: impl Fn(&Problem) -> bool) -> bool {
    let reasons = match v {
        Verdict::Untrusted { reasons } | Verdict::Indeterminate { reasons, .. } => reasons,
        Verdict::Trusted { .. } => return false,
    };
    reasons
        .iter()
        .any(|f| matches!(f, Finding::Attestation { problem, .. } if pred(problem)))
}

#[test]
fn direct_anchor_attestation_is_trusted() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(1));
    w.add(att);
    let v = w.eval(at(2));
    assert_eq!(chain_len(&v), Some(1), "{v:?}");
    let Verdict::Trusted { identity, .. } = v else {
        unreachable!()
    };
    assert_eq!(
        identity.registration.as_ref(),
        Some(&w.supplier.registration)
    );
}

#[test]
fn anchor_itself_is_trusted() {
    let w = World::new();
    let v = evaluate(&w.policy, &w.store, &w.ca.id(), at(1));
    assert!(matches!(
        v,
        Verdict::Trusted {
            path: TrustPath::Anchor,
            ..
        }
    ));
}

#[test]
fn chain_through_accredited_verifier_is_trusted() {
    let mut w = World::new();
    let acc = w.ca.accredit(w.verifier.id(), false, at(0));
    w.add(acc);
    let att = w
        .verifier
        .verify_identity(&w.supplier, AssuranceLevel::Substantial, at(1));
    w.add(att);
    assert_eq!(chain_len(&w.eval(at(2))), Some(2));
}

#[test]
fn chain_longer_than_the_policy_allows_is_untrusted() {
    let mut w = World::new();
    let acc = w.ca.accredit(w.verifier.id(), false, at(0));
    w.add(acc);
    let att = w
        .verifier
        .verify_identity(&w.supplier, AssuranceLevel::Substantial, at(1));
    w.add(att);
    w.policy.max_chain_depth = 1;
    let v = w.eval(at(2));
    assert!(
        matches!(&v, Verdict::Untrusted { reasons } if reasons.iter().any(|r| matches!(r, Finding::NotAccredited { .. }))),
        "{v:?}"
    );
}

#[test]
fn sub_verifier_needs_an_accreditation_that_may_accredit() {
    let mut w = World::new();
    w.policy.max_chain_depth = 3;
    let acc = w.ca.accredit(w.verifier.id(), false, at(0));
    w.add(acc);
    let sub = w.verifier.accredit(w.sub_verifier.id(), false, at(0));
    w.add(sub);
    let att = w
        .sub_verifier
        .verify_identity(&w.supplier, AssuranceLevel::High, at(1));
    w.add(att);
    let v = w.eval(at(2));
    assert!(
        has_problem(&v, |p| matches!(p, Problem::CannotAccredit)),
        "{v:?}"
    );
    // Once the CA lets the verifier accredit others, the three-link chain holds.
    let acc2 = w.ca.accredit(w.verifier.id(), true, at(0));
    w.add(acc2);
    assert_eq!(chain_len(&w.eval(at(2))), Some(3));
}

#[test]
fn expired_attestation_is_untrusted() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(0));
    w.add(att);
    let v = w.eval(at(400));
    assert!(
        has_problem(&v, |p| matches!(p, Problem::Expired(_))),
        "{v:?}"
    );
    assert!(matches!(v, Verdict::Untrusted { .. }));
    // Before its window it is not valid yet either.
    let v = w.eval(T0.plus(0).plus(0));
    assert!(chain_len(&v).is_some());
}

#[test]
fn too_old_attestation_is_untrusted() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(0));
    w.add(att);
    w.policy.max_attestation_age = Some(30 * DAY);
    assert!(has_problem(&w.eval(at(31)), |p| matches!(
        p,
        Problem::TooOld { .. }
    )));
}

#[test]
fn revocation_counts_only_from_its_effective_time() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(0));
    let id = w.add(att);
    let rev = w.ca.revoke(id, at(10), at(3));
    w.add(rev);
    assert!(w.eval(at(5)).is_trusted(), "revoked only from day 10");
    let v = w.eval(at(20));
    assert!(
        has_problem(&v, |p| matches!(p, Problem::Revoked { .. })),
        "{v:?}"
    );
    assert!(matches!(v, Verdict::Untrusted { .. }));
}

#[test]
fn revocation_by_someone_else_is_ignored() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(0));
    let id = w.add(att);
    let forged = w.brand.revoke(id, at(1), at(1));
    w.add(forged);
    assert!(w.eval(at(5)).is_trusted());
}

#[test]
fn endorsement_threshold_met_and_not_met() {
    let mut w = World::new();
    let mut b2 = TestParty::new("Brand2", T0);
    let b3 = TestParty::new("Brand3", T0);
    w.store.add_key_log(b2.log.clone());
    w.store.add_key_log(b3.log.clone());
    w.policy.endorsements = Some(EndorsementRule {
        endorsers: vec![w.brand.id(), b2.id(), b3.id()],
        threshold: 2,
    });
    let e1 = w.brand.endorse(&w.supplier, at(1));
    w.add(e1);
    let v = w.eval(at(2));
    assert!(
        matches!(&v, Verdict::Untrusted { reasons } if reasons.contains(&Finding::EndorsementQuorum { have: 1, need: 2 })),
        "{v:?}"
    );
    let e2 = b2.endorse(&w.supplier, at(1));
    w.add(e2);
    assert!(matches!(
        w.eval(at(2)),
        Verdict::Trusted { path: TrustPath::Endorsements(links), .. } if links.len() == 2
    ));
}

#[test]
fn endorsements_from_strangers_do_not_count() {
    let mut w = World::new();
    let mut stranger = TestParty::new("Stranger", T0);
    w.store.add_key_log(stranger.log.clone());
    w.policy.endorsements = Some(EndorsementRule {
        endorsers: vec![w.brand.id()],
        threshold: 1,
    });
    let e = stranger.endorse(&w.supplier, at(1));
    w.add(e);
    assert!(matches!(w.eval(at(2)), Verdict::Untrusted { .. }));
}

#[test]
fn an_attestation_of_an_unknown_issuer_waits_for_its_key_log() {
    let mut w = World::new();
    let mut unknown = TestParty::new("Unknown verifier", T0);
    let att = unknown.verify_identity(&w.supplier, AssuranceLevel::High, at(1));
    // Its authority cannot be checked: not taken.
    assert_eq!(
        w.store.add_attestation(att.clone()),
        AttestationUpdate::UnknownIssuer(unknown.id())
    );
    assert!(matches!(
        w.eval(at(2)),
        Verdict::Indeterminate { missing, .. } if missing == vec![Missing::IdentityEvidence(w.supplier.id())]
    ));
    // Once its key log is known it is taken, and its issuer is simply not accredited.
    w.store.add_key_log(unknown.log.clone());
    assert!(w.store.add_attestation(att).is_held());
    assert!(matches!(w.eval(at(2)), Verdict::Untrusted { .. }));
}

#[test]
fn unknown_subject_and_no_evidence_are_indeterminate() {
    let w = World::new();
    assert!(matches!(
        w.eval(at(1)),
        Verdict::Indeterminate { missing, .. } if missing == vec![Missing::IdentityEvidence(w.supplier.id())]
    ));
    let stranger = TestParty::new("Nobody", T0);
    assert!(matches!(
        evaluate(&w.policy, &w.store, &stranger.id(), at(1)),
        Verdict::Indeterminate { missing, .. } if missing == vec![Missing::KeyLog(stranger.id())]
    ));
}

#[test]
fn stale_revocation_information_is_indeterminate() {
    let mut w = World::new();
    w.policy.revocation_freshness = Some(7 * DAY);
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(0));
    w.add(att);
    let list = w.ca.revocation_list(vec![], at(1));
    w.add(list);
    assert!(w.eval(at(5)).is_trusted(), "list is 4 days old");
    let v = w.eval(at(10));
    assert!(
        matches!(&v, Verdict::Indeterminate { missing, .. } if missing == &vec![Missing::FreshRevocationList { issuer: w.ca.id(), newest: Some(at(1)) }]),
        "{v:?}"
    );
    let fresh = w.ca.revocation_list(vec![], at(9));
    w.add(fresh);
    assert!(w.eval(at(10)).is_trusted());
}

#[test]
fn revocation_list_entries_revoke() {
    let mut w = World::new();
    w.policy.revocation_freshness = Some(7 * DAY);
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(0));
    let id = w.add(att);
    let list = w.ca.revocation_list(
        vec![crate::attestation::RevokedEntry {
            id,
            effective: at(2),
            reason: RevocationReason::AffiliationChanged,
        }],
        at(3),
    );
    w.add(list);
    assert!(matches!(w.eval(at(4)), Verdict::Untrusted { .. }));
}

#[test]
fn low_assurance_is_untrusted() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::Low, at(0));
    w.add(att);
    assert!(has_problem(&w.eval(at(1)), |p| matches!(
        p,
        Problem::AssuranceTooLow { .. }
    )));
}

#[test]
fn attestation_signed_with_a_compromised_key_is_untrusted() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(5));
    w.add(att);
    assert!(w.eval(at(6)).is_trusted());
    // The CA learns on day 7 that its attest key was compromised from day 4.
    let key = w.ca.attest.public_key();
    let rev = w.ca.revoke_key(key, at(4), at(7));
    w.add(rev);
    assert!(has_problem(&w.eval(at(8)), |p| matches!(
        p,
        Problem::IssuerKeyRevoked(_)
    )));
}

#[test]
fn attestation_signed_with_a_non_attest_key_is_untrusted() {
    let mut w = World::new();
    let forged = Attestation {
        id: AttestationId::from_bytes([1; 16]),
        issuer: w.ca.id(),
        subject: w.supplier.id(),
        issued_at: at(1),
        valid_from: at(1),
        valid_until: at(300),
        claims: w
            .ca
            .verify_identity(&w.supplier, AssuranceLevel::High, at(1))
            .payload()
            .claims
            .clone(),
    };
    // Signed with the CA's node key: a valid signature, but no authority. It is not taken,
    // so it cannot occupy the CA's id either: the CA's own attestation with that id is.
    let signed = Signed::sign(
        forged.clone(),
        crate::attestation::ATTESTATION_CONTENT_TYPE,
        &w.ca.node,
    )
    .unwrap()
    .into_log_key();
    assert!(matches!(
        w.store.add_attestation(signed),
        AttestationUpdate::Unauthorised(e)
            if matches!(*e, crate::keylog::KeyUseError::WrongPurpose { .. })
    ));
    assert!(matches!(w.eval(at(2)), Verdict::Indeterminate { .. }));
    let genuine = forged.issue(&w.ca.attest, &w.ca.log).unwrap();
    assert!(matches!(
        w.store.add_attestation(genuine),
        AttestationUpdate::Added { .. }
    ));
    assert!(w.eval(at(2)).is_trusted());
}

#[test]
fn retired_party_is_untrusted() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(0));
    w.add(att);
    w.supplier
        .log
        .retire_party(&w.supplier.root, at(3))
        .unwrap();
    w.store.add_key_log(w.supplier.log.clone());
    assert!(w.eval(at(2)).is_trusted());
    assert!(matches!(
        w.eval(at(4)),
        Verdict::Untrusted { reasons } if matches!(reasons[0], Finding::PartyRetired { .. })
    ));
}

#[test]
fn delegation_scope_is_enforced() {
    let mut w = World::new();
    let brand = w.brand.id();
    let other = w.ca.id();
    let mandate = w.supplier.delegate_contract_seal(
        &["procurement"],
        Some(1_000_000),
        Some(vec![brand]),
        at(0),
        365,
    );
    let mandate_id = mandate.payload().id;
    w.store.add_attestation(mandate.clone());
    let value = Amount {
        currency: "CNY".into(),
        minor_units: 50_000_000,
    };
    let ok = MandateUse {
        party: w.supplier.id(),
        delegate: crate::person::PersonKey::Ed25519(w.supplier.delegate.public_key()),
        seal: w.supplier.contract_seal.public_key().into(),
        purpose: "procurement",
        value: Some(&value),
        counterparties: &[brand],
        time: at(10),
    };
    let max = w.policy.max_delegation_validity;
    assert!(w.store.check_mandate(&mandate, &ok, max).is_ok());

    let too_much = Amount {
        currency: "CNY".into(),
        minor_units: 100_000_001,
    };
    let dollars = Amount {
        currency: "USD".into(),
        minor_units: 1,
    };
    let company_seal = w.supplier.company_seal.public_key();
    let stranger_key = w.brand.delegate.public_key();
    let (only_other, brand_and_other) = ([other], [brand, other]);
    type Expect = fn(&MandateError) -> bool;
    let cases: Vec<(MandateUse<'_>, Expect)> = vec![
        (
            MandateUse {
                value: Some(&too_much),
                ..ok.clone()
            },
            |e| matches!(e, MandateError::ValueExceedsCap { .. }),
        ),
        (
            MandateUse {
                value: Some(&dollars),
                ..ok.clone()
            },
            |e| matches!(e, MandateError::CurrencyMismatch { .. }),
        ),
        (
            MandateUse {
                value: None,
                ..ok.clone()
            },
            |e| matches!(e, MandateError::ValueUnstated),
        ),
        (
            MandateUse {
                purpose: "sales",
                ..ok.clone()
            },
            |e| matches!(e, MandateError::PurposeNotCovered(_)),
        ),
        (
            MandateUse {
                counterparties: &only_other,
                ..ok.clone()
            },
            |e| matches!(e, MandateError::CounterpartyNotAllowed(_)),
        ),
        (
            // One allowed counterparty does not cover another beside it.
            MandateUse {
                counterparties: &brand_and_other,
                ..ok.clone()
            },
            |e| matches!(e, MandateError::CounterpartyNotAllowed(_)),
        ),
        (
            MandateUse {
                seal: company_seal.into(),
                ..ok.clone()
            },
            |e| matches!(e, MandateError::SealNotCovered(_)),
        ),
        (
            MandateUse {
                delegate: crate::person::PersonKey::Ed25519(stranger_key),
                ..ok.clone()
            },
            |e| matches!(e, MandateError::DelegateMismatch),
        ),
        (
            MandateUse {
                time: at(400),
                ..ok.clone()
            },
            |e| matches!(e, MandateError::Expired(_)),
        ),
        (
            MandateUse {
                party: brand,
                ..ok.clone()
            },
            |e| matches!(e, MandateError::WrongParty { .. }),
        ),
    ];
    for (use_, expected) in cases {
        let err = w.store.check_mandate(&mandate, &use_, max).unwrap_err();
        assert!(expected(&err), "{use_:?} gave {err:?}");
    }
    // A mandate longer than the policy's maximum is refused outright.
    let long = w
        .supplier
        .delegate_contract_seal(&["procurement"], None, None, at(0), 2000);
    assert!(matches!(
        w.store.check_mandate(&long, &ok, max),
        Err(MandateError::WindowTooLong { .. })
    ));
    // Revoked from day 20: fine on day 10, refused on day 30.
    let rev = w.supplier.revoke(mandate_id, at(20), at(15));
    w.store.add_attestation(rev);
    assert!(w.store.check_mandate(&mandate, &ok, max).is_ok());
    let later = MandateUse {
        time: at(30),
        ..ok.clone()
    };
    assert!(matches!(
        w.store.check_mandate(&mandate, &later, max),
        Err(MandateError::Revoked { .. })
    ));
}

#[test]
fn the_verdict_does_not_depend_on_insertion_order() {
    let mut w = World::new();
    let a = w.ca.accredit(w.verifier.id(), false, at(0));
    let b = w
        .verifier
        .verify_identity(&w.supplier, AssuranceLevel::High, at(1));
    let c =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(1));
    let mut forward = w.store.clone();
    for s in [a.clone(), b.clone(), c.clone()] {
        forward.add_attestation(s);
    }
    let mut backward = w.store.clone();
    for s in [c, b, a] {
        backward.add_attestation(s);
    }
    let f = evaluate(&w.policy, &forward, &w.supplier.id(), at(2));
    let r = evaluate(&w.policy, &backward, &w.supplier.id(), at(2));
    assert_eq!(chain_len(&f), Some(1));
    assert_eq!(chain_len(&r), Some(1));
}

#[test]
fn the_shortest_chain_wins_whatever_the_insertion_order() {
    let mut w = World::new();
    w.policy.max_chain_depth = 3;
    // A long path first: CA → verifier → sub-verifier, which also holds a direct CA accreditation.
    let long_a = w.ca.accredit(w.verifier.id(), true, at(0));
    w.add(long_a);
    let long_b = w.verifier.accredit(w.sub_verifier.id(), false, at(0));
    w.add(long_b);
    let direct = w.ca.accredit(w.sub_verifier.id(), false, at(0));
    w.add(direct);
    let att = w
        .sub_verifier
        .verify_identity(&w.supplier, AssuranceLevel::High, at(1));
    w.add(att);
    assert_eq!(chain_len(&w.eval(at(2))), Some(2));
}

#[test]
fn an_incoherent_policy_trusts_nothing() {
    let mut w = World::new();
    let att =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(1));
    w.add(att);
    w.policy.max_chain_depth = 0;
    assert!(matches!(
        w.eval(at(2)),
        Verdict::Untrusted { reasons } if reasons == vec![Finding::Policy(PolicyError::ZeroDepth)]
    ));
}

#[test]
fn a_forked_key_log_does_not_replace_the_one_held() {
    let mut w = World::new();
    let held = w.supplier.log.clone();
    let mut a = held.clone();
    a.add_key(
        &w.supplier.root,
        crate::keylog::KeyDecl::node(
            &crate::testkit::test_key("x", "a"),
            &w.supplier.root.public_key(),
        ),
        at(1),
    )
    .unwrap();
    let mut b = held.clone();
    b.add_key(
        &w.supplier.root,
        crate::keylog::KeyDecl::node(
            &crate::testkit::test_key("x", "b"),
            &w.supplier.root.public_key(),
        ),
        at(1),
    )
    .unwrap();
    assert_eq!(w.store.add_key_log(a.clone()), LogUpdate::Extended);
    assert_eq!(w.store.add_key_log(b), LogUpdate::Conflict { seq: 1 });
    assert_eq!(w.store.key_log(&w.supplier.id()), Some(&a));
    assert_eq!(w.store.add_key_log(held), LogUpdate::Unchanged);
}

/// The CA declares an SM2 attest key (spec §4.3.2) and signs the supplier's identity with it.
fn sm2_attested(w: &mut World) -> (crate::sm2::Sm2SecretKey, SignedAttestation) {
    let sm2 = crate::sm2::Sm2SecretKey::from_bytes(&[0x5a; 32]).unwrap();
    w.ca.log
        .add_key(
            &w.ca.root,
            crate::keylog::KeyDecl::attest(sm2.public_key()),
            at(0),
        )
        .unwrap();
    w.store.add_key_log(w.ca.log.clone());
    // The harness signs with the CA's Ed25519 attest key; the same statement is signed
    // again with the SM2 key.
    let ed =
        w.ca.verify_identity(&w.supplier, AssuranceLevel::High, at(1));
    let signed = ed.payload().clone().issue(&sm2, &w.ca.log).unwrap();
    (sm2, signed)
}

#[test]
fn an_identity_attested_by_an_sm2_attest_key_is_trusted() {
    let mut w = World::new();
    let (sm2, signed) = sm2_attested(&mut w);
    assert_eq!(signed.algorithm(), crate::cose::Algorithm::Sm2Sm3);
    assert_eq!(
        signed.signer(),
        &crate::keylog::LogKey::Sm2(sm2.public_key())
    );
    // What a receiver reads from the bytes.
    let received = Attestation::decode(signed.bytes()).unwrap();
    w.add(received);
    let v = w.eval(at(2));
    assert_eq!(chain_len(&v), Some(1), "{v:?}");
}

#[test]
fn an_sm2_key_that_is_not_an_attest_key_attests_nothing() {
    let mut w = World::new();
    let (_, signed) = sm2_attested(&mut w);
    // The supplier's own SM2 seal key signs the same statement: a valid SM2 signature, but
    // by a key the CA's log does not declare for attestations.
    let seal = crate::sm2::Sm2SecretKey::from_bytes(&[0x5b; 32]).unwrap();
    let forged = Signed::sign(
        signed.payload().clone(),
        crate::attestation::ATTESTATION_CONTENT_TYPE,
        &seal,
    )
    .unwrap()
    .into_log_key();
    assert!(matches!(
        w.store.add_attestation(forged),
        AttestationUpdate::Unauthorised(_)
    ));
    let v = w.eval(at(2));
    assert_eq!(chain_len(&v), None, "{v:?}");
}

#[test]
fn an_sm2_attest_key_is_refused_where_the_content_type_is_ed25519_only() {
    let mut w = World::new();
    let (sm2, _) = sm2_attested(&mut w);
    // Key events, checkpoints and every other type but attestations, intent proofs and
    // seal signatures stay Ed25519 (spec §3.3 rule 2).
    let event = w.ca.log.events()[0].payload().clone();
    let signed = Signed::sign(event, crate::keylog::KEY_EVENT_CONTENT_TYPE, &sm2).unwrap();
    assert!(matches!(
        crate::keylog::KeyLog::replay([signed.bytes()]),
        Err(crate::keylog::KeyLogError::Decode {
            error: crate::cose::CoseError::UnsupportedAlgorithm(_),
            ..
        })
    ));
}
