//! SM2 keys and SM2-with-SM3 signatures in X.509 certificates (spec §4.3.3).
//!
//! A certificate names an SM2 key in one of two ways, and both are read:
//!
//! - `id-ecPublicKey` (1.2.840.10045.2.1) with the SM2 curve (1.2.156.10197.1.301) as its
//!   parameters: what Chinese CAs (GM/T 0015) and OpenSSL 3 write;
//! - the SM2 OID 1.2.156.10197.1.301 as the algorithm itself, without parameters: what some
//!   national toolkits write (OpenSSL 3.0 cannot read this form).
//!
//! Certificates are signed with SM2-with-SM3 (1.2.156.10197.1.501), default identifier,
//! the signature DER in the BIT STRING, and checked over the exact TBS bytes received.

use const_oid::ObjectIdentifier as Oid;
use der::asn1::{BitString, Null};
use der::{Any, Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::time::Validity;

use super::asn1::{ID_EC_PUBLIC_KEY, SignedEnvelope};
use super::{Issuance, TbsCertificate, X509Error, extension, serial_number, time_of};
use crate::sm2::{Sm2PublicKey, Sm2SecretKey, Sm2Signature};

/// The SM2 curve, and SM2 as a public-key algorithm (GM/T 0006).
pub const SM2_CURVE: Oid = Oid::new_unwrap("1.2.156.10197.1.301");
/// SM2 signature with SM3 (GM/T 0006).
pub const SM2_WITH_SM3: Oid = Oid::new_unwrap("1.2.156.10197.1.501");
/// SM3 (GM/T 0006).
pub const SM3: Oid = Oid::new_unwrap("1.2.156.10197.1.401");

/// How a `SubjectPublicKeyInfo` names an SM2 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sm2KeyForm {
    /// `id-ecPublicKey` with the SM2 curve as parameters (CAs, OpenSSL 3).
    EcPublicKey,
    /// The SM2 OID as the algorithm, no parameters.
    Sm2Algorithm,
}

/// The `AlgorithmIdentifier` of SM2-with-SM3 signatures (parameters absent).
pub fn sm2_with_sm3_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SM2_WITH_SM3,
        parameters: None,
    }
}

/// The `AlgorithmIdentifier` of SM3 (parameters absent).
pub fn sm3_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SM3,
        parameters: None,
    }
}

/// Whether `algorithm` is SM2-with-SM3: the OID, with parameters absent or NULL (both occur).
pub fn is_sm2_with_sm3(algorithm: &AlgorithmIdentifierOwned) -> bool {
    algorithm.oid == SM2_WITH_SM3
        && algorithm
            .parameters
            .as_ref()
            .is_none_or(|p| p.decode_as::<Null>().is_ok())
}

/// The `SubjectPublicKeyInfo` of an SM2 key (uncompressed point) in the form `form`.
pub fn sm2_spki(
    key: &Sm2PublicKey,
    form: Sm2KeyForm,
) -> Result<SubjectPublicKeyInfoOwned, X509Error> {
    let algorithm = match form {
        Sm2KeyForm::EcPublicKey => AlgorithmIdentifierOwned {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&SM2_CURVE)?),
        },
        Sm2KeyForm::Sm2Algorithm => AlgorithmIdentifierOwned {
            oid: SM2_CURVE,
            parameters: None,
        },
    };
    Ok(SubjectPublicKeyInfoOwned {
        algorithm,
        subject_public_key: BitString::from_bytes(&key.to_uncompressed())?,
    })
}

/// The SM2 key of a `SubjectPublicKeyInfo` in either form.
///
/// # Errors
///
/// [`X509Error::Certificate`] when the key is not SM2 (another algorithm or curve) or its
/// point is not on the SM2 curve.
pub fn sm2_key_of(spki: &SubjectPublicKeyInfoOwned) -> Result<Sm2PublicKey, X509Error> {
    let algorithm = &spki.algorithm;
    let is_sm2 = match algorithm.oid {
        oid if oid == ID_EC_PUBLIC_KEY => algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<Oid>().ok())
            .is_some_and(|curve| curve == SM2_CURVE),
        oid if oid == SM2_CURVE => algorithm
            .parameters
            .as_ref()
            .is_none_or(|p| p.decode_as::<Null>().is_ok()),
        _ => false,
    };
    if !is_sm2 {
        return Err(X509Error::Certificate("the public key is not sm2"));
    }
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or(X509Error::Certificate("the public key has unused bits"))?;
    Sm2PublicKey::from_sec1(point)
        .map_err(|_| X509Error::Certificate("the sm2 public key is not a point on the curve"))
}

