//! Trust evaluation (spec §7): may this node accept a party's identity?
//!
//! [`evaluate`] is a pure function of (policy, key logs and attestations, subject, time). It
//! is how a verification done once is reused by every counterparty: a buyer accepts a
//! supplier it never verified because a verifier it trusts did, or because enough of its
//! own counterparties vouch for it.
//!
//! Paths, tried in this order, the shortest valid one winning:
//! 1. the subject is a trust anchor;
//! 2. a chain: an identity attestation about the subject, issued by an anchor or by a
//!    verifier that an anchor accredited (directly or through verifiers allowed to
//!    accredit), at most `max_chain_depth` attestations long;
//! 3. the subject's own `ca-identity` attestation (spec §6.11), when the policy lists CA
//!    roots: its certificate path validates to one of them at the time relied on, no CRL
//!    revokes it, and the subject's key log declares the certified key
//!    ([`CertificateEvidence`] says what was checked);
//! 4. endorsements by at least `threshold` distinct endorsers named in the policy, agreeing
//!    on the registration number.
//!
//! Every attestation on a path must be signed by an attest key the issuer held at issue
//! time (per its key log), be inside its validity window, not be older than the policy
//! allows, not be revoked at the time the identity is relied on, and, if the policy demands
//! it, have revocation information from its issuer that is fresh enough at the time of the
//! evaluation. A check that fails for lack of information (an unknown key log, stale
//! revocation information) makes the verdict Indeterminate rather than Untrusted, unless
//! another path succeeds.
//!
//! Three times take part ([`Moment`]): when the identity is relied on (a signature's time),
//! by when that reliance is proven to have happened (a witness's cosignature), and when the
//! question is asked (the knowledge used must be fresh then). A verifier of an old contract
//! relies on the identity as of the signing, but needs today's revocation status: a
//! revocation issued after the signing with an earlier effective time (a key compromise found
//! late) still applies.

mod admission;
mod certificate;
mod policy;
mod store;

pub use admission::{
    Inadmissible, MAX_ABOUT_SUBJECT, MAX_CA_IDENTITIES_PER_ISSUER, MAX_MANDATES_PER_ISSUER,
    MAX_REVOCATIONS_PER_ISSUER, admit,
};
pub use certificate::{CertificateEvidence, CertificateProblem};
pub use policy::{
    CaRoot, DEFAULT_MAX_DELEGATION_VALIDITY, EndorsementRule, PolicyError, TrustAnchor, TrustPolicy,
};
pub use store::{
    AttestationUpdate, CrlRefused, LogUpdate, MAX_CRL_LEN, MAX_CRLS_PER_ISSUER,
    PdfCertificateError, RevocationSeen, TrustStore,
};

use std::collections::BTreeMap;

use crate::Timestamp;
use crate::attestation::SignedAttestation;
use crate::attestation::{AssuranceLevel, Attestation, AttestationKind, Claims, RevocationReason};
use crate::keylog::KeyUseError;
use crate::party::{AttestationId, PartyId};
use crate::registration::Registration;

/// The outcome of a trust evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The subject's identity is accepted.
    Trusted {
        /// Who the subject is.
        identity: Identity,
        /// How it was established.
        path: TrustPath,
    },
    /// The subject's identity is refused; nothing more would change that.
    Untrusted {
        /// Why each path failed.
        reasons: Vec<Finding>,
    },
    /// Not decidable with what is known; more information might make it Trusted.
    Indeterminate {
        /// What is missing.
        missing: Vec<Missing>,
        /// Why the paths that could be checked failed.
        reasons: Vec<Finding>,
    },
}

