//! Seeded synthetic data: a realistic, internally consistent lake for demos, tests and benches.
//!
//! The same [`GenerateConfig`] always produces the same rows (ChaCha8 streams derived per
//! tenant and per day, identifiers from counters, `ingested_at` from event time plus a drawn
//! delay, never from the clock). Memory stays bounded: the run goes day by day, hands batches
//! of at most [`BATCH_ROWS`] rows per table to the writer, and keeps only O(contacts) state.
//! Generation runs on a blocking thread while the writer encodes on the async runtime.
//!
//! | module | job |
//! |---|---|
//! | `mod.rs` | config, driver (days × tenants), volume estimate for `messages_target`, summary, progress |
//! | `rng` | seeded ChaCha8 streams, SplitMix64, distributions |
//! | `clock` | instants, local days (DST-correct), hourly and weekly rhythms, pricing eras |
//! | `phones` | 33 country number plans producing valid mobile numbers |
//! | `names` | names, usernames, message and comment texts |
//! | `world` | tenants, channels, templates, flows, agents, ads |
//! | `contacts` | population, arrival, activity rates, per-contact state, `contacts` snapshot |
//! | `day` | one tenant-day: plan activities, play them per contact in time order |
//! | `sessions` | conversation scripts: flows, agents, automation, media, orders, API notifications |
//! | `campaigns` | pushes, broadcasts, flow broadcasts, template campaigns, reminders, retries |
//! | `comments` | posts, comments, comment-to-DM replies |
//! | `sim` | per-day context; inbound/outbound primitives; contact/chat/flow/analytics events |
//! | `statuses` | status callbacks: order, repeats, failures, read-without-delivered |
//! | `billing` | CBP conversations and PMP prices, as webhooks report them |
//! | [`errors`] | WhatsApp error codes, titles and report buckets |
//! | `ids` | identifier formatting |
//! | `tables` | Arrow builders with the lake's exact schemas |
//! | [`webhooks`] | the world as WhatsApp webhook bodies plus the rows no webhook carries (`generate --as-webhooks`) |
//!
//! The data, in short: tenants in Asia/Kolkata, America/Sao_Paulo, Europe/London,
//! Asia/Kathmandu, America/New_York, Australia/Adelaide and six more zones, each with WhatsApp
//! numbers (meta_cloud, 360dialog, gupshup, twilio) and some Messenger, Instagram, web chat and
//! Telegram channels; contacts from 33 countries with valid numbers; sessions following local
//! daily and weekly rhythms; flows, agents and automation; campaigns with rejections and retry
//! audiences; status callbacks out of order and repeated; conversation and pricing fields for
//! the CBP v1, CBP v2 and PMP eras (a range of 1200 days ending 2026-10-31 spans them);
//! webhook-reported conversations for `meta_cloud` and `360dialog` numbers only; the other
//! WhatsApp numbers' conversations, and each outbound message's outcome, are derived from the
//! lake once written ([`crate::engine::derived`]).

mod billing;
mod campaigns;
mod clock;
mod comments;
mod contacts;
mod day;
pub mod errors;
mod ids;
mod names;
mod phones;
mod rng;
mod sessions;
mod sim;
mod statuses;
mod tables;
pub mod webhooks;
mod world;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{Error, Result};
use crate::lake::LakeWriter;

pub use errors::{error_bucket, error_title};
pub use webhooks::{WebhooksSummary, generate_webhooks};

use clock::{CAMPAIGN_DOW, DOW, local_to_utc, utc_midnight, weekday_index};
use contacts::Population;
use rng::{Rand, stream};
use sim::{Ctx, Scale};
use tables::{ChannelRow, LakeRow, Out, TenantRow};
use world::{ChannelType, World};

/// Rows per table handed to the writer at once (at most; the last batches are smaller).
pub const BATCH_ROWS: usize = 100_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateConfig {
    /// Number of tenants (organisations). Twelve presets, cycled beyond twelve.
    pub tenants: usize,
    /// Number of contacts, in total across tenants.
    pub contacts: usize,
    /// Number of days, ending at `end_date` (inclusive).
    pub days: u32,
    /// Seed: the same config and seed give the same rows.
    pub seed: u64,
    /// Last generated day (UTC). Fixed by default so output does not depend on today.
    pub end_date: NaiveDate,
    /// Scale activity (sessions, notifications, campaigns) to reach about this many messages.
    pub messages_target: Option<u64>,
    /// Every instant rounded down to the whole second, as webhooks carry them (Meta's
    /// `timestamp` is in seconds): the lake `--as-webhooks` output describes.
    pub whole_seconds: bool,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        GenerateConfig {
            tenants: 6,
            contacts: 10_000,
            days: 120,
            seed: 42,
            end_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap_or(NaiveDate::MIN),
            messages_target: None,
            whole_seconds: false,
        }
    }
}

