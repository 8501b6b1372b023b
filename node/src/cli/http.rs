//! The `signet` command's HTTP client for the node's API: hyper's HTTP/1.1 over TCP, or over
//! TLS (rustls) for an `https://` API. One request per connection: the command makes a few.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use anyhow::{Context, Result, anyhow, bail};
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Bytes, Frame};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Largest response held in memory (JSON answers and bundles are well below; documents are
/// streamed to files with [`download`]).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// A response: status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Where the API is: its base URL (`http://host:port` or `https://host:port`), the token, and
/// an extra CA file for its TLS certificate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint<'a> {
    pub(crate) base: &'a str,
    pub(crate) token: Option<&'a str>,
    pub(crate) ca: Option<&'a Path>,
}

/// A connection, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The host (for `Host:` and TLS) and `host:port` of `base`, and whether it is TLS.
fn parse_base(base: &str) -> Result<(bool, String, String)> {
    let (tls, rest) = if let Some(rest) = base.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = base.strip_prefix("http://") {
        (false, rest)
    } else {
        bail!("the API address must start with http:// or https:// (got {base})");
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        bail!("the API address is scheme://host:port (got {base})");
    }
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addr = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
    {
        authority.to_string()
    } else {
        format!("{authority}:{}", if tls { 443 } else { 80 })
    };
    Ok((tls, host, addr))
}

async fn connect(ep: &Endpoint<'_>) -> Result<(String, Stream)> {
    let (tls, host, addr) = parse_base(ep.base)?;
    let tcp = TcpStream::connect(&addr).await.with_context(|| {
        format!(
            "cannot reach the node's API at {}: is `signet run` running?",
            ep.base
        )
    })?;
    if !tls {
        return Ok((host, Stream::Plain(tcp)));
    }
    let mut roots = signet_node::tls::system_roots();
    if let Some(ca) = ep.ca {
        signet_node::tls::add_ca_file(&mut roots, ca)?;
    }
    let connector = signet_node::tls::connector(roots)?;
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())
        .map_err(|_| anyhow!("{host} is not a host name for TLS"))?;
    let stream = connector.connect(name, tcp).await.with_context(|| {
        format!(
            "TLS with {} failed (is its certificate issued by a CA you trust? --api-ca adds one)",
            ep.base
        )
    })?;
    Ok((host, Stream::Tls(Box::new(stream))))
}

/// Sends one request and returns the response head and body stream.
async fn send<B>(
    ep: &Endpoint<'_>,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    length: Option<u64>,
    body: B,
) -> Result<hyper::Response<hyper::body::Incoming>>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (host, stream) = connect(ep).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake with the node")?;
    tokio::spawn(async move {
        // The connection ends when the response is read; its error then is the request's.
        let _ = connection.await;
    });
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, host);
    if let Some(t) = ep.token {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(c) = content_type {
        request = request.header(hyper::header::CONTENT_TYPE, c);
    }
    if let Some(n) = length {
        request = request.header(hyper::header::CONTENT_LENGTH, n);
    }
    let request = request.body(body).context("building the request")?;
    sender
        .send_request(request)
        .await
        .with_context(|| format!("{method} {path}: the node did not answer"))
}

/// Reads a whole response body, at most [`MAX_RESPONSE`] bytes.
async fn collect(response: hyper::Response<hyper::body::Incoming>) -> Result<Reply> {
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.context("reading the answer")?.into_data() {
            if out.len() + data.len() > MAX_RESPONSE {
                bail!("the node's answer is larger than {MAX_RESPONSE} bytes");
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Reply { status, body: out })
}

/// Sends `method path` with an optional JSON body.
pub(crate) async fn request(
    ep: &Endpoint<'_>,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<Reply> {
    let (content_type, bytes) = match body {
        Some(b) => (Some("application/json"), serde_json::to_vec(b)?),
        None => (None, Vec::new()),
    };
    let len = bytes.len() as u64;
    let response = send(
        ep,
        method,
        path,
        content_type,
        Some(len),
        Full::new(Bytes::from(bytes)),
    )
    .await?;
    collect(response).await
}

/// POSTs the file at `file` as the raw body of `path`, streamed (never whole in memory).
pub(crate) async fn upload(ep: &Endpoint<'_>, path: &str, file: &Path) -> Result<Reply> {
    let source = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let len = source.metadata().await?.len();
    let frames = futures::StreamExt::map(
        tokio_util::io::ReaderStream::with_capacity(source, 256 * 1024),
        |chunk| chunk.map(Frame::data),
    );
    let response = send(
        ep,
        "POST",
        path,
        Some("application/octet-stream"),
        Some(len),
        StreamBody::new(frames),
    )
    .await?;
    collect(response).await
}

/// GETs `path` into the file `out` (created; it must not exist), streamed; returns the
/// status and, on success, how many bytes were written and the body's SHA-256. On failure
/// the problem document is returned as the reply's body and no file is left behind.
pub(crate) async fn download(
    ep: &Endpoint<'_>,
    path: &str,
    out: &Path,
) -> Result<(Reply, Option<(u64, signet_protocol::Digest)>)> {
    use sha2::Digest as _;
    let response = send(
        ep,
        "GET",
        path,
        None,
        None,
        http_body_util::Empty::<Bytes>::new(),
    )
    .await?;
    if !response.status().is_success() {
        return Ok((collect(response).await?, None));
    }
    let status = response.status().as_u16();
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .await
        .with_context(|| format!("creating {}", out.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut written = 0u64;
    let mut body = response.into_body();
    let result: Result<()> = async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.context("reading the document")?.into_data() {
                hasher.update(&data);
                file.write_all(&data).await?;
                written += data.len() as u64;
            }
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(out).await;
        return Err(e);
    }
    let digest = signet_protocol::Digest::from_bytes(hasher.finalize().into());
    Ok((
        Reply {
            status,
            body: Vec::new(),
        },
        Some((written, digest)),
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_base;

    #[test]
    fn api_addresses_parse() {
        let (tls, host, addr) = parse_base("http://127.0.0.1:7400").unwrap();
        assert!(!tls);
        assert_eq!(
            (host.as_str(), addr.as_str()),
            ("127.0.0.1", "127.0.0.1:7400")
        );
        let (tls, host, addr) = parse_base("https://node.example.com/").unwrap();
        assert!(tls);
        assert_eq!(
            (host.as_str(), addr.as_str()),
            ("node.example.com", "node.example.com:443")
        );
        assert!(parse_base("ftp://x").is_err());
        assert!(parse_base("http://host:1/path").is_err());
    }
}
