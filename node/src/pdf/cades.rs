//! CMS `SignedData` (RFC 5652) as CAdES (ETSI EN 319 122-1) uses it: built for PDF
//! signatures and time-stamp tokens, and read back for verification.
//!
//! Two suites are produced and checked: ECDSA P-256 with SHA-256 (PAdES), and SM2 with SM3
//! (GM/T 0010, see [`super::national`]).

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::ext::pkix::name::GeneralName;

use super::PdfError;
use super::asn1::{
    self, ATTR_CONTENT_TYPE, ATTR_MESSAGE_DIGEST, ATTR_SIGNING_CERTIFICATE_V2, EssCertIdV2,
    ID_DATA, ID_SIGNED_DATA, IssuerSerial, SigningCertificateV2,
};
use super::error::Asn1Error;
use super::national::{self, SignatureSuite, Sm2CertifiedKey};
use super::x509::CertifiedKey;

/// Who signs a `SignedData`: a P-256 key or an SM2 key, each with its certificate.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CmsSigner<'a> {
    /// ECDSA P-256 with SHA-256.
    P256(&'a CertifiedKey<'a>),
    /// SM2 with SM3.
    Sm2(&'a Sm2CertifiedKey<'a>),
}

impl CmsSigner<'_> {
    pub(crate) fn suite(&self) -> SignatureSuite {
        match self {
            Self::P256(_) => SignatureSuite::EcdsaP256Sha256,
            Self::Sm2(_) => SignatureSuite::Sm2Sm3,
        }
    }

    pub(crate) fn certificate(&self) -> &Certificate {
        match self {
            Self::P256(k) => k.certificate(),
            Self::Sm2(k) => k.certificate(),
        }
    }

    pub(crate) fn certificate_der(&self) -> &[u8] {
        match self {
            Self::P256(k) => k.certificate_der(),
            Self::Sm2(k) => k.certificate_der(),
        }
    }

    /// The DER signature of `message`.
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::P256(k) => asn1::sign_der(k.key(), message),
            Self::Sm2(k) => k.key().sign(message).to_der(),
        }
    }
}

/// What a `SignedData` signs: either a detached digest of external content (PAdES, eContent
/// absent) or encapsulated content (a time-stamp token's TSTInfo).
pub(crate) enum Content<'a> {
    /// The digest (of the signer's suite) of external data of type id-data.
    Detached([u8; 32]),
    /// Encapsulated DER content of the given type.
    Encapsulated(Oid, &'a [u8]),
}

/// Computes the unsigned attributes from the signature value, once it exists.
pub(crate) type UnsignedAttributes<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<Attribute>, PdfError>;

/// A DER `ContentInfo` holding a `SignedData` by `signer`, with the signed attributes
/// contentType, messageDigest and signingCertificateV2 (no signingTime: PAdES puts the
/// claimed time in the signature dictionary's `/M`), embedding `certificates`. The digest and
/// signature algorithms are the signer's suite's (for SM2 also signingCertificateV2's hash).
pub(crate) fn signed_data(
    signer: CmsSigner<'_>,
    certificates: &[Certificate],
    content: &Content<'_>,
    unsigned: Option<UnsignedAttributes<'_>>,
) -> Result<Vec<u8>, PdfError> {
    let suite = signer.suite();
    let (content_type, digest, econtent) = match *content {
        Content::Detached(digest) => (ID_DATA, digest, None),
        Content::Encapsulated(oid, bytes) => (
            oid,
            suite.digest(&[bytes]),
            Some(Any::encode_from(&OctetString::new(bytes)?)?),
        ),
    };
    let signed_attrs = signed_attributes(
        suite,
        signer.certificate(),
        signer.certificate_der(),
        content_type,
        &digest,
    )?;
    let signature = signer.sign(&signed_attrs.to_der()?);
    let unsigned_attrs = match unsigned {
        Some(compute) => Some(SetOfVec::try_from(compute(&signature)?)?),
        None => None,
    };
    let tbs = signer.certificate().tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: suite.digest_algorithm(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: suite.signature_algorithm(),
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let certificates = certificates
        .iter()
        .cloned()
        .map(CertificateChoices::Certificate)
        .collect::<Vec<_>>();
    let signed_data = SignedData {
        // RFC 5652, 5.1: version 3 when eContentType is not id-data.
        version: if content_type == ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: SetOfVec::try_from(vec![suite.digest_algorithm()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent,
        },
        certificates: (!certificates.is_empty())
            .then(|| CertificateSet::try_from(certificates))
            .transpose()?,
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info])?,
    };
    let content_info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    };
    Ok(content_info.to_der()?)
}

/// An attribute with one DER value.
pub(crate) fn attribute<T: Encode>(oid: Oid, value: &T) -> Result<Attribute, PdfError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![Any::from_der(&value.to_der()?)?])?,
    })
}

fn signed_attributes(
    suite: SignatureSuite,
    certificate: &Certificate,
    certificate_der: &[u8],
    content_type: Oid,
    digest: &[u8; 32],
) -> Result<SetOfVec<Attribute>, PdfError> {
    let tbs = certificate.tbs_certificate();
    // ESSCertIDv2's hash defaults to SHA-256 (omitted in DER); an SM2 signer names SM3.
    let hash_algorithm = match suite {
        SignatureSuite::EcdsaP256Sha256 => None,
        _ => Some(suite.digest_algorithm()),
    };
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm,
            cert_hash: OctetString::new(suite.digest(&[certificate_der]).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            }),
        }],
        policies: None,
    };
    Ok(SetOfVec::try_from(vec![
        attribute(ATTR_CONTENT_TYPE, &content_type)?,
        attribute(ATTR_MESSAGE_DIGEST, &OctetString::new(digest.to_vec())?)?,
        attribute(ATTR_SIGNING_CERTIFICATE_V2, &signing_certificate)?,
    ])?)
}

