//! Trust evaluation over a store built from the input.
//!
//! Six deterministic test parties (party 0 is always an anchor, party 1 sometimes); the
//! input chooses the policy, then a sequence of operations: identity attestations,
//! accreditations, endorsements, revocations (of attestations and keys), revocation lists,
//! key-log events (root rotation, a second attest key, key and party retirement), attestations
//! signed by the wrong key or reusing an id, raw attestation bytes and byte-flipped copies of
//! issued ones. Every attestation reaches a store only through its bytes
//! (`Attestation::decode`), as from the network.
//!
//! Three stores are built: "live" (operations in input order, key logs added when the input
//! says), "forward" (final key logs, then every attestation in order) and "reverse" (key logs
//! in reverse, then every attestation in reverse order). Every party is evaluated at several
//! moments in each. Asserted:
//! - `check_attestation` predicts what `add_attestation` does;
//! - forward and reverse give the same verdicts unless an (issuer, id) conflict was refused
//!   (the only insertion-order dependence the store documents: the first one is kept);
//! - an anchor with its key log held, not retired at the time relied on, is Trusted (Anchor);
//!   an incoherent policy trusts nobody;
//! - a Trusted path is well formed: a chain runs from an anchor through accreditations to an
//!   identity attestation about the subject, within the depth, every link held, the subject
//!   never on it but at its end; endorsements are by distinct named endorsers, enough of them;
//! - Indeterminate names something missing, sorted and without repeats;
//! - the identity attestation that ends a live Trusted chain is admissible (`admit`);
//! - `admit` never panics on anything held.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use signet_protocol::attestation::{
    ATTESTATION_CONTENT_TYPE, Accreditation, AssuranceLevel, Attestation, AttestationKind, Claims,
    Endorsement, IdentityClaims, Revocation, RevocationList, RevocationReason, RevocationTarget,
    RevokedEntry, RevokedKey, SignedAttestation, VerificationMethod,
};
use signet_protocol::cose::Signed;
use signet_protocol::keylog::{KeyDecl, KeyLog};
use signet_protocol::party::{AttestationId, PartyId};
use signet_protocol::registration::Registration;
use signet_protocol::testkit::{DAY, TestParty, test_key};
use signet_protocol::trust::{
    AttestationUpdate, EndorsementRule, Finding, Inadmissible, Moment, TrustAnchor, TrustPath,
    TrustPolicy, TrustStore, Verdict, admit, evaluate, evaluate_at,
};
use signet_protocol::{PublicKey, SecretKey, Timestamp};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);
const N: usize = 6;
const LABELS: [&str; N] = [
    "Fuzz Anchor",
    "Fuzz Verifier A",
    "Fuzz Verifier B",
    "Fuzz Party C",
    "Fuzz Party D",
    "Fuzz Party E",
];
/// Root keys per party: root-0 and root-1 are TestParty's, then two more rotations.
const ROOTS: usize = 4;
/// Offsets from T0, in seconds, that the input picks times from.
const OFFSETS: [u64; 12] = [
    0,
    1,
    3600,
    DAY,
    2 * DAY,
    7 * DAY,
    8 * DAY,
    30 * DAY,
    364 * DAY,
    365 * DAY,
    400 * DAY,
    800 * DAY,
];
const MAX_OPS: usize = 48;

struct Fixed {
    id: PartyId,
    label: &'static str,
    registration: Registration,
    roots: Vec<SecretKey>,
    /// attest[0] is declared at inception; attest[1] only when the input adds it.
    attest: [SecretKey; 2],
    inception: KeyLog,
}

static PARTIES: LazyLock<Vec<Fixed>> = LazyLock::new(|| {
    LABELS
        .iter()
        .map(|label| {
            let p = TestParty::new(label, T0);
            let copy = |k: &SecretKey| SecretKey::from_seed(&k.to_seed());
            let mut roots = vec![copy(&p.root), copy(&p.next_root)];
            for i in 2..ROOTS {
                roots.push(test_key(label, &format!("root-{i}")));
            }
            Fixed {
                id: p.id(),
                label,
                registration: p.registration.clone(),
                roots,
                attest: [copy(&p.attest), test_key(label, "attest-1")],
                inception: p.log.clone(),
            }
        })
        .collect()
});

