//! Certificate paths and CRLs (RFC 5280, 6 and 6.3), judged at a time given by the caller
//! (spec §6.11.3): signatures up the path to a root the verifier chose, validity periods,
//! basicConstraints and keyUsage of issuers, name chaining, path lengths, unknown critical
//! extensions; then each certificate's revocation status from the CRLs the verifier holds.
//!
//! Signatures are SM2-with-SM3 (GM/T 0006, default distinguishing identifier), ECDSA P-256
//! with SHA-256, ECDSA P-384 with SHA-384, or RSA of 2048 to 8192 bits with PKCS #1 v1.5 or
//! PSS and SHA-256, SHA-384 or SHA-512 ([`super::issuer_key`]), always over the TBS bytes
//! exactly as received. The subject's own key is SM2, P-256 or RSA ([`CertificateKey`]). Names
//! are compared as decoded DER values, without the case folding of RFC 5280, 7.1: a CA's
//! certificates repeat its name byte for byte.
//!
//! Nothing here reads a clock, a file or the network: the caller passes the time and the
//! CRLs it holds.

use const_oid::ObjectIdentifier as Oid;
use der::Decode;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::time::Time;

use super::asn1::{self, SignedEnvelope};
use super::issuer_key::{MAX_RSA_BITS, MIN_RSA_BITS, SignatureProblem, rsa_key_der};
use super::sm2::{first_element, sm2_key_of};
use crate::Timestamp;
use crate::keylog::{EcdsaP256Key, LogKey};
use crate::rsa::RsaPublicKey;
use crate::sm2::Sm2PublicKey;

/// The longest path accepted, the leaf and the root included.
pub const MAX_PATH_LEN: usize = 8;

/// basicConstraints, keyUsage, extendedKeyUsage, certificatePolicies, subjectAltName,
/// authority and subject key identifiers, CRL distribution points: the extensions a
/// critical flag may be set on without making the certificate unusable here.
const UNDERSTOOD_EXTENSIONS: [&str; 8] = [
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.37",
    "2.5.29.32",
    "2.5.29.17",
    "2.5.29.35",
    "2.5.29.14",
    "2.5.29.31",
];

/// The public key a certificate certifies, of an algorithm Signet verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateKey {
    /// SM2 (either `SubjectPublicKeyInfo` form, see [`super::sm2`]).
    Sm2(Sm2PublicKey),
    /// ECDSA P-256.
    P256(EcdsaP256Key),
    /// RSA (rsaEncryption) of 2048 to 8192 bits ([`crate::rsa`]).
    Rsa(RsaPublicKey),
}

impl CertificateKey {
    /// The key of `spki`, if it is SM2, P-256, or RSA that [`RsaPublicKey::from_der`]
    /// accepts.
    pub fn of(spki: &SubjectPublicKeyInfoOwned) -> Option<Self> {
        if let Ok(key) = sm2_key_of(spki) {
            return Some(Self::Sm2(key));
        }
        if let Some(key) = asn1::p256_key_of(spki) {
            return Some(Self::P256(EcdsaP256Key::from_verifying_key(&key)));
        }
        let der = rsa_key_der(spki)?;
        RsaPublicKey::from_der(der).ok().map(Self::Rsa)
    }

    /// Whether `signature` signs `message`: SM2 with SM3 and the default distinguishing
    /// identifier for an SM2 key, ECDSA with SHA-256 for a P-256 key (both DER
    /// `SEQUENCE { r, s }`), RSASSA-PKCS1-v1_5 with SHA-256 for an RSA key.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Sm2(key) => key.verify_der(message, signature).is_ok(),
            Self::P256(key) => asn1::verify_der(&key.verifying_key(), message, signature),
            Self::Rsa(key) => key.verifies_pkcs1_sha256(message, signature),
        }
    }

    /// The key as a key event log declares it.
    pub fn log_key(&self) -> LogKey {
        match self {
            Self::Sm2(key) => LogKey::Sm2(*key),
            Self::P256(key) => LogKey::EcdsaP256(*key),
            Self::Rsa(key) => LogKey::Rsa(key.clone()),
        }
    }
}

