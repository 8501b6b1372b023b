//! The Signet reference node: where bytes, disks and clocks live.
//!
//! The protocol crate (`signet-protocol`) decides what a party does, as pure functions. This
//! crate gives it a place to live, in layers, bottom up:
//!
//! - [`store`]: everything persistent, behind the narrow [`store::Store`] trait, with sled as
//!   the embedded default ([`store::SledStore`]), PostgreSQL as the alternative
//!   ([`store::PostgresStore`]) and an in-memory twin for tests ([`store::MemoryStore`]). An acknowledged write is on disk (group commit).
//!   [`store::trust`] saves verified key logs and attestations and rebuilds the protocol's
//!   `TrustStore` from them at start-up.
//! - [`keyfile`]: the node's own secret keys, as owner-only files written atomically.
//! - [`outbox`]: the durable outbox. Its scheduling logic is sans-clock (time and randomness
//!   are arguments); its entries live in the store.
//! - [`net`]: libp2p networking. One task owns the swarm; the rest of the node talks to it
//!   through a cloneable [`net::Client`] over bounded channels. Peers are authenticated
//!   against node keys in key event logs ([`net::PeerDirectory`]).
//!
//! - [`service`]: the node service that ties them to the protocol's sessions: inbound
//!   routing, persistence before acknowledgement, the outbox run against the network with a
//!   real clock, private document fetch, the evidence log, witness cosigning, attestations.
//!   Sessions persist as snapshots; open ones are restored at start, ended ones when asked
//!   for ([`service::journal`]).
//! - [`api`]: the local HTTP API over the service (bearer tokens, problem documents,
//!   OpenAPI, metrics).
//!
//! How the layers compose for a signing (protocol session → outbox → network → the
//! counterparty's session) is shown end to end in `tests/signing_over_libp2p.rs` (layers
//! only) and `tests/service_flows.rs` (the service).
//!
//! # Where I/O lives
//!
//! Disk I/O happens in [`store::SledStore`] and [`keyfile`] only (and database I/O in
//! [`store::PostgresStore`]); network I/O in the
//! [`net`] event loop only. [`outbox::Outbox`] touches the disk through the store it is given
//! and never reads a clock. The [`service`] and [`api`] add no I/O of their own beyond
//! the witness's checkpoint file and the API's socket.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod certificate;
pub mod console;
pub mod keyfile;
pub mod net;
pub mod outbox;
pub mod pdf;
pub mod person;
pub mod report;
pub mod service;
pub mod store;
pub mod tls;
