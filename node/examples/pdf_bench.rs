//! What a PDF seal costs: sealing a three-page contract (PAdES B-B, and B-T with an
//! in-process TSA), and listing and judging its seals.
//!
//! `cargo run --release -p signet-node --example pdf_bench [ITERATIONS]`
//!
//! Each figure is the median of ITERATIONS (default 50) runs, after one warm-up. The first
//! seal is over the 3-page sample contract; "third seal" is over a file two parties sealed
//! already, so it shows how the cost grows with the file (each seal re-reads the whole file
//! and hashes its signed ranges).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant, SystemTime};

use p256::ecdsa::SigningKey;
use signet_node::pdf::appearance::{Appearance, RoundSeal};
use signet_node::pdf::sign::{self, PdfSigner, Placement, SealRequest, TimeStampError};
use signet_node::pdf::x509::{self, CertifiedKey, Issuance, SealSubject};
use signet_node::pdf::{assess, sample, tsa, verify};
use signet_protocol::Timestamp;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(iterations: usize, mut f: impl FnMut() -> T) -> Duration {
    std::hint::black_box(f());
    median(
        (0..iterations)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(f());
                started.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let validity = |serial| Issuance {
        serial,
        not_before: Timestamp::from_unix(1_735_689_600),
        not_after: Timestamp::from_unix(2_366_841_600),
    };
    let ca_key = SigningKey::from_slice(&[1; 32]).unwrap();
    let ca_der = x509::ca_certificate("Bench CA", None, &ca_key, &validity(1)).unwrap();
    let ca = CertifiedKey::new(&ca_key, &ca_der).unwrap();
    let tsa_key = SigningKey::from_slice(&[2; 32]).unwrap();
    let tsa_der =
        x509::tsa_certificate(&ca, "Bench TSA", tsa_key.verifying_key(), &validity(2)).unwrap();
    let key = SigningKey::from_slice(&[3; 32]).unwrap();
    let subject = SealSubject::new("Bench Supplier Co., Ltd.", "91350100M000100Y43").unwrap();
    let certificate =
        x509::issue_seal_certificate(&ca, &subject, key.verifying_key(), &validity(3), None, None)
            .unwrap();
    let signer = PdfSigner::new(&key, &certificate, std::slice::from_ref(&ca_der)).unwrap();
    let appearance = Appearance::RoundSeal(
        RoundSeal::new("Bench Supplier Co., Ltd.", "91350100M000100Y43", None).unwrap(),
    );
    let stamper = |digest: &[u8; 32]| -> Result<Vec<u8>, TimeStampError> {
        let authority = CertifiedKey::new(&tsa_key, &tsa_der)?;
        let request = tsa::TimeStampRequest::for_digest(*digest);
        Ok(tsa::time_stamp_token(
            &authority,
            &request,
            7,
            SystemTime::now(),
        )?)
    };
    let seal = |pdf: &[u8], slot: u32, stamped: bool| {
        let size = sign::page_size(pdf, None).unwrap();
        let field = format!("Seal{}", slot + 1);
        let request = SealRequest {
            placement: Placement {
                page: None,
                rect: sign::default_slot(size, slot, 3),
            },
            appearance: &appearance,
            signer: &signer,
            signing_time: SystemTime::now(),
            field_name: &field,
            time_stamper: stamped.then_some(&stamper as &dyn sign::TimeStamper),
            reserved: sign::DEFAULT_RESERVED,
        };
        sign::sign(pdf, &request).unwrap()
    };
    let contract = sample::contract("Bench contract", &["Brand", "Supplier"], 3).unwrap();
    let twice = seal(&seal(&contract, 0, true), 1, true);
    let thrice = seal(&twice, 2, true);
    println!(
        "contract: {} bytes; sealed twice: {} bytes; three times: {} bytes; {iterations} iterations",
        contract.len(),
        twice.len(),
        thrice.len()
    );
    let report = |what: &str, d: Duration| println!("{what:44} {:>9.3} ms", d.as_secs_f64() * 1e3);
    report(
        "first seal, B-B",
        time(iterations, || seal(&contract, 0, false)),
    );
    report(
        "first seal, B-T (in-process TSA)",
        time(iterations, || seal(&contract, 0, true)),
    );
    report(
        "third seal, B-T",
        time(iterations, || seal(&twice, 2, true)),
    );
    report(
        "list three seals (verify::signatures)",
        time(iterations, || verify::signatures(&thrice).unwrap()),
    );
    report(
        "judge three seals (assess, with CA, no CRL)",
        time(iterations, || {
            assess::assess(
                &thrice,
                std::slice::from_ref(&ca_der),
                &[],
                Timestamp::from_unix(1_800_000_000),
            )
            .unwrap()
        }),
    );
}
