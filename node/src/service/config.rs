//! The node's configuration file (`signet.toml`) and the layout of a party directory.
//!
//! ```text
//! DIR/signet.toml      this configuration
//! DIR/keys/*.key       the party's secret keys (owner-only files, see crate::keyfile)
//! DIR/store/           the sled store (unless `[storage]` names PostgreSQL)
//! ```
//! The delegate's person key is never in `DIR`: `signet init` writes it to a separate file
//! for the person to keep, and the node is given it per signing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use signet_protocol::party::PartyId;
use signet_protocol::trust::{CaRoot, TrustAnchor, TrustPolicy};

use crate::store::{PostgresStore, SledStore, Store, StoreError};

/// The configuration file's name inside a party directory.
pub const CONFIG_FILE: &str = "signet.toml";

/// A trust anchor as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorConfig {
    /// The anchor's party id.
    pub party: String,
    /// A name for humans.
    pub name: String,
}

/// The trust policy as written in the configuration (the rest takes the protocol's defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyConfig {
    /// Parties whose identity attestations are accepted directly.
    #[serde(default)]
    pub anchors: Vec<AnchorConfig>,
    /// Issuers (and signers, for their own seals and mandates) must have published a
    /// revocation list at most this many days old; 0 turns the requirement off. Absent: the
    /// default, [`DEFAULT_REVOCATION_FRESHNESS_DAYS`].
    #[serde(default = "default_freshness")]
    pub revocation_freshness_days: u64,
    /// CA roots whose certificates identify parties that prove they hold the certified key
    /// (spec §6.11): `signet policy ca add`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_roots: Vec<CaRootConfig>,
    /// Every session of this party requires national algorithms (spec §8.2.5): it proposes
    /// only such sessions and refuses a proposal that does not require them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_national_algorithms: bool,
}

/// A CA root as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaRootConfig {
    /// A name for humans.
    pub name: String,
    /// The root certificate, DER in base64.
    pub certificate: String,
    /// Where the CA publishes its CRL (`http://`), fetched by the node to keep it current;
    /// absent: the CRL distribution points of the certificates the CA issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
}

/// The folder of a party directory holding the X.509 CRLs the node judges certificate
/// paths with (`signet policy crl add`), one DER file each.
pub const CRL_DIR: &str = "crls";

/// How old a revocation list may be by default: 7 days. Every node publishes its own list
/// every [`crate::service::REVOCATION_LIST_REFRESH`] and at every revocation.
pub const DEFAULT_REVOCATION_FRESHNESS_DAYS: u64 = 7;

fn default_freshness() -> u64 {
    DEFAULT_REVOCATION_FRESHNESS_DAYS
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            anchors: Vec::new(),
            revocation_freshness_days: DEFAULT_REVOCATION_FRESHNESS_DAYS,
            ca_roots: Vec::new(),
            require_national_algorithms: false,
        }
    }
}

/// An API token, stored as the SHA-256 of the token (hex) with its scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenConfig {
    /// SHA-256 of the token, hex.
    pub sha256: String,
    /// `read` (list and fetch), `sign` (run sessions) or `admin` (also mandates,
    /// attestations, revocations, key rotation, imports, peers).
    pub scope: String,
}

/// A webhook: where session events are POSTed, and the HMAC secret that signs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookConfig {
    /// An `http://` or `https://` URL.
    pub url: String,
    /// The HMAC-SHA256 key (this is why the configuration file is owner-only).
    pub secret: String,
    /// For `https://`: a PEM file of CA certificates trusted for this webhook in addition to
    /// the system's (a relative path is relative to the party directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// Limits on the HTTP API (the `[api_limits]` table; every field has a default).
///
/// Each token has its own budget of `requests_per_second`, refilled continuously, with
/// bursts up to `burst`; a caller over it gets `429 Too Many Requests` with `Retry-After`.
/// Failed authentications (no token, a malformed or unknown one) count per client address:
/// after `failed_auth_burst` of them, further attempts from that address are refused with 429
/// (whatever token they carry) until the budget refills at `failed_auth_per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiLimits {
    /// Requests per second per token; 0 turns the per-token limit off.
    pub requests_per_second: u32,
    /// Requests a token may make at once above its rate.
    pub burst: u32,
    /// Failed authentications per minute per client address, once the burst is spent.
    pub failed_auth_per_minute: u32,
    /// Failed authentications a client address may make before it is throttled.
    pub failed_auth_burst: u32,
    /// Largest request body on every route but session creation, in bytes.
    pub max_body_bytes: usize,
    /// Largest request body of `POST /v1/sessions` (documents travel base64 in JSON).
    pub max_upload_bytes: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            // The seed article's vendor allows 50 queries per second per application.
            requests_per_second: 50,
            burst: 100,
            failed_auth_per_minute: 10,
            failed_auth_burst: 10,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 48 * 1024 * 1024,
        }
    }
}