struct Party {
    log: KeyLog,
    /// Index into the fixed roots of the current root key.
    root: usize,
    counter: u32,
}

fn time(u: &mut Unstructured<'_>) -> ArbResult<Timestamp> {
    let base = *u.choose(&OFFSETS)?;
    let jitter = if u.ratio(1, 4)? {
        u64::from(u.int_in_range(0..=600u16)?)
    } else {
        0
    };
    Ok(T0.plus(base + jitter))
}

fn reason(u: &mut Unstructured<'_>) -> ArbResult<RevocationReason> {
    Ok(match u.int_in_range(0..=6u8)? {
        0 => RevocationReason::Unspecified,
        1 => RevocationReason::KeyCompromise,
        2 => RevocationReason::Superseded,
        3 => RevocationReason::CessationOfOperation,
        4 => RevocationReason::PrivilegeWithdrawn,
        5 => RevocationReason::AffiliationChanged,
        _ => RevocationReason::Unknown(99),
    })
}

fn assurance(u: &mut Unstructured<'_>) -> ArbResult<AssuranceLevel> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => AssuranceLevel::Low,
        1 | 2 => AssuranceLevel::Substantial,
        3..=5 => AssuranceLevel::High,
        _ => AssuranceLevel::Unknown(7),
    })
}

fn policy(u: &mut Unstructured<'_>) -> ArbResult<TrustPolicy> {
    let parties = &*PARTIES;
    let mut anchors = vec![TrustAnchor {
        party: parties[0].id,
        name: "the anchor".into(),
    }];
    if u.ratio(1, 4)? {
        anchors.push(TrustAnchor {
            party: parties[1].id,
            name: "the second anchor".into(),
        });
    }
    let mut policy = TrustPolicy::with_anchors(anchors);
    policy.max_chain_depth = u.int_in_range(0..=4)?;
    if policy.max_chain_depth == 0 && !u.ratio(1, 8)? {
        policy.max_chain_depth = 2;
    }
    policy.min_assurance = assurance(u)?;
    policy.max_attestation_age = if u.arbitrary()? {
        Some((*u.choose(&OFFSETS)?).max(1))
    } else {
        None
    };
    policy.revocation_freshness = if u.arbitrary()? {
        Some((*u.choose(&OFFSETS)?).max(1))
    } else {
        None
    };
    if u.arbitrary()? {
        let mask: u8 = u.arbitrary()?;
        let endorsers: Vec<PartyId> = (1..N)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| parties[i].id)
            .collect();
        let threshold = u.int_in_range(0..=4u16)?;
        policy.endorsements = Some(EndorsementRule {
            endorsers,
            threshold,
        });
    }
    Ok(policy)
}

/// What the harness holds: issued objects (decoded from their bytes) and the refusals seen.
#[derive(Default)]
struct Issued {
    /// Every attestation that decoded, in issue order.
    all: Vec<SignedAttestation>,
    /// (issuer index, id) of every attestation the harness signed (decodable or not).
    ids: Vec<(usize, AttestationId)>,
}

struct Harness<'a> {
    parties: Vec<Party>,
    live: TrustStore,
    issued: Issued,
    u: Unstructured<'a>,
}

