//! Creating a party: keys, key event log, default seals, the delegate's mandate, the
//! configuration and the store (what `signet init` does).

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use signet_protocol::attestation::{Attestation, Claims, Delegate, Delegation};
use signet_protocol::keylog::{EcdsaP256Key, KeyDecl, KeyLog, LogSecretKey};
use signet_protocol::party::{AttestationId, PartyId};
use signet_protocol::registration::Registration;
use signet_protocol::seal::{SealInfo, SealKind};
use signet_protocol::trust::TrustStore;
use signet_protocol::{SecretKey, Timestamp};

use super::config::{NodeConfig, PolicyConfig, StorageConfig, TokenConfig};
use super::keys::PartyKeys;
use super::{ServiceError, random_bytes};
use crate::certificate::PartyCertificate;
use crate::keyfile::{self, Replace};
use crate::store::trust::{save_attestation, save_key_log};

/// Purposes the default seal mandate covers.
pub const DEFAULT_PURPOSES: [&str; 4] = ["procurement", "sales", "services", "general"];

/// The algorithm of a party's seals (spec §4.3.2), of its attest key (spec §3.3) or of a
/// person's key (spec §5.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SealAlgorithm {
    /// Ed25519 (the default).
    #[default]
    Ed25519,
    /// SM2 with SM3 (GB/T 32918), as PRC rules on commercial cryptography expect; the
    /// signatures are COSE_Sign1 with private-use algorithm -98454 (spec §13.2).
    Sm2,
}

/// What `signet init` is given.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Legal name.
    pub legal_name: String,
    /// Unified social credit code (validated).
    pub registration: String,
    /// libp2p listen addresses.
    pub listen: Vec<String>,
    /// Bootstrap peers.
    pub bootstrap: Vec<String>,
    /// HTTP API address.
    pub api: String,
    /// Whether the node is a witness.
    pub witness: bool,
    /// The trust policy.
    pub policy: PolicyConfig,
    /// Where to write the delegate's person key (outside the party directory).
    pub delegate_key: PathBuf,
    /// Where to write the pre-committed next root key (outside the party directory: it is
    /// what takes the identity back if the node is ever compromised; keep it offline).
    pub next_root_key: PathBuf,
    /// The delegate's name.
    pub delegate_name: String,
    /// Mandate validity in days.
    pub mandate_days: u64,
    /// The algorithm of the contract and company seals.
    pub seal_algorithm: SealAlgorithm,
    /// The algorithm of the delegate's person key (an SM2 person signs intent proofs with
    /// SM2, spec §8.4.1).
    pub delegate_algorithm: SealAlgorithm,
    /// The algorithm of the party's attest key, which signs every attestation it issues
    /// (spec §3.3 rule 2: an SM2 attest key signs with SM2-with-SM3).
    pub attest_algorithm: SealAlgorithm,
    /// Where the party's data is kept (sled in the directory by default). A PostgreSQL
    /// database must not hold another party's data already.
    pub storage: StorageConfig,
    /// The party's CA-issued certificate, to bootstrap its identity from (spec §6.11): the
    /// key is declared in the key log, kept as `keys/certificate.pem`, and proves possession
    /// in a self-issued `ca-identity` attestation. An empty legal name or registration is
    /// taken from the certificate; one given must be the certificate's.
    pub certificate: Option<CertificateFiles>,
}

/// A certificate path file and its private key file.
#[derive(Debug, Clone)]
pub struct CertificateFiles {
    /// The path, PEM (the party's certificate first) or one DER certificate.
    pub chain: PathBuf,
    /// The private key, PKCS #8 or SEC1, PEM or DER.
    pub key: PathBuf,
    /// For an SM2 certificate, the GB/T 38540 electronic seal (`SESeal`, DER) its seal maker
    /// made listing the certificate: each PDF seal then carries an `SES_Signature` (spec
    /// §11.6).
    pub seal: Option<PathBuf>,
}