/// What the node accepts from its counterparties (`[peer_limits]` in `signet.toml`): a
/// proposal beyond these is refused before anything of it is stored or fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerLimits {
    /// The most bytes of documents one proposal may ask this node to fetch (the sum of the
    /// sizes it declares; each document is also capped at 1 GiB).
    pub max_session_document_bytes: u64,
    /// The most open sessions one initiator may have with this node as a participant.
    pub max_open_sessions_per_initiator: usize,
    /// How many times a document fetch is tried before the node gives up on it (until a
    /// restart, or `signet documents fetch`); each try restarts the document.
    pub max_fetch_attempts: u32,
}

impl Default for PeerLimits {
    fn default() -> Self {
        Self {
            max_session_document_bytes: 256 * 1024 * 1024,
            max_open_sessions_per_initiator: 1000,
            max_fetch_attempts: 10,
        }
    }
}

/// The node's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeConfig {
    /// The party's id.
    pub party: String,
    /// The party's legal name.
    pub legal_name: String,
    /// The party's registration number (USCC).
    pub registration: String,
    /// libp2p listen addresses.
    pub listen: Vec<String>,
    /// Peers to connect to at start: multiaddresses ending in `/p2p/<peer id>`.
    #[serde(default)]
    pub bootstrap: Vec<String>,
    /// The HTTP API's socket address (loopback by default).
    pub api: String,
    /// Whether this node cosigns other parties' checkpoints.
    #[serde(default)]
    pub witness: bool,
    /// API tokens (hashed).
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Webhooks for session events.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    /// The trust policy.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Limits on the HTTP API.
    #[serde(default)]
    pub api_limits: ApiLimits,
    /// Limits on what counterparties may ask of this node.
    #[serde(default)]
    pub peer_limits: PeerLimits,
    /// The web console.
    #[serde(default)]
    pub console: ConsoleConfig,
    /// TLS for the API and console listener: required when `api` is not a loopback address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_tls: Option<ApiTls>,
    /// PDF seals and certificates.
    #[serde(default)]
    pub pdf: PdfConfig,
    /// Where the node keeps its data (`[storage]`): sled in `DIR/store/` unless told
    /// otherwise.
    #[serde(default, skip_serializing_if = "StorageConfig::is_default")]
    pub storage: StorageConfig,
}

/// Where the node keeps its data (`[storage]` in `signet.toml`).
///
/// ```toml
/// [storage]
/// kind = "postgres"
/// url = "postgres://signet@db.internal/signet"
/// connections = 4   # optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StorageConfig {
    /// The embedded sled store in `DIR/store/` (the default). A struct variant, so that
    /// `deny_unknown_fields` refuses a `url` given with it.
    Sled {},
    /// A PostgreSQL database (see [`PostgresStore`]).
    Postgres {
        /// A `postgres://` URL or a libpq `key=value` connection string. Its password, if
        /// any, is why `signet.toml` is owner-only.
        url: String,
        /// How many connections the node keeps (default
        /// [`crate::store::DEFAULT_CONNECTIONS`]).
        #[serde(default = "default_connections")]
        connections: usize,
    },
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self::Sled {}
    }
}

fn default_connections() -> usize {
    crate::store::DEFAULT_CONNECTIONS
}

impl StorageConfig {
    fn is_default(&self) -> bool {
        *self == Self::Sled {}
    }

    /// Opens the store this names, for the party directory `dir`.
    pub fn open(&self, dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            Self::Sled {} => Arc::new(SledStore::open(dir.join("store"))?),
            Self::Postgres { url, connections } => {
                Arc::new(PostgresStore::open(url, *connections)?)
            }
        })
    }
}

/// PDF seals and the certificates this node issues (`[pdf]` in `signet.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PdfConfig {
    /// A font (OpenType or TrueType, a `.ttc` collection's first face) with the glyphs of
    /// the party's legal name, for a seal whose name is not Latin. Absent: the first of the
    /// usual Noto Sans CJK locations that exists.
    pub font: Option<std::path::PathBuf>,
    /// For a verifier: the URL where relying parties fetch its CRL (the API's
    /// `/v1/pdf/crl` behind a public address), written into the certificates it issues.
    pub crl_url: Option<String>,
    /// The party's registered seal image (PNG, with transparency, or JPEG; at most 4 MiB),
    /// drawn in its seals instead of the round seal drawn from its legal name.
    pub seal_image: Option<std::path::PathBuf>,
    /// The algorithms of the party's PDF seals: `esp256` (PAdES, the default) or `sm2`
    /// (national algorithms, spec §8.2.4.1): the node keeps an SM2 `pdf` key in
    /// `keys/pdf-sm2.key`, declares it, seals with it under the SM2 certificate and seal a
    /// verifier issued for it, and, as a verifier, certifies its verified parties' SM2 keys
    /// with its own SM2 CA. `[pdf.sm2]`, when given, takes precedence.
    pub algorithm: PdfAlgorithm,
    /// National algorithms (`[pdf.sm2]`): with it, the party seals PDFs with its SM2 key
    /// and certificate (SM2/SM3 detached PKCS #7, spec §8.2.4.1) instead of its P-256 key,
    /// and each seal carries a GB/T 38540 seal signature when a seal is given.
    pub sm2: Option<Sm2PdfConfig>,
}

