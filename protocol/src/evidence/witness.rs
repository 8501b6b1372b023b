//! Witnesses: the second evidence channel (spec §10.5).
//!
//! A witness is a third-party node that cosigns a log's checkpoints, and only checkpoints
//! that extend the last one it cosigned for that log. It never sees events, only signed
//! checkpoints and consistency proofs. Its state is, per log origin, the last checkpoint it
//! cosigned; checking and updating it is one atomic step ([`Witness::cosign`]), as C2SP
//! `tlog-witness` requires, and the state changes only when a cosignature is issued.
//!
//! A cosignature makes a log's history hard to rewrite: a log that later shows a different
//! history to someone must get a witness to cosign it, and no honest witness that cosigned
//! the original will cosign a history that does not extend it.
//!
//! # What a refusal proves
//!
//! A witness refuses a checkpoint in one of four ways ([`WitnessError`]). Only one of them,
//! [`WitnessError::Equivocation`], accuses the log, and it carries evidence that anyone can
//! check with [`verify_equivocation`] using nothing but the log's public key:
//!
//! - **Same size, different roots.** Two checkpoints of one size with different roots, both
//!   signed by the log key: the log signed two different histories. Conclusive.
//! - **Different sizes, with a path.** Checkpoints of sizes `m < n` with roots `r_m`, `r_n`,
//!   both signed, and a consistency path from `m` to `n` that hashes up to `r_n` but yields a
//!   root other than `r_m` for the first `m` leaves. Every hash in a path that reaches `r_n`
//!   is a node of the tree `r_n` commits to (else SHA-256 has a collision), so that tree's
//!   first `m` leaves do not have root `r_m`: the log signed two histories that cannot both
//!   be true. When `m` is a power of two, the RFC 9162 path leaves out the old root (its
//!   verifier already knows it); the evidence then puts the root implied for size `m` in
//!   front, see [`implied_old_root`].
//!
//! A checkpoint of a size below the last cosigned one is a [`WitnessError::Rollback`], not
//! an accusation: signed checkpoints are public, and anyone may replay an old, honest one.
//! Nor is a consistency proof that fails to verify ([`WitnessError::BadProof`]): the log (or
//! whoever relayed its request) may have sent the wrong proof. Either becomes an
//! equivocation only when a path as above shows the conflict; a log that refuses to give
//! one still gets no cosignature, which is what protects the relying parties.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, EncodeError, Limits};
use crate::evidence::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::evidence::cosignature::Cosignature;
use crate::evidence::merkle::{self, ProofError, implied_old_root, verify_consistency};
use crate::evidence::note::{MAX_NOTE_BYTES, NoteError, is_valid_key_name};
use crate::{Digest, PublicKey, SecretKey, Timestamp};

/// Why a witness refused to cosign (spec §10.5). Only [`Equivocation`](Self::Equivocation)
/// accuses the log; see the module documentation for what each refusal proves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The note is not a checkpoint signed by the log key under its origin.
    #[error("checkpoint refused: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The consistency proof from the last cosigned size does not verify. The log may send
    /// another, from `last_size`.
    #[error("consistency proof from size {last_size} does not verify: {error}")]
    BadProof {
        /// The size of the last checkpoint cosigned for this log (0 if none).
        last_size: u64,
        /// Why the proof failed.
        error: ProofError,
    },
    /// The checkpoint is smaller than the last one cosigned for this log. It may be an old
    /// honest checkpoint replayed, so this accuses nobody.
    #[error("checkpoint of size {} is older than the last cosigned, of size {}",
        .offered.checkpoint().size(), .last.checkpoint().size())]
    Rollback {
        /// The last checkpoint cosigned for this log.
        last: Box<SignedCheckpoint>,
        /// The checkpoint offered.
        offered: Box<SignedCheckpoint>,
    },
    /// The log signed two checkpoints that cannot both be true; the evidence convinces anyone
    /// who has the log's key ([`verify_equivocation`]).
    #[error("the log equivocated")]
    Equivocation(Box<Equivocation>),
}

/// Decoding limits for an encoded [`Equivocation`].
pub const EQUIVOCATION_LIMITS: Limits = Limits {
    max_bytes: 2 * MAX_NOTE_BYTES + 66 * 34 + 64,
    max_depth: 3,
    max_items: 66 + 16,
};

