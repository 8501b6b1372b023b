//! Attestations: signed statements by an issuer party about a subject (spec §6).
//!
//! Each attestation is the payload of a COSE_Sign1 with content type
//! [`ATTESTATION_CONTENT_TYPE`], signed by one of the issuer's `attest` keys. The fields
//! follow W3C Verifiable Credentials 2.0 where one exists (`id`, `issuer`, `subject` for
//! `credentialSubject.id`, `valid_from`, `valid_until`), so people who know VCs recognise them.
//!
//! ```
//! use signet_protocol::attestation::{Attestation, Claims, IdentityClaims, AssuranceLevel, VerificationMethod};
//! use signet_protocol::keylog::{KeyDecl, KeyLog};
//! use signet_protocol::party::AttestationId;
//! use signet_protocol::registration::Registration;
//! use signet_protocol::{SecretKey, Timestamp};
//!
//! let now = Timestamp::from_unix(1_800_000_000);
//! let ca_attest = SecretKey::from_seed(&[5; 32]);
//! let ca = KeyLog::incept(&SecretKey::from_seed(&[1; 32]), &SecretKey::from_seed(&[2; 32]).public_key(),
//!     vec![KeyDecl::attest(ca_attest.public_key())], now)?;
//! let supplier = KeyLog::incept(&SecretKey::from_seed(&[3; 32]), &SecretKey::from_seed(&[4; 32]).public_key(), vec![], now)?;
//!
//! let signed = Attestation {
//!     id: AttestationId::from_bytes([7; 16]),
//!     issuer: ca.party(),
//!     subject: supplier.party(),
//!     issued_at: now,
//!     valid_from: now,
//!     valid_until: now.plus(365 * 86_400),
//!     claims: Claims::Identity(IdentityClaims {
//!         legal_name: "深圳市示例电子有限公司".into(),
//!         registration: Registration::uscc("91350100M000100Y43")?,
//!         jurisdiction: "CN".into(),
//!         legal_representative: "张三".into(),
//!         method: VerificationMethod::BankTransfer,
//!         assurance: AssuranceLevel::Substantial,
//!     }),
//! }
//! .issue(&ca_attest, &ca)?;
//! assert!(signed.payload().check_issuer_key(signed.signer(), &ca).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ca_identity;
mod mandate;
mod pdf_certificate;

pub use ca_identity::{
    CertificateIdentity, MAX_POSSESSION_LEN, POSSESSION_CONTEXT, possession_message,
};

pub use mandate::{MandateError, MandateUse};

use ciborium::Value;
use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, Limits};
use crate::codepoint::code_points;
use crate::cose::{CoseError, CoseSigner, Signed};
use crate::error::UsageError;
use crate::keylog::{KeyLog, KeyPurpose, KeyUseError, LogKey};
use crate::party::{AttestationId, PartyId};
use crate::person::{CredentialError, PersonKey, WebAuthnCredential};
use crate::registration::Registration;
use crate::seal::SealKind;
use crate::{Digest, Timestamp};

/// Media type of an attestation (the COSE content type, spec §13.1).
pub const ATTESTATION_CONTENT_TYPE: &str = "application/vnd.signet.attestation+cbor";

/// Longest text field (legal names, purposes, display names), in bytes (spec §6.1).
pub const MAX_TEXT_LEN: usize = 512;
/// Most entries in a list field (seals, purposes, counterparties, revocation-list entries).
pub const MAX_LIST_LEN: usize = 4096;

