//! Column-at-a-time rendering of a record batch: all values of one column written back to back
//! into one buffer, in the text or binary form of the column's wire type ([`Column`]), with
//! where each row's value ends. The `DataRow` encoder ([`super::encode`]) and the COPY encoder
//! ([`super::copy_rows`]) then lay a batch out row by row, copying slices of these buffers:
//! one type dispatch per column and batch instead of one per value, and no allocation per
//! value or row.

use bytes::BytesMut;
use pgwire::api::results::FieldFormat;

use super::encode::{Column, OutputOptions};

/// Rewrites one rendered text value where it must be (COPY's backslash escapes, CSV quoting).
pub(crate) trait Escape {
    /// Whether `value` must be rewritten.
    fn needed(&self, value: &[u8]) -> bool;
    /// Writes `value` rewritten to `out`.
    fn write(&self, value: &[u8], out: &mut BytesMut);
}

/// One column of a batch rendered: every non-null value's bytes back to back.
pub(crate) struct RenderedColumn {
    bytes: BytesMut,
    /// Per row: the end of its value in `bytes` (a NULL row ends where the previous one did).
    ends: Vec<usize>,
    /// Per row: whether it is NULL.
    nulls: Vec<bool>,
}

impl RenderedColumn {
    /// The bytes of the value at `row`, `None` for NULL.
    pub fn value(&self, row: usize) -> Option<&[u8]> {
        if self.nulls[row] {
            return None;
        }
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        Some(&self.bytes[start..self.ends[row]])
    }

    /// The total size of the rendered values.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// Renders the first `rows` values of `column` in `format` (values printed with `output`);
/// `escape`, if given, rewrites the text values that need it.
pub(crate) fn render(
    column: &Column<'_>,
    rows: usize,
    format: FieldFormat,
    output: &OutputOptions,
    escape: Option<&dyn Escape>,
) -> Result<RenderedColumn, String> {
    let mut bytes = BytesMut::with_capacity(rows * 8);
    let mut ends = Vec::with_capacity(rows);
    let mut nulls = Vec::with_capacity(rows);
    let mut scratch = BytesMut::new();
    for row in 0..rows {
        let null = column.is_null(row);
        nulls.push(null);
        if !null {
            let start = bytes.len();
            match format {
                FieldFormat::Text => column.text(row, &mut bytes, output)?,
                FieldFormat::Binary => column.binary(row, &mut bytes)?,
            }
            if let Some(escape) = escape
                && escape.needed(&bytes[start..])
            {
                scratch.clear();
                scratch.extend_from_slice(&bytes[start..]);
                bytes.truncate(start);
                escape.write(&scratch, &mut bytes);
            }
        }
        ends.push(bytes.len());
    }
    Ok(RenderedColumn { bytes, ends, nulls })
}
