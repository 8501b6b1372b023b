//! The ASN.1 of CMS signatures and time-stamps: the ESS and RFC 3161 structures (no
//! maintained crate has them for `der` 0.8). What certificates share with them (object
//! identifiers, P-256 keys, ECDSA signing of DER) is in [`signet_protocol::x509::asn1`].

use const_oid::ObjectIdentifier as Oid;
use der::asn1::{BitString, GeneralizedTime, Int, OctetString};
use der::{Any, Decode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

pub(crate) use signet_protocol::x509::asn1::*;

use super::error::Asn1Error;

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
