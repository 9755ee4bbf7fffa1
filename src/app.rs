//! What each subcommand does, with the process concerns (signals, summaries) kept out of `main`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::auth::{AuthStore, Security, Tls};
use crate::cli::{
    Command, CompactArgs, DemoArgs, ExportArgs, GenerateArgs, IngestArgs, RefreshArgs,
    SecurityArgs, ServeArgs, SqlArgs,
};
use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::engine::derived::{Refreshed, refresh};
use crate::error::{Error, Result};
use crate::generate::{
    GenerateConfig, GenerateSummary, WebhooksSummary, generate, generate_webhooks,
};
use crate::lake::compact;
use crate::lake::schema::TableDef;
use crate::lake::{Lake, LakeWriter, StoreOptions};

/// Marker file written when a demo lake is complete; its absence means "generate again".
const DEMO_MARKER: &str = ".chatlake-demo-complete";

/// Runs one subcommand to completion.
pub async fn run(command: Command) -> Result<()> {
    match command {
        Command::Serve(args) => serve(*args).await,
        Command::Generate(args) => generate_lake(args).await.map(|_| ()),
        Command::Demo(args) => demo(args).await,
        Command::Sql(args) => sql(args).await,
        Command::Compact(args) => compact_lake(args).await,
        Command::Refresh(args) => refresh_lake(args).await,
        Command::Ingest(args) => ingest_files(args).await,
        Command::Export(args) => export(*args).await,
        Command::User(args) => crate::auth::users::run(args.command),
    }
}

/// `chatlake export`: tables (or a query) into files, then the summary lines.
async fn export(args: ExportArgs) -> Result<()> {
    use crate::engine::tenant::TenantScope;
    use crate::export::{ExportRequest, format::Encoding, plan::DayRange, progress, query};
    use std::io::IsTerminal;
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(Error::Config(format!("--from {from} is after --to {to}")));
    }
    let engine = Engine::open(&args.engine.engine_config(&args.lake)).await?;
    let store = args.lake.store_options();
    if let Some(sql) = &args.query {
        let scope = if args.tenants.is_empty() {
            TenantScope::All
        } else {
            TenantScope::only(args.tenants.iter().cloned())
        };
        let s = query::export_query(
            &engine,
            sql,
            &args.dest,
            &store,
            args.format,
            args.compression,
            scope,
        )
        .await?;
        let secs = s.elapsed.as_secs_f64().max(1e-9);
        eprintln!(
            "exported {} rows to {} in {secs:.1}s: {} bytes, sha256 {} ({:.0} rows/s)",
            s.rows,
            s.url,
            s.written.bytes,
            s.written.sha256,
            s.rows as f64 / secs
        );
        return Ok(());
    }
    let request = ExportRequest {
        dest: args.dest.clone(),
        store,
        tables: args.tables.clone(),
        tenants: args.tenants.clone(),
        range: DayRange {
            from: args.from,
            to: args.to,
        },
        encoding: Encoding::new(
            args.format
                .unwrap_or(crate::export::format::FileFormat::Parquet),
            args.compression,
        )?,
        layout: args.layout,
        max_file_bytes: args.max_file_size,
        full: args.full,
        progress: std::io::stderr().is_terminal(),
    };
    let summary = crate::export::export(&engine, &request).await?;
    for line in progress::summary_lines(&summary) {
        eprintln!("{line}");
    }
    Ok(())
}

