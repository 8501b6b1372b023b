//! The CRLs of the trust policy's CA roots, kept current by the node itself (spec §6.11.3
//! says a certificate-backed identity needs a current CRL of every CA on its path; how a
//! node gets one is node behaviour, described in the node's documentation).
//!
//! For each CA root the node learns where its CRL is published: the URL given when the root
//! was added (`signet policy ca add --crl-url`), else the `http://` CRL distribution points
//! of the CA-issued certificates it holds (parties' `ca-identity` paths) that the root
//! issued. It fetches the CRL at start, then again [`AHEAD_OF_NEXT_UPDATE`] before the held
//! CRL's nextUpdate and at most [`REFRESH_INTERVAL`] after the last fetch, backing off from
//! [`RETRY_FIRST`] to [`RETRY_MOST`] after failures ([`next_fetch`]).
//!
//! The same holds for each intermediate CA seen in a party's `ca-identity` path that
//! validates to a root of the policy ([`MAX_INTERMEDIATES`] at most): its CRL is fetched from
//! the `http://` distribution points of the certificates it issued in those paths, and taken
//! only when it verifies under the intermediate's key. Without a current CRL of every CA on
//! a path, the identity is not trusted (Indeterminate, `FreshCrl`), as for a root.
//!
//! A CRL, fetched or given (`signet policy crl add`), is taken only when it verifies under
//! the key of a root or of such an intermediate ([`chain::verify_crl`]), is current
//! (thisUpdate not in the future, a nextUpdate not passed) and is newer than the one held
//! ([`CrlInfo::is_newer_than`]). It is then written to `DIR/crls` (a temporary file renamed
//! into place, so a crash leaves the old one or the new one) and added to the trust store at
//! once: the next trust evaluation uses it, without a restart. Anything refused changes
//! nothing, and is reported in the root's or intermediate's [`CrlStatus`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use der::{Decode as _, Encode as _};
use serde::Serialize;
use signet_protocol::Timestamp;
use signet_protocol::attestation::{Attestation, Claims};
use signet_protocol::cose::Signed;
use signet_protocol::trust::MAX_CRL_LEN;
use signet_protocol::x509::chain::{self, CrlError, CrlInfo};
use tokio::sync::watch;
use x509_cert::Certificate;

use super::pdf::{CrlFetchError, fetch_crl};
use super::{Service, ServiceError, config, now};
use crate::certificate::pem_blocks;

/// The longest time between two fetches of a root's CRL: an hour.
pub const REFRESH_INTERVAL: u64 = 3600;
/// How long before the held CRL's nextUpdate the next one is fetched: ten minutes.
pub const AHEAD_OF_NEXT_UPDATE: u64 = 600;
/// The wait after a first failure (and the least wait between two fetches): a minute.
pub const RETRY_FIRST: u64 = 60;
/// The longest wait after repeated failures: an hour.
pub const RETRY_MOST: u64 = 3600;
/// The most distribution points tried for one root or intermediate CA.
pub const MAX_CRL_URLS: usize = 4;
/// The most intermediate CAs whose CRLs the node keeps (those first found in the
/// attestations held).
pub const MAX_INTERMEDIATES: usize = 16;
/// How far in the future a CRL's thisUpdate may be (clock skew): five minutes.
const CLOCK_SKEW: u64 = 300;

/// When to fetch a root's CRL next, after a fetch at `now` that left the CRL with
/// nextUpdate `next_update` held and `failures` failures in a row (0 after a success).
pub fn next_fetch(now: Timestamp, next_update: Option<Timestamp>, failures: u32) -> Timestamp {
    if failures > 0 {
        let doublings = (failures - 1).min(16);
        return now.plus((RETRY_FIRST << doublings).min(RETRY_MOST));
    }
    let regular = now.plus(REFRESH_INTERVAL);
    match next_update {
        Some(next) => {
            let ahead = Timestamp::from_unix(next.unix().saturating_sub(AHEAD_OF_NEXT_UPDATE));
            regular.min(ahead.max(now.plus(RETRY_FIRST)))
        }
        None => regular,
    }
}

