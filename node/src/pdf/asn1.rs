//! The ASN.1 shared by the certificates, CMS signatures and time-stamps: object identifiers,
//! the ESS and RFC 3161 structures (no maintained crate has them for `der` 0.8), and ECDSA
//! P-256 signing of DER.

use const_oid::ObjectIdentifier as Oid;
use der::asn1::{BitString, GeneralizedTime, Int, OctetString};
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use super::error::Asn1Error;

/// The private arc under which Signet names its own extensions and policies.
///
/// **Placeholder pending registration**: 59999 is not an IANA Private Enterprise Number
/// assigned to Signet. Replace it (and the OIDs below) once a number is registered; until
/// then, no relying party outside Signet should give these OIDs any meaning.
pub const SIGNET_PRIVATE_ARC: &str = "1.3.6.1.4.1.59999";
/// The non-critical certificate extension carrying the Signet identity attestation id
/// (an OCTET STRING of 32 bytes). Placeholder under [`SIGNET_PRIVATE_ARC`].
pub const ATTESTATION_EXTENSION_OID: &str = "1.3.6.1.4.1.59999.1.1";
/// The time-stamp policy of a Signet witness TSA. Placeholder under [`SIGNET_PRIVATE_ARC`].
pub const TSA_POLICY_OID: &str = "1.3.6.1.4.1.59999.2.1";

pub(crate) const ATTESTATION_EXTENSION: Oid = Oid::new_unwrap(ATTESTATION_EXTENSION_OID);
pub(crate) const TSA_POLICY: Oid = Oid::new_unwrap(TSA_POLICY_OID);

pub(crate) const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub(crate) const ID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub(crate) const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");

pub(crate) const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const ID_CT_TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
pub(crate) const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const ATTR_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub(crate) const ATTR_SIGNATURE_TIME_STAMP: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");

pub(crate) const AT_COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
pub(crate) const AT_SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
pub(crate) const AT_COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
pub(crate) const AT_ORGANIZATION: Oid = Oid::new_unwrap("2.5.4.10");
pub(crate) const AT_ORGANIZATION_IDENTIFIER: Oid = Oid::new_unwrap("2.5.4.97");
pub(crate) const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");

/// `AlgorithmIdentifier` for SHA-256 (parameters absent, RFC 5754).
pub(crate) fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SHA256,
        parameters: None,
    }
}

/// `AlgorithmIdentifier` for ecdsa-with-SHA256 (parameters absent, RFC 5758).
pub(crate) fn ecdsa_sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    }
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The DER (`Ecdsa-Sig-Value`) ECDSA-SHA256 signature of `message`.
pub(crate) fn sign_der(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    let signature: Signature = key.sign(message);
    signature.to_der().as_bytes().to_vec()
}

/// Whether `signature_der` is a valid ECDSA-SHA256 signature of `message` by `key`.
pub(crate) fn verify_der(key: &VerifyingKey, message: &[u8], signature_der: &[u8]) -> bool {
    Signature::from_der(signature_der)
        .is_ok_and(|signature| key.verify(message, &signature).is_ok())
}

/// The `SubjectPublicKeyInfo` of a P-256 public key (id-ecPublicKey, prime256v1, uncompressed).
pub(crate) fn p256_spki(key: &VerifyingKey) -> Result<SubjectPublicKeyInfoOwned, Asn1Error> {
    let point = key.to_sec1_bytes();
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&PRIME256V1)?),
        },
        subject_public_key: BitString::from_bytes(&point)?,
    })
}

/// The P-256 key of a `SubjectPublicKeyInfo`, if it is one.
pub(crate) fn p256_key_of(spki: &SubjectPublicKeyInfoOwned) -> Option<VerifyingKey> {
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return None;
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()?
        .decode_as::<Oid>()
        .ok()?;
    if curve != PRIME256V1 {
        return None;
    }
    VerifyingKey::from_sec1_bytes(spki.subject_public_key.as_bytes()?).ok()
}

/// `SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING }`: the outer shape of a
/// certificate and a CRL.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct SignedEnvelope {
    pub(crate) tbs: Any,
    pub(crate) signature_algorithm: AlgorithmIdentifierOwned,
    pub(crate) signature: BitString,
}

/// Signs the DER `tbs` with ECDSA-SHA256 and wraps it as a certificate or CRL.
pub(crate) fn sign_envelope(key: &SigningKey, tbs: &[u8]) -> Result<Vec<u8>, Asn1Error> {
    let envelope = SignedEnvelope {
        tbs: Any::from_der(tbs)?,
        signature_algorithm: ecdsa_sha256_algorithm(),
        signature: BitString::from_bytes(&sign_der(key, tbs))?,
    };
    Ok(envelope.to_der()?)
}

/// `SigningCertificateV2` (RFC 5035, section 3); `policies` is never written.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct SigningCertificateV2 {
    pub(crate) certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub(crate) policies: Option<Vec<Any>>,
}

/// `ESSCertIDv2`: `hashAlgorithm` defaults to SHA-256 and is then omitted (DER).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub(crate) hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub(crate) cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub(crate) issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial` (RFC 5035).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct IssuerSerial {
    pub(crate) issuer: Vec<GeneralName>,
    pub(crate) serial_number: SerialNumber,
}

/// `MessageImprint` (RFC 3161, section 2.4.1).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct MessageImprint {
    pub(crate) hash_algorithm: AlgorithmIdentifierOwned,
    pub(crate) hashed_message: OctetString,
}

/// `TimeStampReq` (RFC 3161, section 2.4.1).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct TimeStampReq {
    pub(crate) version: u8,
    pub(crate) message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    pub(crate) req_policy: Option<Oid>,
    #[asn1(optional = "true")]
    pub(crate) nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    pub(crate) cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) extensions: Option<Vec<Extension>>,
}

/// `Accuracy` (RFC 3161, section 2.4.2).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct Accuracy {
    #[asn1(optional = "true")]
    pub(crate) seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) micros: Option<u16>,
}

/// `TSTInfo` (RFC 3161, section 2.4.2).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct TstInfo {
    pub(crate) version: u8,
    pub(crate) policy: Oid,
    pub(crate) message_imprint: MessageImprint,
    pub(crate) serial_number: Int,
    pub(crate) gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    pub(crate) accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    pub(crate) ordering: bool,
    #[asn1(optional = "true")]
    pub(crate) nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) extensions: Option<Vec<Extension>>,
}

/// `PKIStatusInfo` (RFC 3161, section 2.4.2).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct PkiStatusInfo {
    pub(crate) status: u8,
    #[asn1(optional = "true")]
    pub(crate) status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    pub(crate) fail_info: Option<BitString>,
}

/// `TimeStampResp` (RFC 3161, section 2.4.2).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct TimeStampResp {
    pub(crate) status: PkiStatusInfo,
    #[asn1(optional = "true")]
    pub(crate) time_stamp_token: Option<cms::content_info::ContentInfo>,
}

/// Decodes one DER value from the front of `bytes`, ignoring what follows (a PDF's
/// `/Contents` is padded with zeros after the CMS object).
pub(crate) fn decode_prefix<'a, T: Decode<'a, Error = der::Error>>(
    bytes: &'a [u8],
) -> Result<T, Asn1Error> {
    let mut reader = der::SliceReader::new(bytes)?;
    Ok(T::decode(&mut reader)?)
}