/// Why a certificate path is refused. `depth` counts from the leaf (0) up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No certificate, or more than [`MAX_PATH_LEN`].
    #[error("a path has 1 to {MAX_PATH_LEN} certificates")]
    Length,
    /// A certificate is not DER X.509.
    #[error("certificate {depth} is not a der x.509 certificate")]
    Malformed {
        /// Which.
        depth: usize,
    },
    /// The path does not end at a root of the policy (the next issuer is neither in the
    /// path nor a root, or a root's key does not verify).
    #[error("no root of the policy issued certificate {depth}")]
    NoTrustedRoot {
        /// The certificate whose issuer was not found.
        depth: usize,
    },
    /// A certificate's issuer name is not the next certificate's subject.
    #[error("certificate {depth} is not issued by the next one's subject")]
    NameChaining {
        /// Which.
        depth: usize,
    },
    /// A signature algorithm Signet does not verify (SHA-1 with RSA, or RSASSA-PSS with other
    /// parameters than those of [`super::issuer_key`], say), or one that differs between the
    /// TBS and the outer structure.
    #[error("certificate {depth} is signed with {algorithm}, not an algorithm signet verifies")]
    Algorithm {
        /// Which.
        depth: usize,
        /// The algorithm.
        algorithm: Oid,
    },
    /// A certificate is signed with RSA by an issuer whose key is shorter than
    /// [`MIN_RSA_BITS`] (or longer than [`MAX_RSA_BITS`]).
    #[error(
        "certificate {depth} is signed with an rsa key of {bits} bits, not {MIN_RSA_BITS} to {MAX_RSA_BITS}"
    )]
    RsaKeySize {
        /// Which.
        depth: usize,
        /// The issuer's modulus length.
        bits: usize,
    },
    /// A signature does not verify under its issuer's key.
    #[error("the signature on certificate {depth} does not verify under its issuer's key")]
    BadSignature {
        /// Which.
        depth: usize,
    },
    /// Judged before a certificate's notBefore.
    #[error("certificate {depth} is not valid before {from}")]
    NotYetValid {
        /// Which (the root is `path length - 1` or the one after the last given).
        depth: usize,
        /// Its notBefore.
        from: Timestamp,
    },
    /// Judged after a certificate's notAfter.
    #[error("certificate {depth} expired at {at}")]
    Expired {
        /// Which.
        depth: usize,
        /// Its notAfter.
        at: Timestamp,
    },
    /// An issuer is not a CA (no basicConstraints with cA true, or keyUsage without
    /// keyCertSign).
    #[error("certificate {depth} issues certificates but is not a ca")]
    NotACa {
        /// Which.
        depth: usize,
    },
    /// More CAs below an issuer than its pathLenConstraint allows.
    #[error("certificate {depth}'s path length constraint is exceeded")]
    PathLength {
        /// Which.
        depth: usize,
    },
    /// The leaf's keyUsage allows neither digitalSignature nor nonRepudiation.
    #[error("the leaf certificate's key usage does not allow signing")]
    LeafKeyUsage,
    /// The leaf's key is not SM2, P-256 or RSA of 2048 to 8192 bits.
    #[error("the leaf certificate's key is not sm2, p-256 or rsa of 2048 to 8192 bits")]
    LeafKey,
    /// A critical extension this implementation does not understand.
    #[error("certificate {depth} has the critical extension {oid}, not understood")]
    CriticalExtension {
        /// Which.
        depth: usize,
        /// The extension.
        oid: Oid,
    },
}

/// A path that validated: the leaf, the issuers above it, and the root that ends it.
#[derive(Debug, Clone)]
pub struct ValidPath {
    /// The certificates from the leaf up, the root last.
    pub certificates: Vec<Certificate>,
    /// The index of the root in the roots given.
    pub root: usize,
    /// The leaf's key.
    pub leaf_key: CertificateKey,
}

impl ValidPath {
    /// The leaf certificate.
    pub fn leaf(&self) -> &Certificate {
        &self.certificates[0]
    }
}

/// A certificate's `Time` as a Signet timestamp.
pub fn timestamp_of(time: &Time) -> Timestamp {
    Timestamp::from_unix(time.to_unix_duration().as_secs())
}

/// Validates `path` (DER, the leaf first, then its issuers in order; the root may be
/// included or left out) against `roots` (DER) at `at`.
///
/// # Errors
///
/// [`ChainError`]: the first problem found, from the leaf up.
pub fn validate(
    path: &[Vec<u8>],
    roots: &[Vec<u8>],
    at: Timestamp,
) -> Result<ValidPath, ChainError> {
    if path.is_empty() || path.len() > MAX_PATH_LEN {
        return Err(ChainError::Length);
    }
    let mut certificates = Vec::with_capacity(path.len() + 1);
    for (depth, der) in path.iter().enumerate() {
        certificates.push(Certificate::from_der(der).map_err(|_| ChainError::Malformed { depth })?);
    }
    // Roots that do not parse are ignored: the policy checks them when they are added.
    let roots: Vec<(usize, &Vec<u8>, Certificate)> = roots
        .iter()
        .enumerate()
        .filter_map(|(i, der)| Some((i, der, Certificate::from_der(der).ok()?)))
        .collect();
    // A path that repeats its root ends one certificate earlier.
    let mut ders: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
    if ders.len() > 1
        && let Some(last) = ders.last()
        && roots.iter().any(|(_, der, _)| der.as_slice() == *last)
    {
        ders.pop();
        certificates.pop();
    }
    let leaf_key = CertificateKey::of(certificates[0].tbs_certificate().subject_public_key_info())
        .ok_or(ChainError::LeafKey)?;
    if let Some((_, usage)) = certificates[0]
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .map_err(|_| ChainError::Malformed { depth: 0 })?
        && !usage.digital_signature()
        && !usage.non_repudiation()
    {
        return Err(ChainError::LeafKeyUsage);
    }
    for (depth, certificate) in certificates.iter().enumerate() {
        check_certificate(certificate, depth, at)?;
    }
    // Each certificate below the last is signed by the next, which must be a CA.
    for depth in 0..certificates.len() - 1 {
        let (subject, issuer) = (&certificates[depth], &certificates[depth + 1]);
        if subject.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
            return Err(ChainError::NameChaining { depth });
        }
        check_issuer(issuer, depth + 1)?;
        check_signature(
            ders[depth],
            subject,
            issuer.tbs_certificate().subject_public_key_info(),
        )
        .map_err(|e| e.at(depth))?;
    }
    // The last is signed by a root.
    let last = certificates.len() - 1;
    let issuer_name = certificates[last].tbs_certificate().issuer().clone();
    let mut problem = ChainError::NoTrustedRoot { depth: last };
    for (index, root_der, root) in &roots {
        if *root.tbs_certificate().subject() != issuer_name {
            continue;
        }
        // The root itself, given as the only certificate: it is trusted as it stands.
        let signed = if ders[last] == root_der.as_slice() {
            Ok(())
        } else {
            check_signature(
                ders[last],
                &certificates[last],
                root.tbs_certificate().subject_public_key_info(),
            )
            .map_err(|e| e.at(last))
        };
        match signed {
            Ok(()) => {
                let depth = certificates.len();
                if ders[last] != root_der.as_slice() {
                    check_certificate(root, depth, at)?;
                    check_issuer(root, depth)?;
                    certificates.push(root.clone());
                }
                check_path_lengths(&certificates)?;
                return Ok(ValidPath {
                    certificates,
                    root: *index,
                    leaf_key,
                });
            }
            Err(e) => problem = e,
        }
    }
    Err(problem)
}

