//! The conformance runner drives the reference implementation through every vector over the
//! JSON contract of spec/conformance.md, and every vector passes.

use std::process::Command;

#[test]
fn the_reference_implementation_passes_every_vector() {
    let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors");
    let output = Command::new(env!("CARGO_BIN_EXE_signet-conformance"))
        .args([
            "--impl",
            env!("CARGO_BIN_EXE_signet-conformance-impl"),
            "--vectors",
            vectors,
        ])
        .output()
        .expect("the runner starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.ends_with("0 failed"), "{summary}");
}

#[test]
fn the_runner_fails_an_implementation_that_answers_wrongly() {
    let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors");
    // An implementation that calls everything valid.
    let output = Command::new(env!("CARGO_BIN_EXE_signet-conformance"))
        .args([
            "--impl",
            "while read -r line; do echo '{\"result\":\"valid\"}'; done",
            "--vectors",
            vectors,
        ])
        .output()
        .expect("the runner starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(stdout.contains("FAIL encoding-008"), "{stdout}");
}
