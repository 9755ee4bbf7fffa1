//! Opening a lake: one root URL, one object store, one Delta table per table name.
//!
//! | lake URL                       | store                                  |
//! |--------------------------------|----------------------------------------|
//! | `./data/lake`, `/abs/path`     | local file system (directories made as needed) |
//! | `file:///abs/path`             | local file system                      |
//! | `s3://bucket/prefix`           | any S3-compatible store; endpoint, region and keys from [`StoreOptions`] or the usual `AWS_*` variables |
//! | `memory://`                    | in-process memory (tests)              |
//!
//! Every table lives at `<root>/<table>/` with its `_delta_log/`. The store handed to delta-rs is
//! the store of the whole bucket (or file system), so DataFusion and delta-rs resolve the same paths.

use std::path::PathBuf;
use std::sync::Arc;

use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use url::Url;

use crate::error::{Error, Result};

/// Connection options for S3-compatible stores; unset fields fall back to `AWS_*` variables.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Endpoint URL, e.g. `http://127.0.0.1:9000` (`AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    /// Region (`AWS_REGION`), default `us-east-1`.
    pub region: Option<String>,
    /// Access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// Secret access key (`AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
    /// Allow plain `http://` endpoints (`AWS_ALLOW_HTTP`); implied by an `http://` endpoint.
    pub allow_http: bool,
}

/// An opened lake root: the object store and the URL every table hangs under.
#[derive(Debug, Clone)]
pub struct Lake {
    /// The root URL, always ending in `/`.
    root: Url,
    /// The URL the object store is registered under in DataFusion (`scheme://authority/`).
    store_url: Url,
    /// The store of the whole bucket / file system.
    store: Arc<dyn ObjectStore>,
}

impl Lake {
    /// Opens the lake at `location` (see the module docs for the accepted forms).
    ///
    /// Nothing is read yet: a lake that cannot be reached fails on first use with
    /// [`Error::LakeUnreachable`] naming the location.
    pub fn open(location: &str, options: &StoreOptions) -> Result<Lake> {
        let root = parse_root(location)?;
        let store: Arc<dyn ObjectStore> = match root.scheme() {
            "file" => Arc::new(LocalFileSystem::new()),
            "memory" => Arc::new(InMemory::new()),
            "s3" | "s3a" => {
                register_s3_logstore();
                Arc::new(build_s3(&root, options)?)
            }
            other => {
                return Err(Error::LakeUrl {
                    url: location.to_string(),
                    reason: format!(
                        "unsupported scheme '{other}' (use a path, file://, s3:// or memory://)"
                    ),
                });
            }
        };
        let store_url =
            Url::parse(&format!("{}://{}/", root.scheme(), root.authority())).map_err(|e| {
                Error::LakeUrl {
                    url: location.to_string(),
                    reason: e.to_string(),
                }
            })?;
        Ok(Lake {
            root,
            store_url,
            store,
        })
    }

    /// The lake root URL (ends with `/`).
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The URL under which [`Lake::object_store`] must be registered in DataFusion.
    pub fn store_url(&self) -> &Url {
        &self.store_url
    }

    /// The object store of the whole bucket / file system.
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The same lake reached through `store` instead: a wrapper of [`Lake::object_store`]
    /// that logs, counts or throttles requests. Every table, scan and log read then goes
    /// through `store`, which must see the same objects under the same paths.
    pub fn with_object_store(self, store: Arc<dyn ObjectStore>) -> Lake {
        Lake { store, ..self }
    }

    /// URL of one table's directory.
    pub fn table_url(&self, table: &str) -> Result<Url> {
        self.root
            .join(&format!("{table}/"))
            .map_err(|e| Error::LakeUrl {
                url: self.root.to_string(),
                reason: e.to_string(),
            })
    }

    /// A `DeltaTable` handle for `table` without loading its log.
    pub fn delta_table(&self, table: &str) -> Result<DeltaTable> {
        let url = self.table_url(table)?;
        DeltaTableBuilder::from_url(url)
            .map_err(|source| delta_err(table, source))?
            .with_storage_backend(self.store.clone(), self.root.clone())
            .build()
            .map_err(|source| delta_err(table, source))
    }

    /// Loads the newest snapshot of `table`; a table that does not exist is [`Error::MissingTable`].
    pub async fn load_table(&self, table: &str) -> Result<DeltaTable> {
        let mut delta = self.delta_table(table)?;
        let unreachable = |source: DeltaTableError| -> Result<Error> {
            Ok(Error::LakeUnreachable {
                location: self.table_url(table)?.to_string(),
                source: Box::new(source),
            })
        };
        match delta.verify_deltatable_existence().await {
            Ok(true) => {}
            Ok(false) => {
                return Err(Error::MissingTable {
                    table: table.to_string(),
                    location: self.root.to_string(),
                });
            }
            Err(source) => return Err(unreachable(source)?),
        }
        match delta.load().await {
            Ok(()) => Ok(delta),
            Err(DeltaTableError::NotATable(_)) => Err(Error::MissingTable {
                table: table.to_string(),
                location: self.root.to_string(),
            }),
            Err(source @ DeltaTableError::ObjectStore { .. }) => Err(unreachable(source)?),
            Err(source) => Err(delta_err(table, source)),
        }
    }

