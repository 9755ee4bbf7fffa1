//! Command-line interface: `serve`, `generate`, `demo`, `sql`, `compact`, `refresh`, `ingest`,
//! `export`, `user`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{DEFAULT_HTTP_LISTEN, DEFAULT_LAKE, DEFAULT_LISTEN, EngineConfig};
use crate::lake::StoreOptions;

/// chatlake: analytics for conversational messaging, as SQL over a Delta lake.
#[derive(Debug, Parser)]
#[command(name = "chatlake", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a lake over the Postgres wire protocol.
    Serve(Box<ServeArgs>),
    /// Write a seeded synthetic lake (every table, realistic and consistent).
    Generate(GenerateArgs),
    /// Generate a demo lake on first run (under data/demo) and serve it on localhost.
    Demo(DemoArgs),
    /// Run one SQL query in-process and print the result as CSV (scripts, tests, benchmarks).
    Sql(SqlArgs),
    /// Rewrite each partition's small data files into few large ones (Delta OPTIMIZE).
    Compact(CompactArgs),
    /// Re-derive the tables derived from the others (derived conversations, message_outcomes),
    /// after writing messages or callbacks by other means than `generate`.
    Refresh(RefreshArgs),
    /// Load files (NDJSON, CSV, Parquet; gzip or zstd compressed) into one lake table:
    /// validated, de-duplicated by the natural key, committed all at once.
    Ingest(IngestArgs),
    /// Export the tables (or a query) as Parquet, NDJSON or CSV files to a directory or S3, for
    /// a warehouse (BigQuery, Snowflake, DuckDB, Spark): day-sharded or Hive layout, a manifest
    /// and schema files, only the changed days on a second run.
    Export(Box<ExportArgs>),
    /// Manage the users of an auth file (`serve --auth-file`): add, remove, list; and the
    /// ingest tokens of its HTTP listener (`user token add/remove/list`).
    User(UserArgs),
}

/// `chatlake user`.
#[derive(Debug, Clone, Args)]
pub struct UserArgs {
    /// What to do with the auth file.
    #[command(subcommand)]
    pub command: UserCommand,
}

/// The `user` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Add a user (or replace one): its password is stored as a SCRAM-SHA-256 verifier only.
    Add(UserAddArgs),
    /// Remove a user (or, under `token`, a token).
    Remove(UserRemoveArgs),
    /// List the users, their tenants and limits.
    List(UserListArgs),
    /// Manage the ingest tokens of the HTTP listener (`serve --ingest-listen`).
    Token(TokenArgs),
}

/// `chatlake user token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// What to do with the tokens.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// The `user token` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Make a token that may write rows of the given tenants: printed once on standard output,
    /// stored only as its SHA-256 (an existing token of the name is replaced).
    Add(TokenAddArgs),
    /// Remove a token: requests sending it get 401 from then on.
    Remove(UserRemoveArgs),
    /// List the tokens and their tenants (never the tokens themselves).
    List(UserListArgs),
}

/// `chatlake user token add`.
#[derive(Debug, Clone, Args)]
pub struct TokenAddArgs {
    /// The token's name, for the operator (e.g. the platform or service that sends with it).
    pub name: String,
    /// The auth file (created when missing).
    #[arg(long, env = "CHATLAKE_AUTH_FILE", value_name = "FILE")]
    pub auth_file: PathBuf,
    /// A tenant whose rows the token may write (repeatable).
    #[arg(long = "tenant", value_name = "TENANT")]
    pub tenants: Vec<String>,
    /// The token may write rows of every tenant.
    #[arg(long, conflicts_with = "tenants")]
    pub all_tenants: bool,
}

