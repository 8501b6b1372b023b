//! Keys, signatures and digests (spec §3.3).
//!
//! Ed25519 only in protocol version 1, with strict verification: weak public keys are refused
//! when a key is parsed, and signatures are checked with `verify_strict`, which also refuses
//! non-canonical encodings. Every type here is valid once built.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// Length of a digest in bytes.
    pub const LEN: usize = 32;

    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// SHA-256 of the concatenation of `parts`, without copying them together.
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }

    /// Wraps 32 bytes that already are a SHA-256 digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses a digest from a slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Length {
            expected: 32,
            found: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| KeyError::Hex)?;
        Ok(Self(bytes))
    }

    /// Lower-case hexadecimal text.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Errors building keys, signatures and digests from bytes or text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The byte string has the wrong length.
    #[error("expected {expected} bytes, found {found}")]
    Length {
        /// Required length.
        expected: usize,
        /// Length given.
        found: usize,
    },
    /// The bytes are not a point on the Ed25519 curve, or not its canonical encoding.
    #[error("not a valid ed25519 public key")]
    InvalidPoint,
    /// The key has small order: anyone could forge signatures that verify under it.
    #[error("weak ed25519 public key (small order)")]
    WeakKey,
    /// The text is not hexadecimal of the right length.
    #[error("not hexadecimal of the right length")]
    Hex,
}

/// An Ed25519 public key that is a valid, non-weak curve point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Length of an encoded public key in bytes.
    pub const LEN: usize = 32;

    /// Parses a 32-byte encoded key, refusing invalid, non-canonical and weak (small-order)
    /// points (spec §2.2).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::Length {
            expected: 32,
            found: bytes.len(),
        })?;
        let key = VerifyingKey::from_bytes(array).map_err(|_| KeyError::InvalidPoint)?;
        // Decompression reduces y modulo p, so a few points have a second encoding (y + p);
        // the key is its bytes (a key id, a digest input), so only the canonical one is a
        // key. (The other second encodings, x = 0 with the sign bit set, are the two weak
        // points y = 1 and y = -1, refused below.)
        if !y_is_reduced(array) {
            return Err(KeyError::InvalidPoint);
        }
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(Self(key))
    }

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| KeyError::Hex)?;
        Self::from_slice(&bytes)
    }

    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Lower-case hexadecimal text of the encoding.
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }

    /// The commitment to this key used by pre-rotation: SHA-256 of its encoding.
    pub fn commitment(&self) -> Digest {
        Digest::of(self.as_bytes())
    }

    /// Strict Ed25519 verification of `signature` over `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), BadSignature> {
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(message, &signature)
            .map_err(|_| BadSignature)
    }
}

/// Whether the y coordinate of an encoded point (its 255 low bits, little-endian) is below
/// p = 2^255 - 19.
fn y_is_reduced(bytes: &[u8; 32]) -> bool {
    let top_is_max = bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff);
    !(top_is_max && bytes[0] >= 0xed)
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("signature does not verify")]
pub struct BadSignature;

/// An Ed25519 signature (64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// Length of a signature in bytes.
    pub const LEN: usize = 64;

    /// Parses a 64-byte signature. Whether it verifies is a separate question.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: [u8; 64] = bytes.try_into().map_err(|_| KeyError::Length {
            expected: 64,
            found: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// The signature whose bytes are `bytes`.
    pub const fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// The signature's bytes.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

