#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every failure sections 3–12 of the spec name (a backticked `CamelCase` name: an error
//! variant, a refusal, a verdict's reason) appears in at least one vector of `spec/vectors/`
//! (in its description or its expected output, as written or in kebab-case or in words),
//! unless it is listed below: as a name that is not a failure, as a condition no vector can
//! show, or as a known gap. The lists are checked both ways: a listed name the spec no longer
//! uses, or a gap a vector now covers, fails the test too, so the lists only shrink.

use std::collections::BTreeSet;
use std::path::Path;

/// Names the spec writes in backticks that are types, structures or protocol terms, not
/// failures.
const NOT_FAILURES: &[&str] = &[
    "ActionError",
    "CertificateList",
    "DocumentWriter",
    "IDONTWANT",
    "IHAVE",
    "IWANT",
    "IdentTopic",
    "IntentError",
    "KeyLogError",
    "MandateError",
    "NetError",
    "NoteError",
    "OutboxConfig",
    "PartyEvidenceError",
    "PolicyError",
    "ProposalError",
    "RecordError",
    "Report",
    "SESeal",
    "SesError",
    "SessionError",
    "SignatureRecord",
    "SignedData",
    "TSTInfo",
    "TimeStampReq",
    "TimeStampResp",
    "TimeStampToken",
];

/// Failures of a node's own actions or of its transport, which no conformance op receives
/// (section 12's delivery outcomes; a signer's own mismatched intent).
const NOT_VECTORABLE: &[(&str, &str)] = &[
    ("Busy", "a peer's load (12.4): a transport outcome"),
    ("Timeout", "a delivery outcome (12.4)"),
    ("Unreachable", "a delivery outcome (9.3, 12.4)"),
    (
        "PeerMisbehaved",
        "a fetch outcome against a live peer (9.3)",
    ),
    (
        "IntentMismatch",
        "a refusal of the signer's own action, before anything is sent (8.4.1)",
    ),
    (
        "WrongKey",
        "cannot occur when the line is found by name and key id (10.5.1)",
    ),
    (
        "NotCanonical",
        "the codec refuses a null first (3.1): evidence-log-003 shows it as malformed",
    ),
];

/// Named failures no vector names yet (issue #14): each is to get a vector (or a
/// description naming it), and leaves this list when it does.
const NOT_YET: &[&str] = &[];

fn spec_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

/// The backticked `CamelCase` names (an optional parenthesised or braced argument after
/// them) in sections 3 to 12.
fn named_in_spec() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(spec_dir())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".md")
                && name
                    .get(..2)
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| (3..=12).contains(&n))
        })
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, span) in text.split('`').enumerate() {
            if i % 2 == 0 {
                continue;
            }
            let ident: String = span
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            let rest = &span[ident.len()..];
            let camel = ident.len() >= 2 && ident.starts_with(|c: char| c.is_ascii_uppercase());
            if camel && (rest.is_empty() || rest.starts_with('(') || rest.starts_with('{')) {
                names.insert(ident);
            }
        }
    }
    names
}

/// Every vector file's text, lower-cased.
fn vectors_text() -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(spec_dir().join("vectors")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            text.push_str(&std::fs::read_to_string(&path).unwrap().to_lowercase());
        }
    }
    text
}

/// `AssuranceTooLow` as the vectors may write it: itself, `assurance-too-low`,
/// `assurance too low`.
fn spellings(name: &str) -> [String; 3] {
    let mut words = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase()) {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
        previous = Some(c);
    }
    [name.to_lowercase(), words.replace(' ', "-"), words]
}

#[test]
fn every_named_failure_has_a_vector_or_a_reason() {
    let named = named_in_spec();
    let vectors = vectors_text();
    let covered = |n: &str| spellings(n).iter().any(|s| vectors.contains(s.as_str()));
    let listed: BTreeSet<&str> = NOT_FAILURES
        .iter()
        .copied()
        .chain(NOT_VECTORABLE.iter().map(|(n, _)| *n))
        .chain(NOT_YET.iter().copied())
        .collect();
    let uncovered: Vec<&String> = named
        .iter()
        .filter(|n| !covered(n) && !listed.contains(n.as_str()))
        .collect();
    assert!(
        uncovered.is_empty(),
        "named in spec sections 3-12 with no vector naming them: {uncovered:?} (add a vector, \
         or list the name with its reason)"
    );
    let stale: Vec<&&str> = listed.iter().filter(|n| !named.contains(**n)).collect();
    assert!(
        stale.is_empty(),
        "listed but no longer named in the spec: {stale:?}"
    );
    let now_covered: Vec<&&str> = NOT_YET.iter().filter(|n| covered(n)).collect();
    assert!(
        now_covered.is_empty(),
        "gaps a vector now covers, to take off NOT_YET: {now_covered:?}"
    );
}

#[test]
fn spellings_cover_the_forms_vectors_use() {
    assert_eq!(
        spellings("AssuranceTooLow"),
        [
            "assurancetoolow".to_string(),
            "assurance-too-low".to_string(),
            "assurance too low".to_string()
        ]
    );
    assert_eq!(spellings("IHAVE")[1], "ihave");
}
