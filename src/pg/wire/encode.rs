//! Result rows: Arrow record batches → `DataRow` messages, one batch at a time.
//!
//! Columns are described once ([`ResultColumns`], from the plan's schema); each batch is then
//! cast column by column to the canonical Arrow type of its Postgres type ([`super::types`]) and
//! written row by row in the format the client asked for per column (text or binary). A batch
//! is encoded when it arrives from DataFusion: a result is never held in memory as a whole.
//!
//! | | Text | Binary |
//! |---|---|---|
//! | NULL | length -1 | length -1 |
//! | numbers, dates, times, intervals | [`super::format`] | big-endian; dates and timestamps from 2000-01-01 |
//! | `numeric` | decimal string | base-10000 digits ([`super::format::numeric_binary`]) |
//! | `text` / `bytea` | UTF-8 / `\x…` hex | the bytes |
//! | arrays | `{a,b,NULL}` | one dimension, lower bound 1 |

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryViewArray, BooleanArray, Date32Array,
    Decimal128Array, Decimal256Array, DurationMicrosecondArray, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, IntervalMonthDayNanoArray, LargeBinaryArray,
    LargeStringArray, ListArray, StringArray, StringViewArray, Time64MicrosecondArray,
    TimestampMicrosecondArray,
};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Decimal256Type, DecimalType, DurationMicrosecondType,
    Field, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, IntervalMonthDayNanoType,
    Time64MicrosecondType, TimestampMicrosecondType,
};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use bytes::{BufMut, BytesMut};
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt, stream};
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

use super::format;
use super::render::{RenderedColumn, render};
use super::types::{ColumnType, Encoding, column_type};
use crate::pg::error::{code, from_datafusion, user_error};
use chrono_tz::Tz;

/// How values are printed, taken from the settings when a statement starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputOptions {
    /// Zone `timestamptz` values are printed in.
    pub time_zone: Tz,
    /// `extra_float_digits`: > 0 prints shortest round-trip floats.
    pub extra_float_digits: i32,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            time_zone: Tz::UTC,
            extra_float_digits: 1,
        }
    }
}

/// The columns of a result: names and wire types, fixed when the statement is planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultColumns {
    names: Vec<String>,
    types: Vec<ColumnType>,
    /// Per column: the table OID and column number it reads, if it is a plain column.
    origins: Vec<Option<(i32, i16)>>,
}

impl ResultColumns {
    /// The wire description of Arrow `fields`.
    pub fn new<'a>(fields: impl IntoIterator<Item = &'a Field>) -> Self {
        let (names, types) = fields
            .into_iter()
            .map(|f| {
                // Without the number that kept a repeated name unique inside the plan.
                let name = crate::pg::sql::column_names::wire_name(f.name()).to_string();
                (name, column_type(f.data_type()))
            })
            .unzip();
        ResultColumns {
            names,
            types,
            origins: Vec::new(),
        }
    }

    /// These columns with the table OID and column number each reads (`None`: computed).
    pub fn with_origins(mut self, origins: Vec<Option<(i32, i16)>>) -> Self {
        self.origins = origins;
        self
    }

    /// A single `text` column (e.g. the result of `SHOW`).
    pub fn text(names: &[&str]) -> Self {
        ResultColumns::new(
            names
                .iter()
                .map(|name| Field::new(*name, DataType::Utf8, true))
                .collect::<Vec<_>>()
                .iter(),
        )
    }

    /// The column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of columns.
    pub fn column_count(&self) -> usize {
        self.names.len()
    }

    /// The wire type of each column.
    pub fn column_types(&self) -> &[ColumnType] {
        &self.types
    }

    /// The columns of `batch` cast to the canonical Arrow type of their wire type (what the
    /// encoders read; display columns stay as they are).
    pub fn wire_arrays(&self, batch: &RecordBatch) -> PgWireResult<Vec<ArrayRef>> {
        wire_arrays(batch, &self.types)
    }

    /// The Postgres types of the columns.
    #[cfg(test)]
    pub fn pg_types(&self) -> impl Iterator<Item = &Type> {
        self.types.iter().map(|t| &t.pg)
    }

    /// The `RowDescription` fields, with the result formats the client asked for.
    pub fn field_infos(&self, format: &Format) -> Vec<FieldInfo> {
        self.names
            .iter()
            .zip(&self.types)
            .enumerate()
            .map(|(i, (name, ty))| {
                let origin = self.origins.get(i).copied().flatten();
                FieldInfo::new(
                    name.clone(),
                    origin.map(|(table, _)| table),
                    origin.map(|(_, column)| column),
                    ty.pg.clone(),
                    format_of(format, i),
                )
                .with_type_size(type_size(&ty.pg))
            })
            .collect()
    }

    /// An encoder writing these columns in `format` with the session's `output` options.
    pub fn encoder(&self, format: &Format, output: OutputOptions) -> RowEncoder {
        RowEncoder {
            fields: Arc::new(self.field_infos(format)),
            types: self.types.clone(),
            formats: (0..self.column_count())
                .map(|i| format_of(format, i))
                .collect(),
            output,
        }
    }
}

