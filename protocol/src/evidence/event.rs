//! Evidence events: the entries of a party's evidence log (spec §10.1).
//!
//! An event records one thing the party did or saw in a signing: a proposal sent, a
//! document fetched, an intent given, a signature received, a checkpoint cosigned. It names
//! the session and the digests of the signed objects concerned, never their contents. The
//! log's leaf data is the event's deterministic CBOR encoding, exactly as appended.

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, EncodeError, Limits};
use crate::codepoint::code_points;
use crate::{Digest, Timestamp};

code_points! {
    /// Kinds of evidence events (spec §10.1; registry in spec §13.14).
    pub enum EvidenceKind {
        /// The party sent a signing proposal.
        ProposalSent = 1 => "proposal-sent",
        /// The party received a signing proposal.
        ProposalReceived = 2 => "proposal-received",
        /// The party fetched a document of a session and checked its digest.
        DocumentFetched = 3 => "document-fetched",
        /// A delegate gave an intent proof for a session.
        IntentGiven = 4 => "intent-given",
        /// The party applied a seal: made a signature.
        SignatureMade = 5 => "signature-made",
        /// The party received and checked a counterparty's signature.
        SignatureReceived = 6 => "signature-received",
        /// A participant declined to sign.
        Declined = 7 => "declined",
        /// The initiator cancelled the session.
        Cancelled = 8 => "cancelled",
        /// The session expired before completion.
        Expired = 9 => "expired",
        /// Every required signature is present: the contract is complete.
        Completed = 10 => "completed",
        /// The party accepted an attestation (identity, seal, delegation…) as valid.
        AttestationAccepted = 11 => "attestation-accepted",
        /// The party saw a revocation.
        RevocationSeen = 12 => "revocation-seen",
        /// A witness cosigned one of the party's checkpoints.
        CheckpointCosigned = 13 => "checkpoint-cosigned",
        /// An approver approved (the party's own approval, or one it received and checked).
        Approved = 14 => "approved",
    }
}

/// The most object digests one event may name.
pub const MAX_OBJECTS: usize = 64;

/// The longest note one event may carry, in bytes of UTF-8.
pub const MAX_NOTE_BYTES: usize = 1024;

/// Decoding limits for one encoded event (spec §10.1): well above what the content bounds
/// allow, far below the general message limits.
pub const EVENT_LIMITS: Limits = Limits {
    max_bytes: 4096,
    max_depth: 3,
    max_items: 2 * MAX_OBJECTS + 16,
};

