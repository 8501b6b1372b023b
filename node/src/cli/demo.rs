//! `signet demo`.

use anyhow::Result;
use clap::Args;

/// `signet demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {}

/// Runs the demonstration federation.
pub(crate) async fn demo(_: DemoArgs) -> Result<u8> {
    super::exit(2, "the demo is not built yet")
}
