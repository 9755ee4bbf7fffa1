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

use std::sync::{Arc, Weak};

use arrow::array::{Array, AsArray};

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, TypeSignature, Volatility,
};
use datafusion::prelude::SessionContext;

use super::session::{PG_VERSION, Session};

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

/// Registers the catalog helper functions clients call in their introspection queries and
/// that have nothing to say about a lake (no comments, indexes, triggers or sizes):
///
/// | Function | Returns |
/// |---|---|
/// | `obj_description`, `col_description`, `pg_advisory_unlock_all`, `json_build_object` (SQLAlchemy's identity-column branch, never true here), `shobj_description`, `pg_get_indexdef`, `pg_get_triggerdef`, `pg_get_ruledef`, `pg_get_serial_sequence`, `pg_get_function_result`, `pg_get_function_arguments`, `pg_get_function_identity_arguments` (the last three are answered from the catalog for chatlake's functions, see `super::rewrite`), `pg_get_function_sqlbody`, `to_regtype`, `to_regclass` | NULL |
/// | `pg_type_is_visible`, `pg_function_is_visible`, `pg_collation_is_visible`, `pg_opclass_is_visible` | true |
/// | `pg_table_size`, `pg_database_size`, `pg_indexes_size` | 0 |
/// | `pg_size_pretty(bigint)` | PostgreSQL's rendering: `512 bytes`, `10 kB`, `2048 MB` |
pub fn register_catalog_functions(ctx: &SessionContext) {
    use Stub::{False, Null, Size, True, Zero};
    for (name, result) in [
        ("obj_description", Null),
        ("col_description", Null),
        ("shobj_description", Null),
        ("pg_get_indexdef", Null),
        ("pg_get_triggerdef", Null),
        ("pg_get_ruledef", Null),
        ("pg_get_serial_sequence", Null),
        ("pg_get_function_result", Null),
        ("pg_get_function_arguments", Null),
        ("pg_get_function_identity_arguments", Null),
        ("pg_get_function_sqlbody", Null),
        ("to_regtype", Null),
        ("to_regclass", Null),
        ("pg_type_is_visible", True),
        ("pg_function_is_visible", True),
        ("pg_collation_is_visible", True),
        ("pg_opclass_is_visible", True),
        ("pg_is_in_recovery", False),
        ("pg_advisory_unlock_all", Null),
        ("json_build_object", Null),
        ("pg_table_size", Zero),
        ("pg_database_size", Zero),
        ("pg_indexes_size", Zero),
        ("pg_size_pretty", Size),
    ] {
        ctx.register_udf(ScalarUDF::from(StubFunction::new(name, result)));
    }
    ctx.register_udf(ScalarUDF::from(ExpandArray::new()));
    ctx.register_udf(ScalarUDF::from(FormatTypes::new()));
}

/// `_format_types(oids)`: the names of a list of type OIDs, as `format_type` writes them
/// (`{25,23}` → `{text,integer}`). [`super::rewrite`] plans `oids::regtype[]` with it: a
/// `regtype` prints as its name.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FormatTypes {
    signature: Signature,
}

impl FormatTypes {
    fn new() -> Self {
        FormatTypes {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for FormatTypes {
    fn name(&self) -> &str {
        "_format_types"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        use arrow::datatypes::Field;
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Utf8,
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::array::{ListArray, new_null_array};
        use arrow::datatypes::Field;
        let Some(arg) = args.args.first() else {
            return datafusion::common::exec_err!("_format_types takes one argument");
        };
        let input = arg.to_array(args.number_rows)?;
        let DataType::List(_) = input.data_type() else {
            return Ok(ColumnarValue::Array(new_null_array(
                args.return_field.data_type(),
                args.number_rows,
            )));
        };
        let list = input.as_list::<i32>();
        let oids = arrow::compute::cast(list.values(), &DataType::Int32)?;
        let format_type = datafusion_pg_catalog::pg_catalog::format_type::create_format_type_udf();
        let names = format_type
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![
                    ColumnarValue::Array(oids.clone()),
                    ColumnarValue::Scalar(ScalarValue::Int32(None)),
                ],
                arg_fields: vec![
                    Arc::new(Field::new("oid", DataType::Int32, true)),
                    Arc::new(Field::new("typemod", DataType::Int32, true)),
                ],
                number_rows: oids.len(),
                return_field: Arc::new(Field::new("name", DataType::Utf8, true)),
                config_options: args.config_options.clone(),
            })?
            .to_array(oids.len())?;
        let names = arrow::compute::cast(&names, &DataType::Utf8)?;
        let named = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Utf8, true)),
            list.offsets().clone(),
            names,
            list.nulls().cloned(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(named)))
    }
}