/// Why an evidence event is invalid (spec §10.1). When decoding, it is the fault of whoever
/// supplied the bytes; when appending, the caller's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The bytes are not a deterministic CBOR event within [`EVENT_LIMITS`].
    #[error("cannot decode evidence event: {0}")]
    Decode(#[from] DecodeError),
    /// The bytes decode, but an absent field is spelled out (as null): not the one encoding.
    #[error("evidence event is not in its one encoding")]
    NotCanonical,
    /// More object digests than [`MAX_OBJECTS`].
    #[error("{count} objects, at most {max} allowed")]
    TooManyObjects {
        /// Objects in the event.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A note longer than [`MAX_NOTE_BYTES`].
    #[error("note of {len} bytes, at most {max} allowed")]
    NoteTooLong {
        /// The note's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A kind this implementation does not know: a log only appends kinds it knows.
    #[error("unknown evidence kind {0}")]
    UnknownKind(u64),
    /// The event could not be encoded.
    #[error("cannot encode evidence event: {0}")]
    Encode(#[from] EncodeError),
}

/// One entry of an evidence log (spec §10.1).
///
/// Encoded as a deterministic CBOR map with text keys `kind`, `time`, `objects`, and when
/// present `session` and `note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceEvent {
    /// What happened.
    pub kind: EvidenceKind,
    /// When the party recorded it.
    pub time: Timestamp,
    /// The session it belongs to (a session id is a 32-byte digest), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Digest>,
    /// Digests of the signed objects concerned (proposal, document, signature…).
    pub objects: Vec<Digest>,
    /// A short human-readable remark, such as a reason for declining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl EvidenceEvent {
    /// An event of `kind` at `time` with no session, objects or note.
    pub fn new(kind: EvidenceKind, time: Timestamp) -> Self {
        Self {
            kind,
            time,
            session: None,
            objects: Vec::new(),
            note: None,
        }
    }

    /// The deterministic encoding: the leaf data of the log entry.
    pub fn encode(&self) -> Result<Vec<u8>, EventError> {
        self.check_bounds()?;
        Ok(codec::encode(self)?)
    }

    /// Decodes an entry, refusing anything but the one deterministic encoding of an event
    /// within the bounds. Unknown kinds decode (the registry is open); the reader decides.
    pub fn decode(bytes: &[u8]) -> Result<Self, EventError> {
        let event: Self = codec::decode(bytes, &EVENT_LIMITS)?;
        event.check_bounds()?;
        if codec::encode(&event)? != bytes {
            return Err(EventError::NotCanonical);
        }
        Ok(event)
    }

    fn check_bounds(&self) -> Result<(), EventError> {
        if self.objects.len() > MAX_OBJECTS {
            return Err(EventError::TooManyObjects {
                count: self.objects.len(),
                max: MAX_OBJECTS,
            });
        }
        if let Some(note) = &self.note
            && note.len() > MAX_NOTE_BYTES
        {
            return Err(EventError::NoteTooLong {
                len: note.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> EvidenceEvent {
        EvidenceEvent {
            kind: EvidenceKind::SignatureReceived,
            time: Timestamp::from_unix(1_800_000_000),
            session: Some(Digest::from_bytes([0x11; 32])),
            objects: vec![Digest::from_bytes([0x22; 32])],
            note: Some("ok".into()),
        }
    }

    #[test]
    fn golden_encoding() {
        let bytes = sample().encode().unwrap();
        // Keys in RFC 8949 §4.2.1 order: "kind", "note", "time", "objects", "session".
        assert_eq!(
            hex::encode(&bytes),
            concat!(
                "a5",
                "646b696e64",
                "06",
                "646e6f7465",
                "626f6b",
                "6474696d65",
                "1a6b49d200",
                "676f626a65637473",
                "81",
                "5820",
                "2222222222222222222222222222222222222222222222222222222222222222",
                "6773657373696f6e",
                "5820",
                "1111111111111111111111111111111111111111111111111111111111111111",
            )
        );
        assert_eq!(EvidenceEvent::decode(&bytes).unwrap(), sample());
    }

    #[test]
    fn registry_names_and_codes_are_unique() {
        let mut codes = std::collections::BTreeSet::new();
        for kind in EvidenceKind::KNOWN {
            assert!(codes.insert(kind.code()));
            assert_eq!(EvidenceKind::from_name(kind.name()), Some(*kind));
        }
        assert_eq!(EvidenceKind::KNOWN.len(), 14);
    }

    #[test]
    fn unknown_kinds_decode_and_bounds_hold() {
        let mut event = sample();
        event.kind = EvidenceKind::Unknown(999);
        let bytes = event.encode().unwrap();
        assert_eq!(
            EvidenceEvent::decode(&bytes).unwrap().kind,
            EvidenceKind::Unknown(999)
        );
        let mut event = sample();
        event.objects = vec![Digest::from_bytes([0; 32]); MAX_OBJECTS + 1];
        assert!(matches!(
            event.encode(),
            Err(EventError::TooManyObjects { .. })
        ));
        // Encoded by someone else regardless of the bound: refused on decode.
        let bytes = codec::encode(&event).unwrap();
        assert!(EvidenceEvent::decode(&bytes).is_err());
        let mut event = sample();
        event.note = Some("x".repeat(MAX_NOTE_BYTES + 1));
        assert!(matches!(
            event.encode(),
            Err(EventError::NoteTooLong { .. })
        ));
        let bytes = codec::encode(&event).unwrap();
        assert!(matches!(
            EvidenceEvent::decode(&bytes),
            Err(EventError::NoteTooLong { .. })
        ));
    }

    #[test]
    fn one_encoding_only() {
        // An explicit null for an absent session is another spelling of the same event.
        let mut map = std::collections::BTreeMap::new();
        map.insert("kind", ciborium::Value::Integer(1.into()));
        map.insert("time", ciborium::Value::Integer(5.into()));
        map.insert("objects", ciborium::Value::Array(vec![]));
        let plain = codec::encode(&map).unwrap();
        assert!(EvidenceEvent::decode(&plain).is_ok());
        map.insert("session", ciborium::Value::Null);
        let with_null = codec::encode(&map).unwrap();
        // Refused by the codec (which refuses null outright), or else by the re-encoding check.
        assert!(matches!(
            EvidenceEvent::decode(&with_null),
            Err(EventError::NotCanonical | EventError::Decode(_))
        ));
        map.remove("session");
        map.insert("extra", ciborium::Value::Integer(0.into()));
        assert!(matches!(
            EvidenceEvent::decode(&codec::encode(&map).unwrap()),
            Err(EventError::Decode(DecodeError::Schema { .. }))
        ));
    }

    proptest! {
        #[test]
        fn round_trip(
            kind in 1u64..20,
            time in any::<u64>(),
            session in proptest::option::of(any::<[u8; 32]>()),
            objects in proptest::collection::vec(any::<[u8; 32]>(), 0..5),
            note in proptest::option::of(".{0,40}"),
        ) {
            let event = EvidenceEvent {
                kind: EvidenceKind::from_code(kind),
                time: Timestamp::from_unix(time),
                session: session.map(Digest::from_bytes),
                objects: objects.into_iter().map(Digest::from_bytes).collect(),
                note,
            };
            let bytes = event.encode().unwrap();
            prop_assert_eq!(EvidenceEvent::decode(&bytes).unwrap(), event);
        }

        #[test]
        fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = EvidenceEvent::decode(&bytes);
        }
    }
}
