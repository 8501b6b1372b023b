//! The reference implementation behind the conformance contract (spec/conformance.md): one
//! JSON request per line on stdin, one JSON response per line on stdout, until end of input.

use std::io::{BufRead, Write};

fn main() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str(&line) {
            Ok(request) => signet_tests::conformance::handle(&request),
            Err(e) => {
                serde_json::json!({"result": "unsupported", "detail": format!("not JSON: {e}")})
            }
        };
        writeln!(stdout, "{response}")?;
        stdout.flush()?;
    }
    Ok(())
}
