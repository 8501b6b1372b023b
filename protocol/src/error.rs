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
            E::UnknownParty(_) => ErrorCode::Indeterminate,
            _ => ErrorCode::OutsideMandate,
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
