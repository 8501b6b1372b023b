//! Session messages: one signed envelope for every step of a signing (spec §8.3).

use ciborium::Value;
use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError};
use crate::codepoint::code_points;
use crate::evidence::PartyEvidence;
use crate::party::PartyId;
use crate::{Digest, Timestamp};

use super::proposal::SessionId;
use super::record::SignatureRecordBytes;

/// Media type of a session message (spec §13.1).
pub const SESSION_MESSAGE_CONTENT_TYPE: &str = "application/vnd.signet.session-message+cbor";

code_points! {
    /// Kinds of session message (spec §13.13).
    pub enum MessageKind {
        /// Initiator → participants: the signed proposal (or a revision of it).
        Propose = 1 => "propose",
        /// Participant → initiator: the proposal was received and seen.
        Acknowledge = 2 => "acknowledge",
        /// Signer → initiator: a signature record.
        Sign = 3 => "sign",
        /// Approver → initiator: approval.
        Approve = 4 => "approve",
        /// Participant → initiator: refusal, ending the session.
        Decline = 5 => "decline",
        /// Initiator → participants: the session is withdrawn.
        Cancel = 6 => "cancel",
        /// Initiator → participants: a reminder to act.
        Remind = 7 => "remind",
        /// Initiator → participants: another participant's action, relayed unchanged.
        Relay = 8 => "relay",
        /// Initiator → participants: every action, in routing order; the session is complete.
        Complete = 9 => "complete",
        /// Any party → the others, after completion: its evidence-log proofs for the session.
        Evidence = 10 => "evidence",
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageBody {
    /// The signed proposal's bytes.
    Propose {
        /// A COSE_Sign1 of type proposal.
        proposal: Vec<u8>,
    },
    /// Acknowledgement.
    Acknowledge,
    /// A signature record.
    Sign(SignatureRecordBytes),
    /// Approval.
    Approve,
    /// Refusal, with a reason.
    Decline {
        /// Why.
        reason: String,
    },
    /// Withdrawal, with a reason.
    Cancel {
        /// Why.
        reason: String,
    },
    /// A reminder.
    Remind {
        /// A note for the participant.
        note: String,
    },
    /// Another participant's signed message (sign, approve or decline), unchanged.
    Relay {
        /// A COSE_Sign1 of type session message.
        message: Vec<u8>,
    },
    /// Every action's signed message, in routing order.
    Complete {
        /// COSE_Sign1s of type session message (sign or approve).
        actions: Vec<Vec<u8>>,
    },
    /// The sender's evidence about this session.
    Evidence(PartyEvidence),
}

impl MessageBody {
    /// The registry kind.
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::Propose { .. } => MessageKind::Propose,
            Self::Acknowledge => MessageKind::Acknowledge,
            Self::Sign(_) => MessageKind::Sign,
            Self::Approve => MessageKind::Approve,
            Self::Decline { .. } => MessageKind::Decline,
            Self::Cancel { .. } => MessageKind::Cancel,
            Self::Remind { .. } => MessageKind::Remind,
            Self::Relay { .. } => MessageKind::Relay,
            Self::Complete { .. } => MessageKind::Complete,
            Self::Evidence(_) => MessageKind::Evidence,
        }
    }
}