/// One line for people: the verdict and its reasons.
impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let join = |items: Vec<String>| items.join("; ");
        match self {
            Self::Trusted {
                identity,
                path: TrustPath::Certificate(evidence),
            } => write!(f, "trusted: {} ({evidence})", identity.legal_name),
            Self::Trusted { identity, path } => {
                write!(
                    f,
                    "trusted: {} (via {} attestation(s))",
                    identity.legal_name,
                    path.len()
                )
            }
            Self::Untrusted { reasons } => {
                write!(
                    f,
                    "untrusted: {}",
                    join(reasons.iter().map(ToString::to_string).collect())
                )
            }
            Self::Indeterminate { missing, reasons } => {
                write!(
                    f,
                    "indeterminate: missing {}",
                    join(missing.iter().map(ToString::to_string).collect())
                )?;
                if !reasons.is_empty() {
                    write!(
                        f,
                        "; also {}",
                        join(reasons.iter().map(ToString::to_string).collect())
                    )?;
                }
                Ok(())
            }
        }
    }
}

impl Verdict {
    /// Whether the verdict is Trusted.
    pub fn is_trusted(&self) -> bool {
        matches!(self, Self::Trusted { .. })
    }
}

/// An established identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Legal name (for an anchor, the name the policy gives it).
    pub legal_name: String,
    /// Registration number, if attested.
    pub registration: Option<Registration>,
    /// Assurance level, if attested by a verifier.
    pub assurance: Option<AssuranceLevel>,
}

/// How an identity was established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustPath {
    /// The subject is a trust anchor.
    Anchor,
    /// A chain from an anchor: accreditations from the anchor down, then the identity
    /// attestation about the subject.
    Chain(Vec<Link>),
    /// Endorsements by known counterparties.
    Endorsements(Vec<Link>),
    /// The subject's own `ca-identity` attestation, its certificate path ending at a CA
    /// root of the policy (spec §6.11).
    Certificate(Box<CertificateEvidence>),
}

impl TrustPath {
    /// Number of attestations relied on.
    pub fn len(&self) -> usize {
        match self {
            Self::Anchor => 0,
            Self::Chain(links) | Self::Endorsements(links) => links.len(),
            Self::Certificate(_) => 1,
        }
    }

    /// Whether no attestation is relied on (the subject is an anchor).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One attestation relied on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its id.
    pub attestation: AttestationId,
    /// Its kind.
    pub kind: AttestationKind,
    /// Its issuer.
    pub issuer: PartyId,
    /// Its subject.
    pub subject: PartyId,
}

impl Link {
    fn of(a: &Attestation) -> Self {
        Self {
            attestation: a.id,
            kind: a.claims.kind(),
            issuer: a.issuer,
            subject: a.subject,
        }
    }
}

/// Information whose absence makes a verdict Indeterminate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Missing {
    /// The key event log of a party.
    KeyLog(PartyId),
    /// Any identity attestation or endorsement about the subject.
    IdentityEvidence(PartyId),
    /// A revocation list from an issuer, recent enough for the policy.
    FreshRevocationList {
        /// The issuer.
        issuer: PartyId,
        /// Issue time of the newest list known, if any.
        newest: Option<Timestamp>,
    },
    /// A CRL of a CA on a certificate path, current at the time of the question (its
    /// thisUpdate passed, its nextUpdate not).
    FreshCrl {
        /// The CA's name (RFC 4514).
        issuer: String,
        /// The thisUpdate of the newest CRL of that CA known, if any.
        newest: Option<Timestamp>,
    },
    /// Proof that the reliance came before a revocation: the attestation (or, for a
    /// `ca-identity` attestation, a certificate of its path) was revoked after the time
    /// relied on, but before the latest time the reliance is proven by.
    ProofBeforeRevocation {
        /// The attestation.
        attestation: AttestationId,
        /// When the revocation took effect.
        revoked: Timestamp,
    },
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::KeyLog(party) => write!(f, "key event log of {party}"),
            Self::IdentityEvidence(party) => {
                write!(f, "any identity attestation or endorsement about {party}")
            }
            Self::FreshRevocationList {
                issuer,
                newest: Some(t),
            } => {
                write!(
                    f,
                    "a revocation list from {issuer} newer than the one of {t}"
                )
            }
            Self::FreshRevocationList {
                issuer,
                newest: None,
            } => {
                write!(f, "a revocation list from {issuer}")
            }
            Self::FreshCrl {
                issuer,
                newest: Some(t),
            } => write!(f, "a current CRL of {issuer} (the newest held is of {t})"),
            Self::FreshCrl {
                issuer,
                newest: None,
            } => write!(f, "a current CRL of {issuer}"),
            Self::ProofBeforeRevocation {
                attestation,
                revoked,
            } => write!(
                f,
                "proof that the signature predates the revocation of attestation {attestation} at {revoked}"
            ),
        }
    }
}

