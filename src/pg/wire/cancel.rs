//! Stopping running queries: `CancelRequest`s and `statement_timeout`.
//!
//! | Piece | Behaviour |
//! |---|---|
//! | [`Canceler`] | one per connection; a cancel bumps its generation counter |
//! | [`Interrupt`] | taken when a statement starts: fires when the generation moves on (a cancel arrived while the statement ran) or when `statement_timeout` passes |
//! | [`interruptible`] | wraps DataFusion's record-batch stream: when the interrupt fires, the stream is dropped at once (DataFusion aborts its tasks, CPU use stops) and the statement fails with `57014` |
//! | [`CancelRegistry`] | process id + secret key → connection, for `CancelRequest`s arriving on a new socket; an entry lives as long as its connection |
//!
//! A cancel that arrives between statements cancels nothing (as in PostgreSQL): the next
//! statement takes a fresh [`Interrupt`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use pgwire::api::cancel::CancelHandler;
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::SecretKey;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::pg::error::{QueryCanceled, StatementTimeout};

/// One connection's cancel switch.
#[derive(Debug, Clone)]
pub(crate) struct Canceler {
    generation: Arc<watch::Sender<u64>>,
}

impl Default for Canceler {
    fn default() -> Self {
        Canceler {
            generation: Arc::new(watch::channel(0).0),
        }
    }
}

impl Canceler {
    /// Cancels the statement running now, if any.
    pub fn cancel(&self) {
        self.generation.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// The interrupt of a statement starting now, with `timeout` (`None`: no limit).
    pub fn interrupt(&self, timeout: Option<Duration>) -> Interrupt {
        let generation = self.generation.subscribe();
        let start = *generation.borrow();
        Interrupt {
            generation,
            start,
            deadline: timeout.map(|t| Instant::now() + t),
        }
    }
}

/// Fires when the statement it was taken for must stop (a clone fires with it).
#[derive(Debug, Clone)]
pub(crate) struct Interrupt {
    generation: watch::Receiver<u64>,
    start: u64,
    deadline: Option<Instant>,
}

impl Interrupt {
    /// Waits until the statement must stop; returns the error it stops with.
    pub async fn fired(&mut self) -> DataFusionError {
        let start = self.start;
        let generation = &mut self.generation;
        let canceled = async {
            loop {
                if *generation.borrow_and_update() != start {
                    return;
                }
                if generation.changed().await.is_err() {
                    // The connection is gone: nothing can cancel any more.
                    std::future::pending::<()>().await;
                }
            }
        };
        let deadline = self.deadline;
        let timed_out = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = canceled => DataFusionError::External(Box::new(QueryCanceled)),
            () = timed_out => DataFusionError::External(Box::new(StatementTimeout)),
        }
    }
}

/// `batches`, stopped (and dropped) when `interrupt` fires.
pub(crate) fn interruptible(
    batches: SendableRecordBatchStream,
    interrupt: Interrupt,
) -> SendableRecordBatchStream {
    let schema = batches.schema();
    let stream = futures::stream::unfold(Some((batches, interrupt)), |state| async move {
        let (mut batches, mut interrupt) = state?;
        let outcome = tokio::select! {
            biased;
            error = interrupt.fired() => Err(error),
            next = batches.next() => Ok(next),
        };
        match outcome {
            Err(error) => {
                // Dropping the stream stops DataFusion's tasks.
                drop(batches);
                Some((Err(error), None))
            }
            Ok(None) => None,
            Ok(Some(item)) => Some((item, Some((batches, interrupt)))),
        }
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, stream))
}

/// Process id → the connection's secret key and cancel switch.
type Connections = HashMap<i32, (SecretKey, Weak<watch::Sender<u64>>)>;

/// The connections that can be canceled, by process id.
#[derive(Debug, Clone, Default)]
pub struct CancelRegistry {
    connections: Arc<Mutex<Connections>>,
}

/// Keeps a connection in the [`CancelRegistry`] until dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    registry: CancelRegistry,
    pid: i32,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.pid);
    }
}

impl CancelRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Connections> {
        // A plain map: a panic elsewhere cannot leave it half-written.
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the connection `pid` (with `secret`) cancelable through `canceler`.
    pub(crate) fn register(
        &self,
        pid: i32,
        secret: SecretKey,
        canceler: &Canceler,
    ) -> Registration {
        self.lock()
            .insert(pid, (secret, Arc::downgrade(&canceler.generation)));
        Registration {
            registry: self.clone(),
            pid,
        }
    }

    /// Cancels the running statement of connection `pid` if `secret` matches; returns whether
    /// a connection was found.
    pub fn cancel(&self, pid: i32, secret: &SecretKey) -> bool {
        let generation = match self.lock().get(&pid) {
            Some((known, generation)) if known.eq_value(secret) => generation.upgrade(),
            _ => None,
        };
        match generation {
            Some(generation) => {
                Canceler { generation }.cancel();
                true
            }
            None => false,
        }
    }
}

#[async_trait]
impl CancelHandler for CancelRegistry {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let found = self.cancel(request.pid, &request.secret_key);
        tracing::debug!(pid = request.pid, found, "cancel request");
    }
}

/// Parses a `statement_timeout` value: milliseconds, or a number with a unit (`us`, `ms`, `s`,
/// `min`, `h`, `d`); `0` means no limit. `None` for a value PostgreSQL would reject.
pub(crate) fn parse_timeout(value: &str) -> Option<Option<Duration>> {
    let value = value.trim().trim_matches('\'').trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let millis = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" => number,
        "us" => number / 1000.0,
        "s" => number * 1000.0,
        "min" => number * 60_000.0,
        "h" => number * 3_600_000.0,
        "d" => number * 86_400_000.0,
        _ => return None,
    };
    if !millis.is_finite() || millis < 0.0 || millis > f64::from(i32::MAX) {
        return None;
    }
    Some((millis >= 1.0).then(|| Duration::from_micros((millis * 1000.0) as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_like_postgres() {
        assert_eq!(parse_timeout("0"), Some(None));
        assert_eq!(parse_timeout("250"), Some(Some(Duration::from_millis(250))));
        assert_eq!(
            parse_timeout("'200ms'"),
            Some(Some(Duration::from_millis(200)))
        );
        assert_eq!(parse_timeout("5s"), Some(Some(Duration::from_secs(5))));
        assert_eq!(parse_timeout("1min"), Some(Some(Duration::from_secs(60))));
        assert_eq!(parse_timeout("soon"), None);
        assert_eq!(parse_timeout("5 parsecs"), None);
    }

    #[tokio::test]
    async fn a_cancel_between_statements_cancels_nothing() {
        let canceler = Canceler::default();
        canceler.cancel();
        let mut interrupt = canceler.interrupt(None);
        let fired = tokio::time::timeout(Duration::from_millis(50), interrupt.fired()).await;
        assert!(
            fired.is_err(),
            "an old cancel must not stop a new statement"
        );
        canceler.cancel();
        let fired = tokio::time::timeout(Duration::from_millis(50), interrupt.fired()).await;
        assert!(fired.is_ok());
    }

    #[test]
    fn registry_checks_the_secret_and_forgets_closed_connections() {
        let registry = CancelRegistry::default();
        let canceler = Canceler::default();
        let registration = registry.register(7, SecretKey::I32(42), &canceler);
        assert!(!registry.cancel(7, &SecretKey::I32(41)));
        assert!(registry.cancel(7, &SecretKey::I32(42)));
        drop(registration);
        assert!(!registry.cancel(7, &SecretKey::I32(42)));
    }
}
