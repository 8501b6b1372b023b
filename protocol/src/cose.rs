//! The COSE_Sign1 profile (spec §3.3).
//!
//! Every signed Signet object is a COSE_Sign1 (RFC 9052 §4.2), untagged, with:
//! - protected header: algorithm (label 1) = Ed25519 (-19; -8 "EdDSA" accepted on input),
//!   content type (label 3) = the object's media type, key id (label 4) = the signer's 32-byte
//!   Ed25519 public key; no other parameters;
//! - unprotected header: empty;
//! - payload: embedded, deterministic CBOR;
//! - external AAD: empty.
//!
//! The signature is checked over the exact bytes received (the protected header's original
//! bytes and the payload's bytes); nothing is re-encoded to be verified. The content type is
//! part of what is signed, so an object signed as one type cannot be replayed as another.
//! Which party the key speaks for, and whether it had that authority at the time, is the
//! caller's question (the key event log answers it).

use coset::{
    CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate, iana,
};
use serde::{Serialize, de::DeserializeOwned};

use crate::Digest;
use crate::codec::{self, DecodeError, EncodeError, Limits};
use crate::crypto::{self, KeyError, PublicKey, SecretKey, Signature};

/// Signature algorithms (spec §13.2). Version 1 knows Ed25519 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 as registered by RFC 9864 (COSE -19). What Signet writes.
    Ed25519,
    /// The deprecated polymorphic "EdDSA" (COSE -8), read as Ed25519 for compatibility.
    EdDsa,
}

/// Why a COSE_Sign1 was refused. Every variant is the sender's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoseError {
    /// The outer structure is not deterministic CBOR within the limits.
    #[error("signed object: {0}")]
    Encoding(DecodeError),
    /// The structure is not a COSE_Sign1.
    #[error("not a COSE_Sign1: {0}")]
    Structure(String),
    /// The protected header is not deterministic CBOR.
    #[error("protected header: {0}")]
    ProtectedHeader(DecodeError),
    /// No algorithm in the protected header.
    #[error("missing algorithm")]
    MissingAlgorithm,
    /// An algorithm other than Ed25519.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The content type is not the one expected here.
    #[error("content type {found:?} where {expected} was expected")]
    WrongContentType {
        /// What the caller expected.
        expected: &'static str,
        /// What the object says (none if absent).
        found: Option<String>,
    },
    /// No key id in the protected header.
    #[error("missing key id")]
    MissingKeyId,
    /// The key id is not a valid Ed25519 public key.
    #[error("key id: {0}")]
    KeyId(KeyError),
    /// A header parameter the profile does not allow (in either header).
    #[error("header parameter not allowed by the profile")]
    UnexpectedHeader,
    /// The payload is detached (nil).
    #[error("detached payload")]
    DetachedPayload,
    /// The signature is not 64 bytes.
    #[error("signature: {0}")]
    SignatureLength(KeyError),
    /// The signature does not verify under the key id.
    #[error("signature does not verify")]
    BadSignature,
    /// The payload is not a valid message of the expected type.
    #[error("payload: {0}")]
    Payload(DecodeError),
}

/// A COSE_Sign1 that has been parsed but whose signature has not been checked yet.
///
/// Used to check many signatures together (see [`verify_all`]); call
/// [`Unverified::verify`] or pass many to [`verify_all`].
#[derive(Debug, Clone)]
pub struct Unverified<T> {
    signed: Signed<T>,
    to_be_signed: Vec<u8>,
    signature: Signature,
}

/// A signed object whose signature verified under the key named in its header.
///
/// Holds the exact bytes received beside the decoded payload; hashing or forwarding the
/// object uses those bytes, never a re-encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed<T> {
    bytes: Vec<u8>,
    digest: Digest,
    payload: T,
    signer: PublicKey,
    algorithm: Algorithm,
}

impl<T> Signed<T> {
    /// The whole COSE_Sign1 as received or produced.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The decoded payload.
    pub fn payload(&self) -> &T {
        &self.payload
    }

    /// The key whose signature verified.
    pub fn signer(&self) -> &PublicKey {
        &self.signer
    }

