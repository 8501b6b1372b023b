//! A contract's PDF sealed in the session (spec §8.2.4): three firms' nodes, a CA and a
//! witness on loopback. Every signer seals the revision the signer before it made, where the
//! proposal placed its seal; each seal signature names the revision it sealed; the file the
//! initiator ends up with validates in pyHanko and pdfsig, and agrees with the bundle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use signet_node::keyfile;
use signet_node::service::config::NodeConfig;
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession, ServiceError};
use signet_protocol::Digest;
use signet_protocol::party::PartyId;
use signet_protocol::session::{Role, SealPlacement, SessionId};
use support::validators::{pdfsig_trusting, pyhanko, qpdf_check, tool_available};
use support::{Node, create, create_witness, start, until};

fn place(signer: PartyId, x: u32) -> SealPlacement {
    SealPlacement {
        signer,
        page: Some(2),
        x,
        y: 80,
        width: 140,
        height: 140,
    }
}

fn sign(node: &Node, id: SessionId) -> Result<(), ServiceError> {
    let key = keyfile::read(&node.delegate_key).unwrap();
    signet_node::person::sign_as(&node.service, id, &key)
}

/// The revisions a PDF's seals end: the bytes up to the end of each seal's signed range.
fn revision_digests(pdf: &[u8]) -> Vec<Digest> {
    signet_node::pdf::verify::signatures(pdf)
        .unwrap()
        .iter()
        .map(|s| {
            let [_, _, start, len] = s.byte_range.unwrap();
            Digest::of(&pdf[..usize::try_from(start + len).unwrap()])
        })
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_firms_seal_the_pdf_in_the_session_and_validators_accept_it() {
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "PDF CA", &[]);
    // The CA serves its CRL on its API, and names that URL in the certificates it issues.
    let ca_api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = NodeConfig::load(&ca_dir).unwrap();
    config.pdf.crl_url = Some(format!(
        "http://{}/v1/pdf/crl",
        ca_api.local_addr().unwrap()
    ));
    config.save(&ca_dir).unwrap();
    let ca = start("PDF CA", &ca_dir, &ca_key).await;
    tokio::spawn(signet_node::api::serve(
        ca.service.clone(),
        ca_api,
        std::future::pending(),
    ));
    let anchors = [(ca.party(), "PDF CA")];
    let mut nodes = Vec::new();
    for name in ["Brand", "Tier One", "Tier Two"] {
        let (dir, key) = create(root.path(), name, &anchors);
        support::test_tokens(&dir);
        if name == "Tier Two" {
            // Tier Two registered an image of its seal; the others' are drawn.
            let image = root.path().join("tier-two-seal.png");
            std::fs::write(&image, support::fixtures::seal_png()).unwrap();
            let mut config = NodeConfig::load(&dir).unwrap();
            config.pdf.seal_image = Some(image);
            config.save(&dir).unwrap();
        }
        nodes.push(start(name, &dir, &key).await);
    }
    let (w_dir, w_key) = create_witness(root.path(), "Witness", &anchors);
    let witness = start("Witness", &w_dir, &w_key).await;
    let everyone: Vec<&Node> = nodes.iter().chain([&witness]).collect();
    support::federate(&ca, &everyone).await;
    let [brand, tier1, tier2] = &nodes[..] else {
        unreachable!()
    };

    let contract = signet_node::pdf::sample::contract(
        "Tiered component agreement",
        &["Brand", "Tier One", "Tier Two"],
        2,
    )
    .unwrap();
    // Brand and Tier One form one routing group (sealed in listed order), Tier Two follows;
    // Tier Two's seal goes where it is not placed (its default slot).
    let id = brand
        .service
        .create_session(NewSession {
            title: "Tiered component agreement".into(),
            purpose: "procurement".into(),
            participants: vec![
                NewParticipant {
                    party: brand.party(),
                    role: Role::Signer,
                    order: 0,
                },
                NewParticipant {
                    party: tier1.party(),
                    role: Role::Signer,
                    order: 0,
                },
                NewParticipant {
                    party: tier2.party(),
                    role: Role::Signer,
                    order: 1,
                },
            ],
            documents: vec![NewDocument {
                name: "agreement.pdf".into(),
                media_type: "application/pdf".into(),
                source: DocumentSource::Bytes(contract.clone()),
                pdf_seals: Some(vec![place(brand.party(), 60), place(tier1.party(), 240)]),
            }],
            deadline_days: 30,
            algorithms: None,
            witnesses: vec![witness.party()],
        })
        .unwrap();
    until("the proposal to reach Tier One", || {
        tier1.service.session(id).is_ok()
    })
    .await;
    // Tier One is after Brand in sealing order: not its turn yet.
    assert!(sign(tier1, id).is_err());
    for node in [brand, tier1, tier2] {
        until(&format!("{} to seal and sign", node.name), || {
            sign(node, id).is_ok()
        })
        .await;
    }
    until("completion everywhere", || {
        [brand, tier1, tier2]
            .iter()
            .all(|n| n.service.session(id).is_ok_and(|s| s.status == "completed"))
    })
    .await;
    let mut sealed = Vec::new();
    until("the last revision to reach every party", || {
        let all: Vec<Result<Vec<u8>, ServiceError>> = [brand, tier1, tier2]
            .iter()
            .map(|n| n.service.session_pdf(id, 0))
            .collect();
        match &all[..] {
            [Ok(a), Ok(b), Ok(c)] if a == b && b == c => {
                sealed = a.clone();
                true
            }
            _ => false,
        }
    })
    .await;

    // The file: the contract, then one intact increment per signer, in sealing order.
    assert!(sealed.starts_with(&contract));
    let seals = signet_node::pdf::verify::signatures(&sealed).unwrap();
    let names: Vec<&str> = seals
        .iter()
        .map(|s| s.signer_legal_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["Brand", "Tier One", "Tier Two"]);
    assert!(
        seals
            .iter()
            .all(|s| s.digest_matches && s.signature_valid && s.covers_revision)
    );
    // The seal signatures name exactly the revisions the file's seals end.
    let bundle = brand.service.export_bundle(id).unwrap();
    let report = signet_protocol::bundle::verify_bundle(
        &bundle,
        &[&contract],
        &brand_policy(&ca),
        signet_node::service::now(),
    );
    let named: Vec<Digest> = [brand, tier1, tier2]
        .iter()
        .map(|n| {
            let party = report
                .parties
                .iter()
                .find(|p| p.party == n.party())
                .unwrap();
            let by = party.signed.as_ref().expect("signed");
            assert_eq!(by.pdf.len(), 1);
            by.pdf[0].sealed
        })
        .collect();
    assert_eq!(revision_digests(&sealed), named);

    // Tier Two's seal shows its registered image (an image XObject with its soft mask).
    assert!(
        has_image_appearance(&sealed, "Signet3"),
        "Tier Two's seal draws its image"
    );
    assert!(!has_image_appearance(&sealed, "Signet1"));
    // Where the proposal placed them: page 2 (of 2), the placed rectangles.
    let page2 = sealed_widget_rects(&sealed);
    assert!(page2.contains(&[60.0, 80.0, 200.0, 220.0]), "{page2:?}");
    assert!(page2.contains(&[240.0, 80.0, 380.0, 220.0]), "{page2:?}");

    // Validators nobody here wrote, with the CA's certificate as the trust root.
    let dir = tempfile::tempdir().unwrap();
    let pdf_path = write(dir.path(), "sealed.pdf", &sealed);
    let ca_path = write(
        dir.path(),
        "ca.der",
        &ca.service.pdf_ca_certificate().unwrap(),
    );
    if tool_available("pyhanko", "--version") {
        let (ok, text) = pyhanko(&pdf_path, &ca_path);
        println!("pyhanko:\n{text}");
        assert!(ok, "{text}");
        assert_eq!(
            text.matches("The signature is judged VALID.").count(),
            3,
            "{text}"
        );
        assert_eq!(
            text.matches("The signer's certificate is trusted.").count(),
            3,
            "{text}"
        );
    }
    if tool_available("pdfsig", "-v") {
        let text = pdfsig_trusting(dir.path(), &ca_path, &pdf_path);
        println!("pdfsig:\n{text}");
        assert_eq!(
            text.matches("Signature Validation: Signature is Valid.")
                .count(),
            3,
            "{text}"
        );
        if std::process::Command::new("certutil")
            .arg("-H")
            .output()
            .is_ok()
        {
            assert_eq!(
                text.matches("Certificate Validation: Certificate is Trusted.")
                    .count(),
                3,
                "{text}"
            );
        }
    }
    if tool_available("qpdf", "--version") {
        let (ok, text) = qpdf_check(&pdf_path);
        assert!(ok, "{text}");
    }

    // Each party's evidence, cosigned by the witness, reaches the brand: the bundle's
    // evidence is then complete.
    for n in [brand, tier1, tier2] {
        n.service
            .share_witnessed_evidence(id, witness.party())
            .await
            .unwrap();
    }
    until("every party's evidence at the brand", || {
        brand
            .service
            .session(id)
            .is_ok_and(|s| s.evidence_from.len() == 3)
    })
    .await;

    // After a restart (sessions rebuilt from their journals), the same file and revisions.
    let tier_addresses = [tier1.address.clone(), tier2.address.clone()];
    let (dir2, key2) = nodes.remove(0).stop().await;
    let brand = start("Brand", &dir2, &key2).await;
    // Its peers, as bootstrap addresses would give them (these nodes have none configured).
    for peer in [
        &ca.address,
        &tier_addresses[0],
        &tier_addresses[1],
        &witness.address,
    ] {
        brand.service.add_peer(peer).await.unwrap();
    }
    assert_eq!(brand.service.session_pdf(id, 0).unwrap(), sealed);

    // A legal officer's path: `signet export --pdf` and `--out`, then `signet verify` of the
    // PDF against the CA and the bundle (each seal's revision is the one its signer sealed).
    let api = support::serve_api(&brand).await;
    let out_pdf = dir.path().join("exported.pdf");
    let out_bundle = dir.path().join("exported.bundle");
    let exported = signet(
        &api,
        &[
            "export",
            &id.to_string(),
            "--pdf",
            out_pdf.to_str().unwrap(),
            "--out",
            out_bundle.to_str().unwrap(),
        ],
    );
    assert!(exported.status.success(), "{exported:?}");
    let exported_pdf = std::fs::read(&out_pdf).unwrap();
    assert!(exported_pdf.starts_with(&sealed));
    // B-LT: the node fetched the CA's CRL from the certificates' distribution point and
    // appended it with the certificates, as validation data after the last seal.
    let dss = signet_node::pdf::ltv::document_security_store(&exported_pdf).unwrap();
    assert!(
        !dss.crls.is_empty() && !dss.certificates.is_empty(),
        "{dss:?}"
    );
    if tool_available("pyhanko", "--version") {
        let (ok, text) = support::validators::run(
            "pyhanko",
            &[
                "sign",
                "adesverify",
                "--pretty-print",
                "--trust",
                ca_path.to_str().unwrap(),
                "--trust-replace",
                out_pdf.to_str().unwrap(),
            ],
        );
        println!("pyhanko adesverify:\n{text}");
        assert!(ok, "{text}");
    }
    let verified = signet(
        &api,
        &[
            "verify",
            out_pdf.to_str().unwrap(),
            "--ca",
            ca_path.to_str().unwrap(),
            "--bundle",
            out_bundle.to_str().unwrap(),
            "--anchor",
            &format!("{}=PDF CA", ca.party()),
        ],
    );
    let text = String::from_utf8_lossy(&verified.stdout);
    println!("signet verify:\n{text}");
    assert_eq!(text.matches("is the one").count(), 3, "{text}");
    assert!(!text.contains("INVALID"), "{text}");
    assert!(!text.contains("changed after its last seal"), "{text}");
    assert!(text.contains("outcome: VALID"), "{text}");
    // Each seal time-stamped by the session's witness (B-T), the CA's CRL in the file
    // (B-LT), the witness's document time-stamp over it all (B-LTA).
    assert_eq!(
        text.matches("time-stamped by Witness, whose TSA certificate chains to the given CA")
            .count(),
        3,
        "{text}"
    );
    assert_eq!(text.matches("PAdES level held: B-LTA").count(), 3, "{text}");
    assert!(
        text.contains("VALID SignetArchive: document time-stamp"),
        "{text}"
    );
}

