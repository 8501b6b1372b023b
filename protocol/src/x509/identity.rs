//! The legal entity a Chinese CA's certificate names: its legal name and its unified social
//! credit code (USCC, GB 32100-2015), as Chinese CAs write them (spec §6.10.1).
//!
//! CAs put the code in different places, and some certificates carry it more than once:
//!
//! - CFCA and CAs following it: the subject's common name is `@`-separated fields,
//!   `<certificate type>@<id type><id number>@<name>@<sequence>`, where id type `N` is the
//!   USCC, e.g. `041@N91350100M000100Y43@示例有限公司@00000001`;
//! - GM/T 0015-2012 certificate extensions under 1.2.156.10260.4.1: `.3` the business
//!   registration number, `.4` the organisation code, `.5` the tax number; since the three
//!   were merged into the USCC (2015), CAs write the 18-character USCC in them, and older
//!   certificates the 9-character organisation code in `.4`;
//! - the subject's `serialNumber` (2.5.4.5), and `organizationIdentifier` (2.5.4.97) with
//!   the ETSI `NTRCN-` prefix, as Signet's own certificates do (spec §6.10).
//!
//! Every USCC found is checked (its check character included), and all must agree; an
//! organisation code must be the one the USCC embeds (its characters 9 to 17). The legal name
//! is the subject's `O`, else the name field of a CFCA common name, else the common name.

use const_oid::ObjectIdentifier as Oid;
use der::{Any, Decode};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::name::Name;

use super::asn1::{AT_COMMON_NAME, AT_ORGANIZATION, AT_ORGANIZATION_IDENTIFIER, AT_SERIAL_NUMBER};
use super::{NTR_CN_PREFIX, directory_string};
use crate::registration::{Registration, RegistrationError};

/// GM/T 0015-2012: the business registration number (工商注册号).
pub const GMT0015_REGISTRATION_NUMBER: Oid = Oid::new_unwrap("1.2.156.10260.4.1.3");
/// GM/T 0015-2012: the organisation code (组织机构代码).
pub const GMT0015_ORGANIZATION_CODE: Oid = Oid::new_unwrap("1.2.156.10260.4.1.4");
/// GM/T 0015-2012: the tax registration number (税号).
pub const GMT0015_TAX_NUMBER: Oid = Oid::new_unwrap("1.2.156.10260.4.1.5");

/// Where a code was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeSource {
    /// The `N` field of a CFCA-style common name.
    CfcaCommonName,
    /// A GM/T 0015 extension (1.2.156.10260.4.1.3, .4 or .5).
    Gmt0015Extension(Oid),
    /// The subject's `serialNumber`.
    SerialNumber,
    /// The subject's `organizationIdentifier` (`NTRCN-`).
    OrganizationIdentifier,
}

/// The legal entity a certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaIdentity {
    /// The legal name, when the subject has one.
    pub legal_name: Option<String>,
    /// The USCC, checked, when the certificate carries one.
    pub uscc: Option<Registration>,
    /// Every place the USCC was read, in the order of the module documentation.
    pub uscc_sources: Vec<CodeSource>,
}

/// Why a certificate's identity cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The bytes are not a DER X.509 certificate.
    #[error("not a der x.509 certificate")]
    Certificate,
    /// A field that holds a USCC holds no valid one (wrong length, character or check
    /// character).
    #[error("{place:?} holds {text:?}, not a valid unified social credit code: {error}")]
    MalformedCode {
        /// Where.
        place: CodeSource,
        /// What it holds.
        text: String,
        /// Why it is not a USCC.
        error: RegistrationError,
    },
    /// Two places hold different codes (or an organisation code that is not the USCC's).
    #[error("{first:?} says {first_code}, {second:?} says {second_code}")]
    Mismatch {
        /// Where the first code was read.
        first: CodeSource,
        /// The first code.
        first_code: String,
        /// Where the disagreeing code was read.
        second: CodeSource,
        /// The disagreeing code.
        second_code: String,
    },
}