/// Why a CRL is not taken. Nothing is written or applied then.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrlRefused {
    /// The input holds no CRL, or several.
    #[error("give one crl (der, or pem `X509 CRL`)")]
    NotOne,
    /// Larger than a node takes.
    #[error("a crl of {0} bytes is larger than the {MAX_CRL_LEN} a node takes")]
    TooLarge(usize),
    /// Not a DER X.509 CRL.
    #[error("not a der x.509 crl")]
    Malformed,
    /// The CRL's issuer is not the subject of any CA root of the policy, nor of an
    /// intermediate CA on a path to one.
    #[error(
        "the crl's issuer ({0}) is no ca root of the policy, nor an intermediate ca on a path to one"
    )]
    NoRoot(String),
    /// It does not verify as the CA's CRL.
    #[error("not a crl of the ca {root:?}: {error}")]
    NotTheRoots {
        /// The root's name, or the intermediate CA's subject.
        root: String,
        /// Why.
        error: CrlError,
    },
    /// Without nextUpdate it is never current.
    #[error("the crl has no nextUpdate, so it is never current")]
    NoNextUpdate,
    /// Its nextUpdate has passed: stale.
    #[error("the crl is stale: its nextUpdate {0} has passed")]
    Stale(Timestamp),
    /// Its thisUpdate is in the future.
    #[error("the crl's thisUpdate {0} is in the future")]
    NotYetIssued(Timestamp),
    /// Not newer than the CRL held from the same root.
    #[error("the crl is not newer than the one held (thisUpdate {held})")]
    NotNewer {
        /// The held CRL's thisUpdate.
        held: Timestamp,
    },
    /// A CA's URL served the CRL of another CA (taken for that CA).
    #[error("{url} serves the crl of another ca, {root:?}")]
    OtherRoot {
        /// The URL.
        url: String,
        /// The root whose CRL it served.
        root: String,
    },
    /// Nowhere to fetch the CA's CRL from.
    #[error(
        "no crl url is known: give one with `signet policy ca add --crl-url`, or hold a certificate the ca issued with an http crl distribution point"
    )]
    NoUrl,
    /// Fetching failed.
    #[error("fetching {url}: {error}")]
    Fetch {
        /// From where.
        url: String,
        /// Why.
        error: CrlFetchError,
    },
    /// Writing it to `DIR/crls` failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// What the node knows about one CA root's CRL, as `signet policy ca list` shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrlStatus {
    /// The URL given with the root, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
    /// The held CRL's thisUpdate.
    pub this_update: Option<Timestamp>,
    /// The held CRL's nextUpdate.
    pub next_update: Option<Timestamp>,
    /// The held CRL's cRLNumber (hex).
    pub number: Option<String>,
    /// Where the held CRL came from: a URL, `file` (read from `DIR/crls` at start) or `api`.
    pub source: Option<String>,
    /// The last fetch attempt.
    pub last_fetch: Option<Timestamp>,
    /// Why the last fetch, or the last CRL given, was refused; none after a success.
    pub last_error: Option<String>,
    /// When the node fetches next.
    pub next_fetch: Option<Timestamp>,
    /// Failed fetches in a row.
    #[serde(skip)]
    failures: u32,
    /// Whether the last fetch found no URL to fetch from.
    #[serde(skip)]
    no_url: bool,
}

impl CrlStatus {
    /// A root's status before any CRL: its configured URL, if any.
    pub(super) fn of_url(crl_url: Option<String>) -> Self {
        Self {
            crl_url,
            ..Self::default()
        }
    }
}

/// What taking a CRL did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlTaken {
    /// The root whose CRL it is (its name), or the intermediate CA (its subject).
    pub root: String,
    /// Whether it is an intermediate CA's CRL.
    pub intermediate: bool,
    /// Its thisUpdate and nextUpdate.
    pub info: CrlInfo,
    /// False when exactly this CRL was held already.
    pub changed: bool,
}

