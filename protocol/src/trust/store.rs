//! What a node knows: key event logs and signed attestations, indexed for evaluation.

use std::collections::BTreeMap;

use crate::attestation::{
    Attestation, AttestationKind, Claims, MandateError, MandateUse, RevocationReason,
    RevocationTarget,
};
use crate::cose::Signed;
use crate::keylog::{KeyLog, KeyPurpose};
use crate::party::{AttestationId, PartyId};
use crate::{PublicKey, Timestamp};

/// Key event logs and attestations known to an evaluator. Pure data: the node fills it
/// from storage; the simulator and tests fill it in memory.
///
/// Attestations are kept with their signatures checked (they are [`Signed`]) but their
/// authority unchecked: whether the signing key was the issuer's attest key at the time is
/// decided at evaluation, when the issuer's key log may have arrived.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    logs: BTreeMap<PartyId, KeyLog>,
    attestations: Vec<Signed<Attestation>>,
    by_subject: BTreeMap<(PartyId, u64), Vec<usize>>,
    by_id: BTreeMap<AttestationId, Vec<usize>>,
    revocations: BTreeMap<PartyId, Vec<usize>>,
}

/// What adding a key log did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogUpdate {
    /// The party was new.
    Added,
    /// The log extends the one held, which it replaced.
    Extended,
    /// The log is the one held, or a prefix of it.
    Unchanged,
    /// The log and the one held differ at this position: a fork. The held log was kept.
    Conflict {
        /// The first position where they differ.
        seq: u64,
    },
}