/// A decoded `SignedData` with its first signer.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSignedData {
    pub(crate) signed_data: SignedData,
    pub(crate) signer: SignerInfo,
}

impl ParsedSignedData {
    /// Decodes a `ContentInfo` holding a `SignedData` from the front of `bytes` (trailing
    /// bytes, such as a PDF's zero padding, are ignored).
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, PdfError> {
        let content_info: ContentInfo = asn1::decode_prefix(bytes)?;
        if content_info.content_type != ID_SIGNED_DATA
            && content_info.content_type != national::GM_SIGNED_DATA
        {
            return Err(PdfError::Cms("not signed-data"));
        }
        let signed_data: SignedData = content_info.content.decode_as()?;
        let signer = signed_data
            .signer_infos
            .0
            .iter()
            .next()
            .cloned()
            .ok_or(PdfError::Cms("no signer"))?;
        Ok(Self {
            signed_data,
            signer,
        })
    }

    /// The first value of a signed attribute.
    pub(crate) fn signed_attribute(&self, oid: Oid) -> Option<&Any> {
        first_value(self.signer.signed_attrs.as_ref()?, oid)
    }

    /// The first value of an unsigned attribute.
    pub(crate) fn unsigned_attribute(&self, oid: Oid) -> Option<&Any> {
        first_value(self.signer.unsigned_attrs.as_ref()?, oid)
    }

    /// Whether the signed content is detached data (RFC 5652's `id-data`, or GM/T 0010's)
    /// and the contentType signed attribute names the same type (RFC 5652, 11.1: without
    /// it, the signature would not say what the signed bytes are).
    pub(crate) fn signs_data(&self) -> bool {
        let econtent_type = self.signed_data.encap_content_info.econtent_type;
        national::is_data(econtent_type)
            && self
                .signed_attribute(ATTR_CONTENT_TYPE)
                .and_then(|value| value.decode_as::<Oid>().ok())
                == Some(econtent_type)
    }

    /// The messageDigest signed attribute.
    pub(crate) fn message_digest(&self) -> Option<Vec<u8>> {
        let value = self.signed_attribute(ATTR_MESSAGE_DIGEST)?;
        value
            .decode_as::<OctetString>()
            .ok()
            .map(|digest| digest.as_bytes().to_vec())
    }

    /// The encapsulated content, if any.
    pub(crate) fn econtent(&self) -> Option<Vec<u8>> {
        let any = self.signed_data.encap_content_info.econtent.as_ref()?;
        any.decode_as::<OctetString>()
            .ok()
            .map(|content| content.as_bytes().to_vec())
    }

    /// The certificate the signer identifier names, among the embedded ones.
    pub(crate) fn signer_certificate(&self) -> Option<&Certificate> {
        let certificates = self.signed_data.certificates.as_ref()?;
        certificates.0.iter().find_map(|choice| match choice {
            CertificateChoices::Certificate(cert) if identifies(&self.signer.sid, cert) => {
                Some(cert)
            }
            _ => None,
        })
    }

    /// The suite the signer's digest and signature algorithms name, if known.
    pub(crate) fn suite(&self) -> Option<SignatureSuite> {
        SignatureSuite::of(&self.signer.digest_alg, &self.signer.signature_algorithm)
    }

    /// Whether the signer's signature over the signed attributes verifies with
    /// `certificate`'s key: ECDSA P-256 with SHA-256, or SM2 with SM3 (ZA with the default
    /// identifier). Other algorithms, and a key of another suite's kind, are reported as not
    /// verified. (Strict DER decoding makes the re-encoded attributes the bytes received.)
    pub(crate) fn signature_verifies(&self, certificate: &Certificate) -> bool {
        let Some(attrs) = self.signer.signed_attrs.as_ref() else {
            return false;
        };
        let Ok(der) = attrs.to_der() else {
            return false;
        };
        let signature = self.signer.signature.as_bytes();
        match self.suite() {
            Some(SignatureSuite::EcdsaP256Sha256) => {
                asn1::p256_key_of(certificate.tbs_certificate().subject_public_key_info())
                    .is_some_and(|key| asn1::verify_der(&key, &der, signature))
            }
            Some(SignatureSuite::Sm2Sm3) => national::sm2_verifies(certificate, &der, signature),
            None => false,
        }
    }
}

fn first_value(attributes: &SetOfVec<Attribute>, oid: Oid) -> Option<&Any> {
    attributes
        .iter()
        .find(|attr| attr.oid == oid)?
        .values
        .iter()
        .next()
}

fn identifies(sid: &SignerIdentifier, certificate: &Certificate) -> bool {
    let tbs = certificate.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            isn.issuer == *tbs.issuer() && isn.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .get_extension::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, own)| own == *ski),
    }
}

/// Decodes DER certificates.
pub(crate) fn decode_certificates(ders: &[Vec<u8>]) -> Result<Vec<Certificate>, PdfError> {
    ders.iter()
        .map(|der| Certificate::from_der(der).map_err(|e| PdfError::Asn1(Asn1Error::from(e))))
        .collect()
}
