#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! SM2 and SM3 cross-checked against the openssl CLI (3.x), the oracle (spec §4.3.3): what
//! Signet signs, openssl verifies, and the other way round; a changed message fails on both
//! sides; SM3 digests agree; certificates in both SM2 key encodings parse; the COSE objects
//! SM2 may sign (seal signatures, attestations, intent proofs, spec §3.3) verify both ways.
//!
//! OpenSSL's default distinguishing identifier is not GB/T 32918's in every command (in 3.0,
//! `openssl dgst -sm3 -sign` without `-sigopt distid:` signs with another ZA), so every
//! command here names `distid:1234567812345678` explicitly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use der::{Decode, Encode};
use signet_protocol::Timestamp;
use signet_protocol::sm2::{DEFAULT_DIST_ID, Sm2PublicKey, Sm2SecretKey, Sm2Signature, Sm3Digest};
use signet_protocol::x509::Issuance;
use signet_protocol::x509::sm2::{
    Sm2KeyForm, certificate_sm2_key, sm2_certificate, sm2_key_of, sm2_spki, verify_sm2_signed,
};

fn openssl(args: &[&str], dir: &Path) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (CI installs it): {e}"))
}

fn ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: openssl failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn distid() -> String {
    format!("distid:{DEFAULT_DIST_ID}")
}

const MESSAGE: &[u8] = "合同 contract #1, 金额 100000.00 CNY".as_bytes();

/// Runs `openssl dgst -sm3 -verify` of `signature_der` over `message` with the DER public key.
fn openssl_verifies(dir: &Path, public_der: &[u8], message: &[u8], signature_der: &[u8]) -> bool {
    write(dir, "pub.der", public_der);
    write(dir, "msg", message);
    write(dir, "sig", signature_der);
    let dgst = openssl(
        &[
            "dgst",
            "-sm3",
            "-verify",
            "pub.der",
            "-keyform",
            "DER",
            "-sigopt",
            &distid(),
            "-signature",
            "sig",
            "msg",
        ],
        dir,
    );
    let pkeyutl = openssl(
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.der",
            "-keyform",
            "DER",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            &distid(),
            "-in",
            "msg",
            "-sigfile",
            "sig",
        ],
        dir,
    );
    assert_eq!(
        dgst.status.success(),
        pkeyutl.status.success(),
        "openssl dgst and pkeyutl disagree: {} / {}",
        String::from_utf8_lossy(&dgst.stderr),
        String::from_utf8_lossy(&pkeyutl.stderr)
    );
    dgst.status.success()
}

#[test]
fn this_openssl_knows_sm2_and_sm3() {
    let dir = tempfile::tempdir().unwrap();
    let keys = openssl(&["list", "-public-key-algorithms"], dir.path());
    ok(&keys, "list");
    let text = String::from_utf8_lossy(&keys.stdout);
    assert!(
        text.contains("SM2"),
        "this openssl has no SM2 (a build with no-sm2?): {text}"
    );
    let digests = openssl(&["list", "-digest-algorithms"], dir.path());
    assert!(String::from_utf8_lossy(&digests.stdout).contains("SM3"));
}

#[test]
fn what_signet_signs_openssl_verifies() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [1u8, 2, 0x7f] {
        let key = Sm2SecretKey::from_bytes(&[seed; 32]).unwrap();
        let spki = sm2_spki(&key.public_key(), Sm2KeyForm::EcPublicKey)
            .unwrap()
            .to_der()
            .unwrap();
        let signature = key.sign(MESSAGE).to_der();
        assert!(
            openssl_verifies(dir.path(), &spki, MESSAGE, &signature),
            "seed {seed}"
        );
        let mut tampered = MESSAGE.to_vec();
        tampered[0] ^= 1;
        assert!(!openssl_verifies(dir.path(), &spki, &tampered, &signature));
        // The signature of another key does not verify either.
        let other = Sm2SecretKey::from_bytes(&[seed + 1; 32])
            .unwrap()
            .sign(MESSAGE)
            .to_der();
        assert!(!openssl_verifies(dir.path(), &spki, MESSAGE, &other));
    }
}

