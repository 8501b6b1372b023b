//! GB/T 38540-2020 electronic seals and seal signatures (spec §11.6), version 4, with SM2
//! and SM3.
//!
//! An electronic seal (`SESeal`) is made by a seal maker (制章者: a CA or a seal authority):
//! it holds the seal's image and properties and lists the certificates of those who may
//! apply it, and the maker signs it. An electronic seal signature (`SES_Signature`) is one
//! signer (签章者) applying that seal to data: it embeds the whole seal, the time, the SM3
//! digest of the data and the signer's certificate, and the signer signs it.
//!
//! This module builds both (given SM2 keys and the certificates that certify them) and
//! verifies a seal signature completely: both signatures, over the bytes as received; the
//! algorithms; that the signer's certificate is one the seal lists; the data's digest; the
//! seal's and the signer certificate's validity at the signing time. Whether the signer's key
//! belongs to a Signet party is the caller's question: a party's key event log answers it
//! (an SM2 `pdf` key, spec §4.3.2).
//!
//! ```
//! use signet_protocol::ses::{self, Picture, SealSpec};
//! use signet_protocol::sm2::Sm2SecretKey;
//! use signet_protocol::x509::{Issuance, sm2::{Sm2KeyForm, sm2_certificate}};
//! use signet_protocol::Timestamp;
//!
//! let t = Timestamp::from_unix(1_800_000_000);
//! let issuance = Issuance { serial: 1, not_before: t, not_after: t.plus(365 * 86_400) };
//! let name = |cn: &str| -> x509_cert::name::Name { cn.parse().unwrap() };
//! let maker = Sm2SecretKey::from_bytes(&[1; 32])?;
//! let signer = Sm2SecretKey::from_bytes(&[2; 32])?;
//! let maker_cert = sm2_certificate(&maker, name("CN=Maker"), name("CN=Maker"),
//!     &maker.public_key(), Sm2KeyForm::EcPublicKey, &issuance, true)?;
//! let signer_cert = sm2_certificate(&maker, name("CN=Maker"), name("CN=Signer"),
//!     &signer.public_key(), Sm2KeyForm::EcPublicKey, &issuance, false)?;
//! let spec = SealSpec {
//!     vid: "signet".into(), es_id: "seal-1".into(), seal_type: 1, name: "合同专用章".into(),
//!     signer_certificates: vec![signer_cert.clone()],
//!     created: t, valid_from: t, valid_until: t.plus(30 * 86_400),
//!     picture: Picture { format: "PNG".into(), data: vec![0x89, b'P', b'N', b'G'], width_mm: 40, height_mm: 40 },
//! };
//! let seal = ses::make_seal(&spec, &maker, &maker_cert)?;
//! let signature = ses::sign(&seal, &signer, &signer_cert, b"the contract", t.plus(60), "contract.pdf")?;
//! let verified = ses::verify_signature(&signature, b"the contract")?;
//! assert_eq!(verified.signer_key, signer.public_key());
//! assert!(ses::verify_signature(&signature, b"another contract").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod asn1;

use std::time::Duration;

use der::asn1::{BitString, GeneralizedTime, Ia5String, OctetString};
use der::{Any, Decode, Encode, Reader as _};

use crate::Timestamp;
use crate::sm2::{Sm2PublicKey, Sm2SecretKey, Sm3Digest};
use crate::x509::sm2::{SM2_WITH_SM3, certificate_sm2_key};
use asn1::{
    CertDigestObj, SeSeal, SesHeader, SesPictureInfo, SesPropertyInfo, SesSealInfo, SesSignature,
    TbsSign,
};

/// The format version this module writes and reads (GB/T 38540-2020).
pub const VERSION: u32 = 4;
/// `SES_Header.id`.
pub const HEADER_ID: &str = "ES";
/// `cert_list_type` of a list of certificates.
pub const CERT_LIST_CERTIFICATES: u32 = 1;
/// `cert_list_type` of a list of certificate digests.
pub const CERT_LIST_DIGESTS: u32 = 2;
/// The largest seal signature read, in bytes: a seal image, a few certificates, a time-stamp.
pub const MAX_SIGNATURE_LEN: usize = 4 << 20;

