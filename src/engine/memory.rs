//! Per-user memory limits: a session's share of the server's memory pool.
//!
//! Every session of a server shares one DataFusion memory pool (`--memory-limit-mb`; by
//! default half the machine's memory, see [`super::limits`]). A user with `memory_limit` in the auth file gets sessions whose runtime draws
//! from a [`CappedPool`] instead: every reservation is counted against the user's cap first and
//! then taken from the shared pool, so
//!
//! | Rule | Behaviour |
//! |---|---|
//! | cap | one statement of the user holds at most `memory_limit` bytes (a session runs one statement at a time; the portals a cursor keeps open count toward it) |
//! | shared bound | reservations still come out of the shared pool: all users together never hold more than the server's limit |
//! | spilling | operators that can spill (sorts, aggregations) spill to disk at the cap, as they do at the server's limit |
//! | past it | a reservation that cannot be met fails the statement with `ResourcesExhausted` naming the user and the cap: SQLSTATE `53200` |
//!
//! Nothing else of the runtime changes: the capped session keeps the shared object stores,
//! caches and spill directory ([`capped_runtime`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

/// A memory pool that caps one user's reservations and takes them from a shared pool.
#[derive(Debug)]
pub struct CappedPool {
    shared: Arc<dyn MemoryPool>,
    cap: usize,
    used: AtomicUsize,
    user: String,
}

impl CappedPool {
    /// A pool for `user` holding at most `cap` bytes of `shared`.
    pub fn new(shared: Arc<dyn MemoryPool>, cap: usize, user: impl Into<String>) -> CappedPool {
        CappedPool {
            shared,
            cap,
            used: AtomicUsize::new(0),
            user: user.into(),
        }
    }

    fn exhausted(&self, reservation: &MemoryReservation, additional: usize) -> DataFusionError {
        DataFusionError::ResourcesExhausted(format!(
            "the query of user \"{}\" needs more than its memory_limit of {} (auth file): {} asked for {} more bytes with {} already held",
            self.user,
            crate::auth::file::format_size(self.cap as u64),
            reservation.consumer().name(),
            additional,
            self.used.load(Ordering::Relaxed)
        ))
    }
}

impl fmt::Display for CappedPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "capped(user: {}, used: {}, cap: {}) of {}",
            self.user,
            self.used.load(Ordering::Relaxed),
            self.cap,
            self.shared
        )
    }
}

impl MemoryPool for CappedPool {
    fn name(&self) -> &str {
        "capped"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.shared.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.shared.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.used.fetch_add(additional, Ordering::Relaxed);
        self.shared.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.used.fetch_sub(shrink, Ordering::Relaxed);
        self.shared.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(additional)
                    .filter(|total| *total <= self.cap)
            })
            .map_err(|_| self.exhausted(reservation, additional))?;
        if let Err(e) = self.shared.try_grow(reservation, additional) {
            self.used.fetch_sub(additional, Ordering::Relaxed);
            return Err(e);
        }
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn memory_limit(&self) -> MemoryLimit {
        match self.shared.memory_limit() {
            MemoryLimit::Finite(shared) => MemoryLimit::Finite(shared.min(self.cap)),
            _ => MemoryLimit::Finite(self.cap),
        }
    }
}

/// `runtime` with its memory pool replaced by a [`CappedPool`] of `cap` bytes for `user` (the
/// object stores, caches and disk manager stay shared).
pub fn capped_runtime(runtime: &RuntimeEnv, cap: usize, user: &str) -> Result<Arc<RuntimeEnv>> {
    let pool = CappedPool::new(runtime.memory_pool.clone(), cap, user);
    RuntimeEnvBuilder::from_runtime_env(runtime)
        .with_memory_pool(Arc::new(pool))
        .build_arc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::GreedyMemoryPool;

    #[test]
    fn the_cap_and_the_shared_pool_both_bound_a_reservation() {
        let shared: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(1000));
        let alice: Arc<dyn MemoryPool> = Arc::new(CappedPool::new(shared.clone(), 600, "alice"));
        let bob: Arc<dyn MemoryPool> = Arc::new(CappedPool::new(shared.clone(), 600, "bob"));
        let a = MemoryConsumer::new("a").register(&alice);
        let b = MemoryConsumer::new("b").register(&bob);

        a.try_grow(500).expect("within both");
        let e = a.try_grow(200).expect_err("past alice's cap");
        assert!(
            e.to_string().contains("user \"alice\"") && e.to_string().contains("600"),
            "{e}"
        );
        assert_eq!(alice.reserved(), 500);
        assert_eq!(
            shared.reserved(),
            500,
            "a refused reservation takes nothing"
        );

        // Bob is under his cap but the shared pool has only 500 left.
        b.try_grow(500).expect("the rest of the shared pool");
        assert!(b.try_grow(1).is_err(), "the shared pool is full");
        assert_eq!(
            bob.reserved(),
            500,
            "the shared refusal is undone in bob's count"
        );
        assert_eq!(shared.reserved(), 1000);

        a.free();
        assert_eq!((alice.reserved(), shared.reserved()), (0, 500));
        b.shrink(200);
        assert_eq!((bob.reserved(), shared.reserved()), (300, 300));
    }
}