/// Why an attestation or a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Finding {
    /// An attestation on a path failed a check.
    #[error("attestation {id}: {problem}")]
    Attestation {
        /// The attestation.
        id: AttestationId,
        /// What was wrong.
        problem: Problem,
    },
    /// A verifier is neither an anchor nor accredited within the depth allowed.
    #[error("{verifier} is not an anchor or accredited verifier within depth {max_depth}")]
    NotAccredited {
        /// The verifier.
        verifier: PartyId,
        /// The policy's maximum chain depth.
        max_depth: u8,
    },
    /// The subject's party is retired.
    #[error("party {party} was retired at {at}")]
    PartyRetired {
        /// The party.
        party: PartyId,
        /// When.
        at: Timestamp,
    },
    /// Too few valid endorsements.
    #[error("{have} valid endorsements by accepted endorsers, {need} needed")]
    EndorsementQuorum {
        /// How many were valid.
        have: usize,
        /// The threshold.
        need: usize,
    },
    /// Endorsements disagree on the registration number.
    #[error("endorsements disagree on the registration number")]
    EndorsementsDisagree,
    /// A `ca-identity` attestation's certificate binding failed.
    #[error("attestation {id}: {problem}")]
    Certificate {
        /// The attestation.
        id: AttestationId,
        /// What was wrong.
        problem: CertificateProblem,
    },
    /// The policy itself is incoherent; nothing can be trusted under it.
    #[error("invalid trust policy: {0}")]
    Policy(PolicyError),
}

/// What was wrong with one attestation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The signing key was not the issuer's attest key at issue time.
    #[error("issuer key: {0}")]
    IssuerKey(Box<KeyUseError>),
    /// The signing key was revoked by issue time.
    #[error("issuer key revoked at {0}")]
    IssuerKeyRevoked(Timestamp),
    /// Evaluated before the validity window (or before issue).
    #[error("not valid before {0}")]
    NotYetValid(Timestamp),
    /// Evaluated at or after the end of the window.
    #[error("expired at {0}")]
    Expired(Timestamp),
    /// Older than the policy allows.
    #[error("issued {age} s before evaluation, the policy allows {max} s")]
    TooOld {
        /// Its age.
        age: u64,
        /// The policy's maximum.
        max: u64,
    },
    /// Revoked at or before the evaluation time.
    #[error("revoked at {at} ({reason})")]
    Revoked {
        /// Effective time.
        at: Timestamp,
        /// Reason.
        reason: RevocationReason,
    },
    /// Assurance below the policy's minimum.
    #[error("assurance {have} below the required {need}")]
    AssuranceTooLow {
        /// Its level.
        have: AssuranceLevel,
        /// The minimum.
        need: AssuranceLevel,
    },
    /// An accreditation used to accredit further verifiers does not allow it.
    #[error("the accreditation does not allow accrediting others")]
    CannotAccredit,
}

/// When a trust question is asked (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// When the identity is relied on (a signature's time): validity windows, ages, issuer
    /// keys and revocations are judged at this time.
    pub at: Timestamp,
    /// The latest time by which the reliance is proven to have happened (a witness's
    /// cosignature time), `at` or later. A revocation that took effect after `at` but not
    /// after this leaves the verdict Indeterminate: nothing shows the reliance came first.
    pub proven_by: Timestamp,
    /// When the question is asked: revocation information must be fresh at this time.
    pub now: Timestamp,
}

