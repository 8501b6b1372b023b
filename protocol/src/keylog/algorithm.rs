//! Key algorithms a key event log may declare (spec §4.3.2, registry §13.4.1).
//!
//! A key declaration names its algorithm with a COSE algorithm identifier in `alg`; a
//! declaration without `alg` is Ed25519, so every log written before algorithms were named
//! stays valid with the same bytes. Version 1 knows three algorithms:
//!
//! - Ed25519 (COSE -19), for every purpose; it is never written as `alg`, only implied;
//! - ESP256, ECDSA on P-256 with SHA-256 (COSE -9, RFC 9864), for the `pdf` and `tsa`
//!   purposes: common PDF validators accept ECDSA P-256 PAdES signatures and refuse Ed25519
//!   ones;
//! - SM2 with SM3 and the default identifier (GB/T 32918; private-use COSE value
//!   [`ALG_SM2_SM3`], since no IANA code point exists), for the `seal` purpose (seal
//!   signatures over contracts, spec §8.4.2) and the `pdf` purpose (PDF and GB/T 38540
//!   electronic-seal signatures in China's national algorithms);
//! - RS256, RSASSA-PKCS1-v1_5 with SHA-256 (COSE -257, RFC 8812), for the `pdf` purpose
//!   only: the key a CA certified for a party that bootstraps its identity from an RSA
//!   certificate (spec §6.11), which signs its possession proof.
//!
//! A declaration whose algorithm this version does not know is kept as
//! [`LogKey::Unsupported`]: the log stays valid (a later version may use that key), and no
//! check of a key of that algorithm ever succeeds here.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::rsa::RsaPublicKey;
use crate::sm2::{Sm2PublicKey, Sm2SecretKey};
use crate::{PublicKey, SecretKey};

/// COSE algorithm identifier of Ed25519 (RFC 9864): implied when `alg` is absent.
pub const ALG_ED25519: i64 = -19;
/// COSE algorithm identifier of ESP256, ECDSA P-256 with SHA-256 (RFC 9864).
pub const ALG_ESP256: i64 = -9;
/// COSE algorithm identifier Signet uses for SM2 signatures with SM3 and the default
/// distinguishing identifier (GB/T 32918.2). IANA registers no SM2 algorithm, so this is a
/// private-use value (below -65536, RFC 9052 §16.4): -65536 - 32918, after the standard's
/// number. Registered in spec §13.4.1.
pub const ALG_SM2_SM3: i64 = -65536 - 32918;
const _: () = assert!(ALG_SM2_SM3 < -65536, "COSE private use is below -65536");
/// COSE algorithm identifier of RS256, RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8812): a
/// party's own CA-certified RSA key, declared as its `pdf` key (spec §4.3.2).
pub const ALG_RS256: i64 = -257;
/// The longest key of an unknown algorithm a declaration may carry, in bytes.
pub const MAX_UNSUPPORTED_KEY_LEN: usize = 1024;

/// An ECDSA P-256 public key: the 33-byte compressed SEC1 encoding of a point on the curve
/// (not the identity).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EcdsaP256Key([u8; 33]);

/// Why bytes are not an ECDSA P-256 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EcdsaKeyError {
    /// Not 33 bytes starting 0x02 or 0x03.
    #[error("an ESP256 key is a 33-byte compressed SEC1 point")]
    Encoding,
    /// The x coordinate is not that of a point on P-256.
    #[error("not a point on P-256")]
    InvalidPoint,
}

impl EcdsaP256Key {
    /// Length of the encoding in bytes.
    pub const LEN: usize = 33;

    /// Parses a compressed SEC1 point, refusing other encodings and points off the curve.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, EcdsaKeyError> {
        let array: [u8; 33] = bytes.try_into().map_err(|_| EcdsaKeyError::Encoding)?;
        if array[0] != 0x02 && array[0] != 0x03 {
            return Err(EcdsaKeyError::Encoding);
        }
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&array)
            .map_err(|_| EcdsaKeyError::InvalidPoint)?;
        Ok(Self(array))
    }

    /// The key of a P-256 verifying key.
    pub fn from_verifying_key(key: &p256::ecdsa::VerifyingKey) -> Self {
        let point = key.to_sec1_point(true);
        let mut array = [0u8; 33];
        array.copy_from_slice(point.as_bytes());
        Self(array)
    }

    /// The compressed SEC1 encoding.
    pub fn as_bytes(&self) -> &[u8; 33] {
        &self.0
    }

    /// The key for verifying signatures.
    pub fn verifying_key(&self) -> p256::ecdsa::VerifyingKey {
        // `from_slice` checked the point, and nothing else builds one.
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.0)
            .unwrap_or_else(|_| unreachable!("checked at construction"))
    }
}

