//! A node keeps its CA roots' CRLs current by itself (spec §6.11.3; node/src/service/crl.rs):
//! party A holds an SM2 certificate from an openssl CA; node B trusts only that CA's root,
//! added with `signet policy ca add --crl-url` pointing at a loopback HTTP server that
//! serves the CA's CRL. B fetches the CRL and trusts A; when the CA revokes A's certificate
//! and publishes a new CRL, `signet policy crl fetch` makes B stop trusting A at once,
//! without a restart. A forged CRL, a stale one, an older one, an oversized body and an
//! unreachable URL are each refused with a clear error and change nothing. Below an
//! intermediate CA, B keeps the intermediate's CRL current too, and A is trusted only while
//! B holds it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use signet_node::certificate::pem_blocks;
use signet_node::service::view::PartyName;
use support::openssl::{self, DISTID, gencrl, run};
use support::{create, serve_api, start, until};

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");
const USCC: &str = "91350100M000100Y43";
const NAME: &str = "示例有限公司";

fn name_of(node: &support::Node, party: signet_protocol::party::PartyId) -> PartyName {
    node.service.party_names(&[party]).unwrap().remove(0)
}

/// What the loopback CRL server answers at `/ca.crl`.
type Served = Arc<Mutex<Vec<u8>>>;

/// Serves `served` at `http://ADDR/ca.crl` until `stop` is sent; returns the URL.
async fn crl_server(served: Served, stop: tokio::sync::oneshot::Receiver<()>) -> String {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ca.crl", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/ca.crl",
        get(move || {
            let body = served.lock().unwrap().clone();
            async move { body }
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await
            .unwrap();
    });
    url
}

