//! Certificate-backed identities between two real nodes (spec §6.11): party A is created
//! with `signet init --certificate` from a CFCA-style certificate that an openssl CA issued
//! (SM2, then P-256, then a P-256 key and an RSA key under an RSA CA); party B has only that
//! CA's root and CRL in its policy
//! (`signet policy ca add`, `signet policy crl add`) and no verifier at all, and trusts A
//! once gossip brings A's key log and attestations, and, as a verifier, attests A's identity
//! from the certificate with `signet attest identity --certificate`. When the CA revokes A's
//! certificate, B no longer trusts A.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use signet_node::service::view::PartyName;
use signet_protocol::attestation::{Claims, VerificationMethod};
use support::openssl::{self, gencrl, run};
use support::{create, start, until};

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");
const USCC: &str = "91350100M000100Y43";
const NAME: &str = "示例有限公司";

/// The key of an openssl CA in these tests.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CaKey {
    /// SM2 with SM3, certifying an SM2 key.
    Sm2,
    /// P-256 with SHA-256, certifying a P-256 key.
    P256,
    /// RSA-2048 with SHA-256 (sha256WithRSAEncryption), certifying a P-256 key.
    Rsa,
    /// The same RSA CA certifying an RSA-2048 key, as CFCA's RSA certificates are.
    RsaKey,
}

impl CaKey {
    /// Whether the CA and the party's key are SM2.
    fn sm2(self) -> bool {
        self == Self::Sm2
    }
}

/// An openssl CA in `dir` (`ca.key`, `ca.pem`, a CA database for CRLs, an empty CRL
/// `ca.crl`) that issued the party's certificate `party.pem` (serial 4D) for `party.key`,
/// with a CFCA-style subject.
fn openssl_ca(dir: &Path, key: CaKey) {
    match key {
        CaKey::Rsa | CaKey::RsaKey => openssl::rsa_ca(dir),
        _ => openssl::ca(dir, key.sm2()),
    }
    if key == CaKey::RsaKey {
        openssl::issue_rsa(dir, 2048, "party", NAME, USCC, "0x4D");
    } else {
        openssl::issue(dir, key.sm2(), "party", NAME, USCC, "0x4D");
    }
}

fn signet(args: &[&str], dir: &Path) -> Output {
    run(SIGNET, args, dir)
}

fn name_of(node: &support::Node, party: signet_protocol::party::PartyId) -> PartyName {
    node.service.party_names(&[party]).unwrap().remove(0)
}

