//! The console over HTTP, without a browser: a software passkey (ES256, "none" attestation)
//! registers, signs in and signs; and the console's guards hold — sign-in, roles, the CSRF
//! token, the origin, single-use invitations, throttled sign-ins. Also the document routes
//! of the API that the console and `signet documents` use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use p256::ecdsa::signature::Signer as _;
use serde_json::{Value, json};
use signet_protocol::Digest;
use signet_protocol::session::SessionId;
use support::*;

/// One HTTP/1.1 exchange with extra headers: (status, head, body).
async fn req(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

/// The console's origin for an API at `addr`.
fn origin(addr: &str) -> String {
    format!("http://localhost:{}", addr.rsplit(':').next().unwrap())
}

/// A person's passkey in software: ES256, device-bound (backup eligibility clear) unless
/// `synced`.
struct SoftPasskey {
    key: p256::ecdsa::SigningKey,
    id: Vec<u8>,
    synced: bool,
}

impl SoftPasskey {
    fn new(seed: u8, synced: bool) -> Self {
        let scalar = Digest::of(&[seed, 1, 2, 3]);
        Self {
            key: p256::ecdsa::SigningKey::from_slice(scalar.as_bytes()).unwrap(),
            id: Digest::of(&[seed, 9]).as_bytes()[..16].to_vec(),
            synced,
        }
    }

    fn flags(&self, verified: bool) -> u8 {
        0x01 | if verified { 0x04 } else { 0 } | if self.synced { 0x08 } else { 0 }
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}","crossOrigin":false}}"#)
            .into_bytes()
    }

    /// The registration response to creation options `options`.
    fn create(&self, options: &Value, origin: &str) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().unwrap();
        let client_data =
            Self::client_data("webauthn.create", pk["challenge"].as_str().unwrap(), origin);
        let point = self.key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        let cose = cbor(&ciborium::Value::Map(vec![
            (1.into(), 2.into()),
            (3.into(), (-7).into()),
            ((-1).into(), 1.into()),
            ((-2).into(), ciborium::Value::Bytes(bytes[1..33].to_vec())),
            ((-3).into(), ciborium::Value::Bytes(bytes[33..65].to_vec())),
        ]));
        let mut auth = Digest::of(rp_id.as_bytes()).as_bytes().to_vec();
        auth.push(self.flags(true) | 0x40);
        auth.extend_from_slice(&0u32.to_be_bytes());
        auth.extend_from_slice(&[0u8; 16]);
        auth.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
        auth.extend_from_slice(&self.id);
        auth.extend_from_slice(&cose);
        let attestation = cbor(&ciborium::Value::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            ("authData".into(), ciborium::Value::Bytes(auth)),
        ]));
        json!({
            "id": B64URL.encode(&self.id),
            "rawId": B64URL.encode(&self.id),
            "type": "public-key",
            "response": {
                "attestationObject": B64URL.encode(attestation),
                "clientDataJSON": B64URL.encode(client_data),
            },
            "extensions": {},
        })
    }

    /// (authenticator data, client data, DER signature) for `challenge` at `rp_id`.
    fn assert(
        &self,
        rp_id: &str,
        challenge: &str,
        origin: &str,
        verified: bool,
        counter: u32,
    ) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let client_data = Self::client_data("webauthn.get", challenge, origin);
        let mut auth = Digest::of(rp_id.as_bytes()).as_bytes().to_vec();
        auth.push(self.flags(verified));
        auth.extend_from_slice(&counter.to_be_bytes());
        let mut message = auth.clone();
        message.extend_from_slice(Digest::of(&client_data).as_bytes());
        let signature: p256::ecdsa::Signature = self.key.sign(&message);
        (auth, client_data, signature.to_der().as_bytes().to_vec())
    }
}

