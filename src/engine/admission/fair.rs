//! The order in which waiting statements get a free slot.
//!
//! Waiters are grouped by tenant scope, then by user. When a slot frees, the tenant served
//! least recently goes first, then, within it, its user served least recently, then that
//! user's oldest waiter. A tenant or user never served yet comes before one that was; ties go
//! to whoever has waited longest. So one user's twenty queued statements delay another user's
//! one by at most one slot turn, and a tenant with many users does not crowd out a tenant with
//! one.
//!
//! The queue is a plain list scanned on every pop: it holds the statements waiting on one
//! server (tens, rarely hundreds), and a pop happens once per finished statement.

use std::collections::HashMap;

/// Who a waiter belongs to: its tenant scope (`*` for all tenants) and its user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner {
    /// The session's tenant scope as `SHOW chatlake.tenant` prints it.
    pub tenant: String,
    /// The user the session logged in as.
    pub user: String,
}

#[derive(Debug)]
struct Waiter<T> {
    owner: Owner,
    /// Arrival order.
    seq: u64,
    id: u64,
    item: T,
}

/// Waiters in fair order (see the module docs).
#[derive(Debug)]
pub struct FairQueue<T> {
    waiters: Vec<Waiter<T>>,
    arrivals: u64,
    /// Turn counter: bumped on every pop.
    turns: u64,
    tenant_served: HashMap<String, u64>,
    user_served: HashMap<Owner, u64>,
}

impl<T> Default for FairQueue<T> {
    fn default() -> Self {
        FairQueue {
            waiters: Vec::new(),
            arrivals: 0,
            turns: 0,
            tenant_served: HashMap::new(),
            user_served: HashMap::new(),
        }
    }
}

impl<T> FairQueue<T> {
    /// Adds waiter `id` of `owner`, carrying `item`.
    pub fn push(&mut self, owner: Owner, id: u64, item: T) {
        self.arrivals += 1;
        self.waiters.push(Waiter {
            owner,
            seq: self.arrivals,
            id,
            item,
        });
    }

    /// Number of waiters.
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Whether nobody waits.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Takes waiter `id` out of the queue (it gave up); `None` when it is not queued.
    pub fn remove(&mut self, id: u64) -> Option<T> {
        let at = self.waiters.iter().position(|w| w.id == id)?;
        Some(self.waiters.remove(at).item)
    }

    /// How many waiters would be served before waiter `id` if nobody else arrived (`None`
    /// when it is not queued). Simulated on the served clocks: exact, and cheap at queue sizes.
    pub fn ahead_of(&self, id: u64) -> Option<usize> {
        self.waiters.iter().find(|w| w.id == id)?;
        let mut tenant_served = self.tenant_served.clone();
        let mut user_served = self.user_served.clone();
        let mut left: Vec<&Waiter<T>> = self.waiters.iter().collect();
        let mut turn = self.turns;
        for ahead in 0.. {
            let at = next(&left, &tenant_served, &user_served)?;
            if left[at].id == id {
                return Some(ahead);
            }
            turn += 1;
            tenant_served.insert(left[at].owner.tenant.clone(), turn);
            user_served.insert(left[at].owner.clone(), turn);
            left.remove(at);
        }
        None
    }

    /// The next waiter to serve: `(id, item)`.
    pub fn pop(&mut self) -> Option<(u64, T)> {
        let refs: Vec<&Waiter<T>> = self.waiters.iter().collect();
        let at = next(&refs, &self.tenant_served, &self.user_served)?;
        let waiter = self.waiters.remove(at);
        self.served(waiter.owner);
        Some((waiter.id, waiter.item))
    }

    /// Records a turn of `owner` that did not wait (a free slot was taken at once), so that it
    /// counts as served as recently as a popped waiter would.
    pub fn served(&mut self, owner: Owner) {
        self.turns += 1;
        self.tenant_served.insert(owner.tenant.clone(), self.turns);
        self.user_served.insert(owner, self.turns);
    }
}

