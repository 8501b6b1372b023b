//! The console in a real browser: Debian's Chromium driven over WebDriver, with Chrome's
//! virtual authenticator standing in for each person's passkey.
//!
//! Two companies' nodes, each person in their own browser: the brand's administrator sends a
//! contract from the console, the supplier's administrator reads the document and signs with
//! a passkey, the brand's signs, both see it complete, the bundle downloaded from the console
//! verifies offline with the intent method the authenticator's flags show; then the refusals
//! (a person without a mandate, an expired mandate, a passkey answer without user
//! verification), each leaving the session open and unsigned.
//!
//! Needs `chromium` and `chromedriver` (the README's test command installs them); set
//! `SIGNET_SKIP_BROWSER=1` to skip deliberately. With `SIGNET_SCREENSHOTS=DIR` the main pages
//! are saved as PNG files there (`docs/console/` holds the committed ones).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use signet_protocol::bundle::{Outcome, verify_bundle};
use signet_protocol::session::SessionId;
use signet_protocol::trust::{TrustAnchor, TrustPolicy};
use support::*;

/// chromedriver, running for the test.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Starts chromedriver, or `None` when the run asked to skip browser tests.
async fn driver() -> Option<Driver> {
    if std::env::var("SIGNET_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("SIGNET_SKIP_BROWSER=1: the browser test is skipped");
        return None;
    }
    let path = find(
        "SIGNET_CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
    )
    .expect(
        "chromedriver is needed (Debian: apt install chromium chromium-driver; the README's test command does it); SIGNET_SKIP_BROWSER=1 skips this test",
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let driver = Driver {
        child: Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// A browser of its own (one person's device), `width` pixels wide.
async fn browser(driver: &Driver, width: u32) -> Client {
    let chromium = find(
        "SIGNET_CHROMIUM",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ],
    )
    .expect("chromium is needed");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                format!("--window-size={width},1400"), "--lang=en-US",
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// A WebDriver extension command (the virtual authenticator's, WebAuthn §11).
#[derive(Debug)]
struct Wd {
    method: axum::http::Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for Wd {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session.unwrap_or(""), self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

/// Adds a virtual passkey authenticator (internal, with user verification) to `client`;
/// returns its id.
async fn authenticator(client: &Client, backup_eligible: bool) -> String {
    let v = client
        .issue_cmd(Wd {
            method: axum::http::Method::POST,
            path: "webauthn/authenticator".into(),
            body: Some(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserConsenting": true,
                "isUserVerified": true,
                "defaultBackupEligibility": backup_eligible,
                "defaultBackupState": backup_eligible,
            })),
        })
        .await
        .expect("the virtual authenticator");
    v.as_str().expect("an authenticator id").to_string()
}

/// Moves the passkeys of `from` onto a new virtual authenticator that can (`verifies`) or
/// cannot verify the person (a security key without a PIN); returns the new one's id.
async fn move_passkeys(client: &Client, from: &str, verifies: bool) -> String {
    let credentials = client
        .issue_cmd(Wd {
            method: axum::http::Method::GET,
            path: format!("webauthn/authenticator/{from}/credentials"),
            body: None,
        })
        .await
        .expect("the authenticator's credentials");
    let to = client
        .issue_cmd(Wd {
            method: axum::http::Method::POST,
            path: "webauthn/authenticator".into(),
            body: Some(json!({
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": true,
                "hasUserVerification": verifies,
                "isUserConsenting": true,
                "isUserVerified": verifies,
            })),
        })
        .await
        .expect("a second authenticator");
    let to = to.as_str().unwrap().to_string();
    for c in credentials.as_array().unwrap() {
        // Chrome lists a credential without its relying party; the consoles are on localhost.
        let mut c = c.clone();
        c["rpId"] = json!("localhost");
        client
            .issue_cmd(Wd {
                method: axum::http::Method::POST,
                path: format!("webauthn/authenticator/{to}/credential"),
                body: Some(c),
            })
            .await
            .expect("the credential moves");
    }
    client
        .issue_cmd(Wd {
            method: axum::http::Method::DELETE,
            path: format!("webauthn/authenticator/{from}"),
            body: None,
        })
        .await
        .expect("the old authenticator goes");
    to
}

/// The console of `addr` (`127.0.0.1:port`) as the browser reaches it.
fn console(addr: &str) -> String {
    let port = addr.rsplit(':').next().unwrap();
    format!("http://localhost:{port}")
}

/// An invitation link for `name` as `role`, from the node's API (admin token).
async fn invite(addr: &str, name: &str, role: &str) -> String {
    let (status, _, body) = http(
        addr,
        "POST",
        "/v1/console/invitations",
        Some("admin-token"),
        &json!({ "name": name, "role": role }).to_string(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["link"].as_str().unwrap().to_string()
}

async fn text_of(client: &Client, css: &str) -> String {
    let e = element(client, css).await;
    e.text().await.unwrap()
}

async fn click(client: &Client, css: &str) {
    let e = element(client, css).await;
    e.click().await.unwrap();
}

/// The element `css` once the page shows it, waiting up to 20 s. A page that navigates (a
/// form posted, a redirect) while it is looked for aborts the look ("aborted by
/// navigation"); that is looked at again, not a failure.
async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match client
            .wait()
            .at_most(left)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => return e,
            Err(e) if e.to_string().contains("navigation") && !left.is_zero() => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{css}: {e}"),
        }
    }
}

async fn type_into(client: &Client, css: &str, text: &str) {
    let e = client.find(Locator::Css(css)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Waits until `css` shows text containing `needle`, reloading `url` between looks.
async fn until_text(client: &Client, url: &str, css: &str, needle: &str) {
    for _ in 0..120 {
        client.goto(url).await.unwrap();
        if let Ok(e) = client.find(Locator::Css(css)).await
            && e.text().await.unwrap_or_default().contains(needle)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let page = client.source().await.unwrap_or_default();
    panic!("{url}: {css} never showed {needle:?}; the page was:\n{page}");
}

/// Saves a screenshot as `name.png` when `SIGNET_SCREENSHOTS` names a directory.
async fn screenshot(client: &Client, name: &str) {
    if let Ok(dir) = std::env::var("SIGNET_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// Registers the invited person in `client` (whose authenticator creates the passkey) and
/// lands on the inbox.
async fn register(client: &Client, link: &str, label: &str) {
    client.goto(link).await.unwrap();
    type_into(client, "#passkey-label", label).await;
    click(client, "#register-button").await;
    let name = text_of(client, "#me-name").await;
    assert!(!name.is_empty(), "signed in after registering");
}

/// Signs in `name` with their passkey.
async fn sign_in(client: &Client, base: &str, name: &str) {
    client.goto(&format!("{base}/console/login")).await.unwrap();
    type_into(client, "#login-name", name).await;
    click(client, "#login-button").await;
    assert_eq!(text_of(client, "#me-name").await, name);
}

async fn sign_out(client: &Client) {
    click(client, "form[action='/console/logout'] button").await;
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#login-name"))
        .await
        .unwrap();
}

/// Gives the signed-in administrator's chosen person's passkey a procurement mandate.
async fn give_mandate(client: &Client, base: &str, person: &str) {
    client.goto(&format!("{base}/console/seals")).await.unwrap();
    let select = client.find(Locator::Css("#mandate-passkey")).await.unwrap();
    let options = select.find_all(Locator::Css("option")).await.unwrap();
    let mut chosen = None;
    for o in options {
        if o.text().await.unwrap().starts_with(person) {
            chosen = o.attr("value").await.unwrap();
        }
    }
    select
        .select_by_value(&chosen.expect("the person's passkey is offered"))
        .await
        .unwrap();
    click(client, "#mandate-button").await;
    let flash = text_of(client, "#flash").await;
    assert!(flash.starts_with("Done"), "mandate given: {flash}");
}

/// Starts a signature of the session at `url` with the passkey (keyboard only: the
/// confirmation box by space, the button by Enter); returns what the page then says.
async fn try_to_sign(client: &Client, url: &str) -> String {
    client.goto(url).await.unwrap();
    let confirm = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#read-confirm"))
        .await
        .unwrap();
    confirm.send_keys(" ").await.unwrap();
    let button = client.find(Locator::Css("#sign-button")).await.unwrap();
    assert!(button.is_enabled().await.unwrap(), "enabled once confirmed");
    button.send_keys("\u{E007}").await.unwrap();
    // Either the page reloads with the flash, or the status shows the refusal.
    for _ in 0..80 {
        if let Ok(f) = client.find(Locator::Css("#flash")).await {
            return f.text().await.unwrap();
        }
        if let Ok(s) = client.find(Locator::Css("#ceremony-status.error")).await {
            return s.text().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no answer to the signature");
}

/// The bytes at `path` fetched by the browser itself (with its sign-in), base64-decoded.
async fn fetch_in_browser(client: &Client, path: &str) -> Vec<u8> {
    let v = client
        .execute_async(
            r#"const [path, done] = arguments;
               fetch(path, {credentials: 'same-origin'}).then(r => r.arrayBuffer()).then(b => {
                 const u = new Uint8Array(b); let s = '';
                 for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
                 done(btoa(s));
               });"#,
            vec![json!(path)],
        )
        .await
        .unwrap();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

/// A tiny but real PDF, for the document.
fn pdf() -> Vec<u8> {
    let body = "BT /F1 24 Tf 72 700 Td (Supply agreement 2027) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{body}\nendstream", body.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Sends a contract from the brand's console to the supplier (signer, order 0) and, when
/// `brand_signs`, the brand itself (order 1); returns the session page's URL.
async fn send_contract(
    client: &Client,
    base: &str,
    title: &str,
    supplier: &str,
    brand: Option<&str>,
    file: &Path,
) -> String {
    client.goto(&format!("{base}/console/send")).await.unwrap();
    type_into(client, "#send-title", title).await;
    type_into(client, "#party-0", supplier).await;
    type_into(client, "#order-0", "0").await;
    if let Some(brand) = brand {
        type_into(client, "#party-1", brand).await;
        type_into(client, "#order-1", "1").await;
    }
    client
        .find(Locator::Css("#send-documents"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    // The national algorithms box is there, unticked: this party's policy does not require
    // them (node/tests/console.rs sends a national session through it).
    let national = client.find(Locator::Css("#send-national")).await.unwrap();
    assert!(!national.is_selected().await.unwrap());
    screenshot(client, "send-form").await;
    click(client, "#send-button").await;
    let shown = text_of(client, "#session-title").await;
    assert_eq!(shown, title);
    client.current_url().await.unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_companies_sign_in_their_browsers_with_passkeys() {
    let Some(driver) = driver().await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let brand_api = serve_api(&brand).await;
    let supplier_api = serve_api(&supplier).await;
    let (b, s) = (console(&brand_api), console(&supplier_api));

    // Each administrator on their own device, with a device-bound passkey.
    let wang = browser(&driver, 1280).await;
    let wang_key = authenticator(&wang, false).await;
    let li = browser(&driver, 390).await; // a phone
    let li_key = authenticator(&li, false).await;

    li.goto(&format!("{s}/console/login")).await.unwrap();
    screenshot(&li, "login-phone").await;
    register(
        &wang,
        &invite(&brand_api, "Wang Fang", "admin").await,
        "work laptop",
    )
    .await;
    register(
        &li,
        &invite(&supplier_api, "Li Wei", "admin").await,
        "phone",
    )
    .await;
    give_mandate(&wang, &b, "Wang Fang").await;
    give_mandate(&li, &s, "Li Wei").await;
    screenshot(&wang, "seals-and-mandates").await;

    // The brand sends; the supplier signs first, then the brand.
    let file = root.path().join("supply-agreement.pdf");
    std::fs::write(&file, pdf()).unwrap();
    let brand_url = send_contract(
        &wang,
        &b,
        "Supply agreement 2027",
        &supplier.party().to_string(),
        Some(&brand.party().to_string()),
        &file,
    )
    .await;
    let id: SessionId = brand_url.rsplit('/').next().unwrap().parse().unwrap();
    let supplier_url = format!("{s}/console/sessions/{id}");

    // The supplier's inbox names the brand by its verified legal name.
    until_text(
        &li,
        &format!("{s}/console/"),
        "#sessions",
        "Supply agreement 2027",
    )
    .await;
    let row = text_of(&li, "#sessions").await;
    assert!(row.contains("Brand"), "the initiator by name: {row}");
    assert!(row.contains("verified"), "and how it is known: {row}");
    screenshot(&li, "inbox-phone").await;

    // The document is there to read before signing, exactly the proposal's bytes.
    until_text(&li, &supplier_url, "#h-sign", "Sign with my passkey").await;
    let shown = fetch_in_browser(&li, &format!("/console/sessions/{id}/documents/0")).await;
    assert_eq!(shown, pdf(), "the person reads the very document");
    let digest = text_of(&li, "#document-0 .digest code").await;
    assert_eq!(digest, signet_protocol::Digest::of(&pdf()).to_hex());
    screenshot(&li, "session-before-signing-phone").await;
    li.set_window_size(1280, 1400).await.unwrap();
    li.goto(&supplier_url).await.unwrap();
    screenshot(&li, "session-before-signing").await;
    li.set_window_size(390, 1400).await.unwrap();

    let said = try_to_sign(&li, &supplier_url).await;
    assert!(said.starts_with("Signed"), "{said}");
    let state = text_of(
        &li,
        &format!("tr[data-party='{}'] .state", supplier.party()),
    )
    .await;
    assert!(state.contains("Li Wei"), "{state}");
    assert!(
        state.contains("hardware-token"),
        "a device-bound passkey: {state}"
    );

    // Now the brand's turn.
    until_text(&wang, &brand_url, "#h-sign", "Sign with my passkey").await;
    let said = try_to_sign(&wang, &brand_url).await;
    assert!(said.starts_with("Signed"), "{said}");

    // Completed on both sides.
    until_text(&wang, &brand_url, "#session-title + p", "completed").await;
    until_text(&li, &supplier_url, "#session-title + p", "completed").await;
    screenshot(&wang, "session-completed").await;

    // The bundle from the supplier's console verifies offline, and says how each person
    // gave intent and who they are.
    let bundle = fetch_in_browser(&li, &format!("/console/sessions/{id}/bundle")).await;
    let policy = TrustPolicy::with_anchors(vec![TrustAnchor {
        party: ca.party(),
        name: "Verifier CA".into(),
    }]);
    let report = verify_bundle(&bundle, &[&pdf()], &policy, signet_node::service::now());
    assert_eq!(
        report.outcome,
        Outcome::Valid,
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    let signed: Vec<(String, String)> = report
        .parties
        .iter()
        .filter_map(|p| {
            p.signed
                .as_ref()
                .map(|s| (s.person.clone(), s.method.to_string()))
        })
        .collect();
    assert_eq!(
        signed,
        [
            ("Wang Fang".to_string(), "hardware-token".to_string()),
            ("Li Wei".to_string(), "hardware-token".to_string())
        ]
    );

    // And on the console's verification page.
    let bundle_file = root.path().join("contract.signet");
    std::fs::write(&bundle_file, &bundle).unwrap();
    li.set_window_size(1280, 1400).await.unwrap();
    li.goto(&format!("{s}/console/verify")).await.unwrap();
    li.find(Locator::Css("#verify-bundle"))
        .await
        .unwrap()
        .send_keys(bundle_file.to_str().unwrap())
        .await
        .unwrap();
    li.find(Locator::Css("#verify-documents"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click(&li, "#verify-button").await;
    assert_eq!(text_of(&li, "#report-outcome").await, "VALID");
    let parties = text_of(&li, "#report-parties").await;
    assert!(
        parties.contains("Li Wei") && parties.contains("Wang Fang"),
        "{parties}"
    );
    screenshot(&li, "verification-report").await;
    li.set_window_size(390, 1400).await.unwrap();

    // ---- Refusals, on a new contract to the supplier alone. ----
    let refused_url = send_contract(
        &wang,
        &b,
        "Framework order 7",
        &supplier.party().to_string(),
        None,
        &file,
    )
    .await;
    let id2: SessionId = refused_url.rsplit('/').next().unwrap().parse().unwrap();
    let url2 = format!("{s}/console/sessions/{id2}");
    until_text(&li, &url2, "#h-sign", "Sign with my passkey").await;

    // A person of the supplier without a mandate: refused.
    sign_out(&li).await;
    register(
        &li,
        &invite(&supplier_api, "Zhao Min", "signer").await,
        "phone",
    )
    .await;
    let said = try_to_sign(&li, &url2).await;
    assert!(
        said.contains("no seal mandate covers this signature"),
        "{said}"
    );

    // An expired mandate for that person: refused, and the reason says so.
    expired_mandate_for(&supplier, "Zhao Min").await;
    let said = try_to_sign(&li, &url2).await;
    assert!(
        said.contains("no seal mandate covers this signature"),
        "{said}"
    );
    assert!(
        said.contains("expired") || said.contains("valid until"),
        "{said}"
    );

    // Li Wei's mandate is good, but his passkey now answers from an authenticator that does
    // not verify the person (a security key without a PIN): the node refuses to claim intent
    // the proof does not show.
    sign_out(&li).await;
    sign_in(&li, &s, "Li Wei").await;
    let unverifying = move_passkeys(&li, &li_key, false).await;
    let said = try_to_sign(&li, &url2).await;
    assert!(
        said.contains("intent") && said.contains("hardware-token"),
        "refused for the missing user verification: {said}"
    );
    move_passkeys(&li, &unverifying, true).await;

    // Nothing of that was recorded: the session is open and still waits for the supplier.
    let summary = supplier.service.session(id2).unwrap();
    assert_eq!(summary.status, "open");
    assert_eq!(summary.waiting_for, [supplier.party().to_string()]);
    assert!(summary.timeline.iter().all(|e| e.event != "signed"));

    // With verification back, the same person signs.
    let said = try_to_sign(&li, &url2).await;
    assert!(said.starts_with("Signed"), "{said}");
    // The language follows the browser, and the person can switch it: back to the same page.
    li.goto(&url2).await.unwrap();
    click(&li, "a.lang").await;
    let nav = text_of(&li, "header nav").await;
    assert!(nav.contains("待办") && nav.contains("合同"), "{nav}");
    assert_eq!(text_of(&li, "#session-title").await, "Framework order 7");
    screenshot(&li, "session-signed-zh-phone").await;
    let _ = wang_key;
    wang.close().await.unwrap();
    li.close().await.unwrap();
}

/// Gives `person` (their first passkey) a mandate of the supplier that expires in two
/// seconds, and waits until it has.
async fn expired_mandate_for(supplier: &Node, person: &str) {
    use signet_protocol::attestation::{Attestation, Claims, Delegate, Delegation};
    let people = signet_node::console::People::open(&supplier.dir).unwrap();
    let p = people.by_name(person).unwrap();
    let credential = p.passkeys[0].credential("localhost").unwrap();
    let key = signet_node::keyfile::read(&supplier.dir.join("keys/attest.key")).unwrap();
    let log =
        signet_protocol::keylog::KeyLog::replay(supplier.service.own_key_log().unwrap()).unwrap();
    let seals: Vec<_> = supplier
        .service
        .seals()
        .unwrap()
        .into_iter()
        .filter(|s| s.valid)
        .map(|s| signet_protocol::keylog::LogKey::from_text(&s.key).unwrap())
        .collect();
    let now = signet_node::service::now();
    let mandate = Attestation {
        id: "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e".parse().unwrap(),
        issuer: supplier.party(),
        subject: supplier.party(),
        issued_at: now,
        valid_from: now,
        valid_until: now.plus(2),
        claims: Claims::Delegation(Delegation {
            delegate: Delegate::with_credential(person.to_string(), credential),
            seals,
            purposes: vec!["procurement".into()],
            value_cap: None,
            counterparties: None,
        }),
    }
    .issue(&key, &log)
    .unwrap();
    supplier
        .service
        .import_attestation(mandate.bytes())
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
}
