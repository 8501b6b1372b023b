//! A party's CA-issued certificate on disk (spec §6.11): the certificate path (PEM or DER),
//! its private key (SM2 or P-256 in PKCS #8 or SEC1, RSA in PKCS #8 or PKCS #1, PEM or DER,
//! as CAs and `openssl` write them), the
//! self-issued `ca-identity` attestation made from them, and the CRLs a node holds.
//!
//! The key file is kept in the party directory as `keys/certificate.pem`, owner-only, like
//! the party's other keys.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use const_oid::ObjectIdentifier as Oid;
use der::Decode;
use signet_protocol::Timestamp;
use signet_protocol::attestation::CertificateIdentity;
use signet_protocol::attestation::SignedAttestation;
use signet_protocol::keylog::{EcdsaP256Key, KeyDecl, KeyLog};
use signet_protocol::party::AttestationId;
use signet_protocol::rsa::RsaPublicKey;
use signet_protocol::sm2::Sm2SecretKey;
use signet_protocol::trust::TrustStore;
use signet_protocol::x509::chain::CertificateKey;
use signet_protocol::x509::identity::{CaIdentity, identity_of};
use zeroize::Zeroizing;

/// The certificate key's file in `DIR/keys`.
pub const CERTIFICATE_KEY_FILE: &str = "certificate.pem";

const ID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const SM2_CURVE: Oid = Oid::new_unwrap("1.2.156.10197.1.301");

/// Why a certificate or its key file is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateFileError {
    /// No certificate in the file, or one that is not DER X.509.
    #[error("the certificate file holds no x.509 certificate path")]
    Chain,
    /// The key file is not a private key Signet reads: SM2 or P-256 in PKCS #8 or SEC1,
    /// RSA of 2048 to 4096 bits in PKCS #8 or PKCS #1.
    #[error(
        "the key file is not an sm2 or p-256 private key (pkcs #8 or sec1) or an rsa private key of 2048 to 4096 bits (pkcs #8 or pkcs #1), pem or der"
    )]
    Key,
    /// The RSA key could not sign (the system's random source failed).
    #[error("the rsa key could not sign")]
    RsaSigning,
    /// The key is not the certificate's.
    #[error("the private key is not the certificate's key")]
    KeyMismatch,
    /// The certificate does not name a legal entity as spec §6.10.1 reads it.
    #[error("the certificate names no legal name and valid unified social credit code: {0}")]
    Identity(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The DER bodies of the PEM blocks labelled `label` in `bytes`; `bytes` itself when it is
/// not PEM text.
pub fn pem_blocks(bytes: &[u8], label: &str) -> Vec<Vec<u8>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return vec![bytes.to_vec()];
    };
    if !text.contains("-----BEGIN ") {
        return vec![bytes.to_vec()];
    }
    let (begin, end) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let body = &rest[start + begin.len()..];
        let Some(stop) = body.find(&end) else {
            break;
        };
        let base64: String = body[..stop].split_whitespace().collect();
        if let Ok(der) = B64.decode(base64) {
            blocks.push(der);
        }
        rest = &body[stop + end.len()..];
    }
    blocks
}

/// A certificate path file: PEM `CERTIFICATE` blocks, the party's first, or one DER
/// certificate.
///
/// # Errors
///
/// [`CertificateFileError::Chain`].
pub fn read_chain(bytes: &[u8]) -> Result<Vec<Vec<u8>>, CertificateFileError> {
    let chain = pem_blocks(bytes, "CERTIFICATE");
    if chain.is_empty()
        || chain
            .iter()
            .any(|der| x509_cert::Certificate::from_der(der).is_err())
    {
        return Err(CertificateFileError::Chain);
    }
    Ok(chain)
}

/// The private key of a party's certificate.
pub enum CertificateSecret {
    /// SM2.
    Sm2(Sm2SecretKey),
    /// ECDSA P-256.
    P256(p256::ecdsa::SigningKey),
    /// RSA (`ring` signs with keys of 2048 to 4096 bits), with its public key as a key log
    /// declares it.
    Rsa(ring::signature::RsaKeyPair, RsaPublicKey),
}

impl std::fmt::Debug for CertificateSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertificateSecret(..)")
    }
}

