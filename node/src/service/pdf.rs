//! PDF certificates and seals (spec §6.10).
//!
//! A **verifier** node (one that issues identity attestations) certifies the PDF key of every
//! party it verified: a PDF certificate attestation carrying an X.509 certificate for the
//! party's `pdf` key, resting on its identity attestation about the party, issued when the
//! identity attestation is and whenever a verified party declares a new PDF key. Gossip
//! carries the attestations like every attestation the node issues. The verifier's own CA
//! certificate is its own PDF certificate attestation, without an identity. Its CRL lists the
//! certificates whose identity attestation (or the certificate itself) is revoked. A
//! verified party that is a witness also has a `tsa` key: the verifier certifies it with a TSA
//! certificate in the same way (see `service::tsa`), and its CRL lists it likewise.
//!
//! **Every party's** node seals a PDF with its PDF key and the certificate a verifier issued
//! for it: a visible seal and a PAdES signature (B-B: `seal_pdf` does not ask a witness's TSA
//! yet; [`Service::witness_time_stamper`] gives `pdf::sign` one for B-T) as an incremental
//! update, so earlier seals stay valid.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use signet_protocol::Digest;
use signet_protocol::attestation::SignedAttestation;
use signet_protocol::attestation::{AttestationKind, Claims, PdfCertificate, PdfKey};
use signet_protocol::keylog::{EcdsaP256Key, KeyPurpose, LogKey};
use signet_protocol::party::PartyId;
use signet_protocol::session::{DocumentRef, PdfRevision, SessionId};
use signet_protocol::x509::{self, CertifiedKey, Issuance, SealSubject};
use signet_protocol::{Timestamp, x509::X509Error};

use super::core::Core;
use super::{Service, ServiceError, now};
use crate::pdf::appearance::{Appearance, RoundSeal, SealImage};
use crate::pdf::sign::{self, PdfSigner, Placement, SealRequest};
use crate::pdf::{PdfError, ltv, verify};

/// How long a verifier's own CA certificate runs.
const CA_CERTIFICATE_DAYS: u64 = 3650;
/// The longest a seal certificate runs (never past the identity attestation it rests on).
const SEAL_CERTIFICATE_DAYS: u64 = 365;
const DAY: u64 = 86_400;
/// Where a CJK font usually is, for seals with Chinese names (Debian's fonts-noto-cjk).
const FONT_LOCATIONS: [&str; 2] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
];
/// How long a CRL is served before a fresh one is made (seconds); it is valid for a day.
const CRL_REFRESH: u64 = 3600;
/// The most seals side by side along the bottom of a page by default.
const DEFAULT_SLOTS: u32 = 3;

impl From<X509Error> for ServiceError {
    fn from(error: X509Error) -> Self {
        Self::Usage(format!("certificate: {error}"))
    }
}

impl From<PdfError> for ServiceError {
    fn from(error: PdfError) -> Self {
        Self::Usage(format!("pdf: {error}"))
    }
}

/// A certificate a verifier issued for this party's PDF key, as held: the certificate, the
/// verifier's CA certificate (same algorithm) and the electronic seal the attestation
/// carries, if any.
struct HeldCertificate {
    certificate: Vec<u8>,
    ca: Vec<u8>,
    seal: Option<Vec<u8>>,
}

/// The issuer-side facts a verifier's certificates need: its name, its USCC if it has one,
/// and the URL of its CRL.
pub(crate) struct Issuer<'a> {
    pub(crate) name: &'a str,
    pub(crate) uscc: Option<&'a str>,
    pub(crate) crl_url: Option<&'a str>,
}

impl Core {
    /// The PDF certificate attestation `issuer` issued about `subject` for `key`, in effect
    /// at `now` (the one running longest, if several).
    fn held_pdf_certificate(
        &self,
        issuer: &PartyId,
        subject: &PartyId,
        key: impl Into<PdfKey>,
        now: Timestamp,
    ) -> Option<SignedAttestation> {
        let key = key.into();
        self.trust
            .about(subject, AttestationKind::PdfCertificate)
            .filter(|a| {
                a.payload().issuer == *issuer
                    && matches!(&a.payload().claims, Claims::PdfCertificate(c) if c.key == key)
                    && self.trust.pdf_certificate_in_effect(a, now).is_ok()
            })
            .max_by_key(|a| a.payload().valid_until)
            .cloned()
    }

    /// This party's PDF key, and its public half.
    fn pdf_key(&self) -> Result<(p256::ecdsa::SigningKey, EcdsaP256Key), ServiceError> {
        let key = self.keys.pdf.clone().ok_or_else(|| {
            ServiceError::Usage(
                "this node has no PDF key (keys/pdf.key): restart it to declare one".into(),
            )
        })?;
        let public = EcdsaP256Key::from_verifying_key(key.verifying_key());
        Ok((key, public))
    }

    /// The CA certificates of every verifier this node holds one of (in effect at `now`):
    /// the roots a PDF's validation data ends its certificate paths with.
    fn held_ca_certificates(&self, now: Timestamp) -> Vec<Vec<u8>> {
        self.trust
            .attestations()
            .filter(|a| a.payload().issuer == a.payload().subject)
            .filter(|a| self.trust.pdf_certificate_in_effect(a, now).is_ok())
            .filter_map(|a| match &a.payload().claims {
                Claims::PdfCertificate(c) => Some(c.certificate.clone()),
                _ => None,
            })
            .collect()
    }

    /// This verifier's own CA certificate attestation for its current PDF key, if it has
    /// one in effect at `now` (it issues one when it first certifies a party's key).
    fn held_ca_certificate(&self, now: Timestamp) -> Option<SignedAttestation> {
        let (_, public) = self.pdf_key().ok()?;
        self.held_pdf_certificate(&self.me, &self.me, public, now)
    }

    /// This verifier's own CA certificate attestation for its current PDF key, issued now
    /// if none is in effect.
    fn own_ca_certificate(
        &mut self,
        issuer: &Issuer<'_>,
        now: Timestamp,
    ) -> Result<SignedAttestation, ServiceError> {
        if let Some(held) = self.held_ca_certificate(now) {
            return Ok(held);
        }
        let (key, public) = self.pdf_key()?;
        self.issue_ca_certificate(issuer, public.into(), now, |uscc, issuance| {
            x509::ca_certificate(issuer.name, uscc, &key, issuance)
        })
    }

