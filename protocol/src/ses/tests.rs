#![allow(clippy::unwrap_used)]

use super::*;
use crate::x509::Issuance;
use crate::x509::sm2::{Sm2KeyForm, sm2_certificate};

const T: Timestamp = Timestamp::from_unix(1_800_000_000);
const DAY: u64 = 86_400;

struct Fixture {
    maker: Sm2SecretKey,
    maker_cert: Vec<u8>,
    signer: Sm2SecretKey,
    signer_cert: Vec<u8>,
}

fn name(text: &str) -> x509_cert::name::Name {
    text.parse().unwrap()
}

fn certificate(issuer: &Sm2SecretKey, subject: &str, key: &Sm2PublicKey, ca: bool) -> Vec<u8> {
    let issuance = Issuance {
        serial: 1 + u128::from(key.as_bytes()[1]),
        not_before: T,
        not_after: T.plus(365 * DAY),
    };
    let form = Sm2KeyForm::EcPublicKey;
    sm2_certificate(
        issuer,
        name("CN=Maker"),
        name(subject),
        key,
        form,
        &issuance,
        ca,
    )
    .unwrap()
}

fn fixture() -> Fixture {
    let maker = Sm2SecretKey::from_bytes(&[0x31; 32]).unwrap();
    let signer = Sm2SecretKey::from_bytes(&[0x32; 32]).unwrap();
    Fixture {
        maker_cert: certificate(&maker, "CN=Maker", &maker.public_key(), true),
        signer_cert: certificate(&maker, "CN=Signer", &signer.public_key(), false),
        maker,
        signer,
    }
}

fn spec(f: &Fixture) -> SealSpec {
    SealSpec {
        vid: "signet".into(),
        es_id: "3301000000001".into(),
        seal_type: 1,
        name: "合同专用章".into(),
        signer_certificates: vec![f.signer_cert.clone()],
        created: T,
        valid_from: T,
        valid_until: T.plus(30 * DAY),
        picture: Picture {
            format: "PNG".into(),
            data: b"\x89PNG\r\n\x1a\n seal image".to_vec(),
            width_mm: 40,
            height_mm: 40,
        },
    }
}

const DATA: &[u8] = b"%PDF-1.7 the contract";

fn signed(f: &Fixture, seal: &[u8]) -> Vec<u8> {
    sign(
        seal,
        &f.signer,
        &f.signer_cert,
        DATA,
        T.plus(60),
        "contract.pdf",
    )
    .unwrap()
}

#[test]
fn a_seal_signature_round_trips_and_verifies() {
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    let verified_seal = verify_seal(&seal).unwrap();
    assert_eq!(verified_seal.maker_key, f.maker.public_key());
    assert_eq!(verified_seal.name, "合同专用章");
    let signature = signed(&f, &seal);
    // DER in, the same DER out.
    assert_eq!(
        SesSignature::from_der(&signature)
            .unwrap()
            .to_der()
            .unwrap(),
        signature
    );
    let verified = verify_signature(&signature, DATA).unwrap();
    assert_eq!(verified.signer_key, f.signer.public_key());
    assert_eq!(verified.signed_at, T.plus(60));
    assert_eq!(verified.property_info, "contract.pdf");
    assert_eq!(verified.seal, verified_seal);
    // Deterministic: the same inputs give the same bytes (vectors rely on it).
    assert_eq!(signed(&f, &seal), signature);
}

/// The seal, decoded, changed by `edit`, encoded again (its maker's signature unchanged).
fn edited_seal(seal: &[u8], edit: impl FnOnce(&mut SeSeal)) -> Vec<u8> {
    let mut decoded = SeSeal::from_der(seal).unwrap();
    edit(&mut decoded);
    decoded.to_der().unwrap()
}

#[test]
fn a_changed_picture_breaks_the_seal() {
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    let tampered = edited_seal(&seal, |s| {
        let mut data = s.e_seal_info.picture.data.as_bytes().to_vec();
        data[12] ^= 1;
        s.e_seal_info.picture.data = OctetString::new(data).unwrap();
    });
    assert_eq!(verify_seal(&tampered), Err(SesError::SealSignature));
    // The signer's own signature over the tampered seal verifies; the seal's does not.
    assert_eq!(
        verify_signature(&signed(&f, &tampered), DATA),
        Err(SesError::SealSignature)
    );
}

