//! Shared test fixtures: a small deterministic lake written by the generator.
//!
//! Each test binary generates its own copy once (under cargo's per-target temporary
//! directory), so fixtures never go stale when the generator changes and binaries running
//! side by side never share a half-written lake.

#![allow(dead_code)]

pub mod cli;
pub mod counting_store;
pub mod moto;
pub mod pg;
pub mod serve;

use std::path::PathBuf;
use std::sync::OnceLock;

use chatlake::generate::{GenerateConfig, generate};
use chatlake::lake::{Lake, LakeWriter, StoreOptions};

/// The generator settings of the fixture lake.
pub fn fixture_config() -> GenerateConfig {
    GenerateConfig {
        tenants: 3,
        contacts: 3_000,
        days: 45,
        seed: 7,
        end_date: chrono::NaiveDate::from_ymd_opt(2026, 10, 31).expect("valid date"),
        messages_target: None,
        whole_seconds: false,
    }
}

/// Writes the fixture lake described by `cfg` at `lake_url` (any lake URL).
pub async fn write_lake(lake_url: &str, options: &StoreOptions, cfg: &GenerateConfig) {
    let lake = Lake::open(lake_url, options).expect("open lake");
    let mut writer = LakeWriter::new(lake);
    writer.create_missing_tables().await.expect("create tables");
    generate(&mut writer, cfg).await.expect("generate");
    writer.flush().await.expect("flush");
    chatlake::engine::derived::refresh(&mut writer)
        .await
        .expect("derive");
}

static FIXTURE: OnceLock<PathBuf> = OnceLock::new();

/// Path of this test binary's fixture lake, generated on first use.
pub async fn fixture_lake() -> PathBuf {
    // Generation runs on its own thread and runtime so that any number of tests (each with
    // its own runtime) can wait for the one copy.
    tokio::task::spawn_blocking(fixture_lake_blocking)
        .await
        .expect("fixture thread")
}

/// Blocking form of [`fixture_lake`].
pub fn fixture_lake_blocking() -> PathBuf {
    FIXTURE
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test binary path");
            let name = exe
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "tests".into());
            let dir =
                PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fixture-lake-{name}"));
            if dir.exists() {
                std::fs::remove_dir_all(&dir).expect("remove old fixture");
            }
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let url = dir.to_string_lossy().to_string();
            runtime.block_on(write_lake(
                &url,
                &StoreOptions::default(),
                &fixture_config(),
            ));
            dir
        })
        .clone()
}

/// The batches of `sql`'s answer; a failure names the query.
pub async fn collect(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
) -> Vec<datafusion::arrow::array::RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The row count of every lake table over the lake `config` names, in the schema's order.
pub async fn table_counts(config: &chatlake::config::EngineConfig) -> Vec<(&'static str, i64)> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;
    let engine = chatlake::engine::Engine::open(config)
        .await
        .expect("open engine");
    let ctx = engine.new_session();
    let mut out = Vec::new();
    for def in chatlake::lake::schema::tables() {
        let batches = collect(&ctx, &format!("SELECT count(*) FROM {}", def.name)).await;
        out.push((
            def.name,
            batches[0].column(0).as_primitive::<Int64Type>().value(0),
        ));
    }
    out
}

/// `psql -X ARGS -v ON_ERROR_STOP=1` as `user` on `127.0.0.1:port`, database `chatlake`,
/// running `sql`: (success, stdout, stderr).
pub async fn psql(port: u16, user: &str, args: &[&str], sql: &str) -> (bool, String, String) {
    let port = port.to_string();
    let mut command = std::process::Command::new("psql");
    command
        .arg("-X")
        .args(args)
        .args(["-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", &port])
        .args(["-U", user, "-d", "chatlake", "-c", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSWORD")
        .env_remove("PGSERVICE");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("psql task")
        .expect("psql must be installed (Debian: apt-get install postgresql-client)");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The text rows of a simple query (`None` for NULL); panics naming the query if it fails.
pub async fn simple_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .into_iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}
