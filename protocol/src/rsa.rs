//! RSA public keys (RFC 8017), as certificates carry them and as a key event log declares a
//! party's own CA-certified RSA key (spec §4.3.2, §6.11): the `RSAPublicKey` DER, checked so
//! that every key accepted here is one `ring` verifies under (a modulus of [`MIN_RSA_BITS`]
//! to [`MAX_RSA_BITS`] bits, odd; an odd public exponent from 3 to 2^33 - 1).
//!
//! Signet never signs with RSA itself; a party whose CA certified an RSA key signs its
//! possession proof with it (PKCS #1 v1.5 with SHA-256), and its PDFs may name it.

use std::fmt;

use der::asn1::UintRef;
use der::{Decode, Encode, Sequence};

/// The shortest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// The longest RSA modulus accepted, in bits.
pub const MAX_RSA_BITS: usize = 8192;
/// The longest `RSAPublicKey` DER accepted, in bytes: an 8192-bit modulus with a leading
/// zero, a 33-bit exponent, and their headers.
pub const MAX_RSA_KEY_LEN: usize = 1040;
/// The longest public exponent, in bits (`ring`'s limit).
const MAX_EXPONENT_BITS: usize = 33;

/// `RSAPublicKey` (RFC 8017, A.1.1).
#[derive(Sequence)]
struct RsaPublicKeyDer<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// Why bytes are not an RSA public key Signet accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RsaKeyError {
    /// Not a DER `RSAPublicKey`, or longer than [`MAX_RSA_KEY_LEN`].
    #[error("an rsa key is a der RSAPublicKey (RFC 8017) of at most {MAX_RSA_KEY_LEN} bytes")]
    Encoding,
    /// A modulus outside [`MIN_RSA_BITS`] to [`MAX_RSA_BITS`] bits.
    #[error("an rsa key of {0} bits: {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted")]
    Size(usize),
    /// An even modulus, or an exponent that is even, below 3 or longer than 33 bits.
    #[error("an rsa key's modulus is odd and its exponent odd, from 3 to 2^33 - 1")]
    Parameters,
}

/// The length in bits of a big-endian unsigned integer without leading zeros.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// The modulus length in bits of `der`, an `RSAPublicKey`, if it is one in DER; checks
/// nothing else.
pub(crate) fn modulus_bits(der: &[u8]) -> Option<usize> {
    let key = RsaPublicKeyDer::from_der(der).ok()?;
    Some(bit_length(key.modulus.as_bytes()))
}

/// An RSA public key: its `RSAPublicKey` DER, checked.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RsaPublicKey {
    der: Vec<u8>,
}

impl RsaPublicKey {
    /// Reads an `RSAPublicKey` in DER (nothing after it, every integer minimal), refusing a
    /// modulus outside [`MIN_RSA_BITS`] to [`MAX_RSA_BITS`] bits and parameters `ring` does
    /// not verify under.
    ///
    /// # Errors
    ///
    /// [`RsaKeyError`].
    pub fn from_der(der: &[u8]) -> Result<Self, RsaKeyError> {
        if der.len() > MAX_RSA_KEY_LEN {
            return Err(RsaKeyError::Encoding);
        }
        let key = RsaPublicKeyDer::from_der(der).map_err(|_| RsaKeyError::Encoding)?;
        // One encoding per key, so that "keys are never reused" can compare bytes.
        if key.to_der().ok().as_deref() != Some(der) {
            return Err(RsaKeyError::Encoding);
        }
        let modulus = key.modulus.as_bytes();
        let bits = bit_length(modulus);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(RsaKeyError::Size(bits));
        }
        let exponent = key.public_exponent.as_bytes();
        let odd = |bytes: &[u8]| bytes.last().is_some_and(|b| b & 1 == 1);
        let exponent_bits = bit_length(exponent);
        // An odd number of at least two bits is at least 3.
        if !odd(modulus) || !odd(exponent) || !(2..=MAX_EXPONENT_BITS).contains(&exponent_bits) {
            return Err(RsaKeyError::Parameters);
        }
        Ok(Self { der: der.to_vec() })
    }

    /// The `RSAPublicKey` DER.
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        modulus_bits(&self.der).unwrap_or_else(|| unreachable!("checked at construction"))
    }

    /// Whether `signature` is this key's RSASSA-PKCS1-v1_5 signature with SHA-256 over
    /// `message` (RFC 8017, 8.2): what a possession proof is (spec §6.11.2).
    pub fn verifies_pkcs1_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifies(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            message,
            signature,
        )
    }

    /// Whether `signature` verifies over `message` under this key with `parameters`.
    pub fn verifies(
        &self,
        parameters: &'static ring::signature::RsaParameters,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        ring::signature::UnparsedPublicKey::new(parameters, &self.der)
            .verify(message, signature)
            .is_ok()
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaPublicKey({} bits, {})",
            self.bits(),
            hex::encode(&self.der)
        )
    }
}