    /// Loads `table` if it exists, `None` if it does not.
    pub async fn try_load_table(&self, table: &str) -> Result<Option<DeltaTable>> {
        match self.load_table(table).await {
            Ok(t) => Ok(Some(t)),
            Err(Error::MissingTable { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Wraps a delta-rs error with the table it concerns.
pub(crate) fn delta_err(table: &str, source: DeltaTableError) -> Error {
    Error::Delta {
        table: table.to_string(),
        source,
    }
}

/// Normalises a lake location into a root URL ending in `/`.
fn parse_root(location: &str) -> Result<Url> {
    let bad = |reason: String| Error::LakeUrl {
        url: location.to_string(),
        reason,
    };
    if location.trim().is_empty() {
        return Err(bad("empty location".into()));
    }
    let mut url = if location.contains("://") {
        Url::parse(location).map_err(|e| bad(e.to_string()))?
    } else {
        let path = PathBuf::from(location);
        let abs = if path.is_absolute() {
            path
        } else {
            std::env::current_dir()
                .map_err(|e| bad(format!("cannot resolve relative path: {e}")))?
                .join(path)
        };
        Url::from_directory_path(&abs).map_err(|()| bad("not a valid directory path".into()))?
    };
    if (url.scheme() == "s3" || url.scheme() == "s3a") && url.host_str().is_none_or(str::is_empty) {
        return Err(bad("an s3:// URL needs a bucket: s3://bucket/prefix".into()));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Commits on S3 use the default Delta log store: `put` with `If-None-Match: *`, which AWS S3
/// and every S3-compatible server we test honour. (delta-rs's `deltalake-aws` crate adds a
/// DynamoDB lock for old S3; we do not need it and it drags in the whole AWS SDK.)
#[derive(Debug, Default)]
struct ConditionalPutLogStoreFactory;

impl deltalake::logstore::LogStoreFactory for ConditionalPutLogStoreFactory {
    fn with_options(
        &self,
        prefixed_store: deltalake::logstore::ObjectStoreRef,
        root_store: deltalake::logstore::ObjectStoreRef,
        location: &Url,
        options: &deltalake::logstore::StorageConfig,
    ) -> deltalake::DeltaResult<Arc<dyn deltalake::logstore::LogStore>> {
        Ok(deltalake::logstore::default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// Registers [`ConditionalPutLogStoreFactory`] for `s3://` and `s3a://` (idempotent).
fn register_s3_logstore() {
    let registry = deltalake::logstore::logstore_factories();
    for scheme in ["s3://", "s3a://"] {
        if let Ok(url) = Url::parse(scheme) {
            registry
                .entry(url)
                .or_insert_with(|| Arc::new(ConditionalPutLogStoreFactory));
        }
    }
}

/// Builds an S3 store for the bucket of `root`, flags first, then `AWS_*` variables.
fn build_s3(root: &Url, options: &StoreOptions) -> Result<object_store::aws::AmazonS3> {
    let bucket = root.host_str().unwrap_or_default();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let endpoint = options
        .endpoint
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| env("AWS_ENDPOINT"));
    if let Some(endpoint) = &endpoint {
        builder = builder.with_endpoint(endpoint.trim_end_matches('/'));
    }
    let region = options
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_string());
    builder = builder.with_region(region);
    if let Some(key) = &options.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &options.secret_access_key {
        builder = builder.with_secret_access_key(secret);
    }
    let http = options.allow_http
        || endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
        || env("AWS_ALLOW_HTTP").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    builder = builder.with_allow_http(http);
    if endpoint.is_some() {
        // S3-compatible servers on a host:port want path-style requests.
        builder = builder.with_virtual_hosted_style_request(false);
    }
    builder.build().map_err(|e| Error::LakeUrl {
        url: root.to_string(),
        reason: format!("cannot configure S3: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_become_file_urls_ending_in_slash() {
        let dir = std::env::temp_dir().join("chatlake-store-test");
        let lake =
            Lake::open(dir.to_str().unwrap_or_default(), &StoreOptions::default()).expect("open");
        assert_eq!(lake.root().scheme(), "file");
        assert!(lake.root().path().ends_with("chatlake-store-test/"));
        assert_eq!(
            lake.table_url("messages").expect("url").path(),
            format!("{}messages/", lake.root().path())
        );
    }

    #[test]
    fn unknown_scheme_and_bucketless_s3_are_clear_errors() {
        let err = Lake::open("ftp://x/y", &StoreOptions::default()).expect_err("ftp");
        assert!(
            err.to_string().contains("unsupported scheme 'ftp'"),
            "{err}"
        );
        let err = Lake::open("s3:///prefix", &StoreOptions::default()).expect_err("no bucket");
        assert!(err.to_string().contains("needs a bucket"), "{err}");
    }
}
