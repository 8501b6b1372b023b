//! Deterministic CBOR (spec §3.1, §3.2).
//!
//! Every Signet message and record has one codec shape: [`encode`] produces RFC 8949 §4.2.1
//! core deterministic CBOR (map keys sorted by their encoded bytes, minimal heads, definite
//! lengths); [`decode`] first runs [`check_deterministic`] over the input, within [`Limits`],
//! and only then builds the typed value, refusing trailing bytes. Serde drives both
//! directions through `ciborium`, a maintained CBOR crate (`serde_cbor` is archived,
//! RUSTSEC-2021-0127).
//!
//! ```
//! use signet_protocol::codec::{self, Limits};
//!
//! let bytes = codec::encode(&(1u8, "two"))?;
//! assert_eq!(bytes, [0x82, 0x01, 0x63, b't', b'w', b'o']);
//! let back: (u8, String) = codec::decode(&bytes, &Limits::DEFAULT)?;
//! assert_eq!(back, (1, "two".to_string()));
//! // A non-minimal head is refused even though it means the same value.
//! assert!(codec::decode::<u8>(&[0x18, 0x01], &Limits::DEFAULT).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod check;

pub use check::check_deterministic;

use ciborium::Value;
use serde::{Serialize, de::DeserializeOwned};

/// Bounds on what a decoder accepts, each enforced before allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded item, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and maps (a scalar at the top is depth 1).
    pub max_depth: usize,
    /// Most data items in one encoded item, counting every nested item.
    pub max_items: usize,
}

impl Limits {
    /// The limits for protocol messages and signed objects (spec §3.5).
    pub const DEFAULT: Self = Self {
        max_bytes: 1 << 20,
        max_depth: 16,
        max_items: 1 << 16,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why bytes could not be decoded. Every variant is the sender's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is larger than the limit.
    #[error("item of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Arrays and maps nest deeper than the limit.
    #[error("nesting deeper than {max} at byte {offset}")]
    TooDeep {
        /// Where the offending item starts.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// More data items than the limit.
    #[error("more than {max} data items")]
    TooManyItems {
        /// The limit.
        max: usize,
    },
    /// The input ends inside an item, or a length exceeds the bytes that remain.
    #[error("truncated item at byte {offset}")]
    Truncated {
        /// Where the incomplete item starts.
        offset: usize,
    },
    /// Bytes follow the single top-level item.
    #[error("trailing bytes after the item, from byte {offset}")]
    TrailingBytes {
        /// First byte after the item.
        offset: usize,
    },
    /// An indefinite-length item or a stray break byte.
    #[error("indefinite length at byte {offset}")]
    IndefiniteLength {
        /// The offending head.
        offset: usize,
    },
    /// An integer, length or count is not in its shortest form.
    #[error("non-minimal head at byte {offset}")]
    NonMinimal {
        /// The offending head.
        offset: usize,
    },
    /// Reserved additional information (28 to 30).
    #[error("reserved additional information at byte {offset}")]
    Reserved {
        /// The offending head.
        offset: usize,
    },
    /// Map keys are not in ascending order of their encoded bytes.
    #[error("map keys out of order at byte {offset}")]
    UnsortedKeys {
        /// The key that is out of order.
        offset: usize,
    },
    /// A map key appears twice.
    #[error("duplicate map key at byte {offset}")]
    DuplicateKey {
        /// The repeated key.
        offset: usize,
    },
    /// A text string is not valid UTF-8.
    #[error("invalid utf-8 in text string at byte {offset}")]
    InvalidUtf8 {
        /// The text string's head.
        offset: usize,
    },
    /// A floating-point number: Signet messages carry none.
    #[error("floating-point number at byte {offset}")]
    FloatNotAllowed {
        /// The offending head.
        offset: usize,
    },
    /// A tag: Signet messages carry none.
    #[error("tag at byte {offset}")]
    TagNotAllowed {
        /// The offending head.
        offset: usize,
    },
    /// A simple value other than false or true (null included).
    #[error("unsupported simple value at byte {offset}")]
    UnsupportedSimple {
        /// The offending head.
        offset: usize,
    },
    /// Well-formed CBOR that does not match the message's schema.
    #[error("does not match the schema: {reason}")]
    Schema {
        /// What did not match.
        reason: String,
    },
    /// A kind this implementation does not know (a message, key event or attestation kind):
    /// well-formed and decoded, then refused on purpose (wire code `unsupported`).
    #[error("{reason}")]
    UnknownKind {
        /// Which kind, and its code.
        reason: String,
    },
}

/// How a type's conversion marks an unknown kind, so that decoding reports
/// [`DecodeError::UnknownKind`] rather than a schema mismatch (serde carries only text).
const UNKNOWN_KIND: &str = "unknown code point: ";

/// The error text of an unknown kind `what` with `code` (see [`DecodeError::UnknownKind`]).
pub(crate) fn unknown_kind(what: &str, code: u64) -> String {
    format!("{UNKNOWN_KIND}{what} {code}")
}

/// A schema error, or an unknown kind if the text says so (it may be nested in a body's).
fn schema_or_unknown(reason: String) -> DecodeError {
    match reason.find(UNKNOWN_KIND) {
        Some(at) => DecodeError::UnknownKind {
            reason: reason[at..].to_string(),
        },
        None => DecodeError::Schema { reason },
    }
}

/// Why a value could not be encoded. Always a caller's mistake, never the peer's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value contains a floating-point number or a tag, which the profile forbids.
    #[error("value contains a {0}, which signet encoding does not allow")]
    Unsupported(&'static str),
    /// Two map keys encode to the same bytes.
    #[error("duplicate map key")]
    DuplicateKey,
    /// Serde reported an error.
    #[error("serialisation failed: {0}")]
    Serde(String),
}

/// Encodes `value` as deterministic CBOR.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let tree = Value::serialized(value).map_err(|e| EncodeError::Serde(e.to_string()))?;
    let tree = canonicalize(tree)?;
    let mut out = Vec::new();
    ciborium::into_writer(&tree, &mut out).map_err(|e| EncodeError::Serde(e.to_string()))?;
    Ok(out)
}

/// Decodes one deterministic item of type `T`, refusing anything else.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], limits: &Limits) -> Result<T, DecodeError> {
    check_deterministic(bytes, limits)?;
    ciborium::from_reader(bytes).map_err(|e| schema_or_unknown(schema_reason(e)))
}

