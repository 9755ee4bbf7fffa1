//! Query slots for the statements of both front ends (pgwire and the console's query API):
//! which statements wait for one, how the wait meets cancels and `statement_timeout`, and
//! how long a slot is held (see [`crate::engine::admission`] for the fair queue).
//!
//! | Statement | Slot |
//! |---|---|
//! | a query, `COPY … TO STDOUT`, `EXPLAIN ANALYZE` | waited for before it executes; held until its last row is sent (or it fails or is dropped), or until its client has not asked for more rows for [`IDLE_RELEASE`] |
//! | a cursor (`DECLARE`) | waited for by the first `FETCH`, held until the first batch is computed: an idle cursor holds none |
//! | a catalog query (only `pg_catalog` / `information_schema` tables, `chatlake_activity()`, `chatlake_cache_stats()`), a plan that reads no table, plain `EXPLAIN` | none: client introspection and the view of the queue work while the queue is full |
//!
//! A slot bounds the statements computing at once. While the client takes its rows as fast as
//! they come, the statement keeps its slot to the end (its operators hold their memory until
//! then). Once the rows wait for the client (a slow or stalled reader, a portal suspended by
//! `Execute` with a row limit, as JDBC's `fetchSize` does) for [`IDLE_RELEASE`], the slot goes to
//! the next statement: an idle client must not block the queue, nor a connection wait for a slot
//! its own suspended portal holds. The rest of its rows compute without a slot.
//!
//! Waiting counts toward `statement_timeout` (as lock waits do in PostgreSQL); a cancel or the
//! timeout while waiting fails the statement with `57014`, the message saying it was waiting for
//! a query slot.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use super::plan::PlannedQuery;
use crate::engine::admission::fair::Owner;
use crate::engine::admission::{self, Admission, Slot, Statement};
use crate::engine::result_cache;
use crate::pg::error::{CodedError, code};
use crate::pg::session::Session;
use crate::pg::wire::cancel::Interrupt;

/// What a statement got from admission control.
pub(crate) enum Admitted {
    /// It needs no slot (or the server has no admission control).
    Free,
    /// It holds this slot until its rows end.
    Held(Slot),
    /// A cursor: its first fetch waits for a slot.
    Lazy(Arc<Admission>, Statement),
}

/// Admits `query`, planned as `plan`, for `session`: waits for its slot (a `timed` statement)
/// or leaves the wait to the first fetch (a cursor), stopping at `interrupt`.
pub(crate) async fn admit(
    session: &Session,
    query: &PlannedQuery,
    plan: &LogicalPlan,
    timed: bool,
    interrupt: &mut Interrupt,
) -> DfResult<Admitted> {
    let Some(admission) = admission::of(session.context()) else {
        return Ok(Admitted::Free);
    };
    if !needs_slot(plan) {
        return Ok(Admitted::Free);
    }
    let statement = Statement {
        pid: session.backend_pid(),
        session: session.context().session_id(),
        owner: Owner {
            tenant: session.tenant_scope().to_string(),
            user: session.user(),
        },
        query: query.text.clone(),
    };
    if !timed {
        return Ok(Admitted::Lazy(admission, statement));
    }
    tokio::select! {
        slot = admission.admit(statement) => Ok(Admitted::Held(slot)),
        error = interrupt.fired() => Err(waiting_error(&admission, &error)),
    }
}

/// `batches` holding the slot of `admitted` as the module docs say.
pub(crate) fn with_slot(
    batches: SendableRecordBatchStream,
    admitted: Admitted,
) -> SendableRecordBatchStream {
    match admitted {
        Admitted::Free => batches,
        Admitted::Held(slot) => holding(batches, Some(slot), false),
        Admitted::Lazy(admission, statement) => {
            first_batch_with_slot(batches, admission, statement)
        }
    }
}

/// Whether running `plan` takes a query slot (see the module docs).
fn needs_slot(plan: &LogicalPlan) -> bool {
    if matches!(plan, LogicalPlan::Explain(_)) {
        return false;
    }
    let mut reads_data = false;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let catalog = matches!(
                scan.table_name.schema(),
                Some("pg_catalog" | "information_schema")
            ) || [admission::activity::NAME, result_cache::STATS_FUNCTION]
                .iter()
                .any(|name| scan.table_name.table().starts_with(name))
                || (scan.table_name.schema().is_none()
                    && scan.table_name.table().starts_with("pg_"));
            if !catalog {
                reads_data = true;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    reads_data
}

/// The `57014` of a statement stopped while it waited for a slot.
fn waiting_error(admission: &Admission, error: &DataFusionError) -> DataFusionError {
    let reason = match error {
        DataFusionError::External(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let (running, queued) = admission.load();
    DataFusionError::External(Box::new(CodedError::new(
        code::QUERY_CANCELED,
        format!(
            "{reason} while waiting for a query slot ({running} of {} running, {queued} queued; see chatlake_activity())",
            admission.slots()
        ),
    )))
}

/// How long a statement's rows may wait for its client before its slot is given back.
pub(crate) const IDLE_RELEASE: Duration = Duration::from_secs(1);

/// The slot of a result stream and whose turn it is.
struct Holder {
    slot: Option<Slot>,
    /// Set while the stream computes a batch the client asked for.
    computing: bool,
    /// When the last batch went to the client.
    handed_out: Instant,
}

/// `batches` holding `slot` until they end (or, with `first_batch_only`, until the first
/// batch), or until the client has not asked for the next batch for [`IDLE_RELEASE`].
fn holding(
    batches: SendableRecordBatchStream,
    slot: Option<Slot>,
    first_batch_only: bool,
) -> SendableRecordBatchStream {
    let schema = batches.schema();
    let holder = Arc::new(Mutex::new(Holder {
        slot,
        computing: false,
        handed_out: Instant::now(),
    }));
    tokio::spawn(release_when_idle(Arc::downgrade(&holder)));
    let stream =
        futures::stream::unfold((batches, holder), move |(mut batches, holder)| async move {
            lock(&holder).computing = true;
            let Some(next) = batches.next().await else {
                lock(&holder).slot = None;
                return None;
            };
            let mut held = lock(&holder);
            held.computing = false;
            held.handed_out = Instant::now();
            if first_batch_only || next.is_err() {
                held.slot = None;
            }
            drop(held);
            Some((next, (batches, holder)))
        });
    Box::pin(RecordBatchStreamAdapter::new(schema, stream))
}

fn lock(holder: &Mutex<Holder>) -> std::sync::MutexGuard<'_, Holder> {
    holder
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Gives the slot of `holder` back once its client has left the rows waiting for
/// [`IDLE_RELEASE`] (a suspended portal, a slow or stalled client), or the stream is gone.
async fn release_when_idle(holder: Weak<Mutex<Holder>>) {
    loop {
        tokio::time::sleep(IDLE_RELEASE / 4).await;
        let Some(holder) = holder.upgrade() else {
            return;
        };
        let mut held = lock(&holder);
        if held.slot.is_none() {
            return;
        }
        if !held.computing && held.handed_out.elapsed() >= IDLE_RELEASE {
            held.slot = None;
            return;
        }
    }
}

/// A cursor's `batches`: the first poll waits for a slot, held until the first batch is there.
fn first_batch_with_slot(
    batches: SendableRecordBatchStream,
    admission: Arc<Admission>,
    statement: Statement,
) -> SendableRecordBatchStream {
    let schema = batches.schema();
    let waiting = futures::stream::once(async move {
        let slot = admission.admit(statement).await;
        holding(batches, Some(slot), true)
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, waiting.flatten()))
}
