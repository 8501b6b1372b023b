//! SM2 signatures with SM3, and SM3 digests: China's commercial cryptography (spec §4.3.2,
//! registry §13.4.1).
//!
//! - SM3 (GB/T 32905-2016) is a 256-bit hash: [`Sm3Digest`].
//! - SM2 (GB/T 32918-2016) signs `SM3(ZA ‖ M)`, where `ZA` binds the signer's distinguishing
//!   identifier and public key to the curve parameters (GB/T 32918.2, 5.5). Signet always
//!   uses the default identifier `1234567812345678` (GM/T 0009-2012, 10; GB/T 35276), which
//!   is what certificates, PDF signatures and electronic seals use when they name none.
//! - A public key is a point on the SM2 curve; [`Sm2PublicKey`] reads both SEC1 forms and
//!   writes the 33-byte compressed one, which is its only form in a key event log.
//! - A signature is the pair (r, s): 64 bytes `r ‖ s` in COSE and key logs, the
//!   `SEQUENCE { r INTEGER, s INTEGER }` DER form in X.509, CMS and GB/T 38540
//!   ([`Sm2Signature::from_der`], [`Sm2Signature::to_der`]).
//!
//! Signing derives the per-signature secret k deterministically from the key and the digest
//! (RFC 6979's HMAC-DRBG, instantiated with SM3, as RustCrypto's `sm2` does). GB/T 32918
//! asks for a random k; a deterministic k is indistinguishable to a verifier and removes the
//! failure that a weak random source causes. It also makes test vectors reproducible.

use std::fmt;

use ::sm2::dsa::signature::{Signer as _, Verifier as _};
use sm3::{Digest as _, Sm3};
use zeroize::Zeroizing;

use crate::crypto::BadSignature;

/// The distinguishing identifier Signet uses in `ZA`: the default of GM/T 0009-2012.
pub const DEFAULT_DIST_ID: &str = "1234567812345678";

/// Why bytes are not an SM2 key or signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Sm2Error {
    /// A public key is neither a 33-byte compressed nor a 65-byte uncompressed SEC1 point.
    #[error("an sm2 public key is a 33-byte compressed or 65-byte uncompressed sec1 point")]
    KeyEncoding,
    /// The key's form is allowed elsewhere but not where it was found (a key event log
    /// takes only the compressed form).
    #[error("an sm2 key here is the 33-byte compressed sec1 point")]
    NotCompressed,
    /// The coordinates are not those of a point on the SM2 curve (or name the identity).
    #[error("not a point on the sm2 curve")]
    InvalidPoint,
    /// A signature is not 64 bytes `r ‖ s` with r and s in [1, n-1].
    #[error("an sm2 signature is 64 bytes r || s, each in [1, n-1]")]
    SignatureEncoding,
    /// A signature is not DER `SEQUENCE { r INTEGER, s INTEGER }` with r and s in [1, n-1].
    #[error("not a der-encoded sm2 signature")]
    SignatureDer,
    /// A secret key is not 32 bytes of a scalar in [1, n-1].
    #[error("an sm2 secret key is 32 bytes, a scalar in [1, n-1]")]
    SecretKey,
}

/// An SM3 digest (GB/T 32905-2016).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sm3Digest([u8; 32]);

impl Sm3Digest {
    /// Length of a digest in bytes.
    pub const LEN: usize = 32;

    /// SM3 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sm3::digest(bytes).into())
    }

    /// SM3 of the concatenation of `parts`.
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        let mut hasher = Sm3::new();
        for part in parts {
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }

    /// Wraps 32 bytes that already are an SM3 digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hexadecimal text.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// SM3 computed over bytes that arrive in pieces (a document read or fetched in chunks).
#[derive(Clone, Default)]
pub struct Sm3Hasher(Sm3);

impl Sm3Hasher {
    /// A hasher that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next piece.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of every piece, in order.
    pub fn finish(self) -> Sm3Digest {
        Sm3Digest(self.0.finalize().into())
    }
}

impl fmt::Debug for Sm3Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sm3Hasher(..)")
    }
}

impl serde::Serialize for Sm3Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Sm3Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_bytes(crate::crypto::FixedBytes::<32>)
            .map(Self)
    }
}

