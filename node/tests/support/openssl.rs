//! An openssl CA for the certificate tests, as a licensed CA's certificates look: a root,
//! end-entity certificates with CFCA-style subjects, and CRLs made by `openssl ca`.

use std::path::Path;
use std::process::{Command, Output};

/// GB/T 32918's default distinguishing identifier, which every SM2 command names (openssl's
/// own default differs between commands).
pub const DISTID: &str = "distid:1234567812345678";

/// Runs `program` in `dir`, which must succeed.
pub fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (CI installs openssl): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `genpkey`'s key options and the signing options of SM2 with SM3 (`sm2`) or P-256 with
/// SHA-256.
fn algorithm(sm2: bool) -> (&'static [&'static str], Vec<&'static str>) {
    if sm2 {
        (&["-algorithm", "SM2"], vec!["-sm3", "-sigopt", DISTID])
    } else {
        (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            vec!["-sha256"],
        )
    }
}

fn genpkey(dir: &Path, sm2: bool, out: &str) {
    let mut args = vec!["genpkey"];
    args.extend_from_slice(algorithm(sm2).0);
    args.extend(["-out", out]);
    run("openssl", &args, dir);
}

/// A CA in `dir`: `ca.key`, its self-signed `ca.pem` (`C=CN, O=Test CA, CN=Test CA`), a CA
/// database for CRLs and an empty CRL `ca.crl`.
pub fn ca(dir: &Path, sm2: bool) {
    genpkey(dir, sm2, "ca.key");
    self_signed_ca(dir, sm2);
}

/// [`ca`] with an RSA-2048 key, signing sha256WithRSAEncryption (as Chinese CAs' RSA roots
/// do). Its certificates and CRLs are made by [`issue`] and [`gencrl`] with `sm2` false: the
/// keys they certify are P-256, signed with `-sha256` like the P-256 CA's.
pub fn rsa_ca(dir: &Path) {
    genrsa(dir, 2048, "ca.key");
    self_signed_ca(dir, false);
}

/// An RSA key of `bits` in `dir/out` (PKCS #8 PEM).
fn genrsa(dir: &Path, bits: u32, out: &str) {
    let bits = format!("rsa_keygen_bits:{bits}");
    run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &bits,
            "-out",
            out,
        ],
        dir,
    );
}

/// The self-signed `ca.pem` for `ca.key`, the CA database and the empty CRL of [`ca`].
fn self_signed_ca(dir: &Path, sm2: bool) {
    let mut args = vec![
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/C=CN/O=Test CA/CN=Test CA",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        "ca.pem",
    ];
    args.extend(algorithm(sm2).1);
    run("openssl", &args, dir);
    ca_database(dir, sm2);
}

/// An intermediate CA in `dir` (`ca.key`, its `ca.pem` issued by the CA in `parent`, serial
/// `serial`, with `crl_url` as its CRL distribution point when given; a CA database for CRLs
/// and an empty CRL `ca.crl`), so that [`issue`] and [`gencrl`] work in `dir` as for a root.
pub fn intermediate(parent: &Path, dir: &Path, sm2: bool, serial: &str, crl_url: Option<&str>) {
    genpkey(dir, sm2, "ca.key");
    let mut args = vec![
        "req",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/C=CN/O=Test CA/CN=Test Intermediate CA",
        "-out",
        "ca.csr",
    ];
    args.extend(algorithm(sm2).1);
    run("openssl", &args, dir);
    let distribution_point = crl_url
        .map(|url| format!("crlDistributionPoints=URI:{url}\n"))
        .unwrap_or_default();
    std::fs::write(
        dir.join("ext.cnf"),
        format!(
            "[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n{distribution_point}"
        ),
    )
    .unwrap();
    let (csr, parent_pem, parent_key, out) = (
        dir.join("ca.csr"),
        parent.join("ca.pem"),
        parent.join("ca.key"),
        dir.join("ca.pem"),
    );
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        csr.to_str().unwrap(),
        "-CA",
        parent_pem.to_str().unwrap(),
        "-CAkey",
        parent_key.to_str().unwrap(),
        "-extfile",
        "ext.cnf",
        "-extensions",
        "v3",
        "-days",
        "25",
        "-set_serial",
        serial,
        "-out",
        out.to_str().unwrap(),
    ];
    args.extend(algorithm(sm2).1);
    if sm2 {
        args.extend(["-vfyopt", DISTID]);
    }
    run("openssl", &args, dir);
    ca_database(dir, sm2);
}

