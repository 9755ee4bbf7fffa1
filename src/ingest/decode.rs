//! Input rows to Arrow batches of one lake table, every row checked, bad rows kept as rejects.
//!
//! A [`Decoder`] takes rows one at a time ([`Decoder::push_json`], [`Decoder::push_fields`],
//! [`Decoder::push_arrow_row`]) and [`Decoder::finish`] hands back the good rows as one batch in
//! the table's schema plus the bad rows with their line and reason. Per row:
//!
//! 1. every member is matched to a column by name; unknown names make the row bad (naming
//!    them) unless [`DecodeOptions::ignore_unknown`];
//! 2. every value is converted to its column's type ([`crate::ingest::value`]);
//! 3. derived columns the row leaves out are filled in ([`crate::ingest::rules`]' table);
//! 4. required columns must be non-null, enum columns must hold one of their values, zone
//!    columns an IANA zone name.
//!
//! A row is appended only when all of it is good, so a bad row never leaves half a row behind.
//! The first fault found is the one reported.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, BooleanBuilder, Float64Builder, Int32Builder,
    Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, TimeUnit};
use chatlake_udfs::phone::{PhoneInfo, lookup};

use super::rules::{self, TableRules};
use super::value::{self, Input, JsonRow};
use crate::error::{Error, Result};
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

impl Reject {
    /// `SOURCE:LINE: column C: reason` (the column part only when there is one).
    pub fn describe(&self, source: &str) -> String {
        match &self.column {
            Some(column) => format!("{source}:{}: column {column}: {}", self.line, self.reason),
            None => format!("{source}:{}: {}", self.line, self.reason),
        }
    }
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
    let mut decoder = Decoder::new(table, options.clone(), ingested_at)?;
    for (i, line) in input.split(|b| *b == b'\n').enumerate() {
        decoder.push_json(first_line + i as u64, line);
    }
    decoder.finish()
}

/// A column's type, as the decoder converts into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Int32,
    Int64,
    Float,
    Timestamp,
}

/// One converted value.
#[derive(Debug, Clone, PartialEq)]
enum Cell<'a> {
    Null,
    Text(Cow<'a, str>),
    Bool(bool),
    Int(i64),
    Float(f64),
    Micros(i64),
    /// Two ASCII letters (a country code from the phone lookup): text without an allocation.
    Code([u8; 2]),
}

impl Cell<'_> {
    fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }

    fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            Cell::Code(c) => std::str::from_utf8(c).ok(),
            _ => None,
        }
    }
}

/// A column as the decoder sees it.
#[derive(Debug)]
struct Column {
    name: String,
    kind: Kind,
    required: bool,
    allowed: Option<&'static [&'static str]>,
    zone: bool,
}

/// Indices of the columns a rule of [`rules`] fills in, where the table has them.
#[derive(Debug, Default)]
struct Derived {
    contact_id: Option<usize>,
    wa_id: Option<usize>,
    country_code: Option<usize>,
    calling_code: Option<usize>,
    msg_type: Option<usize>,
    is_template: Option<usize>,
    direction: Option<usize>,
    author_type: Option<usize>,
    error_code: Option<usize>,
    error_bucket: Option<usize>,
    source: Option<usize>,
    updated_at: Option<usize>,
    ingested_at: Option<usize>,
}

/// One column's builder.
enum Builder {
    Text(StringBuilder),
    Bool(BooleanBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float(Float64Builder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
            Kind::Int32 => Builder::Int32(Int32Builder::new()),
            Kind::Int64 => Builder::Int64(Int64Builder::new()),
            Kind::Float => Builder::Float(Float64Builder::new()),
            Kind::Timestamp => Builder::Timestamp(TimestampMicrosecondBuilder::new()),
        }
    }

    /// Appends a cell already converted to this builder's kind.
    fn append(&mut self, cell: &Cell<'_>) {
        match (self, cell) {
            (Builder::Text(b), Cell::Text(s)) => b.append_value(s),
            (Builder::Text(b), cell @ Cell::Code(_)) => match cell.text() {
                Some(text) => b.append_value(text),
                None => b.append_null(),
            },
            (Builder::Bool(b), Cell::Bool(v)) => b.append_value(*v),
            (Builder::Int32(b), Cell::Int(v)) => b.append_value(*v as i32),
            (Builder::Int64(b), Cell::Int(v)) => b.append_value(*v),
            (Builder::Float(b), Cell::Float(v)) => b.append_value(*v),
            (Builder::Timestamp(b), Cell::Micros(v)) => b.append_value(*v),
            (b, _) => b.append_null(),
        }
    }