/// A fresh SM2 key made by openssl: (PEM private key file name, its public key).
fn openssl_key(dir: &Path, name: &str) -> Sm2PublicKey {
    ok(
        &openssl(&["genpkey", "-algorithm", "SM2", "-out", name], dir),
        "genpkey",
    );
    let public = openssl(&["pkey", "-in", name, "-pubout", "-outform", "DER"], dir);
    ok(&public, "pkey -pubout");
    let spki = spki::SubjectPublicKeyInfoOwned::from_der(&public.stdout).unwrap();
    sm2_key_of(&spki).unwrap()
}

/// `openssl pkeyutl -sign` of the file `input` with the PEM key `key`, SM3 and the default
/// identifier, into `output` (DER).
fn pkeyutl_sign(dir: &Path, key: &str, input: &str, output: &str) {
    ok(
        &openssl(
            &[
                "pkeyutl",
                "-sign",
                "-inkey",
                key,
                "-rawin",
                "-digest",
                "sm3",
                "-pkeyopt",
                &distid(),
                "-in",
                input,
                "-out",
                output,
            ],
            dir,
        ),
        "pkeyutl -sign",
    );
}

#[test]
fn what_openssl_signs_signet_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let public = openssl_key(dir.path(), "key.pem");
    write(dir.path(), "msg", MESSAGE);
    ok(
        &openssl(
            &[
                "dgst",
                "-sm3",
                "-sign",
                "key.pem",
                "-sigopt",
                &distid(),
                "-out",
                "sig",
                "msg",
            ],
            dir.path(),
        ),
        "dgst -sign",
    );
    let der = std::fs::read(dir.path().join("sig")).unwrap();
    public.verify_der(MESSAGE, &der).unwrap();
    let signature = Sm2Signature::from_der(&der).unwrap();
    public.verify(MESSAGE, &signature).unwrap();
    let mut tampered = MESSAGE.to_vec();
    tampered[3] ^= 0x20;
    assert!(public.verify(&tampered, &signature).is_err());
    // pkeyutl signs the same way.
    pkeyutl_sign(dir.path(), "key.pem", "msg", "sig2");
    let der = std::fs::read(dir.path().join("sig2")).unwrap();
    public.verify_der(MESSAGE, &der).unwrap();
    assert!(public.verify_der(&tampered, &der).is_err());
}

#[test]
fn sm3_digests_agree_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let long: Vec<u8> = (0..(1 << 20) + 3)
        .map(|i: u32| (i * 31 % 251) as u8)
        .collect();
    let inputs: [&[u8]; 6] = [b"", b"abc", &[0x61; 63], &[0x61; 64], &[0x61; 65], &long];
    for input in inputs {
        write(dir.path(), "in", input);
        let out = openssl(&["dgst", "-sm3", "-r", "in"], dir.path());
        ok(&out, "dgst -sm3");
        let text = String::from_utf8(out.stdout).unwrap();
        let hex = text.split_whitespace().next().unwrap();
        assert_eq!(Sm3Digest::of(input).to_hex(), hex, "{} bytes", input.len());
    }
}

fn issuance() -> Issuance {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Issuance {
        serial: 0x5eed,
        not_before: Timestamp::from_unix(now - 3600),
        not_after: Timestamp::from_unix(now + 86_400),
    }
}

/// A name from its RFC 4514 string.
fn name(text: &str) -> x509_cert::name::Name {
    text.parse().unwrap()
}

#[test]
fn an_openssl_certificate_yields_its_sm2_key_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let public = openssl_key(dir.path(), "key.pem");
    ok(
        &openssl(
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "key.pem",
                "-sm3",
                "-sigopt",
                &distid(),
                "-subj",
                "/C=CN/O=Test CA/CN=Test CA",
                "-days",
                "2",
                "-outform",
                "DER",
                "-out",
                "ca.der",
            ],
            dir.path(),
        ),
        "req -x509",
    );
    let der = std::fs::read(dir.path().join("ca.der")).unwrap();
    assert_eq!(certificate_sm2_key(&der).unwrap(), public);
    // Self-signed with the default identifier: its signature verifies here.
    verify_sm2_signed(&der, &public).unwrap();
    let other = Sm2SecretKey::from_bytes(&[9; 32]).unwrap().public_key();
    assert!(verify_sm2_signed(&der, &other).is_err());
}

