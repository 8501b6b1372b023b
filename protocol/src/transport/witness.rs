//! The witness protocol (spec §10.5.4): how a log asks a witness for a cosignature, and how
//! the witness answers.
//!
//! A **witness message** is a deterministic CBOR map (CDDL `witness-message`) with a `kind`
//! (registry `witness-message-kind`, spec §13.18) that selects its fields:
//!
//! | kind | message | fields |
//! | --- | --- | --- |
//! | 1 | [`CosignRequest`] | `note` (the signed checkpoint), `proof` (consistency from the size the log believes the witness holds) |
//! | 2 | [`Cosigned`] | `checkpoint` (SHA-256 of the request's note), `cosignature` (the witness's signature line) |
//! | 3 | [`Refused`] | `checkpoint`, `code` (wire error code), optional `last_size`, `reason`, `equivocation` |
//!
//! Nothing here is signed as a whole: the transport authenticates both ends (spec §12.3),
//! the request's note carries the log's signature, a cosignature line is the witness's
//! signature, and equivocation evidence convinces on its own. A refusal's other fields are
//! hints whose only effect is a new request; see spec §10.5.4 for why that suffices.
//!
//! [`answer`] is what a witness does with a request: it checks that the checkpoint is the
//! requesting party's, finds the `log` key that signed it and runs [`Witness::cosign`].
//!
//! ```
//! use signet_protocol::evidence::{EvidenceEvent, EvidenceKind, EvidenceLog, Witness};
//! use signet_protocol::testkit::TestParty;
//! use signet_protocol::transport::witness::{CosignRequest, WitnessMessage, answer};
//! use signet_protocol::{SecretKey, Timestamp};
//!
//! let now = Timestamp::from_unix(1_800_000_000);
//! let party = TestParty::new("Example Supplier", now);
//! let mut log = EvidenceLog::new();
//! log.append(&EvidenceEvent::new(EvidenceKind::SignatureMade, now))?;
//! let checkpoint = log.checkpoint(&party.id(), &party.log_key);
//!
//! // The log's node sends a request; the witness's node decodes it and answers.
//! let request = WitnessMessage::CosignRequest(CosignRequest::new(&checkpoint, vec![]));
//! let bytes = request.encode()?;
//! let WitnessMessage::CosignRequest(received) = WitnessMessage::decode(&bytes)? else {
//!     panic!("a request");
//! };
//! let mut witness = Witness::new("signet.witness/example", SecretKey::from_seed(&[5; 32]))?;
//! let reply = answer(&mut witness, &party.id(), &[party.log_key.public_key()], &received, now);
//!
//! // Back at the log: the cosignature is added and verified.
//! let WitnessMessage::Cosigned(cosigned) = WitnessMessage::decode(&reply.encode()?)? else {
//!     panic!("cosigned");
//! };
//! let with = cosigned.add_to(&checkpoint, witness.name(), &[witness.public_key()])?;
//! assert_eq!(with.cosignature_by(witness.name(), &witness.public_key())?, now);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, EncodeError, Limits};
use crate::codepoint::code_points;
use crate::error::{ErrorCode, WireError};
use crate::evidence::checkpoint::{Checkpoint, SignedCheckpoint, evidence_origin};
use crate::evidence::cosignature::{Cosignature, CosignatureError};
use crate::evidence::note::{MAX_NOTE_BYTES, NoteError, NoteSignature};
use crate::evidence::witness::{Equivocation, Witness, WitnessError};
use crate::party::PartyId;
use crate::{Digest, PublicKey, Timestamp};

/// The largest encoded witness message, in bytes.
pub const MAX_WITNESS_MESSAGE: usize = 40 * 1024;
/// The most hashes in a request's consistency proof (spec §10.3).
pub const MAX_PROOF_HASHES: usize = 65;
/// The longest `reason` of a refusal, in bytes.
pub const MAX_REASON_BYTES: usize = 1024;

/// Decoding limits of a witness message: the map, its proof array, the hashes in it.
pub const WITNESS_MESSAGE_LIMITS: Limits = Limits {
    max_bytes: MAX_WITNESS_MESSAGE,
    max_depth: 3,
    max_items: 80,
};

