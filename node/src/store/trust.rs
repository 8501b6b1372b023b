//! Key event logs and attestations between the store and the protocol's `TrustStore`.
//!
//! The store keeps signed bytes; the protocol's `TrustStore` holds verified objects. These
//! functions move between the two: [`save_key_log`] and [`save_attestation`] persist what the
//! node has verified, and [`load_trust_store`] rebuilds the `TrustStore` at start-up,
//! verifying everything again (the disk is not trusted more than the network).

use signet_protocol::attestation::ATTESTATION_CONTENT_TYPE;
use signet_protocol::attestation::SignedAttestation;
use signet_protocol::codec::Limits;
use signet_protocol::cose::CoseError;
use signet_protocol::keylog::{KeyLog, KeyLogError};
use signet_protocol::party::PartyId;
use signet_protocol::trust::{AttestationUpdate, TrustStore};

use super::{Store, StoreError};

/// Loading or saving verified objects failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustDataError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored key log no longer verifies (disk corruption or tampering).
    #[error("stored key log of {party} is invalid: {error}")]
    StoredKeyLog {
        /// The party.
        party: PartyId,
        /// Why.
        #[source]
        error: KeyLogError,
    },
    /// A stored attestation no longer verifies (disk corruption or tampering).
    #[error("a stored attestation is invalid: {0}")]
    StoredAttestation(#[source] CoseError),
    /// The log to save does not extend the stored one: the stored events differ at `index`
    /// (a fork; keep the evidence and refuse the new log).
    #[error("the key log of {party} differs from the stored one at event {index}")]
    Diverges {
        /// The party.
        party: PartyId,
        /// The first differing event.
        index: u64,
    },
}

/// Appends the events of `log` that the store does not hold yet; returns how many. The
/// stored events must be a prefix of `log`'s.
pub fn save_key_log(store: &dyn Store, log: &KeyLog) -> Result<usize, TrustDataError> {
    let party = log.party();
    let stored = store.key_events(&party)?;
    let events: Vec<&[u8]> = log.event_bytes().collect();
    for (index, held) in stored.iter().enumerate() {
        if events.get(index).is_none_or(|e| *e != held.as_slice()) {
            return Err(TrustDataError::Diverges {
                party,
                index: index as u64,
            });
        }
    }
    let mut appended = 0;
    for (index, event) in events.iter().enumerate().skip(stored.len()) {
        store.append_key_event(&party, index as u64, event)?;
        appended += 1;
    }
    Ok(appended)
}

/// Takes a verified attestation into the trust store and the store, keeping the two in step:
/// what the trust store refuses (a second object under an issuer's id, an older revocation
/// list, one without authority) is not written, and the revocation lists it supersedes are
/// removed from both. Returns what the trust store did.
pub fn save_attestation(
    store: &dyn Store,
    trust: &mut TrustStore,
    attestation: &SignedAttestation,
) -> Result<AttestationUpdate, TrustDataError> {
    let update = trust.check_attestation(attestation);
    if let AttestationUpdate::Added { superseded } = &update {
        store.put_attestation(&attestation.digest(), attestation.bytes())?;
        for old in superseded {
            store.remove_attestation(old)?;
        }
        trust.add_attestation(attestation.clone());
    }
    Ok(update)
}

/// Rebuilds a `TrustStore` from everything stored, verifying every signature and chain.
/// Stored objects the trust store would not take now (a revocation list superseded by
/// another, which a crash between the two writes can leave) are removed from the store, so
/// that the two views agree.
pub fn load_trust_store(store: &dyn Store) -> Result<TrustStore, TrustDataError> {
    let mut trust = TrustStore::new();
    for party in store.key_log_parties()? {
        let log = KeyLog::replay(store.key_events(&party)?)
            .map_err(|error| TrustDataError::StoredKeyLog { party, error })?;
        trust.add_key_log(log);
    }
    for bytes in store.attestations()? {
        let signed = SignedAttestation::decode(&bytes, ATTESTATION_CONTENT_TYPE, &Limits::DEFAULT)
            .map_err(TrustDataError::StoredAttestation)?;
        let digest = signed.digest();
        match trust.add_attestation(signed) {
            AttestationUpdate::Added { superseded } => {
                for old in superseded {
                    store.remove_attestation(&old)?;
                }
            }
            AttestationUpdate::Duplicate => {}
            refused => {
                tracing::warn!(attestation = %digest, ?refused, "a stored attestation is no longer taken; removed");
                store.remove_attestation(&digest)?;
            }
        }
    }
    Ok(trust)
}

#[cfg(test)]
mod tests {
    use signet_protocol::Timestamp;
    use signet_protocol::attestation::AssuranceLevel;
    use signet_protocol::testkit::TestParty;

    use super::*;
    use crate::store::{MemoryStore, SledStore};