/// `chatlake user add`.
#[derive(Debug, Clone, Args)]
pub struct UserAddArgs {
    /// The user name clients log in with.
    pub name: String,
    /// The auth file (created when missing).
    #[arg(long, env = "CHATLAKE_AUTH_FILE", value_name = "FILE")]
    pub auth_file: PathBuf,
    /// A tenant whose rows the user may see (repeatable).
    #[arg(long = "tenant", value_name = "TENANT")]
    pub tenants: Vec<String>,
    /// The user may see every tenant.
    #[arg(long, conflicts_with = "tenants")]
    pub all_tenants: bool,
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// Connections the user may have open at once (more get SQLSTATE 53300).
    #[arg(long, value_name = "N")]
    pub connection_limit: Option<u32>,
    /// The user's default statement_timeout (e.g. 30s, 5min).
    #[arg(long, value_name = "DURATION")]
    pub statement_timeout: Option<String>,
    /// Memory one query of the user may hold (e.g. 512MiB; more gets SQLSTATE 53200), taken
    /// from the server's pool (--memory-limit-mb).
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
}

/// `chatlake user remove` and `chatlake user token remove`.
#[derive(Debug, Clone, Args)]
pub struct UserRemoveArgs {
    /// The user (or token) to remove.
    pub name: String,
    /// The auth file.
    #[arg(long, env = "CHATLAKE_AUTH_FILE", value_name = "FILE")]
    pub auth_file: PathBuf,
}

/// `chatlake user list` and `chatlake user token list`.
#[derive(Debug, Clone, Args)]
pub struct UserListArgs {
    /// The auth file.
    #[arg(long, env = "CHATLAKE_AUTH_FILE", value_name = "FILE")]
    pub auth_file: PathBuf,
}

/// How `serve` authenticates and encrypts Postgres connections.
#[derive(Debug, Clone, Args)]
pub struct SecurityArgs {
    /// Users and their SCRAM-SHA-256 verifiers (`chatlake user add`); every connection must
    /// log in with a password. Without it, serve accepts any user name on loopback only.
    #[arg(long, env = "CHATLAKE_AUTH_FILE", value_name = "FILE")]
    pub auth_file: Option<PathBuf>,
    /// TLS certificate chain (PEM); with --tls-key, clients may connect over TLS.
    #[arg(
        long,
        env = "CHATLAKE_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(
        long,
        env = "CHATLAKE_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Refuse connections that do not use TLS (needs --tls-cert and --tls-key).
    #[arg(long, env = "CHATLAKE_REQUIRE_TLS", requires = "tls_cert")]
    pub require_tls: bool,
}

/// `chatlake ingest`.
#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// The lake.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// The table to load (tenants, channels, contacts, messages, message_statuses, ...);
    /// required except with --format whatsapp-webhook or glific, which fill several tables.
    #[arg(long)]
    pub table: Option<String>,
    /// Input format (else from each file's extension; standard input: ndjson);
    /// `whatsapp-webhook`, `messenger-webhook`, `instagram-webhook`: Meta webhook bodies, one
    /// per line; `glific`: a directory of Glific BigQuery export tables (needs --tenant).
    #[arg(long, value_enum)]
    pub format: Option<crate::ingest::import::Format>,
    /// The tenant the rows are for (--format glific: an export is one organisation's).
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Write bad rows here (one JSON object each, with file, line, column, reason and the row)
    /// and load the good ones; without it a bad row fails the whole load.
    #[arg(long, value_name = "FILE")]
    pub reject_file: Option<PathBuf>,
    /// Time zone of timestamps written without an offset (IANA name, e.g. Asia/Kolkata);
    /// without it such a timestamp is a bad row (--format glific: the organisation's zone,
    /// else the tenant's channel's or tenant's `tz`).
    #[arg(long, value_name = "ZONE")]
    pub assume_tz: Option<String>,
    /// Skip input columns the table does not have instead of rejecting the row.
    #[arg(long)]
    pub ignore_unknown: bool,
    /// Input files; none or `-` reads standard input (--format glific: export directories).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Route the bodies of `webhook_unrouted` that a `channels` row now takes, then remove
    /// them from `webhook_unrouted` (no files).
    #[arg(long, conflicts_with_all = ["reparse", "table", "format", "files"])]
    pub replay_unrouted: bool,
    /// Re-derive the rows of the `webhook_bodies` of days --from..--to (UTC) through the
    /// current parser and channels (no files).
    #[arg(long, requires = "from", conflicts_with_all = ["table", "format", "files"])]
    pub reparse: bool,
    /// First day (YYYY-MM-DD, UTC) of --reparse.
    #[arg(long, value_name = "DATE", requires = "reparse")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day (YYYY-MM-DD, UTC, inclusive) of --reparse; default: --from.
    #[arg(long, value_name = "DATE", requires = "reparse")]
    pub to: Option<chrono::NaiveDate>,
}

