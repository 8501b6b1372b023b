//! Key events: the signed entries of a key event log (spec §4.2).

use ciborium::Value;
use serde::{Deserialize, Serialize};

use super::algorithm::{EcdsaP256Key, LogKey};
use crate::codec;
use crate::codepoint::code_points;
use crate::party::PartyId;
use crate::seal::SealInfo;
use crate::{Digest, PublicKey, SecretKey, Signature, Timestamp};

/// Media type of a key event (the COSE content type, spec §13.1).
pub const KEY_EVENT_CONTENT_TYPE: &str = "application/vnd.signet.key-event+cbor";

code_points! {
    /// Kinds of key events (spec §13.3).
    pub enum KeyEventKind {
        /// Creates the party.
        Inception = 1 => "inception",
        /// Replaces the root key with the pre-committed one.
        Rotation = 2 => "rotation",
        /// Adds a node, seal, attestation or log key.
        AddKey = 3 => "add-key",
        /// Retires a non-root key.
        RetireKey = 4 => "retire-key",
        /// Ends the party: no key is valid afterwards.
        RetireParty = 5 => "retire-party",
    }
}

code_points! {
    /// What a key may be used for (spec §13.4).
    pub enum KeyPurpose {
        /// Signs key events. Exactly one at a time; changed only by rotation.
        Root = 1 => "root",
        /// A node's libp2p identity: authenticates connections for the party.
        Node = 2 => "node",
        /// A seal: signs contracts.
        Seal = 3 => "seal",
        /// Signs attestations and revocations the party issues.
        Attest = 4 => "attest",
        /// Signs the party's evidence-log checkpoints and witness cosignatures.
        Log = 5 => "log",
        /// Signs PDF documents as the party (PAdES); an ESP256 key, which a verifier party
        /// certifies in an X.509 certificate (spec §4.3.2).
        Pdf = 6 => "pdf",
        /// Signs RFC 3161 time-stamp tokens as the party's time-stamping authority (a
        /// witness); an ESP256 key, which a verifier certifies in an X.509 TSA certificate
        /// (spec §4.3.2, §6.10).
        Tsa = 7 => "tsa",
    }
}

/// A key declared in the log with its purpose (and, for seals, what the seal is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "KeyDeclWire", into = "KeyDeclWire")]
pub struct KeyDecl {
    /// What the key may do. Never `root` here.
    pub purpose: KeyPurpose,
    /// The key, of its algorithm (the wire's `alg` and `key`, spec §4.3.2).
    pub key: LogKey,
    /// Present exactly when the purpose is `seal`.
    pub seal: Option<SealInfo>,
    /// Present exactly when the purpose is `node`: the node key's signature of
    /// [`node_key_proof_message`] for the root key that signs the declaring event. It proves
    /// that whoever declares the node key holds it, so nobody can declare another party's
    /// node key as its own (spec §4.3.1).
    pub proof: Option<Signature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyDeclWire {
    purpose: KeyPurpose,
    #[serde(with = "crate::cbor_bytes")]
    key: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seal: Option<SealInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proof: Option<Signature>,
}

impl TryFrom<KeyDeclWire> for KeyDecl {
    type Error = String;

