//! The content rules of a PDF certificate attestation (spec §6.10): its X.509 certificate
//! says what its claims and fields say. Context (the subject's key log, the identity
//! attestation it rests on) is checked by [`crate::trust::TrustStore::pdf_certificate_in_effect`].

use der::{Decode, Encode};
use x509_cert::Certificate;

use super::{Attestation, MAX_CERTIFICATE_LEN, PdfCertificate};
use crate::keylog::EcdsaP256Key;
use crate::x509::asn1::p256_key_of;

/// Checks `claims`' certificate against `attestation` (spec §6.10, rules 1–5).
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
    let certified = p256_key_of(tbs.subject_public_key_info())
        .map(|key| EcdsaP256Key::from_verifying_key(&key));
    if certified != Some(claims.key) {
        return Err("the certificate's public key is not the claimed P-256 key");
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
    use crate::attestation::{AssuranceLevel, Claims};
    use crate::cose::Signed;
    use crate::testkit::{DAY, TestParty};
    use crate::trust::{PdfCertificateError, TrustStore};
    use crate::{Timestamp, x509};

    const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

    struct World {
        ca: TestParty,
        subject: TestParty,
        identity: Signed<Attestation>,
        certificate: Signed<Attestation>,
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

    #[test]
    fn a_certificate_that_says_something_else_is_refused() {
        let w = world();
        let other = EcdsaP256Key::from_verifying_key(
            TestParty::new("Someone Else", T0).pdf_key().verifying_key(),
        );
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("another key", edited(&w, |a| claims_of(a).key = other)),
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
                key: EcdsaP256Key::from_verifying_key(ca.pdf_key().verifying_key()),
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
            }),
        };
        assert_eq!(own.check_content(), Ok(()));
    }
}
