//! Address records: where a party's node can be reached, signed by that node (spec §12.8).
//!
//! A node publishes its addresses in the DHT as a COSE_Sign1 of content type
//! [`ADDRESS_RECORD_CONTENT_TYPE`] signed by its own `node` key, under the DHT key
//! [`dht_key`] of that key: one record per node key. Because the key is in the DHT key and
//! in the record, anyone can check a record's signature without the party's key event log
//! ([`AddressRecord::decode`], what a storing peer does); whoever holds the log also checks
//! that the key is a `node` key of the party named in the record ([`AddressRecord::check`],
//! what a looker does).
//!
//! Addresses are binary multiaddrs kept as opaque bytes here (this crate knows no libp2p);
//! what is checked here is their number, their length and that each ends with the
//! `/p2p/<peer id>` component of the signing key ([`p2p_suffix`]). Whether the rest parses as
//! a multiaddr is the network layer's check.

use serde::{Deserialize, Serialize};

use crate::codec::Limits;
use crate::cose::{CoseError, Signed};
use crate::error::{ErrorCode, UsageError, WireError};
use crate::keylog::{KeyLog, KeyPurpose, KeyUseError};
use crate::party::PartyId;
use crate::{PublicKey, SecretKey, Timestamp};

/// Media type of an address record (spec §13.1).
pub const ADDRESS_RECORD_CONTENT_TYPE: &str = "application/vnd.signet.address-record+cbor";

/// The prefix of an address record's DHT key; the node's 32-byte public key follows.
pub const DHT_KEY_PREFIX: &[u8] = b"/signet/addr/2/";

/// The most addresses in one record.
pub const MAX_ADDRESSES: usize = 16;

/// The longest address, in bytes.
pub const MAX_ADDRESS_LEN: usize = 200;

/// The largest signed record, in bytes (a DHT record value).
pub const MAX_RECORD_LEN: usize = 4096;

/// The DHT key of the record of the node whose key is `node`:
/// [`DHT_KEY_PREFIX`] ‖ the 32 key bytes (47 bytes).
pub fn dht_key(node: &PublicKey) -> Vec<u8> {
    let mut key = DHT_KEY_PREFIX.to_vec();
    key.extend_from_slice(node.as_bytes());
    key
}

/// The node key a DHT key names, if it is an address record key.
pub fn node_of_dht_key(key: &[u8]) -> Option<PublicKey> {
    PublicKey::from_slice(key.strip_prefix(DHT_KEY_PREFIX)?).ok()
}

/// The last 41 bytes of every address of `node` in binary multiaddr form: the `p2p`
/// protocol code (421, varint `a5 03`), the length 38 (`26`) and the libp2p peer id of the
/// Ed25519 key (`00 24 08 01 12 20` ‖ the key, spec §12.2).
pub fn p2p_suffix(node: &PublicKey) -> [u8; 41] {
    let mut out = [0u8; 41];
    out[..9].copy_from_slice(&[0xa5, 0x03, 0x26, 0x00, 0x24, 0x08, 0x01, 0x12, 0x20]);
    out[9..].copy_from_slice(node.as_bytes());
    out
}

/// An address record: the payload of a signed object of type
/// [`ADDRESS_RECORD_CONTENT_TYPE`], signed by the `node` key it names (spec §12.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressRecord {
    /// The party the node speaks for.
    pub party: PartyId,
    /// The node's key: the record's signer.
    pub node: PublicKey,
    /// Sequence number: a later record of the same node has a greater one and replaces it.
    pub seq: u64,
    /// When the record was signed.
    pub issued_at: Timestamp,
    /// Binary multiaddrs, each ending in `/p2p/<peer id of node>`; at most
    /// [`MAX_ADDRESSES`].
    #[serde(with = "crate::cbor_bytes::list")]
    pub addresses: Vec<Vec<u8>>,
}

