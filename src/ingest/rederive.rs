//! Stored webhook bodies through the current `channels` and parser again:
//! `chatlake ingest --lake URL --replay-unrouted` and `--reparse --from DATE [--to DATE]`.
//!
//! | command            | reads                                         | writes                                                                 |
//! |--------------------|-----------------------------------------------|------------------------------------------------------------------------|
//! | `--replay-unrouted`| the `webhook_unrouted` rows whose phone number id (page id) one `channels` row now has | every row of their bodies, as the first ingest would have (natural keys drop what was routed already); then, in a second commit, deletes those `webhook_unrouted` rows |
//! | `--reparse`        | the `webhook_bodies` of the days `--from..=--to` (UTC `dt`), one day at a time | the rows the current parser and channels derive from them: **replacing** the stored rows of the same natural key (see below); contacts upserted; parts no channel takes into `webhook_unrouted` |
//!
//! **Crash safety of the replay.** The rows are committed first (one Delta commit per table,
//! `webhook_bodies` last), the `webhook_unrouted` rows are deleted after: a crash in between
//! leaves the unrouted rows in place, and running the replay again writes nothing new (every
//! row is a natural-key duplicate by then) and deletes them. Nothing is lost, nothing doubled.
//! The body's `webhook_bodies` row keeps its NULL `tenant_id` (it is a duplicate of itself).
//!
//! **What "re-derive" does to fact tables.** The lake records no lineage from a row to the body
//! it came from, and other sources may hold rows of the same key. `--reparse` therefore
//! re-derives by natural key: each row the current parser derives from the day's bodies is
//! MERGEd into its table on the natural key and `dt` ([`Ingester::begin_replacing`]): a stored
//! row with that key is replaced by the new one (a changed parse is corrected), a key not
//! stored is inserted (a message an older parser skipped appears). Rows an older parser wrote
//! under a key the current one no longer derives are left alone; delete them by hand if a
//! parser bug gave wrong keys. The MERGE matches within the `dt` partition of the new row (so
//! that it reads one day, not the table): a row whose event time the new parser moves to
//! another UTC day is written there and the old one stays, as for a changed key. Running it
//! twice gives the same rows. Derived tables follow
//! (`message_outcomes`, derived `conversations`) for the contacts touched. Bodies whose routing
//! changed (a new channel) are better replayed with `--replay-unrouted`, which also empties
//! `webhook_unrouted`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::ingest::commit::{Ingester, Load};
use crate::ingest::dedup::strings;
use crate::ingest::import::{LISTED_REJECTS, refresh_after};
use crate::ingest::webhook::Platform;
use crate::ingest::whatsapp::expand::{Incoming, contacts_batch, expand};
use crate::ingest::whatsapp::import::{TableCount, finish_loads};
use crate::ingest::whatsapp::route::{Route, Routes};
use crate::lake::schema::TableDef;
use crate::lake::{Lake, LakeWriter};

/// What a replay or a reparse did.
#[derive(Debug, Clone, Default)]
pub struct RederiveSummary {
    /// Bodies parsed again.
    pub bodies: u64,
    /// Rows written per table (`--reparse`: inserted or replaced).
    pub tables: BTreeMap<&'static str, TableCount>,
    /// `webhook_unrouted` rows deleted (`--replay-unrouted`).
    pub unrouted_removed: u64,
    /// `webhook_unrouted` rows left because no channel (or more than one) takes them yet.
    pub unrouted_left: u64,
    /// Events that gave no row or a NULL.
    pub skipped: u64,
    /// The first few of them.
    pub skipped_listed: Vec<String>,
    /// Contacts whose derived rows were re-derived.
    pub contacts_refreshed: usize,
    /// Time taken.
    pub elapsed: Duration,
}

/// The rows of one query as `(platform, sha, id, received_at µs, body)`.
type StoredBody = (Platform, String, Option<String>, i64, String);

/// Reads `query`'s `platform`, `body_sha256`, `id`, `received_us` and `body` columns.
async fn stored_bodies(ingester: &Ingester, query: &str) -> Result<Vec<StoredBody>> {
    let batches: Vec<RecordBatch> = ingester.session().sql(query).await?.collect().await?;
    let mut out = Vec::new();
    for batch in &batches {
        let platform = strings(batch, "platform")?;
        let sha = strings(batch, "body_sha256")?;
        let id = strings(batch, "id")?;
        let body = strings(batch, "body")?;
        let received = batch
            .column_by_name("received_us")
            .ok_or_else(|| Error::Config("internal: no received_us".into()))?
            .as_primitive::<Int64Type>()
            .clone();
        for (row, (((platform, sha), id), body)) in
            platform.into_iter().zip(sha).zip(id).zip(body).enumerate()
        {
            let (Some(platform), Some(sha), Some(body)) = (platform, sha, body) else {
                continue;
            };
            let Some(platform) = Platform::from_name(&platform) else {
                continue;
            };
            out.push((platform, sha, id, received.value(row), body));
        }
    }
    Ok(out)
}

/// Whether `routes` now takes id `id` of a `platform` body.
fn routed(routes: &Routes, platform: Platform, id: &str) -> bool {
    let route = match platform {
        Platform::Whatsapp => routes.route(id),
        Platform::Messenger | Platform::Instagram => routes.route_page(platform.name(), id),
    };
    matches!(route, Route::Channel { .. })
}