/// The algorithms of a party's PDF seals (`[pdf] algorithm`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PdfAlgorithm {
    /// ECDSA P-256 with SHA-256: PAdES, checked by every PDF validator.
    #[default]
    Esp256,
    /// SM2 with SM3: national algorithms, checked by Signet and the openssl CLI.
    Sm2,
}

/// An SM2 PDF key with its certificate chain and electronic seal, from whichever CA issued
/// them (`[pdf.sm2]`; relative paths are under the node's directory). The node declares the
/// key in the party's key log as a `pdf` key when it starts, so that verifiers can tie its
/// signatures to the party (spec §4.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sm2PdfConfig {
    /// The SM2 key file (`signet-sm2-scalar:` and 64 hex digits, mode 0600).
    pub key: std::path::PathBuf,
    /// The key's X.509 certificate (DER or PEM), an SM2 certificate.
    pub certificate: std::path::PathBuf,
    /// The certificates above it, up to the root (DER or PEM), embedded in each signature.
    #[serde(default)]
    pub chain: Vec<std::path::PathBuf>,
    /// The electronic seal (`SESeal`, DER) the CA made that lists the certificate; each
    /// PDF seal then carries an `SES_Signature` over its byte range (spec §11.6).
    pub seal: Option<std::path::PathBuf>,
}

/// The web console (`[console]` in `signet.toml`), served on the API's listener under
/// `/console/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Whether the console is served.
    pub enabled: bool,
    /// The origin persons open the console at, e.g. `https://sign.example.com` (its host
    /// is the passkeys' relying party: keep it stable, passkeys are bound to it). Absent on
    /// a loopback listener: `http://localhost:<port>` (`https://` with `[api_tls]`).
    pub origin: Option<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            origin: None,
        }
    }
}

/// The API listener's TLS certificate and key (`[api_tls]`), PEM files, relative to the
/// party directory unless absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTls {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The configuration is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// It could not be read or written.
    #[error("configuration file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not valid TOML for a node configuration.
    #[error("configuration file {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A value is invalid.
    #[error("configuration: {0}")]
    Value(String),
}

impl NodeConfig {
    /// Reads `DIR/signet.toml`.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        let config: Self = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path,
            message: e.to_string(),
        })?;
        if let Some(t) = config
            .tokens
            .iter()
            .find(|t| !["read", "sign", "admin"].contains(&t.scope.as_str()))
        {
            return Err(ConfigError::Value(format!(
                "token scope {:?}: one of read, sign, admin",
                t.scope
            )));
        }
        Ok(config)
    }

    /// Writes `DIR/signet.toml`.
    pub fn save(&self, dir: &Path) -> Result<(), ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Syntax {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let io = |source| ConfigError::Io {
            path: path.clone(),
            source,
        };
        std::fs::write(&path, text).map_err(io)?;
        // Owner-only: it may hold webhook secrets.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)
    }

    /// The party id.
    pub fn party_id(&self) -> Result<PartyId, ConfigError> {
        self.party
            .parse()
            .map_err(|_| ConfigError::Value(format!("party id {:?}", self.party)))
    }

    /// The trust policy.
    pub fn trust_policy(&self) -> Result<TrustPolicy, ConfigError> {
        let mut anchors = Vec::new();
        for a in &self.policy.anchors {
            let party = a
                .party
                .parse()
                .map_err(|_| ConfigError::Value(format!("anchor party id {:?}", a.party)))?;
            anchors.push(TrustAnchor {
                party,
                name: a.name.clone(),
            });
        }
        let mut ca_roots = Vec::new();
        for root in &self.policy.ca_roots {
            use base64::Engine as _;
            let certificate = base64::engine::general_purpose::STANDARD
                .decode(root.certificate.trim())
                .map_err(|_| ConfigError::Value(format!("ca root {:?}: not base64", root.name)))?;
            ca_roots.push(CaRoot {
                name: root.name.clone(),
                certificate,
            });
        }
        let policy = TrustPolicy {
            revocation_freshness: (self.policy.revocation_freshness_days > 0)
                .then(|| self.policy.revocation_freshness_days.saturating_mul(86_400)),
            ca_roots,
            ..TrustPolicy::with_anchors(anchors)
        };
        policy
            .check()
            .map_err(|e| ConfigError::Value(e.to_string()))?;
        Ok(policy)
    }
}
