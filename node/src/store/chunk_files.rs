//! Document chunks as files, beside the sled database.
//!
//! sled 0.34 keeps every value it has written in memory, whatever its cache capacity: a
//! 256 MiB document stored in sled grew the process by about 256 MiB (measured with
//! `examples/document_bench.rs`). Documents are the one large thing a node stores, so their
//! chunks live in files instead, one per chunk, named by the chunk's SHA-256:
//! `chunks/<first two hex digits>/<64 hex digits>`. Only the small manifests stay in sled.
//!
//! A chunk is written to `chunks/tmp/` and renamed into place, so a chunk file is always
//! whole. Writing one is not durable by itself: [`ChunkFiles::sync`] makes a document's chunks
//! durable (each file, then the directories that name them: its shard, and `chunks/` itself
//! while it may name a shard not yet durable) before its manifest is stored.
//! Files left in `tmp/` by a crash are removed at open.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use signet_protocol::Digest;

use super::error::{BackendError, StoreError};

fn io_error(error: std::io::Error) -> StoreError {
    StoreError::Backend(BackendError::new(error))
}

/// The chunk directory of one store.
#[derive(Debug)]
pub(crate) struct ChunkFiles {
    dir: PathBuf,
    tmp: PathBuf,
    /// Makes temporary names unique within the process.
    counter: AtomicU64,
    /// `dir` itself may name a shard directory not yet durable: one was created since its
    /// last sync, or the store was just opened (a crash may have come between the two).
    /// Shards are only ever added, so once synced `dir` needs no sync for later chunks. Held
    /// while `dir` is synced, so a chunk never skips a sync that is still under way.
    dir_unsynced: Mutex<bool>,
}

impl ChunkFiles {
    /// Opens (or creates) the chunk directory `dir`, clearing what a crash left half-written.
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        let tmp = dir.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io_error)?;
        }
        fs::create_dir_all(&tmp).map_err(io_error)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tmp,
            counter: AtomicU64::new(0),
            dir_unsynced: Mutex::new(true),
        })
    }

    fn shard(&self, digest: &Digest) -> PathBuf {
        self.dir.join(&digest.to_hex()[..2])
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.shard(digest).join(digest.to_hex())
    }

    /// Stores a chunk under `digest` (the SHA-256 of `bytes`, which the caller computed).
    /// An existing chunk is kept: content addressing makes it the same bytes.
    pub(crate) fn put(&self, digest: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.path(digest);
        if path.exists() {
            return Ok(());
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .tmp
            .join(format!("{}.{}.{n}", digest.to_hex(), std::process::id()));
        let mut file = File::create(&tmp).map_err(io_error)?;
        file.write_all(bytes).map_err(io_error)?;
        drop(file);
        let shard = self.shard(digest);
        if !shard.exists() {
            fs::create_dir_all(&shard).map_err(io_error)?;
            *self.unsynced() = true;
        }
        fs::rename(&tmp, &path).map_err(io_error)
    }

    /// A chunk's bytes, as stored (the caller checks the digest).
    pub(crate) fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        match fs::read(self.path(digest)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Makes these chunks durable: each file's contents, then the directories naming them.
    /// A chunk that is missing is an error: a manifest must never outlive its chunks.
    pub(crate) fn sync(&self, digests: &[Digest]) -> Result<(), StoreError> {
        let mut shards: Vec<PathBuf> = Vec::new();
        for digest in digests {
            File::open(self.path(digest))
                .and_then(|f| f.sync_all())
                .map_err(|e| match e.kind() {
                    ErrorKind::NotFound => StoreError::Corrupt {
                        table: "chunks",
                        reason: format!("chunk {digest} missing when its document was stored"),
                    },
                    _ => io_error(e),
                })?;
            let shard = self.shard(digest);
            if !shards.contains(&shard) {
                shards.push(shard);
            }
        }
        for dir in shards {
            sync_dir(&dir)?;
        }
        let mut unsynced = self.unsynced();
        if *unsynced {
            sync_dir(&self.dir)?;
            *unsynced = false;
        }
        Ok(())
    }

    fn unsynced(&self) -> std::sync::MutexGuard<'_, bool> {
        // A panic while holding it leaves `true` or a completed sync: either is safe.
        self.dir_unsynced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces a chunk's bytes, bypassing content addressing (to simulate corruption).
    #[cfg(test)]
    pub(crate) fn overwrite(&self, digest: &Digest, bytes: &[u8]) {
        fs::write(self.path(digest), bytes).unwrap_or_else(|e| panic!("overwrite: {e}"));
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_error)
}
