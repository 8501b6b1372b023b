//! Time-stamping by witnesses: a witness node is an RFC 3161 time-stamping authority (TSA)
//! for the PDF seals of the parties it serves (spec §12.14, §6.10).
//!
//! - **The witness** (`witness = true`) holds `keys/tsa.key`, an ECDSA P-256 key declared in
//!   its key log with purpose `tsa` at start (`declare_at_start`). The verifier that
//!   verified its identity certifies that key with an X.509 TSA certificate (a PDF
//!   certificate attestation of the TSA profile, issued beside the party's seal certificate:
//!   `service::pdf`). It answers `/signet/tsa/1` requests from any authenticated node with a
//!   token signed by its TSA key, carrying that certificate (the one in effect, preferring
//!   one from an anchor of its own policy), a random 64-bit serial and its clock's time. A
//!   node that is not a witness, or has no TSA certificate in effect yet, answers with a
//!   `rejection` (`unacceptedPolicy`, `systemFailure`).
//! - **A client** asks with [`Service::witness_time_stamp`], which accepts a token only if
//!   it is granted over the digest asked for, echoes the request's random nonce, verifies
//!   with its embedded certificate, and that certificate is a TSA certificate in effect for
//!   a `tsa` key the witness's key log declares: the token is the witness's own, not any
//!   TSA's. [`Service::witness_time_stamper`] adapts it to [`sign::TimeStamper`] for PAdES
//!   B-T seals.
//!
//! The time in a token is the witness's clock, vouched for by nobody but the witness; the
//! certificate says only which verifier certified the witness's key (see THREAT_MODEL.md).

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use signet_protocol::attestation::{AttestationKind, Claims};
use signet_protocol::keylog::{EcdsaP256Key, KeyPurpose, LogKey};
use signet_protocol::party::PartyId;
use signet_protocol::x509::CertifiedKey;
use signet_protocol::x509::asn1::p256_key_of;

use super::core::Core;
use super::{Service, ServiceError, now};
use crate::net::TimeStampAuthority;
use crate::pdf::sign;
use crate::pdf::tsa::{
    self, Failure, ResponseOutcome, TimeStampRequest, read_response, read_token,
    rejection_response, time_stamp_response,
};

/// How far a token's time may be from this node's clock before it is refused.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(600);

