//! Views and report functions written as plain `.sql` files (`sql/views`, `sql/reports`).
//!
//! | step | what happens |
//! |---|---|
//! | build | `build.rs` embeds every `sql/views/*.sql` and `sql/reports/*.sql` ([`EMBEDDED`]) |
//! | start-up | [`SqlFiles::load`] takes the embedded files, then `--sql-dir DIR/views` and `DIR/reports` (a file of the same name overrides, a new name adds) |
//! | views | [`create_views`] runs each view file (one `CREATE VIEW`, file-name order) into the shared catalog |
//! | reports | [`super::reports::prepare`] parses each report's header and plans it once (its schema) |
//! | errors | any failure stops start-up with `sql/<dir>/<file>: <error>` |

use std::path::Path;

use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// One embedded SQL file: its path relative to `sql/` and its text.
#[derive(Debug, Clone, Copy)]
pub struct SqlFile {
    /// Path relative to `sql/`, e.g. `views/010_message_delivery.sql`.
    pub path: &'static str,
    /// The SQL text.
    pub sql: &'static str,
}

/// Every file of `sql/views` and `sql/reports` compiled into the binary, sorted by path.
pub const EMBEDDED: &[SqlFile] = include!(concat!(env!("OUT_DIR"), "/embedded_sql.rs"));

/// One SQL file to load: where it came from (for error messages), its stem and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// `views/010_message_delivery.sql` (embedded) or the path on disk (`--sql-dir`).
    pub origin: String,
    /// File name without directory or `.sql`, e.g. `010_message_delivery` or `stella_users`.
    pub stem: String,
    /// The SQL text.
    pub sql: String,
}

/// The view and report files of one engine, in load order.
#[derive(Debug, Clone, Default)]
pub struct SqlFiles {
    /// View files, sorted by file name (the numeric prefix orders loading).
    pub views: Vec<SourceFile>,
    /// Report files, sorted by file name.
    pub reports: Vec<SourceFile>,
}

impl SqlFiles {
    /// The embedded files, with `sql_dir/views` and `sql_dir/reports` added or overriding.
    pub fn load(sql_dir: Option<&Path>) -> Result<SqlFiles> {
        let mut files = SqlFiles::default();
        for file in EMBEDDED {
            let (dir, name) = file.path.split_once('/').unwrap_or(("", file.path));
            let source = SourceFile {
                origin: format!("sql/{}", file.path),
                stem: name.trim_end_matches(".sql").to_string(),
                sql: file.sql.to_string(),
            };
            match dir {
                "views" => files.views.push(source),
                "reports" => files.reports.push(source),
                _ => {}
            }
        }
        if let Some(dir) = sql_dir {
            add_dir(&mut files.views, &dir.join("views"))?;
            add_dir(&mut files.reports, &dir.join("reports"))?;
        }
        files.views.sort_by(|a, b| a.stem.cmp(&b.stem));
        files.reports.sort_by(|a, b| a.stem.cmp(&b.stem));
        Ok(files)
    }
}

fn add_dir(files: &mut Vec<SourceFile>, dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let io = |source| Error::Io {
        context: format!("reading {}", dir.display()),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let sql = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            context: format!("reading {}", path.display()),
            source,
        })?;
        // A view file overrides by its name without the order prefix too, so that
        // `views/message_delivery.sql` replaces the embedded `010_message_delivery.sql`.
        let bare = view_name(&stem).to_string();
        files.retain(|f| f.stem != stem && view_name(&f.stem) != bare);
        files.push(SourceFile {
            origin: path.display().to_string(),
            stem,
            sql,
        });
    }
    Ok(())
}

/// A view file's object name: its stem without the numeric order prefix (`010_x` → `x`).
pub fn view_name(stem: &str) -> &str {
    match stem.split_once('_') {
        Some((prefix, rest))
            if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) =>
        {
            rest
        }
        _ => stem,
    }
}

/// Creates every view, in order, into the catalog of `ctx`.
///
/// Each file must hold one `CREATE [OR REPLACE] VIEW <name>` whose name is the file's stem
/// without its order prefix; a mismatch or any planning error names the file.
pub async fn create_views(ctx: &SessionContext, views: &[SourceFile]) -> Result<()> {
    for file in views {
        let name = view_name(&file.stem);
        let head = strip_comments(&file.sql).to_ascii_lowercase();
        let head: Vec<&str> = head.split_whitespace().take(6).collect();
        let declared = match head.as_slice() {
            ["create", "view", n, ..] | ["create", "or", "replace", "view", n, ..] => {
                n.trim_matches('"')
            }
            _ => {
                return Err(Error::Config(format!(
                    "{}: a view file must start with CREATE VIEW {name} AS ...",
                    file.origin
                )));
            }
        };
        if declared != name {
            return Err(Error::Config(format!(
                "{}: the file creates view '{declared}' but its name says '{name}'",
                file.origin
            )));
        }
        ctx.sql(&file.sql)
            .await
            .map_err(|e| Error::Config(format!("{}: {}", file.origin, e.strip_backtrace())))?;
    }
    Ok(())
}

/// The SQL text without `--` line comments (string literals are left alone).
pub fn strip_comments(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_string = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\'' {
                in_string = false;
            }
        } else if c == '\'' {
            in_string = true;
            out.push(c);
        } else if c == '-' && chars.peek() == Some(&'-') {
            for c in chars.by_ref() {
                if c == '\n' {
                    out.push('\n');
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