fn cbor(v: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

/// A signed-in person: the API address, their cookie and CSRF token.
struct Person {
    addr: String,
    cookie: String,
    csrf: String,
}

impl Person {
    async fn get(&self, path: &str) -> (u16, String, String) {
        req(&self.addr, "GET", path, &[("Cookie", &self.cookie)], b"").await
    }

    async fn post_form(&self, path: &str, form: &str) -> (u16, String, String) {
        let origin = origin(&self.addr);
        req(
            &self.addr,
            "POST",
            path,
            &[
                ("Cookie", &self.cookie),
                ("Origin", &origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form.as_bytes(),
        )
        .await
    }

    async fn post_json(&self, path: &str, body: &Value) -> (u16, String, String) {
        let origin = origin(&self.addr);
        req(
            &self.addr,
            "POST",
            path,
            &[
                ("Cookie", &self.cookie),
                ("Origin", &origin),
                ("X-CSRF-Token", &self.csrf),
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
        .await
    }

    /// Signs session `id` with `passkey`; the node's answer.
    async fn sign(&self, id: &SessionId, passkey: &SoftPasskey, verified: bool) -> (u16, Value) {
        let (status, _, body) = self
            .post_json(&format!("/console/sessions/{id}/sign/start"), &json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        let start: Value = serde_json::from_str(&body).unwrap();
        let pk = &start["options"]["publicKey"];
        let (auth, client, sig) = passkey.assert(
            pk["rpId"].as_str().unwrap(),
            pk["challenge"].as_str().unwrap(),
            &origin(&self.addr),
            verified,
            5,
        );
        let (status, _, body) = self
            .post_json(
                &format!("/console/sessions/{id}/sign/finish"),
                &json!({
                    "ceremony": start["ceremony"],
                    "id": B64URL.encode(&passkey.id),
                    "authenticator_data": B64URL.encode(auth),
                    "client_data_json": B64URL.encode(client),
                    "signature": B64URL.encode(sig),
                }),
            )
            .await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }
}

fn cookie_of(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: ")
                .then(|| &l["set-cookie: ".len()..])
        })
        .and_then(|c| c.split(';').next())
        .expect("a cookie")
        .to_string()
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field");
    let rest = &page[at + 19..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Invites `name` as `role` and registers `passkey` for them; returns them signed in.
async fn register(addr: &str, name: &str, role: &str, passkey: &SoftPasskey) -> Person {
    let (status, _, body) = http(
        addr,
        "POST",
        "/v1/console/invitations",
        Some("admin-token"),
        &json!({"name": name, "role": role}).to_string(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let link: Value = serde_json::from_str(&body).unwrap();
    let token = link["link"]
        .as_str()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string();
    finish_registration(addr, &token, passkey)
        .await
        .expect("registered")
}

async fn finish_registration(
    addr: &str,
    token: &str,
    passkey: &SoftPasskey,
) -> Result<Person, (u16, String)> {
    let origin = origin(addr);
    let headers = [
        ("Origin", origin.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, _, body) = req(
        addr,
        "POST",
        "/console/register/start",
        &headers,
        json!({"invite": token, "label": "soft key"})
            .to_string()
            .as_bytes(),
    )
    .await;
    if status != 200 {
        return Err((status, body));
    }
    let start: Value = serde_json::from_str(&body).unwrap();
    let credential = passkey.create(&start["options"], &origin);
    let (status, head, body) = req(
        addr,
        "POST",
        "/console/register/finish",
        &headers,
        json!({"ceremony": start["ceremony"], "credential": credential})
            .to_string()
            .as_bytes(),
    )
    .await;
    if status != 200 {
        return Err((status, body));
    }
    let cookie = cookie_of(&head);
    let (_, _, page) = req(addr, "GET", "/console/", &[("Cookie", &cookie)], b"").await;
    Ok(Person {
        addr: addr.to_string(),
        csrf: csrf_of(&page),
        cookie,
    })
}

/// A session from the brand to the supplier (one signer), documents fetched.
async fn proposed(brand: &Node, supplier: &Node) -> SessionId {
    let id = brand
        .service
        .create_session(one_signer(
            "Order 1",
            supplier.party(),
            b"%PDF-1.4 order".to_vec(),
        ))
        .unwrap();
    until("the supplier holds the documents", || {
        supplier
            .service
            .session(id)
            .is_ok_and(|s| s.document_list.iter().all(|d| d.present))
    })
    .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_software_passkey_registers_gets_a_mandate_and_signs() {
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let addr = serve_api(&supplier).await;
    let passkey = SoftPasskey::new(1, false);
    let li = register(&addr, "Li Wei", "admin", &passkey).await;

    // Give Li Wei's passkey a mandate through the seals page's form.
    let (_, _, page) = li.get("/console/seals").await;
    let at = page.find("<option value=\"").unwrap();
    let value = &page[at + 15..];
    let value = &value[..value.find('"').unwrap()];
    let form = format!(
        "csrf={}&passkey={}&purposes=procurement&value_cap=&counterparties=&days=30",
        li.csrf,
        value.replace(':', "%3A")
    );
    let (status, head, _) = li.post_form("/console/mandates", &form).await;
    assert_eq!(status, 303, "{head}");
    let mandates = supplier.service.mandates().unwrap();
    assert!(mandates.iter().any(|m| m.state == "active"));

    let id = proposed(&brand, &supplier).await;
    // The inbox lists it, with the brand's legal name.
    let (_, _, inbox) = li.get("/console/").await;
    assert!(
        inbox.contains("Order 1") && inbox.contains("Brand"),
        "{inbox}"
    );

    // Without user verification the node refuses, and nothing is recorded.
    let (status, answer) = li.sign(&id, &passkey, false).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("intent"),
        "{answer}"
    );
    assert_eq!(supplier.service.session(id).unwrap().status, "open");

    let (status, answer) = li.sign(&id, &passkey, true).await;
    assert_eq!(status, 200, "{answer}");
    let s = supplier.service.session(id).unwrap();
    let signed = s.timeline.iter().find(|e| e.event == "signed").unwrap();
    assert_eq!(signed.person.as_deref(), Some("Li Wei"));
    assert_eq!(
        signed.method.as_deref(),
        Some("hardware-token"),
        "a device-bound passkey"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_guards_hold() {
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let addr = serve_api(&supplier).await;

    // Nothing without a sign-in.
    for path in [
        "/console/",
        "/console/sessions",
        "/console/seals",
        "/console/people",
    ] {
        let (status, head, _) = req(&addr, "GET", path, &[], b"").await;
        assert_eq!(status, 303, "{path}");
        assert!(
            head.to_ascii_lowercase()
                .contains("location: /console/login"),
            "{path}: {head}"
        );
    }
    let (status, _, _) = req(&addr, "GET", "/console/login", &[], b"").await;
    assert_eq!(status, 200);

    // Invitations need an admin token, and work once.
    let (status, _, _) = http(
        &addr,
        "POST",
        "/v1/console/invitations",
        Some("sign-token"),
        r#"{"name":"Mallory","role":"admin"}"#,
    )
    .await;
    assert_eq!(status, 403, "a signing token cannot mint people");
    let (_, _, body) = http(
        &addr,
        "POST",
        "/v1/console/invitations",
        Some("admin-token"),
        r#"{"name":"Zhao Min","role":"signer"}"#,
    )
    .await;
    let token = serde_json::from_str::<Value>(&body).unwrap()["link"]
        .as_str()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string();
    let signer_key = SoftPasskey::new(2, true);
    let zhao = finish_registration(&addr, &token, &signer_key)
        .await
        .unwrap();
    let (status, body) = finish_registration(&addr, &token, &SoftPasskey::new(3, false))
        .await
        .err()
        .expect("the invitation is used up");
    assert_eq!(status, 403, "{body}");

    let admin_key = SoftPasskey::new(4, false);
    let admin = register(&addr, "Wang Fang", "admin", &admin_key).await;
    let reader_key = SoftPasskey::new(5, false);
    let reader = register(&addr, "Qian Li", "reader", &reader_key).await;
    let id = proposed(&brand, &supplier).await;

    // A reader reads but does not act or manage.
    assert_eq!(reader.get(&format!("/console/sessions/{id}")).await.0, 200);
    assert_eq!(reader.get("/console/seals").await.0, 403);
    assert_eq!(reader.get("/console/people").await.0, 403);
    let (status, _, _) = reader
        .post_json(&format!("/console/sessions/{id}/sign/start"), &json!({}))
        .await;
    assert_eq!(status, 403);
    let (status, _, _) = reader
        .post_form(
            &format!("/console/sessions/{id}/act"),
            &format!("csrf={}&action=decline&reason=no", reader.csrf),
        )
        .await;
    assert_eq!(status, 403);
    // A signer does not manage.
    let (status, _, _) = zhao
        .post_form(
            "/console/people/invite",
            &format!("csrf={}&name=X&role=admin", zhao.csrf),
        )
        .await;
    assert_eq!(status, 403);

    // Changes need the CSRF token and come from the console's own origin.
    let (status, _, _) = admin
        .post_form(
            &format!("/console/sessions/{id}/act"),
            "csrf=forged&action=decline&reason=x",
        )
        .await;
    assert_eq!(status, 403, "a forged CSRF token");
    let (status, _, _) = req(
        &addr,
        "POST",
        &format!("/console/sessions/{id}/act"),
        &[
            ("Cookie", &admin.cookie),
            ("Origin", "http://evil.example"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("csrf={}&action=decline&reason=x", admin.csrf).as_bytes(),
    )
    .await;
    assert_eq!(status, 403, "another origin");
    let (status, _, _) = req(
        &addr,
        "POST",
        &format!("/console/sessions/{id}/sign/start"),
        &[
            ("Cookie", &admin.cookie),
            ("Content-Type", "application/json"),
        ],
        b"{}",
    )
    .await;
    assert_eq!(status, 403, "a script call without the CSRF header");
    assert_eq!(supplier.service.session(id).unwrap().status, "open");

    // A person without a mandate is refused, by the protocol's own reason.
    let (status, answer) = zhao.sign(&id, &signer_key, true).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("no seal mandate"),
        "{answer}"
    );
    // Another person's passkey cannot sign as Zhao.
    let (status, answer) = zhao.sign(&id, &admin_key, true).await;
    assert_eq!(status, 403, "{answer}");

    // Signing out ends the sign-in.
    let (status, _, _) = admin
        .post_form("/console/logout", &format!("csrf={}", admin.csrf))
        .await;
    assert_eq!(status, 303);
    assert_eq!(admin.get("/console/").await.0, 303);

    // Sign-ins by unknown names are throttled per address.
    let origin = origin(&addr);
    let mut last = 0;
    for _ in 0..30 {
        last = req(
            &addr,
            "POST",
            "/console/login/start",
            &[("Origin", &origin), ("Content-Type", "application/json")],
            br#"{"name":"nobody"}"#,
        )
        .await
        .0;
        if last == 429 {
            break;
        }
    }
    assert_eq!(last, 429, "guessing names is throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn documents_are_served_to_read_and_never_as_active_content() {
    use signet_node::service::{DocumentSource, NewDocument};
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let addr = serve_api(&supplier).await;
    let pdf = b"%PDF-1.4 the contract".to_vec();
    let html = b"<script>steal(document.cookie)</script>".to_vec();
    let mut new = one_signer("With an annex", supplier.party(), pdf.clone());
    new.documents.push(NewDocument {
        name: "annex \"1\".html".into(),
        media_type: "text/html".into(),
        source: DocumentSource::Bytes(html.clone()),
        pdf_seals: None,
    });
    let id = brand.service.create_session(new).unwrap();
    until("the documents arrive", || {
        supplier
            .service
            .session(id)
            .is_ok_and(|s| s.document_list.iter().all(|d| d.present))
    })
    .await;

    let (status, _, body) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{id}/documents"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["documents"].as_array().unwrap().len(), 2);
    assert_eq!(list["documents"][0]["digest"], Digest::of(&pdf).to_hex());

    let (status, head, body) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{id}/documents/0"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body.as_bytes(), pdf);
    assert!(head.contains("content-type: application/pdf"), "{head}");
    assert!(head.contains("content-disposition: inline"), "{head}");
    assert!(head.contains(&format!("x-signet-digest: {}", Digest::of(&pdf).to_hex())));
    assert!(head.contains("x-content-type-options: nosniff"));

    // HTML from a counterparty is never served as HTML.
    let (status, head, body) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{id}/documents/1"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body.as_bytes(), html);
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    assert!(
        head.contains("content-disposition: attachment; filename*=utf-8''annex%20%221%22.html"),
        "{head}"
    );

    let (status, _, _) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{id}/documents/2"),
        Some("read-token"),
        "",
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = http(
        &addr,
        "GET",
        &format!("/v1/sessions/{id}/documents/0"),
        None,
        "",
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_api_refuses_to_serve_beyond_loopback_without_tls() {
    let root = tempfile::tempdir().unwrap();
    let (dir, _key) = create(root.path(), "Exposed", &[]);
    let service = signet_node::service::Service::open(&dir).unwrap();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let err = signet_node::api::serve(service, listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("[api_tls]"), "{err}");
}

/// An administrator adds a CA root in the console (spec §6.11): it is in the policy at once,
/// written to the configuration, and listed; a reader cannot add one, nor can an end-entity
/// certificate be added as a root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_adds_a_ca_root_in_the_console() {
    let root = tempfile::tempdir().unwrap();
    let (_ca, _brand, supplier) = brand_and_supplier(root.path()).await;
    let addr = serve_api(&supplier).await;
    let admin = register(&addr, "Wang Fang", "admin", &SoftPasskey::new(4, false)).await;
    let reader = register(&addr, "Qian Li", "reader", &SoftPasskey::new(5, false)).await;
    let t0 = signet_protocol::Timestamp::from_unix(1_800_000_000);
    let cfca = signet_protocol::testkit::TestCertificateAuthority::new("Console CA", true, t0);
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(cfca.root())
    );
    let form = |csrf: &str, name: &str, pem: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", csrf)
            .append_pair("name", name)
            .append_pair("pem", pem)
            .finish()
    };
    let (status, _, _) = reader
        .post_form("/console/ca-roots", &form(&reader.csrf, "Console CA", &pem))
        .await;
    assert_eq!(status, 403);
    assert!(supplier.service.ca_roots().is_empty());
    admin
        .post_form("/console/ca-roots", &form(&admin.csrf, "Console CA", &pem))
        .await;
    assert_eq!(supplier.service.ca_roots().len(), 1);
    let config = signet_node::service::config::NodeConfig::load(&supplier.dir).unwrap();
    assert_eq!(config.policy.ca_roots[0].name, "Console CA");
    let (_, _, page) = admin.get("/console/attestations").await;
    assert!(
        page.contains("Console CA") && page.contains("add-ca-root"),
        "{page}"
    );
    // No CRL yet (the root names no CRL URL and nothing it certified is held): said so.
    assert!(page.contains("no current CRL"), "{page}");
    // An end-entity certificate is not a root.
    let mut holder = signet_protocol::testkit::TestParty::new("Console Holder", t0);
    let (leaf, _) = cfca.certify(
        &mut holder,
        "91350100M000100Y43",
        9,
        true,
        signet_protocol::x509::sm2::Sm2KeyForm::EcPublicKey,
        t0,
    );
    let leaf_pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(leaf)
    );
    admin
        .post_form("/console/ca-roots", &form(&admin.csrf, "Leaf", &leaf_pem))
        .await;
    assert_eq!(supplier.service.ca_roots().len(), 1);
}

/// A `multipart/form-data` body of `fields`, then one file `documents` named `file_name`;
/// with its content type.
fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "signet-console-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"documents\"; filename=\"{file_name}\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The send form offers national algorithms (spec §8.2.5), unticked unless the party's
/// policy requires them; ticked, the contract is proposed with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_send_form_proposes_a_national_session_when_asked() {
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let addr = serve_api(&brand).await;
    let wang = register(&addr, "Wang Fang", "signer", &SoftPasskey::new(3, false)).await;
    let (status, _, page) = wang.get("/console/send").await;
    assert_eq!(status, 200);
    let national = page
        .lines()
        .find(|l| l.contains("id=\"send-national\""))
        .expect("the national algorithms box");
    assert!(
        national.contains("name=\"algorithms\" value=\"national\"")
            && !national.contains("checked"),
        "{national}"
    );
    assert!(page.contains("Require national algorithms"), "{page}");

    let supplier_id = supplier.party().to_string();
    let send = |title: &'static str, national: bool| {
        let mut fields = vec![
            ("csrf", wang.csrf.as_str()),
            ("title", title),
            ("purpose", "procurement"),
            ("deadline_days", "30"),
            ("party_0", supplier_id.as_str()),
            ("role_0", "signer"),
            ("order_0", "0"),
        ];
        if national {
            fields.push(("algorithms", "national"));
        }
        multipart(&fields, "order.pdf", b"%PDF-1.4 order")
    };
    let mut sent = Vec::new();
    for (title, national) in [("National order", true), ("Plain order", false)] {
        let (content_type, body) = send(title, national);
        let origin = origin(&addr);
        let (status, head, _) = req(
            &addr,
            "POST",
            "/console/send",
            &[
                ("Cookie", &wang.cookie),
                ("Origin", &origin),
                ("Content-Type", &content_type),
            ],
            &body,
        )
        .await;
        assert_eq!(status, 303, "{head}");
        let location = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("location: ")
                    .or(l.strip_prefix("Location: "))
            })
            .unwrap();
        let path = location.split('?').next().unwrap();
        let id: SessionId = path.rsplit('/').next().unwrap().parse().unwrap();
        sent.push(brand.service.session(id).unwrap());
    }
    assert_eq!(sent[0].title, "National order");
    assert_eq!(sent[0].algorithms.as_deref(), Some("national"));
    assert_eq!(sent[1].algorithms, None);
    let (_, _, page) = wang.get(&format!("/console/sessions/{}", sent[0].id)).await;
    assert!(
        page.contains("id=\"algorithms\""),
        "the session page says so"
    );
}

/// A party whose policy requires national algorithms sees the box ticked and fixed, and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_send_form_shows_national_algorithms_required_by_the_policy() {
    use signet_node::service::config::NodeConfig;
    let root = tempfile::tempdir().unwrap();
    let (dir, delegate) = create(root.path(), "National Brand", &[]);
    test_tokens(&dir);
    let mut config = NodeConfig::load(&dir).unwrap();
    config.policy.require_national_algorithms = true;
    config.save(&dir).unwrap();
    let node = start("National Brand", &dir, &delegate).await;
    let addr = serve_api(&node).await;
    let wang = register(&addr, "Wang Fang", "signer", &SoftPasskey::new(4, false)).await;
    let (status, _, page) = wang.get("/console/send").await;
    assert_eq!(status, 200);
    let national = page
        .lines()
        .find(|l| l.contains("id=\"send-national\""))
        .expect("the national algorithms box");
    assert!(national.contains("checked disabled"), "{national}");
    assert!(
        page.contains("policy requires national algorithms"),
        "{page}"
    );
}

/// An administrator attests a party's identity from its CA certificate in the console (as
/// `signet attest identity --certificate`): refused while the party has not proven it holds
/// the certificate's key, issued with the certificate's name and USCC once it has; a reader
/// may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_attests_an_identity_from_its_certificate_in_the_console() {
    use signet_protocol::attestation::Claims;
    let root = tempfile::tempdir().unwrap();
    let (_ca, _brand, supplier) = brand_and_supplier(root.path()).await;
    let addr = serve_api(&supplier).await;
    let admin = register(&addr, "Wang Fang", "admin", &SoftPasskey::new(6, false)).await;
    let reader = register(&addr, "Qian Li", "reader", &SoftPasskey::new(7, false)).await;
    // A CA the supplier lists, with a current CRL, and a party it certified.
    let t0 = signet_protocol::Timestamp::from_unix(signet_node::service::now().unix() - 86_400);
    let cfca = signet_protocol::testkit::TestCertificateAuthority::new("Console CA", true, t0);
    let pem = |der: &[u8]| {
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    };
    supplier
        .service
        .add_ca_root("Console CA", pem(cfca.root()).as_bytes(), None)
        .unwrap();
    supplier
        .service
        .take_crl(&cfca.crl(&[], t0), "test")
        .unwrap();
    let mut holder = signet_protocol::testkit::TestParty::new("Console Holder", t0);
    let (leaf, key) = cfca.certify(
        &mut holder,
        "91350100M000100Y43",
        9,
        true,
        signet_protocol::x509::sm2::Sm2KeyForm::EcPublicKey,
        t0,
    );
    let events: Vec<Vec<u8>> = holder
        .log
        .events()
        .iter()
        .map(|e| e.bytes().to_vec())
        .collect();
    supplier.service.import_key_log(&events).unwrap();
    let subject = holder.id();
    let form = |csrf: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", csrf)
            .append_pair("subject", &subject.to_string())
            .append_pair("pem", &pem(&leaf))
            .append_pair("representative", "Zhang San")
            .append_pair("days", "365")
            .finish()
    };
    let issued = |service: &signet_node::service::Service| {
        service
            .attestations()
            .unwrap()
            .into_iter()
            .filter(|a| a.payload().subject == subject)
            .filter_map(|a| match &a.payload().claims {
                Claims::Identity(c) => Some(c.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let (status, _, _) = reader
        .post_form("/console/attestations/identity", &form(&reader.csrf))
        .await;
    assert_eq!(status, 403);
    // No proof of holding the key yet: refused, with the reason on the page.
    admin
        .post_form("/console/attestations/identity", &form(&admin.csrf))
        .await;
    let (_, _, page) = admin.get("/console/attestations").await;
    assert!(page.contains("no ca-identity attestation"), "{page}");
    assert!(issued(&supplier.service).is_empty());
    // The party's self-issued ca-identity attestation arrives (gossip, or an import).
    let proof = holder.ca_identity(vec![leaf.clone()], &key, t0, 30);
    supplier.service.import_attestation(proof.bytes()).unwrap();
    // With its current revocation list, as every issuer's attestations travel.
    let list = holder.revocation_list(Vec::new(), signet_node::service::now());
    supplier.service.import_attestation(list.bytes()).unwrap();
    admin
        .post_form("/console/attestations/identity", &form(&admin.csrf))
        .await;
    let (_, _, page) = admin.get("/console/attestations").await;
    let claims = issued(&supplier.service);
    assert_eq!(claims.len(), 1, "{page}");
    assert_eq!(claims[0].legal_name, "示例有限公司");
    assert_eq!(
        claims[0].registration.to_string(),
        "cn-uscc:91350100M000100Y43"
    );
    assert_eq!(claims[0].legal_representative, "Zhang San");
    let (_, _, page) = admin.get("/console/attestations").await;
    assert!(page.contains("attest-certificate"), "{page}");
}