code_points! {
    /// The kind of a witness message (spec §13.18).
    pub enum WitnessMessageKind {
        /// A log asks a witness to cosign a checkpoint.
        CosignRequest = 1 => "cosign-request",
        /// The witness cosigned: its cosignature line.
        Cosigned = 2 => "cosigned",
        /// The witness did not cosign: why, and what it holds.
        Refused = 3 => "refused",
    }
}

/// A request to cosign a checkpoint (spec §10.5.4), kind 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignRequest {
    /// The signed checkpoint note (section 10.4.2), with the log's own signature line.
    pub note: String,
    /// A consistency proof (section 10.3) from the size the log believes the witness last
    /// cosigned (0 if none) to the note's size.
    pub proof: Vec<Digest>,
}

impl CosignRequest {
    /// A request for `checkpoint` (its note with the log's signature only).
    pub fn new(checkpoint: &SignedCheckpoint, proof: Vec<Digest>) -> Self {
        Self {
            note: checkpoint.note().to_text(),
            proof,
        }
    }

    /// The digest that names this request's checkpoint in the answer: SHA-256 of the note.
    pub fn checkpoint_digest(&self) -> Digest {
        Digest::of(self.note.as_bytes())
    }
}

/// The witness cosigned (spec §10.5.4), kind 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// SHA-256 of the request's note.
    pub checkpoint: Digest,
    /// The cosignature (C2SP `tlog-cosignature`), not yet verified.
    pub cosignature: Cosignature,
}

/// Why an answer cannot be added to the checkpoint it is for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The answer names another checkpoint than the one given.
    #[error("the answer is for another checkpoint")]
    OtherCheckpoint,
    /// The cosignature is by another key name than the witness's.
    #[error("the cosignature is by {found}, not by {expected}")]
    OtherWitness {
        /// The witness's key name.
        expected: String,
        /// The name in the line.
        found: String,
    },
    /// The line cannot be added to the note.
    #[error("{0}")]
    Note(#[from] NoteError),
    /// The cosignature does not verify with any of the witness's keys.
    #[error("{0}")]
    Cosignature(#[from] CosignatureError),
}

impl Cosigned {
    /// `checkpoint` (the one requested, with the log's signature) with this cosignature
    /// added, once it verifies as the witness `witness_name`'s with one of `witness_keys`
    /// (the `log` keys of the witness's key event log).
    pub fn add_to(
        &self,
        checkpoint: &SignedCheckpoint,
        witness_name: &str,
        witness_keys: &[PublicKey],
    ) -> Result<SignedCheckpoint, AnswerError> {
        if Digest::of(checkpoint.note().to_text().as_bytes()) != self.checkpoint {
            return Err(AnswerError::OtherCheckpoint);
        }
        if self.cosignature.name() != witness_name {
            return Err(AnswerError::OtherWitness {
                expected: witness_name.to_string(),
                found: self.cosignature.name().to_string(),
            });
        }
        let mut with = checkpoint.clone();
        with.add_cosignature(&self.cosignature)?;
        let mut last = CosignatureError::Missing;
        for key in witness_keys {
            match with.cosignature_by(witness_name, key) {
                Ok(_) => return Ok(with),
                Err(e) => last = e,
            }
        }
        Err(last.into())
    }
}

/// The witness did not cosign (spec §10.5.4), kind 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// SHA-256 of the request's note.
    pub checkpoint: Digest,
    /// Why, as a wire error code (section 13.6).
    pub code: ErrorCode,
    /// The size of the last checkpoint the witness cosigned for the note's origin, if it
    /// holds one.
    pub last_size: Option<u64>,
    /// A reason for the operator, at most [`MAX_REASON_BYTES`].
    pub reason: Option<String>,
    /// Evidence that the log equivocated (section 10.5.3): present exactly when `code` is
    /// `equivocation` (702).
    pub equivocation: Option<Equivocation>,
}

/// A witness message (spec §10.5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessMessage {
    /// Kind 1.
    CosignRequest(CosignRequest),
    /// Kind 2.
    Cosigned(Cosigned),
    /// Kind 3.
    Refused(Refused),
}

