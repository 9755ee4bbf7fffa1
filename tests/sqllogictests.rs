//! sqllogictest runner: every `tests/slt/**/*.slt` file against the fixture lake.
//!
//! Each file runs twice, with `target_partitions` 1 and 8, so aggregates that merge partial
//! states are checked both ways. Run one file with `cargo test --test sqllogictests -- NAME`.
//! No matching file is a failure, as is any failing file.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

/// A DataFusion error as the runner's error type.
#[derive(Debug)]
struct SqlError(DataFusionError);

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for SqlError {}

/// One sqllogictest connection: a fresh engine session.
struct Session {
    ctx: SessionContext,
}

#[async_trait]
impl AsyncDB for Session {
    type Error = SqlError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SqlError> {
        let df = self.ctx.sql(sql).await.map_err(SqlError)?;
        let schema = df.schema().as_arrow().clone();
        let batches = df.collect().await.map_err(SqlError)?;
        if schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let mut rows = Vec::new();
        for batch in &batches {
            rows.extend(format_batch(batch).map_err(SqlError)?);
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "chatlake"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

fn column_type(data_type: &DataType) -> DefaultColumnType {
    match data_type {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => DefaultColumnType::Integer,
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _) => {
            DefaultColumnType::FloatingPoint
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

/// Cells as text: NULL for nulls, `(empty)` for empty strings, Arrow's display otherwise.
fn format_batch(batch: &RecordBatch) -> Result<Vec<Vec<String>>, DataFusionError> {
    let options = FormatOptions::default().with_null("NULL");
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut cells = Vec::with_capacity(formatters.len());
        for (formatter, column) in formatters.iter().zip(batch.columns()) {
            let text = formatter.value(row).to_string();
            cells.push(if text.is_empty() && !column.is_null(row) {
                "(empty)".to_string()
            } else {
                text
            });
        }
        rows.push(cells);
    }
    Ok(rows)
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    // The checkout being tested: cargo sets CARGO_MANIFEST_DIR when it runs the test too. The
    // compile-time value can name another checkout when several share one target directory
    // (CI's clones do), and then that checkout's .slt files would run.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let root = manifest_dir.join("tests/slt");
    let mut files = Vec::new();
    slt_files(&root, &mut files);
    files.sort();
    files.retain(|f| {
        filter.is_empty()
            || filter
                .iter()
                .any(|p| f.to_string_lossy().contains(p.as_str()))
    });

    // No file at all is a broken run (a moved directory, a filter naming nothing), not a pass.
    if files.is_empty() {
        println!(
            "no .slt file under {} matches {filter:?}: nothing was tested",
            root.display()
        );
        std::process::exit(1);
    }

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let lake = common::fixture_lake_blocking();
    let mut passed = 0;
    let mut failed = Vec::new();
    for file in &files {
        for partitions in [1usize, 8] {
            let name = format!(
                "{} (target_partitions={partitions})",
                file.strip_prefix(&root).unwrap_or(file).display()
            );
            let result = runtime.block_on(run_file(&lake, file, partitions));
            match result {
                Ok(()) => {
                    println!("ok    {name}");
                    passed += 1;
                }
                Err(e) => {
                    println!("FAIL  {name}\n{e}");
                    failed.push(name);
                }
            }
        }
    }
    println!("{passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        std::process::exit(1);
    }
}

async fn run_file(lake: &Path, file: &Path, partitions: usize) -> Result<(), String> {
    let mut config = EngineConfig::new(lake.to_string_lossy().to_string());
    config.target_partitions = Some(partitions);
    let engine = Arc::new(Engine::open(&config).await.map_err(|e| e.to_string())?);
    let mut runner = sqllogictest::Runner::new(move || {
        let engine = engine.clone();
        async move {
            Ok::<_, SqlError>(Session {
                ctx: engine.new_session(),
            })
        }
    });
    runner
        .run_file_async(file)
        .await
        .map_err(|e| e.display(false).to_string())
}