code_points! {
    /// Kinds of attestation (spec §13.7).
    pub enum AttestationKind {
        /// Real-name verification of a legal entity (实名认证).
        Identity = 1 => "identity",
        /// The issuer certifies that a seal key belongs to the subject.
        SealCertification = 2 => "seal-certification",
        /// A seal mandate (用印授权): the party lets a person's key apply some of its seals.
        Delegation = 3 => "delegation",
        /// A counterparty vouches for the subject after its own verification.
        Endorsement = 4 => "endorsement",
        /// Revokes an attestation or a key.
        Revocation = 5 => "revocation",
        /// An anchor (or accredited verifier) accredits the subject to verify identities.
        Accreditation = 6 => "accreditation",
        /// The issuer's complete list of revoked attestations as of its issue time.
        RevocationList = 7 => "revocation-list",
        /// The issuer certifies the subject's PDF key with an X.509 certificate.
        PdfCertificate = 8 => "pdf-certificate",
        /// The subject's identity from its own CA-issued X.509 certificate, with proof that
        /// it holds the certified key (spec §6.11).
        CaIdentity = 9 => "ca-identity",
    }
}

code_points! {
    /// Assurance levels of identity verification, as in eIDAS Art. 8 (spec §13.8).
    pub enum AssuranceLevel {
        /// Limited confidence.
        Low = 1 => "low",
        /// Substantial confidence.
        Substantial = 2 => "substantial",
        /// High confidence.
        High = 3 => "high",
    }
}

impl AssuranceLevel {
    /// Whether this level is at least `minimum`. An unknown level meets no minimum.
    pub fn meets(self, minimum: Self) -> bool {
        match (self, minimum) {
            (Self::Unknown(_), _) | (_, Self::Unknown(_)) => false,
            (have, need) => have.code() >= need.code(),
        }
    }
}

code_points! {
    /// How an identity was verified (spec §13.9).
    pub enum VerificationMethod {
        /// Business licence checked against the registry.
        BusinessLicence = 1 => "business-licence",
        /// A random amount paid to the company's bank account and confirmed (对公打款).
        BankTransfer = 2 => "bank-transfer",
        /// The legal representative's face and identity card checked.
        LegalRepresentativeFace = 3 => "legal-representative-face",
        /// Documents checked in person.
        InPerson = 4 => "in-person",
        /// An official registry queried directly.
        RegistryLookup = 5 => "registry-lookup",
        /// The subject's CA-issued certificate, checked under the verifier's policy, its key's
        /// possession proven by the subject's `ca-identity` attestation (spec §6.11).
        CaCertificate = 6 => "ca-certificate",
    }
}

code_points! {
    /// Why something was revoked (spec §13.10), after RFC 5280's reason codes.
    pub enum RevocationReason {
        /// No reason given.
        Unspecified = 0 => "unspecified",
        /// The key was or may have been compromised.
        KeyCompromise = 1 => "key-compromise",
        /// Replaced by a newer attestation or key.
        Superseded = 2 => "superseded",
        /// The subject ceased operating.
        CessationOfOperation = 3 => "cessation-of-operation",
        /// The privilege (a mandate, an accreditation) was withdrawn.
        PrivilegeWithdrawn = 4 => "privilege-withdrawn",
        /// The facts attested changed (name, representative).
        AffiliationChanged = 5 => "affiliation-changed",
    }
}

/// Identity claims: who the subject is (spec §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityClaims {
    /// Registered legal name.
    pub legal_name: String,
    /// Registration number with its scheme.
    pub registration: Registration,
    /// Jurisdiction, ISO 3166-1 alpha-2 (e.g. `CN`).
    pub jurisdiction: String,
    /// Name of the legal representative.
    pub legal_representative: String,
    /// How the issuer verified it.
    pub method: VerificationMethod,
    /// How sure the issuer is.
    pub assurance: AssuranceLevel,
}

/// The issuer certifies that a seal key belongs to the subject (spec §6.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealCertification {
    /// The seal's key (an Ed25519 key as its bytes, an SM2 key as `[alg, key]`).
    pub seal: LogKey,
    /// The seal's kind.
    pub kind: SealKind,
    /// The seal's display name.
    pub name: String,
    /// SHA-256 of the seal's image, if certified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Digest>,
}

