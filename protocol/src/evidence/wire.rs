//! Wire error codes for the evidence layer (spec §13.6).
//!
//! Three faults have no code in the registry yet. Until they are registered, they go out as
//! the numbers below, which decode everywhere as `ErrorCode::Unknown(n)` and become the
//! named codes as soon as the registry gains them (`ErrorCode::from_code` is the lookup).

use crate::error::{ErrorCode, WireError};
use crate::evidence::checkpoint::CheckpointError;
use crate::evidence::cosignature::CosignatureError;
use crate::evidence::event::EventError;
use crate::evidence::merkle::ProofError;
use crate::evidence::note::NoteError;
use crate::evidence::witness::{EquivocationError, WitnessError};

/// Proposed `bad-proof`: an inclusion or consistency proof does not verify.
const BAD_PROOF: ErrorCode = ErrorCode::from_code(700);
/// Proposed `stale-checkpoint`: a checkpoint older than the one the witness last cosigned
/// (C2SP tlog-witness answers 409 Conflict).
const STALE_CHECKPOINT: ErrorCode = ErrorCode::from_code(701);
/// Proposed `equivocation`: the log signed two checkpoints that cannot both be true.
const EQUIVOCATION: ErrorCode = ErrorCode::from_code(702);

impl WireError for NoteError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } | Self::TooManySignatures { .. } => ErrorCode::TooLarge,
            Self::MissingSignature { .. } | Self::BadSignature { .. } => ErrorCode::BadSignature,
            _ => ErrorCode::Malformed,
        }
    }
}

impl WireError for CheckpointError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Note(error) => error.code(),
            Self::WrongOrigin { .. } => ErrorCode::BadSignedObject,
            _ => ErrorCode::Malformed,
        }
    }
}

impl WireError for CosignatureError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Length(_) => ErrorCode::Malformed,
            _ => ErrorCode::BadSignature,
        }
    }
}

impl WireError for ProofError {
    fn code(&self) -> ErrorCode {
        BAD_PROOF
    }
}

impl WireError for EventError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Decode(error) => error.code(),
            Self::TooManyObjects { .. } | Self::NoteTooLong { .. } => ErrorCode::TooLarge,
            Self::UnknownKind(_) => ErrorCode::Unsupported,
            _ => ErrorCode::Malformed,
        }
    }
}

impl WireError for WitnessError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Checkpoint(error) => error.code(),
            Self::BadProof { .. } => BAD_PROOF,
            Self::Rollback { .. } => STALE_CHECKPOINT,
            Self::Equivocation(_) => EQUIVOCATION,
        }
    }
}

impl WireError for EquivocationError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Checkpoint { error, .. } => error.code(),
            _ => BAD_PROOF,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposed_codes_are_free_or_mean_the_same() {
        // Once the registry names these numbers, they must be these faults.
        for (code, name) in [
            (BAD_PROOF, "bad-proof"),
            (STALE_CHECKPOINT, "stale-checkpoint"),
            (EQUIVOCATION, "equivocation"),
        ] {
            assert!(!code.is_known() || code.name() == name, "{code} is taken");
        }
        assert_eq!(
            WitnessError::BadProof {
                last_size: 3,
                error: ProofError::RootMismatch
            }
            .code()
            .code(),
            700
        );
        assert_eq!(
            CheckpointError::Note(NoteError::BadSignature { name: "x".into() }).code(),
            ErrorCode::BadSignature
        );
    }
}
