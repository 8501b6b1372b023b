#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Legal name and USCC read from certificates that the openssl CLI makes, as Chinese CAs
//! write them (spec §6.10.1): a CFCA common name, a GM/T 0015 extension, the subject's
//! serialNumber; each for an SM2 and a P-256 key. Codes that disagree or do not check are
//! refused. Certificate paths (root, intermediate, party) and CRLs that `openssl ca` makes
//! validate and revoke as section 6.11.3 says.

use std::path::Path;
use std::process::Command;

use signet_protocol::registration::RegistrationError;
use signet_protocol::x509::identity::{
    CaIdentity, CodeSource, GMT0015_ORGANIZATION_CODE, GMT0015_TAX_NUMBER, IdentityError,
    identity_of,
};

const USCC: &str = "91350100M000100Y43";
const OTHER: &str = "91110000MA01ABCD1M";
const NAME: &str = "示例有限公司";

/// The two kinds of key a Chinese CA certifies: (genpkey arguments, signing arguments).
const KEYS: [(&str, &[&str], &[&str]); 2] = [
    (
        "sm2",
        &["-algorithm", "SM2"],
        &["-sm3", "-sigopt", "distid:1234567812345678"],
    ),
    (
        "p256",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        &["-sha256"],
    ),
];

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (CI installs it): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for each kind of key with `subject` and the `-addext`
/// extensions, read back.
fn identities(
    subject: &str,
    extensions: &[String],
) -> Vec<(&'static str, Result<CaIdentity, IdentityError>)> {
    let dir = tempfile::tempdir().unwrap();
    KEYS.iter()
        .map(|(kind, genpkey, signing)| {
            let key = format!("{kind}.pem");
            let cert = format!("{kind}.der");
            let mut args = vec!["genpkey"];
            args.extend_from_slice(genpkey);
            args.extend(["-out", &key]);
            run(dir.path(), &args);
            let mut args = vec![
                "req", "-x509", "-new", "-key", &key, "-utf8", "-subj", subject,
            ];
            args.extend_from_slice(signing);
            for extension in extensions {
                args.extend(["-addext", extension.as_str()]);
            }
            args.extend(["-days", "2", "-outform", "DER", "-out", &cert]);
            run(dir.path(), &args);
            let der = std::fs::read(dir.path().join(&cert)).unwrap();
            (*kind, identity_of(&der))
        })
        .collect()
}

fn gmt(oid: &str, text: &str) -> String {
    format!("{oid}=ASN1:PRINTABLESTRING:{text}")
}

#[test]
fn a_cfca_common_name() {
    let subject = format!("/C=CN/O={NAME}/CN=041@N{USCC}@{NAME}@00000001");
    for (kind, id) in identities(&subject, &[]) {
        let id = id.unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(id.uscc.unwrap().number(), USCC, "{kind}");
        assert_eq!(id.legal_name.as_deref(), Some(NAME), "{kind}");
        assert_eq!(id.uscc_sources, vec![CodeSource::CfcaCommonName]);
    }
}

#[test]
fn a_gmt_0015_extension_and_a_serial_number() {
    let subject = format!("/C=CN/O={NAME}/serialNumber={USCC}/CN={NAME}");
    let extensions = [gmt(&GMT0015_TAX_NUMBER.to_string(), USCC)];
    for (kind, id) in identities(&subject, &extensions) {
        let id = id.unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(id.uscc.unwrap().number(), USCC, "{kind}");
        assert_eq!(
            id.uscc_sources,
            vec![
                CodeSource::Gmt0015Extension(GMT0015_TAX_NUMBER),
                CodeSource::SerialNumber
            ]
        );
    }
}

#[test]
fn a_wrong_check_character_in_an_extension_is_refused() {
    let bad = "91350100M000100Y44";
    let extensions = [gmt(&GMT0015_ORGANIZATION_CODE.to_string(), bad)];
    for (kind, id) in identities(&format!("/C=CN/O={NAME}/CN={NAME}"), &extensions) {
        assert_eq!(
            id,
            Err(IdentityError::MalformedCode {
                place: CodeSource::Gmt0015Extension(GMT0015_ORGANIZATION_CODE),
                text: bad.into(),
                error: RegistrationError::CheckCharacter {
                    expected: '3',
                    found: '4'
                },
            }),
            "{kind}"
        );
    }
}

#[test]
fn a_common_name_and_serial_number_that_disagree_are_refused() {
    let subject = format!("/C=CN/serialNumber={OTHER}/CN=041@N{USCC}@{NAME}@1");
    for (kind, id) in identities(&subject, &[]) {
        assert_eq!(
            id,
            Err(IdentityError::Mismatch {
                first: CodeSource::CfcaCommonName,
                first_code: USCC.into(),
                second: CodeSource::SerialNumber,
                second_code: OTHER.into(),
            }),
            "{kind}"
        );
    }
}