/// The format of column `index`; codes the client did not send default to text.
pub(crate) fn format_of(format: &Format, index: usize) -> FieldFormat {
    match format {
        Format::UnifiedText => FieldFormat::Text,
        Format::UnifiedBinary => FieldFormat::Binary,
        Format::Individual(codes) => codes
            .get(index)
            .map_or(FieldFormat::Text, |c| FieldFormat::from(*c)),
    }
}

/// `pg_type.typlen` of the builtin types we send (-1: variable length).
fn type_size(ty: &Type) -> i16 {
    match *ty {
        Type::BOOL => 1,
        Type::INT2 => 2,
        Type::INT4 | Type::FLOAT4 | Type::DATE => 4,
        Type::INT8 | Type::FLOAT8 | Type::TIME | Type::TIMESTAMP | Type::TIMESTAMPTZ => 8,
        Type::INTERVAL => 16,
        _ => -1,
    }
}

/// Writes record batches of one result as `DataRow`s.
#[derive(Debug, Clone)]
pub(crate) struct RowEncoder {
    fields: Arc<Vec<FieldInfo>>,
    types: Vec<ColumnType>,
    formats: Vec<FieldFormat>,
    output: OutputOptions,
}

impl RowEncoder {
    /// The `RowDescription` of the rows this encoder writes.
    pub fn fields(&self) -> Arc<Vec<FieldInfo>> {
        self.fields.clone()
    }

    /// Encodes every row of `batch`: each column rendered whole ([`render`]), then the rows
    /// laid out in one buffer that the `DataRow`s share.
    pub fn encode(&self, batch: &RecordBatch) -> PgWireResult<Vec<DataRow>> {
        let arrays = wire_arrays(batch, &self.types)?;
        let columns = columns_of(&arrays, &self.types)?;
        let field_count = i16::try_from(columns.len())
            .map_err(|_| user_error(code::INTERNAL_ERROR, "too many result columns"))?;
        let rows = batch.num_rows();
        let rendered = arrays
            .iter()
            .zip(&columns)
            .zip(self.types.iter().zip(&self.formats))
            .map(|((array, column), (ty, format))| {
                render(array, column, &ty.encoding, *format, &self.output, None)
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|message| user_error(code::DATA_EXCEPTION, message))?;

        let size =
            rendered.iter().map(RenderedColumn::len).sum::<usize>() + rows * 4 * columns.len();
        let mut buffer = BytesMut::with_capacity(size);
        let mut data_rows = Vec::with_capacity(rows);
        for row in 0..rows {
            for column in &rendered {
                put_field(column.value(row), &mut buffer)?;
            }
            data_rows.push(DataRow::new(buffer.split(), field_count));
        }
        Ok(data_rows)
    }
}

/// Writes one field as `DataRow`s and binary COPY hold it: a 32-bit length (-1 for NULL),
/// then the bytes.
pub(crate) fn put_field(value: Option<&[u8]>, out: &mut BytesMut) -> PgWireResult<()> {
    match value {
        None => out.put_i32(-1),
        Some(value) => {
            let length = i32::try_from(value.len())
                .map_err(|_| user_error(code::OUT_OF_MEMORY, "value too large"))?;
            out.put_i32(length);
            out.put_slice(value);
        }
    }
    Ok(())
}

/// Reads each of `arrays` (from [`wire_arrays`]) as a column of its wire type.
pub(crate) fn columns_of<'a>(
    arrays: &'a [ArrayRef],
    types: &[ColumnType],
) -> PgWireResult<Vec<Column<'a>>> {
    arrays
        .iter()
        .zip(types)
        .map(|(array, ty)| Column::new(array.as_ref(), &ty.encoding))
        .collect::<Result<Vec<_>, String>>()
        .map_err(internal)
}

