//! Offline verification of a bundle (spec §11.3).

use std::collections::BTreeMap;

use crate::attestation::{Attestation, Claims};
use crate::cose::Signed;
use crate::evidence::{CheckedEvidence, EvidenceKind, PartyEvidence, PartyEvidenceError};
use crate::keylog::{KeyLog, KeyPurpose};
use crate::party::PartyId;
use crate::session::machine_support::{check_envelope, decode_message, decode_proposal_with};
use crate::session::{
    Judged, MessageBody, RecordCheck, RecordCheckKind, RecordError, Role, SessionError,
    SignatureRecord, pdf_bases,
};
use crate::session::{Proposal, SessionMessage};
use crate::trust::{
    AttestationUpdate, LogUpdate, Moment, TrustPath, TrustPolicy, TrustStore, Verdict, evaluate_at,
};
use crate::{Digest, Timestamp};

use super::report::{Checks, Condition, Outcome, PartyReport, Reliability, Report, SignedBy};
use super::{BUNDLE_VERSION, Bundle};

/// Verifies a bundle file offline under `policy` at time `now`, and the documents given (any
/// subset of the proposal's, in any order).
///
/// Nothing is trusted because the bundle says so: every signature is checked over its exact
/// bytes, every key against its party's key log at the time it was used, every mandate
/// against its scope, every signer's identity under `policy` at signing time, the routing
/// order through the signatures' commitments, and every given document against its digest.
/// Revocation status is what the bundle carries; see [`verify_bundle_with`] to add newer.
pub fn verify_bundle(
    bytes: &[u8],
    documents: &[&[u8]],
    policy: &TrustPolicy,
    now: Timestamp,
) -> Report {
    verify_bundle_with(bytes, documents, &[], policy, now)
}

/// [`verify_bundle`], with revocation information the verifier obtained itself
/// (`revocations`: signed revocations and revocation lists, for instance the newest lists of
/// the issuers involved, fetched today, and the X.509 CRLs (DER) of the CAs its policy lists
/// as roots, spec §6.11). A bundle's presenter chooses what it carries; a verifier whose
/// policy asks for fresh revocation status brings its own, and a newer list always replaces
/// an older one. Without fresh status, the checks that need it are Indeterminate, never
/// Valid; a CRL is checked against the certificate path it is used for.
pub fn verify_bundle_with(
    bytes: &[u8],
    documents: &[&[u8]],
    revocations: &[&[u8]],
    policy: &TrustPolicy,
    now: Timestamp,
) -> Report {
    let mut checks = Checks::default();
    let mut parties = Vec::new();
    let title = verify_into(
        &mut checks,
        &mut parties,
        bytes,
        documents,
        revocations,
        policy,
        now,
    );
    let reliability = reliability(&checks, !documents.is_empty());
    Report {
        outcome: checks.overall(),
        title,
        checks: checks.0,
        reliability,
        parties,
    }
}