/// The issuer, a verifier, certifies the subject's PDF key (key purpose `pdf`) with an X.509
/// certificate that PDF validators check (spec §6.10). The attestation binds the certificate
/// to the subject's key event log and to the issuer's identity attestation about the subject;
/// it lives and dies with that identity attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "pdf_certificate::PdfCertificateWire",
    into = "pdf_certificate::PdfCertificateWire"
)]
pub struct PdfCertificate {
    /// The subject's PDF (or TSA) key: the certificate's subject public key. ESP256, or SM2
    /// for a `pdf` key (national algorithms; on the wire `alg` names it).
    pub key: PdfKey,
    /// The issuer's identity attestation about the subject that the certificate rests on;
    /// absent exactly for a verifier's own (self-issued) certificate.
    pub identity: Option<AttestationId>,
    /// The certificate, DER (RFC 5280).
    pub certificate: Vec<u8>,
    /// For an SM2 key certified by another party: the GB/T 38540 electronic seal (`SESeal`,
    /// DER) the issuer made, listing the certificate (spec §6.10, §11.6).
    pub seal: Option<Vec<u8>>,
}

pub use pdf_certificate::PdfKey;

/// The longest certificate a [`PdfCertificate`] carries, in bytes.
pub const MAX_CERTIFICATE_LEN: usize = 16_384;

/// A person who may apply seals, identified by their own key: exactly one of a software
/// key (`key`: Ed25519, or SM2 with `alg` -98454) or a WebAuthn credential (`credential`)
/// (spec §6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DelegateWire", into = "DelegateWire")]
pub struct Delegate {
    /// The person's name.
    pub name: String,
    /// The person's software key; it signs intent proofs. It never leaves the person. On the
    /// wire an Ed25519 key is its 32 bytes and an SM2 key its 33-byte compressed point with
    /// `alg` -98454, as in a key declaration (spec §4.3.2); a key of any other algorithm
    /// decodes and is refused ([`ContentError::Delegate`]).
    pub key: Option<LogKey>,
    /// The person's passkey; its authenticator signs intent challenges.
    pub credential: Option<WebAuthnCredential>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DelegateWire {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<crate::cbor_bytes::Item>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential: Option<WebAuthnCredential>,
}

impl TryFrom<DelegateWire> for Delegate {
    type Error = String;

    fn try_from(wire: DelegateWire) -> Result<Self, String> {
        let key = match (wire.key, wire.alg) {
            (Some(key), alg) => Some(LogKey::from_wire(alg, &key.0)?),
            (None, Some(_)) => return Err("alg: only with key".into()),
            (None, None) => None,
        };
        Ok(Self {
            name: wire.name,
            key,
            credential: wire.credential,
        })
    }
}

impl From<Delegate> for DelegateWire {
    fn from(d: Delegate) -> Self {
        Self {
            name: d.name,
            alg: d.key.as_ref().and_then(LogKey::wire_alg),
            key: d
                .key
                .as_ref()
                .map(|k| crate::cbor_bytes::Item(k.wire_bytes().to_vec())),
            credential: d.credential,
        }
    }
}

impl Delegate {
    /// A person with a software key, Ed25519 or SM2.
    pub fn with_key(name: impl Into<String>, key: impl Into<PersonKey>) -> Self {
        match key.into() {
            PersonKey::Ed25519(key) => Self {
                name: name.into(),
                key: Some(key.into()),
                credential: None,
            },
            PersonKey::Sm2(key) => Self {
                name: name.into(),
                key: Some(key.into()),
                credential: None,
            },
            PersonKey::WebAuthn(credential) => Self::with_credential(name, credential),
        }
    }

    /// A person with a passkey.
    pub fn with_credential(name: impl Into<String>, credential: WebAuthnCredential) -> Self {
        Self {
            name: name.into(),
            key: None,
            credential: Some(credential),
        }
    }

    /// The person's key, if the delegate names exactly one, of an algorithm a person's key
    /// may have (Ed25519 or SM2 for a software key).
    pub fn person_key(&self) -> Option<PersonKey> {
        match (&self.key, &self.credential) {
            (Some(LogKey::Ed25519(key)), None) => Some(PersonKey::Ed25519(*key)),
            (Some(LogKey::Sm2(key)), None) => Some(PersonKey::Sm2(*key)),
            (None, Some(c)) => Some(PersonKey::WebAuthn(c.clone())),
            _ => None,
        }
    }
}

/// An amount of money in minor units (e.g. fen) of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    /// ISO 4217 code, e.g. `CNY`.
    pub currency: String,
    /// Minor units: 100 fen is one yuan.
    pub minor_units: u64,
}