/// Evidence that a log's key signed two inconsistent checkpoints (spec §10.5).
///
/// Encoded as a deterministic CBOR map with text keys `first`, `second` (signed checkpoint
/// notes, as text) and `proof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivocation {
    /// The checkpoint of the smaller size (either one, if the sizes are equal).
    pub first: String,
    /// The checkpoint of the larger (or equal) size.
    pub second: String,
    /// Empty when the sizes are equal. Otherwise a consistency path from the first size to
    /// the second that leads to the second root but not from the first root (with the
    /// implied first root in front when the first size is a power of two).
    pub proof: Vec<Digest>,
}

impl Equivocation {
    /// The deterministic encoding.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        codec::encode(self)
    }

    /// Decodes evidence within [`EQUIVOCATION_LIMITS`]; [`verify_equivocation`] checks it.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode(bytes, &EQUIVOCATION_LIMITS)
    }
}

/// Why evidence of equivocation does not convince (spec §10.5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EquivocationError {
    /// A note is not a checkpoint of the origin signed by one of the log's keys.
    #[error("checkpoint {which} of the evidence: {error}")]
    Checkpoint {
        /// 0 for `first`, 1 for `second`.
        which: u8,
        /// What is wrong with it.
        error: CheckpointError,
    },
    /// The first checkpoint is larger than the second.
    #[error("the first checkpoint is larger than the second")]
    SizesOutOfOrder,
    /// The checkpoints do not conflict: same size and root, or the path is no evidence (it
    /// does not lead to the second root, or it implies the first root after all).
    #[error("the checkpoints are not shown to conflict")]
    NotInConflict,
}

/// Checks evidence of equivocation: both notes are checkpoints of `origin` signed by one of
/// `log_keys` (the log keys of the party, e.g. across a rotation), and they conflict as the
/// module documentation describes. On success, the holder of those keys signed two
/// histories of the log that cannot both be true.
pub fn verify_equivocation(
    evidence: &Equivocation,
    log_keys: &[PublicKey],
    origin: &str,
) -> Result<(), EquivocationError> {
    let first = verify_by_any(evidence.first.as_bytes(), log_keys, origin)
        .map_err(|error| EquivocationError::Checkpoint { which: 0, error })?;
    let second = verify_by_any(evidence.second.as_bytes(), log_keys, origin)
        .map_err(|error| EquivocationError::Checkpoint { which: 1, error })?;
    let (first, second) = (first.checkpoint(), second.checkpoint());
    if first.size() > second.size() {
        return Err(EquivocationError::SizesOutOfOrder);
    }
    let conflict = if first.size() == second.size() {
        evidence.proof.is_empty() && first.root() != second.root()
    } else {
        implied_old_root(first.size(), second.size(), second.root(), &evidence.proof)
            .is_some_and(|implied| implied != *first.root())
    };
    if conflict {
        Ok(())
    } else {
        Err(EquivocationError::NotInConflict)
    }
}

