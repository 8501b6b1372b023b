//! Wire error codes for the evidence layer (spec §13.6).

use crate::error::{ErrorCode, WireError};
use crate::evidence::checkpoint::CheckpointError;
use crate::evidence::cosignature::CosignatureError;
use crate::evidence::event::EventError;
use crate::evidence::merkle::ProofError;
use crate::evidence::note::NoteError;
use crate::evidence::witness::{EquivocationError, WitnessError};

/// An inclusion or consistency proof does not verify.
const BAD_PROOF: ErrorCode = ErrorCode::BadProof;
/// A checkpoint older than the one the witness last cosigned (C2SP tlog-witness answers
/// 409 Conflict).
const STALE_CHECKPOINT: ErrorCode = ErrorCode::StaleCheckpoint;
/// The log signed two checkpoints that cannot both be true.
const EQUIVOCATION: ErrorCode = ErrorCode::Equivocation;

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
    fn evidence_faults_have_their_registry_codes() {
        for (code, number, name) in [
            (BAD_PROOF, 700, "bad-proof"),
            (STALE_CHECKPOINT, 701, "stale-checkpoint"),
            (EQUIVOCATION, 702, "equivocation"),
        ] {
            assert_eq!((code.code(), code.name()), (number, name));
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