/// The validity period and the critical extensions of one certificate.
fn check_certificate(
    certificate: &Certificate,
    depth: usize,
    at: Timestamp,
) -> Result<(), ChainError> {
    let tbs = certificate.tbs_certificate();
    let from = timestamp_of(&tbs.validity().not_before);
    let until = timestamp_of(&tbs.validity().not_after);
    if at < from {
        return Err(ChainError::NotYetValid { depth, from });
    }
    // notAfter is inclusive (RFC 5280, 4.1.2.5).
    if at > until {
        return Err(ChainError::Expired { depth, at: until });
    }
    for extension in tbs.extensions().map(Vec::as_slice).unwrap_or(&[]) {
        if extension.critical
            && !UNDERSTOOD_EXTENSIONS
                .iter()
                .any(|oid| extension.extn_id.to_string() == *oid)
        {
            return Err(ChainError::CriticalExtension {
                depth,
                oid: extension.extn_id,
            });
        }
    }
    if tbs.signature() != certificate.signature_algorithm() {
        return Err(ChainError::Algorithm {
            depth,
            algorithm: certificate.signature_algorithm().oid,
        });
    }
    Ok(())
}

/// basicConstraints cA and, when keyUsage is present, keyCertSign.
fn check_issuer(issuer: &Certificate, depth: usize) -> Result<(), ChainError> {
    let tbs = issuer.tbs_certificate();
    let malformed = |_| ChainError::Malformed { depth };
    let is_ca = tbs
        .get_extension::<BasicConstraints>()
        .map_err(malformed)?
        .is_some_and(|(_, bc)| bc.ca);
    let may_sign = tbs
        .get_extension::<KeyUsage>()
        .map_err(malformed)?
        .is_none_or(|(_, usage)| usage.key_cert_sign());
    if !is_ca || !may_sign {
        return Err(ChainError::NotACa { depth });
    }
    Ok(())
}

/// pathLenConstraint: a CA at depth k has k - 1 CAs below it.
fn check_path_lengths(certificates: &[Certificate]) -> Result<(), ChainError> {
    for (depth, certificate) in certificates.iter().enumerate().skip(1) {
        let constraint = certificate
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map_err(|_| ChainError::Malformed { depth })?
            .and_then(|(_, bc)| bc.path_len_constraint);
        if let Some(max) = constraint
            && depth - 1 > usize::from(max)
        {
            return Err(ChainError::PathLength { depth });
        }
    }
    Ok(())
}

impl SignatureProblem {
    fn at(self, depth: usize) -> ChainError {
        match self {
            Self::Malformed => ChainError::Malformed { depth },
            Self::Algorithm(algorithm) => ChainError::Algorithm { depth, algorithm },
            Self::RsaKeySize(bits) => ChainError::RsaKeySize { depth, bits },
            Self::Bad => ChainError::BadSignature { depth },
        }
    }
}

/// Whether the key `issuer` signed the certificate `der`.
fn check_signature(
    der: &[u8],
    certificate: &Certificate,
    issuer: &SubjectPublicKeyInfoOwned,
) -> Result<(), SignatureProblem> {
    signed_by(der, issuer, &certificate.signature_algorithm().oid)
}

/// Whether `issuer` signed the certificate or CRL `der` (its TBS bytes as received) with the
/// algorithm `algorithm` the structure names.
fn signed_by(
    der: &[u8],
    issuer: &SubjectPublicKeyInfoOwned,
    algorithm: &Oid,
) -> Result<(), SignatureProblem> {
    let envelope = SignedEnvelope::from_der(der).map_err(|_| SignatureProblem::Malformed)?;
    let tbs = first_element(der).map_err(|_| SignatureProblem::Malformed)?;
    let signature = envelope
        .signature
        .as_bytes()
        .ok_or(SignatureProblem::Malformed)?;
    if envelope.signature_algorithm.oid != *algorithm {
        return Err(SignatureProblem::Bad);
    }
    super::issuer_key::verify(issuer, &envelope.signature_algorithm, tbs, signature)
}

/// Why a CRL is not taken as its CA's (spec §6.11.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// Not a DER X.509 CRL.
    #[error("not a der x.509 crl")]
    Malformed,
    /// Its issuer name is not the CA's subject.
    #[error("the crl is issued in another name than the ca's")]
    Issuer,
    /// The CA's keyUsage does not allow cRLSign.
    #[error("the ca's key usage does not allow signing crls")]
    NotACrlIssuer,
    /// Its signature does not verify under the CA's key, or its two algorithm identifiers
    /// differ, or the algorithm is not one of [`super::issuer_key`] (an RSA key outside
    /// 2048 to 8192 bits included).
    #[error("the crl's signature does not verify under the ca's key")]
    BadSignature,
    /// A critical CRL extension other than cRLNumber and authorityKeyIdentifier (an
    /// issuingDistributionPoint or deltaCRLIndicator changes what the list covers).
    #[error("the crl has the critical extension {0}, not understood")]
    CriticalExtension(Oid),
}

