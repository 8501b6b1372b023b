//! A witness node as an RFC 3161 time-stamping authority over `/signet/tsa/1` (spec 12.14,
//! 6.10): the CA that verified the witness certifies its `tsa` key with a TSA certificate; a
//! party obtains a token from the witness that chains to the CA's certificate; a node that is
//! not a witness answers with a rejection; the client refuses a token over another digest, with
//! another nonce, or from a TSA that is not the witness's; a PDF sealed B-T with the
//! witness's token validates in pyHanko against the CA certificate; and once the CA revokes
//! the witness's identity, its CRL lists the TSA certificate and the witness stops granting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;

use der::{Decode, Encode};
use signet_node::pdf::sign::{self, PdfSigner, Placement, SealRequest};
use signet_node::pdf::tsa::{self, ResponseOutcome, TimeStampRequest};
use signet_node::pdf::{appearance, verify, x509};
use signet_node::service::ServiceError;
use signet_node::service::tsa::WitnessTimeStampError;
use signet_protocol::attestation::Claims;
use signet_protocol::attestation::SignedAttestation;
use signet_protocol::keylog::KeyPurpose;
use signet_protocol::party::PartyId;
use support::{Node, create, create_witness, federate, start, until};

/// The PDF certificate attestations `node` holds about `subject` for keys of `purpose`.
fn certificates(node: &Node, subject: PartyId, purpose: KeyPurpose) -> Vec<SignedAttestation> {
    node.service
        .attestations()
        .unwrap()
        .into_iter()
        .filter(|a| {
            a.payload().subject == subject
                && matches!(&a.payload().claims, Claims::PdfCertificate(c) if c.purpose() == purpose)
        })
        .collect()
}

fn certificate_of(a: &SignedAttestation) -> Vec<u8> {
    match &a.payload().claims {
        Claims::PdfCertificate(c) => c.certificate.clone(),
        _ => panic!("a pdf certificate"),
    }
}