/// Runs the `signet` binary against the API at `api` with a read token.
fn signet(api: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(args)
        .env("SIGNET_API", format!("http://{api}"))
        .env("SIGNET_TOKEN", "read-token")
        .output()
        .unwrap()
}

/// The rectangles of the signature widgets of a PDF's last page.
fn sealed_widget_rects(pdf: &[u8]) -> Vec<[f32; 4]> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages = doc.get_pages();
    let last = *pages.values().last().unwrap();
    let page = doc.get_dictionary(last).unwrap();
    let Ok(annots) = page
        .get(b"Annots")
        .and_then(|a| doc.dereference(a).map(|(_, o)| o))
    else {
        return Vec::new();
    };
    annots
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| doc.dereference(a).ok()?.1.as_dict().ok().cloned())
        .filter_map(|d| {
            let rect = d.get(b"Rect").ok()?.as_array().ok()?;
            let n: Vec<f32> = rect.iter().filter_map(|v| v.as_float().ok()).collect();
            (n.len() == 4).then(|| [n[0], n[1], n[2], n[3]])
        })
        .collect()
}

/// Whether the widget of field `name` has an appearance that draws an image XObject.
fn has_image_appearance(pdf: &[u8], name: &str) -> bool {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.objects.values().any(|o| {
        let Ok(d) = o.as_dict() else { return false };
        let named = d
            .get(b"T")
            .ok()
            .and_then(|t| t.as_str().ok())
            .is_some_and(|t| t == name.as_bytes());
        let normal = d
            .get(b"AP")
            .ok()
            .and_then(|ap| doc.dereference(ap).ok())
            .and_then(|(_, ap)| ap.as_dict().ok())
            .and_then(|ap| ap.get(b"N").ok())
            .and_then(|n| doc.dereference(n).ok())
            .and_then(|(_, n)| n.as_stream().ok().cloned());
        named
            && normal.is_some_and(|stream| {
                let xobjects = stream
                    .dict
                    .get(b"Resources")
                    .ok()
                    .and_then(|r| doc.dereference(r).ok())
                    .and_then(|(_, r)| r.as_dict().ok())
                    .and_then(|r| r.get(b"XObject").ok())
                    .and_then(|x| doc.dereference(x).ok())
                    .and_then(|(_, x)| x.as_dict().ok());
                xobjects.is_some_and(|x| {
                    x.iter().any(|(_, v)| {
                        doc.dereference(v)
                            .ok()
                            .and_then(|(_, o)| o.as_stream().ok())
                            .is_some_and(|s| {
                                s.dict.get(b"Subtype").and_then(|t| t.as_name()).ok()
                                    == Some(b"Image")
                            })
                    })
                })
            })
    })
}

/// A verifier's policy: the CA as the only anchor.
fn brand_policy(ca: &Node) -> signet_protocol::trust::TrustPolicy {
    signet_protocol::trust::TrustPolicy::with_anchors(vec![signet_protocol::trust::TrustAnchor {
        party: ca.party(),
        name: "PDF CA".into(),
    }])
}
