//! Errors that are the caller's fault, and the wire error-code registry (spec §13.6).
//!
//! Each concern has its own error type, and each separates "the peer or its data is at
//! fault" from "the caller misused the API": the latter is [`UsageError`]. Every error that a
//! peer can cause maps to a stable [`ErrorCode`] in one place, the [`WireError`]
//! implementations in this module, so the node sends the same number for the same fault.

use crate::codec::{DecodeError, EncodeError};
use crate::codepoint::code_points;
use crate::keylog::KeyLogError;

/// The caller asked for something invalid; nothing was produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// The value could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(#[from] EncodeError),
    /// The key event asked for would make the log invalid.
    #[error("the key event would be invalid: {0}")]
    KeyLog(#[from] KeyLogError),
    /// The attestation asked for is invalid as stated.
    #[error("invalid attestation request: {0}")]
    Attestation(&'static str),
    /// The address record asked for is invalid as stated (spec §12.8).
    #[error("invalid address record: {0}")]
    AddressRecord(&'static str),
}

code_points! {
    /// Wire error codes (spec §13.6): what a node tells a peer about why it refused something.
    pub enum ErrorCode {
        /// Bytes are not deterministic CBOR within the limits.
        Malformed = 100 => "malformed",
        /// A message exceeds a size, depth or count limit.
        TooLarge = 101 => "too-large",
        /// Well-formed CBOR that does not match the schema.
        Schema = 102 => "schema",
        /// An unknown kind, algorithm or version.
        Unsupported = 103 => "unsupported",
        /// A COSE structure or header violates the profile.
        BadSignedObject = 200 => "bad-signed-object",
        /// A signature does not verify.
        BadSignature = 201 => "bad-signature",
        /// A key is not authorised for the purpose at the time.
        KeyNotValid = 202 => "key-not-valid",
        /// The connecting peer's key is not a node key of any party the receiver knows.
        UnauthenticatedPeer = 203 => "unauthenticated-peer",
        /// The sender named in a message (its `from` party, or a checkpoint's origin) is not
        /// the party the transport authenticated.
        SenderMismatch = 204 => "sender-mismatch",
        /// A key event log is invalid (gap, reordering, bad chain, signer, pre-rotation).
        InvalidKeyLog = 300 => "invalid-key-log",
        /// A key event log forks: two events at one position.
        KeyLogFork = 301 => "key-log-fork",
        /// An attestation is invalid (content, window, authority).
        InvalidAttestation = 400 => "invalid-attestation",
        /// An attestation or key was revoked.
        Revoked = 401 => "revoked",
        /// A delegation does not cover the use.
        OutsideMandate = 402 => "outside-mandate",
        /// The party is not trusted under the receiver's policy.
        Untrusted = 500 => "untrusted",
        /// Trust cannot be decided with what the receiver knows.
        Indeterminate = 501 => "indeterminate",
        /// The message belongs to another session or revision (a replay).
        WrongSession = 600 => "wrong-session",
        /// The sender may not send this message in this session.
        NotAllowed = 601 => "not-allowed",
        /// The session has ended (completed, declined, cancelled or expired).
        SessionEnded = 602 => "session-ended",
        /// An action out of routing order.
        RoutingOrder = 603 => "routing-order",
        /// A signature record is invalid (binding, intent, seal key, routing commitments).
        InvalidSignature = 604 => "invalid-signature",
        /// A proposal is invalid.
        InvalidProposal = 605 => "invalid-proposal",
        /// The receiver lacks what it needs to check the message yet (a key log): retry later.
        RetryLater = 606 => "retry-later",
        /// A completion lacks actions or holds wrong ones.
        InvalidCompletion = 607 => "invalid-completion",
        /// A Merkle inclusion or consistency proof does not verify.
        BadProof = 700 => "bad-proof",
        /// A checkpoint older than the one the witness holds.
        StaleCheckpoint = 701 => "stale-checkpoint",
        /// Two checkpoints of one log that cannot both be true.
        Equivocation = 702 => "equivocation",
    }
}

/// Errors that map to a wire error code.
pub trait WireError {
    /// The code a node sends for this error.
    fn code(&self) -> ErrorCode;
}

impl WireError for DecodeError {
    fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge { .. }
            | DecodeError::TooDeep { .. }
            | DecodeError::TooManyItems { .. } => ErrorCode::TooLarge,
            DecodeError::Schema { .. } => ErrorCode::Schema,
            DecodeError::UnknownKind { .. } => ErrorCode::Unsupported,
            _ => ErrorCode::Malformed,
        }
    }
}

impl WireError for crate::cose::CoseError {
    fn code(&self) -> ErrorCode {
        use crate::cose::CoseError as E;
        match self {
            E::Encoding(e) | E::Payload(e) | E::ProtectedHeader(e) => e.code(),
            E::UnsupportedAlgorithm(_) => ErrorCode::Unsupported,
            E::BadSignature => ErrorCode::BadSignature,
            _ => ErrorCode::BadSignedObject,
        }
    }
}

