//! Evidence log benchmarks (spec §10): Merkle appends, roots and proofs, checkpoint signing
//! and verification, witness cosigning.
//!
//! `cargo bench -p signet-protocol --bench evidence -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use signet_protocol::evidence::merkle::{
    MerkleTree, leaf_hash, verify_consistency, verify_inclusion,
};
use signet_protocol::evidence::{
    Checkpoint, EvidenceEvent, EvidenceKind, EvidenceLog, SignedCheckpoint, Witness,
    evidence_origin, verify_cosignature,
};
use signet_protocol::testkit::TestParty;
use signet_protocol::{Digest, SecretKey, Timestamp};

const MILLION: u64 = 1_000_000;

fn leaves(n: u64) -> Vec<Digest> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn merkle(c: &mut Criterion) {
    let hashes = leaves(MILLION);
    let mut group = c.benchmark_group("merkle");
    group.sample_size(10);
    group.throughput(Throughput::Elements(MILLION));
    group.bench_function("push 1M leaf hashes", |b| {
        b.iter(|| {
            let mut tree = MerkleTree::new();
            for leaf in &hashes {
                tree.push(*leaf);
            }
            tree
        })
    });
    group.bench_function("hash and push 1M leaves", |b| {
        b.iter(|| {
            let mut tree = MerkleTree::new();
            for i in 0..MILLION {
                tree.push(leaf_hash(&i.to_be_bytes()));
            }
            tree
        })
    });
    group.bench_function("rebuild 1M from leaf hashes", |b| {
        b.iter_batched(
            || hashes.clone(),
            MerkleTree::from_leaf_hashes,
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let tree = MerkleTree::from_leaf_hashes(hashes);
    let size = tree.len();
    let root = tree.root();
    let mut group = c.benchmark_group("merkle at 1M");
    group.bench_function("root", |b| b.iter(|| black_box(&tree).root()));
    group.bench_function("root at past size", |b| {
        b.iter(|| black_box(&tree).root_at(black_box(654_321)).unwrap())
    });
    group.bench_function("inclusion proof", |b| {
        b.iter(|| {
            black_box(&tree)
                .inclusion_proof(black_box(123_457), size)
                .unwrap()
        })
    });
    let proof = tree.inclusion_proof(123_457, size).unwrap();
    let leaf = *tree.leaf_hash(123_457).unwrap();
    group.bench_function("verify inclusion", |b| {
        b.iter(|| verify_inclusion(&leaf, black_box(123_457), size, &proof, &root).unwrap())
    });
    group.bench_function("consistency proof", |b| {
        b.iter(|| {
            black_box(&tree)
                .consistency_proof(black_box(654_321), size)
                .unwrap()
        })
    });
    let old_root = tree.root_at(654_321).unwrap();
    let proof = tree.consistency_proof(654_321, size).unwrap();
    group.bench_function("verify consistency", |b| {
        b.iter(|| verify_consistency(black_box(654_321), size, &old_root, &root, &proof).unwrap())
    });
    group.finish();
}

fn event(i: u64) -> EvidenceEvent {
    let mut event = EvidenceEvent::new(
        EvidenceKind::SignatureReceived,
        Timestamp::from_unix(1_800_000_000 + i),
    );
    event.session = Some(Digest::of(&(i / 8).to_be_bytes()));
    event.objects = vec![Digest::of(&i.to_be_bytes())];
    event
}

fn log(c: &mut Criterion) {
    const EVENTS: u64 = 100_000;
    let events: Vec<EvidenceEvent> = (0..EVENTS).map(event).collect();
    let mut group = c.benchmark_group("evidence log");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("append 100k events", |b| {
        b.iter(|| {
            let mut log = EvidenceLog::new();
            for event in &events {
                log.append(event).unwrap();
            }
            log
        })
    });
    group.finish();
}

fn checkpoints(c: &mut Criterion) {
    let now = Timestamp::from_unix(1_800_000_000);
    let party = TestParty::new("Bench Co", now);
    let origin = evidence_origin(&party.id());
    let key = party.log_key.public_key();
    let tree = MerkleTree::from_leaf_hashes(leaves(MILLION));
    let checkpoint = Checkpoint::for_party(&party.id(), MILLION, tree.root());
    let note = checkpoint.sign(&party.log_key).to_bytes();

    let mut group = c.benchmark_group("checkpoint");
    group.bench_function("sign", |b| {
        b.iter(|| black_box(&checkpoint).sign(&party.log_key))
    });
    group.bench_function("verify", |b| {
        b.iter(|| SignedCheckpoint::verify(black_box(&note), &origin, &key).unwrap())
    });
    group.finish();

    // A witness that last cosigned size 654,321 is offered size 1M with the proof.
    const OLD: u64 = 654_321;
    let witness_seed = [0x42; 32];
    let old_note = SignedCheckpoint::verify(
        &Checkpoint::for_party(&party.id(), OLD, tree.root_at(OLD).unwrap())
            .sign(&party.log_key)
            .to_bytes(),
        &origin,
        &key,
    )
    .unwrap();
    let proof = tree.consistency_proof(OLD, MILLION).unwrap();
    let mut group = c.benchmark_group("witness");
    group.bench_function("cosign (verify note and proof, sign)", |b| {
        b.iter_batched(
            || {
                Witness::restore(
                    "witness.example.org",
                    SecretKey::from_seed(&witness_seed),
                    [old_note.clone()],
                )
                .unwrap()
            },
            |mut witness| witness.cosign(&note, &key, &proof, now).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let mut witness =
        Witness::new("witness.example.org", SecretKey::from_seed(&witness_seed)).unwrap();
    let cosignature = witness.cosign(&note, &key, &[], now).unwrap();
    let body = checkpoint.body();
    let witness_key = witness.public_key();
    group.bench_function("verify cosignature", |b| {
        b.iter(|| {
            verify_cosignature(
                black_box(&body),
                &cosignature,
                &witness_key,
                "witness.example.org",
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, merkle, log, checkpoints);
criterion_main!(benches);