    /// Issues now this verifier's CA certificate attestation for its PDF key `public`, the
    /// certificate made by `make` (given the issuer's USCC, when it is a valid one, and the
    /// issuance): valid [`CA_CERTIFICATE_DAYS`], its serial the attestation's id.
    fn issue_ca_certificate(
        &mut self,
        issuer: &Issuer<'_>,
        public: PdfKey,
        now: Timestamp,
        make: impl FnOnce(Option<&str>, &Issuance) -> Result<Vec<u8>, x509::X509Error>,
    ) -> Result<SignedAttestation, ServiceError> {
        let id = super::init::new_attestation_id()?;
        let until = now.plus(CA_CERTIFICATE_DAYS * DAY);
        let issuance = Issuance {
            serial: Issuance::serial_of_id(&id),
            not_before: now,
            not_after: until,
        };
        let uscc = issuer
            .uscc
            .filter(|u| SealSubject::new(issuer.name, u).is_ok());
        let claims = Claims::PdfCertificate(PdfCertificate {
            key: public,
            identity: None,
            certificate: make(uscc, &issuance)?,
            seal: None,
        });
        self.issue_as(id, self.me, claims, (now, until), now)
    }

    /// Certifies the PDF key of every party this party verified (an identity attestation of
    /// its own in effect at `now`) that has none certified by it for its current PDF key;
    /// only `party`, when given (the one whose key log or identity just changed). Returns the
    /// certificates issued (none if this party verified nobody).
    pub(crate) fn certify_pdf_keys(
        &mut self,
        issuer: &Issuer<'_>,
        party: Option<PartyId>,
        now: Timestamp,
    ) -> Result<Vec<SignedAttestation>, ServiceError> {
        let me = self.me;
        let mut issued = Vec::new();
        for identity in self.own_identities(party, now) {
            let subject = identity.payload().subject;
            // The party's PDF key gets a seal certificate; a witness's time-stamping key, a
            // TSA certificate (see `service::tsa`).
            for purpose in [KeyPurpose::Pdf, KeyPurpose::Tsa] {
                let Some(key) = self.trust.key_log(&subject).and_then(|log| {
                    log.keys_at(purpose, now)
                        .filter_map(|r| r.key.ecdsa_p256().copied())
                        .last()
                }) else {
                    continue;
                };
                if self.held_pdf_certificate(&me, &subject, key, now).is_some() {
                    continue;
                }
                match self.certify(issuer, &identity, key, purpose, now) {
                    Ok(Some(signed)) => issued.push(signed),
                    Ok(None) => {}
                    // One party's unusable identity (a name no certificate can carry) must
                    // not stop the others'.
                    Err(error) => {
                        tracing::warn!(party = %subject, %purpose, %error, "no PDF certificate issued");
                    }
                }
            }
        }
        Ok(issued)
    }

    /// This party's identity attestations about others in effect at `now` (only about
    /// `party`, when given): the subjects whose PDF keys it certifies.
    fn own_identities(&self, party: Option<PartyId>, now: Timestamp) -> Vec<SignedAttestation> {
        let me = self.me;
        let candidates: Vec<&SignedAttestation> = match party {
            Some(party) => self
                .trust
                .about(&party, AttestationKind::Identity)
                .collect(),
            None => self.trust.attestations().collect(),
        };
        candidates
            .into_iter()
            .filter(|a| {
                let p = a.payload();
                p.issuer == me
                    && p.subject != me
                    && matches!(p.claims, Claims::Identity(_))
                    && p.valid_from <= now
                    && now < p.valid_until
                    && self.trust.attestation_revoked(&me, &p.id, now).is_none()
            })
            .cloned()
            .collect()
    }

    /// Issues one PDF certificate for `key`, resting on `identity`: a seal certificate for
    /// a `pdf` key, a TSA certificate for a `tsa` key.
    fn certify(
        &mut self,
        issuer: &Issuer<'_>,
        identity: &SignedAttestation,
        key: EcdsaP256Key,
        purpose: KeyPurpose,
        now: Timestamp,
    ) -> Result<Option<SignedAttestation>, ServiceError> {
        let Some((named, until)) = certificate_subject(identity, now)? else {
            return Ok(None);
        };
        let ca = self.own_ca_certificate(issuer, now)?;
        let Claims::PdfCertificate(ca_claims) = &ca.payload().claims else {
            return Err(ServiceError::Corrupt("own CA certificate"));
        };
        let (ca_key, _) = self.pdf_key()?;
        let signer = CertifiedKey::new(&ca_key, &ca_claims.certificate)?;
        let id = super::init::new_attestation_id()?;
        let issuance = Issuance {
            serial: Issuance::serial_of_id(&id),
            not_before: now,
            not_after: until,
        };
        let certificate = if purpose == KeyPurpose::Tsa {
            x509::tsa_certificate(&signer, named.legal_name(), &key.verifying_key(), &issuance)?
        } else {
            x509::issue_seal_certificate(
                &signer,
                &named,
                &key.verifying_key(),
                &issuance,
                issuer.crl_url,
                Some(*identity.payload().id.as_bytes()),
            )?
        };
        let claims = Claims::PdfCertificate(PdfCertificate {
            key: key.into(),
            identity: Some(identity.payload().id),
            certificate,
            seal: None,
        });
        let subject = identity.payload().subject;
        self.issue_as(id, subject, claims, (now, until), now)
            .map(Some)
    }

    /// A certificate for this party's PDF key, in effect at `now`, from a verifier whose own
    /// CA certificate is held: the certificate and the CA's. Anchors of this node's policy
    /// are preferred.
    fn own_seal_certificate(
        &self,
        key: &EcdsaP256Key,
        now: Timestamp,
    ) -> Result<(Vec<u8>, Vec<u8>), ServiceError> {
        self.own_certificate(PdfKey::EcdsaP256(*key), now)
            .map(|held| (held.certificate, held.ca))
    }

