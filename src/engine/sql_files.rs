//! Views and report functions written as plain `.sql` files (`sql/views`, `sql/reports`).
//!
//! This is the hook where the SQL extension point plugs in: views are `CREATE VIEW` files
//! loaded in file-name order into the shared catalog; a file that fails names itself in the
//! start-up error. Report table functions arrive with the reports issue.

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

/// The view files compiled into the binary, in load order (none yet).
pub const EMBEDDED_VIEWS: &[SqlFile] = &[];

/// Creates every view: the embedded ones, then those of `sql_dir/views` (which override
/// embedded files of the same name).
pub async fn register(ctx: &SessionContext, sql_dir: Option<&Path>) -> Result<()> {
    let mut files: Vec<(String, String)> = EMBEDDED_VIEWS
        .iter()
        .map(|f| (f.path.to_string(), f.sql.to_string()))
        .collect();
    if let Some(dir) = sql_dir {
        let views = dir.join("views");
        if views.is_dir() {
            let entries = std::fs::read_dir(&views).map_err(|source| Error::Io {
                context: format!("reading {}", views.display()),
                source,
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|source| Error::Io {
                        context: format!("reading {}", views.display()),
                        source,
                    })?
                    .path();
                if path.extension().is_some_and(|e| e == "sql") {
                    let name = format!(
                        "views/{}",
                        path.file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default()
                    );
                    let sql = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                        context: format!("reading {}", path.display()),
                        source,
                    })?;
                    files.retain(|(existing, _)| existing != &name);
                    files.push((name, sql));
                }
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, sql) in files {
        ctx.sql(&sql)
            .await
            .map_err(|e| Error::Config(format!("sql/{path}: {e}")))?;
    }
    Ok(())
}