/// Why an address record was refused. Every variant is the fault of whoever supplied it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressRecordError {
    /// Larger than [`MAX_RECORD_LEN`].
    #[error("address record of {len} bytes exceeds {MAX_RECORD_LEN}")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// Not a valid signed object of the type, or its signature fails.
    #[error(transparent)]
    Signed(#[from] CoseError),
    /// The signer is not the node key the record names.
    #[error("the record is signed by another key than its node key")]
    SignerNotNode,
    /// More than [`MAX_ADDRESSES`] addresses.
    #[error("{count} addresses, at most {MAX_ADDRESSES} allowed")]
    TooManyAddresses {
        /// How many.
        count: usize,
    },
    /// An address is empty, longer than [`MAX_ADDRESS_LEN`], or does not end in the node's
    /// `/p2p/` component.
    #[error("address {index} is not an address of the node")]
    BadAddress {
        /// Its position.
        index: usize,
    },
    /// The record is stored under the DHT key of another node.
    #[error("the record is stored under another node's key")]
    WrongDhtKey,
    /// The record names another party than the one looked up.
    #[error("the record is for {found}, not {expected}")]
    WrongParty {
        /// The party looked up.
        expected: PartyId,
        /// The party the record names.
        found: PartyId,
    },
    /// The key is not a `node` key of the party now.
    #[error("not a node key of the party: {0}")]
    NotANodeKey(KeyUseError),
}

impl WireError for AddressRecordError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } | Self::TooManyAddresses { .. } => ErrorCode::TooLarge,
            Self::Signed(e) => e.code(),
            Self::NotANodeKey(_) | Self::WrongParty { .. } => ErrorCode::KeyNotValid,
            Self::SignerNotNode | Self::BadAddress { .. } | Self::WrongDhtKey => {
                ErrorCode::BadSignedObject
            }
        }
    }
}

impl AddressRecord {
    /// Checks the record's own rules: at most [`MAX_ADDRESSES`] addresses, each non-empty, at
    /// most [`MAX_ADDRESS_LEN`] bytes and ending in the node's [`p2p_suffix`].
    pub fn check_content(&self) -> Result<(), AddressRecordError> {
        if self.addresses.len() > MAX_ADDRESSES {
            return Err(AddressRecordError::TooManyAddresses {
                count: self.addresses.len(),
            });
        }
        let suffix = p2p_suffix(&self.node);
        for (index, address) in self.addresses.iter().enumerate() {
            // The suffix alone is not an address: something must say where.
            if address.len() <= suffix.len()
                || address.len() > MAX_ADDRESS_LEN
                || !address.ends_with(&suffix)
            {
                return Err(AddressRecordError::BadAddress { index });
            }
        }
        Ok(())
    }

    /// Signs the record with `key`, which must be its node key.
    pub fn sign(self, key: &SecretKey) -> Result<Signed<Self>, UsageError> {
        if key.public_key() != self.node {
            return Err(UsageError::AddressRecord(
                "an address record is signed by its node key",
            ));
        }
        if self.check_content().is_err() {
            return Err(UsageError::AddressRecord(
                "an address record's addresses must be at most 16 of the node's own",
            ));
        }
        let signed = Signed::sign(self, ADDRESS_RECORD_CONTENT_TYPE, key)
            .map_err(|_| UsageError::AddressRecord("the address record cannot be encoded"))?;
        if signed.bytes().len() > MAX_RECORD_LEN {
            return Err(UsageError::AddressRecord(
                "the address record exceeds 4096 bytes",
            ));
        }
        Ok(signed)
    }

    /// Decodes a signed record and checks everything that needs no key log: the size, the
    /// COSE_Sign1 profile, the signature, that the signer is the record's node key, and the
    /// addresses. What a storing peer checks (with [`AddressRecord::check_dht_key`]).
    pub fn decode(bytes: &[u8]) -> Result<Signed<Self>, AddressRecordError> {
        if bytes.len() > MAX_RECORD_LEN {
            return Err(AddressRecordError::TooLarge { len: bytes.len() });
        }
        let signed: Signed<Self> =
            Signed::decode(bytes, ADDRESS_RECORD_CONTENT_TYPE, &Limits::DEFAULT)?;
        if *signed.signer() != signed.payload().node {
            return Err(AddressRecordError::SignerNotNode);
        }
        signed.payload().check_content()?;
        Ok(signed)
    }

    /// Checks that the record is stored under its own node's DHT key.
    pub fn check_dht_key(&self, key: &[u8]) -> Result<(), AddressRecordError> {
        if key == dht_key(&self.node).as_slice() {
            Ok(())
        } else {
            Err(AddressRecordError::WrongDhtKey)
        }
    }