/// Index in `waiters` of the one to serve next.
fn next<T>(
    waiters: &[&Waiter<T>],
    tenant_served: &HashMap<String, u64>,
    user_served: &HashMap<Owner, u64>,
) -> Option<usize> {
    let tenant = waiters
        .iter()
        .min_by_key(|w| {
            (
                tenant_served.get(&w.owner.tenant).copied().unwrap_or(0),
                w.seq,
            )
        })?
        .owner
        .tenant
        .clone();
    let user = waiters
        .iter()
        .filter(|w| w.owner.tenant == tenant)
        .min_by_key(|w| (user_served.get(&w.owner).copied().unwrap_or(0), w.seq))?
        .owner
        .clone();
    waiters
        .iter()
        .enumerate()
        .filter(|(_, w)| w.owner == user)
        .min_by_key(|(_, w)| w.seq)
        .map(|(at, _)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(tenant: &str, user: &str) -> Owner {
        Owner {
            tenant: tenant.into(),
            user: user.into(),
        }
    }

    fn drain(queue: &mut FairQueue<&'static str>) -> Vec<&'static str> {
        std::iter::from_fn(|| queue.pop().map(|(_, item)| item)).collect()
    }

    #[test]
    fn one_users_backlog_delays_another_by_one_turn_at_most() {
        let mut queue = FairQueue::default();
        for id in 0..5 {
            queue.push(owner("*", "a"), id, "a");
        }
        assert_eq!(queue.pop(), Some((0, "a")), "first come, first served");
        queue.push(owner("*", "b"), 10, "b");
        assert_eq!(queue.ahead_of(10), Some(0));
        assert_eq!(queue.ahead_of(3), Some(3), "a's 1, 2 and b's 10 go first");
        assert_eq!(drain(&mut queue), ["b", "a", "a", "a", "a"]);
    }

    #[test]
    fn users_take_turns_in_arrival_order_and_keep_their_own_order() {
        let mut queue = FairQueue::default();
        for (id, (user, item)) in [
            ("a", "a1"),
            ("a", "a2"),
            ("b", "b1"),
            ("a", "a3"),
            ("b", "b2"),
        ]
        .into_iter()
        .enumerate()
        {
            queue.push(owner("*", user), id as u64, item);
        }
        assert_eq!(drain(&mut queue), ["a1", "b1", "a2", "b2", "a3"]);
    }

    #[test]
    fn tenants_take_turns_before_their_users() {
        let mut queue = FairQueue::default();
        // Tenant t1 has three busy users, t2 one.
        queue.push(owner("t1", "x"), 1, "x1");
        queue.push(owner("t1", "y"), 2, "y1");
        queue.push(owner("t1", "z"), 3, "z1");
        queue.push(owner("t2", "w"), 4, "w1");
        queue.push(owner("t2", "w"), 5, "w2");
        assert_eq!(drain(&mut queue), ["x1", "w1", "y1", "w2", "z1"]);
    }

    #[test]
    fn a_turn_taken_without_waiting_counts_as_served() {
        let mut queue = FairQueue::default();
        queue.served(owner("*", "a"));
        queue.push(owner("*", "a"), 1, "a1");
        queue.push(owner("*", "b"), 2, "b1");
        assert_eq!(drain(&mut queue), ["b1", "a1"]);
    }

    #[test]
    fn a_removed_waiter_is_never_served() {
        let mut queue = FairQueue::default();
        queue.push(owner("*", "a"), 1, "a1");
        queue.push(owner("*", "a"), 2, "a2");
        assert_eq!(queue.remove(1), Some("a1"));
        assert_eq!(queue.remove(1), None);
        assert_eq!(queue.ahead_of(1), None);
        assert_eq!(drain(&mut queue), ["a2"]);
        assert!(queue.is_empty());
    }
}
