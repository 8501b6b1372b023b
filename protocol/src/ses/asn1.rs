//! The DER structures of GB/T 38540-2020, version 4 (spec §11.6): the electronic seal
//! (`SESeal`) and the electronic seal signature (`SES_Signature`).
//!
//! Field names follow the standard's ASN.1 (in snake case). Decoding is strict DER (the
//! `der` crate refuses BER), so a decoded structure has exactly one encoding; signatures are
//! still checked over the bytes received (see [`super::verify_signature`]).

use der::asn1::{
    BitString, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString, PrintableString,
};
use der::{Any, Sequence};

/// `SES_Header`: `id` is `"ES"`, `version` 4, `vid` the vendor's identifier.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesHeader {
    /// Always `"ES"`.
    pub id: Ia5String,
    /// The format's version: 4.
    pub version: u32,
    /// The maker's (vendor's) identifier.
    pub vid: Ia5String,
}

/// `CertDigestObj`: a certificate named by its digest (`cert_list_type` 2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CertDigestObj {
    /// The digest algorithm's name (`"SM3"` here).
    pub r#type: PrintableString,
    /// The digest of the certificate's DER.
    pub value: OctetString,
}

/// `SES_ESPropertyInfo`: the seal's properties.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesPropertyInfo {
    /// The seal's type (1 an organisation's seal, 2 a person's; others by agreement).
    pub r#type: u32,
    /// The seal's name, e.g. `合同专用章`.
    pub name: String,
    /// How `cert_list` lists the signers' certificates: 1 the certificates themselves
    /// (`SEQUENCE OF OCTET STRING`), 2 their digests (`SEQUENCE OF CertDigestObj`).
    pub cert_list_type: u32,
    /// `SES_CertList`: an untagged CHOICE told apart by `cert_list_type`.
    pub cert_list: Any,
    /// When the seal was made.
    pub create_date: GeneralizedTime,
    /// Start of the seal's validity.
    pub valid_start: GeneralizedTime,
    /// End of the seal's validity.
    pub valid_end: GeneralizedTime,
}

/// `SES_ESPictureInfo`: the seal's image.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesPictureInfo {
    /// The image format: `"PNG"`, `"GIF"`, `"JPG"`, `"BMP"`, `"SVG"`, `"OFD"`.
    pub r#type: Ia5String,
    /// The image file.
    pub data: OctetString,
    /// Display width in millimetres.
    pub width: u32,
    /// Display height in millimetres.
    pub height: u32,
}

/// `ExtData`: a custom field.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ExtData {
    /// The field's identifier.
    pub extn_id: ObjectIdentifier,
    /// Whether a reader that does not know it must refuse the structure.
    #[asn1(default = "Default::default")]
    pub critical: bool,
    /// The field's value.
    pub extn_value: OctetString,
}

/// `SES_SealInfo`: what the seal maker signs.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSealInfo {
    /// The header.
    pub header: SesHeader,
    /// The seal's identifier, unique per maker.
    pub es_id: Ia5String,
    /// The seal's properties.
    pub property: SesPropertyInfo,
    /// The seal's image.
    pub picture: SesPictureInfo,
    /// Custom fields.
    pub ext_datas: Option<Vec<ExtData>>,
}

/// `SESeal`: an electronic seal, signed by its maker (制章者).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SeSeal {
    /// The seal.
    pub e_seal_info: SesSealInfo,
    /// The maker's X.509 certificate, DER.
    pub cert: OctetString,
    /// The maker's signature algorithm: SM2-with-SM3.
    pub sign_alg_id: ObjectIdentifier,
    /// The maker's signature of DER(`SES_SealInfo`), DER `SEQUENCE { r, s }`.
    pub signed_value: BitString,
}

/// `TBS_Sign`: what the signer (签章者) signs.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TbsSign {
    /// The format's version: 4.
    pub version: u32,
    /// The seal applied.
    pub eseal: SeSeal,
    /// When it was applied.
    pub time_info: GeneralizedTime,
    /// SM3 of the signed data.
    pub data_hash: BitString,
    /// What the data is (Signet: the document's SHA-256, section 11.6).
    pub property_info: Ia5String,
    /// Custom fields.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub ext_datas: Option<Vec<ExtData>>,
}

/// `SES_Signature` (version 4): an electronic seal signature.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSignature {
    /// What was signed.
    pub to_sign: TbsSign,
    /// The signer's X.509 certificate, DER.
    pub cert: OctetString,
    /// The signature algorithm: SM2-with-SM3.
    pub signature_alg_id: ObjectIdentifier,
    /// The signer's signature of DER(`TBS_Sign`), DER `SEQUENCE { r, s }`.
    pub signature: BitString,
    /// A time-stamp token over `signature` (RFC 3161), if any.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub time_stamp: Option<BitString>,
}
