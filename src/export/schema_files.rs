//! The schema files written beside each table: BigQuery's JSON schema (for `bq load
//! --schema=FILE`) and the Arrow schema.
//!
//! | Arrow | BigQuery |
//! |---|---|
//! | Utf8, LargeUtf8, Utf8View | STRING |
//! | Int8..Int64, UInt8..UInt32 | INTEGER |
//! | UInt64, Decimal128 | NUMERIC |
//! | Decimal256 | BIGNUMERIC |
//! | Float16..Float64 | FLOAT |
//! | Boolean | BOOLEAN |
//! | Date32, Date64 | DATE |
//! | Timestamp with a zone | TIMESTAMP |
//! | Timestamp without a zone | DATETIME |
//! | Time32, Time64 | TIME |
//! | Binary, LargeBinary, BinaryView, FixedSizeBinary | BYTES |
//! | List, LargeList, FixedSizeList of T | T, mode REPEATED |
//! | Struct | RECORD with `fields` |
//!
//! Mode is `REQUIRED` for a non-nullable column, else `NULLABLE`. Other types (durations,
//! intervals, maps, unions) are an error naming the column.

use arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// BigQuery's JSON schema of `schema`: an array of `{name, type, mode[, fields]}`.
pub fn bigquery_schema(schema: &Schema) -> Result<Value> {
    schema
        .fields()
        .iter()
        .map(|f| bigquery_field(f))
        .collect::<Result<Vec<_>>>()
        .map(Value::Array)
}

fn bigquery_field(field: &Field) -> Result<Value> {
    let (data_type, repeated) = match field.data_type() {
        DataType::List(inner) | DataType::LargeList(inner) | DataType::FixedSizeList(inner, _) => {
            (inner.data_type(), true)
        }
        other => (other, false),
    };
    let kind = match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING",
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => "INTEGER",
        DataType::UInt64 | DataType::Decimal128(..) => "NUMERIC",
        DataType::Decimal256(..) => "BIGNUMERIC",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "FLOAT",
        DataType::Boolean => "BOOLEAN",
        DataType::Date32 | DataType::Date64 => "DATE",
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP",
        DataType::Timestamp(_, None) => "DATETIME",
        DataType::Time32(_) | DataType::Time64(_) => "TIME",
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "BYTES",
        DataType::Struct(_) => "RECORD",
        other => {
            return Err(Error::Config(format!(
                "export: column '{}' has type {other}, which BigQuery cannot load",
                field.name()
            )));
        }
    };
    let mode = if repeated {
        "REPEATED"
    } else if field.is_nullable() {
        "NULLABLE"
    } else {
        "REQUIRED"
    };
    let mut out = json!({ "name": field.name(), "type": kind, "mode": mode });
    if let DataType::Struct(fields) = data_type {
        out["fields"] = fields
            .iter()
            .map(|f| bigquery_field(f))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array)?;
    }
    Ok(out)
}

/// The Arrow schema of `schema` as JSON: `{"fields": [{name, data_type, nullable}]}`, types
/// written as Arrow prints them (`Timestamp(µs, "UTC")`, `Utf8`, `Date32` ...).
pub fn arrow_schema(schema: &Schema) -> Value {
    json!({
        "fields": schema.fields().iter().map(|f| json!({
            "name": f.name(),
            "data_type": f.data_type().to_string(),
            "nullable": f.is_nullable(),
        })).collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{Fields, TimeUnit};
    use std::sync::Arc;

    #[test]
    fn lake_types_map_to_what_bq_load_expects() {
        let schema = Schema::new(vec![
            Field::new("tenant_id", DataType::Utf8, false),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new(
                "local",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
            Field::new("dt", DataType::Date32, false),
            Field::new("is_template", DataType::Boolean, true),
            Field::new("calling_code", DataType::Int32, true),
            Field::new("value", DataType::Float64, true),
            Field::new(
                "tags",
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                true,
            ),
            Field::new(
                "geo",
                DataType::Struct(Fields::from(vec![Field::new(
                    "cc",
                    DataType::Utf8View,
                    true,
                )])),
                true,
            ),
        ]);
        let got = bigquery_schema(&schema).expect("schema");
        let expected = json!([
            {"name": "tenant_id", "type": "STRING", "mode": "REQUIRED"},
            {"name": "ts", "type": "TIMESTAMP", "mode": "REQUIRED"},
            {"name": "local", "type": "DATETIME", "mode": "NULLABLE"},
            {"name": "dt", "type": "DATE", "mode": "REQUIRED"},
            {"name": "is_template", "type": "BOOLEAN", "mode": "NULLABLE"},
            {"name": "calling_code", "type": "INTEGER", "mode": "NULLABLE"},
            {"name": "value", "type": "FLOAT", "mode": "NULLABLE"},
            {"name": "tags", "type": "STRING", "mode": "REPEATED"},
            {"name": "geo", "type": "RECORD", "mode": "NULLABLE",
             "fields": [{"name": "cc", "type": "STRING", "mode": "NULLABLE"}]},
        ]);
        assert_eq!(got, expected);
    }

    #[test]
    fn a_type_bigquery_lacks_is_an_error_naming_the_column() {
        let schema = Schema::new(vec![Field::new(
            "wait",
            DataType::Duration(TimeUnit::Second),
            true,
        )]);
        let err = bigquery_schema(&schema).expect_err("duration");
        assert!(err.to_string().contains("'wait'"), "{err}");
        let arrow = arrow_schema(&schema);
        assert_eq!(arrow["fields"][0]["name"], "wait");
    }
}
