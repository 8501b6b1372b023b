//! A minimal HTTP/1.1 client for the node's loopback API (one request per connection).

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response read (bundles are well below).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// A response: status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Sends `method path` with an optional JSON body to `base` (`http://host:port`).
pub(crate) async fn request(
    base: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<Reply> {
    let (host, mut stream) = connect(base).await?;
    let body = match body {
        Some(b) => serde_json::to_vec(b)?,
        None => Vec::new(),
    };
    let content_type = (!body.is_empty()).then_some("application/json");
    let head = head(&host, token, method, path, content_type, body.len() as u64);
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    read_reply(stream).await
}

/// POSTs the file at `file` as the raw body of `path`, streamed (never whole in memory).
pub(crate) async fn upload(
    base: &str,
    token: Option<&str>,
    path: &str,
    file: &std::path::Path,
) -> Result<Reply> {
    // The CLI runs one request at a time: plain blocking reads of the file are fine here.
    let mut source =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let len = source.metadata()?.len();
    let (host, mut stream) = connect(base).await?;
    let head = head(
        &host,
        token,
        "POST",
        path,
        Some("application/octet-stream"),
        len,
    );
    stream.write_all(head.as_bytes()).await?;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut sent = 0u64;
    while sent < len {
        let want = usize::try_from(len - sent).map_or(buffer.len(), |r| r.min(buffer.len()));
        let n = std::io::Read::read(&mut source, &mut buffer[..want])?;
        if n == 0 {
            bail!("{} shrank while it was being sent", file.display());
        }
        stream.write_all(&buffer[..n]).await?;
        sent += n as u64;
    }
    read_reply(stream).await
}

async fn connect(base: &str) -> Result<(String, TcpStream)> {
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("the API address must start with http:// (got {base})"))?
        .trim_end_matches('/')
        .to_string();
    let stream = TcpStream::connect(&host).await.with_context(|| {
        format!("cannot reach the node's API at {base}: is `signet run` running?")
    })?;
    Ok((host, stream))
}

fn head(
    host: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    len: u64,
) -> String {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {len}\r\n"
    );
    if let Some(c) = content_type {
        head.push_str(&format!("Content-Type: {c}\r\n"));
    }
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    head
}

async fn read_reply(mut stream: TcpStream) -> Result<Reply> {
    let mut raw = Vec::new();
    (&mut stream)
        .take(MAX_RESPONSE as u64)
        .read_to_end(&mut raw)
        .await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("malformed HTTP response"))?;
    let head = std::str::from_utf8(&raw[..split])?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("malformed HTTP status line"))?;
    let mut body = raw[split + 4..].to_vec();
    if head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"))
    {
        body = dechunk(&body)?;
    }
    Ok(Reply { status, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("malformed chunked body"))?;
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end])?.trim(), 16)?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            bail!("truncated chunked body");
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