/// An Ed25519 secret key. Zeroized on drop, never printed.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from a cryptographically secure random source.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(SigningKey::generate(rng))
    }

    /// The key whose 32-byte seed is `seed` (RFC 8032 private key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for storing the key. Zeroized when dropped.
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        // A key derived from a secret scalar is never of small order (the scalar is clamped
        // to a multiple of the cofactor), so the weak-key check cannot fail here.
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` (deterministic Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Verifies many signatures, each strictly; on failure returns the index of the first that
/// does not verify.
///
/// Deliberately not a batch verification: the batch equation of `ed25519-dalek` multiplies
/// each signature's terms by a random 128-bit scalar, so a signature whose `R` carries a
/// small-order component passes it whenever the random factor cancels that component (half
/// the time for a component of order 2), while `verify_strict` refuses it. Making the batch
/// agree with strict verification needs a torsion check of every `R` and key, which costs
/// more than the batch saves. VALID must mean what a strict RFC 8032 verifier says.
pub fn verify_each(items: &[(&PublicKey, &[u8], &Signature)]) -> Result<(), usize> {
    for (index, (key, message, signature)) in items.iter().enumerate() {
        if key.verify(message, signature).is_err() {
            return Err(index);
        }
    }
    Ok(())
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(FixedBytes::<32>).map(Self)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.as_bytes())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = deserializer.deserialize_bytes(FixedBytes::<32>)?;
        Self::from_slice(&bytes).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(FixedBytes::<64>).map(Self)
    }
}

/// Serde visitor for a CBOR byte string of exactly `N` bytes (never an array of integers).
pub(crate) struct FixedBytes<const N: usize>;

impl<const N: usize> serde::de::Visitor<'_> for FixedBytes<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a byte string of {N} bytes")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        v.try_into().map_err(|_| E::invalid_length(v.len(), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn non_canonical_key_encodings_are_refused() {
        // y + p for a small y on the curve: the same point as y, in a second encoding.
        let mut found = 0;
        for y in 2u8..19 {
            let mut canonical = [0u8; 32];
            canonical[0] = y;
            if PublicKey::from_slice(&canonical).is_err() {
                continue;
            }
            let mut other = [0xffu8; 32];
            other[0] = 0xed + y;
            other[31] = 0x7f;
            assert!(VerifyingKey::from_bytes(&other).is_ok(), "y = {y}");
            assert_eq!(PublicKey::from_slice(&other), Err(KeyError::InvalidPoint));
            found += 1;
        }
        assert!(found > 0, "no small y on the curve");
    }

    #[test]
    fn weak_keys_are_refused_at_parse() {
        // The identity point (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_slice(&identity), Err(KeyError::WeakKey));
        assert!(matches!(
            PublicKey::from_slice(&[0u8; 31]),
            Err(KeyError::Length { .. })
        ));
    }

    #[test]
    fn secret_key_never_prints() {
        let key = SecretKey::from_seed(&[7; 32]);
        assert_eq!(format!("{key:?}"), "SecretKey(..)");
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1, TEST 1 (empty message).
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let key = SecretKey::from_seed(&seed);
        assert_eq!(
            key.public_key().to_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = key.sign(b"");
        assert_eq!(
            hex::encode(sig.as_bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        key.public_key().verify(b"", &sig).unwrap();
    }

    #[test]
    fn verify_each_names_the_failing_signature() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let keys: Vec<SecretKey> = (0..5).map(|_| SecretKey::generate(&mut rng)).collect();
        let publics: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
        let messages: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10]).collect();
        let mut sigs: Vec<Signature> = keys.iter().zip(&messages).map(|(k, m)| k.sign(m)).collect();
        let items = |sigs: &[Signature]| -> Result<(), usize> {
            let v: Vec<_> = (0..5)
                .map(|i| (&publics[i], messages[i].as_slice(), &sigs[i]))
                .collect();
            verify_each(&v)
        };
        assert_eq!(items(&sigs), Ok(()));
        sigs[3].0[5] ^= 1;
        assert_eq!(items(&sigs), Err(3));
    }

    /// A signature made honestly except that a point of order 2 is added to its `R`.
    fn with_torsion_in_r(seed: [u8; 32], message: &[u8], nonce: u8, torsion: bool) -> Signature {
        use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
        use curve25519_dalek::edwards::CompressedEdwardsY;
        use curve25519_dalek::scalar::Scalar;
        use sha2::Sha512;
        // y = -1: the point of order 2.
        let mut order2 = [0xff; 32];
        order2[0] = 0xec;
        order2[31] = 0x7f;
        let order2 = CompressedEdwardsY(order2).decompress().unwrap();
        let expanded = Sha512::digest(seed);
        let mut a = [0u8; 32];
        a.copy_from_slice(&expanded[..32]);
        a[0] &= 248;
        a[31] &= 127;
        a[31] |= 64;
        let a = Scalar::from_bytes_mod_order(a);
        let public = SecretKey::from_seed(&seed).public_key();
        let r = Scalar::from_bytes_mod_order([nonce; 32]);
        let mut big_r = ED25519_BASEPOINT_POINT * r;
        if torsion {
            big_r += order2;
        }
        let big_r = big_r.compress();
        let mut h = Sha512::new();
        h.update(big_r.as_bytes());
        h.update(public.as_bytes());
        h.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let s = r + k * a;
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(big_r.as_bytes());
        bytes[32..].copy_from_slice(s.as_bytes());
        Signature(bytes)
    }

    #[test]
    fn a_small_order_component_in_r_is_refused_every_time() {
        // A randomised batch equation accepts such a signature whenever its random factor is
        // even; strict verification never does. 32 tries: the old batch path let about half
        // through.
        let seed = [5u8; 32];
        let public = SecretKey::from_seed(&seed).public_key();
        let honest = with_torsion_in_r(seed, b"m", 1, false);
        public.verify(b"m", &honest).unwrap();
        for i in 0..32u8 {
            let message = [i; 8];
            let sig = with_torsion_in_r(seed, &message, i.wrapping_add(1), true);
            assert!(public.verify(&message, &sig).is_err());
            assert_eq!(verify_each(&[(&public, &message[..], &sig)]), Err(0));
        }
    }

    #[test]
    fn non_canonical_scalar_is_refused() {
        let key = SecretKey::from_seed(&[3; 32]);
        let mut sig = key.sign(b"m");
        // Add l to s: the batch equation may still hold, strict verification must not.
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (s_byte, l_byte) in sig.0[32..].iter_mut().zip(l) {
            let sum = *s_byte as u16 + l_byte as u16 + carry;
            *s_byte = sum as u8;
            carry = sum >> 8;
        }
        let pk = key.public_key();
        assert!(pk.verify(b"m", &sig).is_err());
        assert_eq!(verify_each(&[(&pk, b"m", &sig)]), Err(0));
    }
}