impl serde::Serialize for EcdsaP256Key {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for EcdsaP256Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = crate::cbor_bytes::deserialize(deserializer)?;
        Self::from_slice(&bytes).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for EcdsaP256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EcdsaP256Key({})", hex::encode(self.0))
    }
}

/// A key a log declares, of whichever algorithm.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogKey {
    /// Ed25519 (no `alg` on the wire).
    Ed25519(PublicKey),
    /// ECDSA P-256 with SHA-256 (`alg` -9).
    EcdsaP256(EcdsaP256Key),
    /// SM2 with SM3 (`alg` [`ALG_SM2_SM3`]), compressed SEC1 on the wire.
    Sm2(Sm2PublicKey),
    /// RSA with PKCS #1 v1.5 and SHA-256 (`alg` [`ALG_RS256`]), the `RSAPublicKey` DER on
    /// the wire.
    Rsa(RsaPublicKey),
    /// An algorithm this version does not know: kept, never valid for any check.
    Unsupported {
        /// Its COSE algorithm identifier.
        alg: i64,
        /// The key as declared.
        key: Vec<u8>,
    },
}

impl LogKey {
    /// Reads a declaration's `alg` and `key` fields (spec §4.3.2).
    pub fn from_wire(alg: Option<i64>, key: &[u8]) -> Result<Self, String> {
        match alg {
            None => PublicKey::from_slice(key)
                .map(Self::Ed25519)
                .map_err(|e| format!("key: {e}")),
            Some(ALG_ED25519) => Err("alg: Ed25519 is implied; it is never written".into()),
            Some(ALG_ESP256) => EcdsaP256Key::from_slice(key)
                .map(Self::EcdsaP256)
                .map_err(|e| format!("key: {e}")),
            Some(ALG_SM2_SM3) => Sm2PublicKey::from_compressed(key)
                .map(Self::Sm2)
                .map_err(|e| format!("key: {e}")),
            Some(ALG_RS256) => RsaPublicKey::from_der(key)
                .map(Self::Rsa)
                .map_err(|e| format!("key: {e}")),
            Some(_) if key.len() > MAX_UNSUPPORTED_KEY_LEN => {
                Err(format!("key: longer than {MAX_UNSUPPORTED_KEY_LEN} bytes"))
            }
            Some(alg) => Ok(Self::Unsupported {
                alg,
                key: key.to_vec(),
            }),
        }
    }

    /// The `alg` field to write: none for Ed25519.
    pub fn wire_alg(&self) -> Option<i64> {
        match self {
            Self::Ed25519(_) => None,
            Self::EcdsaP256(_) => Some(ALG_ESP256),
            Self::Sm2(_) => Some(ALG_SM2_SM3),
            Self::Rsa(_) => Some(ALG_RS256),
            Self::Unsupported { alg, .. } => Some(*alg),
        }
    }

    /// The COSE algorithm identifier (-19 for Ed25519).
    pub fn alg(&self) -> i64 {
        self.wire_alg().unwrap_or(ALG_ED25519)
    }

    /// The `key` field's bytes.
    pub fn wire_bytes(&self) -> &[u8] {
        match self {
            Self::Ed25519(k) => k.as_bytes(),
            Self::EcdsaP256(k) => k.as_bytes(),
            Self::Sm2(k) => k.as_bytes(),
            Self::Rsa(k) => k.as_der(),
            Self::Unsupported { key, .. } => key,
        }
    }

    /// The Ed25519 key, if this is one.
    pub fn ed25519(&self) -> Option<&PublicKey> {
        match self {
            Self::Ed25519(k) => Some(k),
            _ => None,
        }
    }

    /// The ECDSA P-256 key, if this is one.
    pub fn ecdsa_p256(&self) -> Option<&EcdsaP256Key> {
        match self {
            Self::EcdsaP256(k) => Some(k),
            _ => None,
        }
    }

    /// The SM2 key, if this is one.
    pub fn sm2(&self) -> Option<&Sm2PublicKey> {
        match self {
            Self::Sm2(k) => Some(k),
            _ => None,
        }
    }

    /// The RSA key, if this is one.
    pub fn rsa(&self) -> Option<&RsaPublicKey> {
        match self {
            Self::Rsa(k) => Some(k),
            _ => None,
        }
    }
}

/// The secret half of a key a log declares for signing Signet objects: Ed25519, or SM2 for a
/// seal (spec §4.3.2).
#[derive(Debug)]
pub enum LogSecretKey {
    /// Ed25519.
    Ed25519(SecretKey),
    /// SM2 with SM3.
    Sm2(Sm2SecretKey),
}

