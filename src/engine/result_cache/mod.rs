//! The exact result cache and shared work: a query whose answer is already known is answered
//! from memory, and identical queries that arrive while the first runs wait for its answer.
//!
//! One [`ResultCache`] per [`crate::engine::Engine`], stored in every session's configuration,
//! so pgwire, the console's query API and the console's dashboards share it. Each statement's
//! plan goes through [`run`] (from `pg::sql::run::start`):
//!
//! | piece | job |
//! |---|---|
//! | `key.rs` | the key of a plan (statement, lake versions, tenant scope, settings), or why it has none |
//! | `store.rs` | the entries, bounded in bytes, evicted by cost saved per byte |
//! | `flight.rs` | shared work: the one running execution of a key, and the answer its waiters get |
//! | `stats.rs` | `chatlake_cache_stats()` |
//!
//! **Exact.** The key holds the Delta version of every lake table the plan reads (through
//! views and report calls), so a commit makes a new key and a cached answer is never stale;
//! nothing expires by time. A plan with anything whose answer the key cannot pin (a function
//! that is not `Immutable`, a table that is not a lake table, a statement that is not a query)
//! bypasses the cache and runs as before.
//!
//! **What [`run`] does** with a query that has a key:
//!
//! | the key is | then |
//! |---|---|
//! | cached | the answer streams from memory (a *hit*); nothing executes, no execution slot is taken |
//! | running for another client | wait for that answer (a *shared wait*), stopped by this client's own cancel or `statement_timeout` |
//! | neither | execute (a *miss*); the batches stream to the client as they come and are recorded on the way, then kept when the answer ends |
//!
//! **When the first execution does not answer:** a query error (bad cast, division by zero,
//! bad report argument) is the answer: every waiter gets the same error. A cancel, a
//! `statement_timeout` or a disconnect of the first client, or its running out of memory,
//! says nothing about the query: its waiters start over and one of them executes. An answer
//! that grows past the largest entry (a quarter of the budget) releases its waiters at once,
//! each to execute on its own (recording stops, nothing is buffered beyond that size).
//!
//! **Statements:** plain queries, report calls, `COPY (query) TO STDOUT` and the console's
//! queries are cached; a `DECLARE` cursor takes a cached answer but otherwise runs on its own,
//! unrecorded ([`Sharing::HitsOnly`]: its fetches come and go at its client's pace);
//! `EXPLAIN` is never cached itself but says what its query would do (a `result_cache` row).
//! `--result-cache-mb 0` turns the cache and shared work off.

mod flight;
mod key;
mod stats;
mod store;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use arrow::array::{ArrayRef, StringArray};
use arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;

use flight::{Flight, Outcome, Recorder};
use key::{BaseSettings, Keyed, key_of, settings_of};
pub use stats::{CacheStats, CacheStatsFunction};
use store::{Entry, Store};

/// Name of the table function that reports the cache's counters.
pub const STATS_FUNCTION: &str = "chatlake_cache_stats";

/// Default budget of `serve --result-cache-mb`, in MiB.
pub const DEFAULT_MB: usize = 256;

/// The shared result cache of an engine (see the module docs).
#[derive(Debug)]
pub struct ResultCache {
    state: Mutex<State>,
    /// Bytes the entries and the recordings in progress may hold (0: off).
    budget: usize,
    /// The settings of a new session, to key only what a session changed.
    base: BaseSettings,
    /// Bytes held by recordings in progress (at most the budget, with the entries).
    recording: AtomicUsize,
    hits: AtomicU64,
    misses: AtomicU64,
    bypasses: AtomicU64,
    shared_waits: AtomicU64,
}

/// The entries and the executions running now, under one lock so that a key is never both
/// missing and not running for two clients at once.
#[derive(Debug)]
struct State {
    store: Store,
    running: flight::Running,
}

/// What a client does with a key.
enum Role {
    Hit(Arc<Entry>),
    Lead(Flight),
    Wait(flight::Waiter),
}

