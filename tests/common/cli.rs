//! Running the `chatlake` binary from a test: its stderr when it must succeed, and the rows
//! of `chatlake sql`.

use std::path::Path;
use std::process::{Command, Output};

/// The stderr of a run that must have succeeded without a panic.
pub fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "chatlake failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The CSV answer of `query` over `lake`, without its header line.
pub fn sql(lake: &Path, query: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_chatlake"))
        .args(["sql", "--lake", &lake.to_string_lossy(), query])
        .output()
        .expect("run chatlake sql");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "query failed: {query}: {stderr}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}
