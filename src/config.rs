//! Process options shared by the subcommands, with their documented defaults.

use std::path::PathBuf;

use crate::lake::StoreOptions;

/// Default lake location when none is given.
pub const DEFAULT_LAKE: &str = "./data/lake";
/// Default address the Postgres server listens on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5433";
/// Default address of the demo's web console.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8080";

/// What the engine needs to open a lake.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Lake root: a path, `file://`, `s3://bucket/prefix` or `memory://`.
    pub lake: String,
    /// S3 connection options (fall back to `AWS_*` variables).
    pub store: StoreOptions,
    /// DataFusion target partitions (default: number of cores).
    pub target_partitions: Option<usize>,
    /// Memory pool limit in bytes for query execution (default: unlimited; `serve` and `demo`
    /// default to half the machine's memory, see [`crate::engine::limits`]).
    pub memory_limit: Option<usize>,
    /// Statements executing at once across all sessions, the rest queued fairly (default:
    /// unbounded, no queue; `serve` and `demo` choose from the cores and the memory limit).
    pub max_concurrent_queries: Option<usize>,
    /// Budget of the result cache in bytes (0: no cache, no shared work; `serve` defaults to
    /// [`crate::engine::result_cache::DEFAULT_MB`] MiB).
    pub result_cache_bytes: usize,
    /// Directory whose `views/` and `reports/` add to or override the embedded SQL files.
    pub sql_dir: Option<PathBuf>,
}

impl EngineConfig {
    /// A config for `lake` with every other option at its default.
    pub fn new(lake: impl Into<String>) -> Self {
        EngineConfig {
            lake: lake.into(),
            store: StoreOptions::default(),
            target_partitions: None,
            memory_limit: None,
            max_concurrent_queries: None,
            result_cache_bytes: 0,
            sql_dir: None,
        }
    }
}

/// A `--memory-limit-mb` value: a number of MiB, or no limit at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLimit {
    /// `0` or `unlimited`: no limit.
    Unlimited,
    /// At most this many MiB.
    MiB(usize),
}

impl MemoryLimit {
    /// The limit in bytes (`None`: unlimited).
    pub fn bytes(self) -> Option<usize> {
        match self {
            MemoryLimit::Unlimited => None,
            MemoryLimit::MiB(mb) => Some(mb.saturating_mul(1 << 20)),
        }
    }
}

/// Parses a `--memory-limit-mb` value: MiB, or `0` / `unlimited` for no limit.
pub fn parse_memory_limit(text: &str) -> std::result::Result<MemoryLimit, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") {
        return Ok(MemoryLimit::Unlimited);
    }
    match t.parse::<usize>() {
        Ok(0) => Ok(MemoryLimit::Unlimited),
        Ok(mb) => Ok(MemoryLimit::MiB(mb)),
        Err(_) => Err(format!(
            "'{text}' is not a memory limit: a number of MiB, or 0 / unlimited for none"
        )),
    }
}

/// Parses a size: bytes, or a number with `K`/`KiB`, `M`/`MiB`, `G`/`GiB` (powers of 1024).
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 16MiB, 512KiB, 1048576)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit '{other}' in '{text}'")),
    };
    n.checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{text}' is not a usable size"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn memory_limits_parse_with_unlimited() {
        assert_eq!(parse_memory_limit("512"), Ok(MemoryLimit::MiB(512)));
        assert_eq!(parse_memory_limit("0"), Ok(MemoryLimit::Unlimited));
        assert_eq!(parse_memory_limit("Unlimited"), Ok(MemoryLimit::Unlimited));
        assert_eq!(MemoryLimit::MiB(2).bytes(), Some(2 << 20));
        assert_eq!(MemoryLimit::Unlimited.bytes(), None);
        assert!(
            parse_memory_limit("lots")
                .unwrap_err()
                .contains("0 / unlimited")
        );
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("ten").unwrap_err().contains("not a size"));
        assert!(
            parse_size("3 parsecs")
                .unwrap_err()
                .contains("unknown size unit")
        );
    }
}