/// `text` as a SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Parses `bodies` and commits their rows, `webhook_bodies` last; `replacing`: fact rows
/// replace the stored rows of their key, and the bodies are not written again.
async fn commit_bodies(
    lake: &Lake,
    ingester: &mut Ingester,
    bodies: Vec<Incoming>,
    replacing: bool,
    summary: &mut RederiveSummary,
) -> Result<()> {
    if bodies.is_empty() {
        return Ok(());
    }
    let ingested_at = chrono::Utc::now().timestamp_micros();
    summary.bodies += bodies.len() as u64;
    let mut expansion = expand(ingester.session(), bodies, ingested_at).await?;
    let contacts = std::mem::take(&mut expansion.contacts);
    let mut batches = expansion.batches;
    batches.extend(
        contacts_batch(
            ingester.session(),
            contacts,
            ingested_at,
            &mut expansion.skipped,
        )
        .await?,
    );
    summary.skipped += expansion.skipped.len() as u64;
    for note in expansion.skipped {
        if summary.skipped_listed.len() < LISTED_REJECTS {
            summary.skipped_listed.push(note);
        }
    }
    let mut loads: BTreeMap<&'static str, Load> = BTreeMap::new();
    for (def, batch) in batches {
        if replacing && def.name == "webhook_bodies" {
            continue;
        }
        if !loads.contains_key(def.name) {
            loads.insert(def.name, begin(ingester, def, replacing).await?);
        }
        if let Some(load) = loads.get_mut(def.name) {
            ingester.add(load, batch).await?;
        }
    }
    let total = finish_loads(ingester, loads, &mut summary.tables).await?;
    summary.contacts_refreshed += refresh_after(lake, ingester, &total).await?;
    Ok(())
}

/// A load of `def`: replacing for the fact tables a reparse re-derives, else the table's own.
async fn begin(ingester: &Ingester, def: &'static TableDef, replacing: bool) -> Result<Load> {
    let facts = [
        "messages",
        "message_statuses",
        "conversations",
        "comments",
        "comment_replies",
    ];
    if replacing && facts.contains(&def.name) {
        ingester.begin_replacing(def).await
    } else {
        ingester.begin(def).await
    }
}

/// `chatlake ingest --replay-unrouted`; see the module docs.
pub async fn replay_unrouted(lake: Lake) -> Result<RederiveSummary> {
    let started = Instant::now();
    let mut ingester = Ingester::open(lake.clone()).await?;
    let routes = Routes::load(ingester.session()).await?;
    let rows = stored_bodies(
        &ingester,
        "SELECT platform, body_sha256, phone_number_id AS id, \
         CAST(received_at AS BIGINT) AS received_us, body FROM webhook_unrouted",
    )
    .await?;
    let mut summary = RederiveSummary::default();
    let mut bodies = Vec::new();
    let mut seen = HashSet::new();
    // platform -> (shas, ids) of the rows to delete once their rows are committed.
    let mut done: BTreeMap<Platform, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (platform, sha, id, received_at, body) in rows {
        let Some(id) = id.filter(|id| routed(&routes, platform, id)) else {
            summary.unrouted_left += 1;
            continue;
        };
        let entry = done.entry(platform).or_default();
        entry.0.insert(sha.clone());
        entry.1.insert(id);
        if seen.insert((platform, sha.clone())) {
            bodies.push(Incoming {
                platform,
                raw: body,
                received_at,
                origin: format!("webhook_unrouted {} body {sha}", platform.name()),
            });
        }
    }
    commit_bodies(&lake, &mut ingester, bodies, false, &mut summary).await?;
    if !done.is_empty() {
        let predicate = done
            .iter()
            .map(|(platform, (shas, ids))| {
                let list = |set: &BTreeSet<String>| {
                    set.iter()
                        .map(|s| literal(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!(
                    "(platform = {} AND body_sha256 IN ({}) AND phone_number_id IN ({}))",
                    literal(platform.name()),
                    list(shas),
                    list(ids)
                )
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        let before = count(&ingester, "webhook_unrouted").await?;
        LakeWriter::new(lake.clone())
            .replace_where("webhook_unrouted", Vec::new(), Some(&predicate))
            .await?;
        summary.unrouted_removed =
            before.saturating_sub(count(&ingester, "webhook_unrouted").await?);
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The rows of `table`.
async fn count(ingester: &Ingester, table: &str) -> Result<u64> {
    let batches = ingester
        .session()
        .sql(&format!(
            "SELECT CAST(count(*) AS BIGINT) AS n FROM {table}"
        ))
        .await?
        .collect()
        .await?;
    Ok(batches
        .first()
        .and_then(|b| {
            b.column(0)
                .as_primitive_opt::<Int64Type>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0) as u64)
}

/// `chatlake ingest --reparse --from FROM --to TO`; see the module docs.
pub async fn reparse(lake: Lake, from: NaiveDate, to: NaiveDate) -> Result<RederiveSummary> {
    if to < from {
        return Err(Error::Config(format!(
            "--reparse: --to {to} is before --from {from}"
        )));
    }
    let started = Instant::now();
    let mut ingester = Ingester::open(lake.clone()).await?;
    let mut summary = RederiveSummary::default();
    let mut day = from;
    while day <= to {
        let rows = stored_bodies(
            &ingester,
            &format!(
                "SELECT platform, body_sha256, phone_number_id AS id, \
                 CAST(received_at AS BIGINT) AS received_us, body FROM webhook_bodies \
                 WHERE dt = DATE '{day}'"
            ),
        )
        .await?;
        let bodies = rows
            .into_iter()
            .map(|(platform, sha, _, received_at, body)| Incoming {
                platform,
                raw: body,
                received_at,
                origin: format!("webhook_bodies {} body {sha}", platform.name()),
            })
            .collect();
        commit_bodies(&lake, &mut ingester, bodies, true, &mut summary).await?;
        day = day
            .succ_opt()
            .ok_or_else(|| Error::Config("--to is past the last date".into()))?;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}
