//! The COSE_Sign1 profile (spec §3.3).
//!
//! Every signed Signet object is a COSE_Sign1 (RFC 9052 §4.2), untagged, with:
//! - protected header: algorithm (label 1) = Ed25519 (-19; -8 "EdDSA" accepted on input),
//!   content type (label 3) = the object's media type, key id (label 4) = the signer's 32-byte
//!   Ed25519 public key; no other parameters. A seal signature, an attestation or an intent
//!   proof may instead be SM2 with SM3 (private-use [`ALG_SM2_SM3`], spec §13.2), its key id
//!   the 33-byte compressed SEC1 key and its signature the 64 bytes `r ‖ s`;
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
use crate::keylog::{ALG_SM2_SM3, LogKey, LogSecretKey};
use crate::sm2::{Sm2PublicKey, Sm2SecretKey, Sm2Signature};

/// Signature algorithms (spec §13.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 as registered by RFC 9864 (COSE -19). What Signet writes.
    Ed25519,
    /// The deprecated polymorphic "EdDSA" (COSE -8), read as Ed25519 for compatibility.
    EdDsa,
    /// SM2 with SM3 and the default distinguishing identifier (GB/T 32918.2), private-use
    /// [`ALG_SM2_SM3`]: only where the object's type allows it (a seal signature, an attestation, an intent proof).
    Sm2Sm3,
}

impl Algorithm {
    /// The header's algorithm label.
    fn label(self) -> RegisteredLabelWithPrivate<iana::Algorithm> {
        match self {
            Self::Ed25519 => RegisteredLabelWithPrivate::Assigned(iana::Algorithm::Ed25519),
            Self::EdDsa => RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA),
            Self::Sm2Sm3 => RegisteredLabelWithPrivate::PrivateUse(ALG_SM2_SM3),
        }
    }

    /// The algorithm a header names, if this version knows it.
    fn of_label(label: &RegisteredLabelWithPrivate<iana::Algorithm>) -> Option<Self> {
        match label {
            RegisteredLabelWithPrivate::Assigned(iana::Algorithm::Ed25519) => Some(Self::Ed25519),
            RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA) => Some(Self::EdDsa),
            RegisteredLabelWithPrivate::PrivateUse(ALG_SM2_SM3) => Some(Self::Sm2Sm3),
            _ => None,
        }
    }
}

/// The kind of key a signed object's type may be signed with: what its key id can name, and
/// how its signature is checked. Objects of most types are Ed25519 only ([`PublicKey`]); a
/// seal signature may be Ed25519 or SM2 ([`LogKey`]).
pub trait CoseKey: Sized {
    /// The key `key_id` names under `algorithm`: [`CoseError::UnsupportedAlgorithm`] for an
    /// algorithm this kind of key does not cover, [`CoseError::KeyId`] for bytes that are not
    /// a valid key of it.
    fn from_key_id(algorithm: Algorithm, key_id: &[u8]) -> Result<Self, CoseError>;

    /// Strict verification of the 64-byte `signature` over `to_be_signed`.
    fn verifies(&self, to_be_signed: &[u8], signature: &[u8; 64]) -> bool;
}

impl CoseKey for PublicKey {
    fn from_key_id(algorithm: Algorithm, key_id: &[u8]) -> Result<Self, CoseError> {
        match algorithm {
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                PublicKey::from_slice(key_id).map_err(CoseError::KeyId)
            }
            Algorithm::Sm2Sm3 => Err(CoseError::UnsupportedAlgorithm(format!("{algorithm:?}"))),
        }
    }

    fn verifies(&self, to_be_signed: &[u8], signature: &[u8; 64]) -> bool {
        self.verify(to_be_signed, &Signature::from_bytes(*signature))
            .is_ok()
    }
}