/// Why bytes are not a witness message (spec §10.5.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessMessageError {
    /// Not deterministic CBOR within the limits, or not the schema's map.
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// A kind this implementation does not know.
    #[error("unknown witness message kind {0}")]
    UnknownKind(u64),
    /// The fields are not exactly those of the kind.
    #[error("the fields are not those of a {0} message")]
    Fields(WitnessMessageKind),
    /// More than [`MAX_PROOF_HASHES`] hashes in the proof.
    #[error("a proof of {0} hashes")]
    ProofTooLong(usize),
    /// A note larger than a signed note may be.
    #[error("a note of {0} bytes")]
    NoteTooLarge(usize),
    /// A reason longer than [`MAX_REASON_BYTES`].
    #[error("a reason of {0} bytes")]
    ReasonTooLong(usize),
    /// The cosignature is not one signature line.
    #[error("cosignature line: {0}")]
    CosignatureLine(NoteError),
    /// The cosignature line does not hold a cosignature.
    #[error("cosignature: {0}")]
    Cosignature(CosignatureError),
    /// The equivocation evidence does not decode.
    #[error("equivocation evidence: {0}")]
    Equivocation(DecodeError),
    /// Equivocation evidence without the code `equivocation`, or that code without it.
    #[error("equivocation evidence goes with the code equivocation, and only with it")]
    EquivocationCode,
}

impl WireError for WitnessMessageError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) | Self::Equivocation(e) => e.code(),
            Self::UnknownKind(_) => ErrorCode::Unsupported,
            Self::Fields(_) | Self::EquivocationCode => ErrorCode::Schema,
            Self::ProofTooLong(_) | Self::NoteTooLarge(_) | Self::ReasonTooLong(_) => {
                ErrorCode::TooLarge
            }
            Self::CosignatureLine(e) => e.code(),
            Self::Cosignature(e) => e.code(),
        }
    }
}

/// A CBOR byte string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Bytes(#[serde(with = "crate::cbor_bytes")] Vec<u8>);

/// The map on the wire: every field of every kind, each optional (absent, never null).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    kind: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proof: Option<Vec<Digest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkpoint: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cosignature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<ErrorCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equivocation: Option<Bytes>,
}

impl WitnessMessage {
    /// The message's kind.
    pub fn kind(&self) -> WitnessMessageKind {
        match self {
            Self::CosignRequest(_) => WitnessMessageKind::CosignRequest,
            Self::Cosigned(_) => WitnessMessageKind::Cosigned,
            Self::Refused(_) => WitnessMessageKind::Refused,
        }
    }

