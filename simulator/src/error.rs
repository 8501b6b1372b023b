//! Typed errors of the library, one enum per concern.

use std::path::PathBuf;

/// A network could not be built from the given parts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The tier and community vectors have different lengths.
    #[error("{firms} tiers but {communities} communities")]
    AttributeLength {
        /// Number of tiers given.
        firms: usize,
        /// Number of communities given.
        communities: usize,
    },
    /// More firms or edges than `u32` indices can address.
    #[error("network too large for 32-bit indices")]
    TooLarge,
    /// An edge names a firm that does not exist.
    #[error("edge names firm {firm} but there are only {firms} firms")]
    FirmOutOfRange {
        /// The firm named.
        firm: u32,
        /// Number of firms.
        firms: usize,
    },
    /// An edge joins a firm to itself.
    #[error("self-loop at firm {firm}")]
    SelfLoop {
        /// The firm.
        firm: u32,
    },
    /// Two edges join the same pair of firms.
    #[error("duplicate edge between firms {a} and {b}")]
    DuplicateEdge {
        /// Lower firm index.
        a: u32,
        /// Higher firm index.
        b: u32,
    },
    /// An edge has zero contracts per year.
    #[error("edge {buyer} -> {supplier} has zero contract volume")]
    ZeroVolume {
        /// Buyer.
        buyer: u32,
        /// Supplier.
        supplier: u32,
    },
}

/// A generator was given parameters it cannot honour.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// A parameter is outside its allowed range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name as in the scenario file.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The random-regular pairing failed to produce a simple graph after many restarts.
    #[error("no simple {degree}-regular graph found on {n} nodes after {attempts} attempts")]
    RegularFailed {
        /// Nodes.
        n: usize,
        /// Degree.
        degree: usize,
        /// Attempts made.
        attempts: usize,
    },
    /// The generated edges did not form a valid network.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// An edge-list or node-list file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EdgeListError {
    /// File-system error.
    #[error("{}", .path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Malformed CSV row.
    #[error("{}, line {line}: {reason}", .path.display())]
    Malformed {
        /// File.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The edges did not form a valid network.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// A scenario file could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// File-system error.
    #[error("{}", .path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// TOML syntax or schema error.
    #[error("{}: {message}", .path.display())]
    Parse {
        /// File.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// A sweep names a parameter path that does not exist or cannot take the value.
    #[error("sweep axis {path}: {reason}")]
    Sweep {
        /// Dotted parameter path.
        path: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A parameter value is out of range.
    #[error("invalid parameter {name}: {reason}")]
    Invalid {
        /// Parameter name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Running an experiment failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Network generation failed.
    #[error("generating network")]
    Generate(#[from] GenerateError),
    /// Importing a network failed.
    #[error("importing network")]
    Import(#[from] EdgeListError),
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

/// Writing outputs failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// File-system error.
    #[error("{}", .path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Serialisation error (JSON or CSV).
    #[error("{}: {message}", .path.display())]
    Encode {
        /// File.
        path: PathBuf,
        /// Message.
        message: String,
    },
    /// Chart rendering error.
    #[error("chart {}: {message}", .path.display())]
    Chart {
        /// File.
        path: PathBuf,
        /// Message.
        message: String,
    },
}

/// A sensitivity analysis could not be set up or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SensitivityError {
    /// A setting of the `[sensitivity]` table is out of range.
    #[error("sensitivity.{name}: {reason}")]
    Setting {
        /// Setting name.
        name: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// A factor names a parameter that the scenario does not have.
    #[error("sensitivity factor {path}: no such parameter in this scenario")]
    UnknownParameter {
        /// Dotted parameter path.
        path: String,
    },
    /// A factor names a parameter that is not a number or a list of numbers.
    #[error("sensitivity factor {path}: not a number or a list of numbers")]
    NotNumeric {
        /// Dotted parameter path.
        path: String,
    },
    /// A factor's range is empty, reversed or not finite.
    #[error("sensitivity factor {path}: range [{min}, {max}] needs finite min <= max")]
    Range {
        /// Dotted parameter path.
        path: String,
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
    /// A factor's range reaches values the model rejects.
    #[error("sensitivity factor {path} = {value}: {source}")]
    OutOfDomain {
        /// Dotted parameter path.
        path: String,
        /// The value (a multiplier for list parameters).
        value: f64,
        /// What the scenario check said.
        source: ScenarioError,
    },
    /// The scenario cannot be analysed (wrong model, or a sweep).
    #[error("sensitivity analysis: {0}")]
    Unsupported(String),
    /// A model run failed.
    #[error(transparent)]
    Run(#[from] RunError),
}
