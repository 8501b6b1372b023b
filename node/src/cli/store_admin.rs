//! `signet backup`, `signet restore` and `signet migrate`: copying a party's data between
//! directories and stores, with the node stopped.
//!
//! A backup is a party directory of its own: the configuration, the keys and every other
//! file of the party, and a sled store in `store/` holding a copy of the party's store,
//! whichever kind that is. `signet run --dir BACKUP` would run it; `signet restore` copies it
//! to a new directory, into a sled store or a PostgreSQL database. `signet migrate` moves a
//! party on sled into PostgreSQL in place. Every copy is read back and compared table by
//! table, and the evidence logs' Merkle roots computed from the entries must agree
//! (`signet_node::store::copy`), before the configuration names the new store.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use signet_node::service::config::{NodeConfig, StorageConfig};
use signet_node::store::copy::{CopyReport, copy_store};
use signet_node::store::{DEFAULT_CONNECTIONS, Store};

use super::exit;

/// The name of the store directory inside a party directory (sled).
const STORE_DIR: &str = "store";

/// `signet backup`.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The party directory (its node stopped).
    #[arg(long, default_value = "signet-node")]
    dir: PathBuf,
    /// Where to write the backup: a new directory.
    #[arg(long)]
    out: PathBuf,
}

/// `signet restore`.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The backup (a directory `signet backup` wrote).
    #[arg(long)]
    from: PathBuf,
    /// The party directory to create.
    #[arg(long)]
    dir: PathBuf,
    /// Restore the store into this PostgreSQL database (empty) instead of a sled store.
    #[arg(long, value_name = "URL")]
    postgres_url: Option<String>,
    /// Connections the node keeps to PostgreSQL.
    #[arg(long, default_value_t = DEFAULT_CONNECTIONS)]
    connections: usize,
}

/// `signet migrate`.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// The party directory (its node stopped, on sled).
    #[arg(long, default_value = "signet-node")]
    dir: PathBuf,
    /// The PostgreSQL database (empty) to move the party's data into.
    #[arg(long, value_name = "URL")]
    to_postgres: String,
    /// Connections the node keeps to PostgreSQL.
    #[arg(long, default_value_t = DEFAULT_CONNECTIONS)]
    connections: usize,
}

/// `signet backup --dir D --out B`.
pub(crate) fn backup(a: BackupArgs, json: bool) -> Result<u8> {
    let config = load_config(&a.dir)?;
    fresh_directory(&a.out)?;
    let from = open_source(&a.dir, &config.storage)?;
    copy_files(&a.dir, &a.out)?;
    let sled = StorageConfig::Sled {};
    let report = copy_into(&*from, &a.out, &sled)?;
    let mut backup_config = config;
    backup_config.storage = sled;
    backup_config
        .save(&a.out)
        .context("writing the backup's configuration")?;
    print_report("backed up", &a.out, &report, json);
    Ok(0)
}

/// `signet restore --from B --dir D [--postgres-url URL]`.
pub(crate) fn restore(a: RestoreArgs, json: bool) -> Result<u8> {
    let mut config = load_config(&a.from)?;
    fresh_directory(&a.dir)?;
    let from = open_source(&a.from, &config.storage)?;
    let storage = match a.postgres_url {
        Some(url) => StorageConfig::Postgres {
            url,
            connections: a.connections,
        },
        None => StorageConfig::Sled {},
    };
    copy_files(&a.from, &a.dir)?;
    let report = copy_into(&*from, &a.dir, &storage)?;
    config.storage = storage;
    config
        .save(&a.dir)
        .context("writing the restored party's configuration")?;
    print_report("restored", &a.dir, &report, json);
    Ok(0)
}

/// `signet migrate --dir D --to-postgres URL`: the sled store is copied into the database,
/// compared, and kept beside as `store.before-postgres` (not used again; delete it once the
/// node runs well on PostgreSQL).
pub(crate) fn migrate(a: MigrateArgs, json: bool) -> Result<u8> {
    let mut config = load_config(&a.dir)?;
    if !matches!(config.storage, StorageConfig::Sled {}) {
        return exit(2, "this party's store is already PostgreSQL");
    }
    let kept = a.dir.join("store.before-postgres");
    if kept.exists() {
        return exit(2, format!("{} exists already", kept.display()));
    }
    let storage = StorageConfig::Postgres {
        url: a.to_postgres,
        connections: a.connections,
    };
    let report = {
        let from = open_source(&a.dir, &config.storage)?;
        copy_into(&*from, &a.dir, &storage)?
    };
    std::fs::rename(a.dir.join(STORE_DIR), &kept)
        .with_context(|| format!("keeping the sled store as {}", kept.display()))?;
    config.storage = storage;
    if let Err(e) = config.save(&a.dir) {
        // Leave the party as it was: on sled.
        let _ = std::fs::rename(&kept, a.dir.join(STORE_DIR));
        return Err(e).context("writing the configuration");
    }
    print_report("moved to PostgreSQL", &a.dir, &report, json);
    Ok(0)
}

fn load_config(dir: &Path) -> Result<NodeConfig> {
    match NodeConfig::load(dir) {
        Ok(config) => Ok(config),
        Err(e) => exit(2, format!("{}: not a party directory: {e}", dir.display())),
    }
}

/// Refuses a target directory that exists and holds anything.
fn fresh_directory(dir: &Path) -> Result<()> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return exit(2, format!("{} exists and is not empty", dir.display()));
    }
    Ok(())
}

/// The party's store, opened for copying; sled refuses while the node runs.
fn open_source(dir: &Path, storage: &StorageConfig) -> Result<std::sync::Arc<dyn Store>> {
    storage.open(dir).or_else(|e| {
        exit(
            5,
            format!(
                "opening the store of {} (stop its node first): {e}",
                dir.display()
            ),
        )
    })
}

/// Opens the store `storage` names for `dir` (which must be empty) and copies `from` into
/// it, comparing the two afterwards.
fn copy_into(from: &dyn Store, dir: &Path, storage: &StorageConfig) -> Result<CopyReport> {
    let to = storage
        .open(dir)
        .with_context(|| format!("opening the new store for {}", dir.display()))?;
    copy_store(from, &*to).or_else(|e| {
        exit(
            5,
            format!(
                "copying the store: {e}. Nothing names the new store; empty it (a new \
                 directory, or drop and create the database) before trying again"
            ),
        )
    })
}

/// Copies every file and directory of party directory `from` into `to`, but its sled store.
fn copy_files(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(STORE_DIR) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_files(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
            // Keys and the configuration keep their owner-only permissions.
            std::fs::set_permissions(&target, entry.metadata()?.permissions())?;
        }
    }
    Ok(())
}

fn print_report(what: &str, dir: &Path, r: &CopyReport, json: bool) {
    if json {
        println!(
            "{}",
            json!({
                "done": what,
                "dir": dir.display().to_string(),
                "key_logs": r.key_logs,
                "attestations": r.attestations,
                "sessions": r.sessions,
                "documents": r.documents,
                "evidence_entries": r.evidence,
                "evidence_root": r.evidence_root.to_hex(),
                "outbox": r.outbox,
                "webhook_deliveries": r.webhooks,
            })
        );
        return;
    }
    println!("{what}: {}", dir.display());
    println!(
        "  {} key logs, {} attestations, {} sessions, {} documents, {} undelivered messages, {} webhook deliveries",
        r.key_logs, r.attestations, r.sessions, r.documents, r.outbox, r.webhooks
    );
    println!(
        "  evidence log: {} entries, root {} (the same in both stores)",
        r.evidence,
        r.evidence_root.to_hex()
    );
}