/// `chatlake export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The lake (and how to reach S3: the same options serve an s3:// destination).
    #[command(flatten)]
    pub lake: LakeArgs,
    /// The engine (parallelism, memory limit, SQL files for --query).
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Where to write: a directory (path, file://) or s3://bucket/prefix; with --query, a file.
    #[arg(long, value_name = "URL")]
    pub dest: String,
    /// Tables to export, comma-separated (default: every table of the lake but the webhook
    /// bodies and the derived message_outcomes).
    #[arg(long, value_delimiter = ',', value_name = "T,...")]
    pub tables: Vec<String>,
    /// Export only this tenant's rows (repeatable): one customer's data for that customer.
    #[arg(long = "tenant", value_name = "TENANT")]
    pub tenants: Vec<String>,
    /// First day (UTC, YYYY-MM-DD) of the fact tables to export.
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day (UTC, YYYY-MM-DD) of the fact tables to export.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// File format (default parquet; with --query, from the file's extension).
    #[arg(long, value_enum)]
    pub format: Option<crate::export::format::FileFormat>,
    /// Compression (default: zstd for parquet, gzip for ndjson and csv).
    #[arg(long, value_enum)]
    pub compression: Option<crate::export::format::Compression>,
    /// File layout: daily = <table>_YYYYMMDD files (BigQuery date-sharded tables), hive =
    /// <table>/dt=YYYY-MM-DD/ directories.
    #[arg(long, value_enum, default_value = "daily")]
    pub layout: crate::export::layout::Layout,
    /// Export every day again, whatever the destination's manifest says.
    #[arg(long)]
    pub full: bool,
    /// A day's file is closed at this size and the day continues in a numbered part (bytes, or
    /// with KiB/MiB/GiB).
    #[arg(long, default_value = "1GiB", value_parser = crate::config::parse_size)]
    pub max_file_size: u64,
    /// Export the rows of this query (a report call, a view, any SELECT) into the one file
    /// --dest names, instead of tables.
    #[arg(long, value_name = "SQL", conflicts_with_all = ["tables", "from", "to", "full"])]
    pub query: Option<String>,
}

/// Where the lake is and how to reach it.
#[derive(Debug, Clone, Args)]
pub struct LakeArgs {
    /// Lake root: a path, file:///abs/path, s3://bucket/prefix or memory://.
    #[arg(long, env = "CHATLAKE_LAKE", default_value = DEFAULT_LAKE)]
    pub lake: String,
    /// S3 endpoint URL for S3-compatible stores (else AWS_ENDPOINT_URL).
    #[arg(long, env = "CHATLAKE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region (else AWS_REGION, else us-east-1).
    #[arg(long, env = "CHATLAKE_S3_REGION")]
    pub s3_region: Option<String>,
    /// S3 access key id (else AWS_ACCESS_KEY_ID).
    #[arg(long, env = "CHATLAKE_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key (else AWS_SECRET_ACCESS_KEY).
    #[arg(long, env = "CHATLAKE_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// Allow plain http:// S3 endpoints (implied by an http:// endpoint).
    #[arg(long, env = "CHATLAKE_S3_ALLOW_HTTP")]
    pub s3_allow_http: bool,
}

