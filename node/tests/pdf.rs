//! PAdES seals checked by validators that are not ours: pyHanko, poppler's `pdfsig` and
//! `qpdf`. Two enterprises seal a three-page contract in turn (B-T, time-stamped by the
//! in-process TSA), and every tool must agree that both signatures are intact and valid, that
//! the first survives the second's incremental update, and that one changed byte breaks them.
//!
//! A missing tool skips its checks with a printed reason; with `SIGNET_REQUIRE_PDF_TOOLS=1`
//! (as CI sets) it fails instead. With `SIGNET_SCREENSHOTS=<dir>`, the sealed page is rendered
//! there as a PNG by `pdftoppm`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::validators::{pdfsig_trusting, pyhanko as pyhanko_reports, run, tool_available};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::Decode;
use lopdf::{Dictionary, Document, Object, StringFormat};
use p256::ecdsa::SigningKey;
use signet_node::pdf::appearance::{Appearance, RoundSeal, SealImage};
use signet_node::pdf::assess::{self, PadesLevel};
use signet_node::pdf::ltv::{self, ValidationData};
use signet_node::pdf::sign::{self, PdfSigner, Placement, SealRequest, TimeStampError};
use signet_node::pdf::x509::{self, CertifiedKey, Issuance, SealSubject};
use signet_node::pdf::{PdfError, tsa, verify};
use signet_protocol::Timestamp;
use signet_protocol::bundle::Outcome;

const BRAND: (&str, &str) = ("Brand A Co., Ltd.", "91350100M000100Y43");
const SUPPLIER: (&str, &str) = ("Supplier X Manufacturing Co., Ltd.", "91110000600037341L");

/// 2025-01-01 to 2045-01-01: valid both at the fixed signing time and whenever the
/// validators run (they check at the current time).
fn issuance(serial: u128) -> Issuance {
    Issuance {
        serial,
        not_before: Timestamp::from_unix(1_735_689_600),
        not_after: Timestamp::from_unix(2_366_841_600),
    }
}

/// 2026-06-01T10:00:00Z, and a few minutes later for the second signer.
fn signing_time(signer: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_780_308_000 + signer * 300)
}

struct Party {
    key: SigningKey,
    certificate: Vec<u8>,
    legal_name: &'static str,
    uscc: &'static str,
}

struct Pki {
    ca_key: SigningKey,
    ca_der: Vec<u8>,
    tsa_key: SigningKey,
    tsa_der: Vec<u8>,
    parties: Vec<Party>,
}

fn pki() -> Pki {
    let ca_key = SigningKey::from_slice(&[11; 32]).unwrap();
    let ca_der = x509::ca_certificate("Signet Test Root CA", None, &ca_key, &issuance(1)).unwrap();
    let ca = CertifiedKey::new(&ca_key, &ca_der).unwrap();
    let tsa_key = SigningKey::from_slice(&[12; 32]).unwrap();
    let tsa_der = x509::tsa_certificate(
        &ca,
        "Signet Witness TSA",
        tsa_key.verifying_key(),
        &issuance(2),
    )
    .unwrap();
    let parties = [BRAND, SUPPLIER]
        .into_iter()
        .zip([13u8, 14])
        .zip([3u128, 4])
        .map(|(((legal_name, uscc), seed), serial)| {
            let key = SigningKey::from_slice(&[seed; 32]).unwrap();
            let subject = SealSubject::new(legal_name, uscc).unwrap();
            let certificate = x509::issue_seal_certificate(
                &ca,
                &subject,
                key.verifying_key(),
                &issuance(serial),
                None,
                Some([seed; 16]),
            )
            .unwrap();
            Party {
                key,
                certificate,
                legal_name,
                uscc,
            }
        })
        .collect();
    Pki {
        ca_key,
        ca_der,
        tsa_key,
        tsa_der,
        parties,
    }
}

/// A three-page contract written by lopdf, text in Helvetica.
fn contract_pdf() -> Vec<u8> {
    signet_node::pdf::sample::contract("Supply Contract", &[BRAND.0, SUPPLIER.0], 3).unwrap()
}

/// Party `index` seals `pdf` in slot `index` of 2 on the last page, B-T.
fn seal(pdf: &[u8], pki: &Pki, index: usize, serial: u128) -> Result<Vec<u8>, PdfError> {
    let party = &pki.parties[index];
    let appearance = Appearance::RoundSeal(RoundSeal::new(party.legal_name, party.uscc, None)?);
    seal_with(pdf, pki, party, &appearance, (index as u32, 2), serial)
}

/// `party` seals `pdf` with `appearance` in `slot` (index, count) on the last page, B-T.
fn seal_with(
    pdf: &[u8],
    pki: &Pki,
    party: &Party,
    appearance: &Appearance,
    slot: (u32, u32),
    serial: u128,
) -> Result<Vec<u8>, PdfError> {
    let signer = PdfSigner::new(
        &party.key,
        &party.certificate,
        std::slice::from_ref(&pki.ca_der),
    )?;
    let size = sign::page_size(pdf, None)?;
    let tsa_key = &pki.tsa_key;
    let tsa_der = &pki.tsa_der;
    let time = signing_time(u64::from(slot.0));
    let stamper = move |digest: &[u8; 32]| -> Result<Vec<u8>, TimeStampError> {
        let authority = CertifiedKey::new(tsa_key, tsa_der)?;
        let request = tsa::TimeStampRequest::for_digest(*digest);
        Ok(tsa::time_stamp_token(
            &authority,
            &request,
            serial as u64,
            time + Duration::from_secs(2),
        )?)
    };
    let field_name = format!("Seal{}", slot.0 + 1);
    let request = SealRequest {
        placement: Placement {
            page: None,
            rect: sign::default_slot(size, slot.0, slot.1),
        },
        appearance,
        signer: &signer,
        signing_time: time,
        field_name: &field_name,
        time_stamper: Some(&stamper),
        reserved: sign::DEFAULT_RESERVED,
    };
    sign::sign(pdf, &request)
}

fn sealed_twice(pki: &Pki) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let original = contract_pdf();
    let first = seal(&original, pki, 0, 1001).unwrap();
    let second = seal(&first, pki, 1, 1002).unwrap();
    (original, first, second)
}

fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
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

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// With NSS's `certutil` (Debian `libnss3-tools`, optional), poppler gets a certificate
/// database trusting the test CA and must then call both certificates trusted.
fn pdfsig_trusts_the_chain(dir: &Path, ca: &Path, pdf: &Path) {
    if Command::new("certutil").arg("-H").output().is_err() {
        println!("skipped pdfsig trust check: certutil (libnss3-tools) is not installed");
        return;
    }
    let text = pdfsig_trusting(dir, ca, pdf);
    println!("pdfsig -nssdir:\n{text}");
    assert_eq!(
        text.matches("Signature Validation: Signature is Valid.")
            .count(),
        2,
        "{text}"
    );
    assert_eq!(
        text.matches("Certificate Validation: Certificate is Trusted.")
            .count(),
        2,
        "{text}"
    );
}

fn pdfsig(pdf: &Path) -> String {
    run("pdfsig", &[path_str(pdf)]).1
}

#[test]
fn our_verifier_reports_both_signatures_intact() {
    let pki = pki();
    let (original, first, second) = sealed_twice(&pki);
    assert_eq!(
        &second[..first.len()],
        &first[..],
        "the first revision is untouched"
    );
    assert_eq!(
        &first[..original.len()],
        &original[..],
        "the original is untouched"
    );
    let infos = verify::signatures(&second).unwrap();
    assert_eq!(infos.len(), 2);
    for (info, party) in infos.iter().zip(&pki.parties) {
        assert!(
            info.covers_revision
                && info.digest_matches
                && info.signature_valid
                && info.certificate_bound,
            "{info:?}"
        );
        assert_eq!(info.signer_legal_name.as_deref(), Some(party.legal_name));
        assert_eq!(info.signer_uscc.as_deref(), Some(party.uscc));
        let ts = info.timestamp.as_ref().unwrap();
        assert!(ts.imprint_matches && ts.signature_valid, "{ts:?}");
        assert_eq!(ts.tsa_name.as_deref(), Some("Signet Witness TSA"));
    }
    assert_eq!(infos[0].field_name, "Seal1");
    assert!(!infos[0].covers_whole_file);
    assert!(infos[1].covers_whole_file);
    assert_eq!(
        infos[1].timestamp.as_ref().unwrap().gen_time,
        signing_time(1) + Duration::from_secs(2)
    );
    assert_eq!(
        infos[0].claimed_time.as_deref(),
        Some("D:20260601100000+00'00'")
    );
}

#[test]
fn pyhanko_pdfsig_and_qpdf_accept_both_seals() {
    let pki = pki();
    let (_, first, second) = sealed_twice(&pki);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", pem(&pki.ca_der).as_bytes());
    let out = write(dir.path(), "sealed.pdf", &second);
    let first_path = write(dir.path(), "first.pdf", &first);

    if tool_available("qpdf", "--version") {
        let (ok, text) = run("qpdf", &["--check", path_str(&out)]);
        println!("qpdf --check:\n{text}");
        assert!(
            ok && text.contains("No syntax or stream encoding errors found"),
            "{text}"
        );
    }
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&out);
        println!("pdfsig:\n{text}");
        assert_eq!(
            text.matches("Signature Validation: Signature is Valid.")
                .count(),
            2,
            "{text}"
        );
        assert!(
            text.contains("Signer Certificate Common Name: Brand A Co., Ltd."),
            "{text}"
        );
        assert!(
            text.contains("Signer Certificate Common Name: Supplier X Manufacturing Co., Ltd."),
            "{text}"
        );
        assert!(
            text.contains("Signature Type: ETSI.CAdES.detached"),
            "{text}"
        );
        assert!(
            text.contains("Signature Field Name: Seal1")
                && text.contains("Signature Field Name: Seal2"),
            "{text}"
        );
        pdfsig_trusts_the_chain(dir.path(), &ca, &out);
        // The first signature covers its revision, not the whole file, and says so.
        let text = pdfsig(&first_path);
        assert!(
            text.contains("Signature is Valid.") && text.contains("Total document signed"),
            "{text}"
        );
    }
    if tool_available("pyhanko", "--version") {
        for (name, file) in [("first revision", &first_path), ("both seals", &out)] {
            let (ok, text) = pyhanko_reports(file, &ca);
            println!("pyhanko sign validate ({name}):\n{text}");
            assert!(ok, "pyhanko exit status ({name}): {text}");
            assert!(
                !text.contains("INVALID") && !text.contains("UNTRUSTED"),
                "{text}"
            );
        }
        let (_, text) = pyhanko_reports(&out, &ca);
        for field in ["Seal1", "Seal2"] {
            let header = format!(": {field}\n");
            let section = text
                .split("\nField ")
                .find(|s| {
                    s.lines()
                        .next()
                        .is_some_and(|l| format!("{l}\n").ends_with(&header))
                })
                .unwrap_or_else(|| panic!("no section for {field}: {text}"));
            assert!(
                section.contains("The signature is cryptographically sound."),
                "{field}: {section}"
            );
            assert!(
                section.contains("The signer's certificate is trusted."),
                "{field}: {section}"
            );
            assert!(
                section.contains("The signature is judged VALID."),
                "{field}: {section}"
            );
            assert!(
                section.contains("The TSA certificate is trusted."),
                "{field}: {section}"
            );
        }
    }
    render_last_page(&out, "pdf-two-seals");
}

