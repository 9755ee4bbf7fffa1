//! Arrow ⇄ Postgres type mapping.
//!
//! Every result column is described to the client with a builtin Postgres type (so drivers never
//! need to look types up in `pg_type`), and its Arrow values are first cast to one canonical Arrow
//! type per Postgres type, so the encoder only knows a handful of array types.
//!
//! | Arrow | Postgres | values cast to |
//! |---|---|---|
//! | `Boolean` | `bool` | — |
//! | `Int8`, `Int16`, `UInt8` | `int2` | `Int16` |
//! | `Int32`, `UInt16` | `int4` | `Int32` |
//! | `Int64`, `UInt32` | `int8` | `Int64` |
//! | `UInt64` | `numeric` | `Decimal128(20, 0)` |
//! | `Float16`, `Float32` / `Float64` | `float4` / `float8` | `Float32` / — |
//! | `Decimal32/64/128(p, s)` / `Decimal256` | `numeric` | `Decimal128(p, s)` / — |
//! | `Utf8`, `LargeUtf8`, `Utf8View` | `text` | — |
//! | `Binary`, `LargeBinary`, `BinaryView`, `FixedSizeBinary` | `bytea` | `FixedSizeBinary` → `Binary` |
//! | `Date32`, `Date64` | `date` | `Date32` |
//! | `Time32`, `Time64` | `time` | `Time64(µs)` |
//! | `Timestamp(_, None)` | `timestamp` | `Timestamp(µs, None)` |
//! | `Timestamp(_, Some(tz))` | `timestamptz` | `Timestamp(µs, tz)` |
//! | `Interval(_)` / `Duration(_)` | `interval` | `Interval(MonthDayNano)` / `Duration(µs)` |
//! | `List`, `LargeList`, `FixedSizeList` of a type above | its array type (`int8[]` …) | `List(element)` |
//! | `Dictionary(_, v)` | as `v` | `v`'s target |
//! | `Null` | `text` (always NULL) | `Utf8` |
//! | anything else (structs, maps, nested lists …) | `text` | rendered by Arrow's display |

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use pgwire::api::Type;

/// How the values of one column are written on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `bool`.
    Bool,
    /// `int2` from `Int16`.
    Int2,
    /// `int4` from `Int32`.
    Int4,
    /// `int8` from `Int64`.
    Int8,
    /// `float4` from `Float32`.
    Float4,
    /// `float8` from `Float64`.
    Float8,
    /// `numeric` from `Decimal128` or `Decimal256`.
    Numeric,
    /// `text` from any of the three Arrow string layouts.
    Text,
    /// `bytea` from any of the Arrow binary layouts.
    Bytea,
    /// `date` from `Date32`.
    Date,
    /// `time` from `Time64(µs)`.
    Time,
    /// `timestamp` from `Timestamp(µs, None)`.
    Timestamp,
    /// `timestamptz` from `Timestamp(µs, tz)`: an instant, rendered in the session time zone.
    TimestampTz,
    /// `interval` from `Interval(MonthDayNano)`.
    Interval,
    /// `interval` from `Duration(µs)`.
    Duration,
    /// A one-dimensional Postgres array from `List(element)`.
    Array(Box<ColumnType>),
    /// `text` rendered by Arrow's display formatter.
    Display,
}

/// The Postgres type of a column and the Arrow type its values are cast to before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnType {
    /// The type announced in `RowDescription`.
    pub pg: Type,
    /// The Arrow type the column is cast to before encoding (the canonical type of `pg`).
    pub arrow: DataType,
    /// How the values are written.
    pub encoding: Encoding,
}

impl ColumnType {
    fn new(pg: Type, arrow: DataType, encoding: Encoding) -> Self {
        ColumnType {
            pg,
            arrow,
            encoding,
        }
    }
}

