//! Whether a seal mandate covers a particular use (spec §5.3).

use super::{Amount, Attestation, Claims, Delegation, RevocationReason};
use crate::Timestamp;
use crate::keylog::{KeyUseError, LogKey};
use crate::party::PartyId;
use crate::person::PersonKey;

/// One use of a seal by a delegate: what a mandate must cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateUse<'a> {
    /// The party whose seal is applied.
    pub party: PartyId,
    /// The person applying it (their key signed the intent proof).
    pub delegate: PersonKey,
    /// The seal applied.
    pub seal: LogKey,
    /// The contract's purpose or type.
    pub purpose: &'a str,
    /// The contract's value, if stated.
    pub value: Option<&'a Amount>,
    /// Every other party to the contract (none when the party signs alone): the mandate's
    /// counterparty clause must cover each of them.
    pub counterparties: &'a [PartyId],
    /// When the seal is applied.
    pub time: Timestamp,
}

/// Why a mandate does not cover a use. The fault of whoever relied on the mandate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MandateError {
    /// The attestation is not a delegation.
    #[error("not a delegation attestation")]
    NotADelegation,
    /// The delegation is another party's.
    #[error("the delegation is issued by {found}, not by {expected}")]
    WrongParty {
        /// The party whose seal is used.
        expected: PartyId,
        /// The delegation's issuer.
        found: PartyId,
    },
    /// The delegation names another person (another key or passkey).
    #[error("the delegation names another delegate key")]
    DelegateMismatch,
    /// The seal is not among those delegated.
    #[error("seal {0} is not covered by the delegation")]
    SealNotCovered(LogKey),
    /// The purpose is not among those delegated.
    #[error("purpose {0:?} is not covered by the delegation")]
    PurposeNotCovered(String),
    /// The delegation caps the value but the contract states none.
    #[error("the delegation caps contract value but the contract states none")]
    ValueUnstated,
    /// The contract's currency differs from the cap's.
    #[error("contract in {value}, delegation capped in {cap}")]
    CurrencyMismatch {
        /// The cap's currency.
        cap: String,
        /// The contract's currency.
        value: String,
    },
    /// The contract's value exceeds the cap.
    #[error("contract value {value} exceeds the delegation's cap {cap} (minor units)")]
    ValueExceedsCap {
        /// The cap.
        cap: u64,
        /// The contract's value.
        value: u64,
    },
    /// The counterparty is not among those allowed.
    #[error("counterparty {0} is not covered by the delegation")]
    CounterpartyNotAllowed(PartyId),
    /// The use is before the delegation's validity.
    #[error("the delegation is valid only from {0}")]
    NotYetValid(Timestamp),
    /// The use is at or after the delegation's end.
    #[error("the delegation expired at {0}")]
    Expired(Timestamp),
    /// The delegation's window is longer than allowed.
    #[error("the delegation's validity of {seconds} s exceeds the maximum of {max} s")]
    WindowTooLong {
        /// The window's length.
        seconds: u64,
        /// The maximum.
        max: u64,
    },
    /// The delegation was not signed by an attest key of the party at its issue time.
    #[error("delegation signer: {0}")]
    IssuerKey(KeyUseError),
    /// The seal key was not a valid seal of the party at the time of use.
    #[error("seal key: {0}")]
    SealKey(KeyUseError),
    /// The delegation was revoked before the use.
    #[error("the delegation was revoked at {at} ({reason})")]
    Revoked {
        /// Effective time of the revocation.
        at: Timestamp,
        /// Its reason.
        reason: RevocationReason,
    },
    /// The party's key event log is not known.
    #[error("the key event log of {0} is not known")]
    UnknownParty(PartyId),
}

impl Attestation {
    /// Checks that this delegation covers `use_` by its own terms: party, delegate, seal,
    /// purpose, value, counterparty and window (at most `max_validity` seconds long).
    ///
    /// Authority and revocation need the key log and revocations:
    /// [`crate::trust::TrustStore::check_mandate`] checks everything.
    pub fn check_mandate_terms(
        &self,
        use_: &MandateUse<'_>,
        max_validity: u64,
    ) -> Result<&Delegation, MandateError> {
        let Claims::Delegation(delegation) = &self.claims else {
            return Err(MandateError::NotADelegation);
        };
        if self.issuer != use_.party {
            return Err(MandateError::WrongParty {
                expected: use_.party,
                found: self.issuer,
            });
        }
        let seconds = self.valid_until.seconds_since(self.valid_from);
        if seconds > max_validity {
            return Err(MandateError::WindowTooLong {
                seconds,
                max: max_validity,
            });
        }
        if use_.time < self.valid_from {
            return Err(MandateError::NotYetValid(self.valid_from));
        }
        if use_.time >= self.valid_until {
            return Err(MandateError::Expired(self.valid_until));
        }
        if delegation.delegate.person_key().as_ref() != Some(&use_.delegate) {
            return Err(MandateError::DelegateMismatch);
        }
        if !delegation.seals.contains(&use_.seal) {
            return Err(MandateError::SealNotCovered(use_.seal.clone()));
        }
        if !delegation.purposes.iter().any(|p| p == use_.purpose) {
            return Err(MandateError::PurposeNotCovered(use_.purpose.to_string()));
        }
        if let Some(cap) = &delegation.value_cap {
            let value = use_.value.ok_or(MandateError::ValueUnstated)?;
            if value.currency != cap.currency {
                return Err(MandateError::CurrencyMismatch {
                    cap: cap.currency.clone(),
                    value: value.currency.clone(),
                });
            }
            if value.minor_units > cap.minor_units {
                return Err(MandateError::ValueExceedsCap {
                    cap: cap.minor_units,
                    value: value.minor_units,
                });
            }
        }
        if let Some(allowed) = &delegation.counterparties
            && let Some(other) = use_.counterparties.iter().find(|p| !allowed.contains(p))
        {
            return Err(MandateError::CounterpartyNotAllowed(*other));
        }
        Ok(delegation)
    }
}