fn verify_into(
    checks: &mut Checks,
    parties: &mut Vec<PartyReport>,
    bytes: &[u8],
    documents: &[&[u8]],
    revocations: &[&[u8]],
    policy: &TrustPolicy,
    now: Timestamp,
) -> Option<String> {
    let bundle = match Bundle::decode(bytes) {
        Ok(b) if b.version == BUNDLE_VERSION => {
            checks.pass(
                "bundle.structure",
                "bundle",
                "deterministic CBOR, known version",
            );
            b
        }
        Ok(b) => {
            checks.push(
                "bundle.structure",
                "bundle",
                Outcome::Invalid,
                format!("unsupported bundle version {}", b.version),
            );
            return None;
        }
        Err(e) => {
            checks.push(
                "bundle.structure",
                "bundle",
                Outcome::Invalid,
                e.to_string(),
            );
            return None;
        }
    };

    // Knowledge comes only from the bundle and from what the verifier brings.
    let store = knowledge(checks, &bundle, revocations);

    let proposal = match decode_proposal_with(&bundle.proposal, &store) {
        Ok(p) => {
            checks.pass(
                "proposal.signature",
                p.payload().initiator.to_string(),
                "signed by a node key of the initiator",
            );
            p
        }
        Err(e) => {
            checks.push(
                "proposal.signature",
                "proposal",
                outcome_of_session(&e),
                e.to_string(),
            );
            return None;
        }
    };
    let p = proposal.payload();
    let title = Some(p.title.clone());

    let completion = match decode_message(&bundle.completion) {
        Ok(m) => m,
        Err(e) => {
            checks.push(
                "completion.signature",
                "completion",
                Outcome::Invalid,
                e.to_string(),
            );
            return title;
        }
    };
    let c = completion.payload();
    let MessageBody::Complete { actions } = &c.body else {
        checks.push(
            "completion.signature",
            "completion",
            Outcome::Invalid,
            "not a complete message",
        );
        return title;
    };
    let completed_at = c.time;
    match check_envelope(&proposal, &completion, &store, completed_at) {
        Ok(()) if c.from == p.initiator => checks.pass(
            "completion.signature",
            c.from.to_string(),
            format!("completed at {completed_at}"),
        ),
        Ok(()) => checks.push(
            "completion.signature",
            c.from.to_string(),
            Outcome::Invalid,
            "completion not sent by the initiator",
        ),
        Err(e) => checks.push(
            "completion.signature",
            c.from.to_string(),
            outcome_of_session(&e),
            e.to_string(),
        ),
    }
    if completed_at > now.plus(crate::session::MAX_CLOCK_SKEW) {
        checks.push(
            "completion.signature",
            "completion",
            Outcome::Invalid,
            format!("completed at {completed_at}, after the verification time {now}"),
        );
    }

    // Evidence first: the witnesses' cosignatures prove by when each logged object existed.
    let evidence = check_evidence(checks, &bundle, &proposal, &store, policy, now);
    let proven_by = |digest: &Digest, claimed: Timestamp| {
        [digest, &completion.digest()]
            .into_iter()
            .filter_map(|d| evidence.proven.get(d))
            .min()
            .copied()
            .unwrap_or(claimed)
    };

    // Each action, in order; later groups' commitments are checked against earlier groups.
    let mut accepted: Vec<(PartyId, u32, Digest)> = Vec::new();
    // Signers whose records passed every check: who signed, and when their identity counts.
    let mut signed: BTreeMap<PartyId, (SignedBy, Moment)> = BTreeMap::new();
    // The records met so far, whatever their checks said: each names the PDF revisions the
    // next signer in sealing order must have sealed over.
    let mut records: BTreeMap<PartyId, SignatureRecord> = BTreeMap::new();
    for bytes in actions {
        let message = match decode_message(bytes) {
            Ok(m) => m,
            Err(e) => {
                checks.push("action.envelope", "action", Outcome::Invalid, e.to_string());
                continue;
            }
        };
        let m = message.payload();
        let who = m.from.to_string();
        if let Err(e) = check_envelope(&proposal, &message, &store, m.time) {
            checks.push(
                "action.envelope",
                who,
                outcome_of_session(&e),
                e.to_string(),
            );
            continue;
        }
        let Some(participant) = p.participant(&m.from) else {
            checks.push(
                "action.envelope",
                who,
                Outcome::Invalid,
                "not a participant",
            );
            continue;
        };
        if accepted.iter().any(|(party, _, _)| *party == m.from) {
            checks.push("action.envelope", who, Outcome::Invalid, "acted twice");
            continue;
        }
        if m.time > completed_at {
            checks.push(
                "action.envelope",
                who,
                Outcome::Invalid,
                "dated after the completion",
            );
            continue;
        }
        if accepted
            .iter()
            .any(|(_, order, _)| *order > participant.order)
        {
            checks.push(
                "action.envelope",
                who,
                Outcome::Invalid,
                "listed after an action of a later routing group",
            );
            continue;
        }
        let mut prior: Vec<Digest> = accepted
            .iter()
            .filter(|(_, order, _)| *order < participant.order)
            .map(|(_, _, d)| *d)
            .collect();
        prior.sort();
        match (&m.body, participant.role) {
            (MessageBody::Sign(record_bytes), Role::Signer) => {
                checks.pass(
                    "action.envelope",
                    who.clone(),
                    format!("sign message at {}", m.time),
                );
                match SignatureRecord::from_bytes(record_bytes) {
                    Ok(record) => {
                        let signed_at = record.seal_signature.payload().time;
                        if signed_at > m.time {
                            checks.push(
                                "signature.binding",
                                who.clone(),
                                Outcome::Invalid,
                                "seal signature dated after its message",
                            );
                        }
                        let proven = proven_by(&message.digest(), signed_at);
                        let judged = Judged::Offline {
                            proven_by: proven,
                            now,
                        };
                        let bases = pdf_bases(p, &m.from, |earlier| records.get(earlier));
                        let all_passed = check_record(
                            checks,
                            &record,
                            &RecordCheck {
                                proposal: &proposal,
                                participant,
                                prior: &prior,
                                pdf_bases: bases.as_deref(),
                                store: &store,
                                policy,
                                viewer: None,
                                judged,
                            },
                        );
                        if all_passed {
                            let person = match &record.delegation.payload().claims {
                                Claims::Delegation(d) => d.delegate.name.clone(),
                                _ => String::new(),
                            };
                            let by = SignedBy {
                                person,
                                method: record.intent.challenge().method,
                                time: signed_at,
                                pdf: record.seal_signature.payload().pdf.clone(),
                            };
                            let moment = Moment {
                                at: signed_at,
                                proven_by: proven.max(signed_at),
                                now,
                            };
                            signed.insert(m.from, (by, moment));
                        }
                        records.insert(m.from, record);
                    }
                    Err(e) => {
                        checks.push("signature.binding", who, Outcome::Invalid, e.to_string())
                    }
                }
            }
            (MessageBody::Approve, Role::Approver) => {
                checks.pass("action.envelope", who, format!("approval at {}", m.time))
            }
            (body, role) => {
                checks.push(
                    "action.envelope",
                    who,
                    Outcome::Invalid,
                    format!("a {} message from a {role}", body.kind()),
                );
                continue;
            }
        }
        accepted.push((m.from, participant.order, message.digest()));
    }
    for actor in p.actors() {
        if accepted.iter().any(|(party, _, _)| *party == actor.party) {
            continue;
        }
        checks.push(
            "completeness",
            actor.party.to_string(),
            Outcome::Invalid,
            format!(
                "no {} from this {}",
                if actor.role == Role::Signer {
                    "signature"
                } else {
                    "approval"
                },
                actor.role
            ),
        );
    }
    if accepted.len() == p.actors().count() {
        checks.pass(
            "completeness",
            "session",
            format!("all {} actors acted in routing order", accepted.len()),
        );
    }

    check_coverage(checks, &evidence, &proposal, &completion, &accepted);
    *parties = name_parties(p, &store, policy, &mut signed, completed_at, now);

    for document in documents {
        let digest = Digest::of(document);
        match p.documents.iter().find(|d| d.digest == digest) {
            Some(d) if d.size != document.len() as u64 => checks.push(
                "document.digest",
                d.name.clone(),
                Outcome::Invalid,
                "size differs from the proposal",
            ),
            Some(d) if !d.sm3_matches(document) => checks.push(
                "document.digest",
                d.name.clone(),
                Outcome::Invalid,
                "SM3 digest differs from the proposal's",
            ),
            Some(d) if d.sm3.is_some() => checks.pass(
                "document.digest",
                d.name.clone(),
                format!("SHA-256 {digest} and SM3 match"),
            ),
            Some(d) => checks.pass(
                "document.digest",
                d.name.clone(),
                format!("SHA-256 {digest} matches"),
            ),
            None => checks.push(
                "document.digest",
                format!("document {digest}"),
                Outcome::Invalid,
                "matches no document of the proposal",
            ),
        }
    }
    title
}