impl CoseKey for LogKey {
    fn from_key_id(algorithm: Algorithm, key_id: &[u8]) -> Result<Self, CoseError> {
        match algorithm {
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                PublicKey::from_key_id(algorithm, key_id).map(LogKey::Ed25519)
            }
            Algorithm::Sm2Sm3 => Sm2PublicKey::from_compressed(key_id)
                .map(LogKey::Sm2)
                .map_err(|e| CoseError::Sm2KeyId(e.to_string())),
        }
    }

    fn verifies(&self, to_be_signed: &[u8], signature: &[u8; 64]) -> bool {
        match self {
            LogKey::Ed25519(key) => key.verifies(to_be_signed, signature),
            LogKey::Sm2(key) => Sm2Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(to_be_signed, &s).is_ok()),
            // `from_key_id` builds no other kind.
            LogKey::EcdsaP256(_) | LogKey::Rsa(_) | LogKey::Unsupported { .. } => false,
        }
    }
}

/// A secret key that signs objects whose signer is a `Self::Public`.
pub trait CoseSigner {
    /// The kind of public key the signed object names.
    type Public;
    /// The algorithm written in the header.
    fn algorithm(&self) -> Algorithm;
    /// The public key, and its key id bytes.
    fn public(&self) -> (Self::Public, Vec<u8>);
    /// The 64-byte signature over `to_be_signed`.
    fn sign_bytes(&self, to_be_signed: &[u8]) -> [u8; 64];
}

/// A shared key signs as the key it shares.
impl<S: CoseSigner> CoseSigner for std::sync::Arc<S> {
    type Public = S::Public;

    fn algorithm(&self) -> Algorithm {
        (**self).algorithm()
    }

    fn public(&self) -> (S::Public, Vec<u8>) {
        (**self).public()
    }

    fn sign_bytes(&self, to_be_signed: &[u8]) -> [u8; 64] {
        (**self).sign_bytes(to_be_signed)
    }
}

impl CoseSigner for SecretKey {
    type Public = PublicKey;

    fn algorithm(&self) -> Algorithm {
        Algorithm::Ed25519
    }

    fn public(&self) -> (PublicKey, Vec<u8>) {
        let key = self.public_key();
        (key, key.as_bytes().to_vec())
    }

    fn sign_bytes(&self, to_be_signed: &[u8]) -> [u8; 64] {
        *self.sign(to_be_signed).as_bytes()
    }
}

impl CoseSigner for Sm2SecretKey {
    type Public = Sm2PublicKey;

    fn algorithm(&self) -> Algorithm {
        Algorithm::Sm2Sm3
    }

    fn public(&self) -> (Sm2PublicKey, Vec<u8>) {
        let key = self.public_key();
        (key, key.as_bytes().to_vec())
    }

    fn sign_bytes(&self, to_be_signed: &[u8]) -> [u8; 64] {
        *self.sign(to_be_signed).as_bytes()
    }
}

impl CoseSigner for LogSecretKey {
    type Public = LogKey;

    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::Sm2(_) => Algorithm::Sm2Sm3,
        }
    }

    fn public(&self) -> (LogKey, Vec<u8>) {
        let key = self.public_key();
        let id = key.wire_bytes().to_vec();
        (key, id)
    }

    fn sign_bytes(&self, to_be_signed: &[u8]) -> [u8; 64] {
        match self {
            Self::Ed25519(key) => key.sign_bytes(to_be_signed),
            Self::Sm2(key) => key.sign_bytes(to_be_signed),
        }
    }
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
    /// An algorithm this version does not know, or one this object's type may not be
    /// signed with.
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
    /// The key id is not a valid SM2 public key (33-byte compressed SEC1, on the curve).
    #[error("key id: {0}")]
    Sm2KeyId(String),
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
pub struct Unverified<T, K = PublicKey> {
    signed: Signed<T, K>,
    to_be_signed: Vec<u8>,
    signature: [u8; 64],
}

/// A signed object whose signature verified under the key named in its header: an Ed25519
/// key unless the object's type allows more ([`CoseKey`]).
///
/// Holds the exact bytes received beside the decoded payload; hashing or forwarding the
/// object uses those bytes, never a re-encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed<T, K = PublicKey> {
    bytes: Vec<u8>,
    digest: Digest,
    payload: T,
    signer: K,
    algorithm: Algorithm,
}

impl<T, K> Signed<T, K> {
    /// The whole COSE_Sign1 as received or produced.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The decoded payload.
    pub fn payload(&self) -> &T {
        &self.payload
    }