/// Certificate paths and CRLs as an openssl CA writes them (spec §6.11.3): a root, an
/// intermediate CA and the party's CFCA-style certificate, SM2 with SM3 and P-256 with
/// SHA-256; the path validates to the root and not to another; an openssl CRL that revokes
/// the party's certificate is read as revoking it, and one that does not, as current.
#[test]
fn openssl_paths_and_crls_validate_and_revoke() {
    use signet_protocol::Timestamp;
    use signet_protocol::x509::chain::{ChainError, RevocationStatus, revocation_status, validate};
    use x509_cert::der::Decode;

    for (kind, genpkey, signing) in KEYS {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let sign: Vec<&str> = signing.to_vec();
        let vfy: Vec<&str> = if kind == "sm2" {
            vec!["-vfyopt", "distid:1234567812345678"]
        } else {
            vec![]
        };
        for key in ["root.key", "int.key", "party.key", "other.key"] {
            let mut args = vec!["genpkey"];
            args.extend_from_slice(genpkey);
            args.extend(["-out", key]);
            run(d, &args);
        }
        std::fs::write(
            d.join("ext.cnf"),
            "[ca]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n[ee]\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
        )
        .unwrap();
        for (key, out, cn) in [
            ("root.key", "root.pem", "Root CA"),
            ("other.key", "other.pem", "Root CA"),
        ] {
            let subj = format!("/C=CN/O=Test/CN={cn}");
            let mut args = vec![
                "req",
                "-x509",
                "-new",
                "-key",
                key,
                "-subj",
                &subj,
                "-days",
                "30",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-outform",
                "DER",
                "-out",
                out,
            ];
            args.extend(&sign);
            run(d, &args);
        }
        // The intermediate, then the party's certificate under it.
        let subject = format!("/C=CN/O={NAME}/CN=041@N{USCC}@{NAME}@00000001");
        for (key, csr, subj) in [
            ("int.key", "int.csr", "/C=CN/O=Test/CN=Issuing CA"),
            ("party.key", "party.csr", subject.as_str()),
        ] {
            let mut args = vec![
                "req", "-new", "-key", key, "-utf8", "-subj", subj, "-out", csr,
            ];
            args.extend(&sign);
            run(d, &args);
        }
        for (csr, ca, ca_key, ext, serial, out) in [
            ("int.csr", "root.pem", "root.key", "ca", "0x10", "int.der"),
            ("party.csr", "int.pem", "int.key", "ee", "0x4D", "party.der"),
        ] {
            if ca == "int.pem" {
                run(
                    d,
                    &[
                        "x509", "-inform", "DER", "-in", "int.der", "-out", "int.pem",
                    ],
                );
            } else {
                run(
                    d,
                    &[
                        "x509", "-inform", "DER", "-in", "root.pem", "-out", "root.crt",
                    ],
                );
            }
            let ca = if ca == "root.pem" { "root.crt" } else { ca };
            let mut args = vec![
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                ca,
                "-CAkey",
                ca_key,
                "-extfile",
                "ext.cnf",
                "-extensions",
                ext,
                "-days",
                "20",
                "-set_serial",
                serial,
                "-outform",
                "DER",
                "-out",
                out,
            ];
            args.extend(&sign);
            args.extend(&vfy);
            run(d, &args);
        }
        let read = |f: &str| std::fs::read(d.join(f)).unwrap();
        let path = vec![read("party.der"), read("int.der")];
        let now = Timestamp::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        );
        let valid =
            validate(&path, &[read("root.pem")], now).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(valid.certificates.len(), 3, "{kind}");
        assert!(
            validate(&path, &[read("other.pem")], now).is_err(),
            "{kind}: another root of the same name"
        );
        assert!(
            matches!(
                validate(&path, &[read("root.pem")], now.plus(40 * 86_400)),
                Err(ChainError::Expired { .. })
            ),
            "{kind}"
        );

        // CRLs of the intermediate, by `openssl ca`.
        let md = if kind == "sm2" { "sm3" } else { "sha256" };
        std::fs::write(d.join("index.txt"), "").unwrap();
        std::fs::write(d.join("crlnumber"), "01\n").unwrap();
        std::fs::write(
            d.join("ca.cnf"),
            format!("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md={md}\ndefault_crl_days=7\n"),
        )
        .unwrap();
        run(
            d,
            &[
                "x509",
                "-inform",
                "DER",
                "-in",
                "party.der",
                "-out",
                "party.pem",
            ],
        );
        let gencrl = |out: &str| {
            let mut args = vec![
                "ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "int.key", "-cert", "int.pem",
                "-out", "crl.pem",
            ];
            if kind == "sm2" {
                args.extend(["-sigopt", "distid:1234567812345678"]);
            }
            run(d, &args);
            run(
                d,
                &["crl", "-in", "crl.pem", "-outform", "DER", "-out", out],
            );
        };
        gencrl("good.crl");
        run(
            d,
            &[
                "ca",
                "-config",
                "ca.cnf",
                "-revoke",
                "party.pem",
                "-keyfile",
                "int.key",
                "-cert",
                "int.pem",
            ],
        );
        gencrl("revoked.crl");
        let party = x509_cert::Certificate::from_der(&read("party.der")).unwrap();
        let int = x509_cert::Certificate::from_der(&read("int.der")).unwrap();
        let later = now.plus(5);
        let good = read("good.crl");
        assert!(
            matches!(
                revocation_status(&party, &int, &[&good], later),
                RevocationStatus::Good { .. }
            ),
            "{kind}"
        );
        let revoked = read("revoked.crl");
        assert!(
            matches!(
                revocation_status(&party, &int, &[&good, &revoked], later),
                RevocationStatus::Revoked { .. }
            ),
            "{kind}"
        );
        // Eight days on, the CRL is past its nextUpdate: unknown, not good.
        assert!(
            matches!(
                revocation_status(&party, &int, &[&good], now.plus(8 * 86_400)),
                RevocationStatus::Unknown { .. }
            ),
            "{kind}"
        );
        // A CRL is checked under its issuer's key: the root's key does not sign this one.
        let root = x509_cert::Certificate::from_der(&read("root.pem")).unwrap();
        assert!(
            matches!(
                revocation_status(&int, &root, &[&good], later),
                RevocationStatus::Unknown { newest: None }
            ),
            "{kind}"
        );
    }
}