/// Maps an Arrow type to the Postgres type and encoding used for it (see the module table).
pub(crate) fn column_type(data_type: &DataType) -> ColumnType {
    use DataType as D;
    match data_type {
        D::Boolean => ColumnType::new(Type::BOOL, D::Boolean, Encoding::Bool),
        D::Int8 | D::Int16 | D::UInt8 => ColumnType::new(Type::INT2, D::Int16, Encoding::Int2),
        D::Int32 | D::UInt16 => ColumnType::new(Type::INT4, D::Int32, Encoding::Int4),
        D::Int64 | D::UInt32 => ColumnType::new(Type::INT8, D::Int64, Encoding::Int8),
        D::UInt64 => ColumnType::new(Type::NUMERIC, D::Decimal128(20, 0), Encoding::Numeric),
        D::Float16 | D::Float32 => ColumnType::new(Type::FLOAT4, D::Float32, Encoding::Float4),
        D::Float64 => ColumnType::new(Type::FLOAT8, D::Float64, Encoding::Float8),
        D::Decimal32(p, s) | D::Decimal64(p, s) | D::Decimal128(p, s) => {
            ColumnType::new(Type::NUMERIC, D::Decimal128(*p, *s), Encoding::Numeric)
        }
        D::Decimal256(_, _) => ColumnType::new(Type::NUMERIC, data_type.clone(), Encoding::Numeric),
        D::Utf8 | D::LargeUtf8 | D::Utf8View => {
            ColumnType::new(Type::TEXT, data_type.clone(), Encoding::Text)
        }
        D::Binary | D::LargeBinary | D::BinaryView => {
            ColumnType::new(Type::BYTEA, data_type.clone(), Encoding::Bytea)
        }
        D::FixedSizeBinary(_) => ColumnType::new(Type::BYTEA, D::Binary, Encoding::Bytea),
        D::Date32 | D::Date64 => ColumnType::new(Type::DATE, D::Date32, Encoding::Date),
        D::Time32(_) | D::Time64(_) => {
            ColumnType::new(Type::TIME, D::Time64(TimeUnit::Microsecond), Encoding::Time)
        }
        D::Timestamp(_, None) => ColumnType::new(
            Type::TIMESTAMP,
            D::Timestamp(TimeUnit::Microsecond, None),
            Encoding::Timestamp,
        ),
        D::Timestamp(_, Some(tz)) => ColumnType::new(
            Type::TIMESTAMPTZ,
            D::Timestamp(TimeUnit::Microsecond, Some(tz.clone())),
            Encoding::TimestampTz,
        ),
        D::Interval(_) => ColumnType::new(
            Type::INTERVAL,
            D::Interval(IntervalUnit::MonthDayNano),
            Encoding::Interval,
        ),
        D::Duration(_) => ColumnType::new(
            Type::INTERVAL,
            D::Duration(TimeUnit::Microsecond),
            Encoding::Duration,
        ),
        D::List(field) | D::LargeList(field) | D::FixedSizeList(field, _) => {
            list_type(field.data_type()).unwrap_or_else(display)
        }
        D::Dictionary(_, value) => column_type(value),
        D::Null => ColumnType::new(Type::TEXT, D::Utf8, Encoding::Text),
        _ => display(),
    }
}

fn display() -> ColumnType {
    ColumnType::new(Type::TEXT, DataType::Utf8, Encoding::Display)
}

/// The Postgres array type whose elements are `element`, when there is one.
fn list_type(element: &DataType) -> Option<ColumnType> {
    let element = column_type(element);
    let pg = array_of(&element.pg)?;
    if matches!(element.encoding, Encoding::Array(_) | Encoding::Display) {
        return None;
    }
    let arrow = DataType::List(Arc::new(Field::new_list_field(element.arrow.clone(), true)));
    Some(ColumnType::new(
        pg,
        arrow,
        Encoding::Array(Box::new(element)),
    ))
}

/// The one-dimensional array type of a builtin element type.
fn array_of(element: &Type) -> Option<Type> {
    let array = match *element {
        Type::BOOL => Type::BOOL_ARRAY,
        Type::INT2 => Type::INT2_ARRAY,
        Type::INT4 => Type::INT4_ARRAY,
        Type::INT8 => Type::INT8_ARRAY,
        Type::FLOAT4 => Type::FLOAT4_ARRAY,
        Type::FLOAT8 => Type::FLOAT8_ARRAY,
        Type::NUMERIC => Type::NUMERIC_ARRAY,
        Type::TEXT => Type::TEXT_ARRAY,
        Type::BYTEA => Type::BYTEA_ARRAY,
        Type::DATE => Type::DATE_ARRAY,
        Type::TIME => Type::TIME_ARRAY,
        Type::TIMESTAMP => Type::TIMESTAMP_ARRAY,
        Type::TIMESTAMPTZ => Type::TIMESTAMPTZ_ARRAY,
        Type::INTERVAL => Type::INTERVAL_ARRAY,
        _ => return None,
    };
    Some(array)
}

