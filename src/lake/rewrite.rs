//! A whole table rewritten from queries with bounded memory: the answers stream into staged
//! files ([`StagedAppend::begin_replacing`]) chunk by chunk, and one commit swaps every old file
//! for the new ones.
//!
//! Memory: at most [`CHUNK_ROWS`] rows gathered, plus the [`crate::lake::staged::PARALLEL_WRITES`]
//! chunks being sorted and encoded, whatever the table's size (collecting the answer first
//! held it several times over: the batches, their cast, the concatenation, the sorted copy).
//! Each chunk is sorted by the table's sort key and written as one file per `dt` partition, so a
//! partition holds one file per chunk that had rows of its day; when there was more than one
//! chunk, a compaction after the commit brings every such day back to one file (a view's answer
//! is not in `dt` order: at 10M messages `message_outcomes` had 708 files over 120 days).

use arrow::array::RecordBatch;
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::SchemaRef;
use datafusion::prelude::DataFrame;
use futures::StreamExt;

use super::compact::{DEFAULT_TARGET, compact_table};
use super::schema::TableDef;
use super::staged::StagedAppend;
use super::store::Lake;
use crate::error::{Error, Result};

/// Rows gathered before a chunk is sorted and written.
pub const CHUNK_ROWS: usize = 1_000_000;

/// Replaces every row of `def` with the answers of `queries` (in the table's columns, in
/// order; string columns may come as views), in one commit. Returns the rows each query
/// wrote.
pub async fn rewrite_table(
    lake: &Lake,
    def: &'static TableDef,
    queries: Vec<DataFrame>,
) -> Result<Vec<u64>> {
    let mut staged = StagedAppend::begin_replacing(lake, def).await?;
    match write_all(&mut staged, def, queries).await {
        Ok((rows, chunks)) => {
            staged.commit(None).await?;
            if chunks > 1 {
                // Each chunk wrote a file into every day it had rows of: one day may now have
                // a file per chunk. Bring each such day back to one file (a rewrite without
                // data change), as the collected write used to leave it.
                compact_table(lake, def, DEFAULT_TARGET, false).await?;
            }
            Ok(rows)
        }
        Err(e) => {
            staged.abort().await?;
            Err(e)
        }
    }
}

/// Streams each query's answer into `staged`, [`CHUNK_ROWS`] rows at a time; the rows of each,
/// and the number of chunks written.
async fn write_all(
    staged: &mut StagedAppend,
    def: &'static TableDef,
    queries: Vec<DataFrame>,
) -> Result<(Vec<u64>, usize)> {
    let mut chunk: Vec<RecordBatch> = Vec::new();
    let mut chunk_rows = 0;
    let mut chunks = 0;
    let mut rows = Vec::new();
    for query in queries {
        let mut stream = query.execute_stream().await?;
        let mut query_rows = 0;
        while let Some(batch) = stream.next().await {
            let batch = to_table_types(def.schema.clone(), &batch?)?;
            query_rows += batch.num_rows() as u64;
            chunk_rows += batch.num_rows();
            chunk.push(batch);
            if chunk_rows >= CHUNK_ROWS {
                write_chunk(staged, def, std::mem::take(&mut chunk)).await?;
                chunks += 1;
                chunk_rows = 0;
            }
        }
        rows.push(query_rows);
    }
    if !chunk.is_empty() {
        write_chunk(staged, def, chunk).await?;
        chunks += 1;
    }
    Ok((rows, chunks))
}

/// Concatenates `batches` and stages them (sorted and written on the blocking pool).
async fn write_chunk(
    staged: &mut StagedAppend,
    def: &'static TableDef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    if batches.is_empty() {
        return Ok(());
    }
    let batch = concat_batches(&def.schema, &batches)?;
    drop(batches);
    staged.write(batch).await
}

/// `batch` with each column cast to `schema`'s type (the engine reads strings as views).
pub fn to_table_types(schema: SchemaRef, batch: &RecordBatch) -> Result<RecordBatch> {
    if batch.num_columns() != schema.fields().len() {
        return Err(Error::Config(format!(
            "{} columns for a table of {}",
            batch.num_columns(),
            schema.fields().len()
        )));
    }
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| cast(column, field.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}
