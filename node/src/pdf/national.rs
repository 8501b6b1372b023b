//! China's national algorithms in PDF signatures (spec §8.2.4.1): an SM2 key with its SM2
//! certificate signs a detached CMS `SignedData` with SM3 and SM2-with-SM3, as GM/T 0010
//! and Chinese signing tools do, and the seal signature may carry a GB/T 38540
//! `SES_Signature` over the same bytes (spec §11.6).
//!
//! Object identifiers: the digest is SM3 (1.2.156.10197.1.401), the signature SM2-with-SM3
//! (1.2.156.10197.1.501, the signature DER `SEQUENCE { r, s }`, default distinguishing
//! identifier). The CMS content types are RFC 5652's (`id-signedData`, `id-data`), not
//! GM/T 0010's `1.2.156.10197.6.1.4.2.*`: those are what PDF readers and `openssl cms`
//! understand, and GM/T 0010 tools read RFC 5652 content types as well. Reading, Signet
//! takes both: GM/T 0010's content types ([`GM_SIGNED_DATA`], [`GM_DATA`]) as RFC 5652's,
//! and SM2 named as GM/T 0006's signature algorithm `sm2sign` ([`SM2_SIGN`]) beside SM3 as
//! SM2-with-SM3, as Chinese signing tools write them. The signature's
//! `/SubFilter` is `adbe.pkcs7.detached`, not `ETSI.CAdES.detached`: PAdES (ETSI EN 319 142-1)
//! names SHA-2 digests, so an SM3 signature is not a PAdES baseline signature.
//!
//! Who can check such a signature: Signet (`signet verify`), and the `openssl` CLI (3.x,
//! `cms -verify` of the CMS over the byte range). Western PDF validators (pyHanko, poppler's
//! `pdfsig`, Acrobat without a national-algorithm plug-in) cannot: they do not implement SM2.

use const_oid::ObjectIdentifier as Oid;
use der::Decode;
use signet_protocol::sm2::{Sm2PublicKey, Sm2SecretKey, Sm3Digest};
use signet_protocol::x509::X509Error;
use signet_protocol::x509::sm2::{SM2_WITH_SM3, SM3, certificate_sm2_key, sm2_key_of};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use super::asn1;

/// The unsigned attribute of a PDF signature's CMS that carries the signer's GB/T 38540
/// `SES_Signature` over the same bytes (its value: the `SES_Signature` DER). Placeholder
/// under [`super::SIGNET_PRIVATE_ARC`], registered in spec §13.
pub const SES_SIGNATURE_ATTRIBUTE_OID: &str = "1.3.6.1.4.1.59999.3.1";
pub(crate) const ATTR_SES_SIGNATURE: Oid = Oid::new_unwrap(SES_SIGNATURE_ATTRIBUTE_OID);

/// GM/T 0010's `data` content type, read as RFC 5652's `id-data`.
pub const GM_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.1");
/// GM/T 0010's `signedData` content type, read as RFC 5652's `id-signedData`.
pub const GM_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.2");
/// GM/T 0006's `sm2sign` (SM2 as a signature algorithm, 1.2.156.10197.1.301.1), which GM/T
/// 0010 signers name in a `SignerInfo`; with the digest SM3 it is the same scheme as
/// SM2-with-SM3.
pub const SM2_SIGN: Oid = Oid::new_unwrap("1.2.156.10197.1.301.1");

/// Whether `oid` is the content type of plain data: RFC 5652's `id-data` or GM/T 0010's.
pub(crate) fn is_data(oid: Oid) -> bool {
    oid == super::asn1::ID_DATA || oid == GM_DATA
}

/// The algorithms of a PDF signature: its digest and its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureSuite {
    /// SHA-256 and ECDSA P-256 (PAdES; every PDF validator).
    EcdsaP256Sha256,
    /// SM3 and SM2-with-SM3 (GM/T 0010; Signet and `openssl cms`, not Western validators).
    Sm2Sm3,
}

impl SignatureSuite {
    /// The suite a `SignerInfo`'s digest and signature algorithms name, if known.
    pub(crate) fn of(
        digest: &AlgorithmIdentifierOwned,
        signature: &AlgorithmIdentifierOwned,
    ) -> Option<Self> {
        match (digest.oid, signature.oid) {
            (d, s) if d == asn1::SHA256 && s == asn1::ECDSA_WITH_SHA256 => {
                Some(Self::EcdsaP256Sha256)
            }
            (d, s) if d == SM3 && (s == SM2_WITH_SM3 || s == SM2_SIGN) => Some(Self::Sm2Sm3),
            _ => None,
        }
    }

    /// The digest of the concatenation of `parts`.
    pub fn digest(self, parts: &[&[u8]]) -> [u8; 32] {
        match self {
            Self::EcdsaP256Sha256 => {
                use sha2::Digest as _;
                let mut hasher = sha2::Sha256::new();
                for part in parts {
                    hasher.update(part);
                }
                hasher.finalize().into()
            }
            Self::Sm2Sm3 => *Sm3Digest::of_parts(parts).as_bytes(),
        }
    }