impl GenerateConfig {
    /// The first generated day.
    pub fn start_date(&self) -> NaiveDate {
        self.end_date - chrono::Duration::days(self.days.saturating_sub(1) as i64)
    }

    fn validate(&self) -> Result<()> {
        if self.days == 0 {
            return Err(Error::Config("generate: days must be at least 1".into()));
        }
        if self.days >= 16_000 {
            return Err(Error::Config("generate: days must be below 16000".into()));
        }
        if self.tenants == 0 || self.tenants > 60_000 {
            return Err(Error::Config(
                "generate: tenants must be between 1 and 60000".into(),
            ));
        }
        if self.contacts > 500_000_000 {
            return Err(Error::Config(
                "generate: contacts must be at most 500 million".into(),
            ));
        }
        Ok(())
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct GenerateSummary {
    /// Rows written per table, in the lake's table order.
    pub rows_per_table: Vec<(&'static str, u64)>,
    /// Wall-clock time of the run (generating and writing).
    pub elapsed: Duration,
}

impl GenerateSummary {
    /// Rows written to `table` (0 if unknown).
    pub fn rows(&self, table: &str) -> u64 {
        self.rows_per_table
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    /// Rows written in total.
    pub fn total_rows(&self) -> u64 {
        self.rows_per_table.iter().map(|(_, n)| n).sum()
    }
}

/// Generates the lake described by `cfg` into `writer` and flushes it.
///
/// The generator only writes: the derived tables (billing conversations, message outcomes) are
/// the caller's to refresh afterwards with `engine::derived::refresh`, as after any other write,
/// so the writer never depends on the engine that reads the lake.
///
/// Generation runs on a blocking thread and streams batches through a bounded channel, so
/// memory stays bounded at any size. Shows a progress bar over days when stderr is a terminal.
pub async fn generate(writer: &mut LakeWriter, cfg: &GenerateConfig) -> Result<GenerateSummary> {
    let started = Instant::now();
    cfg.validate()?;
    let progress = progress_bar(cfg.days);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(&'static str, RecordBatch)>(4);
    let config = cfg.clone();
    let bar = progress.clone();
    let handle = tokio::task::spawn_blocking(move || {
        let mut sink = |name: &'static str, batch: RecordBatch| -> Result<()> {
            tx.blocking_send((name, batch)).map_err(|_| Error::Io {
                context: "generate: the lake writer stopped receiving batches".into(),
                source: std::io::Error::other("channel closed"),
            })
        };
        run(&config, &mut sink, &bar)
    });
    while let Some((name, batch)) = rx.recv().await {
        if let Err(e) = writer.write(name, batch).await {
            drop(rx);
            let _ = handle.await;
            progress.abandon();
            return Err(e);
        }
    }
    let counts = handle.await.map_err(|e| Error::Io {
        context: "generate: the generator thread failed".into(),
        source: std::io::Error::other(e.to_string()),
    })??;
    writer.flush().await?;
    progress.finish_and_clear();
    Ok(GenerateSummary {
        rows_per_table: counts,
        elapsed: started.elapsed(),
    })
}

/// Generates the data described by `cfg`, handing each finished batch to `sink` (table name,
/// batch) instead of a writer: for tests, benches and fixtures.
pub fn generate_batches(
    cfg: &GenerateConfig,
    mut sink: impl FnMut(&'static str, RecordBatch) -> Result<()>,
) -> Result<GenerateSummary> {
    let started = Instant::now();
    cfg.validate()?;
    let counts = run(cfg, &mut sink, &ProgressBar::hidden())?;
    Ok(GenerateSummary {
        rows_per_table: counts,
        elapsed: started.elapsed(),
    })
}

fn progress_bar(days: u32) -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(days as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "generating {bar:40.cyan/blue} {pos}/{len} days ({elapsed}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Contacts per tenant: proportional to tenant size, largest remainders, summing to `total`.
fn allocate(world: &World, total: usize) -> Vec<usize> {
    let sizes: Vec<f64> = world.tenants.iter().map(|t| t.size).collect();
    let sum: f64 = sizes.iter().sum();
    let exact: Vec<f64> = sizes.iter().map(|s| s / sum * total as f64).collect();
    let mut n: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut rest = total - n.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..n.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(n.len() * 2) {
        if rest == 0 {
            break;
        }
        n[i] += 1;
        rest -= 1;
    }
    n
}

/// Mean messages of one organic session, one API notification, one campaign recipient and one
/// first session (measured on generated data; used only to scale towards `messages_target`).
const MSGS_PER_SESSION: f64 = 6.0;
const MSGS_PER_API: f64 = 1.25;
const MSGS_PER_RECIPIENT: f64 = 1.5;
const MSGS_PER_FIRST: f64 = 7.0;

/// Expected messages at scale 1.
fn estimate(world: &World, pops: &[Population], cfg: &GenerateConfig) -> f64 {
    let start = cfg.start_date();
    let mut total = 0.0;
    for (t, pop) in world.tenants.iter().zip(pops) {
        let wa_share = {
            let wa = pop
                .contacts
                .iter()
                .filter(|c| t.channels[c.channel as usize].ctype == ChannelType::WhatsApp)
                .count();
            wa as f64 / pop.contacts.len().max(1) as f64
        };
        let first = pop
            .contacts
            .iter()
            .filter(|c| c.origin.writes_first())
            .count();
        total += first as f64 * MSGS_PER_FIRST;
        let share = campaigns::expected_share(t.style);
        for d in t.start_day..cfg.days {
            let date = start + chrono::Duration::days(d as i64);
            let day_start = local_to_utc(t.tz, date, 0);
            let n = pop.contacts.partition_point(|c| c.created_at < day_start);
            let wd = weekday_index(date);
            let f = DOW[wd] * day::season(date);
            total += pop.cum.get(n).copied().unwrap_or(0.0) * f * MSGS_PER_SESSION;
            total += n as f64 * day::api_rate(t.style) * f * MSGS_PER_API;
            total += n as f64 * wa_share * share * CAMPAIGN_DOW[wd] * MSGS_PER_RECIPIENT;
        }
    }
    total
}

/// Messages a pilot run aims at: pilots use a share of the contacts with the same per-contact
/// rates, so their messages per contact match the real run's.
const PILOT_MESSAGES: f64 = 400_000.0;

/// The activity scale that gives about `target` messages.
///
/// A first guess comes from [`estimate`] (within ~15 % at scale 1). Many sessions per contact
/// then truncate each other, so volume grows less than linearly: up to three pilot runs on
/// `1/k` of the contacts (messages × k estimate the real run) refine the scale by a secant step
/// in log space.
fn calibrate(cfg: &GenerateConfig, target: u64) -> Result<Scale> {
    let world = World::build(cfg.seed, cfg.tenants, cfg.days);
    let start_date = cfg.start_date();
    let start_utc = utc_midnight(start_date);
    let horizon = utc_midnight(cfg.end_date) + clock::DAY;
    let sizes = allocate(&world, cfg.contacts);
    let pops: Vec<Population> = world
        .tenants
        .iter()
        .zip(&sizes)
        .map(|(t, &n)| {
            contacts::build_population(cfg.seed, t, n, start_date, cfg.days, start_utc, horizon)
        })
        .collect();
    let expected = estimate(&world, &pops, cfg);
    drop(pops);
    let target = target as f64;
    let clamp = |f: f64| f.clamp(0.001, 10_000.0);
    let mut f = if expected > 0.0 {
        clamp(target / expected)
    } else {
        1.0
    };
    let k = (target / PILOT_MESSAGES).ceil().max(1.0);
    let pilot = GenerateConfig {
        contacts: ((cfg.contacts as f64 / k).ceil() as usize).max(cfg.tenants.min(cfg.contacts)),
        messages_target: None,
        ..cfg.clone()
    };
    let k = cfg.contacts as f64 / pilot.contacts.max(1) as f64;
    let mut previous: Option<(f64, f64)> = None;
    for _ in 0..3 {
        let scale = Scale {
            activity: f,
            campaigns: f,
        };
        let mut messages = 0u64;
        let mut count = |name: &'static str, batch: RecordBatch| -> Result<()> {
            if name == "messages" {
                messages += batch.num_rows() as u64;
            }
            Ok(())
        };
        run_scaled(&pilot, scale, &mut count, &ProgressBar::hidden())?;
        let got = messages as f64 * k;
        if got <= 0.0 {
            break;
        }
        let ratio = target / got;
        if (ratio - 1.0).abs() < 0.03 {
            break;
        }
        // Volume ≈ c·f^α: α from the last two pilots (1 for the first step).
        let alpha = match previous {
            Some((f0, got0)) if (f / f0).ln().abs() > 1e-6 && got0 > 0.0 => {
                ((got / got0).ln() / (f / f0).ln()).clamp(0.2, 1.5)
            }
            _ => 1.0,
        };
        previous = Some((f, got));
        f = clamp(f * ratio.powf(1.0 / alpha));
    }
    Ok(Scale {
        activity: f,
        campaigns: f,
    })
}

/// The whole run: world, populations, days, final settlement and snapshots.
pub(crate) fn run(
    cfg: &GenerateConfig,
    sink: &mut tables::Sink<'_>,
    progress: &ProgressBar,
) -> Result<Vec<(&'static str, u64)>> {
    let scale = match cfg.messages_target {
        Some(target) => calibrate(cfg, target)?,
        None => Scale {
            activity: 1.0,
            campaigns: 1.0,
        },
    };
    if cfg.whole_seconds {
        let mut truncated =
            |table: &'static str, batch: RecordBatch| sink(table, tables::whole_seconds(&batch)?);
        run_scaled(cfg, scale, &mut truncated, progress)
    } else {
        run_scaled(cfg, scale, sink, progress)
    }
}

fn run_scaled(
    cfg: &GenerateConfig,
    scale: Scale,
    sink: &mut tables::Sink<'_>,
    progress: &ProgressBar,
) -> Result<Vec<(&'static str, u64)>> {
    let start_date = cfg.start_date();
    let start_utc = utc_midnight(start_date);
    let horizon = utc_midnight(cfg.end_date) + clock::DAY;
    let world = World::build(cfg.seed, cfg.tenants, cfg.days);
    let mut out = Out::new()?;

    for t in &world.tenants {
        TenantRow {
            tenant_id: &t.id,
            name: &t.name,
            tz: t.tz_name,
        }
        .append(&mut out.tenants);
        for ch in &t.channels {
            ChannelRow {
                tenant_id: &t.id,
                channel_id: &ch.id,
                channel_type: ch.ctype.as_str(),
                integration: ch.integration,
                waba_id: ch.waba_id.as_deref(),
                phone_number_id: ch.phone_number_id.as_deref(),
                display_phone: ch.display_phone.as_deref(),
                page_id: ch.page_id.as_deref(),
                tz: ch.tz_override,
            }
            .append(&mut out.channels);
        }
    }

    let sizes = allocate(&world, cfg.contacts);
    let mut pops: Vec<Population> = world
        .tenants
        .iter()
        .zip(&sizes)
        .map(|(t, &n)| {
            contacts::build_population(cfg.seed, t, n, start_date, cfg.days, start_utc, horizon)
        })
        .collect();
    let mut books: Vec<campaigns::Book> = world
        .tenants
        .iter()
        .map(|_| campaigns::Book::default())
        .collect();
    let mut posts: Vec<comments::Posts> = world
        .tenants
        .iter()
        .map(|_| comments::Posts::default())
        .collect();

    for day in 0..cfg.days {
        let date = start_date + chrono::Duration::days(day as i64);
        for (ti, tenant) in world.tenants.iter().enumerate() {
            if day < tenant.start_day {
                continue;
            }
            let local = clock::LocalDay::new(tenant.tz, date);
            let next_day = local_to_utc(tenant.tz, date + chrono::Duration::days(1), 0);
            let rng = Rand::derive(cfg.seed, &[stream::DAY, ti as u64, day as u64]);
            let mut ctx = Ctx::new(
                tenant, &mut out, rng, day, local, next_day, horizon, start_utc, scale,
            );
            day::run_day(
                &mut ctx,
                &mut pops[ti],
                &mut books[ti],
                &mut posts[ti],
                day + 1 == cfg.days,
            );
        }
        out.drain(BATCH_ROWS, sink)?;
        progress.inc(1);
    }

    // Pending automatic closes and flow expiries that fall inside the range, then snapshots.
    for (ti, tenant) in world.tenants.iter().enumerate() {
        let rng = Rand::derive(cfg.seed, &[stream::FINAL, ti as u64]);
        let local = clock::LocalDay::new(tenant.tz, cfg.end_date);
        let mut ctx = Ctx::new(
            tenant, &mut out, rng, cfg.days, local, horizon, horizon, start_utc, scale,
        );
        for c in pops[ti].contacts.iter_mut().filter(|c| c.st.created) {
            ctx.focus(c);
            sessions::catch_up(&mut ctx, c, horizon);
        }
        drop(ctx);
        contacts::write_snapshot(&mut out, tenant, &pops[ti]);
        out.drain(BATCH_ROWS, sink)?;
    }
    out.drain(0, sink)?;
    Ok(out.counts())
}