/// What `signet init` made.
#[derive(Debug)]
pub struct Initialised {
    /// The new party's id.
    pub party: PartyId,
    /// The API token with admin scope (mandates, attestations, revocations, rotation), shown
    /// once (only its SHA-256 is stored).
    pub admin_token: String,
    /// The API token with signing scope (sessions only), shown once.
    pub sign_token: String,
    /// A read-only API token, shown once.
    pub read_token: String,
    /// The party's legal name (from the certificate, when one was given).
    pub legal_name: String,
    /// Whether the party's identity rests on its CA-issued certificate.
    pub certificate_backed: bool,
}

fn key() -> Result<SecretKey, ServiceError> {
    Ok(SecretKey::from_seed(&random_bytes()?))
}

/// A fresh key of `algorithm`: a seal, the attest key or a person's key.
pub fn new_key(algorithm: SealAlgorithm) -> Result<LogSecretKey, ServiceError> {
    Ok(match algorithm {
        SealAlgorithm::Ed25519 => LogSecretKey::Ed25519(key()?),
        SealAlgorithm::Sm2 => LogSecretKey::Sm2(super::keys::new_sm2_key()?),
    })
}

/// A random API token (hex of 32 bytes).
pub fn new_token() -> Result<String, ServiceError> {
    Ok(hex::encode(random_bytes()?))
}

/// SHA-256 of a token, hex: what the configuration stores.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh attestation id.
pub fn new_attestation_id() -> Result<AttestationId, ServiceError> {
    let mut id = [0u8; 16];
    id.copy_from_slice(&random_bytes()?[..16]);
    Ok(AttestationId::from_bytes(id))
}

