//! Documents. `POST /v1/documents`: a document streamed into the store, one chunk in memory
//! at a time, for sessions to name by digest. Documents of up to 1 GiB go this way; the JSON
//! `content` of `POST /v1/sessions` (base64, in memory) is for small ones.
//!
//! `GET /v1/sessions/{id}/documents[/{index}]`: what a person reads before signing, streamed
//! back from the store with every chunk checked against its digest. Only the session's own
//! documents are reachable this way, and only types that cannot act are shown inline.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};
use signet_protocol::Digest;
use signet_protocol::session::SessionId;

use super::{Api, Problem, Reader, Signer, blocking, session_id};
use crate::service::{Service, ServiceError};
use crate::store::{CHUNK_SIZE, MAX_DOCUMENT_CHUNKS, StoreError};

pub(super) async fn upload(
    _: Signer,
    State(api): State<Api>,
    body: Body,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut reader = tokio_util::io::StreamReader::new(stream);
    match api.service.upload_document(&mut reader).await {
        Ok((digest, len)) => Ok((
            StatusCode::CREATED,
            Json(json!({ "digest": digest.to_string(), "size": len })),
        )),
        Err(ServiceError::Store(StoreError::DocumentTooLarge { .. })) => {
            tracing::warn!("document upload over the size limit refused");
            Err(
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "document too large").detail(format!(
                    "at most {} bytes",
                    MAX_DOCUMENT_CHUNKS as u64 * CHUNK_SIZE as u64
                )),
            )
        }
        Err(ServiceError::Store(StoreError::Source(e))) => {
            Err(Problem::new(StatusCode::BAD_REQUEST, "upload interrupted").detail(e.to_string()))
        }
        Err(e) => Err(Problem::from(e)),
    }
}

/// `GET /v1/sessions/{id}/documents`: the session's documents, each with whether this node
/// holds it yet.
pub(super) async fn list(
    _: Reader,
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = session_id(&id)?;
    let s = blocking(&api, move |s| s.session(id)).await?;
    Ok(Json(
        json!({ "session": s.id, "documents": s.document_list }),
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ContentQuery {
    /// Ask the browser to save it rather than show it.
    #[serde(default)]
    download: bool,
}

/// `GET /v1/sessions/{id}/documents/{index}`: the document's bytes, streamed from the store
/// chunk by chunk, each chunk checked against its digest.
pub(super) async fn content(
    _: Reader,
    State(api): State<Api>,
    Path((id, index)): Path<(String, usize)>,
    query: Result<Query<ContentQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = query.map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid query").detail(e.body_text())
    })?;
    let id = session_id(&id)?;
    respond(api.service.clone(), id, index, q.download).await
}

/// A media type from a file name's extension (for uploads that do not declare one).
pub fn media_type_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "ofd" => "application/ofd",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "xml" => "application/xml",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Media types shown inline. Anything else (HTML, SVG, scripts, office files) is only ever
/// offered as a download: a counterparty's document must not run in this origin.
const INLINE_TYPES: [&str; 6] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
];

/// Document `index` of session `id` as an HTTP response (shared by the API and the
/// console): its declared type when that is safe to show inline, a download otherwise;
/// never sniffed, never cached.
pub(crate) async fn respond(
    service: Arc<Service>,
    id: SessionId,
    index: usize,
    download: bool,
) -> Result<Response, Problem> {
    let s = service.clone();
    let (doc, manifest) = tokio::task::spawn_blocking(move || s.session_document(id, index))
        .await
        .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal task failed"))?
        .map_err(Problem::from)?;
    let document = Digest::from_hex(&doc.digest)
        .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "stored digest"))?;
    let declared = doc.media_type.to_ascii_lowercase();
    let inline = !download && INLINE_TYPES.contains(&declared.as_str());
    let media_type = match (inline, declared.as_str()) {
        (true, "text/plain") => "text/plain; charset=utf-8".to_string(),
        (true, t) => t.to_string(),
        (false, _) => "application/octet-stream".to_string(),
    };
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        rfc5987(&doc.name)
    );
    let manifest = Arc::new(manifest);
    let body = futures::stream::try_unfold(0usize, move |i| {
        let service = service.clone();
        let manifest = manifest.clone();
        async move {
            let chunk = tokio::task::spawn_blocking(move || {
                service.document_chunk(&document, &manifest, i)
            })
            .await
            .map_err(std::io::Error::other)?
            .map_err(std::io::Error::other)?;
            Ok::<_, std::io::Error>(chunk.map(|bytes| (Bytes::from(bytes), i + 1)))
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    let h = response.headers_mut();
    let value = |v: &str| {
        header::HeaderValue::from_str(v)
            .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "header"))
    };
    h.insert(header::CONTENT_TYPE, value(&media_type)?);
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(doc.size));
    h.insert(header::CONTENT_DISPOSITION, value(&disposition)?);
    h.insert(header::ETAG, value(&format!("\"{}\"", doc.digest))?);
    h.insert("x-signet-digest", value(&doc.digest)?);
    h.insert(header::CACHE_CONTROL, value("private, no-store")?);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, value("nosniff")?);
    if inline && declared != "application/pdf" {
        // Images and text need nothing active; the PDF viewer is the browser's own.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            value("sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")?,
        );
    }
    Ok(response)
}

/// `name` as an RFC 5987 `ext-value` (UTF-8, percent-encoded but for attr-chars).
fn rfc5987(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rfc5987;

    #[test]
    fn file_names_are_encoded_for_content_disposition() {
        assert_eq!(rfc5987("contract v2.pdf"), "contract%20v2.pdf");
        assert_eq!(rfc5987("合同.pdf"), "%E5%90%88%E5%90%8C.pdf");
        assert_eq!(rfc5987("a\"b\r\n.pdf"), "a%22b%0D%0A.pdf");
    }
}