    /// [`Core::own_seal_certificate`] for a key of either kind: the certificate, the CA's
    /// (of the same kind) and the electronic seal the attestation carries, if any.
    fn own_certificate(
        &self,
        key: PdfKey,
        now: Timestamp,
    ) -> Result<HeldCertificate, ServiceError> {
        let me = self.me;
        let mut candidates: Vec<(bool, HeldCertificate)> = self
            .trust
            .about(&me, AttestationKind::PdfCertificate)
            .filter(|a| a.payload().issuer != me)
            .filter(|a| self.trust.pdf_certificate_in_effect(a, now).is_ok())
            .filter_map(|a| {
                let issuer = a.payload().issuer;
                let Claims::PdfCertificate(c) = &a.payload().claims else {
                    return None;
                };
                if c.key != key {
                    return None;
                }
                // The issuer's CA key is its current pdf key of the same kind.
                let ca_key = self.trust.key_log(&issuer).and_then(|log| {
                    log.keys_at(KeyPurpose::Pdf, now)
                        .filter_map(|r| match (key, &r.key) {
                            (PdfKey::EcdsaP256(_), LogKey::EcdsaP256(k)) => {
                                Some(PdfKey::EcdsaP256(*k))
                            }
                            (PdfKey::Sm2(_), LogKey::Sm2(k)) => Some(PdfKey::Sm2(*k)),
                            _ => None,
                        })
                        .last()
                })?;
                let ca = self.held_pdf_certificate(&issuer, &issuer, ca_key, now)?;
                let Claims::PdfCertificate(ca_claims) = &ca.payload().claims else {
                    return None;
                };
                let anchor = self.policy.anchor(&issuer).is_some();
                Some((
                    anchor,
                    HeldCertificate {
                        certificate: c.certificate.clone(),
                        ca: ca_claims.certificate.clone(),
                        seal: c.seal.clone(),
                    },
                ))
            })
            .collect();
        candidates.sort_by_key(|(anchor, _)| !*anchor);
        candidates
            .into_iter()
            .next()
            .map(|(_, held)| held)
            .ok_or_else(|| {
                ServiceError::Usage(
                    "no verifier has certified this party's PDF key yet: a PDF seal needs a \
                     certificate from the CA that verified the party's identity (it issues one \
                     with the identity attestation, and gossip brings it)"
                        .into(),
                )
            })
    }

    /// This verifier's own SM2 CA certificate attestation for `ca_key` (its SM2 pdf key),
    /// issued now if none is in effect (national algorithms).
    fn own_sm2_ca_certificate(
        &mut self,
        issuer: &Issuer<'_>,
        ca_key: &signet_protocol::sm2::Sm2SecretKey,
        now: Timestamp,
    ) -> Result<SignedAttestation, ServiceError> {
        let public = PdfKey::Sm2(ca_key.public_key());
        if let Some(held) = self.held_pdf_certificate(&self.me, &self.me, public, now) {
            return Ok(held);
        }
        self.issue_ca_certificate(issuer, public, now, |uscc, issuance| {
            x509::sm2::sm2_ca_certificate(issuer.name, uscc, ca_key, issuance)
        })
    }

    /// As [`Core::certify_pdf_keys`] for SM2 `pdf` keys, by this verifier's SM2 CA
    /// (`ca_key`): an SM2 seal certificate and a GB/T 38540 electronic seal listing it, made
    /// by this verifier, for each verified party's current SM2 pdf key that has none.
    pub(crate) fn certify_sm2_pdf_keys(
        &mut self,
        issuer: &Issuer<'_>,
        ca_key: &signet_protocol::sm2::Sm2SecretKey,
        party: Option<PartyId>,
        now: Timestamp,
    ) -> Result<Vec<SignedAttestation>, ServiceError> {
        let me = self.me;
        let mut issued = Vec::new();
        for identity in self.own_identities(party, now) {
            let subject = identity.payload().subject;
            let Some(key) = self.trust.key_log(&subject).and_then(|log| {
                log.keys_at(KeyPurpose::Pdf, now)
                    .filter_map(|r| r.key.sm2().copied())
                    .last()
            }) else {
                continue;
            };
            if self
                .held_pdf_certificate(&me, &subject, PdfKey::Sm2(key), now)
                .is_some()
            {
                continue;
            }
            match self.certify_sm2(issuer, ca_key, &identity, key, now) {
                Ok(Some(signed)) => issued.push(signed),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(party = %subject, %error, "no SM2 PDF certificate issued");
                }
            }
        }
        Ok(issued)
    }

    fn certify_sm2(
        &mut self,
        issuer: &Issuer<'_>,
        ca_key: &signet_protocol::sm2::Sm2SecretKey,
        identity: &SignedAttestation,
        key: signet_protocol::sm2::Sm2PublicKey,
        now: Timestamp,
    ) -> Result<Option<SignedAttestation>, ServiceError> {
        let Some((named, until)) = certificate_subject(identity, now)? else {
            return Ok(None);
        };
        let ca = self.own_sm2_ca_certificate(issuer, ca_key, now)?;
        let Claims::PdfCertificate(ca_claims) = &ca.payload().claims else {
            return Err(ServiceError::Corrupt("own SM2 CA certificate"));
        };
        let id = super::init::new_attestation_id()?;
        let issuance = Issuance {
            serial: Issuance::serial_of_id(&id),
            not_before: now,
            not_after: until,
        };
        // No CRL distribution point: this verifier serves no SM2-signed CRL (yet).
        let certificate = x509::sm2::issue_sm2_seal_certificate(
            ca_key,
            &ca_claims.certificate,
            &named,
            &key,
            &issuance,
            None,
            Some(*identity.payload().id.as_bytes()),
        )?;
        let seal = signet_protocol::ses::make_seal(
            &signet_protocol::ses::SealSpec {
                vid: "signet".into(),
                es_id: hex::encode(id.as_bytes()),
                seal_type: 1,
                name: named.legal_name().to_owned(),
                signer_certificates: vec![certificate.clone()],
                created: now,
                valid_from: now,
                valid_until: until,
                picture: signet_protocol::ses::Picture {
                    format: "SVG".into(),
                    data: seal_svg(named.legal_name()),
                    width_mm: 40,
                    height_mm: 40,
                },
            },
            ca_key,
            &ca_claims.certificate,
        )
        .map_err(|e| ServiceError::Usage(format!("electronic seal: {e}")))?;
        let claims = Claims::PdfCertificate(PdfCertificate {
            key: PdfKey::Sm2(key),
            identity: Some(identity.payload().id),
            certificate,
            seal: Some(seal),
        });
        let subject = identity.payload().subject;
        self.issue_as(id, subject, claims, (now, until), now)
            .map(Some)
    }

    /// The CRL of this verifier: every certificate it issued whose identity attestation, or
    /// which itself, is revoked at `now`, with the revocation's effective time.
    fn pdf_crl(&self, now: Timestamp) -> Result<Vec<u8>, ServiceError> {
        let me = self.me;
        let ca = self
            .held_ca_certificate(now)
            .ok_or(ServiceError::NotACertificationAuthority)?;
        let Claims::PdfCertificate(ca_claims) = &ca.payload().claims else {
            return Err(ServiceError::Corrupt("own CA certificate"));
        };
        let mut revoked: Vec<(u128, Timestamp)> = Vec::new();
        for a in self.trust.attestations() {
            let p = a.payload();
            let Claims::PdfCertificate(c) = &p.claims else {
                continue;
            };
            if p.issuer != me || p.subject == me {
                continue;
            }
            let own = self.trust.attestation_revoked(&me, &p.id, now);
            let rested_on = c
                .identity
                .and_then(|id| self.trust.attestation_revoked(&me, &id, now));
            let earliest = [own, rested_on]
                .into_iter()
                .flatten()
                .map(|r| r.effective)
                .min();
            if let Some(at) = earliest {
                revoked.push((Issuance::serial_of_id(&p.id), at));
            }
        }
        revoked.sort();
        let (ca_key, _) = self.pdf_key()?;
        let signer = CertifiedKey::new(&ca_key, &ca_claims.certificate)?;
        // A fresh CRL at every request, numbered by its time so that numbers only grow.
        Ok(x509::crl(
            &signer,
            now.unix(),
            &revoked,
            now,
            now.plus(DAY),
        )?)
    }
}