/// Creates a party in `dir`, which must not hold one yet.
pub fn init(
    dir: &Path,
    options: &InitOptions,
    now: Timestamp,
) -> Result<Initialised, ServiceError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| ServiceError::Usage(format!("{}: {e}", path.display())))
    };
    let certificate = match &options.certificate {
        Some(files) => {
            let key_file = zeroize::Zeroizing::new(read(&files.key)?);
            let certificate = PartyCertificate::new(&read(&files.chain)?, &key_file)
                .map_err(|e| ServiceError::Usage(format!("--certificate: {e}")))?;
            Some((certificate, key_file))
        }
        None => None,
    };
    let mut legal_name = options.legal_name.trim().to_string();
    let mut registration_text = options.registration.trim().to_string();
    if let Some((certificate, _)) = &certificate {
        let named = certificate.identity.legal_name.clone().unwrap_or_default();
        let code = certificate
            .identity
            .uscc
            .as_ref()
            .map(|r| r.number().to_string())
            .unwrap_or_default();
        if !legal_name.is_empty() && legal_name != named {
            return Err(ServiceError::Usage(format!(
                "the legal name {legal_name:?} is not the certificate's, {named:?}"
            )));
        }
        if !registration_text.is_empty() && registration_text != code {
            return Err(ServiceError::Usage(format!(
                "the registration {registration_text} is not the certificate's, {code}"
            )));
        }
        legal_name = named;
        registration_text = code;
    }
    if legal_name.is_empty() {
        return Err(ServiceError::Usage(
            "a legal name is needed (--name, or --certificate)".into(),
        ));
    }
    let registration = Registration::uscc(&registration_text)
        .map_err(|e| ServiceError::Usage(format!("registration number: {e}")))?;
    if dir.join(super::config::CONFIG_FILE).exists() {
        return Err(ServiceError::Usage(format!(
            "{} already holds a party",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| ServiceError::Usage(format!("{}: {e}", dir.display())))?;
    for (what, path) in [
        ("the delegate's key", &options.delegate_key),
        ("the next root key", &options.next_root_key),
    ] {
        outside(dir, path, what)?;
    }
    let next_root = key()?;
    let keys = PartyKeys {
        root: key()?,
        node: key()?,
        attest: new_key(options.attest_algorithm)?,
        log: key()?,
        contract_seal: new_key(options.seal_algorithm)?,
        company_seal: new_key(options.seal_algorithm)?,
        retired_seals: Vec::new(),
        pdf: Some(super::keys::new_pdf_key()?),
        // A witness's time-stamping key is declared at its first start (see `service::tsa`).
        tsa: None,
    };
    let delegate = new_key(options.delegate_algorithm)?;
    let mut decls = vec![
        KeyDecl::node(&keys.node, &keys.root.public_key()),
        KeyDecl::attest(keys.attest.public_key()),
        KeyDecl::log(keys.log.public_key()),
        KeyDecl::seal(
            keys.contract_seal.public_key(),
            SealInfo {
                kind: SealKind::Contract,
                name: format!("{legal_name} contract seal"),
                image: None,
            },
        ),
        KeyDecl::seal(
            keys.company_seal.public_key(),
            SealInfo {
                kind: SealKind::Company,
                name: format!("{legal_name} company seal"),
                image: None,
            },
        ),
    ];
    if let Some(pdf) = &keys.pdf {
        decls.push(KeyDecl::pdf(EcdsaP256Key::from_verifying_key(
            pdf.verifying_key(),
        )));
    }
    if let Some((certificate, _)) = &certificate {
        decls.push(certificate.secret.decl());
    }
    let log = KeyLog::incept(&keys.root, &next_root.public_key(), decls, now)
        .map_err(|e| ServiceError::Usage(e.to_string()))?;
    let party = log.party();
    let ca_identity = match &certificate {
        Some((certificate, _)) => Some(
            certificate
                .attestation(new_attestation_id()?, &log, &keys.attest, now)
                .map_err(|e| ServiceError::Usage(format!("--certificate: {e}")))?,
        ),
        None => None,
    };
    let mandate = Attestation {
        id: new_attestation_id()?,
        issuer: party,
        subject: party,
        issued_at: now,
        valid_from: now,
        valid_until: now.plus(options.mandate_days.max(1) * 86_400),
        claims: Claims::Delegation(Delegation {
            // The delegate's key is Ed25519 or SM2, both a person's key.
            delegate: Delegate {
                name: options.delegate_name.clone(),
                key: Some(delegate.public_key()),
                credential: None,
            },
            seals: vec![keys.contract_seal.public_key()],
            purposes: DEFAULT_PURPOSES.iter().map(|p| p.to_string()).collect(),
            value_cap: None,
            counterparties: None,
        }),
    }
    .issue(&keys.attest, &log)
    .map_err(|e| ServiceError::Usage(e.to_string()))?;
    // The store first: a database that holds another party's data stops `init` before any
    // key is written.
    let store = options.storage.open(dir)?;
    if !store.key_log_parties()?.is_empty() {
        return Err(ServiceError::Usage(
            "the configured storage already holds a party's data: give the new party a database of its own".into(),
        ));
    }
    keyfile::write_log_key(&options.delegate_key, &delegate, Replace::No)?;
    keyfile::write(&options.next_root_key, &next_root, Replace::No)?;
    keys.save(&dir.join("keys"), Replace::No)?;
    if let Some((_, key_file)) = &certificate {
        crate::certificate::write_key_file(
            &dir.join("keys")
                .join(crate::certificate::CERTIFICATE_KEY_FILE),
            key_file,
        )
        .map_err(|e| ServiceError::Usage(e.to_string()))?;
    }
    save_key_log(&*store, &log)?;
    let mut trust = TrustStore::new();
    trust.add_key_log(log.clone());
    if !save_attestation(&*store, &mut trust, &mandate)?.is_held() {
        return Err(ServiceError::Internal("the first mandate was not taken"));
    }
    if let Some(a) = &ca_identity
        && !save_attestation(&*store, &mut trust, a)?.is_held()
    {
        return Err(ServiceError::Internal(
            "the certificate-backed identity was not taken",
        ));
    }
    drop(store);
    let admin_token = new_token()?;
    let sign_token = new_token()?;
    let read_token = new_token()?;
    let config = NodeConfig {
        party: party.to_string(),
        legal_name: legal_name.clone(),
        registration: registration.number().to_string(),
        listen: options.listen.clone(),
        bootstrap: options.bootstrap.clone(),
        api: options.api.clone(),
        witness: options.witness,
        tokens: vec![
            TokenConfig {
                sha256: token_hash(&admin_token),
                scope: "admin".into(),
            },
            TokenConfig {
                sha256: token_hash(&sign_token),
                scope: "sign".into(),
            },
            TokenConfig {
                sha256: token_hash(&read_token),
                scope: "read".into(),
            },
        ],
        webhooks: vec![],
        policy: options.policy.clone(),
        api_limits: Default::default(),
        peer_limits: Default::default(),
        console: Default::default(),
        api_tls: None,
        pdf: match &certificate {
            Some((certificate, _)) => national_pdf(dir, certificate, options)?,
            None => Default::default(),
        },
        storage: options.storage.clone(),
    };
    config.save(dir)?;
    Ok(Initialised {
        party,
        admin_token,
        sign_token,
        read_token,
        certificate_backed: ca_identity.is_some(),
        legal_name,
    })
}

/// The PDF configuration of a party whose identity rests on `certificate`: an SM2
/// certificate's key is also the party's SM2 PDF key (`[pdf.sm2]`, spec §8.2.4.1), so its
/// PDF seals are made by the key its CA certified, with the certificate path (and the seal,
/// when given) in `sm2/`; a P-256 certificate leaves the PDF configuration as it is.
fn national_pdf(
    dir: &Path,
    certificate: &PartyCertificate,
    options: &InitOptions,
) -> Result<super::config::PdfConfig, ServiceError> {
    let crate::certificate::CertificateSecret::Sm2(key) = &certificate.secret else {
        return Ok(Default::default());
    };
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, ServiceError> {
        let relative = Path::new("sm2").join(name);
        std::fs::create_dir_all(dir.join("sm2"))
            .and_then(|()| std::fs::write(dir.join(&relative), bytes))
            .map_err(|e| ServiceError::Usage(format!("{}: {e}", dir.join(&relative).display())))?;
        Ok(relative)
    };
    let key_file = Path::new("keys").join(super::pdf::SM2_PDF_KEY_FILE);
    keyfile::write_sm2(&dir.join(&key_file), key, Replace::No)?;
    let leaf = write("certificate.der", &certificate.chain[0])?;
    let chain = certificate.chain[1..]
        .iter()
        .enumerate()
        .map(|(i, der)| write(&format!("chain-{i}.der"), der))
        .collect::<Result<Vec<_>, _>>()?;
    let seal = match options.certificate.as_ref().and_then(|c| c.seal.as_ref()) {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| ServiceError::Usage(format!("--certificate-seal: {e}")))?;
            signet_protocol::ses::verify_seal(&bytes)
                .map_err(|e| ServiceError::Usage(format!("--certificate-seal: {e}")))?;
            let listed = signet_protocol::ses::seal_lists(&bytes, &certificate.chain[0])
                .map_err(|e| ServiceError::Usage(format!("--certificate-seal: {e}")))?;
            if !listed {
                return Err(ServiceError::Usage(
                    "--certificate-seal: the seal does not list the certificate".into(),
                ));
            }
            Some(write("seal.der", &bytes)?)
        }
        None => None,
    };
    Ok(super::config::PdfConfig {
        sm2: Some(super::config::Sm2PdfConfig {
            key: key_file,
            certificate: leaf,
            chain,
            seal,
        }),
        ..Default::default()
    })
}

/// Refuses `path` (for `what`) inside the party directory `dir`: a secret kept off the node
/// must not be written into it.
pub fn outside(dir: &Path, path: &Path, what: &str) -> Result<(), ServiceError> {
    let absolute = |p: &Path| -> Result<PathBuf, ServiceError> {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| ServiceError::Usage(format!("working directory: {e}")))?
                .join(p)
        };
        // Resolve what exists (the directory, the file's parent), so links and `..` count.
        let parent = p.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = p.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        Ok(match parent.canonicalize() {
            Ok(parent) => parent.join(name),
            Err(_) => p,
        })
    };
    let dir = dir
        .canonicalize()
        .map_err(|e| ServiceError::Usage(format!("{}: {e}", dir.display())))?;
    if absolute(path)?.starts_with(&dir) {
        return Err(ServiceError::Usage(format!(
            "{what} must be kept outside the party directory {} (it would sit beside the node's own keys): {}",
            dir.display(),
            path.display()
        )));
    }
    Ok(())
}