impl Harness<'_> {
    fn party_index(&mut self) -> ArbResult<usize> {
        self.u.int_in_range(0..=N - 1)
    }

    fn next_id(&mut self, issuer: usize) -> AttestationId {
        let p = &mut self.parties[issuer];
        p.counter += 1;
        let mut id = [0u8; 16];
        id[0] = issuer as u8;
        id[12..].copy_from_slice(&p.counter.to_be_bytes());
        AttestationId::from_bytes(id)
    }

    /// Signs an attestation with a key the input picks (normally the issuer's first attest
    /// key), offers its bytes to the live store, and keeps it.
    fn sign(&mut self, issuer: usize, subject: usize, claims: Claims) -> ArbResult<()> {
        let issued_at = time(&mut self.u)?;
        let days = *self.u.choose(&[0u64, 1, 30, 365, 3650])?;
        let id = if self.u.ratio(1, 16)? && !self.issued.ids.is_empty() {
            // Reuse an id: a conflict if the issuer is the same.
            self.u.choose(&self.issued.ids)?.1
        } else {
            self.next_id(issuer)
        };
        let fixed = &PARTIES[issuer];
        let key = match self.u.int_in_range(0..=9u8)? {
            0..=5 => &fixed.attest[0],
            6 | 7 => &fixed.attest[1],
            8 => &fixed.roots[self.parties[issuer].root],
            _ => &PARTIES[(issuer + 1) % N].attest[0],
        };
        let attestation = Attestation {
            id,
            issuer: fixed.id,
            subject: PARTIES[subject].id,
            issued_at,
            valid_from: issued_at,
            valid_until: issued_at.plus(days * DAY),
            claims,
        };
        self.issued.ids.push((issuer, id));
        let Ok(signed) = Signed::sign(attestation, ATTESTATION_CONTENT_TYPE, key) else {
            return Ok(());
        };
        self.offer(signed.bytes().to_vec());
        Ok(())
    }

    /// Offers bytes as if they came from the network: decoded, then added to the live store.
    fn offer(&mut self, bytes: Vec<u8>) {
        let Ok(signed) = Attestation::decode(&bytes) else {
            return;
        };
        assert_eq!(
            signed.bytes(),
            &bytes[..],
            "a decoded object keeps its bytes"
        );
        let predicted = self.live.check_attestation(&signed);
        let update = self.live.add_attestation(signed.clone());
        assert_eq!(
            predicted, update,
            "check_attestation predicts add_attestation"
        );
        if update.is_held() {
            assert!(
                self.live
                    .attestation_by_digest(&signed.digest())
                    .is_some_and(|held| held == &signed),
                "an attestation reported held is held"
            );
        }
        self.issued.all.push(signed);
    }

    fn op(&mut self) -> ArbResult<()> {
        match self.u.int_in_range(0..=15u8)? {
            0 | 1 => {
                let (issuer, subject) = (self.party_index()?, self.party_index()?);
                let named = if self.u.ratio(1, 8)? {
                    self.party_index()?
                } else {
                    subject
                };
                let claims = Claims::Identity(IdentityClaims {
                    legal_name: PARTIES[named].label.into(),
                    registration: PARTIES[named].registration.clone(),
                    jurisdiction: "CN".into(),
                    legal_representative: "representative".into(),
                    method: VerificationMethod::RegistryLookup,
                    assurance: assurance(&mut self.u)?,
                });
                self.sign(issuer, subject, claims)
            }
            2 | 3 => {
                let (issuer, subject) = (self.party_index()?, self.party_index()?);
                let may_accredit = self.u.arbitrary()?;
                self.sign(
                    issuer,
                    subject,
                    Claims::Accreditation(Accreditation { may_accredit }),
                )
            }
            4 => {
                let (issuer, subject) = (self.party_index()?, self.party_index()?);
                let named = if self.u.ratio(1, 4)? {
                    self.party_index()?
                } else {
                    subject
                };
                let claims = Claims::Endorsement(Endorsement {
                    legal_name: PARTIES[named].label.into(),
                    registration: PARTIES[named].registration.clone(),
                    relationship: "customer".into(),
                });
                self.sign(issuer, subject, claims)
            }
            5 => {
                // A revocation of an attestation (normally one of the issuer's own).
                let issuer = self.party_index()?;
                let target = if self.issued.ids.is_empty() {
                    AttestationId::from_bytes([0; 16])
                } else {
                    let own: Vec<AttestationId> = self
                        .issued
                        .ids
                        .iter()
                        .filter(|(i, _)| *i == issuer || self.u.ratio(1, 8).unwrap_or(false))
                        .map(|(_, id)| *id)
                        .collect();
                    if own.is_empty() {
                        self.u.choose(&self.issued.ids)?.1
                    } else {
                        *self.u.choose(&own)?
                    }
                };
                let claims = Claims::Revocation(Revocation {
                    target: RevocationTarget::Attestation(target),
                    effective: time(&mut self.u)?,
                    reason: reason(&mut self.u)?,
                });
                self.sign(issuer, issuer, claims)
            }
            6 => {
                let issuer = self.party_index()?;
                let key = self.key_of(issuer)?;
                let claims = Claims::Revocation(Revocation {
                    target: RevocationTarget::Key(key.into()),
                    effective: time(&mut self.u)?,
                    reason: reason(&mut self.u)?,
                });
                self.sign(issuer, issuer, claims)
            }
            7 | 8 => {
                let issuer = self.party_index()?;
                let mut entries = Vec::new();
                for _ in 0..self.u.int_in_range(0..=3u8)? {
                    if self.issued.ids.is_empty() {
                        break;
                    }
                    entries.push(RevokedEntry {
                        id: self.u.choose(&self.issued.ids)?.1,
                        effective: time(&mut self.u)?,
                        reason: reason(&mut self.u)?,
                    });
                }
                let mut keys = Vec::new();
                for _ in 0..self.u.int_in_range(0..=1u8)? {
                    keys.push(RevokedKey {
                        key: self.key_of(issuer)?.into(),
                        effective: time(&mut self.u)?,
                        reason: reason(&mut self.u)?,
                    });
                }
                self.sign(
                    issuer,
                    issuer,
                    Claims::RevocationList(RevocationList { entries, keys }),
                )
            }
            9 => {
                // Root rotation to the committed key.
                let i = self.party_index()?;
                let at = time(&mut self.u)?;
                let p = &mut self.parties[i];
                if p.root + 2 < ROOTS {
                    let roots = &PARTIES[i].roots;
                    if p.log
                        .rotate(&roots[p.root + 1], &roots[p.root + 2].public_key(), at)
                        .is_ok()
                    {
                        p.root += 1;
                    }
                }
                Ok(())
            }
            10 => {
                let i = self.party_index()?;
                let at = time(&mut self.u)?;
                let p = &mut self.parties[i];
                let decl = KeyDecl::attest(PARTIES[i].attest[1].public_key());
                let _ = p.log.add_key(&PARTIES[i].roots[p.root], decl, at);
                Ok(())
            }
            11 => {
                let i = self.party_index()?;
                let which = usize::from(self.u.arbitrary::<bool>()?);
                let at = time(&mut self.u)?;
                let p = &mut self.parties[i];
                let key = PARTIES[i].attest[which].public_key();
                let _ = p.log.retire_key(&PARTIES[i].roots[p.root], key, at);
                Ok(())
            }
            12 => {
                if self.u.ratio(1, 4)? {
                    let i = self.party_index()?;
                    let at = time(&mut self.u)?;
                    let p = &mut self.parties[i];
                    let _ = p.log.retire_party(&PARTIES[i].roots[p.root], at);
                }
                Ok(())
            }
            13 => {
                // The live store learns a party's current key log.
                let i = self.party_index()?;
                self.live.add_key_log(self.parties[i].log.clone());
                Ok(())
            }
            14 => {
                // A copy of an issued attestation, byte-flipped or not.
                if self.issued.all.is_empty() {
                    return Ok(());
                }
                let mut bytes = self.u.choose(&self.issued.all)?.bytes().to_vec();
                if self.u.arbitrary()? {
                    let at = self.u.choose_index(bytes.len())?;
                    let mask: u8 = self.u.arbitrary()?;
                    bytes[at] ^= mask.max(1);
                }
                self.offer(bytes);
                Ok(())
            }
            _ => {
                // Raw bytes from the input.
                let len = self.u.int_in_range(0..=512u16)?;
                let bytes = self.u.bytes(usize::from(len))?.to_vec();
                self.offer(bytes);
                Ok(())
            }
        }
    }

    /// One of `issuer`'s keys (attest or root), or now and then another party's.
    fn key_of(&mut self, issuer: usize) -> ArbResult<PublicKey> {
        let fixed = &PARTIES[issuer];
        Ok(match self.u.int_in_range(0..=5u8)? {
            0 | 1 => fixed.attest[0].public_key(),
            2 => fixed.attest[1].public_key(),
            3 => fixed.roots[self.u.choose_index(ROOTS)?].public_key(),
            4 => PARTIES[(issuer + 2) % N].attest[0].public_key(),
            _ => fixed.roots[self.parties[issuer].root].public_key(),
        })
    }
}

