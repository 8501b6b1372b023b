//! Content-addressed documents, streamed in and out in chunks.

use std::io::{self, Read, Write};

use sha2::{Digest as _, Sha256};
use signet_protocol::Digest;

use super::{Store, StoreError};

/// The size of every chunk but the last, in bytes (256 KiB).
pub const CHUNK_SIZE: usize = signet_protocol::transport::doc::CHUNK_SIZE;

/// The most chunks a document may have (4096 × 256 KiB = 1 GiB).
pub const MAX_DOCUMENT_CHUNKS: usize = 4096;

const MANIFEST_VERSION: u8 = 1;
const MANIFEST_HEADER: usize = 1 + 8 + 4 + 4;

/// The list of a stored document's chunks.
///
/// Valid once built: the chunk count matches the length and [`CHUNK_SIZE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    len: u64,
    chunks: Vec<Digest>,
}

impl Manifest {
    /// A manifest for a document of `len` bytes made of `chunks`, if they agree.
    pub fn new(len: u64, chunks: Vec<Digest>) -> Option<Self> {
        let expected = len.div_ceil(CHUNK_SIZE as u64);
        (expected == chunks.len() as u64 && chunks.len() <= MAX_DOCUMENT_CHUNKS)
            .then_some(Self { len, chunks })
    }

    /// The document's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the document is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunks' digests, in order.
    pub fn chunks(&self) -> &[Digest] {
        &self.chunks
    }

    /// The length of chunk `index`, if it exists.
    pub fn chunk_len(&self, index: usize) -> Option<usize> {
        let start = (index as u64).checked_mul(CHUNK_SIZE as u64)?;
        (start < self.len).then(|| {
            // At most CHUNK_SIZE, so the conversion cannot truncate.
            (self.len - start).min(CHUNK_SIZE as u64) as usize
        })
    }

    /// The manifest's storage encoding: version, length, chunk size, count, digests.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MANIFEST_HEADER + 32 * self.chunks.len());
        out.push(MANIFEST_VERSION);
        out.extend_from_slice(&self.len.to_be_bytes());
        out.extend_from_slice(&(CHUNK_SIZE as u32).to_be_bytes());
        out.extend_from_slice(&(self.chunks.len() as u32).to_be_bytes());
        for chunk in &self.chunks {
            out.extend_from_slice(chunk.as_bytes());
        }
        out
    }

    /// Decodes [`Manifest::encode`]'s output, refusing anything else.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (&version, rest) = bytes.split_first()?;
        if version != MANIFEST_VERSION || rest.len() < MANIFEST_HEADER - 1 {
            return None;
        }
        let (len, rest) = rest.split_at(8);
        let (chunk_size, rest) = rest.split_at(4);
        let (count, rest) = rest.split_at(4);
        let len = u64::from_be_bytes(len.try_into().ok()?);
        let chunk_size = u32::from_be_bytes(chunk_size.try_into().ok()?);
        let count = u32::from_be_bytes(count.try_into().ok()?) as usize;
        if chunk_size as usize != CHUNK_SIZE || rest.len() != count.checked_mul(32)? {
            return None;
        }
        let chunks = rest
            .chunks_exact(32)
            .map(Digest::from_slice)
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        Self::new(len, chunks)
    }
}

/// Streams a document into a store: write its bytes (it implements [`Write`]), then
/// [`finish`](Self::finish). Holds at most one chunk in memory.
///
/// For an async source, read from it and call [`Write::write_all`] with each piece (inside
/// `spawn_blocking`, or accept that a chunk write may block briefly).
#[derive(Debug)]
pub struct DocumentWriter<'a, S: Store + ?Sized> {
    store: &'a S,
    buffer: Vec<u8>,
    hasher: Sha256,
    len: u64,
    chunks: Vec<Digest>,
    max_chunks: usize,
}

impl<'a, S: Store + ?Sized> DocumentWriter<'a, S> {
    /// A writer for one new document.
    pub fn new(store: &'a S) -> Self {
        Self::with_max_chunks(store, MAX_DOCUMENT_CHUNKS)
    }

    /// A writer that refuses documents of more than `max_chunks` chunks (at most
    /// [`MAX_DOCUMENT_CHUNKS`]).
    pub fn with_max_chunks(store: &'a S, max_chunks: usize) -> Self {
        Self {
            store,
            buffer: Vec::with_capacity(CHUNK_SIZE),
            hasher: Sha256::new(),
            len: 0,
            chunks: Vec::new(),
            max_chunks: max_chunks.min(MAX_DOCUMENT_CHUNKS),
        }
    }