impl WireError for KeyLogError {
    fn code(&self) -> ErrorCode {
        match self {
            KeyLogError::Decode { error, .. } => error.code(),
            KeyLogError::Fork { .. } => ErrorCode::KeyLogFork,
            _ => ErrorCode::InvalidKeyLog,
        }
    }
}

impl WireError for crate::keylog::KeyUseError {
    fn code(&self) -> ErrorCode {
        ErrorCode::KeyNotValid
    }
}

impl WireError for crate::attestation::ContentError {
    fn code(&self) -> ErrorCode {
        use crate::attestation::ContentError as E;
        match self {
            E::UnknownKind(_) | E::UnknownCode(_) => ErrorCode::Unsupported,
            E::Claims(e) => e.code(),
            _ => ErrorCode::InvalidAttestation,
        }
    }
}

impl WireError for crate::attestation::MandateError {
    fn code(&self) -> ErrorCode {
        use crate::attestation::MandateError as E;
        match self {
            E::Revoked { .. } => ErrorCode::Revoked,
            E::IssuerKey(_) | E::SealKey(_) => ErrorCode::KeyNotValid,
            E::UnknownParty(_) => ErrorCode::RetryLater,
            _ => ErrorCode::OutsideMandate,
        }
    }
}

impl WireError for crate::session::IntentError {
    fn code(&self) -> ErrorCode {
        use crate::session::IntentError as E;
        match self {
            E::Cose(e) => e.code(),
            E::Encoding(e) | E::Challenge(e) => e.code(),
            E::Credential(_) => ErrorCode::Schema,
            E::BadSignature => ErrorCode::BadSignature,
            // The signed parts do not bind the assertion to this challenge and party.
            E::AuthenticatorData(_) | E::ClientData(_) => ErrorCode::BadSignedObject,
        }
    }
}

impl WireError for crate::session::RecordError {
    fn code(&self) -> ErrorCode {
        use crate::session::RecordError as E;
        match self {
            E::SealSignatureObject(e) | E::DelegationObject(e) => e.code(),
            E::IntentObject(e) => e.code(),
            E::UnknownKeyLog(_) => ErrorCode::RetryLater,
            E::SealKey(e) => e.code(),
            E::SealRevoked(_) => ErrorCode::Revoked,
            // Live receivers never judge with a later proof time; an old revocation list is
            // news to come (the sender retries once the signer's fresh list has arrived).
            E::NoProofBeforeRetirement { .. } | E::NoProofBeforeRevocation { .. } => {
                ErrorCode::Indeterminate
            }
            E::StaleRevocationStatus { .. } => ErrorCode::Indeterminate,
            E::Mandate(e) => e.code(),
            E::Untrusted { verdict, .. } => verdict.refusal_code().unwrap_or(ErrorCode::Untrusted),
            _ => ErrorCode::InvalidSignature,
        }
    }
}

impl WireError for crate::session::SessionError {
    fn code(&self) -> ErrorCode {
        use crate::session::SessionError as E;
        match self {
            E::Message(e) | E::ProposalObject(e) => e.code(),
            E::Proposal(_) | E::ProposalFrozen(_) => ErrorCode::InvalidProposal,
            E::WrongSession { .. } | E::WrongRevision => ErrorCode::WrongSession,
            E::NotAllowed { .. } | E::AlreadyActed(_) | E::Time(_) => ErrorCode::NotAllowed,
            E::UnknownKeyLog(_) => ErrorCode::RetryLater,
            E::SenderKey(e) => e.code(),
            E::Ended(_) | E::Expired(_) => ErrorCode::SessionEnded,
            E::RoutingOrder { .. } => ErrorCode::RoutingOrder,
            E::Record { error, .. } => error.code(),
            E::Completion(_) => ErrorCode::InvalidCompletion,
            E::Evidence(e) => match e {
                crate::evidence::PartyEvidenceError::Inclusion { .. } => ErrorCode::BadProof,
                crate::evidence::PartyEvidenceError::Checkpoint(_) => ErrorCode::BadSignature,
                _ => ErrorCode::Malformed,
            },
            E::EvidenceScope => ErrorCode::NotAllowed,
            E::Untrusted { verdict, .. } => verdict.refusal_code().unwrap_or(ErrorCode::Untrusted),
        }
    }
}

impl crate::trust::Verdict {
    /// The code a node sends when it refuses a party for this verdict; None if Trusted.
    pub fn refusal_code(&self) -> Option<ErrorCode> {
        match self {
            Self::Trusted { .. } => None,
            Self::Untrusted { .. } => Some(ErrorCode::Untrusted),
            Self::Indeterminate { .. } => Some(ErrorCode::Indeterminate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::KNOWN {
            assert!(seen.insert(code.code()), "{code} reused");
            assert_eq!(ErrorCode::from_code(code.code()), *code);
            assert_eq!(ErrorCode::from_name(code.name()), Some(*code));
        }
    }

    #[test]
    fn limits_map_to_too_large() {
        let e = DecodeError::TooDeep { offset: 0, max: 16 };
        assert_eq!(e.code(), ErrorCode::TooLarge);
        assert_eq!(
            DecodeError::NonMinimal { offset: 0 }.code(),
            ErrorCode::Malformed
        );
    }
}