impl CertificateSecret {
    /// Reads a PKCS #8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) private key, PEM or DER,
    /// of SM2 (named by id-ecPublicKey with the SM2 curve, or by the SM2 OID) or P-256; or
    /// an RSA private key of 2048 to 4096 bits, PKCS #8 or PKCS #1 (`RSA PRIVATE KEY`).
    ///
    /// # Errors
    ///
    /// [`CertificateFileError::Key`].
    pub fn parse(bytes: &[u8]) -> Result<Self, CertificateFileError> {
        let mut candidates = pem_blocks(bytes, "PRIVATE KEY");
        candidates.extend(pem_blocks(bytes, "EC PRIVATE KEY"));
        let rsa_pkcs1 = Zeroizing::new(pem_blocks(bytes, "RSA PRIVATE KEY"));
        let candidates = Zeroizing::new(candidates);
        for der in candidates.iter() {
            if let Ok(pair) = ring::signature::RsaKeyPair::from_pkcs8(der) {
                return Self::rsa(pair);
            }
            if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(der) {
                let algorithm = info.algorithm.oid;
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<Oid>().ok());
                let curve = match (algorithm, curve) {
                    (ID_EC_PUBLIC_KEY, Some(curve)) => Some(curve),
                    (SM2_CURVE, _) => Some(SM2_CURVE),
                    _ => None,
                };
                if let Some(curve) = curve
                    && let Ok(key) = sec1::EcPrivateKey::from_der(info.private_key.as_bytes())
                {
                    return Self::from_scalar(curve, key.private_key);
                }
            }
            if let Ok(key) = sec1::EcPrivateKey::from_der(der)
                && let Some(sec1::EcParameters::NamedCurve(curve)) = key.parameters
            {
                return Self::from_scalar(curve, key.private_key);
            }
        }
        for der in rsa_pkcs1.iter().chain(candidates.iter()) {
            if let Ok(pair) = ring::signature::RsaKeyPair::from_der(der) {
                return Self::rsa(pair);
            }
        }
        Err(CertificateFileError::Key)
    }

    /// An RSA key pair whose public key a key log can declare (spec §4.3.2).
    fn rsa(pair: ring::signature::RsaKeyPair) -> Result<Self, CertificateFileError> {
        use ring::signature::KeyPair as _;
        let public = RsaPublicKey::from_der(pair.public_key().as_ref())
            .map_err(|_| CertificateFileError::Key)?;
        Ok(Self::Rsa(pair, public))
    }

    fn from_scalar(curve: Oid, scalar: &[u8]) -> Result<Self, CertificateFileError> {
        let scalar: Zeroizing<[u8; 32]> =
            Zeroizing::new(scalar.try_into().map_err(|_| CertificateFileError::Key)?);
        match curve {
            SM2_CURVE => Sm2SecretKey::from_bytes(&scalar)
                .map(Self::Sm2)
                .map_err(|_| CertificateFileError::Key),
            PRIME256V1 => p256::ecdsa::SigningKey::from_slice(&scalar[..])
                .map(Self::P256)
                .map_err(|_| CertificateFileError::Key),
            _ => Err(CertificateFileError::Key),
        }
    }

    /// The public key.
    pub fn public(&self) -> CertificateKey {
        match self {
            Self::Sm2(k) => CertificateKey::Sm2(k.public_key()),
            Self::P256(k) => {
                CertificateKey::P256(EcdsaP256Key::from_verifying_key(k.verifying_key()))
            }
            Self::Rsa(_, public) => CertificateKey::Rsa(public.clone()),
        }
    }

    /// The key's declaration in the party's key log: a `pdf` key.
    pub fn decl(&self) -> KeyDecl {
        match self {
            Self::Sm2(k) => KeyDecl::sm2_pdf(k.public_key()),
            Self::P256(k) => KeyDecl::pdf(EcdsaP256Key::from_verifying_key(k.verifying_key())),
            Self::Rsa(_, public) => KeyDecl::rsa_pdf(public.clone()),
        }
    }

    /// Signs `message`: SM2 with SM3 and the default identifier, or ECDSA P-256 with
    /// SHA-256 (DER); RSASSA-PKCS1-v1_5 with SHA-256 for RSA (spec §6.11.2).
    ///
    /// # Errors
    ///
    /// [`CertificateFileError::RsaSigning`] when the system's random source (RSA blinding)
    /// fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CertificateFileError> {
        match self {
            Self::Sm2(k) => Ok(k.sign(message).to_der()),
            Self::P256(k) => Ok(signet_protocol::x509::asn1::sign_der(k, message)),
            Self::Rsa(pair, _) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &ring::rand::SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(|_| CertificateFileError::RsaSigning)?;
                Ok(signature)
            }
        }
    }
}