    fn stage_chunk(&mut self) -> Result<(), StoreError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        if self.chunks.len() >= self.max_chunks {
            return Err(StoreError::DocumentTooLarge {
                max_chunks: self.max_chunks,
            });
        }
        let digest = Digest::of(&self.buffer);
        self.store.put_chunk(&digest, &self.buffer)?;
        self.chunks.push(digest);
        self.buffer.clear();
        Ok(())
    }

    /// Stores the last chunk and the manifest, durably, and returns the document's digest
    /// (SHA-256 of its bytes) and manifest. Storing a document already held is harmless.
    pub fn finish(self) -> Result<(Digest, Manifest), StoreError> {
        self.finish_checked(None)
    }

    /// Like [`finish`](Self::finish), but stores the manifest only if the bytes written have
    /// the digest `expected` (for documents received from others).
    pub fn finish_expecting(self, expected: &Digest) -> Result<Manifest, StoreError> {
        self.finish_checked(Some(expected)).map(|(_, m)| m)
    }

    fn finish_checked(
        mut self,
        expected: Option<&Digest>,
    ) -> Result<(Digest, Manifest), StoreError> {
        self.stage_chunk()?;
        let digest = Digest::from_bytes(self.hasher.clone().finalize().into());
        if let Some(expected) = expected.filter(|e| **e != digest) {
            return Err(StoreError::DigestMismatch {
                expected: expected.to_hex(),
                actual: digest.to_hex(),
            });
        }
        let chunks = std::mem::take(&mut self.chunks);
        let manifest = Manifest::new(self.len, chunks).ok_or(StoreError::Corrupt {
            table: "documents",
            reason: "chunk count does not match the length written".into(),
        })?;
        self.store.put_manifest(&digest, &manifest)?;
        Ok((digest, manifest))
    }
}

impl<S: Store + ?Sized> Write for DocumentWriter<'_, S> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = CHUNK_SIZE - self.buffer.len();
        let taken = &bytes[..bytes.len().min(room)];
        self.buffer.extend_from_slice(taken);
        self.hasher.update(taken);
        self.len += taken.len() as u64;
        if self.buffer.len() == CHUNK_SIZE {
            self.stage_chunk()?;
        }
        Ok(taken.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Streams a document from `source` into `store`, durably; returns its digest and manifest.
pub fn put_document<S: Store + ?Sized, R: Read + ?Sized>(
    store: &S,
    source: &mut R,
) -> Result<(Digest, Manifest), StoreError> {
    let mut writer = DocumentWriter::new(store);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::Source(e)),
        };
        writer.write_all(&buffer[..n]).map_err(|e| {
            // Our own `write` only fails with a StoreError wrapped in io::Error.
            match e.downcast::<StoreError>() {
                Ok(store_error) => store_error,
                Err(other) => StoreError::Source(other),
            }
        })?;
    }
    writer.finish()
}

/// Streams a document from an async `source` into `store`, durably; returns its digest and
/// manifest. Chunks are staged as they fill (for sled, a write to memory); the final
/// manifest write waits for an fsync on the calling task.
pub async fn put_document_async<S, R>(
    store: &S,
    source: &mut R,
) -> Result<(Digest, Manifest), StoreError>
where
    S: Store + ?Sized,
    R: tokio::io::AsyncRead + Unpin + ?Sized,
{
    use tokio::io::AsyncReadExt;
    let mut writer = DocumentWriter::new(store);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = source.read(&mut buffer).await.map_err(StoreError::Source)?;
        if n == 0 {
            break;
        }
        writer
            .write_all(&buffer[..n])
            .map_err(|e| match e.downcast::<StoreError>() {
                Ok(store_error) => store_error,
                Err(other) => StoreError::Source(other),
            })?;
    }
    writer.finish()
}

/// Streams a stored document out (it implements [`Read`]), one chunk in memory at a time,
/// checking each chunk against its digest.
#[derive(Debug)]
pub struct DocumentReader<'a, S: Store + ?Sized> {
    store: &'a S,
    document: Digest,
    manifest: Manifest,
    next_chunk: usize,
    current: Vec<u8>,
    position: usize,
}

