//! Global sensitivity analysis of the adoption model (`signet-sim sensitivity`).
//!
//! The analysis runs in three phases over the factors of the scenario's `[sensitivity]` table
//! ([`spec`]): Morris screening of every factor ([`morris`]), Sobol first- and total-order
//! indices of the `top` factors with the largest Morris effects ([`sobol`]), and
//! one-at-a-time sweeps of every factor that locate where the ranking of the deployment
//! models by total cost changes ([`study`]). Each model evaluation averages `runs`
//! replicate runs of every deployment model; with the default common seeding, replicate `r`
//! uses the random numbers of run `r` of `signet-sim run`, so the analysed function is
//! deterministic. [`report`] writes JSON, CSV and SVG files.
//!
//! The estimators are written for the unit cube and tested on functions with known indices
//! (Ishigami; linear and additive functions).

pub mod morris;
pub mod report;
pub mod sobol;
pub mod spec;
pub mod study;

pub use spec::{DEFAULT_FACTORS, Factor, FactorKind, Seeding, SensitivitySettings};
pub use study::{Progress, Report, Study};
