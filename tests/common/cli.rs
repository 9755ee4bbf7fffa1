//! Running the `chatlake` binary from a test: its stderr when it must succeed, the rows of
//! `chatlake sql`, the sample files of `data/sample`, fresh directories, and a lake holding the
//! sample tenant, channels and contacts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `chatlake` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_chatlake");

/// Runs `chatlake` with `args` and waits for it.
pub fn chatlake(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run chatlake")
}

/// Runs `chatlake` with `args` and `stdin` on its standard input, and waits for it.
pub fn chatlake_with_stdin(args: &[&str], stdin: &str) -> Output {
    run_with_stdin(Command::new(BIN).args(args), stdin.as_bytes())
}

/// Runs `command` with `stdin` on its standard input (its outputs captured), and waits for it.
pub fn run_with_stdin(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// The path of the sample file `name` of `data/sample`.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/sample")
        .join(name)
}

/// `name` under cargo's per-target temporary directory, removed if a previous run left it.
pub fn fresh_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove what a previous run left");
    }
    dir
}

/// [`fresh_path`], created empty.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = fresh_path(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// `chatlake ingest --lake LAKE KIND_FLAG KIND EXTRA... FILES...` (`KIND_FLAG` is `--table` or
/// `--format`).
pub fn ingest_files(
    lake: &Path,
    kind_flag: &str,
    kind: &str,
    files: &[&Path],
    extra: &[&str],
) -> Output {
    let lake = lake.to_string_lossy().to_string();
    let mut args = vec!["ingest", "--lake", &lake, kind_flag, kind];
    args.extend_from_slice(extra);
    let files: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().to_string())
        .collect();
    args.extend(files.iter().map(String::as_str));
    chatlake(&args)
}

/// Ingests the sample tenant, channels (pn-1 = wa-main, pn-2 = wa-cloud) and contacts into the
/// lake at `lake`.
pub fn ingest_sample_channels(lake: &Path) {
    let url = lake.to_string_lossy().to_string();
    for (table, file) in [
        ("tenants", "tenants.csv"),
        ("channels", "channels.ndjson"),
        ("contacts", "contacts.csv"),
    ] {
        ok(&chatlake(&[
            "ingest",
            "--lake",
            &url,
            "--table",
            table,
            &sample(file).to_string_lossy(),
        ]));
    }
}

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
