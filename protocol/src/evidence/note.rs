//! C2SP signed notes: text followed by signature lines (spec §10.4).
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
//! `— <key name> <base64(key id ‖ signature)>`, each ending in a newline (the dash is U+2014
//! EM DASH followed by a space). The key id is the first four bytes of
//! SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key), which lets a verifier skip the
//! lines of keys it does not know without trying them. Signet uses two signature types:
//! Ed25519 (0x01) for a log's own checkpoint signature, and timestamped cosignatures
//! (0x04, C2SP `tlog-cosignature`) for witnesses.
//!
//! Parsing is strict: the note has a size limit, contains no control characters other than
//! the newline, every signature line is well formed (canonical padded base64, a valid key
//! name) whoever it is from, and no key signs twice. Lines of unknown keys are kept, so that
//! the note's bytes round-trip exactly, and ignored by verification.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::{Digest, PublicKey, SecretKey, Signature};

/// The largest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 16 * 1024;

/// The most signature lines a note may carry.
pub const MAX_SIGNATURES: usize = 64;

/// The start of every signature line: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Signature type byte of a plain Ed25519 note signature (C2SP signed-note).
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// Signature type byte of a timestamped witness cosignature (C2SP tlog-cosignature).
pub const COSIGNATURE_V1_TYPE: u8 = 0x04;

/// The four-byte identifier of a (key name, signature type, public key) triple
/// (spec §10.4, C2SP signed-note).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 4]);

impl KeyId {
    /// First four bytes of SHA-256(name ‖ 0x0A ‖ signature type ‖ public key).
    pub fn derive(name: &str, signature_type: u8, key: &PublicKey) -> Self {
        let digest = Digest::of_parts(&[name.as_bytes(), b"\n", &[signature_type], key.as_bytes()]);
        let d = digest.as_bytes();
        Self([d[0], d[1], d[2], d[3]])
    }

