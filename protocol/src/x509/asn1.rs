//! The ASN.1 that certificates share with the CMS signatures and time-stamps built on them:
//! object identifiers, algorithm identifiers, P-256 keys in `SubjectPublicKeyInfo`, and
//! ECDSA P-256 signing of DER.

use const_oid::ObjectIdentifier as Oid;
use der::asn1::BitString;
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::X509Error;

/// The private arc under which Signet names its own extensions and policies.
///
/// **Placeholder pending registration**: 59999 is not an IANA Private Enterprise Number
/// assigned to Signet. Replace it (and the OIDs below) once a number is registered; until
/// then, no relying party outside Signet should give these OIDs any meaning.
pub const SIGNET_PRIVATE_ARC: &str = "1.3.6.1.4.1.59999";
/// The non-critical certificate extension carrying the Signet identity attestation id
/// (an OCTET STRING of its 16 bytes). Placeholder under [`SIGNET_PRIVATE_ARC`].
pub const ATTESTATION_EXTENSION_OID: &str = "1.3.6.1.4.1.59999.1.1";
/// The time-stamp policy of a Signet witness TSA. Placeholder under [`SIGNET_PRIVATE_ARC`].
pub const TSA_POLICY_OID: &str = "1.3.6.1.4.1.59999.2.1";

/// [`ATTESTATION_EXTENSION_OID`].
pub const ATTESTATION_EXTENSION: Oid = Oid::new_unwrap(ATTESTATION_EXTENSION_OID);
/// [`TSA_POLICY_OID`].
pub const TSA_POLICY: Oid = Oid::new_unwrap(TSA_POLICY_OID);

/// ecdsa-with-SHA256 (RFC 5758).
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// id-ecPublicKey (RFC 5480).
pub const ID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// secp256r1, prime256v1 (RFC 5480).
pub const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// id-sha256.
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");

/// id-data (RFC 5652).
pub const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData (RFC 5652).
pub const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo (RFC 3161).
pub const ID_CT_TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// The content-type signed attribute (RFC 5652).
pub const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// The message-digest signed attribute (RFC 5652).
pub const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// The signing-certificate-v2 signed attribute (RFC 5035).
pub const ATTR_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// The signature-time-stamp unsigned attribute (RFC 3161, appendix A).
pub const ATTR_SIGNATURE_TIME_STAMP: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// commonName (X.520).
pub const AT_COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
/// serialNumber (X.520).
pub const AT_SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
/// countryName (X.520).
pub const AT_COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
/// organizationName (X.520).
pub const AT_ORGANIZATION: Oid = Oid::new_unwrap("2.5.4.10");
/// organizationIdentifier (X.520, ETSI EN 319 412-1).
pub const AT_ORGANIZATION_IDENTIFIER: Oid = Oid::new_unwrap("2.5.4.97");
/// id-kp-timeStamping (RFC 5280).
pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");

/// `AlgorithmIdentifier` for SHA-256 (parameters absent, RFC 5754).
pub fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SHA256,
        parameters: None,
    }
}

/// `AlgorithmIdentifier` for ecdsa-with-SHA256 (parameters absent, RFC 5758).
pub fn ecdsa_sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The DER (`Ecdsa-Sig-Value`) ECDSA-SHA256 signature of `message`.
pub fn sign_der(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    let signature: Signature = key.sign(message);
    signature.to_der().as_bytes().to_vec()
}

/// Whether `signature_der` is a valid ECDSA-SHA256 signature of `message` by `key`.
pub fn verify_der(key: &VerifyingKey, message: &[u8], signature_der: &[u8]) -> bool {
    Signature::from_der(signature_der)
        .is_ok_and(|signature| key.verify(message, &signature).is_ok())
}

/// The `SubjectPublicKeyInfo` of a P-256 public key (id-ecPublicKey, prime256v1, uncompressed).
pub fn p256_spki(key: &VerifyingKey) -> Result<SubjectPublicKeyInfoOwned, X509Error> {
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
pub fn p256_key_of(spki: &SubjectPublicKeyInfoOwned) -> Option<VerifyingKey> {
    VerifyingKey::from_sec1_bytes(ec_point_on(spki, PRIME256V1)?).ok()
}

/// The SEC1 point of a `SubjectPublicKeyInfo` whose key is an EC key on the named `curve`.
pub(crate) fn ec_point_on(spki: &SubjectPublicKeyInfoOwned, curve: Oid) -> Option<&[u8]> {
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return None;
    }
    let named = spki
        .algorithm
        .parameters
        .as_ref()?
        .decode_as::<Oid>()
        .ok()?;
    if named != curve {
        return None;
    }
    spki.subject_public_key.as_bytes()
}

/// `SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING }`: the outer shape of a
/// certificate and a CRL.
#[derive(Clone, Debug, Sequence)]
pub struct SignedEnvelope {
    /// The signed part, DER.
    pub tbs: Any,
    /// The signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// The signature (DER ECDSA).
    pub signature: BitString,
}

/// Signs the DER `tbs` with ECDSA-SHA256 and wraps it as a certificate or CRL.
pub fn sign_envelope(key: &SigningKey, tbs: &[u8]) -> Result<Vec<u8>, X509Error> {
    let envelope = SignedEnvelope {
        tbs: Any::from_der(tbs)?,
        signature_algorithm: ecdsa_sha256_algorithm(),
        signature: BitString::from_bytes(&sign_der(key, tbs))?,
    };
    Ok(envelope.to_der()?)
}