impl LogSecretKey {
    /// The matching public key.
    pub fn public_key(&self) -> LogKey {
        match self {
            Self::Ed25519(key) => LogKey::Ed25519(key.public_key()),
            Self::Sm2(key) => LogKey::Sm2(key.public_key()),
        }
    }
}

impl From<SecretKey> for LogSecretKey {
    fn from(key: SecretKey) -> Self {
        Self::Ed25519(key)
    }
}

impl From<Sm2SecretKey> for LogSecretKey {
    fn from(key: Sm2SecretKey) -> Self {
        Self::Sm2(key)
    }
}

/// A key as a revocation names it (spec §6.6): an Ed25519 key is its 32 bytes, as before
/// keys had algorithms, so revocations of Ed25519 keys keep their bytes; a key of another
/// algorithm is the array `[alg, key]`.
impl Serialize for LogKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Ed25519(key) => key.serialize(serializer),
            other => {
                let mut tuple = serializer.serialize_tuple(2)?;
                tuple.serialize_element(&other.alg())?;
                tuple.serialize_element(&crate::cbor_bytes::Ref(other.wire_bytes()))?;
                tuple.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for LogKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = LogKey;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 32-byte Ed25519 key or [alg, key]")
            }

            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<LogKey, E> {
                LogKey::from_wire(None, bytes).map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LogKey, A::Error> {
                let alg: i64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let key: crate::cbor_bytes::Item = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                // Ed25519 has one form only, the bare bytes.
                LogKey::from_wire(Some(alg), &key.0).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_any(KeyVisitor)
    }
}

impl From<PublicKey> for LogKey {
    fn from(key: PublicKey) -> Self {
        Self::Ed25519(key)
    }
}

impl From<&PublicKey> for LogKey {
    fn from(key: &PublicKey) -> Self {
        Self::Ed25519(*key)
    }
}

impl From<&LogKey> for LogKey {
    fn from(key: &LogKey) -> Self {
        key.clone()
    }
}

impl From<EcdsaP256Key> for LogKey {
    fn from(key: EcdsaP256Key) -> Self {
        Self::EcdsaP256(key)
    }
}

impl From<Sm2PublicKey> for LogKey {
    fn from(key: Sm2PublicKey) -> Self {
        Self::Sm2(key)
    }
}

impl From<RsaPublicKey> for LogKey {
    fn from(key: RsaPublicKey) -> Self {
        Self::Rsa(key)
    }
}

impl PartialEq<PublicKey> for LogKey {
    fn eq(&self, other: &PublicKey) -> bool {
        self.ed25519() == Some(other)
    }
}

impl LogKey {
    /// Reads a key as [`fmt::Display`] writes it: 64 hex digits for Ed25519,
    /// `sm2:` or `esp256:` and the compressed SEC1 key in hex, `rs256:` and the
    /// `RSAPublicKey` DER in hex. A key of an algorithm this version does not know is not
    /// read.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let (alg, hex_key) = match text.split_once(':') {
            None => (None, text),
            Some(("sm2", rest)) => (Some(ALG_SM2_SM3), rest),
            Some(("esp256", rest)) => (Some(ALG_ESP256), rest),
            Some(("rs256", rest)) => (Some(ALG_RS256), rest),
            Some((other, _)) => return Err(format!("unknown key algorithm {other:?}")),
        };
        let bytes = hex::decode(hex_key).map_err(|_| "key: not hex".to_string())?;
        Self::from_wire(alg, &bytes)
    }
}

