//! Registration numbers of legal entities (spec §2.4).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The scheme tag of the PRC unified social credit code (统一社会信用代码, GB 32100-2015).
pub const USCC_SCHEME: &str = "cn-uscc";

/// A registration number under a named scheme, valid once built.
///
/// For the unified social credit code (`cn-uscc`) the 18 characters and the check character
/// are validated; other schemes (e.g. `lei`, `gb-crn`) are carried as given, with their tag,
/// after basic hygiene (1 to 64 printable ASCII characters, no spaces).
///
/// ```
/// use signet_protocol::registration::Registration;
///
/// let code = Registration::uscc("91350100M000100Y43")?;
/// assert_eq!(code.number(), "91350100M000100Y43");
/// assert!(Registration::uscc("91350100M000100Y44").is_err()); // wrong check character
/// # Ok::<(), signet_protocol::registration::RegistrationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RegistrationWire", into = "RegistrationWire")]
pub struct Registration {
    scheme: String,
    number: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationWire {
    scheme: String,
    number: String,
}

/// A registration number is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// A unified social credit code must have 18 characters.
    #[error("a unified social credit code has 18 characters, found {0}")]
    Length(usize),
    /// A character outside the code's alphabet (digits and 21 capital letters, not I O S V Z).
    #[error("character {0:?} is not allowed in a unified social credit code")]
    Character(char),
    /// The check character does not match the first 17.
    #[error("check character should be {expected:?}, found {found:?}")]
    CheckCharacter {
        /// What the first 17 characters require.
        expected: char,
        /// What the code has.
        found: char,
    },
    /// The scheme tag or number of another scheme is not acceptable text.
    #[error("scheme tag and number must be 1 to 64 printable ASCII characters without spaces")]
    Format,
}

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl Registration {
    /// A unified social credit code, with its check character verified.
    pub fn uscc(code: &str) -> Result<Self, RegistrationError> {
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return Err(RegistrationError::Length(chars.len()));
        }
        let value = |c: char| -> Result<u32, RegistrationError> {
            USCC_ALPHABET
                .iter()
                .position(|&a| char::from(a) == c)
                .map(|p| p as u32)
                .ok_or(RegistrationError::Character(c))
        };
        let mut sum = 0u32;
        for (c, weight) in chars.iter().zip(USCC_WEIGHTS) {
            sum += value(*c)? * weight;
        }
        let check = (31 - sum % 31) % 31;
        let expected = char::from(USCC_ALPHABET[check as usize]);
        let found = chars[17];
        value(found)?;
        if found != expected {
            return Err(RegistrationError::CheckCharacter { expected, found });
        }
        Ok(Self {
            scheme: USCC_SCHEME.to_string(),
            number: code.to_string(),
        })
    }

    /// A number under another scheme (or `cn-uscc`, which is then validated).
    pub fn new(scheme: &str, number: &str) -> Result<Self, RegistrationError> {
        if scheme == USCC_SCHEME {
            return Self::uscc(number);
        }
        let ok =
            |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic());
        if !ok(scheme) || !ok(number) {
            return Err(RegistrationError::Format);
        }
        Ok(Self {
            scheme: scheme.to_string(),
            number: number.to_string(),
        })
    }

    /// The scheme tag, e.g. `cn-uscc`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The number itself.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// As people read it: a unified social credit code alone (the scheme readers in China
    /// assume), any other scheme as `scheme:number`.
    pub fn for_people(&self) -> String {
        if self.scheme == "cn-uscc" {
            self.number.clone()
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, self.number)
    }
}

impl TryFrom<RegistrationWire> for Registration {
    type Error = RegistrationError;

    fn try_from(wire: RegistrationWire) -> Result<Self, RegistrationError> {
        Self::new(&wire.scheme, &wire.number)
    }
}

impl From<Registration> for RegistrationWire {
    fn from(r: Registration) -> Self {
        Self {
            scheme: r.scheme,
            number: r.number,
        }
    }
}

/// Computes the check character for 17 characters (used to make test fixtures).
pub fn uscc_check_character(first17: &str) -> Result<char, RegistrationError> {
    let mut padded = first17.to_string();
    padded.push('0');
    match Registration::uscc(&padded) {
        Ok(_) => Ok('0'),
        Err(RegistrationError::CheckCharacter { expected, .. }) => Ok(expected),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_validate() {
        // Codes printed on public business licences.
        for code in [
            "91350100M000100Y43",
            "91110000802100433B",
            "91440300708461136T",
        ] {
            Registration::uscc(code).unwrap();
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        assert_eq!(
            Registration::uscc("91350100M000100Y4"),
            Err(RegistrationError::Length(17))
        );
        assert_eq!(
            Registration::uscc("91350100M00010OY43"),
            Err(RegistrationError::Character('O'))
        );
        assert!(matches!(
            Registration::uscc("91350100M000100Y42"),
            Err(RegistrationError::CheckCharacter {
                expected: '3',
                found: '2'
            })
        ));
        assert_eq!(
            Registration::new("lei", "has space"),
            Err(RegistrationError::Format)
        );
    }

    #[test]
    fn check_character_helper_agrees() {
        assert_eq!(uscc_check_character("91350100M000100Y4").unwrap(), '3');
    }
}