/// A party's certificate path with its private key, checked to belong together and to
/// name a legal entity.
#[derive(Debug)]
pub struct PartyCertificate {
    /// The path, DER, the party's certificate first.
    pub chain: Vec<Vec<u8>>,
    /// Its private key.
    pub secret: CertificateSecret,
    /// The legal name and USCC the certificate names.
    pub identity: CaIdentity,
}

impl PartyCertificate {
    /// Reads and checks a certificate path file and its key file's contents.
    ///
    /// # Errors
    ///
    /// [`CertificateFileError`].
    pub fn new(chain_file: &[u8], key_file: &[u8]) -> Result<Self, CertificateFileError> {
        let chain = read_chain(chain_file)?;
        let secret = CertificateSecret::parse(key_file)?;
        let leaf =
            x509_cert::Certificate::from_der(&chain[0]).map_err(|_| CertificateFileError::Chain)?;
        if CertificateKey::of(leaf.tbs_certificate().subject_public_key_info())
            != Some(secret.public())
        {
            return Err(CertificateFileError::KeyMismatch);
        }
        let identity =
            identity_of(&chain[0]).map_err(|e| CertificateFileError::Identity(e.to_string()))?;
        if identity.uscc.is_none() || identity.legal_name.is_none() {
            return Err(CertificateFileError::Identity(
                "no legal name or no unified social credit code".into(),
            ));
        }
        Ok(Self {
            chain,
            secret,
            identity,
        })
    }

    /// The end of the party's certificate's validity.
    pub fn not_after(&self) -> Option<Timestamp> {
        let leaf = x509_cert::Certificate::from_der(&self.chain[0]).ok()?;
        Some(signet_protocol::x509::chain::timestamp_of(
            &leaf.tbs_certificate().validity().not_after,
        ))
    }

    /// The party's self-issued `ca-identity` attestation, valid from `now` until the
    /// certificate expires, signed with the attest key `attest` of `log`, which must
    /// declare the certificate's key.
    ///
    /// # Errors
    ///
    /// A message when the attestation cannot be issued (the key is not in the log, the
    /// certificate has expired).
    pub fn attestation(
        &self,
        id: AttestationId,
        log: &KeyLog,
        attest: &signet_protocol::keylog::LogSecretKey,
        now: Timestamp,
    ) -> Result<SignedAttestation, String> {
        let until = self
            .not_after()
            .filter(|t| *t > now)
            .ok_or("the certificate has expired")?;
        let mut failed = None;
        let attestation = CertificateIdentity::attestation(
            id,
            log.party(),
            now,
            until,
            self.chain.clone(),
            |m| {
                self.secret.sign(m).unwrap_or_else(|e| {
                    failed = Some(e);
                    Vec::new()
                })
            },
        );
        if let Some(error) = failed {
            return Err(error.to_string());
        }
        attestation.issue(attest, log).map_err(|e| e.to_string())
    }
}

/// Writes the certificate key file `bytes` to `path`, owner-only, refusing to replace one.
///
/// # Errors
///
/// [`CertificateFileError::Io`].
pub fn write_key_file(path: &Path, bytes: &[u8]) -> Result<(), CertificateFileError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let io = |source| CertificateFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Adds every CRL in `dir` (DER or PEM `X509 CRL` files) to `trust`; returns how many were
/// taken. A file that is not a CRL is skipped with a warning; a missing folder holds none.
pub fn load_crls(dir: &Path, trust: &mut TrustStore) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut taken = 0;
    for path in paths {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for der in pem_blocks(&bytes, "X509 CRL") {
            match trust.add_crl(&der) {
                Ok(_) => taken += 1,
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "not a CRL; skipped");
                }
            }
        }
    }
    taken
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn pem_blocks_are_read_in_order_and_der_passes_through() {
        let pem = format!(
            "junk\n-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            B64.encode([1, 2]),
            B64.encode([3])
        );
        assert_eq!(
            pem_blocks(pem.as_bytes(), "CERTIFICATE"),
            vec![vec![1, 2], vec![3]]
        );
        assert_eq!(
            pem_blocks(&[0x30, 0x00], "CERTIFICATE"),
            vec![vec![0x30, 0x00]]
        );
        assert!(read_chain(pem.as_bytes()).is_err());
    }

    #[test]
    fn a_key_file_that_is_no_key_is_refused() {
        assert!(matches!(
            CertificateSecret::parse(
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
            ),
            Err(CertificateFileError::Key)
        ));
    }
}
