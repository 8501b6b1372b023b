//! Empty: the check is the integration test in `tests/cddl.rs`.