/// The Postgres type reported for a parameter DataFusion inferred as `data_type`.
/// The element type of a one-dimensional array type this server reads and writes (`_text` →
/// `text`; also `_varchar`, `_name`, `_oid`, `_bpchar`, which clients send for text and OIDs).
pub(crate) fn element_of(array: &Type) -> Option<Type> {
    let element = match *array {
        Type::BOOL_ARRAY => Type::BOOL,
        Type::INT2_ARRAY => Type::INT2,
        Type::INT4_ARRAY => Type::INT4,
        Type::INT8_ARRAY => Type::INT8,
        Type::OID_ARRAY => Type::OID,
        Type::FLOAT4_ARRAY => Type::FLOAT4,
        Type::FLOAT8_ARRAY => Type::FLOAT8,
        Type::NUMERIC_ARRAY => Type::NUMERIC,
        Type::TEXT_ARRAY => Type::TEXT,
        Type::VARCHAR_ARRAY => Type::VARCHAR,
        Type::BPCHAR_ARRAY => Type::BPCHAR,
        Type::NAME_ARRAY => Type::NAME,
        Type::CHAR_ARRAY => Type::CHAR,
        Type::BYTEA_ARRAY => Type::BYTEA,
        Type::DATE_ARRAY => Type::DATE,
        Type::TIME_ARRAY => Type::TIME,
        Type::TIMESTAMP_ARRAY => Type::TIMESTAMP,
        Type::TIMESTAMPTZ_ARRAY => Type::TIMESTAMPTZ,
        Type::INTERVAL_ARRAY => Type::INTERVAL,
        _ => return None,
    };
    Some(element)
}

pub(crate) fn parameter_type(data_type: &DataType) -> Type {
    match data_type {
        DataType::Null => Type::TEXT,
        other => column_type(other).pg,
    }
}

/// The Arrow type a value of Postgres type `ty` decodes to when DataFusion expects nothing.
pub(crate) fn natural_type(ty: &Type) -> DataType {
    if let Some(element) = element_of(ty) {
        return DataType::List(Arc::new(Field::new_list_field(
            natural_type(&element),
            true,
        )));
    }
    match *ty {
        Type::BOOL => DataType::Boolean,
        Type::INT2 => DataType::Int16,
        Type::INT4 => DataType::Int32,
        Type::INT8 | Type::OID => DataType::Int64,
        Type::FLOAT4 => DataType::Float32,
        Type::FLOAT8 => DataType::Float64,
        Type::NUMERIC => DataType::Decimal128(38, 10),
        Type::BYTEA => DataType::Binary,
        Type::DATE => DataType::Date32,
        Type::TIME => DataType::Time64(TimeUnit::Microsecond),
        Type::TIMESTAMP => DataType::Timestamp(TimeUnit::Microsecond, None),
        Type::TIMESTAMPTZ => DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
        Type::INTERVAL => DataType::Interval(IntervalUnit::MonthDayNano),
        _ => DataType::Utf8,
    }
}

/// What `information_schema.columns` says about a Postgres type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeInfo {
    /// `data_type`: the SQL name (`bigint`, `timestamp with time zone`, `ARRAY`).
    pub data_type: &'static str,
    /// `udt_name`: the `pg_type.typname` (`int8`, `timestamptz`, `_text`).
    pub udt_name: String,
    /// `numeric_precision`.
    pub precision: Option<i32>,
    /// `numeric_precision_radix`.
    pub radix: Option<i32>,
    /// `numeric_scale`.
    pub scale: Option<i32>,
    /// `datetime_precision`.
    pub datetime_precision: Option<i32>,
    /// `character_octet_length`.
    pub octet_length: Option<i32>,
}

