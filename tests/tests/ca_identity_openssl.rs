#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Legal name and USCC read from certificates that the openssl CLI makes, as Chinese CAs
//! write them (spec §6.10.1): a CFCA common name, a GM/T 0015 extension, the subject's
//! serialNumber; each for an SM2 and a P-256 key. Codes that disagree or do not check are
//! refused.

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