    /// The deterministic encoding (spec §10.5.4).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let kind = self.kind().code();
        let wire = match self {
            Self::CosignRequest(r) => Wire {
                kind,
                note: Some(r.note.clone()),
                proof: Some(r.proof.clone()),
                ..Wire::default()
            },
            Self::Cosigned(c) => Wire {
                kind,
                checkpoint: Some(c.checkpoint),
                cosignature: Some(c.cosignature.line()),
                ..Wire::default()
            },
            Self::Refused(r) => Wire {
                kind,
                checkpoint: Some(r.checkpoint),
                code: Some(r.code),
                last_size: r.last_size,
                reason: r.reason.clone(),
                equivocation: r
                    .equivocation
                    .as_ref()
                    .map(|e| e.encode().map(Bytes))
                    .transpose()?,
                ..Wire::default()
            },
        };
        codec::encode(&wire)
    }

    /// Decodes a witness message within [`WITNESS_MESSAGE_LIMITS`], refusing one whose
    /// fields are not exactly its kind's, or out of bounds.
    pub fn decode(bytes: &[u8]) -> Result<Self, WitnessMessageError> {
        let wire: Wire = codec::decode(bytes, &WITNESS_MESSAGE_LIMITS)?;
        let kind = WitnessMessageKind::from_code(wire.kind);
        let fields = WitnessMessageError::Fields(kind);
        match (kind, wire) {
            (WitnessMessageKind::Unknown(code), _) => Err(WitnessMessageError::UnknownKind(code)),
            (
                WitnessMessageKind::CosignRequest,
                Wire {
                    note: Some(note),
                    proof: Some(proof),
                    checkpoint: None,
                    cosignature: None,
                    code: None,
                    last_size: None,
                    reason: None,
                    equivocation: None,
                    ..
                },
            ) => {
                if note.len() > MAX_NOTE_BYTES {
                    return Err(WitnessMessageError::NoteTooLarge(note.len()));
                }
                if proof.len() > MAX_PROOF_HASHES {
                    return Err(WitnessMessageError::ProofTooLong(proof.len()));
                }
                Ok(Self::CosignRequest(CosignRequest { note, proof }))
            }
            (
                WitnessMessageKind::Cosigned,
                Wire {
                    note: None,
                    proof: None,
                    checkpoint: Some(checkpoint),
                    cosignature: Some(line),
                    code: None,
                    last_size: None,
                    reason: None,
                    equivocation: None,
                    ..
                },
            ) => {
                let line =
                    NoteSignature::parse(&line).map_err(WitnessMessageError::CosignatureLine)?;
                let cosignature = Cosignature::from_note_signature(&line)
                    .map_err(WitnessMessageError::Cosignature)?;
                Ok(Self::Cosigned(Cosigned {
                    checkpoint,
                    cosignature,
                }))
            }
            (
                WitnessMessageKind::Refused,
                Wire {
                    note: None,
                    proof: None,
                    checkpoint: Some(checkpoint),
                    cosignature: None,
                    code: Some(code),
                    last_size,
                    reason,
                    equivocation,
                    ..
                },
            ) => {
                if let Some(reason) = &reason
                    && reason.len() > MAX_REASON_BYTES
                {
                    return Err(WitnessMessageError::ReasonTooLong(reason.len()));
                }
                if equivocation.is_some() != (code == ErrorCode::Equivocation) {
                    return Err(WitnessMessageError::EquivocationCode);
                }
                let equivocation = equivocation
                    .map(|Bytes(b)| Equivocation::decode(&b))
                    .transpose()
                    .map_err(WitnessMessageError::Equivocation)?;
                Ok(Self::Refused(Refused {
                    checkpoint,
                    code,
                    last_size,
                    reason,
                    equivocation,
                }))
            }
            _ => Err(fields),
        }
    }
}

/// What a witness answers to `request` from a node authenticated as `requester`, at `now`
/// (spec §10.5.4): [`WitnessMessage::Cosigned`] or [`WitnessMessage::Refused`].
///
/// `log_keys` are the `log` keys of the requester's key event log as the witness holds it
/// (every one it ever declared; the checkpoint's signer is found among them). The
/// witness's state changes only when it cosigns; the caller stores the checkpoint it
/// cosigned ([`Witness::latest`]) before it sends the answer.
pub fn answer(
    witness: &mut Witness,
    requester: &PartyId,
    log_keys: &[PublicKey],
    request: &CosignRequest,
    now: Timestamp,
) -> WitnessMessage {
    let note = request.note.as_bytes();
    let refuse = |code: ErrorCode, last_size: Option<u64>, reason: String| {
        WitnessMessage::Refused(Refused {
            checkpoint: request.checkpoint_digest(),
            code,
            last_size,
            reason: Some(truncate(reason)),
            equivocation: None,
        })
    };
    let origin = match Checkpoint::from_note_unverified(note) {
        Ok(c) => c.origin().to_string(),
        Err(e) => return refuse(e.code(), None, format!("not a checkpoint: {e}")),
    };
    if origin != evidence_origin(requester) {
        return refuse(
            ErrorCode::SenderMismatch,
            None,
            "the checkpoint's origin is not the requesting party's log".into(),
        );
    }
    let last_size = witness.latest(&origin).map(|c| c.checkpoint().size());
    let mut signer = None;
    let mut failure = None;
    for key in log_keys {
        match SignedCheckpoint::verify(note, &origin, key) {
            Ok(_) => {
                signer = Some(*key);
                break;
            }
            Err(e) => failure = Some(e),
        }
    }
    let Some(key) = signer else {
        return match failure {
            Some(e) => refuse(e.code(), last_size, format!("checkpoint: {e}")),
            None => refuse(
                ErrorCode::RetryLater,
                last_size,
                "the witness holds no log key of the party".into(),
            ),
        };
    };
    match witness.cosign(note, &key, &request.proof, now) {
        Ok(cosignature) => WitnessMessage::Cosigned(Cosigned {
            checkpoint: request.checkpoint_digest(),
            cosignature,
        }),
        Err(error) => {
            let equivocation = match &error {
                WitnessError::Equivocation(evidence) => Some((**evidence).clone()),
                _ => None,
            };
            WitnessMessage::Refused(Refused {
                checkpoint: request.checkpoint_digest(),
                code: error.code(),
                last_size,
                reason: Some(truncate(error.to_string())),
                equivocation,
            })
        }
    }
}