    /// Checks, with the party's key event log, that the record speaks for `log`'s party and
    /// that its key is a `node` key of that party at `now`. What a looker checks after
    /// [`AddressRecord::decode`].
    pub fn check(&self, log: &KeyLog, now: Timestamp) -> Result<(), AddressRecordError> {
        if self.party != log.party() {
            return Err(AddressRecordError::WrongParty {
                expected: log.party(),
                found: self.party,
            });
        }
        log.check_key(&self.node, KeyPurpose::Node, now)
            .map_err(AddressRecordError::NotANodeKey)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestParty;

    fn address(node: &PublicKey) -> Vec<u8> {
        // /ip4/127.0.0.1/tcp/4001 then /p2p/<peer id>
        let mut a = vec![0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1];
        a.extend_from_slice(&p2p_suffix(node));
        a
    }

    fn record(party: &TestParty) -> AddressRecord {
        let node = party.node.public_key();
        AddressRecord {
            party: party.id(),
            node,
            seq: 7,
            issued_at: Timestamp::from_unix(1_800_000_000),
            addresses: vec![address(&node)],
        }
    }

    #[test]
    fn a_signed_record_round_trips_and_checks_against_its_key_log() {
        let now = Timestamp::from_unix(1_800_000_000);
        let a = TestParty::new("A", now);
        let signed = record(&a).sign(&a.node).unwrap();
        let decoded = AddressRecord::decode(signed.bytes()).unwrap();
        assert_eq!(decoded, signed);
        decoded
            .payload()
            .check_dht_key(&dht_key(&a.node.public_key()))
            .unwrap();
        decoded.payload().check(&a.log, now).unwrap();
        assert_eq!(
            node_of_dht_key(&dht_key(&a.node.public_key())),
            Some(a.node.public_key())
        );
    }

    #[test]
    fn every_mutation_of_the_signed_bytes_is_refused() {
        let now = Timestamp::from_unix(1_800_000_000);
        let a = TestParty::new("A", now);
        let bytes = record(&a).sign(&a.node).unwrap().bytes().to_vec();
        for i in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut m = bytes.clone();
                m[i] ^= bit;
                assert!(AddressRecord::decode(&m).is_err(), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn forged_wrong_party_and_bad_addresses_are_refused() {
        let now = Timestamp::from_unix(1_800_000_000);
        let (a, b) = (TestParty::new("A", now), TestParty::new("B", now));
        // B's node signs a record claiming to be A's: the signature is fine, the log is not.
        let mut claim = record(&b);
        claim.party = a.id();
        let forged = claim.sign(&b.node).unwrap();
        assert!(matches!(
            forged.payload().check(&a.log, now),
            Err(AddressRecordError::NotANodeKey(_))
        ));
        assert!(matches!(
            forged.payload().check(&b.log, now),
            Err(AddressRecordError::WrongParty { .. })
        ));
        // A's seal key is no node key.
        let mut by_seal = record(&a);
        by_seal.node = a.contract_seal.public_key();
        by_seal.addresses = vec![address(&by_seal.node)];
        let by_seal = by_seal.sign(&a.contract_seal).unwrap();
        assert!(matches!(
            by_seal.payload().check(&a.log, now),
            Err(AddressRecordError::NotANodeKey(_))
        ));
        // Signed by a key other than the one named.
        let mut other = record(&a);
        other.addresses.clear();
        let other = Signed::sign(other, ADDRESS_RECORD_CONTENT_TYPE, &b.node).unwrap();
        assert_eq!(
            AddressRecord::decode(other.bytes()),
            Err(AddressRecordError::SignerNotNode)
        );
        // An address of another node, and too many addresses.
        let mut foreign = record(&a);
        foreign.addresses = vec![address(&b.node.public_key())];
        assert!(foreign.clone().sign(&a.node).is_err());
        let foreign = Signed::sign(foreign, ADDRESS_RECORD_CONTENT_TYPE, &a.node).unwrap();
        assert_eq!(
            AddressRecord::decode(foreign.bytes()),
            Err(AddressRecordError::BadAddress { index: 0 })
        );
        let mut many = record(&a);
        many.addresses = vec![address(&a.node.public_key()); MAX_ADDRESSES + 1];
        let many = Signed::sign(many, ADDRESS_RECORD_CONTENT_TYPE, &a.node).unwrap();
        assert_eq!(
            AddressRecord::decode(many.bytes()),
            Err(AddressRecordError::TooManyAddresses { count: 17 })
        );
        // Stored under another node's key.
        let good = record(&a).sign(&a.node).unwrap();
        assert_eq!(
            good.payload().check_dht_key(&dht_key(&b.node.public_key())),
            Err(AddressRecordError::WrongDhtKey)
        );
        assert_eq!(
            AddressRecord::decode(&vec![0; MAX_RECORD_LEN + 1]),
            Err(AddressRecordError::TooLarge {
                len: MAX_RECORD_LEN + 1
            })
        );
    }
}