/// The key logs and attestations of the bundle, and the revocations the verifier brought,
/// each checked; a key log that forks another in the bundle makes the bundle invalid (a
/// verifier that sees both branches must not pick one).
fn knowledge(checks: &mut Checks, bundle: &Bundle, revocations: &[&[u8]]) -> TrustStore {
    let mut store = TrustStore::new();
    for log in &bundle.key_logs {
        match KeyLog::replay(&log.events) {
            Ok(log) => {
                let party = log.party();
                let events = log.len();
                match store.add_key_log(log) {
                    LogUpdate::Conflict { seq } => checks.push(
                        "key-log",
                        party.to_string(),
                        Outcome::Invalid,
                        format!(
                            "the bundle holds two validly signed branches of this key log, differing at event {seq}: a fork"
                        ),
                    ),
                    _ => checks.pass(
                        "key-log",
                        party.to_string(),
                        format!("{events} events replayed"),
                    ),
                }
            }
            Err(e) => checks.push("key-log", "key log", Outcome::Invalid, e.to_string()),
        }
    }
    let carried = bundle
        .attestations
        .iter()
        .map(|b| (b.as_slice(), "attestation"));
    let brought = revocations
        .iter()
        .map(|b| (*b, "revocation information supplied by the verifier"));
    for (bytes, origin) in carried.chain(brought) {
        // An X.509 CRL (a DER SEQUENCE; a signed object is a CBOR array) the verifier
        // brought: its signature is checked when a certificate path uses it.
        if origin != "attestation" && bytes.first() == Some(&0x30) {
            match store.add_crl(bytes) {
                Ok(_) => checks.pass(
                    "crl",
                    origin,
                    "an X.509 CRL, checked against the certificate path it is used for",
                ),
                Err(e) => checks.push("crl", origin, Outcome::Invalid, e.to_string()),
            }
            continue;
        }
        let signed = match Attestation::decode(bytes) {
            Ok(signed) => signed,
            Err(e) => {
                checks.push(
                    "attestation.signature",
                    origin,
                    Outcome::Invalid,
                    e.to_string(),
                );
                continue;
            }
        };
        let subject = format!("{origin} {}", signed.payload().id);
        match store.add_attestation(signed) {
            AttestationUpdate::Added { .. } | AttestationUpdate::Duplicate => checks.pass(
                "attestation.signature",
                subject,
                "signed by an attest key of its issuer",
            ),
            AttestationUpdate::Stale { newest } => checks.pass(
                "attestation.signature",
                subject,
                format!("a revocation list superseded by the issuer's list of {newest}"),
            ),
            AttestationUpdate::UnknownIssuer(issuer) => checks.push(
                "attestation.signature",
                subject,
                Outcome::Indeterminate,
                format!("the key log of its issuer {issuer} is not in the bundle"),
            ),
            AttestationUpdate::Unauthorised(e) => checks.push(
                "attestation.signature",
                subject,
                Outcome::Invalid,
                format!("not signed by an attest key of its issuer at issue time: {e}"),
            ),
            AttestationUpdate::Conflict { held } => checks.push(
                "attestation.signature",
                subject,
                Outcome::Invalid,
                format!("its issuer issued another attestation ({held}) under the same id"),
            ),
        }
    }
    store
}

