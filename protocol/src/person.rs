//! A person's key: what a delegate signs intent proofs with (spec §5.2, §8.4.1).
//!
//! A person holds either a software key, Ed25519 or SM2 (a key file the `signet` command line
//! signs with: intent method `software-key`), or a WebAuthn credential (a passkey in a platform
//! authenticator or on a security key, used from a browser: methods `passkey` and
//! `hardware-token`). Either way the key never leaves the person: a node sees public keys
//! and signatures only.

use std::fmt;

use p256::ecdsa::signature::Verifier as _;
use serde::{Deserialize, Serialize};

use crate::PublicKey;
use crate::codepoint::code_points;
use crate::cose::{Algorithm, CoseError, CoseKey};
use crate::crypto::{BadSignature, Signature};
use crate::keylog::LogKey;
use crate::sm2::Sm2PublicKey;

/// Longest WebAuthn credential id accepted (WebAuthn Level 3: at most 1,023 bytes).
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;
/// Longest relying-party id (a domain name).
pub const MAX_RP_ID_LEN: usize = 253;

code_points! {
    /// The signature algorithm of a WebAuthn credential, by its COSE identifier (spec §13.2).
    pub enum CredentialAlgorithm {
        /// ECDSA with P-256 and SHA-256 (COSE -7): what most authenticators use.
        Es256 = 7 => "ES256",
        /// Ed25519 (COSE -8, "EdDSA" as WebAuthn names it).
        EdDsa = 8 => "EdDSA",
    }
}

/// A person's WebAuthn credential: the public half of a passkey, as registered by the
/// person's authenticator with the relying party `rp_id` (the console's domain).
///
/// On the wire the algorithm is the *positive* magnitude of its COSE identifier (7 for
/// ES256, 8 for EdDSA), since Signet's code points are unsigned.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebAuthnCredential {
    /// The credential id the authenticator chose (1 to 1,023 bytes).
    #[serde(with = "crate::cbor_bytes")]
    pub id: Vec<u8>,
    /// Its signature algorithm.
    pub alg: CredentialAlgorithm,
    /// The public key: for ES256 the uncompressed SEC1 point (65 bytes, `0x04 ‖ x ‖ y`), for
    /// EdDSA the 32-byte Ed25519 key.
    #[serde(with = "crate::cbor_bytes")]
    pub public_key: Vec<u8>,
    /// The relying party the credential is scoped to (a domain name, e.g.
    /// `sign.example.com`, or `localhost`).
    pub rp_id: String,
}

impl fmt::Debug for WebAuthnCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WebAuthnCredential({} {} for {})",
            self.alg,
            hex::encode(&self.id),
            self.rp_id
        )
    }
}

/// Why a WebAuthn credential is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The credential id is empty or longer than [`MAX_CREDENTIAL_ID_LEN`].
    #[error("credential id of {0} bytes")]
    Id(usize),
    /// The algorithm is not one this implementation knows.
    #[error("unknown credential algorithm {0}")]
    Algorithm(CredentialAlgorithm),
    /// The public key is not a valid key of the algorithm.
    #[error("the public key is not a valid {0} key")]
    PublicKey(CredentialAlgorithm),
    /// The relying-party id is empty, too long, or not a lower-case domain name.
    #[error("relying-party id {0:?} is not a domain name")]
    RpId(String),
}