#[test]
fn signet_certificates_in_both_key_forms_parse_and_openssl_verifies_the_usual_one() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Sm2SecretKey::from_bytes(&[0x11; 32]).unwrap();
    let holder = Sm2SecretKey::from_bytes(&[0x22; 32]).unwrap();
    let ca_name = name("C=CN,O=Signet SM2 Test CA,CN=Signet SM2 Test CA");
    let ca_der = sm2_certificate(
        &ca,
        ca_name.clone(),
        ca_name.clone(),
        &ca.public_key(),
        Sm2KeyForm::EcPublicKey,
        &issuance(),
        true,
    )
    .unwrap();
    for form in [Sm2KeyForm::EcPublicKey, Sm2KeyForm::Sm2Algorithm] {
        let der = sm2_certificate(
            &ca,
            ca_name.clone(),
            name("C=CN,O=Holder,CN=Holder"),
            &holder.public_key(),
            form,
            &issuance(),
            false,
        )
        .unwrap();
        assert_eq!(certificate_sm2_key(&der).unwrap(), holder.public_key());
        verify_sm2_signed(&der, &ca.public_key()).unwrap();
        if form == Sm2KeyForm::EcPublicKey {
            // OpenSSL 3.0 cannot read the other form at all, so only this one goes to it.
            write(dir.path(), "ca.der", &ca_der);
            write(dir.path(), "ee.der", &der);
            for (from, to) in [("ca.der", "ca.pem"), ("ee.der", "ee.pem")] {
                ok(
                    &openssl(
                        &["x509", "-inform", "DER", "-in", from, "-out", to],
                        dir.path(),
                    ),
                    "x509 -inform DER",
                );
            }
            ok(
                &openssl(
                    &[
                        "verify",
                        "-vfyopt",
                        &distid(),
                        "-CAfile",
                        "ca.pem",
                        "ee.pem",
                    ],
                    dir.path(),
                ),
                "verify",
            );
            // A certificate signed by another SM2 key: openssl refuses it too.
            let forged = sm2_certificate(
                &holder,
                ca_name.clone(),
                name("C=CN,O=Holder,CN=Holder"),
                &holder.public_key(),
                form,
                &issuance(),
                false,
            )
            .unwrap();
            write(dir.path(), "forged.der", &forged);
            ok(
                &openssl(
                    &[
                        "x509",
                        "-inform",
                        "DER",
                        "-in",
                        "forged.der",
                        "-out",
                        "forged.pem",
                    ],
                    dir.path(),
                ),
                "x509",
            );
            let refused = openssl(
                &[
                    "verify",
                    "-vfyopt",
                    &distid(),
                    "-CAfile",
                    "ca.pem",
                    "forged.pem",
                ],
                dir.path(),
            );
            assert!(!refused.status.success());
            assert!(verify_sm2_signed(&forged, &ca.public_key()).is_err());
        }
    }
}

/// The `(offset, header length, length)` of each element at depth 1, as `openssl asn1parse`
/// reads the DER.
fn top_level_elements(dir: &Path, der: &[u8]) -> Vec<(usize, usize, usize)> {
    write(dir, "parse.der", der);
    let out = openssl(&["asn1parse", "-inform", "DER", "-in", "parse.der"], dir);
    ok(&out, "asn1parse");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|line| line.contains(":d=1 "))
        .map(|line| {
            let (offset, rest) = line.trim_start().split_once(':').unwrap();
            let number = |key: &str| -> usize {
                let after = rest.split(key).nth(1).unwrap().trim_start();
                after.split_whitespace().next().unwrap().parse().unwrap()
            };
            (offset.parse().unwrap(), number("hl="), number(" l="))
        })
        .collect()
}

