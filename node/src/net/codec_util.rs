//! Reading a whole stream under a size cap.

use std::io;

use futures::{AsyncRead, AsyncReadExt};

/// Reads `io` to its end, refusing more than `max` bytes without reading past `max + 1`.
pub(crate) async fn read_capped<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max: usize,
) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io.take(max as u64 + 1).read_to_end(&mut bytes).await?;
    if bytes.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message exceeds {max} bytes"),
        ));
    }
    Ok(bytes)
}

/// An `InvalidData` error for a malformed message.
pub(crate) fn malformed(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed {what}"))
}
