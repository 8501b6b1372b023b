//! RFC 9457 problem documents: every API error.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::ServiceError;

/// An API error as an RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank`: the status says it).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// This occurrence's details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Seconds until a retry may succeed (sent as `Retry-After`, not in the body).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem with `status` and `title`.
    pub fn new(status: StatusCode, title: &str) -> Self {
        Self {
            kind: "about:blank".into(),
            title: title.into(),
            status: status.as_u16(),
            detail: None,
            retry_after: None,
        }
    }

    /// `429 Too Many Requests`, with `Retry-After: secs`.
    pub fn too_many(title: &str, secs: u64) -> Self {
        Self {
            retry_after: Some(secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, title)
        }
        .detail(format!("retry after {secs} s"))
    }

    /// Adds details.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

impl From<JsonRejection> for Problem {
    fn from(e: JsonRejection) -> Self {
        Problem::new(e.status(), "invalid request body").detail(e.body_text())
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        let (status, title) = match &e {
            ServiceError::UnknownSession(_) => (StatusCode::NOT_FOUND, "no such session"),
            ServiceError::NoSuchDocument { .. } => (StatusCode::NOT_FOUND, "no such document"),
            ServiceError::NotACertificationAuthority => (
                StatusCode::NOT_FOUND,
                "this node issues no PDF certificates",
            ),
            ServiceError::Action(_) => (StatusCode::CONFLICT, "the protocol refused the action"),
            ServiceError::DocumentsMissing(_) => {
                (StatusCode::CONFLICT, "documents not fetched yet")
            }
            ServiceError::NoMandate(_) => (
                StatusCode::FORBIDDEN,
                "no seal mandate covers this signature",
            ),
            ServiceError::NationalAlgorithms(_) => {
                (StatusCode::CONFLICT, "national algorithms required")
            }
            ServiceError::Assemble(_) => (StatusCode::CONFLICT, "no bundle for this session"),
            ServiceError::Usage(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid request"),
            ServiceError::Crl(_) => (StatusCode::UNPROCESSABLE_ENTITY, "the CRL is refused"),
            ServiceError::NotStarted => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the node's network is not started",
            ),
            ServiceError::Net(_) => (StatusCode::BAD_GATEWAY, "network error"),
            _ => {
                tracing::error!(error = %e, "API call failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        };
        Problem::new(status, title).detail(e.to_string())
    }
}