/// An odd modulus-like integer of exactly `bits` bits (big-endian), for tests of encodings.
#[cfg(test)]
fn test_modulus(bits: usize) -> Vec<u8> {
    let mut modulus = vec![0x5a; bits.div_ceil(8)];
    modulus[0] = 0x80 >> ((8 - bits % 8) % 8);
    if let Some(last) = modulus.last_mut() {
        *last |= 1;
    }
    modulus
}

/// A well-formed RSA public key of `bits` (not a product of two primes: it verifies nothing),
/// for tests of encodings.
#[cfg(test)]
pub(crate) fn test_key(bits: usize) -> RsaPublicKey {
    let modulus = test_modulus(bits);
    let der = RsaPublicKeyDer {
        modulus: UintRef::new(&modulus).unwrap_or_else(|_| unreachable!()),
        public_exponent: UintRef::new(&[1, 0, 1]).unwrap_or_else(|_| unreachable!()),
    }
    .to_der()
    .unwrap_or_else(|_| unreachable!());
    RsaPublicKey::from_der(&der).unwrap_or_else(|e| unreachable!("{e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// An `RSAPublicKey` with this modulus and exponent (both big-endian, no sign byte).
    fn key_der(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
        RsaPublicKeyDer {
            modulus: UintRef::new(modulus).unwrap(),
            public_exponent: UintRef::new(exponent).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    use super::test_modulus as modulus;

    #[test]
    fn a_well_formed_key_reads_back_with_its_size() {
        for bits in [2048, 3072, 4095, 8192] {
            let key = test_key(bits);
            assert_eq!(key.bits(), bits);
            assert_eq!(RsaPublicKey::from_der(key.as_der()), Ok(key));
        }
    }

    #[test]
    fn sizes_exponents_and_encodings_outside_the_profile_are_refused() {
        let e = [1, 0, 1];
        assert_eq!(
            RsaPublicKey::from_der(&key_der(&modulus(2047), &e)),
            Err(RsaKeyError::Size(2047))
        );
        assert_eq!(
            RsaPublicKey::from_der(&key_der(&modulus(1024), &e)),
            Err(RsaKeyError::Size(1024))
        );
        assert_eq!(
            RsaPublicKey::from_der(&key_der(&modulus(8193), &e)),
            Err(RsaKeyError::Size(8193))
        );
        assert_eq!(
            RsaPublicKey::from_der(&key_der(&modulus(8320), &e)),
            Err(RsaKeyError::Encoding),
            "longer than the longest accepted encoding"
        );
        for exponent in [&[1u8][..], &[2], &[1, 0, 0], &[3, 0, 0, 0, 1]] {
            assert_eq!(
                RsaPublicKey::from_der(&key_der(&modulus(2048), exponent)),
                Err(RsaKeyError::Parameters),
                "{exponent:?}"
            );
        }
        let mut even = modulus(2048);
        *even.last_mut().unwrap() &= 0xfe;
        assert_eq!(
            RsaPublicKey::from_der(&key_der(&even, &e)),
            Err(RsaKeyError::Parameters)
        );
        let mut trailing = key_der(&modulus(2048), &e);
        trailing.push(0);
        assert_eq!(
            RsaPublicKey::from_der(&trailing),
            Err(RsaKeyError::Encoding)
        );
        assert_eq!(RsaPublicKey::from_der(&[]), Err(RsaKeyError::Encoding));
    }
}