/// A seal's picture for an electronic seal (`SES_SealInfo.picture`, SVG): a red ring with
/// the legal name, its text escaped for XML.
fn seal_svg(legal_name: &str) -> Vec<u8> {
    let escaped: String = legal_name
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 40 40\">\
         <circle cx=\"20\" cy=\"20\" r=\"18\" fill=\"none\" stroke=\"#d40000\" stroke-width=\"1.5\"/>\
         <text x=\"20\" y=\"22\" font-size=\"4\" text-anchor=\"middle\" fill=\"#d40000\">{escaped}</text></svg>"
    )
    .into_bytes()
}

/// The field name of the document time-stamp an export appends (PAdES B-LTA).
const ARCHIVE_TIME_STAMP_FIELD: &str = "SignetArchive";

/// The most bytes of a CRL fetched, for a PDF's validation data or to keep a CA root's
/// revocation information current (see [`super::crl`]).
pub const MAX_CRL_BYTES: usize = 1 << 20;

/// How long fetching one CRL may take, connecting and reading included.
const CRL_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a CRL could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrlFetchError {
    /// Not an `http://` or `https://` URL.
    #[error("not an http url")]
    Url,
    /// An `https://` URL: a CRL is signed, and is fetched over plain HTTP (RFC 5280, 4.2.1.13).
    #[error("only http:// distribution points are fetched")]
    NotHttp,
    /// The server could not be reached.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// The HTTP exchange failed.
    #[error("http: {0}")]
    Http(String),
    /// The server answered with another status than 200.
    #[error("the server answered http {0}")]
    Status(u16),
    /// The body is larger than [`MAX_CRL_BYTES`].
    #[error("the response is larger than {MAX_CRL_BYTES} bytes")]
    TooLarge,
    /// No answer within the time allowed.
    #[error("no answer within {} s", CRL_FETCH_TIMEOUT.as_secs())]
    TimedOut,
}

/// GETs a CRL from an `http://` distribution point: status 200, at most [`MAX_CRL_BYTES`]
/// (a larger body is refused, not cut), within [`CRL_FETCH_TIMEOUT`]. Its signature is
/// checked where it is used.
pub(super) async fn fetch_crl(url: &str) -> Result<Vec<u8>, CrlFetchError> {
    use http_body_util::BodyExt as _;
    let endpoint = super::webhook::endpoint(url).map_err(|_| CrlFetchError::Url)?;
    if endpoint.tls {
        return Err(CrlFetchError::NotHttp);
    }
    let fetch = async {
        let tcp = tokio::net::TcpStream::connect(&endpoint.authority)
            .await
            .map_err(CrlFetchError::Connect)?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .map_err(|e| CrlFetchError::Http(e.to_string()))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let request = hyper::Request::get(endpoint.path.as_str())
            .header(hyper::header::HOST, endpoint.authority.as_str())
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .map_err(|e| CrlFetchError::Http(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| CrlFetchError::Http(e.to_string()))?;
        if response.status() != hyper::StatusCode::OK {
            return Err(CrlFetchError::Status(response.status().as_u16()));
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_CRL_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    CrlFetchError::TooLarge
                } else {
                    CrlFetchError::Http(e.to_string())
                }
            })?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(CRL_FETCH_TIMEOUT, fetch)
        .await
        .map_err(|_| CrlFetchError::TimedOut)?
}

/// What stamps a session's seals (PAdES B-T): see [`Service::session_time_stamper`].
struct SessionTimeStamper<'a> {
    service: &'a Service,
    witnesses: Vec<PartyId>,
}

impl sign::TimeStamper for SessionTimeStamper<'_> {
    fn time_stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, sign::TimeStampError> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| "no runtime to reach the witness from")?;
        let ask = async {
            let mut last = None;
            for witness in &self.witnesses {
                let mut answer = self.service.witness_time_stamp(*witness, *digest).await;
                // Unreachable: find the witness's nodes in the DHT, and ask once more.
                if let Err(ServiceError::Net(error)) = &answer
                    && super::needs_lookup(error)
                    && let Ok(client) = self.service.client()
                    && client.lookup(*witness).await.is_ok()
                {
                    answer = self.service.witness_time_stamp(*witness, *digest).await;
                }
                match answer {
                    Ok(token) => return Ok(token),
                    Err(error) => {
                        tracing::warn!(%witness, %error, "the witness's TSA did not time-stamp the seal");
                        last = Some(error);
                    }
                }
            }
            Err(last.map_or_else(
                || "no witness".to_string(),
                |e| format!("no witness time-stamped the seal: {e}"),
            ))
        };
        // Called from sync code on a runtime thread (a worker, or a blocking-pool thread):
        // step out of the async context, then wait for the network.
        match handle.runtime_flavor() {
            tokio::runtime::RuntimeFlavor::CurrentThread => {
                Err("a current-thread runtime cannot wait for the witness's TSA here".into())
            }
            _ => tokio::task::block_in_place(|| handle.block_on(ask)).map_err(Into::into),
        }
    }
}