impl LakeArgs {
    /// The S3 options given on the command line.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
            allow_http: self.s3_allow_http,
        }
    }
}

/// Options of the query engine.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Parallelism of a query (default: number of cores).
    #[arg(long, env = "CHATLAKE_TARGET_PARTITIONS")]
    pub target_partitions: Option<usize>,
    /// Memory limit for query execution in MiB; 0 or `unlimited` for none. Default: half the
    /// memory of the machine (or container) for `serve` and `demo`, none otherwise. Past it
    /// sorts and aggregations spill to disk; what cannot spill fails with SQLSTATE 53200.
    #[arg(long, env = "CHATLAKE_MEMORY_LIMIT_MB", value_parser = crate::config::parse_memory_limit)]
    pub memory_limit_mb: Option<crate::config::MemoryLimit>,
    /// Directory with views/ and reports/ .sql files that add to or override the built-in ones.
    #[arg(long, env = "CHATLAKE_SQL_DIR")]
    pub sql_dir: Option<PathBuf>,
}

impl EngineArgs {
    /// The engine configuration for `lake`.
    pub fn engine_config(&self, lake: &LakeArgs) -> EngineConfig {
        self.config_for(lake.lake.clone(), lake.store_options())
    }

    /// The engine configuration for the lake at `lake`, reached with `store`.
    pub fn config_for(&self, lake: String, store: StoreOptions) -> EngineConfig {
        EngineConfig {
            lake,
            store,
            target_partitions: self.target_partitions,
            memory_limit: self
                .memory_limit_mb
                .and_then(crate::config::MemoryLimit::bytes),
            max_concurrent_queries: None,
            result_cache_bytes: 0,
            sql_dir: self.sql_dir.clone(),
        }
    }
}

/// How many statements a server executes at once.
#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    /// Statements (of all connections and users) executing at once; the rest wait in a queue
    /// that takes turns between tenants and users (see them with `SELECT * FROM
    /// chatlake_activity()`). Default: the number of cores, at most one per 256 MiB of the
    /// memory limit.
    #[arg(long, env = "CHATLAKE_MAX_CONCURRENT_QUERIES",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_queries: Option<u32>,
}

/// `chatlake serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The lake.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// The engine.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// The query slots.
    #[command(flatten)]
    pub queue: QueueArgs,
    /// Address to listen on.
    #[arg(long, env = "CHATLAKE_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Passwords and TLS.
    #[command(flatten)]
    pub security: SecurityArgs,
    /// The HTTP ingest listener (off unless --ingest-listen is given).
    #[command(flatten)]
    pub ingest: IngestListenArgs,
    /// Address of the web console and its query API (dashboards, SQL playground,
    /// POST /v1/query); off unless given. Without --auth-file only a loopback address is allowed.
    #[arg(long, env = "CHATLAKE_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// Memory for cached query answers in MiB, shared by all clients (0: no result cache and
    /// no shared work). An answer larger than a quarter of it is not cached.
    #[arg(long, env = "CHATLAKE_RESULT_CACHE_MB",
          default_value_t = crate::engine::result_cache::DEFAULT_MB)]
    pub result_cache_mb: usize,
}