#[test]
fn other_data_is_refused() {
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    let signature = signed(&f, &seal);
    assert_eq!(
        verify_signature(&signature, b"%PDF-1.7 another contract"),
        Err(SesError::DataHash)
    );
}

#[test]
fn a_signer_the_seal_does_not_list_is_refused() {
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    let stranger = Sm2SecretKey::from_bytes(&[0x33; 32]).unwrap();
    let stranger_cert = certificate(&f.maker, "CN=Stranger", &stranger.public_key(), false);
    let signature = sign(&seal, &stranger, &stranger_cert, DATA, T.plus(60), "x").unwrap();
    assert_eq!(
        verify_signature(&signature, DATA),
        Err(SesError::SignerNotInSeal)
    );
    // And a certificate that is not the signing key's cannot be used to build one.
    assert_eq!(
        sign(&seal, &stranger, &f.signer_cert, DATA, T, "x"),
        Err(SesError::KeyMismatch)
    );
    assert_eq!(
        make_seal(&spec(&f), &f.maker, &f.signer_cert),
        Err(SesError::KeyMismatch)
    );
}

#[test]
fn a_swapped_signer_certificate_breaks_the_signature() {
    // The signer's certificate replaced by another listed holder's: the signature was made
    // by the first key, so it does not verify under the second.
    let f = fixture();
    let other = Sm2SecretKey::from_bytes(&[0x34; 32]).unwrap();
    let other_cert = certificate(&f.maker, "CN=Other", &other.public_key(), false);
    let mut s = spec(&f);
    s.signer_certificates.push(other_cert.clone());
    let seal = make_seal(&s, &f.maker, &f.maker_cert).unwrap();
    let mut decoded = SesSignature::from_der(&signed(&f, &seal)).unwrap();
    decoded.cert = OctetString::new(other_cert).unwrap();
    assert_eq!(
        verify_signature(&decoded.to_der().unwrap(), DATA),
        Err(SesError::Signature)
    );
}

#[test]
fn an_algorithm_other_than_sm2_with_sm3_is_refused() {
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    let ecdsa = crate::x509::asn1::ECDSA_WITH_SHA256;
    let mut decoded = SesSignature::from_der(&signed(&f, &seal)).unwrap();
    decoded.signature_alg_id = ecdsa;
    assert_eq!(
        verify_signature(&decoded.to_der().unwrap(), DATA),
        Err(SesError::Algorithm(ecdsa.to_string()))
    );
    let seal_ecdsa = edited_seal(&seal, |s| s.sign_alg_id = ecdsa);
    assert_eq!(
        verify_seal(&seal_ecdsa),
        Err(SesError::Algorithm(ecdsa.to_string()))
    );
    // A seal maker whose certificate is P-256 is refused before any signature is checked.
    let p256 = p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap();
    let issuance = Issuance {
        serial: 9,
        not_before: T,
        not_after: T.plus(DAY),
    };
    let p256_cert = crate::x509::ca_certificate("P-256 maker", None, &p256, &issuance).unwrap();
    let seal_p256 = edited_seal(&seal, |s| s.cert = OctetString::new(p256_cert).unwrap());
    assert_eq!(verify_seal(&seal_p256), Err(SesError::MakerCertificate));
}

#[test]
fn times_outside_the_seal_or_the_certificate_are_refused() {
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    let late = sign(
        &seal,
        &f.signer,
        &f.signer_cert,
        DATA,
        T.plus(31 * DAY),
        "x",
    )
    .unwrap();
    assert_eq!(verify_signature(&late, DATA), Err(SesError::SealNotValidAt));
    let mut s = spec(&f);
    s.valid_until = T.plus(400 * DAY);
    let long_seal = make_seal(&s, &f.maker, &f.maker_cert).unwrap();
    let after_cert = sign(
        &long_seal,
        &f.signer,
        &f.signer_cert,
        DATA,
        T.plus(366 * DAY),
        "x",
    )
    .unwrap();
    assert_eq!(
        verify_signature(&after_cert, DATA),
        Err(SesError::CertificateNotValidAt)
    );
}

