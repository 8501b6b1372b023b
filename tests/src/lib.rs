//! Cross-crate integration and conformance tests for Signet.
//!
//! The tests live in `tests/tests/`; the binaries `signet-vectors`, `signet-conformance` and
//! `signet-conformance-impl` in `src/bin/`. This library holds what they share: the complete
//! session transcripts that the CDDL test, the vectors and the conformance runner are built
//! from ([`transcript`]).

pub mod conformance;
pub mod runner;
pub mod transcript;
pub mod vectors;
