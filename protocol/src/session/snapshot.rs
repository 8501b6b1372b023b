//! A session's state as bytes, so a node can keep it without replaying its inputs.
//!
//! A [`Session`] is made of signed objects (the proposal, the accepted actions with their
//! signature records, the completion) plus a little plain state (status, who acknowledged,
//! the digests of messages seen, the evidence received). [`Session::snapshot`] writes all of
//! it as deterministic CBOR, keeping every signed object's exact bytes; [`Session::restore`]
//! reads it back. Restoring signs nothing: the objects were signed when they were made, and
//! their bytes are kept. It checks every signature again (cheap next to a signing key's
//! authority checks, which are not repeated: they were made when each object was accepted)
//! and the snapshot's own consistency, so a corrupt or edited record is refused rather than
//! served.
//!
//! This is local storage, not a wire format: no other party ever sees a snapshot. Its
//! layout is versioned (`v`) so that a node can read what an older version wrote.

use serde::{Deserialize, Serialize};

use crate::Digest;
use crate::codec::{self, DecodeError, EncodeError, Limits};
use crate::cose::{CoseError, Signed};
use crate::evidence::PartyEvidence;
use crate::party::PartyId;
use crate::time::Timestamp;

use super::machine::{Action, Session, Side, Status};
use super::message::SESSION_MESSAGE_CONTENT_TYPE;
use super::proposal::PROPOSAL_CONTENT_TYPE;
use super::record::{RecordError, SignatureRecord, SignatureRecordBytes};

/// The snapshot layout this version writes.
const VERSION: u8 = 1;

/// The limits a snapshot is read under: a session with every party's evidence is larger
/// than one protocol message, but still bounded.
pub const SNAPSHOT_LIMITS: Limits = Limits {
    max_bytes: 64 << 20,
    max_depth: 16,
    max_items: 1 << 22,
};