/// A session message: the payload of a signed object of type
/// [`SESSION_MESSAGE_CONTENT_TYPE`], signed by one of the sender's node keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MessageWire", into = "MessageWire")]
pub struct SessionMessage {
    /// The session.
    pub session: SessionId,
    /// Digest of the signed proposal (revision) the message is about.
    pub proposal: Digest,
    /// The sender.
    pub from: PartyId,
    /// When the sender sent it.
    pub time: Timestamp,
    /// What it says.
    pub body: MessageBody,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageWire {
    session: SessionId,
    proposal: Digest,
    from: PartyId,
    time: Timestamp,
    kind: MessageKind,
    body: Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposeBody {
    #[serde(with = "crate::cbor_bytes")]
    proposal: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Note {
    note: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelayBody {
    #[serde(with = "crate::cbor_bytes")]
    message: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    #[serde(with = "crate::cbor_bytes::list")]
    actions: Vec<Vec<u8>>,
}

/// Longest reason or note, in bytes.
pub const MAX_REASON_LEN: usize = 1024;

impl TryFrom<MessageWire> for SessionMessage {
    type Error = String;

    fn try_from(wire: MessageWire) -> Result<Self, String> {
        let kind = wire.kind;
        let err = |e: DecodeError| format!("{kind} body: {e}");
        let long = |text: &str| text.len() > MAX_REASON_LEN;
        let body = match kind {
            MessageKind::Propose => {
                let b: ProposeBody = codec::from_value(&wire.body).map_err(err)?;
                MessageBody::Propose {
                    proposal: b.proposal,
                }
            }
            MessageKind::Acknowledge => {
                let _: Empty = codec::from_value(&wire.body).map_err(err)?;
                MessageBody::Acknowledge
            }
            MessageKind::Sign => MessageBody::Sign(codec::from_value(&wire.body).map_err(err)?),
            MessageKind::Approve => {
                let _: Empty = codec::from_value(&wire.body).map_err(err)?;
                MessageBody::Approve
            }
            MessageKind::Decline | MessageKind::Cancel => {
                let b: Reason = codec::from_value(&wire.body).map_err(err)?;
                if long(&b.reason) {
                    return Err(format!("{kind} reason longer than {MAX_REASON_LEN} bytes"));
                }
                if kind == MessageKind::Decline {
                    MessageBody::Decline { reason: b.reason }
                } else {
                    MessageBody::Cancel { reason: b.reason }
                }
            }
            MessageKind::Remind => {
                let b: Note = codec::from_value(&wire.body).map_err(err)?;
                if long(&b.note) {
                    return Err(format!("remind note longer than {MAX_REASON_LEN} bytes"));
                }
                MessageBody::Remind { note: b.note }
            }
            MessageKind::Relay => {
                let b: RelayBody = codec::from_value(&wire.body).map_err(err)?;
                MessageBody::Relay { message: b.message }
            }
            MessageKind::Complete => {
                let b: CompleteBody = codec::from_value(&wire.body).map_err(err)?;
                MessageBody::Complete { actions: b.actions }
            }
            MessageKind::Evidence => {
                MessageBody::Evidence(codec::from_value(&wire.body).map_err(err)?)
            }
            MessageKind::Unknown(code) => {
                return Err(codec::unknown_kind("session message kind", code));
            }
        };
        Ok(Self {
            session: wire.session,
            proposal: wire.proposal,
            from: wire.from,
            time: wire.time,
            body,
        })
    }
}

impl From<SessionMessage> for MessageWire {
    fn from(m: SessionMessage) -> Self {
        let kind = m.body.kind();
        let body = match m.body {
            MessageBody::Propose { proposal } => codec::to_value(&ProposeBody { proposal }),
            MessageBody::Acknowledge | MessageBody::Approve => codec::to_value(&Empty {}),
            MessageBody::Sign(record) => codec::to_value(&record),
            MessageBody::Decline { reason } | MessageBody::Cancel { reason } => {
                codec::to_value(&Reason { reason })
            }
            MessageBody::Remind { note } => codec::to_value(&Note { note }),
            MessageBody::Relay { message } => codec::to_value(&RelayBody { message }),
            MessageBody::Complete { actions } => codec::to_value(&CompleteBody { actions }),
            MessageBody::Evidence(evidence) => codec::to_value(&evidence),
        };
        Self {
            session: m.session,
            proposal: m.proposal,
            from: m.from,
            time: m.time,
            kind,
            // Bodies hold only byte strings, text and arrays, which always convert to a
            // CBOR tree; a null here would fail to decode on the other side anyway.
            body: body.unwrap_or(Value::Null),
        }
    }
}
