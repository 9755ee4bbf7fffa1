//! Embeds `sql/views/*.sql` and `sql/reports/*.sql` into the binary.
//!
//! Writes `$OUT_DIR/embedded_sql.rs`: one `SqlFile { path, sql: include_str!(..) }` per file,
//! sorted by path, so adding a report is adding a file (no Rust, no list to edit).
//!
//! The included paths are written relative to `CARGO_MANIFEST_DIR` and the rerun triggers are
//! relative to the package root, so two checkouts sharing one `CARGO_TARGET_DIR` (CI reuses
//! one) each compile their own files. A checkout with no SQL files is a build error, not a
//! binary without reports.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read at run time: `env!` would freeze the directory of whichever checkout first compiled
    // this script, and a second checkout sharing the target directory would embed its files.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
        .expect("cargo sets CARGO_MANIFEST_DIR for build scripts");
    let root = Path::new(&manifest_dir).join("sql");
    println!("cargo:rerun-if-changed=sql");
    let mut files = Vec::new();
    for dir in ["views", "reports"] {
        let path = root.join(dir);
        println!("cargo:rerun-if-changed=sql/{dir}");
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let file = entry.path();
            if file.extension().is_some_and(|e| e == "sql") {
                let name = entry.file_name().to_string_lossy().to_string();
                println!("cargo:rerun-if-changed=sql/{dir}/{name}");
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    for dir in ["views", "reports"] {
        assert!(
            files.iter().any(|f| f.starts_with(&format!("{dir}/"))),
            "no .sql files in {}: the engine needs its views and reports",
            root.join(dir).display()
        );
    }
    files.sort();
    let mut out = String::from("&[\n");
    for rel in files {
        writeln!(
            out,
            "    SqlFile {{ path: {rel:?}, sql: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/sql/{rel}\")) }},"
        )
        .expect("write to a String");
    }
    out.push_str("]\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR set by cargo")).join("embedded_sql.rs");
    std::fs::write(dest, out).expect("write embedded_sql.rs");
}
