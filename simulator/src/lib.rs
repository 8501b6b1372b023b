//! `signet_sim`: the Signet adoption simulator.
//!
//! The crate generates or imports supply networks ([`generate`], [`edgelist`], [`network`]),
//! describes them ([`stats`]), runs the published contagion models that validate the engine
//! ([`contagion`]: Watts 2002, Granovetter 1978, Bass 1969) and the e-signature adoption model
//! under three deployment models ([`adoption`]), and runs scenario files and sweeps
//! ([`scenario`], [`experiment`]) into reproducible outputs ([`output`]). [`validate`] checks
//! the published models against their published or analytic results.
//!
//! Design: a run is a pure function of (scenario, point, run index): all randomness comes from
//! generators derived from the scenario's master seed ([`rng`]), runs execute in parallel but
//! their results are collected and reduced in index order, so outputs are byte-identical for
//! any thread count. Only the binary touches the terminal; the library writes files only in
//! [`output`] and reads them only in [`edgelist`] and [`scenario`].
#![deny(missing_docs)]
// Firm-indexed loops over several parallel per-firm arrays read more clearly with an index.
#![allow(clippy::needless_range_loop)]

pub mod adoption;
pub mod contagion;
pub mod edgelist;
pub mod error;
pub mod experiment;
pub mod generate;
pub mod network;
pub mod output;
pub mod protocol_mode;
pub mod rng;
pub mod scenario;
pub mod sensitivity;
pub mod stats;
pub mod validate;
