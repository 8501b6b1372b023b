//! Checkpoints: a log's signed statement of its size and root (spec §10.4).
//!
//! A checkpoint is a C2SP `tlog-checkpoint` signed note. Its body is three lines, each
//! ending in a newline: the log's origin, the tree size in decimal (no leading zeros), and
//! the root hash in standard padded base64. Signet's evidence logs carry no extension lines.
//! The log signs the body with its party's `log` key under the key name equal to the origin,
//! `signet.evidence/<party id>`, so any C2SP verifier or witness can check it given the
//! verifier key `signet.evidence/<party id>+<key id>+<base64(0x01 ‖ key)>`.
//!
//! Verification takes the exact received bytes and the expected origin and key; a
//! [`SignedCheckpoint`] exists only once its log signature has verified.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::evidence::cosignature::{Cosignature, CosignatureError, verify_cosignature};
use crate::evidence::note::{
    COSIGNATURE_V1_TYPE, ED25519_SIGNATURE_TYPE, KeyId, NoteError, NoteSignature, SignedNote,
    is_valid_key_name,
};
use crate::party::PartyId;
use crate::{Digest, PublicKey, SecretKey, Timestamp};

/// The prefix of a Signet evidence log's origin; the party identifier follows.
pub const EVIDENCE_ORIGIN_PREFIX: &str = "signet.evidence/";

/// The origin (and key name) of `party`'s evidence log: `signet.evidence/<party id>`.
pub fn evidence_origin(party: &PartyId) -> String {
    format!("{EVIDENCE_ORIGIN_PREFIX}{party}")
}

/// The party whose evidence log has this origin, if it is a Signet evidence origin.
pub fn evidence_party(origin: &str) -> Option<PartyId> {
    origin.strip_prefix(EVIDENCE_ORIGIN_PREFIX)?.parse().ok()
}

/// Why a checkpoint is malformed or does not verify (spec §10.4). Every variant is the fault
/// of whoever supplied the checkpoint, except [`InvalidOrigin`](Self::InvalidOrigin) when a
/// caller builds one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The signed note is malformed, or lacks a valid signature by the log's key.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The body is not exactly three lines.
    #[error("checkpoint body has {found} lines, expected 3")]
    LineCount {
        /// The number of lines found.
        found: usize,
    },
    /// The origin is empty or not usable as a key name (spaces, plus signs).
    #[error("invalid origin {0:?}")]
    InvalidOrigin(String),
    /// The size line is not a decimal number without leading zeros that fits 64 bits.
    #[error("invalid tree size line")]
    InvalidSize,
    /// The root line is not the canonical base64 of 32 bytes.
    #[error("invalid root hash line")]
    InvalidRoot,
    /// The checkpoint is of another log.
    #[error("checkpoint of {found:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin expected.
        expected: String,
        /// The origin in the checkpoint.
        found: String,
    },
}

/// A log's size and root, as its checkpoint states them (spec §10.4).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Digest,
}

impl Checkpoint {
    /// A checkpoint of the log `origin` (a valid key name) at `size` with `root`.
    pub fn new(origin: &str, size: u64, root: Digest) -> Result<Self, CheckpointError> {
        if !is_valid_key_name(origin) || origin.chars().any(|c| c.is_control()) {
            return Err(CheckpointError::InvalidOrigin(origin.to_string()));
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
        })
    }

    /// A checkpoint of `party`'s evidence log.
    pub fn for_party(party: &PartyId, size: u64, root: Digest) -> Self {
        // The origin is ASCII from the Bech32 alphabet after a fixed prefix: always valid.
        Self {
            origin: evidence_origin(party),
            size,
            root,
        }
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash of the tree of that size.
    pub fn root(&self) -> &Digest {
        &self.root
    }

    /// The note body: origin, size and root lines.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root.as_bytes())
        )
    }

    /// Parses a note body, refusing anything but the three lines in their one spelling.
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::LineCount { found: 0 })?
            .split('\n')
            .collect();
        let [origin, size, root] = lines[..] else {
            return Err(CheckpointError::LineCount { found: lines.len() });
        };
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        if !size_ok {
            return Err(CheckpointError::InvalidSize);
        }
        let size = size.parse().map_err(|_| CheckpointError::InvalidSize)?;
        let root_bytes = BASE64
            .decode(root)
            .map_err(|_| CheckpointError::InvalidRoot)?;
        let root_digest =
            Digest::from_slice(&root_bytes).map_err(|_| CheckpointError::InvalidRoot)?;
        if BASE64.encode(root_bytes) != root {
            return Err(CheckpointError::InvalidRoot);
        }
        Self::new(origin, size, root_digest)
    }

    /// The checkpoint in a note, *without* checking any signature: only to learn which log
    /// it claims to be from (to find that log's key), never to rely on its contents.
    pub fn from_note_unverified(bytes: &[u8]) -> Result<Self, CheckpointError> {
        Self::parse_body(SignedNote::parse(bytes)?.text())
    }

    /// Signs the checkpoint with the log's key, under the key name equal to the origin.
    pub fn sign(&self, key: &SecretKey) -> SignedCheckpoint {
        let body = self.body();
        let key_id = KeyId::derive(&self.origin, ED25519_SIGNATURE_TYPE, &key.public_key());
        let signature = key.sign(body.as_bytes()).as_bytes().to_vec();
        // The origin is a valid key name (checked when the checkpoint was built) and the
        // body is three non-empty lines without control characters, each ending in a
        // newline: a valid note text.
        let note = SignedNote::from_parts_unchecked(
            body,
            NoteSignature::from_parts_unchecked(self.origin.clone(), key_id, signature),
        );
        SignedCheckpoint {
            checkpoint: self.clone(),
            note,
        }
    }
}