#[test]
fn one_changed_byte_breaks_the_seals() {
    let pki = pki();
    let (original, _, second) = sealed_twice(&pki);
    // A byte of the contract's text, inside both signatures' first range.
    let at = find(&original, b"Clause 1.3").unwrap() + 7;
    let mut tampered = second.clone();
    tampered[at] = b'7';
    let infos = verify::signatures(&tampered).unwrap();
    assert!(
        infos
            .iter()
            .all(|info| !info.digest_matches && info.signature_valid),
        "{infos:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", pem(&pki.ca_der).as_bytes());
    let path = write(dir.path(), "tampered.pdf", &tampered);
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&path);
        println!("pdfsig (tampered):\n{text}");
        // poppler names the failure: "Digest Mismatch." (or "Signature is Invalid.").
        let failures = text
            .matches("Signature Validation: Digest Mismatch.")
            .count()
            + text
                .matches("Signature Validation: Signature is Invalid.")
                .count();
        assert_eq!(failures, 2, "{text}");
        assert!(!text.contains("Signature is Valid."), "{text}");
    }
    if tool_available("pyhanko", "--version") {
        let (ok, text) = pyhanko_reports(&path, &ca);
        println!("pyhanko (tampered):\n{text}");
        assert!(!ok, "pyhanko must fail: {text}");
        assert_eq!(
            text.matches("The signature is cryptographically unsound.")
                .count(),
            2,
            "{text}"
        );
        assert_eq!(
            text.matches("The signature is judged INVALID.").count(),
            2,
            "{text}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, failure_persistence: None, ..Default::default() })]

    /// Every change of a signed byte makes the signatures covering it fail (or the file
    /// unreadable), and no mutation panics.
    #[test]
    fn every_signed_byte_matters(position in 0.0f64..1.0, xor in 1u8..=255) {
        let (pki, sealed) = &*SEALED;
        let _ = pki;
        let infos = verify::signatures(sealed).unwrap();
        let first_end = usize::try_from(infos[0].byte_range.unwrap()[2] + infos[0].byte_range.unwrap()[3]).unwrap();
        let [_, gap_start, gap_end, _] = infos[1].byte_range.unwrap().map(|n| usize::try_from(n).unwrap());
        // A byte outside the second signature's /Contents.
        let mut at = (position * (sealed.len() - (gap_end - gap_start)) as f64) as usize;
        if at >= gap_start {
            at += gap_end - gap_start;
        }
        let mut mutated = sealed.clone();
        mutated[at] ^= xor;
        if let Ok(infos) = verify::signatures(&mutated) {
            for (index, info) in infos.iter().enumerate() {
                let covers = index == 1 || at < first_end;
                let in_own_gap = info.byte_range.is_some_and(|br| (br[1]..br[2]).contains(&(at as u64)));
                if covers && !in_own_gap {
                    proptest::prop_assert!(
                        !(info.covers_revision && info.digest_matches && info.signature_valid),
                        "byte {at} changed, yet {info:?}"
                    );
                }
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

    /// Hostile files: a sealed PDF with a span cut out, repeated, or overwritten with
    /// arbitrary bytes (dictionaries, xref tables and streams broken anywhere). Reading its
    /// seals, judging them and sealing it again answer with a value or a typed error; none
    /// panics, and a seal made over such a file is itself intact.
    #[test]
    fn hostile_pdfs_never_panic_the_reader_the_judge_or_the_sealer(
        start in 0.0f64..1.0,
        len in 1usize..400,
        how in 0u8..3,
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..64),
    ) {
        let (pki, sealed) = &*SEALED;
        let at = (start * sealed.len() as f64) as usize;
        let end = (at + len).min(sealed.len());
        let mut mutated = sealed[..at].to_vec();
        match how {
            0 => {}
            1 => mutated.extend_from_slice(&sealed[at..end].repeat(2)),
            _ => mutated.extend_from_slice(&junk),
        }
        mutated.extend_from_slice(&sealed[end..]);
        let _ = verify::signatures(&mutated);
        let _ = signet_node::pdf::assess::assess(
            &mutated,
            std::slice::from_ref(&pki.ca_der),
            &[],
            Timestamp::from_unix(1_780_308_600),
        );
        // A third slot, so the field name (Seal3) is new to the file.
        let party = &pki.parties[0];
        let appearance = Appearance::RoundSeal(RoundSeal::new(party.legal_name, party.uscc, None).unwrap());
        if let Ok(again) = seal_with(&mutated, pki, party, &appearance, (2, 3), 9) {
            let infos = verify::signatures(&again).unwrap();
            let last = infos.last().unwrap();
            proptest::prop_assert!(last.digest_matches && last.signature_valid, "{last:?}");
        }
    }
}

static SEALED: std::sync::LazyLock<(Pki, Vec<u8>)> = std::sync::LazyLock::new(|| {
    let pki = pki();
    let (_, _, sealed) = sealed_twice(&pki);
    (pki, sealed)
});

#[test]
fn refuses_what_it_cannot_seal() {
    let pki = pki();
    let original = contract_pdf();
    assert!(matches!(
        seal(b"%PDF-1.7 not really", &pki, 0, 1),
        Err(PdfError::Parse(_))
    ));

    // A signer whose certificate is another party's.
    let mismatch = PdfSigner::new(&pki.parties[0].key, &pki.parties[1].certificate, &[]);
    assert!(matches!(
        mismatch,
        Err(PdfError::X509(x509::X509Error::KeyMismatch))
    ));

    let party = &pki.parties[0];
    let signer = PdfSigner::new(&party.key, &party.certificate, &[]).unwrap();
    let appearance =
        Appearance::RoundSeal(RoundSeal::new(party.legal_name, party.uscc, None).unwrap());
    let request = |page: Option<u32>, field: &'static str, reserved: usize| SealRequest {
        placement: Placement {
            page,
            rect: [36.0, 36.0, 156.0, 156.0],
        },
        appearance: &appearance,
        signer: &signer,
        signing_time: signing_time(0),
        field_name: field,
        time_stamper: None,
        reserved,
    };
    assert!(matches!(
        sign::sign(
            &original,
            &request(Some(4), "Seal1", sign::DEFAULT_RESERVED)
        ),
        Err(PdfError::PageOutOfRange { page: 4, count: 3 })
    ));
    assert!(matches!(
        sign::sign(
            &original,
            &request(Some(0), "Seal1", sign::DEFAULT_RESERVED)
        ),
        Err(PdfError::PageOutOfRange { .. })
    ));
    assert!(matches!(
        sign::sign(&original, &request(Some(1), "Seal1", 1024)),
        Err(PdfError::SignatureTooLarge { reserved: 1024, .. })
    ));
    let mut nan = request(Some(1), "Seal1", sign::DEFAULT_RESERVED);
    nan.placement.rect = [f32::NAN, 0.0, 100.0, 100.0];
    assert!(matches!(
        sign::sign(&original, &nan),
        Err(PdfError::Placement(_))
    ));
    assert!(matches!(
        sign::sign(&original, &request(Some(1), "a.b", sign::DEFAULT_RESERVED)),
        Err(PdfError::InvalidFieldName(_))
    ));
    let once = sign::sign(
        &original,
        &request(Some(1), "Seal1", sign::DEFAULT_RESERVED),
    )
    .unwrap();
    assert!(matches!(
        sign::sign(&once, &request(Some(2), "Seal1", sign::DEFAULT_RESERVED)),
        Err(PdfError::DuplicateField(_))
    ));
    // B-B (no time-stamp) verifies too, on page 1.
    let infos = verify::signatures(&once).unwrap();
    assert!(infos[0].signature_valid && infos[0].digest_matches && infos[0].timestamp.is_none());

    assert!(matches!(
        sign::sign(&encrypted_pdf(), &request(None, "Seal1", 8192)),
        Err(PdfError::Encrypted)
    ));
}

/// A Chinese legal name, drawn from the glyph outlines of the system's Noto Sans CJK font;
/// the certificate names the enterprise in Chinese (UTF-8), which the validators print.
#[test]
fn chinese_name_seal_from_font_outlines() {
    const FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
    let Ok(font) = std::fs::read(FONT) else {
        println!("skipped: {FONT} is not installed (Debian fonts-noto-cjk)");
        return;
    };
    let pki = pki();
    let ca = CertifiedKey::new(&pki.ca_key, &pki.ca_der).unwrap();
    let key = SigningKey::from_slice(&[21; 32]).unwrap();
    let (legal_name, uscc) = ("品牌甲贸易有限公司", "91350100M000100Y43");
    let subject = SealSubject::new(legal_name, uscc).unwrap();
    let certificate = x509::issue_seal_certificate(
        &ca,
        &subject,
        key.verifying_key(),
        &issuance(21),
        None,
        None,
    )
    .unwrap();
    let party = Party {
        key,
        certificate,
        legal_name,
        uscc,
    };
    // Face 2 of the collection is Simplified Chinese.
    let appearance =
        Appearance::RoundSeal(RoundSeal::with_font(legal_name, uscc, &font, 2).unwrap());
    let sealed = seal_with(&contract_pdf(), &pki, &party, &appearance, (0, 1), 3001).unwrap();
    let infos = verify::signatures(&sealed).unwrap();
    assert_eq!(infos[0].signer_legal_name.as_deref(), Some(legal_name));
    let facts = x509::subject_of(infos[0].signer_certificate.as_deref().unwrap()).unwrap();
    assert_eq!(facts.uscc.as_deref(), Some(uscc));
    assert!(infos[0].digest_matches && infos[0].signature_valid);

    let dir = tempfile::tempdir().unwrap();
    let ca_path = write(dir.path(), "ca.pem", pem(&pki.ca_der).as_bytes());
    let path = write(dir.path(), "chinese.pdf", &sealed);
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&path);
        assert!(
            text.contains("Signature is Valid.") && text.contains(legal_name),
            "{text}"
        );
    }
    if tool_available("pyhanko", "--version") {
        let (ok, text) = pyhanko_reports(&path, &ca_path);
        assert!(
            ok && text.contains("The signature is judged VALID."),
            "{text}"
        );
    }
    render_last_page(&path, "pdf-chinese-seal");
}

