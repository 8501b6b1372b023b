//! PDF certificates and seals (spec §6.10).
//!
//! A **verifier** node (one that issues identity attestations) certifies the PDF key of every
//! party it verified: a PDF certificate attestation carrying an X.509 certificate for the
//! party's `pdf` key, resting on its identity attestation about the party, issued when the
//! identity attestation is and whenever a verified party declares a new PDF key. Gossip
//! carries the attestations like every attestation the node issues. The verifier's own CA
//! certificate is its own PDF certificate attestation, without an identity. Its CRL lists the
//! certificates whose identity attestation (or the certificate itself) is revoked.
//!
//! **Every party's** node seals a PDF with its PDF key and the certificate a verifier issued
//! for it: a visible seal and a PAdES signature (B-B: the time-stamp by a witness's TSA is not
//! wired yet) as an incremental update, so earlier seals stay valid.

use std::path::{Path, PathBuf};

use signet_protocol::attestation::{Attestation, AttestationKind, Claims, PdfCertificate};
use signet_protocol::cose::Signed;
use signet_protocol::keylog::{EcdsaP256Key, KeyPurpose};
use signet_protocol::party::PartyId;
use signet_protocol::x509::{self, CertifiedKey, Issuance, SealSubject};
use signet_protocol::{Timestamp, x509::X509Error};