/// `serve`'s HTTP ingest listener: `POST /v1/ingest/{table}` into a write-ahead log.
#[derive(Debug, Clone, Args)]
pub struct IngestListenArgs {
    /// Address of the HTTP ingest listener (POST /v1/ingest/{table}, GET /healthz).
    #[arg(long, env = "CHATLAKE_INGEST_LISTEN")]
    pub ingest_listen: Option<SocketAddr>,
    /// Directory of the ingest write-ahead log (one server per directory).
    #[arg(long, env = "CHATLAKE_WAL_DIR")]
    pub wal_dir: Option<PathBuf>,
    /// Bearer token of the ingest API for rows of every tenant (better set in the environment
    /// than on the line); with --auth-file, per-tenant tokens (`chatlake user token add`) work
    /// too, and this one may be left out.
    #[arg(long, env = "CHATLAKE_INGEST_TOKEN", hide_env_values = true)]
    pub ingest_token: Option<String>,
    /// Largest request body of the ingest API (bytes, or with KiB/MiB/GiB); larger gets 413.
    #[arg(long, env = "CHATLAKE_INGEST_MAX_BODY", default_value = "16MiB",
          value_parser = crate::config::parse_size)]
    pub ingest_max_body: u64,
    /// Bound of the write-ahead log's backlog in MiB; past it the ingest API answers 503.
    #[arg(long, env = "CHATLAKE_WAL_MAX_MB", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub wal_max_mb: u64,
    /// Commit the write-ahead log to the lake at least this often (milliseconds).
    #[arg(long, env = "CHATLAKE_FLUSH_INTERVAL_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub flush_interval_ms: u64,
    /// ... or as soon as this many rows wait.
    #[arg(long, env = "CHATLAKE_FLUSH_ROWS", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub flush_rows: u64,
    /// Seconds between two rounds of live-lake maintenance while ingesting: compaction of the
    /// partitions that collected many small files, then a vacuum (0: never).
    #[arg(long, env = "CHATLAKE_COMPACT_EVERY", default_value_t = 600)]
    pub compact_every: u64,
    /// Verify token of the Meta app's webhook (GET /webhooks/whatsapp handshake).
    #[arg(long, env = "CHATLAKE_WEBHOOK_VERIFY_TOKEN", hide_env_values = true)]
    pub webhook_verify_token: Option<String>,
    /// Meta app secret: POST /webhooks/whatsapp bodies must carry its X-Hub-Signature-256.
    #[arg(long, env = "CHATLAKE_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Seconds a file removed by compaction stays on storage before the vacuum deletes it:
    /// longer than the longest query, which may still be reading it.
    #[arg(long, env = "CHATLAKE_VACUUM_RETENTION", default_value_t = 3600)]
    pub vacuum_retention: u64,
}

impl IngestListenArgs {
    /// The live-lake maintenance schedule, `None` when turned off.
    pub fn maintenance(&self) -> Option<crate::ingest::maintenance::Maintenance> {
        (self.compact_every > 0).then(|| crate::ingest::maintenance::Maintenance {
            every: std::time::Duration::from_secs(self.compact_every),
            retention: std::time::Duration::from_secs(self.vacuum_retention),
            ..Default::default()
        })
    }

    /// The listener's configuration, `None` when --ingest-listen is not given.
    pub fn config(&self) -> crate::error::Result<Option<crate::ingest::http::IngestConfig>> {
        use crate::ingest::http::{BODY_TIMEOUT, IngestConfig};
        let Some(listen) = self.ingest_listen else {
            return Ok(None);
        };
        let err = |m: &str| crate::error::Error::Config(m.into());
        let dir = self
            .wal_dir
            .clone()
            .ok_or_else(|| err("--ingest-listen needs --wal-dir"))?;
        // The auth file's per-tenant tokens join in `serve` (crate::app), which has the file.
        let auth = crate::ingest::tokens::IngestAuth {
            shared: self
                .ingest_token
                .clone()
                .filter(|t| !t.is_empty())
                .map(String::into_bytes),
            file: None,
        };
        let mut wal = crate::ingest::wal::WalOptions::new(dir);
        wal.max_backlog_bytes = self.wal_max_mb.saturating_mul(1 << 20);
        wal.notify_rows = self.flush_rows;
        Ok(Some(IngestConfig {
            listen,
            wal,
            auth,
            max_body: self.ingest_max_body,
            flush: crate::ingest::flusher::FlushOptions {
                interval: std::time::Duration::from_millis(self.flush_interval_ms),
            },
            body_timeout: BODY_TIMEOUT,
            webhooks: crate::ingest::whatsapp::receiver::WebhookSecrets {
                verify_token: self.webhook_verify_token.clone().filter(|t| !t.is_empty()),
                app_secret: self.webhook_secret.clone().filter(|t| !t.is_empty()),
            },
        }))
    }
}

