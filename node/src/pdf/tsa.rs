//! The server side of RFC 3161 time-stamping: a Signet witness answers time-stamp requests
//! with tokens signed by its TSA key.
//!
//! No clock is read here: the caller passes the time to certify (and a fresh serial number),
//! so the node decides which clock it trusts and the tests are deterministic.
//!
//! ```
//! # use std::time::{Duration, UNIX_EPOCH};
//! # use p256::ecdsa::SigningKey;
//! # use signet_node::pdf::{tsa, x509};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let ca_key = SigningKey::from_slice(&[1; 32])?;
//! let tsa_key = SigningKey::from_slice(&[2; 32])?;
//! let validity = x509::Issuance {
//!     serial: 1,
//!     not_before: signet_protocol::Timestamp::from_unix(1_790_000_000),
//!     not_after: signet_protocol::Timestamp::from_unix(1_890_000_000),
//! };
//! let ca_der = x509::ca_certificate("Test CA", None, &ca_key, &validity)?;
//! let ca = x509::CertifiedKey::new(&ca_key, &ca_der)?;
//! let tsa_der = x509::tsa_certificate(&ca, "Witness TSA", tsa_key.verifying_key(), &validity)?;
//! let authority = x509::CertifiedKey::new(&tsa_key, &tsa_der)?;
//!
//! let request = tsa::TimeStampRequest::for_digest([7; 32]).encode()?;
//! let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let response = tsa::time_stamp_response(&authority, &request, 42, now)?;
//! let token = tsa::token_of_response(&response)?;
//! assert!(!token.is_empty());
//! # Ok(()) }
//! ```

use std::time::SystemTime;

use der::asn1::{BitString, GeneralizedTime, Int, OctetString};
use der::{Decode, Encode};
use x509_cert::Certificate;

use super::PdfError;
use super::asn1::{
    self, Accuracy, ID_CT_TST_INFO, MessageImprint, PkiStatusInfo, TSA_POLICY, TimeStampReq,
    TimeStampResp, TstInfo,
};
use super::cades::{self, Content};
use super::x509::CertifiedKey;

/// The largest time-stamp request accepted (a SHA-256 request is about 60 bytes).
pub const MAX_REQUEST_SIZE: usize = 4096;
/// The largest nonce echoed, in bytes.
const MAX_NONCE_SIZE: usize = 32;

/// PKIStatus `granted` (RFC 3161, 2.4.2).
const STATUS_GRANTED: u8 = 0;
/// PKIStatus `rejection`.
const STATUS_REJECTION: u8 = 2;