/// A PDF 1.5 file with a cross-reference stream and object streams (as most office suites
/// write), rewritten so by qpdf: the update is an xref stream too, and the validators agree.
#[test]
fn seals_a_pdf_with_xref_and_object_streams() {
    if !tool_available("qpdf", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "plain.pdf", &contract_pdf());
    let packed = dir.path().join("packed.pdf");
    let (ok, text) = run(
        "qpdf",
        &[
            "--object-streams=generate",
            "--compress-streams=y",
            path_str(&plain),
            path_str(&packed),
        ],
    );
    assert!(ok, "{text}");
    let original = std::fs::read(&packed).unwrap();
    assert!(find(&original, b"/ObjStm").is_some() && find(&original, b"/XRef").is_some());
    let pki = pki();
    let first = seal(&original, &pki, 0, 5001).unwrap();
    let second = seal(&first, &pki, 1, 5002).unwrap();
    assert_eq!(&second[..original.len()], &original[..]);
    let infos = verify::signatures(&second).unwrap();
    assert_eq!(infos.len(), 2);
    assert!(
        infos
            .iter()
            .all(|i| i.covers_revision && i.digest_matches && i.signature_valid),
        "{infos:?}"
    );
    let out = write(dir.path(), "sealed.pdf", &second);
    let (ok, text) = run("qpdf", &["--check", path_str(&out)]);
    assert!(
        ok && text.contains("No syntax or stream encoding errors found"),
        "{text}"
    );
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&out);
        assert_eq!(text.matches("Signature is Valid.").count(), 2, "{text}");
    }
    if tool_available("pyhanko", "--version") {
        let ca = write(dir.path(), "ca.pem", pem(&pki.ca_der).as_bytes());
        let (ok, text) = pyhanko_reports(&out, &ca);
        assert!(ok, "{text}");
        assert_eq!(
            text.matches("The signature is judged VALID.").count(),
            2,
            "{text}"
        );
    }
}

/// A contract already signed by another product (pyHanko, key made by openssl) is sealed on
/// top: the earlier signature stays valid for pyHanko, pdfsig and our own verifier.
#[test]
fn seals_over_a_signature_made_by_pyhanko() {
    if !tool_available("pyhanko", "--version") {
        return;
    }
    // openssl makes the other product's key; it is not one of the validators CI installs.
    if Command::new("openssl").arg("version").output().is_err() {
        println!("skipped: the openssl command is not installed");
        return;
    }
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("other.key");
    let (ok, text) = run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            path_str(&key_path),
        ],
    );
    assert!(ok, "{text}");
    let spki = Command::new("openssl")
        .args([
            "pkey",
            "-in",
            path_str(&key_path),
            "-pubout",
            "-outform",
            "DER",
        ])
        .output()
        .unwrap()
        .stdout;
    // The last 65 bytes of a P-256 SubjectPublicKeyInfo are the uncompressed point.
    let point = &spki[spki.len() - 65..];
    let other_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).unwrap();
    let ca = CertifiedKey::new(&pki.ca_key, &pki.ca_der).unwrap();
    let subject = SealSubject::new("Carrier Z Logistics Co., Ltd.", "91110000600037341L").unwrap();
    let other_cert =
        x509::issue_seal_certificate(&ca, &subject, &other_key, &issuance(31), None, None).unwrap();
    let cert_path = write(dir.path(), "other.pem", pem(&other_cert).as_bytes());
    let ca_path = write(dir.path(), "ca.pem", pem(&pki.ca_der).as_bytes());
    let plain = write(dir.path(), "plain.pdf", &contract_pdf());
    let by_pyhanko = dir.path().join("pyhanko.pdf");
    let (ok, text) = run(
        "pyhanko",
        &[
            "sign",
            "addsig",
            "--field",
            "3/72,400,272,460/ThirdParty",
            "pemder",
            "--key",
            path_str(&key_path),
            "--cert",
            path_str(&cert_path),
            "--chain",
            path_str(&ca_path),
            "--no-pass",
            path_str(&plain),
            path_str(&by_pyhanko),
        ],
    );
    assert!(ok, "pyhanko addsig: {text}");
    let signed_elsewhere = std::fs::read(&by_pyhanko).unwrap();
    let sealed = seal(&signed_elsewhere, &pki, 0, 6001).unwrap();
    assert_eq!(&sealed[..signed_elsewhere.len()], &signed_elsewhere[..]);

    let infos = verify::signatures(&sealed).unwrap();
    assert_eq!(infos.len(), 2, "{infos:?}");
    assert_eq!(infos[0].field_name, "ThirdParty");
    assert_eq!(
        infos[0].signer_legal_name.as_deref(),
        Some("Carrier Z Logistics Co., Ltd.")
    );
    assert!(
        infos
            .iter()
            .all(|i| i.covers_revision && i.digest_matches && i.signature_valid),
        "{infos:?}"
    );

    let out = write(dir.path(), "sealed.pdf", &sealed);
    let (ok, text) = pyhanko_reports(&out, &ca_path);
    assert!(ok, "{text}");
    assert_eq!(
        text.matches("The signature is judged VALID.").count(),
        2,
        "{text}"
    );
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&out);
        assert_eq!(text.matches("Signature is Valid.").count(), 2, "{text}");
    }
    if tool_available("qpdf", "--version") {
        let (ok, text) = run("qpdf", &["--check", path_str(&out)]);
        assert!(
            ok && text.contains("No syntax or stream encoding errors found"),
            "{text}"
        );
    }
}