/// Whether `certificate` (DER) is signed by the key of `issuer` (DER).
fn signed_by(certificate: &[u8], issuer: &[u8]) -> bool {
    let issuer = x509_cert::Certificate::from_der(issuer).unwrap();
    let issuer_key =
        x509::asn1::p256_key_of(issuer.tbs_certificate().subject_public_key_info()).unwrap();
    let envelope = x509::asn1::SignedEnvelope::from_der(certificate).unwrap();
    let tbs = envelope.tbs.to_der().unwrap();
    x509::asn1::verify_der(&issuer_key, &tbs, envelope.signature.raw_bytes())
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_time_stamps_for_a_party_under_its_cas_tsa_certificate() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (w_dir, w_key) = create_witness(root.path(), "Witness", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let witness = start("Witness", &w_dir, &w_key).await;
    assert!(
        w_dir.join("keys").join("tsa.key").exists(),
        "a witness has a TSA key file"
    );
    assert!(
        !b_dir.join("keys").join("tsa.key").exists(),
        "only witnesses have a TSA key"
    );
    federate(&ca, &[&brand, &witness]).await;
    let w = witness.party();

    // The CA certified the witness's tsa key with a TSA certificate (and its pdf key with a
    // seal certificate); the brand and the witness hold it.
    until(
        "the witness's TSA certificate reached the brand and the witness",
        || {
            !certificates(&brand, w, KeyPurpose::Tsa).is_empty()
                && !certificates(&witness, w, KeyPurpose::Tsa).is_empty()
        },
    )
    .await;
    assert!(certificates(&ca, brand.party(), KeyPurpose::Tsa).is_empty());
    let tsa_certificate = certificate_of(&certificates(&brand, w, KeyPurpose::Tsa)[0]);
    let ca_certificate = ca.service.pdf_ca_certificate().unwrap();
    assert!(signed_by(&tsa_certificate, &ca_certificate));

    // The brand obtains a token from the witness: over its digest, signed under that TSA
    // certificate, which chains to the CA's.
    let digest = [0x42; 32];
    let token = brand.service.witness_time_stamp(w, digest).await.unwrap();
    let facts = tsa::read_token(&token).unwrap();
    assert_eq!(facts.imprint, Some(digest));
    assert!(facts.signature_valid);
    assert!(
        find(&token, &tsa_certificate),
        "the token carries the TSA certificate"
    );
    openssl_verifies(&token, &digest, &ca_certificate);

    // A node that is not a witness refuses with a rejection (unacceptedPolicy), on the wire.
    match brand.service.witness_time_stamp(ca.party(), digest).await {
        Err(ServiceError::TimeStamp(WitnessTimeStampError::Refused {
            status, failures, ..
        })) => {
            assert_eq!(status, 2, "rejection");
            assert_eq!(failures, vec![15], "unacceptedPolicy");
        }
        other => panic!("a non-witness time-stamped: {other:?}"),
    }

    // The client's checks: a good token for one request is refused for another digest or
    // nonce; a token by a TSA that is not the witness's is refused.
    let request = TimeStampRequest::for_digest(digest)
        .with_nonce(&[7; 16])
        .unwrap();
    let response = brand
        .service
        .client()
        .unwrap()
        .time_stamp(w, request.encode().unwrap())
        .await
        .unwrap();
    let ResponseOutcome::Granted(raw) = tsa::read_response(&response).unwrap() else {
        panic!("the witness granted");
    };
    assert_eq!(
        brand
            .service
            .check_witness_token(w, &request, &raw)
            .unwrap(),
        raw
    );
    let other_digest = TimeStampRequest::for_digest([0x43; 32])
        .with_nonce(&[7; 16])
        .unwrap();
    assert_eq!(
        brand.service.check_witness_token(w, &other_digest, &raw),
        Err(WitnessTimeStampError::InvalidToken(
            "the token is over another digest"
        ))
    );
    let other_nonce = TimeStampRequest::for_digest(digest)
        .with_nonce(&[8; 16])
        .unwrap();
    assert!(matches!(
        brand.service.check_witness_token(w, &other_nonce, &raw),
        Err(WitnessTimeStampError::InvalidToken(_))
    ));
    let foreign = foreign_token(&request);
    assert!(matches!(
        brand.service.check_witness_token(w, &request, &foreign),
        Err(WitnessTimeStampError::NotFromWitness(_))
    ));
    // The witness's own token is not the CA's.
    assert!(matches!(
        brand
            .service
            .check_witness_token(ca.party(), &request, &raw),
        Err(WitnessTimeStampError::NotFromWitness(_))
    ));

    // The brand seals a PDF B-T with its CA-issued certificate and the witness's token.
    let brand_key = signet_node::keyfile::read_p256(&b_dir.join("keys").join("pdf.key")).unwrap();
    let brand_certificate =
        certificate_of(&certificates(&brand, brand.party(), KeyPurpose::Pdf)[0]);
    let stamper = brand
        .service
        .witness_time_stamper(w, tokio::runtime::Handle::current());
    let ca_for_chain = ca_certificate.clone();
    let sealed = tokio::task::spawn_blocking(move || {
        let pdf = signet_node::pdf::sample::contract("Time-stamped", &["Brand"], 1).unwrap();
        let signer = PdfSigner::new(&brand_key, &brand_certificate, &[ca_for_chain]).unwrap();
        let look = appearance::Appearance::RoundSeal(
            appearance::RoundSeal::new("Brand", "91350100M000100Y43", None).unwrap(),
        );
        let size = sign::page_size(&pdf, None).unwrap();
        let request = SealRequest {
            placement: Placement {
                page: None,
                rect: sign::default_slot(size, 0, 1),
            },
            appearance: &look,
            signer: &signer,
            signing_time: std::time::SystemTime::now(),
            field_name: "Seal1",
            time_stamper: Some(&stamper),
            reserved: sign::DEFAULT_RESERVED,
        };
        sign::sign(&pdf, &request)
    })
    .await
    .unwrap()
    .unwrap();
    let infos = verify::signatures(&sealed).unwrap();
    assert_eq!(infos.len(), 1);
    assert!(infos[0].digest_matches && infos[0].signature_valid);
    pyhanko_validates(&sealed, &ca_certificate);

    // The CA revokes the witness's identity: its CRL lists the TSA certificate, the brand no
    // longer accepts the witness's tokens, and the witness, once it holds the revocation,
    // refuses to time-stamp (systemFailure).
    let identity = ca
        .service
        .attestations()
        .unwrap()
        .into_iter()
        .find(|a| a.payload().subject == w && a.payload().claims.kind().name() == "identity")
        .unwrap();
    let revocation = ca.service.revoke(identity.payload().id).unwrap();
    let crl = x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(
        &ca.service.pdf_crl().unwrap(),
    )
    .unwrap();
    let tsa_serial = x509_cert::Certificate::from_der(&tsa_certificate)
        .unwrap()
        .tbs_certificate()
        .serial_number()
        .clone();
    assert!(
        crl.tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .any(|r| r.serial_number == tsa_serial),
        "the CRL lists the TSA certificate"
    );
    brand
        .service
        .import_attestation(revocation.bytes())
        .unwrap();
    assert!(matches!(
        brand.service.check_witness_token(w, &request, &raw),
        Err(WitnessTimeStampError::NotFromWitness(_))
    ));
    witness
        .service
        .import_attestation(revocation.bytes())
        .unwrap();
    match brand.service.witness_time_stamp(w, digest).await {
        Err(ServiceError::TimeStamp(WitnessTimeStampError::Refused { failures, .. })) => {
            assert_eq!(failures, vec![25], "systemFailure");
        }
        other => panic!("a witness without a certificate time-stamped: {other:?}"),
    }
}

/// A token for `request` by a TSA certified by another CA (not the witness's).
fn foreign_token(request: &TimeStampRequest) -> Vec<u8> {
    let ca_key = p256::ecdsa::SigningKey::from_slice(&[21; 32]).unwrap();
    let tsa_key = p256::ecdsa::SigningKey::from_slice(&[22; 32]).unwrap();
    let now = signet_node::service::now();
    let issuance = x509::Issuance {
        serial: 5,
        not_before: now,
        not_after: now.plus(86_400),
    };
    let ca_der = x509::ca_certificate("Elsewhere CA", None, &ca_key, &issuance).unwrap();
    let ca = x509::CertifiedKey::new(&ca_key, &ca_der).unwrap();
    let tsa_der =
        x509::tsa_certificate(&ca, "Witness", tsa_key.verifying_key(), &issuance).unwrap();
    let authority = x509::CertifiedKey::new(&tsa_key, &tsa_der).unwrap();
    tsa::time_stamp_token(&authority, request, 9, std::time::SystemTime::now()).unwrap()
}

fn pem(der_bytes: &[u8]) -> String {
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
}

fn run(program: &str, args: &[&str]) -> Option<(bool, String)> {
    let out = Command::new(program).args(args).output().ok()?;
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

/// `openssl ts -verify` accepts the token for the digest with the CA certificate as the
/// only trust root (skipped without openssl).
fn openssl_verifies(token: &[u8], digest: &[u8; 32], ca: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let token_path = dir.path().join("token.der");
    std::fs::write(&token_path, token).unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, pem(ca)).unwrap();
    let Some((ok, text)) = run(
        "openssl",
        &[
            "ts",
            "-verify",
            "-digest",
            &hex::encode(digest),
            "-in",
            token_path.to_str().unwrap(),
            "-token_in",
            "-CAfile",
            ca_path.to_str().unwrap(),
        ],
    ) else {
        println!("skipped: openssl is not installed");
        return;
    };
    assert!(ok && text.contains("Verification: OK"), "{text}");
}

/// pyHanko validates the B-T seal against the CA certificate, time-stamp included (skipped
/// without pyHanko).
fn pyhanko_validates(pdf: &[u8], ca: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let pdf_path = dir.path().join("sealed.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, pem(ca)).unwrap();
    let Some((ok, text)) = run(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--pretty-print",
            "--trust",
            ca_path.to_str().unwrap(),
            "--trust-replace",
            "--no-revocation-check",
            pdf_path.to_str().unwrap(),
        ],
    ) else {
        println!("skipped: pyhanko is not installed");
        return;
    };
    println!("pyhanko sign validate:\n{text}");
    assert!(ok, "{text}");
    assert!(text.contains("The signature is judged VALID."), "{text}");
    assert!(
        text.contains("The signer's certificate is trusted."),
        "{text}"
    );
    assert!(text.contains("The TSA certificate is trusted."), "{text}");
}
