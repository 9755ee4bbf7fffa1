//! Functions with one answer per connection: `version()`, `current_database()`,
//! `current_schema()`, `current_user` & co. ([`ConstantText`]) and `pg_backend_pid()`.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::SECTION;

/// A zero-argument function returning a fixed string.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ConstantText {
    name: &'static str,
    value: String,
    signature: Signature,
    documentation: Documentation,
}

impl ConstantText {
    pub(super) fn new(name: &'static str, value: String, description: &str) -> Self {
        let documentation = Documentation::builder(SECTION, description, format!("{name}()"))
            .with_sql_example(format!("```sql\nSELECT {name}();\n-- {value}\n```"))
            .build();
        ConstantText {
            name,
            value,
            signature: Signature::nullary(Volatility::Stable),
            documentation,
        }
    }
}

impl ScalarUDFImpl for ConstantText {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            self.value.clone(),
        ))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// `pg_backend_pid()`: the connection's process id.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct BackendPid {
    pid: i32,
    signature: Signature,
    documentation: Arc<Documentation>,
}

impl BackendPid {
    pub(super) fn new(pid: i32) -> Self {
        BackendPid {
            pid,
            signature: Signature::nullary(Volatility::Stable),
            documentation: Arc::new(
                Documentation::builder(
                    SECTION,
                    "Process id of the server process serving this connection (the id a cancel request names).",
                    "pg_backend_pid()",
                )
                .with_sql_example("```sql\nSELECT pg_backend_pid();\n```")
                .build(),
            ),
        }
    }
}

impl ScalarUDFImpl for BackendPid {
    fn name(&self) -> &str {
        "pg_backend_pid"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Int32(Some(self.pid))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}