/// A registered seal image (PNG with alpha) instead of the drawn seal.
#[test]
fn registered_png_seal_with_transparency() {
    let pki = pki();
    let party = &pki.parties[1];
    let image = SealImage::png(&support::fixtures::seal_png()).unwrap();
    let sealed = seal_with(
        &contract_pdf(),
        &pki,
        party,
        &Appearance::Image(image),
        (1, 2),
        4001,
    )
    .unwrap();
    let infos = verify::signatures(&sealed).unwrap();
    assert!(infos[0].digest_matches && infos[0].signature_valid);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "image.pdf", &sealed);
    if tool_available("qpdf", "--version") {
        let (ok, text) = run("qpdf", &["--check", path_str(&path)]);
        assert!(
            ok && text.contains("No syntax or stream encoding errors found"),
            "{text}"
        );
    }
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&path);
        assert!(text.contains("Signature is Valid."), "{text}");
    }
    render_last_page(&path, "pdf-image-seal");
}

/// The contract with a standard security handler dictionary in its trailer.
fn encrypted_pdf() -> Vec<u8> {
    let mut doc = Document::load_mem(&contract_pdf()).unwrap();
    let mut encrypt = Dictionary::new();
    encrypt.set("Filter", Object::Name(b"Standard".to_vec()));
    encrypt.set("V", Object::Integer(1));
    encrypt.set("R", Object::Integer(2));
    encrypt.set("O", Object::String(vec![1; 32], StringFormat::Hexadecimal));
    encrypt.set("U", Object::String(vec![2; 32], StringFormat::Hexadecimal));
    encrypt.set("P", Object::Integer(-4));
    let id = doc.add_object(encrypt);
    doc.trailer.set("Encrypt", Object::Reference(id));
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(vec![3; 16], StringFormat::Hexadecimal),
            Object::String(vec![3; 16], StringFormat::Hexadecimal),
        ]),
    );
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Renders the last page into `$SIGNET_SCREENSHOTS` when set.
fn render_last_page(pdf: &Path, name: &str) {
    let Ok(dir) = std::env::var("SIGNET_SCREENSHOTS") else {
        return;
    };
    if !tool_available("pdftoppm", "-v") {
        return;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = Path::new(&dir).join(name);
    let (ok, text) = run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "60",
            "-f",
            "3",
            "-l",
            "3",
            path_str(pdf),
            path_str(&prefix),
        ],
    );
    assert!(ok, "{text}");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Cross-checks with the `openssl` CLI: chain verification and CRL signature.
