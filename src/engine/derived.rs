//! Derived conversations stored in the lake: `derived_conversations` computed once per write
//! instead of once per query.
//!
//! Billing conversations of WhatsApp numbers whose provider reports none are rebuilt with
//! `wa_conversations` over each contact's whole message history (the view
//! `derived_conversations`, `sql/views/055_derived_conversations.sql`). That is seconds of work
//! on a few months of data, too slow to repeat inside every conversation report. So whoever
//! writes messages calls [`refresh_conversations`] after its last commit: it runs the view over
//! the lake as just written and stores the rows in the `conversations` table with
//! `source = 'derived'`, replacing the previous derived rows in one Delta commit (readers see the
//! old set or the new one). `all_conversations` then reads the table only.
//!
//! The whole set is re-derived on each refresh, so it is exact whatever the new messages were
//! (late ones included): a conversation's windows depend on the contact's earlier messages,
//! which an incremental refresh would have to carry over.

use arrow::array::RecordBatch;
use arrow::compute::cast;

use super::Engine;
use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::lake::{LakeWriter, schema};

/// The lake table the derived rows are stored in.
const TABLE: &str = "conversations";
/// The rows of [`TABLE`] a refresh replaces.
const DERIVED_ROWS: &str = "source = 'derived'";

/// Re-derives the conversations of every number without webhook conversation data from the
/// lake `writer` writes to, and stores them in `conversations` (replacing the earlier derived
/// rows) in one commit. Flushes `writer` first. Returns the number of derived conversations.
pub async fn refresh_conversations(writer: &mut LakeWriter) -> Result<u64> {
    writer.flush().await?;
    let lake = writer.lake().clone();
    let config = EngineConfig::new(lake.root().as_str());
    let engine = Engine::open_lake(lake, &config).await?;
    let def = schema::table(TABLE)
        .ok_or_else(|| Error::Config(format!("the lake schema has no table '{TABLE}'")))?;
    let columns: Vec<&str> = def
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let query = format!("SELECT {} FROM derived_conversations", columns.join(", "));
    let batches = engine
        .new_session()
        .sql(&query)
        .await
        .map_err(Error::DataFusion)?
        .collect()
        .await
        .map_err(Error::DataFusion)?;
    let batches = batches
        .iter()
        .map(|batch| to_table_types(def.schema.clone(), batch))
        .collect::<Result<Vec<_>>>()?;
    writer.replace_where(TABLE, batches, DERIVED_ROWS).await
}

/// `batch` with each column cast to the table's type (the engine reads strings as views).
fn to_table_types(schema: arrow::datatypes::SchemaRef, batch: &RecordBatch) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| cast(column, field.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}
