//! Assembling a bundle from a completed session (spec §11.2).

use std::collections::BTreeSet;

use crate::party::{AttestationId, PartyId};
use crate::session::{Session, Status};
use crate::trust::{TrustPath, TrustPolicy, TrustStore, evaluate};

use super::{BUNDLE_VERSION, Bundle, KeyLogBytes};

/// Why a bundle cannot be assembled. The caller's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// Only completed sessions have bundles.
    #[error("the session is {0}, not completed")]
    NotCompleted(&'static str),
    /// A key event log needed is not in the store.
    #[error("the key event log of {0} is not known")]
    MissingKeyLog(PartyId),
}

/// Builds the bundle of a completed session: the proposal, the completion, and everything
/// the signatures rely on under `policy` — the key logs of every party, witness and issuer
/// involved, the attestations on each signer's trust path, every revocation and revocation
/// list issued by those issuers and parties — and the evidence the session holds from each
/// party (see [`Session::share_evidence`]).
pub fn assemble(
    session: &Session,
    store: &TrustStore,
    policy: &TrustPolicy,
) -> Result<Bundle, AssembleError> {
    if !matches!(session.status(), Status::Completed { .. }) {
        return Err(AssembleError::NotCompleted(session.status().name()));
    }
    let completion = session
        .completion()
        .ok_or(AssembleError::NotCompleted("missing its completion"))?;
    let proposal = session.proposal();
    let mut parties: BTreeSet<PartyId> = proposal.payload().parties().into_iter().collect();
    parties.extend(proposal.payload().evidence.witnesses.iter().copied());
    let mut ids: BTreeSet<(PartyId, AttestationId)> = BTreeSet::new();
    // The trust paths of every signer at its signing time, and of every witness at the
    // completion (a verifier evaluates the witnesses under its own policy too).
    let completed_at = completion.payload().time;
    let relied_on = session
        .actions()
        .iter()
        .filter_map(|a| {
            let record = a.record.as_ref()?;
            Some((a.party, record.seal_signature.payload().time))
        })
        .chain(
            proposal
                .payload()
                .evidence
                .witnesses
                .iter()
                .map(|w| (*w, completed_at)),
        );
    for (party, time) in relied_on {
        if let crate::trust::Verdict::Trusted { path, .. } = evaluate(policy, store, &party, time) {
            // A certificate path's link is the subject's own `ca-identity` attestation, with
            // its certificates; the CA's CRLs are the verifier's to bring (spec §11.3).
            let links = match &path {
                TrustPath::Chain(links) | TrustPath::Endorsements(links) => links.iter().collect(),
                TrustPath::Certificate(evidence) => vec![&evidence.link],
                TrustPath::Anchor => Vec::new(),
            };
            for link in links {
                ids.insert((link.issuer, link.attestation));
                parties.insert(link.issuer);
            }
        }
    }
    let mut attestations: Vec<Vec<u8>> = Vec::new();
    let mut push = |bytes: &[u8]| {
        if !attestations.iter().any(|b| b == bytes) {
            attestations.push(bytes.to_vec());
        }
    };
    for (issuer, id) in &ids {
        if let Some(signed) = store.attestation(issuer, id) {
            push(signed.bytes());
        }
    }
    for party in &parties {
        for signed in store.revocations_by(party) {
            push(signed.bytes());
        }
    }
    let mut key_logs = Vec::new();
    for party in &parties {
        let log = store
            .key_log(party)
            .ok_or(AssembleError::MissingKeyLog(*party))?;
        key_logs.push(KeyLogBytes {
            events: log.event_bytes().map(<[u8]>::to_vec).collect(),
        });
    }
    Ok(Bundle {
        version: BUNDLE_VERSION,
        proposal: proposal.bytes().to_vec(),
        completion: completion.bytes().to_vec(),
        key_logs,
        attestations,
        evidence: session.evidence().cloned().collect(),
    })
}