#[test]
fn openssl_accepts_certificates_and_crl() {
    if !tool_available("openssl", "version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca_key = SigningKey::from_slice(&[1; 32]).unwrap();
    let ca_der = x509::ca_certificate("Signet Test CA", None, &ca_key, &issuance(1)).unwrap();
    let ca = CertifiedKey::new(&ca_key, &ca_der).unwrap();
    let subject =
        SealSubject::new("Supplier X Manufacturing Co., Ltd.", "91110000600037341L").unwrap();
    let seal = x509::issue_seal_certificate(
        &ca,
        &subject,
        SigningKey::from_slice(&[5; 32]).unwrap().verifying_key(),
        &issuance(11),
        None,
        None,
    )
    .unwrap();
    let tsa = x509::tsa_certificate(
        &ca,
        "Signet Witness TSA",
        SigningKey::from_slice(&[6; 32]).unwrap().verifying_key(),
        &issuance(12),
    )
    .unwrap();
    let at = |days: u64| Timestamp::from_unix(1_790_000_000 + days * 86_400);
    let list = x509::crl(&ca, 2, &[(11, at(30))], at(31), at(38)).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let ca_path = write("ca.der", &ca_der);
    let openssl = |args: &[&std::ffi::OsStr]| {
        let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
        run("openssl", &args)
    };
    let ca_pem = dir.path().join("ca.pem");
    let (ok, text) = openssl(&[
        "x509".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        ca_path.as_os_str(),
        "-out".as_ref(),
        ca_pem.as_os_str(),
    ]);
    assert!(ok, "{text}");
    for (name, der_bytes) in [("seal", &seal), ("tsa", &tsa)] {
        let der_path = write(&format!("{name}.der"), der_bytes);
        let pem = dir.path().join(format!("{name}.pem"));
        let (ok, text) = openssl(&[
            "x509".as_ref(),
            "-inform".as_ref(),
            "DER".as_ref(),
            "-in".as_ref(),
            der_path.as_os_str(),
            "-out".as_ref(),
            pem.as_os_str(),
        ]);
        assert!(ok, "{text}");
        let (ok, text) = openssl(&[
            "verify".as_ref(),
            "-attime".as_ref(),
            "1790086400".as_ref(),
            "-CAfile".as_ref(),
            ca_pem.as_os_str(),
            pem.as_os_str(),
        ]);
        assert!(ok && text.contains("OK"), "openssl verify {name}: {text}");
    }
    let crl_path = write("ca.crl", &list);
    let (ok, text) = openssl(&[
        "crl".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        crl_path.as_os_str(),
        "-CAfile".as_ref(),
        ca_pem.as_os_str(),
        "-verify".as_ref(),
        "-noout".as_ref(),
    ]);
    assert!(ok && text.contains("verify OK"), "openssl crl: {text}");
    let (ok, text) = openssl(&[
        "x509".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        dir.path().join("seal.der").as_os_str(),
        "-noout".as_ref(),
        "-subject".as_ref(),
    ]);
    assert!(ok && text.contains("NTRCN-91110000600037341L"), "{text}");
}

/// Real nodes: the CA that verified two enterprises certifies their PDF keys when it attests
/// their identities (spec §6.10), gossip brings them the certificates, and each node seals
/// the contract in turn with its own key; pyHanko and pdfsig validate both seals against the
/// CA certificate the CA's node hands out. When the CA revokes an identity, its CRL lists
/// the certificate, and the node whose identity was revoked refuses to seal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_certified_by_their_ca_seal_a_contract_that_validators_accept() {
    use support::{create, federate, start, until};
    let root = tempfile::tempdir().unwrap();
    let (ca_dir, ca_key) = create(root.path(), "Verifier CA", &[]);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root.path(), "Brand", &anchors);
    let (s_dir, s_key) = create(root.path(), "Supplier", &anchors);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    until("both certificates reached their subjects", || {
        [&brand, &supplier].iter().all(|n| {
            n.service.attestations().unwrap().iter().any(|a| {
                a.payload().subject == n.party()
                    && a.payload().claims.kind().name() == "pdf-certificate"
            })
        })
    })
    .await;

    let contract = contract_pdf();
    let first = brand.service.seal_pdf(&contract, None).unwrap();
    let second = supplier.service.seal_pdf(&first, None).unwrap();
    assert_eq!(&second[..first.len()], &first[..]);
    let infos = verify::signatures(&second).unwrap();
    assert_eq!(infos.len(), 2);
    assert!(infos.iter().all(|i| i.digest_matches && i.signature_valid));
    assert_eq!(infos[0].signer_legal_name.as_deref(), Some("Brand"));
    assert_eq!(infos[1].signer_legal_name.as_deref(), Some("Supplier"));

    let dir = tempfile::tempdir().unwrap();
    let ca_pem = write(
        dir.path(),
        "ca.pem",
        pem(&ca.service.pdf_ca_certificate().unwrap()).as_bytes(),
    );
    let out = write(dir.path(), "sealed.pdf", &second);
    if tool_available("pyhanko", "--version") {
        let (ok, text) = pyhanko_reports(&out, &ca_pem);
        println!("pyhanko sign validate:\n{text}");
        assert!(ok, "{text}");
        assert_eq!(
            text.matches("The signature is judged VALID.").count(),
            2,
            "{text}"
        );
        assert_eq!(
            text.matches("The signer's certificate is trusted.").count(),
            2,
            "{text}"
        );
    }
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&out);
        assert_eq!(
            text.matches("Signature Validation: Signature is Valid.")
                .count(),
            2,
            "{text}"
        );
    }
    render_last_page(&out, "pdf-nodes");

    // The CA revokes the brand's identity: the CRL names the brand's certificate, and the
    // brand's node, once it holds the revocation, no longer seals.
    let identity = ca
        .service
        .attestations()
        .unwrap()
        .into_iter()
        .find(|a| {
            a.payload().subject == brand.party() && a.payload().claims.kind().name() == "identity"
        })
        .unwrap();
    let revocation = ca.service.revoke(identity.payload().id).unwrap();
    let crl_der = ca.service.pdf_crl().unwrap();
    let crl =
        x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&crl_der)
            .unwrap();
    // The sealed file, judged with the CA certificate and the new CRL: the supplier's seal is
    // VALID; the brand's is revoked and, without a time-stamp to show it predates the
    // revocation, INDETERMINATE (never VALID, and not proven INVALID either).
    let judged = signet_node::pdf::assess::assess(
        &second,
        &[ca.service.pdf_ca_certificate().unwrap()],
        std::slice::from_ref(&crl_der),
        signet_node::service::now(),
    )
    .unwrap();
    use signet_protocol::bundle::Outcome;
    assert_eq!(
        judged[0].outcome,
        Outcome::Indeterminate,
        "{:?}",
        judged[0].checks
    );
    assert!(judged[0].checks.iter().any(|(_, c)| c.contains("revoked")));
    assert_eq!(judged[1].outcome, Outcome::Valid, "{:?}", judged[1].checks);
    assert_eq!(
        crl.tbs_cert_list
            .revoked_certificates
            .as_ref()
            .map_or(0, Vec::len),
        1
    );
    brand
        .service
        .import_attestation(revocation.bytes())
        .unwrap();
    let refused = brand.service.seal_pdf(&contract, None).unwrap_err();
    assert!(
        refused.to_string().contains("no verifier has certified"),
        "{refused}"
    );
}

/// The in-process TSA, certifying `time` with serial `serial`.
fn tsa_stamper(
    pki: &Pki,
    serial: u64,
    time: SystemTime,
) -> impl Fn(&[u8; 32]) -> Result<Vec<u8>, TimeStampError> + '_ {
    move |digest: &[u8; 32]| {
        let authority = CertifiedKey::new(&pki.tsa_key, &pki.tsa_der)?;
        let request = tsa::TimeStampRequest::for_digest(*digest);
        Ok(tsa::time_stamp_token(&authority, &request, serial, time)?)
    }
}

/// Two B-T seals, then the DSS (the CA, seal and TSA certificates and the CA's CRL, issued
/// ten minutes after the seals), then a document time-stamp half an hour after the seals:
/// PAdES B-LTA.
///
/// The CRL's next update is in 2045: validators check the last document time-stamp's TSA
/// certificate at the current time, and must find current revocation data for it in the
/// file, as they cannot fetch any.
fn sealed_for_the_long_term(pki: &Pki) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (_, _, sealed) = sealed_twice(pki);
    let ca = CertifiedKey::new(&pki.ca_key, &pki.ca_der).unwrap();
    let at = |seconds: u64| Timestamp::from_unix(1_780_308_000 + seconds);
    let crl = x509::crl(&ca, 1, &[], at(600), Timestamp::from_unix(2_366_841_600)).unwrap();
    let mut certificates = vec![pki.ca_der.clone(), pki.tsa_der.clone()];
    certificates.extend(pki.parties.iter().map(|p| p.certificate.clone()));
    let data = ValidationData {
        certificates,
        crls: vec![crl],
    };
    let with_dss = ltv::add_validation_data(&sealed, &data).unwrap();
    let stamper = tsa_stamper(pki, 3001, signing_time(0) + Duration::from_secs(1800));
    let stamped = ltv::add_document_time_stamp(&with_dss, &stamper, "DocTimeStamp1").unwrap();
    (sealed, with_dss, stamped)
}