/// `chatlake generate`.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// The lake to write (tables are created if missing; data is appended).
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Number of tenants.
    #[arg(long, default_value_t = 4)]
    pub tenants: usize,
    /// Number of contacts, across all tenants.
    #[arg(long, default_value_t = 20_000)]
    pub contacts: usize,
    /// Number of days of activity, ending at --end-date.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Last day generated (UTC), YYYY-MM-DD.
    #[arg(long, default_value = "2026-10-31")]
    pub end_date: chrono::NaiveDate,
    /// Scale activity to produce about this many messages.
    #[arg(long)]
    pub messages: Option<u64>,
    /// Random seed: the same seed gives the same rows.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Leave the files as written (one per partition per flush) instead of compacting at the end.
    #[arg(long)]
    pub no_compact: bool,
    /// Round every instant down to the whole second (Meta's webhook timestamps are seconds):
    /// the lake that --as-webhooks with the same flags describes.
    #[arg(long)]
    pub whole_seconds: bool,
    /// Instead of writing the lake, write the world (in whole seconds) under DIR as WhatsApp
    /// webhook bodies (DIR/whatsapp/bodies.ndjson, one per line) and the rows no webhook
    /// carries (DIR/rows/<table>.ndjson); see src/generate/webhooks.rs.
    #[arg(long, value_name = "DIR")]
    pub as_webhooks: Option<std::path::PathBuf>,
}

/// `chatlake refresh`.
#[derive(Debug, Clone, Args)]
pub struct RefreshArgs {
    /// The lake.
    #[command(flatten)]
    pub lake: LakeArgs,
}

/// `chatlake compact`.
#[derive(Debug, Clone, Args)]
pub struct CompactArgs {
    /// The lake.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// A table to compact (repeatable); every lake table when none is given.
    #[arg(long = "table", value_name = "NAME")]
    pub tables: Vec<String>,
    /// Then delete the data files that commits removed (this compaction's and earlier ones), at
    /// once: a zero-retention VACUUM, for a lake no one else is reading (time travel to older
    /// versions stops working).
    #[arg(long)]
    pub vacuum: bool,
    /// Size of the compacted files, in MiB.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
    pub target_size_mb: u64,
}

/// `chatlake demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Where the demo lake lives (generated on first run).
    #[arg(long, default_value = "data/demo")]
    pub dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "CHATLAKE_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Throw away the demo lake and generate it again.
    #[arg(long)]
    pub regenerate: bool,
    /// Address of the web console (dashboards, SQL playground, query API); loopback only.
    #[arg(long, env = "CHATLAKE_HTTP_LISTEN", default_value = DEFAULT_HTTP_LISTEN)]
    pub http_listen: SocketAddr,
    /// Engine options (parallelism, memory limit, SQL files), as for `serve`.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// The query slots, as for `serve`.
    #[command(flatten)]
    pub queue: QueueArgs,
}

/// `chatlake sql`.
#[derive(Debug, Clone, Args)]
pub struct SqlArgs {
    /// A lake to query; without it only the tables given with --parquet exist.
    #[arg(long)]
    pub lake: Option<String>,
    /// Register a Parquet file (or directory of files) as a table: NAME=PATH. Repeatable.
    #[arg(long = "parquet", value_name = "NAME=PATH")]
    pub parquet: Vec<String>,
    /// Engine options (parallelism, memory limit, SQL files), as for `serve`.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Run the query this many times and print the fastest run time to stderr.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Print the run time to stderr (with --repeat, every run's time, then the fastest).
    #[arg(long)]
    pub timing: bool,
    /// The SQL query.
    pub query: String,
}
