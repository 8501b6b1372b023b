//! `/signet/tsa/1` (spec §12.14): RFC 3161 time-stamping by a witness, over libp2p.
//!
//! Request: exactly one DER `TimeStampReq` (RFC 3161, 2.4.1), at most [`MAX_REQUEST`] bytes.
//! Response: exactly one DER `TimeStampResp` (RFC 3161, 2.4.2), at most [`MAX_RESPONSE`]
//! bytes: a token (`granted`), or a `rejection` with its failure information. A node that
//! is not a time-stamping witness, or holds no TSA certificate in effect, still answers, with
//! a rejection (`unacceptedPolicy` or `systemFailure`), never with silence.
//!
//! No further framing: the stream ends where the DER ends. This module checks only the
//! frame's shape (one definite-length DER SEQUENCE filling the bytes, within the cap); what
//! the request or token says is the node's to check.
//!
//! ```
//! use signet_protocol::transport::tsa::{self, MAX_REQUEST};
//!
//! // SEQUENCE { INTEGER 1 }: the shape of a request, whatever it says.
//! tsa::check_request(&[0x30, 0x03, 0x02, 0x01, 0x01])?;
//! assert!(tsa::check_request(&[0x30, 0x03, 0x02, 0x01]).is_err());
//! assert!(tsa::check_request(&vec![0x30; MAX_REQUEST + 1]).is_err());
//! # Ok::<(), signet_protocol::transport::FrameError>(())
//! ```

use super::FrameError;

/// The protocol id.
pub const PROTOCOL_ID: &str = "/signet/tsa/1";
/// The largest request, in bytes (a SHA-256 request with a nonce is about 70).
pub const MAX_REQUEST: usize = 4 * 1024;
/// The largest response, in bytes (a token with its TSA certificate is about 1.5 KiB).
pub const MAX_RESPONSE: usize = 32 * 1024;

/// Checks that `bytes` are one DER SEQUENCE of at most [`MAX_REQUEST`] bytes (the shape of a
/// `TimeStampReq`).
///
/// # Errors
///
/// [`FrameError::Empty`], [`FrameError::TooLarge`], or [`FrameError::Length`] when the
/// bytes are not exactly one definite-length SEQUENCE.
pub fn check_request(bytes: &[u8]) -> Result<(), FrameError> {
    check_sequence(bytes, MAX_REQUEST)
}

/// Checks that `bytes` are one DER SEQUENCE of at most [`MAX_RESPONSE`] bytes (the shape of
/// a `TimeStampResp`).
///
/// # Errors
///
/// As [`check_request`], with the response cap.
pub fn check_response(bytes: &[u8]) -> Result<(), FrameError> {
    check_sequence(bytes, MAX_RESPONSE)
}

/// One DER SEQUENCE (tag `0x30`, definite minimal length) that fills `bytes` exactly.
fn check_sequence(bytes: &[u8], max: usize) -> Result<(), FrameError> {
    let len = bytes.len();
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let wrong = FrameError::Length { len };
    let (&tag, rest) = bytes.split_first().ok_or(FrameError::Empty)?;
    if tag != 0x30 {
        return Err(wrong);
    }
    let (&first, rest) = rest
        .split_first()
        .ok_or(FrameError::Truncated { offset: 1 })?;
    let (content_len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        // Long form: 1 to 4 length bytes, no leading zero, and only for lengths above 127.
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(wrong);
        }
        let (digits, rest) = rest.split_at(count);
        if digits.first() == Some(&0) {
            return Err(wrong);
        }
        let value = digits
            .iter()
            .fold(0usize, |acc, d| (acc << 8) | usize::from(*d));
        if value < 0x80 {
            return Err(wrong);
        }
        (value, rest)
    };
    if rest.len() != content_len {
        return Err(wrong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shapes() {
        assert_eq!(check_request(&[0x30, 0x00]), Ok(()));
        assert_eq!(check_request(&[]), Err(FrameError::Empty));
        assert_eq!(
            check_request(&[0x31, 0x00]),
            Err(FrameError::Length { len: 2 })
        );
        // Trailing byte, truncation, indefinite length, non-minimal long form.
        assert!(check_request(&[0x30, 0x00, 0x00]).is_err());
        assert!(check_request(&[0x30, 0x02, 0x00]).is_err());
        assert!(check_request(&[0x30, 0x80, 0x00, 0x00]).is_err());
        assert!(check_request(&[0x30, 0x81, 0x01, 0x00]).is_err());
        let mut long = vec![0x30, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(0, 256));
        assert_eq!(check_request(&long), Ok(()));
        assert_eq!(check_response(&long), Ok(()));
        let mut big = vec![0x30, 0x82, 0x10, 0x00];
        big.extend(std::iter::repeat_n(0, 0x1000));
        assert_eq!(
            check_request(&big),
            Err(FrameError::TooLarge {
                len: big.len(),
                max: MAX_REQUEST
            })
        );
        assert_eq!(check_response(&big), Ok(()));
    }

    proptest! {
        /// Any bytes are checked without panicking, and an accepted frame is one SEQUENCE.
        #[test]
        fn total(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if check_response(&bytes).is_ok() {
                prop_assert_eq!(bytes[0], 0x30);
            }
        }
    }
}