impl Moment {
    /// Relying on an identity now, as a party does live.
    pub fn live(now: Timestamp) -> Self {
        Self {
            at: now,
            proven_by: now,
            now,
        }
    }
}

/// Evaluates whether `subject`'s identity is accepted under `policy`, relied on now
/// ([`Moment::live`]).
///
/// ```
/// use signet_protocol::trust::{evaluate, Missing, TrustPolicy, TrustStore, Verdict};
/// use signet_protocol::{party::PartyId, Digest, Timestamp};
///
/// let store = TrustStore::new();
/// let policy = TrustPolicy::with_anchors(vec![]);
/// let stranger = PartyId::from_digest(Digest::of(b"some inception event"));
/// // Nothing is known about a stranger: the verdict is Indeterminate, not Untrusted.
/// let verdict = evaluate(&policy, &store, &stranger, Timestamp::from_unix(0));
/// assert!(matches!(verdict, Verdict::Indeterminate { missing, .. } if missing == [Missing::KeyLog(stranger)]));
/// ```
pub fn evaluate(
    policy: &TrustPolicy,
    store: &TrustStore,
    subject: &PartyId,
    now: Timestamp,
) -> Verdict {
    evaluate_at(policy, store, subject, Moment::live(now))
}

/// Evaluates whether `subject`'s identity is accepted under `policy` at `moment`.
///
/// The cost is linear in the number of attestations on the subject's candidate paths: each
/// verifier's accreditation chain is worked out once per evaluation, and every revocation
/// look-up is indexed.
pub fn evaluate_at(
    policy: &TrustPolicy,
    store: &TrustStore,
    subject: &PartyId,
    moment: Moment,
) -> Verdict {
    if let Err(e) = policy.check() {
        return Verdict::Untrusted {
            reasons: vec![Finding::Policy(e)],
        };
    }
    let at = moment.at;
    let mut eval = Evaluation {
        policy,
        store,
        moment,
        missing: Vec::new(),
        findings: Vec::new(),
        chains: BTreeMap::new(),
    };
    let Some(log) = store.key_log(subject) else {
        return Verdict::Indeterminate {
            missing: vec![Missing::KeyLog(*subject)],
            reasons: Vec::new(),
        };
    };
    if let Some(retired) = log.retired_at().filter(|r| *r <= at) {
        return Verdict::Untrusted {
            reasons: vec![Finding::PartyRetired {
                party: *subject,
                at: retired,
            }],
        };
    }
    if let Some(anchor) = policy.anchor(subject) {
        return Verdict::Trusted {
            identity: Identity {
                legal_name: anchor.name.clone(),
                registration: None,
                assurance: None,
            },
            path: TrustPath::Anchor,
        };
    }

    let mut best: Option<(Identity, TrustPath)> = None;
    let mut evidence_seen = false;
    for signed in store.about(subject, AttestationKind::Identity) {
        evidence_seen = true;
        let a = signed.payload();
        let Claims::Identity(claims) = &a.claims else {
            continue;
        };
        if !eval.check(signed) {
            continue;
        }
        if !claims.assurance.meets(policy.min_assurance) {
            eval.finding(
                a,
                Problem::AssuranceTooLow {
                    have: claims.assurance,
                    need: policy.min_assurance,
                },
            );
            continue;
        }
        let depth_left = policy.max_chain_depth.saturating_sub(1);
        if let Some(mut links) = eval.verifier_chain(&a.issuer, depth_left, false, subject) {
            links.push(Link::of(a));
            let candidate = (
                Identity {
                    legal_name: claims.legal_name.clone(),
                    registration: Some(claims.registration.clone()),
                    assurance: Some(claims.assurance),
                },
                TrustPath::Chain(links),
            );
            if best.as_ref().is_none_or(|b| candidate.1.len() < b.1.len()) {
                best = Some(candidate);
            }
        }
    }

    if !policy.ca_roots.is_empty() {
        for signed in store.about(subject, AttestationKind::CaIdentity) {
            evidence_seen = true;
            let Claims::CaIdentity(claims) = &signed.payload().claims else {
                continue;
            };
            if let Some((legal_name, evidence)) = eval.certificate_path(signed, claims) {
                let candidate = (
                    Identity {
                        legal_name,
                        registration: Some(evidence.uscc.clone()),
                        assurance: None,
                    },
                    TrustPath::Certificate(Box::new(evidence)),
                );
                if best.as_ref().is_none_or(|b| candidate.1.len() < b.1.len()) {
                    best = Some(candidate);
                }
            }
        }
    }

    if let Some(rule) = &policy.endorsements {
        let mut endorsers: Vec<PartyId> = Vec::new();
        let mut links = Vec::new();
        let mut identity: Option<Identity> = None;
        let mut disagree = false;
        for signed in store.about(subject, AttestationKind::Endorsement) {
            evidence_seen = true;
            let a = signed.payload();
            let Claims::Endorsement(claims) = &a.claims else {
                continue;
            };
            if !rule.endorsers.contains(&a.issuer)
                || endorsers.contains(&a.issuer)
                || !eval.check(signed)
            {
                continue;
            }
            match &identity {
                Some(id) if id.registration.as_ref() != Some(&claims.registration) => {
                    disagree = true
                }
                Some(_) => {}
                None => {
                    identity = Some(Identity {
                        legal_name: claims.legal_name.clone(),
                        registration: Some(claims.registration.clone()),
                        assurance: None,
                    });
                }
            }
            endorsers.push(a.issuer);
            links.push(Link::of(a));
        }
        let need = usize::from(rule.threshold);
        match identity {
            _ if disagree => eval.findings.push(Finding::EndorsementsDisagree),
            Some(identity) if links.len() >= need => {
                let candidate = (identity, TrustPath::Endorsements(links));
                if best.as_ref().is_none_or(|b| candidate.1.len() < b.1.len()) {
                    best = Some(candidate);
                }
            }
            _ if evidence_seen => eval.findings.push(Finding::EndorsementQuorum {
                have: links.len(),
                need,
            }),
            _ => {}
        }
    }

    if let Some((identity, path)) = best {
        return Verdict::Trusted { identity, path };
    }
    if !evidence_seen {
        eval.missing.push(Missing::IdentityEvidence(*subject));
    }
    let Evaluation {
        mut missing,
        findings,
        ..
    } = eval;
    if missing.is_empty() {
        Verdict::Untrusted { reasons: findings }
    } else {
        missing.sort();
        missing.dedup();
        Verdict::Indeterminate {
            missing,
            reasons: findings,
        }
    }
}