/// The proposal's parties, each named under `policy`: a signer whose record passed as of its
/// signing, the others as of the completion.
fn name_parties(
    p: &Proposal,
    store: &TrustStore,
    policy: &TrustPolicy,
    signed: &mut BTreeMap<PartyId, (SignedBy, Moment)>,
    completed_at: Timestamp,
    now: Timestamp,
) -> Vec<PartyReport> {
    let at_completion = Moment {
        at: completed_at,
        proven_by: completed_at,
        now,
    };
    let initiator_role = p
        .participant(&p.initiator)
        .map_or("initiator".to_string(), |x| {
            format!("initiator, {}", x.role)
        });
    std::iter::once((p.initiator, initiator_role))
        .chain(
            p.participants
                .iter()
                .filter(|x| x.party != p.initiator)
                .map(|x| (x.party, x.role.to_string())),
        )
        .map(|(party, role)| {
            let by = signed.remove(&party);
            let moment = by.as_ref().map_or(at_completion, |(_, m)| *m);
            let (identity, established, basis) = match evaluate_at(policy, store, &party, moment) {
                Verdict::Trusted { identity, path } => {
                    let basis = match path {
                        TrustPath::Anchor => "a trust anchor of the policy".to_string(),
                        TrustPath::Chain(links) => format!(
                            "attested by an accredited verifier ({} attestations from an anchor)",
                            links.len()
                        ),
                        TrustPath::Endorsements(links) => {
                            format!("endorsed by {} known counterparties", links.len())
                        }
                        TrustPath::Certificate(evidence) => evidence.to_string(),
                    };
                    (Some(identity), Outcome::Valid, basis)
                }
                v @ Verdict::Indeterminate { .. } => (None, Outcome::Indeterminate, v.to_string()),
                v @ Verdict::Untrusted { .. } => (None, Outcome::Invalid, v.to_string()),
            };
            PartyReport {
                party,
                role,
                identity,
                established,
                basis,
                signed: by.map(|(by, _)| by),
            }
        })
        .collect()
}