/// Reads the identity of a DER certificate's subject and GM/T 0015 extensions.
///
/// # Errors
///
/// [`IdentityError`].
pub fn identity_of(certificate_der: &[u8]) -> Result<CaIdentity, IdentityError> {
    let certificate =
        Certificate::from_der(certificate_der).map_err(|_| IdentityError::Certificate)?;
    let tbs = certificate.tbs_certificate();
    let extensions = tbs.extensions().map(Vec::as_slice).unwrap_or(&[]);
    identity_of_subject(tbs.subject(), extensions)
}

/// The fields of a CFCA-style common name: (USCC text, legal name), when it has that shape:
/// at least three `@`-separated fields, the second starting with `N`.
fn cfca_fields(common_name: &str) -> Option<(&str, &str)> {
    let mut fields = common_name.split('@');
    let _kind = fields.next()?;
    let id = fields.next()?;
    let name = fields.next()?;
    let code = id.strip_prefix('N')?;
    Some((code, name))
}

/// The text of a GM/T 0015 extension: a DER string (Printable, UTF8 or IA5), or bare ASCII.
fn extension_text(value: &[u8]) -> Option<String> {
    if let Ok(any) = Any::from_der(value)
        && let Some(text) = directory_string(&any).or_else(|| {
            any.decode_as::<der::asn1::Ia5String>()
                .ok()
                .map(|s| s.to_string())
        })
    {
        return Some(text);
    }
    std::str::from_utf8(value)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
}