/// `chatlake ingest`: files into one table, then the summary line.
async fn ingest_files(args: IngestArgs) -> Result<()> {
    use std::io::IsTerminal;
    let assume_tz = match &args.assume_tz {
        Some(zone) => Some(zone.parse::<chrono_tz::Tz>().map_err(|_| {
            Error::Config(format!(
                "--assume-tz: '{zone}' is not an IANA time zone (e.g. Asia/Kolkata)"
            ))
        })?),
        None => None,
    };
    let glific = args.format == Some(crate::ingest::import::Format::Glific);
    if args.tenant.is_some() && !glific {
        // Webhook bodies are routed by their channel, other rows name their tenant: a tenant
        // given here would be silently ignored.
        return Err(Error::Config(
            "--tenant applies to --format glific only (other rows name their tenant)".into(),
        ));
    }
    if args.replay_unrouted || args.reparse {
        return rederive_bodies(args).await;
    }
    if let Some(platform) = args.format.and_then(|f| f.webhook_platform()) {
        return ingest_webhooks(args, platform).await;
    }
    if glific {
        return ingest_glific(args, assume_tz).await;
    }
    let Some(table) = args.table.clone() else {
        return Err(Error::Config(
            "--table is required (the table the rows are for), except with --format whatsapp-webhook, messenger-webhook, instagram-webhook or glific"
                .into(),
        ));
    };
    let lake = Lake::open(&args.lake.lake, &args.lake.store_options())?;
    let root = lake.root().to_string();
    let files = args.files.len();
    let request = crate::ingest::import::ImportRequest {
        table,
        files: args.files,
        format: args.format,
        reject_file: args.reject_file.clone(),
        options: crate::ingest::decode::DecodeOptions {
            assume_tz,
            ignore_unknown: args.ignore_unknown,
        },
        progress: std::io::stderr().is_terminal(),
    };
    let s = crate::ingest::import::import(lake, request).await?;
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let rejected = match &args.reject_file {
        Some(path) if s.rejected > 0 => format!("{} rejected (in {})", s.rejected, path.display()),
        _ => format!("{} rejected", s.rejected),
    };
    let refreshed = if s.contacts_refreshed > 0 {
        format!(
            "; derived rows refreshed for {} contacts in {:.1}s",
            s.contacts_refreshed,
            s.refresh_elapsed.as_secs_f64()
        )
    } else {
        String::new()
    };
    eprintln!(
        "ingested {} into {} of {root} in {secs:.1}s: {} rows read, {} written, {rejected}, {} duplicates dropped ({:.0} rows/s){refreshed}",
        if files <= 1 {
            "1 input".to_string()
        } else {
            format!("{files} files")
        },
        s.table,
        s.rows_read,
        s.written,
        s.duplicates,
        s.rows_read as f64 / secs,
    );
    Ok(())
}

/// `chatlake ingest --format glific --tenant T DIR`: a Glific export into every table it
/// feeds, then the summary lines.
async fn ingest_glific(args: IngestArgs, assume_tz: Option<chrono_tz::Tz>) -> Result<()> {
    use std::io::IsTerminal;
    if let Some(table) = &args.table {
        return Err(Error::Config(format!(
            "--format glific writes several tables (contacts, contact_events, messages, message_statuses, conversations, flow_events, analytics_events): leave out --table {table}"
        )));
    }
    let Some(tenant) = args.tenant.clone() else {
        return Err(Error::Config(
            "--format glific needs --tenant TENANT (an export is one organisation's)".into(),
        ));
    };
    let lake = Lake::open(&args.lake.lake, &args.lake.store_options())?;
    let root = lake.root().to_string();
    let request = crate::ingest::glific::import::GlificImport {
        paths: args.files,
        tenant,
        assume_tz,
        reject_file: args.reject_file.clone(),
        progress: std::io::stderr().is_terminal(),
    };
    let s = crate::ingest::glific::import::import(lake, request).await?;
    for line in s.ignored.iter().chain(&s.notes) {
        eprintln!("note: {line}");
    }
    let rejected = match &args.reject_file {
        Some(path) if s.rejected > 0 => format!("{} rejected (in {})", s.rejected, path.display()),
        _ => format!("{} rejected", s.rejected),
    };
    let read: Vec<String> = s
        .rows_read
        .iter()
        .map(|(table, n)| format!("{table} {n}"))
        .collect();
    eprintln!(
        "ingested a Glific export into {root}, channel {} (times read in {}), in {:.1}s: rows read: {}; {rejected}, {} older versions dropped",
        s.channel_id,
        s.zone,
        s.elapsed.as_secs_f64(),
        read.join(", "),
        s.superseded,
    );
    let tables: Vec<String> = s
        .tables
        .iter()
        .map(|(name, c)| format!("{name} +{} ({} duplicates)", c.written, c.duplicates))
        .collect();
    eprintln!(
        "  {}",
        if tables.is_empty() {
            "no rows".to_string()
        } else {
            tables.join(", ")
        }
    );
    if s.contacts_refreshed > 0 {
        eprintln!(
            "  derived rows refreshed for {} contacts",
            s.contacts_refreshed
        );
    }
    Ok(())
}