impl ResultCache {
    /// A cache of at most `budget` bytes (0: off) for sessions configured from `config`.
    pub fn new(budget: usize, config: &SessionConfig) -> ResultCache {
        ResultCache {
            budget,
            state: Mutex::new(State {
                store: Store::new(budget),
                running: flight::Running::default(),
            }),
            base: settings_of(config.options()),
            recording: AtomicUsize::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            bypasses: AtomicU64::new(0),
            shared_waits: AtomicU64::new(0),
        }
    }

    /// Whether the cache is on (a budget above 0).
    pub fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// The counters now.
    pub fn stats(&self) -> CacheStats {
        let state = self.lock();
        CacheStats {
            entries: state.store.len() as u64,
            bytes: state.store.used() as u64,
            budget_bytes: state.store.budget() as u64,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bypasses: self.bypasses.load(Ordering::Relaxed),
            evictions: state.store.evictions,
            shared_waits: self.shared_waits.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves `bytes` for a recording in progress: `false` when the recordings would hold
    /// more than the budget.
    fn reserve(&self, bytes: usize) -> bool {
        let budget = self.budget;
        self.recording
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|total| *total <= budget)
            })
            .is_ok()
    }

    /// Gives back `bytes` of a recording (kept or dropped).
    fn release(&self, bytes: usize) {
        self.recording.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// The cached answer of `key`, or the running execution to wait for, or the lead.
    fn join(self: &Arc<Self>, key: &Arc<str>) -> Role {
        let mut state = self.lock();
        if let Some(entry) = state.store.get(key) {
            return Role::Hit(entry);
        }
        if let Some(waiter) = state.running.waiter(key) {
            return Role::Wait(waiter);
        }
        let limit = state.store.max_entry();
        Role::Lead(state.running.lead(self.clone(), key.clone(), limit))
    }

    /// Ends the execution of `key`: keeps `entry` (if any), forgets the execution.
    fn land(&self, key: &Arc<str>, entry: Option<Arc<Entry>>) {
        let mut state = self.lock();
        if let Some(entry) = entry {
            state.store.insert(key.clone(), entry);
        }
        state.running.forget(key);
    }

    /// What `EXPLAIN` says about `plan` run by `ctx`.
    async fn explain(&self, ctx: &SessionContext, plan: &LogicalPlan) -> String {
        if !self.enabled() {
            return "off (--result-cache-mb 0)".to_string();
        }
        match key_of(&ctx.state(), plan, &self.base).await {
            Err(e) => format!("not cached: {}", e.strip_backtrace()),
            Ok(Keyed::Bypass(reason)) => format!("not cached: {reason}"),
            Ok(Keyed::Key(key)) => {
                let state = self.lock();
                if state.store.contains(&key) {
                    "hit: the answer is in the cache".to_string()
                } else if state.running.contains(&key) {
                    "shared: the same query is running; it would wait for that answer".to_string()
                } else {
                    "miss: it would execute and be cached".to_string()
                }
            }
        }
    }
}

/// The result cache of `ctx`'s engine, if it has one.
pub fn of(ctx: &SessionContext) -> Option<Arc<ResultCache>> {
    ctx.state_ref()
        .read()
        .config()
        .get_extension::<ResultCache>()
}

/// `config` with `cache` as its sessions' result cache.
pub fn with_cache(config: SessionConfig, cache: Arc<ResultCache>) -> SessionConfig {
    config.with_extension(cache)
}

/// How a statement uses the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Hits, shared waits, and a recording of its own execution for the others.
    Full,
    /// Hits only; otherwise it executes on its own, unrecorded (a cursor: its fetches come
    /// and go at the client's pace, which no other client should wait on).
    HitsOnly,
}

