//! A small federation of real nodes on loopback, for the integration tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use signet_node::service::config::{AnchorConfig, PolicyConfig, StorageConfig};
use signet_node::service::init::{InitOptions, SealAlgorithm, init};
use signet_node::service::{DocumentSource, NewDocument, NewParticipant, NewSession, Service, now};
use signet_protocol::party::PartyId;
use signet_protocol::session::Role;
use signet_protocol::testkit::test_uscc;

pub mod fixtures;
pub mod openssl;
pub mod validators;
use tokio::sync::watch;

/// One running node.
pub struct Node {
    pub name: String,
    pub dir: PathBuf,
    pub delegate_key: PathBuf,
    pub service: Arc<Service>,
    pub address: String,
    pub shutdown: watch::Sender<bool>,
}

impl Node {
    pub fn party(&self) -> PartyId {
        self.service.party()
    }

    /// Stops the node and waits for its tasks; returns its directory and delegate key file.
    /// Once this returns the store is closed, and the node can be started again.
    pub async fn stop(self) -> (PathBuf, PathBuf) {
        self.shutdown.send(true).unwrap();
        self.service.join().await;
        let service = Arc::downgrade(&self.service);
        let (dir, key) = (self.dir.clone(), self.delegate_key.clone());
        drop(self);
        // A task that has just ended (an API connection's, once its server stopped) may still
        // be dropping its reference; one held for seconds is a leak.
        for _ in 0..50 {
            if service.strong_count() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(
            service.strong_count(),
            0,
            "nothing holds the service once it is stopped"
        );
        (dir, key)
    }
}

/// Creates a party directory under `root`.
pub fn create(root: &Path, name: &str, anchors: &[(PartyId, &str)]) -> (PathBuf, PathBuf) {
    create_on(root, name, anchors, StorageConfig::default())
}

/// Creates a witness's party directory under `root`.
pub fn create_witness(root: &Path, name: &str, anchors: &[(PartyId, &str)]) -> (PathBuf, PathBuf) {
    create_with(
        root,
        name,
        anchors,
        true,
        StorageConfig::default(),
        Algorithms::default(),
    )
}

/// Creates a party directory under `root` whose data lives in `storage`.
pub fn create_on(
    root: &Path,
    name: &str,
    anchors: &[(PartyId, &str)],
    storage: StorageConfig,
) -> (PathBuf, PathBuf) {
    create_with(root, name, anchors, false, storage, Algorithms::default())
}

/// Creates a party directory under `root` whose seals are SM2 (`signet init --seal-algorithm
/// sm2`).
pub fn create_sm2(root: &Path, name: &str, anchors: &[(PartyId, &str)]) -> (PathBuf, PathBuf) {
    let seal = SealAlgorithm::Sm2;
    create_using(
        root,
        name,
        anchors,
        Algorithms {
            seal,
            ..Algorithms::default()
        },
    )
}

/// Creates a party directory under `root` with keys of `algorithms` (`signet init
/// --seal-algorithm`, `--delegate-algorithm`, `--attest-algorithm`).
pub fn create_using(
    root: &Path,
    name: &str,
    anchors: &[(PartyId, &str)],
    algorithms: Algorithms,
) -> (PathBuf, PathBuf) {
    create_with(
        root,
        name,
        anchors,
        false,
        StorageConfig::default(),
        algorithms,
    )
}

/// The algorithms of a party's keys that `signet init` lets one choose.
#[derive(Debug, Clone, Copy, Default)]
pub struct Algorithms {
    pub seal: SealAlgorithm,
    pub delegate: SealAlgorithm,
    pub attest: SealAlgorithm,
}

/// Where `create` writes the next root key of `name` (outside its directory).
pub fn next_root_key(root: &Path, name: &str) -> PathBuf {
    root.join(format!("{name}-next-root.key"))
}

fn create_with(
    root: &Path,
    name: &str,
    anchors: &[(PartyId, &str)],
    witness: bool,
    storage: StorageConfig,
    algorithms: Algorithms,
) -> (PathBuf, PathBuf) {
    let dir = root.join(name);
    let delegate_key = root.join(format!("{name}-delegate.key"));
    let options = InitOptions {
        legal_name: name.to_string(),
        registration: test_uscc(name).number().to_string(),
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        bootstrap: vec![],
        api: "127.0.0.1:0".into(),
        witness,
        policy: PolicyConfig {
            anchors: anchors
                .iter()
                .map(|(p, n)| AnchorConfig {
                    party: p.to_string(),
                    name: n.to_string(),
                })
                .collect(),
            ..PolicyConfig::default()
        },
        delegate_key: delegate_key.clone(),
        next_root_key: next_root_key(root, name),
        delegate_name: format!("{name} signatory"),
        mandate_days: 365,
        seal_algorithm: algorithms.seal,
        delegate_algorithm: algorithms.delegate,
        attest_algorithm: algorithms.attest,
        storage,
        certificate: None,
    };
    init(&dir, &options, now()).unwrap();
    (dir, delegate_key)
}

/// Opens and starts the node in `dir`.
pub async fn start(name: &str, dir: &Path, delegate_key: &Path) -> Node {
    let service = Service::open(dir).unwrap();
    let (shutdown, rx) = watch::channel(false);
    let listening = service.start(rx).await.unwrap();
    let address = format!(
        "{}/p2p/{}",
        listening[0],
        service.client().unwrap().peer_id()
    );
    Node {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        delegate_key: delegate_key.to_path_buf(),
        service,
        address,
        shutdown,
    }
}

/// Every node learns every other's key log and address; `ca` attests each one's identity,
/// and every node learns the attestations.
pub async fn federate(ca: &Node, nodes: &[&Node]) {
    introduce(ca, nodes).await;
    let all: Vec<&Node> = std::iter::once(ca).chain(nodes.iter().copied()).collect();
    for a in &all {
        for b in &all {
            if a.party() != b.party() {
                a.service.add_peer(&b.address).await.unwrap();
            }
        }
    }
    // Let the directories settle.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Every node learns every other's key log (but no address); `ca` attests each one's
/// identity, and every node learns the attestations.
pub async fn introduce(ca: &Node, nodes: &[&Node]) {
    let all: Vec<&Node> = std::iter::once(ca).chain(nodes.iter().copied()).collect();
    for a in &all {
        for b in &all {
            if a.party() != b.party() {
                a.service
                    .import_key_log(&b.service.own_key_log().unwrap())
                    .unwrap();
            }
        }
    }
    for n in nodes {
        let attestation = ca
            .service
            .attest_identity(
                n.party(),
                &n.name,
                test_uscc(&n.name).number(),
                &format!("{} representative", n.name),
                365,
            )
            .unwrap();
        for m in &all {
            if m.party() != ca.party() {
                m.service.import_attestation(attestation.bytes()).unwrap();
            }
        }
    }
    // What gossip carries: each party's own attestations (its mandates, its revocation list,
    // the CA's identity attestations and list).
    for n in &all {
        for a in n.service.attestations().unwrap() {
            if a.payload().issuer == n.party() {
                for m in &all {
                    if m.party() != n.party() {
                        m.service.import_attestation(a.bytes()).unwrap();
                    }
                }
            }
        }
    }
    // Let the directories settle.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// A session for one signer, `party`, over one PDF document of `bytes`, due in 30 days.
pub fn one_signer(title: &str, party: PartyId, bytes: Vec<u8>) -> NewSession {
    NewSession {
        title: title.into(),
        purpose: "procurement".into(),
        participants: vec![NewParticipant {
            party,
            role: Role::Signer,
            order: 0,
        }],
        documents: vec![NewDocument {
            name: "contract.pdf".into(),
            media_type: "application/pdf".into(),
            source: DocumentSource::Bytes(bytes),
            pdf_seals: None,
        }],
        deadline_days: 30,
        algorithms: None,
        witnesses: vec![],
    }
}

/// `f` of each item, in order, on `threads` threads at once, each inside the current Tokio
/// runtime (the nodes' calls hand work to it): concurrent callers share the nodes' syncs
/// (group commit), as concurrent API clients do.
pub fn in_parallel<I: Copy + Send + Sync, T: Send>(
    threads: usize,
    items: &[I],
    f: impl Fn(I) -> T + Sync,
) -> Vec<T> {
    let per_thread = items.len().div_ceil(threads).max(1);
    let runtime = tokio::runtime::Handle::current();
    std::thread::scope(|scope| {
        let (f, runtime) = (&f, &runtime);
        let handles: Vec<_> = items
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    let _entered = runtime.enter();
                    chunk.iter().map(|&i| f(i)).collect::<Vec<T>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// Waits until `check` holds, polling.
pub async fn until<F: FnMut() -> bool>(what: &str, mut check: F) {
    // Up to 30 s: generous, for a loaded machine (a retry's backoff doubles from 1 s).
    for _ in 0..600 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Serves `node`'s HTTP API on a loopback port (until the test ends); returns its address.
pub async fn serve_api(node: &Node) -> String {
    serve_service(node.service.clone()).await
}

/// Serves a service's HTTP API (started or not) on a loopback port; returns its address.
pub async fn serve_service(service: Arc<Service>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(signet_node::api::serve(
        service,
        listener,
        std::future::pending(),
    ));
    addr
}

/// A verifier CA, a brand and a supplier under `root`, federated (each knows the others'
/// key logs, addresses and the CA's identity attestations); all three accept the API
/// tokens of [`test_tokens`].
pub async fn brand_and_supplier(root: &Path) -> (Node, Node, Node) {
    let (ca_dir, ca_key) = create(root, "Verifier CA", &[]);
    test_tokens(&ca_dir);
    let ca = start("Verifier CA", &ca_dir, &ca_key).await;
    let anchors = [(ca.party(), "Verifier CA")];
    let (b_dir, b_key) = create(root, "Brand", &anchors);
    let (s_dir, s_key) = create(root, "Supplier", &anchors);
    test_tokens(&b_dir);
    test_tokens(&s_dir);
    let brand = start("Brand", &b_dir, &b_key).await;
    let supplier = start("Supplier", &s_dir, &s_key).await;
    federate(&ca, &[&brand, &supplier]).await;
    (ca, brand, supplier)
}

/// One HTTP/1.1 call to the API at `addr` with a JSON body: (status, lower-cased head, body).
pub async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    http_raw(
        addr,
        method,
        path,
        token,
        "application/json",
        body.as_bytes(),
    )
    .await
}

/// One HTTP/1.1 call with any body: (status, lower-cased head, body).
pub async fn http_raw(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    // A server that refuses early (a bad token, say) may close before reading the body.
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// Gives the party in `dir` API tokens `sign-token` and `read-token` (before it starts).
pub fn test_tokens(dir: &Path) {
    use signet_node::service::config::{NodeConfig, TokenConfig};
    use signet_node::service::init::token_hash;
    let mut config = NodeConfig::load(dir).unwrap();
    config.tokens = vec![
        TokenConfig {
            sha256: token_hash("admin-token"),
            scope: "admin".into(),
        },
        TokenConfig {
            sha256: token_hash("sign-token"),
            scope: "sign".into(),
        },
        TokenConfig {
            sha256: token_hash("read-token"),
            scope: "read".into(),
        },
    ];
    config.save(dir).unwrap();
}

/// Copies directory `from` to `to` (files and subdirectories), as an operator copies a
/// party directory to another machine.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The signature records in a bundle's completion, in routing order.
pub fn signature_records(bundle: &[u8]) -> Vec<signet_protocol::session::SignatureRecord> {
    use signet_protocol::cose::Signed;
    use signet_protocol::session::{
        MessageBody, SESSION_MESSAGE_CONTENT_TYPE, SessionMessage, SignatureRecord,
    };
    let bundle = signet_protocol::bundle::Bundle::decode(bundle).unwrap();
    let limits = signet_protocol::codec::Limits::DEFAULT;
    let message = |bytes: &[u8]| {
        Signed::<SessionMessage>::decode(bytes, SESSION_MESSAGE_CONTENT_TYPE, &limits)
            .unwrap()
            .into_parts()
            .1
    };
    let MessageBody::Complete { actions } = message(&bundle.completion).body else {
        panic!("the completion");
    };
    actions
        .iter()
        .filter_map(|a| match message(a).body {
            MessageBody::Sign(record) => Some(SignatureRecord::from_bytes(&record).unwrap()),
            _ => None,
        })
        .collect()
}
