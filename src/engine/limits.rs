//! The server's defaults for how much runs at once: the memory pool's limit and the number of
//! query slots, from the machine (or container) the server runs on.
//!
//! | Default | Value | Why |
//! |---|---|---|
//! | memory limit | half of the memory available to the process: the smaller of `MemTotal` (`/proc/meminfo`) and the cgroup's limit (`memory.max`, v2; `memory.limit_in_bytes`, v1) | leaves the other half to Arrow buffers outside the pool (decoded Parquet pages, results on their way to clients), the page cache and the ingest side; a query past it spills (sorts, aggregations) or fails with `53200`, never takes the process down |
//! | query slots | the number of cores, but no more than one per [`MEMORY_PER_SLOT`] of the memory limit, at least one | each query already runs on every core (`target_partitions`), so more at once only interleave them and multiply the memory held; see `benches/RESULTS.md` "Many analysts at once" for what 2 cores sustain |

/// The memory a query slot should have for itself at least: the default slot count never
/// exceeds `memory limit / MEMORY_PER_SLOT`.
pub const MEMORY_PER_SLOT: usize = 256 << 20;

/// The memory available to this process in bytes: the smaller of the machine's and the
/// cgroup's limit (`None` when neither can be read).
pub fn available_memory() -> Option<u64> {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_total(&text));
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .and_then(|text| cgroup_limit(&text));
    match (machine, cgroup) {
        (Some(m), Some(c)) => Some(m.min(c)),
        (m, c) => m.or(c),
    }
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A cgroup memory limit file's value in bytes; `None` for `max` (v2) or v1's "no limit"
/// (a number near `i64::MAX`).
fn cgroup_limit(text: &str) -> Option<u64> {
    let bytes: u64 = text.trim().parse().ok()?;
    (bytes < 1 << 60).then_some(bytes)
}

/// The default memory limit of `serve` and `demo`: half of [`available_memory`] (`None`,
/// unbounded, when it cannot be read).
pub fn default_memory_limit() -> Option<usize> {
    available_memory()
        .map(|bytes| usize::try_from(bytes / 2).unwrap_or(usize::MAX))
        .filter(|bytes| *bytes > 0)
}

/// The default number of query slots for `cores` cores and a pool of `memory_limit` bytes
/// (`None`: unbounded): see the module docs.
pub fn default_slots(cores: usize, memory_limit: Option<usize>) -> usize {
    let by_memory = memory_limit.map_or(usize::MAX, |bytes| bytes / MEMORY_PER_SLOT);
    cores.min(by_memory).max(1)
}

/// The number of cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_read_from_meminfo_and_cgroup_files() {
        let meminfo = "MemTotal:       24683772 kB\nMemFree:         1000 kB\n";
        assert_eq!(mem_total(meminfo), Some(24_683_772 * 1024));
        assert_eq!(mem_total("nothing"), None);
        assert_eq!(cgroup_limit("max\n"), None);
        assert_eq!(cgroup_limit("9223372036854771712\n"), None, "v1's no limit");
        assert_eq!(cgroup_limit("2147483648\n"), Some(2 << 30));
    }

    #[test]
    fn slots_follow_the_cores_within_the_memory() {
        assert_eq!(default_slots(2, Some(12 << 30)), 2);
        assert_eq!(default_slots(16, Some(1 << 30)), 4, "1 GiB / 256 MiB");
        assert_eq!(default_slots(8, Some(100 << 20)), 1, "at least one");
        assert_eq!(default_slots(4, None), 4);
        assert_eq!(default_slots(0, None), 1);
    }
}