impl fmt::Display for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ed25519(k) => write!(f, "{k}"),
            Self::EcdsaP256(k) => write!(f, "esp256:{}", hex::encode(k.as_bytes())),
            Self::Sm2(k) => write!(f, "sm2:{k}"),
            Self::Rsa(k) => write!(f, "rs256:{}", hex::encode(k.as_der())),
            Self::Unsupported { alg, key } => write!(f, "alg{alg}:{}", hex::encode(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn p256_key(seed: u8) -> EcdsaP256Key {
        let secret = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap();
        EcdsaP256Key::from_verifying_key(secret.verifying_key())
    }

    #[test]
    fn every_algorithm_reads_back_what_it_writes() {
        let ed = LogKey::Ed25519(crate::SecretKey::from_seed(&[7; 32]).public_key());
        let ec = LogKey::EcdsaP256(p256_key(9));
        let sm2 = LogKey::Sm2(
            crate::sm2::Sm2SecretKey::from_bytes(&[4; 32])
                .unwrap()
                .public_key(),
        );
        let other = LogKey::Unsupported {
            alg: -50,
            key: vec![1, 2, 3],
        };
        let rsa = LogKey::Rsa(crate::rsa::test_key(2048));
        for key in [ed, ec, sm2, rsa, other] {
            let back = LogKey::from_wire(key.wire_alg(), key.wire_bytes()).unwrap();
            assert_eq!(back, key);
        }
    }

    #[test]
    fn bad_encodings_are_refused() {
        let good = p256_key(3);
        let uncompressed = good.verifying_key().to_sec1_point(false);
        assert!(LogKey::from_wire(Some(ALG_ESP256), uncompressed.as_bytes()).is_err());
        let mut off_curve = *good.as_bytes();
        // x = p - 1 with either parity: not on the curve for one of them at least; find one.
        off_curve[1..].fill(0xff);
        assert!(
            LogKey::from_wire(Some(ALG_ESP256), &off_curve).is_err(),
            "x = 2^256 - 1 exceeds the field"
        );
        assert!(LogKey::from_wire(Some(ALG_ED25519), &[0; 32]).is_err());
        assert!(LogKey::from_wire(Some(-50), &[0; 1025]).is_err());
        assert!(LogKey::from_wire(None, good.as_bytes()).is_err());
    }

    #[test]
    fn an_sm2_key_is_its_compressed_point_only() {
        let key = crate::sm2::Sm2SecretKey::from_bytes(&[4; 32])
            .unwrap()
            .public_key();
        assert_eq!(
            LogKey::from_wire(Some(ALG_SM2_SM3), key.as_bytes()).unwrap(),
            LogKey::Sm2(key)
        );
        let long = key.to_uncompressed();
        assert!(LogKey::from_wire(Some(ALG_SM2_SM3), &long).is_err());
        // An ESP256 point is 33 bytes too, but a P-256 x is rarely an SM2 x; and an SM2
        // point is never read as ESP256 without its alg.
        assert!(LogKey::from_wire(None, key.as_bytes()).is_err());
        assert_eq!(ALG_SM2_SM3, -98454, "the value registered in spec §13.4.1");
    }

    #[test]
    fn a_key_reads_back_from_its_text() {
        let keys = [
            LogKey::Ed25519(crate::SecretKey::from_seed(&[7; 32]).public_key()),
            LogKey::Sm2(
                crate::sm2::Sm2SecretKey::from_bytes(&[4; 32])
                    .unwrap()
                    .public_key(),
            ),
            LogKey::EcdsaP256(p256_key(5)),
            LogKey::Rsa(crate::rsa::test_key(3072)),
        ];
        for key in keys {
            assert_eq!(LogKey::from_text(&key.to_string()).unwrap(), key);
        }
        assert!(LogKey::from_text("rs256:00").is_err());
        for bad in ["sm2:zz", "rsa:00", "sm2:", "00"] {
            assert!(LogKey::from_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_revoked_key_keeps_the_ed25519_bytes_and_names_other_algorithms() {
        let ed = crate::SecretKey::from_seed(&[7; 32]).public_key();
        assert_eq!(
            crate::codec::encode(&LogKey::Ed25519(ed)).unwrap(),
            crate::codec::encode(&ed).unwrap()
        );
        let sm2 = LogKey::Sm2(
            crate::sm2::Sm2SecretKey::from_bytes(&[4; 32])
                .unwrap()
                .public_key(),
        );
        let bytes = crate::codec::encode(&sm2).unwrap();
        let value: ciborium::Value = ciborium::from_reader(bytes.as_slice()).unwrap();
        assert_eq!(
            value,
            ciborium::Value::Array(vec![
                ALG_SM2_SM3.into(),
                ciborium::Value::Bytes(sm2.wire_bytes().to_vec()),
            ])
        );
        // An 8192-bit RSA key, the longest key a revocation names.
        for key in [
            LogKey::Ed25519(ed),
            sm2,
            LogKey::Rsa(crate::rsa::test_key(8192)),
        ] {
            let bytes = crate::codec::encode(&key).unwrap();
            let back: LogKey =
                crate::codec::decode(&bytes, &crate::codec::Limits::DEFAULT).unwrap();
            assert_eq!(back, key);
        }
        // Ed25519 has one form: [-19, key] is refused, as are a short array and a long one.
        let refused = [
            ciborium::Value::Array(vec![
                ALG_ED25519.into(),
                ciborium::Value::Bytes(ed.as_bytes().to_vec()),
            ]),
            ciborium::Value::Array(vec![ALG_SM2_SM3.into()]),
            ciborium::Value::Array(vec![
                ALG_SM2_SM3.into(),
                ciborium::Value::Bytes(vec![2; 33]),
                0.into(),
            ]),
        ];
        for value in refused {
            let mut bytes = Vec::new();
            ciborium::into_writer(&value, &mut bytes).unwrap();
            assert!(
                crate::codec::decode::<LogKey>(&bytes, &crate::codec::Limits::DEFAULT).is_err(),
                "{value:?}"
            );
        }
    }
}
