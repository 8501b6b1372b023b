//! What the store holds for a session: its state as a snapshot, or (written by older
//! versions) the journal of the inputs that built it.
//!
//! **Snapshots** (stored form 2, what this version writes): the protocol session's own
//! snapshot ([`Session::snapshot`](signet_protocol::session::Session::snapshot): every signed
//! object as its exact bytes, plus the plain state) and the evidence-log positions of the
//! session's events. Loading one signs nothing and replays nothing: the session's signatures
//! are checked again and the state taken as it was. So start-up does not grow with each
//! session's history, and the node key can rotate (nothing is ever signed again with it).
//!
//! **Journals** (stored form 1, older versions): every input given to the session's API —
//! the proposal made or the propose message received, every message handled, every local
//! action with its arguments — each with the time it was applied and the evidence-log
//! positions its events took. The API is deterministic (Ed25519 signatures are deterministic
//! and time is an argument), so replaying a journal through it with the same keys rebuilds
//! the session exactly. A node opening a store with journals replays each once and writes it
//! back as a snapshot (see `Core::open`); after that no journal is left.
//!
//! Beside the snapshot, form 3 keeps the session's **listing**: what a summary of it shows
//! that the session alone decides (title, status, parties, timeline…, JSON), so that a list
//! of sessions reads records instead of restoring each (checking every signature again).
//! It is written with the snapshot in the same record, so the two cannot disagree.
//!
//! Stored form 3 (this version): version byte `3`, then three length-prefixed frames: the
//! snapshot, the evidence indices (u64 BE each), and the listing. Stored form 2 (the version
//! before): version byte `2` and the first two frames. Stored form 1: version byte `1`, then entries, each a
//! sequence of length-prefixed frames: kind, time (u64 BE seconds), evidence indices
//! (u64 BE each), then the kind's arguments.

use signet_protocol::Timestamp;

const VERSION: u8 = 1;
const SNAPSHOT_VERSION: u8 = 2;
const LISTED_SNAPSHOT_VERSION: u8 = 3;

/// Most frames one journal may hold (a bound on decoding a corrupt record).
const MAX_ENTRIES: usize = 1 << 20;

/// One input the session was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The initiator's own proposal (the exact signed proposal bytes).
    Propose(Vec<u8>),
    /// A propose message received: the session's start on a participant's side.
    Receive(Vec<u8>),
    /// A message handled.
    Handle(Vec<u8>),
    /// The local party acknowledged.
    Acknowledge,
    /// The local party signed: the delegate's signed intent, the mandate and the seal key
    /// used (its public key; the node holds the secret).
    Sign {
        /// The signed intent challenge.
        intent: Vec<u8>,
        /// The delegation attestation.
        mandate: Vec<u8>,
        /// The seal's public key.
        seal: Vec<u8>,
        /// The PDF revisions sealed (deterministic CBOR of the seal signature's `pdf`
        /// array); empty when none was (journals before PDF seals have no such argument).
        pdf: Vec<u8>,
    },
    /// The local party approved.
    Approve,
    /// The local party declined.
    Decline(String),
    /// The initiator cancelled.
    Cancel(String),
    /// The initiator reminded.
    Remind(String),
    /// The local party shared its evidence (encoded `PartyEvidence`).
    ShareEvidence(Vec<u8>),
    /// The clock passed the deadline: the session expired.
    Tick,
}

/// An input with when it was applied and where its events went in the evidence log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The input.
    pub input: Input,
    /// The time it was applied at.
    pub time: Timestamp,
    /// Evidence-log indices of the events it produced.
    pub evidence: Vec<u64>,
}

