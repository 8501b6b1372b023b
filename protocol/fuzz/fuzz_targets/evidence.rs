//! Evidence: checkpoint notes, inclusion proofs, evidence events, equivocation proofs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_protocol::evidence::checkpoint::Checkpoint;
use signet_protocol::evidence::note::SignedNote;
use signet_protocol::evidence::{Equivocation, EvidenceEvent, InclusionProof};

fuzz_target!(|data: &[u8]| {
    let _ = SignedNote::parse(data);
    let _ = Checkpoint::from_note_unverified(data);
    let _ = InclusionProof::decode(data);
    let _ = EvidenceEvent::decode(data);
    let _ = Equivocation::decode(data);
});