/// What a CRL that verified under its CA's key says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlInfo {
    /// thisUpdate.
    pub this_update: Timestamp,
    /// nextUpdate, if it has one (a CRL without one is never current, see
    /// [`revocation_status`]).
    pub next_update: Option<Timestamp>,
    /// The cRLNumber, big-endian without leading zeros, if it has one.
    pub number: Option<Vec<u8>>,
    /// How many certificates it lists.
    pub revoked: usize,
}

impl CrlInfo {
    /// Whether this CRL supersedes `held`, another of the same CA: a greater cRLNumber when
    /// both have one, else a later thisUpdate.
    pub fn is_newer_than(&self, held: &CrlInfo) -> bool {
        match (&self.number, &held.number) {
            (Some(a), Some(b)) => (a.len(), a) > (b.len(), b),
            _ => self.this_update > held.this_update,
        }
    }
}

/// Checks that `der` is a CRL of the CA `issuer` (its name, its key, a CA allowed to sign
/// CRLs, no critical extension not understood) and returns what it says about itself. The
/// checks [`revocation_status`] makes of each CRL it counts, for a caller that takes CRLs in
/// (a node fetching them, say) and wants to refuse one at once rather than ignore it later.
///
/// # Errors
///
/// [`CrlError`].
pub fn verify_crl(der: &[u8], issuer: &Certificate) -> Result<CrlInfo, CrlError> {
    let may_sign_crls = issuer
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .map_err(|_| CrlError::NotACrlIssuer)?
        .is_none_or(|(_, usage)| usage.crl_sign());
    if !may_sign_crls {
        return Err(CrlError::NotACrlIssuer);
    }
    let list = issued_crl(der, issuer)?;
    let tbs = &list.tbs_cert_list;
    let number = tbs
        .crl_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == CRL_NUMBER)
        .map(|e| {
            x509_cert::ext::pkix::CrlNumber::from_der(e.extn_value.as_bytes())
                .map(|n| n.0.as_bytes().to_vec())
                .map_err(|_| CrlError::Malformed)
        })
        .transpose()?;
    Ok(CrlInfo {
        this_update: timestamp_of(&tbs.this_update),
        next_update: tbs.next_update.as_ref().map(timestamp_of),
        number,
        revoked: tbs.revoked_certificates.as_ref().map_or(0, Vec::len),
    })
}

/// cRLNumber (RFC 5280, 5.2.3).
const CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");

/// `der` parsed, when it is a CRL in `issuer`'s name, signed by its key with one algorithm
/// named twice, and without critical extensions other than cRLNumber and
/// authorityKeyIdentifier. (Whether `issuer` may sign CRLs is the caller's question.)
fn issued_crl(der: &[u8], issuer: &Certificate) -> Result<CertificateList, CrlError> {
    let issuer_tbs = issuer.tbs_certificate();
    let list = CertificateList::from_der(der).map_err(|_| CrlError::Malformed)?;
    let tbs = &list.tbs_cert_list;
    if tbs.issuer != *issuer_tbs.subject() {
        return Err(CrlError::Issuer);
    }
    if tbs.signature != list.signature_algorithm
        || signed_by(
            der,
            issuer_tbs.subject_public_key_info(),
            &list.signature_algorithm.oid,
        )
        .is_err()
    {
        return Err(CrlError::BadSignature);
    }
    // cRLNumber and authorityKeyIdentifier are understood; a critical
    // issuingDistributionPoint or deltaCRLIndicator changes what the list covers.
    if let Some(e) = tbs.crl_extensions.iter().flatten().find(|e| {
        e.critical && !["2.5.29.20", "2.5.29.35"].contains(&e.extn_id.to_string().as_str())
    }) {
        return Err(CrlError::CriticalExtension(e.extn_id));
    }
    Ok(list)
}

/// What the CRLs held say about one certificate, judged at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// A CRL current at `now` (thisUpdate ≤ now < nextUpdate) does not list it.
    Good {
        /// The thisUpdate of that CRL.
        crl_issued: Timestamp,
    },
    /// A CRL of its issuer lists it, revoked from this time.
    Revoked {
        /// The revocationDate.
        at: Timestamp,
    },
    /// No CRL of its issuer current at `now`.
    Unknown {
        /// The thisUpdate of the newest CRL of its issuer held, if any.
        newest: Option<Timestamp>,
    },
}

/// The revocation status of `certificate`, issued by `issuer`, from `crls` (DER; those of
/// other issuers, those whose signature does not verify under `issuer`'s key, those with
/// an unknown critical extension and those issued after `now` are ignored). A listing in any
/// CRL of the issuer counts, however old; "good" needs a current one.
pub fn revocation_status(
    certificate: &Certificate,
    issuer: &Certificate,
    crls: &[&[u8]],
    now: Timestamp,
) -> RevocationStatus {
    let issuer_tbs = issuer.tbs_certificate();
    let may_sign_crls = issuer_tbs
        .get_extension::<KeyUsage>()
        .ok()
        .flatten()
        .is_none_or(|(_, usage)| usage.crl_sign());
    if !may_sign_crls {
        return RevocationStatus::Unknown { newest: None };
    }
    let serial = certificate.tbs_certificate().serial_number();
    let mut newest: Option<(Timestamp, Option<Timestamp>)> = None;
    let mut revoked: Option<Timestamp> = None;
    for der in crls {
        let Ok(list) = issued_crl(der, issuer) else {
            continue;
        };
        let tbs = &list.tbs_cert_list;
        let this_update = timestamp_of(&tbs.this_update);
        if this_update > now {
            continue;
        }
        if let Some(entry) = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .find(|entry| entry.serial_number == *serial)
        {
            let at = timestamp_of(&entry.revocation_date);
            revoked = Some(revoked.map_or(at, |r| r.min(at)));
        }
        let next_update = tbs.next_update.as_ref().map(timestamp_of);
        if newest.is_none_or(|(t, _)| this_update > t) {
            newest = Some((this_update, next_update));
        }
    }
    if let Some(at) = revoked {
        return RevocationStatus::Revoked { at };
    }
    match newest {
        Some((crl_issued, Some(next))) if now < next => RevocationStatus::Good { crl_issued },
        _ => RevocationStatus::Unknown {
            newest: newest.map(|(t, _)| t),
        },
    }
}