    pub(crate) fn digest_algorithm(self) -> AlgorithmIdentifierOwned {
        match self {
            Self::EcdsaP256Sha256 => asn1::sha256_algorithm(),
            Self::Sm2Sm3 => signet_protocol::x509::sm2::sm3_algorithm(),
        }
    }

    pub(crate) fn signature_algorithm(self) -> AlgorithmIdentifierOwned {
        match self {
            Self::EcdsaP256Sha256 => asn1::ecdsa_sha256_algorithm(),
            Self::Sm2Sm3 => signet_protocol::x509::sm2::sm2_with_sm3_algorithm(),
        }
    }

    /// The PDF validators known to check signatures of this suite, in words.
    pub fn validators(self) -> &'static str {
        match self {
            Self::EcdsaP256Sha256 => "any PAdES validator (Acrobat, pyHanko, pdfsig, Signet)",
            Self::Sm2Sm3 => {
                "Signet and the openssl CLI (cms -verify over the byte range); not pyHanko, \
                 pdfsig or Acrobat without a national-algorithm plug-in"
            }
        }
    }
}

impl std::fmt::Display for SignatureSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::EcdsaP256Sha256 => "ECDSA P-256 / SHA-256",
            Self::Sm2Sm3 => "SM2 / SM3",
        })
    }
}

/// An SM2 key with the DER certificate of its public key, checked to match: from a verifier's
/// PDF certificate attestation or from an external CA, the signing code does not care.
#[derive(Debug, Clone)]
pub struct Sm2CertifiedKey<'a> {
    key: &'a Sm2SecretKey,
    der: Vec<u8>,
    certificate: Certificate,
}

impl<'a> Sm2CertifiedKey<'a> {
    /// Pairs `key` with its certificate.
    ///
    /// # Errors
    ///
    /// [`X509Error::Certificate`] when the DER is not a certificate of an SM2 key,
    /// [`X509Error::KeyMismatch`] when its key is not `key`'s.
    pub fn new(key: &'a Sm2SecretKey, certificate_der: &[u8]) -> Result<Self, X509Error> {
        let certified = certificate_sm2_key(certificate_der)?;
        if certified != key.public_key() {
            return Err(X509Error::KeyMismatch);
        }
        let certificate = Certificate::from_der(certificate_der)
            .map_err(|_| X509Error::Certificate("not a der x.509 certificate"))?;
        Ok(Self {
            key,
            der: certificate_der.to_vec(),
            certificate,
        })
    }