/// The columns of `batch` cast to the canonical Arrow type of their wire `types` (display
/// columns stay as they are): the arrays [`Column::new`] reads.
fn wire_arrays(batch: &RecordBatch, types: &[ColumnType]) -> PgWireResult<Vec<ArrayRef>> {
    if batch.num_columns() != types.len() {
        return Err(user_error(
            code::INTERNAL_ERROR,
            format!(
                "result has {} columns, {} were described",
                batch.num_columns(),
                types.len()
            ),
        ));
    }
    batch
        .columns()
        .iter()
        .zip(types)
        .map(|(array, ty)| to_wire_type(array, ty))
        .collect()
}

fn internal(message: String) -> PgWireError {
    user_error(code::INTERNAL_ERROR, message)
}

/// Casts `array` to the canonical Arrow type of its wire type (display columns stay as they are).
fn to_wire_type(array: &ArrayRef, ty: &ColumnType) -> PgWireResult<ArrayRef> {
    if ty.encoding == Encoding::Display || array.data_type() == &ty.arrow {
        return Ok(array.clone());
    }
    cast(array, &ty.arrow).map_err(|e| {
        user_error(
            code::INTERNAL_ERROR,
            format!("cannot send {} as {}: {e}", array.data_type(), ty.pg.name()),
        )
    })
}

/// Streams the rows of `batches`, encoding each batch as it arrives.
pub(crate) fn row_stream(
    batches: SendableRecordBatchStream,
    encoder: RowEncoder,
) -> impl Stream<Item = PgWireResult<DataRow>> + Send + 'static {
    batches.flat_map(move |batch| {
        let rows: Vec<PgWireResult<DataRow>> = match batch {
            Ok(batch) => match encoder.encode(&batch) {
                Ok(rows) => rows.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            },
            Err(e) => vec![Err(from_datafusion(&e))],
        };
        stream::iter(rows)
    })
}

/// One column of a batch, downcast once, ready to write any of its values.
pub(crate) struct Column<'a> {
    array: &'a dyn Array,
    values: Values<'a>,
}