/// The serial number of a certificate as hexadecimal (upper case, as CAs print it).
pub fn serial_hex(certificate: &Certificate) -> String {
    hex::encode_upper(certificate.tbs_certificate().serial_number().as_bytes())
}

/// A CA's signing key, for [`issue`] and [`issue_crl`].
#[derive(Debug, Clone, Copy)]
pub enum CaKey<'a> {
    /// SM2, signing with SM2-with-SM3.
    Sm2(&'a crate::sm2::Sm2SecretKey),
    /// P-256, signing with ECDSA-with-SHA256.
    P256(&'a p256::ecdsa::SigningKey),
    /// P-384, signing with ECDSA-with-SHA384.
    P384(&'a p384::ecdsa::SigningKey),
    /// A key another library holds (an RSA test CA's, say).
    External(&'a dyn ExternalCaKey),
}

/// A CA key that signs outside this crate (Signet verifies RSA but does not sign with it).
pub trait ExternalCaKey: std::fmt::Debug {
    /// The `AlgorithmIdentifier` of its signatures.
    fn algorithm(&self) -> spki::AlgorithmIdentifierOwned;
    /// The signature of `tbs`, as the `BIT STRING` of a certificate or CRL holds it.
    fn sign(&self, tbs: &[u8]) -> Vec<u8>;
}

impl CaKey<'_> {
    fn algorithm(&self) -> spki::AlgorithmIdentifierOwned {
        match self {
            Self::Sm2(_) => super::sm2::sm2_with_sm3_algorithm(),
            Self::P256(_) => asn1::ecdsa_sha256_algorithm(),
            Self::P384(_) => spki::AlgorithmIdentifierOwned {
                oid: super::issuer_key::ECDSA_WITH_SHA384,
                parameters: None,
            },
            Self::External(key) => key.algorithm(),
        }
    }

    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, super::X509Error> {
        let signature = match self {
            Self::Sm2(key) => return super::sm2::sign_sm2_envelope(key, tbs),
            Self::P256(key) => return asn1::sign_envelope(key, tbs),
            Self::P384(key) => {
                use p384::ecdsa::signature::Signer;
                let signature: p384::ecdsa::Signature = key.sign(tbs);
                signature.to_der().as_bytes().to_vec()
            }
            Self::External(key) => key.sign(tbs),
        };
        use der::Encode;
        Ok(SignedEnvelope {
            tbs: der::Any::from_der(tbs)?,
            signature_algorithm: self.algorithm(),
            signature: der::asn1::BitString::from_bytes(&signature)?,
        }
        .to_der()?)
    }
}

/// A v3 certificate signed by `issuer_key` in the name `issuer`: a CA (basicConstraints cA
/// with pathLenConstraint `ca`, keyCertSign and cRLSign) when `ca` is given, else an
/// end-entity signing certificate (digitalSignature and nonRepudiation). For test CAs and
/// the vectors of spec §6.11; Signet does not run a CA with it.
///
/// # Errors
///
/// [`super::X509Error`] for unencodable input.
pub fn issue(
    issuer_key: CaKey<'_>,
    issuer: x509_cert::name::Name,
    subject: x509_cert::name::Name,
    subject_key: SubjectPublicKeyInfoOwned,
    issuance: &super::Issuance,
    ca: Option<u8>,
) -> Result<Vec<u8>, super::X509Error> {
    use x509_cert::ext::pkix::KeyUsages;
    let extensions = match ca {
        Some(path_len) => vec![
            super::extension(
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(path_len),
                },
                true,
            )?,
            super::extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true)?,
        ],
        None => vec![super::extension(
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            true,
        )?],
    };
    issue_with_extensions(
        issuer_key,
        issuer,
        subject,
        subject_key,
        issuance,
        extensions,
    )
}

/// A v3 certificate signed by `issuer_key` in the name `issuer`, with exactly the
/// `extensions` given: for test CAs and the vectors of spec §6.11 that need a certificate no
/// CA should issue (an unknown critical extension, say).
///
/// # Errors
///
/// [`super::X509Error`] for unencodable input.
pub fn issue_with_extensions(
    issuer_key: CaKey<'_>,
    issuer: x509_cert::name::Name,
    subject: x509_cert::name::Name,
    subject_key: SubjectPublicKeyInfoOwned,
    issuance: &super::Issuance,
    extensions: Vec<x509_cert::ext::Extension>,
) -> Result<Vec<u8>, super::X509Error> {
    use der::Encode;
    let tbs = super::TbsCertificate {
        version: 2,
        serial_number: super::serial_number(issuance.serial)?,
        signature: issuer_key.algorithm(),
        issuer,
        validity: x509_cert::time::Validity::new(
            super::time_of(issuance.not_before)?,
            super::time_of(issuance.not_after)?,
        ),
        subject,
        subject_public_key_info: subject_key,
        extensions,
    };
    issuer_key.sign(&tbs.to_der()?)
}