    fn try_from(wire: KeyDeclWire) -> Result<Self, String> {
        Ok(Self {
            purpose: wire.purpose,
            key: LogKey::from_wire(wire.alg, &wire.key)?,
            seal: wire.seal,
            proof: wire.proof,
        })
    }
}

impl From<KeyDecl> for KeyDeclWire {
    fn from(decl: KeyDecl) -> Self {
        Self {
            purpose: decl.purpose,
            alg: decl.key.wire_alg(),
            key: decl.key.wire_bytes().to_vec(),
            seal: decl.seal,
            proof: decl.proof,
        }
    }
}

/// Domain of a node key's proof of possession (spec §4.3.1).
pub const NODE_KEY_PROOF_DOMAIN: &[u8] = b"signet/node-key-proof/v1";

/// What a node key signs to prove possession: the domain, a zero byte, the root key that
/// signs the declaring event, then the node key itself (spec §4.3.1).
pub fn node_key_proof_message(root: &PublicKey, node: &PublicKey) -> Vec<u8> {
    let mut message = Vec::with_capacity(NODE_KEY_PROOF_DOMAIN.len() + 1 + 64);
    message.extend_from_slice(NODE_KEY_PROOF_DOMAIN);
    message.push(0);
    message.extend_from_slice(root.as_bytes());
    message.extend_from_slice(node.as_bytes());
    message
}

impl KeyDecl {
    /// A node key, with its proof of possession for the event the root key `root` signs.
    pub fn node(node: &SecretKey, root: &PublicKey) -> Self {
        let key = node.public_key();
        Self {
            purpose: KeyPurpose::Node,
            key: key.into(),
            seal: None,
            proof: Some(node.sign(&node_key_proof_message(root, &key))),
        }
    }

    /// A seal key with its description.
    pub fn seal(key: impl Into<LogKey>, info: SealInfo) -> Self {
        Self {
            purpose: KeyPurpose::Seal,
            key: key.into(),
            seal: Some(info),
            proof: None,
        }
    }

    /// An attestation-signing key: Ed25519, or SM2 (spec §4.3.2).
    pub fn attest(key: impl Into<LogKey>) -> Self {
        Self {
            purpose: KeyPurpose::Attest,
            key: key.into(),
            seal: None,
            proof: None,
        }
    }

    /// An evidence-log key.
    pub fn log(key: PublicKey) -> Self {
        Self {
            purpose: KeyPurpose::Log,
            key: key.into(),
            seal: None,
            proof: None,
        }
    }

    /// A PDF signing key (ECDSA P-256), which a verifier certifies for PAdES signatures.
    pub fn pdf(key: EcdsaP256Key) -> Self {
        Self {
            purpose: KeyPurpose::Pdf,
            key: key.into(),
            seal: None,
            proof: None,
        }
    }

    /// A PDF signing key of SM2 (spec §4.3.2): national-algorithm PDF and GB/T 38540
    /// electronic-seal signatures.
    pub fn sm2_pdf(key: crate::sm2::Sm2PublicKey) -> Self {
        Self {
            purpose: KeyPurpose::Pdf,
            key: key.into(),
            seal: None,
            proof: None,
        }
    }

    /// A PDF signing key of RSA (spec §4.3.2): the key a CA certified for the party, when
    /// its identity rests on that certificate (spec §6.11).
    pub fn rsa_pdf(key: crate::rsa::RsaPublicKey) -> Self {
        Self {
            purpose: KeyPurpose::Pdf,
            key: key.into(),
            seal: None,
            proof: None,
        }
    }

    /// A time-stamping key (ECDSA P-256), which a verifier certifies in a TSA certificate.
    pub fn tsa(key: EcdsaP256Key) -> Self {
        Self {
            purpose: KeyPurpose::Tsa,
            key: key.into(),
            seal: None,
            proof: None,
        }
    }
}

/// What an event changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// The first event: the root key, the commitment to the next root key, initial keys.
    Inception {
        /// The first root key; it signs this event.
        root: PublicKey,
        /// SHA-256 of the next root key's 32-byte encoding (pre-rotation).
        next_root: Digest,
        /// Node, seal, attestation and log keys valid from inception.
        keys: Vec<KeyDecl>,
    },
    /// Reveals the committed root key, which signs this event, and commits to the next.
    Rotation {
        /// The new root key; its digest must equal the previous commitment.
        root: PublicKey,
        /// Commitment to the root key after this one.
        next_root: Digest,
    },
    /// Adds a non-root key.
    AddKey(KeyDecl),
    /// Retires a non-root key from the event's time on.
    RetireKey {
        /// The key.
        key: LogKey,
    },
    /// Retires the party: every key stops being valid at the event's time.
    RetireParty,
}

