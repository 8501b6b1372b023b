//! Cross-crate integration and conformance tests for Signet live in `tests/tests/`.
//!
//! This library is empty on purpose: the tests are integration test targets.