    fn append_null(&mut self) {
        match self {
            Builder::Text(b) => b.append_null(),
            Builder::Bool(b) => b.append_null(),
            Builder::Int32(b) => b.append_null(),
            Builder::Int64(b) => b.append_null(),
            Builder::Float(b) => b.append_null(),
            Builder::Timestamp(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int32(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => Arc::new(b.finish().with_timezone("UTC")),
        }
    }

    fn len(&self) -> usize {
        match self {
            Builder::Text(b) => b.len(),
            Builder::Bool(b) => b.len(),
            Builder::Int32(b) => b.len(),
            Builder::Int64(b) => b.len(),
            Builder::Float(b) => b.len(),
            Builder::Timestamp(b) => b.len(),
        }
    }
}

/// A row fault: the column at fault (if any) and the reason.
type Fault = (Option<String>, String);

/// Numbers a reused decoder's phone cache holds before [`Decoder::reuse`] empties it.
pub const PHONE_CACHE_LIMIT: usize = 100_000;

/// Most characters of a bad row kept in its [`Reject::raw`].
const RAW_LIMIT: usize = 64 * 1024;

/// Decodes rows of one table; see the module docs.
pub struct Decoder {
    table: &'static TableDef,
    rules: &'static TableRules,
    options: DecodeOptions,
    ingested_at: i64,
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    /// The column of each member position in the last row (rows mostly repeat their layout,
    /// so a name compare usually replaces the hash lookup); `usize::MAX`: unknown.
    layout: Vec<usize>,
    derived: Derived,
    builders: Vec<Builder>,
    rejects: Vec<Reject>,
    rows_read: u64,
    phones: HashMap<String, PhoneInfo>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("table", &self.table.name)
            .field("rows_read", &self.rows_read)
            .field("rejects", &self.rejects.len())
            .finish()
    }
}

impl Decoder {
    /// A decoder for `table`; fails for a table that cannot be ingested (derived tables).
    pub fn new(table: &'static TableDef, options: DecodeOptions, ingested_at: i64) -> Result<Self> {
        let rules = rules::rules(table.name).ok_or_else(|| {
            Error::Config(format!(
                "table '{}' is derived by chatlake from the other tables and cannot be ingested",
                table.name
            ))
        })?;
        let mut columns = Vec::new();
        for field in table.schema.fields() {
            let kind = match field.data_type() {
                DataType::Utf8 => Kind::Text,
                DataType::Boolean => Kind::Bool,
                DataType::Int32 => Kind::Int32,
                DataType::Int64 => Kind::Int64,
                DataType::Float64 => Kind::Float,
                DataType::Timestamp(TimeUnit::Microsecond, _) => Kind::Timestamp,
                other => {
                    return Err(Error::Config(format!(
                        "table '{}': column {} has type {other}, which ingest does not decode",
                        table.name,
                        field.name()
                    )));
                }
            };
            columns.push(Column {
                name: field.name().clone(),
                kind,
                required: !field.is_nullable(),
                allowed: rules.allowed(field.name()),
                zone: rules.zones.contains(&field.name().as_str()),
            });
        }
        let index: HashMap<String, usize> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let at = |name: &str| index.get(name).copied();
        let derived = Derived {
            contact_id: at("contact_id"),
            wa_id: at("wa_id"),
            country_code: at("country_code"),
            calling_code: at("calling_code"),
            msg_type: at("msg_type"),
            is_template: at("is_template"),
            direction: at("direction"),
            author_type: at("author_type"),
            error_code: at("error_code"),
            error_bucket: at("error_bucket"),
            source: at("source"),
            updated_at: (table.name == "contacts")
                .then(|| at("updated_at"))
                .flatten(),
            ingested_at: at("ingested_at"),
        };
        let builders = columns.iter().map(|c| Builder::new(c.kind)).collect();
        Ok(Decoder {
            table,
            rules,
            options,
            ingested_at,
            columns,
            index,
            layout: Vec::new(),
            derived,
            builders,
            rejects: Vec::new(),
            rows_read: 0,
            phones: HashMap::new(),
        })
    }