/// The CRL statuses of the policy's roots, by root name; with the wake-up of the loop that
/// fetches them.
#[derive(Debug, Default)]
pub(super) struct CrlState {
    roots: std::sync::Mutex<BTreeMap<String, CrlStatus>>,
    /// The intermediate CAs' statuses, by subject (RFC 4514).
    intermediates: std::sync::Mutex<BTreeMap<String, CrlStatus>>,
    wake: tokio::sync::Notify,
    /// Held while a CRL is checked, written and applied, so that two never race.
    taking: std::sync::Mutex<()>,
}

impl CrlState {
    /// The statuses at start: each root's configured URL, due at once.
    pub(super) fn new(roots: &[config::CaRootConfig]) -> Self {
        let state = Self::default();
        if let Ok(mut map) = state.roots.lock() {
            for root in roots {
                map.insert(root.name.clone(), CrlStatus::of_url(root.crl_url.clone()));
            }
        }
        state
    }
}

fn hex_number(info: &CrlInfo) -> Option<String> {
    info.number.as_ref().map(hex::encode_upper)
}

/// The nextUpdate of a CRL current at `now`: issued (give or take [`CLOCK_SKEW`]), its
/// nextUpdate not passed.
fn current(info: &CrlInfo, now: Timestamp) -> Result<Timestamp, CrlRefused> {
    let next_update = info.next_update.ok_or(CrlRefused::NoNextUpdate)?;
    if now >= next_update {
        return Err(CrlRefused::Stale(next_update));
    }
    if info.this_update > now.plus(CLOCK_SKEW) {
        return Err(CrlRefused::NotYetIssued(info.this_update));
    }
    Ok(next_update)
}

/// Refuses a CRL URL that is not `http://` (a CRL is signed; RFC 5280, 4.2.1.13, fetches
/// it over plain HTTP).
pub(super) fn check_crl_url(url: &str) -> Result<(), ServiceError> {
    match super::webhook::endpoint(url) {
        Ok(endpoint) if !endpoint.tls => Ok(()),
        _ => Err(ServiceError::Usage(format!(
            "a crl url is an http:// url: {url:?}"
        ))),
    }
}

/// An intermediate CA on a party's `ca-identity` path that validates to a root of the policy.
#[derive(Debug, Clone)]
struct Intermediate {
    /// Its subject (RFC 4514): the key of its status.
    name: String,
    /// The name of the root its path ends at.
    root: String,
    certificate: Certificate,
    /// The `http://` distribution points of the certificates it issued in the paths held.
    urls: Vec<String>,
}

/// An intermediate CA's status as the node's list of roots shows it, under its root.
#[derive(Debug, Clone, Serialize)]
pub struct IntermediateStatus {
    /// Its subject (RFC 4514).
    pub subject: String,
    /// The name of the root its path ends at.
    pub root: String,
    /// Its CRL's status.
    pub crl: CrlStatus,
}

/// The newest CRL among `held` (DER) that verifies under `root`.
fn newest_of(held: &[&[u8]], root: &Certificate) -> Option<(CrlInfo, Vec<u8>)> {
    held.iter()
        .filter_map(|der| Some((chain::verify_crl(der, root).ok()?, der.to_vec())))
        .reduce(|a, b| if b.0.is_newer_than(&a.0) { b } else { a })
}