/// Why a request is refused, with its PKIFailureInfo bit (RFC 3161, 2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// badAlg (0): the imprint is not SHA-256.
    BadAlg(&'static str),
    /// badDataFormat (5): malformed, oversized or unsupported.
    BadDataFormat(&'static str),
    /// unacceptedPolicy (15).
    UnacceptedPolicy(&'static str),
}

impl Refusal {
    fn bit(self) -> usize {
        match self {
            Self::BadAlg(_) => 0,
            Self::BadDataFormat(_) => 5,
            Self::UnacceptedPolicy(_) => 15,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Self::BadAlg(reason) | Self::BadDataFormat(reason) | Self::UnacceptedPolicy(reason) => {
                reason
            }
        }
    }
}

/// A decoded time-stamp request for a SHA-256 message imprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampRequest {
    imprint: [u8; 32],
    nonce: Option<Vec<u8>>,
    cert_req: bool,
}

impl TimeStampRequest {
    /// A request for `digest` (SHA-256) asking for the TSA certificate, without a nonce.
    pub fn for_digest(digest: [u8; 32]) -> Self {
        Self {
            imprint: digest,
            nonce: None,
            cert_req: true,
        }
    }

    /// The same request with a nonce (big-endian, unsigned; leading zeros dropped).
    ///
    /// # Errors
    ///
    /// [`PdfError::TimeStampRequest`] when the nonce is longer than 32 bytes.
    pub fn with_nonce(mut self, nonce: &[u8]) -> Result<Self, PdfError> {
        if nonce.len() > MAX_NONCE_SIZE {
            return Err(PdfError::TimeStampRequest(
                "the nonce is longer than 32 bytes",
            ));
        }
        let uint = der::asn1::Uint::new(nonce)?;
        self.nonce = Some(Int::from(uint).as_bytes().to_vec());
        Ok(self)
    }

    /// Decodes a DER `TimeStampReq`.
    ///
    /// # Errors
    ///
    /// [`PdfError::TimeStampRequest`] for a malformed or oversized request, a hash other
    /// than SHA-256, a policy other than [`super::TSA_POLICY_OID`] or request extensions.
    pub fn decode(der_bytes: &[u8]) -> Result<Self, PdfError> {
        Self::check(der_bytes).map_err(|refusal| PdfError::TimeStampRequest(refusal.reason()))
    }

    fn check(der_bytes: &[u8]) -> Result<Self, Refusal> {
        use Refusal::{BadAlg, BadDataFormat, UnacceptedPolicy};
        if der_bytes.len() > MAX_REQUEST_SIZE {
            return Err(BadDataFormat("the request is too large"));
        }
        let request = TimeStampReq::from_der(der_bytes)
            .map_err(|_| BadDataFormat("not a der TimeStampReq"))?;
        if request.version != 1 {
            return Err(BadDataFormat("unsupported version"));
        }
        if request.message_imprint.hash_algorithm.oid != asn1::SHA256 {
            return Err(BadAlg("the imprint is not sha-256"));
        }
        if request
            .req_policy
            .is_some_and(|policy| policy != TSA_POLICY)
        {
            return Err(UnacceptedPolicy("unknown policy"));
        }
        if request.extensions.is_some() {
            return Err(BadDataFormat("request extensions are not supported"));
        }
        let imprint = <[u8; 32]>::try_from(request.message_imprint.hashed_message.as_bytes())
            .map_err(|_| BadDataFormat("the imprint is not 32 bytes"))?;
        let nonce = match request.nonce {
            Some(nonce) if nonce.as_bytes().len() > MAX_NONCE_SIZE + 1 => {
                return Err(BadDataFormat("the nonce is longer than 32 bytes"));
            }
            Some(nonce) => Some(nonce.as_bytes().to_vec()),
            None => None,
        };
        Ok(Self {
            imprint,
            nonce,
            cert_req: request.cert_req,
        })
    }

    /// Encodes the request as DER (what a client sends).
    ///
    /// # Errors
    ///
    /// [`PdfError::Asn1`] only if encoding fails.
    pub fn encode(&self) -> Result<Vec<u8>, PdfError> {
        let request = TimeStampReq {
            version: 1,
            message_imprint: imprint(&self.imprint)?,
            req_policy: None,
            nonce: self.nonce.as_deref().map(Int::new).transpose()?,
            cert_req: self.cert_req,
            extensions: None,
        };
        Ok(request.to_der()?)
    }

    /// The SHA-256 digest being time-stamped.
    pub fn imprint(&self) -> &[u8; 32] {
        &self.imprint
    }

    /// The nonce as a DER INTEGER's content bytes (what a token echoes), if any.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.nonce.as_deref()
    }
}

/// Why a TSA refuses a request it could read, for [`rejection_response`] (RFC 3161, 2.4.2
/// PKIFailureInfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// unacceptedPolicy (15): this node does not time-stamp for the requester (it is no
    /// witness, or the requester is no authenticated node).
    UnacceptedPolicy,
    /// systemFailure (25): it would, but cannot now (no TSA certificate in effect).
    SystemFailure,
}

/// A DER `TimeStampResp` with status `rejection`, `failure`'s PKIFailureInfo bit and
/// `reason` as its status string: the answer of a node that does not time-stamp.
///
/// # Errors
///
/// [`PdfError::Asn1`] only if encoding fails.
pub fn rejection_response(failure: Failure, reason: &str) -> Result<Vec<u8>, PdfError> {
    let bit = match failure {
        Failure::UnacceptedPolicy => 15,
        Failure::SystemFailure => 25,
    };
    let response = TimeStampResp {
        status: PkiStatusInfo {
            status: STATUS_REJECTION,
            status_string: Some(vec![reason.to_owned()]),
            fail_info: Some(failure_bits(bit)?),
        },
        time_stamp_token: None,
    };
    Ok(response.to_der()?)
}

