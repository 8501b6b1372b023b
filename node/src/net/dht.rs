//! Signet's DHT records: address records (spec §12.8) as the network layer checks them.
//!
//! The record itself, its signature and its rules are `signet_protocol::address`; here the
//! addresses are parsed as multiaddrs and checked to be the signing node's own.

use libp2p::{Multiaddr, kad};
use signet_protocol::PublicKey;
use signet_protocol::address::{self, AddressRecord};
use signet_protocol::cose::Signed;

use super::event_loop::peer_of;

/// The DHT key of `node`'s address record.
pub(super) fn record_key(node: &PublicKey) -> kad::RecordKey {
    kad::RecordKey::new(&address::dht_key(node))
}

/// The Unix time in milliseconds, for address record sequence numbers.
pub(super) fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Decodes and checks a DHT record value as the address record stored under `key`: its
/// signature, its DHT key and every address as a multiaddr of the signing node.
pub(super) fn verify_record(
    key: &[u8],
    value: &[u8],
) -> Result<(Signed<AddressRecord>, Vec<Multiaddr>), String> {
    let signed = AddressRecord::decode(value).map_err(|e| e.to_string())?;
    let record = signed.payload();
    record.check_dht_key(key).map_err(|e| e.to_string())?;
    let peer = super::peer_id_of(&record.node).ok_or("the node key is no libp2p key")?;
    let mut addresses = Vec::with_capacity(record.addresses.len());
    for bytes in &record.addresses {
        let address = Multiaddr::try_from(bytes.clone()).map_err(|e| e.to_string())?;
        if peer_of(&address) != Some(peer) {
            return Err("an address of another peer".into());
        }
        addresses.push(address);
    }
    Ok((signed, addresses))
}

#[cfg(test)]
mod tests {
    use signet_protocol::party::PartyId;
    use signet_protocol::{Digest, SecretKey, Timestamp};

    use super::*;

    #[test]
    fn a_record_checks_only_with_multiaddrs_of_its_own_node() {
        let key = SecretKey::from_seed(&[7; 32]);
        let peer = super::super::peer_id_of(&key.public_key()).unwrap();
        let party = PartyId::from_digest(Digest::of(b"party"));
        let record = |addresses: Vec<Vec<u8>>| AddressRecord {
            party,
            node: key.public_key(),
            seq: 1,
            issued_at: Timestamp::from_unix(1),
            addresses,
        };
        let good: Multiaddr = format!("/ip4/127.0.0.1/udp/4001/quic-v1/p2p/{peer}")
            .parse()
            .unwrap();
        let signed = record(vec![good.to_vec()]).sign(&key).unwrap();
        let dht_key = address::dht_key(&key.public_key());
        let (_, addresses) = verify_record(&dht_key, signed.bytes()).unwrap();
        assert_eq!(addresses, vec![good.clone()]);
        assert_eq!(peer_of(&good), Some(peer));
        // Under another key, or with bytes that end right but are no multiaddr.
        assert!(
            verify_record(
                &address::dht_key(&SecretKey::from_seed(&[8; 32]).public_key()),
                signed.bytes()
            )
            .is_err()
        );
        let mut junk = vec![0xff, 0xff];
        junk.extend_from_slice(&address::p2p_suffix(&key.public_key()));
        let junk = record(vec![junk]).sign(&key).unwrap();
        assert!(verify_record(&dht_key, junk.bytes()).is_err());
    }
}
