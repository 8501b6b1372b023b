//! The content rules of a PDF certificate attestation (spec §6.10): its X.509 certificate
//! says what its claims and fields say. Context (the subject's key log, the identity
//! attestation it rests on) is checked by [`crate::trust::TrustStore::pdf_certificate_in_effect`].
//!
//! A certificate has one of two profiles, told apart by its extendedKeyUsage: a TSA
//! certificate (id-kp-timeStamping) certifies a `tsa` key, any other certificate a `pdf` key
//! ([`PdfCertificate::purpose`]).

use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};

use super::{Attestation, MAX_CERTIFICATE_LEN, PdfCertificate};
use crate::keylog::{ALG_SM2_SM3, EcdsaP256Key, KeyPurpose, LogKey};
use crate::party::AttestationId;
use crate::sm2::Sm2PublicKey;
use crate::x509::asn1::{KP_TIME_STAMPING, p256_key_of};
use crate::x509::sm2::sm2_key_of;

/// The key a PDF certificate certifies: ESP256 (PAdES), or SM2 (national algorithms, a `pdf`
/// key only; spec §6.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdfKey {
    /// ECDSA P-256 (`alg` absent on the wire).
    EcdsaP256(EcdsaP256Key),
    /// SM2 (`alg` [`ALG_SM2_SM3`]), compressed SEC1.
    Sm2(Sm2PublicKey),
}

impl PdfKey {
    /// The key as a key log names it.
    pub fn log_key(&self) -> LogKey {
        match *self {
            Self::EcdsaP256(k) => LogKey::EcdsaP256(k),
            Self::Sm2(k) => LogKey::Sm2(k),
        }
    }

    /// The ESP256 key, if it is one.
    pub fn ecdsa_p256(&self) -> Option<&EcdsaP256Key> {
        match self {
            Self::EcdsaP256(k) => Some(k),
            Self::Sm2(_) => None,
        }
    }

    /// The SM2 key, if it is one.
    pub fn sm2(&self) -> Option<&Sm2PublicKey> {
        match self {
            Self::Sm2(k) => Some(k),
            Self::EcdsaP256(_) => None,
        }
    }
}

impl From<EcdsaP256Key> for PdfKey {
    fn from(key: EcdsaP256Key) -> Self {
        Self::EcdsaP256(key)
    }
}

impl From<Sm2PublicKey> for PdfKey {
    fn from(key: Sm2PublicKey) -> Self {
        Self::Sm2(key)
    }
}

/// [`PdfCertificate`] on the wire (CDDL `pdf-certificate`): `alg` absent for ESP256.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PdfCertificateWire {
    #[serde(with = "crate::cbor_bytes")]
    key: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity: Option<AttestationId>,
    #[serde(with = "crate::cbor_bytes")]
    certificate: Vec<u8>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::cbor_bytes::option"
    )]
    seal: Option<Vec<u8>>,
}

impl TryFrom<PdfCertificateWire> for PdfCertificate {
    type Error = String;

    fn try_from(wire: PdfCertificateWire) -> Result<Self, String> {
        let key = match wire.alg {
            None => {
                PdfKey::EcdsaP256(EcdsaP256Key::from_slice(&wire.key).map_err(|e| e.to_string())?)
            }
            Some(ALG_SM2_SM3) => {
                PdfKey::Sm2(Sm2PublicKey::from_compressed(&wire.key).map_err(|e| e.to_string())?)
            }
            Some(other) => {
                return Err(format!(
                    "pdf certificate key algorithm {other} is not supported"
                ));
            }
        };
        Ok(Self {
            key,
            identity: wire.identity,
            certificate: wire.certificate,
            seal: wire.seal,
        })
    }
}

impl From<PdfCertificate> for PdfCertificateWire {
    fn from(c: PdfCertificate) -> Self {
        let (key, alg) = match c.key {
            PdfKey::EcdsaP256(k) => (k.as_bytes().to_vec(), None),
            PdfKey::Sm2(k) => (k.as_bytes().to_vec(), Some(ALG_SM2_SM3)),
        };
        Self {
            key,
            alg,
            identity: c.identity,
            certificate: c.certificate,
            seal: c.seal,
        }
    }
}