/// Checks the revision a signer received before sealing it: it starts with the proposal's
/// document, byte for byte, and holds exactly the `earlier` seals of the signers before it,
/// each intact (its digest, signature and signed range).
fn check_base(bytes: &[u8], document: &DocumentRef, earlier: usize) -> Result<(), ServiceError> {
    let original = usize::try_from(document.size)
        .ok()
        .and_then(|n| bytes.get(..n))
        .ok_or_else(|| {
            ServiceError::Usage("the PDF revision received is shorter than the document".into())
        })?;
    if !document.matches(original) {
        return Err(ServiceError::Usage(
            "the PDF revision received does not start with the proposal's document".into(),
        ));
    }
    let seals = verify::signatures(bytes)?;
    if seals.len() != earlier {
        return Err(ServiceError::Usage(format!(
            "the PDF revision received holds {} seals, not the {earlier} of the signers before this one",
            seals.len()
        )));
    }
    if let Some(bad) = seals
        .iter()
        .find(|s| !(s.covers_revision && s.digest_matches && s.signature_valid))
    {
        return Err(ServiceError::Usage(format!(
            "seal {} of the PDF revision received is not intact",
            bad.field_name
        )));
    }
    Ok(())
}

/// Where a seal goes when the caller does not say: the last page, the first free slot of
/// [`DEFAULT_SLOTS`] (or more) along its bottom, `existing` seals being there already.
fn default_placement(pdf: &[u8], existing: usize) -> Result<Placement, ServiceError> {
    let existing = u32::try_from(existing).unwrap_or(u32::MAX);
    let size = sign::page_size(pdf, None)?;
    let count = DEFAULT_SLOTS.max(existing.saturating_add(1));
    Ok(Placement {
        page: None,
        rect: sign::default_slot(size, existing, count),
    })
}

/// The party's registered seal image (`[pdf] seal_image`): a PNG or a JPEG, by content.
fn registered_image(path: &Path) -> Result<Appearance, ServiceError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ServiceError::Usage(format!("seal image {}: {e}", path.display())))?;
    let image = if bytes.starts_with(b"\x89PNG") {
        SealImage::png(&bytes)?
    } else {
        SealImage::jpeg(&bytes)?
    };
    Ok(Appearance::Image(image))
}

/// The seal drawn from the certificate's legal name and USCC: Helvetica for a Latin name,
/// else the glyph outlines of `font` (or a usual CJK font location).
fn round_seal(
    legal_name: &str,
    uscc: &str,
    font: Option<&Path>,
) -> Result<Appearance, ServiceError> {
    if legal_name
        .chars()
        .all(|c| c.is_ascii() && !c.is_ascii_control())
    {
        return Ok(Appearance::RoundSeal(RoundSeal::new(
            legal_name, uscc, None,
        )?));
    }
    let path = font
        .map(Path::to_path_buf)
        .or_else(|| {
            FONT_LOCATIONS
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
        })
        .ok_or_else(|| {
            ServiceError::Usage(
                "the legal name is not Latin: set [pdf] font in signet.toml to a font with its \
                 glyphs (e.g. Noto Sans CJK)"
                    .into(),
            )
        })?;
    let bytes = std::fs::read(&path)
        .map_err(|e| ServiceError::Usage(format!("font {}: {e}", path.display())))?;
    Ok(Appearance::RoundSeal(RoundSeal::with_font(
        legal_name, uscc, &bytes, 0,
    )?))
}

/// What a PDF certificate resting on `identity` names, and until when it may be valid
/// (the identity's end, at most [`SEAL_CERTIFICATE_DAYS`] from `now`); none when `identity`
/// is no identity attestation or has ended.
fn certificate_subject(
    identity: &SignedAttestation,
    now: Timestamp,
) -> Result<Option<(SealSubject, Timestamp)>, ServiceError> {
    let Claims::Identity(claims) = &identity.payload().claims else {
        return Ok(None);
    };
    let until = identity
        .payload()
        .valid_until
        .min(now.plus(SEAL_CERTIFICATE_DAYS * DAY));
    if until <= now {
        return Ok(None);
    }
    let named = SealSubject::new(&claims.legal_name, claims.registration.number())?;
    Ok(Some((named, until)))
}

/// A party's SM2 PDF key, certificate, chain and seal (`[pdf.sm2]`), read from their files.
pub(crate) struct Sm2Material {
    pub(crate) key: signet_protocol::sm2::Sm2SecretKey,
    certificate: Vec<u8>,
    chain: Vec<Vec<u8>>,
    seal: Option<Vec<u8>>,
}

impl Sm2Material {
    /// Reads the files `config` names (relative to `dir`), checking that the certificate is
    /// an SM2 certificate of the key and that the seal, if any, is an `SESeal` whose maker's
    /// signature verifies.
    pub(crate) fn load(
        dir: &Path,
        config: &super::config::Sm2PdfConfig,
    ) -> Result<Self, ServiceError> {
        let path = |p: &Path| dir.join(p);
        let read = |p: &Path| {
            std::fs::read(path(p))
                .map_err(|e| ServiceError::Usage(format!("[pdf.sm2] {}: {e}", path(p).display())))
        };
        let key = crate::keyfile::read_sm2(&path(&config.key))
            .map_err(|e| ServiceError::Usage(format!("[pdf.sm2] key: {e}")))?;
        let certificate = der_of(&read(&config.certificate)?);
        crate::pdf::national::Sm2CertifiedKey::new(&key, &certificate)
            .map_err(|e| ServiceError::Usage(format!("[pdf.sm2] certificate: {e}")))?;
        let chain = config
            .chain
            .iter()
            .map(|p| read(p).map(|bytes| der_of(&bytes)))
            .collect::<Result<Vec<_>, _>>()?;
        let seal = match &config.seal {
            Some(p) => {
                let seal = read(p)?;
                signet_protocol::ses::verify_seal(&seal)
                    .map_err(|e| ServiceError::Usage(format!("[pdf.sm2] seal: {e}")))?;
                Some(seal)
            }
            None => None,
        };
        Ok(Self {
            key,
            certificate,
            chain,
            seal,
        })
    }
}

/// Where a node keeps its own SM2 pdf key (`[pdf] algorithm = "sm2"`), under `keys/`.
pub const SM2_PDF_KEY_FILE: &str = "pdf-sm2.key";