impl std::str::FromStr for Sm3Digest {
    type Err = crate::party::IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| crate::party::IdError::Hex)?;
        Ok(Self(bytes))
    }
}

impl fmt::Debug for Sm3Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sm3Digest({})", self.to_hex())
    }
}

impl fmt::Display for Sm3Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An SM2 public key: a point on the SM2 curve, not the identity. Held (and compared, and
/// written to key logs) as its 33-byte compressed SEC1 encoding, so each key has one form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sm2PublicKey([u8; 33]);

impl Sm2PublicKey {
    /// Length of the canonical (compressed) encoding in bytes.
    pub const LEN: usize = 33;

    /// Parses a SEC1 point in either form: 33 bytes compressed (0x02 / 0x03 ‖ x) or 65 bytes
    /// uncompressed (0x04 ‖ x ‖ y), as certificates carry it. Hybrid forms (0x06 / 0x07)
    /// and the identity are refused, and so is any point off the curve.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, Sm2Error> {
        match (bytes.len(), bytes.first()) {
            (33, Some(0x02 | 0x03)) | (65, Some(0x04)) => {}
            _ => return Err(Sm2Error::KeyEncoding),
        }
        let key = ::sm2::PublicKey::from_sec1_bytes(bytes).map_err(|_| Sm2Error::InvalidPoint)?;
        let point = ::sm2::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&key, true);
        let mut array = [0u8; 33];
        // A compressed point of a 256-bit curve is 33 bytes.
        if point.as_bytes().len() != 33 {
            return Err(Sm2Error::InvalidPoint);
        }
        array.copy_from_slice(point.as_bytes());
        Ok(Self(array))
    }

    /// Parses the canonical form only: the 33-byte compressed point (what a key log holds).
    pub fn from_compressed(bytes: &[u8]) -> Result<Self, Sm2Error> {
        if bytes.len() == 65 && bytes.first() == Some(&0x04) {
            return Err(Sm2Error::NotCompressed);
        }
        if bytes.len() != 33 {
            return Err(Sm2Error::KeyEncoding);
        }
        Self::from_sec1(bytes)
    }

    /// The 33-byte compressed SEC1 encoding.
    pub fn as_bytes(&self) -> &[u8; 33] {
        &self.0
    }

    /// The 65-byte uncompressed SEC1 encoding (what X.509 certificates carry).
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let key = self.point();
        let point = ::sm2::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&key, false);
        let mut array = [0u8; 65];
        array.copy_from_slice(point.as_bytes());
        array
    }

    fn point(&self) -> ::sm2::PublicKey {
        // `from_sec1` checked the point, and nothing else builds one.
        ::sm2::PublicKey::from_sec1_bytes(&self.0)
            .unwrap_or_else(|_| unreachable!("checked at construction"))
    }

    fn verifying_key(&self) -> ::sm2::dsa::VerifyingKey {
        // ZA fails only for an identifier of 8192 bytes or more; the default has 16.
        ::sm2::dsa::VerifyingKey::new(DEFAULT_DIST_ID, self.point())
            .unwrap_or_else(|_| unreachable!("the default identifier is 16 bytes"))
    }

    /// `ZA` of this key with the default identifier (GB/T 32918.2, 5.5): the SM3 digest
    /// that is hashed before every message this key signs.
    pub fn za(&self) -> Sm3Digest {
        let [x, y] = self.za_inputs();
        let mut entl = [0u8; 2];
        entl.copy_from_slice(&((DEFAULT_DIST_ID.len() * 8) as u16).to_be_bytes());
        Sm3Digest::of_parts(&[
            &entl,
            DEFAULT_DIST_ID.as_bytes(),
            &CURVE_A,
            &CURVE_B,
            &GENERATOR_X,
            &GENERATOR_Y,
            &x,
            &y,
        ])
    }

    fn za_inputs(&self) -> [[u8; 32]; 2] {
        let point = self.to_uncompressed();
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&point[1..33]);
        y.copy_from_slice(&point[33..]);
        [x, y]
    }

    /// Verifies an SM2 signature with SM3 over `message` (`e = SM3(ZA ‖ message)`, default
    /// identifier).
    pub fn verify(&self, message: &[u8], signature: &Sm2Signature) -> Result<(), BadSignature> {
        let signature =
            ::sm2::dsa::Signature::from_slice(&signature.0).map_err(|_| BadSignature)?;
        self.verifying_key()
            .verify(message, &signature)
            .map_err(|_| BadSignature)
    }

    /// Verifies a DER-encoded signature over `message`; a signature that is not DER is one
    /// that does not verify.
    pub fn verify_der(&self, message: &[u8], signature_der: &[u8]) -> Result<(), BadSignature> {
        let signature = Sm2Signature::from_der(signature_der).map_err(|_| BadSignature)?;
        self.verify(message, &signature)
    }
}

