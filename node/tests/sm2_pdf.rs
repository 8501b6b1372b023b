//! National algorithms end to end (spec §8.2.4.1, §11.6): two firms whose SM2 PDF keys an
//! external SM2 CA certified, each with an electronic seal (`SESeal`) the CA made, seal a
//! contract PDF in a session between real nodes. Each seal is an SM2/SM3 detached PKCS #7
//! signature carrying a GB/T 38540 `SES_Signature` made by the sealing party's own node over
//! the same bytes. Signet verifies the bundle, the CMS and the seal signatures (the signer's
//! key a `pdf` key in its key log); the openssl CLI verifies the CMS (digest, signature over
//! the signed attributes, chain) and both SM2 signatures of each `SES_Signature`. Tampered
//! bytes, the wrong data and a signer the seal does not list are refused.
//!
//! The openssl checks are skipped, saying so, only when this openssl has no SM2 (CI installs
//! OpenSSL 3, which has).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use der::{Decode, Encode};
use signet_node::keyfile;
use signet_node::pdf::national::SignatureSuite;
use signet_node::service::config::{NodeConfig, Sm2PdfConfig};
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession, now};
use signet_protocol::Timestamp;
use signet_protocol::ses::{self, Picture, SealSpec};
use signet_protocol::session::{Algorithms, Role, SessionId};
use signet_protocol::sm2::{DEFAULT_DIST_ID, Sm2SecretKey};
use signet_protocol::testkit::test_uscc;
use signet_protocol::x509::Issuance;
use signet_protocol::x509::sm2::{Sm2KeyForm, sm2_certificate};
use support::{Node, create, start, until};

const DAY: u64 = 86_400;
const CA_NAME: &str = "CN=National SM2 CA,O=National SM2 CA,C=CN";

/// The external SM2 CA of this test: its key and self-signed certificate.
struct Sm2Ca {
    key: Sm2SecretKey,
    certificate: Vec<u8>,
    from: Timestamp,
}

impl Sm2Ca {
    fn new() -> Self {
        let key = Sm2SecretKey::from_bytes(&[0x41; 32]).unwrap();
        let from = Timestamp::from_unix(now().unix() - DAY);
        let certificate = sm2_certificate(
            &key,
            CA_NAME.parse().unwrap(),
            CA_NAME.parse().unwrap(),
            &key.public_key(),
            Sm2KeyForm::EcPublicKey,
            &Issuance {
                serial: 1,
                not_before: from,
                not_after: from.plus(3650 * DAY),
            },
            true,
        )
        .unwrap();
        Self {
            key,
            certificate,
            from,
        }
    }

    /// Certifies `key` for the firm `name` (its test USCC as serialNumber) and makes its
    /// seal, listing that certificate.
    fn certify(&self, name: &str, key: &Sm2SecretKey, serial: u128) -> (Vec<u8>, Vec<u8>) {
        let uscc = test_uscc(name);
        let subject = format!("CN={name},serialNumber={},O={name},C=CN", uscc.number());
        let certificate = sm2_certificate(
            &self.key,
            CA_NAME.parse().unwrap(),
            subject.parse().unwrap(),
            &key.public_key(),
            Sm2KeyForm::EcPublicKey,
            &Issuance {
                serial,
                not_before: self.from,
                not_after: self.from.plus(365 * DAY),
            },
            false,
        )
        .unwrap();
        let seal = ses::make_seal(
            &SealSpec {
                vid: "signet-test".into(),
                es_id: format!("seal-{serial}"),
                seal_type: 1,
                name: format!("{name} 合同专用章"),
                signer_certificates: vec![certificate.clone()],
                created: self.from,
                valid_from: self.from,
                valid_until: self.from.plus(365 * DAY),
                picture: Picture {
                    format: "SVG".into(),
                    data: b"<svg xmlns='http://www.w3.org/2000/svg'><circle r='20'/></svg>"
                        .to_vec(),
                    width_mm: 40,
                    height_mm: 40,
                },
            },
            &self.key,
            &self.certificate,
        )
        .unwrap();
        (certificate, seal)
    }
}

