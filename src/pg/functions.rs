//! Postgres system information functions clients call right after connecting.
//!
//! | Function | Returns | Why clients need it |
//! |---|---|---|
//! | `version()` | `PostgreSQL 16.6 (chatlake 0.1.0) on x86_64-pc-linux-gnu` | SQLAlchemy/Superset parse `PostgreSQL N.N` from it (replaces DataFusion's own `version()`) |
//! | `current_database()` | `chatlake` | pgjdbc, Metabase |
//! | `current_schema()` | `public` | SQLAlchemy, pgjdbc |
//! | `pg_backend_pid()` | the connection's process id (as in `BackendKeyData`) | Superset |
//!
//! All take no arguments, never return NULL and are constant for the session.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use super::session::PG_VERSION;

/// The string `version()` returns.
pub fn version_string() -> String {
    let os = std::env::consts::OS;
    let target = if os == "linux" {
        format!("{}-pc-linux-gnu", std::env::consts::ARCH)
    } else {
        format!("{}-{os}", std::env::consts::ARCH)
    };
    format!(
        "PostgreSQL {PG_VERSION} (chatlake {}) on {target}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The database name clients connect to: the engine's catalog.
pub const DATABASE: &str = crate::engine::CATALOG;
/// The schema tables, views and reports live in.
pub const SCHEMA: &str = crate::engine::SCHEMA;

const SECTION: DocSection = DocSection {
    include: true,
    label: "Postgres Compatibility Functions",
    description: None,
};

/// Registers `version()`, `current_database()` and `current_schema()` on `ctx`.
///
/// `version()` always replaces DataFusion's own (which clients cannot parse); the other two
/// are registered only when the context does not define them already.
pub fn register_pg_functions(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::from(ConstantText::new(
        "version",
        version_string(),
        "The PostgreSQL-compatible server version string.",
    )));
    let existing = ctx.state().scalar_functions().clone();
    for (name, value, description) in [
        (
            "current_database",
            DATABASE,
            "Name of the current database (the catalog).",
        ),
        (
            "current_schema",
            SCHEMA,
            "Name of the schema first in the search path.",
        ),
    ] {
        if !existing.contains_key(name) {
            ctx.register_udf(ScalarUDF::from(ConstantText::new(
                name,
                value.to_string(),
                description,
            )));
        }
    }
}

/// Registers `pg_backend_pid()` returning `pid`, the id the connection announced in
/// `BackendKeyData`.
pub fn register_backend_pid(ctx: &SessionContext, pid: i32) {
    ctx.register_udf(ScalarUDF::from(BackendPid::new(pid)));
}

/// A zero-argument function returning a fixed string.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ConstantText {
    name: &'static str,
    value: String,
    signature: Signature,
    documentation: Documentation,
}

impl ConstantText {
    fn new(name: &'static str, value: String, description: &str) -> Self {
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
struct BackendPid {
    pid: i32,
    signature: Signature,
    documentation: Arc<Documentation>,
}

impl BackendPid {
    fn new(pid: i32) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_parseable_by_sqlalchemy() {
        // SQLAlchemy: `.*(?:PostgreSQL|EnterpriseDB) (\d+)\.?(\d+)?`.
        let v = version_string();
        assert!(v.starts_with("PostgreSQL 16.6 (chatlake "), "{v}");
    }

    #[tokio::test]
    async fn functions_answer_sql() -> Result<()> {
        let ctx = SessionContext::new();
        register_pg_functions(&ctx);
        register_backend_pid(&ctx, 4242);
        let batches = ctx
            .sql("SELECT version(), current_database(), current_schema(), pg_backend_pid()")
            .await?
            .collect()
            .await?;
        let row = arrow::util::pretty::pretty_format_batches(&batches)?.to_string();
        assert!(row.contains(&version_string()), "{row}");
        assert!(row.contains("| chatlake"), "{row}");
        assert!(row.contains("| public"), "{row}");
        assert!(row.contains("4242"), "{row}");
        Ok(())
    }
}
