//! Key event logs (spec §4).
//!
//! A party's key event log is a hash chain of signed [`KeyEvent`]s. Its first event, the
//! inception, defines the party's identifier and commits to the digest of the next root key
//! (pre-rotation, after KERI): whoever steals the current root key still cannot rotate the
//! identity, because a rotation must reveal the committed key and be signed by it. Every other
//! event is signed by the root key current at that point.
//!
//! [`KeyLog`] is a log that has been replayed and found valid; it answers "was key K valid
//! for party P for purpose X at time T?" with [`KeyLog::check_key`], which is how signatures
//! made before a rotation keep verifying after it.
//!
//! ```
//! use signet_protocol::keylog::{KeyDecl, KeyLog, KeyPurpose};
//! use signet_protocol::{SecretKey, Timestamp};
//!
//! let root = SecretKey::from_seed(&[1; 32]);
//! let next_root = SecretKey::from_seed(&[2; 32]);
//! let node = SecretKey::from_seed(&[3; 32]);
//! let t0 = Timestamp::from_unix(1_700_000_000);
//! let node_key = KeyDecl::node(&node, &root.public_key());
//! let mut log = KeyLog::incept(&root, &next_root.public_key(), vec![node_key], t0)?;
//! log.rotate(&next_root, &SecretKey::from_seed(&[4; 32]).public_key(), t0.plus(3600))?;
//!
//! // Anyone can replay the log from its bytes and ask about a key at a time.
//! let replayed = KeyLog::replay(log.event_bytes())?;
//! assert_eq!(replayed.party(), log.party());
//! assert!(replayed.check_key(&root.public_key(), KeyPurpose::Root, t0.plus(10)).is_ok());
//! assert!(replayed.check_key(&root.public_key(), KeyPurpose::Root, t0.plus(7200)).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod algorithm;
mod event;

pub use algorithm::{
    ALG_ED25519, ALG_ESP256, ALG_RS256, ALG_SM2_SM3, EcdsaKeyError, EcdsaP256Key, LogKey,
    LogSecretKey, MAX_UNSUPPORTED_KEY_LEN,
};
pub use event::{
    KEY_EVENT_CONTENT_TYPE, KeyChange, KeyDecl, KeyEvent, KeyEventKind, KeyPurpose,
    NODE_KEY_PROOF_DOMAIN, node_key_proof_message,
};

use crate::codec::Limits;
use crate::cose::{CoseError, Signed};
use crate::error::UsageError;
use crate::party::PartyId;
use crate::seal::{Seal, SealInfo};
use crate::{Digest, PublicKey, SecretKey, Timestamp};

