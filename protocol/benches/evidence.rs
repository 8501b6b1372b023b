//! Evidence log benchmarks (spec §10): Merkle appends, roots and proofs, checkpoint signing
//! and verification, witness cosigning.
//!
//! `cargo bench -p signet-protocol --bench evidence -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use signet_protocol::Digest;
use signet_protocol::evidence::merkle::{
    MerkleTree, leaf_hash, verify_consistency, verify_inclusion,
};

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

criterion_group!(benches, merkle);
criterion_main!(benches);