    /// The key whose signature verified.
    pub fn signer(&self) -> &K {
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

    /// The same object with its signer as a wider kind of key (an Ed25519 key as a
    /// [`LogKey`] or a person's key): the same key, verified the same way.
    pub fn into_key<K2>(self) -> Signed<T, K2>
    where
        K: Into<K2>,
    {
        Signed {
            bytes: self.bytes,
            digest: self.digest,
            payload: self.payload,
            signer: self.signer.into(),
            algorithm: self.algorithm,
        }
    }

    /// The same object with its signer as a key of any algorithm, for a field that accepts
    /// more than one (a seal signature).
    pub fn into_log_key(self) -> Signed<T, LogKey>
    where
        K: Into<LogKey>,
    {
        Signed {
            bytes: self.bytes,
            digest: self.digest,
            payload: self.payload,
            signer: self.signer.into(),
            algorithm: self.algorithm,
        }
    }
}

impl<T: Serialize, K> Signed<T, K> {
    /// Encodes `payload` deterministically and signs it with `key` as `content_type`.
    pub fn sign<S: CoseSigner<Public = K>>(
        payload: T,
        content_type: &'static str,
        key: &S,
    ) -> Result<Self, EncodeError> {
        let payload_bytes = codec::encode(&payload)?;
        let (signer, key_id) = key.public();
        let algorithm = key.algorithm();
        let mut protected = HeaderBuilder::new()
            .content_type(content_type.to_string())
            .key_id(key_id)
            .build();
        protected.alg = Some(algorithm.label());
        let sign1 = CoseSign1Builder::new()
            .protected(protected)
            .payload(payload_bytes)
            .create_signature(b"", |tbs| key.sign_bytes(tbs).to_vec())
            .build();
        let bytes = sign1
            .to_vec()
            .map_err(|e| EncodeError::Serde(format!("cose: {e:?}")))?;
        Ok(Self {
            digest: Digest::of(&bytes),
            bytes,
            payload,
            signer,
            algorithm,
        })
    }
}

impl<T: DeserializeOwned, K: CoseKey> Signed<T, K> {
    /// Parses a COSE_Sign1 of the given content type and checks its signature.
    pub fn decode(
        bytes: &[u8],
        content_type: &'static str,
        limits: &Limits,
    ) -> Result<Self, CoseError> {
        Unverified::decode(bytes, content_type, limits)?.verify()
    }
}

impl<T: DeserializeOwned, K: CoseKey> Unverified<T, K> {
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
            Some(label) => Algorithm::of_label(label)
                .ok_or_else(|| CoseError::UnsupportedAlgorithm(format!("{label:?}")))?,
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
        let signer = K::from_key_id(algorithm, &header.key_id)?;
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
        let signature = *Signature::from_slice(&sign1.signature)
            .map_err(CoseError::SignatureLength)?
            .as_bytes();
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

impl<T, K: CoseKey> Unverified<T, K> {
    /// Checks the signature (strict Ed25519, or SM2 where the type allows it).
    pub fn verify(self) -> Result<Signed<T, K>, CoseError> {
        if !self
            .signed
            .signer
            .verifies(&self.to_be_signed, &self.signature)
        {
            return Err(CoseError::BadSignature);
        }
        Ok(self.signed)
    }