/// The SM2 key a DER certificate certifies.
///
/// # Errors
///
/// [`X509Error::Certificate`] when the DER is not a certificate or its key is not SM2.
pub fn certificate_sm2_key(certificate_der: &[u8]) -> Result<Sm2PublicKey, X509Error> {
    let certificate = x509_cert::Certificate::from_der(certificate_der)
        .map_err(|_| X509Error::Certificate("not a der x.509 certificate"))?;
    sm2_key_of(certificate.tbs_certificate().subject_public_key_info())
}

/// Why an SM2-signed certificate (or CRL) does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Sm2CertificateError {
    /// The bytes are not `SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING }` in DER.
    #[error("not a der signed x.509 structure")]
    Malformed,
    /// The signature algorithm is not SM2-with-SM3.
    #[error("signature algorithm {0} is not sm2-with-sm3")]
    Algorithm(Oid),
    /// The signature does not verify under the issuer's key.
    #[error("the sm2 signature does not verify under the issuer's key")]
    BadSignature,
}

/// Verifies that `issuer` signed the certificate (or CRL) `der` with SM2-with-SM3, over the
/// TBS bytes exactly as received.
///
/// # Errors
///
/// [`Sm2CertificateError`].
pub fn verify_sm2_signed(der: &[u8], issuer: &Sm2PublicKey) -> Result<(), Sm2CertificateError> {
    let envelope = SignedEnvelope::from_der(der).map_err(|_| Sm2CertificateError::Malformed)?;
    if !is_sm2_with_sm3(&envelope.signature_algorithm) {
        return Err(Sm2CertificateError::Algorithm(
            envelope.signature_algorithm.oid,
        ));
    }
    let tbs = first_element(der).map_err(|_| Sm2CertificateError::Malformed)?;
    let signature = envelope
        .signature
        .as_bytes()
        .ok_or(Sm2CertificateError::Malformed)?;
    issuer
        .verify_der(tbs, signature)
        .map_err(|_| Sm2CertificateError::BadSignature)
}

/// The exact bytes of the first element inside the DER SEQUENCE `der` (a certificate's or
/// CRL's TBS part), as received: signatures are checked over these, never over a re-encoding.
pub(crate) fn first_element(der: &[u8]) -> Result<&[u8], der::Error> {
    use der::Reader as _;
    let mut reader = der::SliceReader::new(der)?;
    der::Header::decode(&mut reader)?;
    reader.tlv_bytes()
}

/// Signs the DER `tbs` with SM2-with-SM3 and wraps it as a certificate or CRL.
pub fn sign_sm2_envelope(key: &Sm2SecretKey, tbs: &[u8]) -> Result<Vec<u8>, X509Error> {
    let signature: Sm2Signature = key.sign(tbs);
    let envelope = SignedEnvelope {
        tbs: Any::from_der(tbs)?,
        signature_algorithm: sm2_with_sm3_algorithm(),
        signature: BitString::from_bytes(&signature.to_der())?,
    };
    Ok(envelope.to_der()?)
}

/// A v3 certificate for an SM2 key, signed with SM2-with-SM3 by `issuer_key`: a CA
/// (basicConstraints CA, keyCertSign and cRLSign) when `ca`, else an end-entity signing
/// certificate (digitalSignature and nonRepudiation). For national-algorithm seals and
/// tests; Signet's own PDF CA issues ESP256 certificates ([`super::issue_seal_certificate`]).
///
/// # Errors
///
/// [`X509Error::Serial`], [`X509Error::Time`] for unencodable input.
#[allow(clippy::too_many_arguments)]
pub fn sm2_certificate(
    issuer_key: &Sm2SecretKey,
    issuer: Name,
    subject: Name,
    subject_key: &Sm2PublicKey,
    form: Sm2KeyForm,
    issuance: &Issuance,
    ca: bool,
) -> Result<Vec<u8>, X509Error> {
    let extensions = if ca {
        vec![
            extension(
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(0),
                },
                true,
            )?,
            extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true)?,
        ]
    } else {
        vec![extension(
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            true,
        )?]
    };
    let tbs = TbsCertificate {
        version: 2,
        serial_number: serial_number(issuance.serial)?,
        signature: sm2_with_sm3_algorithm(),
        issuer,
        validity: Validity::new(time_of(issuance.not_before)?, time_of(issuance.not_after)?),
        subject,
        subject_public_key_info: sm2_spki(subject_key, form)?,
        extensions,
    };
    sign_sm2_envelope(issuer_key, &tbs.to_der()?)
}