async fn a_certified_party_is_trusted_by_a_counterparty_with_only_the_ca_root(key: CaKey) {
    let root = tempfile::tempdir().unwrap();
    let ca = root.path().join("ca");
    std::fs::create_dir(&ca).unwrap();
    openssl_ca(&ca, key);

    // A: its identity from its certificate, nothing else.
    let a_dir = root.path().join("A");
    let a_delegate = root.path().join("A-delegate.key");
    let out = signet(
        &[
            "init",
            "--dir",
            a_dir.to_str().unwrap(),
            "--certificate",
            ca.join("party.pem").to_str().unwrap(),
            "--certificate-key",
            ca.join("party.key").to_str().unwrap(),
            "--delegate-key",
            a_delegate.to_str().unwrap(),
            "--next-root-key",
            root.path().join("A-next-root.key").to_str().unwrap(),
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api",
            "127.0.0.1:0",
        ],
        root.path(),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(NAME) && said.contains("CA certificate"),
        "{said}"
    );
    let key_file = a_dir.join("keys").join("certificate.pem");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // B: no anchor, no verifier; only the CA's root and its CRL.
    let (b_dir, b_delegate) = create(root.path(), "B", &[]);
    let b = b_dir.to_str().unwrap();
    signet(
        &[
            "policy",
            "ca",
            "add",
            "--dir",
            b,
            "--name",
            "Test CA",
            ca.join("ca.pem").to_str().unwrap(),
        ],
        root.path(),
    );
    signet(
        &[
            "policy",
            "crl",
            "add",
            "--dir",
            b,
            ca.join("ca.crl").to_str().unwrap(),
        ],
        root.path(),
    );
    support::test_tokens(&b_dir);

    let a = start("A", &a_dir, &a_delegate).await;
    let b_node = start("B", &b_dir, &b_delegate).await;
    b_node.service.add_peer(&a.address).await.unwrap();
    a.service.add_peer(&b_node.address).await.unwrap();
    let party = a.party();
    until("B trusts A from its certificate", || {
        name_of(&b_node, party).basis == "certificate"
    })
    .await;
    let name = name_of(&b_node, party);
    assert_eq!(name.legal_name.as_deref(), Some(NAME));
    let evidence = name.evidence.unwrap();
    assert!(
        evidence.contains("identity from CA certificate")
            && evidence.contains("serial 4D")
            && evidence.contains(USCC)
            && evidence.contains("Test CA"),
        "{evidence}"
    );
    // No verifier attested anything about A: B holds A's own attestations only.
    assert!(
        b_node
            .service
            .attestations()
            .unwrap()
            .iter()
            .filter(|s| s.payload().subject == party)
            .all(|s| s.payload().issuer == party)
    );

    // B, as a verifier, attests A's identity from the certificate (`signet attest identity
    // --certificate`), for parties that trust B but not the CA; A's own node, without the CA
    // root in its policy, refuses to.
    // B's API, served until the attestation is made (B restarts below).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap().to_string();
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(signet_node::api::serve(
        b_node.service.clone(),
        listener,
        async move {
            let _ = api_stopped.await;
        },
    ));
    let (chain, subject) = (ca.join("party.pem"), party.to_string());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(SIGNET)
            .args(["--json", "attest", "identity", "--subject", &subject])
            .args([
                "--certificate",
                chain.to_str().unwrap(),
                "--representative",
                "张三",
            ])
            .env("SIGNET_API", format!("http://{api}"))
            .env("SIGNET_TOKEN", "admin-token")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop_api.send(()).unwrap();
    server.await.unwrap().unwrap();
    let attested = b_node
        .service
        .attestations()
        .unwrap()
        .into_iter()
        .find(|s| {
            let a = s.payload();
            a.issuer == b_node.party()
                && a.subject == party
                && matches!(a.claims, Claims::Identity(_))
        })
        .expect("B's identity attestation about A");
    let Claims::Identity(claims) = &attested.payload().claims else {
        panic!("{attested:?}");
    };
    assert_eq!(claims.method, VerificationMethod::CaCertificate);
    assert_eq!(
        (claims.legal_name.as_str(), claims.registration.number()),
        (NAME, USCC)
    );
    let leaf = signet_node::certificate::read_chain(&std::fs::read(ca.join("party.pem")).unwrap())
        .unwrap()
        .remove(0);
    let refused = a
        .service
        .attest_identity_from_certificate(party, &leaf, "张三", 365)
        .unwrap_err();
    assert!(
        refused.to_string().contains("does not establish"),
        "{refused}"
    );

    // The CA revokes A's certificate; B, given the new CRL, no longer trusts A.
    let (b_dir, b_delegate) = b_node.stop().await;
    openssl::revoke(&ca, "party.pem");
    gencrl(&ca, key.sm2(), "revoked.crl");
    signet(
        &[
            "policy",
            "crl",
            "add",
            "--dir",
            b,
            ca.join("revoked.crl").to_str().unwrap(),
        ],
        root.path(),
    );
    let b_node = start("B", &b_dir, &b_delegate).await;
    let name = name_of(&b_node, party);
    assert_eq!(name.basis, "unverified", "{name:?}");
    assert!(
        name.unverified_because
            .as_deref()
            .is_some_and(|why| why.contains("revoked")),
        "{name:?}"
    );
    b_node.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sm2_certified_party_is_trusted_on_the_ca_root_alone() {
    a_certified_party_is_trusted_by_a_counterparty_with_only_the_ca_root(CaKey::Sm2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p256_certified_party_is_trusted_on_the_ca_root_alone() {
    a_certified_party_is_trusted_by_a_counterparty_with_only_the_ca_root(CaKey::P256).await;
}

/// An RSA CA root (spec §6.11.3): its signature on the party's certificate and on its CRLs
/// verify, so the party is trusted on it, and untrusted once revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_certified_by_an_rsa_ca_is_trusted_on_the_ca_root_alone() {
    a_certified_party_is_trusted_by_a_counterparty_with_only_the_ca_root(CaKey::Rsa).await;
}

#[test]
fn init_refuses_a_key_that_is_not_the_certificates() {
    let root = tempfile::tempdir().unwrap();
    openssl_ca(root.path(), CaKey::Sm2);
    let out = Command::new(SIGNET)
        .args([
            "init",
            "--dir",
            "A",
            "--certificate",
            "party.pem",
            "--certificate-key",
            "ca.key",
            "--delegate-key",
            "d.key",
            "--next-root-key",
            "n.key",
        ])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the certificate's key"));
    assert!(!root.path().join("A").join("signet.toml").exists());
}

/// A party's own certified RSA key (as CFCA's RSA certificates certify) is declared in its
/// key log as an RS256 `pdf` key (spec §4.3.2) and signs its possession proof (PKCS #1 v1.5
/// with SHA-256): the counterparty trusts it on the CA's root alone, and not once revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_whose_certified_key_is_rsa_is_trusted_on_the_ca_root_alone() {
    a_certified_party_is_trusted_by_a_counterparty_with_only_the_ca_root(CaKey::RsaKey).await;
}

/// An RSA key shorter than 2048 bits is refused by name before anything is written, even
/// where its CA signed its certificate.
#[test]
fn init_refuses_an_rsa_key_of_1024_bits() {
    let root = tempfile::tempdir().unwrap();
    openssl::rsa_ca(root.path());
    openssl::issue_rsa(root.path(), 1024, "party", NAME, USCC, "0x4E");
    let out = Command::new(SIGNET)
        .args([
            "init",
            "--dir",
            "A",
            "--certificate",
            "party.pem",
            "--certificate-key",
            "party.key",
            "--delegate-key",
            "d.key",
            "--next-root-key",
            "n.key",
        ])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rsa private key of 2048 to 4096 bits"),
        "{out:?}"
    );
    assert!(!root.path().join("A").join("signet.toml").exists());
}
