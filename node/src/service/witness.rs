//! Witness cosigning between nodes, over `/signet/msg/1`.
//!
//! A witness request is not a session message: its bytes start with [`PREFIX`] (which no
//! COSE_Sign1 message can start with: those begin with CBOR tag 18, byte `0xD2`), followed
//! by one kind byte and length-prefixed frames (u32 big-endian length, then bytes):
//!
//! | kind | message | frames |
//! | --- | --- | --- |
//! | 1 | cosign request | the signed checkpoint note; the consistency proof (32-byte digests concatenated) from the size the requester believes the witness last cosigned |
//! | 2 | cosigned | the note; the witness's cosignature line (C2SP `tlog-cosignature`) |
//! | 3 | refused | the note; a reason (UTF-8); the witness's last cosigned size for the origin (u64, or empty) |
//!
//! The transport authenticates the requesting node; the witness checks that the note's
//! origin is that node's party and that its signature is by a `log` key of the party at the
//! time, then cosigns with `Witness::cosign` (consistency with what it cosigned before).
//! The network's answer to a request is only Accepted or Refused; the cosignature (or the
//! reason for refusing) comes back as a separate message of kind 2 or 3. The witness keeps
//! every checkpoint it cosigned in `DIR/witness-checkpoints` (appended and synced before it
//! answers), and restores its state from that file at start.

use std::io::Write;
use std::path::Path;

use signet_protocol::Digest;

/// The first bytes of every witness message.
pub const PREFIX: &[u8] = b"signet-witness/1\n";

/// A witness message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessMessage {
    /// Please cosign `note`; `proof` is consistency from the size last cosigned.
    Request {
        /// The signed checkpoint note.
        note: Vec<u8>,
        /// The consistency proof.
        proof: Vec<Digest>,
    },
    /// The cosignature line for `note`.
    Cosigned {
        /// The note cosigned.
        note: Vec<u8>,
        /// The cosignature line.
        line: String,
    },
    /// The witness will not cosign `note`.
    Refused {
        /// The note.
        note: Vec<u8>,
        /// Why.
        reason: String,
        /// The size the witness last cosigned for this origin, if any.
        size: Option<u64>,
    },
}

fn frame(out: &mut Vec<u8>, bytes: &[u8]) {
    // Frames are bounded by the 1 MiB message cap.
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl WitnessMessage {
    /// Encodes the message with its prefix.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = PREFIX.to_vec();
        match self {
            Self::Request { note, proof } => {
                out.push(1);
                frame(&mut out, note);
                let p: Vec<u8> = proof.iter().flat_map(|d| *d.as_bytes()).collect();
                frame(&mut out, &p);
            }
            Self::Cosigned { note, line } => {
                out.push(2);
                frame(&mut out, note);
                frame(&mut out, line.as_bytes());
            }
            Self::Refused { note, reason, size } => {
                out.push(3);
                frame(&mut out, note);
                frame(&mut out, reason.as_bytes());
                frame(
                    &mut out,
                    &size.map(|s| s.to_be_bytes().to_vec()).unwrap_or_default(),
                );
            }
        }
        out
    }

    /// Decodes a message (with its prefix); `None` if it is not a well-formed one.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut rest = bytes.strip_prefix(PREFIX)?;
        let (&kind, r) = rest.split_first()?;
        rest = r;
        let mut frames = Vec::new();
        while !rest.is_empty() {
            if rest.len() < 4 || frames.len() >= 3 {
                return None;
            }
            let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let body = rest.get(4..4 + len)?;
            frames.push(body);
            rest = &rest[4 + len..];
        }
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
        match (kind, frames.as_slice()) {
            (1, [note, proof]) if proof.len() % 32 == 0 => Some(Self::Request {
                note: note.to_vec(),
                proof: proof
                    .chunks_exact(32)
                    .map(Digest::from_slice)
                    .collect::<Result<_, _>>()
                    .ok()?,
            }),
            (2, [note, line]) => Some(Self::Cosigned {
                note: note.to_vec(),
                line: text(line)?,
            }),
            (3, [note, reason, size]) => Some(Self::Refused {
                note: note.to_vec(),
                reason: text(reason)?,
                size: match size.len() {
                    0 => None,
                    8 => Some(u64::from_be_bytes((*size).try_into().ok()?)),
                    _ => return None,
                },
            }),
            _ => None,
        }
    }
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
    fn witness_messages_round_trip_and_garbage_is_rejected() {
        let messages = [
            WitnessMessage::Request {
                note: b"note".to_vec(),
                proof: vec![Digest::of(b"a"), Digest::of(b"b")],
            },
            WitnessMessage::Cosigned {
                note: b"n".to_vec(),
                line: "— w abc".into(),
            },
            WitnessMessage::Refused {
                note: vec![],
                reason: "rollback".into(),
                size: Some(7),
            },
        ];
        for m in messages {
            let bytes = m.encode();
            assert_eq!(WitnessMessage::decode(&bytes), Some(m));
            assert_eq!(WitnessMessage::decode(&bytes[..bytes.len() - 1]), None);
        }
        assert_eq!(WitnessMessage::decode(b"signet-witness/1\n\x09"), None);
        assert_eq!(WitnessMessage::decode(&[0xD2, 0x84]), None);
    }
}
