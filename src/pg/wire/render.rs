//! Column-at-a-time rendering of a record batch: all values of one column in the text or
//! binary form of its wire type ([`Column`]), back to back in one buffer with an offset per
//! row — an Arrow `BinaryArray`. The `DataRow` encoder ([`super::encode`]) and the COPY encoder
//! ([`super::copy_rows`]) then lay a batch out row by row, copying slices of these buffers.
//!
//! A `Utf8View` string column bound for `DataRow`s is not rendered at all: its values are
//! copied into the rows straight from the batch. Other strings (text and binary form) and
//! integers (text form) are rendered by Arrow's cast kernels, whose text of an integer is
//! PostgreSQL's; the other types go through
//! [`Column::text`] / [`Column::binary`], one type dispatch per column. COPY's escaping is
//! decided for a whole column at once ([`Escape::any_needed`], one scan of its buffer): the
//! values are rewritten one by one only in a column where some value needs it.

use arrow::array::{Array, ArrayRef, AsArray, BinaryArray, StringViewArray};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use bytes::BytesMut;
use pgwire::api::results::FieldFormat;

use super::encode::{Column, OutputOptions};
use super::types::Encoding;

/// Rewrites rendered text values where they must be (COPY's backslash escapes, CSV quoting).
pub(crate) trait Escape {
    /// Whether any value of `column` must be rewritten (a quick answer may say yes for none).
    fn any_needed(&self, column: &RenderedColumn) -> bool;
    /// Whether `value` must be rewritten.
    fn needed(&self, value: &[u8]) -> bool;
    /// Writes `value` rewritten to `out`.
    fn write(&self, value: &[u8], out: &mut BytesMut);
}

/// One column of a batch rendered: its values' bytes and NULLs.
pub(crate) struct RenderedColumn {
    values: Values,
}

/// Where a rendered column's bytes are.
enum Values {
    /// Rendered into one buffer.
    Rendered(BinaryArray),
    /// A string column read where it is: a `Utf8View` column's text form is its bytes, so a
    /// `DataRow` copies them straight from the batch (no rendered copy of the column first).
    Strings(StringViewArray),
}

impl RenderedColumn {
    /// The bytes of the value at `row`, `None` for NULL.
    pub fn value(&self, row: usize) -> Option<&[u8]> {
        match &self.values {
            Values::Rendered(values) if values.is_valid(row) => Some(values.value(row)),
            Values::Strings(values) if values.is_valid(row) => Some(values.value(row).as_bytes()),
            _ => None,
        }
    }

    /// The bytes of all values, back to back (a sliced input may leave bytes of other rows
    /// in it: for a scan that may answer yes for nothing). Only for a column rendered into one
    /// buffer: COPY, the one caller, renders every column so ([`render`] with an escape).
    pub fn bytes(&self) -> &[u8] {
        match &self.values {
            Values::Rendered(values) => values.value_data(),
            Values::Strings(_) => &[],
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        match &self.values {
            Values::Rendered(values) => values.len(),
            Values::Strings(values) => values.len(),
        }
    }

    /// The total size of the rendered values.
    pub fn len(&self) -> usize {
        match &self.values {
            Values::Rendered(values) => values.value_data().len(),
            Values::Strings(values) => values.total_bytes_len(),
        }
    }

    /// The NULLs of the column.
    fn nulls(&self) -> Option<NullBuffer> {
        match &self.values {
            Values::Rendered(values) => values.nulls().cloned(),
            Values::Strings(values) => values.nulls().cloned(),
        }
    }
}

/// Renders the `rows` values of `column` (read from `array`, of `encoding`) in `format`
/// (values printed with `output`); `escape`, if given, rewrites the text values that need it.
pub(crate) fn render(
    array: &ArrayRef,
    column: &Column<'_>,
    encoding: &Encoding,
    format: FieldFormat,
    output: &OutputOptions,
    escape: Option<&dyn Escape>,
) -> Result<RenderedColumn, String> {
    if escape.is_none()
        && matches!(encoding, Encoding::Text)
        && let Some(strings) = array.as_string_view_opt()
    {
        return Ok(RenderedColumn {
            values: Values::Strings(strings.clone()),
        });
    }
    let rendered = match by_cast(array, encoding, format)? {
        Some(values) => RenderedColumn {
            values: Values::Rendered(values),
        },
        None => value_by_value(column, array.len(), |row, out| match format {
            FieldFormat::Text => column.text(row, out, output),
            FieldFormat::Binary => column.binary(row, out),
        })?,
    };
    match escape {
        Some(escape) if escape.any_needed(&rendered) => escaped(&rendered, escape),
        _ => Ok(rendered),
    }
}

/// Strings, and integers in text form: Arrow's cast kernels render them.
fn by_cast(
    array: &ArrayRef,
    encoding: &Encoding,
    format: FieldFormat,
) -> Result<Option<BinaryArray>, String> {
    let by_arrow = matches!(
        (encoding, format),
        (Encoding::Text, _)
            | (
                Encoding::Int2 | Encoding::Int4 | Encoding::Int8,
                FieldFormat::Text
            )
    );
    if !by_arrow {
        return Ok(None);
    }
    let strings = if array.data_type() == &DataType::Utf8 {
        array.clone()
    } else {
        cast(array, &DataType::Utf8).map_err(|e| e.to_string())?
    };
    Ok(Some(BinaryArray::from(strings.as_string::<i32>().clone())))
}

/// Renders each non-null row with `write`.
fn value_by_value(
    column: &Column<'_>,
    rows: usize,
    mut write: impl FnMut(usize, &mut BytesMut) -> Result<(), String>,
) -> Result<RenderedColumn, String> {
    let mut bytes = BytesMut::with_capacity(rows * 8);
    let mut offsets = Vec::with_capacity(rows + 1);
    offsets.push(0i32);
    for row in 0..rows {
        if !column.is_null(row) {
            write(row, &mut bytes)?;
        }
        offsets.push(offset(bytes.len())?);
    }
    finish(bytes, offsets, column.nulls())
}

/// `rendered` with each value that needs it rewritten by `escape`.
fn escaped(rendered: &RenderedColumn, escape: &dyn Escape) -> Result<RenderedColumn, String> {
    let rows = rendered.rows();
    let mut bytes = BytesMut::with_capacity(rendered.len() + rows);
    let mut offsets = Vec::with_capacity(rows + 1);
    offsets.push(0i32);
    for row in 0..rows {
        if let Some(value) = rendered.value(row) {
            if escape.needed(value) {
                escape.write(value, &mut bytes);
            } else {
                bytes.extend_from_slice(value);
            }
        }
        offsets.push(offset(bytes.len())?);
    }
    finish(bytes, offsets, rendered.nulls())
}

fn offset(length: usize) -> Result<i32, String> {
    i32::try_from(length).map_err(|_| "a batch's column renders to more than 2 GiB".to_string())
}

fn finish(
    bytes: BytesMut,
    offsets: Vec<i32>,
    nulls: Option<NullBuffer>,
) -> Result<RenderedColumn, String> {
    let values = BinaryArray::try_new(
        OffsetBuffer::new(offsets.into()),
        Buffer::from(bytes.freeze()),
        nulls,
    )
    .map_err(|e| e.to_string())?;
    Ok(RenderedColumn {
        values: Values::Rendered(values),
    })
}