/// This party's SM2 pdf key: `[pdf.sm2]`'s (checked with its certificate), or with
/// `algorithm = "sm2"` the one in `keys/pdf-sm2.key` (made when `create` and absent);
/// `None` with ESP256 seals.
pub(crate) fn own_sm2_key(
    dir: &Path,
    config: &super::config::PdfConfig,
    create: bool,
) -> Result<Option<signet_protocol::sm2::Sm2SecretKey>, ServiceError> {
    if let Some(sm2) = &config.sm2 {
        return Ok(Some(Sm2Material::load(dir, sm2)?.key));
    }
    if config.algorithm != super::config::PdfAlgorithm::Sm2 {
        return Ok(None);
    }
    let path = dir.join("keys").join(SM2_PDF_KEY_FILE);
    if !path.exists() && create {
        // A uniformly random 32-byte string is a valid scalar except with probability
        // ~2^-128; draw again in that case.
        let mut drawn = None;
        for _ in 0..4 {
            let seed = zeroize::Zeroizing::new(super::random_bytes()?);
            if let Ok(key) = signet_protocol::sm2::Sm2SecretKey::from_bytes(&seed) {
                drawn = Some(key);
                break;
            }
        }
        let key = drawn.ok_or(ServiceError::Internal("no valid SM2 scalar drawn"))?;
        crate::keyfile::write_sm2(&path, &key, crate::keyfile::Replace::No)
            .map_err(|e| ServiceError::Usage(format!("{}: {e}", path.display())))?;
    }
    crate::keyfile::read_sm2(&path)
        .map(Some)
        .map_err(|e| ServiceError::Usage(format!("{}: {e}", path.display())))
}

/// A certificate as DER, from DER or PEM.
fn der_of(bytes: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes.to_vec();
    };
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap_or_else(|_| bytes.to_vec())
}