impl WebAuthnCredential {
    /// Checks the credential's form: id length, known algorithm, a valid public key, a
    /// domain-name relying-party id.
    pub fn check(&self) -> Result<(), CredentialError> {
        if self.id.is_empty() || self.id.len() > MAX_CREDENTIAL_ID_LEN {
            return Err(CredentialError::Id(self.id.len()));
        }
        match self.alg {
            CredentialAlgorithm::Es256 => {
                if self.public_key.len() != 65
                    || p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.public_key).is_err()
                {
                    return Err(CredentialError::PublicKey(self.alg));
                }
            }
            CredentialAlgorithm::EdDsa => {
                PublicKey::from_slice(&self.public_key)
                    .map_err(|_| CredentialError::PublicKey(self.alg))?;
            }
            CredentialAlgorithm::Unknown(_) => return Err(CredentialError::Algorithm(self.alg)),
        }
        let domain = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if self.rp_id.is_empty()
            || self.rp_id.len() > MAX_RP_ID_LEN
            || !self.rp_id.split('.').all(domain)
        {
            return Err(CredentialError::RpId(self.rp_id.clone()));
        }
        Ok(())
    }

    /// Verifies `signature` over `message` with this credential's key: ES256 signatures are
    /// DER-encoded ECDSA (as authenticators produce them), EdDSA ones 64 bytes, checked
    /// strictly.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
        match self.alg {
            CredentialAlgorithm::Es256 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.public_key)
                    .map_err(|_| BadSignature)?;
                // Authenticators produce both low- and high-S signatures; both verify. That a
                // third party can turn one into the other does not matter: a seal signature
                // binds the intent proof's exact bytes by digest.
                let signature =
                    p256::ecdsa::Signature::from_der(signature).map_err(|_| BadSignature)?;
                key.verify(message, &signature).map_err(|_| BadSignature)
            }
            CredentialAlgorithm::EdDsa => {
                let key = PublicKey::from_slice(&self.public_key).map_err(|_| BadSignature)?;
                let signature = Signature::from_slice(signature).map_err(|_| BadSignature)?;
                key.verify(message, &signature)
            }
            CredentialAlgorithm::Unknown(_) => Err(BadSignature),
        }
    }
}

/// What a person signs intent proofs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKey {
    /// A software Ed25519 key (COSE_Sign1 intent proofs, alg -19).
    Ed25519(PublicKey),
    /// A software SM2 key (COSE_Sign1 intent proofs, alg -98454, spec §8.4.1).
    Sm2(Sm2PublicKey),
    /// A WebAuthn credential (assertions over the intent challenge).
    WebAuthn(WebAuthnCredential),
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ed25519(key) => write!(f, "ed25519:{key}"),
            Self::Sm2(key) => write!(f, "sm2:{key}"),
            Self::WebAuthn(c) => write!(f, "webauthn:{}:{}", c.alg, hex::encode(&c.id)),
        }
    }
}

impl From<PublicKey> for PersonKey {
    fn from(key: PublicKey) -> Self {
        Self::Ed25519(key)
    }
}

impl From<Sm2PublicKey> for PersonKey {
    fn from(key: Sm2PublicKey) -> Self {
        Self::Sm2(key)
    }
}

/// The signer of a COSE intent proof: a person's software key, Ed25519 or SM2, named by the
/// key id under the header's algorithm (spec §3.3 rule 2). A WebAuthn credential signs no
/// COSE object.
impl CoseKey for PersonKey {
    fn from_key_id(algorithm: Algorithm, key_id: &[u8]) -> Result<Self, CoseError> {
        match LogKey::from_key_id(algorithm, key_id)? {
            LogKey::Ed25519(key) => Ok(Self::Ed25519(key)),
            LogKey::Sm2(key) => Ok(Self::Sm2(key)),
            // `LogKey::from_key_id` builds no other kind.
            LogKey::EcdsaP256(_) | LogKey::Rsa(_) | LogKey::Unsupported { .. } => {
                Err(CoseError::UnsupportedAlgorithm(format!("{algorithm:?}")))
            }
        }
    }

    fn verifies(&self, to_be_signed: &[u8], signature: &[u8; 64]) -> bool {
        match self {
            Self::Ed25519(key) => key.verifies(to_be_signed, signature),
            Self::Sm2(key) => LogKey::Sm2(*key).verifies(to_be_signed, signature),
            Self::WebAuthn(_) => false,
        }
    }
}
