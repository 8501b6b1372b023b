//! Witness cosignatures: timestamped signatures on checkpoints (spec §10.5).
//!
//! This is C2SP `tlog-cosignature` version 1. The witness signs
//! `cosignature/v1\ntime <decimal unix seconds>\n` followed by the checkpoint body, and
//! writes the note signature line `— <witness name> <base64(key id ‖ time ‖ signature)>`,
//! where the key id uses signature type 0x04 and the time is 8 bytes big-endian. A valid
//! cosignature says: this witness saw this checkpoint no later than that time, and had
//! checked that it extends every checkpoint of the same log it cosigned before.

use crate::evidence::note::{
    COSIGNATURE_V1_TYPE, KeyId, NoteError, NoteSignature, is_valid_key_name,
};
use crate::{PublicKey, SecretKey, Signature, Timestamp};

/// Why a cosignature is malformed or does not verify (spec §10.5). Every variant is the
/// fault of whoever supplied the cosignature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// The checkpoint carries no cosignature by that witness key.
    #[error("no cosignature by the witness")]
    Missing,
    /// The signature line is not key id, 8-byte time and 64-byte signature.
    #[error("cosignature of {0} bytes, expected 4 + 8 + 64")]
    Length(usize),
    /// The cosignature names another witness, or its key id is not the witness key's.
    #[error("cosignature is by another key")]
    WrongKey,
    /// The signature does not verify over the checkpoint body at the stated time.
    #[error("cosignature does not verify")]
    BadSignature,
}

/// A witness's cosignature on a checkpoint body (spec §10.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    name: String,
    key_id: KeyId,
    time: Timestamp,
    signature: Signature,
}

/// The bytes a witness signs: `cosignature/v1\ntime <t>\n` and the checkpoint body.
pub fn cosigned_message(checkpoint_body: &str, time: Timestamp) -> Vec<u8> {
    format!("cosignature/v1\ntime {}\n{checkpoint_body}", time.unix()).into_bytes()
}

impl Cosignature {
    /// The cosignature of `checkpoint_body` at `time` by the witness `witness_name` (a valid
    /// key name) with key `witness_key`.
    pub fn sign(
        checkpoint_body: &str,
        witness_name: &str,
        witness_key: &SecretKey,
        time: Timestamp,
    ) -> Result<Self, NoteError> {
        if !is_valid_key_name(witness_name) {
            return Err(NoteError::InvalidKeyName(witness_name.to_string()));
        }
        Ok(Self::sign_unchecked(
            checkpoint_body,
            witness_name,
            witness_key,
            time,
        ))
    }

    /// [`sign`](Self::sign), for a caller that has checked that `witness_name` is a valid
    /// key name.
    pub(crate) fn sign_unchecked(
        checkpoint_body: &str,
        witness_name: &str,
        witness_key: &SecretKey,
        time: Timestamp,
    ) -> Self {
        Self {
            name: witness_name.to_string(),
            key_id: KeyId::derive(witness_name, COSIGNATURE_V1_TYPE, &witness_key.public_key()),
            time,
            signature: witness_key.sign(&cosigned_message(checkpoint_body, time)),
        }
    }

    /// Reads a cosignature from a note signature line (not yet verified).
    pub fn from_note_signature(line: &NoteSignature) -> Result<Self, CosignatureError> {
        let bytes = line.signature();
        if bytes.len() != 8 + Signature::LEN {
            return Err(CosignatureError::Length(4 + bytes.len()));
        }
        let (time, signature) = bytes.split_at(8);
        let mut seconds = [0u8; 8];
        seconds.copy_from_slice(time);
        let signature = Signature::from_slice(signature)
            .map_err(|_| CosignatureError::Length(4 + bytes.len()))?;
        Ok(Self {
            name: line.name().to_string(),
            key_id: line.key_id(),
            time: Timestamp::from_unix(u64::from_be_bytes(seconds)),
            signature,
        })
    }

    /// The note signature line for this cosignature.
    pub fn to_note_signature(&self) -> NoteSignature {
        let mut bytes = Vec::with_capacity(8 + Signature::LEN);
        bytes.extend_from_slice(&self.time.unix().to_be_bytes());
        bytes.extend_from_slice(self.signature.as_bytes());
        // The name was checked when the cosignature was made or parsed.
        NoteSignature::from_parts_unchecked(self.name.clone(), self.key_id, bytes)
    }