impl<'a, S: Store + ?Sized> DocumentReader<'a, S> {
    /// A reader for the document `digest`, or `None` if it is not stored.
    pub fn open(store: &'a S, digest: &Digest) -> Result<Option<Self>, StoreError> {
        Ok(store.manifest(digest)?.map(|manifest| Self {
            store,
            document: *digest,
            manifest,
            next_chunk: 0,
            current: Vec::new(),
            position: 0,
        }))
    }

    /// The document's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Reads chunk `index` of the document, checked against its digest.
    pub fn chunk(&self, index: usize) -> Result<Option<Vec<u8>>, StoreError> {
        read_chunk(self.store, &self.document, &self.manifest, index)
    }
}

/// Reads chunk `index` of a document with the given manifest, checking its digest and length.
/// `None` if the manifest has no such chunk.
pub(crate) fn read_chunk<S: Store + ?Sized>(
    store: &S,
    document: &Digest,
    manifest: &Manifest,
    index: usize,
) -> Result<Option<Vec<u8>>, StoreError> {
    let (Some(digest), Some(len)) = (manifest.chunks().get(index), manifest.chunk_len(index))
    else {
        return Ok(None);
    };
    let bad = || StoreError::BadChunk {
        document: document.to_hex(),
        index: index as u64,
    };
    let bytes = store.chunk(digest)?.ok_or_else(bad)?;
    if bytes.len() != len || Digest::of(&bytes) != *digest {
        return Err(bad());
    }
    Ok(Some(bytes))
}

impl<S: Store + ?Sized> Read for DocumentReader<'_, S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.position == self.current.len() {
            match self.chunk(self.next_chunk)? {
                Some(bytes) => {
                    self.current = bytes;
                    self.position = 0;
                    self.next_chunk += 1;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.position);
        out[..n].copy_from_slice(&self.current[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_refuses_inconsistency() {
        let chunks = vec![Digest::of(b"a"), Digest::of(b"b")];
        let m = Manifest::new(CHUNK_SIZE as u64 + 1, chunks.clone()).unwrap();
        assert_eq!(Manifest::decode(&m.encode()), Some(m.clone()));
        assert_eq!(m.chunk_len(0), Some(CHUNK_SIZE));
        assert_eq!(m.chunk_len(1), Some(1));
        assert_eq!(m.chunk_len(2), None);
        assert!(Manifest::new(CHUNK_SIZE as u64 * 2 + 1, chunks).is_none());
        let mut bytes = m.encode();
        bytes.push(0);
        assert_eq!(Manifest::decode(&bytes), None);
        assert_eq!(Manifest::decode(&[]), None);
        assert_eq!(Manifest::decode(&[2]), None);
        assert_eq!(Manifest::new(0, vec![]).map(|m| m.is_empty()), Some(true));
    }

    #[test]
    fn a_document_with_the_wrong_digest_gets_no_manifest() {
        let store = crate::store::MemoryStore::new();
        let mut writer = DocumentWriter::new(&store);
        writer.write_all(b"forged").unwrap();
        let expected = Digest::of(b"genuine");
        assert!(matches!(
            writer.finish_expecting(&expected),
            Err(StoreError::DigestMismatch { .. })
        ));
        assert_eq!(store.manifest(&expected).unwrap(), None);
        assert_eq!(store.manifest(&Digest::of(b"forged")).unwrap(), None);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A stored manifest that decodes is exactly one encoding of a consistent manifest.
        #[test]
        fn manifest_decoding_is_total_and_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Some(m) = Manifest::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }

        /// Any document, cut into writes of any sizes, reads back identically.
        #[test]
        fn documents_round_trip_whatever_the_write_sizes(
            len in 0usize..(2 * CHUNK_SIZE + 10),
            cuts in proptest::collection::vec(1usize..100_000, 1..20),
        ) {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let store = crate::store::MemoryStore::new();
            let mut writer = DocumentWriter::new(&store);
            let mut rest = &bytes[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (now, later) = rest.split_at((*cut).min(rest.len()));
                writer.write_all(now).unwrap();
                rest = later;
            }
            let (digest, manifest) = writer.finish().unwrap();
            prop_assert_eq!(digest, Digest::of(&bytes));
            prop_assert_eq!(manifest.len(), len as u64);
            let mut back = Vec::new();
            DocumentReader::open(&store, &digest).unwrap().unwrap().read_to_end(&mut back).unwrap();
            prop_assert!(back == bytes);
        }
    }
}