    /// Sets the `ingested_at` of the rows pushed from now on (a decoder kept for many
    /// requests); the phone cache is emptied once it holds [`PHONE_CACHE_LIMIT`] numbers.
    pub fn reuse(&mut self, ingested_at: i64) {
        self.ingested_at = ingested_at;
        if self.phones.len() >= PHONE_CACHE_LIMIT {
            self.phones.clear();
        }
    }

    /// The table decoded into.
    pub fn table(&self) -> &'static TableDef {
        self.table
    }

    /// Good rows buffered so far.
    pub fn buffered_rows(&self) -> usize {
        self.builders.first().map_or(0, Builder::len)
    }

    /// Bad rows found so far (since the last [`Decoder::finish`]).
    pub fn rejects(&self) -> &[Reject] {
        &self.rejects
    }

    /// One NDJSON line (line number `line`); a blank line is skipped.
    pub fn push_json(&mut self, line: u64, bytes: &[u8]) {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.rows_read += 1;
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                self.reject(
                    line,
                    (None, format!("not UTF-8 text: {e}")),
                    String::from_utf8_lossy(bytes).into_owned(),
                );
                return;
            }
        };
        let row: JsonRow = match serde_json::from_str(text) {
            Ok(row) => row,
            Err(e) => {
                self.reject(line, (None, format!("invalid JSON: {e}")), text.to_string());
                return;
            }
        };
        let result = self.convert_members(row.0.into_iter());
        self.finish_row(line, result, || text.to_string());
    }

    /// One row of named text fields (a CSV record: empty fields are NULL), read at `line`.
    pub fn push_fields<'a>(
        &mut self,
        line: u64,
        names: &[String],
        fields: impl Iterator<Item = &'a str> + Clone,
    ) {
        self.rows_read += 1;
        let members = names.iter().zip(fields.clone()).map(|(name, field)| {
            let value = if field.is_empty() {
                Input::Null
            } else {
                Input::Text(Cow::Borrowed(field))
            };
            (Cow::Borrowed(name.as_str()), value)
        });
        let result = self.convert_members(members);
        self.finish_row(line, result, || csv_line(fields));
    }

    /// Row `row` of an Arrow batch (Parquet input), reported as line `line`.
    pub fn push_arrow_row(&mut self, line: u64, batch: &RecordBatch, row: usize) {
        self.rows_read += 1;
        let schema = batch.schema();
        let mut faults = None;
        let members: Vec<(Cow<str>, Input)> = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(field, column)| match arrow_input(column.as_ref(), row) {
                Ok(value) => (Cow::Borrowed(field.name().as_str()), value),
                Err(reason) => {
                    faults.get_or_insert((Some(field.name().clone()), reason));
                    (Cow::Borrowed(field.name().as_str()), Input::Null)
                }
            })
            .collect();
        let result = match faults {
            Some(fault) => Err(fault),
            None => self.convert_members(members.into_iter()),
        };
        self.finish_row(line, result, || arrow_row_text(batch, row));
    }

    /// Counts a row that is bad as a whole (e.g. a CSV record with the wrong field count).
    pub fn push_bad(&mut self, line: u64, reason: String, raw: String) {
        self.rows_read += 1;
        self.reject(line, (None, reason), raw);
    }

    /// The bad rows found since the last call (or [`Decoder::finish`]), taken out.
    pub fn take_rejects(&mut self) -> Vec<Reject> {
        std::mem::take(&mut self.rejects)
    }

    /// The good rows as one batch (the builders start again empty) and the rejects so far.
    pub fn finish(&mut self) -> Result<Decoded> {
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.table.schema.clone(), columns)?;
        Ok(Decoded {
            batch,
            rejects: std::mem::take(&mut self.rejects),
            rows_read: std::mem::take(&mut self.rows_read),
        })
    }

    /// Appends a converted row, or records why it is bad.
    fn finish_row(
        &mut self,
        line: u64,
        result: std::result::Result<Vec<Cell<'_>>, Fault>,
        raw: impl FnOnce() -> String,
    ) {
        match result {
            Ok(cells) => {
                for (builder, cell) in self.builders.iter_mut().zip(&cells) {
                    builder.append(cell);
                }
            }
            Err(fault) => self.reject(line, fault, raw()),
        }
    }

    fn reject(&mut self, line: u64, (column, reason): Fault, mut raw: String) {
        if raw.len() > RAW_LIMIT {
            let mut cut = RAW_LIMIT;
            while !raw.is_char_boundary(cut) {
                cut -= 1;
            }
            raw.truncate(cut);
        }
        self.rejects.push(Reject {
            line,
            column,
            reason,
            raw,
        });
    }

    /// The column named `name`, the member at `position` of its row.
    fn column_of(&mut self, position: usize, name: &str) -> Option<usize> {
        if let Some(&i) = self.layout.get(position)
            && self.columns.get(i).is_some_and(|c| c.name == name)
        {
            return Some(i);
        }
        let found = self.index.get(name).copied();
        if self.layout.len() <= position {
            self.layout.resize(position + 1, usize::MAX);
        }
        self.layout[position] = found.unwrap_or(usize::MAX);
        found
    }

    /// Steps 1-4 of the module docs for one row's members.
    fn convert_members<'a>(
        &mut self,
        members: impl Iterator<Item = (Cow<'a, str>, Input<'a>)>,
    ) -> std::result::Result<Vec<Cell<'a>>, Fault> {
        let mut slots: Vec<Input<'a>> = vec![Input::Null; self.columns.len()];
        let mut unknown: Vec<String> = Vec::new();
        for (position, (name, value)) in members.enumerate() {
            match self.column_of(position, &name) {
                Some(i) => slots[i] = value,
                None => unknown.push(name.into_owned()),
            }
        }
        if !unknown.is_empty() && !self.options.ignore_unknown {
            let list = unknown.join(", ");
            return Err((
                unknown.first().cloned(),
                format!(
                    "unknown column{} {list} (table {} has no such column; load with --ignore-unknown to skip it)",
                    if unknown.len() > 1 { "s" } else { "" },
                    self.table.name
                ),
            ));
        }
        let mut cells = Vec::with_capacity(slots.len());
        for (column, input) in self.columns.iter().zip(slots) {
            let cell = convert(column, input, self.options.assume_tz)
                .map_err(|reason| (Some(column.name.clone()), reason))?;
            cells.push(cell);
        }
        self.fill_derived(&mut cells)?;
        for (column, cell) in self.columns.iter().zip(&cells) {
            check(column, cell, self.rules.table)
                .map_err(|reason| (Some(column.name.clone()), reason))?;
        }
        Ok(cells)
    }

    /// Step 3: the derived columns of [`rules`]' table the row leaves out.
    fn fill_derived<'a>(&mut self, cells: &mut [Cell<'a>]) -> std::result::Result<(), Fault> {
        let d = &self.derived;
        let wa_id: Option<Cow<'a, str>> = d.wa_id.and_then(|i| phone_text(&cells[i]));
        if let (Some(contact), Some(wa)) = (d.contact_id, &wa_id)
            && cells[contact].is_null()
        {
            cells[contact] = Cell::Text(wa.clone());
        }
        // Tables without `wa_id` (conversations) name the contact by its WhatsApp id.
        let phone: Option<Cow<'a, str>> = match wa_id {
            Some(wa) => Some(wa),
            None => d
                .contact_id
                .filter(|_| d.wa_id.is_none())
                .and_then(|i| phone_text(&cells[i]))
                .filter(|s| looks_like_phone(s)),
        };
        if let Some(wa) = &phone {
            let need_country = d.country_code.is_some_and(|i| cells[i].is_null());
            let need_code = d.calling_code.is_some_and(|i| cells[i].is_null());
            if need_country || need_code {
                // Looked up once per number of the load (no key allocation on a hit).
                let info = match self.phones.get(wa.as_ref()) {
                    Some(info) => *info,
                    None => {
                        let info = lookup(wa);
                        self.phones.insert(wa.to_string(), info);
                        info
                    }
                };
                if let (Some(i), true, Some(country)) = (
                    d.country_code,
                    need_country,
                    info.country.filter(|c| std::str::from_utf8(c).is_ok()),
                ) {
                    cells[i] = Cell::Code(country);
                }
                if let (Some(i), true, Some(code)) = (d.calling_code, need_code, info.calling_code)
                {
                    cells[i] = Cell::Int(i64::from(code));
                }
            }
        }
        if let (Some(flag), Some(kind)) = (d.is_template, d.msg_type)
            && cells[flag].is_null()
            && let Some(kind) = cells[kind].text()
        {
            cells[flag] = Cell::Bool(kind == "template");
        }
        if let (Some(author), Some(direction)) = (d.author_type, d.direction)
            && cells[author].is_null()
            && cells[direction].text() == Some("inbound")
        {
            cells[author] = Cell::Text(Cow::Borrowed("contact"));
        }
        if let (Some(bucket), Some(code)) = (d.error_bucket, d.error_code)
            && cells[bucket].is_null()
            && let Cell::Int(code) = cells[code]
        {
            cells[bucket] = Cell::Text(Cow::Borrowed(crate::generate::error_bucket(code as i32)));
        }
        if let Some(source) = d.source
            && cells[source].is_null()
        {
            cells[source] = Cell::Text(Cow::Borrowed("webhook"));
        }
        if let Some(updated) = d.updated_at
            && cells[updated].is_null()
        {
            cells[updated] = Cell::Micros(self.ingested_at);
        }
        if let Some(at) = d.ingested_at {
            cells[at] = Cell::Micros(self.ingested_at);
        }
        Ok(())
    }
}