/// The upper-case hex SHA-1 of each signature value's CMS (padding stripped), as a reader
/// would compute the `/VRI` keys.
fn signature_vri_keys(pdf: &[u8]) -> Vec<String> {
    let document = Document::load_mem(pdf).unwrap();
    document
        .objects
        .values()
        .filter_map(|object| object.as_dict().ok())
        .filter(|dict| dict.has(b"ByteRange"))
        .map(|dict| ltv::vri_key(dict.get(b"Contents").unwrap().as_str().unwrap()))
        .collect()
}

#[test]
fn our_verifier_reports_pades_levels_up_to_lta() {
    let pki = pki();
    let (sealed, with_dss, stamped) = sealed_for_the_long_term(&pki);
    assert_eq!(&with_dss[..sealed.len()], &sealed[..]);
    assert_eq!(&stamped[..with_dss.len()], &with_dss[..]);

    // The certificates whose CRLs are needed: both seals' and the TSA's, not the root's.
    let targets = ltv::certificates_needing_revocation(&sealed).unwrap();
    let mut expected = vec![pki.parties[0].certificate.clone(), pki.tsa_der.clone()];
    expected.push(pki.parties[1].certificate.clone());
    assert_eq!(
        targets.iter().map(|t| &t.certificate).collect::<Vec<_>>(),
        expected.iter().collect::<Vec<_>>()
    );
    assert!(targets.iter().all(|t| t.crl_urls.is_empty()));

    let dss = ltv::document_security_store(&stamped).unwrap();
    assert_eq!(dss.certificates.len(), 4);
    assert_eq!(dss.crls.len(), 1);
    let mut vri_keys = dss.vri_keys.clone();
    vri_keys.sort();
    let mut seal_keys = signature_vri_keys(&with_dss);
    seal_keys.sort();
    assert_eq!(vri_keys, seal_keys, "one VRI entry per seal");

    let stamps = verify::document_time_stamps(&stamped).unwrap();
    assert_eq!(stamps.len(), 1);
    let stamp = &stamps[0];
    assert!(
        stamp.covers_whole_file && stamp.imprint_matches && stamp.signature_valid,
        "{stamp:?}"
    );
    assert_eq!(stamp.tsa_name.as_deref(), Some("Signet Witness TSA"));
    assert_eq!(verify::signatures(&stamped).unwrap().len(), 2, "seals only");

    // No CRL given: the DSS's, current an hour after the seals, shows they are not revoked.
    let now = Timestamp::from_unix(1_780_308_000 + 3600);
    let roots = std::slice::from_ref(&pki.ca_der);
    for (pdf, level) in [
        (&sealed, PadesLevel::BaselineT),
        (&with_dss, PadesLevel::BaselineLt),
        (&stamped, PadesLevel::BaselineLta),
    ] {
        let judged = assess::assess(pdf, roots, &[], now).unwrap();
        assert_eq!(judged.len(), 2);
        for seal in &judged {
            assert_eq!(seal.levels.level(), level, "{:?}", seal.levels);
            if level != PadesLevel::BaselineT {
                assert_eq!(seal.outcome, Outcome::Valid, "{:?}", seal.checks);
            }
        }
    }
    let judged = assess::assess_document_time_stamps(&stamped, roots, &[], now).unwrap();
    assert_eq!(judged.len(), 1);
    assert_eq!(judged[0].outcome, Outcome::Valid, "{:?}", judged[0].checks);
    // Without a trust root the document time-stamp is not VALID, so no seal is called B-LTA.
    let untrusted = assess::assess(&stamped, &[], &[], now).unwrap();
    assert!(
        untrusted
            .iter()
            .all(|seal| seal.levels.level() == PadesLevel::BaselineLt)
    );

    // Adding the same data again adds nothing to the DSS.
    let again = ltv::add_validation_data(
        &stamped,
        &ValidationData {
            certificates: vec![pki.ca_der.clone()],
            crls: dss.crls.clone(),
        },
    )
    .unwrap();
    let dss_again = ltv::document_security_store(&again).unwrap();
    assert_eq!(dss_again.certificates, dss.certificates);
    assert_eq!(dss_again.crls, dss.crls);
    assert_eq!(
        dss_again.vri_keys.len(),
        3,
        "and a VRI entry for the time-stamp"
    );
}

#[test]
fn one_changed_byte_breaks_the_document_time_stamp() {
    let pki = pki();
    let (_, _, stamped) = sealed_for_the_long_term(&pki);
    let at = find(&stamped, b"Clause 1.3").unwrap() + 7;
    let mut tampered = stamped.clone();
    tampered[at] = b'7';
    let stamps = verify::document_time_stamps(&tampered).unwrap();
    assert!(
        !stamps[0].imprint_matches && stamps[0].signature_valid,
        "{stamps:?}"
    );
    let now = Timestamp::from_unix(1_780_308_000 + 3600);
    let judged =
        assess::assess_document_time_stamps(&tampered, std::slice::from_ref(&pki.ca_der), &[], now)
            .unwrap();
    assert_eq!(judged[0].outcome, Outcome::Invalid);

    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", pem(&pki.ca_der).as_bytes());
    let path = write(dir.path(), "tampered.pdf", &tampered);
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&path);
        println!("pdfsig (tampered):\n{text}");
        assert!(!text.contains("Signature is Valid."), "{text}");
    }
    if tool_available("pyhanko", "--version") {
        let (ok, text) = pyhanko_ltv_reports(&path, &ca);
        println!("pyhanko sign adesverify (tampered):\n{text}");
        assert!(!ok, "pyhanko must fail: {text}");
        assert!(!text.contains("judged VALID"), "{text}");
    }
}

/// pyHanko's AdES validation (ETSI EN 319 102-1, with past signature validation through the
/// document time-stamp), requiring revocation information for every certificate below the
/// root: none of them names a CRL distribution point, so only the DSS can supply it.
fn pyhanko_ltv_reports(pdf: &Path, ca: &Path) -> (bool, String) {
    run(
        "pyhanko",
        &[
            "sign",
            "adesverify",
            "--pretty-print",
            "--trust",
            path_str(ca),
            "--trust-replace",
            path_str(pdf),
        ],
    )
}

