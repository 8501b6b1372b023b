//! `POST /v1/documents`: a document streamed into the store, one chunk in memory at a time,
//! for sessions to name by digest. Documents of up to 1 GiB go this way; the JSON `content`
//! of `POST /v1/sessions` (base64, in memory) is for small ones.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use futures::TryStreamExt as _;
use serde_json::{Value, json};

use super::{Api, Problem, Signer};
use crate::service::ServiceError;
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