#[test]
fn a_seal_listing_certificate_digests_is_read() {
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    // Re-made by the maker with cert_list_type 2.
    let mut decoded = SeSeal::from_der(&seal).unwrap();
    let digests = vec![CertDigestObj {
        r#type: der::asn1::PrintableString::new("SM3").unwrap(),
        value: OctetString::new(Sm3Digest::of(&f.signer_cert).as_bytes().to_vec()).unwrap(),
    }];
    decoded.e_seal_info.property.cert_list_type = CERT_LIST_DIGESTS;
    decoded.e_seal_info.property.cert_list = Any::encode_from(&digests).unwrap();
    let info = decoded.e_seal_info.to_der().unwrap();
    decoded.signed_value = BitString::from_bytes(&f.maker.sign(&info).to_der()).unwrap();
    let seal = decoded.to_der().unwrap();
    verify_signature(&signed(&f, &seal), DATA).unwrap();
    let mut unknown = SeSeal::from_der(&seal).unwrap();
    unknown.e_seal_info.property.cert_list_type = 3;
    let info = unknown.e_seal_info.to_der().unwrap();
    unknown.signed_value = BitString::from_bytes(&f.maker.sign(&info).to_der()).unwrap();
    assert_eq!(
        verify_signature(&signed(&f, &unknown.to_der().unwrap()), DATA),
        Err(SesError::CertListType(3))
    );
}

#[test]
fn every_flipped_byte_is_refused() {
    let f = fixture();
    let mut s = spec(&f);
    s.picture.data = vec![7; 4];
    let seal = make_seal(&s, &f.maker, &f.maker_cert).unwrap();
    let signature = signed(&f, &seal);
    for index in 0..signature.len() {
        let mut bad = signature.clone();
        bad[index] ^= 0x01;
        assert!(
            verify_signature(&bad, DATA).is_err(),
            "byte {index} of {}",
            signature.len()
        );
    }
    assert!(verify_signature(&signature[..signature.len() - 1], DATA).is_err());
    let mut trailing = signature.clone();
    trailing.push(0);
    assert!(matches!(
        verify_signature(&trailing, DATA),
        Err(SesError::Malformed(_))
    ));
}

#[test]
fn the_signer_key_is_a_partys_sm2_pdf_key() {
    use crate::keylog::{KeyDecl, KeyLog, KeyPurpose, LogKey};
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    let verified = verify_signature(&signed(&f, &seal), DATA).unwrap();
    let root = crate::SecretKey::from_seed(&[1; 32]);
    let next = crate::SecretKey::from_seed(&[2; 32]).public_key();
    let log = KeyLog::incept(
        &root,
        &next,
        vec![KeyDecl::sm2_pdf(f.signer.public_key())],
        T,
    )
    .unwrap();
    log.check_log_key(
        &LogKey::Sm2(verified.signer_key),
        KeyPurpose::Pdf,
        verified.signed_at,
    )
    .unwrap();
}

#[test]
fn a_time_stamp_is_added_outside_what_the_signer_signed() {
    let f = fixture();
    let seal = make_seal(&spec(&f), &f.maker, &f.maker_cert).unwrap();
    let signature = signed(&f, &seal);
    let plain = verify_signature(&signature, DATA).unwrap();
    assert_eq!(plain.time_stamp, None);
    // Any token bytes: this module carries the token, the caller checks it.
    let token = b"\x30\x03\x02\x01\x01".to_vec();
    let stamped = with_time_stamp(&signature, &token).unwrap();
    let verified = verify_signature(&stamped, DATA).unwrap();
    assert_eq!(verified.time_stamp.as_deref(), Some(&token[..]));
    // The imprint is over the signature value, which the time-stamp does not change.
    assert_eq!(verified.signature_value, plain.signature_value);
    assert_eq!(verified.time_stamp_imprint(), plain.time_stamp_imprint());
    assert_eq!(
        verified.time_stamp_imprint(),
        *crate::Digest::of(&plain.signature_value).as_bytes()
    );
    // Once only.
    assert!(matches!(
        with_time_stamp(&stamped, &token),
        Err(SesError::Malformed(_))
    ));
    // The stamped signature still refuses other data.
    assert_eq!(
        verify_signature(&stamped, b"other data"),
        Err(SesError::DataHash)
    );
}
