//! A party's identity from its own CA-issued X.509 certificate (spec §6.11).
//!
//! A certificate is public: anyone can copy it. What binds it to a Signet party is a
//! signature by the certified key over that party's id and this attestation's fields (the
//! possession proof, [`possession_message`]), checked here on decode, and the party's key
//! log declaring the certified key (checked in context, by trust evaluation).

use der::Decode;
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use super::{Attestation, MAX_CERTIFICATE_LEN};
use crate::x509::chain::{CertificateKey, MAX_PATH_LEN};
use crate::x509::identity::{CaIdentity, identity_of};

/// The domain separator that starts a possession message.
pub const POSSESSION_CONTEXT: &[u8] = b"signet/ca-identity/possession/v1\0";

/// The longest possession signature, in bytes: an 8192-bit RSA signature (a DER SM2 or
/// P-256 signature is at most 72).
pub const MAX_POSSESSION_LEN: usize = crate::rsa::MAX_RSA_BITS / 8;

/// A party's identity from a CA-issued X.509 certificate (spec §6.11). Self-issued: the
/// issuer is the subject, signing with its `attest` key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateIdentity {
    /// The certificate path, DER, the subject's certificate first, then its issuers in
    /// order; the root may be left out.
    #[serde(with = "crate::cbor_bytes::list")]
    pub chain: Vec<Vec<u8>>,
    /// The certified key's signature over [`possession_message`]: SM2 with SM3 and the
    /// default distinguishing identifier for an SM2 key, ECDSA with SHA-256 for a P-256
    /// key (DER `SEQUENCE { r, s }` either way), RSASSA-PKCS1-v1_5 with SHA-256 for an RSA
    /// key (as long as its modulus).
    #[serde(with = "crate::cbor_bytes")]
    pub possession: Vec<u8>,
}

/// The bytes the certified key signs: [`POSSESSION_CONTEXT`], the party id's 32-byte
/// digest, the attestation id's 16 bytes, `issued_at`, `valid_from`, `valid_until` as
/// 8-byte big-endian Unix seconds, and the SHA-256 of the subject's certificate (DER).
pub fn possession_message(attestation: &Attestation, leaf_der: &[u8]) -> Vec<u8> {
    let mut message = POSSESSION_CONTEXT.to_vec();
    message.extend_from_slice(attestation.subject.digest().as_bytes());
    message.extend_from_slice(attestation.id.as_bytes());
    for time in [
        attestation.issued_at,
        attestation.valid_from,
        attestation.valid_until,
    ] {
        message.extend_from_slice(&time.unix().to_be_bytes());
    }
    message.extend_from_slice(&crate::x509::asn1::sha256(leaf_der));
    message
}

impl CertificateIdentity {
    /// The self-issued `ca-identity` attestation of `party` for the certificate path `chain`
    /// (the party's certificate first), its possession proof made by `prove`, which signs
    /// the bytes it is given with the certified key (SM2 with SM3 and the default
    /// distinguishing identifier, or ECDSA P-256 with SHA-256, DER; or RSASSA-PKCS1-v1_5
    /// with SHA-256). Issue the result with
    /// the party's attest key ([`Attestation::issue`]).
    pub fn attestation(
        id: crate::party::AttestationId,
        party: crate::party::PartyId,
        issued_at: crate::Timestamp,
        valid_until: crate::Timestamp,
        chain: Vec<Vec<u8>>,
        prove: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Attestation {
        let mut attestation = Attestation {
            id,
            issuer: party,
            subject: party,
            issued_at,
            valid_from: issued_at,
            valid_until,
            claims: super::Claims::CaIdentity(Self {
                chain: Vec::new(),
                possession: Vec::new(),
            }),
        };
        let leaf = chain.first().cloned().unwrap_or_default();
        let possession = prove(&possession_message(&attestation, &leaf));
        attestation.claims = super::Claims::CaIdentity(Self { chain, possession });
        attestation
    }

    /// The subject's certificate, DER.
    pub fn leaf(&self) -> Option<&[u8]> {
        self.chain.first().map(Vec::as_slice)
    }

    /// The subject's certificate's key.
    pub fn key(&self) -> Option<CertificateKey> {
        let leaf = Certificate::from_der(self.leaf()?).ok()?;
        CertificateKey::of(leaf.tbs_certificate().subject_public_key_info())
    }

    /// The legal name and USCC the subject's certificate names (spec §6.10.1).
    pub fn identity(&self) -> Option<CaIdentity> {
        identity_of(self.leaf()?).ok()
    }
}

/// The content rules (spec §6.11.1): self-issued; 1 to [`MAX_PATH_LEN`] certificates of at
/// most [`MAX_CERTIFICATE_LEN`] bytes each that parse; the subject's certificate names a
/// legal name and a USCC whose check character is right; its key is SM2, P-256 or RSA of
/// 2048 to 8192 bits; the possession proof verifies under it.
pub(super) fn check(a: &Attestation, c: &CertificateIdentity) -> Result<(), &'static str> {
    if a.issuer != a.subject {
        return Err("a ca-identity attestation is issued by its subject");
    }
    if c.chain.is_empty() || c.chain.len() > MAX_PATH_LEN {
        return Err("the chain has 1 to 8 certificates");
    }
    for der in &c.chain {
        if der.len() > MAX_CERTIFICATE_LEN || Certificate::from_der(der).is_err() {
            return Err("a certificate of the chain is not der x.509 of at most 16 KiB");
        }
    }
    let identity = identity_of(&c.chain[0])
        .map_err(|_| "the certificate's unified social credit codes are malformed or disagree")?;
    if identity.uscc.is_none() {
        return Err("the certificate names no unified social credit code");
    }
    if identity.legal_name.as_deref().is_none_or(str::is_empty) {
        return Err("the certificate names no legal name");
    }
    let key = c
        .key()
        .ok_or("the certificate's key is not sm2, p-256 or rsa of 2048 to 8192 bits")?;
    if c.possession.len() > MAX_POSSESSION_LEN
        || !key.verifies(&possession_message(a, &c.chain[0]), &c.possession)
    {
        return Err("the possession proof does not verify under the certificate's key");
    }
    Ok(())
}
