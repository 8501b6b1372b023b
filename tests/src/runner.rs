//! The conformance runner's logic (spec/conformance.md): read every vector file, send each
//! vector's request to the implementation's process, compare its answer.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Vectors whose answer matched.
    pub passed: usize,
    /// Vectors whose answer did not match (or did not come).
    pub failed: usize,
}

/// The request of a vector: its inputs and its op.
pub fn request(vector: &Value) -> Value {
    let mut request = vector.get("inputs").cloned().unwrap_or_else(|| json!({}));
    if let Value::Object(map) = &mut request {
        map.insert(
            "op".into(),
            vector.get("op").cloned().unwrap_or(Value::Null),
        );
    }
    request
}

/// Why an answer does not match the vector's expectation, if it does not.
pub fn mismatch(expected: &Value, answer: &Value) -> Option<String> {
    for key in ["result", "error", "output"] {
        if let Some(want) = expected.get(key)
            && answer.get(key) != Some(want)
        {
            return Some(format!(
                "{key}: expected {want}, got {}",
                answer.get(key).unwrap_or(&Value::Null)
            ));
        }
    }
    None
}

/// Runs `command` (through `sh -c`) once and drives it through every vector file in
/// `dir`, printing a line per vector and a summary to `out`.
pub fn run(command: &str, dir: &Path, out: &mut dyn Write) -> anyhow::Result<Summary> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no vector files in {}", dir.display());
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {command}"))?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
    let mut summary = Summary::default();
    for path in &files {
        let text = std::fs::read_to_string(path)?;
        let doc: Value =
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let vectors = doc
            .get("vectors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for vector in &vectors {
            let id = vector.get("id").and_then(Value::as_str).unwrap_or("?");
            writeln!(stdin, "{}", request(vector))?;
            stdin.flush()?;
            let mut line = String::new();
            stdout.read_line(&mut line)?;
            let verdict = match serde_json::from_str::<Value>(&line) {
                Ok(answer) => mismatch(&vector["expected"], &answer),
                Err(_) if line.is_empty() => Some("no answer (the implementation exited)".into()),
                Err(e) => Some(format!("answer is not JSON: {e}")),
            };
            match verdict {
                None => {
                    summary.passed += 1;
                    writeln!(out, "PASS {id}")?;
                }
                Some(why) => {
                    summary.failed += 1;
                    writeln!(out, "FAIL {id}: {why}")?;
                }
            }
        }
    }
    drop(stdin);
    let _ = child.wait();
    writeln!(
        out,
        "{} vectors: {} passed, {} failed",
        summary.passed + summary.failed,
        summary.passed,
        summary.failed
    )?;
    Ok(summary)
}