#[test]
fn openssl_checks_both_signatures_of_a_gbt_38540_seal_signature() {
    use signet_protocol::ses::{self, Picture, SealSpec};
    let dir = tempfile::tempdir().unwrap();
    let maker = Sm2SecretKey::from_bytes(&[0x41; 32]).unwrap();
    let signer = Sm2SecretKey::from_bytes(&[0x42; 32]).unwrap();
    let maker_name = name("C=CN,O=Seal Maker,CN=Seal Maker");
    let cert = |key: &Sm2SecretKey, subject: &str, ca| {
        sm2_certificate(
            &maker,
            maker_name.clone(),
            name(subject),
            &key.public_key(),
            Sm2KeyForm::EcPublicKey,
            &issuance(),
            ca,
        )
        .unwrap()
    };
    let maker_cert = cert(&maker, "C=CN,O=Seal Maker,CN=Seal Maker", true);
    let signer_cert = cert(&signer, "C=CN,O=Supplier,CN=Supplier", false);
    let now = issuance().not_before.plus(60);
    let spec = SealSpec {
        vid: "signet".into(),
        es_id: "1".into(),
        seal_type: 1,
        name: "合同专用章".into(),
        signer_certificates: vec![signer_cert.clone()],
        created: now,
        valid_from: now,
        valid_until: now.plus(86_400),
        picture: Picture {
            format: "PNG".into(),
            data: vec![1, 2, 3],
            width_mm: 40,
            height_mm: 40,
        },
    };
    let seal = ses::make_seal(&spec, &maker, &maker_cert).unwrap();
    let signature = ses::sign(&seal, &signer, &signer_cert, MESSAGE, now.plus(1), "x").unwrap();
    ses::verify_signature(&signature, MESSAGE).unwrap();
    // openssl finds the parts itself: SES_Signature = { toSign, cert, algorithm, signature },
    // SESeal = { eSealInfo, cert, algorithm, signedValue }; each signature is checked over
    // the DER of the first part.
    let check = |der: &[u8], signer: &Sm2PublicKey| {
        let parts = top_level_elements(dir.path(), der);
        let (offset, header, length) = parts[0];
        let signed = &der[offset..offset + header + length];
        let (offset, header, length) = parts[3];
        let bits = &der[offset + header + 1..offset + header + length];
        let spki = sm2_spki(signer, Sm2KeyForm::EcPublicKey)
            .unwrap()
            .to_der()
            .unwrap();
        openssl_verifies(dir.path(), &spki, signed, bits)
    };
    assert!(
        check(&signature, &signer.public_key()),
        "the signer's signature"
    );
    assert!(check(&seal, &maker.public_key()), "the maker's signature");
    assert!(!check(&signature, &maker.public_key()));
}

/// The `Sig_structure` (RFC 9052 §4.4) of a COSE_Sign1's bytes, and its protected header,
/// payload and signature, read with a general CBOR library rather than Signet's COSE code.
fn sign1_parts(sign1: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
    use ciborium::Value;
    let value: Value = ciborium::from_reader(sign1).unwrap();
    let Value::Array(items) = value else {
        panic!("a COSE_Sign1 is an array");
    };
    let bytes = |v: &Value| v.as_bytes().cloned().expect("a byte string");
    let (protected, payload, signature) = (bytes(&items[0]), bytes(&items[2]), bytes(&items[3]));
    (
        sig_structure(&protected, &payload),
        protected,
        payload,
        signature,
    )
}

fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    use ciborium::Value;
    let structure = Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&structure, &mut out).unwrap();
    out
}