/// `chatlake ingest --format whatsapp-webhook|messenger-webhook|instagram-webhook`: bodies
/// into every table they feed, then the summary lines.
async fn ingest_webhooks(
    args: IngestArgs,
    platform: crate::ingest::webhook::Platform,
) -> Result<()> {
    use std::io::IsTerminal;
    if let Some(table) = &args.table {
        return Err(Error::Config(format!(
            "--format {}-webhook writes several tables (messages, message_statuses, conversations, contacts, comments, webhook_bodies, webhook_unrouted): leave out --table {table}",
            platform.name()
        )));
    }
    if args.assume_tz.is_some() || args.ignore_unknown {
        return Err(Error::Config(
            "--assume-tz and --ignore-unknown do not apply to webhook bodies (their times are epoch seconds; unknown members are always ignored)".into(),
        ));
    }
    let lake = Lake::open(&args.lake.lake, &args.lake.store_options())?;
    let root = lake.root().to_string();
    let request = crate::ingest::whatsapp::import::WebhookImport {
        platform,
        files: args.files,
        reject_file: args.reject_file.clone(),
        progress: std::io::stderr().is_terminal(),
    };
    let s = crate::ingest::whatsapp::import::import(lake, request).await?;
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    for note in &s.skipped_listed {
        eprintln!("skipped: {note}");
    }
    if s.skipped > s.skipped_listed.len() as u64 {
        eprintln!(
            "skipped: ... and {} more",
            s.skipped - s.skipped_listed.len() as u64
        );
    }
    let rejected = match &args.reject_file {
        Some(path) if s.rejected > 0 => format!("{} bad lines (in {})", s.rejected, path.display()),
        _ => format!("{} bad lines", s.rejected),
    };
    eprintln!(
        "ingested {} {} webhook bodies into {root} in {secs:.1}s ({:.0} bodies/s): {rejected}, {} unrouted (kept in webhook_unrouted), {} events skipped",
        s.bodies,
        platform.display(),
        s.bodies as f64 / secs,
        s.unrouted,
        s.skipped,
    );
    eprintln!("  {}", table_counts(&s.tables));
    if s.contacts_refreshed > 0 {
        eprintln!(
            "  derived rows refreshed for {} contacts ({:.1}s)",
            s.contacts_refreshed,
            s.refreshing.as_secs_f64()
        );
    }
    eprintln!(
        "  parsing and decoding the bodies took {:.1}s",
        s.parsing.as_secs_f64()
    );
    Ok(())
}