/// Gives the party in `dir` an SM2 PDF key, its certificate by `ca` and its seal
/// (`[pdf.sm2]`); returns the key.
fn configure_sm2(dir: &Path, name: &str, ca: &Sm2Ca, seed: u8, serial: u128) -> Sm2SecretKey {
    let key = Sm2SecretKey::from_bytes(&[seed; 32]).unwrap();
    let (certificate, seal) = ca.certify(name, &key, serial);
    std::fs::create_dir_all(dir.join("sm2")).unwrap();
    keyfile::write_sm2(&dir.join("keys/pdf-sm2.key"), &key, keyfile::Replace::No).unwrap();
    std::fs::write(dir.join("sm2/certificate.der"), &certificate).unwrap();
    std::fs::write(dir.join("sm2/ca.der"), &ca.certificate).unwrap();
    std::fs::write(dir.join("sm2/seal.der"), &seal).unwrap();
    let mut config = NodeConfig::load(dir).unwrap();
    config.pdf.sm2 = Some(Sm2PdfConfig {
        key: "keys/pdf-sm2.key".into(),
        certificate: "sm2/certificate.der".into(),
        chain: vec!["sm2/ca.der".into()],
        seal: Some("sm2/seal.der".into()),
    });
    config.save(dir).unwrap();
    key
}

fn sign(node: &Node, id: SessionId) -> Result<(), signet_node::service::ServiceError> {
    let key = keyfile::read(&node.delegate_key).unwrap();
    signet_node::person::sign_as(&node.service, id, &key)
}