#[test]
fn an_sm2_seal_signature_is_checked_by_openssl_and_the_other_way_round() {
    use signet_protocol::cose::{Algorithm, Signed};
    use signet_protocol::keylog::{ALG_SM2_SM3, LogKey};
    use signet_protocol::session::SEAL_SIGNATURE_CONTENT_TYPE;
    let dir = tempfile::tempdir().unwrap();
    // Signet signs a seal signature with an SM2 seal; openssl verifies its COSE signature
    // (r ‖ s, re-encoded as DER) over the Sig_structure with SM3 and the default identifier.
    let seal = Sm2SecretKey::from_bytes(&[0x3c; 32]).unwrap();
    let payload = ("a seal signature's payload", 7u32);
    let signed = Signed::sign(payload, SEAL_SIGNATURE_CONTENT_TYPE, &seal).unwrap();
    assert_eq!(signed.algorithm(), Algorithm::Sm2Sm3);
    let (tbs, protected, payload_bytes, signature) = sign1_parts(signed.bytes());
    let header: ciborium::Value = ciborium::from_reader(protected.as_slice()).unwrap();
    let alg = header.as_map().unwrap()[0].1.as_integer().map(i128::from);
    assert_eq!(alg, Some(i128::from(ALG_SM2_SM3)));
    let der = Sm2Signature::from_slice(&signature).unwrap().to_der();
    let spki = sm2_spki(&seal.public_key(), Sm2KeyForm::EcPublicKey)
        .unwrap()
        .to_der()
        .unwrap();
    assert!(openssl_verifies(dir.path(), &spki, &tbs, &der));
    let mut other = tbs.clone();
    *other.last_mut().unwrap() ^= 1;
    assert!(!openssl_verifies(dir.path(), &spki, &other, &der));

    // openssl signs the Sig_structure of a seal signature naming its own SM2 key; Signet
    // reads it as an SM2 seal signature.
    let public = openssl_key(dir.path(), "seal.pem");
    let header = ciborium::Value::Map(vec![
        (1.into(), ALG_SM2_SM3.into()),
        (3.into(), SEAL_SIGNATURE_CONTENT_TYPE.into()),
        (4.into(), ciborium::Value::Bytes(public.as_bytes().to_vec())),
    ]);
    let mut protected = Vec::new();
    ciborium::into_writer(&header, &mut protected).unwrap();
    write(
        dir.path(),
        "tbs",
        &sig_structure(&protected, &payload_bytes),
    );
    pkeyutl_sign(dir.path(), "seal.pem", "tbs", "tbs.sig");
    let der = std::fs::read(dir.path().join("tbs.sig")).unwrap();
    let raw = Sm2Signature::from_der(&der).unwrap();
    let sign1 = |signature: &[u8]| {
        let value = ciborium::Value::Array(vec![
            ciborium::Value::Bytes(protected.clone()),
            ciborium::Value::Map(vec![]),
            ciborium::Value::Bytes(payload_bytes.clone()),
            ciborium::Value::Bytes(signature.to_vec()),
        ]);
        let mut out = Vec::new();
        ciborium::into_writer(&value, &mut out).unwrap();
        out
    };
    let limits = signet_protocol::codec::Limits::DEFAULT;
    let read = Signed::<(String, u32), LogKey>::decode(
        &sign1(raw.as_bytes()),
        SEAL_SIGNATURE_CONTENT_TYPE,
        &limits,
    )
    .unwrap();
    assert_eq!(read.signer(), &LogKey::Sm2(public));
    assert_eq!(read.payload().1, 7);
    let mut flipped = *raw.as_bytes();
    flipped[63] ^= 1;
    assert!(
        Signed::<(String, u32), LogKey>::decode(
            &sign1(&flipped),
            SEAL_SIGNATURE_CONTENT_TYPE,
            &limits
        )
        .is_err()
    );
}