    /// The payload, not yet authenticated.
    pub fn payload(&self) -> &T {
        &self.signed.payload
    }
}

/// Checks many signatures, each strictly; on failure names the first bad object's index.
pub fn verify_all<T>(objects: Vec<Unverified<T>>) -> Result<Vec<Signed<T>>, usize> {
    let signatures: Vec<Signature> = objects
        .iter()
        .map(|o| Signature::from_bytes(o.signature))
        .collect();
    let items: Vec<(&PublicKey, &[u8], &Signature)> = objects
        .iter()
        .zip(&signatures)
        .map(|(o, s)| (&o.signed.signer, o.to_be_signed.as_slice(), s))
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

    fn sm2_sample() -> Signed<(u32, String), LogKey> {
        let key = Sm2SecretKey::from_bytes(&[9; 32]).unwrap();
        Signed::sign((7, "seal".to_string()), CT, &key)
            .unwrap()
            .into_log_key()
    }

    #[test]
    fn an_sm2_object_reads_back_where_the_type_allows_sm2() {
        let signed = sm2_sample();
        codec::check_deterministic(signed.bytes(), &Limits::DEFAULT).unwrap();
        assert_eq!(signed.algorithm(), Algorithm::Sm2Sm3);
        let back =
            Signed::<(u32, String), LogKey>::decode(signed.bytes(), CT, &Limits::DEFAULT).unwrap();
        assert_eq!(back, signed);
        assert!(matches!(back.signer(), LogKey::Sm2(_)));
        // An Ed25519 object reads back as a LogKey too.
        let ed = Signed::<(u32, String), LogKey>::decode(sample().bytes(), CT, &Limits::DEFAULT)
            .unwrap();
        assert_eq!(ed.signer(), &LogKey::Ed25519(*sample().signer()));
    }

    #[test]
    fn an_sm2_object_is_refused_where_the_type_is_ed25519_only() {
        let signed = sm2_sample();
        assert!(matches!(
            Signed::<(u32, String)>::decode(signed.bytes(), CT, &Limits::DEFAULT),
            Err(CoseError::UnsupportedAlgorithm(_))
        ));
    }

    /// An object whose header names `algorithm` and `key_id`, signed by `sign`.
    fn with_header(
        algorithm: Algorithm,
        key_id: Vec<u8>,
        sign: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Vec<u8> {
        let mut protected = HeaderBuilder::new()
            .content_type(CT.to_string())
            .key_id(key_id)
            .build();
        protected.alg = Some(algorithm.label());
        CoseSign1Builder::new()
            .protected(protected)
            .payload(codec::encode(&1u8).unwrap())
            .create_signature(b"", sign)
            .build()
            .to_vec()
            .unwrap()
    }

    #[test]
    fn an_sm2_key_id_must_be_a_compressed_point_of_the_curve() {
        let key = Sm2SecretKey::from_bytes(&[3; 32]).unwrap();
        let uncompressed = key.public_key().to_uncompressed().to_vec();
        let mut off_curve = key.public_key().as_bytes().to_vec();
        off_curve[32] ^= 1;
        for key_id in [uncompressed, off_curve, vec![2; 32]] {
            let bytes = with_header(Algorithm::Sm2Sm3, key_id, |tbs| {
                key.sign(tbs).as_bytes().to_vec()
            });
            assert!(
                matches!(
                    Signed::<u8, LogKey>::decode(&bytes, CT, &Limits::DEFAULT),
                    Err(CoseError::Sm2KeyId(_))
                ),
                "accepted"
            );
        }
    }

    #[test]
    fn an_sm2_signature_under_another_algorithm_or_key_fails() {
        let key = Sm2SecretKey::from_bytes(&[3; 32]).unwrap();
        let other = Sm2SecretKey::from_bytes(&[4; 32]).unwrap();
        // Signed by one SM2 key, naming another.
        let bytes = with_header(
            Algorithm::Sm2Sm3,
            other.public_key().as_bytes().to_vec(),
            |tbs| key.sign(tbs).as_bytes().to_vec(),
        );
        assert!(matches!(
            Signed::<u8, LogKey>::decode(&bytes, CT, &Limits::DEFAULT),
            Err(CoseError::BadSignature)
        ));
        // An Ed25519 signature labelled SM2 (a 32-byte key id is no SM2 key).
        let ed = SecretKey::from_seed(&[5; 32]);
        let bytes = with_header(
            Algorithm::Sm2Sm3,
            ed.public_key().as_bytes().to_vec(),
            |tbs| ed.sign(tbs).as_bytes().to_vec(),
        );
        assert!(Signed::<u8, LogKey>::decode(&bytes, CT, &Limits::DEFAULT).is_err());
    }

    #[test]
    fn every_byte_change_of_an_sm2_object_fails() {
        let signed = sm2_sample();
        for i in 0..signed.bytes().len() {
            let mut bytes = signed.bytes().to_vec();
            bytes[i] ^= 0x01;
            assert!(
                Signed::<(u32, String), LogKey>::decode(&bytes, CT, &Limits::DEFAULT).is_err(),
                "byte {i} changed still verifies"
            );
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
