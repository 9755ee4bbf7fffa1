//! Derived data stored in the lake: computed once per write instead of once per query.
//!
//! | stored in                                 | derived by the view (`sql/views/`)   | what it saves                               |
//! |-------------------------------------------|--------------------------------------|---------------------------------------------|
//! | `conversations`, `source = 'derived'`     | `derived_conversations` (055)        | replaying `wa_conversations` over the whole history in every conversation report |
//! | `message_outcomes` (the whole table)      | `derived_message_outcomes` (056)     | grouping every callback and reply of the lake in every campaign / failure report |
//!
//! Both derivations look at each contact's whole history (a conversation window or a reply
//! depends on the messages before it; a callback or reply can arrive long after its message), so
//! they are seconds of work on a few months of data, too slow to repeat inside every report.
//! Whoever writes `messages` or `message_statuses` calls [`refresh`] after its last commit: each
//! view runs over the lake as just written and its rows replace the previous derived rows of
//! its table in one Delta commit (readers see the old set or the new one, never neither). The
//! views stay queryable, live, for whoever wants the derivation without a refresh.
//!
//! The whole set is re-derived on each refresh, so it is exact whatever the new rows were (late
//! ones included). Ingest re-derives incrementally instead: both derivations are per contact, so
//! [`crate::ingest::refresh`] runs the same views over just the contacts a commit touched and
//! stores the rows that changed; a test checks the result equals this full refresh.

use std::time::{Duration, Instant};

use super::Engine;
use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::lake::rewrite::rewrite_table;
use crate::lake::{LakeWriter, schema};

/// One stored derivation: the view that computes the rows and where they go.
struct Derivation {
    /// The view that derives the rows live.
    view: &'static str,
    /// The lake table the rows are stored in.
    table: &'static str,
    /// The rows of `table` a refresh replaces (`None`: the whole table).
    replaces: Option<&'static str>,
}

/// Billing conversations of numbers without webhook conversation data.
const CONVERSATIONS: Derivation = Derivation {
    view: "derived_conversations",
    table: "conversations",
    replaces: Some("source = 'derived'"),
};

/// Per outbound message: delivery timeline, final status, reply.
const MESSAGE_OUTCOMES: Derivation = Derivation {
    view: "derived_message_outcomes",
    table: "message_outcomes",
    replaces: None,
};

/// What a [`refresh`] stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Derived billing conversations now in `conversations`.
    pub conversations: Stored,
    /// Outbound messages now in `message_outcomes`.
    pub message_outcomes: Stored,
}

/// The rows one derivation stored and the time it took (query and commit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    /// Rows now stored.
    pub rows: u64,
    /// Time spent deriving and writing them.
    pub elapsed: Duration,
}

/// Flushes `writer`, then re-derives everything derived from the lake it writes to and stores
/// it (one commit per derived table).
pub async fn refresh(writer: &mut LakeWriter) -> Result<Refreshed> {
    let engine = open_written_lake(writer).await?;
    Ok(Refreshed {
        conversations: timed(store(writer, &engine, &CONVERSATIONS)).await?,
        message_outcomes: timed(store(writer, &engine, &MESSAGE_OUTCOMES)).await?,
    })
}

/// Runs `store` and times it.
async fn timed(store: impl Future<Output = Result<u64>>) -> Result<Stored> {
    let started = Instant::now();
    let rows = store.await?;
    Ok(Stored {
        rows,
        elapsed: started.elapsed(),
    })
}

/// Re-derives the conversations of every number without webhook conversation data and stores
/// them in `conversations` (replacing the earlier derived rows) in one commit. Flushes `writer`
/// first. Returns the number of derived conversations.
pub async fn refresh_conversations(writer: &mut LakeWriter) -> Result<u64> {
    let engine = open_written_lake(writer).await?;
    store(writer, &engine, &CONVERSATIONS).await
}

/// Re-derives the outcome of every outbound message and stores it as `message_outcomes`
/// (replacing the whole table) in one commit. Flushes `writer` first. Returns the rows stored.
pub async fn refresh_message_outcomes(writer: &mut LakeWriter) -> Result<u64> {
    let engine = open_written_lake(writer).await?;
    store(writer, &engine, &MESSAGE_OUTCOMES).await
}

/// An engine over the lake `writer` writes to, once its buffered rows are committed. Derived
/// tables still missing are created empty first, so that the engine opens a lake written before
/// they existed.
async fn open_written_lake(writer: &mut LakeWriter) -> Result<Engine> {
    writer.flush().await?;
    writer.create_missing_tables().await?;
    let lake = writer.lake().clone();
    let config = EngineConfig::new(lake.root().as_str());
    Engine::open_lake(lake, &config).await
}

/// Runs `derivation`'s view on `engine` and stores its rows with `writer`'s lake: the table is
/// rewritten from the view's answer and the rows the derivation does not own, streamed (see
/// [`crate::lake::rewrite`]), in one commit. Returns the derived rows.
async fn store(writer: &mut LakeWriter, engine: &Engine, derivation: &Derivation) -> Result<u64> {
    let def = schema::table(derivation.table).ok_or_else(|| {
        Error::Config(format!(
            "the lake schema has no table '{}'",
            derivation.table
        ))
    })?;
    let columns: Vec<String> = def
        .schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    let columns = columns.join(", ");
    let session = engine.new_session();
    let mut queries = vec![
        session
            .sql(&format!("SELECT {columns} FROM {}", derivation.view))
            .await
            .map_err(Error::DataFusion)?,
    ];
    if let Some(replaces) = derivation.replaces {
        // The rows other writers own are written back as they are.
        queries.push(
            session
                .sql(&format!(
                    "SELECT {columns} FROM {} WHERE ({replaces}) IS NOT TRUE",
                    derivation.table
                ))
                .await
                .map_err(Error::DataFusion)?,
        );
    }
    let rows = rewrite_table(writer.lake(), def, queries).await?;
    writer.forget(def.name);
    Ok(rows.first().copied().unwrap_or(0))
}
