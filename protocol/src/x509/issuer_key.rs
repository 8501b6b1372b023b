//! The keys CAs sign certificates and CRLs with, and the signature algorithm accepted for
//! each (spec §6.11.3): SM2 with SM3; ECDSA P-256 with SHA-256; ECDSA P-384 with SHA-384;
//! RSA of [`MIN_RSA_BITS`] to [`MAX_RSA_BITS`] bits with PKCS #1 v1.5 and SHA-256, SHA-384
//! or SHA-512, or with RSASSA-PSS where the hash is one of those, MGF1 uses the same hash
//! and the salt is as long as the hash (RFC 4055's recommended parameter sets; the only ones
//! `ring` verifies). RSA is verified by `ring` (which refuses keys outside that range
//! itself; the size is checked here first so that a short key is named as such), P-384 by
//! RustCrypto's `p384`.
//!
//! These are the keys of issuers. The subject's own certificate certifies an SM2, P-256 or
//! RSA key, which signs its possession proof and is declared in its key log
//! ([`super::chain::CertificateKey`]).

use const_oid::ObjectIdentifier as Oid;
use der::Sequence;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::asn1::{self, ECDSA_WITH_SHA256};
use super::sm2::{SM2_WITH_SM3, is_sm2_with_sm3, sm2_key_of};
use crate::sm2::Sm2PublicKey;

/// rsaEncryption (RFC 8017), the algorithm of an RSA `SubjectPublicKeyInfo`.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// sha256WithRSAEncryption (RFC 8017): PKCS #1 v1.5 with SHA-256.
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// sha384WithRSAEncryption (RFC 8017).
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
/// sha512WithRSAEncryption (RFC 8017).
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
/// id-RSASSA-PSS (RFC 4055).
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
/// id-mgf1 (RFC 4055).
const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
/// id-sha256, id-sha384, id-sha512 (RFC 5754), with their output lengths.
const PSS_HASHES: [(Oid, u32); 3] = [
    (Oid::new_unwrap("2.16.840.1.101.3.4.2.1"), 32),
    (Oid::new_unwrap("2.16.840.1.101.3.4.2.2"), 48),
    (Oid::new_unwrap("2.16.840.1.101.3.4.2.3"), 64),
];
/// ecdsa-with-SHA384 (RFC 5758).
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// secp384r1 (RFC 5480).
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");

pub use crate::rsa::{MAX_RSA_BITS, MIN_RSA_BITS};

/// A signature problem, before it is placed at a depth of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SignatureProblem {
    /// The structure or its signature does not parse.
    Malformed,
    /// An algorithm not accepted at all.
    Algorithm(Oid),
    /// An RSA issuer key of this many bits, outside the range accepted.
    RsaKeySize(usize),
    /// The signature does not verify, the issuer's key is of no accepted kind, or the
    /// algorithm is not the one for the issuer's key (or has parameters it may not have).
    Bad,
}

