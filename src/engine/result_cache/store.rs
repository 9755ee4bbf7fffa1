//! The cached answers, bounded in bytes, evicted by cost saved (GreedyDual-Size).
//!
//! Every entry has a priority `H = L + cost / size`: `cost` is how long its execution took
//! (microseconds, from the start of execution to the last batch), `size` its batches' memory
//! plus its key, in bytes. A hit sets `H` again from the current `L`; when the budget is
//! exceeded, the entry of lowest `H` goes and `L` becomes its `H`. So an answer that was
//! expensive per byte stays longest, and a cheap or big one that nobody asks for again ages
//! out as `L` rises past it: LRU, weighted by the time a hit saves per byte it holds.
//!
//! An answer larger than a quarter of the budget is never kept (one answer must not empty the
//! cache), and the recording of one stops as soon as it grows past that (nothing is buffered
//! beyond it). Eviction scans the entries for the lowest priority: linear in the number of
//! entries, and only when an insert overflows the budget.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

/// One cached answer: the batches exactly as the execution produced them.
#[derive(Debug)]
pub(super) struct Entry {
    /// The answer's schema.
    pub schema: SchemaRef,
    /// The answer.
    pub batches: Vec<RecordBatch>,
    /// Memory held by `batches`.
    pub bytes: usize,
    /// How long computing it took.
    pub cost: Duration,
}

#[derive(Debug)]
struct Slot {
    entry: Arc<Entry>,
    /// `bytes` of the entry plus its key.
    size: usize,
    priority: f64,
}

/// The entries, their total size and the eviction clock `L`.
#[derive(Debug)]
pub(super) struct Store {
    budget: usize,
    used: usize,
    clock: f64,
    slots: HashMap<Arc<str>, Slot>,
    /// Entries evicted to make room, since the start.
    pub evictions: u64,
}

impl Store {
    /// An empty store holding at most `budget` bytes.
    pub fn new(budget: usize) -> Store {
        Store {
            budget,
            used: 0,
            clock: 0.0,
            slots: HashMap::new(),
            evictions: 0,
        }
    }

    /// The largest answer kept: a quarter of the budget.
    pub fn max_entry(&self) -> usize {
        self.budget / 4
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Bytes held (answers and keys).
    pub fn used(&self) -> usize {
        self.used
    }

    /// The budget in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Whether `key` has an entry (without counting as a use).
    pub fn contains(&self, key: &str) -> bool {
        self.slots.contains_key(key)
    }

    /// The entry of `key`, its priority renewed.
    pub fn get(&mut self, key: &str) -> Option<Arc<Entry>> {
        let clock = self.clock;
        let slot = self.slots.get_mut(key)?;
        slot.priority = clock + credit(&slot.entry, slot.size);
        Some(slot.entry.clone())
    }

    /// Keeps `entry` under `key`, evicting the lowest priorities to make room; `false` (and
    /// nothing kept) when it is larger than [`Store::max_entry`].
    pub fn insert(&mut self, key: Arc<str>, entry: Arc<Entry>) -> bool {
        let size = entry.bytes + key.len();
        if size > self.max_entry() {
            return false;
        }
        if let Some(old) = self.slots.remove(&key) {
            self.used -= old.size;
        }
        while self.used + size > self.budget {
            let Some(victim) = self
                .slots
                .iter()
                .min_by(|a, b| a.1.priority.total_cmp(&b.1.priority))
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(slot) = self.slots.remove(&victim) {
                self.used -= slot.size;
                self.clock = slot.priority;
                self.evictions += 1;
            }
        }
        let priority = self.clock + credit(&entry, size);
        self.used += size;
        self.slots.insert(
            key,
            Slot {
                entry,
                size,
                priority,
            },
        );
        true
    }
}

/// What keeping `entry` is worth per byte: microseconds of execution saved by a hit.
fn credit(entry: &Entry, size: usize) -> f64 {
    let micros = entry.cost.as_secs_f64() * 1e6;
    micros.max(1.0) / size.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Schema;

    fn entry(bytes: usize, millis: u64) -> Arc<Entry> {
        Arc::new(Entry {
            schema: Arc::new(Schema::empty()),
            batches: Vec::new(),
            bytes,
            cost: Duration::from_millis(millis),
        })
    }

    #[test]
    fn the_cheapest_per_byte_goes_first() {
        // Budget 4000: entries of 900 bytes (+1 byte key) fit four at a time.
        let mut store = Store::new(4000);
        assert!(store.insert("a".into(), entry(900, 100)));
        assert!(store.insert("b".into(), entry(900, 1)));
        assert!(store.insert("c".into(), entry(900, 50)));
        assert!(store.insert("d".into(), entry(900, 40)));
        assert_eq!(store.len(), 4);
        assert!(store.insert("e".into(), entry(900, 30)));
        assert!(!store.contains("b"));
        assert_eq!(store.evictions, 1);
        assert_eq!(store.used(), 4 * 901);
        // Now e (30 ms, inserted after b's eviction raised L by 1 ms/901 B) is the cheapest.
        assert!(store.insert("f".into(), entry(900, 30)));
        assert!(!store.contains("e"));
        assert!(store.contains("a") && store.contains("c") && store.contains("d"));
    }

    #[test]
    fn an_expensive_answer_ages_out_unless_it_is_used() {
        for used in [false, true] {
            let mut store = Store::new(4000);
            assert!(store.insert("a".into(), entry(900, 100)));
            for i in 0..20 {
                if used {
                    assert!(store.get("a").is_some());
                }
                assert!(store.insert(format!("x{i}").into(), entry(900, 30)));
            }
            assert_eq!(store.contains("a"), used, "used: {used}");
        }
    }

    #[test]
    fn an_answer_over_a_quarter_of_the_budget_is_not_kept() {
        let mut store = Store::new(4000);
        assert!(!store.insert("big".into(), entry(1000, 1000)));
        assert_eq!((store.len(), store.used(), store.evictions), (0, 0, 0));
    }
}
