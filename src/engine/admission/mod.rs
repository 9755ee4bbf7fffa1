//! Admission control: at most N statements execute at once; the rest wait in a queue that is
//! fair per tenant and per user ([`fair`]), and every running or waiting statement is listed
//! by `chatlake_activity()` ([`activity`]).
//!
//! | Piece | Behaviour |
//! |---|---|
//! | [`Admission`] | one per server (held by the [`crate::engine::Engine`], found by each session in its `SessionConfig` extensions, see [`install`] / [`of`]) |
//! | [`Admission::admit`] | resolves to a [`Slot`] at once while fewer than N run and nobody waits, else when the fair queue reaches the statement; dropping the future gives up its place (a cancel, a timeout) |
//! | [`Slot`] | the right to execute; dropping it frees the slot for the next waiter |
//! | [`Admission::activity`] | one row per running or waiting statement |
//!
//! What a slot covers, and what it does not, is decided by the front end (`pg::sql::admit`):
//! a statement holds its slot until its last row is sent, a cursor until its first batch is
//! computed, and catalog queries take none.

pub mod activity;
pub mod fair;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use datafusion::prelude::{SessionConfig, SessionContext};
use tokio::sync::oneshot;

use fair::{FairQueue, Owner};

/// Who asks for a slot, as `chatlake_activity()` shows it.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The Postgres backend process id of the connection (`None`: the console's query API).
    pub pid: Option<i32>,
    /// The DataFusion session id.
    pub session: String,
    /// The user and tenant scope the queue is fair over.
    pub owner: Owner,
    /// The statement's text.
    pub query: String,
}

/// Whether a listed statement runs or waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for a slot.
    Queued,
    /// Holding a slot.
    Running,
}

impl State {
    /// `queued` or `running`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
        }
    }
}

/// One running or waiting statement.
#[derive(Debug, Clone)]
pub struct Activity {
    /// Who runs it.
    pub statement: Statement,
    /// Running or waiting.
    pub state: State,
    /// When it asked for a slot.
    pub queued_at: SystemTime,
    /// When it got one.
    pub started_at: Option<SystemTime>,
    /// How long it waited (so far, when still waiting).
    pub waited: Duration,
    /// Waiters served before it if nobody else arrives (`None` when running).
    pub ahead: Option<usize>,
}

#[derive(Debug)]
struct Entry {
    statement: Statement,
    queued_at: (SystemTime, Instant),
    started_at: Option<(SystemTime, Instant)>,
}

#[derive(Debug, Default)]
struct Inner {
    running: usize,
    queue: FairQueue<oneshot::Sender<Slot>>,
    entries: BTreeMap<u64, Entry>,
    next_id: u64,
}

/// The slots of one server and the statements waiting for them (see the module docs).
#[derive(Debug)]
pub struct Admission {
    slots: usize,
    inner: Mutex<Inner>,
}

impl Admission {
    /// At most `slots` statements at once (at least one).
    pub fn new(slots: usize) -> Arc<Admission> {
        Arc::new(Admission {
            slots: slots.max(1),
            inner: Mutex::default(),
        })
    }

    /// Statements that may execute at once.
    pub fn slots(&self) -> usize {
        self.slots
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Counters and maps updated in one step each: a panic cannot leave them half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a slot for `statement` (see the module docs). Cancel-safe: dropping the
    /// future before it resolves leaves the queue and frees a slot it was just given.
    pub async fn admit(self: &Arc<Self>, statement: Statement) -> Slot {
        let (sender, receiver) = oneshot::channel();
        let id = {
            let mut inner = self.lock();
            inner.next_id += 1;
            let id = inner.next_id;
            let now = (SystemTime::now(), Instant::now());
            let owner = statement.owner.clone();
            let free = inner.running < self.slots && inner.queue.is_empty();
            inner.entries.insert(
                id,
                Entry {
                    statement,
                    queued_at: now,
                    started_at: free.then_some(now),
                },
            );
            if free {
                inner.running += 1;
                inner.queue.served(owner);
                return Slot::new(self.clone(), id);
            }
            inner.queue.push(owner, id, sender);
            id
        };
        let waiting = Waiting {
            admission: self.clone(),
            id,
        };
        let slot = receiver.await;
        drop(waiting);
        // The sender stays queued until it sends a slot; only `Waiting` takes it out, and only
        // once this future is gone. Should the channel close anyway, run rather than hang.
        slot.unwrap_or(Slot {
            admission: None,
            id,
        })
    }

    /// Every running and waiting statement, oldest first.
    pub fn activity(&self) -> Vec<Activity> {
        let inner = self.lock();
        let now = Instant::now();
        inner
            .entries
            .iter()
            .map(|(id, entry)| {
                let waited = match entry.started_at {
                    Some((_, started)) => started.duration_since(entry.queued_at.1),
                    None => now.duration_since(entry.queued_at.1),
                };
                Activity {
                    statement: entry.statement.clone(),
                    state: match entry.started_at {
                        Some(_) => State::Running,
                        None => State::Queued,
                    },
                    queued_at: entry.queued_at.0,
                    started_at: entry.started_at.map(|(at, _)| at),
                    waited,
                    ahead: inner.queue.ahead_of(*id),
                }
            })
            .collect()
    }

    /// `(running, queued)` now.
    pub fn load(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.running, inner.queue.len())
    }

