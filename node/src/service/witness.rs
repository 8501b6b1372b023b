//! Witness cosigning between nodes: the witness protocol of spec §10.5.4, over
//! `/signet/msg/1` (spec §12.5).
//!
//! The messages and what a witness answers are `signet_protocol::transport::witness`'s; this
//! module keeps the witness's state on disk. A request is a witness message (a CBOR map,
//! which no session message starts with); the node answers it on the wire with `0x00` once
//! it has decided and stored its answer, then delivers the answer (a cosignature line, or a
//! refusal with the size it holds) to the requesting party as a message of its own, through
//! the durable outbox, retried until the requester acknowledges it.
//!
//! The witness keeps every checkpoint it cosigned in `DIR/witness-checkpoints` (appended and
//! synced before it answers), and restores its state from that file at start.

use std::io::Write;
use std::path::Path;

fn frame(out: &mut Vec<u8>, bytes: &[u8]) {
    // Notes are at most 16 KiB (spec §10.4.1).
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Reads the notes a witness cosigned from `path` (absent: none).
pub fn load_cosigned(path: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        // A torn last record (a crash mid-append) is ignored: it was never answered.
        let Some(note) = rest.get(4..4 + len) else {
            break;
        };
        out.push(note.to_vec());
        rest = &rest[4 + len..];
    }
    Ok(out)
}

/// Appends a cosigned note to `path` and syncs it.
pub fn append_cosigned(path: &Path, note: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut record = Vec::with_capacity(note.len() + 4);
    frame(&mut record, note);
    file.write_all(&record)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosigned_notes_survive_a_torn_last_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("witness-checkpoints");
        assert!(load_cosigned(&path).unwrap().is_empty());
        append_cosigned(&path, b"first").unwrap();
        append_cosigned(&path, b"second").unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&[0, 0, 0, 9, 1]);
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(
            load_cosigned(&path).unwrap(),
            vec![b"first".to_vec(), b"second".to_vec()]
        );
    }
}