/// The CA database of the CA in `dir`, its `ca.cnf` and its empty CRL `ca.crl`.
fn ca_database(dir: &Path, sm2: bool) {
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    let md = if sm2 { "sm3" } else { "sha256" };
    std::fs::write(
        dir.join("ca.cnf"),
        format!("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md={md}\ndefault_crl_days=7\n"),
    )
    .unwrap();
    gencrl(dir, sm2, "ca.crl");
}

/// The CA in `dir` issues `<stem>.pem` (serial `serial`, hex with `0x`) for a fresh key
/// `<stem>.key`, to the organisation `name` with the CFCA-style common name
/// `041@N<uscc>@<name>@00000001`.
pub fn issue(dir: &Path, sm2: bool, stem: &str, name: &str, uscc: &str, serial: &str) {
    issue_with_crl_url(dir, sm2, stem, name, uscc, serial, None);
}

/// [`issue`], the certificate naming `crl_url` as its CRL distribution point when given.
pub fn issue_with_crl_url(
    dir: &Path,
    sm2: bool,
    stem: &str,
    name: &str,
    uscc: &str,
    serial: &str,
    crl_url: Option<&str>,
) {
    genpkey(dir, sm2, &format!("{stem}.key"));
    certify(dir, sm2, stem, name, uscc, serial, crl_url);
}

/// [`issue`] for an RSA key of `bits` (the CA is P-256 or RSA: [`ca`] with `sm2` false, or
/// [`rsa_ca`]), as CFCA issues RSA certificates.
pub fn issue_rsa(dir: &Path, bits: u32, stem: &str, name: &str, uscc: &str, serial: &str) {
    genrsa(dir, bits, &format!("{stem}.key"));
    certify(dir, false, stem, name, uscc, serial, None);
}

/// The CA in `dir` certifies the key `{stem}.key` in `{stem}.pem` (see [`issue`]).
fn certify(
    dir: &Path,
    sm2: bool,
    stem: &str,
    name: &str,
    uscc: &str,
    serial: &str,
    crl_url: Option<&str>,
) {
    let (key, csr, pem) = (
        format!("{stem}.key"),
        format!("{stem}.csr"),
        format!("{stem}.pem"),
    );
    let subject = format!("/C=CN/O={name}/CN=041@N{uscc}@{name}@00000001");
    let mut args = vec![
        "req", "-new", "-key", &key, "-utf8", "-subj", &subject, "-out", &csr,
    ];
    args.extend(algorithm(sm2).1);
    run("openssl", &args, dir);
    let distribution_point = crl_url
        .map(|url| format!("crlDistributionPoints=URI:{url}\n"))
        .unwrap_or_default();
    std::fs::write(
        dir.join("ext.cnf"),
        format!(
            "[v3]\nkeyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=CA:FALSE\n{distribution_point}"
        ),
    )
    .unwrap();
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-extfile",
        "ext.cnf",
        "-extensions",
        "v3",
        "-days",
        "20",
        "-set_serial",
        serial,
        "-out",
        &pem,
    ];
    args.extend(algorithm(sm2).1);
    if sm2 {
        args.extend(["-vfyopt", DISTID]);
    }
    run("openssl", &args, dir);
}

/// Revokes `certificate` (a PEM file in `dir`) at the CA in `dir`: its next CRL lists it.
pub fn revoke(dir: &Path, certificate: &str) {
    let args = [
        "ca",
        "-config",
        "ca.cnf",
        "-revoke",
        certificate,
        "-keyfile",
        "ca.key",
        "-cert",
        "ca.pem",
    ];
    run("openssl", &args, dir);
}

/// A CRL of the CA in `dir`, written to `out`, listing what `openssl ca -revoke` revoked.
pub fn gencrl(dir: &Path, sm2: bool, out: &str) {
    let mut args = vec![
        "ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", out,
    ];
    if sm2 {
        args.extend(["-sigopt", DISTID]);
    }
    run("openssl", &args, dir);
}
