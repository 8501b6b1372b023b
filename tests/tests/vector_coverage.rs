//! Every wire error code of the registry (spec §13.6, and the code's `ErrorCode`) is the
//! expected refusal of at least one vector in `spec/vectors/`, unless it is listed below with
//! the reason no conformance op can produce it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use signet_protocol::error::ErrorCode;

/// Codes that no conformance op can produce, with why. A code listed here must have no
/// vector (else the entry is stale) and must be in the registry; adding one is a change to
/// this list, reviewed like any other.
const NOT_PRODUCIBLE: &[(&str, &str)] = &[(
    "unauthenticated-peer",
    "peer authentication belongs to the transport (spec 12.3, 9.3.3): no conformance op has a \
     connecting peer; the byte layout of a refusal carrying 203 is pinned by transport-003 and \
     transport-018 as output, not as an expected refusal",
)];

fn vectors_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

/// Each code name a vector expects as a refusal, with the first vector id that does: the
/// vector's `expected.error`, and the per-item refusals of the ops that report several
/// (`witness` and `witness-answer` results, `session-receive` codes).
fn expected_refusals() -> Result<BTreeMap<String, String>, String> {
    let mut found = BTreeMap::new();
    let entries = std::fs::read_dir(vectors_dir()).map_err(|e| format!("spec/vectors: {e}"))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err("no vector files".into());
    }
    for file in files {
        let name = file.display();
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{name}: {e}"))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        let vectors = doc["vectors"]
            .as_array()
            .ok_or_else(|| format!("{name}: no vectors array"))?;
        for v in vectors {
            let id = v["id"]
                .as_str()
                .ok_or_else(|| format!("{name}: a vector without an id"))?
                .to_string();
            let expected = &v["expected"];
            let mut names: Vec<&str> = Vec::new();
            if let Some(error) = expected["error"].as_str() {
                names.push(error);
            }
            let output = &expected["output"];
            let per_item = match v["op"].as_str() {
                Some("witness") | Some("witness-answer") => output["results"].as_array(),
                Some("session-receive") => output["codes"].as_array(),
                _ => None,
            };
            for item in per_item.into_iter().flatten() {
                if let Some(name) = item.as_str()
                    && name != "cosigned"
                {
                    names.push(name);
                }
            }
            for name in names {
                found.entry(name.to_string()).or_insert_with(|| id.clone());
            }
        }
    }
    Ok(found)
}

/// The rows `| value | name | meaning |` of the table of spec section 13.6.
fn registry_in_spec() -> Result<BTreeMap<u64, String>, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/13-registries.md");
    let text = std::fs::read_to_string(path).map_err(|e| format!("spec/13-registries.md: {e}"))?;
    let start = text
        .find("## 13.6 Wire error codes")
        .ok_or("no section 13.6")?;
    let section = &text[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    let mut codes = BTreeMap::new();
    for line in section[..end].lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // A registry row: "", value, `name`, meaning, "".
        if cells.len() == 5
            && let Ok(value) = cells[1].parse::<u64>()
            && let Some(name) = cells[2].strip_prefix('`').and_then(|n| n.strip_suffix('`'))
            && codes.insert(value, name.to_string()).is_some()
        {
            return Err(format!("code {value} listed twice in 13.6"));
        }
    }
    Ok(codes)
}

#[test]
fn the_spec_registry_and_the_code_list_the_same_codes() {
    let spec = registry_in_spec().unwrap_or_else(|e| panic!("{e}"));
    let code: BTreeMap<u64, String> = ErrorCode::KNOWN
        .iter()
        .map(|c| (c.code(), c.name().to_string()))
        .collect();
    assert_eq!(spec, code, "spec 13.6 and ErrorCode differ");
}

#[test]
fn every_error_code_has_a_vector_that_expects_it() {
    let found = expected_refusals().unwrap_or_else(|e| panic!("{e}"));
    let exceptions: BTreeMap<&str, &str> = NOT_PRODUCIBLE.iter().copied().collect();
    assert_eq!(
        exceptions.len(),
        NOT_PRODUCIBLE.len(),
        "an exception listed twice"
    );
    let mut missing = Vec::new();
    for code in ErrorCode::KNOWN {
        let name = code.name();
        match (found.get(name), exceptions.get(name)) {
            (Some(id), Some(_)) => panic!(
                "{name} is listed as not producible, but {id} expects it: remove it from NOT_PRODUCIBLE"
            ),
            (None, None) => missing.push(format!("{} {name}", code.code())),
            (_, Some(reason)) => assert!(!reason.trim().is_empty(), "{name}: give a reason"),
            (Some(_), None) => {}
        }
    }
    assert!(
        missing.is_empty(),
        "error codes with no vector expecting them (add a vector, or list the code in \
         NOT_PRODUCIBLE with the reason no op can produce it): {missing:?}"
    );
    // Every exception names a registered code, and no vector expects a code outside the
    // registry.
    let registered: BTreeSet<&str> = ErrorCode::KNOWN.iter().map(|c| c.name()).collect();
    for name in exceptions.keys() {
        assert!(registered.contains(name), "{name} is not a registered code");
    }
    for (name, id) in &found {
        assert!(
            registered.contains(name.as_str()),
            "{id} expects {name}, which is not in the registry"
        );
    }
}