/// Runs `signet ARGS` against B's API as admin.
async fn signet_api(api: &str, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
    let api = format!("http://{api}");
    tokio::task::spawn_blocking(move || {
        Command::new(SIGNET)
            .arg("--json")
            .args(&args)
            .env("SIGNET_API", api)
            .env("SIGNET_TOKEN", "admin-token")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// B's one CA root as `signet policy ca list` shows it.
async fn listed_root(api: &str) -> serde_json::Value {
    let out = signet_api(api, &["policy", "ca", "list"]).await;
    assert!(out.status.success(), "{out:?}");
    let roots: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(roots.as_array().unwrap().len(), 1, "{roots}");
    roots[0].clone()
}

/// `signet policy crl fetch` refuses the CRL with a message containing `why`, and B's CRL
/// status but for its last fetch and error is `before`.
async fn fetch_is_refused(api: &str, why: &str, before: &serde_json::Value) {
    let out = signet_api(api, &["policy", "crl", "fetch"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains(why), "{why:?} not in {stderr}");
    let after = listed_root(api).await;
    assert!(
        after["crl"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(why)),
        "{after}"
    );
    for field in ["this_update", "next_update", "number", "source"] {
        assert_eq!(after["crl"][field], before["crl"][field], "{field}");
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// The DER CRLs in B's `crls` folder.
fn held_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(dir.join("crls"))
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read(e.unwrap().path()).ok())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// An openssl SM2 CA in `ROOT/ca` publishing its CRL at a loopback URL; party A certified
/// by it (its certificate naming that URL as its distribution point when `point`); node B
/// with only the CA's root, added over B's API (with `--crl-url` unless `point`), trusting A
/// once it has fetched the CRL.
struct World {
    root: tempfile::TempDir,
    ca: std::path::PathBuf,
    served: Served,
    stop_server: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    url: String,
    a: support::Node,
    b: support::Node,
    api: String,
    party: signet_protocol::party::PartyId,
}

impl World {
    async fn new(point: bool) -> Self {
        let root = tempfile::tempdir().unwrap();
        let ca = root.path().join("ca");
        std::fs::create_dir(&ca).unwrap();
        openssl::ca(&ca, true);
        // The CA publishes its CRL on a loopback HTTP server.
        let served: Served = Arc::new(Mutex::new(read(&ca.join("ca.crl"))));
        let (stop_server, server_stopped) = tokio::sync::oneshot::channel();
        let url = crl_server(served.clone(), server_stopped).await;
        openssl::issue_with_crl_url(
            &ca,
            true,
            "party",
            NAME,
            USCC,
            "0x4D",
            point.then_some(url.as_str()),
        );

        // A: its identity from its certificate.
        let a_dir = root.path().join("A");
        let a_delegate = root.path().join("A-delegate.key");
        let out = Command::new(SIGNET)
            .args(["init", "--dir", a_dir.to_str().unwrap()])
            .args(["--certificate", ca.join("party.pem").to_str().unwrap()])
            .args(["--certificate-key", ca.join("party.key").to_str().unwrap()])
            .args(["--delegate-key", a_delegate.to_str().unwrap()])
            .args([
                "--next-root-key",
                root.path().join("A-next-root.key").to_str().unwrap(),
            ])
            .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");

        // B: no anchor, no verifier, no CRL file; the CA root added to the running node.
        let (b_dir, b_delegate) = create(root.path(), "B", &[]);
        support::test_tokens(&b_dir);
        let a = start("A", &a_dir, &a_delegate).await;
        let b = start("B", &b_dir, &b_delegate).await;
        let api = serve_api(&b).await;
        let pem = ca.join("ca.pem");
        let mut args = vec!["policy", "ca", "add", "--name", "Test CA"];
        if !point {
            args.extend(["--crl-url", &url]);
        }
        args.push(pem.to_str().unwrap());
        let out = signet_api(&api, &args).await;
        assert!(out.status.success(), "{out:?}");
        b.service.add_peer(&a.address).await.unwrap();
        a.service.add_peer(&b.address).await.unwrap();
        let party = a.party();
        until(
            "B fetches the CA's CRL and trusts A from its certificate",
            || name_of(&b, party).basis == "certificate",
        )
        .await;
        Self {
            root,
            ca,
            served,
            stop_server: Mutex::new(Some(stop_server)),
            url,
            a,
            b,
            api,
            party,
        }
    }

    async fn stop(self) {
        // B's API server, serving until the test ends, still holds B's service: stop B's
        // tasks without waiting for the service to be dropped.
        self.b.shutdown.send(true).unwrap();
        self.b.service.join().await;
        self.a.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_without_a_url_has_its_crl_fetched_from_its_certificates_distribution_points() {
    let world = World::new(true).await;
    let listed = listed_root(&world.api).await;
    assert_eq!(listed["crl"]["source"], world.url.as_str(), "{listed}");
    assert!(listed["crl"]["crl_url"].is_null(), "{listed}");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_fetches_its_ca_roots_crls_and_applies_a_revocation_without_restarting() {
    let world = World::new(false).await;
    let (ca, served, url, b, api, party) = (
        &world.ca,
        &world.served,
        &world.url,
        &world.b,
        world.api.as_str(),
        world.party,
    );
    let b_dir = &b.dir;
    let first = listed_root(api).await;
    assert_eq!(first["crl"]["source"], url.as_str(), "{first}");
    assert_eq!(first["crl"]["crl_url"], url.as_str(), "{first}");
    assert!(first["crl"]["last_fetch"].is_u64(), "{first}");
    assert!(first["crl"]["last_error"].is_null(), "{first}");
    assert!(first["crl"]["next_update"].as_u64() > first["crl"]["this_update"].as_u64());
    let first_der = pem_blocks(&read(&ca.join("ca.crl")), "X509 CRL").remove(0);
    assert_eq!(held_files(b_dir), vec![first_der.clone()]);

    // A CRL in the CA's name signed by another key (another openssl CA, same subject).
    let other = world.root.path().join("other");
    std::fs::create_dir(&other).unwrap();
    openssl::ca(&other, true);
    *served.lock().unwrap() = read(&other.join("ca.crl"));
    fetch_is_refused(api, "signature does not verify", &first).await;
    let out = signet_api(
        api,
        &[
            "policy",
            "crl",
            "add",
            other.join("ca.crl").to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature does not verify"));

    // A stale CRL of the CA (a greater number, but its nextUpdate was yesterday).
    let asn1_time = |days_ago: u64| {
        let t = signet_node::service::now().unix() - days_ago * 86_400;
        let text = signet_protocol::Timestamp::from_unix(t).to_string();
        format!(
            "{}Z",
            text.chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
        )
    };
    let (last, next) = (asn1_time(2), asn1_time(1));
    run(
        "openssl",
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-gencrl",
            "-keyfile",
            "ca.key",
            "-cert",
            "ca.pem",
            "-crl_lastupdate",
            &last,
            "-crl_nextupdate",
            &next,
            "-sigopt",
            DISTID,
            "-out",
            "stale.crl",
        ],
        ca,
    );
    *served.lock().unwrap() = read(&ca.join("stale.crl"));
    fetch_is_refused(api, "stale", &first).await;

    // An oversized body.
    *served.lock().unwrap() = vec![0x30; 2 << 20];
    fetch_is_refused(api, "larger than", &first).await;
    assert_eq!(name_of(b, party).basis, "certificate", "nothing changed");
    assert_eq!(held_files(b_dir), vec![first_der]);

    // The CA revokes A's certificate and publishes a new CRL; B, told to fetch now, stops
    // trusting A at once.
    run(
        "openssl",
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-revoke",
            "party.pem",
            "-keyfile",
            "ca.key",
            "-cert",
            "ca.pem",
        ],
        ca,
    );
    gencrl(ca, true, "revoked.crl");
    *served.lock().unwrap() = read(&ca.join("revoked.crl"));
    let out = signet_api(api, &["policy", "crl", "fetch"]).await;
    assert!(out.status.success(), "{out:?}");
    let name = name_of(b, party);
    assert_eq!(name.basis, "unverified", "{name:?}");
    assert!(
        name.unverified_because
            .as_deref()
            .is_some_and(|why| why.contains("revoked")),
        "{name:?}"
    );
    let revoked = listed_root(api).await;
    assert!(
        revoked["crl"]["number"] != first["crl"]["number"],
        "{revoked}"
    );
    assert!(revoked["crl"]["last_error"].is_null(), "{revoked}");
    // Written to `crls` (the superseded one removed), so it holds after a restart.
    let revoked_der = pem_blocks(&read(&ca.join("revoked.crl")), "X509 CRL").remove(0);
    assert_eq!(held_files(b_dir), vec![revoked_der]);

    // The older CRL again: not newer, refused; A stays revoked.
    *served.lock().unwrap() = read(&ca.join("ca.crl"));
    fetch_is_refused(api, "not newer", &revoked).await;
    assert_eq!(name_of(b, party).basis, "unverified");

    // A newer CRL given by hand (`signet policy crl add`) is taken live.
    gencrl(ca, true, "later.crl");
    let out = signet_api(
        api,
        &[
            "policy",
            "crl",
            "add",
            ca.join("later.crl").to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let later = listed_root(api).await;
    assert_eq!(later["crl"]["source"], "api", "{later}");
    assert!(
        later["crl"]["number"] != revoked["crl"]["number"],
        "{later}"
    );

    // The CA's server is gone: unreachable, refused, nothing changed.
    let stop_server = world.stop_server.lock().unwrap().take().unwrap();
    stop_server.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    fetch_is_refused(api, "cannot connect", &later).await;
    assert_eq!(name_of(b, party).basis, "unverified");

    world.stop().await;
}

/// A path root → intermediate CA → A's certificate (spec §6.11.3): B holds only the root
/// (its CRL from `--crl-url`) and learns the intermediate from A's `ca-identity` path. While
/// the intermediate's CRL cannot be had, A is not trusted; once B fetches it from the
/// distribution point of A's certificate, A is; when the intermediate revokes A's
/// certificate, B stops trusting A at the next fetch, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intermediate_cas_crl_is_kept_current_and_its_revocation_applied_without_restarting() {
    let root = tempfile::tempdir().unwrap();
    let (ca, sub) = (root.path().join("ca"), root.path().join("sub"));
    std::fs::create_dir(&ca).unwrap();
    std::fs::create_dir(&sub).unwrap();
    openssl::ca(&ca, true);
    let root_served: Served = Arc::new(Mutex::new(read(&ca.join("ca.crl"))));
    let (stop_root, root_stopped) = tokio::sync::oneshot::channel();
    let root_url = crl_server(root_served, root_stopped).await;
    // The intermediate's CRL server answers nothing usable at first.
    let sub_served: Served = Arc::new(Mutex::new(Vec::new()));
    let (stop_sub, sub_stopped) = tokio::sync::oneshot::channel();
    let sub_url = crl_server(sub_served.clone(), sub_stopped).await;
    openssl::intermediate(&ca, &sub, true, "0x20", None);
    openssl::issue_with_crl_url(&sub, true, "party", NAME, USCC, "0x4D", Some(&sub_url));
    let chain = root.path().join("chain.pem");
    std::fs::write(
        &chain,
        [read(&sub.join("party.pem")), read(&sub.join("ca.pem"))].concat(),
    )
    .unwrap();

    let a_dir = root.path().join("A");
    let a_delegate = root.path().join("A-delegate.key");
    let out = Command::new(SIGNET)
        .args(["init", "--dir", a_dir.to_str().unwrap()])
        .args(["--certificate", chain.to_str().unwrap()])
        .args(["--certificate-key", sub.join("party.key").to_str().unwrap()])
        .args(["--delegate-key", a_delegate.to_str().unwrap()])
        .args([
            "--next-root-key",
            root.path().join("A-next-root.key").to_str().unwrap(),
        ])
        .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (b_dir, b_delegate) = create(root.path(), "B", &[]);
    support::test_tokens(&b_dir);
    let a = start("A", &a_dir, &a_delegate).await;
    let b = start("B", &b_dir, &b_delegate).await;
    let api = serve_api(&b).await;
    let pem = ca.join("ca.pem");
    let out = signet_api(
        &api,
        &[
            "policy",
            "ca",
            "add",
            "--name",
            "Test CA",
            "--crl-url",
            &root_url,
            pem.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    b.service.add_peer(&a.address).await.unwrap();
    a.service.add_peer(&b.address).await.unwrap();
    let party = a.party();

    // The root's CRL is current, the intermediate's cannot be had: not trusted.
    until(
        "B learns the intermediate CA from A's path and fails to fetch its CRL",
        || {
            b.service
                .intermediate_crl_statuses()
                .unwrap()
                .first()
                .is_some_and(|i| i.crl.last_error.is_some())
        },
    )
    .await;
    let listed = listed_root(&api).await;
    assert!(listed["crl"]["last_error"].is_null(), "{listed}");
    let below = &listed["intermediates"][0];
    assert_eq!(below["root"], "Test CA", "{listed}");
    assert!(
        below["subject"]
            .as_str()
            .is_some_and(|s| s.contains("Test Intermediate CA")),
        "{listed}"
    );
    assert!(below["crl"]["this_update"].is_null(), "{listed}");
    let name = name_of(&b, party);
    assert_ne!(name.basis, "certificate", "{name:?}");
    let out = signet_api(&api, &["policy", "crl", "fetch"]).await;
    assert_eq!(out.status.code(), Some(4), "{out:?}");

    // The intermediate publishes its CRL: fetched from A's certificate's distribution point.
    *sub_served.lock().unwrap() = read(&sub.join("ca.crl"));
    let out = signet_api(&api, &["policy", "crl", "fetch"]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(name_of(&b, party).basis, "certificate");
    let listed = listed_root(&api).await;
    assert_eq!(
        listed["intermediates"][0]["crl"]["source"],
        sub_url.as_str(),
        "{listed}"
    );
    let sub_crl = pem_blocks(&read(&sub.join("ca.crl")), "X509 CRL").remove(0);
    assert!(held_files(&b.dir).contains(&sub_crl));

    // The intermediate revokes A's certificate: B stops trusting A at the next fetch.
    run(
        "openssl",
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-revoke",
            "party.pem",
            "-keyfile",
            "ca.key",
            "-cert",
            "ca.pem",
        ],
        &sub,
    );
    gencrl(&sub, true, "revoked.crl");
    *sub_served.lock().unwrap() = read(&sub.join("revoked.crl"));
    let out = signet_api(&api, &["policy", "crl", "fetch"]).await;
    assert!(out.status.success(), "{out:?}");
    let name = name_of(&b, party);
    assert_eq!(name.basis, "unverified", "{name:?}");
    assert!(
        name.unverified_because
            .as_deref()
            .is_some_and(|why| why.contains("revoked")),
        "{name:?}"
    );
    // The intermediate's superseded CRL is removed; the revoking one is kept.
    let revoked = pem_blocks(&read(&sub.join("revoked.crl")), "X509 CRL").remove(0);
    let held = held_files(&b.dir);
    assert!(held.contains(&revoked) && !held.contains(&sub_crl));

    stop_root.send(()).unwrap();
    stop_sub.send(()).unwrap();
    b.shutdown.send(true).unwrap();
    b.service.join().await;
    a.stop().await;
}