fn moments(u: &mut Unstructured<'_>) -> Vec<Moment> {
    let mut out: Vec<Moment> = [0, DAY, 30 * DAY, 366 * DAY, 800 * DAY]
        .iter()
        .map(|d| Moment::live(T0.plus(*d)))
        .collect();
    // Two moments with a later proof and a later question.
    for _ in 0..2 {
        let at = time(u).unwrap_or(T0);
        let proven_by = at.plus(*u.choose(&OFFSETS).unwrap_or(&0));
        let now = proven_by.plus(*u.choose(&OFFSETS).unwrap_or(&0));
        out.push(Moment { at, proven_by, now });
    }
    out
}

fn check_verdict(
    policy: &TrustPolicy,
    store: &TrustStore,
    subject: usize,
    moment: Moment,
    verdict: &Verdict,
) {
    let parties = &*PARTIES;
    let id = parties[subject].id;
    let log = store.key_log(&id);
    if policy.check().is_err() {
        let refused = match verdict {
            Verdict::Untrusted { reasons } => matches!(reasons[..], [Finding::Policy(_)]),
            _ => false,
        };
        assert!(refused, "an incoherent policy trusts nobody: {verdict:?}");
        return;
    }
    let retired = log
        .and_then(KeyLog::retired_at)
        .is_some_and(|r| r <= moment.at);
    if policy.anchor(&id).is_some() && log.is_some() && !retired {
        assert!(
            matches!(
                verdict,
                Verdict::Trusted {
                    path: TrustPath::Anchor,
                    ..
                }
            ),
            "an anchor is trusted: {verdict:?}"
        );
    }
    match verdict {
        Verdict::Trusted { path, identity } => {
            assert!(log.is_some() && !retired, "trusted without a live key log");
            match path {
                TrustPath::Anchor => assert!(policy.anchor(&id).is_some()),
                TrustPath::Chain(links) => {
                    assert!(!links.is_empty(), "an empty chain");
                    assert!(
                        links.len() <= usize::from(policy.max_chain_depth),
                        "a chain longer than the policy allows: {links:?}"
                    );
                    let last = links.last().expect("non-empty");
                    assert_eq!(last.subject, id);
                    assert_eq!(last.kind, AttestationKind::Identity);
                    assert!(policy.anchor(&links[0].issuer).is_some(), "{links:?}");
                    for pair in links.windows(2) {
                        assert_eq!(pair[0].kind, AttestationKind::Accreditation);
                        assert_eq!(pair[0].subject, pair[1].issuer, "{links:?}");
                    }
                    assert!(
                        links.iter().all(|l| l.issuer != id),
                        "the subject vouches for itself: {links:?}"
                    );
                    assert!(identity.registration.is_some() && identity.assurance.is_some());
                }
                // The generated policies name no CA root, so no identity rests on a certificate.
                TrustPath::Certificate(evidence) => {
                    panic!("a certificate path without a CA root: {evidence:?}")
                }
                TrustPath::Endorsements(links) => {
                    let rule = policy.endorsements.as_ref().expect("an endorsement rule");
                    assert!(links.len() >= usize::from(rule.threshold));
                    let mut issuers: Vec<PartyId> = links.iter().map(|l| l.issuer).collect();
                    issuers.sort();
                    issuers.dedup();
                    assert_eq!(issuers.len(), links.len(), "an endorser counted twice");
                    for l in links {
                        assert!(rule.endorsers.contains(&l.issuer));
                        assert_eq!(l.subject, id);
                        assert_eq!(l.kind, AttestationKind::Endorsement);
                    }
                }
            }
            if let TrustPath::Chain(links) | TrustPath::Endorsements(links) = path {
                for l in links {
                    assert!(
                        store.attestation(&l.issuer, &l.attestation).is_some(),
                        "a link not held: {l:?}"
                    );
                }
            }
        }
        Verdict::Indeterminate { missing, .. } => {
            assert!(
                !missing.is_empty(),
                "indeterminate without anything missing"
            );
            assert!(missing.windows(2).all(|w| w[0] < w[1]), "{missing:?}");
        }
        Verdict::Untrusted { .. } => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(policy) = policy(&mut u) else {
        return;
    };
    let parties = &*PARTIES;
    let mut live = TrustStore::new();
    for p in parties {
        live.add_key_log(p.inception.clone());
    }
    let mut h = Harness {
        parties: parties
            .iter()
            .map(|p| Party {
                log: p.inception.clone(),
                root: 0,
                counter: 0,
            })
            .collect(),
        live,
        issued: Issued::default(),
        u,
    };
    for _ in 0..MAX_OPS {
        if h.u.is_empty() || h.op().is_err() {
            break;
        }
    }
    let moments = moments(&mut h.u);
    let Harness {
        parties: state,
        live,
        issued,
        ..
    } = h;

    // Forward and reverse: the same knowledge in opposite orders.
    let mut forward = TrustStore::new();
    let mut reverse = TrustStore::new();
    let mut conflict = false;
    for p in &state {
        forward.add_key_log(p.log.clone());
    }
    for (p, fixed) in state.iter().zip(parties).rev() {
        reverse.add_key_log(p.log.clone());
        // A prefix of the log held changes nothing.
        reverse.add_key_log(fixed.inception.clone());
    }
    for signed in &issued.all {
        conflict |= matches!(
            forward.add_attestation(signed.clone()),
            AttestationUpdate::Conflict { .. }
        );
    }
    for signed in issued.all.iter().rev() {
        conflict |= matches!(
            reverse.add_attestation(signed.clone()),
            AttestationUpdate::Conflict { .. }
        );
    }
    if !conflict {
        assert_eq!(
            forward.attestation_count(),
            reverse.attestation_count(),
            "the same attestations are held whatever the order"
        );
    }

    for (i, fixed) in parties.iter().enumerate() {
        for moment in &moments {
            let f = evaluate_at(&policy, &forward, &fixed.id, *moment);
            check_verdict(&policy, &forward, i, *moment, &f);
            let r = evaluate_at(&policy, &reverse, &fixed.id, *moment);
            check_verdict(&policy, &reverse, i, *moment, &r);
            if !conflict {
                assert_eq!(
                    f, r,
                    "party {i} at {moment:?}: the verdict depends on insertion order"
                );
            }
            let l = evaluate_at(&policy, &live, &fixed.id, *moment);
            check_verdict(&policy, &live, i, *moment, &l);
            if moment.at == moment.now && moment.at == moment.proven_by {
                assert_eq!(l, evaluate(&policy, &live, &fixed.id, moment.now));
                // The identity attestation ending a live chain is one the node would take.
                if let Verdict::Trusted {
                    path: TrustPath::Chain(links),
                    ..
                } = &l
                {
                    let last = links.last().expect("non-empty");
                    let signed = live
                        .attestation(&last.issuer, &last.attestation)
                        .expect("held");
                    let admitted = admit(&policy, &live, signed, moment.now);
                    assert!(
                        matches!(admitted, Ok(()) | Err(Inadmissible::Full { .. })),
                        "the attestation a chain rests on is not admissible: {admitted:?}"
                    );
                }
            }
        }
    }
    for signed in issued.all.iter().take(16) {
        for moment in moments.iter().take(2) {
            let _ = admit(&policy, &live, signed, moment.now);
            let _ = admit(&policy, &forward, signed, moment.now);
        }
    }
});