/// Records every check of `record`; whether all passed.
fn check_record(checks: &mut Checks, record: &SignatureRecord, check: &RecordCheck<'_>) -> bool {
    let who = check.participant.party.to_string();
    let mut all_passed = true;
    for kind in RecordCheckKind::ALL {
        // Reported only for a session that requires algorithms, so that every other
        // bundle's report keeps its entries (spec §11.3).
        if kind == RecordCheckKind::Algorithms && check.proposal.payload().algorithms.is_none() {
            continue;
        }
        let (name, what) = match kind {
            RecordCheckKind::Binding => (
                "signature.binding",
                "seal signature, intent proof and mandate bound to this proposal, documents and signer",
            ),
            RecordCheckKind::Intent => (
                "signature.intent",
                "intent proof by the delegate's own key shortly before signing",
            ),
            RecordCheckKind::SealKey => (
                "signature.seal-key",
                "seal key valid and unrevoked for the signer at signing time, of the required kind",
            ),
            RecordCheckKind::Algorithms => (
                "signature.algorithms",
                "seal signature made with the algorithms the session requires (SM2 with SM3)",
            ),
            RecordCheckKind::Mandate => (
                "signature.mandate",
                "the delegation covers this seal, purpose, value, counterparties and time",
            ),
            RecordCheckKind::Identity => (
                "signature.identity",
                "signer's identity trusted under the policy at signing time",
            ),
            RecordCheckKind::Routing => (
                "signature.routing",
                "commits to exactly the earlier routing groups' actions",
            ),
        };
        match record.check(kind, check) {
            Ok(()) => checks.pass(name, who.clone(), what),
            Err(e) => {
                all_passed = false;
                let outcome = outcome_of_record(&e);
                checks.push(name, who.clone(), outcome, e.to_string());
                if kind == RecordCheckKind::Binding {
                    return false;
                }
            }
        }
    }
    all_passed
}

fn outcome_of_session(e: &SessionError) -> Outcome {
    match e {
        SessionError::UnknownKeyLog(_) => Outcome::Indeterminate,
        _ => Outcome::Invalid,
    }
}

fn outcome_of_record(e: &RecordError) -> Outcome {
    match e {
        RecordError::UnknownKeyLog(_)
        | RecordError::NoProofBeforeRetirement { .. }
        | RecordError::NoProofBeforeRevocation { .. }
        | RecordError::StaleRevocationStatus { .. } => Outcome::Indeterminate,
        RecordError::Mandate(crate::attestation::MandateError::UnknownParty(_)) => {
            Outcome::Indeterminate
        }
        RecordError::Untrusted { verdict, .. }
            if matches!(**verdict, Verdict::Indeterminate { .. }) =>
        {
            Outcome::Indeterminate
        }
        _ => Outcome::Invalid,
    }
}

fn reliability(checks: &Checks, documents_given: bool) -> Reliability {
    let condition = |prefixes: &[&str], basis: &str| Condition {
        outcome: checks.worst(prefixes),
        basis: basis.to_string(),
    };
    Reliability {
        signer_binding: condition(
            &[
                "key-log",
                "signature.seal-key",
                "signature.algorithms",
                "signature.identity",
                "attestation",
            ],
            "each seal key is declared in its signer's own key event log (self-certifying, pre-rotated) and was valid and unrevoked at signing time; each signer's identity is attested under the verifier's trust policy",
        ),
        signer_control: condition(
            &["signature.intent", "signature.mandate"],
            "each signature rests on an intent proof made by the delegate's own key, bound to this session and its documents, under a seal mandate that covers the seal, purpose, value, counterparties and time",
        ),
        signature_integrity: condition(
            &[
                "bundle",
                "proposal",
                "completion",
                "action",
                "signature.binding",
                "signature.routing",
                "completeness",
                "evidence",
            ],
            &integrity_basis(checks),
        ),
        document_integrity: if documents_given {
            condition(
                &["signature.binding", "document"],
                "every signature covers the SHA-256 digest of every document, and the documents given match those digests",
            )
        } else {
            Condition {
                outcome: Outcome::Indeterminate,
                basis: "every signature covers the SHA-256 digest of every document; no document was given, so the files themselves were not compared".into(),
            }
        },
    }
}