    #[test]
    fn key_logs_and_attestations_survive_a_restart() {
        let now = Timestamp::from_unix(1_800_000_000);
        let mut ca = TestParty::new("CA", now);
        let supplier = TestParty::new("Supplier", now);
        let attestation = ca.verify_identity(&supplier, AssuranceLevel::High, now);
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            let mut trust = TrustStore::new();
            assert!(save_key_log(&store, &ca.log).unwrap() > 0);
            save_key_log(&store, &supplier.log).unwrap();
            trust.add_key_log(ca.log.clone());
            trust.add_key_log(supplier.log.clone());
            // Saving again appends nothing.
            assert_eq!(save_key_log(&store, &ca.log).unwrap(), 0);
            assert!(
                save_attestation(&store, &mut trust, &attestation)
                    .unwrap()
                    .is_held()
            );
        }
        let store = SledStore::open(dir.path()).unwrap();
        let trust = load_trust_store(&store).unwrap();
        assert_eq!(trust.key_log(&ca.id()), Some(&ca.log));
        assert_eq!(trust.key_log(&supplier.id()), Some(&supplier.log));
        assert_eq!(trust.attestation_count(), 1);
        // The peer directory is fed from what was loaded.
        let directory = crate::net::PeerDirectory::from_trust_store(&trust, now);
        assert_eq!(directory.len(), 2);
    }

    #[test]
    fn a_diverging_log_is_refused_and_tampering_is_detected() {
        let now = Timestamp::from_unix(1_800_000_000);
        let (a, b) = (TestParty::new("A", now), TestParty::new("B", now));
        let store = MemoryStore::new();
        save_key_log(&store, &a.log).unwrap();
        // B's events stored under A's id: a different log for the same party.
        let party = a.id();
        store
            .append_key_event(&party, a.log.len() as u64, b"junk")
            .unwrap();
        assert!(matches!(
            save_key_log(&store, &a.log),
            Err(TrustDataError::Diverges { index, .. }) if index == a.log.len() as u64
        ));
        assert!(matches!(
            load_trust_store(&store),
            Err(TrustDataError::StoredKeyLog { .. })
        ));
        let other = MemoryStore::new();
        save_key_log(&other, &b.log).unwrap();
        other
            .put_attestation(
                &signet_protocol::Digest::of(b"not a signed attestation"),
                b"not a signed attestation",
            )
            .unwrap();
        assert!(matches!(
            load_trust_store(&other),
            Err(TrustDataError::StoredAttestation(_))
        ));
    }

    #[test]
    fn an_issuer_id_held_cannot_be_taken_over_on_disk_or_in_memory() {
        // The review's attack: a party issues an attestation under the id of the CA's
        // revocation of its identity; stored by id alone, it replaced the revocation at the
        // next restart.
        let now = Timestamp::from_unix(1_800_000_000);
        let mut ca = TestParty::new("CA", now);
        let mut mallory = TestParty::new("Mallory", now);
        let identity = ca.verify_identity(&mallory, AssuranceLevel::High, now);
        let revocation = ca.revoke(identity.payload().id, now.plus(10), now.plus(10));
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            let mut trust = TrustStore::new();
            for log in [&ca.log, &mallory.log] {
                save_key_log(&store, log).unwrap();
                trust.add_key_log(log.clone());
            }
            for a in [&identity, &revocation] {
                assert!(save_attestation(&store, &mut trust, a).unwrap().is_held());
            }
            // Mallory's own object under the revocation's id: another issuer, so it is its
            // own object, stored beside the CA's, never in its place.
            let squat = mallory.attest_with_id(
                revocation.payload().id,
                mallory.id(),
                signet_protocol::attestation::Claims::Accreditation(
                    signet_protocol::attestation::Accreditation {
                        may_accredit: false,
                    },
                ),
                now.plus(11),
                30,
            );
            assert!(
                save_attestation(&store, &mut trust, &squat)
                    .unwrap()
                    .is_held()
            );
            // The CA reusing its own id for another object is refused outright.
            let reuse = ca.attest_with_id(
                revocation.payload().id,
                mallory.id(),
                signet_protocol::attestation::Claims::Accreditation(
                    signet_protocol::attestation::Accreditation {
                        may_accredit: false,
                    },
                ),
                now.plus(12),
                30,
            );
            assert!(matches!(
                save_attestation(&store, &mut trust, &reuse).unwrap(),
                AttestationUpdate::Conflict { .. }
            ));
        }
        let store = SledStore::open(dir.path()).unwrap();
        let trust = load_trust_store(&store).unwrap();
        assert_eq!(trust.attestation_count(), 3);
        assert_eq!(
            trust.attestation(&ca.id(), &revocation.payload().id),
            Some(&revocation)
        );
        assert!(
            trust
                .attestation_revoked(&ca.id(), &identity.payload().id, now.plus(20))
                .is_some()
        );
    }
}