/// A verifier's accreditation chain, worked out once per evaluation: (depth left, whether
/// it must be allowed to accredit) → the chain, or None.
type ChainMemo = BTreeMap<(PartyId, u8, bool), Option<Vec<Link>>>;

struct Evaluation<'a> {
    policy: &'a TrustPolicy,
    store: &'a TrustStore,
    moment: Moment,
    missing: Vec<Missing>,
    findings: Vec<Finding>,
    chains: ChainMemo,
}

impl Evaluation<'_> {
    fn finding(&mut self, a: &Attestation, problem: Problem) {
        self.findings
            .push(Finding::Attestation { id: a.id, problem });
    }

    /// The path of accreditations from an anchor down to `verifier`, or None (with the
    /// reason recorded). `depth_left` counts the accreditations still allowed; `subject`
    /// (the party evaluated) never verifies or accredits on its own path.
    fn verifier_chain(
        &mut self,
        verifier: &PartyId,
        depth_left: u8,
        must_accredit: bool,
        subject: &PartyId,
    ) -> Option<Vec<Link>> {
        if self.policy.anchor(verifier).is_some() {
            return Some(Vec::new());
        }
        if verifier == subject {
            return None;
        }
        let key = (*verifier, depth_left, must_accredit);
        if let Some(known) = self.chains.get(&key) {
            return known.clone();
        }
        // Marked as failing while it is explored: a cycle back to it fails, and every
        // accreditation explored below has a strictly smaller depth, so it terminates.
        self.chains.insert(key, None);
        let not_accredited = Finding::NotAccredited {
            verifier: *verifier,
            max_depth: self.policy.max_chain_depth,
        };
        if depth_left == 0 {
            self.findings.push(not_accredited);
            return None;
        }
        let store = self.store;
        // Every accreditation is explored and the shortest chain kept (the first found
        // among equals, in the store's order), so the path reported is the shortest.
        let mut best: Option<Vec<Link>> = None;
        for signed in store.about(verifier, AttestationKind::Accreditation) {
            let a = signed.payload();
            let Claims::Accreditation(acc) = &a.claims else {
                continue;
            };
            if must_accredit && !acc.may_accredit {
                self.finding(a, Problem::CannotAccredit);
                continue;
            }
            if !self.check(signed) {
                continue;
            }
            if let Some(mut links) = self.verifier_chain(&a.issuer, depth_left - 1, true, subject) {
                links.push(Link::of(a));
                if best.as_ref().is_none_or(|b| links.len() < b.len()) {
                    best = Some(links);
                }
            }
        }
        if best.is_none() {
            self.findings.push(not_accredited);
        }
        self.chains.insert(key, best.clone());
        best
    }

    /// Checks one attestation's authority, window, age, revocation and revocation
    /// freshness; records what failed.
    fn check(&mut self, signed: &SignedAttestation) -> bool {
        let a = signed.payload();
        let Some(issuer_log) = self.store.key_log(&a.issuer) else {
            self.missing.push(Missing::KeyLog(a.issuer));
            return false;
        };
        if let Err(e) = a.check_issuer_key(signed.signer(), issuer_log) {
            self.finding(a, Problem::IssuerKey(Box::new(e)));
            return false;
        }
        if let Some(r) = self
            .store
            .key_revoked(&a.issuer, signed.signer(), a.issued_at)
        {
            self.finding(a, Problem::IssuerKeyRevoked(r.effective));
            return false;
        }
        let Moment { at, proven_by, now } = self.moment;
        if at < a.valid_from || at < a.issued_at {
            self.finding(a, Problem::NotYetValid(a.valid_from.max(a.issued_at)));
            return false;
        }
        if at >= a.valid_until {
            self.finding(a, Problem::Expired(a.valid_until));
            return false;
        }
        if let Some(max) = self.policy.max_attestation_age {
            let age = at.seconds_since(a.issued_at);
            if age > max {
                self.finding(a, Problem::TooOld { age, max });
                return false;
            }
        }
        match self
            .store
            .attestation_revoked(&a.issuer, &a.id, proven_by.max(at))
        {
            Some(r) if r.effective <= at => {
                self.finding(
                    a,
                    Problem::Revoked {
                        at: r.effective,
                        reason: r.reason,
                    },
                );
                return false;
            }
            Some(r) => {
                self.missing.push(Missing::ProofBeforeRevocation {
                    attestation: a.id,
                    revoked: r.effective,
                });
                return false;
            }
            None => {}
        }
        if let Some(max) = self.policy.revocation_freshness {
            let newest = self.store.newest_revocation_list(&a.issuer);
            if newest.is_none_or(|t| now.seconds_since(t) > max) {
                self.missing.push(Missing::FreshRevocationList {
                    issuer: a.issuer,
                    newest,
                });
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests;