/// A v2 CRL signed by `issuer_key` in the name `issuer`, listing `revoked` serials with
/// their revocation times. For test CAs and vectors.
///
/// # Errors
///
/// [`super::X509Error`] for unencodable input.
pub fn issue_crl(
    issuer_key: CaKey<'_>,
    issuer: x509_cert::name::Name,
    revoked: &[(u128, Timestamp)],
    this_update: Timestamp,
    next_update: Timestamp,
) -> Result<Vec<u8>, super::X509Error> {
    use der::Encode;
    let revoked_certificates = revoked
        .iter()
        .map(|&(serial, time)| {
            Ok(x509_cert::crl::RevokedCert {
                serial_number: super::serial_number(serial)?,
                revocation_date: super::time_of(time)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, super::X509Error>>()?;
    let tbs = x509_cert::crl::TbsCertList {
        version: x509_cert::Version::V2,
        signature: issuer_key.algorithm(),
        issuer,
        this_update: super::time_of(this_update)?,
        next_update: Some(super::time_of(next_update)?),
        revoked_certificates: (!revoked_certificates.is_empty()).then_some(revoked_certificates),
        crl_extensions: None,
    };
    issuer_key.sign(&tbs.to_der()?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::str::FromStr;

    use der::Encode;
    use der::asn1::{BitString, OctetString};
    use x509_cert::ext::Extension;
    use x509_cert::ext::pkix::KeyUsages;
    use x509_cert::name::Name;

    use super::*;
    use crate::x509::Issuance;
    use crate::x509::asn1::p256_spki;

    const DAY: u64 = 86_400;

    fn t(days: u64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + days * DAY)
    }

    fn key(n: u8) -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[n; 32]).unwrap()
    }

    fn name(cn: &str) -> Name {
        Name::from_str(&format!("CN={cn},C=CN")).unwrap()
    }

    fn ca(path_len: Option<u8>, usage: KeyUsage) -> Vec<Extension> {
        vec![
            crate::x509::extension(
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: path_len,
                },
                true,
            )
            .unwrap(),
            crate::x509::extension(&usage, true).unwrap(),
        ]
    }

    fn signing() -> Vec<Extension> {
        vec![
            crate::x509::extension(
                &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
                true,
            )
            .unwrap(),
        ]
    }

    /// A certificate for key `subject_key` named `subject`, signed by key `issuer_key` in
    /// the name `issuer`, valid from day 0 to day 365.
    fn cert(
        issuer_key: u8,
        issuer: &str,
        subject_key: u8,
        subject: &str,
        serial: u128,
        extensions: Vec<Extension>,
    ) -> Vec<u8> {
        issue_with_extensions(
            CaKey::P256(&key(issuer_key)),
            name(issuer),
            name(subject),
            p256_spki(key(subject_key).verifying_key()).unwrap(),
            &Issuance {
                serial,
                not_before: t(0),
                not_after: t(365),
            },
            extensions,
        )
        .unwrap()
    }

    fn root() -> Vec<u8> {
        cert(
            1,
            "Root",
            1,
            "Root",
            1,
            ca(
                Some(1),
                KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            ),
        )
    }

    fn leaf() -> Vec<u8> {
        cert(1, "Root", 9, "Leaf", 2, signing())
    }

    #[test]
    fn a_p384_root_and_its_crl_verify_and_a_p256_name_of_its_algorithm_does_not() {
        let root_key = p384::ecdsa::SigningKey::from_slice(&[3; 48]).unwrap();
        let point = root_key.verifying_key().to_sec1_bytes();
        let root_spki = SubjectPublicKeyInfoOwned {
            algorithm: spki::AlgorithmIdentifierOwned {
                oid: asn1::ID_EC_PUBLIC_KEY,
                parameters: Some(
                    der::Any::encode_from(&super::super::issuer_key::SECP384R1).unwrap(),
                ),
            },
            subject_public_key: BitString::from_bytes(&point).unwrap(),
        };
        let issuance = |serial| Issuance {
            serial,
            not_before: t(0),
            not_after: t(365),
        };
        let usage = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
        let p384_root = issue_with_extensions(
            CaKey::P384(&root_key),
            name("Root"),
            name("Root"),
            root_spki,
            &issuance(1),
            ca(Some(1), usage),
        )
        .unwrap();
        let p256_leaf = issue_with_extensions(
            CaKey::P384(&root_key),
            name("Root"),
            name("Leaf"),
            p256_spki(key(9).verifying_key()).unwrap(),
            &issuance(2),
            signing(),
        )
        .unwrap();
        let roots = [p384_root.clone()];
        assert!(validate(std::slice::from_ref(&p256_leaf), &roots, t(10)).is_ok());
        let root = Certificate::from_der(&p384_root).unwrap();
        let crl = issue_crl(
            CaKey::P384(&root_key),
            name("Root"),
            &[(2, t(5))],
            t(6),
            t(13),
        )
        .unwrap();
        let leaf = Certificate::from_der(&p256_leaf).unwrap();
        assert_eq!(
            revocation_status(&leaf, &root, &[&crl], t(10)),
            RevocationStatus::Revoked { at: t(5) }
        );
        // The same signature presented as ECDSA-with-SHA256 (in both algorithm fields).
        let sha384 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
        let mut relabelled = p256_leaf.clone();
        let mut found = 0;
        for at in 0..relabelled.len() - sha384.len() {
            if relabelled[at..at + sha384.len()] == sha384 {
                relabelled[at + 9] = 0x02;
                found += 1;
            }
        }
        assert_eq!(found, 2);
        assert_eq!(
            validate(&[relabelled], &roots, t(10)).unwrap_err(),
            ChainError::BadSignature { depth: 0 }
        );
    }

    fn refused(path: &[Vec<u8>], at: Timestamp) -> ChainError {
        validate(path, &[root()], at).unwrap_err()
    }

    #[test]
    fn a_leaf_issued_by_the_root_validates() {
        let valid = validate(&[leaf()], &[root()], t(10)).unwrap();
        assert_eq!((valid.root, valid.certificates.len()), (0, 2));
        assert_eq!(
            valid.leaf_key,
            CertificateKey::P256(EcdsaP256Key::from_verifying_key(key(9).verifying_key()))
        );
    }

    #[test]
    fn a_path_of_no_or_too_many_certificates_is_refused() {
        assert_eq!(refused(&[], t(10)), ChainError::Length);
        assert_eq!(
            refused(&vec![leaf(); MAX_PATH_LEN + 1], t(10)),
            ChainError::Length
        );
    }

    #[test]
    fn a_certificate_that_is_not_der_x509_is_refused() {
        assert_eq!(
            refused(&[leaf(), vec![0x30, 0x00]], t(10)),
            ChainError::Malformed { depth: 1 }
        );
    }

    #[test]
    fn a_path_to_another_root_is_refused() {
        let other = cert(
            3,
            "Other",
            3,
            "Other",
            1,
            ca(None, KeyUsage(KeyUsages::KeyCertSign.into())),
        );
        assert_eq!(
            validate(&[leaf()], &[other], t(10)).unwrap_err(),
            ChainError::NoTrustedRoot { depth: 0 }
        );
    }

    #[test]
    fn an_issuer_whose_subject_is_not_the_issuer_name_is_refused() {
        let intermediate = cert(
            1,
            "Root",
            2,
            "Intermediate",
            3,
            ca(Some(0), KeyUsage(KeyUsages::KeyCertSign.into())),
        );
        let misnamed = cert(2, "Someone Else", 9, "Leaf", 4, signing());
        assert_eq!(
            refused(&[misnamed, intermediate], t(10)),
            ChainError::NameChaining { depth: 0 }
        );
    }

    #[test]
    fn an_algorithm_other_than_sm2_or_p256_is_refused() {
        // The outer signatureAlgorithm says RSA (sha256WithRSAEncryption); the TBS says
        // ECDSA: refused whichever is looked at first.
        let rsa = Oid::new_unwrap("1.2.840.113549.1.1.11");
        let der = leaf();
        let mut envelope = SignedEnvelope::from_der(&der).unwrap();
        envelope.signature_algorithm = spki::AlgorithmIdentifierOwned {
            oid: rsa,
            parameters: None,
        };
        assert_eq!(
            refused(&[envelope.to_der().unwrap()], t(10)),
            ChainError::Algorithm {
                depth: 0,
                algorithm: rsa
            }
        );
    }

    #[test]
    fn a_signature_by_another_key_is_refused() {
        // In the root's name, signed by another key.
        let forged = cert(5, "Root", 9, "Leaf", 2, signing());
        assert_eq!(
            refused(&[forged], t(10)),
            ChainError::BadSignature { depth: 0 }
        );
    }

    #[test]
    fn a_certificate_is_judged_inside_its_validity_only() {
        assert_eq!(
            refused(&[leaf()], Timestamp::from_unix(t(0).unix() - 1)),
            ChainError::NotYetValid {
                depth: 0,
                from: t(0)
            }
        );
        assert!(
            validate(&[leaf()], &[root()], t(365)).is_ok(),
            "notAfter is inclusive"
        );
        assert_eq!(
            refused(&[leaf()], t(366)),
            ChainError::Expired {
                depth: 0,
                at: t(365)
            }
        );
    }

    #[test]
    fn an_issuer_that_is_not_a_ca_is_refused() {
        // No basicConstraints cA.
        let end_entity = cert(1, "Root", 2, "Intermediate", 3, signing());
        let below = cert(2, "Intermediate", 9, "Leaf", 4, signing());
        assert_eq!(
            refused(&[below.clone(), end_entity], t(10)),
            ChainError::NotACa { depth: 1 }
        );
        // cA, but keyUsage without keyCertSign.
        let crl_only = cert(
            1,
            "Root",
            2,
            "Intermediate",
            3,
            ca(None, KeyUsage(KeyUsages::CRLSign.into())),
        );
        assert_eq!(
            refused(&[below, crl_only], t(10)),
            ChainError::NotACa { depth: 1 }
        );
        // The root itself, above a path that leaves it out.
        let not_a_ca_root = cert(1, "Root", 1, "Root", 1, signing());
        assert_eq!(
            validate(&[leaf()], &[not_a_ca_root], t(10)).unwrap_err(),
            ChainError::NotACa { depth: 1 }
        );
    }

    #[test]
    fn more_cas_below_an_issuer_than_its_path_length_allows_are_refused() {
        let strict_root = cert(
            1,
            "Root",
            1,
            "Root",
            1,
            ca(Some(0), KeyUsage(KeyUsages::KeyCertSign.into())),
        );
        let intermediate = cert(
            1,
            "Root",
            2,
            "Intermediate",
            3,
            ca(None, KeyUsage(KeyUsages::KeyCertSign.into())),
        );
        let below = cert(2, "Intermediate", 9, "Leaf", 4, signing());
        let path = [below, intermediate];
        assert_eq!(
            validate(&path, &[strict_root], t(10)).unwrap_err(),
            ChainError::PathLength { depth: 2 }
        );
        // The same path under a root that allows one CA below it.
        assert!(validate(&path, &[root()], t(10)).is_ok());
    }

    #[test]
    fn a_leaf_that_may_not_sign_is_refused() {
        let usage = vec![
            crate::x509::extension(&KeyUsage(KeyUsages::KeyEncipherment.into()), true).unwrap(),
        ];
        assert_eq!(
            refused(&[cert(1, "Root", 9, "Leaf", 2, usage)], t(10)),
            ChainError::LeafKeyUsage
        );
    }

    #[test]
    fn a_leaf_key_neither_sm2_nor_p256_is_refused() {
        let ed25519 = spki::SubjectPublicKeyInfoOwned {
            algorithm: spki::AlgorithmIdentifierOwned {
                oid: Oid::new_unwrap("1.3.101.112"),
                parameters: None,
            },
            subject_public_key: BitString::from_bytes(&[7; 32]).unwrap(),
        };
        let der = issue_with_extensions(
            CaKey::P256(&key(1)),
            name("Root"),
            name("Leaf"),
            ed25519,
            &Issuance {
                serial: 2,
                not_before: t(0),
                not_after: t(365),
            },
            signing(),
        )
        .unwrap();
        assert_eq!(refused(&[der], t(10)), ChainError::LeafKey);
    }

    #[test]
    fn an_unknown_critical_extension_is_refused_and_a_non_critical_one_ignored() {
        let oid = Oid::new_unwrap("1.2.156.10260.4.1.99");
        let unknown = |critical| {
            let mut extensions = signing();
            extensions.push(Extension {
                extn_id: oid,
                critical,
                extn_value: OctetString::new(vec![0x05, 0x00]).unwrap(),
            });
            cert(1, "Root", 9, "Leaf", 2, extensions)
        };
        assert_eq!(
            refused(&[unknown(true)], t(10)),
            ChainError::CriticalExtension { depth: 0, oid }
        );
        assert!(validate(&[unknown(false)], &[root()], t(10)).is_ok());
    }

    fn crl_by(key_of_issuer: u8, issuer: &str, this_update: Timestamp) -> Vec<u8> {
        issue_crl(
            CaKey::P256(&key(key_of_issuer)),
            name(issuer),
            &[(2, t(3))],
            this_update,
            this_update.plus(7 * DAY),
        )
        .unwrap()
    }

    #[test]
    fn a_crl_is_taken_only_in_its_cas_name_and_under_its_key() {
        let root = Certificate::from_der(&root()).unwrap();
        let info = verify_crl(&crl_by(1, "Root", t(5)), &root).unwrap();
        assert_eq!(
            info,
            CrlInfo {
                this_update: t(5),
                next_update: Some(t(12)),
                number: None,
                revoked: 1
            }
        );
        assert_eq!(
            verify_crl(&crl_by(5, "Root", t(5)), &root),
            Err(CrlError::BadSignature)
        );
        assert_eq!(
            verify_crl(&crl_by(1, "Other", t(5)), &root),
            Err(CrlError::Issuer)
        );
        assert_eq!(verify_crl(&[0x30, 0x00], &root), Err(CrlError::Malformed));
        let no_crl_sign = cert(
            1,
            "Root",
            1,
            "Root",
            1,
            ca(None, KeyUsage(KeyUsages::KeyCertSign.into())),
        );
        assert_eq!(
            verify_crl(
                &crl_by(1, "Root", t(5)),
                &Certificate::from_der(&no_crl_sign).unwrap()
            ),
            Err(CrlError::NotACrlIssuer)
        );
    }

    #[test]
    fn a_crl_with_a_critical_extension_not_understood_is_refused_and_its_number_read() {
        let signer = key(1);
        let crl = |extensions: Vec<Extension>| {
            let tbs: x509_cert::crl::TbsCertList = x509_cert::crl::TbsCertList {
                version: x509_cert::Version::V2,
                signature: CaKey::P256(&signer).algorithm(),
                issuer: name("Root"),
                this_update: crate::x509::time_of(t(5)).unwrap(),
                next_update: Some(crate::x509::time_of(t(12)).unwrap()),
                revoked_certificates: None,
                crl_extensions: Some(extensions),
            };
            CaKey::P256(&signer).sign(&tbs.to_der().unwrap()).unwrap()
        };
        let number = crate::x509::extension(
            &x509_cert::ext::pkix::CrlNumber(der::asn1::Uint::new(&[0x01, 0x02]).unwrap()),
            false,
        )
        .unwrap();
        let root = Certificate::from_der(&root()).unwrap();
        assert_eq!(
            verify_crl(&crl(vec![number.clone()]), &root)
                .unwrap()
                .number,
            Some(vec![0x01, 0x02])
        );
        // A critical deltaCRLIndicator changes what the list covers.
        let delta = Extension {
            extn_id: Oid::new_unwrap("2.5.29.27"),
            critical: true,
            extn_value: OctetString::new(vec![0x02, 0x01, 0x01]).unwrap(),
        };
        assert_eq!(
            verify_crl(&crl(vec![number, delta]), &root),
            Err(CrlError::CriticalExtension(Oid::new_unwrap("2.5.29.27")))
        );
    }

    #[test]
    fn a_crl_is_newer_by_its_number_else_by_its_this_update() {
        let at = |days, number: Option<&[u8]>| CrlInfo {
            this_update: t(days),
            next_update: None,
            number: number.map(<[u8]>::to_vec),
            revoked: 0,
        };
        assert!(at(2, None).is_newer_than(&at(1, None)));
        assert!(!at(1, None).is_newer_than(&at(1, None)));
        assert!(at(1, Some(&[2])).is_newer_than(&at(1, Some(&[1]))));
        assert!(at(1, Some(&[1, 0])).is_newer_than(&at(9, Some(&[0xff]))));
        assert!(!at(9, Some(&[1])).is_newer_than(&at(1, Some(&[1]))));
        assert!(at(2, Some(&[1])).is_newer_than(&at(1, None)));
    }
}