/// The answer of `plan` (parameters bound) for `ctx`: from the cache, from the execution of
/// the same query running for another client, or from `execute(plan)`. `interrupted` fires
/// when this client's statement must stop; it ends a wait for another client's execution.
/// See the module docs.
pub async fn run<E, F>(
    ctx: &SessionContext,
    plan: LogicalPlan,
    sharing: Sharing,
    interrupted: impl Future<Output = DataFusionError>,
    execute: E,
) -> DfResult<SendableRecordBatchStream>
where
    E: FnOnce(LogicalPlan) -> F,
    F: Future<Output = DfResult<SendableRecordBatchStream>>,
{
    let Some(cache) = of(ctx).filter(|c| c.enabled()) else {
        return execute(plan).await;
    };
    if let LogicalPlan::Explain(explain) = &plan {
        let note = cache.explain(ctx, &explain.plan).await;
        let batches = execute(plan).await?;
        return Ok(with_note(batches, &note));
    }
    let key = match key_of(&ctx.state(), &plan, &cache.base).await? {
        Keyed::Key(key) => key,
        Keyed::Bypass(_) => {
            cache.bypasses.fetch_add(1, Ordering::Relaxed);
            return execute(plan).await;
        }
    };
    if sharing == Sharing::HitsOnly {
        let hit = cache.lock().store.get(&key);
        return match hit {
            Some(entry) => {
                cache.hits.fetch_add(1, Ordering::Relaxed);
                Ok(replay(&entry))
            }
            None => {
                cache.bypasses.fetch_add(1, Ordering::Relaxed);
                execute(plan).await
            }
        };
    }
    let mut interrupted = pin!(interrupted);
    let flight = loop {
        match cache.join(&key) {
            Role::Hit(entry) => {
                cache.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(replay(&entry));
            }
            Role::Lead(flight) => break Some(flight),
            Role::Wait(waiter) => {
                cache.shared_waits.fetch_add(1, Ordering::Relaxed);
                let outcome = tokio::select! {
                    error = &mut interrupted => return Err(error),
                    outcome = waiter.outcome() => outcome,
                };
                match outcome {
                    Outcome::Ready(entry) => return Ok(replay(&entry)),
                    Outcome::Failed(error) => return Err(DataFusionError::from(&error)),
                    // Too big to share: run alone.
                    Outcome::Uncached => break None,
                    // The first client went away: start over.
                    Outcome::Abandoned => continue,
                }
            }
        }
    };
    let Some(flight) = flight else {
        return execute(plan).await;
    };
    cache.misses.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    match execute(plan).await {
        Ok(batches) => Ok(Recorder::start(batches, flight, started)),
        Err(error) => Err(flight.fail(error)),
    }
}

/// A cached answer as a stream.
fn replay(entry: &Entry) -> SendableRecordBatchStream {
    let batches: Vec<DfResult<RecordBatch>> = entry.batches.iter().cloned().map(Ok).collect();
    Box::pin(RecordBatchStreamAdapter::new(
        entry.schema.clone(),
        futures::stream::iter(batches),
    ))
}

/// `EXPLAIN`'s rows, then a `result_cache` row with `note` (when its output has the usual two
/// text columns, `plan_type` and `plan`).
fn with_note(batches: SendableRecordBatchStream, note: &str) -> SendableRecordBatchStream {
    let schema = batches.schema();
    let columns: Option<Vec<ArrayRef>> = [EXPLAIN_ROW_TYPE, note]
        .iter()
        .zip(schema.fields())
        .map(|(text, field)| {
            let array: ArrayRef = Arc::new(StringArray::from(vec![*text]));
            arrow::compute::cast(&array, field.data_type()).ok()
        })
        .collect();
    let row = columns
        .filter(|c| c.len() == 2 && schema.fields().len() == 2)
        .and_then(|columns| RecordBatch::try_new(schema.clone(), columns).ok());
    match row {
        None => batches,
        Some(row) => Box::pin(RecordBatchStreamAdapter::new(
            schema,
            batches.chain(futures::stream::once(async move { Ok(row) })),
        )),
    }
}

/// The `plan_type` of `EXPLAIN`'s cache row.
const EXPLAIN_ROW_TYPE: &str = "result_cache";

#[cfg(test)]
mod tests;
