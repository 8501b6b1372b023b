//! X.509 certificates and CRLs for PDF seal keys (RFC 5280), ECDSA P-256 with SHA-256.
//!
//! A Signet CA certifies each enterprise's seal key with a certificate that names the
//! enterprise by its legal name and unified social credit code (USCC, GB 32100-2015), so that
//! any PDF reader shows who sealed. The same CA certifies the witnesses' time-stamping keys.
//!
//! Certificates are assembled from `x509-cert`'s extension types and signed here (the TBS
//! structure is encoded by `TbsCertificate` below), which keeps every extension and its
//! criticality under this module's control.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use const_oid::ObjectIdentifier as Oid;
use der::asn1::{Ia5String, OctetString, PrintableString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::{SigningKey, VerifyingKey};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::crl::{RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, CrlNumber, ExtendedKeyUsage,
    KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

pub mod asn1;
pub mod chain;
pub mod identity;
pub mod issuer_key;
pub mod sm2;

use asn1::{AT_COMMON_NAME, AT_COUNTRY, AT_ORGANIZATION, AT_ORGANIZATION_IDENTIFIER};
use asn1::{AT_SERIAL_NUMBER, ATTESTATION_EXTENSION, KP_TIME_STAMPING};

use crate::Timestamp;

/// Why a certificate or CRL could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum X509Error {
    /// A certificate could not be parsed, or is not ECDSA P-256.
    #[error("unusable certificate: {0}")]
    Certificate(&'static str),
    /// The certificate's public key is not the signing key's.
    #[error("the certificate's public key is not the signing key's")]
    KeyMismatch,
    /// A legal name, registration code or other subject field was refused.
    #[error("invalid subject: {0}")]
    Subject(String),
    /// A time cannot be written in a certificate or CRL.
    #[error("time out of range for asn.1")]
    Time,
    /// A serial number is zero (serials must be positive).
    #[error("serial numbers must be positive")]
    Serial,
    /// DER encoding or decoding failed.
    #[error("asn.1: {0}")]
    Asn1(String),
}

impl From<der::Error> for X509Error {
    fn from(error: der::Error) -> Self {
        Self::Asn1(error.to_string())
    }
}

/// The semantics-identifier prefix of an organisation identifier for a Chinese national trade
/// register number (ETSI EN 319 412-1, 5.1.4: `NTR` + ISO 3166 country code + `-`).
const NTR_CN_PREFIX: &str = "NTRCN-";

/// A signing key with the DER certificate of its public key, checked to match.
#[derive(Debug, Clone)]
pub struct CertifiedKey<'a> {
    key: &'a SigningKey,
    der: Vec<u8>,
    certificate: Certificate,
}

/// The CA's key and certificate, as used to issue certificates and CRLs.
pub type CaSigner<'a> = CertifiedKey<'a>;

impl<'a> CertifiedKey<'a> {
    /// Pairs `key` with its certificate.
    ///
    /// # Errors
    ///
    /// [`X509Error::Certificate`] when the DER is not a certificate, [`X509Error::KeyMismatch`]
    /// when its public key is not `key`'s.
    pub fn new(key: &'a SigningKey, certificate_der: &[u8]) -> Result<Self, X509Error> {
        let certificate = Certificate::from_der(certificate_der)
            .map_err(|_| X509Error::Certificate("not a der x.509 certificate"))?;
        let certified = asn1::p256_key_of(certificate.tbs_certificate().subject_public_key_info())
            .ok_or(X509Error::Certificate("the public key is not ecdsa p-256"))?;
        if certified != *key.verifying_key() {
            return Err(X509Error::KeyMismatch);
        }
        Ok(Self {
            key,
            der: certificate_der.to_vec(),
            certificate,
        })
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        self.key
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate, parsed.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}

/// The enterprise a seal certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSubject {
    legal_name: String,
    uscc: String,
}

impl SealSubject {
    /// An enterprise registered in China under `uscc`, its 18-character unified social
    /// credit code (check character verified).
    ///
    /// # Errors
    ///
    /// [`X509Error::Subject`] for an empty or over-long legal name or an invalid USCC.
    pub fn new(legal_name: &str, uscc: &str) -> Result<Self, X509Error> {
        let legal_name = legal_name.trim();
        // ub-organization-name and ub-common-name are 64 in RFC 5280's upper bounds.
        if legal_name.is_empty() || legal_name.chars().count() > 64 {
            return Err(X509Error::Subject(
                "the legal name must have 1 to 64 characters".into(),
            ));
        }
        crate::registration::Registration::uscc(uscc)
            .map_err(|error| X509Error::Subject(format!("uscc: {error}")))?;
        Ok(Self {
            legal_name: legal_name.to_owned(),
            uscc: uscc.to_owned(),
        })
    }

    /// The enterprise's legal name.
    pub fn legal_name(&self) -> &str {
        &self.legal_name
    }

    /// The unified social credit code.
    pub fn uscc(&self) -> &str {
        &self.uscc
    }

    /// The country of registration (always `CN` for a USCC).
    pub fn country(&self) -> &str {
        "CN"
    }
}

/// The serial number and validity of a certificate to issue.
#[derive(Debug, Clone, Copy)]
pub struct Issuance {
    /// The serial number, positive and unique per CA. A PDF certificate's is its
    /// attestation's id read as an unsigned big-endian integer (spec §6.10):
    /// [`Issuance::serial_of_id`].
    pub serial: u128,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
}

impl Issuance {
    /// The serial number that is the attestation id `id`.
    pub fn serial_of_id(id: &crate::party::AttestationId) -> u128 {
        u128::from_be_bytes(*id.as_bytes())
    }
}

/// `TBSCertificate` (RFC 5280, 4.1), always v3 with extensions.
#[derive(Clone, Debug, Sequence)]
struct TbsCertificate {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

/// A Signet CA's name: `C=CN, O=<ca_name>, [organizationIdentifier, serialNumber = the USCC,]
/// CN=<ca_name>`.
pub(crate) fn ca_name_of(ca_name: &str, ca_uscc: Option<&str>) -> Result<Name, X509Error> {
    match ca_uscc {
        Some(uscc) => organisation_name(&SealSubject::new(ca_name, uscc)?),
        None => plain_name(ca_name),
    }
}

/// A Signet CA certificate's extensions: basicConstraints CA with pathLenConstraint 0
/// (critical), keyUsage keyCertSign and cRLSign (critical), the subject key identifier.
pub(crate) fn ca_extensions(spki: &SubjectPublicKeyInfoOwned) -> Result<Vec<Extension>, X509Error> {
    Ok(vec![
        extension(
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
            true,
        )?,
        extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true)?,
        extension(&subject_key_identifier(spki)?, false)?,
    ])
}

/// A self-signed CA certificate: basicConstraints CA with pathLenConstraint 0 (it certifies
/// end entities only; critical), keyUsage keyCertSign and cRLSign (critical), subject key
/// identifier.
///
/// The subject is `C=CN, O=<ca_name>, [organizationIdentifier, serialNumber = the USCC,]
/// CN=<ca_name>`.
///
/// # Errors
///
/// [`X509Error::Subject`], [`X509Error::Serial`], [`X509Error::Time`] for unencodable input.
pub fn ca_certificate(
    ca_name: &str,
    ca_uscc: Option<&str>,
    key: &SigningKey,
    issuance: &Issuance,
) -> Result<Vec<u8>, X509Error> {
    let name = ca_name_of(ca_name, ca_uscc)?;
    let spki = asn1::p256_spki(key.verifying_key())?;
    let extensions = ca_extensions(&spki)?;
    let tbs = tbs_certificate(issuance, name.clone(), name, spki, extensions)?;
    asn1::sign_envelope(key, &tbs.to_der()?)
}

/// A seal certificate for an enterprise's PDF signing key.
///
/// The subject is `C=CN, O=<legal name>, organizationIdentifier=NTRCN-<USCC>,
/// serialNumber=<USCC>, CN=<legal name>`. The USCC appears twice on purpose:
/// `organizationIdentifier` (2.5.4.97) with the `NTRCN-` semantics identifier is how
/// ETSI EN 319 412-1 and the eIDAS-style validators (pyHanko, DSS) identify a legal person,
/// while `serialNumber` (2.5.4.5) holding the bare code is what Chinese CAs and readers
/// that predate 2.5.4.97 (poppler, older Acrobat) display and match on.
///
/// Extensions: keyUsage digitalSignature and nonRepudiation (critical), authority and
/// subject key identifiers, cRLDistributionPoints when `crl_url` is given, and the Signet
/// identity attestation id (non-critical, [`asn1::ATTESTATION_EXTENSION_OID`]) when given.
///
/// # Errors
///
/// [`X509Error::Serial`], [`X509Error::Time`], [`X509Error::Subject`] (a `crl_url` that is not
/// ASCII) for unencodable input.
pub fn issue_seal_certificate(
    ca: &CaSigner<'_>,
    subject: &SealSubject,
    subject_key: &VerifyingKey,
    issuance: &Issuance,
    crl_url: Option<&str>,
    attestation_id: Option<[u8; 16]>,
) -> Result<Vec<u8>, X509Error> {
    let spki = asn1::p256_spki(subject_key)?;
    let mut extensions = vec![
        extension(
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            true,
        )?,
        extension(&authority_key_identifier(ca)?, false)?,
        extension(&subject_key_identifier(&spki)?, false)?,
    ];
    if let Some(url) = crl_url {
        extensions.push(extension(&crl_distribution_points(url)?, false)?);
    }
    if let Some(id) = attestation_id {
        extensions.push(Extension {
            extn_id: ATTESTATION_EXTENSION,
            critical: false,
            extn_value: OctetString::new(OctetString::new(id.to_vec())?.to_der()?)?,
        });
    }
    let issuer = ca.certificate().tbs_certificate().subject().clone();
    let tbs = tbs_certificate(
        issuance,
        issuer,
        organisation_name(subject)?,
        spki,
        extensions,
    )?;
    asn1::sign_envelope(ca.key(), &tbs.to_der()?)
}

/// A time-stamping authority's certificate (RFC 3161, 2.3): extendedKeyUsage
/// id-kp-timeStamping only, critical; keyUsage digitalSignature and nonRepudiation
/// (critical); subject `CN=<name>`, `O=<organisation>`.
///
/// # Errors
///
/// [`X509Error::Subject`], [`X509Error::Serial`], [`X509Error::Time`] for unencodable input.
pub fn tsa_certificate(
    ca: &CaSigner<'_>,
    name: &str,
    tsa_key: &VerifyingKey,
    issuance: &Issuance,
) -> Result<Vec<u8>, X509Error> {
    let spki = asn1::p256_spki(tsa_key)?;
    let extensions = vec![
        extension(
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            true,
        )?,
        extension(&ExtendedKeyUsage(vec![KP_TIME_STAMPING]), true)?,
        extension(&authority_key_identifier(ca)?, false)?,
        extension(&subject_key_identifier(&spki)?, false)?,
    ];
    let issuer = ca.certificate().tbs_certificate().subject().clone();
    let tbs = tbs_certificate(issuance, issuer, plain_name(name)?, spki, extensions)?;
    asn1::sign_envelope(ca.key(), &tbs.to_der()?)
}

/// A certificate with the extendedKeyUsage `usages` (critical or not) and, when `is_ca`,
/// basicConstraints CA: for tests of the profile rules, which the issuing functions above
/// never break.
#[cfg(test)]
pub(crate) fn certificate_with_usages(
    ca: &CaSigner<'_>,
    name: &str,
    key: &VerifyingKey,
    issuance: &Issuance,
    usages: &[Oid],
    critical: bool,
    is_ca: bool,
) -> Result<Vec<u8>, X509Error> {
    let spki = asn1::p256_spki(key)?;
    let mut extensions = vec![extension(&ExtendedKeyUsage(usages.to_vec()), critical)?];
    if is_ca {
        extensions.push(extension(
            &BasicConstraints {
                ca: true,
                path_len_constraint: None,
            },
            true,
        )?);
    }
    let issuer = ca.certificate().tbs_certificate().subject().clone();
    let tbs = tbs_certificate(issuance, issuer, plain_name(name)?, spki, extensions)?;
    asn1::sign_envelope(ca.key(), &tbs.to_der()?)
}

/// A v2 CRL (RFC 5280, 5) signed by the CA, listing `revoked` serial numbers with their
/// revocation times, with the CRL number and authority key identifier extensions.
///
/// # Errors
///
/// [`X509Error::Serial`], [`X509Error::Time`] for unencodable input.
pub fn crl(
    ca: &CaSigner<'_>,
    crl_number: u64,
    revoked: &[(u128, Timestamp)],
    this_update: Timestamp,
    next_update: Timestamp,
) -> Result<Vec<u8>, X509Error> {
    let revoked_certificates = revoked
        .iter()
        .map(|&(serial, time)| {
            Ok(RevokedCert {
                serial_number: serial_number(serial)?,
                revocation_date: time_of(time)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, X509Error>>()?;
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: asn1::ecdsa_sha256_algorithm(),
        issuer: ca.certificate().tbs_certificate().subject().clone(),
        this_update: time_of(this_update)?,
        next_update: Some(time_of(next_update)?),
        revoked_certificates: (!revoked_certificates.is_empty()).then_some(revoked_certificates),
        crl_extensions: Some(vec![
            extension(
                &CrlNumber(der::asn1::Uint::new(&crl_number.to_be_bytes())?),
                false,
            )?,
            extension(&authority_key_identifier(ca)?, false)?,
        ]),
    };
    asn1::sign_envelope(ca.key(), &tbs.to_der()?)
}

/// What a seal certificate says about its subject, as read back from DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectFacts {
    /// `O`, or else `CN`.
    pub legal_name: Option<String>,
    /// The USCC from `organizationIdentifier` (without `NTRCN-`), or else `serialNumber`.
    pub uscc: Option<String>,
}

/// Reads the legal name and USCC from a DER certificate's subject.
///
/// # Errors
///
/// [`X509Error::Certificate`] when the DER is not a certificate.
pub fn subject_of(certificate_der: &[u8]) -> Result<SubjectFacts, X509Error> {
    let certificate = Certificate::from_der(certificate_der)
        .map_err(|_| X509Error::Certificate("not a der x.509 certificate"))?;
    Ok(subject_facts(&certificate))
}

/// Reads the legal name and USCC from a certificate's subject.
pub fn subject_facts(certificate: &Certificate) -> SubjectFacts {
    let subject = certificate.tbs_certificate().subject();
    let text = |oid: Oid| -> Option<String> {
        subject
            .iter()
            .find(|atv| atv.oid == oid)
            .and_then(|atv| directory_string(&atv.value))
    };
    let legal_name = text(AT_ORGANIZATION).or_else(|| text(AT_COMMON_NAME));
    let uscc = text(AT_ORGANIZATION_IDENTIFIER)
        .and_then(|id| id.strip_prefix(NTR_CN_PREFIX).map(str::to_owned))
        .or_else(|| text(AT_SERIAL_NUMBER));
    SubjectFacts { legal_name, uscc }
}

fn directory_string(value: &Any) -> Option<String> {
    value
        .decode_as::<x509_cert::ext::pkix::name::DirectoryString>()
        .ok()
        .map(String::from)
}

fn tbs_certificate(
    issuance: &Issuance,
    issuer: Name,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    extensions: Vec<Extension>,
) -> Result<TbsCertificate, X509Error> {
    tbs_certificate_with(
        issuance,
        issuer,
        subject,
        spki,
        extensions,
        asn1::ecdsa_sha256_algorithm(),
    )
}

/// [`tbs_certificate`] with another signature algorithm (SM2-with-SM3, see [`sm2`]).
fn tbs_certificate_with(
    issuance: &Issuance,
    issuer: Name,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    extensions: Vec<Extension>,
    signature: AlgorithmIdentifierOwned,
) -> Result<TbsCertificate, X509Error> {
    Ok(TbsCertificate {
        version: 2,
        serial_number: serial_number(issuance.serial)?,
        signature,
        issuer,
        validity: Validity::new(time_of(issuance.not_before)?, time_of(issuance.not_after)?),
        subject,
        subject_public_key_info: spki,
        extensions,
    })
}

fn serial_number(serial: u128) -> Result<SerialNumber, X509Error> {
    if serial == 0 {
        return Err(X509Error::Serial);
    }
    let bytes = serial.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    Ok(SerialNumber::new(&bytes[first..])?)
}

/// UTCTime through 2049, GeneralizedTime after (RFC 5280, 4.1.2.5).
fn time_of(time: Timestamp) -> Result<Time, X509Error> {
    let at: SystemTime = UNIX_EPOCH + Duration::from_secs(time.unix());
    Time::try_from(at).map_err(|_| X509Error::Time)
}

pub(crate) fn extension<E: const_oid::AssociatedOid + Encode>(
    value: &E,
    critical: bool,
) -> Result<Extension, X509Error> {
    Ok(Extension {
        extn_id: E::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// RFC 7093 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey.
fn subject_key_identifier(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<SubjectKeyIdentifier, X509Error> {
    let digest = asn1::sha256(spki.subject_public_key.raw_bytes());
    Ok(SubjectKeyIdentifier(OctetString::new(&digest[..20])?))
}

fn authority_key_identifier(ca: &CaSigner<'_>) -> Result<AuthorityKeyIdentifier, X509Error> {
    let spki = ca.certificate().tbs_certificate().subject_public_key_info();
    let SubjectKeyIdentifier(key_id) = subject_key_identifier(spki)?;
    Ok(AuthorityKeyIdentifier {
        key_identifier: Some(key_id),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    })
}

fn crl_distribution_points(url: &str) -> Result<CrlDistributionPoints, X509Error> {
    let uri =
        Ia5String::new(url).map_err(|_| X509Error::Subject("the crl url must be ascii".into()))?;
    Ok(CrlDistributionPoints(vec![DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![
            GeneralName::UniformResourceIdentifier(uri),
        ])),
        reasons: None,
        crl_issuer: None,
    }]))
}

/// `C, O, organizationIdentifier, serialNumber, CN` for an enterprise.
fn organisation_name(subject: &SealSubject) -> Result<Name, X509Error> {
    let ntr = format!("{NTR_CN_PREFIX}{}", subject.uscc());
    name_of(&[
        (AT_COUNTRY, printable(subject.country())?),
        (AT_ORGANIZATION, utf8(subject.legal_name())?),
        (AT_ORGANIZATION_IDENTIFIER, printable(&ntr)?),
        (AT_SERIAL_NUMBER, printable(subject.uscc())?),
        (AT_COMMON_NAME, utf8(subject.legal_name())?),
    ])
}

/// `C=CN, O=<name>, CN=<name>` for a CA or TSA without a registration code.
fn plain_name(name: &str) -> Result<Name, X509Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(X509Error::Subject(
            "a name must have 1 to 64 characters".into(),
        ));
    }
    name_of(&[
        (AT_COUNTRY, printable("CN")?),
        (AT_ORGANIZATION, utf8(name)?),
        (AT_COMMON_NAME, utf8(name)?),
    ])
}

fn printable(text: &str) -> Result<Any, X509Error> {
    let value = PrintableString::new(text)
        .map_err(|_| X509Error::Subject(format!("{text:?} is not a printable string")))?;
    Ok(Any::encode_from(&value)?)
}

fn utf8(text: &str) -> Result<Any, X509Error> {
    Ok(Any::encode_from(&text.to_owned())?)
}

/// One attribute per RDN, in order.
fn name_of(attributes: &[(Oid, Any)]) -> Result<Name, X509Error> {
    let rdns = attributes
        .iter()
        .map(|(oid, value)| {
            SetOfVec::try_from(vec![AttributeTypeAndValue {
                oid: *oid,
                value: value.clone(),
            }])
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Name::from_der(&rdns.to_der()?)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    fn at(days: u64) -> Timestamp {
        Timestamp::from_unix(1_790_000_000 + days * 86_400)
    }

    fn issuance(serial: u128) -> Issuance {
        Issuance {
            serial,
            not_before: at(0),
            not_after: at(3650),
        }
    }

    fn ca_pair(ca_key: &SigningKey) -> Vec<u8> {
        ca_certificate("Signet Test CA", None, ca_key, &issuance(1)).unwrap()
    }

    fn verify_signed_by(der_bytes: &[u8], issuer: &VerifyingKey) -> bool {
        let envelope = asn1::SignedEnvelope::from_der(der_bytes).unwrap();
        let tbs = envelope.tbs.to_der().unwrap();
        asn1::verify_der(issuer, &tbs, envelope.signature.raw_bytes())
    }

    #[test]
    fn ca_certificate_is_self_signed_with_ca_constraints() {
        let ca_key = key(1);
        let der_bytes = ca_pair(&ca_key);
        let cert = Certificate::from_der(&der_bytes).unwrap();
        let tbs = cert.tbs_certificate();
        assert_eq!(tbs.subject(), tbs.issuer());
        let (critical, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
        assert!(critical && bc.ca);
        let (critical, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
        assert!(critical && ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
        assert!(
            tbs.get_extension::<SubjectKeyIdentifier>()
                .unwrap()
                .is_some()
        );
        assert!(verify_signed_by(&der_bytes, ca_key.verifying_key()));
        assert!(!verify_signed_by(&der_bytes, key(2).verifying_key()));
    }

    #[test]
    fn seal_certificate_names_the_enterprise_and_carries_the_attestation() {
        let ca_key = key(1);
        let ca_der = ca_pair(&ca_key);
        let ca = CertifiedKey::new(&ca_key, &ca_der).unwrap();
        let subject = SealSubject::new("Brand A Co., Ltd.", "91350100M000100Y43").unwrap();
        let der_bytes = issue_seal_certificate(
            &ca,
            &subject,
            key(3).verifying_key(),
            &issuance(7),
            Some("http://crl.example.invalid/ca.crl"),
            Some([9; 16]),
        )
        .unwrap();
        let cert = Certificate::from_der(&der_bytes).unwrap();
        let facts = subject_facts(&cert);
        assert_eq!(facts.legal_name.as_deref(), Some("Brand A Co., Ltd."));
        assert_eq!(facts.uscc.as_deref(), Some("91350100M000100Y43"));
        let tbs = cert.tbs_certificate();
        let (critical, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
        assert!(critical && ku.digital_signature() && ku.non_repudiation() && !ku.key_cert_sign());
        assert!(
            tbs.get_extension::<CrlDistributionPoints>()
                .unwrap()
                .is_some()
        );
        assert!(
            tbs.get_extension::<AuthorityKeyIdentifier>()
                .unwrap()
                .is_some()
        );
        let attestation = tbs
            .extensions()
            .unwrap()
            .iter()
            .find(|e| e.extn_id == ATTESTATION_EXTENSION)
            .unwrap();
        assert!(!attestation.critical);
        let id = OctetString::from_der(attestation.extn_value.as_bytes()).unwrap();
        assert_eq!(id.as_bytes(), &[9; 16]);
        assert_eq!(
            tbs.issuer(),
            Certificate::from_der(&ca_der)
                .unwrap()
                .tbs_certificate()
                .subject()
        );
        assert!(verify_signed_by(&der_bytes, ca_key.verifying_key()));
        assert_eq!(
            asn1::p256_key_of(tbs.subject_public_key_info()).unwrap(),
            *key(3).verifying_key()
        );
    }

    #[test]
    fn tsa_certificate_has_critical_time_stamping_eku() {
        let ca_key = key(1);
        let ca_der = ca_pair(&ca_key);
        let ca = CertifiedKey::new(&ca_key, &ca_der).unwrap();
        let der_bytes = tsa_certificate(
            &ca,
            "Signet Witness TSA",
            key(4).verifying_key(),
            &issuance(8),
        )
        .unwrap();
        let cert = Certificate::from_der(&der_bytes).unwrap();
        let (critical, eku) = cert
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
            .unwrap()
            .unwrap();
        assert!(critical);
        assert_eq!(eku.0, vec![KP_TIME_STAMPING]);
    }

    #[test]
    fn crl_lists_revoked_serials_and_is_signed_by_the_ca() {
        let ca_key = key(1);
        let ca_der = ca_pair(&ca_key);
        let ca = CertifiedKey::new(&ca_key, &ca_der).unwrap();
        let der_bytes = crl(&ca, 1, &[(7, at(10)), (9, at(11))], at(12), at(19)).unwrap();
        let list: x509_cert::crl::CertificateList =
            x509_cert::crl::CertificateList::from_der(&der_bytes).unwrap();
        let revoked = list.tbs_cert_list.revoked_certificates.unwrap();
        assert_eq!(revoked.len(), 2);
        assert_eq!(revoked[0].serial_number, SerialNumber::new(&[7]).unwrap());
        assert!(verify_signed_by(&der_bytes, ca_key.verifying_key()));
    }

    #[test]
    fn refuses_bad_input() {
        let ca_key = key(1);
        let ca_der = ca_pair(&ca_key);
        assert!(matches!(
            CertifiedKey::new(&key(2), &ca_der),
            Err(X509Error::KeyMismatch)
        ));
        assert!(matches!(
            CertifiedKey::new(&ca_key, b"junk"),
            Err(X509Error::Certificate(_))
        ));
        assert!(matches!(
            SealSubject::new("X", "91350100M000100Y44"),
            Err(X509Error::Subject(_))
        ));
        assert!(matches!(
            SealSubject::new("  ", "91350100M000100Y43"),
            Err(X509Error::Subject(_))
        ));
        assert!(matches!(
            ca_certificate("CA", None, &ca_key, &issuance(0)),
            Err(X509Error::Serial)
        ));
    }
}
