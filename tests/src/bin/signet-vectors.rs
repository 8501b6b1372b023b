//! Regenerates the test vectors: `cargo run -p signet-tests --bin signet-vectors -- spec/vectors`.

use std::path::PathBuf;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        bail!("usage: signet-vectors <directory>");
    };
    let files = signet_tests::vectors::generate().map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
