//! Identifiers (spec §2).

use std::fmt;
use std::str::FromStr;

use bech32::{Bech32m, Hrp, primitives::decode::CheckedHrpstring};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Digest;
use crate::crypto::FixedBytes;

/// The human-readable prefix of a party identifier's text form.
pub const PARTY_ID_PREFIX: &str = "signet";
const HRP: Hrp = Hrp::parse_unchecked(PARTY_ID_PREFIX);

/// A party's self-certifying identifier: the SHA-256 digest of its inception event
/// (the whole signed COSE_Sign1), so it stays the same across every key rotation and nobody
/// can claim it without the inception event that hashes to it.
///
/// Its text form is Bech32m (BIP 350) with the prefix `signet`, e.g.
/// `signet1qz…`: the checksum catches any one mistyped character and any swap of two
/// neighbours, and detects other typos with high probability.
///
/// ```
/// use signet_protocol::{Digest, party::PartyId};
///
/// let id = PartyId::from_digest(Digest::of(b"inception"));
/// let text = id.to_string();
/// assert!(text.starts_with("signet1"));
/// assert_eq!(text.parse::<PartyId>()?, id);
/// // One wrong character is caught by the checksum.
/// let typo = text.replacen('q', "p", 1);
/// assert!(typo.parse::<PartyId>().is_err());
/// # Ok::<(), signet_protocol::party::IdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartyId(Digest);

impl PartyId {
    /// The identifier whose digest is `digest`.
    pub const fn from_digest(digest: Digest) -> Self {
        Self(digest)
    }

    /// The inception event's digest.
    pub const fn digest(&self) -> &Digest {
        &self.0
    }
}

/// A text identifier could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Not Bech32m, or the checksum does not match (a typo).
    #[error("not a valid identifier (bad characters or checksum): {0}")]
    Checksum(String),
    /// Valid Bech32m with another prefix.
    #[error("identifier has prefix {found:?}, expected {expected:?}")]
    Prefix {
        /// The prefix required.
        expected: &'static str,
        /// The prefix found.
        found: String,
    },
    /// The payload has the wrong length.
    #[error("identifier holds {0} bytes, expected 32")]
    Length(usize),
    /// Valid Bech32m whose padding bits are not zero: not the one spelling of the id.
    #[error("identifier is not in canonical form (non-zero padding bits)")]
    NonCanonical,
    /// Not hexadecimal of the right length.
    #[error("not 32 hexadecimal digits")]
    Hex,
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Encoding 32 bytes under a 6-letter prefix gives 65 characters, well inside
        // Bech32m's 90-character limit, so this cannot fail.
        bech32::encode_lower_to_fmt::<Bech32m, _>(f, HRP, self.0.as_bytes()).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartyId({self})")
    }
}

impl FromStr for PartyId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        let checked =
            CheckedHrpstring::new::<Bech32m>(text).map_err(|e| IdError::Checksum(e.to_string()))?;
        if checked.hrp() != HRP {
            return Err(IdError::Prefix {
                expected: PARTY_ID_PREFIX,
                found: checked.hrp().to_string(),
            });
        }
        let bytes: Vec<u8> = checked.byte_iter().collect();
        let digest = Digest::from_slice(&bytes).map_err(|_| IdError::Length(bytes.len()))?;
        let id = Self(digest);
        // 256 bits take 52 characters with 4 padding bits, which must be zero: otherwise up
        // to 16 spellings would name one party.
        if id.to_string() != text.to_ascii_lowercase() {
            return Err(IdError::NonCanonical);
        }
        Ok(id)
    }
}

impl Serialize for PartyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PartyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Digest::deserialize(deserializer).map(Self)
    }
}

/// A unique attestation identifier: 16 random bytes chosen by the issuer (spec §2.3).
/// Its text form is 32 lower-case hexadecimal digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttestationId([u8; 16]);

impl AttestationId {
    /// Wraps 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// A fresh random identifier.
    pub fn random<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The identifier's bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for AttestationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for AttestationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttestationId({self})")
    }
}

impl FromStr for AttestationId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| IdError::Hex)?;
        Ok(Self(bytes))
    }
}

impl Serialize for AttestationId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for AttestationId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(FixedBytes::<16>).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn text_form_round_trips(bytes in any::<[u8; 32]>()) {
            let id = PartyId::from_digest(Digest::from_bytes(bytes));
            prop_assert_eq!(id.to_string().parse::<PartyId>().unwrap(), id);
        }

        #[test]
        fn any_single_character_typo_is_caught(bytes in any::<[u8; 32]>(), pos in 7usize..65, c in 0usize..32) {
            const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
            let text = PartyId::from_digest(Digest::from_bytes(bytes)).to_string();
            let mut typo = text.clone().into_bytes();
            prop_assume!(typo[pos] != CHARSET[c]);
            typo[pos] = CHARSET[c];
            prop_assert!(String::from_utf8(typo).unwrap().parse::<PartyId>().is_err());
        }
    }

    #[test]
    fn non_zero_padding_is_refused() {
        use bech32::Fe32;
        use bech32::primitives::iter::Fe32IterExt;
        let text = PartyId::from_digest(Digest::of(b"x")).to_string();
        let mut data: Vec<Fe32> = text[7..text.len() - 6]
            .chars()
            .map(|c| Fe32::from_char(c).unwrap())
            .collect();
        let last = data.len() - 1;
        data[last] = Fe32::try_from(data[last].to_u8() ^ 1).unwrap();
        let spelled: String = data
            .into_iter()
            .with_checksum::<Bech32m>(&HRP)
            .chars()
            .collect();
        assert_ne!(spelled, text);
        assert_eq!(spelled.parse::<PartyId>(), Err(IdError::NonCanonical));
        // Upper case is the same id, printed in lower case.
        assert_eq!(
            text.to_uppercase().parse::<PartyId>().unwrap().to_string(),
            text
        );
    }

    #[test]
    fn other_prefixes_are_refused() {
        let other = bech32::encode::<Bech32m>(Hrp::parse_unchecked("other"), &[0u8; 32]).unwrap();
        assert!(matches!(
            other.parse::<PartyId>(),
            Err(IdError::Prefix { .. })
        ));
    }
}