use super::core::Core;
use super::{Service, ServiceError, now};
use crate::pdf::appearance::{Appearance, RoundSeal};
use crate::pdf::sign::{self, PdfSigner, Placement, SealRequest};
use crate::pdf::{PdfError, verify};

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
        key: &EcdsaP256Key,
        now: Timestamp,
    ) -> Option<Signed<Attestation>> {
        self.trust
            .about(subject, AttestationKind::PdfCertificate)
            .filter(|a| {
                a.payload().issuer == *issuer
                    && matches!(&a.payload().claims, Claims::PdfCertificate(c) if c.key == *key)
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

    /// This verifier's own CA certificate attestation for its current PDF key, if it has
    /// one in effect at `now` (it issues one when it first certifies a party's key).
    fn held_ca_certificate(&self, now: Timestamp) -> Option<Signed<Attestation>> {
        let (_, public) = self.pdf_key().ok()?;
        self.held_pdf_certificate(&self.me, &self.me, &public, now)
    }

    /// This verifier's own CA certificate attestation for its current PDF key, issued now
    /// if none is in effect.
    fn own_ca_certificate(
        &mut self,
        issuer: &Issuer<'_>,
        now: Timestamp,
    ) -> Result<Signed<Attestation>, ServiceError> {
        if let Some(held) = self.held_ca_certificate(now) {
            return Ok(held);
        }
        let (key, public) = self.pdf_key()?;
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
        let certificate = x509::ca_certificate(issuer.name, uscc, &key, &issuance)?;
        let claims = Claims::PdfCertificate(PdfCertificate {
            key: public,
            identity: None,
            certificate,
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
    ) -> Result<Vec<Signed<Attestation>>, ServiceError> {
        let me = self.me;
        let candidates: Vec<&Signed<Attestation>> = match party {
            Some(party) => self
                .trust
                .about(&party, AttestationKind::Identity)
                .collect(),
            None => self.trust.attestations().collect(),
        };
        let identities: Vec<Signed<Attestation>> = candidates
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
            .collect();
        let mut issued = Vec::new();
        for identity in identities {
            let subject = identity.payload().subject;
            let Some(key) = self.trust.key_log(&subject).and_then(|log| {
                log.keys_at(KeyPurpose::Pdf, now)
                    .filter_map(|r| r.key.ecdsa_p256().copied())
                    .last()
            }) else {
                continue;
            };
            if self
                .held_pdf_certificate(&me, &subject, &key, now)
                .is_some()
            {
                continue;
            }
            match self.certify(issuer, &identity, key, now) {
                Ok(Some(signed)) => issued.push(signed),
                Ok(None) => {}
                // One party's unusable identity (a name no certificate can carry) must not
                // stop the others'.
                Err(error) => {
                    tracing::warn!(party = %subject, %error, "no PDF certificate issued");
                }
            }
        }
        Ok(issued)
    }

    /// Issues one PDF certificate for `key`, resting on `identity`.
    fn certify(
        &mut self,
        issuer: &Issuer<'_>,
        identity: &Signed<Attestation>,
        key: EcdsaP256Key,
        now: Timestamp,
    ) -> Result<Option<Signed<Attestation>>, ServiceError> {
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
        let ca = self.own_ca_certificate(issuer, now)?;
        let Claims::PdfCertificate(ca_claims) = &ca.payload().claims else {
            return Err(ServiceError::Corrupt("own CA certificate"));
        };
        let (ca_key, _) = self.pdf_key()?;
        let signer = CertifiedKey::new(&ca_key, &ca_claims.certificate)?;
        let id = super::init::new_attestation_id()?;
        let certificate = x509::issue_seal_certificate(
            &signer,
            &named,
            &key.verifying_key(),
            &Issuance {
                serial: Issuance::serial_of_id(&id),
                not_before: now,
                not_after: until,
            },
            issuer.crl_url,
            Some(*identity.payload().id.as_bytes()),
        )?;
        let claims = Claims::PdfCertificate(PdfCertificate {
            key,
            identity: Some(identity.payload().id),
            certificate,
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
        let me = self.me;
        let mut candidates: Vec<(bool, Vec<u8>, Vec<u8>)> = self
            .trust
            .about(&me, AttestationKind::PdfCertificate)
            .filter(|a| a.payload().issuer != me)
            .filter(|a| self.trust.pdf_certificate_in_effect(a, now).is_ok())
            .filter_map(|a| {
                let issuer = a.payload().issuer;
                let Claims::PdfCertificate(c) = &a.payload().claims else {
                    return None;
                };
                if c.key != *key {
                    return None;
                }
                let ca_key = self.trust.key_log(&issuer).and_then(|log| {
                    log.keys_at(KeyPurpose::Pdf, now)
                        .filter_map(|r| r.key.ecdsa_p256().copied())
                        .last()
                })?;
                let ca = self.held_pdf_certificate(&issuer, &issuer, &ca_key, now)?;
                let Claims::PdfCertificate(ca_claims) = &ca.payload().claims else {
                    return None;
                };
                let anchor = self.policy.anchor(&issuer).is_some();
                Some((anchor, c.certificate.clone(), ca_claims.certificate.clone()))
            })
            .collect();
        candidates.sort_by_key(|(anchor, _, _)| !*anchor);
        candidates
            .into_iter()
            .next()
            .map(|(_, certificate, ca)| (certificate, ca))
            .ok_or_else(|| {
                ServiceError::Usage(
                    "no verifier has certified this party's PDF key yet: a PDF seal needs a \
                     certificate from the CA that verified the party's identity (it issues one \
                     with the identity attestation, and gossip brings it)"
                        .into(),
                )
            })
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
        let issued = self.core()?.certify_pdf_keys(&issuer, party, now())?;
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
        let appearance = round_seal(&legal_name, &uscc, self.config.pdf.font.as_deref())?;
        let existing = verify::signatures(pdf)?.len();
        let placement = match placement {
            Some(p) => p,
            None => default_placement(pdf, existing)?,
        };
        let field_name = format!("Seal{}", existing + 1);
        let signer = PdfSigner::new(&key, &certificate, &[ca])?;
        let request = SealRequest {
            placement,
            appearance: &appearance,
            signer: &signer,
            signing_time: std::time::SystemTime::now(),
            field_name: &field_name,
            time_stamper: None,
            reserved: sign::DEFAULT_RESERVED,
        };
        Ok(sign::sign(pdf, &request)?)
    }
}
