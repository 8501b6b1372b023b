//! A session's journal: the ordered inputs that built it, so it can be rebuilt on restart.
//!
//! The protocol's `Session` is not serialisable. The node persists, per session, every input
//! it gave the session's API — the proposal it made or the propose message it received,
//! every message it handled, every local action with its arguments — each with the time it
//! was applied and the evidence-log positions its events took. On start-up the node replays
//! the journal through the same API with the same times; the API is deterministic
//! (Ed25519 signatures are deterministic and time is an argument), so the rebuilt session
//! equals the one that was running. Replayed steps' outbound messages and events are
//! discarded: they were queued and logged when the input was first applied.
//!
//! Replay judges trust with today's trust store at the recorded times. A revocation
//! *backdated* before an input's time makes that input fail on replay; the session is then
//! left out with an error in the log (not silently changed). Rotating the root, attestation or
//! log key does not affect replay; a rotated seal's secret key is kept in `keys/retired/`
//! because replaying a signature signs again with it; the node key, which signs messages,
//! is not rotated by the node.
//!
//! Stored form (the store's opaque session state): version byte `1`, then entries, each a
//! sequence of length-prefixed frames: kind, time (u64 BE seconds), evidence indices
//! (u64 BE each), then the kind's arguments.

use signet_protocol::Timestamp;

const VERSION: u8 = 1;

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

/// Encodes a journal.
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

/// Decodes a journal.
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
        let ev = r.frame()?;
        if ev.len() % 8 != 0 {
            return Err(CorruptJournal("evidence indices"));
        }
        let evidence = ev
            .chunks_exact(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                u64::from_be_bytes(a)
            })
            .collect();
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
        assert_eq!(decode(&bytes), Ok(entries));
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[2]).is_err());
    }
}
