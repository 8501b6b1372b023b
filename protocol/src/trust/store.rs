//! What a node knows: key event logs and signed attestations, indexed for evaluation.
//!
//! Every index is keyed by what an issuer cannot make collide with another issuer's objects
//! (the issuer's party id beside the id it chose, or the digest of the signed bytes), so that
//! looking something up never scans everything held: a trust evaluation costs a few map
//! look-ups per attestation on its paths, whatever else the store holds.

use std::collections::{BTreeMap, BTreeSet};

use crate::attestation::SignedAttestation;
use crate::attestation::{
    Attestation, AttestationKind, Claims, MandateError, MandateUse, RevocationReason,
    RevocationTarget,
};
use crate::keylog::{KeyLog, KeyPurpose, KeyUseError, LogKey};
use crate::party::{AttestationId, PartyId};
use crate::{Digest, Timestamp};

/// Key event logs and attestations known to an evaluator. Pure data: the node fills it
/// from storage; the simulator and tests fill it in memory.
///
/// An attestation is taken only once its issuer's key log is held and shows the signing key
/// as one of the issuer's attest keys at the attestation's issue time: nobody can place an
/// object under another issuer's name, not even one that is never believed. (Whether that
/// key was revoked by then is asked again at each evaluation, since a revocation may arrive
/// later.)
///
/// An attestation is known by its issuer and id: a second, different attestation with the
/// same issuer and id is refused ([`AttestationUpdate::Conflict`]), never allowed to
/// replace the first. Of each issuer's revocation lists only the newest is kept: a list is
/// the issuer's complete revocation status as of its issue time, so a newer one says
/// everything an older one did.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    logs: BTreeMap<PartyId, KeyLog>,
    /// Every attestation held, by the digest of its signed bytes.
    attestations: BTreeMap<Digest, SignedAttestation>,
    /// (issuer, id) → digest: one attestation per issuer and id.
    by_issuer_id: BTreeMap<(PartyId, AttestationId), Digest>,
    /// (subject, kind) → digests.
    by_subject: BTreeMap<(PartyId, u64), BTreeSet<Digest>>,
    /// (issuer, revoked attestation id) → revocations naming it.
    revoking: BTreeMap<(PartyId, AttestationId), BTreeSet<Digest>>,
    /// (issuer, revoked key) → revocations naming it.
    revoking_key: BTreeMap<(PartyId, LogKey), BTreeSet<Digest>>,
    /// Each issuer's newest revocation list.
    lists: BTreeMap<PartyId, Digest>,
    /// Every party whose held key log declares each key.
    key_owners: BTreeMap<LogKey, BTreeSet<PartyId>>,
    /// X.509 CRLs (spec §6.11.3), by the DER of their issuer's name, then their digest.
    crls: BTreeMap<Vec<u8>, BTreeMap<Digest, Vec<u8>>>,
}

/// The most CRLs a store holds from one CA (a newer one pushes the oldest out).
pub const MAX_CRLS_PER_ISSUER: usize = 8;
/// The largest CRL a store takes, in bytes.
pub const MAX_CRL_LEN: usize = 4 * 1024 * 1024;

/// Why a CRL is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlRefused {
    /// Not a DER X.509 CRL.
    #[error("not a der x.509 crl")]
    Malformed,
    /// Larger than [`MAX_CRL_LEN`].
    #[error("a crl of {0} bytes is larger than the most a store takes")]
    TooLarge(usize),
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

/// What adding an attestation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestationUpdate {
    /// It is held now. A revocation list replaces its issuer's older lists, whose digests
    /// are given (for the caller to forget them too).
    Added {
        /// Digests of the revocation lists it superseded.
        superseded: Vec<Digest>,
    },
    /// Exactly these bytes were held already.
    Duplicate,
    /// Its issuer already issued another attestation with this id: refused. An issuer that
    /// reuses an id has made two statements that a revocation could not tell apart.
    Conflict {
        /// Digest of the attestation held under that issuer and id.
        held: Digest,
    },
    /// A revocation list not newer than the one held from its issuer: not kept.
    Stale {
        /// Issue time of the list held.
        newest: Timestamp,
    },
    /// The issuer's key log is not held, so the signer's authority cannot be checked: not
    /// kept (offer it again once the key log is here).
    UnknownIssuer(PartyId),
    /// Not signed by an attest key of its issuer at its issue time: not kept.
    Unauthorised(Box<KeyUseError>),
}

impl AttestationUpdate {
    /// Whether the attestation is held now (added, or held already).
    pub fn is_held(&self) -> bool {
        matches!(self, Self::Added { .. } | Self::Duplicate)
    }
}