/// A COSE_Sign1 of `protected`, `payload` and `signature`, written with a general CBOR
/// library.
fn sign1_of(protected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let value = ciborium::Value::Array(vec![
        ciborium::Value::Bytes(protected.to_vec()),
        ciborium::Value::Map(vec![]),
        ciborium::Value::Bytes(payload.to_vec()),
        ciborium::Value::Bytes(signature.to_vec()),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&value, &mut out).unwrap();
    out
}

/// The protected header naming SM2 and `key` for `content_type` (spec §3.3 rule 2).
fn sm2_header(content_type: &str, key: &Sm2PublicKey) -> Vec<u8> {
    use signet_protocol::keylog::ALG_SM2_SM3;
    let header = ciborium::Value::Map(vec![
        (1.into(), ALG_SM2_SM3.into()),
        (3.into(), content_type.into()),
        (4.into(), ciborium::Value::Bytes(key.as_bytes().to_vec())),
    ]);
    let mut protected = Vec::new();
    ciborium::into_writer(&header, &mut protected).unwrap();
    protected
}

#[test]
fn an_attestation_by_an_sm2_attest_key_is_checked_by_openssl() {
    use signet_protocol::attestation::{AssuranceLevel, Attestation};
    use signet_protocol::keylog::KeyDecl;
    use signet_protocol::testkit::TestParty;
    let dir = tempfile::tempdir().unwrap();
    let t0 = Timestamp::from_unix(1_800_000_000);
    let mut ca = TestParty::new("SM2 CA", t0);
    let supplier = TestParty::new("Supplier", t0);
    let attest = Sm2SecretKey::from_bytes(&[0x3d; 32]).unwrap();
    ca.log
        .add_key(&ca.root, KeyDecl::attest(attest.public_key()), t0)
        .unwrap();
    let signed = ca
        .verify_identity(&supplier, AssuranceLevel::High, t0)
        .payload()
        .clone()
        .issue(&attest, &ca.log)
        .unwrap();
    // openssl verifies the COSE signature over the Sig_structure, SM3 and the default
    // identifier, under the attest key the log declares.
    let (tbs, _, _, signature) = sign1_parts(signed.bytes());
    let der = Sm2Signature::from_slice(&signature).unwrap().to_der();
    let spki = sm2_spki(&attest.public_key(), Sm2KeyForm::EcPublicKey)
        .unwrap()
        .to_der()
        .unwrap();
    assert!(openssl_verifies(dir.path(), &spki, &tbs, &der));
    let mut other = tbs.clone();
    *other.last_mut().unwrap() ^= 1;
    assert!(!openssl_verifies(dir.path(), &spki, &other, &der));
    // And the attestation reads back with the issuer's authority.
    let read = Attestation::decode(signed.bytes()).unwrap();
    assert!(
        read.payload()
            .check_issuer_key(read.signer(), &ca.log)
            .is_ok()
    );
}

#[test]
fn an_intent_proof_by_an_sm2_person_key_is_checked_by_openssl_and_the_other_way_round() {
    use signet_protocol::Digest;
    use signet_protocol::cose::Signed;
    use signet_protocol::person::PersonKey;
    use signet_protocol::session::{
        INTENT_CONTENT_TYPE, IntentChallenge, IntentMethod, IntentProof, SessionId,
    };
    use signet_protocol::testkit::TestParty;
    let dir = tempfile::tempdir().unwrap();
    let t0 = Timestamp::from_unix(1_800_000_000);
    let party = TestParty::new("Supplier", t0);
    let challenge = IntentChallenge {
        session: SessionId::from_bytes([0x86; 32]),
        proposal: Digest::of(b"the proposal"),
        documents: vec![Digest::of(b"the contract")],
        signer: party.id(),
        seal: party.contract_seal.public_key().into(),
        method: IntentMethod::SoftwareKey,
        time: t0,
    };
    // Signet's SM2 person key signs; openssl verifies.
    let person = Sm2SecretKey::from_bytes(&[0x3e; 32]).unwrap();
    let signed = Signed::sign(challenge.clone(), INTENT_CONTENT_TYPE, &person).unwrap();
    let (tbs, _, payload, signature) = sign1_parts(signed.bytes());
    let der = Sm2Signature::from_slice(&signature).unwrap().to_der();
    let spki = sm2_spki(&person.public_key(), Sm2KeyForm::EcPublicKey)
        .unwrap()
        .to_der()
        .unwrap();
    assert!(openssl_verifies(dir.path(), &spki, &tbs, &der));

    // A person key openssl generated: openssl signs the proof's Sig_structure, Signet
    // verifies the proof and names that person.
    let public = openssl_key(dir.path(), "person.pem");
    let protected = sm2_header(INTENT_CONTENT_TYPE, &public);
    write(dir.path(), "tbs", &sig_structure(&protected, &payload));
    pkeyutl_sign(dir.path(), "person.pem", "tbs", "tbs.sig");
    let raw = Sm2Signature::from_der(&std::fs::read(dir.path().join("tbs.sig")).unwrap()).unwrap();
    let proof = IntentProof::decode(&sign1_of(&protected, &payload, raw.as_bytes())).unwrap();
    assert!(proof.check_method());
    assert_eq!(proof.person(), PersonKey::Sm2(public));
    assert_eq!(proof.challenge(), &challenge);
    let mut flipped = *raw.as_bytes();
    flipped[0] ^= 1;
    assert!(IntentProof::decode(&sign1_of(&protected, &payload, &flipped)).is_err());
    // The same signature under another person's key is no proof of theirs.
    let other = sm2_header(INTENT_CONTENT_TYPE, &person.public_key());
    assert!(IntentProof::decode(&sign1_of(&other, &payload, raw.as_bytes())).is_err());
}