/// Why a seal or seal signature is refused, or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SesError {
    /// The bytes are not the DER structure (or exceed [`MAX_SIGNATURE_LEN`]).
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// `TBS_Sign.version` or the seal header's version is not 4, or the header's id is not
    /// `"ES"`.
    #[error("not a version 4 seal or seal signature")]
    Version,
    /// A signature algorithm is not SM2-with-SM3 (1.2.156.10197.1.501).
    #[error("signature algorithm {0} is not sm2-with-sm3")]
    Algorithm(String),
    /// The seal maker's certificate is not an X.509 certificate of an SM2 key.
    #[error("the seal maker's certificate is not an sm2 certificate")]
    MakerCertificate,
    /// The signer's certificate is not an X.509 certificate of an SM2 key.
    #[error("the signer's certificate is not an sm2 certificate")]
    SignerCertificate,
    /// The seal maker's signature of `SES_SealInfo` does not verify: the seal was changed.
    #[error("the seal maker's signature does not verify")]
    SealSignature,
    /// The signer's signature of `TBS_Sign` does not verify.
    #[error("the signer's signature does not verify")]
    Signature,
    /// The seal does not list the signer's certificate: the seal is not the signer's to apply.
    #[error("the seal does not list the signer's certificate")]
    SignerNotInSeal,
    /// `cert_list_type` is neither 1 nor 2.
    #[error("unknown cert_list_type {0}")]
    CertListType(u32),
    /// `data_hash` is not the SM3 digest of the data.
    #[error("the data's sm3 digest is not the signed one")]
    DataHash,
    /// The signing time is outside the seal's validity.
    #[error("the seal is not valid at the signing time")]
    SealNotValidAt,
    /// The signing time is outside the signer certificate's validity.
    #[error("the signer's certificate is not valid at the signing time")]
    CertificateNotValidAt,
    /// Building: a certificate does not certify the key given with it.
    #[error("the certificate does not certify the signing key")]
    KeyMismatch,
    /// Building: a field cannot be encoded (text not IA5, a time out of range).
    #[error("cannot encode: {0}")]
    Encoding(String),
}

impl From<der::Error> for SesError {
    fn from(error: der::Error) -> Self {
        Self::Encoding(error.to_string())
    }
}

/// A seal's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Its format: `PNG`, `GIF`, `JPG`, `BMP`, `SVG` or `OFD`.
    pub format: String,
    /// The image file.
    pub data: Vec<u8>,
    /// Display width in millimetres.
    pub width_mm: u32,
    /// Display height in millimetres.
    pub height_mm: u32,
}

/// What a seal maker puts in a seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSpec {
    /// The maker's (vendor's) identifier.
    pub vid: String,
    /// The seal's identifier.
    pub es_id: String,
    /// Its type: 1 an organisation's seal, 2 a person's.
    pub seal_type: u32,
    /// Its name.
    pub name: String,
    /// The DER certificates of those who may apply it (listed in full, `cert_list_type` 1).
    pub signer_certificates: Vec<Vec<u8>>,
    /// When it was made.
    pub created: Timestamp,
    /// Start of validity.
    pub valid_from: Timestamp,
    /// End of validity.
    pub valid_until: Timestamp,
    /// Its image.
    pub picture: Picture,
}

fn time(at: Timestamp) -> Result<GeneralizedTime, SesError> {
    GeneralizedTime::from_unix_duration(Duration::from_secs(at.unix()))
        .map_err(|_| SesError::Encoding("time out of range".into()))
}

fn timestamp(time: &GeneralizedTime) -> Timestamp {
    Timestamp::from_unix(time.to_unix_duration().as_secs())
}

fn ia5(text: &str) -> Result<Ia5String, SesError> {
    Ia5String::new(text).map_err(|_| SesError::Encoding(format!("{text:?} is not ia5 text")))
}

/// The SM2 key of `certificate_der`, which must be `key`'s.
fn certified(key: &Sm2SecretKey, certificate_der: &[u8]) -> Result<(), SesError> {
    let certified = certificate_sm2_key(certificate_der).map_err(|_| SesError::KeyMismatch)?;
    if certified != key.public_key() {
        return Err(SesError::KeyMismatch);
    }
    Ok(())
}