    /// Wraps four bytes.
    pub const fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(bytes)
    }

    /// The four bytes.
    pub const fn as_bytes(&self) -> &[u8; 4] {
        &self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Eight lower-case hexadecimal digits, as in verifier keys (`name+c74f20a3+…`).
impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Why a note is malformed, or does not carry a valid signature by the expected key
/// (spec §10.4). Every variant is the fault of whoever supplied the note.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_BYTES`].
    #[error("note of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// The note's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The note is not UTF-8, or contains a control character other than the newline.
    #[error("note is not utf-8 text without control characters")]
    InvalidText,
    /// The text is empty, starts with an empty line, or does not end in a newline.
    #[error("note text is empty, starts with an empty line or does not end in a newline")]
    InvalidBody,
    /// There is no blank line followed by signature lines ending in a newline.
    #[error("note has no signature block")]
    NoSignatures,
    /// A signature line is not `— <name> <base64>` with a valid name and canonical base64
    /// of at least five bytes.
    #[error("signature line {line} is malformed")]
    MalformedSignatureLine {
        /// The line's position in the signature block, from 0.
        line: usize,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("more than {max} signature lines")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// Two signature lines have the same key name and key id.
    #[error("key {name} ({key_id}) signs the note twice")]
    DuplicateSignature {
        /// The key name.
        name: String,
        /// The key id.
        key_id: KeyId,
    },
    /// A key name is empty, or contains a space or a plus sign.
    #[error("invalid key name {0:?}")]
    InvalidKeyName(String),
    /// The note carries no signature by the expected key.
    #[error("no signature by key {name} ({key_id})")]
    MissingSignature {
        /// The expected key name.
        name: String,
        /// The expected key id.
        key_id: KeyId,
    },
    /// The expected key's signature has the wrong length or does not verify.
    #[error("signature by key {name} does not verify")]
    BadSignature {
        /// The key name.
        name: String,
    },
}

/// The C2SP verifier key text `<name>+<key id>+<base64(signature type ‖ key)>` that other
/// implementations take as configuration (Go's `note.NewVerifier`, witnesses' log lists).
pub fn verifier_key(name: &str, signature_type: u8, key: &PublicKey) -> Result<String, NoteError> {
    if !is_valid_key_name(name) {
        return Err(NoteError::InvalidKeyName(name.to_string()));
    }
    let mut typed = Vec::with_capacity(1 + PublicKey::LEN);
    typed.push(signature_type);
    typed.extend_from_slice(key.as_bytes());
    Ok(format!(
        "{name}+{}+{}",
        KeyId::derive(name, signature_type, key),
        BASE64.encode(typed)
    ))
}

/// Whether `name` is a valid key name: non-empty, no Unicode space, no plus sign.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// One signature line of a note (spec §10.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    name: String,
    key_id: KeyId,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// A signature line by key `name` with id `key_id`; `signature` is what follows the key
    /// id (64 bytes for Ed25519, 72 for a cosignature).
    pub fn new(name: &str, key_id: KeyId, signature: Vec<u8>) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_string()));
        }
        if signature.is_empty() {
            return Err(NoteError::MalformedSignatureLine { line: 0 });
        }
        Ok(Self {
            name: name.to_string(),
            key_id,
            signature,
        })
    }

    /// A signature line for a caller that has checked that `name` is a valid key name and
    /// `signature` is not empty.
    pub(crate) fn from_parts_unchecked(name: String, key_id: KeyId, signature: Vec<u8>) -> Self {
        Self {
            name,
            key_id,
            signature,
        }
    }

    /// The plain Ed25519 signature of `text` by `key` under the key name `name`.
    pub fn sign_ed25519(text: &str, name: &str, key: &SecretKey) -> Result<Self, NoteError> {
        let key_id = KeyId::derive(name, ED25519_SIGNATURE_TYPE, &key.public_key());
        let signature = key.sign(text.as_bytes());
        Self::new(name, key_id, signature.as_bytes().to_vec())
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature bytes after the key id.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signature line, ending in a newline.
    pub fn line(&self) -> String {
        let mut blob = Vec::with_capacity(4 + self.signature.len());
        blob.extend_from_slice(&self.key_id.0);
        blob.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(blob))
    }

    /// Parses one signature line as [`line`](Self::line) writes it: `— <name> <base64>`
    /// and exactly one newline at the end (a witness's answer carries one, spec §10.5.4).
    pub fn parse(line: &str) -> Result<Self, NoteError> {
        let body = line
            .strip_suffix('\n')
            .ok_or(NoteError::MalformedSignatureLine { line: 0 })?;
        if body.chars().any(|c| c.is_ascii_control()) {
            return Err(NoteError::InvalidText);
        }
        Self::parse_line(body, 0)
    }

    /// Parses one signature line without its newline.
    fn parse_line(line: &str, index: usize) -> Result<Self, NoteError> {
        let malformed = NoteError::MalformedSignatureLine { line: index };
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(malformed.clone())?;
        let (name, encoded) = rest.split_once(' ').ok_or(malformed.clone())?;
        if !is_valid_key_name(name) || encoded.is_empty() {
            return Err(malformed);
        }
        let blob = BASE64.decode(encoded).map_err(|_| malformed.clone())?;
        // Only the canonical encoding of the bytes is accepted, so a note has one spelling.
        if blob.len() < 5 || BASE64.encode(&blob) != encoded {
            return Err(malformed);
        }
        let (key_id, signature) = blob.split_at(4);
        Ok(Self {
            name: name.to_string(),
            key_id: KeyId([key_id[0], key_id[1], key_id[2], key_id[3]]),
            signature: signature.to_vec(),
        })
    }
}

