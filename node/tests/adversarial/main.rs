//! The catalogue of named attacks (issue: security). Each test is one attack, asserting the
//! precise error, that nothing was stored, and (for attacks on a running node) that the node
//! keeps serving. `docs/THREAT_MODEL.md` names the test behind each claim.
//!
//! | # | attack | where |
//! | --- | --- | --- |
//! | a01 | node-key squatting: another party's node key declared with its copied proof | [`resources`] |
//! | a02 | forged seal signature (a key not in the signer's log) | [`wire`] |
//! | a03 | forged intent proof (not the mandated delegate's key) | [`wire`] |
//! | a04 | signature with a retired (rotated) seal key | [`wire`] |
//! | a06 | a signature record replayed into another session | [`wire`] |
//! | a08 | a signature out of routing order | [`wire`] |
//! | a09 | a signer that is not a participant | [`wire`] |
//! | a10–a14 | mandate out of scope: seal, purpose, value, counterparty, time | [`wire`] |
//! | a15 | a signer whose identity attestation was revoked | [`wire`] |
//! | a19 | a proposal from an initiator the participant does not trust | [`wire`] |
//! | a22 | session-id squatting by a co-participant | [`wire`] |
//! | a23 | a node asked to sign under a revoked mandate | [`wire`] |
//! | a24 | a party signing alone without a covering mandate | [`wire`] |
//! | a25 | one node key in two parties' logs | [`resources`] |
//! | a26 | an attestation id collision across a restart | [`resources`] |
//! | a27 | a proposal asking for too many document bytes | [`resources`] |
//! | a28 | too many open sessions from one initiator | [`resources`] |
//! | a31 | an oversized message (items; bytes over the transport cap) | [`wire`] |
//! | a32 | deeply nested CBOR | [`wire`] |
//! | a33 | an unknown message kind | [`wire`] |
//! | a34 | a document requested by a non-participant | [`wire`] |
//! | a35 | message flooding | [`wire`] |
//! | a36 | gossip flooding with attestations nobody can use | [`resources`] |
//! | a38 | a revocation issued by someone other than the issuer | [`wire`] |
//! | a40–a43 | the API without, with a wrong, a read-only and a sign-only token attempting admin acts | [`api`] |
//! | b01 | a tampered document | [`offline`] |
//! | b02 | a fork of a key log inside a bundle | [`offline`] |
//! | b03 | a retroactive revocation the bundle's presenter leaves out | [`offline`] |
//! | b04 | an untrusted witness's cosignature | [`offline`] |
//! | b05 | a witness named twice, a party as its own witness | [`offline`] |
//! | b06 | a backdated signature with a retired seal, witnessed later | [`offline`] |
//! | b07 | a signature with a small-order component in R | [`offline`] |
//! | b08 | a rotation that does not match the pre-rotation commitment | [`offline`] |
//! | b09 | node-key squatting inside a key log | [`offline`] |
//! | b10 | an accreditation chain deeper than the policy allows | [`offline`] |
//! | b11 | endorsements below the threshold | [`offline`] |
//! | b12 | an expired identity attestation | [`offline`] |
//! | b13 | identity attestations by an issuer nobody trusts | [`offline`] |
//! | b14 | attestations flooding one subject | [`offline`] |
//! | b15 | witness equivocation | [`offline`] |
//! | b16 | checkpoint rollback | [`offline`] |
//! | b17 | a consistency proof of another log; another party's checkpoint | [`offline`] |
//! | b18 | a repeated acknowledgement | [`offline`] |
//! | b19 | an initiator the participant does not trust (in memory) | [`offline`] |
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

#[path = "../support/mod.rs"]
mod support;

mod api;
mod offline;
mod resources;
mod torsion;
mod wire;
mod world;