/// `TABLE +written (N duplicates), ...` of a webhook load, or `no rows`.
fn table_counts(
    tables: &std::collections::BTreeMap<&'static str, crate::ingest::whatsapp::import::TableCount>,
) -> String {
    if tables.is_empty() {
        return "no rows".to_string();
    }
    tables
        .iter()
        .map(|(name, c)| format!("{name} +{} ({} duplicates)", c.written, c.duplicates))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `chatlake ingest --replay-unrouted` and `--reparse`: stored bodies through the current
/// channels and parser ([`crate::ingest::rederive`]), then the summary lines.
async fn rederive_bodies(args: IngestArgs) -> Result<()> {
    let lake = Lake::open(&args.lake.lake, &args.lake.store_options())?;
    let root = lake.root().to_string();
    let s = if args.replay_unrouted {
        crate::ingest::rederive::replay_unrouted(lake).await?
    } else {
        let from = args
            .from
            .ok_or_else(|| Error::Config("--reparse needs --from DATE".into()))?;
        crate::ingest::rederive::reparse(lake, from, args.to.unwrap_or(from)).await?
    };
    for note in &s.skipped_listed {
        eprintln!("skipped: {note}");
    }
    eprintln!(
        "{} {} webhook bodies of {root} in {:.1}s: {} events skipped",
        if args.replay_unrouted {
            "replayed"
        } else {
            "re-derived"
        },
        s.bodies,
        s.elapsed.as_secs_f64(),
        s.skipped,
    );
    eprintln!("  {}", table_counts(&s.tables));
    if args.replay_unrouted {
        eprintln!(
            "  webhook_unrouted: {} rows removed (now routed), {} left (no channel takes them yet)",
            s.unrouted_removed, s.unrouted_left
        );
    }
    if s.contacts_refreshed > 0 {
        eprintln!(
            "  derived rows refreshed for {} contacts",
            s.contacts_refreshed
        );
    }
    Ok(())
}

/// `chatlake sql`: one query over a lake and/or Parquet files, CSV on stdout.
async fn sql(args: SqlArgs) -> Result<()> {
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

    let ctx = match &args.lake {
        Some(lake) => {
            let mut config = EngineConfig::new(lake.clone());
            config.target_partitions = args.engine.target_partitions;
            config.memory_limit = args
                .engine
                .memory_limit_mb
                .and_then(crate::config::MemoryLimit::bytes);
            config.sql_dir = args.engine.sql_dir.clone();
            Engine::open(&config).await?.new_session()
        }
        None => {
            let mut config = SessionConfig::new().with_information_schema(true);
            if let Some(partitions) = args.engine.target_partitions {
                config = config.with_target_partitions(partitions);
            }
            let mut runtime = RuntimeEnvBuilder::new();
            if let Some(bytes) = args
                .engine
                .memory_limit_mb
                .and_then(crate::config::MemoryLimit::bytes)
            {
                runtime = runtime.with_memory_limit(bytes, 1.0);
            }
            let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
            chatlake_udfs::register_all(&ctx);
            ctx
        }
    };
    for spec in &args.parquet {
        let Some((name, path)) = spec.split_once('=') else {
            return Err(Error::Config(format!(
                "--parquet expects NAME=PATH, got '{spec}'"
            )));
        };
        ctx.register_parquet(name, path, ParquetReadOptions::default())
            .await?;
    }
    let mut best: Option<std::time::Duration> = None;
    let mut batches = Vec::new();
    let runs = args.repeat.max(1);
    for run in 1..=runs {
        let started = Instant::now();
        batches = ctx.sql(&args.query).await?.collect().await?;
        let took = started.elapsed();
        best = Some(best.map_or(took, |b| b.min(took)));
        // Every run's time, so a harness can drop a warm-up run and take a median.
        if args.timing && runs > 1 {
            eprintln!("run {run}: {:.6} s", took.as_secs_f64());
        }
    }
    if let Some(best) = best
        && (args.timing || args.repeat > 1)
    {
        eprintln!("time: {:.3} s", best.as_secs_f64());
    }
    let mut writer = arrow::csv::WriterBuilder::new()
        .with_header(true)
        .build(std::io::stdout().lock());
    for batch in &batches {
        writer.write(batch)?;
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<()> {
    let mut config = args.engine.engine_config(&args.lake);
    let limits = server_limits(&mut config, &args.engine, &args.queue);
    config.result_cache_bytes = args.result_cache_mb.saturating_mul(1024 * 1024);
    let security = security(&args.security, args.listen)?;
    if let Some(http) = args.http_listen
        && security.users.is_none()
    {
        check_loopback(http)?;
    }
    let ingest = match args.ingest.config()? {
        None => None,
        Some(mut ingest) => {
            // Per-tenant ingest tokens live in the same auth file as the users.
            ingest.auth.file = security.users.clone();
            Some((ingest, args.ingest.maintenance()))
        }
    };
    serve_lake(
        &config,
        &limits,
        args.listen,
        security,
        Beside {
            ingest,
            console: args.http_listen,
        },
    )
    .await
}

/// Gives a server's `config` its memory limit and query slots: the ones given, else the
/// defaults of [`crate::engine::limits`]; returns the line that tells them.
fn server_limits(
    config: &mut EngineConfig,
    engine: &crate::cli::EngineArgs,
    queue: &crate::cli::QueueArgs,
) -> String {
    use crate::engine::limits;
    let machine = limits::available_memory();
    let mib = |bytes: u64| bytes >> 20;
    let memory = match engine.memory_limit_mb {
        Some(given) => {
            config.memory_limit = given.bytes();
            match config.memory_limit {
                Some(bytes) => {
                    format!("memory limit {} MiB (--memory-limit-mb)", mib(bytes as u64))
                }
                None => "no memory limit (--memory-limit-mb unlimited)".to_string(),
            }
        }
        None => {
            config.memory_limit = limits::default_memory_limit();
            match (config.memory_limit, machine) {
                (Some(bytes), Some(machine)) => format!(
                    "memory limit {} MiB (half of {} MiB available; --memory-limit-mb to change, 0 for none)",
                    mib(bytes as u64),
                    mib(machine)
                ),
                _ => "no memory limit (the machine's memory could not be read; set --memory-limit-mb)"
                    .to_string(),
            }
        }
    };
    let slots = match queue.max_concurrent_queries {
        Some(given) => given as usize,
        None => limits::default_slots(limits::cores(), config.memory_limit),
    };
    config.max_concurrent_queries = Some(slots);
    format!(
        "{slots} queries at once, the rest queued fairly per tenant and user (--max-concurrent-queries); {memory}"
    )
}

/// What `serve` runs beside pgwire, each off unless given.
#[derive(Default)]
struct Beside {
    /// The HTTP ingest listener and its lake upkeep.
    ingest: Option<(
        crate::ingest::http::IngestConfig,
        Option<crate::ingest::maintenance::Maintenance>,
    )>,
    /// The web console's address.
    console: Option<std::net::SocketAddr>,
}

/// The server's authentication and TLS from the command line. Without an auth file only a
/// loopback address may be listened on: anyone reaching the port could log in.
fn security(args: &SecurityArgs, listen: std::net::SocketAddr) -> Result<Security> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(Tls::load(cert, key)?),
        (None, None) => None,
        _ => {
            return Err(Error::Config("--tls-cert and --tls-key go together".into()));
        }
    };
    if args.require_tls && tls.is_none() {
        return Err(Error::Config(
            "--require-tls needs --tls-cert and --tls-key".into(),
        ));
    }
    let users = match &args.auth_file {
        Some(path) => Some(Arc::new(AuthStore::open(path)?)),
        None => {
            check_loopback(listen)?;
            None
        }
    };
    Ok(Security {
        users,
        tls,
        require_tls: args.require_tls,
    })
}

/// Refuses a non-loopback address for a server without passwords.
fn check_loopback(listen: std::net::SocketAddr) -> Result<()> {
    if listen.ip().is_loopback() {
        return Ok(());
    }
    Err(Error::Config(format!(
        "refusing to listen on {listen} without --auth-file: anyone who reaches it could log in as any user (create users with `chatlake user add NAME --auth-file FILE`, or listen on 127.0.0.1)"
    )))
}

/// Re-reads the auth file on every SIGHUP, for as long as the server runs.
fn reload_on_sighup(security: &Security) {
    #[cfg(unix)]
    if let Some(store) = security.users.clone() {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hangups) => {
                tokio::spawn(async move {
                    while hangups.recv().await.is_some() {
                        store.reload();
                    }
                });
            }
            Err(e) => tracing::warn!("SIGHUP will not reload the auth file: {e}"),
        }
    }
    #[cfg(not(unix))]
    let _ = security;
}