/// `_pg_expandarray(a)`: the elements of `a` with their 1-based positions, as a list of
/// `{x, n}` structs. PostgreSQL's `information_schema._pg_expandarray` is set-returning;
/// [`super::rewrite`] wraps calls in `unnest`, giving one `(x, n)` row per element.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ExpandArray {
    signature: Signature,
}

impl ExpandArray {
    fn new() -> Self {
        ExpandArray {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }

    /// The `{x, n}` struct of one element of type `element`.
    fn fields(element: &DataType) -> arrow::datatypes::Fields {
        use arrow::datatypes::Field;
        vec![
            Field::new("x", element.clone(), true),
            Field::new("n", DataType::Int32, false),
        ]
        .into()
    }
}

impl ScalarUDFImpl for ExpandArray {
    fn name(&self) -> &str {
        "_pg_expandarray"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        use arrow::datatypes::Field;
        let element = match arg_types {
            [DataType::List(field)] => field.data_type().clone(),
            // `_pg_expandarray(NULL)`: an empty set of untyped elements.
            [DataType::Null] => DataType::Null,
            other => {
                return datafusion::common::plan_err!(
                    "function _pg_expandarray({}) does not exist",
                    other
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        };
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Struct(Self::fields(&element)),
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::array::{Int32Array, ListArray, StructArray, new_null_array};
        use arrow::datatypes::Field;
        let Some(arg) = args.args.first() else {
            return datafusion::common::exec_err!("_pg_expandarray takes one argument");
        };
        let input = arg.to_array(args.number_rows)?;
        let DataType::List(_) = input.data_type() else {
            let return_type = args.return_field.data_type().clone();
            return Ok(ColumnarValue::Array(new_null_array(
                &return_type,
                args.number_rows,
            )));
        };
        let list = input.as_list::<i32>();
        let offsets = list.offsets();
        let values = list.values().clone();
        // Position of every element within its list (elements outside all lists: 0).
        let mut positions = vec![0_i32; values.len()];
        for window in offsets.windows(2) {
            let (start, end) = (window[0].max(0) as usize, window[1].max(0) as usize);
            for (i, slot) in positions[start..end].iter_mut().enumerate() {
                *slot = i32::try_from(i + 1).unwrap_or(i32::MAX);
            }
        }
        let fields = Self::fields(values.data_type());
        let structs = StructArray::try_new(
            fields.clone(),
            vec![values, Arc::new(Int32Array::from(positions))],
            None,
        )?;
        let expanded = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Struct(fields), true)),
            offsets.clone(),
            Arc::new(structs),
            list.nulls().cloned(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(expanded)))
    }
}

/// Registers `session_user`, `current_user` and `user`: the name the client logged in as.
pub fn register_user(ctx: &SessionContext, user: &str) {
    for name in ["session_user", "current_user", "user"] {
        ctx.register_udf(ScalarUDF::from(ConstantText::new(
            name,
            user.to_string(),
            "Name of the user the client connected as.",
        )));
    }
}

/// Registers `current_setting(name [, missing_ok])` and `set_config(name, value, is_local)`
/// over the connection's settings (the same ones `SHOW` and `SET` see).
pub(crate) fn register_setting_functions(ctx: &SessionContext, session: Weak<Session>) {
    ctx.register_udf(ScalarUDF::from(SettingFunction::new(
        "current_setting",
        session.clone(),
    )));
    ctx.register_udf(ScalarUDF::from(SettingFunction::new("set_config", session)));
}

/// What a [`StubFunction`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stub {
    /// NULL text.
    Null,
    /// `true`.
    True,
    /// `false`.
    False,
    /// `0::bigint`.
    Zero,
    /// `pg_size_pretty` of the first argument.
    Size,
}