/// What the signature-integrity condition rests on: only the evidence the bundle carries.
fn integrity_basis(checks: &Checks) -> String {
    let valid = |name: &str| {
        checks
            .0
            .iter()
            .any(|c| c.name.starts_with(name) && c.outcome == Outcome::Valid)
    };
    let evidence = if valid("evidence.cosignature") {
        "each party logged its action in its append-only evidence log, whose checkpoint witnesses cosigned with a trusted time"
    } else if valid("evidence.") {
        "the parties' append-only evidence logs include their actions (no witness cosigned them, so no time is vouched for beyond the parties' own)"
    } else {
        "the bundle carries no evidence-log proofs"
    };
    format!(
        "every signature is checked over the exact bytes signed (COSE_Sign1, Ed25519, strict); any change to a signature, record or the routing breaks a check; {evidence}"
    )
}

/// What the parties' evidence shows.
#[derive(Debug, Default)]
struct EvidenceSeen {
    /// For each object logged by a party whose checkpoint a trusted witness cosigned, the
    /// earliest such cosignature's time: the object is proven to exist by then.
    proven: BTreeMap<Digest, Timestamp>,
    /// Each party's checked evidence: its entries and the trusted witnesses' times.
    parties: BTreeMap<PartyId, (CheckedEvidence, Vec<(PartyId, Timestamp)>)>,
}

/// Each party's evidence: checkpoint signed by the party's log key, every entry included and
/// about this session, and the cosignatures of the witnesses the proposal names that count:
/// each witness once, none of them a party to the session, each trusted under the verifier's
/// policy at the time it cosigned, each cosigning a checkpoint signed by a log key the party
/// held at that time, and none cosigning before an action it would cover.
fn check_evidence(
    checks: &mut Checks,
    bundle: &Bundle,
    proposal: &Signed<Proposal>,
    store: &TrustStore,
    policy: &TrustPolicy,
    now: Timestamp,
) -> EvidenceSeen {
    let p = proposal.payload();
    let session = p.session.as_digest();
    let parties = p.parties();
    let mut seen = EvidenceSeen::default();
    for evidence in &bundle.evidence {
        if !parties.contains(&evidence.party) {
            checks.push(
                "evidence.checkpoint",
                evidence.party.to_string(),
                Outcome::Invalid,
                "evidence from a party not in the session",
            );
        }
    }
    // Witnesses are counted once each, and a party to the session never witnesses it.
    let mut witnesses: Vec<PartyId> = Vec::new();
    for w in &p.evidence.witnesses {
        if !witnesses.contains(w) && !parties.contains(w) {
            witnesses.push(*w);
        }
    }
    for party in parties {
        let who = party.to_string();
        let held: Vec<&PartyEvidence> = bundle
            .evidence
            .iter()
            .filter(|e| e.party == party)
            .collect();
        let Some(evidence) = held.first() else {
            continue;
        };
        if held.len() > 1 {
            checks.push(
                "evidence.checkpoint",
                who.clone(),
                Outcome::Invalid,
                "more than one evidence entry for this party",
            );
        }
        let Some(log) = store.key_log(&party) else {
            checks.push(
                "evidence.checkpoint",
                who,
                Outcome::Indeterminate,
                "the party's key log is not in the bundle",
            );
            continue;
        };
        let checked = match evidence.verify(log) {
            Ok(c) => c,
            Err(e) => {
                let name = match e {
                    PartyEvidenceError::Inclusion { .. } | PartyEvidenceError::Entry { .. } => {
                        "evidence.inclusion"
                    }
                    _ => "evidence.checkpoint",
                };
                checks.push(name, who, Outcome::Invalid, e.to_string());
                continue;
            }
        };
        let size = checked.checkpoint.checkpoint().size();
        checks.pass(
            "evidence.checkpoint",
            who.clone(),
            format!("checkpoint of size {size} signed by the party's log key"),
        );
        if checked
            .events
            .iter()
            .any(|(_, e)| e.session != Some(session))
        {
            checks.push(
                "evidence.inclusion",
                who.clone(),
                Outcome::Invalid,
                "an entry is about another session",
            );
            continue;
        }
        checks.pass(
            "evidence.inclusion",
            who.clone(),
            format!("{} entries proven in the log", checked.events.len()),
        );
        let latest_entry = checked.events.iter().map(|(_, e)| e.time).max();
        let mut times: Vec<(PartyId, Timestamp)> = Vec::new();
        for witness in &witnesses {
            let Some(witness_log) = store.key_log(witness) else {
                continue;
            };
            let Ok(time) = checked.cosigned_by(witness_log) else {
                continue;
            };
            // An honest witness's clock may run a little behind the party's.
            if latest_entry.is_some_and(|t| time.plus(crate::session::MAX_CLOCK_SKEW) < t) {
                checks.push(
                    "evidence.cosignature",
                    who.clone(),
                    Outcome::Invalid,
                    format!("witness {witness} cosigned at {time}, before an entry it would cover"),
                );
                continue;
            }
            if let Err(e) = log.check_key(&checked.log_key, KeyPurpose::Log, time) {
                checks.push(
                    "evidence.cosignature",
                    who.clone(),
                    Outcome::Indeterminate,
                    format!(
                        "witness {witness} cosigned at {time} a checkpoint whose log key was not valid then: {e}"
                    ),
                );
                continue;
            }
            let moment = Moment {
                at: time,
                proven_by: time,
                now,
            };
            match evaluate_at(policy, store, witness, moment) {
                Verdict::Trusted { .. } => times.push((*witness, time)),
                verdict => checks.push(
                    "evidence.witness",
                    witness.to_string(),
                    match verdict {
                        Verdict::Indeterminate { .. } => Outcome::Indeterminate,
                        _ => Outcome::Invalid,
                    },
                    format!("its cosignature does not count: the witness is {verdict}"),
                ),
            }
        }
        if let Some(earliest) = times.iter().map(|(_, t)| *t).min() {
            for (_, event) in &checked.events {
                for object in &event.objects {
                    let entry = seen.proven.entry(*object).or_insert(earliest);
                    *entry = (*entry).min(earliest);
                }
            }
        }
        seen.parties.insert(party, (checked, times));
    }
    seen
}

