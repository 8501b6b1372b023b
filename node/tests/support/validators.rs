//! PDF validators nobody here wrote, run as a user would: pyHanko, poppler's `pdfsig` (with
//! an NSS database trusting the CA) and `qpdf --check`. A missing tool skips its check,
//! unless `SIGNET_REQUIRE_PDF_TOOLS=1` (CI), when it fails the test.

use std::path::Path;
use std::process::Command;

/// Whether `tool` runs; a missing tool fails the test when `SIGNET_REQUIRE_PDF_TOOLS=1`.
pub fn tool_available(tool: &str, probe: &str) -> bool {
    let found = Command::new(tool).arg(probe).output().is_ok();
    if !found {
        assert!(
            std::env::var("SIGNET_REQUIRE_PDF_TOOLS").as_deref() != Ok("1"),
            "{tool} is not installed and SIGNET_REQUIRE_PDF_TOOLS=1"
        );
        println!("skipped {tool} checks: {tool} is not installed");
    }
    found
}

/// Runs `program`: whether it succeeded, and its stdout and stderr.
pub fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `pyhanko sign validate` with `ca` (DER or PEM) as the only trust root, revocation not
/// fetched: whether every signature is valid and trusted, and the report.
pub fn pyhanko(pdf: &Path, ca: &Path) -> (bool, String) {
    run(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--pretty-print",
            "--trust",
            path_str(ca),
            "--trust-replace",
            "--no-revocation-check",
            path_str(pdf),
        ],
    )
}

/// `pdfsig` with an NSS database in `dir` trusting `ca` (DER): its report. Without
/// `certutil` (Debian `libnss3-tools`), plain `pdfsig`.
pub fn pdfsig_trusting(dir: &Path, ca: &Path, pdf: &Path) -> String {
    if Command::new("certutil").arg("-H").output().is_err() {
        println!("pdfsig without a trust database: certutil (libnss3-tools) is not installed");
        return run("pdfsig", &[path_str(pdf)]).1;
    }
    let nss = dir.join("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", path_str(&nss));
    let (ok, text) = run("certutil", &["-N", "-d", &db, "--empty-password"]);
    assert!(ok, "{text}");
    let (ok, text) = run(
        "certutil",
        &[
            "-A",
            "-d",
            &db,
            "-n",
            "signet-ca",
            "-t",
            "CT,C,C",
            "-i",
            path_str(ca),
        ],
    );
    assert!(ok, "{text}");
    run("pdfsig", &["-nssdir", &db, path_str(pdf)]).1
}

/// `qpdf --check`: whether it found no error, and its report.
pub fn qpdf_check(pdf: &Path) -> (bool, String) {
    run("qpdf", &["--check", path_str(pdf)])
}