// GB/T 32918.5 curve parameters, for ZA (the `sm2` crate computes the same internally; ours
// is spelled out so that `za` can be checked against the standard's example).
const CURVE_A: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc,
];
const CURVE_B: [u8; 32] = [
    0x28, 0xe9, 0xfa, 0x9e, 0x9d, 0x9f, 0x5e, 0x34, 0x4d, 0x5a, 0x9e, 0x4b, 0xcf, 0x65, 0x09, 0xa7,
    0xf3, 0x97, 0x89, 0xf5, 0x15, 0xab, 0x8f, 0x92, 0xdd, 0xbc, 0xbd, 0x41, 0x4d, 0x94, 0x0e, 0x93,
];
const GENERATOR_X: [u8; 32] = [
    0x32, 0xc4, 0xae, 0x2c, 0x1f, 0x19, 0x81, 0x19, 0x5f, 0x99, 0x04, 0x46, 0x6a, 0x39, 0xc9, 0x94,
    0x8f, 0xe3, 0x0b, 0xbf, 0xf2, 0x66, 0x0b, 0xe1, 0x71, 0x5a, 0x45, 0x89, 0x33, 0x4c, 0x74, 0xc7,
];
const GENERATOR_Y: [u8; 32] = [
    0xbc, 0x37, 0x36, 0xa2, 0xf4, 0xf6, 0x77, 0x9c, 0x59, 0xbd, 0xce, 0xe3, 0x6b, 0x69, 0x21, 0x53,
    0xd0, 0xa9, 0x87, 0x7c, 0xc6, 0x2a, 0x47, 0x40, 0x02, 0xdf, 0x32, 0xe5, 0x21, 0x39, 0xf0, 0xa0,
];

impl serde::Serialize for Sm2PublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Sm2PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = crate::cbor_bytes::deserialize(deserializer)?;
        Self::from_compressed(&bytes).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Sm2PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sm2PublicKey({})", hex::encode(self.0))
    }
}

impl fmt::Display for Sm2PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// An SM2 signature: `r ‖ s`, 32 bytes each, big-endian, both in [1, n-1]. Whether it
/// verifies is a separate question.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sm2Signature([u8; 64]);

impl Sm2Signature {
    /// Length in bytes.
    pub const LEN: usize = 64;

    /// Parses 64 bytes `r ‖ s` (the COSE form).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Sm2Error> {
        let array: [u8; 64] = bytes.try_into().map_err(|_| Sm2Error::SignatureEncoding)?;
        ::sm2::dsa::Signature::from_slice(&array).map_err(|_| Sm2Error::SignatureEncoding)?;
        Ok(Self(array))
    }

    /// Parses the DER form, `SEQUENCE { r INTEGER, s INTEGER }`, refusing anything that is
    /// not strict DER (BER lengths, superfluous leading zeros, trailing bytes).
    pub fn from_der(der: &[u8]) -> Result<Self, Sm2Error> {
        let signature = ::sm2::dsa::DerSignature::from_bytes(der)
            .and_then(::sm2::dsa::Signature::try_from)
            .map_err(|_| Sm2Error::SignatureDer)?;
        let mut array = [0u8; 64];
        array.copy_from_slice(&signature.to_bytes());
        Ok(Self(array))
    }

    /// The DER form.
    pub fn to_der(&self) -> Vec<u8> {
        // `from_slice`, `from_der` and signing checked r and s, and nothing else builds one.
        ::sm2::dsa::Signature::from_slice(&self.0)
            .map(|s| s.to_der().to_vec())
            .unwrap_or_else(|_| unreachable!("checked at construction"))
    }

    /// The 64 bytes `r ‖ s`.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Sm2Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sm2Signature({})", hex::encode(self.0))
    }
}