/// Step 2: one input value converted to `column`'s type.
fn convert<'a>(
    column: &Column,
    input: Input<'a>,
    assume_tz: Option<chrono_tz::Tz>,
) -> std::result::Result<Cell<'a>, String> {
    let cell = match column.kind {
        Kind::Text => value::to_text(input)?.map(Cell::Text),
        Kind::Bool => value::to_bool(&input)?.map(Cell::Bool),
        Kind::Int32 => {
            value::to_int(&input, i64::from(i32::MIN), i64::from(i32::MAX))?.map(Cell::Int)
        }
        Kind::Int64 => value::to_int(&input, i64::MIN, i64::MAX)?.map(Cell::Int),
        Kind::Float => value::to_float(&input)?.map(Cell::Float),
        Kind::Timestamp => value::to_micros(&input, assume_tz)?.map(Cell::Micros),
    };
    Ok(cell.unwrap_or(Cell::Null))
}

/// Step 4: required, enum and zone checks.
fn check(column: &Column, cell: &Cell<'_>, table: &str) -> std::result::Result<(), String> {
    if cell.is_null() {
        if column.required {
            return Err(match column.name.as_str() {
                "contact_id" => format!(
                    "required in {table} (give contact_id, or wa_id to derive it from)"
                ),
                "author_type" => "required for outbound messages (flow, agent, api, broadcast, reminder, automation or system)".to_string(),
                _ => format!("required in {table}, missing or null"),
            });
        }
        return Ok(());
    }
    if let (Some(allowed), Some(text)) = (column.allowed, cell.text())
        && !allowed.contains(&text)
    {
        return Err(format!("'{text}' is not one of {}", allowed.join(", ")));
    }
    if column.zone
        && let Some(text) = cell.text()
        && text.parse::<chrono_tz::Tz>().is_err()
    {
        return Err(format!(
            "'{text}' is not an IANA time zone (e.g. Asia/Kolkata)"
        ));
    }
    Ok(())
}