fn verify_by_any(
    note: &[u8],
    keys: &[PublicKey],
    origin: &str,
) -> Result<SignedCheckpoint, CheckpointError> {
    let mut last = CheckpointError::Note(NoteError::MissingSignature {
        name: origin.to_string(),
        key_id: crate::evidence::note::KeyId::from_bytes([0; 4]),
    });
    for key in keys {
        match SignedCheckpoint::verify(note, origin, key) {
            Ok(checkpoint) => return Ok(checkpoint),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// A witness: its name and key, and per log origin the last checkpoint it cosigned
/// (spec §10.5). Pure state: the node stores [`checkpoints`](Self::checkpoints) and
/// restores with [`restore`](Self::restore).
///
/// ```
/// use signet_protocol::evidence::event::{EvidenceEvent, EvidenceKind};
/// use signet_protocol::evidence::log::EvidenceLog;
/// use signet_protocol::evidence::witness::Witness;
/// use signet_protocol::testkit::TestParty;
/// use signet_protocol::{SecretKey, Timestamp};
///
/// let now = Timestamp::from_unix(1_800_000_000);
/// let party = TestParty::new("Example Supplier", now);
/// let mut witness = Witness::new("witness.example.org", SecretKey::from_seed(&[8; 32]))?;
/// let mut log = EvidenceLog::new();
///
/// log.append(&EvidenceEvent::new(EvidenceKind::ProposalReceived, now))?;
/// let first = log.checkpoint(&party.id(), &party.log_key);
/// witness.cosign(&first.to_bytes(), &party.log_key.public_key(), &[], now)?;
///
/// log.append(&EvidenceEvent::new(EvidenceKind::SignatureMade, now.plus(5)))?;
/// let mut second = log.checkpoint(&party.id(), &party.log_key);
/// let proof = log.consistency_proof(1, 2)?;
/// let cosignature = witness.cosign(&second.to_bytes(), &party.log_key.public_key(), &proof, now.plus(6))?;
///
/// second.add_cosignature(&cosignature)?;
/// assert_eq!(second.cosignature_by("witness.example.org", &witness.public_key())?, now.plus(6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Witness {
    name: String,
    key: SecretKey,
    logs: BTreeMap<String, SignedCheckpoint>,
}

impl Witness {
    /// A witness with no history, named `name` (a valid key name), signing with `key`.
    pub fn new(name: &str, key: SecretKey) -> Result<Self, NoteError> {
        Self::restore(name, key, [])
    }

    /// A witness with the checkpoints it last cosigned, as stored (and checked again by the
    /// caller with [`SignedCheckpoint::verify`]). Of two for one origin, the larger is kept.
    pub fn restore<I>(name: &str, key: SecretKey, checkpoints: I) -> Result<Self, NoteError>
    where
        I: IntoIterator<Item = SignedCheckpoint>,
    {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_string()));
        }
        let mut logs: BTreeMap<String, SignedCheckpoint> = BTreeMap::new();
        for checkpoint in checkpoints {
            let origin = checkpoint.checkpoint().origin().to_string();
            let keep = logs
                .get(&origin)
                .is_none_or(|kept| kept.checkpoint().size() < checkpoint.checkpoint().size());
            if keep {
                logs.insert(origin, checkpoint);
            }
        }
        Ok(Self {
            name: name.to_string(),
            key,
            logs,
        })
    }

    /// The witness's key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The witness's public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The last checkpoint cosigned for the log `origin`.
    pub fn latest(&self, origin: &str) -> Option<&SignedCheckpoint> {
        self.logs.get(origin)
    }

    /// Every log's last cosigned checkpoint, by origin: what the node stores.
    pub fn checkpoints(&self) -> impl Iterator<Item = &SignedCheckpoint> {
        self.logs.values()
    }

    /// Cosigns the checkpoint `note` at time `now` if the log key `log_key` signed it under
    /// its origin and it extends the last checkpoint cosigned for that origin, as
    /// `consistency_proof` (RFC 9162, from the last cosigned size to this one; empty for the
    /// first checkpoint of a log or the same size) shows. The state is updated only when a
    /// cosignature is returned.
    ///
    /// For a checkpoint smaller than the last, the proof may instead go from this size to
    /// the last: if it shows the last tree implies another root at this size, the refusal
    /// is an [`Equivocation`]; otherwise it is a [`WitnessError::Rollback`].
    ///
    /// The first checkpoint of a log is taken as it comes (trust on first use, as in C2SP
    /// `tlog-witness`). The caller checks that `log_key` is a `log` key of the party the
    /// origin names, and decides which origins it serves.
    pub fn cosign(
        &mut self,
        note: &[u8],
        log_key: &PublicKey,
        consistency_proof: &[Digest],
        now: Timestamp,
    ) -> Result<Cosignature, WitnessError> {
        let origin = Checkpoint::from_note_unverified(note)?.origin().to_string();
        let offered = SignedCheckpoint::verify(note, &origin, log_key)?.log_signed_only(log_key);
        let new = offered.checkpoint();
        match self.logs.get(&origin) {
            None => {
                verify_consistency(
                    0,
                    new.size(),
                    &merkle::empty_root(),
                    new.root(),
                    consistency_proof,
                )
                .map_err(|error| WitnessError::BadProof {
                    last_size: 0,
                    error,
                })?;
            }
            Some(last) => check_extends(last, &offered, consistency_proof)?,
        }
        // The name was checked when the witness was built.
        let cosignature = Cosignature::sign_unchecked(offered.body(), &self.name, &self.key, now);
        self.logs.insert(origin, offered);
        Ok(cosignature)
    }
}