/// Makes an electronic seal, signed by the maker's `maker_key`, whose certificate is
/// `maker_certificate` (DER).
///
/// # Errors
///
/// [`SesError::KeyMismatch`] when the certificate is not the key's, [`SesError::Encoding`]
/// for text or times that cannot be encoded.
pub fn make_seal(
    spec: &SealSpec,
    maker_key: &Sm2SecretKey,
    maker_certificate: &[u8],
) -> Result<Vec<u8>, SesError> {
    certified(maker_key, maker_certificate)?;
    let certs = spec
        .signer_certificates
        .iter()
        .map(|c| OctetString::new(c.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let info = SesSealInfo {
        header: SesHeader {
            id: ia5(HEADER_ID)?,
            version: VERSION,
            vid: ia5(&spec.vid)?,
        },
        es_id: ia5(&spec.es_id)?,
        property: SesPropertyInfo {
            r#type: spec.seal_type,
            name: spec.name.clone(),
            cert_list_type: CERT_LIST_CERTIFICATES,
            cert_list: Any::encode_from(&certs)?,
            create_date: time(spec.created)?,
            valid_start: time(spec.valid_from)?,
            valid_end: time(spec.valid_until)?,
        },
        picture: SesPictureInfo {
            r#type: ia5(&spec.picture.format)?,
            data: OctetString::new(spec.picture.data.clone())?,
            width: spec.picture.width_mm,
            height: spec.picture.height_mm,
        },
        ext_datas: None,
    };
    let info_der = info.to_der()?;
    let signature = maker_key.sign(&info_der);
    let seal = SeSeal {
        e_seal_info: info,
        cert: OctetString::new(maker_certificate.to_vec())?,
        sign_alg_id: SM2_WITH_SM3,
        signed_value: BitString::from_bytes(&signature.to_der())?,
    };
    Ok(seal.to_der()?)
}

/// Applies the seal `seal` (DER `SESeal`) to `data` at `time`: an `SES_Signature` signed by
/// `signer_key`, whose certificate is `signer_certificate`. `property_info` says what the
/// data is (IA5 text). The seal is not checked here: [`verify_seal`] it first.
///
/// # Errors
///
/// [`SesError::Malformed`] when `seal` is not an `SESeal`, [`SesError::KeyMismatch`],
/// [`SesError::Encoding`].
pub fn sign(
    seal: &[u8],
    signer_key: &Sm2SecretKey,
    signer_certificate: &[u8],
    data: &[u8],
    time_of_signing: Timestamp,
    property_info: &str,
) -> Result<Vec<u8>, SesError> {
    certified(signer_key, signer_certificate)?;
    let eseal = SeSeal::from_der(seal).map_err(|_| SesError::Malformed("not an SESeal"))?;
    let to_sign = TbsSign {
        version: VERSION,
        eseal,
        time_info: time(time_of_signing)?,
        data_hash: BitString::from_bytes(Sm3Digest::of(data).as_bytes())?,
        property_info: ia5(property_info)?,
        ext_datas: None,
    };
    let tbs_der = to_sign.to_der()?;
    let signature = signer_key.sign(&tbs_der);
    let signed = SesSignature {
        to_sign,
        cert: OctetString::new(signer_certificate.to_vec())?,
        signature_alg_id: SM2_WITH_SM3,
        signature: BitString::from_bytes(&signature.to_der())?,
        time_stamp: None,
    };
    Ok(signed.to_der()?)
}

/// A seal whose maker's signature verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSeal {
    /// The seal's identifier.
    pub es_id: String,
    /// Its name.
    pub name: String,
    /// The maker's key (from the maker's certificate).
    pub maker_key: Sm2PublicKey,
    /// The maker's certificate, DER.
    pub maker_certificate: Vec<u8>,
    /// Start of the seal's validity.
    pub valid_from: Timestamp,
    /// End of the seal's validity.
    pub valid_until: Timestamp,
}

/// A seal signature that verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The seal applied.
    pub seal: VerifiedSeal,
    /// The signer's key (from the signer's certificate).
    pub signer_key: Sm2PublicKey,
    /// The signer's certificate, DER.
    pub signer_certificate: Vec<u8>,
    /// When the seal was applied (`timeInfo`, as the signer states it).
    pub signed_at: Timestamp,
    /// `propertyInfo`.
    pub property_info: String,
    /// `timeStamp`: the bytes of a time-stamp token over the signature value, as received and
    /// **not checked here** (checking a token needs its authority's certificate path and
    /// revocation, which are the caller's trust decisions). Its imprint must be
    /// [`VerifiedSignature::time_stamp_imprint`].
    pub time_stamp: Option<Vec<u8>>,
    /// The signature value (`signature`'s bytes: the DER of the SM2 signature).
    pub signature_value: Vec<u8>,
}

impl VerifiedSignature {
    /// What a time-stamp of this signature is over: the SHA-256 of the signature value
    /// (spec 11.6), as an RFC 3161 message imprint.
    pub fn time_stamp_imprint(&self) -> [u8; 32] {
        *crate::Digest::of(&self.signature_value).as_bytes()
    }
}

