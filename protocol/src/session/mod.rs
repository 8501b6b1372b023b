//! Signing sessions: one contract's flow from proposal to completion (spec §8).
//!
//! A session starts with a signed [`Proposal`] describing the documents (by digest: document
//! bytes never travel in protocol messages), the participants with their roles and routing
//! order, the contract's purpose and value, the deadline and the evidence required. Every
//! later step is a [`SessionMessage`] signed by the sender's node key and bound to the
//! session and to the exact proposal revision. A signer's [`SignatureRecord`] holds the
//! delegate's intent proof (意愿认证), the seal's signature, and the mandate (delegation) that
//! allowed the delegate to apply the seal; receivers check all of it, plus the signer's
//! identity under their own trust policy. [`Session`] is the state machine for both sides.

mod intent;
mod machine;
mod message;
mod proposal;
mod record;
mod snapshot;

pub use intent::{
    AuthenticatorFlags, INTENT_CONTENT_TYPE, IntentChallenge, IntentError, IntentMethod,
    IntentProof, MAX_AUTHENTICATOR_DATA, MAX_CLIENT_DATA, MAX_INTENT_AGE, WebAuthnAssertion,
    WebAuthnIntent,
};
pub use machine::{
    Action, ActionError, Context, MAX_CLOCK_SKEW, Outbound, Session, SessionError, SessionEvent,
    Side, Status, Step,
};
pub use message::{
    MAX_REASON_LEN, MessageBody, MessageKind, SESSION_MESSAGE_CONTENT_TYPE, SessionMessage,
};
pub use proposal::{
    Algorithms, DocumentRef, EvidenceRequirements, MAX_DOCUMENTS, MAX_PARTICIPANTS,
    MAX_PDF_COORDINATE, PDF_MEDIA_TYPE, PROPOSAL_CONTENT_TYPE, Participant, Proposal,
    ProposalError, Role, SESSION_ID_DOMAIN, SealPlacement, SessionId, SessionNonce,
};
pub use record::{
    Judged, PdfBases, PdfRevision, RecordCheck, RecordCheckKind, RecordError,
    SEAL_SIGNATURE_CONTENT_TYPE, SealSignature, SignatureRecord, SignatureRecordBytes, pdf_bases,
};
pub use snapshot::{SNAPSHOT_LIMITS, SnapshotError};

/// Checks the bundle verifier shares with the state machine.
pub(crate) mod machine_support {
    pub(crate) use super::machine::{check_envelope, decode_message, decode_proposal_with};
}

#[cfg(test)]
mod tests;
