//! Documents uploaded to the API as a stream, named by digest in a session, fetched by the
//! counterparty and signed; malformed uploads and references are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use signet_node::keyfile;
use signet_protocol::Digest;
use support::{brand_and_supplier, http, http_raw, serve_api, until};
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_upload_is_signed_by_digest_and_bad_uploads_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let (_ca, brand, supplier) = brand_and_supplier(root.path()).await;
    let api = serve_api(&brand).await;

    // Several chunks (256 KiB each) and a partial one.
    let contract: Vec<u8> = (0..(3 * 256 * 1024 + 4321))
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let digest = Digest::of(&contract);

    // Read scope may not upload.
    let (status, _, _) = http_raw(
        &api,
        "POST",
        "/v1/documents",
        Some("read-token"),
        "application/octet-stream",
        &contract,
    )
    .await;
    assert_eq!(status, 403);

    // An upload cut short (the connection closes before Content-Length bytes) stores
    // nothing: a session cannot name it.
    {
        let mut s = tokio::net::TcpStream::connect(&api).await.unwrap();
        let head = format!(
            "POST /v1/documents HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer sign-token\r\nContent-Length: {}\r\n\r\n",
            contract.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&contract[..300_000]).await.unwrap();
        drop(s);
    }
    let session = |documents: Value| {
        json!({
            "title": "Supply agreement",
            "purpose": "procurement",
            "participants": [{"party": supplier.party().to_string()}],
            "documents": documents,
        })
        .to_string()
    };
    let by_digest = json!([{"name": "agreement.pdf", "digest": digest.to_string()}]);
    let mut status = 0;
    for _ in 0..50 {
        // The server may still be reading the cut upload; it must never become stored.
        let (s, _, body) = http(
            &api,
            "POST",
            "/v1/sessions",
            Some("sign-token"),
            &session(by_digest.clone()),
        )
        .await;
        status = s;
        assert_ne!(s, 201, "a truncated upload was stored: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(status, 422, "an unknown digest is refused");

    // The whole upload.
    let (status, _, body) = http_raw(
        &api,
        "POST",
        "/v1/documents",
        Some("sign-token"),
        "application/octet-stream",
        &contract,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let uploaded: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(uploaded["digest"], digest.to_string());
    assert_eq!(uploaded["size"], contract.len() as u64);

    // Malformed references.
    for (documents, want) in [
        (
            json!([{"name": "a.pdf", "digest": "zz"}]),
            400, // not hex
        ),
        (
            json!([{"name": "a.pdf", "digest": digest.to_string(), "content": "AAAA"}]),
            400, // both
        ),
        (json!([{"name": "a.pdf"}]), 400), // neither
    ] {
        let (status, head, _) = http(
            &api,
            "POST",
            "/v1/sessions",
            Some("sign-token"),
            &session(documents),
        )
        .await;
        assert_eq!(status, want);
        assert!(head.contains("application/problem+json"));
    }

    // A session naming it by digest: the supplier fetches it, checks it, and signs.
    let (status, _, body) = http(
        &api,
        "POST",
        "/v1/sessions",
        Some("sign-token"),
        &session(by_digest),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id: Value = serde_json::from_str(&body).unwrap();
    let id: signet_protocol::session::SessionId = id["id"].as_str().unwrap().parse().unwrap();
    until("the supplier receives the proposal", || {
        supplier.service.session(id).is_ok()
    })
    .await;
    assert_eq!(
        supplier.service.session(id).unwrap().documents,
        vec![digest.to_string()]
    );
    let delegate = keyfile::read(&supplier.delegate_key).unwrap();
    until("the supplier signs once the document is here", || {
        signet_node::person::sign_as(&supplier.service, id, &delegate).is_ok()
    })
    .await;
    until("both see it completed", || {
        brand.service.session(id).unwrap().status == "completed"
            && supplier.service.session(id).unwrap().status == "completed"
    })
    .await;
}