/// Adds a time-stamp token (DER, an RFC 3161 `TimeStampToken` over
/// [`VerifiedSignature::time_stamp_imprint`]) to a seal signature as its `timeStamp`. What
/// the signer signed (`TBS_Sign`) is outside `timeStamp`, so the signature still verifies;
/// this checks that it does, and that the signature had no time-stamp yet.
///
/// # Errors
///
/// [`SesError::Malformed`] when `signature` is not an `SES_Signature`, or already carries a
/// time-stamp; [`SesError::Encoding`].
pub fn with_time_stamp(signature: &[u8], token: &[u8]) -> Result<Vec<u8>, SesError> {
    let mut decoded = SesSignature::from_der(signature)
        .map_err(|_| SesError::Malformed("not an SES_Signature"))?;
    if decoded.time_stamp.is_some() {
        return Err(SesError::Malformed(
            "the seal signature is time-stamped already",
        ));
    }
    decoded.time_stamp = Some(BitString::from_bytes(token)?);
    let stamped = decoded.to_der()?;
    // The signed part must come out byte for byte as it was signed.
    if elements(&stamped)?.first() != elements(signature)?.first() {
        return Err(SesError::Encoding(
            "TBS_Sign did not re-encode as received".into(),
        ));
    }
    if stamped.len() > MAX_SIGNATURE_LEN {
        return Err(SesError::Malformed("larger than the limit"));
    }
    Ok(stamped)
}

/// The exact bytes of each element of the DER SEQUENCE `der`, as received.
fn elements(der: &[u8]) -> Result<Vec<&[u8]>, SesError> {
    let malformed = |_| SesError::Malformed("not a der sequence");
    let mut reader = der::SliceReader::new(der).map_err(malformed)?;
    let header = der::Header::decode(&mut reader).map_err(malformed)?;
    if header.tag() != der::Tag::Sequence {
        return Err(SesError::Malformed("not a der sequence"));
    }
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(reader.tlv_bytes().map_err(malformed)?);
    }
    Ok(out)
}

fn check_algorithm(oid: &der::asn1::ObjectIdentifier) -> Result<(), SesError> {
    if *oid != SM2_WITH_SM3 {
        return Err(SesError::Algorithm(oid.to_string()));
    }
    Ok(())
}

fn signature_bytes(bits: &BitString) -> Result<&[u8], SesError> {
    bits.as_bytes().ok_or(SesError::Malformed(
        "a signature bit string has unused bits",
    ))
}

/// Verifies a seal (DER `SESeal`): version 4, SM2-with-SM3, the maker's SM2 certificate, and
/// the maker's signature over `SES_SealInfo` exactly as received.
///
/// # Errors
///
/// [`SesError::Malformed`], [`SesError::Version`], [`SesError::Algorithm`],
/// [`SesError::MakerCertificate`], [`SesError::SealSignature`].
pub fn verify_seal(seal: &[u8]) -> Result<VerifiedSeal, SesError> {
    let decoded = SeSeal::from_der(seal).map_err(|_| SesError::Malformed("not an SESeal"))?;
    let info_bytes = *elements(seal)?
        .first()
        .ok_or(SesError::Malformed("an empty SESeal"))?;
    let info = &decoded.e_seal_info;
    if info.header.id.as_str() != HEADER_ID || info.header.version != VERSION {
        return Err(SesError::Version);
    }
    check_algorithm(&decoded.sign_alg_id)?;
    let maker_key =
        certificate_sm2_key(decoded.cert.as_bytes()).map_err(|_| SesError::MakerCertificate)?;
    maker_key
        .verify_der(info_bytes, signature_bytes(&decoded.signed_value)?)
        .map_err(|_| SesError::SealSignature)?;
    Ok(VerifiedSeal {
        es_id: info.es_id.as_str().to_owned(),
        name: info.property.name.clone(),
        maker_key,
        maker_certificate: decoded.cert.as_bytes().to_vec(),
        valid_from: timestamp(&info.property.valid_start),
        valid_until: timestamp(&info.property.valid_end),
    })
}

/// Whether the seal (DER `SESeal`) lists `certificate` (DER) among those who may apply it,
/// in full or by its SM3 digest. The seal is not verified here: [`verify_seal`] it first.
///
/// # Errors
///
/// [`SesError::Malformed`] when `seal` is not an `SESeal`, [`SesError::CertListType`].
pub fn seal_lists(seal: &[u8], certificate: &[u8]) -> Result<bool, SesError> {
    let decoded = SeSeal::from_der(seal).map_err(|_| SesError::Malformed("not an SESeal"))?;
    lists(&decoded.e_seal_info.property, certificate)
}