/// Each party's own action (the initiator's completion) is in its log, and enough trusted
/// witnesses cosigned each party's checkpoint.
fn check_coverage(
    checks: &mut Checks,
    seen: &EvidenceSeen,
    proposal: &Signed<Proposal>,
    completion: &Signed<SessionMessage>,
    accepted: &[(PartyId, u32, Digest)],
) {
    let p = proposal.payload();
    let required = usize::from(p.evidence.min_cosignatures);
    for party in p.parties() {
        let who = party.to_string();
        let Some((checked, times)) = seen.parties.get(&party) else {
            if required > 0 {
                checks.push(
                    "evidence.cosignature",
                    who,
                    Outcome::Indeterminate,
                    format!("no evidence from this party; the proposal requires {required} witness cosignature(s)"),
                );
            }
            continue;
        };
        let own: Option<Digest> = if party == p.initiator && completion.payload().from == party {
            Some(completion.digest())
        } else {
            accepted
                .iter()
                .find(|(a, _, _)| *a == party)
                .map(|(_, _, d)| *d)
        };
        if let Some(digest) = own {
            let logged = checked.events.iter().find(|(_, e)| {
                matches!(
                    e.kind,
                    EvidenceKind::SignatureMade | EvidenceKind::Approved | EvidenceKind::Completed
                ) && e.objects.contains(&digest)
            });
            match logged {
                Some((_, e)) => checks.pass(
                    "evidence.coverage",
                    who.clone(),
                    format!("its {} is in its log", e.kind),
                ),
                None => checks.push(
                    "evidence.coverage",
                    who.clone(),
                    Outcome::Indeterminate,
                    "the party's own action is not among the entries given",
                ),
            }
        }
        if times.len() >= required {
            let detail = match times.iter().map(|(_, t)| *t).min() {
                Some(t) => format!(
                    "{} of {} named witnesses trusted and cosigned; trusted time {t}",
                    times.len(),
                    p.evidence.witnesses.len()
                ),
                None => "no witness cosignature required".to_string(),
            };
            checks.pass("evidence.cosignature", who, detail);
        } else {
            checks.push(
                "evidence.cosignature",
                who,
                Outcome::Indeterminate,
                format!(
                    "{} of the {required} required witness cosignatures by distinct, trusted witnesses that are not parties",
                    times.len()
                ),
            );
        }
    }
}
