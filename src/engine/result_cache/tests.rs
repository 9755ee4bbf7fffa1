//! Shared work when the first execution does not answer: what its waiters get. The executions
//! are closures that wait on channels the test opens, so the order of events is fixed (no
//! timing): the waiter is known to wait (its shared wait is counted) before the first ends.

use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::Int64Array;
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::error::DataFusionError;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use tokio::sync::oneshot;

use super::*;

fn session(cache: &Arc<ResultCache>) -> SessionContext {
    SessionContext::new_with_config(with_cache(SessionConfig::new(), cache.clone()))
}

async fn plan(ctx: &SessionContext) -> LogicalPlan {
    ctx.state()
        .create_logical_plan("SELECT 1 AS x")
        .await
        .expect("plan")
}

/// A one-column answer of one row holding `value`.
fn answer(value: i64) -> SendableRecordBatchStream {
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![value]))],
    )
    .expect("batch");
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::iter(vec![Ok(batch)]),
    ))
}

/// A stream that never yields (an execution still running).
fn running() -> SendableRecordBatchStream {
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::pending(),
    ))
}

async fn values(stream: SendableRecordBatchStream) -> Vec<i64> {
    let batches: Vec<RecordBatch> = stream.map(|b| b.expect("batch")).collect::<Vec<_>>().await;
    batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("int64")
                .values()
                .to_vec()
        })
        .collect()
}

/// Waits (yielding to the other tasks) until `cache` counts `n` shared waits.
async fn shared_waits(cache: &ResultCache, n: u64) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while cache.stats().shared_waits < n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the waiter never waited");
}

/// Starts a client whose execution reports it started, then waits for `gate` and returns
/// what the gate hands it.
fn first_client(
    cache: &Arc<ResultCache>,
) -> (
    tokio::task::JoinHandle<DfResult<SendableRecordBatchStream>>,
    oneshot::Receiver<()>,
    oneshot::Sender<DfResult<SendableRecordBatchStream>>,
) {
    let (started_tx, started_rx) = oneshot::channel();
    let (gate_tx, gate_rx) = oneshot::channel();
    let ctx = session(cache);
    let first = tokio::spawn(async move {
        let plan = plan(&ctx).await;
        run(&ctx, plan, Sharing::Full, pending(), |_| async move {
            let _ = started_tx.send(());
            gate_rx.await.expect("gate")
        })
        .await
    });
    (first, started_rx, gate_tx)
}

/// A cache and its first client, whose execution has started and waits for the gate.
async fn started_first_client() -> (
    Arc<ResultCache>,
    tokio::task::JoinHandle<DfResult<SendableRecordBatchStream>>,
    oneshot::Sender<DfResult<SendableRecordBatchStream>>,
) {
    let cache = Arc::new(ResultCache::new(1 << 20, &SessionConfig::new()));
    let (first, started, gate) = first_client(&cache);
    started.await.expect("started");
    (cache, first, gate)
}

/// Starts a client asking what the first one asks, whose own execution must not run
/// (it panics with `why`).
fn waiter_not_executing(
    cache: &Arc<ResultCache>,
    why: &'static str,
) -> tokio::task::JoinHandle<DfResult<SendableRecordBatchStream>> {
    let ctx = session(cache);
    tokio::spawn(async move {
        let plan = plan(&ctx).await;
        run(&ctx, plan, Sharing::Full, pending(), move |_| async move {
            panic!("{why}")
        })
        .await
    })
}

#[tokio::test]
async fn waiters_share_the_answer_and_the_next_call_hits() {
    let (cache, first, gate) = started_first_client().await;
    let waiter = waiter_not_executing(&cache, "a waiter does not execute while the first runs");
    shared_waits(&cache, 1).await;
    gate.send(Ok(answer(7))).map_err(|_| "gate").expect("open");
    let first = first.await.expect("first").expect("answer");
    assert_eq!(values(first).await, vec![7]);
    let waited = waiter.await.expect("waiter").expect("answer");
    assert_eq!(values(waited).await, vec![7]);
    let ctx = session(&cache);
    let again = run(
        &ctx,
        plan(&ctx).await,
        Sharing::Full,
        pending(),
        |_| async { panic!("a cached answer does not execute") },
    )
    .await
    .expect("hit");
    assert_eq!(values(again).await, vec![7]);
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.shared_waits, stats.hits), (1, 1, 1));
    assert_eq!(stats.entries, 1);
}

#[tokio::test]
async fn a_query_error_is_the_answer_of_every_waiter() {
    let (cache, first, gate) = started_first_client().await;
    let waiter = waiter_not_executing(&cache, "a waiter does not run a query that failed");
    shared_waits(&cache, 1).await;
    let error = DataFusionError::Execution("Divide by zero error".to_string());
    gate.send(Err(error)).map_err(|_| "gate").expect("open");
    for outcome in [first.await, waiter.await] {
        let Err(error) = outcome.expect("task") else {
            panic!("an answer after a query error")
        };
        assert!(
            matches!(error.find_root(), DataFusionError::Execution(m) if m == "Divide by zero error"),
            "{error}"
        );
    }
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.shared_waits, stats.entries), (1, 1, 0));
}

#[tokio::test]
async fn a_waiter_runs_the_query_itself_when_the_first_client_stops() {
    let (cache, first, gate) = started_first_client().await;
    // The first execution starts streaming, but its answer never ends.
    gate.send(Ok(running())).map_err(|_| "gate").expect("open");
    let first_stream = first.await.expect("first").expect("stream");
    let ctx = session(&cache);
    let (ran_tx, ran_rx) = oneshot::channel();
    let waiter = tokio::spawn(async move {
        let plan = plan(&ctx).await;
        run(&ctx, plan, Sharing::Full, pending(), |_| async move {
            let _ = ran_tx.send(());
            Ok(answer(9))
        })
        .await
    });
    shared_waits(&cache, 1).await;
    // The first client cancels: its stream is dropped.
    drop(first_stream);
    let waited = waiter.await.expect("waiter").expect("answer");
    assert_eq!(values(waited).await, vec![9]);
    ran_rx.await.expect("the waiter executed");
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.shared_waits, stats.entries), (2, 1, 1));
}

#[tokio::test]
async fn a_waiter_stops_on_its_own_interrupt() {
    let (cache, first, _gate) = started_first_client().await;
    let ctx = session(&cache);
    let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
    let waiter = tokio::spawn(async move {
        let plan = plan(&ctx).await;
        let interrupted = async move {
            let _ = cancel_rx.await;
            DataFusionError::Execution("canceled".to_string())
        };
        run(&ctx, plan, Sharing::Full, interrupted, |_| async {
            panic!("a canceled waiter does not execute")
        })
        .await
    });
    shared_waits(&cache, 1).await;
    cancel_tx.send(()).expect("cancel");
    let Err(error) = waiter.await.expect("waiter") else {
        panic!("an answer after a cancel")
    };
    assert_eq!(error.strip_backtrace(), "Execution error: canceled");
    first.abort();
}
