//! PDF seals over the API: `POST /v1/pdf/seal` seals a PDF for this party; a verifier's CA
//! certificate and CRL are public (`GET /v1/pdf/ca-certificate`, `GET /v1/pdf/crl`): relying
//! parties' PDF validators fetch them without a token.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::problem::Problem;
use super::{Api, Signer, blocking};
use crate::pdf::sign::Placement;

/// Where the seal goes; all absent: the first free slot along the bottom of the last page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SealQuery {
    /// The 1-based page (default: the last).
    page: Option<u32>,
    /// `x1,y1,x2,y2` in PDF points from the page's lower left corner.
    rect: Option<String>,
}

impl SealQuery {
    fn placement(&self) -> Result<Option<Placement>, Problem> {
        let Some(rect) = &self.rect else {
            if self.page.is_some() {
                return Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "a page needs its rect (x1,y1,x2,y2)",
                ));
            }
            return Ok(None);
        };
        let numbers: Vec<f32> = rect
            .split(',')
            .map(|n| n.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "rect is four numbers"))?;
        let rect: [f32; 4] = numbers
            .try_into()
            .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "rect is four numbers"))?;
        Ok(Some(Placement {
            page: self.page,
            rect,
        }))
    }
}

fn bytes_as(media_type: &'static str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, media_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Bytes::from(bytes),
    )
        .into_response()
}

/// `POST /v1/pdf/seal`: the PDF in the body, sealed by this party in the answer.
pub(super) async fn seal(
    _: Signer,
    State(api): State<Api>,
    Query(query): Query<SealQuery>,
    body: Bytes,
) -> Result<Response, Problem> {
    let placement = query.placement()?;
    let sealed = blocking(&api, move |s| s.seal_pdf(&body, placement)).await?;
    Ok(bytes_as("application/pdf", sealed))
}

/// The query of `GET /v1/pdf/ca-certificate`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CaQuery {
    /// `esp256` (default) or `sm2`: which of the verifier's CA certificates.
    #[serde(default)]
    algorithm: crate::service::config::PdfAlgorithm,
}

/// `GET /v1/pdf/ca-certificate[?algorithm=sm2]`: this verifier's CA certificate (DER), its
/// SM2 one with `algorithm=sm2` (national algorithms).
pub(super) async fn ca_certificate(
    State(api): State<Api>,
    query: Result<axum::extract::Query<CaQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let axum::extract::Query(q) = query.map_err(|e| {
        Problem::new(axum::http::StatusCode::BAD_REQUEST, "malformed query").detail(e.body_text())
    })?;
    let der = match q.algorithm {
        crate::service::config::PdfAlgorithm::Sm2 => {
            blocking(&api, |s| s.pdf_sm2_ca_certificate()).await?
        }
        _ => blocking(&api, |s| s.pdf_ca_certificate()).await?,
    };
    Ok(bytes_as("application/pkix-cert", der))
}

/// `GET /v1/pdf/crl`: this verifier's current CRL (DER).
pub(super) async fn crl(State(api): State<Api>) -> Result<Response, Problem> {
    let der = blocking(&api, |s| s.pdf_crl()).await?;
    Ok(bytes_as("application/pkix-crl", der))
}
