//! `pg_typeof(any)`: the PostgreSQL name of its argument's type, as a client sees the column
//! (`bigint`, `text`, `timestamp with time zone`, `text[]`); the same mapping as the wire's
//! row descriptions and `information_schema.columns` (`crate::pg::wire::types`).
//!
//! PostgreSQL returns a `regtype`, which prints as this name; here it is `text`.

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use pgwire::api::Type;

use super::SECTION;
use crate::pg::wire::types::{column_type, element_of, natural_type, type_info};

/// `pg_typeof(any)` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct PgTypeof {
    signature: Signature,
    documentation: Documentation,
}

impl PgTypeof {
    pub(super) fn new() -> Self {
        PgTypeof {
            signature: Signature::any(1, Volatility::Immutable),
            documentation: Documentation::builder(
                SECTION,
                "The PostgreSQL name of the argument's type, as clients see it in results.",
                "pg_typeof(value)",
            )
            .with_sql_example("```sql\nSELECT pg_typeof(current_date);\n-- date\n```")
            .build(),
        }
    }
}

/// The name `pg_typeof` prints for a value of Arrow type `data_type`.
fn pg_type_name(data_type: &DataType) -> String {
    if *data_type == DataType::Null {
        return "unknown".into();
    }
    let ty = column_type(data_type).pg;
    match element_of(&ty) {
        Some(element) => format!("{}[]", scalar_name(&element)),
        None => scalar_name(&ty),
    }
}

fn scalar_name(ty: &Type) -> String {
    let info = type_info(ty, &natural_type(ty));
    if info.data_type == "text" && *ty != Type::TEXT {
        // Types information_schema shows as text (name, char, json ...) keep their own name.
        ty.name().to_string()
    } else {
        info.data_type.to_string()
    }
}

impl ScalarUDFImpl for PgTypeof {
    fn name(&self) -> &str {
        "pg_typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [field] = args.arg_fields.as_slice() else {
            return exec_err!("pg_typeof() takes one argument");
        };
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            pg_type_name(field.data_type()),
        ))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::{Field, TimeUnit};

    use super::*;

    #[test]
    fn names_are_the_ones_postgres_prints() {
        assert_eq!(pg_type_name(&DataType::Int32), "integer");
        assert_eq!(pg_type_name(&DataType::Int64), "bigint");
        assert_eq!(pg_type_name(&DataType::Utf8View), "text");
        assert_eq!(pg_type_name(&DataType::Date32), "date");
        assert_eq!(pg_type_name(&DataType::Float64), "double precision");
        assert_eq!(pg_type_name(&DataType::Decimal128(10, 2)), "numeric");
        assert_eq!(
            pg_type_name(&DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            )),
            "timestamp with time zone"
        );
        let list = DataType::List(Field::new_list_field(DataType::Utf8, true).into());
        assert_eq!(pg_type_name(&list), "text[]");
        assert_eq!(pg_type_name(&DataType::Null), "unknown");
    }
}