impl KeyChange {
    /// The registry kind of this change.
    pub fn kind(&self) -> KeyEventKind {
        match self {
            Self::Inception { .. } => KeyEventKind::Inception,
            Self::Rotation { .. } => KeyEventKind::Rotation,
            Self::AddKey(_) => KeyEventKind::AddKey,
            Self::RetireKey { .. } => KeyEventKind::RetireKey,
            Self::RetireParty => KeyEventKind::RetireParty,
        }
    }
}

/// One key event: the payload of a COSE_Sign1 with content type [`KEY_EVENT_CONTENT_TYPE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "KeyEventWire", into = "KeyEventWire")]
pub struct KeyEvent {
    /// The party; absent on inception, whose digest defines it.
    pub party: Option<PartyId>,
    /// Position in the log, from 0.
    pub seq: u64,
    /// Digest of the previous event's signed bytes; absent on inception.
    pub prev: Option<Digest>,
    /// When the change takes effect.
    pub time: Timestamp,
    /// The change.
    pub change: KeyChange,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEventWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    party: Option<PartyId>,
    seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prev: Option<Digest>,
    time: Timestamp,
    kind: KeyEventKind,
    body: Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InceptionBody {
    root: PublicKey,
    next_root: Digest,
    keys: Vec<KeyDecl>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotationBody {
    root: PublicKey,
    next_root: Digest,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetireKeyBody {
    #[serde(with = "crate::cbor_bytes")]
    key: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<i64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

impl TryFrom<KeyEventWire> for KeyEvent {
    type Error = String;

    fn try_from(wire: KeyEventWire) -> Result<Self, String> {
        let body = |e: codec::DecodeError| format!("{} body: {e}", wire.kind);
        let change = match wire.kind {
            KeyEventKind::Inception => {
                let b: InceptionBody = codec::from_value(&wire.body).map_err(body)?;
                KeyChange::Inception {
                    root: b.root,
                    next_root: b.next_root,
                    keys: b.keys,
                }
            }
            KeyEventKind::Rotation => {
                let b: RotationBody = codec::from_value(&wire.body).map_err(body)?;
                KeyChange::Rotation {
                    root: b.root,
                    next_root: b.next_root,
                }
            }
            KeyEventKind::AddKey => KeyChange::AddKey(codec::from_value(&wire.body).map_err(body)?),
            KeyEventKind::RetireKey => {
                let b: RetireKeyBody = codec::from_value(&wire.body).map_err(body)?;
                let key = LogKey::from_wire(b.alg, &b.key)
                    .map_err(|e| format!("{} body: {e}", wire.kind))?;
                KeyChange::RetireKey { key }
            }
            KeyEventKind::RetireParty => {
                let _: EmptyBody = codec::from_value(&wire.body).map_err(body)?;
                KeyChange::RetireParty
            }
            KeyEventKind::Unknown(code) => return Err(codec::unknown_kind("key event kind", code)),
        };
        Ok(Self {
            party: wire.party,
            seq: wire.seq,
            prev: wire.prev,
            time: wire.time,
            change,
        })
    }
}

impl From<KeyEvent> for KeyEventWire {
    fn from(event: KeyEvent) -> Self {
        let kind = event.change.kind();
        let body = match event.change {
            KeyChange::Inception {
                root,
                next_root,
                keys,
            } => codec::to_value(&InceptionBody {
                root,
                next_root,
                keys,
            }),
            KeyChange::Rotation { root, next_root } => {
                codec::to_value(&RotationBody { root, next_root })
            }
            KeyChange::AddKey(decl) => codec::to_value(&decl),
            KeyChange::RetireKey { key } => codec::to_value(&RetireKeyBody {
                alg: key.wire_alg(),
                key: key.wire_bytes().to_vec(),
            }),
            KeyChange::RetireParty => codec::to_value(&EmptyBody {}),
        };
        Self {
            party: event.party,
            seq: event.seq,
            prev: event.prev,
            time: event.time,
            kind,
            // These bodies hold only byte strings, integers, text and arrays, which always
            // convert to a CBOR tree; the fallback is unreachable and would fail to decode.
            body: body.unwrap_or(Value::Null),
        }
    }
}
