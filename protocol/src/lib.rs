//! Signet's protocol core: what a party *does*, as pure functions.
//!
//! Signet lets enterprises sign contracts with each other while keeping their contracts,
//! seals and certificates on their own premises. This crate holds the protocol's data types,
//! their deterministic encoding, every signature and state check, and the trust decisions.
//! It does no I/O: no sockets, files, threads or clocks. Time and randomness come in as
//! arguments; results come out as values (objects to send, records to store, verdicts). The
//! same code runs in the node (`signet-node`), the simulator (`signet-sim`) and the
//! conformance tests, which is what makes the simulator and the specification testable.
//!
//! # Layers, bottom up
//!
//! - [`codec`]: deterministic CBOR (RFC 8949 §4.2.1) with a checker that refuses any other
//!   encoding, within hard limits, before anything is allocated.
//! - [`cose`]: the COSE_Sign1 (RFC 9052) profile: Ed25519, key id in the protected header,
//!   verification over the exact received bytes, typed by content type.
//! - [`crypto`], [`party`], [`time`], [`registration`]: keys, digests, identifiers,
//!   timestamps and registration numbers, each valid once built.
//! - [`sm2`]: SM2 signatures with SM3 and SM3 digests (GB/T 32918, GB/T 32905), for PDF
//!   keys and GB/T 38540 electronic seals.
//! - [`ses`]: GB/T 38540 electronic seals and seal signatures (SM2, SM3), made and verified.
//! - [`keylog`]: a party's hash-chained key event log with pre-rotation; answers whether a
//!   key was valid for a party, for a purpose, at a time.
//! - [`seal`], [`attestation`]: seals, and signed statements about parties (identity, seal
//!   certification, seal mandates, endorsements, accreditations, revocations).
//! - [`person`]: the keys persons sign intent with: a software Ed25519 key, or a WebAuthn
//!   passkey (ES256 or EdDSA).
//! - [`trust`]: the trust policy and the pure evaluation of a party's identity.
//! - [`session`]: one contract's signing flow: proposal, intent proofs, seal signatures,
//!   the state machine of the initiator and of each participant.
//! - [`evidence`]: each party's append-only evidence log (RFC 9162 Merkle tree), its signed
//!   checkpoints (C2SP signed notes) and the witness that cosigns them.
//! - [`address`]: a node's signed address record for the DHT (spec §12.8).
//! - [`bundle`]: one file with everything needed to verify a finished contract offline, and
//!   its verification report.
//! - [`transport`]: the byte layouts the node carries over libp2p (`/signet/msg/1`
//!   responses, document chunks, the key-log gossip payload) and the witness protocol's
//!   messages, with what a witness answers. The node owns the streams; this owns the bytes.
//! - [`error`]: caller-misuse errors and the wire error-code registry.
//!
//! Every message type's documentation names its section in `spec/`.
//!
//! # Example: a party created, attested and trusted
//!
//! ```
//! use signet_protocol::attestation::AssuranceLevel;
//! use signet_protocol::testkit::TestParty;
//! use signet_protocol::trust::{evaluate, TrustAnchor, TrustPolicy, TrustStore, Verdict};
//! use signet_protocol::Timestamp;
//!
//! let now = Timestamp::from_unix(1_800_000_000);
//! let mut ca = TestParty::new("Example CA", now);
//! let supplier = TestParty::new("Example Supplier", now);
//! let attestation = ca.verify_identity(&supplier, AssuranceLevel::High, now);
//!
//! // A buyer that trusts the CA accepts the supplier without verifying it again.
//! let mut policy = TrustPolicy::with_anchors(vec![TrustAnchor { party: ca.id(), name: "Example CA".into() }]);
//! policy.revocation_freshness = None;
//! let mut store = TrustStore::new();
//! store.add_key_log(ca.log.clone());
//! store.add_key_log(supplier.log.clone());
//! store.add_attestation(attestation);
//! assert!(matches!(evaluate(&policy, &store, &supplier.id(), now), Verdict::Trusted { .. }));
//! ```
//! (The example uses the `testkit` feature's deterministic test parties.)
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod address;
pub mod attestation;
pub mod bundle;
mod cbor_bytes;
pub mod codec;
mod codepoint;
pub mod cose;
pub mod crypto;
pub mod error;
pub mod evidence;
pub mod keylog;
pub mod party;
pub mod person;
pub mod registration;
pub mod rsa;
pub mod seal;
pub mod ses;
pub mod session;
pub mod sm2;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod time;
pub mod transport;
pub mod trust;
pub mod x509;

pub use crypto::{Digest, PublicKey, SecretKey, Signature};
pub use time::Timestamp;