    /// The algorithm named in the protected header.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// SHA-256 of [`Signed::bytes`]: how other objects refer to this one.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// Gives up the bytes and the payload.
    pub fn into_parts(self) -> (Vec<u8>, T) {
        (self.bytes, self.payload)
    }
}

impl<T: Serialize> Signed<T> {
    /// Encodes `payload` deterministically and signs it with `key` as `content_type`.
    pub fn sign(
        payload: T,
        content_type: &'static str,
        key: &SecretKey,
    ) -> Result<Self, EncodeError> {
        let payload_bytes = codec::encode(&payload)?;
        let signer = key.public_key();
        let protected = HeaderBuilder::new()
            .algorithm(iana::Algorithm::Ed25519)
            .content_type(content_type.to_string())
            .key_id(signer.as_bytes().to_vec())
            .build();
        let sign1 = CoseSign1Builder::new()
            .protected(protected)
            .payload(payload_bytes)
            .create_signature(b"", |tbs| key.sign(tbs).as_bytes().to_vec())
            .build();
        let bytes = sign1
            .to_vec()
            .map_err(|e| EncodeError::Serde(format!("cose: {e:?}")))?;
        Ok(Self {
            digest: Digest::of(&bytes),
            bytes,
            payload,
            signer,
            algorithm: Algorithm::Ed25519,
        })
    }
}

impl<T: DeserializeOwned> Signed<T> {
    /// Parses a COSE_Sign1 of the given content type and checks its signature.
    pub fn decode(
        bytes: &[u8],
        content_type: &'static str,
        limits: &Limits,
    ) -> Result<Self, CoseError> {
        Unverified::decode(bytes, content_type, limits)?.verify()
    }
}

impl<T: DeserializeOwned> Unverified<T> {
    /// Parses and checks everything but the signature.
    pub fn decode(
        bytes: &[u8],
        content_type: &'static str,
        limits: &Limits,
    ) -> Result<Self, CoseError> {
        codec::check_deterministic(bytes, limits).map_err(CoseError::Encoding)?;
        let sign1 =
            CoseSign1::from_slice(bytes).map_err(|e| CoseError::Structure(format!("{e:?}")))?;
        let protected_bytes = sign1.protected.original_data.as_deref().unwrap_or_default();
        codec::check_deterministic(protected_bytes, limits).map_err(CoseError::ProtectedHeader)?;
        let header = &sign1.protected.header;
        let algorithm = match &header.alg {
            None => return Err(CoseError::MissingAlgorithm),
            Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::Ed25519)) => {
                Algorithm::Ed25519
            }
            Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) => Algorithm::EdDsa,
            Some(other) => return Err(CoseError::UnsupportedAlgorithm(format!("{other:?}"))),
        };
        let found = match &header.content_type {
            Some(coset::ContentType::Text(text)) => Some(text.clone()),
            Some(coset::ContentType::Assigned(value)) => Some(format!("{value:?}")),
            None => None,
        };
        if found.as_deref() != Some(content_type) {
            return Err(CoseError::WrongContentType {
                expected: content_type,
                found,
            });
        }
        if header.key_id.is_empty() {
            return Err(CoseError::MissingKeyId);
        }
        let signer = PublicKey::from_slice(&header.key_id).map_err(CoseError::KeyId)?;
        let only_allowed = header.crit.is_empty()
            && header.iv.is_empty()
            && header.partial_iv.is_empty()
            && header.counter_signatures.is_empty()
            && header.rest.is_empty();
        if !only_allowed || !sign1.unprotected.is_empty() {
            return Err(CoseError::UnexpectedHeader);
        }
        let payload_bytes = sign1.payload.as_deref().ok_or(CoseError::DetachedPayload)?;
        let payload = codec::decode(payload_bytes, limits).map_err(CoseError::Payload)?;
        let signature =
            Signature::from_slice(&sign1.signature).map_err(CoseError::SignatureLength)?;
        Ok(Self {
            to_be_signed: sign1.tbs_data(b""),
            signature,
            signed: Signed {
                bytes: bytes.to_vec(),
                digest: Digest::of(bytes),
                payload,
                signer,
                algorithm,
            },
        })
    }
}