/// A checkpoint whose signature by the log's key has been verified (spec §10.4), with the
/// note it came in (and any cosignatures on it).
///
/// ```
/// use signet_protocol::evidence::checkpoint::{evidence_origin, Checkpoint, SignedCheckpoint};
/// use signet_protocol::party::PartyId;
/// use signet_protocol::{Digest, SecretKey};
///
/// let party = PartyId::from_digest(Digest::of(b"inception"));
/// let log_key = SecretKey::from_seed(&[4; 32]);
/// let signed = Checkpoint::for_party(&party, 3, Digest::of(b"root")).sign(&log_key);
/// let bytes = signed.to_bytes();
///
/// let checked = SignedCheckpoint::verify(&bytes, &evidence_origin(&party), &log_key.public_key())?;
/// assert_eq!(checked.checkpoint().size(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: SignedNote,
}

impl SignedCheckpoint {
    /// Parses a checkpoint note and verifies that the log `origin`'s key `key`, under the
    /// key name `origin`, signed it. Signature lines of other keys are ignored.
    pub fn verify(bytes: &[u8], origin: &str, key: &PublicKey) -> Result<Self, CheckpointError> {
        let note = SignedNote::parse(bytes)?;
        let checkpoint = Checkpoint::parse_body(note.text())?;
        if checkpoint.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_string(),
                found: checkpoint.origin,
            });
        }
        note.verify_ed25519(origin, key)?;
        Ok(Self { checkpoint, note })
    }

    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The note, with every signature line it carries.
    pub fn note(&self) -> &SignedNote {
        &self.note
    }

    /// The note body: the bytes the log signed and witnesses cosign.
    pub fn body(&self) -> &str {
        self.note.text()
    }

    /// The note's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.note.to_bytes()
    }

    /// The same checkpoint with only the log's own signature line (by `key`), as a witness
    /// keeps it; unchanged if `key` did not sign it.
    pub(crate) fn log_signed_only(&self, key: &PublicKey) -> Self {
        let key_id = KeyId::derive(&self.checkpoint.origin, ED25519_SIGNATURE_TYPE, key);
        match self.note.find(&self.checkpoint.origin, key_id) {
            Some(line) => Self {
                checkpoint: self.checkpoint.clone(),
                note: SignedNote::from_parts_unchecked(self.note.text().to_string(), line.clone()),
            },
            None => self.clone(),
        }
    }

    /// Adds a witness's cosignature line (the caller verified it, or will verify the note
    /// with [`cosignature_by`](Self::cosignature_by)).
    pub fn add_cosignature(&mut self, cosignature: &Cosignature) -> Result<(), NoteError> {
        self.note.add_signature(cosignature.to_note_signature())
    }

    /// Verifies the cosignature of the witness `witness_name` with key `witness_key` on this
    /// checkpoint, and returns the time it attests (spec §10.5).
    pub fn cosignature_by(
        &self,
        witness_name: &str,
        witness_key: &PublicKey,
    ) -> Result<Timestamp, CosignatureError> {
        let key_id = KeyId::derive(witness_name, COSIGNATURE_V1_TYPE, witness_key);
        let line = self
            .note
            .find(witness_name, key_id)
            .ok_or(CosignatureError::Missing)?;
        let cosignature = Cosignature::from_note_signature(line)?;
        verify_cosignature(self.body(), &cosignature, witness_key, witness_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestParty;

    fn party() -> TestParty {
        TestParty::new("Evidence Co", Timestamp::from_unix(1_800_000_000))
    }

    #[test]
    fn body_format_is_c2sp() {
        let checkpoint =
            Checkpoint::new("example.com/log", 1234, Digest::from_bytes([0; 32])).unwrap();
        assert_eq!(
            checkpoint.body(),
            "example.com/log\n1234\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        );
        assert_eq!(
            Checkpoint::parse_body(&checkpoint.body()).unwrap(),
            checkpoint
        );
    }

    #[test]
    fn real_world_checkpoint_parses_and_foreign_lines_are_ignored() {
        // A Certificate Transparency staging log's checkpoint with five witness cosignatures
        // (signature types 0x05 and 0x04 by keys this code does not know).
        let note = "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n\n\
\u{2014} arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n\
\u{2014} arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n\
\u{2014} transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n\
\u{2014} witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n\
\u{2014} remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n\
\u{2014} witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n";
        let checkpoint = Checkpoint::from_note_unverified(note.as_bytes()).unwrap();
        assert_eq!(
            checkpoint.origin(),
            "arche2025h1.staging.ct.transparency.dev"
        );
        assert_eq!(checkpoint.size(), 1_432_088_532);
        assert_eq!(
            SignedNote::parse(note.as_bytes()).unwrap().to_bytes(),
            note.as_bytes()
        );
        // No Ed25519 key of ours signed it.
        let key = SecretKey::from_seed(&[1; 32]).public_key();
        assert!(matches!(
            SignedCheckpoint::verify(note.as_bytes(), checkpoint.origin(), &key),
            Err(CheckpointError::Note(NoteError::MissingSignature { .. }))
        ));
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let p = party();
        let origin = evidence_origin(&p.id());
        assert!(origin.starts_with("signet.evidence/signet1"));
        assert_eq!(evidence_party(&origin), Some(p.id()));
        assert_eq!(evidence_party("example.com/log"), None);
        let signed = Checkpoint::for_party(&p.id(), 42, Digest::of(b"r")).sign(&p.log_key);
        let bytes = signed.to_bytes();
        let checked = SignedCheckpoint::verify(&bytes, &origin, &p.log_key.public_key()).unwrap();
        assert_eq!(checked, signed);
        assert_eq!(checked.checkpoint().root(), &Digest::of(b"r"));
        assert_eq!(checked.to_bytes(), bytes);
        // Another party's origin, another key.
        let other = TestParty::new("Other Co", Timestamp::from_unix(1_800_000_000));
        assert!(matches!(
            SignedCheckpoint::verify(
                &bytes,
                &evidence_origin(&other.id()),
                &p.log_key.public_key()
            ),
            Err(CheckpointError::WrongOrigin { .. })
        ));
        assert!(matches!(
            SignedCheckpoint::verify(&bytes, &origin, &p.attest.public_key()),
            Err(CheckpointError::Note(NoteError::MissingSignature { .. }))
        ));
    }

    #[test]
    fn every_single_byte_change_of_a_signed_checkpoint_fails() {
        let p = party();
        let origin = evidence_origin(&p.id());
        let key = p.log_key.public_key();
        let bytes = Checkpoint::for_party(&p.id(), 1_000_000, Digest::of(b"root"))
            .sign(&p.log_key)
            .to_bytes();
        for i in 0..bytes.len() {
            for delta in [0x01u8, 0x02, 0x20, 0x80] {
                let mut changed = bytes.clone();
                changed[i] ^= delta;
                assert!(
                    SignedCheckpoint::verify(&changed, &origin, &key).is_err(),
                    "byte {i} ^ {delta:#x} accepted"
                );
            }
        }
        // Truncations and extensions too.
        for len in 0..bytes.len() {
            assert!(SignedCheckpoint::verify(&bytes[..len], &origin, &key).is_err());
        }
        let mut extended = bytes.clone();
        extended.extend_from_slice(b"\n");
        assert!(SignedCheckpoint::verify(&extended, &origin, &key).is_err());
    }

    #[test]
    fn bodies_have_one_spelling() {
        let root = BASE64.encode([7u8; 32]);
        let good = format!("o\n12\n{root}\n");
        Checkpoint::parse_body(&good).unwrap();
        let bad = [
            format!("o\n012\n{root}\n"),
            format!("o\n+12\n{root}\n"),
            format!("o\n 12\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("o\n12\n{}\n", root.trim_end_matches('=')),
            format!("o\n12\n{}\n", BASE64.encode([7u8; 31])),
            format!("o\n12\n{root}\nextension\n"),
            format!("o\n12\n{root}"),
            format!("\n12\n{root}\n"),
            format!("o o\n12\n{root}\n"),
            format!("o+o\n12\n{root}\n"),
            "o\n12\n".to_string(),
        ];
        for body in &bad {
            assert!(Checkpoint::parse_body(body).is_err(), "accepted {body:?}");
        }
        // Non-canonical base64: the last character's unused bits set.
        let mut noncanonical = root.clone();
        noncanonical.replace_range(42..43, "D");
        assert_ne!(noncanonical, root);
        assert!(Checkpoint::parse_body(&format!("o\n12\n{noncanonical}\n")).is_err());
        assert_eq!(
            Checkpoint::parse_body(&format!("o\n18446744073709551615\n{root}\n"))
                .unwrap()
                .size(),
            u64::MAX
        );
    }
}