/// The `psql` line to print: with a user of the auth file and TLS when the server has them.
fn psql_line(addr: std::net::SocketAddr, security: &Security) -> String {
    let user = security
        .users
        .as_ref()
        .and_then(|store| store.current().users().next().map(|u| u.name.clone()))
        .unwrap_or_else(|| "chatlake".into());
    let ssl = if security.tls.is_some() {
        " sslmode=require"
    } else {
        ""
    };
    format!(
        "psql \"host={} port={} user={user} dbname=chatlake{ssl}\"",
        addr.ip(),
        addr.port()
    )
}

/// Opens the engine over `config`'s lake and serves it over pgwire, with the ingest listener
/// and the web console when `beside` has them, until Ctrl-C or SIGTERM: one signal stops all
/// (the ingest side finishes its open requests and flushes its write-ahead log). `limits`
/// (from [`server_limits`]) is printed above the banner once the server is ready.
async fn serve_lake(
    config: &EngineConfig,
    limits: &str,
    listen: std::net::SocketAddr,
    security: Security,
    beside: Beside,
) -> Result<()> {
    use crate::ingest::http::IngestServer;
    let started = Instant::now();
    let lake = Lake::open(&config.lake, &config.store)?;
    if beside.ingest.is_some() {
        // Tables the lake lacks (one written before a table existed) are created before the
        // engine opens it, so that the engine reads what ingest writes into them.
        LakeWriter::new(lake.clone())
            .create_missing_tables()
            .await?;
    }
    let engine = Arc::new(Engine::open_lake(lake, config).await?);
    let (listener, addr) = crate::http::listener::bind("Postgres", listen).await?;
    let (ingest, maintenance) = match beside.ingest {
        Some((ingest, maintenance)) => {
            let token_hint = if ingest.auth.shared.is_some() {
                "$CHATLAKE_INGEST_TOKEN"
            } else {
                "$TOKEN (from chatlake user token add)"
            };
            let server = IngestServer::start(ingest, engine.lake().clone()).await?;
            (Some((server, token_hint)), maintenance)
        }
        None => (None, None),
    };
    let console = match beside.console {
        Some(listen) => {
            Some(crate::http::Console::start(listen, engine.clone(), security.users.clone()).await?)
        }
        None => None,
    };
    let ingest_on = ingest
        .as_ref()
        .map(|(server, _)| format!(", ingest on {}", server.local_addr()))
        .unwrap_or_default();
    let console_on = console
        .as_ref()
        .map(|c| format!(", console on {}", c.local_addr()))
        .unwrap_or_default();
    eprintln!("{limits}");
    eprintln!(
        "chatlake {} serving {} on {addr}{ingest_on}{console_on} (ready in {:.1}s; Ctrl-C to stop)",
        env!("CARGO_PKG_VERSION"),
        engine.lake().root(),
        started.elapsed().as_secs_f64()
    );
    if let Some((server, _)) = &ingest {
        let replayed = server.wal().replayed();
        if replayed.records > 0 {
            eprintln!(
                "write-ahead log {}: replayed {} rows in {} segments; flushing them to the lake",
                server.wal().dir().display(),
                replayed.rows,
                replayed.segments
            );
        }
    }
    let psql = if security.users.is_some() {
        psql_line(addr, &security)
    } else {
        format!(
            "psql -h {} -p {} -U chatlake chatlake",
            addr.ip(),
            addr.port()
        )
    };
    println!("connect with:  {psql}");
    if let Some(console) = &console {
        println!("console:       http://{}/", console.local_addr());
    }
    if let Some((server, token_hint)) = &ingest {
        println!(
            "ingest with:   curl -H \"Authorization: Bearer {token_hint}\" --data-binary @rows.ndjson http://{}/v1/ingest/TABLE",
            server.local_addr()
        );
    }
    reload_on_sighup(&security);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let signal = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    let lake = engine.lake().clone();
    let upkeep = async {
        if let Some(config) = maintenance {
            crate::ingest::maintenance::run(lake, config, wait(stopped.clone())).await;
        }
    };
    let ingest = async {
        match ingest {
            Some((server, _)) => server.run(wait(stopped.clone())).await,
            None => Ok(()),
        }
    };
    let console = async {
        if let Some(console) = console {
            console.run(wait(stopped.clone())).await;
        }
    };
    let pg = crate::pg::serve_secure(listener, engine.clone(), security, wait(stopped.clone()));
    let (pg, ingest, (), (), ()) = tokio::join!(pg, ingest, console, signal, upkeep);
    pg?;
    ingest?;
    eprintln!("chatlake stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = ctrl_c => {},
                        _ = term.recv() => {},
                    }
                }
                Err(_) => {
                    let _ = ctrl_c.await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
    }
}