impl<T> Unverified<T> {
    /// Checks the signature (strict Ed25519).
    pub fn verify(self) -> Result<Signed<T>, CoseError> {
        self.signed
            .signer
            .verify(&self.to_be_signed, &self.signature)
            .map_err(|_| CoseError::BadSignature)?;
        Ok(self.signed)
    }

    /// The payload, not yet authenticated.
    pub fn payload(&self) -> &T {
        &self.signed.payload
    }
}

/// Checks many signatures, each strictly; on failure names the first bad object's index.
pub fn verify_all<T>(objects: Vec<Unverified<T>>) -> Result<Vec<Signed<T>>, usize> {
    let items: Vec<(&PublicKey, &[u8], &Signature)> = objects
        .iter()
        .map(|o| (&o.signed.signer, o.to_be_signed.as_slice(), &o.signature))
        .collect();
    crypto::verify_each(&items)?;
    Ok(objects.into_iter().map(|o| o.signed).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CT: &str = "application/vnd.signet.test+cbor";
    const OTHER: &str = "application/vnd.signet.other+cbor";

    fn sample() -> Signed<(u32, String)> {
        let key = SecretKey::from_seed(&[9; 32]);
        Signed::sign((7, "seal".to_string()), CT, &key).unwrap()
    }

    #[test]
    fn round_trip_and_determinism() {
        let signed = sample();
        codec::check_deterministic(signed.bytes(), &Limits::DEFAULT).unwrap();
        let back = Signed::<(u32, String)>::decode(signed.bytes(), CT, &Limits::DEFAULT).unwrap();
        assert_eq!(back, signed);
        assert_eq!(back.algorithm(), Algorithm::Ed25519);
    }

    #[test]
    fn content_type_is_bound() {
        let signed = sample();
        assert!(matches!(
            Signed::<(u32, String)>::decode(signed.bytes(), OTHER, &Limits::DEFAULT),
            Err(CoseError::WrongContentType { .. })
        ));
    }

    #[test]
    fn legacy_eddsa_identifier_is_accepted() {
        let key = SecretKey::from_seed(&[4; 32]);
        let protected = HeaderBuilder::new()
            .algorithm(iana::Algorithm::EdDSA)
            .content_type(CT.to_string())
            .key_id(key.public_key().as_bytes().to_vec())
            .build();
        let bytes = CoseSign1Builder::new()
            .protected(protected)
            .payload(codec::encode(&1u8).unwrap())
            .create_signature(b"", |tbs| key.sign(tbs).as_bytes().to_vec())
            .build()
            .to_vec()
            .unwrap();
        let signed = Signed::<u8>::decode(&bytes, CT, &Limits::DEFAULT).unwrap();
        assert_eq!(signed.algorithm(), Algorithm::EdDsa);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_byte_change_fails(pos in any::<prop::sample::Index>(), delta in 1u8..=255) {
            let signed = sample();
            let mut bytes = signed.bytes().to_vec();
            let i = pos.index(bytes.len());
            bytes[i] = bytes[i].wrapping_add(delta);
            prop_assert!(Signed::<(u32, String)>::decode(&bytes, CT, &Limits::DEFAULT).is_err());
        }
    }

    #[test]
    fn every_byte_change_fails_exhaustively() {
        let signed = sample();
        for i in 0..signed.bytes().len() {
            for delta in [1u8, 0x80, 0xff] {
                let mut bytes = signed.bytes().to_vec();
                bytes[i] = bytes[i].wrapping_add(delta);
                assert!(
                    Signed::<(u32, String)>::decode(&bytes, CT, &Limits::DEFAULT).is_err(),
                    "byte {i} + {delta} still verifies"
                );
            }
        }
    }

    #[test]
    fn verifying_together_matches_single() {
        let good = sample();
        let mut objects = vec![];
        for _ in 0..3 {
            objects.push(
                Unverified::<(u32, String)>::decode(good.bytes(), CT, &Limits::DEFAULT).unwrap(),
            );
        }
        assert_eq!(verify_all(objects).unwrap().len(), 3);
    }
}
