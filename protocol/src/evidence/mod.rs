//! Evidence log, checkpoints and witness protocol (spec §10).
//!
//! The module is being assembled; see the module documentation of each part.

pub mod checkpoint;
pub mod cosignature;
pub mod event;
pub mod log;
pub mod merkle;
pub mod note;
pub mod witness;