/// A parsed signed note (spec §10.4): its text and its signature lines, in order.
///
/// [`to_bytes`](Self::to_bytes) gives back exactly the bytes that were parsed.
///
/// ```
/// use signet_protocol::evidence::note::{NoteSignature, SignedNote};
/// use signet_protocol::SecretKey;
///
/// let key = SecretKey::from_seed(&[9; 32]);
/// let signature = NoteSignature::sign_ed25519("hello\n", "example.com/log", &key)?;
/// let note = SignedNote::new("hello\n", vec![signature])?;
/// let bytes = note.to_bytes();
/// assert!(bytes.starts_with(b"hello\n\n\xe2\x80\x94 example.com/log "));
/// let parsed = SignedNote::parse(&bytes)?;
/// parsed.verify_ed25519("example.com/log", &key.public_key())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// A note of `text` (non-empty, not starting with an empty line, ending in a newline)
    /// with these signatures.
    pub fn new(text: &str, signatures: Vec<NoteSignature>) -> Result<Self, NoteError> {
        check_text(text)?;
        let mut note = Self {
            text: text.to_string(),
            signatures: Vec::with_capacity(signatures.len()),
        };
        for signature in signatures {
            note.add_signature(signature)?;
        }
        if note.signatures.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        Ok(note)
    }

    /// A note of one signature, for a caller that has checked that `text` is a valid note
    /// text (see `check_text`).
    pub(crate) fn from_parts_unchecked(text: String, signature: NoteSignature) -> Self {
        Self {
            text,
            signatures: vec![signature],
        }
    }

    /// Parses a note, checking its form but no signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                len: bytes.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        let all = std::str::from_utf8(bytes).map_err(|_| NoteError::InvalidText)?;
        if all.chars().any(|c| c.is_ascii_control() && c != '\n') {
            return Err(NoteError::InvalidText);
        }
        // The signature block follows the last blank line; signature lines are never empty.
        let split = all.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let (text, block) = (&all[..=split], &all[split + 2..]);
        check_text(text)?;
        let block = block.strip_suffix('\n').ok_or(NoteError::NoSignatures)?;
        let mut note = Self {
            text: text.to_string(),
            signatures: Vec::new(),
        };
        for (index, line) in block.split('\n').enumerate() {
            if index >= MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    max: MAX_SIGNATURES,
                });
            }
            note.add_signature(NoteSignature::parse_line(line, index)?)?;
        }
        Ok(note)
    }

    /// The note's text: the signed bytes, ending in a newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line at the end, refusing a second line by the same key.
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<(), NoteError> {
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        if self.find(&signature.name, signature.key_id).is_some() {
            return Err(NoteError::DuplicateSignature {
                name: signature.name,
                key_id: signature.key_id,
            });
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// The signature line of key `name` with id `key_id`, if the note has one.
    pub fn find(&self, name: &str, key_id: KeyId) -> Option<&NoteSignature> {
        self.signatures
            .iter()
            .find(|s| s.key_id == key_id && s.name == name)
    }

    /// Checks that key `name` with public key `key` signed the text (plain Ed25519).
    /// Lines of other keys are ignored.
    pub fn verify_ed25519(&self, name: &str, key: &PublicKey) -> Result<(), NoteError> {
        let key_id = KeyId::derive(name, ED25519_SIGNATURE_TYPE, key);
        let line = self
            .find(name, key_id)
            .ok_or_else(|| NoteError::MissingSignature {
                name: name.to_string(),
                key_id,
            })?;
        let bad = || NoteError::BadSignature {
            name: name.to_string(),
        };
        let signature = Signature::from_slice(&line.signature).map_err(|_| bad())?;
        key.verify(self.text.as_bytes(), &signature)
            .map_err(|_| bad())
    }

    /// The note's bytes: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_text().into_bytes()
    }

    /// The note as text (it is UTF-8): text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 1 + 128 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.line());
        }
        out
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || text.starts_with('\n') || !text.ends_with('\n') {
        return Err(NoteError::InvalidBody);
    }
    if text.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(NoteError::InvalidText);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of golang.org/x/mod/sumdb/note (and of C2SP signed-note's tests):
    /// key `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`.
    const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                              then you don't know what your problem is.\n";
    const PETER_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
        then you don't know what your problem is.\n\
        \n\
        \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    fn peter_keys() -> (SecretKey, PublicKey) {
        // The private key is `PRIVATE+KEY+PeterNeumann+c74f20a3+` and the base64 of
        // 0x01 ‖ seed; the public key the base64 of 0x01 ‖ key.
        let seed = BASE64
            .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .unwrap();
        let public = BASE64
            .decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .unwrap();
        let secret = SecretKey::from_seed(&seed[1..].try_into().unwrap());
        let public = PublicKey::from_slice(&public[1..]).unwrap();
        assert_eq!(secret.public_key(), public);
        (secret, public)
    }

    #[test]
    fn known_answer_go_sumdb_note() {
        let (secret, public) = peter_keys();
        assert_eq!(
            KeyId::derive("PeterNeumann", ED25519_SIGNATURE_TYPE, &public).to_string(),
            "c74f20a3"
        );
        let signature = NoteSignature::sign_ed25519(PETER_TEXT, "PeterNeumann", &secret).unwrap();
        let note = SignedNote::new(PETER_TEXT, vec![signature]).unwrap();
        assert_eq!(note.to_bytes(), PETER_NOTE.as_bytes());
        let parsed = SignedNote::parse(PETER_NOTE.as_bytes()).unwrap();
        assert_eq!(parsed, note);
        assert_eq!(parsed.text(), PETER_TEXT);
        parsed.verify_ed25519("PeterNeumann", &public).unwrap();
        assert_eq!(
            verifier_key("PeterNeumann", ED25519_SIGNATURE_TYPE, &public).unwrap(),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
    }

    #[test]
    fn verification_needs_the_right_name_and_key() {
        let (_, public) = peter_keys();
        let note = SignedNote::parse(PETER_NOTE.as_bytes()).unwrap();
        assert!(matches!(
            note.verify_ed25519("PeterNeumann2", &public),
            Err(NoteError::MissingSignature { .. })
        ));
        let other = SecretKey::from_seed(&[1; 32]).public_key();
        assert!(matches!(
            note.verify_ed25519("PeterNeumann", &other),
            Err(NoteError::MissingSignature { .. })
        ));
        // Same name and key id, different text: the signature fails.
        let mut altered = note.clone();
        altered.text = "If you think\n".into();
        assert_eq!(
            altered.verify_ed25519("PeterNeumann", &public),
            Err(NoteError::BadSignature {
                name: "PeterNeumann".into()
            })
        );
    }

    #[test]
    fn unknown_signature_lines_are_kept_and_ignored() {
        let (secret, public) = peter_keys();
        let other = SecretKey::from_seed(&[2; 32]);
        let mut note = SignedNote::parse(PETER_NOTE.as_bytes()).unwrap();
        note.add_signature(NoteSignature::sign_ed25519(PETER_TEXT, "EnochRoot", &other).unwrap())
            .unwrap();
        // A line of another type from the same name is another key.
        let cosig_id = KeyId::derive("PeterNeumann", COSIGNATURE_V1_TYPE, &public);
        note.add_signature(NoteSignature::new("PeterNeumann", cosig_id, vec![7; 72]).unwrap())
            .unwrap();
        let bytes = note.to_bytes();
        let parsed = SignedNote::parse(&bytes).unwrap();
        assert_eq!(parsed.signatures().len(), 3);
        assert_eq!(parsed.to_bytes(), bytes);
        parsed.verify_ed25519("PeterNeumann", &public).unwrap();
        parsed
            .verify_ed25519("EnochRoot", &other.public_key())
            .unwrap();
        // Signing twice with one key is refused.
        let again = NoteSignature::sign_ed25519(PETER_TEXT, "PeterNeumann", &secret).unwrap();
        assert!(matches!(
            note.add_signature(again.clone()),
            Err(NoteError::DuplicateSignature { .. })
        ));
        let doubled = format!("{PETER_NOTE}{}", again.line());
        assert!(matches!(
            SignedNote::parse(doubled.as_bytes()),
            Err(NoteError::DuplicateSignature { .. })
        ));
    }

    #[test]
    fn malformed_notes_are_refused() {
        let bad = |text: &str| SignedNote::parse(text.as_bytes());
        let line = PETER_NOTE.split("\n\n").nth(1).unwrap();
        let cases = [
            // No blank line, no signatures, no final newline.
            PETER_TEXT.to_string(),
            format!("{PETER_TEXT}\n"),
            PETER_NOTE.trim_end_matches('\n').to_string(),
            // An empty text, an empty signature line, trailing garbage.
            format!("\n\n{line}"),
            format!("{PETER_TEXT}\n{line}\n"),
            format!("{PETER_NOTE}garbage"),
            format!("{PETER_NOTE}garbage\n"),
            // Other dashes, missing space, spaces in the name, non-canonical base64.
            PETER_NOTE.replace('\u{2014}', "-"),
            PETER_NOTE.replace("\u{2014} ", "\u{2014}"),
            PETER_NOTE.replace("PeterNeumann", "Peter Neumann"),
            PETER_NOTE.replace("PeterNeumann", "Peter+Neumann"),
            PETER_NOTE.replace("PeterNeumann", "Peter\u{a0}Neumann"),
            PETER_NOTE.replace("AM=", "AN="),
            PETER_NOTE.replace("AM=", "AM"),
            PETER_NOTE.replace("x08go", "x08go "),
            // Control characters.
            PETER_NOTE.replace("answer", "ans\rwer"),
            PETER_NOTE.replace("answer", "ans\u{0}wer"),
        ];
        for case in &cases {
            assert!(bad(case).is_err(), "accepted {case:?}");
        }
        assert!(matches!(
            SignedNote::parse(&[0xff, b'\n', b'\n']),
            Err(NoteError::InvalidText)
        ));
        let huge = format!("{}\n\n{line}", "a".repeat(MAX_NOTE_BYTES));
        assert!(matches!(bad(&huge), Err(NoteError::TooLarge { .. })));
        let many: String = (0..=MAX_SIGNATURES)
            .map(|i| {
                NoteSignature::new(&format!("k{i}"), KeyId([0; 4]), vec![1; 64])
                    .unwrap()
                    .line()
            })
            .collect();
        assert!(matches!(
            bad(&format!("{PETER_TEXT}\n{many}")),
            Err(NoteError::TooManySignatures { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_round_trips(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            if let Ok(note) = SignedNote::parse(&bytes) {
                proptest::prop_assert_eq!(note.to_bytes(), bytes);
            }
        }

        #[test]
        fn spliced_notes_never_panic(cut in 0usize..200, insert in ".{0,8}") {
            let mut text = PETER_NOTE.to_string();
            let at = text.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(text.len());
            text.insert_str(at, &insert);
            if let Ok(note) = SignedNote::parse(text.as_bytes()) {
                proptest::prop_assert_eq!(note.to_text(), text);
            }
        }
    }

    #[test]
    fn every_single_byte_change_is_refused_or_fails_verification() {
        let (_, public) = peter_keys();
        let bytes = PETER_NOTE.as_bytes();
        for i in 0..bytes.len() {
            for delta in [1u8, 0x20, 0x80] {
                let mut changed = bytes.to_vec();
                changed[i] ^= delta;
                let verified = SignedNote::parse(&changed)
                    .and_then(|note| note.verify_ed25519("PeterNeumann", &public));
                assert!(verified.is_err(), "byte {i} ^ {delta:#x} accepted");
            }
        }
    }
}
