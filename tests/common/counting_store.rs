//! An object store that records every read request before passing it to the real store:
//! what a test asserts about I/O (listings of a `_delta_log`, Parquet footer reads) is
//! counted on the requests themselves, never inferred from timings.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetRange, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// One read request as the store saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A listing (`list`, `list_with_offset`, `list_with_delimiter`) under this prefix.
    List(String),
    /// A `head` (or `get` with `head` set) of this path.
    Head(String),
    /// A read of this path: the byte range, `None` for the whole object, `Some(start..u64::MAX)`
    /// for "from `start` on", `Some(u64::MAX - n..u64::MAX)` for "the last `n` bytes".
    Get(String, Option<Range<u64>>),
}

/// Wraps a store; every read request is appended to a shared log, see [`Request`].
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    log: Mutex<Vec<Request>>,
}

impl CountingStore {
    /// A counting wrapper of `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> CountingStore {
        CountingStore {
            inner,
            log: Mutex::new(Vec::new()),
        }
    }

    /// The requests recorded since the last call, emptying the log.
    pub fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.log.lock().expect("request log"))
    }

    fn record(&self, request: Request) {
        self.log.lock().expect("request log").push(request);
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountingStore({})", self.inner)
    }
}

fn range_of(range: &Option<GetRange>) -> Option<Range<u64>> {
    match range {
        None => None,
        Some(GetRange::Bounded(r)) => Some(r.clone()),
        Some(GetRange::Offset(start)) => Some(*start..u64::MAX),
        Some(GetRange::Suffix(n)) => Some(u64::MAX - n..u64::MAX),
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.record(if options.head {
            Request::Head(location.to_string())
        } else {
            Request::Get(location.to_string(), range_of(&options.range))
        });
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        for range in ranges {
            self.record(Request::Get(location.to_string(), Some(range.clone())));
        }
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.record(Request::List(
            prefix.map(Path::to_string).unwrap_or_default(),
        ));
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.record(Request::List(
            prefix.map(Path::to_string).unwrap_or_default(),
        ));
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.record(Request::List(
            prefix.map(Path::to_string).unwrap_or_default(),
        ));
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
