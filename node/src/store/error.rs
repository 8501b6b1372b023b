//! Storage errors.

use std::fmt;

/// A storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage engine failed (I/O error, or corruption it detected).
    #[error("storage engine failed: {0}")]
    Backend(#[from] BackendError),
    /// A stored record does not decode: the data is corrupt or from an incompatible version.
    #[error("corrupt record in {table}: {reason}")]
    Corrupt {
        /// Which table.
        table: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An append named a position other than the next one (caller error, or a lost race).
    #[error("append out of order in {table}: the next index is {expected}, not {got}")]
    OutOfOrder {
        /// Which table.
        table: &'static str,
        /// The next free index.
        expected: u64,
        /// The index asked for.
        got: u64,
    },
    /// A session status name is too long or holds a NUL byte (caller error).
    #[error("invalid session status name {status:?}")]
    InvalidStatus {
        /// The (truncated) name.
        status: String,
    },
    /// A document exceeds the size the store accepts.
    #[error("document too large: more than {max_chunks} chunks")]
    DocumentTooLarge {
        /// The chunk limit.
        max_chunks: usize,
    },
    /// A chunk read back does not match its digest, or is missing although its document's
    /// manifest names it.
    #[error("document chunk {index} of {document} is missing or corrupt")]
    BadChunk {
        /// The document's digest, hex.
        document: String,
        /// The chunk's index.
        index: u64,
    },
    /// A document's bytes do not have the digest they were expected to have.
    #[error("document digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The expected digest, hex.
        expected: String,
        /// The digest of the bytes written, hex.
        actual: String,
    },
    /// A database URL (or connection string) does not parse (configuration error).
    #[error("invalid database URL: {reason}")]
    BadUrl {
        /// What is wrong with it (never the password).
        reason: String,
    },
    /// This process no longer holds its party's lease on the database: another process
    /// took it (see [`super::PartyLease`]), so this one may write nothing more. Nothing of
    /// the refused write was committed.
    #[error(
        "the party's lease on the database was taken over (epoch {current}; this process held {held}): this process may write no more"
    )]
    Fenced {
        /// The lease epoch this process took.
        held: u64,
        /// The epoch now.
        current: u64,
    },
    /// Reading the document source failed.
    #[error("reading the document source failed: {0}")]
    Source(#[source] std::io::Error),
}

/// An error from the storage engine, kept opaque so that the engine's version does not leak
/// into this crate's API.
pub struct BackendError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl BackendError {
    /// Wraps an engine's error (for [`super::Store`] implementations outside this crate).
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(error))
    }
}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        Self::Backend(BackendError::new(error))
    }
}

impl From<postgres::Error> for StoreError {
    fn from(error: postgres::Error) -> Self {
        Self::Backend(BackendError::new(error))
    }
}

impl From<StoreError> for std::io::Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Source(e) => e,
            other => std::io::Error::other(other),
        }
    }
}