/// Why a PDF certificate attestation is not in effect (spec §6.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PdfCertificateError {
    /// The attestation is of another kind.
    #[error("not a pdf-certificate attestation")]
    NotACertificate,
    /// Its issuer's key was not an attest key of the issuer when it was issued.
    #[error("issued without authority")]
    NoAuthority,
    /// The time is outside its validity window.
    #[error("outside its validity window")]
    OutsideWindow,
    /// A revocation of it is in effect.
    #[error("revoked by {0}")]
    Revoked(AttestationId),
    /// The identity attestation it rests on is not held (or is not an identity attestation
    /// by the same issuer about the same subject).
    #[error("the identity attestation {0} it rests on is not held")]
    IdentityMissing(AttestationId),
    /// The identity attestation it rests on is outside its window, revoked or without
    /// authority.
    #[error("the identity attestation {0} it rests on is not in effect")]
    IdentityNotInEffect(AttestationId),
    /// The subject's key log does not declare the key as a key of the certificate's
    /// purpose valid then (or another party's log declares it too).
    #[error("the certified key is not the subject's key of that purpose at that time")]
    KeyNotDeclared,
    /// The subject's key log declares the key under another purpose than the one the
    /// certificate's profile certifies: a TSA certificate for a `pdf` key, or a seal or CA
    /// certificate for a `tsa` key.
    #[error("a certificate of the {profile} profile for a key declared as {declared}")]
    WrongProfile {
        /// The purpose the key is declared under.
        declared: KeyPurpose,
        /// The purpose the certificate's profile certifies ([`PdfCertificate::purpose`]).
        ///
        /// [`PdfCertificate::purpose`]: crate::attestation::PdfCertificate::purpose
        profile: KeyPurpose,
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

    /// Adds an X.509 CRL (DER). Its signature is checked at each evaluation, against the
    /// certificate path it is used for; here only its shape. Of one issuer's CRLs the
    /// [`MAX_CRLS_PER_ISSUER`] with the latest thisUpdate are kept. Returns whether it was
    /// new.
    ///
    /// # Errors
    ///
    /// [`CrlRefused`]; nothing is stored then.
    pub fn add_crl(&mut self, der: &[u8]) -> Result<bool, CrlRefused> {
        use der::{Decode, Encode};
        if der.len() > MAX_CRL_LEN {
            return Err(CrlRefused::TooLarge(der.len()));
        }
        let list =
            <x509_cert::crl::CertificateList>::from_der(der).map_err(|_| CrlRefused::Malformed)?;
        let issuer = list
            .tbs_cert_list
            .issuer
            .to_der()
            .map_err(|_| CrlRefused::Malformed)?;
        let held = self.crls.entry(issuer).or_default();
        let digest = Digest::of(der);
        if held.insert(digest, der.to_vec()).is_some() {
            return Ok(false);
        }
        while held.len() > MAX_CRLS_PER_ISSUER {
            // The held CRLs parsed when they were added.
            let oldest = held
                .iter()
                .min_by_key(|(digest, der)| (crl_this_update(der), **digest))
                .map(|(digest, _)| *digest);
            if let Some(oldest) = oldest {
                held.remove(&oldest);
            }
        }
        Ok(held.contains_key(&digest))
    }

    /// The CRLs held whose issuer's name is `issuer` (DER).
    pub fn crls_of(&self, issuer: &[u8]) -> Vec<&[u8]> {
        self.crls
            .get(issuer)
            .map(|held| held.values().map(Vec::as_slice).collect())
            .unwrap_or_default()
    }

    /// Adds a party's key log, or extends the one held. A log that is not an extension of
    /// the one held (a fork) is not taken: the held log stays, and the conflict is reported.
    pub fn add_key_log(&mut self, log: KeyLog) -> LogUpdate {
        let update = match self.logs.get(&log.party()) {
            None => LogUpdate::Added,
            Some(held) => {
                let diverges = held
                    .event_bytes()
                    .zip(log.event_bytes())
                    .position(|(a, b)| a != b);
                match diverges {
                    Some(seq) => return LogUpdate::Conflict { seq: seq as u64 },
                    None if log.len() > held.len() => LogUpdate::Extended,
                    None => return LogUpdate::Unchanged,
                }
            }
        };
        for record in log.records() {
            self.key_owners
                .entry(record.key.clone())
                .or_default()
                .insert(log.party());
        }
        self.logs.insert(log.party(), log);
        update
    }

    /// Adds a signed attestation (see [`AttestationUpdate`] for what is refused).
    pub fn add_attestation(&mut self, signed: SignedAttestation) -> AttestationUpdate {
        let update = self.check_attestation(&signed);
        if let AttestationUpdate::Added { superseded } = &update {
            for old in superseded {
                self.forget(old);
            }
            self.insert(signed);
        }
        update
    }

    /// What [`TrustStore::add_attestation`] would do with `signed`, changing nothing: a
    /// caller that persists what it holds checks first, stores, then adds.
    pub fn check_attestation(&self, signed: &SignedAttestation) -> AttestationUpdate {
        let digest = signed.digest();
        let a = signed.payload();
        let Some(log) = self.logs.get(&a.issuer) else {
            return AttestationUpdate::UnknownIssuer(a.issuer);
        };
        if let Err(e) = a.check_issuer_key(signed.signer(), log) {
            return AttestationUpdate::Unauthorised(Box::new(e));
        }
        if let Some(held) = self.by_issuer_id.get(&(a.issuer, a.id)) {
            return if *held == digest {
                AttestationUpdate::Duplicate
            } else {
                AttestationUpdate::Conflict { held: *held }
            };
        }
        let mut superseded = Vec::new();
        if matches!(a.claims, Claims::RevocationList(_))
            && let Some(held) = self.revocation_list(&a.issuer)
        {
            let newest = held.payload().issued_at;
            // Equal times: the larger digest wins, so every store keeps the same list.
            if (newest, held.digest()) >= (a.issued_at, digest) {
                return AttestationUpdate::Stale { newest };
            }
            superseded.push(held.digest());
        }
        AttestationUpdate::Added { superseded }
    }

    fn insert(&mut self, signed: SignedAttestation) {
        let digest = signed.digest();
        let a = signed.payload();
        if matches!(a.claims, Claims::RevocationList(_)) {
            self.lists.insert(a.issuer, digest);
        }
        self.by_issuer_id.insert((a.issuer, a.id), digest);
        self.by_subject
            .entry((a.subject, a.claims.kind().code()))
            .or_default()
            .insert(digest);
        if let Claims::Revocation(r) = &a.claims {
            match &r.target {
                RevocationTarget::Attestation(id) => {
                    self.revoking
                        .entry((a.issuer, *id))
                        .or_default()
                        .insert(digest);
                }
                RevocationTarget::Key(key) => {
                    self.revoking_key
                        .entry((a.issuer, key.clone()))
                        .or_default()
                        .insert(digest);
                }
            }
        }
        self.attestations.insert(digest, signed);
    }

    /// Removes an attestation and its index entries.
    fn forget(&mut self, digest: &Digest) {
        let Some(signed) = self.attestations.remove(digest) else {
            return;
        };
        let a = signed.payload();
        self.by_issuer_id.remove(&(a.issuer, a.id));
        if let Some(set) = self
            .by_subject
            .get_mut(&(a.subject, a.claims.kind().code()))
        {
            set.remove(digest);
        }
    }

    /// The key log of `party`, if known.
    pub fn key_log(&self, party: &PartyId) -> Option<&KeyLog> {
        self.logs.get(party)
    }

    /// How many parties' key logs are held.
    pub fn key_log_count(&self) -> usize {
        self.logs.len()
    }

    /// Every key log held.
    pub fn key_logs(&self) -> impl Iterator<Item = &KeyLog> {
        self.logs.values()
    }

    /// Every attestation held, in the order of their digests (an order no insertion order
    /// changes).
    pub fn attestations(&self) -> impl Iterator<Item = &SignedAttestation> {
        self.attestations.values()
    }

    /// How many attestations are held.
    pub fn attestation_count(&self) -> usize {
        self.attestations.len()
    }

    /// The attestation with these signed bytes' digest.
    pub fn attestation_by_digest(&self, digest: &Digest) -> Option<&SignedAttestation> {
        self.attestations.get(digest)
    }

    /// The attestation `issuer` issued under `id`.
    pub fn attestation(&self, issuer: &PartyId, id: &AttestationId) -> Option<&SignedAttestation> {
        self.by_issuer_id
            .get(&(*issuer, *id))
            .and_then(|d| self.attestations.get(d))
    }

    /// Attestations of `kind` about `subject`, in the order of their digests.
    pub fn about(
        &self,
        subject: &PartyId,
        kind: AttestationKind,
    ) -> impl Iterator<Item = &SignedAttestation> {
        self.by_subject
            .get(&(*subject, kind.code()))
            .into_iter()
            .flatten()
            .filter_map(|d| self.attestations.get(d))
    }

    /// How many attestations of `kind` about `subject` are held.
    pub fn count_about(&self, subject: &PartyId, kind: AttestationKind) -> usize {
        self.by_subject
            .get(&(*subject, kind.code()))
            .map_or(0, BTreeSet::len)
    }

    /// Revocations and the newest revocation list issued by `issuer`.
    pub fn revocations_by(&self, issuer: &PartyId) -> impl Iterator<Item = &SignedAttestation> {
        self.about(issuer, AttestationKind::Revocation)
            .chain(self.revocation_list(issuer))
            .filter(move |a| a.payload().issuer == *issuer)
    }

    /// Whether the PDF certificate attestation `signed` is in effect at `time` (spec §6.10):
    /// issued with authority, within its window and not revoked; resting on the issuer's
    /// identity attestation about the subject, itself held, within its window and not
    /// revoked; and certifying a key the subject's key log declares, valid at `time`, under
    /// the purpose of the certificate's profile (`tsa` for a TSA certificate, else `pdf`). A verifier's own certificate (about itself) rests on no identity attestation.
    pub fn pdf_certificate_in_effect(
        &self,
        signed: &SignedAttestation,
        time: Timestamp,
    ) -> Result<(), PdfCertificateError> {
        let a = signed.payload();
        let Claims::PdfCertificate(claims) = &a.claims else {
            return Err(PdfCertificateError::NotACertificate);
        };
        if !self.has_authority(signed) {
            return Err(PdfCertificateError::NoAuthority);
        }
        let in_window = |x: &Attestation| x.valid_from <= time && time < x.valid_until;
        if !in_window(a) {
            return Err(PdfCertificateError::OutsideWindow);
        }
        if let Some(seen) = self.attestation_revoked(&a.issuer, &a.id, time) {
            return Err(PdfCertificateError::Revoked(seen.by));
        }
        if let Some(id) = &claims.identity {
            let identity = self
                .attestation(&a.issuer, id)
                .filter(|i| {
                    let i = i.payload();
                    i.subject == a.subject && matches!(i.claims, Claims::Identity(_))
                })
                .ok_or(PdfCertificateError::IdentityMissing(*id))?;
            if !self.has_authority(identity) || !in_window(identity.payload()) {
                return Err(PdfCertificateError::IdentityNotInEffect(*id));
            }
            if self.attestation_revoked(&a.issuer, id, time).is_some() {
                return Err(PdfCertificateError::IdentityNotInEffect(*id));
            }
        }
        let log = self
            .key_log(&a.subject)
            .ok_or(PdfCertificateError::KeyNotDeclared)?;
        let profile = claims.purpose();
        log.check_log_key(&claims.key.log_key(), profile, time)
            .map_err(|e| match e {
                KeyUseError::WrongPurpose { declared, .. } => {
                    PdfCertificateError::WrongProfile { declared, profile }
                }
                _ => PdfCertificateError::KeyNotDeclared,
            })?;
        if self.key_in_conflict(claims.key.log_key()) {
            return Err(PdfCertificateError::KeyNotDeclared);
        }
        Ok(())
    }

    /// The newest revocation list held from `issuer`, whatever its authority.
    pub fn revocation_list(&self, issuer: &PartyId) -> Option<&SignedAttestation> {
        self.lists
            .get(issuer)
            .and_then(|d| self.attestations.get(d))
    }

    /// The parties whose held key logs declare `key` (one, normally).
    pub fn key_owners(&self, key: impl Into<LogKey>) -> impl Iterator<Item = &PartyId> {
        self.key_owners.get(&key.into()).into_iter().flatten()
    }

    /// Keys that the held key logs of two or more parties declare: a conflict that nothing
    /// resolves (whichever log came first is no better than the other), so such a key speaks
    /// for nobody. With proofs of possession (spec §4.3.1) only a key's holder can cause
    /// this, for the keys it declares in two parties' logs.
    pub fn key_conflicts(&self) -> impl Iterator<Item = (&LogKey, &BTreeSet<PartyId>)> {
        self.key_owners
            .iter()
            .filter(|(_, owners)| owners.len() > 1)
    }

    /// Whether `key` is declared by more than one party's held key log.
    pub fn key_in_conflict(&self, key: impl Into<LogKey>) -> bool {
        self.key_owners
            .get(&key.into())
            .is_some_and(|o| o.len() > 1)
    }

    /// Whether a signed attestation's key had the issuer's authority when it was issued,
    /// and was not revoked by then.
    pub fn has_authority(&self, signed: &SignedAttestation) -> bool {
        let a = signed.payload();
        self.key_log(&a.issuer).is_some_and(|log| {
            a.check_issuer_key(signed.signer(), log).is_ok()
                && self
                    .key_revoked(&a.issuer, signed.signer(), a.issued_at)
                    .is_none()
        })
    }

    /// The earliest revocation of `key` (one of `party`'s keys) effective at or before
    /// `time`, issued with authority: by a revocation, or by an entry of the party's newest
    /// revocation list.
    pub fn key_revoked(
        &self,
        party: &PartyId,
        key: impl Into<LogKey>,
        time: Timestamp,
    ) -> Option<RevocationSeen> {
        let key = key.into();
        let log = self.key_log(party)?;
        // Any attest key of the party at the revocation's issue time may revoke any of its
        // keys: the party must be able to cut off a compromised key quickly. (No recursion:
        // a revocation's own signer is not checked for revocation here.)
        let authorised = |signed: &SignedAttestation| {
            let a = signed.payload();
            a.issuer == *party && a.check_issuer_key(signed.signer(), log).is_ok()
        };
        let single = self
            .revoking_key
            .get(&(*party, key.clone()))
            .into_iter()
            .flatten()
            .filter_map(|d| self.attestations.get(d))
            .filter(|s| authorised(s))
            .filter_map(|signed| {
                let a = signed.payload();
                let Claims::Revocation(r) = &a.claims else {
                    return None;
                };
                Some(RevocationSeen {
                    effective: r.effective,
                    reason: r.reason,
                    by: a.id,
                })
            });
        let listed = self
            .revocation_list(party)
            .filter(|s| authorised(s))
            .into_iter()
            .flat_map(|signed| {
                let a = signed.payload();
                let entries = match &a.claims {
                    Claims::RevocationList(list) => list.keys.as_slice(),
                    _ => &[],
                };
                entries
                    .iter()
                    .filter(|e| e.key == key)
                    .map(move |e| RevocationSeen {
                        effective: e.effective,
                        reason: e.reason,
                        by: a.id,
                    })
            });
        single
            .chain(listed)
            .filter(|r| r.effective <= time)
            .min_by_key(|r| r.effective)
    }

    /// The earliest revocation of attestation `id` issued by `issuer`, effective at or
    /// before `time`, from a revocation or the issuer's newest revocation list, issued with
    /// authority.
    pub fn attestation_revoked(
        &self,
        issuer: &PartyId,
        id: &AttestationId,
        time: Timestamp,
    ) -> Option<RevocationSeen> {
        let single = self
            .revoking
            .get(&(*issuer, *id))
            .into_iter()
            .flatten()
            .filter_map(|d| self.attestations.get(d))
            .filter_map(|signed| {
                let a = signed.payload();
                match &a.claims {
                    Claims::Revocation(r) if a.issuer == *issuer => {
                        Some((signed, r.effective, r.reason))
                    }
                    _ => None,
                }
            });
        let listed = self.revocation_list(issuer).into_iter().flat_map(|signed| {
            let entries = match &signed.payload().claims {
                Claims::RevocationList(list) => list.entries.as_slice(),
                _ => &[],
            };
            entries
                .iter()
                .filter(|e| e.id == *id)
                .map(move |e| (signed, e.effective, e.reason))
        });
        single
            .chain(listed)
            .filter(|(_, effective, _)| *effective <= time)
            .filter(|(signed, _, _)| self.has_authority(signed))
            .map(|(signed, effective, reason)| RevocationSeen {
                effective,
                reason,
                by: signed.payload().id,
            })
            .min_by_key(|r| r.effective)
    }

    /// Issue time of the newest revocation list by `issuer`, if it was issued with
    /// authority.
    pub fn newest_revocation_list(&self, issuer: &PartyId) -> Option<Timestamp> {
        self.revocation_list(issuer)
            .filter(|s| self.has_authority(s))
            .map(|s| s.payload().issued_at)
    }

    /// Checks a seal mandate completely: its terms (see
    /// [`Attestation::check_mandate_terms`]), its signer's authority, the seal key's validity
    /// for the party at the time of use, and revocation of the mandate and of the seal.
    pub fn check_mandate<'a>(
        &self,
        delegation: &'a SignedAttestation,
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
        log.check_log_key(&use_.seal, KeyPurpose::Seal, use_.time)
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

/// A CRL's thisUpdate (zero when it does not parse, which a held CRL always does).
fn crl_this_update(der: &[u8]) -> u64 {
    <x509_cert::crl::CertificateList as der::Decode>::from_der(der)
        .map(|list| list.tbs_cert_list.this_update.to_unix_duration().as_secs())
        .unwrap_or(0)
}