async fn generate_lake(args: GenerateArgs) -> Result<GenerateSummary> {
    let cfg = GenerateConfig {
        tenants: args.tenants,
        contacts: args.contacts,
        days: args.days,
        seed: args.seed,
        end_date: args.end_date,
        messages_target: args.messages,
        whole_seconds: args.whole_seconds,
    };
    if let Some(dir) = &args.as_webhooks {
        let summary = generate_webhooks(&cfg, dir).await?;
        print_webhooks_summary(&summary, dir);
        return Ok(GenerateSummary {
            rows_per_table: summary.rows_per_table,
            elapsed: summary.elapsed,
        });
    }
    let lake = Lake::open(&args.lake.lake, &args.lake.store_options())?;
    write_generated(lake, &cfg, !args.no_compact).await
}

/// The summary lines of `generate --as-webhooks`.
fn print_webhooks_summary(summary: &WebhooksSummary, dir: &Path) {
    let rows: u64 = summary.rows_per_table.iter().map(|(_, n)| n).sum();
    let bodies: u64 = summary.bodies.iter().map(|(_, n)| n).sum();
    eprintln!(
        "wrote {bodies} webhook bodies and {rows} rows into {} in {:.1}s",
        dir.display(),
        summary.elapsed.as_secs_f64()
    );
    for (platform, n) in &summary.bodies {
        eprintln!("  {:<20} {n:>12}", format!("{platform} bodies"));
    }
    for (table, rows) in &summary.rows_per_table {
        eprintln!("  {table:<20} {rows:>12}");
    }
}

