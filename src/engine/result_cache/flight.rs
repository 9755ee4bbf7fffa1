//! Shared work: the one execution of a key running now ([`Flight`], held by the client that
//! executes), the clients waiting for it ([`Waiter`]), and [`Recorder`], the stream that hands
//! the executing client its batches while keeping a copy for the cache and the waiters.
//!
//! A flight always ends with an [`Outcome`] for its waiters: the answer, the query's error,
//! "too big to share" as soon as the recording passes the largest entry, or "abandoned" when
//! the executing client stops (cancel, timeout, disconnect: its stream is dropped) or runs out
//! of memory.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use futures::Stream;
use tokio::sync::watch;

use super::ResultCache;
use super::store::Entry;

/// How a flight ended, for its waiters.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    /// The answer (also kept in the cache, if it fit).
    Ready(Arc<Entry>),
    /// The query failed: the same error for everyone.
    Failed(Arc<DataFusionError>),
    /// The answer is larger than an entry may be: each waiter executes on its own.
    Uncached,
    /// The executing client stopped (or ran out of memory): waiters start over.
    Abandoned,
}

/// The flights running now, by key.
#[derive(Debug, Default)]
pub(super) struct Running {
    flights: HashMap<Arc<str>, watch::Receiver<Option<Outcome>>>,
}

impl Running {
    /// A waiter on the flight of `key`, if one runs.
    pub fn waiter(&self, key: &str) -> Option<Waiter> {
        self.flights.get(key).map(|receiver| Waiter {
            receiver: receiver.clone(),
        })
    }

    /// Whether a flight of `key` runs.
    pub fn contains(&self, key: &str) -> bool {
        self.flights.contains_key(key)
    }

    /// Starts the flight of `key` (recording at most `limit` bytes).
    pub fn lead(&mut self, cache: Arc<ResultCache>, key: Arc<str>, limit: usize) -> Flight {
        let (sender, receiver) = watch::channel(None);
        self.flights.insert(key.clone(), receiver);
        Flight {
            cache,
            key,
            sender,
            limit,
            ended: false,
        }
    }

    /// Forgets the flight of `key`.
    pub fn forget(&mut self, key: &str) {
        self.flights.remove(key);
    }
}

/// A client waiting for another's execution of the same key.
pub(super) struct Waiter {
    receiver: watch::Receiver<Option<Outcome>>,
}

impl Waiter {
    /// The flight's outcome, when it ends.
    pub async fn outcome(mut self) -> Outcome {
        match self.receiver.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or(Outcome::Abandoned),
            Err(_) => Outcome::Abandoned,
        }
    }
}

/// The execution of one key by one client; ends as [`Outcome::Abandoned`] if dropped unended.
pub(super) struct Flight {
    cache: Arc<ResultCache>,
    key: Arc<str>,
    sender: watch::Sender<Option<Outcome>>,
    /// Largest answer recorded, in bytes.
    limit: usize,
    ended: bool,
}

impl Flight {
    /// Ends the flight: keeps the answer if `outcome` is one, then tells the waiters.
    fn end(&mut self, outcome: Outcome) {
        if self.ended {
            return;
        }
        self.ended = true;
        let entry = match &outcome {
            Outcome::Ready(entry) => Some(entry.clone()),
            _ => None,
        };
        self.cache.land(&self.key, entry);
        self.sender.send_replace(Some(outcome));
    }

    /// Ends the flight on `error`, which the executing client gets back: waiters get a query
    /// error too, or start over when the error is running out of memory.
    pub fn fail(mut self, error: DataFusionError) -> DataFusionError {
        if matches!(error.find_root(), DataFusionError::ResourcesExhausted(_)) {
            self.end(Outcome::Abandoned);
            return error;
        }
        let shared = Arc::new(error);
        self.end(Outcome::Failed(shared.clone()));
        DataFusionError::from(&shared)
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.end(Outcome::Abandoned);
    }
}

/// The executing client's stream: passes the batches on and records them for the cache.
///
/// What it holds counts against the cache's budget while it records ([`ResultCache::reserve`]),
/// so all recordings together never hold more than the budget; a recording that does not fit
/// stops and releases its waiters.
pub(super) struct Recorder {
    inner: SendableRecordBatchStream,
    cache: Arc<ResultCache>,
    /// `None` once the flight ended (answer too big, or error).
    flight: Option<Flight>,
    batches: Vec<RecordBatch>,
    /// Bytes of `batches`, reserved from the cache's budget.
    bytes: usize,
    started: Instant,
}

impl Recorder {
    /// Records `inner`, the execution of `flight`'s key that started at `started`.
    pub fn start(
        inner: SendableRecordBatchStream,
        flight: Flight,
        started: Instant,
    ) -> SendableRecordBatchStream {
        Box::pin(Recorder {
            inner,
            cache: flight.cache.clone(),
            flight: Some(flight),
            batches: Vec::new(),
            bytes: 0,
            started,
        })
    }

    fn record(&mut self, batch: &RecordBatch) {
        let Some(flight) = &mut self.flight else {
            return;
        };
        let size = batch.get_array_memory_size();
        if self.bytes + size <= flight.limit && self.cache.reserve(size) {
            self.bytes += size;
            self.batches.push(batch.clone());
        } else {
            flight.end(Outcome::Uncached);
            self.stop();
        }
    }

    /// Stops recording: drops what was recorded and gives its bytes back.
    fn stop(&mut self) {
        self.flight = None;
        self.batches = Vec::new();
        self.cache.release(self.bytes);
        self.bytes = 0;
    }

    fn finish(&mut self) {
        if let Some(mut flight) = self.flight.take() {
            let entry = Entry {
                schema: self.inner.schema(),
                batches: std::mem::take(&mut self.batches),
                bytes: self.bytes,
                cost: self.started.elapsed(),
            };
            flight.end(Outcome::Ready(Arc::new(entry)));
        }
        self.stop();
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Unfinished (the client stopped): the flight ends as abandoned when dropped here.
        self.stop();
    }
}

impl Stream for Recorder {
    type Item = DfResult<RecordBatch>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(batch))) => {
                this.record(&batch);
                Poll::Ready(Some(Ok(batch)))
            }
            Poll::Ready(Some(Err(error))) => {
                let error = match this.flight.take() {
                    Some(flight) => flight.fail(error),
                    None => error,
                };
                this.stop();
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.finish();
                Poll::Ready(None)
            }
        }
    }
}

impl RecordBatchStream for Recorder {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
}
