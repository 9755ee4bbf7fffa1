//! Where an export goes: a directory (a path, `file://`) or an `s3://bucket/prefix` on any
//! S3-compatible store, opened like the lake ([`Lake::open`]: the same flags and `AWS_*`
//! variables).
//!
//! | operation | local directory | S3 |
//! |---|---|---|
//! | data file ([`Destination::upload`]) | written to a staging file, renamed when complete | multipart upload, visible when completed |
//! | [`Destination::put_atomic`] (manifest, schemas) | staging file + rename | one `PUT` |
//! | a failed file | staging file removed | multipart upload aborted |
//!
//! Paths given to a destination are relative to its root and use `/`.

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use super::sink::Upload;
use crate::error::{Error, Result};
use crate::lake::{Lake, StoreOptions};

/// An export destination: one object store and the root every relative path hangs under.
#[derive(Debug, Clone)]
pub struct Destination {
    lake: Lake,
    prefix: Path,
}

impl Destination {
    /// Opens the directory or prefix at `location` (a path, `file://`, `s3://`, `memory://`).
    pub fn open(location: &str, options: &StoreOptions) -> Result<Destination> {
        let lake = Lake::open(location, options).map_err(|e| match e {
            Error::LakeUrl { url, reason } => {
                Error::Config(format!("invalid export destination '{url}': {reason}"))
            }
            other => other,
        })?;
        let prefix = Path::from_url_path(lake.root().path())
            .map_err(|e| Error::Config(format!("invalid export destination '{location}': {e}")))?;
        Ok(Destination { lake, prefix })
    }

    /// Opens the directory of the file at `location` and returns it with the file's name.
    pub fn open_file(location: &str, options: &StoreOptions) -> Result<(Destination, String)> {
        let trimmed = location.trim();
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((scheme, rest)) => (format!("{scheme}://"), rest),
            None => (String::new(), trimmed),
        };
        let (dir, name) = match rest.rsplit_once('/') {
            Some(("", name)) if scheme.is_empty() => ("/".to_string(), name),
            Some((dir, name)) => (format!("{scheme}{dir}"), name),
            None if scheme.is_empty() => (".".to_string(), rest),
            None => {
                return Err(Error::Config(format!(
                    "--dest {location}: name a file (e.g. s3://bucket/path/out.parquet), not a bucket"
                )));
            }
        };
        if name.is_empty() {
            return Err(Error::Config(format!(
                "--dest {location}: with --query the destination is one file, not a directory"
            )));
        }
        Ok((Destination::open(&dir, options)?, name.to_string()))
    }

    /// The root URL (ends with `/`).
    pub fn root(&self) -> &url::Url {
        self.lake.root()
    }

    /// The URL of `rel`, for messages.
    pub fn url(&self, rel: &str) -> String {
        format!("{}{rel}", self.lake.root())
    }

    /// The store path of `rel`.
    pub fn path(&self, rel: &str) -> Path {
        rel.split('/')
            .filter(|part| !part.is_empty())
            .fold(self.prefix.clone(), |path, part| path.join(part))
    }

    /// The object store.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.lake.object_store()
    }

    /// A streaming upload of `rel`, visible only once finished.
    pub fn upload(&self, rel: &str) -> Upload {
        Upload::new(self.store(), self.path(rel), self.url(rel))
    }

    /// The content of `rel`, `None` when it does not exist.
    pub async fn read(&self, rel: &str) -> Result<Option<Bytes>> {
        let got = match self.store().get(&self.path(rel)).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.store_error("reading", rel, e)),
        };
        got.bytes()
            .await
            .map(Some)
            .map_err(|e| self.store_error("reading", rel, e))
    }

    /// Writes `rel` whole, replacing it at once: a reader sees the old or the new content.
    pub async fn put_atomic(&self, rel: &str, bytes: Bytes) -> Result<()> {
        self.store()
            .put(&self.path(rel), bytes.into())
            .await
            .map(|_| ())
            .map_err(|e| self.store_error("writing", rel, e))
    }

    /// Deletes `rel` (nothing to do when it does not exist).
    pub async fn delete(&self, rel: &str) -> Result<()> {
        match self.store().delete(&self.path(rel)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.store_error("deleting", rel, e)),
        }
    }

    /// The files under the directory `rel` ("" for the root), relative to the root; with
    /// `recursive`, those of its subdirectories too. A directory that does not exist is empty.
    pub async fn list(&self, rel: &str, recursive: bool) -> Result<Vec<String>> {
        let dir = self.path(rel);
        let store = self.store();
        let metas = if recursive {
            match store.list(Some(&dir)).try_collect::<Vec<_>>().await {
                Ok(metas) => metas,
                Err(object_store::Error::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(self.store_error("listing", rel, e)),
            }
        } else {
            match store.list_with_delimiter(Some(&dir)).await {
                Ok(listed) => listed.objects,
                Err(object_store::Error::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(self.store_error("listing", rel, e)),
            }
        };
        let prefix = self.prefix.as_ref();
        Ok(metas
            .into_iter()
            .filter_map(|meta| {
                let full = meta.location.as_ref();
                let rest = if prefix.is_empty() {
                    full
                } else {
                    full.strip_prefix(prefix)?.strip_prefix('/')?
                };
                Some(rest.to_string())
            })
            .collect())
    }

    /// An error of the store while `doing` something to `rel`, naming the file.
    pub fn store_error(&self, doing: &str, rel: &str, e: object_store::Error) -> Error {
        store_error(doing, &self.url(rel), e)
    }
}

/// An object store error while `doing` something to the file at `url`.
pub(crate) fn store_error(doing: &str, url: &str, e: object_store::Error) -> Error {
    Error::Io {
        context: format!("export: {doing} {url}"),
        source: std::io::Error::other(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn relative_paths_list_and_replace_under_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = Destination::open(&dir.path().to_string_lossy(), &StoreOptions::default())
            .expect("open");
        dest.put_atomic("a/b.txt", Bytes::from_static(b"one"))
            .await
            .expect("put");
        dest.put_atomic("top.txt", Bytes::from_static(b"two"))
            .await
            .expect("put");
        assert_eq!(dest.list("", false).await.expect("list"), vec!["top.txt"]);
        let mut all = dest.list("", true).await.expect("list");
        all.sort();
        assert_eq!(all, vec!["a/b.txt", "top.txt"]);
        assert_eq!(
            dest.list("missing", true).await.expect("list"),
            Vec::<String>::new()
        );
        assert_eq!(
            dest.read("a/b.txt").await.expect("read").as_deref(),
            Some(&b"one"[..])
        );
        assert!(dest.read("nope").await.expect("read").is_none());
        dest.delete("a/b.txt").await.expect("delete");
        dest.delete("a/b.txt").await.expect("delete twice");
        assert!(dir.path().join("top.txt").exists());
    }

    #[test]
    fn a_file_destination_splits_into_directory_and_name() {
        let (dest, name) =
            Destination::open_file("s3://bucket/out/x.csv", &StoreOptions::default())
                .expect("open");
        assert_eq!(name, "x.csv");
        assert_eq!(dest.root().as_str(), "s3://bucket/out/");
        assert!(Destination::open_file("s3://bucket", &StoreOptions::default()).is_err());
        assert!(Destination::open_file("/tmp/dir/", &StoreOptions::default()).is_err());
    }
}