/// A self-signed SM2 CA certificate, as [`super::ca_certificate`] makes a P-256 one: the same
/// subject (`C=CN, O=<ca_name>, [organizationIdentifier, serialNumber = the USCC,]
/// CN=<ca_name>`) and extensions (basicConstraints CA with pathLenConstraint 0, keyUsage
/// keyCertSign and cRLSign, both critical; subject key identifier), signed with SM2-with-SM3.
///
/// # Errors
///
/// [`X509Error::Subject`], [`X509Error::Serial`], [`X509Error::Time`] for unencodable input.
pub fn sm2_ca_certificate(
    ca_name: &str,
    ca_uscc: Option<&str>,
    key: &Sm2SecretKey,
    issuance: &Issuance,
) -> Result<Vec<u8>, X509Error> {
    let name = super::ca_name_of(ca_name, ca_uscc)?;
    let spki = sm2_spki(&key.public_key(), Sm2KeyForm::EcPublicKey)?;
    let extensions = super::ca_extensions(&spki)?;
    let tbs = super::tbs_certificate_with(
        issuance,
        name.clone(),
        name,
        spki,
        extensions,
        sm2_with_sm3_algorithm(),
    )?;
    sign_sm2_envelope(key, &tbs.to_der()?)
}

/// A seal certificate for an enterprise's SM2 PDF key, as [`super::issue_seal_certificate`]
/// makes a P-256 one (the same subject and extensions: spec §6.10), signed with SM2-with-SM3
/// by the CA's SM2 key `ca_key`, whose certificate is `ca_certificate` (DER).
///
/// # Errors
///
/// [`X509Error::KeyMismatch`] when `ca_certificate` is not `ca_key`'s; [`X509Error::Serial`],
/// [`X509Error::Time`], [`X509Error::Subject`] for unencodable input.
pub fn issue_sm2_seal_certificate(
    ca_key: &Sm2SecretKey,
    ca_certificate: &[u8],
    subject: &super::SealSubject,
    subject_key: &Sm2PublicKey,
    issuance: &Issuance,
    crl_url: Option<&str>,
    attestation_id: Option<[u8; 16]>,
) -> Result<Vec<u8>, X509Error> {
    if certificate_sm2_key(ca_certificate)? != ca_key.public_key() {
        return Err(X509Error::KeyMismatch);
    }
    let ca = x509_cert::Certificate::from_der(ca_certificate)
        .map_err(|_| X509Error::Certificate("not a der x.509 certificate"))?;
    let ca_tbs = ca.tbs_certificate();
    let x509_cert::ext::pkix::SubjectKeyIdentifier(authority_key) =
        super::subject_key_identifier(ca_tbs.subject_public_key_info())?;
    let spki = sm2_spki(subject_key, Sm2KeyForm::EcPublicKey)?;
    let mut extensions = vec![
        extension(
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            true,
        )?,
        extension(
            &x509_cert::ext::pkix::AuthorityKeyIdentifier {
                key_identifier: Some(authority_key),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
            false,
        )?,
        extension(&super::subject_key_identifier(&spki)?, false)?,
    ];
    if let Some(url) = crl_url {
        extensions.push(extension(&super::crl_distribution_points(url)?, false)?);
    }
    if let Some(id) = attestation_id {
        extensions.push(x509_cert::ext::Extension {
            extn_id: super::asn1::ATTESTATION_EXTENSION,
            critical: false,
            extn_value: der::asn1::OctetString::new(
                der::asn1::OctetString::new(id.to_vec())?.to_der()?,
            )?,
        });
    }
    let tbs = super::tbs_certificate_with(
        issuance,
        ca_tbs.subject().clone(),
        super::organisation_name(subject)?,
        spki,
        extensions,
        sm2_with_sm3_algorithm(),
    )?;
    sign_sm2_envelope(ca_key, &tbs.to_der()?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Timestamp;

    fn issuance() -> Issuance {
        Issuance {
            serial: 7,
            not_before: Timestamp::from_unix(1_800_000_000),
            not_after: Timestamp::from_unix(1_900_000_000),
        }
    }

    fn name(cn: &str) -> Name {
        super::super::plain_name(cn).unwrap()
    }

    #[test]
    fn both_key_forms_read_back_and_the_signature_verifies() {
        let ca = Sm2SecretKey::from_bytes(&[1; 32]).unwrap();
        let subject = Sm2SecretKey::from_bytes(&[2; 32]).unwrap().public_key();
        for form in [Sm2KeyForm::EcPublicKey, Sm2KeyForm::Sm2Algorithm] {
            let der = sm2_certificate(
                &ca,
                name("CA"),
                name("Seal"),
                &subject,
                form,
                &issuance(),
                false,
            )
            .unwrap();
            assert_eq!(certificate_sm2_key(&der).unwrap(), subject, "{form:?}");
            verify_sm2_signed(&der, &ca.public_key()).unwrap();
            assert_eq!(
                verify_sm2_signed(&der, &subject),
                Err(Sm2CertificateError::BadSignature)
            );
            // Every byte of the TBS matters.
            let mut tampered = der.clone();
            let at = tampered.len() / 2;
            tampered[at] ^= 1;
            assert!(verify_sm2_signed(&tampered, &ca.public_key()).is_err());
        }
    }

    #[test]
    fn an_sm2_ca_issues_seal_certificates_like_the_p256_one() {
        let ca = Sm2SecretKey::from_bytes(&[8; 32]).unwrap();
        let subject = Sm2SecretKey::from_bytes(&[9; 32]).unwrap().public_key();
        let ca_der = sm2_ca_certificate("SM2 CA", None, &ca, &issuance()).unwrap();
        verify_sm2_signed(&ca_der, &ca.public_key()).unwrap();
        let named = super::super::SealSubject::new("Acme Ltd", "91350100M000100Y43").unwrap();
        let der = issue_sm2_seal_certificate(
            &ca,
            &ca_der,
            &named,
            &subject,
            &issuance(),
            Some("http://ca.example/crl"),
            Some([7; 16]),
        )
        .unwrap();
        verify_sm2_signed(&der, &ca.public_key()).unwrap();
        assert_eq!(certificate_sm2_key(&der).unwrap(), subject);
        let facts = super::super::subject_of(&der).unwrap();
        assert_eq!(facts.legal_name.as_deref(), Some("Acme Ltd"));
        assert_eq!(facts.uscc.as_deref(), Some("91350100M000100Y43"));
        // Another CA key than the certificate's is refused.
        let other = Sm2SecretKey::from_bytes(&[10; 32]).unwrap();
        assert_eq!(
            issue_sm2_seal_certificate(&other, &ca_der, &named, &subject, &issuance(), None, None),
            Err(X509Error::KeyMismatch)
        );
    }

    #[test]
    fn a_p256_key_is_not_sm2() {
        let p256 = p256::ecdsa::SigningKey::from_slice(&[3; 32]).unwrap();
        let spki = super::super::asn1::p256_spki(p256.verifying_key()).unwrap();
        assert_eq!(
            sm2_key_of(&spki),
            Err(X509Error::Certificate("the public key is not sm2"))
        );
        // An SM2 point under the P-256 curve OID is refused too, whatever the point.
        let sm2 = Sm2SecretKey::from_bytes(&[4; 32]).unwrap().public_key();
        let mut spki = sm2_spki(&sm2, Sm2KeyForm::EcPublicKey).unwrap();
        spki.algorithm.parameters =
            Some(Any::encode_from(&super::super::asn1::PRIME256V1).unwrap());
        assert!(sm2_key_of(&spki).is_err());
    }

    #[test]
    fn an_ecdsa_signed_certificate_is_refused_by_algorithm() {
        let ca = p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap();
        let der = super::super::ca_certificate("CA", None, &ca, &issuance()).unwrap();
        let any = Sm2SecretKey::from_bytes(&[6; 32]).unwrap().public_key();
        assert_eq!(
            verify_sm2_signed(&der, &any),
            Err(Sm2CertificateError::Algorithm(
                super::super::asn1::ECDSA_WITH_SHA256
            ))
        );
    }
}