/// A catalog function with a fixed answer (see [`register_catalog_functions`]).
#[derive(Debug, PartialEq, Eq, Hash)]
struct StubFunction {
    name: &'static str,
    result: Stub,
    signature: Signature,
}

impl StubFunction {
    fn new(name: &'static str, result: Stub) -> Self {
        StubFunction {
            name,
            result,
            signature: Signature::one_of(
                vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
                Volatility::Stable,
            ),
        }
    }
}

impl ScalarUDFImpl for StubFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.result {
            Stub::Null | Stub::Size => DataType::Utf8,
            Stub::True | Stub::False => DataType::Boolean,
            Stub::Zero => DataType::Int64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(match self.result {
            Stub::Null => ColumnarValue::Scalar(ScalarValue::Utf8(None)),
            Stub::True => ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))),
            Stub::False => ColumnarValue::Scalar(ScalarValue::Boolean(Some(false))),
            Stub::Zero => ColumnarValue::Scalar(ScalarValue::Int64(Some(0))),
            Stub::Size => {
                let Some(arg) = args.args.first() else {
                    return datafusion::common::plan_err!(
                        "pg_size_pretty(bigint) takes one argument"
                    );
                };
                let sizes =
                    arrow::compute::cast(&arg.to_array(args.number_rows)?, &DataType::Int64)?;
                let sizes = sizes.as_primitive::<arrow::datatypes::Int64Type>();
                let pretty: arrow::array::StringArray =
                    sizes.iter().map(|v| v.map(size_pretty)).collect();
                ColumnarValue::Array(Arc::new(pretty))
            }
        })
    }
}

/// PostgreSQL's `pg_size_pretty(bigint)`: bytes below 10 kB, then the largest unit that
/// keeps the number below 10240, rounded half up.
pub(crate) fn size_pretty(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes.unsigned_abs() < 10 * 1024 {
        return format!("{bytes} bytes");
    }
    // Halves of the unit, so the last step can round half away from zero.
    let mut halves = bytes / 512;
    for (i, unit) in UNITS.iter().enumerate() {
        let rounded = (halves + halves.signum()) / 2;
        if rounded.unsigned_abs() < 10 * 1024 || i == UNITS.len() - 1 {
            return format!("{rounded} {unit}");
        }
        halves /= 1024;
    }
    format!("{bytes} bytes")
}

/// `current_setting` / `set_config` over one connection's settings.
struct SettingFunction {
    name: &'static str,
    session: Weak<Session>,
    signature: Signature,
}

impl std::fmt::Debug for SettingFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingFunction")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for SettingFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.session.ptr_eq(&other.session)
    }
}

impl Eq for SettingFunction {}

impl std::hash::Hash for SettingFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.session.as_ptr().hash(state);
    }
}

impl SettingFunction {
    fn new(name: &'static str, session: Weak<Session>) -> Self {
        SettingFunction {
            name,
            session,
            signature: Signature::variadic_any(Volatility::Volatile),
        }
    }
}

impl ScalarUDFImpl for SettingFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::common::{exec_err, plan_err};
        let Some(session) = self.session.upgrade() else {
            return exec_err!("{}: the connection is closing", self.name);
        };
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| {
                a.to_array(rows)
                    .and_then(|a| Ok(arrow::compute::cast(&a, &DataType::Utf8)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let text = |i: usize, row: usize| -> Option<String> {
            let array = arrays.get(i)?.as_string::<i32>();
            (!array.is_null(row)).then(|| array.value(row).to_string())
        };
        let mut out = arrow::array::StringBuilder::new();
        for row in 0..rows {
            let Some(name) = text(0, row) else {
                out.append_null();
                continue;
            };
            if self.name == "set_config" {
                let value = text(1, row).unwrap_or_default();
                if let Err(e) = session.set(&name, &value) {
                    return plan_err!("{e}");
                }
                out.append_option(session.get(&name).map(|(_, v)| v));
            } else {
                match session.get(&name) {
                    Some((_, value)) => out.append_value(value),
                    None if text(1, row).is_some_and(|m| m == "true") => out.append_null(),
                    None => {
                        return plan_err!("unrecognized configuration parameter \"{name}\"");
                    }
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
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