/// `reason` cut to at most [`MAX_REASON_BYTES`], on a character boundary.
fn truncate(mut reason: String) -> String {
    if reason.len() > MAX_REASON_BYTES {
        let mut end = MAX_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use crate::evidence::event::{EvidenceEvent, EvidenceKind};
    use crate::evidence::log::EvidenceLog;
    use crate::testkit::TestParty;
    use proptest::prelude::*;

    const T0: u64 = 1_800_000_000;

    fn setup() -> (TestParty, EvidenceLog, Witness) {
        let now = Timestamp::from_unix(T0);
        let party = TestParty::new("Witnessed Co", now);
        let mut log = EvidenceLog::new();
        for i in 0..5 {
            log.append(&EvidenceEvent::new(
                EvidenceKind::SignatureMade,
                now.plus(i),
            ))
            .unwrap();
        }
        let witness = Witness::new("signet.witness/w", SecretKey::from_seed(&[7; 32])).unwrap();
        (party, log, witness)
    }

    fn request(party: &TestParty, log: &EvidenceLog, size: u64, from: u64) -> CosignRequest {
        let checkpoint = log
            .checkpoint_at(size, &party.id(), &party.log_key)
            .unwrap();
        let proof = log.consistency_proof(from, size).unwrap();
        CosignRequest::new(&checkpoint, proof)
    }

    fn round_trip(m: &WitnessMessage) {
        let bytes = m.encode().unwrap();
        assert_eq!(&WitnessMessage::decode(&bytes).unwrap(), m);
        assert!(WitnessMessage::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(WitnessMessage::decode(&trailing).is_err());
    }

    #[test]
    fn a_witness_cosigns_extends_and_refuses_with_its_size() {
        let (party, log, mut witness) = setup();
        let keys = [party.log_key.public_key()];
        let now = Timestamp::from_unix(T0 + 10);
        let first = request(&party, &log, 3, 0);
        let WitnessMessage::Cosigned(c) = answer(&mut witness, &party.id(), &keys, &first, now)
        else {
            panic!("cosigned");
        };
        assert_eq!(c.checkpoint, first.checkpoint_digest());
        round_trip(&WitnessMessage::Cosigned(c.clone()));
        // The same request again (a lost answer): cosigned again.
        assert!(matches!(
            answer(&mut witness, &party.id(), &keys, &first, now),
            WitnessMessage::Cosigned(_)
        ));
        // A proof from the wrong size: refused with the size the witness holds.
        let wrong = request(&party, &log, 5, 1);
        let WitnessMessage::Refused(r) = answer(&mut witness, &party.id(), &keys, &wrong, now)
        else {
            panic!("refused");
        };
        assert_eq!((r.code, r.last_size), (ErrorCode::BadProof, Some(3)));
        round_trip(&WitnessMessage::Refused(r));
        let right = request(&party, &log, 5, 3);
        assert!(matches!(
            answer(&mut witness, &party.id(), &keys, &right, now),
            WitnessMessage::Cosigned(_)
        ));
        // Another party's checkpoint: sender-mismatch; a wrong key: bad-signature.
        let other = TestParty::new("Other Co", Timestamp::from_unix(T0));
        let WitnessMessage::Refused(r) = answer(&mut witness, &other.id(), &keys, &right, now)
        else {
            panic!("refused");
        };
        assert_eq!(r.code, ErrorCode::SenderMismatch);
        let WitnessMessage::Refused(r) = answer(
            &mut witness,
            &party.id(),
            &[party.node.public_key()],
            &right,
            now,
        ) else {
            panic!("refused");
        };
        assert_eq!(r.code, ErrorCode::BadSignature);
        let WitnessMessage::Refused(r) = answer(&mut witness, &party.id(), &[], &right, now) else {
            panic!("refused");
        };
        assert_eq!(r.code, ErrorCode::RetryLater);
    }

    #[test]
    fn the_requester_adds_only_a_verified_cosignature_for_its_checkpoint() {
        let (party, log, mut witness) = setup();
        let keys = [party.log_key.public_key()];
        let now = Timestamp::from_unix(T0 + 10);
        let checkpoint = log.checkpoint_at(2, &party.id(), &party.log_key).unwrap();
        let req = CosignRequest::new(&checkpoint, log.consistency_proof(0, 2).unwrap());
        let WitnessMessage::Cosigned(c) = answer(&mut witness, &party.id(), &keys, &req, now)
        else {
            panic!("cosigned");
        };
        let wk = [witness.public_key()];
        let with = c.add_to(&checkpoint, witness.name(), &wk).unwrap();
        assert_eq!(with.cosignature_by(witness.name(), &wk[0]).unwrap(), now);
        let other = log.checkpoint_at(3, &party.id(), &party.log_key).unwrap();
        assert_eq!(
            c.add_to(&other, witness.name(), &wk),
            Err(AnswerError::OtherCheckpoint)
        );
        assert!(matches!(
            c.add_to(&checkpoint, "signet.witness/x", &wk),
            Err(AnswerError::OtherWitness { .. })
        ));
        assert!(matches!(
            c.add_to(&checkpoint, witness.name(), &keys),
            Err(AnswerError::Cosignature(_))
        ));
    }

    fn map(entries: Vec<(&str, ciborium::Value)>) -> Vec<u8> {
        let value = ciborium::Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (ciborium::Value::Text(k.into()), v))
                .collect(),
        );
        codec::encode(&value).unwrap()
    }

    #[test]
    fn wrong_kinds_and_fields_are_refused_with_their_codes() {
        use ciborium::Value as V;
        let code = |bytes: &[u8]| WitnessMessage::decode(bytes).unwrap_err().code();
        let digest = V::Bytes(vec![0; 32]);
        assert_eq!(
            code(&map(vec![("kind", V::Integer(9.into()))])),
            ErrorCode::Unsupported
        );
        assert_eq!(
            code(&map(vec![
                ("kind", V::Integer(2.into())),
                ("note", V::Text("x".into())),
                ("proof", V::Array(vec![])),
            ])),
            ErrorCode::Schema
        );
        assert_eq!(
            code(&map(vec![
                ("kind", V::Integer(1.into())),
                ("note", V::Text("x".into())),
                ("proof", V::Array(vec![])),
                ("extra", V::Integer(1.into())),
            ])),
            ErrorCode::Schema
        );
        assert_eq!(
            code(&map(vec![
                ("kind", V::Integer(1.into())),
                ("note", V::Text("x".into())),
                ("proof", V::Array(vec![digest.clone(); 66])),
            ])),
            ErrorCode::TooLarge
        );
        assert_eq!(
            code(&map(vec![
                ("kind", V::Integer(3.into())),
                ("checkpoint", digest.clone()),
                ("code", V::Integer(702.into())),
            ])),
            ErrorCode::Schema
        );
        assert_eq!(
            code(&map(vec![
                ("kind", V::Integer(2.into())),
                ("checkpoint", digest),
                ("cosignature", V::Text("— w AAAAAAA=\n".into())),
            ])),
            ErrorCode::Malformed
        );
        assert_eq!(code(&[0xa1, 0x64]), ErrorCode::Malformed);
        assert_eq!(
            code(&vec![0u8; MAX_WITNESS_MESSAGE + 1]),
            ErrorCode::TooLarge
        );
    }

    proptest! {
        #[test]
        fn decoding_never_panics_and_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(m) = WitnessMessage::decode(&bytes) {
                prop_assert_eq!(m.encode().unwrap(), bytes);
            }
        }

        #[test]
        fn requests_round_trip(note in "[a-z0-9/\n]{1,200}", n in 0usize..=MAX_PROOF_HASHES) {
            let m = WitnessMessage::CosignRequest(CosignRequest {
                note,
                proof: (0..n).map(|i| Digest::of(&i.to_be_bytes())).collect(),
            });
            prop_assert_eq!(WitnessMessage::decode(&m.encode().unwrap()).unwrap(), m);
        }
    }
}
