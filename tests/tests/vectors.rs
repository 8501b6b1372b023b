//! The committed vectors in `spec/vectors/` are exactly what the code generates: regenerate
//! them with `cargo run -p signet-tests --bin signet-vectors -- spec/vectors`.

use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn committed_vectors_are_the_codes_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
    let generated = signet_tests::vectors::generate().unwrap_or_else(|e| panic!("{e}"));
    for (name, text) in &generated {
        let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
            panic!(
                "spec/vectors/{name}: {e}; run {}",
                signet_tests::vectors::COMMAND
            )
        });
        assert!(
            committed == *text,
            "spec/vectors/{name} differs from the code's output; run {}",
            signet_tests::vectors::COMMAND
        );
    }
    // No stale vector file is left behind.
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("spec/vectors: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let expected: BTreeSet<String> = generated.keys().cloned().collect();
    assert_eq!(on_disk, expected, "stale or missing files in spec/vectors/");
}

#[test]
fn every_op_of_the_contract_is_exercised_and_ids_are_unique() {
    let generated = signet_tests::vectors::generate().unwrap_or_else(|e| panic!("{e}"));
    let mut ids = BTreeSet::new();
    let mut ops = BTreeSet::new();
    let mut results = BTreeSet::new();
    for text in generated.values() {
        let doc: serde_json::Value = serde_json::from_str(text).expect("vector files are JSON");
        for v in doc["vectors"].as_array().expect("a vectors array") {
            assert!(
                ids.insert(v["id"].as_str().expect("an id").to_string()),
                "duplicate id {}",
                v["id"]
            );
            for field in ["description", "section", "op", "inputs", "expected"] {
                assert!(!v[field].is_null(), "{} lacks {field}", v["id"]);
            }
            ops.insert(v["op"].as_str().expect("an op").to_string());
            results.insert((
                v["op"].as_str().unwrap_or_default().to_string(),
                v["expected"]["result"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
    }
    for op in signet_tests::conformance::OPS {
        assert!(ops.contains(*op), "no vector for op {op}");
        assert!(
            results.contains(&(op.to_string(), "invalid".to_string())),
            "no negative vector for {op}"
        );
    }
}