/// Why a stored snapshot could not be restored. The store's fault (corruption or editing),
/// never a peer's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Not deterministic CBOR of the snapshot layout.
    #[error("snapshot encoding: {0}")]
    Encoding(DecodeError),
    /// A layout this version does not know.
    #[error("snapshot version {0} is not known")]
    Version(u8),
    /// A signed object does not parse or its signature does not verify.
    #[error("snapshot's {what}: {error}")]
    Object {
        /// Which object.
        what: &'static str,
        /// Why.
        error: CoseError,
    },
    /// A signature record does not parse or verify.
    #[error("snapshot's signature record: {0}")]
    Record(RecordError),
    /// The parts do not fit together (an action by another party than its message's sender,
    /// a message of another session, an unknown status).
    #[error("inconsistent snapshot: {0}")]
    Inconsistent(&'static str),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Form {
    v: u8,
    initiator: bool,
    me: PartyId,
    #[serde(with = "crate::cbor_bytes")]
    proposal: Vec<u8>,
    status: StatusForm,
    acknowledged: Vec<PartyId>,
    actions: Vec<ActionForm>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::cbor_bytes::option"
    )]
    completion: Option<Vec<u8>>,
    seen: Vec<Digest>,
    evidence: Vec<EvidenceForm>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusForm {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by: Option<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionForm {
    party: PartyId,
    #[serde(with = "crate::cbor_bytes")]
    message: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record: Option<SignatureRecordBytes>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceForm {
    evidence: PartyEvidence,
    size: u64,
}

impl StatusForm {
    fn of(status: &Status) -> Self {
        let mut form = Self {
            name: status.name().to_string(),
            at: None,
            by: None,
            reason: None,
        };
        match status {
            Status::Open => {}
            Status::Completed { at } | Status::Expired { at } => form.at = Some(*at),
            Status::Declined { by, reason } => {
                form.by = Some(*by);
                form.reason = Some(reason.clone());
            }
            Status::Cancelled { reason } => form.reason = Some(reason.clone()),
        }
        form
    }

    fn status(self) -> Result<Status, SnapshotError> {
        let bad = || SnapshotError::Inconsistent("status fields");
        Ok(match (self.name.as_str(), self.at, self.by, self.reason) {
            ("open", None, None, None) => Status::Open,
            ("completed", Some(at), None, None) => Status::Completed { at },
            ("expired", Some(at), None, None) => Status::Expired { at },
            ("declined", None, Some(by), Some(reason)) => Status::Declined { by, reason },
            ("cancelled", None, None, Some(reason)) => Status::Cancelled { reason },
            _ => return Err(bad()),
        })
    }
}

fn object<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    content_type: &'static str,
    what: &'static str,
) -> Result<Signed<T>, SnapshotError> {
    Signed::decode(bytes, content_type, &crate::codec::Limits::DEFAULT)
        .map_err(|error| SnapshotError::Object { what, error })
}

impl Session {
    /// The session's state as deterministic CBOR, every signed object as its exact bytes.
    pub fn snapshot(&self) -> Result<Vec<u8>, EncodeError> {
        let form = Form {
            v: VERSION,
            initiator: self.side == Side::Initiator,
            me: self.me,
            proposal: self.proposal.bytes().to_vec(),
            status: StatusForm::of(&self.status),
            acknowledged: self.acknowledged.clone(),
            actions: self
                .actions
                .iter()
                .map(|a| ActionForm {
                    party: a.party,
                    message: a.message.bytes().to_vec(),
                    record: a.record.as_ref().map(SignatureRecord::to_bytes),
                })
                .collect(),
            completion: self.completion.as_ref().map(|c| c.bytes().to_vec()),
            seen: self.seen.iter().copied().collect(),
            evidence: self
                .evidence
                .iter()
                .map(|(evidence, size)| EvidenceForm {
                    evidence: evidence.clone(),
                    size: *size,
                })
                .collect(),
        };
        codec::encode(&form)
    }

    /// Rebuilds a session from [`Session::snapshot`]'s bytes, checking every signature and
    /// that the parts belong to one session. Signs nothing.
    pub fn restore(bytes: &[u8]) -> Result<Self, SnapshotError> {
        let form: Form = codec::decode(bytes, &SNAPSHOT_LIMITS).map_err(SnapshotError::Encoding)?;
        if form.v != VERSION {
            return Err(SnapshotError::Version(form.v));
        }
        let proposal =
            object::<super::Proposal>(&form.proposal, PROPOSAL_CONTENT_TYPE, "proposal")?;
        let p = proposal.payload();
        let (session, digest) = (p.session, proposal.digest());
        let initiator = p.initiator == form.me;
        if initiator != form.initiator || (!initiator && p.participant(&form.me).is_none()) {
            return Err(SnapshotError::Inconsistent("its party's side"));
        }
        let ours = |m: &Signed<super::SessionMessage>| {
            m.payload().session == session && m.payload().proposal == digest
        };
        let mut actions = Vec::with_capacity(form.actions.len());
        for a in form.actions {
            let message = object(&a.message, SESSION_MESSAGE_CONTENT_TYPE, "action")?;
            if !ours(&message) || message.payload().from != a.party {
                return Err(SnapshotError::Inconsistent("an action"));
            }
            let record = a
                .record
                .as_ref()
                .map(SignatureRecord::from_bytes)
                .transpose()
                .map_err(SnapshotError::Record)?;
            actions.push(Action {
                party: a.party,
                message,
                record,
            });
        }
        let completion = match form.completion {
            Some(bytes) => {
                let c = object(&bytes, SESSION_MESSAGE_CONTENT_TYPE, "completion")?;
                if !ours(&c) {
                    return Err(SnapshotError::Inconsistent("the completion"));
                }
                Some(c)
            }
            None => None,
        };
        let status = form.status.status()?;
        if matches!(status, Status::Completed { .. }) != completion.is_some() {
            return Err(SnapshotError::Inconsistent("completion and status"));
        }
        Ok(Self {
            side: if initiator {
                Side::Initiator
            } else {
                Side::Participant
            },
            me: form.me,
            proposal,
            status,
            acknowledged: form.acknowledged,
            actions,
            completion,
            seen: form.seen.into_iter().collect(),
            evidence: form
                .evidence
                .into_iter()
                .map(|e| (e.evidence, e.size))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Role;
    use crate::testkit::TestNetwork;

    const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

    /// A two-party session signed by both, with both parties' evidence shared: every part
    /// of a snapshot is filled.
    fn full() -> Session {
        let mut net = TestNetwork::new(&["Brand", "Supplier"], &["procurement"], T0);
        let brand = net.nodes[1].party.id();
        let supplier = net.nodes[2].party.id();
        let p = net.proposal(
            &brand,
            &[(supplier, Role::Signer, 0), (brand, Role::Signer, 1)],
            "procurement",
            1,
        );
        let sid = net.propose(p).unwrap();
        net.deliver_all();
        for party in [&supplier, &brand] {
            net.now = net.now.plus(60);
            net.sign(party, sid).unwrap();
            net.deliver_all();
        }
        for party in [&supplier, &brand] {
            net.share_evidence(party, sid).unwrap();
        }
        net.deliver_all();
        let session = net.node(&supplier).sessions[&sid].clone();
        assert!(matches!(session.status(), Status::Completed { .. }));
        assert_eq!(session.evidence().count(), 2);
        session
    }

    #[test]
    fn a_finished_session_with_evidence_round_trips_byte_for_byte() {
        let session = full();
        let bytes = session.snapshot().unwrap();
        let back = Session::restore(&bytes).unwrap();
        assert_eq!(back, session);
        assert_eq!(back.snapshot().unwrap(), bytes);
    }

    #[test]
    fn a_tampered_or_foreign_snapshot_is_refused() {
        let session = full();
        let bytes = session.snapshot().unwrap();
        // A flipped byte inside a signed object breaks its signature (or its encoding).
        let target = session.actions()[0].message.bytes();
        let at = bytes
            .windows(target.len())
            .position(|w| w == target)
            .unwrap()
            + target.len()
            - 1;
        let mut flipped = bytes.clone();
        flipped[at] ^= 1;
        assert!(matches!(
            Session::restore(&flipped),
            Err(SnapshotError::Object { what: "action", .. } | SnapshotError::Encoding(_))
        ));
        // Truncation, and a future layout.
        assert!(matches!(
            Session::restore(&bytes[..bytes.len() - 1]),
            Err(SnapshotError::Encoding(_))
        ));
        let mut form: Form = codec::decode(&bytes, &SNAPSHOT_LIMITS).unwrap();
        form.v = 2;
        assert_eq!(
            Session::restore(&codec::encode(&form).unwrap()),
            Err(SnapshotError::Version(2))
        );
        // A status that contradicts the completion, and an action credited to another party.
        let mut form: Form = codec::decode(&bytes, &SNAPSHOT_LIMITS).unwrap();
        form.status = StatusForm::of(&Status::Open);
        assert_eq!(
            Session::restore(&codec::encode(&form).unwrap()),
            Err(SnapshotError::Inconsistent("completion and status"))
        );
        let mut form: Form = codec::decode(&bytes, &SNAPSHOT_LIMITS).unwrap();
        form.actions[0].party = form.actions[1].party;
        assert_eq!(
            Session::restore(&codec::encode(&form).unwrap()),
            Err(SnapshotError::Inconsistent("an action"))
        );
        // A snapshot claiming the other side of the session.
        let mut form: Form = codec::decode(&bytes, &SNAPSHOT_LIMITS).unwrap();
        form.initiator = !form.initiator;
        assert_eq!(
            Session::restore(&codec::encode(&form).unwrap()),
            Err(SnapshotError::Inconsistent("its party's side"))
        );
    }
}