/// What a DER `TimeStampResp` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseOutcome {
    /// `granted` or `grantedWithMods`, with the token (DER).
    Granted(Vec<u8>),
    /// Any other status, with the TSA's reason (its status strings, joined).
    Refused {
        /// The PKIStatus (2 = rejection, …).
        status: u8,
        /// The PKIFailureInfo bits set, by number (RFC 3161, 2.4.2).
        failures: Vec<usize>,
        /// The status strings, joined by "; ".
        reason: String,
    },
}

/// Reads a DER `TimeStampResp`.
///
/// # Errors
///
/// [`PdfError::TimeStamp`] when the response is malformed, has trailing bytes, or is granted
/// without a token.
pub fn read_response(response_der: &[u8]) -> Result<ResponseOutcome, PdfError> {
    let response = TimeStampResp::from_der(response_der)
        .map_err(|_| PdfError::TimeStamp("not a der TimeStampResp".into()))?;
    if response.status.status <= 1 {
        let token = response
            .time_stamp_token
            .ok_or_else(|| PdfError::TimeStamp("granted without a token".into()))?;
        return Ok(ResponseOutcome::Granted(token.to_der()?));
    }
    let failures = response
        .status
        .fail_info
        .map(|bits| {
            bits.raw_bytes()
                .iter()
                .enumerate()
                .flat_map(|(i, byte)| {
                    (0..8)
                        .filter(move |b| byte & (0x80 >> b) != 0)
                        .map(move |b| i * 8 + b)
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ResponseOutcome::Refused {
        status: response.status.status,
        failures,
        reason: response.status.status_string.unwrap_or_default().join("; "),
    })
}

/// A `TimeStampToken` (a DER `ContentInfo` with `SignedData` over a `TSTInfo`) certifying
/// that `request`'s imprint existed at `gen_time` (accuracy one second), under
/// [`super::TSA_POLICY_OID`], with `serial` as its serial number.
///
/// The signed attributes are contentType (id-ct-TSTInfo), messageDigest and
/// signingCertificateV2; the TSA certificate is included when the request asks for it.
///
/// # Errors
///
/// [`PdfError::Serial`] for serial 0, [`PdfError::Time`] for a time before 1970 or after 9999.
pub fn time_stamp_token(
    tsa: &CertifiedKey<'_>,
    request: &TimeStampRequest,
    serial: u64,
    gen_time: SystemTime,
) -> Result<Vec<u8>, PdfError> {
    if serial == 0 {
        return Err(PdfError::Serial);
    }
    let tst_info = TstInfo {
        version: 1,
        policy: TSA_POLICY,
        message_imprint: imprint(&request.imprint)?,
        serial_number: Int::from(der::asn1::Uint::new(&serial.to_be_bytes())?),
        gen_time: GeneralizedTime::from_system_time(gen_time).map_err(|_| PdfError::Time)?,
        accuracy: Some(Accuracy {
            seconds: Some(1),
            millis: None,
            micros: None,
        }),
        ordering: false,
        nonce: request.nonce.as_deref().map(Int::new).transpose()?,
        tsa: None,
        extensions: None,
    }
    .to_der()?;
    let content = Content::Encapsulated(ID_CT_TST_INFO, &tst_info);
    // RFC 3161, 2.4.1: without certReq the certificate MUST NOT be included.
    let certificates = if request.cert_req {
        vec![tsa.certificate().clone()]
    } else {
        Vec::new()
    };
    cades::signed_data(cades::CmsSigner::P256(tsa), &certificates, &content, None)
}

/// Answers a DER `TimeStampReq` with a DER `TimeStampResp`: `granted` with a token, or
/// `rejection` with the failure reason (badAlg, badDataFormat or unacceptedPolicy) for a
/// request this TSA does not serve.
///
/// # Errors
///
/// Only what [`time_stamp_token`] returns for the TSA's own input (serial, time); a bad
/// request is answered, not returned as an error.
pub fn time_stamp_response(
    tsa: &CertifiedKey<'_>,
    request_der: &[u8],
    serial: u64,
    gen_time: SystemTime,
) -> Result<Vec<u8>, PdfError> {
    let response = match TimeStampRequest::check(request_der) {
        Ok(request) => TimeStampResp {
            status: PkiStatusInfo {
                status: STATUS_GRANTED,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(cms::content_info::ContentInfo::from_der(
                &time_stamp_token(tsa, &request, serial, gen_time)?,
            )?),
        },
        Err(refusal) => TimeStampResp {
            status: PkiStatusInfo {
                status: STATUS_REJECTION,
                status_string: Some(vec![refusal.reason().to_owned()]),
                fail_info: Some(failure_bits(refusal.bit())?),
            },
            time_stamp_token: None,
        },
    };
    Ok(response.to_der()?)
}

/// The token of a `granted` (or `grantedWithMods`) DER `TimeStampResp`.
///
/// # Errors
///
/// [`PdfError::TimeStamp`] when the response is malformed or not granted.
pub fn token_of_response(response_der: &[u8]) -> Result<Vec<u8>, PdfError> {
    let response = TimeStampResp::from_der(response_der)
        .map_err(|_| PdfError::TimeStamp("not a der TimeStampResp".into()))?;
    if response.status.status > 1 {
        return Err(PdfError::TimeStamp(format!(
            "status {}",
            response.status.status
        )));
    }
    let token = response
        .time_stamp_token
        .ok_or_else(|| PdfError::TimeStamp("granted without a token".into()))?;
    Ok(token.to_der()?)
}

/// What a time-stamp token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFacts {
    /// The time certified.
    pub gen_time: SystemTime,
    /// The SHA-256 imprint certified (`None` for another hash).
    pub imprint: Option<[u8; 32]>,
    /// Whether the token's CMS signature verifies with the embedded TSA certificate and its
    /// messageDigest matches the TSTInfo.
    pub signature_valid: bool,
    /// The nonce echoed, as a DER INTEGER's content bytes.
    pub nonce: Option<Vec<u8>>,
}

/// Reads a DER `TimeStampToken`.
///
/// # Errors
///
/// [`PdfError::TimeStamp`] when the token is not a `SignedData` over a `TSTInfo`.
pub fn read_token(token_der: &[u8]) -> Result<TokenFacts, PdfError> {
    let malformed = |_| PdfError::TimeStamp("malformed time-stamp token".into());
    let parsed = cades::ParsedSignedData::decode(token_der).map_err(malformed)?;
    if parsed.signed_data.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(PdfError::TimeStamp(
            "the token does not hold a TSTInfo".into(),
        ));
    }
    let content = parsed
        .econtent()
        .ok_or_else(|| PdfError::TimeStamp("the token has no content".into()))?;
    let tst_info =
        TstInfo::from_der(&content).map_err(|_| PdfError::TimeStamp("malformed TSTInfo".into()))?;
    let imprint = (tst_info.message_imprint.hash_algorithm.oid == asn1::SHA256)
        .then(|| <[u8; 32]>::try_from(tst_info.message_imprint.hashed_message.as_bytes()).ok())
        .flatten();
    let digest_ok = parsed
        .message_digest()
        .is_some_and(|d| d == asn1::sha256(&content));
    let signature_valid = digest_ok
        && parsed
            .signer_certificate()
            .is_some_and(|cert| parsed.signature_verifies(cert));
    Ok(TokenFacts {
        gen_time: tst_info.gen_time.to_system_time(),
        imprint,
        signature_valid,
        nonce: tst_info.nonce.map(|n| n.as_bytes().to_vec()),
    })
}

/// The TSA certificate embedded in a token, if any.
pub(crate) fn token_certificate(token_der: &[u8]) -> Option<Certificate> {
    cades::ParsedSignedData::decode(token_der)
        .ok()?
        .signer_certificate()
        .cloned()
}

fn imprint(digest: &[u8; 32]) -> Result<MessageImprint, PdfError> {
    Ok(MessageImprint {
        hash_algorithm: asn1::sha256_algorithm(),
        hashed_message: OctetString::new(digest.to_vec())?,
    })
}

/// PKIFailureInfo as a DER named-bit BIT STRING (trailing zero bits removed).
fn failure_bits(bit: usize) -> Result<BitString, PdfError> {
    let mut bytes = vec![0u8; bit / 8 + 1];
    if let Some(byte) = bytes.get_mut(bit / 8) {
        *byte = 0x80 >> (bit % 8);
    }
    // `7 - bit % 8` is at most 7.
    let unused = (7 - bit % 8) as u8;
    Ok(BitString::new(unused, bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::x509::{self, Issuance};
    use p256::ecdsa::SigningKey;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn at_time() -> SystemTime {
        at(1_800_000_000)
    }

    struct Fixture {
        ca_key: SigningKey,
        ca_der: Vec<u8>,
        tsa_key: SigningKey,
        tsa_der: Vec<u8>,
    }

    fn fixture() -> Fixture {
        let ca_key = SigningKey::from_slice(&[1; 32]).unwrap();
        let tsa_key = SigningKey::from_slice(&[2; 32]).unwrap();
        let validity = Issuance {
            serial: 1,
            not_before: signet_protocol::Timestamp::from_unix(1_790_000_000),
            not_after: signet_protocol::Timestamp::from_unix(1_890_000_000),
        };
        let ca_der = x509::ca_certificate("Signet Test CA", None, &ca_key, &validity).unwrap();
        let ca = x509::CertifiedKey::new(&ca_key, &ca_der).unwrap();
        let tsa_der = x509::tsa_certificate(
            &ca,
            "Signet Witness TSA",
            tsa_key.verifying_key(),
            &Issuance {
                serial: 2,
                ..validity
            },
        )
        .unwrap();
        Fixture {
            ca_key,
            ca_der,
            tsa_key,
            tsa_der,
        }
    }

    #[test]
    fn token_certifies_imprint_time_and_nonce() {
        let f = fixture();
        let tsa = x509::CertifiedKey::new(&f.tsa_key, &f.tsa_der).unwrap();
        let request = TimeStampRequest::for_digest([5; 32])
            .with_nonce(&[0x81, 2, 3])
            .unwrap();
        let decoded = TimeStampRequest::decode(&request.encode().unwrap()).unwrap();
        assert_eq!(decoded, request);
        let token = time_stamp_token(&tsa, &decoded, 77, at(1_800_000_000)).unwrap();
        let facts = read_token(&token).unwrap();
        assert_eq!(facts.gen_time, at(1_800_000_000));
        assert_eq!(facts.imprint, Some([5; 32]));
        assert!(facts.signature_valid);
        let parsed = cades::ParsedSignedData::decode(&token).unwrap();
        let tst = TstInfo::from_der(&parsed.econtent().unwrap()).unwrap();
        assert_eq!(tst.nonce.unwrap().as_bytes(), &[0, 0x81, 2, 3]);
        assert_eq!(tst.policy, TSA_POLICY);
        let _ = f.ca_key;
    }

    #[test]
    fn bad_requests_get_a_rejection() {
        let f = fixture();
        let tsa = x509::CertifiedKey::new(&f.tsa_key, &f.tsa_der).unwrap();
        let response =
            time_stamp_response(&tsa, b"\x30\x03\x02\x01\x01", 1, at(1_800_000_000)).unwrap();
        let decoded = TimeStampResp::from_der(&response).unwrap();
        assert_eq!(decoded.status.status, STATUS_REJECTION);
        assert_eq!(
            decoded.status.fail_info.unwrap().raw_bytes(),
            &[0x04],
            "badDataFormat"
        );
        let mut sha512_request = TimeStampRequest::for_digest([1; 32]).encode().unwrap();
        // Swap the SHA-256 OID's last arc (2.16.840.1.101.3.4.2.1) for SHA-512's (…2.3).
        let at = sha512_request
            .windows(9)
            .position(|w| w == [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01])
            .unwrap();
        sha512_request[at + 8] = 0x03;
        let response = time_stamp_response(&tsa, &sha512_request, 1, at_time()).unwrap();
        let decoded = TimeStampResp::from_der(&response).unwrap();
        assert_eq!(
            decoded.status.fail_info.unwrap().raw_bytes(),
            &[0x80],
            "badAlg"
        );
        assert!(token_of_response(&response).is_err());
        assert!(TimeStampRequest::decode(&vec![0x30; MAX_REQUEST_SIZE + 1]).is_err());
    }

    #[test]
    fn rejections_and_grants_read_back() {
        let response = rejection_response(Failure::SystemFailure, "no TSA certificate").unwrap();
        assert_eq!(
            read_response(&response).unwrap(),
            ResponseOutcome::Refused {
                status: STATUS_REJECTION,
                failures: vec![25],
                reason: "no TSA certificate".into(),
            }
        );
        let response = rejection_response(Failure::UnacceptedPolicy, "not a witness").unwrap();
        assert!(matches!(
            read_response(&response).unwrap(),
            ResponseOutcome::Refused { failures, .. } if failures == vec![15]
        ));
        let f = fixture();
        let tsa = x509::CertifiedKey::new(&f.tsa_key, &f.tsa_der).unwrap();
        let request = TimeStampRequest::for_digest([3; 32])
            .with_nonce(&[9, 9])
            .unwrap();
        let response = time_stamp_response(&tsa, &request.encode().unwrap(), 5, at_time()).unwrap();
        let ResponseOutcome::Granted(token) = read_response(&response).unwrap() else {
            panic!("granted");
        };
        let facts = read_token(&token).unwrap();
        assert_eq!(facts.nonce.as_deref(), request.nonce());
        assert!(read_response(b"junk").is_err());
    }

    /// `openssl ts -reply -text` and `openssl ts -verify` accept the response.
    #[test]
    fn openssl_verifies_the_response() {
        if std::process::Command::new("openssl")
            .arg("version")
            .output()
            .is_err()
        {
            println!("skipped: the openssl command is not installed");
            return;
        }
        let f = fixture();
        let tsa = x509::CertifiedKey::new(&f.tsa_key, &f.tsa_der).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data = b"contract bytes to time-stamp";
        let data_path = dir.path().join("data.bin");
        std::fs::write(&data_path, data).unwrap();
        let request = TimeStampRequest::for_digest(asn1::sha256(data))
            .with_nonce(&[1, 2, 3, 4])
            .unwrap();
        let response =
            time_stamp_response(&tsa, &request.encode().unwrap(), 99, at(1_800_000_000)).unwrap();
        let resp_path = dir.path().join("resp.tsr");
        std::fs::write(&resp_path, &response).unwrap();
        let pem = |der_bytes: &[u8]| {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(der_bytes);
            let lines: Vec<&str> = b64
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                lines.join("\n")
            )
        };
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, pem(&f.ca_der)).unwrap();
        let tsa_path = dir.path().join("tsa.pem");
        std::fs::write(&tsa_path, pem(&f.tsa_der)).unwrap();
        let run = |args: &[&std::ffi::OsStr]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        };
        let (ok, text) = run(&[
            "ts".as_ref(),
            "-reply".as_ref(),
            "-in".as_ref(),
            resp_path.as_os_str(),
            "-text".as_ref(),
        ]);
        assert!(ok, "{text}");
        assert!(text.contains("Status: Granted."), "{text}");
        assert!(text.contains("Policy OID: 1.3.6.1.4.1.59999.2.1"), "{text}");
        assert!(text.contains("Nonce: 0x01020304"), "{text}");
        let (ok, text) = run(&[
            "ts".as_ref(),
            "-verify".as_ref(),
            "-data".as_ref(),
            data_path.as_os_str(),
            "-in".as_ref(),
            resp_path.as_os_str(),
            "-CAfile".as_ref(),
            ca_path.as_os_str(),
            "-untrusted".as_ref(),
            tsa_path.as_os_str(),
        ]);
        assert!(
            ok && text.contains("Verification: OK"),
            "openssl ts -verify: {text}"
        );
        // Different data must not verify.
        std::fs::write(&data_path, b"other bytes").unwrap();
        let (ok, text) = run(&[
            "ts".as_ref(),
            "-verify".as_ref(),
            "-data".as_ref(),
            data_path.as_os_str(),
            "-in".as_ref(),
            resp_path.as_os_str(),
            "-CAfile".as_ref(),
            ca_path.as_os_str(),
            "-untrusted".as_ref(),
            tsa_path.as_os_str(),
        ]);
        assert!(!ok || !text.contains("Verification: OK"), "{text}");
    }
}