/// Why a key event log is invalid. Every variant is the fault of whoever supplied the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyLogError {
    /// The log has no events.
    #[error("key event log is empty")]
    Empty,
    /// An event is not a valid signed key event.
    #[error("event {index}: {error}")]
    Decode {
        /// Position of the event in the input.
        index: usize,
        /// What was wrong.
        error: CoseError,
    },
    /// The first event is not an inception, or an inception appears later.
    #[error("event {seq}: inception must be the first event and only the first")]
    Inception {
        /// Sequence number of the offending event.
        seq: u64,
    },
    /// An inception carries a party or previous digest, or a later event lacks them.
    #[error("event {seq}: party and previous-event fields are wrong for its position")]
    Header {
        /// Sequence number of the offending event.
        seq: u64,
    },
    /// The event belongs to another party.
    #[error("event {seq} belongs to {found}, not {expected}")]
    WrongParty {
        /// Sequence number of the offending event.
        seq: u64,
        /// The log's party.
        expected: PartyId,
        /// The party the event names.
        found: PartyId,
    },
    /// Events are missing before this one.
    #[error("gap: expected event {expected}, found {found}")]
    Gap {
        /// The next sequence number the log needs.
        expected: u64,
        /// The sequence number found.
        found: u64,
    },
    /// The events are present but out of order.
    #[error("out of order: expected event {expected}, found {found} first")]
    Reordered {
        /// The next sequence number the log needs.
        expected: u64,
        /// The sequence number found in its place.
        found: u64,
    },
    /// Two different events claim the same position, each validly chained and signed by the
    /// key entitled to sign there: the root key holder equivocated, or the root key was stolen.
    #[error("fork at event {seq}: {first} and {second}")]
    Fork {
        /// The contested sequence number.
        seq: u64,
        /// Digest of the event the log already holds.
        first: Digest,
        /// Digest of the conflicting event.
        second: Digest,
    },
    /// The event does not chain to the previous one.
    #[error("event {seq} does not chain to the previous event")]
    PrevMismatch {
        /// Sequence number of the offending event.
        seq: u64,
    },
    /// The event is dated before the previous one.
    #[error("event {seq} is dated before the previous event")]
    TimeRegression {
        /// Sequence number of the offending event.
        seq: u64,
    },
    /// The event is signed by a key other than the one that must sign it.
    #[error("event {seq} is signed by {found}, not by the current root key")]
    WrongSigner {
        /// Sequence number of the offending event.
        seq: u64,
        /// The key that signed.
        found: PublicKey,
    },
    /// A rotation reveals a key whose digest is not the committed one.
    #[error("event {seq}: rotated root key does not match the pre-rotation commitment")]
    PreRotationMismatch {
        /// Sequence number of the offending event.
        seq: u64,
    },
    /// An event follows the party's retirement.
    #[error("event {seq} follows the party's retirement")]
    AfterRetirement {
        /// Sequence number of the offending event.
        seq: u64,
    },
    /// A key is declared twice (keys are never reused, across purposes or time).
    #[error("event {seq} declares key {key} again")]
    DuplicateKey {
        /// Sequence number of the offending event.
        seq: u64,
        /// The key.
        key: LogKey,
    },
    /// A retirement names a key that is not active.
    #[error("event {seq} retires key {key}, which is not an active non-root key")]
    UnknownKey {
        /// Sequence number of the offending event.
        seq: u64,
        /// The key.
        key: LogKey,
    },
    /// A node key's proof of possession does not verify: whoever declared it has not shown
    /// it holds the key (it may be another party's).
    #[error("event {seq}: the proof of possession of node key {key} does not verify")]
    NodeKeyProof {
        /// Sequence number of the offending event.
        seq: u64,
        /// The node key.
        key: PublicKey,
    },
    /// A key declaration is malformed (root purpose outside rotation, unknown purpose,
    /// seal description missing or misplaced, proof of possession missing or misplaced).
    #[error("event {seq}: invalid key declaration: {reason}")]
    InvalidDecl {
        /// Sequence number of the offending event.
        seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Why a key may not be used for a purpose at a time. The signer's (or relayer's) fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyUseError {
    /// The key was never declared in the party's log.
    #[error("key {key} is not in the key log of {party}")]
    UnknownKey {
        /// The party.
        party: PartyId,
        /// The key.
        key: LogKey,
    },
    /// The key is declared for another purpose.
    #[error("key {key} is a {declared} key, not a {wanted} key")]
    WrongPurpose {
        /// The key.
        key: LogKey,
        /// Its declared purpose.
        declared: KeyPurpose,
        /// The purpose asked about.
        wanted: KeyPurpose,
    },
    /// The time is before the key was added.
    #[error("key {key} is valid only from {from}")]
    NotYetValid {
        /// The key.
        key: LogKey,
        /// When it became valid.
        from: Timestamp,
    },
    /// The time is at or after the key's retirement (or rotation, for root keys).
    #[error("key {key} was retired at {at}")]
    Retired {
        /// The key.
        key: LogKey,
        /// When it stopped being valid.
        at: Timestamp,
    },
    /// The time is at or after the party's retirement.
    #[error("party {party} was retired at {at}")]
    PartyRetired {
        /// The party.
        party: PartyId,
        /// When.
        at: Timestamp,
    },
}