/// `a` proposes that it and `b` sign the PDF `contract` titled `title` (each sealing it
/// where the proposal places seals), requiring `algorithms` (spec §8.2.5); both delegates
/// sign; returns the session and the sealed PDF once both parties hold the same one.
async fn seal_together(
    a: &Node,
    b: &Node,
    title: &str,
    contract: &[u8],
    algorithms: Option<Algorithms>,
) -> (SessionId, Vec<u8>) {
    let id = a
        .service
        .create_session(NewSession {
            title: title.into(),
            purpose: "procurement".into(),
            participants: [a, b]
                .iter()
                .map(|n| NewParticipant {
                    party: n.party(),
                    role: Role::Signer,
                    order: 0,
                })
                .collect(),
            documents: vec![NewDocument {
                name: "supply.pdf".into(),
                media_type: "application/pdf".into(),
                source: DocumentSource::Bytes(contract.to_vec()),
                pdf_seals: Some(vec![]),
            }],
            deadline_days: 30,
            algorithms,
            witnesses: vec![],
        })
        .unwrap();
    until("the proposal to reach the counterparty", || {
        b.service.session(id).is_ok()
    })
    .await;
    for node in [a, b] {
        until(&format!("{} to seal and sign", node.name), || {
            sign(node, id).is_ok()
        })
        .await;
    }
    let mut sealed = Vec::new();
    until("the sealed PDF at both parties", || {
        match (a.service.session_pdf(id, 0), b.service.session_pdf(id, 0)) {
            (Ok(x), Ok(y)) if x == y => {
                sealed = x;
                true
            }
            _ => false,
        }
    })
    .await;
    (id, sealed)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs the `signet` binary (against the API at `api`, with a read token, if given).
fn signet(api: Option<&str>, args: &[&str]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_signet"));
    command.args(args);
    if let Some(api) = api {
        command
            .env("SIGNET_API", format!("http://{api}"))
            .env("SIGNET_TOKEN", "read-token");
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_firms_seal_with_sm2_and_signet_and_openssl_verify_it() {
    let root = tempfile::tempdir().unwrap();
    let sm2_ca = Sm2Ca::new();
    let (v_dir, v_key) = create(root.path(), "Verifier", &[]);
    let verifier = start("Verifier", &v_dir, &v_key).await;
    let anchors = [(verifier.party(), "Verifier")];
    let mut nodes = Vec::new();
    let mut keys = Vec::new();
    for (i, name) in ["Brand", "Supplier"].into_iter().enumerate() {
        let (dir, delegate) = create(root.path(), name, &anchors);
        support::test_tokens(&dir);
        let seed = 0x51 + u8::try_from(i).unwrap();
        keys.push(configure_sm2(&dir, name, &sm2_ca, seed, 10 + i as u128));
        nodes.push(start(name, &dir, &delegate).await);
    }
    let [brand, supplier] = &nodes[..] else {
        unreachable!()
    };
    support::federate(&verifier, &[brand, supplier]).await;

    let contract =
        signet_node::pdf::sample::contract("Component supply (SM2)", &["Brand", "Supplier"], 1)
            .unwrap();
    let (id, sealed) =
        seal_together(brand, supplier, "Component supply (SM2)", &contract, None).await;

    // Signet: two SM2 seals, each intact, each carrying its signer's SES_Signature.
    assert!(sealed.starts_with(&contract));
    let seals = signet_node::pdf::verify::signatures(&sealed).unwrap();
    assert_eq!(seals.len(), 2);
    for (seal, key) in seals.iter().zip(&keys) {
        assert_eq!(seal.suite, Some(SignatureSuite::Sm2Sm3));
        assert!(
            seal.covers_revision && seal.digest_matches && seal.signature_valid,
            "{seal:?}"
        );
        assert!(seal.certificate_bound);
        let ses = seal.ses.as_ref().expect("an SES_Signature");
        let verified = ses.verified.as_ref().unwrap();
        assert_eq!(verified.signer_key, key.public_key());
        assert_eq!(verified.seal.maker_key, sm2_ca.key.public_key());
        assert!(ses.same_signer);
    }
    assert_eq!(
        seals[0].signer_uscc.as_deref(),
        Some(test_uscc("Brand").number())
    );

    // Exported beside the bundle and the PDF, by the CLI against the brand's API.
    let api = support::serve_api(brand).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bundle_path = d.join("bundle.signet");
    let pdf_path = d.join("supply.pdf");
    let (code, out) = signet(
        Some(&api),
        &[
            "export",
            &id.to_string(),
            "--out",
            bundle_path.to_str().unwrap(),
            "--pdf",
            pdf_path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let ses_paths = [d.join("supply.Signet1.ses"), d.join("supply.Signet2.ses")];
    for path in &ses_paths {
        assert!(path.exists(), "{} not written: {out}", path.display());
    }
    // The API lists the same seal signatures.
    let (status, _, body) = support::http(
        &api,
        "GET",
        &format!("/v1/sessions/{id}/ses?document=0"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed["signatures"].as_array().unwrap().len(), 2, "{body}");

    // `signet verify` of each seal signature: VALID with the CA and the bundle's key logs.
    let ca_path = write(d, "sm2-ca.der", &sm2_ca.certificate);
    for (path, node) in ses_paths.iter().zip([brand, supplier]) {
        let (code, out) = signet(
            None,
            &[
                "verify",
                path.to_str().unwrap(),
                "--document",
                pdf_path.to_str().unwrap(),
                "--ca",
                ca_path.to_str().unwrap(),
                "--bundle",
                bundle_path.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains(&format!(
                "VALID the signer's key was a pdf key of party {}",
                node.party()
            )),
            "{out}"
        );
    }
    // Over the wrong data: INVALID.
    let other = write(d, "other.txt", b"another contract");
    let (code, out) = signet(
        None,
        &[
            "verify",
            ses_paths[0].to_str().unwrap(),
            "--document",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("INVALID"), "{out}");
    // Without the bundle, the signer is not tied to a party: INDETERMINATE, not VALID.
    let (code, out) = signet(
        None,
        &[
            "verify",
            ses_paths[0].to_str().unwrap(),
            "--document",
            pdf_path.to_str().unwrap(),
            "--ca",
            ca_path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 3, "{out}");
    // A signer the seal does not list: the supplier applies the brand's seal.
    let brand_seal = std::fs::read(brand.dir.join("sm2/seal.der")).unwrap();
    let supplier_certificate = std::fs::read(supplier.dir.join("sm2/certificate.der")).unwrap();
    let forged = ses::sign(
        &brand_seal,
        &keys[1],
        &supplier_certificate,
        b"any data",
        now(),
        "forged",
    )
    .unwrap();
    let forged_path = write(d, "forged.ses", &forged);
    let data_path = write(d, "data", b"any data");
    let (code, out) = signet(
        None,
        &[
            "verify",
            forged_path.to_str().unwrap(),
            "--document",
            data_path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not list the signer"), "{out}");

    // `signet verify` of the PDF: the CMS checks hold, it names who can check it, and it
    // claims no PAdES level; with the bundle, each seal's revision is its signer's.
    let anchor = format!("{}=Verifier", verifier.party());
    let (code, out) = signet(
        None,
        &[
            "verify",
            pdf_path.to_str().unwrap(),
            "--ca",
            ca_path.to_str().unwrap(),
            "--bundle",
            bundle_path.to_str().unwrap(),
            "--anchor",
            &anchor,
        ],
    );
    assert!(!out.contains("INVALID"), "{out}");
    // No CRL of the SM2 CA is given: revocation is not shown, so INDETERMINATE.
    assert_eq!(code, 3, "{out}");
    assert_eq!(
        out.matches("sealed in the session (document 0)").count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("its SM2 key was a pdf key in").count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("algorithms: SM2 / SM3; checkable by Signet and the openssl CLI")
            .count(),
        2,
        "{out}"
    );
    assert_eq!(out.matches("not a PAdES signature").count(), 2, "{out}");
    assert!(!out.contains("PAdES level held"), "{out}");
    assert_eq!(
        out.matches("VALID the GB/T 38540 seal signature verifies")
            .count(),
        2,
        "{out}"
    );
    // A changed byte in the contract: INVALID.
    let mut tampered = std::fs::read(&pdf_path).unwrap();
    let at = tampered
        .windows(16)
        .position(|w| w == b"Component supply")
        .unwrap();
    tampered[at] = b'X';
    let tampered_path = write(d, "tampered.pdf", &tampered);
    let (code, out) = signet(
        None,
        &[
            "verify",
            tampered_path.to_str().unwrap(),
            "--ca",
            ca_path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{out}");

    // The bundle verifies in Signet (its documents are the original contract).
    let report = signet_protocol::bundle::verify_bundle(
        &std::fs::read(&bundle_path).unwrap(),
        &[&contract],
        &signet_protocol::trust::TrustPolicy::with_anchors(vec![
            signet_protocol::trust::TrustAnchor {
                party: verifier.party(),
                name: "Verifier".into(),
            },
        ]),
        now(),
    );
    let invalid: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.outcome == signet_protocol::bundle::Outcome::Invalid)
        .collect();
    assert!(invalid.is_empty(), "{invalid:?}");

    openssl_checks(d, &sealed, &sm2_ca.certificate);
}

/// Whether this openssl has SM2; says so when it has not (CI's OpenSSL 3 has).
fn openssl_has_sm2() -> bool {
    // A missing openssl is a broken setup (CI installs OpenSSL 3): fail, never skip.
    let listed = Command::new("openssl")
        .args(["list", "-public-key-algorithms"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (CI installs OpenSSL 3): {e}"));
    let has = String::from_utf8_lossy(&listed.stdout).contains("SM2");
    if !has {
        println!("SKIPPED the openssl checks: this openssl has no SM2 (CI's OpenSSL 3 has)");
    }
    has
}

fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// OpenSSL checks each seal: `cms -verify` the CMS structure and SM3 messageDigest over the
/// byte range (OpenSSL 3.0's `cms -verify` computes SM2's ZA without GM/T 0009's default
/// identifier, so the SM2 signatures are checked apart): `pkeyutl -verify` the SM2 signature
/// over the signed attributes and both signatures of the `SES_Signature`, `verify -vfyopt`
/// the signer's chain to the CA.
fn openssl_checks(d: &Path, pdf: &[u8], ca: &[u8]) {
    if !openssl_has_sm2() {
        return;
    }
    let distid = format!("distid:{DEFAULT_DIST_ID}");
    write(d, "ca.der", ca);
    let (ok, out) = openssl(
        d,
        &["x509", "-inform", "DER", "-in", "ca.der", "-out", "ca.pem"],
    );
    assert!(ok, "{out}");
    let pkey_verify = |key: &str, data: &str, signature: &str| {
        openssl(
            d,
            &[
                "pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin", "-digest", "sm3",
                "-pkeyopt", &distid, "-in", data, "-sigfile", signature,
            ],
        )
    };
    for seal in signet_node::pdf::verify::signatures(pdf).unwrap() {
        let [_, gap_start, gap_end, len] = seal.byte_range.unwrap().map(|n| n as usize);
        let contents = hex::decode(&pdf[gap_start + 1..gap_end - 1]).unwrap();
        let cms = der::Any::decode(&mut der::SliceReader::new(&contents).unwrap())
            .unwrap()
            .to_der()
            .unwrap();
        let data = [&pdf[..gap_start], &pdf[gap_end..gap_end + len]].concat();
        write(d, "sig.der", &cms);
        write(d, "data", &data);
        let cms_verifies = |content: &str| {
            openssl(
                d,
                &[
                    "cms",
                    "-verify",
                    "-noverify",
                    "-no_attr_verify",
                    "-binary",
                    "-inform",
                    "DER",
                    "-in",
                    "sig.der",
                    "-content",
                    content,
                    "-out",
                    "/dev/null",
                ],
            )
        };
        let (ok, out) = cms_verifies("data");
        assert!(ok, "openssl cms -verify of {}: {out}", seal.field_name);
        let mut changed = data.clone();
        changed[100] ^= 1;
        write(d, "changed", &changed);
        let (ok, _) = cms_verifies("changed");
        assert!(!ok, "openssl accepted changed bytes");
        // The signer's certificate chains to the CA.
        write(d, "signer.der", seal.signer_certificate.as_deref().unwrap());
        let (ok, out) = openssl(
            d,
            &[
                "x509",
                "-inform",
                "DER",
                "-in",
                "signer.der",
                "-out",
                "signer.pem",
            ],
        );
        assert!(ok, "{out}");
        let (ok, out) = openssl(
            d,
            &[
                "verify",
                "-vfyopt",
                &distid,
                "-CAfile",
                "ca.pem",
                "-purpose",
                "any",
                "signer.pem",
            ],
        );
        assert!(ok, "openssl verify of {}'s chain: {out}", seal.field_name);
        let (ok, out) = openssl(
            d,
            &[
                "x509",
                "-in",
                "signer.pem",
                "-pubkey",
                "-noout",
                "-out",
                "signer-pub.pem",
            ],
        );
        assert!(ok, "{out}");
        // The SM2 signature over the signed attributes: the CMS's signerInfo, read by the
        // `cms` crate (the SET OF attributes DER is what was signed).
        let content_info = cms::content_info::ContentInfo::from_der(&cms).unwrap();
        let signed_data: cms::signed_data::SignedData = content_info.content.decode_as().unwrap();
        let signer = signed_data.signer_infos.0.iter().next().unwrap();
        write(
            d,
            "attrs",
            &signer.signed_attrs.as_ref().unwrap().to_der().unwrap(),
        );
        write(d, "attrs.sig", signer.signature.as_bytes());
        let (ok, out) = pkey_verify("signer-pub.pem", "attrs", "attrs.sig");
        assert!(
            ok,
            "openssl: the signed attributes of {}: {out}",
            seal.field_name
        );
        // The SES_Signature: the signer's signature over TBS_Sign, the maker's over the
        // seal's SES_SealInfo.
        let ses_der = seal.ses.as_ref().unwrap().der.clone();
        let decoded = ses::asn1::SesSignature::from_der(&ses_der).unwrap();
        write(d, "tbs", &decoded.to_sign.to_der().unwrap());
        write(d, "tbs.sig", decoded.signature.as_bytes().unwrap());
        let (ok, out) = pkey_verify("signer-pub.pem", "tbs", "tbs.sig");
        assert!(
            ok,
            "openssl: the SES_Signature of {}: {out}",
            seal.field_name
        );
        write(
            d,
            "tbs-changed",
            &[&decoded.to_sign.to_der().unwrap()[..], b"x"].concat(),
        );
        assert!(!pkey_verify("signer-pub.pem", "tbs-changed", "tbs.sig").0);
        let (ok, out) = openssl(
            d,
            &[
                "x509",
                "-in",
                "ca.pem",
                "-pubkey",
                "-noout",
                "-out",
                "ca-pub.pem",
            ],
        );
        assert!(ok, "{out}");
        write(
            d,
            "info",
            &decoded.to_sign.eseal.e_seal_info.to_der().unwrap(),
        );
        write(
            d,
            "info.sig",
            decoded.to_sign.eseal.signed_value.as_bytes().unwrap(),
        );
        let (ok, out) = pkey_verify("ca-pub.pem", "info", "info.sig");
        assert!(ok, "openssl: the seal maker's signature: {out}");
    }
}

/// The verifier's own path: a verifier whose seals use national algorithms certifies the
/// SM2 pdf keys of the parties it verified with its own SM2 CA, each with an electronic seal
/// it made; the parties seal with them, and everything verifies in Signet and openssl.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_verifier_certifies_sm2_keys_with_seals_and_parties_seal_with_them() {
    use signet_node::service::config::PdfAlgorithm;
    let root = tempfile::tempdir().unwrap();
    let national = |dir: &Path| {
        let mut config = NodeConfig::load(dir).unwrap();
        config.pdf.algorithm = PdfAlgorithm::Sm2;
        config.save(dir).unwrap();
    };
    let (v_dir, v_key) = create(root.path(), "Verifier", &[]);
    national(&v_dir);
    let verifier = start("Verifier", &v_dir, &v_key).await;
    let anchors = [(verifier.party(), "Verifier")];
    let mut nodes = Vec::new();
    for name in ["Brand", "Supplier"] {
        let (dir, delegate) = create(root.path(), name, &anchors);
        national(&dir);
        nodes.push(start(name, &dir, &delegate).await);
    }
    let [brand, supplier] = &nodes[..] else {
        unreachable!()
    };
    support::federate(&verifier, &[brand, supplier]).await;
    let contract =
        signet_node::pdf::sample::contract("Verifier-certified SM2", &["Brand", "Supplier"], 1)
            .unwrap();
    let (_, sealed) =
        seal_together(brand, supplier, "Verifier-certified SM2", &contract, None).await;
    let ca = verifier.service.pdf_sm2_ca_certificate().unwrap();
    // Relying parties fetch it as they fetch the ESP256 one: public, over the API.
    let api = support::serve_api(&verifier).await;
    let (status, _, _) = support::http(
        &api,
        "GET",
        "/v1/pdf/ca-certificate?algorithm=sm2",
        None,
        "",
    )
    .await;
    assert_eq!(status, 200);
    let dir = tempfile::tempdir().unwrap();
    let fetched = dir.path().join("sm2-ca.der");
    let (code, out) = signet(
        Some(&api),
        &[
            "pdf",
            "ca-certificate",
            "--sm2",
            "--out",
            fetched.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read(&fetched).unwrap(), ca);
    let ca_key = signet_protocol::x509::sm2::certificate_sm2_key(&ca).unwrap();
    let seals = signet_node::pdf::verify::signatures(&sealed).unwrap();
    assert_eq!(seals.len(), 2);
    for (seal, name) in seals.iter().zip(["Brand", "Supplier"]) {
        assert_eq!(seal.suite, Some(SignatureSuite::Sm2Sm3));
        assert!(
            seal.digest_matches && seal.signature_valid && seal.certificate_bound,
            "{seal:?}"
        );
        assert_eq!(seal.signer_legal_name.as_deref(), Some(name));
        assert_eq!(seal.signer_uscc.as_deref(), Some(test_uscc(name).number()));
        let ses = seal.ses.as_ref().expect("an SES_Signature");
        let verified = ses.verified.as_ref().unwrap();
        assert_eq!(
            verified.seal.maker_key, ca_key,
            "the verifier made the seal"
        );
        assert_eq!(verified.seal.name, name);
        assert!(ses.same_signer);
    }
    let assessed =
        signet_node::pdf::assess::assess(&sealed, std::slice::from_ref(&ca), &[], now()).unwrap();
    for a in &assessed {
        let not_valid: Vec<&str> = a
            .checks
            .iter()
            .filter(|(o, _)| *o != signet_protocol::bundle::Outcome::Valid)
            .map(|(_, what)| what.as_str())
            .collect();
        // Only revocation is not shown: the verifier serves no SM2 CRL.
        assert_eq!(
            not_valid,
            ["revocation status not shown: no current CRL of the CA given (--crl)"]
        );
    }
    openssl_checks(dir.path(), &sealed, &ca);
}

/// The CA key and certificate (DER) of the openssl CA in `dir`, and an electronic seal it
/// makes for the certificate `<stem>.pem`, written to `<stem>.seal`.
fn openssl_seal(dir: &Path, stem: &str, name: &str) -> (Sm2SecretKey, Vec<u8>) {
    use signet_node::certificate::{CertificateSecret, read_chain};
    let CertificateSecret::Sm2(maker) =
        CertificateSecret::parse(&std::fs::read(dir.join("ca.key")).unwrap()).unwrap()
    else {
        panic!("an SM2 CA key");
    };
    let ca = read_chain(&std::fs::read(dir.join("ca.pem")).unwrap())
        .unwrap()
        .remove(0);
    let certificate = read_chain(&std::fs::read(dir.join(format!("{stem}.pem"))).unwrap())
        .unwrap()
        .remove(0);
    let from = Timestamp::from_unix(now().unix() - DAY);
    let seal = ses::make_seal(
        &SealSpec {
            vid: "signet-test".into(),
            es_id: format!("{stem}-seal"),
            seal_type: 1,
            name: format!("{name} 合同专用章"),
            signer_certificates: vec![certificate],
            created: from,
            valid_from: from,
            valid_until: from.plus(20 * DAY),
            picture: Picture {
                format: "SVG".into(),
                data: b"<svg xmlns='http://www.w3.org/2000/svg'><circle r='20'/></svg>".to_vec(),
                width_mm: 40,
                height_mm: 40,
            },
        },
        &maker,
        &ca,
    )
    .unwrap();
    std::fs::write(dir.join(format!("{stem}.seal")), seal).unwrap();
    (maker, ca)
}

/// Issue #16's whole case: two parties whose identities rest on certificates an openssl SM2
/// CA issued (CFCA-style subjects), created with `signet init --certificate
/// --certificate-seal --seal-algorithm sm2` and trusting each other on the CA's root and CRL
/// alone, sign a sealed PDF through real nodes. Their seal signatures are SM2, each PDF seal
/// is made by the key the CA certified and carries an `SES_Signature` under the CA's seal;
/// the bundle is VALID offline with the CA's root and CRL; openssl checks the CMS, the SES
/// signatures and the certificate chains.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parties_certified_by_an_sm2_ca_seal_with_sm2_end_to_end() {
    use signet_protocol::bundle::{Outcome, verify_bundle_with};
    use support::openssl;
    if !openssl_has_sm2() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let ca_dir = r.join("ca");
    std::fs::create_dir(&ca_dir).unwrap();
    openssl::ca(&ca_dir, true);
    let firms = [("甲方有限公司", "a", "0x41"), ("乙方有限公司", "b", "0x42")];
    let mut nodes = Vec::new();
    let mut ca_der = Vec::new();
    for (name, stem, serial) in firms {
        let uscc = test_uscc(name);
        openssl::issue(&ca_dir, true, stem, name, uscc.number(), serial);
        let (_, ca) = openssl_seal(&ca_dir, stem, name);
        ca_der = ca;
        let dir = r.join(stem);
        let delegate = r.join(format!("{stem}-delegate.key"));
        let file = |f: String| ca_dir.join(f).to_str().unwrap().to_string();
        let (code, out) = signet(
            None,
            &[
                "init",
                "--dir",
                dir.to_str().unwrap(),
                "--certificate",
                &file(format!("{stem}.pem")),
                "--certificate-key",
                &file(format!("{stem}.key")),
                "--certificate-seal",
                &file(format!("{stem}.seal")),
                "--seal-algorithm",
                "sm2",
                "--delegate-key",
                delegate.to_str().unwrap(),
                "--next-root-key",
                r.join(format!("{stem}-next-root.key")).to_str().unwrap(),
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--api",
                "127.0.0.1:0",
            ],
        );
        assert_eq!(code, 0, "{out}");
        for args in [
            vec!["ca", "add", "--name", "Test CA", &file("ca.pem".into())],
            vec!["crl", "add", &file("ca.crl".into())],
        ] {
            let mut all = vec!["policy", args[0], args[1], "--dir", dir.to_str().unwrap()];
            all.extend(&args[2..]);
            let (code, out) = signet(None, &all);
            assert_eq!(code, 0, "{out}");
        }
        nodes.push(start(name, &dir, &delegate).await);
    }
    let [a, b] = &nodes[..] else { unreachable!() };
    a.service.add_peer(&b.address).await.unwrap();
    b.service.add_peer(&a.address).await.unwrap();
    for (node, other) in [(a, b), (b, a)] {
        until("each trusts the other on its certificate", || {
            node.service.party_names(&[other.party()]).unwrap()[0].basis == "certificate"
        })
        .await;
    }

    let contract = signet_node::pdf::sample::contract(
        "Component supply (SM2 certificates)",
        &["甲方有限公司", "乙方有限公司"],
        1,
    )
    .unwrap();
    // Both parties' seals and PDF keys are SM2: the session requires national algorithms
    // (spec §8.2.5), and each node seals its PDF with SM2/SM3 as the requirement asks.
    let (id, sealed) = seal_together(
        a,
        b,
        "Component supply",
        &contract,
        Some(Algorithms::National),
    )
    .await;
    assert_eq!(
        b.service.session(id).unwrap().algorithms.as_deref(),
        Some("national")
    );
    // Each PDF seal is SM2 by the key the CA certified, with the CA's seal's SES_Signature.
    let seals = signet_node::pdf::verify::signatures(&sealed).unwrap();
    assert_eq!(seals.len(), 2);
    for (seal, (_, stem, _)) in seals.iter().zip(firms) {
        assert_eq!(seal.suite, Some(SignatureSuite::Sm2Sm3));
        assert!(seal.digest_matches && seal.signature_valid, "{seal:?}");
        let certificate = signet_node::certificate::read_chain(
            &std::fs::read(ca_dir.join(format!("{stem}.pem"))).unwrap(),
        )
        .unwrap()
        .remove(0);
        assert_eq!(seal.signer_certificate.as_deref(), Some(&certificate[..]));
        let ses = seal.ses.as_ref().expect("an SES_Signature");
        assert!(ses.verified.is_ok() && ses.same_signer, "{ses:?}");
    }

    // The bundle: VALID offline under a policy with only the CA's root and its CRL, and
    // both seal signatures in it are SM2.
    until("the session is completed at A", || {
        a.service.session(id).unwrap().status == "completed"
    })
    .await;
    let bundle = a.service.export_bundle(id).unwrap();
    let policy = signet_protocol::trust::TrustPolicy {
        revocation_freshness: None,
        ca_roots: vec![signet_protocol::trust::CaRoot {
            name: "Test CA".into(),
            certificate: ca_der.clone(),
        }],
        ..signet_protocol::trust::TrustPolicy::with_anchors(vec![])
    };
    let crl = std::fs::read(ca_dir.join("ca.crl")).unwrap();
    let crl = signet_node::certificate::pem_blocks(&crl, "X509 CRL").remove(0);
    let report = verify_bundle_with(&bundle, &[&contract], &[&crl], &policy, now());
    assert_eq!(report.outcome, Outcome::Valid, "{report:?}");
    assert_eq!(
        report
            .checks
            .iter()
            .filter(|c| c.name == "signature.algorithms" && c.outcome == Outcome::Valid)
            .count(),
        2,
        "{report:?}"
    );
    let without_crl = verify_bundle_with(&bundle, &[&contract], &[], &policy, now());
    assert_eq!(without_crl.outcome, Outcome::Indeterminate);
    // The same with `signet verify`: a policy file naming the CA root, and its CRL.
    use base64::Engine as _;
    let policy_file = write(
        r,
        "policy.toml",
        format!(
            "revocation_freshness_days = 0\n[[ca_roots]]\nname = \"Test CA\"\ncertificate = \"{}\"\n",
            base64::engine::general_purpose::STANDARD.encode(&ca_der)
        )
        .as_bytes(),
    );
    let bundle_file = write(r, "supply.signet", &bundle);
    let contract_file = write(r, "supply.pdf", &contract);
    let crl_file = ca_dir.join("ca.crl");
    let verify = |crl: bool| {
        let mut args = vec![
            "verify",
            bundle_file.to_str().unwrap(),
            "--document",
            contract_file.to_str().unwrap(),
            "--policy",
            policy_file.to_str().unwrap(),
        ];
        if crl {
            args.extend(["--crl", crl_file.to_str().unwrap()]);
        }
        signet(None, &args)
    };
    let (code, out) = verify(true);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("identity from CA certificate"), "{out}");
    let (code, out) = verify(false);
    assert_eq!(code, 3, "{out}");
    let algorithms: Vec<_> = support::signature_records(&bundle)
        .iter()
        .map(|r| r.seal_signature.algorithm())
        .collect();
    assert_eq!(
        algorithms,
        vec![signet_protocol::cose::Algorithm::Sm2Sm3; 2]
    );

    openssl_checks(r, &sealed, &ca_der);
}