/// A revocation that applies, with its authority checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationSeen {
    /// Effective time.
    pub effective: Timestamp,
    /// Reason.
    pub reason: RevocationReason,
    /// The revocation attestation (or revocation list) that says so.
    pub by: AttestationId,
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a party's key log, or extends the one held. A log that is not an extension of
    /// the one held (a fork) is not taken: the held log stays, and the conflict is reported.
    pub fn add_key_log(&mut self, log: KeyLog) -> LogUpdate {
        let Some(held) = self.logs.get(&log.party()) else {
            self.logs.insert(log.party(), log);
            return LogUpdate::Added;
        };
        let diverges = held
            .event_bytes()
            .zip(log.event_bytes())
            .position(|(a, b)| a != b);
        if let Some(seq) = diverges {
            return LogUpdate::Conflict { seq: seq as u64 };
        }
        if log.len() > held.len() {
            self.logs.insert(log.party(), log);
            LogUpdate::Extended
        } else {
            LogUpdate::Unchanged
        }
    }

    /// Adds a signed attestation; an exact duplicate is ignored.
    pub fn add_attestation(&mut self, signed: Signed<Attestation>) {
        let a = signed.payload();
        let duplicate = self.by_id.get(&a.id).is_some_and(|held| {
            held.iter()
                .any(|&i| self.attestations[i].bytes() == signed.bytes())
        });
        if duplicate {
            return;
        }
        let index = self.attestations.len();
        self.by_subject
            .entry((a.subject, a.claims.kind().code()))
            .or_default()
            .push(index);
        self.by_id.entry(a.id).or_default().push(index);
        if matches!(a.claims, Claims::Revocation(_) | Claims::RevocationList(_)) {
            self.revocations.entry(a.issuer).or_default().push(index);
        }
        self.attestations.push(signed);
    }

    /// The key log of `party`, if known.
    pub fn key_log(&self, party: &PartyId) -> Option<&KeyLog> {
        self.logs.get(party)
    }

    /// Every key log held.
    pub fn key_logs(&self) -> impl Iterator<Item = &KeyLog> {
        self.logs.values()
    }

    /// Every attestation held, in insertion order.
    pub fn attestations(&self) -> &[Signed<Attestation>] {
        &self.attestations
    }

    /// Attestations of `kind` about `subject`, in insertion order.
    pub fn about(
        &self,
        subject: &PartyId,
        kind: AttestationKind,
    ) -> impl Iterator<Item = &Signed<Attestation>> {
        self.by_subject
            .get(&(*subject, kind.code()))
            .into_iter()
            .flatten()
            .map(|&i| &self.attestations[i])
    }

    /// Attestations with this id (normally one; several only if an issuer reused an id).
    pub fn by_id(&self, id: &AttestationId) -> impl Iterator<Item = &Signed<Attestation>> {
        self.by_id
            .get(id)
            .into_iter()
            .flatten()
            .map(|&i| &self.attestations[i])
    }

    /// Revocations and revocation lists issued by `issuer`, in insertion order.
    pub fn revocations_by(&self, issuer: &PartyId) -> impl Iterator<Item = &Signed<Attestation>> {
        self.revocations
            .get(issuer)
            .into_iter()
            .flatten()
            .map(|&i| &self.attestations[i])
    }

    /// Whether a signed attestation's key had the issuer's authority when it was issued,
    /// and was not revoked by then.
    pub fn has_authority(&self, signed: &Signed<Attestation>) -> bool {
        let a = signed.payload();
        self.key_log(&a.issuer).is_some_and(|log| {
            a.check_issuer_key(signed.signer(), log).is_ok()
                && self
                    .key_revoked(&a.issuer, signed.signer(), a.issued_at)
                    .is_none()
        })
    }

    /// The earliest revocation of `key` (one of `party`'s keys) effective at or before
    /// `time`, issued with authority.
    pub fn key_revoked(
        &self,
        party: &PartyId,
        key: &PublicKey,
        time: Timestamp,
    ) -> Option<RevocationSeen> {
        let log = self.key_log(party)?;
        self.revocations
            .get(party)
            .into_iter()
            .flatten()
            .map(|&i| &self.attestations[i])
            .filter_map(|signed| {
                let a = signed.payload();
                let Claims::Revocation(r) = &a.claims else {
                    return None;
                };
                let RevocationTarget::Key(target) = &r.target else {
                    return None;
                };
                // Any attest key of the party at the revocation's issue time may revoke any
                // of its keys: the party must be able to cut off a compromised key quickly.
                let authorised = a.check_issuer_key(signed.signer(), log).is_ok();
                (target == key && r.effective <= time && authorised).then_some(RevocationSeen {
                    effective: r.effective,
                    reason: r.reason,
                    by: a.id,
                })
            })
            .min_by_key(|r| r.effective)
    }

    /// The earliest revocation of attestation `id` issued by `issuer`, effective at or
    /// before `time`, from a revocation or revocation list issued with authority.
    pub fn attestation_revoked(
        &self,
        issuer: &PartyId,
        id: &AttestationId,
        time: Timestamp,
    ) -> Option<RevocationSeen> {
        let mut seen: Vec<RevocationSeen> = Vec::new();
        for &i in self.revocations.get(issuer).into_iter().flatten() {
            let signed = &self.attestations[i];
            if !self.has_authority(signed) {
                continue;
            }
            let a = signed.payload();
            match &a.claims {
                Claims::Revocation(r)
                    if r.target == RevocationTarget::Attestation(*id) && r.effective <= time =>
                {
                    seen.push(RevocationSeen {
                        effective: r.effective,
                        reason: r.reason,
                        by: a.id,
                    });
                }
                Claims::RevocationList(list) => {
                    for entry in &list.entries {
                        if entry.id == *id && entry.effective <= time {
                            seen.push(RevocationSeen {
                                effective: entry.effective,
                                reason: entry.reason,
                                by: a.id,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        seen.into_iter().min_by_key(|r| r.effective)
    }

    /// Issue time of the newest revocation list by `issuer` issued at or before `time`
    /// with authority.
    pub fn newest_revocation_list(&self, issuer: &PartyId, time: Timestamp) -> Option<Timestamp> {
        self.revocations
            .get(issuer)
            .into_iter()
            .flatten()
            .map(|&i| &self.attestations[i])
            .filter(|s| {
                matches!(s.payload().claims, Claims::RevocationList(_))
                    && s.payload().issued_at <= time
                    && self.has_authority(s)
            })
            .map(|s| s.payload().issued_at)
            .max()
    }

    /// Checks a seal mandate completely: its terms (see
    /// [`Attestation::check_mandate_terms`]), its signer's authority, the seal key's validity
    /// for the party at the time of use, and revocation of the mandate and of the seal.
    pub fn check_mandate<'a>(
        &self,
        delegation: &'a Signed<Attestation>,
        use_: &MandateUse<'_>,
        max_validity: u64,
    ) -> Result<&'a crate::attestation::Delegation, MandateError> {
        let a = delegation.payload();
        let terms = a.check_mandate_terms(use_, max_validity)?;
        let log = self
            .key_log(&use_.party)
            .ok_or(MandateError::UnknownParty(use_.party))?;
        a.check_issuer_key(delegation.signer(), log)
            .map_err(MandateError::IssuerKey)?;
        log.check_key(&use_.seal, KeyPurpose::Seal, use_.time)
            .map_err(MandateError::SealKey)?;
        let revoked = self
            .attestation_revoked(&a.issuer, &a.id, use_.time)
            .or_else(|| self.key_revoked(&a.issuer, delegation.signer(), a.issued_at))
            .or_else(|| self.key_revoked(&use_.party, &use_.seal, use_.time));
        if let Some(r) = revoked {
            return Err(MandateError::Revoked {
                at: r.effective,
                reason: r.reason,
            });
        }
        Ok(terms)
    }
}