/// A seal mandate (用印授权, spec §6.4): issuer and subject are both the party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    /// The person mandated.
    pub delegate: Delegate,
    /// The seal keys they may apply (at least one).
    pub seals: Vec<LogKey>,
    /// Contract purposes or types covered (at least one), matched exactly.
    pub purposes: Vec<String>,
    /// Largest contract value covered; absent means no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_cap: Option<Amount>,
    /// Counterparties covered; absent means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparties: Option<Vec<PartyId>>,
}

/// A counterparty vouches for the subject's identity after its own checks (spec §6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endorsement {
    /// The legal name the endorser verified.
    pub legal_name: String,
    /// The registration number the endorser verified.
    pub registration: Registration,
    /// The relationship, e.g. "supplier since 2019".
    pub relationship: String,
}

/// What a revocation revokes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationTarget {
    /// An attestation the same issuer issued.
    Attestation(AttestationId),
    /// One of the issuer's own keys (e.g. after a compromise): an Ed25519 key as its bytes,
    /// a key of another algorithm (an SM2 seal) as `[alg, key]`.
    Key(LogKey),
}

/// Revokes an attestation or a key from a time on (spec §6.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// What is revoked.
    pub target: RevocationTarget,
    /// From when; may precede the revocation's issue time (a compromise found late).
    pub effective: Timestamp,
    /// Why.
    pub reason: RevocationReason,
}

/// The subject may verify identities; `may_accredit` lets it accredit others (spec §6.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accreditation {
    /// Whether the subject may itself accredit further verifiers.
    pub may_accredit: bool,
}

/// One entry of a revocation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokedEntry {
    /// The revoked attestation.
    pub id: AttestationId,
    /// From when.
    pub effective: Timestamp,
    /// Why.
    pub reason: RevocationReason,
}

/// One of the issuer's own keys in a revocation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokedKey {
    /// The revoked key (as in [`RevocationTarget::Key`]).
    pub key: LogKey,
    /// From when.
    pub effective: Timestamp,
    /// Why.
    pub reason: RevocationReason,
}

/// The issuer's complete revocation status as of the attestation's `issued_at` (spec §6.8):
/// what makes revocation information fresh. A verifier holding a list issued after a time T
/// knows every revocation the issuer had made by T, retroactive ones included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationList {
    /// Every attestation the issuer has revoked.
    pub entries: Vec<RevokedEntry>,
    /// Every one of its own keys the issuer has revoked (absent on the wire when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<RevokedKey>,
}

/// The kind-specific claims of an attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claims {
    /// See [`IdentityClaims`].
    Identity(IdentityClaims),
    /// See [`SealCertification`].
    SealCertification(SealCertification),
    /// See [`Delegation`].
    Delegation(Delegation),
    /// See [`Endorsement`].
    Endorsement(Endorsement),
    /// See [`Revocation`].
    Revocation(Revocation),
    /// See [`Accreditation`].
    Accreditation(Accreditation),
    /// See [`RevocationList`].
    RevocationList(RevocationList),
    /// See [`PdfCertificate`].
    PdfCertificate(PdfCertificate),
    /// See [`CertificateIdentity`].
    CaIdentity(CertificateIdentity),
}

impl Claims {
    /// The registry kind.
    pub fn kind(&self) -> AttestationKind {
        match self {
            Self::Identity(_) => AttestationKind::Identity,
            Self::SealCertification(_) => AttestationKind::SealCertification,
            Self::Delegation(_) => AttestationKind::Delegation,
            Self::Endorsement(_) => AttestationKind::Endorsement,
            Self::Revocation(_) => AttestationKind::Revocation,
            Self::Accreditation(_) => AttestationKind::Accreditation,
            Self::RevocationList(_) => AttestationKind::RevocationList,
            Self::PdfCertificate(_) => AttestationKind::PdfCertificate,
            Self::CaIdentity(_) => AttestationKind::CaIdentity,
        }
    }
}