/// Why a witness's time-stamp was not obtained (beyond the network failing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessTimeStampError {
    /// The witness answered with a status other than granted (it is no witness, has no TSA
    /// certificate in effect, or refused the request).
    #[error(
        "the witness refused to time-stamp (status {status}, failure bits {failures:?}): {reason}"
    )]
    Refused {
        /// The PKIStatus.
        status: u8,
        /// The PKIFailureInfo bits set (RFC 3161, 2.4.2).
        failures: Vec<usize>,
        /// The witness's status strings.
        reason: String,
    },
    /// The witness's answer is not a valid token for this request: the peer misbehaved.
    #[error("the witness's token is not valid for the request: {0}")]
    InvalidToken(&'static str),
    /// The token's certificate is not a TSA certificate in effect for a `tsa` key the
    /// witness's key log declares: not the witness's own token.
    #[error("the token is not the witness's own: {0}")]
    NotFromWitness(&'static str),
}

impl Core {
    /// This party's TSA key and its TSA certificate (DER) in effect at `now`: from an anchor
    /// of this node's policy if there is one, else the one running longest.
    fn own_tsa_certificate(
        &self,
        now: signet_protocol::Timestamp,
    ) -> Option<(p256::ecdsa::SigningKey, Vec<u8>)> {
        let key = self.keys.tsa.clone()?;
        let public = EcdsaP256Key::from_verifying_key(key.verifying_key());
        let me = self.me;
        let best = self
            .trust
            .about(&me, AttestationKind::PdfCertificate)
            .filter(|a| a.payload().issuer != me)
            .filter_map(|a| match &a.payload().claims {
                Claims::PdfCertificate(c)
                    if c.key.ecdsa_p256() == Some(&public)
                        && c.purpose() == KeyPurpose::Tsa
                        && self.trust.pdf_certificate_in_effect(a, now).is_ok() =>
                {
                    let anchor = self.policy.anchor(&a.payload().issuer).is_some();
                    Some(((anchor, a.payload().valid_until), c.certificate.clone()))
                }
                _ => None,
            })
            .max_by_key(|(rank, _)| *rank)?;
        Some((key, best.1))
    }

    /// Whether `certificate` (DER) certifies `key`, a `tsa` key of `witness` valid at `now`,
    /// in a PDF certificate attestation in effect at `now`.
    fn is_witness_tsa_certificate(
        &self,
        witness: &PartyId,
        key: &EcdsaP256Key,
        certificate: &[u8],
        now: signet_protocol::Timestamp,
    ) -> Result<(), WitnessTimeStampError> {
        let log = self
            .trust
            .key_log(witness)
            .ok_or(WitnessTimeStampError::NotFromWitness(
                "the witness's key log is not held",
            ))?;
        log.check_log_key(&LogKey::EcdsaP256(*key), KeyPurpose::Tsa, now)
            .map_err(|_| {
                WitnessTimeStampError::NotFromWitness(
                    "the certified key is not a tsa key of the witness",
                )
            })?;
        let certified = self
            .trust
            .about(witness, AttestationKind::PdfCertificate)
            .any(|a| {
                matches!(&a.payload().claims, Claims::PdfCertificate(c)
                    if c.key.ecdsa_p256() == Some(key) && c.certificate == certificate)
                    && self.trust.pdf_certificate_in_effect(a, now).is_ok()
            });
        if !certified {
            return Err(WitnessTimeStampError::NotFromWitness(
                "no TSA certificate attestation in effect carries the token's certificate",
            ));
        }
        Ok(())
    }
}

/// Declares the time-stamping key of a witness's party at start (see
/// [`Core::ensure_tsa_key`]); a failure is logged, and everything but time-stamping works.
pub(crate) fn declare_at_start(core: &mut Core, witness: bool, dir: &Path) {
    if !witness {
        return;
    }
    match core.ensure_tsa_key(&dir.join("keys"), now()) {
        Ok(true) => tracing::info!("declared a time-stamping key (ECDSA P-256) for the witness"),
        Ok(false) => {}
        Err(error) => tracing::warn!(%error, "no time-stamping key declared"),
    }
}

/// The answerer of `/signet/tsa/1` for `service`: it holds the service weakly, so the
/// network task does not keep a stopped service alive.
pub(crate) fn authority(service: &Arc<Service>) -> Arc<dyn TimeStampAuthority> {
    let service = Arc::downgrade(service);
    Arc::new(move |party: &PartyId, request: &[u8]| answer(&service, party, request))
}

/// The witness's answer to `request` from `party` (blocking: signs with the TSA key).
fn answer(service: &Weak<Service>, party: &PartyId, request: &[u8]) -> Vec<u8> {
    let refuse = |failure, reason: &str| rejection_response(failure, reason).unwrap_or_default();
    let Some(service) = service.upgrade() else {
        return refuse(Failure::SystemFailure, "the node is stopping");
    };
    if !service.config.witness {
        return refuse(
            Failure::UnacceptedPolicy,
            "this node is not a time-stamping witness",
        );
    }
    let held = match service.core() {
        Ok(core) => core.own_tsa_certificate(now()),
        Err(_) => None,
    };
    let Some((key, certificate)) = held else {
        return refuse(
            Failure::SystemFailure,
            "this witness holds no TSA certificate in effect yet",
        );
    };
    let serial = match super::random_bytes() {
        Ok(bytes) => {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(&bytes[..8]);
            // 63 random bits, never zero: positive and unique with overwhelming likelihood.
            (u64::from_be_bytes(eight) >> 1).max(1)
        }
        Err(_) => return refuse(Failure::SystemFailure, "no random source"),
    };
    let response = CertifiedKey::new(&key, &certificate)
        .map_err(crate::pdf::PdfError::from)
        .and_then(|signer| time_stamp_response(&signer, request, serial, SystemTime::now()));
    match response {
        Ok(response) => {
            tracing::debug!(%party, serial, "granted a time-stamp");
            response
        }
        Err(error) => {
            tracing::warn!(%party, %error, "time-stamping failed");
            refuse(Failure::SystemFailure, "time-stamping failed")
        }
    }
}

impl Service {
    /// Asks `witness`'s node for an RFC 3161 time-stamp token over `digest` (SHA-256) on
    /// `/signet/tsa/1`, with a random nonce and the TSA certificate requested; returns the
    /// `TimeStampToken` (DER) once it is checked: granted, over `digest`, echoing the nonce,
    /// timed within ten minutes of this node's clock, its signature verifying with the
    /// embedded certificate, and that certificate a TSA certificate in effect (spec §6.10)
    /// for a `tsa` key that `witness`'s key log declares.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Net`] when the witness cannot be reached;
    /// [`ServiceError::TimeStamp`] when it refuses or its token fails a check.
    pub async fn witness_time_stamp(
        &self,
        witness: PartyId,
        digest: [u8; 32],
    ) -> Result<Vec<u8>, ServiceError> {
        let nonce = super::random_bytes()?;
        let request = TimeStampRequest::for_digest(digest).with_nonce(&nonce[..16])?;
        let response = self
            .client()?
            .time_stamp(witness, request.encode()?)
            .await?;
        let token = match read_response(&response)
            .map_err(|_| WitnessTimeStampError::InvalidToken("not a TimeStampResp"))?
        {
            ResponseOutcome::Granted(token) => token,
            ResponseOutcome::Refused {
                status,
                failures,
                reason,
            } => {
                return Err(WitnessTimeStampError::Refused {
                    status,
                    failures,
                    reason,
                }
                .into());
            }
        };
        let checked = self.check_witness_token(witness, &request, &token)?;
        Ok(checked)
    }

    /// The checks of [`Service::witness_time_stamp`] on `token`, received from `witness`
    /// for `request`; returns the token when they pass.
    ///
    /// # Errors
    ///
    /// [`WitnessTimeStampError::InvalidToken`] for a token that is not for `request` (another
    /// digest or nonce, a bad signature, a time far from this node's clock);
    /// [`WitnessTimeStampError::NotFromWitness`] for one not under a TSA certificate in effect
    /// for a `tsa` key of `witness`.
    pub fn check_witness_token(
        &self,
        witness: PartyId,
        request: &TimeStampRequest,
        token: &[u8],
    ) -> Result<Vec<u8>, WitnessTimeStampError> {
        use WitnessTimeStampError::{InvalidToken, NotFromWitness};
        let facts = read_token(token).map_err(|_| InvalidToken("not a time-stamp token"))?;
        if facts.imprint.as_ref() != Some(request.imprint()) {
            return Err(InvalidToken("the token is over another digest"));
        }
        if facts.nonce.as_deref() != request.nonce() {
            return Err(InvalidToken("the token does not echo the request's nonce"));
        }
        if !facts.signature_valid {
            return Err(InvalidToken(
                "the token's signature does not verify with its certificate",
            ));
        }
        let skew = match facts.gen_time.duration_since(SystemTime::now()) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        };
        if skew > MAX_CLOCK_SKEW {
            return Err(InvalidToken(
                "the token's time is more than ten minutes from this node's clock",
            ));
        }
        let certificate = tsa::token_certificate(token)
            .ok_or(NotFromWitness("the token carries no certificate"))?;
        let key = p256_key_of(certificate.tbs_certificate().subject_public_key_info())
            .map(|k| EcdsaP256Key::from_verifying_key(&k))
            .ok_or(NotFromWitness(
                "the token's certificate is not for a P-256 key",
            ))?;
        let der = der::Encode::to_der(&certificate)
            .map_err(|_| NotFromWitness("the token's certificate does not encode"))?;
        self.core()
            .map_err(|_| NotFromWitness("the node's state is unavailable"))?
            .is_witness_tsa_certificate(&witness, &key, &der, now())?;
        Ok(token.to_vec())
    }

    /// [`Service::witness_time_stamp`] as a [`sign::TimeStamper`] for sync code (PAdES B-T
    /// seals): each call blocks on `handle` until the witness answers.
    ///
    /// It must be used off the async runtime (inside `tokio::task::spawn_blocking`, or a
    /// thread of its own): blocking a runtime worker on `handle` panics or deadlocks.
    pub fn witness_time_stamper(
        self: &Arc<Self>,
        witness: PartyId,
        handle: tokio::runtime::Handle,
    ) -> WitnessTimeStamper {
        WitnessTimeStamper {
            service: self.clone(),
            witness,
            handle,
        }
    }
}

/// A witness's TSA reached over the network, as a [`sign::TimeStamper`]; see
/// [`Service::witness_time_stamper`].
#[derive(Debug, Clone)]
pub struct WitnessTimeStamper {
    service: Arc<Service>,
    witness: PartyId,
    handle: tokio::runtime::Handle,
}

impl sign::TimeStamper for WitnessTimeStamper {
    fn time_stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, sign::TimeStampError> {
        self.handle
            .block_on(self.service.witness_time_stamp(self.witness, *digest))
            .map_err(|e| Box::new(e) as sign::TimeStampError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_back_as_refused() {
        let response = rejection_response(Failure::UnacceptedPolicy, "not a witness").unwrap();
        match read_response(&response).unwrap() {
            ResponseOutcome::Refused {
                status, failures, ..
            } => {
                assert_eq!(status, 2);
                assert_eq!(failures, vec![15]);
            }
            other => panic!("{other:?}"),
        }
    }
}