/// Whether the seal's property lists `certificate` (DER): in full, or by its SM3 digest.
fn lists(property: &SesPropertyInfo, certificate: &[u8]) -> Result<bool, SesError> {
    match property.cert_list_type {
        CERT_LIST_CERTIFICATES => {
            let certs: Vec<OctetString> = property
                .cert_list
                .decode_as()
                .map_err(|_| SesError::Malformed("cert_list is not a list of certificates"))?;
            Ok(certs.iter().any(|c| c.as_bytes() == certificate))
        }
        CERT_LIST_DIGESTS => {
            let digests: Vec<CertDigestObj> = property
                .cert_list
                .decode_as()
                .map_err(|_| SesError::Malformed("cert_list is not a list of digests"))?;
            let digest = Sm3Digest::of(certificate);
            Ok(digests.iter().any(|d| {
                d.r#type.as_str().eq_ignore_ascii_case("SM3")
                    && d.value.as_bytes() == digest.as_bytes()
            }))
        }
        other => Err(SesError::CertListType(other)),
    }
}

/// Verifies a seal signature (DER `SES_Signature`, version 4) over `data`, every check of
/// spec §11.6 in order: structure and size; version; the seal ([`verify_seal`]); the
/// signature algorithm; the signer's SM2 certificate; the signer's signature over `TBS_Sign`
/// exactly as received; that the seal lists the signer's certificate; the SM3 digest of
/// `data`; the seal's validity and the signer certificate's validity at `timeInfo`.
///
/// # Errors
///
/// The first check that fails, as a [`SesError`].
pub fn verify_signature(signature: &[u8], data: &[u8]) -> Result<VerifiedSignature, SesError> {
    if signature.len() > MAX_SIGNATURE_LEN {
        return Err(SesError::Malformed("larger than the limit"));
    }
    let decoded = SesSignature::from_der(signature)
        .map_err(|_| SesError::Malformed("not an SES_Signature"))?;
    let parts = elements(signature)?;
    let tbs_bytes = *parts
        .first()
        .ok_or(SesError::Malformed("an empty SES_Signature"))?;
    let to_sign = &decoded.to_sign;
    if to_sign.version != VERSION {
        return Err(SesError::Version);
    }
    let seal_bytes = *elements(tbs_bytes)?
        .get(1)
        .ok_or(SesError::Malformed("TBS_Sign without a seal"))?;
    let seal = verify_seal(seal_bytes)?;
    check_algorithm(&decoded.signature_alg_id)?;
    let certificate = decoded.cert.as_bytes();
    let signer_key = certificate_sm2_key(certificate).map_err(|_| SesError::SignerCertificate)?;
    signer_key
        .verify_der(tbs_bytes, signature_bytes(&decoded.signature)?)
        .map_err(|_| SesError::Signature)?;
    if !lists(&to_sign.eseal.e_seal_info.property, certificate)? {
        return Err(SesError::SignerNotInSeal);
    }
    let hash = to_sign
        .data_hash
        .as_bytes()
        .ok_or(SesError::Malformed("data_hash has unused bits"))?;
    if hash != Sm3Digest::of(data).as_bytes() {
        return Err(SesError::DataHash);
    }
    let signed_at = timestamp(&to_sign.time_info);
    if signed_at < seal.valid_from || signed_at > seal.valid_until {
        return Err(SesError::SealNotValidAt);
    }
    let parsed =
        x509_cert::Certificate::from_der(certificate).map_err(|_| SesError::SignerCertificate)?;
    let validity = parsed.tbs_certificate().validity();
    let from = Timestamp::from_unix(validity.not_before.to_unix_duration().as_secs());
    let until = Timestamp::from_unix(validity.not_after.to_unix_duration().as_secs());
    if signed_at < from || signed_at > until {
        return Err(SesError::CertificateNotValidAt);
    }
    let time_stamp = match &decoded.time_stamp {
        Some(bits) => Some(
            bits.as_bytes()
                .ok_or(SesError::Malformed("timeStamp has unused bits"))?
                .to_vec(),
        ),
        None => None,
    };
    Ok(VerifiedSignature {
        seal,
        signer_key,
        signer_certificate: certificate.to_vec(),
        signed_at,
        property_info: to_sign.property_info.as_str().to_owned(),
        time_stamp,
        signature_value: signature_bytes(&decoded.signature)?.to_vec(),
    })
}

#[cfg(test)]
mod tests;