    fn release(self: &Arc<Self>, id: u64) {
        let mut inner = self.lock();
        inner.entries.remove(&id);
        inner.running = inner.running.saturating_sub(1);
        while inner.running < self.slots {
            let Some((next, sender)) = inner.queue.pop() else {
                break;
            };
            inner.running += 1;
            if let Some(entry) = inner.entries.get_mut(&next) {
                entry.started_at = Some((SystemTime::now(), Instant::now()));
            }
            if let Err(mut slot) = sender.send(Slot::new(self.clone(), next)) {
                // Its waiter is gone: take the slot back here (we hold the lock).
                slot.admission = None;
                inner.running -= 1;
                inner.entries.remove(&next);
            }
        }
    }

    fn give_up(&self, id: u64) {
        let mut inner = self.lock();
        if inner.queue.remove(id).is_some() {
            inner.entries.remove(&id);
        }
    }
}

/// Leaves the queue when the waiting future is dropped.
struct Waiting {
    admission: Arc<Admission>,
    id: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        // Already served: the slot sits in the channel and frees itself when dropped with it.
        self.admission.give_up(self.id);
    }
}

/// The right to execute one statement; the slot frees when this is dropped.
#[derive(Debug)]
pub struct Slot {
    /// `None`: holds nothing (taken back, or handed out without a slot).
    admission: Option<Arc<Admission>>,
    id: u64,
}

impl Slot {
    fn new(admission: Arc<Admission>, id: u64) -> Slot {
        Slot {
            admission: Some(admission),
            id,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(admission) = self.admission.take() {
            admission.release(self.id);
        }
    }
}

/// `config` whose sessions queue for `admission`'s slots.
pub fn install(config: SessionConfig, admission: Arc<Admission>) -> SessionConfig {
    config.with_extension(admission)
}

/// The admission control of a session (`None`: it runs statements unqueued).
pub fn of(ctx: &SessionContext) -> Option<Arc<Admission>> {
    ctx.state_ref().read().config().get_extension::<Admission>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(user: &str) -> Statement {
        Statement {
            pid: None,
            session: format!("session of {user}"),
            owner: Owner {
                tenant: "*".into(),
                user: user.into(),
            },
            query: format!("SELECT '{user}'"),
        }
    }

    #[tokio::test]
    async fn waiters_get_slots_in_fair_order_as_slots_free() {
        let admission = Admission::new(1);
        let first = admission.admit(statement("a")).await;
        let (order, mut done) = tokio::sync::mpsc::unbounded_channel();
        let mut waiters = Vec::new();
        for user in ["a", "a", "a", "b"] {
            let shared = admission.clone();
            let order = order.clone();
            waiters.push(tokio::spawn(async move {
                let slot = shared.admit(statement(user)).await;
                order.send(user).expect("send");
                drop(slot);
            }));
            // Queued in this order.
            while admission.load().1 < waiters.len() {
                tokio::task::yield_now().await;
            }
        }
        let listed = admission.activity();
        assert_eq!(listed.len(), 5);
        assert_eq!(
            listed.iter().filter(|a| a.state == State::Queued).count(),
            4
        );
        assert_eq!(listed[4].ahead, Some(0), "b goes next");
        drop(first);
        for waiter in waiters {
            waiter.await.expect("waiter");
        }
        let mut served = Vec::new();
        while let Ok(user) = done.try_recv() {
            served.push(user);
        }
        assert_eq!(served, ["b", "a", "a", "a"]);
        assert_eq!(admission.load(), (0, 0));
        assert!(admission.activity().is_empty());
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_the_queue() {
        let admission = Admission::new(1);
        let held = admission.admit(statement("a")).await;
        let gave_up =
            tokio::time::timeout(Duration::from_millis(20), admission.admit(statement("b"))).await;
        assert!(gave_up.is_err());
        assert_eq!(admission.load(), (1, 0));
        assert_eq!(admission.activity().len(), 1);
        drop(held);
        assert_eq!(admission.load(), (0, 0));
        let _again = admission.admit(statement("c")).await;
        assert_eq!(admission.load(), (1, 0));
    }
}
