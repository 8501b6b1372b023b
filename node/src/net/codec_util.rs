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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use signet_protocol::Digest;
    use signet_protocol::error::ErrorCode;
    use signet_protocol::session::SessionId;

    use crate::net::{doc, msg};

    proptest! {
        /// Decoders take any bytes from the network without panicking, and whatever they
        /// accept encodes back to the same bytes (one encoding per value).
        #[test]
        fn wire_decoders_are_total_and_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(r) = msg::Response::decode(&bytes) {
                prop_assert_eq!(r.encode(), bytes.clone());
            }
            if let Ok(r) = doc::Request::decode(&bytes) {
                prop_assert_eq!(r.encode(), bytes.clone());
            }
            if let Ok(r) = doc::Response::decode(&bytes) {
                prop_assert_eq!(r.encode(), bytes.clone());
            }
        }

        #[test]
        fn wire_values_round_trip(
            code in any::<u64>(),
            session in any::<[u8; 32]>(),
            document in any::<[u8; 32]>(),
            index in any::<u32>(),
            len in any::<u64>(),
            chunk in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let r = msg::Response::Refused(ErrorCode::from_code(code));
            prop_assert_eq!(msg::Response::decode(&r.encode()), Ok(r));
            let q = doc::Request {
                session: SessionId::from_bytes(session),
                document: Digest::from_bytes(document),
                index,
            };
            prop_assert_eq!(doc::Request::decode(&q.encode()), Ok(q));
            let c = doc::Response::Chunk { document_len: len, bytes: chunk };
            prop_assert_eq!(doc::Response::decode(&c.encode()), Ok(c));
        }
    }
}
