//! Embeds `sql/views/*.sql` and `sql/reports/*.sql` into the binary, and the console's files:
//! `sql/dashboards/*.toml` and every file under `src/http/assets/`.
//!
//! Writes `$OUT_DIR/embedded_sql.rs`: one `SqlFile { path, sql: include_str!(..) }` per file,
//! sorted by path, so adding a report is adding a file (no Rust, no list to edit); and
//! `$OUT_DIR/embedded_console.rs`: `(path, include_bytes!(..))` pairs of the assets
//! (`ASSETS`, paths relative to `src/http/assets/`) and `(file name, include_str!(..))` pairs of
//! the dashboards (`DASHBOARDS`), sorted by path.
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
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR set by cargo");
    let dest = Path::new(&out_dir).join("embedded_sql.rs");
    std::fs::write(dest, out).expect("write embedded_sql.rs");
    embed_console(Path::new(&manifest_dir), Path::new(&out_dir));
}

/// Writes `embedded_console.rs`: the console's page assets and dashboard files.
fn embed_console(manifest_dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed=src/http/assets");
    println!("cargo:rerun-if-changed=sql/dashboards");
    let mut assets = Vec::new();
    collect_files(&manifest_dir.join("src/http/assets"), "", &mut assets);
    assets.sort();
    let mut out =
        String::from("/// The files under `src/http/assets/`: (path relative to it, bytes).\n");
    out.push_str("pub const ASSETS: &[(&str, &[u8])] = &[\n");
    for rel in &assets {
        writeln!(
            out,
            "    ({rel:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/http/assets/{rel}\"))),"
        )
        .expect("write to a String");
    }
    out.push_str("];\n");
    let mut dashboards: Vec<String> = std::fs::read_dir(manifest_dir.join("sql/dashboards"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|name| name.ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default();
    dashboards.sort();
    out.push_str("/// The files `sql/dashboards/*.toml`: (file name, text).\n");
    out.push_str("pub const DASHBOARDS: &[(&str, &str)] = &[\n");
    for name in &dashboards {
        writeln!(
            out,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/sql/dashboards/{name}\"))),"
        )
        .expect("write to a String");
    }
    out.push_str("];\n");
    std::fs::write(out_dir.join("embedded_console.rs"), out).expect("write embedded_console.rs");
}

/// Adds the paths (relative, `/`-separated) of the files under `dir` to `files`; hidden files
/// are left out.
fn collect_files(dir: &Path, prefix: &str, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{prefix}{name}");
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, &format!("{rel}/"), files);
        } else {
            files.push(rel);
        }
    }
}