/// An issuer's public key.
enum IssuerKey {
    Sm2(Sm2PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    /// The `RSAPublicKey` DER (RFC 8017, A.1.1), and the modulus's length in bits.
    Rsa {
        der: Vec<u8>,
        bits: usize,
    },
}

/// A signature algorithm accepted, as named by an `AlgorithmIdentifier`.
enum Algorithm {
    Sm2WithSm3,
    EcdsaSha256,
    EcdsaSha384,
    /// PKCS #1 v1.5 or PSS, as `ring` names them.
    Rsa(&'static ring::signature::RsaParameters),
}

/// `RSASSA-PSS-params` (RFC 4055, 3.1); an absent field takes its default (SHA-1, MGF1 with
/// SHA-1, salt 20, trailer 1), which is refused but for the trailer.
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

/// The `ring` algorithm for RSASSA-PSS with `parameters`, if they are a set it verifies:
/// SHA-256, -384 or -512, MGF1 with the same hash, a salt as long as the hash, trailer 1.
fn pss_of(parameters: Option<&der::Any>) -> Option<&'static ring::signature::RsaParameters> {
    use ring::signature::{
        RSA_PSS_2048_8192_SHA256, RSA_PSS_2048_8192_SHA384, RSA_PSS_2048_8192_SHA512,
    };
    let params: PssParams = parameters?.decode_as().ok()?;
    let hash = params.hash?;
    let (index, length) = PSS_HASHES
        .iter()
        .enumerate()
        .find(|(_, (oid, _))| *oid == hash.oid)
        .map(|(i, (_, length))| (i, *length))?;
    let mask_gen = params.mask_gen?;
    let mask_hash: AlgorithmIdentifierOwned = mask_gen.parameters.as_ref()?.decode_as().ok()?;
    let fits = absent_or_null(&hash)
        && mask_gen.oid == MGF1
        && mask_hash.oid == hash.oid
        && absent_or_null(&mask_hash)
        && params.salt_length == Some(length)
        && params.trailer_field.is_none_or(|t| t == 1);
    fits.then_some(
        [
            &RSA_PSS_2048_8192_SHA256,
            &RSA_PSS_2048_8192_SHA384,
            &RSA_PSS_2048_8192_SHA512,
        ][index],
    )
}

/// Parameters absent, or NULL (as RFC 8017 writes them for the RSA algorithms).
fn absent_or_null(algorithm: &AlgorithmIdentifierOwned) -> bool {
    algorithm
        .parameters
        .as_ref()
        .is_none_or(|p| p.decode_as::<der::asn1::Null>().is_ok())
}

fn algorithm_of(id: &AlgorithmIdentifierOwned) -> Result<Algorithm, SignatureProblem> {
    use ring::signature::{
        RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512,
    };
    let rsa = |params| {
        if absent_or_null(id) {
            Ok(Algorithm::Rsa(params))
        } else {
            Err(SignatureProblem::Bad)
        }
    };
    let ecdsa = |algorithm| {
        if id.parameters.is_none() {
            Ok(algorithm)
        } else {
            Err(SignatureProblem::Bad)
        }
    };
    match id.oid {
        SM2_WITH_SM3 if is_sm2_with_sm3(id) => Ok(Algorithm::Sm2WithSm3),
        SM2_WITH_SM3 => Err(SignatureProblem::Bad),
        ECDSA_WITH_SHA256 => ecdsa(Algorithm::EcdsaSha256),
        ECDSA_WITH_SHA384 => ecdsa(Algorithm::EcdsaSha384),
        SHA256_WITH_RSA => rsa(&RSA_PKCS1_2048_8192_SHA256),
        SHA384_WITH_RSA => rsa(&RSA_PKCS1_2048_8192_SHA384),
        SHA512_WITH_RSA => rsa(&RSA_PKCS1_2048_8192_SHA512),
        RSASSA_PSS => pss_of(id.parameters.as_ref())
            .map(Algorithm::Rsa)
            .ok_or(SignatureProblem::Algorithm(RSASSA_PSS)),
        other => Err(SignatureProblem::Algorithm(other)),
    }
}

/// The P-384 key of a `SubjectPublicKeyInfo`, if it is one.
fn p384_key_of(spki: &SubjectPublicKeyInfoOwned) -> Option<p384::ecdsa::VerifyingKey> {
    p384::ecdsa::VerifyingKey::from_sec1_bytes(asn1::ec_point_on(spki, SECP384R1)?).ok()
}

/// The `RSAPublicKey` DER of a `SubjectPublicKeyInfo` of rsaEncryption (parameters NULL or
/// absent), unchecked.
pub(super) fn rsa_key_der(spki: &SubjectPublicKeyInfoOwned) -> Option<&[u8]> {
    if spki.algorithm.oid != RSA_ENCRYPTION || !absent_or_null(&spki.algorithm) {
        return None;
    }
    spki.subject_public_key.as_bytes()
}

/// The RSA key of a `SubjectPublicKeyInfo`, if it is one: its `RSAPublicKey` DER and size.
fn rsa_key_of(spki: &SubjectPublicKeyInfoOwned) -> Option<IssuerKey> {
    let der = rsa_key_der(spki)?;
    let bits = crate::rsa::modulus_bits(der)?;
    Some(IssuerKey::Rsa {
        der: der.to_vec(),
        bits,
    })
}

impl IssuerKey {
    fn of(spki: &SubjectPublicKeyInfoOwned) -> Option<Self> {
        if let Ok(key) = sm2_key_of(spki) {
            return Some(Self::Sm2(key));
        }
        if let Some(key) = asn1::p256_key_of(spki) {
            return Some(Self::P256(key));
        }
        if let Some(key) = p384_key_of(spki) {
            return Some(Self::P384(key));
        }
        rsa_key_of(spki)
    }
}

/// Whether `issuer` signed `tbs` with `algorithm`: the algorithm must be accepted and be the
/// one for the issuer's kind of key (an RSA key also of an accepted size).
pub(super) fn verify(
    issuer: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    tbs: &[u8],
    signature: &[u8],
) -> Result<(), SignatureProblem> {
    use p384::ecdsa::signature::Verifier;
    let algorithm = algorithm_of(algorithm)?;
    let key = IssuerKey::of(issuer).ok_or(SignatureProblem::Bad)?;
    let verified = match (&key, algorithm) {
        (IssuerKey::Sm2(key), Algorithm::Sm2WithSm3) => key.verify_der(tbs, signature).is_ok(),
        (IssuerKey::P256(key), Algorithm::EcdsaSha256) => asn1::verify_der(key, tbs, signature),
        (IssuerKey::P384(key), Algorithm::EcdsaSha384) => {
            p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|signature| key.verify(tbs, &signature).is_ok())
        }
        (IssuerKey::Rsa { der, bits }, Algorithm::Rsa(params)) => {
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(bits) {
                return Err(SignatureProblem::RsaKeySize(*bits));
            }
            ring::signature::UnparsedPublicKey::new(params, der)
                .verify(tbs, signature)
                .is_ok()
        }
        // An SM2-signed certificate under a P-256 issuer, say.
        _ => false,
    };
    if verified {
        Ok(())
    } else {
        Err(SignatureProblem::Bad)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use base64::Engine as _;
    use der::Decode as _;
    use x509_cert::Certificate;

    use super::*;
    use crate::x509::sm2::first_element;

    /// Self-signed certificates made once with the `openssl` CLI (`req -x509`).
    const RSA_2048_SHA256: &str = include_str!("testdata/rsa2048-sha256.pem");
    const RSA_2048_SHA512: &str = include_str!("testdata/rsa2048-sha512.pem");
    const RSA_2048_PSS: &str = include_str!("testdata/rsa2048-pss.pem");
    const RSA_1024_SHA256: &str = include_str!("testdata/rsa1024-sha256.pem");
    const P384_SHA384: &str = include_str!("testdata/p384-sha384.pem");

    fn der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    /// Checks a self-signed certificate's signature under its own key.
    fn self_signed(der: &[u8]) -> Result<(), SignatureProblem> {
        let certificate = Certificate::from_der(der).unwrap();
        let spki = certificate.tbs_certificate().subject_public_key_info();
        verify(
            spki,
            certificate.signature_algorithm(),
            first_element(der).unwrap(),
            certificate.signature().as_bytes().unwrap(),
        )
    }

    #[test]
    fn rsa_pkcs1_and_p384_self_signatures_verify() {
        for pem in [RSA_2048_SHA256, RSA_2048_SHA512, P384_SHA384] {
            assert_eq!(self_signed(&der(pem)), Ok(()));
        }
    }

    #[test]
    fn a_changed_tbs_does_not_verify() {
        for pem in [RSA_2048_SHA256, P384_SHA384] {
            let mut der = der(pem);
            // A byte of the subject name, inside the TBS.
            let at = der.windows(8).position(|w| w == b"Test-RSA").unwrap();
            der[at] ^= 1;
            assert_eq!(self_signed(&der), Err(SignatureProblem::Bad));
        }
    }

    #[test]
    fn an_rsa_key_under_2048_bits_is_named_as_such() {
        assert_eq!(
            self_signed(&der(RSA_1024_SHA256)),
            Err(SignatureProblem::RsaKeySize(1024))
        );
    }

    #[test]
    fn rsassa_pss_with_sha256_and_a_32_byte_salt_verifies_and_other_parameters_do_not() {
        let der = der(RSA_2048_PSS);
        assert_eq!(self_signed(&der), Ok(()));
        let certificate = Certificate::from_der(&der).unwrap();
        let verify_with = |parameters: Option<der::Any>| {
            let algorithm = AlgorithmIdentifierOwned {
                oid: RSASSA_PSS,
                parameters,
            };
            verify(
                certificate.tbs_certificate().subject_public_key_info(),
                &algorithm,
                first_element(&der).unwrap(),
                certificate.signature().as_bytes().unwrap(),
            )
        };
        // No parameters: the defaults, SHA-1.
        assert_eq!(
            verify_with(None),
            Err(SignatureProblem::Algorithm(RSASSA_PSS))
        );
        // The same parameters but a 20-byte salt.
        let given = certificate
            .signature_algorithm()
            .parameters
            .clone()
            .unwrap();
        let mut params: PssParams = given.decode_as().unwrap();
        params.salt_length = Some(20);
        let changed = der::Any::encode_from(&params).unwrap();
        assert_eq!(
            verify_with(Some(changed)),
            Err(SignatureProblem::Algorithm(RSASSA_PSS))
        );
        assert_eq!(verify_with(Some(given)), Ok(()));
    }

    #[test]
    fn an_algorithm_for_another_kind_of_key_is_refused() {
        // The RSA certificate's signature presented as ECDSA-with-SHA384, and the P-384
        // certificate's as sha256WithRSAEncryption.
        for (pem, oid) in [
            (RSA_2048_SHA256, ECDSA_WITH_SHA384),
            (P384_SHA384, SHA256_WITH_RSA),
        ] {
            let der = der(pem);
            let certificate = Certificate::from_der(&der).unwrap();
            let algorithm = AlgorithmIdentifierOwned {
                oid,
                parameters: None,
            };
            assert_eq!(
                verify(
                    certificate.tbs_certificate().subject_public_key_info(),
                    &algorithm,
                    first_element(&der).unwrap(),
                    certificate.signature().as_bytes().unwrap(),
                ),
                Err(SignatureProblem::Bad)
            );
        }
    }
}