impl PdfCertificate {
    /// The key purpose this certificate's profile certifies (spec §6.10): `tsa` for a TSA
    /// certificate (its extendedKeyUsage names id-kp-timeStamping), `pdf` for any other.
    /// The subject's key log must declare [`PdfCertificate::key`] under this purpose.
    pub fn purpose(&self) -> KeyPurpose {
        let time_stamping = Certificate::from_der(&self.certificate)
            .ok()
            .and_then(|c| {
                c.tbs_certificate()
                    .get_extension::<ExtendedKeyUsage>()
                    .ok()
                    .flatten()
            })
            .is_some_and(|(_, eku)| eku.0.contains(&KP_TIME_STAMPING));
        if time_stamping {
            KeyPurpose::Tsa
        } else {
            KeyPurpose::Pdf
        }
    }
}

/// Rule 6: a certificate whose extendedKeyUsage names id-kp-timeStamping is a TSA
/// certificate (RFC 3161, 2.3): that usage only, marked critical, and not a CA.
fn check_profile(certificate: &Certificate) -> Result<(), &'static str> {
    let tbs = certificate.tbs_certificate();
    let eku = tbs
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|_| "the certificate's extendedKeyUsage is malformed or repeated")?;
    let Some((critical, eku)) = eku else {
        return Ok(());
    };
    if !eku.0.contains(&KP_TIME_STAMPING) {
        return Ok(());
    }
    if eku.0.as_slice() != [KP_TIME_STAMPING] || !critical {
        return Err(
            "a TSA certificate's extendedKeyUsage is id-kp-timeStamping only, and critical",
        );
    }
    let ca = tbs
        .get_extension::<BasicConstraints>()
        .map_err(|_| "the certificate's basicConstraints is malformed or repeated")?
        .is_some_and(|(_, bc)| bc.ca);
    if ca {
        return Err("a TSA certificate is not a CA certificate");
    }
    Ok(())
}

/// Checks `claims`' certificate against `attestation` (spec §6.10, rules 1–6).
pub(super) fn check(
    attestation: &Attestation,
    claims: &PdfCertificate,
) -> Result<(), &'static str> {
    let der_bytes = &claims.certificate;
    if der_bytes.is_empty() || der_bytes.len() > MAX_CERTIFICATE_LEN {
        return Err("the certificate is empty or longer than 16384 bytes");
    }
    let certificate =
        Certificate::from_der(der_bytes).map_err(|_| "the certificate is not DER X.509")?;
    if certificate.to_der().ok().as_deref() != Some(der_bytes.as_slice()) {
        return Err("the certificate is not in DER");
    }
    let tbs = certificate.tbs_certificate();
    let spki = tbs.subject_public_key_info();
    let certified = match claims.key {
        PdfKey::EcdsaP256(_) => {
            p256_key_of(spki).map(|key| PdfKey::EcdsaP256(EcdsaP256Key::from_verifying_key(&key)))
        }
        PdfKey::Sm2(_) => sm2_key_of(spki).ok().map(PdfKey::Sm2),
    };
    if certified != Some(claims.key) {
        return Err("the certificate's public key is not the claimed key");
    }
    if !serial_is_id(tbs.serial_number().as_bytes(), attestation.id.as_bytes()) {
        return Err("the certificate's serial number is not the attestation id");
    }
    let validity = tbs.validity();
    let seconds = |t: x509_cert::time::Time| t.to_unix_duration().as_secs();
    if seconds(validity.not_before) != attestation.valid_from.unix()
        || seconds(validity.not_after) != attestation.valid_until.unix()
    {
        return Err("the certificate's validity is not the attestation's window");
    }
    check_profile(&certificate)?;
    check_national(attestation, claims)
}