impl Service {
    pub(super) fn crl_state(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, BTreeMap<String, CrlStatus>>, ServiceError> {
        self.crls
            .roots
            .lock()
            .map_err(|_| ServiceError::Internal("crl state lock"))
    }

    /// The policy's roots, parsed, with their names.
    fn parsed_roots(&self) -> Result<Vec<(String, Certificate)>, ServiceError> {
        Ok(self
            .core()?
            .policy
            .ca_roots
            .iter()
            .filter_map(|r| Some((r.name.clone(), Certificate::from_der(&r.certificate).ok()?)))
            .collect())
    }

    /// The CRL status of each root (see [`CrlStatus`]), by root name.
    pub fn crl_statuses(&self) -> Result<BTreeMap<String, CrlStatus>, ServiceError> {
        Ok(self.crl_state()?.clone())
    }

    /// Fills each root's and intermediate CA's status from the CRLs read from `DIR/crls` at
    /// start.
    pub(super) fn note_held_crls(&self) -> Result<(), ServiceError> {
        let roots = self.parsed_roots()?;
        let mut held = Vec::new();
        {
            let core = self.core()?;
            for (name, root) in &roots {
                let Ok(subject) = root.tbs_certificate().subject().to_der() else {
                    continue;
                };
                if let Some((info, _)) = newest_of(&core.trust.crls_of(&subject), root) {
                    held.push((name.clone(), info));
                }
            }
        }
        let mut held_below = Vec::new();
        {
            let intermediates = self.intermediates()?;
            let core = self.core()?;
            for intermediate in intermediates {
                let certificate = &intermediate.certificate;
                let Ok(subject) = certificate.tbs_certificate().subject().to_der() else {
                    continue;
                };
                if let Some((info, _)) = newest_of(&core.trust.crls_of(&subject), certificate) {
                    held_below.push((intermediate.name, info));
                }
            }
        }
        let note = |state: &mut BTreeMap<String, CrlStatus>, held: Vec<(String, CrlInfo)>| {
            for (name, info) in held {
                let status = state.entry(name).or_default();
                status.this_update = Some(info.this_update);
                status.next_update = info.next_update;
                status.number = hex_number(&info);
                status.source = Some("file".into());
            }
        };
        note(&mut *self.crl_state()?, held);
        note(
            &mut *self
                .crls
                .intermediates
                .lock()
                .map_err(|_| ServiceError::Internal("crl state lock"))?,
            held_below,
        );
        Ok(())
    }

    /// Takes a CRL (DER, or PEM `X509 CRL`) of a CA root of the policy, from `source` (a URL,
    /// or `api`): checks it (see the [module documentation](self)), writes it to `DIR/crls`
    /// and applies it to trust decisions at once.
    ///
    /// # Errors
    ///
    /// [`CrlRefused`]; nothing is written or applied then, and the root's status records
    /// why.
    pub fn take_crl(&self, bytes: &[u8], source: &str) -> Result<CrlTaken, CrlRefused> {
        let taking = self.crls.taking.lock();
        let result = self.check_and_store(bytes, source, now());
        drop(taking);
        let statuses = |intermediate: bool| {
            if intermediate {
                self.crls.intermediates.lock()
            } else {
                self.crls.roots.lock()
            }
        };
        match &result {
            Ok(taken) => {
                if let Ok(mut state) = statuses(taken.intermediate) {
                    let status = state.entry(taken.root.clone()).or_default();
                    if taken.changed {
                        status.source = Some(source.to_string());
                    }
                    status.this_update = Some(taken.info.this_update);
                    status.next_update = taken.info.next_update;
                    status.number = hex_number(&taken.info);
                    status.last_error = None;
                }
            }
            Err((Some((root, intermediate)), error)) => {
                if let Ok(mut state) = statuses(*intermediate) {
                    state.entry(root.clone()).or_default().last_error =
                        Some(format!("{source}: {error}"));
                }
            }
            Err((None, _)) => {}
        }
        result.map_err(|(_, e)| e)
    }

    /// [`Service::take_crl`] without the status; a refusal names the CA when it is known
    /// (and whether it is an intermediate).
    fn check_and_store(
        &self,
        bytes: &[u8],
        source: &str,
        now: Timestamp,
    ) -> Result<CrlTaken, (Option<(String, bool)>, CrlRefused)> {
        let blocks = pem_blocks(bytes, "X509 CRL");
        let [der] = blocks.as_slice() else {
            return Err((None, CrlRefused::NotOne));
        };
        if der.len() > MAX_CRL_LEN {
            return Err((None, CrlRefused::TooLarge(der.len())));
        }
        let list = <x509_cert::crl::CertificateList>::from_der(der)
            .map_err(|_| (None, CrlRefused::Malformed))?;
        let issuer = &list.tbs_cert_list.issuer;
        let roots = self
            .parsed_roots()
            .map_err(|_| (None, CrlRefused::Malformed))?;
        let intermediates = self
            .intermediates()
            .map_err(|_| (None, CrlRefused::Malformed))?;
        let issuers = roots
            .into_iter()
            .map(|(name, root)| (name, root, false))
            .chain(
                intermediates
                    .into_iter()
                    .map(|i| (i.name, i.certificate, true)),
            );
        let mut refusal = (None, CrlRefused::NoRoot(issuer.to_string()));
        let mut found = None;
        for (name, root, intermediate) in issuers {
            if root.tbs_certificate().subject() != issuer {
                continue;
            }
            match chain::verify_crl(der, &root) {
                Ok(info) => {
                    found = Some((name.clone(), root, info, intermediate));
                    break;
                }
                Err(error) => {
                    refusal = (
                        Some((name.clone(), intermediate)),
                        CrlRefused::NotTheRoots {
                            root: name.clone(),
                            error,
                        },
                    );
                }
            }
        }
        let Some((name, root, info, intermediate)) = found else {
            return Err(refusal);
        };
        let root = &root;
        let refused = |e| (Some((name.clone(), intermediate)), e);
        let next_update = current(&info, now).map_err(refused)?;
        let subject = issuer
            .to_der()
            .map_err(|_| refused(CrlRefused::Malformed))?;
        let held = {
            let core = self.core().map_err(|_| refused(CrlRefused::Malformed))?;
            newest_of(&core.trust.crls_of(&subject), root)
        };
        if let Some((held, held_der)) = &held {
            if held_der == der {
                return Ok(CrlTaken {
                    root: name,
                    intermediate,
                    info,
                    changed: false,
                });
            }
            if !info.is_newer_than(held) {
                return Err(refused(CrlRefused::NotNewer {
                    held: held.this_update,
                }));
            }
        }
        let folder = self.dir.join(config::CRL_DIR);
        let path = write_atomically(&folder, der).map_err(refused)?;
        self.core()
            .map_err(|_| refused(CrlRefused::Malformed))?
            .trust
            .add_crl(der)
            .map_err(|_| refused(CrlRefused::Malformed))?;
        remove_superseded(&folder, &path, root, &info);
        tracing::info!(root = %name, %source, this_update = %info.this_update, next_update = %next_update, revoked = info.revoked, "took a new CRL");
        Ok(CrlTaken {
            root: name,
            intermediate,
            info,
            changed: true,
        })
    }

    /// Where `root`'s CRL is fetched from: its configured URL, else the `http://`
    /// distribution points of the certificates it issued in the parties' `ca-identity`
    /// paths held (at most [`MAX_CRL_URLS`]). Only paths that validate to the root count: a
    /// party cannot make the node fetch a URL of its choosing by naming the root as the
    /// issuer of a certificate the root did not sign.
    fn crl_urls(&self, name: &str, root: &Certificate) -> Result<Vec<String>, ServiceError> {
        if let Some(url) = self.crl_state()?.get(name).and_then(|s| s.crl_url.clone()) {
            return Ok(vec![url]);
        }
        let subject = root.tbs_certificate().subject();
        let core = self.core()?;
        let Some(root_der) = core
            .policy
            .ca_roots
            .iter()
            .find(|r| r.name == name)
            .map(|r| vec![r.certificate.clone()])
        else {
            return Ok(Vec::new());
        };
        let at = now();
        let mut urls = Vec::new();
        for attestation in core.trust.attestations() {
            let Claims::CaIdentity(claims) = &attestation.payload().claims else {
                continue;
            };
            let Ok(path) = chain::validate(&claims.chain, &root_der, at) else {
                continue;
            };
            let below_root = path.certificates.len().saturating_sub(1);
            for certificate in &path.certificates[..below_root] {
                if certificate.tbs_certificate().issuer() != subject {
                    continue;
                }
                for url in crate::pdf::ltv::crl_urls(certificate) {
                    if url.starts_with("http://") && !urls.contains(&url) {
                        urls.push(url);
                        if urls.len() == MAX_CRL_URLS {
                            return Ok(urls);
                        }
                    }
                }
            }
        }
        Ok(urls)
    }

    /// The intermediate CAs of the parties' `ca-identity` paths held that validate, now, to
    /// a root of the policy (at most [`MAX_INTERMEDIATES`]), each with the `http://`
    /// distribution points of the certificates it issued in those paths (at most
    /// [`MAX_CRL_URLS`]). Only validated paths count, so a party can neither make the node
    /// fetch a URL of its choosing nor take a CRL under a key no root certified.
    fn intermediates(&self) -> Result<Vec<Intermediate>, ServiceError> {
        let core = self.core()?;
        let roots: Vec<Vec<u8>> = core
            .policy
            .ca_roots
            .iter()
            .map(|r| r.certificate.clone())
            .collect();
        let at = now();
        let mut found: Vec<(Vec<u8>, Intermediate)> = Vec::new();
        for attestation in core.trust.attestations() {
            let Claims::CaIdentity(claims) = &attestation.payload().claims else {
                continue;
            };
            let Ok(path) = chain::validate(&claims.chain, &roots, at) else {
                continue;
            };
            let Some(root) = core.policy.ca_roots.get(path.root) else {
                continue;
            };
            // Between the subject's certificate (0) and the root (last).
            for depth in 1..path.certificates.len().saturating_sub(1) {
                let certificate = &path.certificates[depth];
                let Ok(der) = certificate.to_der() else {
                    continue;
                };
                let index = match found.iter().position(|(d, _)| *d == der) {
                    Some(index) => index,
                    None if found.len() < MAX_INTERMEDIATES => {
                        found.push((
                            der,
                            Intermediate {
                                name: certificate.tbs_certificate().subject().to_string(),
                                root: root.name.clone(),
                                certificate: certificate.clone(),
                                urls: Vec::new(),
                            },
                        ));
                        found.len() - 1
                    }
                    None => continue,
                };
                let urls = &mut found[index].1.urls;
                for url in crate::pdf::ltv::crl_urls(&path.certificates[depth - 1]) {
                    if url.starts_with("http://")
                        && !urls.contains(&url)
                        && urls.len() < MAX_CRL_URLS
                    {
                        urls.push(url);
                    }
                }
            }
        }
        Ok(found.into_iter().map(|(_, i)| i).collect())
    }

    /// The CRL status of each intermediate CA whose CRL the node keeps (see
    /// [`Service::crl_statuses`] for the roots').
    pub fn intermediate_crl_statuses(&self) -> Result<Vec<IntermediateStatus>, ServiceError> {
        let intermediates = self.intermediates()?;
        let state = self
            .crls
            .intermediates
            .lock()
            .map_err(|_| ServiceError::Internal("crl state lock"))?;
        Ok(intermediates
            .into_iter()
            .map(|i| IntermediateStatus {
                crl: state.get(&i.name).cloned().unwrap_or_default(),
                subject: i.name,
                root: i.root,
            })
            .collect())
    }

    /// Fetches and takes the CRL of each root, then of each intermediate CA, whose fetch is
    /// due (every one when `all`), one after the other; returns each one's refusal, if any
    /// (named by root name or intermediate subject).
    pub async fn refresh_crls(
        self: &Arc<Self>,
        all: bool,
    ) -> Result<Vec<(String, CrlRefused)>, ServiceError> {
        let mut refused = Vec::new();
        let mut cas = Vec::new();
        for (name, root) in self.parsed_roots()? {
            let urls = self.crl_urls(&name, &root);
            cas.push((name, false, urls));
        }
        for intermediate in self.intermediates()? {
            cas.push((intermediate.name, true, Ok(intermediate.urls)));
        }
        for (name, intermediate, urls) in cas {
            let at = now();
            let states = if intermediate {
                &self.crls.intermediates
            } else {
                &self.crls.roots
            };
            let lock = || {
                states
                    .lock()
                    .map_err(|_| ServiceError::Internal("crl state lock"))
            };
            let due = lock()?
                .get(&name)
                .and_then(|s| s.next_fetch)
                .is_none_or(|next| next <= at);
            if !all && !due {
                continue;
            }
            let outcome = match urls {
                Ok(urls) => self.fetch_ca_crl(&name, urls).await,
                Err(_) => Err(CrlRefused::NoUrl),
            };
            let mut state = lock()?;
            let status = state.entry(name.clone()).or_default();
            status.last_fetch = Some(at);
            status.no_url = matches!(outcome, Err(CrlRefused::NoUrl));
            match outcome {
                Ok(()) => {
                    status.failures = 0;
                    status.last_error = None;
                }
                Err(error) => {
                    if matches!(error, CrlRefused::NoUrl) {
                        // Until a certificate it issued, with a distribution point, arrives.
                        tracing::debug!(root = %name, %error, "no CRL fetched");
                    } else {
                        tracing::warn!(root = %name, %error, "no current CRL taken");
                    }
                    status.failures = status.failures.saturating_add(1);
                    status.last_error = Some(error.to_string());
                    refused.push((name.clone(), error));
                }
            }
            status.next_fetch = Some(next_fetch(now(), status.next_update, status.failures));
        }
        Ok(refused)
    }

    /// Tries the CA `name`'s `urls` in turn until one gives a CRL that is taken (or is the
    /// one held).
    async fn fetch_ca_crl(
        self: &Arc<Self>,
        name: &str,
        urls: Vec<String>,
    ) -> Result<(), CrlRefused> {
        let mut last = CrlRefused::NoUrl;
        for url in urls {
            let bytes = match fetch_crl(&url).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    last = CrlRefused::Fetch { url, error };
                    continue;
                }
            };
            let this = self.clone();
            let source = url.clone();
            let taken = tokio::task::spawn_blocking(move || this.take_crl(&bytes, &source))
                .await
                .map_err(|_| CrlRefused::Malformed)?;
            match taken {
                Ok(taken) if taken.root == name => return Ok(()),
                // A CRL of another root at this root's URL changes nothing for this root.
                Ok(taken) => {
                    last = CrlRefused::OtherRoot {
                        url,
                        root: taken.root,
                    }
                }
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// After an attestation is taken: a party's `ca-identity` path may name a distribution
    /// point for a root that had none, so such roots are fetched at once, or an intermediate
    /// CA.
    pub(super) fn note_attestation<K>(&self, attestation: &Signed<Attestation, K>) {
        if !matches!(attestation.payload().claims, Claims::CaIdentity(_)) {
            return;
        }
        let Ok(mut state) = self.crls.roots.lock() else {
            return;
        };
        for status in state.values_mut().filter(|s| s.no_url) {
            status.no_url = false;
            status.next_fetch = None;
        }
        drop(state);
        if let Ok(mut state) = self.crls.intermediates.lock() {
            for status in state.values_mut().filter(|s| s.no_url) {
                status.no_url = false;
                status.next_fetch = None;
            }
        }
        // It may also name an intermediate CA not seen before, whose CRL is due at once.
        self.wake_crl_loop();
    }

    /// Wakes the loop that fetches CRLs (a root was added).
    pub(super) fn wake_crl_loop(&self) {
        self.crls.wake.notify_one();
    }

    /// Fetches each root's CRL when due ([`next_fetch`]), until `shutdown`.
    pub(super) async fn crl_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.refresh_crls(false).await {
                tracing::warn!(%error, "CRL refresh");
            }
            let at = now();
            let soonest_of = |states: &std::sync::Mutex<BTreeMap<String, CrlStatus>>| {
                states
                    .lock()
                    .ok()
                    .and_then(|s| s.values().filter_map(|s| s.next_fetch).min())
            };
            let soonest = [
                soonest_of(&self.crls.roots),
                soonest_of(&self.crls.intermediates),
            ]
            .into_iter()
            .flatten()
            .min()
            .map_or(REFRESH_INTERVAL, |next| next.seconds_since(at));
            let wait = Duration::from_secs(soonest.clamp(1, REFRESH_INTERVAL));
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                () = self.crls.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Writes `der` to `folder` under a name made of its digest, through a temporary file
/// renamed into place and synced; returns its path.
fn write_atomically(folder: &Path, der: &[u8]) -> Result<PathBuf, CrlRefused> {
    use std::io::Write as _;
    let digest = signet_protocol::Digest::of(der);
    let stem = hex::encode(&digest.as_bytes()[..16]);
    let path = folder.join(format!("{stem}.crl"));
    let temporary = folder.join(format!(".{stem}.tmp"));
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| CrlRefused::Io { path: p, source }
    };
    std::fs::create_dir_all(folder).map_err(io(folder))?;
    let mut file = std::fs::File::create(&temporary).map_err(io(&temporary))?;
    file.write_all(der).map_err(io(&temporary))?;
    file.sync_all().map_err(io(&temporary))?;
    std::fs::rename(&temporary, &path).map_err(io(&path))?;
    // The rename is durable once the folder is.
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(path)
}

/// Removes the files of `folder` holding only CRLs of `root` older than `newest` (kept in
/// `kept`), so that the folder does not grow with every refresh. A file that is not such a
/// CRL stays.
fn remove_superseded(folder: &Path, kept: &Path, root: &Certificate, newest: &CrlInfo) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path == kept || !path.is_file() {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let blocks = pem_blocks(&bytes, "X509 CRL");
        let superseded = !blocks.is_empty()
            && blocks.iter().all(|der| {
                chain::verify_crl(der, root).is_ok_and(|info| newest.is_newer_than(&info))
            });
        if superseded && let Err(error) = std::fs::remove_file(&path) {
            tracing::warn!(file = %path.display(), %error, "could not remove a superseded CRL");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + s)
    }

    #[test]
    fn a_crl_is_fetched_hourly_and_before_its_next_update() {
        // A CRL valid for a week: the regular hour.
        assert_eq!(
            next_fetch(t(0), Some(t(7 * 86_400)), 0),
            t(REFRESH_INTERVAL)
        );
        // One whose nextUpdate is in half an hour: ten minutes before it.
        assert_eq!(
            next_fetch(t(0), Some(t(1800)), 0),
            t(1800 - AHEAD_OF_NEXT_UPDATE)
        );
        // One about to lapse, or lapsed: a minute on, never in a tight loop.
        assert_eq!(next_fetch(t(0), Some(t(300)), 0), t(RETRY_FIRST));
        assert_eq!(next_fetch(t(1000), Some(t(0)), 0), t(1000 + RETRY_FIRST));
        // None held yet: the regular hour.
        assert_eq!(next_fetch(t(0), None, 0), t(REFRESH_INTERVAL));
    }

    #[test]
    fn only_a_current_crl_is_taken() {
        let crl = |this: u64, next: Option<u64>| CrlInfo {
            this_update: t(this),
            next_update: next.map(t),
            number: None,
            revoked: 0,
        };
        assert_eq!(current(&crl(0, Some(100)), t(50)).unwrap(), t(100));
        assert!(matches!(
            current(&crl(0, Some(100)), t(100)),
            Err(CrlRefused::Stale(at)) if at == t(100)
        ));
        assert!(matches!(
            current(&crl(0, None), t(50)),
            Err(CrlRefused::NoNextUpdate)
        ));
        // A little clock skew is allowed; a CRL from the future is not.
        assert!(current(&crl(1000 + CLOCK_SKEW, Some(9000)), t(1000)).is_ok());
        assert!(matches!(
            current(&crl(1001 + CLOCK_SKEW, Some(9000)), t(1000)),
            Err(CrlRefused::NotYetIssued(_))
        ));
    }

    #[test]
    fn failures_back_off_from_a_minute_to_an_hour() {
        let waits: Vec<u64> = (1..=8)
            .map(|n| next_fetch(t(0), Some(t(7 * 86_400)), n).seconds_since(t(0)))
            .collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(next_fetch(t(0), None, u32::MAX), t(RETRY_MOST));
        // Backing off never waits past the hour, even with a nextUpdate sooner: the held
        // CRL lapses then, and the identity is indeterminate until a fetch succeeds.
        assert!(next_fetch(t(0), Some(t(100)), 3) <= t(RETRY_MOST));
    }
}