async fn compact_lake(args: CompactArgs) -> Result<()> {
    let lake = Lake::open(&args.lake.lake, &args.lake.store_options())?;
    let tables = compact::select_tables(&args.tables)?;
    compact_with_progress(
        &lake,
        &tables,
        args.target_size_mb.saturating_mul(1024 * 1024),
        args.vacuum,
    )
    .await
}

/// Compacts `tables` with a progress bar on a terminal and prints the summary line.
async fn compact_with_progress(
    lake: &Lake,
    tables: &[&'static TableDef],
    target_bytes: u64,
    vacuum: bool,
) -> Result<()> {
    use std::io::IsTerminal;
    let target = std::num::NonZeroU64::new(target_bytes)
        .ok_or_else(|| Error::Config("compact: the target size must be positive".into()))?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(tables.len() as u64);
        if let Ok(style) =
            ProgressStyle::with_template("compacting {bar:40.cyan/blue} {pos}/{len} tables {msg}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let summary = compact::compact(lake, tables, target, vacuum, |done| {
        bar.set_message(done.table);
        bar.inc(1);
    })
    .await?;
    bar.finish_and_clear();
    eprintln!(
        "compacted {} tables of {} in {:.1}s: {} data files -> {} ({} partitions rewritten){}",
        summary.tables.len(),
        lake.root(),
        summary.elapsed.as_secs_f64(),
        summary.files_before(),
        summary.files_after(),
        summary.partitions_rewritten(),
        if vacuum {
            format!("; vacuum deleted {} removed files", summary.files_deleted())
        } else {
            String::new()
        },
    );
    Ok(())
}

/// Generates `cfg` into `lake`, derives the derived tables from what it wrote, and prints the
/// summary lines; then, with `compact`, merges each partition's files (one per flush) and
/// prints that summary too.
async fn write_generated(
    lake: Lake,
    cfg: &GenerateConfig,
    compact: bool,
) -> Result<GenerateSummary> {
    let root = lake.root().to_string();
    let mut writer = LakeWriter::new(lake.clone());
    writer.create_missing_tables().await?;
    let summary = generate(&mut writer, cfg).await?;
    let total: u64 = summary.rows_per_table.iter().map(|(_, n)| n).sum();
    let messages = summary
        .rows_per_table
        .iter()
        .find(|(t, _)| *t == "messages")
        .map_or(0, |(_, n)| *n);
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "generated {total} rows into {root} in {secs:.1}s: {messages} messages ({:.0}/s), {} commits",
        messages as f64 / secs,
        writer.commits()
    );
    for (table, rows) in &summary.rows_per_table {
        eprintln!("  {table:<20} {rows:>12}");
    }
    let deriving = Instant::now();
    let refreshed = refresh(&mut writer).await?;
    print_refreshed(&refreshed, deriving.elapsed());
    if compact {
        let tables = compact::select_tables(&[])?;
        compact_with_progress(&lake, &tables, compact::DEFAULT_TARGET_BYTES, false).await?;
    }
    Ok(summary)
}