/// A key's life in a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key.
    pub key: LogKey,
    /// Its purpose.
    pub purpose: KeyPurpose,
    /// For seal keys, the seal's description.
    pub seal: Option<SealInfo>,
    /// From when it is valid (inclusive).
    pub valid_from: Timestamp,
    /// From when it is no longer valid (exclusive end of validity), if ever.
    pub retired_at: Option<Timestamp>,
}

impl KeyRecord {
    fn valid_at(&self, time: Timestamp) -> bool {
        time >= self.valid_from && self.retired_at.is_none_or(|r| time < r)
    }
}

/// Whether an appended event was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The event extended the log.
    New,
    /// The log already held exactly this event; nothing changed.
    Duplicate,
}

/// A replayed, valid key event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLog {
    party: PartyId,
    events: Vec<Signed<KeyEvent>>,
    records: Vec<KeyRecord>,
    next_root: Digest,
    retired_at: Option<Timestamp>,
}

impl KeyLog {
    /// Replays a log from its signed events' bytes, in order, verifying everything.
    pub fn replay<I, B>(events: I) -> Result<Self, KeyLogError>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut decoded = Vec::new();
        for (index, bytes) in events.into_iter().enumerate() {
            let signed = Signed::<KeyEvent>::decode(
                bytes.as_ref(),
                KEY_EVENT_CONTENT_TYPE,
                &Limits::DEFAULT,
            )
            .map_err(|error| KeyLogError::Decode { index, error })?;
            decoded.push(signed);
        }
        Self::replay_signed(decoded)
    }

    /// Replays a log from decoded, signature-checked events.
    pub fn replay_signed(events: Vec<Signed<KeyEvent>>) -> Result<Self, KeyLogError> {
        let seqs: Vec<u64> = events.iter().map(|e| e.payload().seq).collect();
        let mut iter = events.into_iter();
        let first = iter.next().ok_or(KeyLogError::Empty)?;
        let mut log = Self::from_inception(first)?;
        for (i, event) in iter.enumerate() {
            let expected = log.events.len() as u64;
            let found = event.payload().seq;
            if found > expected {
                // Tell a reordering (the missing event comes later) from a true gap.
                return Err(if seqs[i + 2..].contains(&expected) {
                    KeyLogError::Reordered { expected, found }
                } else {
                    KeyLogError::Gap { expected, found }
                });
            }
            log.append(event)?;
        }
        Ok(log)
    }

    fn from_inception(first: Signed<KeyEvent>) -> Result<Self, KeyLogError> {
        let event = first.payload();
        let seq = event.seq;
        let KeyChange::Inception {
            root,
            next_root,
            keys,
        } = &event.change
        else {
            return Err(KeyLogError::Inception { seq });
        };
        if seq != 0 {
            return Err(KeyLogError::Gap {
                expected: 0,
                found: seq,
            });
        }
        if event.party.is_some() || event.prev.is_some() {
            return Err(KeyLogError::Header { seq });
        }
        if first.signer() != root {
            return Err(KeyLogError::WrongSigner {
                seq,
                found: *first.signer(),
            });
        }
        let mut log = Self {
            party: PartyId::from_digest(first.digest()),
            events: Vec::new(),
            records: vec![KeyRecord {
                key: (*root).into(),
                purpose: KeyPurpose::Root,
                seal: None,
                valid_from: event.time,
                retired_at: None,
            }],
            next_root: *next_root,
            retired_at: None,
        };
        for decl in keys {
            log.declare(seq, decl, root, event.time)?;
        }
        log.events.push(first);
        Ok(log)
    }

    /// Appends one more signed event, verifying it against the log so far.
    ///
    /// An exact duplicate of an event already held is harmless; a different event at a
    /// position already taken is a [`KeyLogError::Fork`].
    pub fn append(&mut self, signed: Signed<KeyEvent>) -> Result<Appended, KeyLogError> {
        let event = signed.payload();
        let seq = event.seq;
        let expected = self.events.len() as u64;
        if seq < expected {
            let held = &self.events[seq as usize];
            if held.bytes() == signed.bytes() {
                return Ok(Appended::Duplicate);
            }
            // Only an event that would have been valid at that position proves a fork.
            self.check_conflicting(&signed)?;
            return Err(KeyLogError::Fork {
                seq,
                first: held.digest(),
                second: signed.digest(),
            });
        }
        if seq > expected {
            return Err(KeyLogError::Gap {
                expected,
                found: seq,
            });
        }
        if event.party != Some(self.party) {
            return Err(match event.party {
                None => KeyLogError::Header { seq },
                found => self.wrong_party(seq, found),
            });
        }
        let head = self.head();
        if event.prev != Some(head) {
            return Err(match event.prev {
                None => KeyLogError::Header { seq },
                Some(_) => KeyLogError::PrevMismatch { seq },
            });
        }
        if self.retired_at.is_some() {
            return Err(KeyLogError::AfterRetirement { seq });
        }
        let last_time = self.events[self.events.len() - 1].payload().time;
        if event.time < last_time {
            return Err(KeyLogError::TimeRegression { seq });
        }
        let time = event.time;
        let current_root = self.current_root();
        match &event.change {
            KeyChange::Inception { .. } => return Err(KeyLogError::Inception { seq }),
            KeyChange::Rotation { root, next_root } => {
                if root.commitment() != self.next_root {
                    return Err(KeyLogError::PreRotationMismatch { seq });
                }
                if signed.signer() != root {
                    return Err(KeyLogError::WrongSigner {
                        seq,
                        found: *signed.signer(),
                    });
                }
                if self.records.iter().any(|r| r.key == *root) {
                    return Err(KeyLogError::DuplicateKey {
                        seq,
                        key: (*root).into(),
                    });
                }
                self.retire_record(&current_root.into(), time);
                self.records.push(KeyRecord {
                    key: (*root).into(),
                    purpose: KeyPurpose::Root,
                    seal: None,
                    valid_from: time,
                    retired_at: None,
                });
                self.next_root = *next_root;
            }
            other => {
                if *signed.signer() != current_root {
                    return Err(KeyLogError::WrongSigner {
                        seq,
                        found: *signed.signer(),
                    });
                }
                match other {
                    KeyChange::AddKey(decl) => {
                        let decl = decl.clone();
                        self.declare(seq, &decl, &current_root, time)?;
                    }
                    KeyChange::RetireKey { key } => {
                        let active = self.records.iter().any(|r| {
                            r.key == *key && r.purpose != KeyPurpose::Root && r.retired_at.is_none()
                        });
                        if !active {
                            return Err(KeyLogError::UnknownKey {
                                seq,
                                key: key.clone(),
                            });
                        }
                        self.retire_record(key, time);
                    }
                    KeyChange::RetireParty => self.retired_at = Some(time),
                    KeyChange::Inception { .. } | KeyChange::Rotation { .. } => {
                        // Both handled by the outer match.
                        return Err(KeyLogError::Inception { seq });
                    }
                }
            }
        }
        self.events.push(signed);
        Ok(Appended::New)
    }

    /// Checks that `signed`, which conflicts with the event held at its position, would have
    /// been valid there: right party, chained to the event before, signed by the root key
    /// then in force (or, for a rotation, by the key then committed to).
    fn check_conflicting(&self, signed: &Signed<KeyEvent>) -> Result<(), KeyLogError> {
        let event = signed.payload();
        let seq = event.seq;
        let Some(position) = usize::try_from(seq).ok().filter(|p| *p >= 1) else {
            // Another inception is another party, not a fork of this one.
            return Err(KeyLogError::Inception { seq });
        };
        if event.party != Some(self.party) {
            return Err(self.wrong_party(seq, event.party));
        }
        if event.prev != Some(self.events[position - 1].digest()) {
            return Err(KeyLogError::PrevMismatch { seq });
        }
        let mut root = *self.events[0].signer();
        let mut commitment = self.next_root;
        for e in &self.events[..position] {
            match &e.payload().change {
                KeyChange::Inception {
                    root: r, next_root, ..
                }
                | KeyChange::Rotation { root: r, next_root } => {
                    root = *r;
                    commitment = *next_root;
                }
                _ => {}
            }
        }
        match &event.change {
            KeyChange::Inception { .. } => Err(KeyLogError::Inception { seq }),
            KeyChange::Rotation { root: new_root, .. } => {
                if new_root.commitment() != commitment {
                    Err(KeyLogError::PreRotationMismatch { seq })
                } else if signed.signer() != new_root {
                    Err(KeyLogError::WrongSigner {
                        seq,
                        found: *signed.signer(),
                    })
                } else {
                    Ok(())
                }
            }
            _ if *signed.signer() != root => Err(KeyLogError::WrongSigner {
                seq,
                found: *signed.signer(),
            }),
            _ => Ok(()),
        }
    }

    fn wrong_party(&self, seq: u64, found: Option<PartyId>) -> KeyLogError {
        match found {
            Some(found) => KeyLogError::WrongParty {
                seq,
                expected: self.party,
                found,
            },
            None => KeyLogError::Header { seq },
        }
    }

    fn declare(
        &mut self,
        seq: u64,
        decl: &KeyDecl,
        root: &PublicKey,
        time: Timestamp,
    ) -> Result<(), KeyLogError> {
        let invalid = |reason| KeyLogError::InvalidDecl { seq, reason };
        match (decl.purpose, &decl.proof) {
            (KeyPurpose::Node, None) => {
                return Err(invalid("a node key needs its proof of possession"));
            }
            (KeyPurpose::Node, Some(proof)) => {
                let Some(key) = decl.key.ed25519() else {
                    return Err(invalid("a node key is Ed25519"));
                };
                if key
                    .verify(&node_key_proof_message(root, key), proof)
                    .is_err()
                {
                    return Err(KeyLogError::NodeKeyProof { seq, key: *key });
                }
            }
            (_, Some(_)) => return Err(invalid("only node keys carry a proof of possession")),
            (_, None) => {}
        }
        match decl.purpose {
            KeyPurpose::Root => return Err(invalid("root keys change only by rotation")),
            KeyPurpose::Unknown(_) => return Err(invalid("unknown key purpose")),
            KeyPurpose::Seal => match &decl.seal {
                None => return Err(invalid("a seal key needs its seal description")),
                Some(info) if !info.kind.is_known() => return Err(invalid("unknown seal kind")),
                Some(info)
                    if info.name.is_empty()
                        || info.name.len() > crate::attestation::MAX_TEXT_LEN =>
                {
                    return Err(invalid("seal name empty or longer than 512 bytes"));
                }
                Some(_) => {}
            },
            _ if decl.seal.is_some() => {
                return Err(invalid("only seal keys carry a seal description"));
            }
            _ => {}
        }
        match (decl.purpose, &decl.key) {
            // A key of an algorithm this version does not know is kept and never valid.
            (_, LogKey::Unsupported { .. }) => {}
            (KeyPurpose::Pdf | KeyPurpose::Tsa, LogKey::EcdsaP256(_)) => {}
            // SM2 signs seal signatures and attestations (COSE_Sign1 objects that name SM2,
            // spec §3.3) and PDF and GB/T 38540 signatures. Node keys stay Ed25519 (libp2p
            // has no SM2 identities); a log key of SM2 would sign checkpoints and
            // cosignatures, which are Ed25519 objects, so the log refuses it rather than hold
            // a key that can never be used.
            (KeyPurpose::Seal | KeyPurpose::Attest | KeyPurpose::Pdf, LogKey::Sm2(_)) => {}
            (_, LogKey::Sm2(_)) => {
                return Err(invalid(
                    "an SM2 key is declared only for the seal, attest and pdf purposes",
                ));
            }
            // RSA only as the key a CA certified for the party (spec §6.11), which signs
            // its possession proof and PDFs; nothing of Signet's own is RSA.
            (KeyPurpose::Pdf, LogKey::Rsa(_)) => {}
            (_, LogKey::Rsa(_)) => {
                return Err(invalid("an RS256 key is declared only for the pdf purpose"));
            }
            (KeyPurpose::Pdf, _) => {
                return Err(invalid("a pdf key is ESP256 (ECDSA P-256), SM2 or RS256"));
            }
            (KeyPurpose::Tsa, _) => return Err(invalid("a tsa key is ESP256 (ECDSA P-256)")),
            (_, LogKey::EcdsaP256(_)) => {
                return Err(invalid(
                    "an ESP256 key is declared only for the pdf and tsa purposes",
                ));
            }
            (_, LogKey::Ed25519(_)) => {}
        }
        if self.records.iter().any(|r| r.key == decl.key) {
            return Err(KeyLogError::DuplicateKey {
                seq,
                key: decl.key.clone(),
            });
        }
        self.records.push(KeyRecord {
            key: decl.key.clone(),
            purpose: decl.purpose,
            seal: decl.seal.clone(),
            valid_from: time,
            retired_at: None,
        });
        Ok(())
    }

    fn retire_record(&mut self, key: &LogKey, time: Timestamp) {
        for record in &mut self.records {
            if record.key == *key && record.retired_at.is_none() {
                record.retired_at = Some(time);
            }
        }
    }

    /// The party this log belongs to.
    pub fn party(&self) -> PartyId {
        self.party
    }

    /// Digest of the last event: what the next event's `prev` must be.
    pub fn head(&self) -> Digest {
        // A KeyLog always holds at least its inception (it is built from one).
        self.events
            .last()
            .map(Signed::digest)
            .unwrap_or_else(|| *self.party.digest())
    }

    /// The signed events, in order.
    pub fn events(&self) -> &[Signed<KeyEvent>] {
        &self.events
    }

    /// The signed events' bytes, in order (what is stored and sent).
    pub fn event_bytes(&self) -> impl Iterator<Item = &[u8]> {
        self.events.iter().map(Signed::bytes)
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Always false: a log has at least its inception.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The root key now (after the last event).
    pub fn current_root(&self) -> PublicKey {
        self.records
            .iter()
            .rev()
            .find(|r| r.purpose == KeyPurpose::Root)
            .and_then(|r| r.key.ed25519().copied())
            // The inception always declares a root record, so one is always found.
            .unwrap_or_else(|| *self.events[0].signer())
    }

    /// The commitment the next rotation must reveal.
    pub fn next_root_commitment(&self) -> Digest {
        self.next_root
    }

    /// When the party was retired, if it was.
    pub fn retired_at(&self) -> Option<Timestamp> {
        self.retired_at
    }

    /// Every key ever declared, with its validity interval.
    pub fn records(&self) -> &[KeyRecord] {
        &self.records
    }

    /// Keys of a purpose valid at `time`.
    pub fn keys_at(
        &self,
        purpose: KeyPurpose,
        time: Timestamp,
    ) -> impl Iterator<Item = &KeyRecord> {
        let alive = self.retired_at.is_none_or(|r| time < r);
        self.records
            .iter()
            .filter(move |r| alive && r.purpose == purpose && r.valid_at(time))
    }

    /// The party's seals valid at `time`.
    pub fn seals_at(&self, time: Timestamp) -> Vec<Seal> {
        self.keys_at(KeyPurpose::Seal, time)
            .filter_map(|r| {
                r.seal.clone().map(|info| Seal {
                    key: r.key.clone(),
                    info,
                })
            })
            .collect()
    }

    /// Was the Ed25519 `key` valid for this party, for `purpose`, at `time`?
    pub fn check_key(
        &self,
        key: &PublicKey,
        purpose: KeyPurpose,
        time: Timestamp,
    ) -> Result<&KeyRecord, KeyUseError> {
        self.check_log_key(&LogKey::Ed25519(*key), purpose, time)
    }

    /// Was the PDF signing key `key` valid for this party at `time`?
    pub fn check_pdf_key(
        &self,
        key: &EcdsaP256Key,
        time: Timestamp,
    ) -> Result<&KeyRecord, KeyUseError> {
        self.check_log_key(&LogKey::EcdsaP256(*key), KeyPurpose::Pdf, time)
    }

    /// Was `key`, of whichever algorithm, valid for this party, for `purpose`, at `time`?
    /// A key of an algorithm this version does not know is never valid.
    pub fn check_log_key(
        &self,
        key: &LogKey,
        purpose: KeyPurpose,
        time: Timestamp,
    ) -> Result<&KeyRecord, KeyUseError> {
        let unknown = || KeyUseError::UnknownKey {
            party: self.party,
            key: key.clone(),
        };
        if matches!(key, LogKey::Unsupported { .. }) {
            return Err(unknown());
        }
        let record = self
            .records
            .iter()
            .find(|r| r.key == *key)
            .ok_or_else(unknown)?;
        if record.purpose != purpose {
            return Err(KeyUseError::WrongPurpose {
                key: key.clone(),
                declared: record.purpose,
                wanted: purpose,
            });
        }
        if time < record.valid_from {
            return Err(KeyUseError::NotYetValid {
                key: key.clone(),
                from: record.valid_from,
            });
        }
        if let Some(at) = record.retired_at.filter(|at| time >= *at) {
            return Err(KeyUseError::Retired {
                key: key.clone(),
                at,
            });
        }
        if let Some(at) = self.retired_at.filter(|at| time >= *at) {
            return Err(KeyUseError::PartyRetired {
                party: self.party,
                at,
            });
        }
        Ok(record)
    }

    /// Creates a party: signs its inception event with `root`, committing to `next_root`.
    pub fn incept(
        root: &SecretKey,
        next_root: &PublicKey,
        keys: Vec<KeyDecl>,
        time: Timestamp,
    ) -> Result<Self, UsageError> {
        let event = KeyEvent {
            party: None,
            seq: 0,
            prev: None,
            time,
            change: KeyChange::Inception {
                root: root.public_key(),
                next_root: next_root.commitment(),
                keys,
            },
        };
        let signed = Signed::sign(event, KEY_EVENT_CONTENT_TYPE, root)?;
        Ok(Self::from_inception(signed)?)
    }

    /// Rotates the root key: `new_root` must be the key committed to last time; commits to
    /// `next_root`. Signed by `new_root`.
    pub fn rotate(
        &mut self,
        new_root: &SecretKey,
        next_root: &PublicKey,
        time: Timestamp,
    ) -> Result<&Signed<KeyEvent>, UsageError> {
        let change = KeyChange::Rotation {
            root: new_root.public_key(),
            next_root: next_root.commitment(),
        };
        self.extend(new_root, change, time)
    }

    /// Adds a node, seal, attestation or log key, signed by the current `root`.
    pub fn add_key(
        &mut self,
        root: &SecretKey,
        decl: KeyDecl,
        time: Timestamp,
    ) -> Result<&Signed<KeyEvent>, UsageError> {
        self.extend(root, KeyChange::AddKey(decl), time)
    }

    /// Retires a non-root key, signed by the current `root`.
    pub fn retire_key(
        &mut self,
        root: &SecretKey,
        key: impl Into<LogKey>,
        time: Timestamp,
    ) -> Result<&Signed<KeyEvent>, UsageError> {
        self.extend(root, KeyChange::RetireKey { key: key.into() }, time)
    }

    /// Retires the party, signed by the current `root`.
    pub fn retire_party(
        &mut self,
        root: &SecretKey,
        time: Timestamp,
    ) -> Result<&Signed<KeyEvent>, UsageError> {
        self.extend(root, KeyChange::RetireParty, time)
    }

    fn extend(
        &mut self,
        signer: &SecretKey,
        change: KeyChange,
        time: Timestamp,
    ) -> Result<&Signed<KeyEvent>, UsageError> {
        let event = KeyEvent {
            party: Some(self.party),
            seq: self.events.len() as u64,
            prev: Some(self.head()),
            time,
            change,
        };
        let signed = Signed::sign(event, KEY_EVENT_CONTENT_TYPE, signer)?;
        self.append(signed)?;
        Ok(&self.events[self.events.len() - 1])
    }
}

#[cfg(test)]
mod tests;