/// The `information_schema` description of a column of Postgres type `ty` (Arrow `arrow`).
pub(crate) fn type_info(ty: &Type, arrow: &DataType) -> TypeInfo {
    let (data_type, precision, radix, scale, datetime_precision) = match *ty {
        Type::BOOL => ("boolean", None, None, None, None),
        Type::INT2 => ("smallint", Some(16), Some(2), Some(0), None),
        Type::INT4 => ("integer", Some(32), Some(2), Some(0), None),
        Type::INT8 => ("bigint", Some(64), Some(2), Some(0), None),
        Type::FLOAT4 => ("real", Some(24), Some(2), None, None),
        Type::FLOAT8 => ("double precision", Some(53), Some(2), None, None),
        Type::NUMERIC => {
            let (p, s) = match arrow {
                DataType::Decimal32(p, s)
                | DataType::Decimal64(p, s)
                | DataType::Decimal128(p, s)
                | DataType::Decimal256(p, s) => (Some(i32::from(*p)), Some(i32::from(*s))),
                DataType::UInt64 => (Some(20), Some(0)),
                _ => (None, None),
            };
            ("numeric", p, Some(10), s, None)
        }
        Type::TEXT => ("text", None, None, None, None),
        Type::BYTEA => ("bytea", None, None, None, None),
        Type::DATE => ("date", None, None, None, Some(0)),
        Type::TIME => ("time without time zone", None, None, None, Some(6)),
        Type::TIMESTAMP => ("timestamp without time zone", None, None, None, Some(6)),
        Type::TIMESTAMPTZ => ("timestamp with time zone", None, None, None, Some(6)),
        Type::INTERVAL => ("interval", None, None, None, Some(6)),
        _ if ty.name().starts_with('_') => ("ARRAY", None, None, None, None),
        _ => ("text", None, None, None, None),
    };
    let octet_length = (*ty == Type::TEXT).then_some(1_073_741_824);
    let udt_name = if data_type == "text" && *ty != Type::TEXT {
        "text".to_string()
    } else {
        ty.name().to_string()
    };
    TypeInfo {
        data_type,
        udt_name,
        precision,
        radix,
        scale,
        datetime_precision,
        octet_length,
    }
}

/// `true` for a table column that `information_schema.columns` can describe (used by tests).
#[cfg(test)]
fn describes(arrow: &DataType) -> bool {
    let ty = column_type(arrow).pg;
    !type_info(&ty, arrow).data_type.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_types_map_to_builtin_oids() {
        assert_eq!(column_type(&DataType::Int64).pg, Type::INT8);
        assert_eq!(column_type(&DataType::UInt8).arrow, DataType::Int16);
        assert_eq!(column_type(&DataType::Utf8View).pg, Type::TEXT);
        assert_eq!(
            column_type(&DataType::Timestamp(
                TimeUnit::Nanosecond,
                Some("UTC".into())
            ))
            .arrow,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(
            column_type(&DataType::Timestamp(TimeUnit::Millisecond, None)).pg,
            Type::TIMESTAMP
        );
    }

    #[test]
    fn lists_become_arrays_and_nested_lists_text() {
        let ints = DataType::List(Arc::new(Field::new_list_field(DataType::Int32, true)));
        assert_eq!(column_type(&ints).pg, Type::INT4_ARRAY);
        let strings =
            DataType::LargeList(Arc::new(Field::new_list_field(DataType::Utf8View, true)));
        assert_eq!(column_type(&strings).pg, Type::TEXT_ARRAY);
        let nested = DataType::List(Arc::new(Field::new_list_field(ints, true)));
        assert_eq!(column_type(&nested).encoding, Encoding::Display);
    }

    #[test]
    fn dictionaries_map_as_their_values() {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(column_type(&dict).pg, Type::TEXT);
        assert_eq!(column_type(&dict).arrow, DataType::Utf8);
    }

    #[test]
    fn information_schema_type_names_are_postgres_names() {
        let name = |t: DataType| type_info(&column_type(&t).pg, &t).data_type;
        assert_eq!(name(DataType::Int64), "bigint");
        assert_eq!(name(DataType::Utf8View), "text");
        assert_eq!(
            name(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            )),
            "timestamp with time zone"
        );
        assert_eq!(
            name(DataType::Timestamp(TimeUnit::Microsecond, None)),
            "timestamp without time zone"
        );
        assert_eq!(name(DataType::Float64), "double precision");
        assert_eq!(name(DataType::Boolean), "boolean");
        let info = type_info(&Type::NUMERIC, &DataType::Decimal128(12, 2));
        assert_eq!(
            (info.precision, info.scale, info.udt_name.as_str()),
            (Some(12), Some(2), "numeric")
        );
        assert!(describes(&DataType::Date32));
    }
}