/// An attestation: the payload of a signed object of type [`ATTESTATION_CONTENT_TYPE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AttestationWire", into = "AttestationWire")]
pub struct Attestation {
    /// Unique id chosen by the issuer.
    pub id: AttestationId,
    /// Who states it.
    pub issuer: PartyId,
    /// Whom it is about.
    pub subject: PartyId,
    /// When it was signed.
    pub issued_at: Timestamp,
    /// Start of validity (inclusive).
    pub valid_from: Timestamp,
    /// End of validity (exclusive).
    pub valid_until: Timestamp,
    /// What it states.
    pub claims: Claims,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttestationWire {
    id: AttestationId,
    issuer: PartyId,
    subject: PartyId,
    issued_at: Timestamp,
    valid_from: Timestamp,
    valid_until: Timestamp,
    kind: AttestationKind,
    claims: Value,
}

/// Why an attestation's content is invalid whatever the context (checked on decode and issue).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The kind is not one this implementation knows.
    #[error("{}", codec::unknown_kind("attestation kind", *.0))]
    UnknownKind(u64),
    /// The claims do not match the kind's schema.
    #[error("claims: {0}")]
    Claims(DecodeError),
    /// `valid_until` is not after `valid_from`.
    #[error("validity window is empty")]
    EmptyWindow,
    /// A text field is empty or longer than [`MAX_TEXT_LEN`].
    #[error("text field {0} is empty or too long")]
    Text(&'static str),
    /// A list is empty where one entry is needed, or longer than [`MAX_LIST_LEN`].
    #[error("list field {0} is empty or too long")]
    List(&'static str),
    /// The subject must be the issuer for this kind (delegation, revocation, revocation list).
    #[error("a {0} attestation must be about its own issuer")]
    SubjectNotIssuer(AttestationKind),
    /// A code point (method, assurance, seal kind, reason) is unknown.
    #[error("unknown {0}")]
    UnknownCode(&'static str),
    /// A delegate names neither or both of a software key and a passkey, or a software key
    /// of an algorithm a person's key may not have (only Ed25519 and SM2).
    #[error("a delegate names exactly one of a key (Ed25519 or SM2) and a credential")]
    Delegate,
    /// A delegate's passkey is malformed.
    #[error("delegate credential: {0}")]
    Credential(CredentialError),
    /// A PDF certificate does not say what its claims say (spec §6.10).
    #[error("pdf certificate: {0}")]
    PdfCertificate(&'static str),
    /// A certificate-backed identity breaks a content rule of spec §6.11.1 (its possession
    /// proof does not verify, its certificate names no valid USCC…).
    #[error("ca identity: {0}")]
    CaIdentity(&'static str),
}

fn text(field: &'static str, value: &str) -> Result<(), ContentError> {
    if value.is_empty() || value.len() > MAX_TEXT_LEN {
        return Err(ContentError::Text(field));
    }
    Ok(())
}

fn list<T>(field: &'static str, values: &[T], allow_empty: bool) -> Result<(), ContentError> {
    if (!allow_empty && values.is_empty()) || values.len() > MAX_LIST_LEN {
        return Err(ContentError::List(field));
    }
    Ok(())
}

fn known(known: bool, what: &'static str) -> Result<(), ContentError> {
    if known {
        Ok(())
    } else {
        Err(ContentError::UnknownCode(what))
    }
}

impl Attestation {
    /// Checks everything that does not depend on context.
    pub fn check_content(&self) -> Result<(), ContentError> {
        if self.valid_until <= self.valid_from {
            return Err(ContentError::EmptyWindow);
        }
        let self_issued = self.issuer == self.subject;
        match &self.claims {
            Claims::Identity(c) => {
                text("legal_name", &c.legal_name)?;
                text("jurisdiction", &c.jurisdiction)?;
                text("legal_representative", &c.legal_representative)?;
                known(c.method.is_known(), "verification method")?;
                known(c.assurance.is_known(), "assurance level")?;
            }
            Claims::SealCertification(c) => {
                text("name", &c.name)?;
                known(c.kind.is_known(), "seal kind")?;
            }
            Claims::Delegation(c) => {
                if !self_issued {
                    return Err(ContentError::SubjectNotIssuer(AttestationKind::Delegation));
                }
                text("delegate.name", &c.delegate.name)?;
                if c.delegate.person_key().is_none() {
                    return Err(ContentError::Delegate);
                }
                if let Some(credential) = &c.delegate.credential {
                    credential.check().map_err(ContentError::Credential)?;
                }
                list("seals", &c.seals, false)?;
                list("purposes", &c.purposes, false)?;
                for purpose in &c.purposes {
                    text("purposes", purpose)?;
                }
                if let Some(cap) = &c.value_cap {
                    text("value_cap.currency", &cap.currency)?;
                }
                if let Some(parties) = &c.counterparties {
                    list("counterparties", parties, false)?;
                }
            }
            Claims::Endorsement(c) => {
                text("legal_name", &c.legal_name)?;
                text("relationship", &c.relationship)?;
            }
            Claims::Revocation(c) => {
                if !self_issued {
                    return Err(ContentError::SubjectNotIssuer(AttestationKind::Revocation));
                }
                known(c.reason.is_known(), "revocation reason")?;
            }
            Claims::Accreditation(_) => {}
            Claims::RevocationList(c) => {
                if !self_issued {
                    return Err(ContentError::SubjectNotIssuer(
                        AttestationKind::RevocationList,
                    ));
                }
                list("entries", &c.entries, true)?;
                list("keys", &c.keys, true)?;
                for entry in &c.entries {
                    known(entry.reason.is_known(), "revocation reason")?;
                }
                for entry in &c.keys {
                    known(entry.reason.is_known(), "revocation reason")?;
                }
            }
            Claims::PdfCertificate(c) => {
                if c.identity.is_none() != self_issued {
                    return Err(ContentError::PdfCertificate(
                        "identity is absent exactly when the subject is the issuer",
                    ));
                }
                pdf_certificate::check(self, c).map_err(ContentError::PdfCertificate)?;
            }
            Claims::CaIdentity(c) => {
                ca_identity::check(self, c).map_err(ContentError::CaIdentity)?;
            }
        }
        Ok(())
    }

    /// Checks that `key` was one of the issuer's attestation keys when this was issued. The
    /// key is compared with its algorithm (spec §6.9): an attestation's key id read under
    /// one algorithm never matches a key the log declares under another.
    pub fn check_issuer_key(
        &self,
        key: impl Into<LogKey>,
        issuer_log: &KeyLog,
    ) -> Result<(), KeyUseError> {
        let key = key.into();
        if issuer_log.party() != self.issuer {
            return Err(KeyUseError::UnknownKey {
                party: self.issuer,
                key,
            });
        }
        issuer_log
            .check_log_key(&key, KeyPurpose::Attest, self.issued_at)
            .map(|_| ())
    }

    /// Signs this attestation with `key` (Ed25519, or SM2: [`crate::keylog::LogSecretKey`] or
    /// [`crate::sm2::Sm2SecretKey`]), which must be an `attest` key of the issuer at
    /// `issued_at` according to `issuer_log`.
    pub fn issue<S>(self, key: &S, issuer_log: &KeyLog) -> Result<SignedAttestation, UsageError>
    where
        S: CoseSigner,
        S::Public: Into<LogKey>,
    {
        self.check_content()
            .map_err(|e| UsageError::Attestation(content_reason(&e)))?;
        self.check_issuer_key(key.public().0, issuer_log)
            .map_err(|_| {
                UsageError::Attestation("the key is not an attest key of the issuer at issued_at")
            })?;
        Ok(Signed::sign(self, ATTESTATION_CONTENT_TYPE, key)?.into_log_key())
    }

    /// Decodes a signed attestation and checks its signature and content (not its
    /// authority, window or revocation, which depend on context: see [`crate::trust`]).
    /// Its signer is Ed25519 or SM2 (spec §3.3 rule 2).
    pub fn decode(bytes: &[u8]) -> Result<SignedAttestation, CoseError> {
        Signed::decode(bytes, ATTESTATION_CONTENT_TYPE, &Limits::DEFAULT)
    }
}

/// A signed attestation: signed by an Ed25519 or an SM2 `attest` key of its issuer.
pub type SignedAttestation = Signed<Attestation, LogKey>;

fn content_reason(error: &ContentError) -> &'static str {
    match error {
        ContentError::EmptyWindow => "validity window is empty",
        ContentError::Text(_) => "a text field is empty or too long",
        ContentError::List(_) => "a list field is empty or too long",
        ContentError::SubjectNotIssuer(_) => "this kind must be about its own issuer",
        ContentError::UnknownCode(_) => "a code point is unknown",
        ContentError::UnknownKind(_) | ContentError::Claims(_) => "claims do not match the kind",
        ContentError::Delegate => {
            "a delegate names exactly one of a key (Ed25519 or SM2) and a credential"
        }
        ContentError::Credential(_) => "the delegate's credential is malformed",
        ContentError::PdfCertificate(reason) | ContentError::CaIdentity(reason) => reason,
    }
}

impl TryFrom<AttestationWire> for Attestation {
    type Error = ContentError;

    fn try_from(wire: AttestationWire) -> Result<Self, ContentError> {
        let claims = match wire.kind {
            AttestationKind::Identity => Claims::Identity(claims(&wire.claims)?),
            AttestationKind::SealCertification => Claims::SealCertification(claims(&wire.claims)?),
            AttestationKind::Delegation => Claims::Delegation(claims(&wire.claims)?),
            AttestationKind::Endorsement => Claims::Endorsement(claims(&wire.claims)?),
            AttestationKind::Revocation => Claims::Revocation(claims(&wire.claims)?),
            AttestationKind::Accreditation => Claims::Accreditation(claims(&wire.claims)?),
            AttestationKind::RevocationList => Claims::RevocationList(claims(&wire.claims)?),
            AttestationKind::PdfCertificate => Claims::PdfCertificate(claims(&wire.claims)?),
            AttestationKind::CaIdentity => Claims::CaIdentity(claims(&wire.claims)?),
            AttestationKind::Unknown(code) => return Err(ContentError::UnknownKind(code)),
        };
        let attestation = Self {
            id: wire.id,
            issuer: wire.issuer,
            subject: wire.subject,
            issued_at: wire.issued_at,
            valid_from: wire.valid_from,
            valid_until: wire.valid_until,
            claims,
        };
        attestation.check_content()?;
        Ok(attestation)
    }
}

fn claims<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, ContentError> {
    codec::from_value(value).map_err(ContentError::Claims)
}

impl From<Attestation> for AttestationWire {
    fn from(a: Attestation) -> Self {
        let kind = a.claims.kind();
        let claims = match &a.claims {
            Claims::Identity(c) => codec::to_value(c),
            Claims::SealCertification(c) => codec::to_value(c),
            Claims::Delegation(c) => codec::to_value(c),
            Claims::Endorsement(c) => codec::to_value(c),
            Claims::Revocation(c) => codec::to_value(c),
            Claims::Accreditation(c) => codec::to_value(c),
            Claims::RevocationList(c) => codec::to_value(c),
            Claims::PdfCertificate(c) => codec::to_value(c),
            Claims::CaIdentity(c) => codec::to_value(c),
        };
        Self {
            id: a.id,
            issuer: a.issuer,
            subject: a.subject,
            issued_at: a.issued_at,
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            kind,
            // Claims hold only integers, text, byte strings, booleans, arrays and maps,
            // which always convert to a CBOR tree; a null here would fail to decode anyway.
            claims: claims.unwrap_or(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests;