/// A stored journal does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt session journal: {0}")]
pub struct CorruptJournal(pub &'static str);

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    // Frames are bounded by the message cap (1 MiB) far below u32::MAX.
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Encodes a journal (stored form 1: what older versions wrote; tests make old stores with
/// it).
pub fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = vec![VERSION];
    for e in entries {
        let (kind, args): (u8, Vec<&[u8]>) = match &e.input {
            Input::Propose(b) => (1, vec![b]),
            Input::Receive(b) => (2, vec![b]),
            Input::Handle(b) => (3, vec![b]),
            Input::Acknowledge => (4, vec![]),
            Input::Sign {
                intent,
                mandate,
                seal,
                pdf,
            } if pdf.is_empty() => (5, vec![intent, mandate, seal]),
            Input::Sign {
                intent,
                mandate,
                seal,
                pdf,
            } => (5, vec![intent, mandate, seal, pdf]),
            Input::Approve => (6, vec![]),
            Input::Decline(r) => (7, vec![r.as_bytes()]),
            Input::Cancel(r) => (8, vec![r.as_bytes()]),
            Input::Remind(r) => (9, vec![r.as_bytes()]),
            Input::ShareEvidence(b) => (10, vec![b]),
            Input::Tick => (11, vec![]),
        };
        out.push(kind);
        out.extend_from_slice(&e.time.unix().to_be_bytes());
        let evidence: Vec<u8> = e.evidence.iter().flat_map(|i| i.to_be_bytes()).collect();
        put(&mut out, &evidence);
        out.push(u8::try_from(args.len()).unwrap_or(u8::MAX));
        for a in args {
            put(&mut out, a);
        }
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CorruptJournal> {
        if self.0.len() < n {
            return Err(CorruptJournal("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, CorruptJournal> {
        Ok(self.take(1)?[0])
    }
    fn u64(&mut self) -> Result<u64, CorruptJournal> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn frame(&mut self) -> Result<&'a [u8], CorruptJournal> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        self.take(u32::from_be_bytes(a) as usize)
    }
}

fn text(b: &[u8]) -> Result<String, CorruptJournal> {
    String::from_utf8(b.to_vec()).map_err(|_| CorruptJournal("text is not UTF-8"))
}

/// A session's stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The session's snapshot and its evidence-log positions.
    Snapshot {
        /// [`Session::snapshot`](signet_protocol::session::Session::snapshot)'s bytes.
        snapshot: Vec<u8>,
        /// Evidence-log indices of the session's events, in order.
        evidence: Vec<u64>,
        /// The session's listing (absent in records of stored form 2).
        listing: Option<Vec<u8>>,
    },
    /// An older version's journal, to replay once.
    Journal(Vec<Entry>),
}

/// Encodes a session's snapshot with its evidence-log positions and its listing (stored
/// form 3).
pub fn encode_snapshot(snapshot: &[u8], evidence: &[u64], listing: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(snapshot.len() + listing.len() + 13 + 8 * evidence.len());
    out.push(LISTED_SNAPSHOT_VERSION);
    put(&mut out, snapshot);
    let indices: Vec<u8> = evidence.iter().flat_map(|i| i.to_be_bytes()).collect();
    put(&mut out, &indices);
    put(&mut out, listing);
    out
}

fn indices(bytes: &[u8]) -> Result<Vec<u64>, CorruptJournal> {
    if !bytes.len().is_multiple_of(8) {
        return Err(CorruptJournal("evidence indices"));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            u64::from_be_bytes(a)
        })
        .collect())
}

/// Decodes a session's stored form, whichever version wrote it.
pub fn decode_stored(bytes: &[u8]) -> Result<Stored, CorruptJournal> {
    match bytes.first() {
        Some(&version @ (SNAPSHOT_VERSION | LISTED_SNAPSHOT_VERSION)) => {
            let mut r = Reader(&bytes[1..]);
            let snapshot = r.frame()?.to_vec();
            let evidence = indices(r.frame()?)?;
            let listing = match version {
                LISTED_SNAPSHOT_VERSION => Some(r.frame()?.to_vec()),
                _ => None,
            };
            if !r.0.is_empty() {
                return Err(CorruptJournal("bytes after the snapshot"));
            }
            Ok(Stored::Snapshot {
                snapshot,
                evidence,
                listing,
            })
        }
        _ => decode(bytes).map(Stored::Journal),
    }
}

/// The listing of a session's stored form, borrowed, without copying the snapshot: `None`
/// for forms without one (1 and 2).
pub fn stored_listing(bytes: &[u8]) -> Result<Option<&[u8]>, CorruptJournal> {
    if bytes.first() != Some(&LISTED_SNAPSHOT_VERSION) {
        return Ok(None);
    }
    let mut r = Reader(&bytes[1..]);
    r.frame()?;
    r.frame()?;
    let listing = r.frame()?;
    if !r.0.is_empty() {
        return Err(CorruptJournal("bytes after the snapshot"));
    }
    Ok(Some(listing))
}

/// Decodes a journal (stored form 1).
pub fn decode(bytes: &[u8]) -> Result<Vec<Entry>, CorruptJournal> {
    let mut r = Reader(bytes);
    if r.u8()? != VERSION {
        return Err(CorruptJournal("unknown version"));
    }
    let mut entries = Vec::new();
    while !r.0.is_empty() {
        if entries.len() >= MAX_ENTRIES {
            return Err(CorruptJournal("too many entries"));
        }
        let kind = r.u8()?;
        let time = Timestamp::from_unix(r.u64()?);
        let evidence = indices(r.frame()?)?;
        let n = r.u8()?;
        let mut args = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            args.push(r.frame()?);
        }
        let arg = |i: usize| -> Result<&[u8], CorruptJournal> {
            args.get(i)
                .copied()
                .ok_or(CorruptJournal("missing argument"))
        };
        let input = match kind {
            1 => Input::Propose(arg(0)?.to_vec()),
            2 => Input::Receive(arg(0)?.to_vec()),
            3 => Input::Handle(arg(0)?.to_vec()),
            4 => Input::Acknowledge,
            5 => Input::Sign {
                intent: arg(0)?.to_vec(),
                mandate: arg(1)?.to_vec(),
                seal: arg(2)?.to_vec(),
                pdf: args.get(3).map(|a| a.to_vec()).unwrap_or_default(),
            },
            6 => Input::Approve,
            7 => Input::Decline(text(arg(0)?)?),
            8 => Input::Cancel(text(arg(0)?)?),
            9 => Input::Remind(text(arg(0)?)?),
            10 => Input::ShareEvidence(arg(0)?.to_vec()),
            11 => Input::Tick,
            _ => return Err(CorruptJournal("unknown entry kind")),
        };
        entries.push(Entry {
            input,
            time,
            evidence,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_round_trip_and_truncation_is_detected() {
        let entries = vec![
            Entry {
                input: Input::Receive(vec![1, 2, 3]),
                time: Timestamp::from_unix(5),
                evidence: vec![0, 7],
            },
            Entry {
                input: Input::Sign {
                    intent: vec![9],
                    mandate: vec![8, 8],
                    seal: vec![7; 32],
                    pdf: Vec::new(),
                },
                time: Timestamp::from_unix(6),
                evidence: vec![],
            },
            Entry {
                input: Input::Sign {
                    intent: vec![9],
                    mandate: vec![8, 8],
                    seal: vec![7; 32],
                    pdf: vec![0x80],
                },
                time: Timestamp::from_unix(6),
                evidence: vec![],
            },
            Entry {
                input: Input::Decline("price".into()),
                time: Timestamp::from_unix(7),
                evidence: vec![3],
            },
        ];
        let bytes = encode(&entries);
        assert_eq!(decode_stored(&bytes), Ok(Stored::Journal(entries.clone())));
        assert_eq!(decode(&bytes), Ok(entries));
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[2]).is_err());
    }

    #[test]
    fn snapshots_round_trip_and_damage_is_detected() {
        let bytes = encode_snapshot(b"snapshot", &[3, 9], b"{}");
        assert_eq!(
            decode_stored(&bytes),
            Ok(Stored::Snapshot {
                snapshot: b"snapshot".to_vec(),
                evidence: vec![3, 9],
                listing: Some(b"{}".to_vec()),
            })
        );
        // Form 2, written by the version before: no listing.
        let mut form2 = vec![SNAPSHOT_VERSION];
        put(&mut form2, b"snapshot");
        put(&mut form2, &[0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(stored_listing(&bytes), Ok(Some(&b"{}"[..])));
        assert_eq!(stored_listing(&form2), Ok(None));
        assert!(stored_listing(&bytes[..bytes.len() - 1]).is_err());
        assert_eq!(
            decode_stored(&form2),
            Ok(Stored::Snapshot {
                snapshot: b"snapshot".to_vec(),
                evidence: vec![3],
                listing: None,
            })
        );
        assert!(decode_stored(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_stored(&longer).is_err());
        assert!(decode_stored(&[]).is_err());
    }
}