    /// The signing key.
    pub fn key(&self) -> &Sm2SecretKey {
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

/// The GB/T 38540 seal signatures that the signatures of `pdf` carry, with their fields'
/// names, in field order: what is exported beside the PDF (`signet export --pdf`,
/// `GET /v1/sessions/{id}/ses`). They are taken as found; `signet verify` checks them.
///
/// # Errors
///
/// [`super::PdfError::Parse`] or [`super::PdfError::Encrypted`] when the file cannot be read.
pub fn ses_signatures(pdf: &[u8]) -> Result<Vec<(String, Vec<u8>)>, super::PdfError> {
    Ok(super::verify::signatures(pdf)?
        .into_iter()
        .filter_map(|info| info.ses.map(|ses| (info.field_name, ses.der)))
        .collect())
}

/// The SM2 key of a parsed certificate, if it certifies one.
pub(crate) fn sm2_key(certificate: &Certificate) -> Option<Sm2PublicKey> {
    sm2_key_of(certificate.tbs_certificate().subject_public_key_info()).ok()
}

/// Whether the DER SM2 signature over `message` verifies with `certificate`'s SM2 key.
pub(crate) fn sm2_verifies(
    certificate: &Certificate,
    message: &[u8],
    signature_der: &[u8],
) -> bool {
    sm2_key(certificate).is_some_and(|key| key.verify_der(message, signature_der).is_ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::path::Path;
    use std::process::Command;
    use std::time::{Duration, UNIX_EPOCH};

    use signet_protocol::Timestamp;
    use signet_protocol::bundle::Outcome;
    use signet_protocol::ses::{self, Picture, SealSpec, SesError};
    use signet_protocol::sm2::{DEFAULT_DIST_ID, Sm2SecretKey};
    use signet_protocol::x509::Issuance;
    use signet_protocol::x509::sm2::{Sm2KeyForm, sm2_certificate};

    use super::super::appearance::{Appearance, RoundSeal};
    use super::super::sign::{self, PdfSigner, Placement, SealRequest};
    use super::super::{assess, sample, verify};
    use super::*;
    use der::Encode;

    const T0: u64 = 1_800_000_000;

    fn name(cn: &str) -> x509_cert::name::Name {
        cn.parse().unwrap()
    }

    /// An SM2 CA, a subject's SM2 key certified by it, and a seal the CA made for the subject.
    struct World {
        ca: Sm2SecretKey,
        ca_certificate: Vec<u8>,
        subject: Sm2SecretKey,
        certificate: Vec<u8>,
        seal: Vec<u8>,
    }

    fn world() -> World {
        let t = Timestamp::from_unix(T0);
        let issuance = |serial| Issuance {
            serial,
            not_before: t,
            not_after: t.plus(365 * 86_400),
        };
        let ca = Sm2SecretKey::from_bytes(&[0x31; 32]).unwrap();
        let subject = Sm2SecretKey::from_bytes(&[0x32; 32]).unwrap();
        let ca_certificate = sm2_certificate(
            &ca,
            name("CN=SM2 CA,O=SM2 CA,C=CN"),
            name("CN=SM2 CA,O=SM2 CA,C=CN"),
            &ca.public_key(),
            Sm2KeyForm::EcPublicKey,
            &issuance(1),
            true,
        )
        .unwrap();
        let certificate = sm2_certificate(
            &ca,
            name("CN=SM2 CA,O=SM2 CA,C=CN"),
            name("CN=Acme Ltd,O=Acme Ltd,C=CN"),
            &subject.public_key(),
            Sm2KeyForm::EcPublicKey,
            &issuance(2),
            false,
        )
        .unwrap();
        let seal = ses::make_seal(
            &SealSpec {
                vid: "signet".into(),
                es_id: "acme-contract-seal".into(),
                seal_type: 1,
                name: "合同专用章".into(),
                signer_certificates: vec![certificate.clone()],
                created: t,
                valid_from: t,
                valid_until: t.plus(365 * 86_400),
                picture: Picture {
                    format: "SVG".into(),
                    data: b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
                    width_mm: 40,
                    height_mm: 40,
                },
            },
            &ca,
            &ca_certificate,
        )
        .unwrap();
        World {
            ca,
            ca_certificate,
            subject,
            certificate,
            seal,
        }
    }

    /// A P-256 root and a TSA certificate it issued (a witness's, as `service::tsa` makes).
    fn tsa_pki() -> (Vec<u8>, p256::ecdsa::SigningKey, Vec<u8>) {
        use signet_protocol::x509::{CertifiedKey, ca_certificate, tsa_certificate};
        let t = Timestamp::from_unix(T0);
        let issuance = |serial| Issuance {
            serial,
            not_before: t,
            not_after: t.plus(365 * 86_400),
        };
        let root_key = p256::ecdsa::SigningKey::from_slice(&[0x41; 32]).unwrap();
        let root = ca_certificate("Witness Root", None, &root_key, &issuance(7)).unwrap();
        let tsa_key = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
        let ca = CertifiedKey::new(&root_key, &root).unwrap();
        let tsa =
            tsa_certificate(&ca, "Witness TSA", tsa_key.verifying_key(), &issuance(8)).unwrap();
        (root, tsa_key, tsa)
    }

    /// Like [`seal_pdf`], time-stamped by a TSA whose token `tamper` may change.
    fn seal_pdf_stamped(
        w: &World,
        at: u64,
        stamp_at: u64,
        tamper: impl Fn(&mut [u8; 32]),
    ) -> (Result<Vec<u8>, super::super::PdfError>, Vec<u8>) {
        use signet_protocol::x509::CertifiedKey;
        let (root, tsa_key, tsa) = tsa_pki();
        let stamper = |digest: &[u8; 32]| -> Result<Vec<u8>, sign::TimeStampError> {
            let authority = CertifiedKey::new(&tsa_key, &tsa)?;
            let mut imprint = *digest;
            tamper(&mut imprint);
            let request = super::super::tsa::TimeStampRequest::for_digest(imprint);
            Ok(super::super::tsa::time_stamp_token(
                &authority,
                &request,
                9,
                UNIX_EPOCH + Duration::from_secs(stamp_at),
            )?)
        };
        let pdf = sample::contract("SM2 contract", &["Acme Ltd"], 1).unwrap();
        let signer = PdfSigner::sm2(
            &w.subject,
            &w.certificate,
            std::slice::from_ref(&w.ca_certificate),
            Some(w.seal.clone()),
        )
        .unwrap();
        let appearance = Appearance::RoundSeal(RoundSeal::new("Acme Ltd", "", None).unwrap());
        let sealed = sign::sign(
            &pdf,
            &SealRequest {
                placement: Placement {
                    page: None,
                    rect: [50.0, 50.0, 150.0, 150.0],
                },
                appearance: &appearance,
                signer: &signer,
                signing_time: UNIX_EPOCH + Duration::from_secs(at),
                field_name: "Seal1",
                time_stamper: Some(&stamper),
                reserved: sign::DEFAULT_RESERVED,
            },
        );
        (sealed, root)
    }

    #[test]
    fn a_time_stamped_seal_signature_is_checked_like_the_pdf_signatures_time_stamp() {
        let w = world();
        let (pdf, tsa_root) = seal_pdf_stamped(&w, T0 + 60, T0 + 62, |_| {});
        let pdf = pdf.unwrap();
        let infos = verify::signatures(&pdf).unwrap();
        let verified = infos[0].ses.as_ref().unwrap().verified.as_ref().unwrap();
        let token = verified
            .time_stamp
            .as_ref()
            .expect("the SES carries a time-stamp");
        let facts = super::super::tsa::read_token(token).unwrap();
        assert_eq!(facts.imprint, Some(verified.time_stamp_imprint()));
        let roots = [w.ca_certificate.clone(), tsa_root];
        let assessed = assess::assess(&pdf, &roots, &[], now()).unwrap();
        let checks = &assessed[0].checks;
        let about_ses_stamp: Vec<&(Outcome, String)> = checks
            .iter()
            .filter(|(_, what)| what.contains("seal signature's"))
            .collect();
        assert_eq!(about_ses_stamp.len(), 4, "{checks:?}");
        for (outcome, what) in &about_ses_stamp {
            assert_eq!(*outcome, Outcome::Valid, "{what}");
        }
        // Only revocation stays unshown (no CRL given), for the TSAs as for the signer.
        for (outcome, what) in checks {
            assert!(
                *outcome == Outcome::Valid || what.contains("no current CRL"),
                "{what}"
            );
        }
        // Without the TSA's root, its time-stamp is not shown trusted: never VALID.
        let untrusted =
            assess::assess(&pdf, std::slice::from_ref(&w.ca_certificate), &[], now()).unwrap();
        assert!(
            untrusted[0]
                .checks
                .iter()
                .any(|(o, what)| *o == Outcome::Indeterminate
                    && what == "the seal signature's TSA certificate was not issued by a given CA")
        );
    }

    #[test]
    fn a_time_stamp_over_other_bytes_or_before_the_stated_time_is_refused() {
        let w = world();
        // The signer refuses a token for another digest: nothing is sealed.
        let (refused, _) = seal_pdf_stamped(&w, T0 + 60, T0 + 62, |d| d[0] ^= 1);
        assert!(
            matches!(refused, Err(super::super::PdfError::TimeStamp(_))),
            "a token over another digest was taken"
        );
        // A time-stamp earlier than the signer's stated time.
        let (pdf, tsa_root) = seal_pdf_stamped(&w, T0 + 600, T0 + 62, |_| {});
        let pdf = pdf.unwrap();
        let roots = [w.ca_certificate.clone(), tsa_root];
        let assessed = assess::assess(&pdf, &roots, &[], now()).unwrap();
        assert_eq!(assessed[0].outcome, Outcome::Invalid);
        assert!(
            assessed[0]
                .checks
                .iter()
                .any(|(o, what)| *o == Outcome::Invalid
                    && what.contains("states a signing time after its time-stamp"))
        );
    }

    fn seal_pdf(w: &World, seal: Option<Vec<u8>>, at: u64) -> Vec<u8> {
        let pdf = sample::contract("SM2 contract", &["Acme Ltd"], 1).unwrap();
        let signer = PdfSigner::sm2(
            &w.subject,
            &w.certificate,
            std::slice::from_ref(&w.ca_certificate),
            seal,
        )
        .unwrap();
        let appearance = Appearance::RoundSeal(RoundSeal::new("Acme Ltd", "", None).unwrap());
        sign::sign(
            &pdf,
            &SealRequest {
                placement: Placement {
                    page: None,
                    rect: [50.0, 50.0, 150.0, 150.0],
                },
                appearance: &appearance,
                signer: &signer,
                signing_time: UNIX_EPOCH + Duration::from_secs(at),
                field_name: "Seal1",
                time_stamper: None,
                reserved: sign::DEFAULT_RESERVED,
            },
        )
        .unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::from_unix(T0 + 86_400)
    }

    #[test]
    fn an_sm2_seal_verifies_strictly_with_its_ses_signature() {
        let w = world();
        let pdf = seal_pdf(&w, Some(w.seal.clone()), T0 + 60);
        let infos = verify::signatures(&pdf).unwrap();
        let [info] = infos.as_slice() else {
            panic!("one signature")
        };
        assert_eq!(info.suite, Some(SignatureSuite::Sm2Sm3));
        assert!(info.covers_whole_file && info.digest_matches, "{info:?}");
        assert!(info.signature_valid && info.certificate_bound, "{info:?}");
        assert_eq!(info.signer_certificate.as_deref(), Some(&w.certificate[..]));
        let ses = info.ses.as_ref().expect("a seal signature");
        let verified = ses.verified.as_ref().unwrap();
        assert_eq!(verified.signer_key, w.subject.public_key());
        assert_eq!(verified.seal.maker_key, w.ca.public_key());
        assert_eq!(verified.signed_at, Timestamp::from_unix(T0 + 60));
        assert!(ses.same_signer);
        assert!(
            lopdf::Document::load_mem(&pdf).is_ok_and(|_| sign::find(
                &pdf,
                b"/adbe.pkcs7.detached"
            )
            .is_some())
        );
        // Against the SM2 CA as root: every check holds but revocation (no CRL given).
        let assessed =
            assess::assess(&pdf, std::slice::from_ref(&w.ca_certificate), &[], now()).unwrap();
        let checks = &assessed[0].checks;
        assert_eq!(assessed[0].outcome, Outcome::Indeterminate, "{checks:?}");
        let not_valid: Vec<&str> = checks
            .iter()
            .filter(|(o, _)| *o != Outcome::Valid)
            .map(|(_, what)| what.as_str())
            .collect();
        assert_eq!(
            not_valid,
            ["revocation status not shown: no current CRL of the CA given (--crl)"]
        );
        assert!(
            checks
                .iter()
                .any(|(_, w)| w.contains("seal's maker is a given CA"))
        );
        assert_eq!(assessed[0].pades_level(), None, "an SM2 seal is not PAdES");
        // Without the CA, the seal's maker and the chain are not shown trusted.
        let untrusted = assess::assess(&pdf, &[], &[], now()).unwrap();
        assert_eq!(untrusted[0].outcome, Outcome::Indeterminate);
    }

    #[test]
    fn a_changed_byte_breaks_the_cms_and_the_ses_signature() {
        let w = world();
        let pdf = seal_pdf(&w, Some(w.seal.clone()), T0 + 60);
        let info = &verify::signatures(&pdf).unwrap()[0];
        let [_, gap_start, _, _] = info.byte_range.unwrap();
        let mut tampered = pdf.clone();
        // A byte of the sample's content stream, inside the first range.
        let at = sign::find(&tampered, b"SM2 contract").unwrap();
        assert!((at as u64) < gap_start);
        tampered[at] = b'X';
        let info = &verify::signatures(&tampered).unwrap()[0];
        assert!(!info.digest_matches);
        assert_eq!(info.ses.as_ref().unwrap().verified, Err(SesError::DataHash));
        let assessed = assess::assess(
            &tampered,
            std::slice::from_ref(&w.ca_certificate),
            &[],
            now(),
        )
        .unwrap();
        assert_eq!(assessed[0].outcome, Outcome::Invalid);
    }

    #[test]
    fn every_signed_byte_matters_to_the_cms_and_the_ses_signature() {
        let w = world();
        let pdf = seal_pdf(&w, Some(w.seal.clone()), T0 + 60);
        let [_, gap_start, gap_end, len] = verify::signatures(&pdf).unwrap()[0]
            .byte_range
            .unwrap()
            .map(|n| usize::try_from(n).unwrap());
        let first: Vec<usize> = (0..gap_start).step_by(gap_start / 16 + 1).collect();
        let second: Vec<usize> = (gap_end..gap_end + len).step_by(len / 8 + 1).collect();
        let mut checked = 0;
        for at in first.into_iter().chain(second) {
            let mut changed = pdf.clone();
            changed[at] ^= 0x01;
            // A change may leave the file unreadable as a PDF: that refuses it too.
            let Ok(infos) = verify::signatures(&changed) else {
                continue;
            };
            let Some(info) = infos.first() else {
                continue;
            };
            if info
                .byte_range
                .is_some_and(|br| br == [0, gap_start, gap_end, len].map(|n| n as u64))
            {
                assert!(
                    !info.digest_matches,
                    "byte {at} changed unnoticed by the CMS"
                );
                assert!(
                    info.ses.as_ref().is_none_or(|s| s.verified.is_err()),
                    "byte {at} changed unnoticed by the seal signature"
                );
                checked += 1;
            }
        }
        // Most changes leave a readable file whose seal is then judged.
        assert!(checked >= 12, "only {checked} changed files were judged");
    }

    #[test]
    fn a_seal_that_does_not_list_the_signer_is_refused_when_signing() {
        let w = world();
        let other = world_with_other_listed(&w);
        let pdf = sample::contract("SM2 contract", &["Acme Ltd"], 1).unwrap();
        let signer = PdfSigner::sm2(&w.subject, &w.certificate, &[], Some(other)).unwrap();
        let appearance = Appearance::RoundSeal(RoundSeal::new("Acme Ltd", "", None).unwrap());
        let result = sign::sign(
            &pdf,
            &SealRequest {
                placement: Placement {
                    page: None,
                    rect: [50.0, 50.0, 150.0, 150.0],
                },
                appearance: &appearance,
                signer: &signer,
                signing_time: UNIX_EPOCH + Duration::from_secs(T0 + 60),
                field_name: "Seal1",
                time_stamper: None,
                reserved: sign::DEFAULT_RESERVED,
            },
        );
        assert!(
            matches!(
                result,
                Err(crate::pdf::PdfError::Ses(SesError::SignerNotInSeal))
            ),
            "{result:?}"
        );
        // A P-256 or foreign certificate is not an SM2 signer's.
        assert!(PdfSigner::sm2(&w.subject, &w.ca_certificate, &[], None).is_err());
    }

    /// A seal by the same CA that lists another holder's certificate.
    fn world_with_other_listed(w: &World) -> Vec<u8> {
        let t = Timestamp::from_unix(T0);
        let other = Sm2SecretKey::from_bytes(&[0x33; 32]).unwrap();
        let certificate = sm2_certificate(
            &w.ca,
            name("CN=SM2 CA,O=SM2 CA,C=CN"),
            name("CN=Other"),
            &other.public_key(),
            Sm2KeyForm::EcPublicKey,
            &Issuance {
                serial: 3,
                not_before: t,
                not_after: t.plus(86_400 * 365),
            },
            false,
        )
        .unwrap();
        ses::make_seal(
            &SealSpec {
                vid: "signet".into(),
                es_id: "other".into(),
                seal_type: 1,
                name: "Other".into(),
                signer_certificates: vec![certificate],
                created: t,
                valid_from: t,
                valid_until: t.plus(86_400 * 365),
                picture: Picture {
                    format: "SVG".into(),
                    data: b"<svg/>".to_vec(),
                    width_mm: 40,
                    height_mm: 40,
                },
            },
            &w.ca,
            &w.ca_certificate,
        )
        .unwrap()
    }

    /// Whether this openssl has SM2. CI installs OpenSSL 3, which has: a missing openssl or
    /// one without SM2 is said aloud, never skipped in silence.
    fn openssl_has_sm2() -> bool {
        // A missing openssl is a broken setup (CI installs OpenSSL 3): fail, never skip.
        let listed = Command::new("openssl")
            .args(["list", "-public-key-algorithms"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl (CI installs OpenSSL 3): {e}"));
        let has = String::from_utf8_lossy(&listed.stdout).contains("SM2");
        if !has {
            eprintln!("SKIPPED: this openssl has no SM2 (CI installs OpenSSL 3, which does)");
        }
        has
    }

    fn run(dir: &Path, args: &[&str]) -> (bool, String) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// The CMS DER and the signed bytes of the PDF's first signature.
    fn cms_and_data(pdf: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let [_, gap_start, gap_end, len] = verify::signatures(pdf).unwrap()[0]
            .byte_range
            .unwrap()
            .map(|n| usize::try_from(n).unwrap());
        let hex_digits = &pdf[gap_start + 1..gap_end - 1];
        let contents = hex::decode(hex_digits).unwrap();
        let cms = crate::pdf::asn1::decode_prefix::<der::Any>(&contents)
            .unwrap()
            .to_der()
            .unwrap();
        let mut data = pdf[..gap_start].to_vec();
        data.extend_from_slice(&pdf[gap_end..gap_end + len]);
        (cms, data)
    }

    #[test]
    fn openssl_verifies_the_sm2_cms_and_the_ses_signature() {
        if !openssl_has_sm2() {
            return;
        }
        let w = world();
        let pdf = seal_pdf(&w, Some(w.seal.clone()), T0 + 60);
        // The certificates run from T0: openssl checks the chain at a time they cover.
        let attime = (T0 + 86_400).to_string();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (cms, data) = cms_and_data(&pdf);
        std::fs::write(d.join("sig.der"), &cms).unwrap();
        std::fs::write(d.join("data"), &data).unwrap();
        std::fs::write(d.join("ca.der"), &w.ca_certificate).unwrap();
        let (ok, out) = run(
            d,
            &["x509", "-inform", "DER", "-in", "ca.der", "-out", "ca.pem"],
        );
        assert!(ok, "{out}");
        let distid = format!("distid:{DEFAULT_DIST_ID}");
        // OpenSSL 3.0's `cms -verify` computes SM2's ZA with an empty identifier, not
        // GM/T 0009's default that GM/T 0010 signers (and Signet) use, and it has no
        // `-vfyopt`: so openssl checks each part apart. `cms -verify -noverify
        // -no_attr_verify` checks the structure and the SM3 messageDigest over the byte
        // range; `pkeyutl -verify` the SM2 signature over DER(signedAttrs) with the default
        // identifier; `verify -vfyopt distid:` the signer's certificate chain to the CA.
        let cms_verify = |content: &str| {
            run(
                d,
                &[
                    "cms",
                    "-verify",
                    "-noverify",
                    "-no_attr_verify",
                    "-binary",
                    "-inform",
                    "DER",
                    "-in",
                    "sig.der",
                    "-content",
                    content,
                    "-out",
                    "/dev/null",
                ],
            )
        };
        let (ok, out) = cms_verify("data");
        assert!(ok, "openssl cms -verify (digest): {out}");
        let parsed = crate::pdf::cades::ParsedSignedData::decode(&cms).unwrap();
        let attrs = parsed
            .signer
            .signed_attrs
            .as_ref()
            .unwrap()
            .to_der()
            .unwrap();
        std::fs::write(d.join("attrs"), &attrs).unwrap();
        std::fs::write(d.join("attrs.sig"), parsed.signer.signature.as_bytes()).unwrap();
        std::fs::write(d.join("signer.der"), &w.certificate).unwrap();
        let (ok, out) = run(
            d,
            &[
                "x509",
                "-inform",
                "DER",
                "-in",
                "signer.der",
                "-pubkey",
                "-noout",
                "-out",
                "signer-pub.pem",
            ],
        );
        assert!(ok, "{out}");
        let attrs_verify = |file: &str| {
            run(
                d,
                &[
                    "pkeyutl",
                    "-verify",
                    "-pubin",
                    "-inkey",
                    "signer-pub.pem",
                    "-rawin",
                    "-digest",
                    "sm3",
                    "-pkeyopt",
                    &distid,
                    "-in",
                    file,
                    "-sigfile",
                    "attrs.sig",
                ],
            )
        };
        let (ok, out) = attrs_verify("attrs");
        assert!(
            ok,
            "openssl pkeyutl -verify of the signed attributes: {out}"
        );
        let mut changed_attrs = attrs.clone();
        let last = changed_attrs.len() - 1;
        changed_attrs[last] ^= 1;
        std::fs::write(d.join("attrs-changed"), &changed_attrs).unwrap();
        assert!(
            !attrs_verify("attrs-changed").0,
            "openssl accepted changed attributes"
        );
        std::fs::write(d.join("signer.der"), &w.certificate).unwrap();
        let (ok, out) = run(
            d,
            &[
                "x509",
                "-inform",
                "DER",
                "-in",
                "signer.der",
                "-out",
                "signer.pem",
            ],
        );
        assert!(ok, "{out}");
        let (ok, out) = run(
            d,
            &[
                "verify",
                "-vfyopt",
                &distid,
                "-CAfile",
                "ca.pem",
                "-attime",
                &attime,
                "-purpose",
                "any",
                "signer.pem",
            ],
        );
        assert!(ok, "openssl verify of the signer's chain: {out}");
        // The same with one byte of the signed data changed fails.
        let mut changed = data.clone();
        changed[10] ^= 1;
        std::fs::write(d.join("changed"), &changed).unwrap();
        let (ok, _) = cms_verify("changed");
        assert!(!ok, "openssl accepted changed data");

        // The SES_Signature: the signer's SM2 signature over DER(TBS_Sign) and the maker's
        // over DER(SES_SealInfo), each checked by openssl with the default identifier.
        let ses_der = verify::signatures(&pdf).unwrap()[0]
            .ses
            .as_ref()
            .unwrap()
            .der
            .clone();
        let decoded = ses::asn1::SesSignature::from_der(&ses_der).unwrap();
        let cases = [
            (
                "signer",
                decoded.to_sign.to_der().unwrap(),
                decoded.signature.as_bytes().unwrap().to_vec(),
                decoded.cert.as_bytes().to_vec(),
            ),
            (
                "maker",
                decoded.to_sign.eseal.e_seal_info.to_der().unwrap(),
                decoded
                    .to_sign
                    .eseal
                    .signed_value
                    .as_bytes()
                    .unwrap()
                    .to_vec(),
                decoded.to_sign.eseal.cert.as_bytes().to_vec(),
            ),
        ];
        for (who, tbs, signature, certificate) in cases {
            std::fs::write(d.join("tbs"), &tbs).unwrap();
            std::fs::write(d.join("sig"), &signature).unwrap();
            std::fs::write(d.join("cert.der"), &certificate).unwrap();
            let (ok, out) = run(
                d,
                &[
                    "x509", "-inform", "DER", "-in", "cert.der", "-pubkey", "-noout", "-out",
                    "pub.pem",
                ],
            );
            assert!(ok, "{out}");
            let verify = |file: &str| {
                run(
                    d,
                    &[
                        "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest",
                        "sm3", "-pkeyopt", &distid, "-in", file, "-sigfile", "sig",
                    ],
                )
            };
            let (ok, out) = verify("tbs");
            assert!(ok, "{who}'s SES signature: {out}");
            let mut changed = tbs.clone();
            let last = changed.len() - 1;
            changed[last] ^= 1;
            std::fs::write(d.join("tbs-changed"), &changed).unwrap();
            assert!(
                !verify("tbs-changed").0,
                "{who}: openssl accepted a changed TBS"
            );
        }
    }

    /// The sealed PDF with its CMS rewritten by `rewrite` (the signed attributes then
    /// signed again by the subject), written back into the same `/Contents` gap.
    fn with_cms_rewritten(
        w: &World,
        pdf: &[u8],
        rewrite: impl FnOnce(&mut cms::content_info::ContentInfo, &mut cms::signed_data::SignedData),
    ) -> Vec<u8> {
        use cms::content_info::ContentInfo;
        use cms::signed_data::SignedData;
        use der::{Any, Encode};
        let start = pdf.windows(10).position(|w| w == b"/Contents<").unwrap() + 10;
        let end = start + pdf[start..].iter().position(|&b| b == b'>').unwrap();
        let der = hex::decode(&pdf[start..end]).unwrap();
        // The gap is zero-padded after the DER.
        let mut content_info: ContentInfo = super::super::asn1::decode_prefix(&der).unwrap();
        let mut signed_data: SignedData = content_info.content.decode_as().unwrap();
        rewrite(&mut content_info, &mut signed_data);
        let mut signers = signed_data.signer_infos.0.clone().into_vec();
        let attrs = signers[0].signed_attrs.as_ref().unwrap().to_der().unwrap();
        signers[0].signature =
            der::asn1::OctetString::new(w.subject.sign(&attrs).to_der()).unwrap();
        signed_data.signer_infos = cms::signed_data::SignerInfos::try_from(signers).unwrap();
        content_info.content = Any::encode_from(&signed_data).unwrap();
        let mut hex = hex::encode(content_info.to_der().unwrap()).into_bytes();
        assert!(hex.len() <= end - start);
        hex.resize(end - start, b'0');
        let mut out = pdf.to_vec();
        out[start..end].copy_from_slice(&hex);
        out
    }

    /// Sets the contentType signed attribute to `oid`.
    fn set_content_type_attribute(signed_data: &mut cms::signed_data::SignedData, oid: Oid) {
        let mut signers = signed_data.signer_infos.0.clone().into_vec();
        let attrs = signers[0].signed_attrs.take().unwrap().into_vec();
        let attrs = attrs
            .into_iter()
            .map(|mut attr| {
                if attr.oid == super::super::asn1::ATTR_CONTENT_TYPE {
                    attr.values =
                        der::asn1::SetOfVec::try_from(vec![der::Any::encode_from(&oid).unwrap()])
                            .unwrap();
                }
                attr
            })
            .collect::<Vec<_>>();
        signers[0].signed_attrs = Some(der::asn1::SetOfVec::try_from(attrs).unwrap());
        signed_data.signer_infos = cms::signed_data::SignerInfos::try_from(signers).unwrap();
    }

    #[test]
    fn a_cms_with_gmt_0010_content_types_and_sm2sign_verifies_like_rfc_5652s() {
        let w = world();
        let pdf = seal_pdf(&w, None, T0 + 60);
        // As Chinese signing tools write it: GM/T 0010's signedData and data, and SM2 named
        // as GM/T 0006's sm2sign.
        let gm = with_cms_rewritten(&w, &pdf, |content_info, signed_data| {
            content_info.content_type = GM_SIGNED_DATA;
            signed_data.encap_content_info.econtent_type = GM_DATA;
            set_content_type_attribute(signed_data, GM_DATA);
            let mut signers = signed_data.signer_infos.0.clone().into_vec();
            signers[0].signature_algorithm.oid = SM2_SIGN;
            signed_data.signer_infos = cms::signed_data::SignerInfos::try_from(signers).unwrap();
        });
        let infos = verify::signatures(&gm).unwrap();
        let [info] = infos.as_slice() else {
            panic!("one signature")
        };
        assert_eq!(info.suite, Some(SignatureSuite::Sm2Sm3), "{info:?}");
        assert!(info.signs_data && info.digest_matches, "{info:?}");
        assert!(info.signature_valid && info.certificate_bound, "{info:?}");

        // A contentType attribute that names another type than the content's is refused,
        // whichever the content type is.
        for (econtent, attribute) in [
            (GM_DATA, super::super::asn1::ID_DATA),
            (super::super::asn1::ID_DATA, GM_SIGNED_DATA),
        ] {
            let mismatched = with_cms_rewritten(&w, &pdf, |_, signed_data| {
                signed_data.encap_content_info.econtent_type = econtent;
                set_content_type_attribute(signed_data, attribute);
            });
            let infos = verify::signatures(&mismatched).unwrap();
            assert!(!infos[0].signs_data, "{econtent} / {attribute}");
            assert!(infos[0].signature_valid, "only the content type is wrong");
            let assessed = assess::assess(
                &mismatched,
                std::slice::from_ref(&w.ca_certificate),
                &[],
                now(),
            )
            .unwrap();
            assert_eq!(assessed[0].outcome, Outcome::Invalid, "{assessed:?}");
        }
    }
}