/// A CSV record as a line of text, for a reject.
fn csv_line<'a>(fields: impl Iterator<Item = &'a str>) -> String {
    fields
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// One cell of an Arrow column as an input value.
fn arrow_input(column: &dyn Array, row: usize) -> std::result::Result<Input<'_>, String> {
    use arrow::datatypes::*;
    if column.is_null(row) {
        return Ok(Input::Null);
    }
    Ok(match column.data_type() {
        DataType::Utf8 => Input::Text(Cow::Borrowed(column.as_string::<i32>().value(row))),
        DataType::LargeUtf8 => Input::Text(Cow::Borrowed(column.as_string::<i64>().value(row))),
        DataType::Utf8View => Input::Text(Cow::Borrowed(column.as_string_view().value(row))),
        DataType::Boolean => Input::Bool(column.as_boolean().value(row)),
        DataType::Int8 => Input::Int(i64::from(column.as_primitive::<Int8Type>().value(row))),
        DataType::Int16 => Input::Int(i64::from(column.as_primitive::<Int16Type>().value(row))),
        DataType::Int32 => Input::Int(i64::from(column.as_primitive::<Int32Type>().value(row))),
        DataType::Int64 => Input::Int(column.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Input::Int(i64::from(column.as_primitive::<UInt8Type>().value(row))),
        DataType::UInt16 => Input::Int(i64::from(column.as_primitive::<UInt16Type>().value(row))),
        DataType::UInt32 => Input::Int(i64::from(column.as_primitive::<UInt32Type>().value(row))),
        DataType::UInt64 => {
            let v = column.as_primitive::<UInt64Type>().value(row);
            i64::try_from(v).map_or(Input::BigInt(v), Input::Int)
        }
        DataType::Float32 => {
            Input::Float(f64::from(column.as_primitive::<Float32Type>().value(row)))
        }
        DataType::Float64 => Input::Float(column.as_primitive::<Float64Type>().value(row)),
        DataType::Timestamp(unit, zone) => {
            let raw = match unit {
                TimeUnit::Second => {
                    column.as_primitive::<TimestampSecondType>().value(row) * 1_000_000
                }
                TimeUnit::Millisecond => {
                    column.as_primitive::<TimestampMillisecondType>().value(row) * 1_000
                }
                TimeUnit::Microsecond => {
                    column.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => {
                    column.as_primitive::<TimestampNanosecondType>().value(row) / 1_000
                }
            };
            if zone.is_none() {
                // A timestamp without a zone: its wall-clock text, so --assume-tz applies.
                let naive = chrono::DateTime::from_timestamp_micros(raw)
                    .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string())
                    .ok_or_else(|| format!("timestamp {raw} µs is out of range"))?;
                Input::Text(Cow::Owned(naive))
            } else {
                Input::Micros(raw)
            }
        }
        DataType::Decimal32(_, _)
        | DataType::Decimal64(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => {
            let cast = arrow::compute::cast(&column.slice(row, 1), &DataType::Float64)
                .map_err(|e| e.to_string())?;
            Input::Float(cast.as_primitive::<Float64Type>().value(0))
        }
        DataType::Dictionary(_, _) => {
            let cast = arrow::compute::cast(&column.slice(row, 1), &DataType::Utf8)
                .map_err(|e| e.to_string())?;
            Input::Text(Cow::Owned(cast.as_string::<i32>().value(0).to_string()))
        }
        DataType::List(_) | DataType::LargeList(_) => Input::Nested("an array"),
        DataType::Struct(_) | DataType::Map(_, _) => Input::Nested("an object"),
        other => return Err(format!("Parquet type {other} is not supported by ingest")),
    })
}

/// One row of an Arrow batch as JSON text, for a reject.
fn arrow_row_text(batch: &RecordBatch, row: usize) -> String {
    let mut out = Vec::new();
    {
        let mut writer = arrow::json::LineDelimitedWriter::new(&mut out);
        if writer.write(&batch.slice(row, 1)).is_err() {
            return format!("(row {row})");
        }
        let _ = writer.finish();
    }
    String::from_utf8_lossy(&out).trim_end().to_string()
}

/// The text of a phone-number cell without spaces and a leading `+`, borrowed from the input
/// where the cell is.
fn phone_text<'a>(cell: &Cell<'a>) -> Option<Cow<'a, str>> {
    match cell {
        Cell::Text(Cow::Borrowed(s)) => Some(Cow::Borrowed(s.trim().trim_start_matches('+'))),
        Cell::Text(Cow::Owned(s)) => Some(Cow::Owned(s.trim().trim_start_matches('+').to_string())),
        _ => None,
    }
}

/// Whether `id` can be a WhatsApp id: 7 to 15 digits (E.164 without the `+`).
fn looks_like_phone(id: &str) -> bool {
    (7..=15).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