impl Service {
    fn issuer(&self) -> Issuer<'_> {
        Issuer {
            name: &self.config.legal_name,
            uscc: Some(self.config.registration.as_str()),
            crl_url: self.config.pdf.crl_url.as_deref(),
        }
    }

    /// Certifies the PDF keys of the parties this node verified (only `party`, when given)
    /// that lack a current certificate (see the module documentation). Returns how many it
    /// issued.
    pub fn certify_pdf_keys(&self, party: Option<PartyId>) -> Result<usize, ServiceError> {
        let issuer = self.issuer();
        let mut issued = self.core()?.certify_pdf_keys(&issuer, party, now())?;
        // A verifier with an SM2 pdf key of its own (not an external CA's) certifies SM2 keys.
        if self.config.pdf.sm2.is_none()
            && let Some(ca_key) = own_sm2_key(&self.dir, &self.config.pdf, false)?
        {
            issued.extend(
                self.core()?
                    .certify_sm2_pdf_keys(&issuer, &ca_key, party, now())?,
            );
        }
        if !issued.is_empty() {
            tracing::info!(count = issued.len(), "issued PDF certificates");
            self.wake.notify_one();
        }
        Ok(issued.len())
    }

    /// This verifier's CA certificate (DER), the trust root relying parties give their PDF
    /// validators; [`ServiceError::NotACertificationAuthority`] until it certified a key.
    pub fn pdf_ca_certificate(&self) -> Result<Vec<u8>, ServiceError> {
        let ca = self
            .core()?
            .held_ca_certificate(now())
            .ok_or(ServiceError::NotACertificationAuthority)?;
        match &ca.payload().claims {
            Claims::PdfCertificate(c) => Ok(c.certificate.clone()),
            _ => Err(ServiceError::Corrupt("own CA certificate")),
        }
    }

    /// This verifier's SM2 CA certificate (DER, national algorithms), the trust root of the
    /// SM2 certificates and seals it issued; [`ServiceError::NotACertificationAuthority`]
    /// until it certified an SM2 key.
    pub fn pdf_sm2_ca_certificate(&self) -> Result<Vec<u8>, ServiceError> {
        let key = own_sm2_key(&self.dir, &self.config.pdf, false)?
            .ok_or(ServiceError::NotACertificationAuthority)?;
        let core = self.core()?;
        let ca = core
            .held_pdf_certificate(&self.me, &self.me, PdfKey::Sm2(key.public_key()), now())
            .ok_or(ServiceError::NotACertificationAuthority)?;
        match &ca.payload().claims {
            Claims::PdfCertificate(c) => Ok(c.certificate.clone()),
            _ => Err(ServiceError::Corrupt("own SM2 CA certificate")),
        }
    }

    /// This verifier's CRL (DER): made at most an hour ago, and anew after each of
    /// its revocations (served without a token, so it is not signed per request).
    pub fn pdf_crl(&self) -> Result<Vec<u8>, ServiceError> {
        let now = now();
        let mut cached = self
            .crl
            .lock()
            .map_err(|_| ServiceError::Internal("lock"))?;
        if let Some((made, crl)) = cached.as_ref()
            && now.seconds_since(*made) < CRL_REFRESH
        {
            return Ok(crl.clone());
        }
        let crl = self.core()?.pdf_crl(now)?;
        *cached = Some((now, crl.clone()));
        Ok(crl)
    }

    /// Seals `pdf` for this party: its visible seal where `placement` says (default: the
    /// first free slot along the bottom of the last page) and a PAdES signature by its PDF
    /// key under the certificate a verifier issued for it, appended as an incremental update.
    pub fn seal_pdf(
        &self,
        pdf: &[u8],
        placement: Option<Placement>,
    ) -> Result<Vec<u8>, ServiceError> {
        self.seal_pdf_as(pdf, placement, None, None, false)
    }

    /// [`Service::seal_pdf`], with the field named `field_name` (default `Seal<n>`) and
    /// time-stamped by `time_stamper` (PAdES B-T) when given. With `national` (a session
    /// that requires national algorithms, spec §8.2.5) only an SM2 key seals: without one
    /// the seal is refused, never made with ECDSA.
    fn seal_pdf_as(
        &self,
        pdf: &[u8],
        placement: Option<Placement>,
        field_name: Option<&str>,
        time_stamper: Option<&dyn sign::TimeStamper>,
        national: bool,
    ) -> Result<Vec<u8>, ServiceError> {
        if let Some(config) = &self.config.pdf.sm2 {
            return self.seal_pdf_sm2(pdf, config, placement, field_name, time_stamper);
        }
        if let Some(key) = own_sm2_key(&self.dir, &self.config.pdf, false)? {
            let HeldCertificate {
                certificate,
                ca,
                seal,
            } = self
                .core()?
                .own_certificate(PdfKey::Sm2(key.public_key()), now())?;
            let facts = x509::subject_of(&certificate)?;
            let (Some(legal_name), Some(uscc)) = (facts.legal_name, facts.uscc) else {
                return Err(ServiceError::Corrupt("a PDF certificate without a name"));
            };
            let signer = PdfSigner::sm2(&key, &certificate, &[ca], seal)?;
            return self.seal_with(
                pdf,
                &signer,
                (&legal_name, &uscc),
                placement,
                field_name,
                time_stamper,
            );
        }
        if national {
            return Err(ServiceError::NationalAlgorithms(
                "this party has no SM2 PDF key and certificate ([pdf.sm2], or an SM2 pdf key a verifier certified), so it will not seal this session's PDF with ECDSA".into(),
            ));
        }
        let (key, certificate, ca) = {
            let core = self.core()?;
            let (key, public) = core.pdf_key()?;
            let (certificate, ca) = core.own_seal_certificate(&public, now())?;
            (key, certificate, ca)
        };
        let facts = x509::subject_of(&certificate)?;
        let (Some(legal_name), Some(uscc)) = (facts.legal_name, facts.uscc) else {
            return Err(ServiceError::Corrupt("a PDF certificate without a name"));
        };
        let signer = PdfSigner::new(&key, &certificate, &[ca])?;
        self.seal_with(
            pdf,
            &signer,
            (&legal_name, &uscc),
            placement,
            field_name,
            time_stamper,
        )
    }

    /// [`Service::seal_pdf_as`] with national algorithms (`[pdf.sm2]`): the party's SM2 key,
    /// which its key log must hold as a current `pdf` key, under the configured certificate,
    /// with an `SES_Signature` when a seal is configured.
    fn seal_pdf_sm2(
        &self,
        pdf: &[u8],
        config: &super::config::Sm2PdfConfig,
        placement: Option<Placement>,
        field_name: Option<&str>,
        time_stamper: Option<&dyn sign::TimeStamper>,
    ) -> Result<Vec<u8>, ServiceError> {
        let material = Sm2Material::load(&self.dir, config)?;
        {
            let core = self.core()?;
            let key = signet_protocol::keylog::LogKey::Sm2(material.key.public_key());
            let declared = core
                .trust
                .key_log(&self.me)
                .is_some_and(|log| log.check_log_key(&key, KeyPurpose::Pdf, now()).is_ok());
            if !declared {
                return Err(ServiceError::Usage(
                    "the [pdf.sm2] key is not a current pdf key of this party: restart the node \
                     to declare it"
                        .into(),
                ));
            }
        }
        let facts = x509::subject_of(&material.certificate)?;
        let legal_name = facts
            .legal_name
            .unwrap_or_else(|| self.config.legal_name.clone());
        let uscc = facts.uscc.unwrap_or_default();
        let signer = PdfSigner::sm2(
            &material.key,
            &material.certificate,
            &material.chain,
            material.seal.clone(),
        )?;
        self.seal_with(
            pdf,
            &signer,
            (&legal_name, &uscc),
            placement,
            field_name,
            time_stamper,
        )
    }

    /// Seals `pdf` with `signer`, whose certificate names `(legal name, USCC)`.
    fn seal_with(
        &self,
        pdf: &[u8],
        signer: &PdfSigner<'_>,
        (legal_name, uscc): (&str, &str),
        placement: Option<Placement>,
        field_name: Option<&str>,
        time_stamper: Option<&dyn sign::TimeStamper>,
    ) -> Result<Vec<u8>, ServiceError> {
        let appearance = match &self.config.pdf.seal_image {
            Some(path) => registered_image(path)?,
            None => round_seal(legal_name, uscc, self.config.pdf.font.as_deref())?,
        };
        let existing = verify::signatures(pdf)?.len();
        let placement = match placement {
            Some(p) => p,
            None => default_placement(pdf, existing)?,
        };
        let field_name = field_name.map_or_else(|| format!("Seal{}", existing + 1), str::to_owned);
        let request = SealRequest {
            placement,
            appearance: &appearance,
            signer,
            signing_time: std::time::SystemTime::now(),
            field_name: &field_name,
            time_stamper,
            reserved: sign::DEFAULT_RESERVED,
        };
        Ok(sign::sign(pdf, &request)?)
    }

    /// Seals, before this party signs session `id`, every document the proposal has sealed
    /// as a PDF (spec §8.2.4, §8.4.2): over the revision [`Session::pdf_bases`] names (the
    /// document, or the previous signer's sealed revision, fetched from it), where the
    /// proposal places this signer's seal (default: its slot along the bottom of the last
    /// page), time-stamped by the session's first witness that answers (PAdES B-T; B-B when
    /// the proposal names no witness). Each new revision is stored; what the seal signature
    /// will say of them is returned.
    ///
    /// [`Session::pdf_bases`]: signet_protocol::session::Session::pdf_bases
    pub(crate) fn seal_session_pdfs(
        &self,
        id: SessionId,
    ) -> Result<Vec<PdfRevision>, ServiceError> {
        let (bases, proposal) = {
            let core = self.core()?;
            let t = core.known(&id)?;
            (
                t.session.pdf_bases()?,
                t.session.proposal().payload().clone(),
            )
        };
        let order = proposal.sealing_order();
        let position = order.iter().position(|p| *p == self.me).unwrap_or(0);
        let stamper = self.session_time_stamper(&proposal.evidence.witnesses);
        let mut revisions = Vec::new();
        for (document, base) in bases {
            let d = usize::try_from(document)
                .ok()
                .and_then(|i| proposal.documents.get(i))
                .ok_or(ServiceError::Corrupt("a sealed document index"))?;
            let bytes = self.document_bytes(&base)?;
            check_base(&bytes, d, position)?;
            let placement = match d.pdf_seals.iter().flatten().find(|p| p.signer == self.me) {
                Some(p) => Placement {
                    page: p.page,
                    rect: [
                        p.x as f32,
                        p.y as f32,
                        (p.x + p.width) as f32,
                        (p.y + p.height) as f32,
                    ],
                },
                None => {
                    let size = sign::page_size(&bytes, None)?;
                    let count = u32::try_from(order.len()).unwrap_or(u32::MAX);
                    let index = u32::try_from(position).unwrap_or(u32::MAX);
                    Placement {
                        page: None,
                        rect: sign::default_slot(size, index, count),
                    }
                }
            };
            let field = format!("Signet{}", position + 1);
            let sealed = self.seal_pdf_as(
                &bytes,
                Some(placement),
                Some(&field),
                stamper.as_ref().map(|s| s as &dyn sign::TimeStamper),
                proposal.requires_national(),
            )?;
            let (digest, manifest) = crate::store::put_document(&*self.store, &mut &sealed[..])?;
            tracing::info!(session = %id, document, revision = %digest, "sealed the PDF");
            revisions.push(PdfRevision {
                document,
                base,
                sealed: digest,
                size: manifest.len(),
            });
        }
        Ok(revisions)
    }

    /// The bytes of a stored document or PDF revision.
    fn document_bytes(&self, digest: &Digest) -> Result<Vec<u8>, ServiceError> {
        let mut reader = crate::store::DocumentReader::open(&*self.store, digest)?
            .ok_or(ServiceError::DocumentsMissing(*digest))?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut bytes)
            .map_err(|e| ServiceError::Usage(format!("document {digest}: {e}")))?;
        Ok(bytes)
    }

    /// The final PDF of completed session `id`'s document `index`: the revision the last
    /// signer in sealing order sealed, as held here (fetched from that signer).
    pub fn session_pdf(&self, id: SessionId, index: usize) -> Result<Vec<u8>, ServiceError> {
        let last = {
            let core = self.core()?;
            let t = core.known(&id)?;
            let p = t.session.proposal().payload();
            if p.documents
                .get(index)
                .and_then(|d| d.pdf_seals.as_ref())
                .is_none()
            {
                return Err(ServiceError::Usage(format!(
                    "document {index} of session {id} is not sealed as a PDF"
                )));
            }
            let document = u32::try_from(index).unwrap_or(u32::MAX);
            let sealed = |party: &PartyId| {
                t.session
                    .actions()
                    .iter()
                    .find(|a| a.party == *party)
                    .and_then(|a| a.record.as_ref())
                    .and_then(|r| {
                        r.seal_signature
                            .payload()
                            .pdf
                            .iter()
                            .find(|r| r.document == document)
                            .map(|r| r.sealed)
                    })
            };
            let last_signer = p.sealing_order().last().copied();
            match last_signer.and_then(|s| sealed(&s)) {
                Some(digest) => digest,
                None => {
                    return Err(ServiceError::Usage(format!(
                        "session {id} is not sealed by every signer yet"
                    )));
                }
            }
        };
        self.document_bytes(&last)
    }

    /// The signed PDF of completed session `id`'s document `index` as a relying party takes
    /// it away: [`Service::session_pdf`] with PAdES validation data appended (B-LT): the
    /// certificates of every seal and time-stamp up to their CAs and the CAs' current CRLs,
    /// this node's own if it is the CA, else fetched from the certificates' CRL distribution
    /// points (`http://` only: a CRL is signed). A CRL that cannot be had is logged, and the
    /// file goes out without validation data for that certificate (a validator then says
    /// what it lacks); nothing is claimed that was not obtained.
    pub async fn export_pdf(
        self: Arc<Self>,
        id: SessionId,
        index: usize,
    ) -> Result<Vec<u8>, ServiceError> {
        self.export_pdf_with(id, index, Vec::new()).await
    }

    /// [`Service::export_pdf`], with `crls` (DER, e.g. a CA's current CRL obtained some
    /// other way) added to what the node gathers. With validation data in the file, a
    /// document time-stamp by the session's witness is appended too (PAdES B-LTA) when the
    /// witness answers; when it does not, the file stays B-LT and the reason is logged.
    pub async fn export_pdf_with(
        self: Arc<Self>,
        id: SessionId,
        index: usize,
        crls: Vec<Vec<u8>>,
    ) -> Result<Vec<u8>, ServiceError> {
        let this = self.clone();
        let (pdf, own_crl, ca_certificates, witnesses) = tokio::task::spawn_blocking(move || {
            let pdf = this.session_pdf(id, index)?;
            let own_crl = this.pdf_crl().ok();
            let core = this.core()?;
            let cas = core.held_ca_certificates(now());
            let witnesses = core
                .tracked(&id)?
                .map(|t| t.session.proposal().payload().evidence.witnesses.clone())
                .unwrap_or_default();
            Ok::<_, ServiceError>((pdf, own_crl, cas, witnesses))
        })
        .await
        .map_err(|_| ServiceError::Internal("PDF export task"))??;
        let targets = ltv::certificates_needing_revocation(&pdf)?;
        let mut crls = crls;
        crls.extend(own_crl);
        let mut urls: Vec<&str> = targets
            .iter()
            .flat_map(|t| t.crl_urls.iter().map(String::as_str))
            .collect();
        urls.sort_unstable();
        urls.dedup();
        for url in urls {
            match fetch_crl(url).await {
                Ok(crl) => crls.push(crl),
                Err(error) => tracing::warn!(%url, %error, "no CRL for the PDF's validation data"),
            }
        }
        if crls.is_empty() {
            tracing::warn!(session = %id, "no CRL could be had: the PDF is exported without validation data (B-T)");
            return Ok(pdf);
        }
        let mut certificates: Vec<Vec<u8>> = targets.into_iter().map(|t| t.certificate).collect();
        certificates.extend(ca_certificates);
        let data = ltv::ValidationData { certificates, crls };
        let long_term = ltv::add_validation_data(&pdf, &data)?;
        tokio::task::spawn_blocking(move || {
            let Some(stamper) = self.session_time_stamper(&witnesses) else {
                return long_term;
            };
            match ltv::add_document_time_stamp(&long_term, &stamper, ARCHIVE_TIME_STAMP_FIELD) {
                Ok(archived) => archived,
                Err(error) => {
                    tracing::warn!(session = %id, %error, "no document time-stamp: the PDF is exported at B-LT");
                    long_term
                }
            }
        })
        .await
        .map_err(|_| ServiceError::Internal("PDF export task"))
    }

    /// A time-stamper for this session's seals: the session's witnesses' TSAs, asked in
    /// proposal order until one answers; `None` when the proposal names no witness.
    fn session_time_stamper(&self, witnesses: &[PartyId]) -> Option<SessionTimeStamper<'_>> {
        (!witnesses.is_empty()).then(|| SessionTimeStamper {
            service: self,
            witnesses: witnesses.to_vec(),
        })
    }
}