/// Decodes a value from an already-decoded CBOR tree (used for kind-dependent bodies).
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    value
        .deserialized()
        .map_err(|e| schema_or_unknown(e.to_string()))
}

/// Builds the CBOR tree of a value (used for kind-dependent bodies).
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, EncodeError> {
    Value::serialized(value).map_err(|e| EncodeError::Serde(e.to_string()))
}

fn schema_reason<E: std::fmt::Debug>(error: ciborium::de::Error<E>) -> String {
    match error {
        ciborium::de::Error::Semantic(_, reason) => reason,
        other => format!("{other:?}"),
    }
}

/// Sorts every map's entries by the bytes of their encoded keys (RFC 8949 §4.2.1).
fn canonicalize(value: Value) -> Result<Value, EncodeError> {
    Ok(match value {
        Value::Map(entries) => {
            let mut keyed = Vec::with_capacity(entries.len());
            for (key, item) in entries {
                let key = canonicalize(key)?;
                let mut key_bytes = Vec::new();
                ciborium::into_writer(&key, &mut key_bytes)
                    .map_err(|e| EncodeError::Serde(e.to_string()))?;
                keyed.push((key_bytes, key, canonicalize(item)?));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            if keyed.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(EncodeError::DuplicateKey);
            }
            Value::Map(keyed.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(canonicalize)
                .collect::<Result<_, _>>()?,
        ),
        Value::Float(_) => return Err(EncodeError::Unsupported("floating-point number")),
        Value::Tag(..) => return Err(EncodeError::Unsupported("tag")),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        zeta: u64,
        a: String,
        bb: crate::Digest,
        nested: BTreeMap<String, i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opt: Option<bool>,
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<u64>().prop_map(|n| Value::Integer(n.into())),
            any::<i64>().prop_map(|n| Value::Integer(n.into())),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            ".{0,30}".prop_map(Value::Text),
            any::<bool>().prop_map(Value::Bool),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,6}", inner, 0..8).prop_map(|m| Value::Map(
                    m.into_iter().map(|(k, v)| (Value::Text(k), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #[test]
        fn encoder_output_passes_the_checker(value in arb_value()) {
            let bytes = encode(&value).unwrap();
            prop_assert_eq!(check_deterministic(&bytes, &Limits::DEFAULT), Ok(()));
            let back: Value = decode(&bytes, &Limits::DEFAULT).unwrap();
            prop_assert_eq!(encode(&back).unwrap(), bytes);
        }

        #[test]
        fn decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode::<Value>(&bytes, &Limits::DEFAULT);
        }
    }

    #[test]
    fn struct_fields_are_sorted_and_bytes_are_byte_strings() {
        let sample = Sample {
            zeta: 1,
            a: "x".into(),
            bb: crate::Digest::from_bytes([1; 32]),
            nested: BTreeMap::from([("bb".into(), -1), ("c".into(), 2)]),
            opt: None,
        };
        let bytes = encode(&sample).unwrap();
        // Keys in §4.2.1 order: "a", "bb", "zeta", "nested" (shorter first); absent "opt" omitted.
        assert_eq!(
            hex::encode(&bytes),
            concat!(
                "a4",
                "6161",
                "6178",
                "626262",
                "5820",
                "0101010101010101010101010101010101010101010101010101010101010101",
                "647a657461",
                "01",
                "666e6573746564",
                "a2",
                "6163",
                "02",
                "626262",
                "20"
            )
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_schema_errors() {
        let bytes = encode(&BTreeMap::from([("q", 1u8)])).unwrap();
        assert!(matches!(
            decode::<Sample>(&bytes, &Limits::DEFAULT),
            Err(DecodeError::Schema { .. })
        ));
        // An array of integers is not a byte string.
        let as_array = encode(&vec![1u8, 2, 3]).unwrap();
        assert!(matches!(
            decode::<crate::Digest>(&as_array, &Limits::DEFAULT),
            Err(DecodeError::Schema { .. })
        ));
    }

    #[test]
    fn floats_and_tags_are_refused_on_encode() {
        assert_eq!(
            encode(&1.5f64),
            Err(EncodeError::Unsupported("floating-point number"))
        );
    }

    #[test]
    fn long_strings_decode() {
        let text = "字".repeat(5000);
        let bytes = encode(&text).unwrap();
        assert_eq!(decode::<String>(&bytes, &Limits::DEFAULT).unwrap(), text);
    }
}
