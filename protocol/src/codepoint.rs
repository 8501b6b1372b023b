//! Open code points: numbers on the wire with named constants (spec §13).
//!
//! An unknown number still decodes, into `Unknown(n)`, so that the code that meets it can
//! refuse it on purpose with a precise error instead of failing somewhere inside the decoder.

/// Declares a registry enum whose variants are wire numbers, plus `Unknown(u64)`.
macro_rules! code_points {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A code point this implementation does not know.
            Unknown(u64),
        }

        impl $name {
            /// Every known value, in registry order.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant),+];

            /// The number on the wire.
            pub const fn code(self) -> u64 {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Unknown(code) => code,
                }
            }

            /// The value for a wire number; unknown numbers are kept.
            pub const fn from_code(code: u64) -> Self {
                match code {
                    $( $value => Self::$variant, )+
                    other => Self::Unknown(other),
                }
            }

            /// The registry name, as written in the spec and in text forms.
            pub const fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Unknown(_) => "unknown",
                }
            }

            /// The value whose registry name is `text`.
            pub fn from_name(text: &str) -> Option<Self> {
                match text {
                    $( $text => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// Whether this implementation knows the value.
            pub const fn is_known(self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    Self::Unknown(code) => write!(f, "unknown({code})"),
                    known => f.write_str(known.name()),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u64(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <u64 as ::serde::Deserialize>::deserialize(d).map(Self::from_code)
            }
        }
    };
}

pub(crate) use code_points;
