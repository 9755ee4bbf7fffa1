//! One exported file on its way to the store: a multipart upload that counts and hashes
//! (SHA-256) every byte as it goes, so a finished file's size and checksum are known without
//! reading it back.
//!
//! | step | effect |
//! |---|---|
//! | [`Upload::put`] | bytes buffered, sent as multipart parts of 10 MiB |
//! | [`Upload::complete`] | the upload completed: the file appears whole at its path |
//! | [`Upload::abort`] | the parts are dropped: nothing appears (an earlier file at the path stays) |
//!
//! It is also the [`AsyncFileWriter`] the Parquet writer writes to.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use object_store::ObjectStore;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use parquet::arrow::async_writer::AsyncFileWriter;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::destination::store_error;
use crate::error::Result;

/// Size of one multipart part (S3 wants at least 5 MiB except for the last).
const PART_BYTES: usize = 10 * 1024 * 1024;

/// What a completed upload wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Bytes in the file.
    pub bytes: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// A file being uploaded; see the module docs.
pub struct Upload {
    writer: BufWriter,
    hasher: Sha256,
    bytes: u64,
    url: String,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("url", &self.url)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Upload {
    /// An upload of `path` in `store`; `url` names the file in errors.
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, url: String) -> Upload {
        Upload {
            writer: BufWriter::with_capacity(store, path, PART_BYTES),
            hasher: Sha256::new(),
            bytes: 0,
            url,
        }
    }

    /// Bytes handed over so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends `bytes`.
    pub async fn put(&mut self, bytes: Bytes) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.hasher.update(&bytes);
        self.bytes += bytes.len() as u64;
        self.writer
            .put(bytes)
            .await
            .map_err(|e| store_error("writing", &self.url, e))
    }

    /// Completes the upload: the file is visible from now on.
    pub async fn complete(&mut self) -> Result<()> {
        self.writer
            .shutdown()
            .await
            .map_err(|e| crate::error::Error::Io {
                context: format!("export: writing {}", self.url),
                source: e,
            })
    }

    /// The size and checksum of what was written (after [`Upload::complete`]).
    pub fn written(self) -> Written {
        Written {
            bytes: self.bytes,
            sha256: crate::ingest::whatsapp::hex(&self.hasher.finalize()),
        }
    }

    /// Drops the upload: nothing of it becomes visible (best effort; errors are ignored, the
    /// store's own clean-up of stale multipart uploads takes the rest).
    pub async fn abort(mut self) {
        let _ = self.writer.abort().await;
    }
}

impl AsyncFileWriter for Upload {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            self.put(bs)
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        })
    }

    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            Upload::complete(self)
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn the_checksum_is_that_of_the_stored_bytes() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("x/y.bin");
        let mut upload = Upload::new(store.clone(), path.clone(), "memory:///x/y.bin".into());
        upload
            .put(Bytes::from_static(b"hello "))
            .await
            .expect("put");
        upload.put(Bytes::from_static(b"world")).await.expect("put");
        upload.complete().await.expect("complete");
        let written = upload.written();
        let stored = store
            .get(&path)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(written.bytes, 11);
        assert_eq!(&stored[..], b"hello world");
        // sha256("hello world"), from coreutils' sha256sum.
        assert_eq!(
            written.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
    }

    #[tokio::test]
    async fn an_aborted_upload_leaves_nothing() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("z.bin");
        let mut upload = Upload::new(store.clone(), path.clone(), "memory:///z.bin".into());
        upload
            .put(Bytes::from(vec![7u8; PART_BYTES + 10]))
            .await
            .expect("put");
        upload.abort().await;
        assert!(store.head(&path).await.is_err());
    }
}
