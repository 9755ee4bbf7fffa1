//! Input rows to Arrow batches of one lake table (STUB: signatures fixed, body in progress).

use arrow::array::RecordBatch;

use crate::error::Result;
use crate::lake::schema::TableDef;

/// How input rows are read.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// Zone of timestamps written without an offset; without it such a timestamp is an error.
    pub assume_tz: Option<chrono_tz::Tz>,
    /// Ignore columns the table does not have instead of rejecting the row.
    pub ignore_unknown: bool,
}

/// One bad input row: where it was, which column, why, and the row as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// 1-based line number in its source (for CSV: the line the record starts on).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// Why the row was refused.
    pub reason: String,
    /// The row as it was read (the NDJSON line, the CSV record).
    pub raw: String,
}

/// What decoding one chunk of input gave.
#[derive(Debug)]
pub struct Decoded {
    /// The good rows, in the table's schema (row-local derived columns filled in).
    pub batch: RecordBatch,
    /// The bad rows.
    pub rejects: Vec<Reject>,
    /// Rows read (good + bad).
    pub rows_read: u64,
}

/// Decodes NDJSON `input` (one JSON object per line; blank lines skipped) for `table`.
/// `first_line` is the line number of the first line of `input`; `ingested_at` (µs since
/// the epoch, UTC) is stored in the `ingested_at` column of tables that have one.
pub fn decode_ndjson(
    table: &'static TableDef,
    input: &[u8],
    first_line: u64,
    options: &DecodeOptions,
    ingested_at: i64,
) -> Result<Decoded> {
    let _ = (table, input, first_line, options, ingested_at);
    Err(crate::error::Error::Config("decode_ndjson: not yet".into()))
}