enum Values<'a> {
    Bool(&'a BooleanArray),
    Int2(&'a Int16Array),
    Int4(&'a Int32Array),
    Int8(&'a Int64Array),
    Float4(&'a Float32Array),
    Float8(&'a Float64Array),
    Decimal128(&'a Decimal128Array),
    Decimal256(&'a Decimal256Array),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    BinaryView(&'a BinaryViewArray),
    Date(&'a Date32Array),
    Time(&'a Time64MicrosecondArray),
    Timestamp(&'a TimestampMicrosecondArray),
    TimestampTz(&'a TimestampMicrosecondArray),
    Interval(&'a IntervalMonthDayNanoArray),
    Duration(&'a DurationMicrosecondArray),
    List {
        list: &'a ListArray,
        element: Box<Column<'a>>,
        element_oid: u32,
    },
    Display(ArrayFormatter<'a>),
}

fn expected<T>(value: Option<T>, what: &str, array: &dyn Array) -> Result<T, String> {
    value.ok_or_else(|| format!("expected {what} values, got {}", array.data_type()))
}

impl<'a> Column<'a> {
    /// Which values are NULL (`None`: none is).
    pub fn nulls(&self) -> Option<NullBuffer> {
        self.array.logical_nulls()
    }

    /// Whether the value at `row` is NULL.
    pub fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }

    /// For an array column: its element column and the element indexes of `row`.
    pub fn elements(
        &self,
        row: usize,
    ) -> Option<Result<(&Column<'a>, std::ops::Range<usize>), String>> {
        match &self.values {
            Values::List { list, element, .. } => {
                Some(list_bounds(list, row).map(|(start, end)| (element.as_ref(), start..end)))
            }
            _ => None,
        }
    }

    /// Reads `array` (cast to the canonical type of `encoding`, see
    /// [`ResultColumns::wire_arrays`]) as a column of that encoding.
    pub fn new(array: &'a dyn Array, encoding: &Encoding) -> Result<Self, String> {
        let values = match encoding {
            Encoding::Bool => Values::Bool(expected(array.as_boolean_opt(), "bool", array)?),
            Encoding::Int2 => Values::Int2(expected(
                array.as_primitive_opt::<Int16Type>(),
                "int2",
                array,
            )?),
            Encoding::Int4 => Values::Int4(expected(
                array.as_primitive_opt::<Int32Type>(),
                "int4",
                array,
            )?),
            Encoding::Int8 => Values::Int8(expected(
                array.as_primitive_opt::<Int64Type>(),
                "int8",
                array,
            )?),
            Encoding::Float4 => Values::Float4(expected(
                array.as_primitive_opt::<Float32Type>(),
                "float4",
                array,
            )?),
            Encoding::Float8 => Values::Float8(expected(
                array.as_primitive_opt::<Float64Type>(),
                "float8",
                array,
            )?),
            Encoding::Numeric => match array.data_type() {
                DataType::Decimal256(_, _) => Values::Decimal256(expected(
                    array.as_primitive_opt::<Decimal256Type>(),
                    "numeric",
                    array,
                )?),
                _ => Values::Decimal128(expected(
                    array.as_primitive_opt::<Decimal128Type>(),
                    "numeric",
                    array,
                )?),
            },
            Encoding::Text => match array.data_type() {
                DataType::LargeUtf8 => {
                    Values::LargeUtf8(expected(array.as_string_opt::<i64>(), "text", array)?)
                }
                DataType::Utf8View => {
                    Values::Utf8View(expected(array.as_string_view_opt(), "text", array)?)
                }
                _ => Values::Utf8(expected(array.as_string_opt::<i32>(), "text", array)?),
            },
            Encoding::Bytea => match array.data_type() {
                DataType::LargeBinary => {
                    Values::LargeBinary(expected(array.as_binary_opt::<i64>(), "bytea", array)?)
                }
                DataType::BinaryView => {
                    Values::BinaryView(expected(array.as_binary_view_opt(), "bytea", array)?)
                }
                _ => Values::Binary(expected(array.as_binary_opt::<i32>(), "bytea", array)?),
            },
            Encoding::Date => Values::Date(expected(
                array.as_primitive_opt::<Date32Type>(),
                "date",
                array,
            )?),
            Encoding::Time => Values::Time(expected(
                array.as_primitive_opt::<Time64MicrosecondType>(),
                "time",
                array,
            )?),
            Encoding::Timestamp => Values::Timestamp(expected(
                array.as_primitive_opt::<TimestampMicrosecondType>(),
                "timestamp",
                array,
            )?),
            Encoding::TimestampTz => Values::TimestampTz(expected(
                array.as_primitive_opt::<TimestampMicrosecondType>(),
                "timestamptz",
                array,
            )?),
            Encoding::Interval => Values::Interval(expected(
                array.as_primitive_opt::<IntervalMonthDayNanoType>(),
                "interval",
                array,
            )?),
            Encoding::Duration => Values::Duration(expected(
                array.as_primitive_opt::<DurationMicrosecondType>(),
                "interval",
                array,
            )?),
            Encoding::Array(element) => {
                let list = expected(array.as_list_opt::<i32>(), "array", array)?;
                Values::List {
                    list,
                    element: Box::new(Column::new(list.values().as_ref(), &element.encoding)?),
                    element_oid: element.pg.oid(),
                }
            }
            Encoding::Display => Values::Display(
                ArrayFormatter::try_new(array, &FormatOptions::default())
                    .map_err(|e| e.to_string())?,
            ),
        };
        Ok(Column { array, values })
    }

    /// Writes the text form of the (non-null) value at `row`.
    pub fn text(
        &self,
        row: usize,
        out: &mut BytesMut,
        output: &OutputOptions,
    ) -> Result<(), String> {
        let fmt_error = |e: std::fmt::Error| e.to_string();
        match &self.values {
            Values::Bool(a) => out.put_slice(if a.value(row) { b"t" } else { b"f" }),
            Values::Int2(a) => format::integer_text(a.value(row), out),
            Values::Int4(a) => format::integer_text(a.value(row), out),
            Values::Int8(a) => format::integer_text(a.value(row), out),
            Values::Float4(a) => format::float4_text(a.value(row), output.extra_float_digits, out),
            Values::Float8(a) => format::float8_text(a.value(row), output.extra_float_digits, out),
            Values::Decimal128(a) => out.put_slice(
                Decimal128Type::format_decimal(a.value(row), a.precision(), a.scale()).as_bytes(),
            ),
            Values::Decimal256(a) => out.put_slice(
                Decimal256Type::format_decimal(a.value(row), a.precision(), a.scale()).as_bytes(),
            ),
            Values::Utf8(a) => out.put_slice(a.value(row).as_bytes()),
            Values::LargeUtf8(a) => out.put_slice(a.value(row).as_bytes()),
            Values::Utf8View(a) => out.put_slice(a.value(row).as_bytes()),
            Values::Binary(a) => format::bytea_text(a.value(row), out),
            Values::LargeBinary(a) => format::bytea_text(a.value(row), out),
            Values::BinaryView(a) => format::bytea_text(a.value(row), out),
            Values::Date(a) => format::date_text(a.value(row), out)?,
            Values::Time(a) => format::time_text(a.value(row), out),
            Values::Timestamp(a) => format::timestamp_text(a.value(row), out)?,
            Values::TimestampTz(a) => {
                format::timestamptz_text(a.value(row), &output.time_zone, out)?
            }
            Values::Interval(a) => {
                let v = a.value(row);
                format::interval_text(v.months, v.days, v.nanoseconds / 1_000, out);
            }
            Values::Duration(a) => format::interval_text(0, 0, a.value(row), out),
            Values::List { list, element, .. } => {
                let (start, end) = list_bounds(list, row)?;
                let mut scratch = BytesMut::new();
                out.put_u8(b'{');
                for (n, index) in (start..end).enumerate() {
                    if n > 0 {
                        out.put_u8(b',');
                    }
                    if element.array.is_null(index) {
                        out.put_slice(b"NULL");
                        continue;
                    }
                    scratch.clear();
                    element.text(index, &mut scratch, output)?;
                    format::array_element_text(&scratch, out);
                }
                out.put_u8(b'}');
            }
            Values::Display(f) => write!(out, "{}", f.value(row)).map_err(fmt_error)?,
        }
        Ok(())
    }

    /// Writes the binary form of the (non-null) value at `row`.
    pub fn binary(&self, row: usize, out: &mut BytesMut) -> Result<(), String> {
        match &self.values {
            Values::Bool(a) => out.put_u8(u8::from(a.value(row))),
            Values::Int2(a) => out.put_i16(a.value(row)),
            Values::Int4(a) => out.put_i32(a.value(row)),
            Values::Int8(a) => out.put_i64(a.value(row)),
            Values::Float4(a) => out.put_f32(a.value(row)),
            Values::Float8(a) => out.put_f64(a.value(row)),
            Values::Decimal128(a) => format::numeric_binary(
                &Decimal128Type::format_decimal(a.value(row), a.precision(), a.scale()),
                out,
            )?,
            Values::Decimal256(a) => format::numeric_binary(
                &Decimal256Type::format_decimal(a.value(row), a.precision(), a.scale()),
                out,
            )?,
            Values::Utf8(a) => out.put_slice(a.value(row).as_bytes()),
            Values::LargeUtf8(a) => out.put_slice(a.value(row).as_bytes()),
            Values::Utf8View(a) => out.put_slice(a.value(row).as_bytes()),
            Values::Binary(a) => out.put_slice(a.value(row)),
            Values::LargeBinary(a) => out.put_slice(a.value(row)),
            Values::BinaryView(a) => out.put_slice(a.value(row)),
            Values::Date(a) => out.put_i32(
                a.value(row)
                    .checked_sub(format::PG_EPOCH_DAYS)
                    .ok_or("date out of range")?,
            ),
            Values::Time(a) => out.put_i64(a.value(row)),
            Values::Timestamp(a) | Values::TimestampTz(a) => out.put_i64(
                a.value(row)
                    .checked_sub(format::PG_EPOCH_MICROS)
                    .ok_or("timestamp out of range")?,
            ),
            Values::Interval(a) => {
                let v = a.value(row);
                out.put_i64(v.nanoseconds / 1_000);
                out.put_i32(v.days);
                out.put_i32(v.months);
            }
            Values::Duration(a) => {
                out.put_i64(a.value(row));
                out.put_i32(0);
                out.put_i32(0);
            }
            Values::List {
                list,
                element,
                element_oid,
            } => {
                let (start, end) = list_bounds(list, row)?;
                let has_null = (start..end).any(|i| element.array.is_null(i));
                if start == end {
                    out.put_i32(0); // dimensions
                    out.put_i32(0); // has nulls
                    out.put_u32(*element_oid);
                    return Ok(());
                }
                let length =
                    i32::try_from(end - start).map_err(|_| "array too long".to_string())?;
                out.put_i32(1);
                out.put_i32(i32::from(has_null));
                out.put_u32(*element_oid);
                out.put_i32(length);
                out.put_i32(1); // lower bound
                for index in start..end {
                    if element.array.is_null(index) {
                        out.put_i32(-1);
                        continue;
                    }
                    let at = out.len();
                    out.put_i32(0);
                    element.binary(index, out)?;
                    let size = i32::try_from(out.len() - at - 4)
                        .map_err(|_| "array element too large".to_string())?;
                    out[at..at + 4].copy_from_slice(&size.to_be_bytes());
                }
            }
            Values::Display(f) => {
                write!(out, "{}", f.value(row)).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

fn list_bounds(list: &ListArray, row: usize) -> Result<(usize, usize), String> {
    let offsets = list.value_offsets();
    match (offsets.get(row), offsets.get(row + 1)) {
        (Some(start), Some(end)) => Ok((*start as usize, *end as usize)),
        _ => Err(format!("list row {row} out of bounds")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use arrow::array::{ListBuilder, StringBuilder, TimestampMicrosecondArray};
    use arrow::datatypes::Schema;

    use super::*;

    fn values(row: &DataRow) -> Vec<Option<Vec<u8>>> {
        let mut data = &row.data[..];
        let mut out = Vec::new();
        while data.len() >= 4 {
            let len = i32::from_be_bytes([data[0], data[1], data[2], data[3]]);
            data = &data[4..];
            if len < 0 {
                out.push(None);
            } else {
                let len = len as usize;
                out.push(Some(data[..len].to_vec()));
                data = &data[len..];
            }
        }
        out
    }

    /// A batch of named nullable columns (test helper, also of `copy_rows`).
    pub(crate) fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let schema = Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(
            Arc::new(schema),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .expect("valid batch")
    }

    #[test]
    fn text_rows() {
        let mut lists = ListBuilder::new(StringBuilder::new());
        lists.values().append_value("a b");
        lists.values().append_null();
        lists.append(true);
        lists.append(true);
        let b = batch(vec![
            (
                "i",
                Arc::new(arrow::array::UInt8Array::from(vec![Some(7), None])),
            ),
            (
                "ts",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![0, 946_684_800_000_000])
                        .with_timezone("UTC"),
                ),
            ),
            ("l", Arc::new(lists.finish())),
        ]);
        let columns = ResultColumns::new(b.schema().fields().iter().map(|f| f.as_ref()));
        assert_eq!(
            columns.pg_types().cloned().collect::<Vec<_>>(),
            vec![Type::INT2, Type::TIMESTAMPTZ, Type::TEXT_ARRAY]
        );
        let rows = columns
            .encoder(&Format::UnifiedText, OutputOptions::default())
            .encode(&b)
            .expect("encodes");
        let text = |v: &Option<Vec<u8>>| v.as_ref().map(|b| String::from_utf8_lossy(b).to_string());
        let first = values(&rows[0]);
        assert_eq!(
            first.iter().map(text).collect::<Vec<_>>(),
            vec![
                Some("7".to_string()),
                Some("1970-01-01 00:00:00+00".to_string()),
                Some("{\"a b\",NULL}".to_string())
            ]
        );
        let second = values(&rows[1]);
        assert_eq!(
            second.iter().map(text).collect::<Vec<_>>(),
            vec![
                None,
                Some("2000-01-01 00:00:00+00".to_string()),
                Some("{}".to_string())
            ]
        );
    }

    #[test]
    fn binary_rows() {
        let b = batch(vec![
            ("n", Arc::new(Int64Array::from(vec![-2]))),
            ("d", Arc::new(Date32Array::from(vec![10_956]))),
            (
                "ts",
                Arc::new(TimestampMicrosecondArray::from(vec![946_684_800_000_001])),
            ),
        ]);
        let columns = ResultColumns::new(b.schema().fields().iter().map(|f| f.as_ref()));
        let rows = columns
            .encoder(&Format::UnifiedBinary, OutputOptions::default())
            .encode(&b)
            .expect("encodes");
        assert_eq!(
            values(&rows[0]),
            vec![
                Some((-2i64).to_be_bytes().to_vec()),
                // 1999-12-31 is the day before the Postgres epoch.
                Some((-1i32).to_be_bytes().to_vec()),
                Some(1i64.to_be_bytes().to_vec()),
            ]
        );
    }
}