    /// The signature line, ending in a newline.
    pub fn line(&self) -> String {
        self.to_note_signature().line()
    }

    /// The witness's key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id in the line.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The time the witness states, not yet verified.
    pub fn time(&self) -> Timestamp {
        self.time
    }
}

/// Verifies that the witness `witness_name` with key `witness_key` cosigned
/// `checkpoint_body`, and returns the time it attests (spec §10.5).
pub fn verify_cosignature(
    checkpoint_body: &str,
    cosignature: &Cosignature,
    witness_key: &PublicKey,
    witness_name: &str,
) -> Result<Timestamp, CosignatureError> {
    let key_id = KeyId::derive(witness_name, COSIGNATURE_V1_TYPE, witness_key);
    if cosignature.name != witness_name || cosignature.key_id != key_id {
        return Err(CosignatureError::WrongKey);
    }
    witness_key
        .verify(
            &cosigned_message(checkpoint_body, cosignature.time),
            &cosignature.signature,
        )
        .map_err(|_| CosignatureError::BadSignature)?;
    Ok(cosignature.time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::note::SignedNote;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    /// A cosignature by the public witness `remora.n621.de` on a Certificate Transparency
    /// staging log's checkpoint: an interoperability vector from outside this code.
    #[test]
    fn known_answer_real_witness() {
        let body = "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n";
        let line = "\u{2014} remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n";
        // Verifier key remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2:
        // type 0x04, then the Ed25519 key.
        let vkey = BASE64
            .decode("BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
            .unwrap();
        assert_eq!(vkey[0], COSIGNATURE_V1_TYPE);
        let key = PublicKey::from_slice(&vkey[1..]).unwrap();
        assert_eq!(
            KeyId::derive("remora.n621.de", COSIGNATURE_V1_TYPE, &key).to_string(),
            "da77ade7"
        );
        assert_eq!(
            crate::evidence::note::verifier_key("remora.n621.de", COSIGNATURE_V1_TYPE, &key)
                .unwrap(),
            "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
        );
        let note = SignedNote::parse(format!("{body}\n{line}").as_bytes()).unwrap();
        let cosignature = Cosignature::from_note_signature(&note.signatures()[0]).unwrap();
        assert_eq!(cosignature.line(), line);
        let time = verify_cosignature(body, &cosignature, &key, "remora.n621.de").unwrap();
        assert_eq!(time, Timestamp::from_unix(0x6a12_2120));
        let other_body = body.replace("1432088532", "1432088533");
        assert_eq!(
            verify_cosignature(&other_body, &cosignature, &key, "remora.n621.de"),
            Err(CosignatureError::BadSignature)
        );
    }

    #[test]
    fn round_trip_and_refusals() {
        let witness = SecretKey::from_seed(&[5; 32]);
        let key = witness.public_key();
        let body = "example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let time = Timestamp::from_unix(1_800_000_123);
        let cosignature = Cosignature::sign(body, "witness.example", &witness, time).unwrap();
        assert_eq!(
            verify_cosignature(body, &cosignature, &key, "witness.example"),
            Ok(time)
        );
        let parsed = Cosignature::from_note_signature(&cosignature.to_note_signature()).unwrap();
        assert_eq!(parsed, cosignature);
        assert_eq!(
            verify_cosignature(body, &cosignature, &key, "witness.other"),
            Err(CosignatureError::WrongKey)
        );
        let other = SecretKey::from_seed(&[6; 32]).public_key();
        assert_eq!(
            verify_cosignature(body, &cosignature, &other, "witness.example"),
            Err(CosignatureError::WrongKey)
        );
        // A changed time is a changed message.
        let mut later = cosignature.clone();
        later.time = time.plus(1);
        assert_eq!(
            verify_cosignature(body, &later, &key, "witness.example"),
            Err(CosignatureError::BadSignature)
        );
        // A plain Ed25519 line (64 bytes) is not a cosignature.
        let plain = NoteSignature::sign_ed25519(body, "witness.example", &witness).unwrap();
        assert_eq!(
            Cosignature::from_note_signature(&plain),
            Err(CosignatureError::Length(68))
        );
        assert!(Cosignature::sign(body, "bad name", &witness, time).is_err());
    }
}