/// An SM2 secret key. Its scalar is zeroized on drop; it never prints.
pub struct Sm2SecretKey {
    scalar: Zeroizing<[u8; 32]>,
    public: Sm2PublicKey,
}

impl Sm2SecretKey {
    /// The key whose secret scalar is the 32 big-endian bytes `scalar`, in [1, n-1].
    pub fn from_bytes(scalar: &[u8; 32]) -> Result<Self, Sm2Error> {
        let key = ::sm2::dsa::SigningKey::from_slice(DEFAULT_DIST_ID, scalar)
            .map_err(|_| Sm2Error::SecretKey)?;
        let point = key.verifying_key().to_sec1_bytes();
        let public = Sm2PublicKey::from_sec1(&point).map_err(|_| Sm2Error::SecretKey)?;
        Ok(Self {
            scalar: Zeroizing::new(*scalar),
            public,
        })
    }

    /// A fresh key from a cryptographically secure random source.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            let mut scalar = Zeroizing::new([0u8; 32]);
            rng.fill_bytes(&mut *scalar);
            // Fails only for 0 and values at or above n (probability about 2^-32).
            if let Ok(key) = Self::from_bytes(&scalar) {
                return key;
            }
        }
    }

    /// The 32-byte secret scalar, for storing the key. Zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.scalar.clone()
    }

    /// The matching public key.
    pub fn public_key(&self) -> Sm2PublicKey {
        self.public
    }

    /// Signs `message` with SM2 and SM3 (default identifier; deterministic k).
    pub fn sign(&self, message: &[u8]) -> Sm2Signature {
        // The signing key is rebuilt for each signature so that the only long-lived copy of
        // the scalar is ours, which is zeroized (the crate's `SigningKey` is not).
        // `from_bytes` built one from this scalar, so building one again succeeds.
        let key = ::sm2::dsa::SigningKey::from_slice(DEFAULT_DIST_ID, &*self.scalar)
            .unwrap_or_else(|_| unreachable!("checked at construction"));
        // Signing fails only when k yields r = 0, r + k = n or s = 0: probability about
        // 2^-256 for a k from HMAC-DRBG.
        let signature: ::sm2::dsa::Signature = key
            .try_sign(message)
            .unwrap_or_else(|_| unreachable!("r = 0 or s = 0 with negligible probability"));
        let mut array = [0u8; 64];
        array.copy_from_slice(&signature.to_bytes());
        Sm2Signature(array)
    }
}

impl fmt::Debug for Sm2SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sm2SecretKey(..)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sm3_matches_the_standard_examples() {
        // GB/T 32905-2016, Appendix A.1 and A.2.
        assert_eq!(
            Sm3Digest::of(b"abc").to_hex(),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            Sm3Digest::of(&b"abcd".repeat(16)).to_hex(),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        assert_eq!(Sm3Digest::of_parts(&[b"ab", b"c"]), Sm3Digest::of(b"abc"));
    }

    #[test]
    fn sign_verify_and_every_flipped_bit_fails() {
        let key = Sm2SecretKey::from_bytes(&[7; 32]).unwrap();
        let public = key.public_key();
        let signature = key.sign(b"message");
        public.verify(b"message", &signature).unwrap();
        assert_eq!(key.sign(b"message"), signature, "k is deterministic");
        assert!(public.verify(b"messagf", &signature).is_err());
        for bit in 0..512 {
            let mut bytes = *signature.as_bytes();
            bytes[bit / 8] ^= 1 << (bit % 8);
            if let Ok(bad) = Sm2Signature::from_slice(&bytes) {
                assert!(public.verify(b"message", &bad).is_err(), "bit {bit}");
            }
        }
        let other = Sm2SecretKey::from_bytes(&[8; 32]).unwrap().public_key();
        assert!(other.verify(b"message", &signature).is_err());
    }