/// Reads the identity of a subject name and a certificate's extensions (pure: for names
/// and extensions from any source).
///
/// # Errors
///
/// [`IdentityError::MalformedCode`], [`IdentityError::Mismatch`].
pub fn identity_of_subject(
    subject: &Name,
    extensions: &[Extension],
) -> Result<CaIdentity, IdentityError> {
    let text = |oid: Oid| -> Option<String> {
        subject
            .iter()
            .find(|atv| atv.oid == oid)
            .and_then(|atv| directory_string(&atv.value))
    };
    let common_name = text(AT_COMMON_NAME);
    let cfca = common_name.as_deref().and_then(cfca_fields);
    let mut codes: Vec<(CodeSource, String)> = Vec::new();
    if let Some((code, _)) = cfca {
        codes.push((CodeSource::CfcaCommonName, code.to_owned()));
    }
    // An 18-character value is a USCC; a 9-character organisation code must be the USCC's.
    let mut organisation_code: Option<String> = None;
    for oid in [
        GMT0015_REGISTRATION_NUMBER,
        GMT0015_ORGANIZATION_CODE,
        GMT0015_TAX_NUMBER,
    ] {
        let Some(value) = extensions.iter().find(|e| e.extn_id == oid) else {
            continue;
        };
        let Some(value) = extension_text(value.extn_value.as_bytes()) else {
            continue;
        };
        if value.chars().count() == 18 {
            codes.push((CodeSource::Gmt0015Extension(oid), value));
        } else if oid == GMT0015_ORGANIZATION_CODE {
            organisation_code = Some(value.replace('-', ""));
        }
        // Other lengths are pre-2015 registration and tax numbers: not a USCC, no claim.
    }
    if let Some(serial) = text(AT_SERIAL_NUMBER) {
        codes.push((CodeSource::SerialNumber, serial));
    }
    if let Some(id) = text(AT_ORGANIZATION_IDENTIFIER)
        && let Some(code) = id.strip_prefix(NTR_CN_PREFIX)
    {
        codes.push((CodeSource::OrganizationIdentifier, code.to_owned()));
    }
    let mut uscc: Option<(CodeSource, Registration)> = None;
    for (source, code) in &codes {
        // A serialNumber need not be a USCC (persons' certificates, other registers): only
        // one of 18 characters is read as one.
        if *source == CodeSource::SerialNumber && code.chars().count() != 18 {
            continue;
        }
        let checked = Registration::uscc(code).map_err(|error| IdentityError::MalformedCode {
            place: *source,
            text: code.clone(),
            error,
        })?;
        match &uscc {
            None => uscc = Some((*source, checked)),
            Some((first, held)) if held.number() != checked.number() => {
                return Err(IdentityError::Mismatch {
                    first: *first,
                    first_code: held.number().to_owned(),
                    second: *source,
                    second_code: code.clone(),
                });
            }
            Some(_) => {}
        }
    }
    if let (Some((first, held)), Some(org)) = (&uscc, &organisation_code) {
        let embedded = held.number().get(8..17).unwrap_or_default();
        if embedded != org {
            return Err(IdentityError::Mismatch {
                first: *first,
                first_code: held.number().to_owned(),
                second: CodeSource::Gmt0015Extension(GMT0015_ORGANIZATION_CODE),
                second_code: org.clone(),
            });
        }
    }
    let uscc_sources = match &uscc {
        Some((_, held)) => codes
            .iter()
            .filter(|(_, code)| code == held.number())
            .map(|(source, _)| *source)
            .collect(),
        None => Vec::new(),
    };
    let legal_name = text(AT_ORGANIZATION)
        .or_else(|| cfca.map(|(_, name)| name.to_owned()))
        .or(common_name)
        .filter(|name| !name.trim().is_empty());
    Ok(CaIdentity {
        legal_name,
        uscc: uscc.map(|(_, code)| code),
        uscc_sources,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use der::Encode;
    use der::asn1::{OctetString, PrintableString};

    use super::*;

    const USCC: &str = "91350100M000100Y43";
    const OTHER: &str = "91110000MA01ABCD1M";

    fn name(text: &str) -> Name {
        text.parse().unwrap()
    }

    fn gmt(oid: Oid, text: &str) -> Extension {
        Extension {
            extn_id: oid,
            critical: false,
            extn_value: OctetString::new(PrintableString::new(text).unwrap().to_der().unwrap())
                .unwrap(),
        }
    }

    fn read(subject: &str, extensions: &[Extension]) -> Result<CaIdentity, IdentityError> {
        identity_of_subject(&name(subject), extensions)
    }

    #[test]
    fn a_cfca_common_name_gives_code_and_name() {
        let id = read(&format!("C=CN,CN=041@N{USCC}@示例有限公司@00000001"), &[]).unwrap();
        assert_eq!(id.uscc.unwrap().number(), USCC);
        assert_eq!(id.legal_name.as_deref(), Some("示例有限公司"));
        assert_eq!(id.uscc_sources, vec![CodeSource::CfcaCommonName]);
        // O, when present, is the legal name.
        let id = read(
            &format!("C=CN,O=示例有限公司福州分公司,CN=041@N{USCC}@示例有限公司@1"),
            &[],
        )
        .unwrap();
        assert_eq!(id.legal_name.as_deref(), Some("示例有限公司福州分公司"));
    }

    #[test]
    fn a_gmt_0015_extension_gives_the_code() {
        for oid in [
            GMT0015_REGISTRATION_NUMBER,
            GMT0015_ORGANIZATION_CODE,
            GMT0015_TAX_NUMBER,
        ] {
            let id = read("C=CN,O=示例有限公司,CN=示例有限公司", &[gmt(oid, USCC)]).unwrap();
            assert_eq!(id.uscc.unwrap().number(), USCC);
            assert_eq!(id.uscc_sources, vec![CodeSource::Gmt0015Extension(oid)]);
        }
        // Bare ASCII in the extension is read too.
        let bare = Extension {
            extn_id: GMT0015_TAX_NUMBER,
            critical: false,
            extn_value: OctetString::new(USCC.as_bytes().to_vec()).unwrap(),
        };
        assert_eq!(read("CN=x", &[bare]).unwrap().uscc.unwrap().number(), USCC);
    }

    #[test]
    fn serial_number_and_organization_identifier_give_the_code() {
        let id = read(
            &format!("C=CN,O=示例有限公司,2.5.4.97=NTRCN-{USCC},2.5.4.5={USCC},CN=示例"),
            &[],
        )
        .unwrap();
        assert_eq!(id.uscc.unwrap().number(), USCC);
        assert_eq!(
            id.uscc_sources,
            vec![CodeSource::SerialNumber, CodeSource::OrganizationIdentifier]
        );
        // An 18-character serialNumber is read as a USCC, so a person's identity card
        // number there is refused (this reads organisations' certificates); another length
        // is no claim at all.
        let person = read("CN=张三,2.5.4.5=35010219900101123X", &[]);
        assert!(matches!(
            person,
            Err(IdentityError::MalformedCode {
                place: CodeSource::SerialNumber,
                ..
            })
        ));
        let short = read("CN=张三,2.5.4.5=0001", &[]).unwrap();
        assert_eq!(short.uscc, None);
        assert_eq!(short.legal_name.as_deref(), Some("张三"));
    }

    #[test]
    fn a_wrong_check_character_is_refused_wherever_it_is() {
        let bad = "91350100M000100Y44";
        let expected = RegistrationError::CheckCharacter {
            expected: '3',
            found: '4',
        };
        for (subject, extensions, source) in [
            (
                format!("CN=041@N{bad}@示例@1"),
                vec![],
                CodeSource::CfcaCommonName,
            ),
            (
                "CN=示例".into(),
                vec![gmt(GMT0015_ORGANIZATION_CODE, bad)],
                CodeSource::Gmt0015Extension(GMT0015_ORGANIZATION_CODE),
            ),
            (
                format!("CN=示例,2.5.4.5={bad}"),
                vec![],
                CodeSource::SerialNumber,
            ),
        ] {
            assert_eq!(
                read(&subject, &extensions),
                Err(IdentityError::MalformedCode {
                    place: source,
                    text: bad.into(),
                    error: expected.clone(),
                })
            );
        }
        // A malformed N field (too short) is refused, not skipped.
        assert!(matches!(
            read("CN=041@N9135@示例@1", &[]),
            Err(IdentityError::MalformedCode {
                error: RegistrationError::Length(4),
                ..
            })
        ));
    }

    #[test]
    fn codes_that_disagree_are_refused() {
        assert_eq!(
            read(&format!("CN=041@N{USCC}@示例@1,2.5.4.5={OTHER}"), &[]),
            Err(IdentityError::Mismatch {
                first: CodeSource::CfcaCommonName,
                first_code: USCC.into(),
                second: CodeSource::SerialNumber,
                second_code: OTHER.into(),
            })
        );
        // An organisation code that is not the one the USCC embeds.
        assert!(matches!(
            read(
                &format!("CN=041@N{USCC}@示例@1"),
                &[gmt(GMT0015_ORGANIZATION_CODE, "MA01ABCD1")]
            ),
            Err(IdentityError::Mismatch { .. })
        ));
        // The embedded one (with its customary hyphen) agrees.
        let id = read(
            &format!("CN=041@N{USCC}@示例@1"),
            &[gmt(GMT0015_ORGANIZATION_CODE, "M000100Y-4")],
        )
        .unwrap();
        assert_eq!(id.uscc.unwrap().number(), USCC);
    }

    #[test]
    fn a_certificate_without_a_code_has_only_a_name() {
        let id = read("C=CN,O=Example Ltd,CN=Example", &[]).unwrap();
        assert_eq!(id.uscc, None);
        assert!(id.uscc_sources.is_empty());
        assert_eq!(id.legal_name.as_deref(), Some("Example Ltd"));
        // A common name with @ but no N field is a plain name.
        let id = read("CN=user@example.com", &[]).unwrap();
        assert_eq!(id.legal_name.as_deref(), Some("user@example.com"));
    }
}