/// Rules 7 and 8: an SM2 key is certified as a `pdf` key only; a seal comes only with an
/// SM2 key, verifies, lists the certificate and is valid within the attestation's window.
fn check_national(attestation: &Attestation, claims: &PdfCertificate) -> Result<(), &'static str> {
    if matches!(claims.key, PdfKey::Sm2(_)) && claims.purpose() != KeyPurpose::Pdf {
        return Err("an SM2 key is certified as a pdf key only");
    }
    let Some(seal) = &claims.seal else {
        return Ok(());
    };
    if !matches!(claims.key, PdfKey::Sm2(_)) {
        return Err("only an SM2 key's certificate comes with an electronic seal");
    }
    let verified =
        crate::ses::verify_seal(seal).map_err(|_| "the electronic seal does not verify")?;
    if crate::ses::seal_lists(seal, &claims.certificate) != Ok(true) {
        return Err("the electronic seal does not list the certificate");
    }
    if verified.valid_from < attestation.valid_from
        || verified.valid_until > attestation.valid_until
    {
        return Err("the electronic seal's validity is not within the attestation's window");
    }
    Ok(())
}

/// Whether a DER serial number's magnitude (leading zeros stripped) is the attestation id
/// read as an unsigned big-endian integer.
fn serial_is_id(serial: &[u8], id: &[u8]) -> bool {
    let strip = |b: &[u8]| -> Vec<u8> { b.iter().copied().skip_while(|x| *x == 0).collect() };
    !serial.is_empty() && strip(serial) == strip(id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::attestation::SignedAttestation;
    use crate::attestation::{AssuranceLevel, Claims};
    use crate::cose::Signed;
    use crate::testkit::{DAY, TestParty};
    use crate::trust::{PdfCertificateError, TrustStore};
    use crate::{Timestamp, x509};

    const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

    struct World {
        ca: TestParty,
        subject: TestParty,
        identity: SignedAttestation,
        certificate: SignedAttestation,
    }

    fn world() -> World {
        let mut ca = TestParty::new("PDF CA", T0);
        ca.declare_pdf_key(T0);
        let mut subject = TestParty::new("PDF Subject", T0);
        subject.declare_pdf_key(T0);
        let identity = ca.verify_identity(&subject, AssuranceLevel::High, T0);
        let certificate = ca.certify_pdf_key(&subject, &identity, T0, 365);
        World {
            ca,
            subject,
            identity,
            certificate,
        }
    }

    fn store(w: &World) -> TrustStore {
        let mut store = TrustStore::new();
        store.add_key_log(w.ca.log.clone());
        store.add_key_log(w.subject.log.clone());
        store.add_attestation(w.identity.clone());
        store.add_attestation(w.certificate.clone());
        store
    }

    /// The certificate's attestation with `edit` applied to it, re-signed as the CA would
    /// (bypassing `issue`, which refuses what `check_content` refuses).
    fn edited(w: &World, edit: impl FnOnce(&mut Attestation)) -> Vec<u8> {
        let mut a = w.certificate.payload().clone();
        edit(&mut a);
        Signed::sign(a, super::super::ATTESTATION_CONTENT_TYPE, &w.ca.attest)
            .unwrap()
            .bytes()
            .to_vec()
    }

    fn claims_of(a: &mut Attestation) -> &mut super::super::PdfCertificate {
        match &mut a.claims {
            Claims::PdfCertificate(c) => c,
            _ => panic!("a pdf certificate"),
        }
    }

    #[test]
    fn a_certificate_decodes_and_is_in_effect_while_its_identity_is() {
        let w = world();
        let decoded = Attestation::decode(w.certificate.bytes()).unwrap();
        assert_eq!(decoded.payload(), w.certificate.payload());
        let store = store(&w);
        assert_eq!(
            store.pdf_certificate_in_effect(&w.certificate, T0.plus(DAY)),
            Ok(())
        );
        assert_eq!(
            store.pdf_certificate_in_effect(&w.certificate, T0.plus(400 * DAY)),
            Err(PdfCertificateError::OutsideWindow)
        );
        // The identity attestation it rests on is revoked: so is the certificate.
        let mut w = w;
        let revocation = w.ca.revoke(
            w.identity.payload().id,
            T0.plus(10 * DAY),
            T0.plus(10 * DAY),
        );
        let mut store = store;
        store.add_attestation(revocation);
        assert_eq!(
            store.pdf_certificate_in_effect(&w.certificate, T0.plus(9 * DAY)),
            Ok(())
        );
        assert_eq!(
            store.pdf_certificate_in_effect(&w.certificate, T0.plus(10 * DAY)),
            Err(PdfCertificateError::IdentityNotInEffect(
                w.identity.payload().id
            ))
        );
    }

    #[test]
    fn a_certificate_needs_its_identity_and_the_subjects_declared_key() {
        let w = world();
        let mut store = TrustStore::new();
        store.add_key_log(w.ca.log.clone());
        store.add_key_log(w.subject.log.clone());
        store.add_attestation(w.certificate.clone());
        assert_eq!(
            store.pdf_certificate_in_effect(&w.certificate, T0.plus(DAY)),
            Err(PdfCertificateError::IdentityMissing(
                w.identity.payload().id
            ))
        );
        // The subject's log without its PDF key (as before it declared one).
        let undeclared = TestParty::new("PDF Subject", T0);
        let mut store = TrustStore::new();
        store.add_key_log(w.ca.log.clone());
        store.add_key_log(undeclared.log.clone());
        store.add_attestation(w.identity.clone());
        store.add_attestation(w.certificate.clone());
        assert_eq!(
            store.pdf_certificate_in_effect(&w.certificate, T0.plus(DAY)),
            Err(PdfCertificateError::KeyNotDeclared)
        );
    }

    /// A certificate attestation by `w.ca` about `w.subject` for `key` (one of the subject's
    /// P-256 keys), its certificate made by `make` from the CA's signer and the issuance.
    fn certified_with(
        w: &World,
        key: &p256::ecdsa::SigningKey,
        make: impl FnOnce(&x509::CaSigner<'_>, &x509::Issuance) -> Vec<u8>,
    ) -> Result<SignedAttestation, crate::error::UsageError> {
        let id = crate::party::AttestationId::from_bytes([0x5a; 16]);
        let ca_key = w.ca.pdf_key();
        let ca_der = w.ca.ca_certificate(T0);
        let ca = x509::CertifiedKey::new(&ca_key, &ca_der).unwrap();
        let issuance = x509::Issuance {
            serial: x509::Issuance::serial_of_id(&id),
            not_before: T0,
            not_after: T0.plus(30 * DAY),
        };
        Attestation {
            id,
            issuer: w.ca.id(),
            subject: w.subject.id(),
            issued_at: T0,
            valid_from: T0,
            valid_until: T0.plus(30 * DAY),
            claims: Claims::PdfCertificate(super::super::PdfCertificate {
                key: EcdsaP256Key::from_verifying_key(key.verifying_key()).into(),
                identity: Some(w.identity.payload().id),
                certificate: make(&ca, &issuance),
                seal: None,
            }),
        }
        .issue(&w.ca.attest, &w.ca.log)
    }

    #[test]
    fn a_tsa_certificate_certifies_the_subjects_tsa_key() {
        let mut w = world();
        w.subject.declare_tsa_key(T0);
        let tsa = w.ca.certify_tsa_key(&w.subject, &w.identity, T0, 30);
        let Claims::PdfCertificate(claims) = &tsa.payload().claims else {
            panic!("a pdf certificate");
        };
        assert_eq!(claims.purpose(), KeyPurpose::Tsa);
        let Claims::PdfCertificate(seal) = &w.certificate.payload().claims else {
            panic!("a pdf certificate");
        };
        assert_eq!(seal.purpose(), KeyPurpose::Pdf);
        let mut store = store(&w);
        store.add_attestation(tsa.clone());
        assert_eq!(store.pdf_certificate_in_effect(&tsa, T0.plus(DAY)), Ok(()));
        // The seal certificate is still in effect beside it.
        assert_eq!(
            store.pdf_certificate_in_effect(&w.certificate, T0.plus(DAY)),
            Ok(())
        );
        // Before the subject declared its tsa key, the certificate is not in effect.
        let mut before = TrustStore::new();
        before.add_key_log(w.ca.log.clone());
        before.add_key_log(world().subject.log.clone());
        before.add_attestation(w.identity.clone());
        before.add_attestation(tsa.clone());
        assert_eq!(
            before.pdf_certificate_in_effect(&tsa, T0.plus(DAY)),
            Err(PdfCertificateError::KeyNotDeclared)
        );
    }

    #[test]
    fn a_certificate_of_the_wrong_profile_is_not_in_effect() {
        let mut w = world();
        w.subject.declare_tsa_key(T0);
        // A TSA certificate for the subject's pdf key.
        let pdf_key = w.subject.pdf_key();
        let tsa_for_pdf = certified_with(&w, &pdf_key, |ca, issuance| {
            x509::tsa_certificate(ca, "PDF Subject", pdf_key.verifying_key(), issuance).unwrap()
        })
        .unwrap();
        // A seal certificate for the subject's tsa key.
        let tsa_key = w.subject.tsa_key();
        let uscc = w.subject.registration.number().to_owned();
        let seal_for_tsa = certified_with(&w, &tsa_key, |ca, issuance| {
            let named = x509::SealSubject::new("PDF Subject", &uscc).unwrap();
            x509::issue_seal_certificate(ca, &named, tsa_key.verifying_key(), issuance, None, None)
                .unwrap()
        })
        .unwrap();
        let mut store = store(&w);
        store.add_attestation(tsa_for_pdf.clone());
        store.add_attestation(seal_for_tsa.clone());
        assert_eq!(
            store.pdf_certificate_in_effect(&tsa_for_pdf, T0.plus(DAY)),
            Err(PdfCertificateError::WrongProfile {
                declared: KeyPurpose::Pdf,
                profile: KeyPurpose::Tsa,
            })
        );
        assert_eq!(
            store.pdf_certificate_in_effect(&seal_for_tsa, T0.plus(DAY)),
            Err(PdfCertificateError::WrongProfile {
                declared: KeyPurpose::Tsa,
                profile: KeyPurpose::Pdf,
            })
        );
    }

    #[test]
    fn a_time_stamping_certificate_must_be_a_tsa_certificate() {
        use crate::x509::asn1::KP_TIME_STAMPING;
        let mut w = world();
        w.subject.declare_tsa_key(T0);
        let tsa_key = w.subject.tsa_key();
        const CLIENT_AUTH: const_oid::ObjectIdentifier =
            const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
        type Case = (
            &'static str,
            &'static [const_oid::ObjectIdentifier],
            bool,
            bool,
        );
        let cases: [Case; 3] = [
            ("not critical", &[KP_TIME_STAMPING], false, false),
            (
                "another usage too",
                &[KP_TIME_STAMPING, CLIENT_AUTH],
                true,
                false,
            ),
            ("a CA", &[KP_TIME_STAMPING], true, true),
        ];
        for (what, usages, critical, is_ca) in cases {
            let refused = certified_with(&w, &tsa_key, |ca, issuance| {
                x509::certificate_with_usages(
                    ca,
                    "PDF Subject",
                    tsa_key.verifying_key(),
                    issuance,
                    usages,
                    critical,
                    is_ca,
                )
                .unwrap()
            });
            assert!(
                matches!(refused, Err(crate::error::UsageError::Attestation(reason)) if reason.contains("TSA")),
                "{what}: {refused:?}"
            );
        }
        // The same key under a proper TSA certificate is fine.
        let fine = certified_with(&w, &tsa_key, |ca, issuance| {
            x509::certificate_with_usages(
                ca,
                "PDF Subject",
                tsa_key.verifying_key(),
                issuance,
                &[KP_TIME_STAMPING],
                true,
                false,
            )
            .unwrap()
        });
        assert!(fine.is_ok(), "{fine:?}");
    }

    #[test]
    fn a_certificate_that_says_something_else_is_refused() {
        let w = world();
        let other = EcdsaP256Key::from_verifying_key(
            TestParty::new("Someone Else", T0).pdf_key().verifying_key(),
        );
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "another key",
                edited(&w, |a| claims_of(a).key = other.into()),
            ),
            (
                "another serial",
                edited(&w, |a| {
                    a.id = crate::party::AttestationId::from_bytes([7; 16]);
                }),
            ),
            (
                "another window",
                edited(&w, |a| a.valid_until = a.valid_until.plus(1)),
            ),
            ("no identity", edited(&w, |a| claims_of(a).identity = None)),
            (
                "not DER X.509",
                edited(&w, |a| claims_of(a).certificate = vec![0x30, 0x03, 1, 2, 3]),
            ),
            (
                "too long",
                edited(&w, |a| claims_of(a).certificate = vec![0; 16_385]),
            ),
            (
                "a trailing byte",
                edited(&w, |a| claims_of(a).certificate.push(0)),
            ),
        ];
        for (what, bytes) in cases {
            let error = Attestation::decode(&bytes).expect_err(what);
            assert!(
                matches!(
                    error,
                    crate::cose::CoseError::Payload(ref e)
                        if e.to_string().contains("pdf certificate")
                ),
                "{what}: {error}"
            );
        }
        // A verifier's own certificate (about itself) carries no identity.
        let mut ca = TestParty::new("PDF CA", T0);
        ca.declare_pdf_key(T0);
        let me = ca.id();
        let own = Attestation {
            id: crate::party::AttestationId::from_bytes([1; 16]),
            issuer: me,
            subject: me,
            issued_at: T0,
            valid_from: T0,
            valid_until: T0.plus(3650 * DAY),
            claims: Claims::PdfCertificate(super::super::PdfCertificate {
                key: EcdsaP256Key::from_verifying_key(ca.pdf_key().verifying_key()).into(),
                identity: None,
                certificate: x509::ca_certificate(
                    "PDF CA",
                    None,
                    &ca.pdf_key(),
                    &x509::Issuance {
                        serial: u128::from_be_bytes([1; 16]),
                        not_before: T0,
                        not_after: T0.plus(3650 * DAY),
                    },
                )
                .unwrap(),
                seal: None,
            }),
        };
        assert_eq!(own.check_content(), Ok(()));
    }

    /// An SM2 key's certificate attestation, its certificate by `ca` and seal `seal`.
    fn sm2_certified(
        w: &World,
        key: PdfKey,
        certificate: Vec<u8>,
        seal: Option<Vec<u8>>,
    ) -> Result<SignedAttestation, crate::error::UsageError> {
        Attestation {
            id: sm2_id(),
            issuer: w.ca.id(),
            subject: w.subject.id(),
            issued_at: T0,
            valid_from: T0,
            valid_until: T0.plus(30 * DAY),
            claims: Claims::PdfCertificate(super::super::PdfCertificate {
                key,
                identity: Some(w.identity.payload().id),
                certificate,
                seal,
            }),
        }
        .issue(&w.ca.attest, &w.ca.log)
    }

    fn sm2_id() -> crate::party::AttestationId {
        crate::party::AttestationId::from_bytes([0x6a; 16])
    }

    /// An SM2 certificate of `key` by `ca` (serial = the attestation id, 30 days from T0)
    /// and a seal listing it, valid `seal_days`.
    fn sm2_material(
        ca: &crate::sm2::Sm2SecretKey,
        key: &crate::sm2::Sm2PublicKey,
        seal_days: u64,
    ) -> (Vec<u8>, Vec<u8>) {
        use crate::x509::sm2::{Sm2KeyForm, sm2_certificate};
        let issuance = x509::Issuance {
            serial: x509::Issuance::serial_of_id(&sm2_id()),
            not_before: T0,
            not_after: T0.plus(30 * DAY),
        };
        let name = |n: &str| -> x509_cert::name::Name { n.parse().unwrap() };
        let ca_certificate = sm2_certificate(
            ca,
            name("CN=SM2 CA"),
            name("CN=SM2 CA"),
            &ca.public_key(),
            Sm2KeyForm::EcPublicKey,
            &issuance,
            true,
        )
        .unwrap();
        let certificate = sm2_certificate(
            ca,
            name("CN=SM2 CA"),
            name("CN=PDF Subject"),
            key,
            Sm2KeyForm::EcPublicKey,
            &issuance,
            false,
        )
        .unwrap();
        let seal = crate::ses::make_seal(
            &crate::ses::SealSpec {
                vid: "signet".into(),
                es_id: "subject-seal".into(),
                seal_type: 1,
                name: "PDF Subject".into(),
                signer_certificates: vec![certificate.clone()],
                created: T0,
                valid_from: T0,
                valid_until: T0.plus(seal_days * DAY),
                picture: crate::ses::Picture {
                    format: "SVG".into(),
                    data: b"<svg/>".to_vec(),
                    width_mm: 40,
                    height_mm: 40,
                },
            },
            ca,
            &ca_certificate,
        )
        .unwrap();
        (certificate, seal)
    }

    #[test]
    fn an_sm2_pdf_key_is_certified_with_its_seal() {
        let mut w = world();
        let sm2 = crate::sm2::Sm2SecretKey::from_bytes(&[0x61; 32]).unwrap();
        let ca = crate::sm2::Sm2SecretKey::from_bytes(&[0x62; 32]).unwrap();
        w.subject
            .log
            .add_key(
                &w.subject.root,
                crate::keylog::KeyDecl::sm2_pdf(sm2.public_key()),
                T0,
            )
            .unwrap();
        let (certificate, seal) = sm2_material(&ca, &sm2.public_key(), 30);
        let signed = sm2_certified(
            &w,
            sm2.public_key().into(),
            certificate.clone(),
            Some(seal.clone()),
        )
        .unwrap();
        let decoded = Attestation::decode(signed.bytes()).unwrap();
        assert_eq!(decoded.payload(), signed.payload());
        let Claims::PdfCertificate(claims) = &decoded.payload().claims else {
            panic!("a pdf certificate")
        };
        assert_eq!(claims.key.sm2(), Some(&sm2.public_key()));
        let mut held = store(&w);
        held.add_attestation(signed.clone());
        assert_eq!(
            held.pdf_certificate_in_effect(&signed, T0.plus(DAY)),
            Ok(())
        );
        // Without the seal it is in effect too (an SM2 certificate needs none).
        assert!(sm2_certified(&w, sm2.public_key().into(), certificate.clone(), None).is_ok());

        // Refused: another key than the certificate's; a seal that lists another
        // certificate; a seal running past the window; a seal with a P-256 key.
        let other = crate::sm2::Sm2SecretKey::from_bytes(&[0x63; 32]).unwrap();
        assert!(sm2_certified(&w, other.public_key().into(), certificate.clone(), None).is_err());
        let (_, others_seal) = sm2_material(&ca, &other.public_key(), 30);
        assert!(
            sm2_certified(
                &w,
                sm2.public_key().into(),
                certificate.clone(),
                Some(others_seal)
            )
            .is_err()
        );
        let (_, long_seal) = sm2_material(&ca, &sm2.public_key(), 31);
        assert!(
            sm2_certified(
                &w,
                sm2.public_key().into(),
                certificate.clone(),
                Some(long_seal)
            )
            .is_err()
        );
        let p256 = EcdsaP256Key::from_verifying_key(w.subject.pdf_key().verifying_key());
        let p256_certificate = {
            let Claims::PdfCertificate(c) = &w.certificate.payload().claims else {
                panic!("a pdf certificate")
            };
            c.certificate.clone()
        };
        assert!(sm2_certified(&w, p256.into(), p256_certificate, Some(seal)).is_err());

        // A subject whose log does not declare the SM2 key: not in effect.
        let undeclared = world();
        let mut store = store(&undeclared);
        let signed_elsewhere =
            sm2_certified(&undeclared, sm2.public_key().into(), certificate, None).unwrap();
        store.add_attestation(signed_elsewhere.clone());
        assert_eq!(
            store.pdf_certificate_in_effect(&signed_elsewhere, T0.plus(DAY)),
            Err(PdfCertificateError::KeyNotDeclared)
        );
    }
}