#[test]
fn pyhanko_pdfsig_and_qpdf_accept_a_pades_lta_file() {
    let pki = pki();
    let (sealed, _, stamped) = sealed_for_the_long_term(&pki);
    // The archive renewed: the DSS extended (a VRI entry for the first time-stamp), then a
    // second document time-stamp over everything.
    let dss = ltv::document_security_store(&stamped).unwrap();
    let data = ValidationData {
        certificates: dss.certificates,
        crls: dss.crls,
    };
    let extended = ltv::add_validation_data(&stamped, &data).unwrap();
    let stamper = tsa_stamper(&pki, 3002, signing_time(0) + Duration::from_secs(7200));
    let renewed = ltv::add_document_time_stamp(&extended, &stamper, "DocTimeStamp2").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", pem(&pki.ca_der).as_bytes());
    let out = write(dir.path(), "lta.pdf", &stamped);
    let bt = write(dir.path(), "bt.pdf", &sealed);
    let renewed_path = write(dir.path(), "renewed.pdf", &renewed);
    if tool_available("qpdf", "--version") {
        let (ok, text) = run("qpdf", &["--check", path_str(&out)]);
        println!("qpdf --check:\n{text}");
        assert!(
            ok && text.contains("No syntax or stream encoding errors found"),
            "{text}"
        );
    }
    if tool_available("pdfsig", "-v") {
        let text = pdfsig(&out);
        println!("pdfsig:\n{text}");
        // poppler checks both seals; it lists the document time-stamp but does not
        // validate RFC 3161 tokens ("Unable to validate this type of signature").
        assert_eq!(
            text.matches("Signature Validation: Signature is Valid.")
                .count(),
            2,
            "{text}"
        );
        assert!(
            text.contains("Signature Field Name: DocTimeStamp1")
                && text.contains("Total document signed"),
            "{text}"
        );
    }
    if tool_available("pyhanko", "--version") {
        let (ok, text) = pyhanko_reports(&out, &ca);
        println!("pyhanko sign validate:\n{text}");
        assert!(ok, "{text}");
        assert_eq!(
            text.matches("The signature is judged VALID.").count(),
            2,
            "{text}"
        );
        for (name, file) in [("B-LTA", &out), ("B-LTA renewed", &renewed_path)] {
            let (ok, text) = pyhanko_ltv_reports(file, &ca);
            println!("pyhanko sign adesverify ({name}):\n{text}");
            assert!(ok, "{name}: {text}");
            for verdict in [
                "The signature is judged VALID.",
                "The signer's certificate is trusted.",
                "The TSA certificate is trusted.",
            ] {
                assert_eq!(
                    text.matches(verdict).count(),
                    2,
                    "{name}, {verdict}: {text}"
                );
            }
            // The document time-stamps were found and their chains validated.
            assert!(
                !text.contains("No document timestamps after signature")
                    && !text.contains("Document timestamp chain failed"),
                "{name}: {text}"
            );
        }
        // The same seals without the DSS and the document time-stamp: no revocation
        // information, so pyHanko cannot call them valid.
        let (ok, text) = pyhanko_ltv_reports(&bt, &ca);
        println!("pyhanko sign adesverify (B-T only):\n{text}");
        assert!(!ok, "{text}");
        assert!(
            text.contains("no revocation information could be found"),
            "{text}"
        );
    }
}

#[test]
fn after_the_last_seal_only_validation_data_and_document_time_stamps_count_as_maintenance() {
    use signet_node::pdf::changes::maintenance_only;
    let pki = pki();
    let (first, _, sealed) = sealed_twice(&pki);
    let (_, with_dss, stamped) = sealed_for_the_long_term(&pki);
    let end = sealed.len();
    assert!(maintenance_only(&sealed, end).unwrap(), "nothing after");
    assert!(maintenance_only(&with_dss, end).unwrap(), "a DSS");
    assert!(
        maintenance_only(&stamped, end).unwrap(),
        "a DSS and a document time-stamp"
    );
    // A second visible seal is content the first seal does not cover.
    assert!(!maintenance_only(&sealed, first.len()).unwrap());
    // So is a page changed in an unsigned update.
    let previous = Document::load_mem(&with_dss).unwrap();
    let page = *previous.get_pages().values().next().unwrap();
    let mut update = lopdf::IncrementalDocument::create_from(with_dss.clone(), previous);
    update.opt_clone_object_to_new_document(page).unwrap();
    update
        .new_document
        .get_dictionary_mut(page)
        .unwrap()
        .set("Rotate", lopdf::Object::Integer(90));
    let mut rotated = Vec::new();
    update.save_to(&mut rotated).unwrap();
    assert!(rotated.len() > with_dss.len());
    assert!(!maintenance_only(&rotated, end).unwrap());
}

#[test]
fn a_time_stamp_counts_only_from_a_tsa_the_given_ca_certified() {
    let mut pki = pki();
    let contract = contract_pdf();
    let now = Timestamp::from_unix(1_780_308_000 + 3600);
    let roots = std::slice::from_ref(&pki.ca_der);
    let judged = |pdf: &[u8]| assess::assess(pdf, roots, &[], now).unwrap().remove(0);

    // A TSA certified by another CA: the time it claims is not evidence here.
    let stranger_key = SigningKey::from_slice(&[31; 32]).unwrap();
    let stranger_der =
        x509::ca_certificate("Stranger CA", None, &stranger_key, &issuance(40)).unwrap();
    let stranger = CertifiedKey::new(&stranger_key, &stranger_der).unwrap();
    pki.tsa_der = x509::tsa_certificate(
        &stranger,
        "Stranger TSA",
        pki.tsa_key.verifying_key(),
        &issuance(41),
    )
    .unwrap();
    let judgement = judged(&seal(&contract, &pki, 0, 4001).unwrap());
    assert_eq!(
        judgement.outcome,
        Outcome::Indeterminate,
        "{:?}",
        judgement.checks
    );
    assert!(
        judgement
            .checks
            .iter()
            .any(|(o, c)| *o == Outcome::Indeterminate && c.contains("not shown trusted")),
        "{:?}",
        judgement.checks
    );

    // A "time-stamp" signed under a seal certificate (no id-kp-timeStamping): not a TSA's.
    pki.tsa_key = pki.parties[1].key.clone();
    pki.tsa_der = pki.parties[1].certificate.clone();
    let judgement = judged(&seal(&contract, &pki, 0, 4002).unwrap());
    assert_eq!(
        judgement.outcome,
        Outcome::Indeterminate,
        "{:?}",
        judgement.checks
    );
    assert!(
        judgement
            .checks
            .iter()
            .any(|(_, c)| c.contains("not a TSA certificate")),
        "{:?}",
        judgement.checks
    );
}
