//! The deterministic-encoding checker (spec §3.1).
//!
//! Walks one encoded CBOR item without building it, and refuses anything that is not in
//! RFC 8949 §4.2.1 core deterministic form, plus the restrictions of Signet's profile: no
//! floating-point numbers, no tags, no simple values other than `false` and `true` (not even
//! `null`: an absent optional field is omitted, so it has exactly one encoding).
//! The walk is bounded by [`Limits`] before a single byte of input-controlled memory is
//! allocated: every length is compared against the bytes that remain.

use super::{DecodeError, Limits};

/// Checks that `bytes` hold exactly one item in deterministic encoding, within `limits`.
pub fn check_deterministic(bytes: &[u8], limits: &Limits) -> Result<(), DecodeError> {
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let mut walker = Walker {
        bytes,
        pos: 0,
        items: 0,
        limits,
    };
    walker.item(1)?;
    if walker.pos != bytes.len() {
        return Err(DecodeError::TrailingBytes { offset: walker.pos });
    }
    Ok(())
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
    items: usize,
    limits: &'a Limits,
}

impl Walker<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(DecodeError::Truncated { offset: self.pos })?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated { offset: self.pos });
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// Reads the argument of a head whose additional information is `info`, refusing
    /// non-minimal forms.
    fn argument(&mut self, info: u8, head: usize) -> Result<u64, DecodeError> {
        let (value, min) = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => (u64::from(self.byte()?), 24),
            25 => {
                let b = self.take(2)?;
                (u64::from(u16::from_be_bytes([b[0], b[1]])), 0x100)
            }
            26 => {
                let b = self.take(4)?;
                (
                    u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                    0x1_0000,
                )
            }
            27 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                (u64::from_be_bytes(a), 0x1_0000_0000)
            }
            31 => return Err(DecodeError::IndefiniteLength { offset: head }),
            _ => return Err(DecodeError::Reserved { offset: head }),
        };
        if value < min {
            return Err(DecodeError::NonMinimal { offset: head });
        }
        Ok(value)
    }

    /// A length argument, which must fit in the bytes that remain (each element of an array
    /// or map takes at least one byte, so this also bounds element counts).
    fn length(&mut self, info: u8, head: usize, per_unit: usize) -> Result<usize, DecodeError> {
        let len = self.argument(info, head)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated { offset: head })?;
        if len.saturating_mul(per_unit) > self.remaining() {
            return Err(DecodeError::Truncated { offset: head });
        }
        Ok(len)
    }

    fn item(&mut self, depth: usize) -> Result<(), DecodeError> {
        let head = self.pos;
        if depth > self.limits.max_depth {
            return Err(DecodeError::TooDeep {
                offset: head,
                max: self.limits.max_depth,
            });
        }
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(DecodeError::TooManyItems {
                max: self.limits.max_items,
            });
        }
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        match major {
            0 | 1 => {
                self.argument(info, head)?;
            }
            2 => {
                let len = self.length(info, head, 1)?;
                self.take(len)?;
            }
            3 => {
                let len = self.length(info, head, 1)?;
                let text = self.take(len)?;
                if std::str::from_utf8(text).is_err() {
                    return Err(DecodeError::InvalidUtf8 { offset: head });
                }
            }
            4 => {
                let len = self.length(info, head, 1)?;
                for _ in 0..len {
                    self.item(depth + 1)?;
                }
            }
            5 => {
                let len = self.length(info, head, 2)?;
                let mut previous: Option<(usize, usize)> = None;
                for _ in 0..len {
                    let start = self.pos;
                    self.item(depth + 1)?;
                    let key = (start, self.pos);
                    if let Some(prev) = previous {
                        let (a, b) = (&self.bytes[prev.0..prev.1], &self.bytes[key.0..key.1]);
                        match a.cmp(b) {
                            std::cmp::Ordering::Less => {}
                            std::cmp::Ordering::Equal => {
                                return Err(DecodeError::DuplicateKey { offset: start });
                            }
                            std::cmp::Ordering::Greater => {
                                return Err(DecodeError::UnsortedKeys { offset: start });
                            }
                        }
                    }
                    previous = Some(key);
                    self.item(depth + 1)?;
                }
            }
            6 => return Err(DecodeError::TagNotAllowed { offset: head }),
            _ => match info {
                // false and true; null is refused so an absent field has one encoding.
                20 | 21 => {}
                25..=27 => return Err(DecodeError::FloatNotAllowed { offset: head }),
                31 => return Err(DecodeError::IndefiniteLength { offset: head }),
                28..=30 => return Err(DecodeError::Reserved { offset: head }),
                _ => return Err(DecodeError::UnsupportedSimple { offset: head }),
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(hex_text: &str) -> Result<(), DecodeError> {
        check_deterministic(&hex::decode(hex_text).unwrap(), &Limits::DEFAULT)
    }

    #[test]
    fn accepts_deterministic_items() {
        for ok in [
            "00",
            "17",
            "1818",
            "190100",
            "1a00010000",
            "1b0000000100000000",
            "20",
            "3818",
            "40",
            "4401020304",
            "60",
            "6161",
            "80",
            "83010203",
            "a0",
            "a201020304",
            // Text keys sort by encoded bytes: shorter first, then bytewise.
            "a261610162616102",
            "f4",
            "f5",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_non_deterministic_forms() {
        use DecodeError::*;
        let cases: &[(&str, DecodeError)] = &[
            ("1817", NonMinimal { offset: 0 }),
            ("1900ff", NonMinimal { offset: 0 }),
            ("1a0000ffff", NonMinimal { offset: 0 }),
            ("1b00000000ffffffff", NonMinimal { offset: 0 }),
            ("5f4101ff", IndefiniteLength { offset: 0 }),
            ("9f01ff", IndefiniteLength { offset: 0 }),
            ("bf0102ff", IndefiniteLength { offset: 0 }),
            ("a203040102", UnsortedKeys { offset: 3 }),
            ("a201020103", DuplicateKey { offset: 3 }),
            ("a2626161016162", UnsortedKeys { offset: 5 }),
            ("c11a00000000", TagNotAllowed { offset: 0 }),
            ("f93c00", FloatNotAllowed { offset: 0 }),
            ("f7", UnsupportedSimple { offset: 0 }),
            ("f6", UnsupportedSimple { offset: 0 }),
            ("1c", Reserved { offset: 0 }),
            ("62c328", InvalidUtf8 { offset: 0 }),
            ("0000", TrailingBytes { offset: 1 }),
            ("", Truncated { offset: 0 }),
            ("44010203", Truncated { offset: 0 }),
            ("9b0000000100000000", Truncated { offset: 0 }),
            ("ff", IndefiniteLength { offset: 0 }),
        ];
        for (input, expected) in cases {
            assert_eq!(check(input).as_ref(), Err(expected), "{input}");
        }
    }

    #[test]
    fn limits_are_typed_errors() {
        let limits = Limits {
            max_bytes: 4,
            max_depth: 2,
            max_items: 3,
        };
        assert!(matches!(
            check_deterministic(&[0x40 | 4, 1, 2, 3, 4], &limits),
            Err(DecodeError::TooLarge { len: 5, max: 4 })
        ));
        assert!(matches!(
            check_deterministic(&[0x81, 0x81, 0x00], &limits),
            Err(DecodeError::TooDeep { max: 2, .. })
        ));
        assert!(matches!(
            check_deterministic(&[0x83, 0, 0, 0], &limits),
            Err(DecodeError::TooManyItems { max: 3 })
        ));
    }

    #[test]
    fn deep_nesting_is_refused_without_recursing_far() {
        let bytes = vec![0x81u8; 100_000];
        assert!(matches!(
            check_deterministic(&bytes, &Limits::DEFAULT),
            Err(DecodeError::TooDeep { .. })
        ));
    }
}