/// The lines saying what a refresh stored and how long it took.
fn print_refreshed(refreshed: &Refreshed, elapsed: std::time::Duration) {
    let Refreshed {
        conversations,
        message_outcomes,
    } = refreshed;
    eprintln!(
        "  {:<20} {:>12}  (derived with wa_conversations into conversations in {:.1}s)",
        "derived conversations",
        conversations.rows,
        conversations.elapsed.as_secs_f64()
    );
    eprintln!(
        "  {:<20} {:>12}  (delivery and reply of each outbound message, in {:.1}s)",
        "message_outcomes",
        message_outcomes.rows,
        message_outcomes.elapsed.as_secs_f64()
    );
    eprintln!(
        "  derived tables refreshed in {:.1}s",
        elapsed.as_secs_f64()
    );
}

/// Refreshes a demo lake generated before one of its derived tables existed.
async fn refresh_if_outdated(dir: &Path) -> Result<()> {
    let lake = Lake::open(&dir.to_string_lossy(), &StoreOptions::default())?;
    for def in crate::lake::schema::tables().iter().filter(|t| t.derived) {
        if lake.try_load_table(def.name).await?.is_none() {
            eprintln!(
                "the demo lake in {} has no {} table yet: refreshing its derived tables...",
                dir.display(),
                def.name
            );
            let started = std::time::Instant::now();
            let refreshed = refresh(&mut LakeWriter::new(lake)).await?;
            print_refreshed(&refreshed, started.elapsed());
            break;
        }
    }
    Ok(())
}

/// `chatlake refresh`: re-derives the derived tables of a lake written by another writer.
async fn refresh_lake(args: RefreshArgs) -> Result<()> {
    let lake = Lake::open(&args.lake.lake, &args.lake.store_options())?;
    let root = lake.root().to_string();
    let started = std::time::Instant::now();
    let mut writer = LakeWriter::new(lake);
    let refreshed = refresh(&mut writer).await?;
    eprintln!("refreshed the derived tables of {root}:");
    print_refreshed(&refreshed, started.elapsed());
    Ok(())
}

async fn demo(args: DemoArgs) -> Result<()> {
    let dir = args.dir;
    prepare_demo_lake(&dir, args.regenerate).await?;
    check_loopback(args.listen)?;
    check_loopback(args.http_listen)?;
    let lake = dir.to_string_lossy().to_string();
    let mut config = args.engine.config_for(lake, StoreOptions::default());
    config.result_cache_bytes = crate::engine::result_cache::DEFAULT_MB * 1024 * 1024;
    let limits = server_limits(&mut config, &args.engine, &args.queue);
    serve_lake(
        &config,
        &limits,
        args.listen,
        Security::default(),
        Beside {
            ingest: None,
            console: Some(args.http_listen),
        },
    )
    .await
}

/// The demo's generator settings: a few months, a few hundred thousand contacts, ending on
/// the day it is generated (UTC), so the console's default Month-to-date view shows data.
///
/// A demo lake, once complete, is kept as it is on later runs (no regeneration when its end
/// date has fallen behind: `--regenerate` does that); the dashboards then say up to which day
/// they have data.
pub fn demo_config() -> GenerateConfig {
    GenerateConfig {
        tenants: 4,
        contacts: 200_000,
        days: 120,
        seed: 42,
        end_date: chrono::Utc::now().date_naive(),
        messages_target: None,
        whole_seconds: false,
    }
}

/// Generates the demo lake under `dir` unless a complete one is already there.
async fn prepare_demo_lake(dir: &Path, regenerate: bool) -> Result<()> {
    let marker = dir.join(DEMO_MARKER);
    if marker.exists() && !regenerate {
        return refresh_if_outdated(dir).await;
    }
    if dir.exists() {
        // An interrupted or stale demo lake: start again rather than append to it.
        std::fs::remove_dir_all(dir).map_err(|source| Error::Io {
            context: format!("removing incomplete demo lake {}", dir.display()),
            source,
        })?;
    }
    eprintln!(
        "generating the demo lake in {} (first run only)...",
        dir.display()
    );
    let lake = Lake::open(&dir.to_string_lossy(), &StoreOptions::default())?;
    write_generated(lake, &demo_config(), true).await?;
    std::fs::write(&marker, b"").map_err(|source| Error::Io {
        context: format!("writing {}", marker.display()),
        source,
    })?;
    Ok(())
}