    #[test]
    fn der_round_trips_and_refuses_non_der() {
        let key = Sm2SecretKey::from_bytes(&[9; 32]).unwrap();
        let signature = key.sign(b"m");
        let der = signature.to_der();
        assert_eq!(der[0], 0x30);
        assert_eq!(Sm2Signature::from_der(&der).unwrap(), signature);
        key.public_key().verify_der(b"m", &der).unwrap();
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(
            Sm2Signature::from_der(&trailing),
            Err(Sm2Error::SignatureDer)
        );
        assert_eq!(
            Sm2Signature::from_der(signature.as_bytes()),
            Err(Sm2Error::SignatureDer)
        );
        assert!(key.public_key().verify_der(b"m", &trailing).is_err());
    }

    #[test]
    fn both_sec1_forms_read_as_one_key() {
        let public = Sm2SecretKey::from_bytes(&[3; 32]).unwrap().public_key();
        let long = public.to_uncompressed();
        assert_eq!(Sm2PublicKey::from_sec1(&long).unwrap(), public);
        assert_eq!(Sm2PublicKey::from_sec1(public.as_bytes()).unwrap(), public);
        assert_eq!(
            Sm2PublicKey::from_compressed(&long),
            Err(Sm2Error::NotCompressed)
        );
        let mut hybrid = long;
        hybrid[0] = 0x06 | (long[64] & 1);
        assert_eq!(Sm2PublicKey::from_sec1(&hybrid), Err(Sm2Error::KeyEncoding));
        let mut off_curve = long;
        off_curve[64] ^= 1;
        assert_eq!(
            Sm2PublicKey::from_sec1(&off_curve),
            Err(Sm2Error::InvalidPoint)
        );
        assert_eq!(Sm2PublicKey::from_sec1(&[0]), Err(Sm2Error::KeyEncoding));
    }

    #[test]
    fn secret_scalars_out_of_range_are_refused() {
        assert_eq!(
            Sm2SecretKey::from_bytes(&[0; 32]).map(|_| ()),
            Err(Sm2Error::SecretKey)
        );
        assert_eq!(
            Sm2SecretKey::from_bytes(&[0xff; 32]).map(|_| ()),
            Err(Sm2Error::SecretKey)
        );
        assert_eq!(
            format!("{:?}", Sm2SecretKey::from_bytes(&[1; 32]).unwrap()),
            "Sm2SecretKey(..)"
        );
    }

    #[test]
    fn za_matches_the_crates_and_the_standards_example() {
        // A signature over M verifies as a prehash of SM3(ZA ‖ M), and not of SM3(M).
        use ::sm2::dsa::signature::hazmat::PrehashVerifier as _;
        let key = Sm2SecretKey::from_bytes(&[5; 32]).unwrap();
        let public = key.public_key();
        let signature = key.sign(b"abc");
        let e = Sm3Digest::of_parts(&[public.za().as_bytes(), b"abc"]);
        let verifier = public.verifying_key();
        let sig = ::sm2::dsa::Signature::from_slice(signature.as_bytes()).unwrap();
        verifier.verify_prehash(e.as_bytes(), &sig).unwrap();
        let wrong = Sm3Digest::of(b"abc");
        assert!(verifier.verify_prehash(wrong.as_bytes(), &sig).is_err());
    }

    #[test]
    fn the_standards_signature_example_verifies() {
        // GB/T 32918.5-2017 Appendix A (A.2), the SM2 curve: message "message digest",
        // ID "1234567812345678" (ENTL 0x0080), the public key and the signature (r, s).
        let public = Sm2PublicKey::from_sec1(
            &hex::decode(concat!(
                "04",
                "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
                "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
            ))
            .unwrap(),
        )
        .unwrap();
        let signature = Sm2Signature::from_slice(
            &hex::decode(concat!(
                "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3",
                "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
            ))
            .unwrap(),
        )
        .unwrap();
        public.verify(b"message digest", &signature).unwrap();
        assert!(public.verify(b"message digesu", &signature).is_err());
        assert_eq!(
            public.za().to_hex(),
            "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
        );
    }
}