/// Whether `offered` may be cosigned after `last`, both verified checkpoints of one log.
fn check_extends(
    last: &SignedCheckpoint,
    offered: &SignedCheckpoint,
    proof: &[Digest],
) -> Result<(), WitnessError> {
    let (old, new) = (last.checkpoint(), offered.checkpoint());
    let equivocation = |first: &SignedCheckpoint, second: &SignedCheckpoint, proof: &[Digest]| {
        WitnessError::Equivocation(Box::new(Equivocation {
            first: first.note().to_text(),
            second: second.note().to_text(),
            proof: proof.to_vec(),
        }))
    };
    if new.size() < old.size() {
        let implied = implied_old_root(new.size(), old.size(), old.root(), proof);
        return Err(match implied {
            Some(root) if root != *new.root() => equivocation(offered, last, proof),
            _ => WitnessError::Rollback {
                last: Box::new(last.clone()),
                offered: Box::new(offered.clone()),
            },
        });
    }
    if new.size() == old.size() && new.root() != old.root() {
        return Err(equivocation(last, offered, &[]));
    }
    verify_consistency(old.size(), new.size(), old.root(), new.root(), proof).map_err(|error| {
        match implied_old_root(old.size(), new.size(), new.root(), proof) {
            Some(root) if root != *old.root() => equivocation(last, offered, proof),
            _ => WitnessError::BadProof {
                last_size: old.size(),
                error,
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::checkpoint::evidence_origin;
    use crate::evidence::event::{EvidenceEvent, EvidenceKind};
    use crate::evidence::log::EvidenceLog;
    use crate::testkit::TestParty;

    const T0: u64 = 1_800_000_000;

    struct Setup {
        party: TestParty,
        origin: String,
        log_key: PublicKey,
        witness: Witness,
        /// The honest log.
        main: EvidenceLog,
        /// A fork: the same first 10 entries, then different ones.
        fork: EvidenceLog,
    }

    fn event(i: u64, fork: bool) -> EvidenceEvent {
        let mut event = EvidenceEvent::new(
            EvidenceKind::SignatureReceived,
            Timestamp::from_unix(T0 + i),
        );
        if fork && i >= 10 {
            event.note = Some("rewritten".into());
        }
        event
    }

    fn setup() -> Setup {
        let party = TestParty::new("Witnessed Co", Timestamp::from_unix(T0));
        let mut main = EvidenceLog::new();
        let mut fork = EvidenceLog::new();
        for i in 0..40 {
            main.append(&event(i, false)).unwrap();
            fork.append(&event(i, true)).unwrap();
        }
        Setup {
            origin: evidence_origin(&party.id()),
            log_key: party.log_key.public_key(),
            witness: Witness::new("witness.example.org", SecretKey::from_seed(&[0x77; 32]))
                .unwrap(),
            party,
            main,
            fork,
        }
    }

    impl Setup {
        fn note(&self, log: &EvidenceLog, size: u64) -> Vec<u8> {
            log.checkpoint_at(size, &self.party.id(), &self.party.log_key)
                .unwrap()
                .to_bytes()
        }

        /// Offers `log` at `size` with the proof from the witness's last size.
        fn offer(&mut self, log: &EvidenceLog, size: u64) -> Result<Cosignature, WitnessError> {
            let last = self
                .witness
                .latest(&self.origin)
                .map_or(0, |c| c.checkpoint().size());
            let proof = log.consistency_proof(last, size).unwrap_or_default();
            let note = self.note(log, size);
            self.offer_with(&note, &proof)
        }

        fn offer_with(
            &mut self,
            note: &[u8],
            proof: &[Digest],
        ) -> Result<Cosignature, WitnessError> {
            let before = self.witness.latest(&self.origin).cloned();
            let result =
                self.witness
                    .cosign(note, &self.log_key, proof, Timestamp::from_unix(T0 + 99));
            if result.is_err() {
                assert_eq!(
                    self.witness.latest(&self.origin),
                    before.as_ref(),
                    "state changed"
                );
            }
            result
        }

        fn assert_proves(&self, error: WitnessError) -> Equivocation {
            let WitnessError::Equivocation(evidence) = error else {
                panic!("expected an equivocation, got {error:?}");
            };
            verify_equivocation(&evidence, &[self.log_key], &self.origin).unwrap();
            let decoded = Equivocation::decode(&evidence.encode().unwrap()).unwrap();
            assert_eq!(decoded, *evidence);
            *evidence
        }
    }

    #[test]
    fn an_honest_growing_log_is_cosigned() {
        let mut s = setup();
        let main = s.main.clone();
        for size in [0, 1, 5, 8, 8, 13, 16, 17, 40] {
            let cosignature = s.offer(&main, size).unwrap();
            let mut checkpoint =
                SignedCheckpoint::verify(&s.note(&main, size), &s.origin, &s.log_key).unwrap();
            checkpoint.add_cosignature(&cosignature).unwrap();
            let witness_key = s.witness.public_key();
            assert_eq!(
                checkpoint.cosignature_by("witness.example.org", &witness_key),
                Ok(Timestamp::from_unix(T0 + 99))
            );
            // The cosigned note still verifies as the log's checkpoint.
            SignedCheckpoint::verify(&checkpoint.to_bytes(), &s.origin, &s.log_key).unwrap();
            assert_eq!(
                s.witness.latest(&s.origin).unwrap().checkpoint().size(),
                size
            );
        }
        // The state survives a restore.
        let stored: Vec<SignedCheckpoint> = s.witness.checkpoints().cloned().collect();
        let restored = Witness::restore(
            "witness.example.org",
            SecretKey::from_seed(&[0x77; 32]),
            stored,
        )
        .unwrap();
        assert_eq!(restored.latest(&s.origin), s.witness.latest(&s.origin));
    }

    #[test]
    fn a_rollback_is_refused_without_accusing() {
        let mut s = setup();
        let main = s.main.clone();
        s.offer(&main, 13).unwrap();
        // An old honest checkpoint, replayed: refused, but it is no evidence of anything.
        let old = s.note(&main, 8);
        let error = s.offer_with(&old, &[]).unwrap_err();
        assert!(matches!(error, WitnessError::Rollback { .. }), "{error:?}");
        // Even with a proof that shows it consistent.
        let proof = main.consistency_proof(8, 13).unwrap();
        assert!(matches!(
            s.offer_with(&old, &proof),
            Err(WitnessError::Rollback { .. })
        ));
    }

    #[test]
    fn a_fork_of_the_same_size_is_an_equivocation() {
        let mut s = setup();
        let (main, fork) = (s.main.clone(), s.fork.clone());
        s.offer(&main, 13).unwrap();
        let error = s.offer_with(&s.note(&fork, 13), &[]).unwrap_err();
        let evidence = s.assert_proves(error);
        assert!(evidence.proof.is_empty());
        // Honest growth continues afterwards.
        s.offer(&main, 20).unwrap();
    }

    #[test]
    fn a_fork_that_grows_is_an_equivocation_when_its_proof_shows_it() {
        let mut s = setup();
        let (main, fork) = (s.main.clone(), s.fork.clone());
        s.offer(&main, 13).unwrap();
        // The fork's own proof from 13 reaches the fork's root but starts from another root
        // at size 13: conclusive.
        let proof = fork.consistency_proof(13, 30).unwrap();
        let error = s.offer_with(&s.note(&fork, 30), &proof).unwrap_err();
        let evidence = s.assert_proves(error);
        assert_eq!(evidence.proof, proof);
        // A proof that leads nowhere proves nothing: refused, without accusation.
        let garbage = vec![Digest::of(b"x"); proof.len()];
        assert!(matches!(
            s.offer_with(&s.note(&fork, 30), &garbage),
            Err(WitnessError::BadProof { last_size: 13, .. })
        ));
        assert!(matches!(
            s.offer_with(&s.note(&fork, 30), &[]),
            Err(WitnessError::BadProof { .. })
        ));
    }

    #[test]
    fn a_fork_after_a_power_of_two_size_is_refused_but_not_provable_from_the_rfc_proof() {
        let mut s = setup();
        let (main, fork) = (s.main.clone(), s.fork.clone());
        s.offer(&main, 16).unwrap();
        // RFC 9162 leaves the size-16 root out of the proof, so the fork's proof only fails.
        let proof = fork.consistency_proof(16, 30).unwrap();
        assert!(matches!(
            s.offer_with(&s.note(&fork, 30), &proof),
            Err(WitnessError::BadProof { last_size: 16, .. })
        ));
        // With the implied root in front, the same conflict is evidence for anyone.
        let mut full = vec![fork.tree().root_at(16).unwrap()];
        full.extend(proof);
        let evidence = Equivocation {
            first: String::from_utf8(s.note(&main, 16)).unwrap(),
            second: String::from_utf8(s.note(&fork, 30)).unwrap(),
            proof: full,
        };
        verify_equivocation(&evidence, &[s.log_key], &s.origin).unwrap();
    }

    #[test]
    fn a_smaller_fork_checkpoint_with_a_path_from_the_larger_tree_is_an_equivocation() {
        let mut s = setup();
        let (main, fork) = (s.main.clone(), s.fork.clone());
        s.offer(&main, 30).unwrap();
        // The witness holds size 30; a fork checkpoint of size 13 comes, with the path from
        // 13 to 30 of the tree the witness cosigned: that tree implies another root at 13.
        let proof = main.consistency_proof(13, 30).unwrap();
        let error = s.offer_with(&s.note(&fork, 13), &proof).unwrap_err();
        let evidence = s.assert_proves(error);
        let first = Checkpoint::from_note_unverified(evidence.first.as_bytes()).unwrap();
        assert_eq!(first.size(), 13);
        assert_eq!(first.root(), &fork.tree().root_at(13).unwrap());
    }

    #[test]
    fn checkpoints_not_signed_by_the_log_key_are_refused() {
        let mut s = setup();
        let main = s.main.clone();
        let wrong = main
            .checkpoint_at(5, &s.party.id(), &s.party.attest)
            .unwrap()
            .to_bytes();
        assert!(matches!(
            s.offer_with(&wrong, &[]),
            Err(WitnessError::Checkpoint(_))
        ));
        let mut tampered = s.note(&main, 5);
        let at = tampered.iter().position(|b| *b == b'\n').unwrap() + 1;
        tampered[at] = b'6';
        assert!(matches!(
            s.offer_with(&tampered, &[]),
            Err(WitnessError::Checkpoint(_))
        ));
        assert!(s.witness.latest(&s.origin).is_none());
        // The first checkpoint of a log needs no proof, and takes none.
        assert!(matches!(
            s.offer_with(&s.note(&main, 5), &[Digest::of(b"x")]),
            Err(WitnessError::BadProof { last_size: 0, .. })
        ));
    }

    #[test]
    fn false_accusations_do_not_verify() {
        let s = setup();
        let main = &s.main;
        let text = |log: &EvidenceLog, size| String::from_utf8(s.note(log, size)).unwrap();
        let keys = [s.log_key];
        // Two honest checkpoints, with or without their true proof.
        let honest = Equivocation {
            first: text(main, 13),
            second: text(main, 30),
            proof: main.consistency_proof(13, 30).unwrap(),
        };
        assert_eq!(
            verify_equivocation(&honest, &keys, &s.origin),
            Err(EquivocationError::NotInConflict)
        );
        let no_proof = Equivocation {
            proof: vec![],
            ..honest.clone()
        };
        assert_eq!(
            verify_equivocation(&no_proof, &keys, &s.origin),
            Err(EquivocationError::NotInConflict)
        );
        let same = Equivocation {
            first: text(main, 13),
            second: text(main, 13),
            proof: vec![],
        };
        assert_eq!(
            verify_equivocation(&same, &keys, &s.origin),
            Err(EquivocationError::NotInConflict)
        );
        // A genuine conflict, but presented with the wrong key, origin, order or a forged note.
        let real = Equivocation {
            first: text(main, 13),
            second: text(&s.fork, 13),
            proof: vec![],
        };
        verify_equivocation(&real, &keys, &s.origin).unwrap();
        let other = s.party.attest.public_key();
        assert!(matches!(
            verify_equivocation(&real, &[other], &s.origin),
            Err(EquivocationError::Checkpoint { which: 0, .. })
        ));
        // Either of two keys may have signed each note (a rotation).
        verify_equivocation(&real, &[other, s.log_key], &s.origin).unwrap();
        assert!(verify_equivocation(&real, &keys, "signet.evidence/other").is_err());
        let reversed = Equivocation {
            first: text(main, 30),
            second: text(&s.fork, 13),
            proof: vec![],
        };
        assert_eq!(
            verify_equivocation(&reversed, &keys, &s.origin),
            Err(EquivocationError::SizesOutOfOrder)
        );
        let forged = Equivocation {
            second: real.second.replacen("\n13\n", "\n14\n", 1),
            ..real.clone()
        };
        assert!(matches!(
            verify_equivocation(&forged, &keys, &s.origin),
            Err(EquivocationError::Checkpoint { which: 1, .. })
        ));
    }
}
