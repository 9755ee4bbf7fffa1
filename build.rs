//! Embeds `sql/views/*.sql` and `sql/reports/*.sql` into the binary.
//!
//! Writes `$OUT_DIR/embedded_sql.rs`: one `SqlFile { path, sql: include_str!(..) }` per file,
//! sorted by path, so adding a report is adding a file (no Rust, no list to edit).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for dir in ["views", "reports"] {
        let path = root.join(dir);
        println!("cargo:rerun-if-changed={}", path.display());
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let file = entry.path();
            if file.extension().is_some_and(|e| e == "sql") {
                let name = entry.file_name().to_string_lossy().to_string();
                files.push((format!("{dir}/{name}"), file));
            }
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (rel, abs) in files {
        writeln!(
            out,
            "    SqlFile {{ path: {rel:?}, sql: include_str!({:?}) }},",
            abs.display().to_string()
        )
        .expect("write to a String");
    }
    out.push_str("]\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR set by cargo")).join("embedded_sql.rs");
    std::fs::write(dest, out).expect("write embedded_sql.rs");
}
