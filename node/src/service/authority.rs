//! The party's own authority: its seals (from its key event log), the seal mandates it gave
//! its delegates, and the attestations it issues about others besides identity
//! (endorsements and accreditations).

use signet_protocol::attestation::SignedAttestation;
use signet_protocol::attestation::{
    Accreditation, Amount, AttestationKind, Claims, Delegate, Delegation, Endorsement,
};
use signet_protocol::keylog::{KeyPurpose, LogKey};
use signet_protocol::party::PartyId;
use signet_protocol::person::PersonKey;
use signet_protocol::registration::Registration;

use super::{Service, ServiceError, now};

/// One of the party's seals, as declared in its key event log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SealView {
    /// The seal key (hex): mandates name seals by key.
    pub key: String,
    /// The seal kind (`company`, `contract`, …).
    pub kind: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the seal image, if published (hex).
    pub image: Option<String>,
    /// When it was declared.
    pub valid_from: String,
    /// When it was retired, if it was.
    pub retired_at: Option<String>,
    /// Whether it may be applied now.
    pub valid: bool,
}

/// A seal mandate this party gave, with its state now.
#[derive(Debug, Clone)]
pub struct MandateView {
    /// The signed delegation attestation.
    pub attestation: SignedAttestation,
    /// `active`, `not-yet-valid`, `expired` or `revoked`.
    pub state: &'static str,
}

/// A new seal mandate.
#[derive(Debug, Clone)]
pub struct NewMandate {
    /// The delegate's name.
    pub name: String,
    /// The delegate's key: a software key's public half, or a passkey's credential (the
    /// person keeps the secret).
    pub person: PersonKey,
    /// The seal keys they may apply; empty means every seal of the party valid now.
    pub seals: Vec<LogKey>,
    /// Contract purposes covered (at least one).
    pub purposes: Vec<String>,
    /// Largest contract value covered.
    pub value_cap: Option<Amount>,
    /// Counterparties covered; `None` means any.
    pub counterparties: Option<Vec<PartyId>>,
    /// Validity in days.
    pub days: u64,
}

impl Service {
    /// The party's seals: every seal key its key event log ever declared.
    pub fn seals(&self) -> Result<Vec<SealView>, ServiceError> {
        let core = self.core()?;
        let log = core
            .trust
            .key_log(&self.me)
            .ok_or(ServiceError::Corrupt("own key log"))?;
        let t = now();
        let alive = log.retired_at().is_none_or(|r| t < r);
        Ok(log
            .records()
            .iter()
            .filter(|r| r.purpose == KeyPurpose::Seal)
            .filter_map(|r| {
                let info = r.seal.as_ref()?;
                Some(SealView {
                    key: r.key.to_string(),
                    kind: info.kind.name().to_string(),
                    name: info.name.clone(),
                    image: info.image.map(|d| d.to_string()),
                    valid_from: r.valid_from.to_string(),
                    retired_at: r.retired_at.map(|x| x.to_string()),
                    valid: alive && t >= r.valid_from && r.retired_at.is_none_or(|x| t < x),
                })
            })
            .collect())
    }

    /// The seal mandates this party issued, oldest first, with their state now.
    pub fn mandates(&self) -> Result<Vec<MandateView>, ServiceError> {
        let core = self.core()?;
        let t = now();
        let mut out: Vec<MandateView> = core
            .trust
            .about(&self.me, AttestationKind::Delegation)
            .filter(|a| a.payload().issuer == self.me)
            .map(|a| {
                let p = a.payload();
                let state = if core
                    .trust
                    .attestation_revoked(&p.issuer, &p.id, t)
                    .is_some()
                {
                    "revoked"
                } else if t < p.valid_from {
                    "not-yet-valid"
                } else if t >= p.valid_until {
                    "expired"
                } else {
                    "active"
                };
                MandateView {
                    attestation: a.clone(),
                    state,
                }
            })
            .collect();
        out.sort_by_key(|m| m.attestation.payload().issued_at);
        Ok(out)
    }

    /// Gives a delegate a seal mandate (a delegation attestation about this party, signed
    /// with its attest key). Seals named must be this party's seals valid now.
    pub fn delegate(&self, new: NewMandate) -> Result<SignedAttestation, ServiceError> {
        let t = now();
        let mut core = self.core()?;
        let current: Vec<LogKey> = core
            .trust
            .key_log(&self.me)
            .ok_or(ServiceError::Corrupt("own key log"))?
            .seals_at(t)
            .into_iter()
            .map(|s| s.key)
            .collect();
        let seals = if new.seals.is_empty() {
            current
        } else {
            if let Some(unknown) = new.seals.iter().find(|s| !current.contains(s)) {
                return Err(ServiceError::Usage(format!(
                    "{unknown} is not a seal of this party valid now (see GET /v1/seals)"
                )));
            }
            new.seals
        };
        if seals.is_empty() {
            return Err(ServiceError::Usage("this party has no valid seal".into()));
        }
        if new.purposes.is_empty() {
            return Err(ServiceError::Usage(
                "a mandate needs at least one purpose".into(),
            ));
        }
        let claims = Claims::Delegation(Delegation {
            delegate: match new.person {
                PersonKey::Ed25519(key) => Delegate::with_key(new.name, key),
                PersonKey::Sm2(key) => Delegate::with_key(new.name, key),
                PersonKey::WebAuthn(credential) => {
                    credential
                        .check()
                        .map_err(|e| ServiceError::Usage(format!("credential: {e}")))?;
                    Delegate::with_credential(new.name, credential)
                }
            },
            seals,
            purposes: new.purposes,
            value_cap: new.value_cap,
            counterparties: new.counterparties,
        });
        let me = self.me;
        core.issue(me, claims, new.days, t)
    }

    /// Endorses `subject`: this party vouches for its identity after its own checks, valid
    /// for `days`. An endorsement counts toward policies that accept k-of-n endorsements.
    pub fn endorse(
        &self,
        subject: PartyId,
        legal_name: &str,
        registration: &str,
        relationship: &str,
        days: u64,
    ) -> Result<SignedAttestation, ServiceError> {
        if subject == self.me {
            return Err(ServiceError::Usage("a party cannot endorse itself".into()));
        }
        let registration = Registration::uscc(registration)
            .map_err(|e| ServiceError::Usage(format!("registration number: {e}")))?;
        let claims = Claims::Endorsement(Endorsement {
            legal_name: legal_name.to_string(),
            registration,
            relationship: relationship.to_string(),
        });
        self.core()?.issue(subject, claims, days, now())
    }

    /// Accredits `subject` as a verifier (it may attest identities; with `may_accredit`, it
    /// may accredit further verifiers), valid for `days`.
    pub fn accredit(
        &self,
        subject: PartyId,
        may_accredit: bool,
        days: u64,
    ) -> Result<SignedAttestation, ServiceError> {
        if subject == self.me {
            return Err(ServiceError::Usage("a party cannot accredit itself".into()));
        }
        let claims = Claims::Accreditation(Accreditation { may_accredit });
        self.core()?.issue(subject, claims, days, now())
    }
}
