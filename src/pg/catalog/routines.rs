//! chatlake's own functions as the Postgres catalog shows them: the SQL functions the engine
//! registered on the session and the report table functions of `sql/reports/`, as `pg_proc` rows
//! (schema `public`), their descriptions in `pg_description`, and the argument and result
//! texts of `pg_get_function_arguments` / `pg_get_function_result` (hidden table
//! `pg_catalog._routines`). psql `\df`/`\df+`, pgcli's completion and pgJDBC `getFunctions`
//! list them from there.
//!
//! | Function | `prokind` | Arguments | Result |
//! |---|---|---|---|
//! | scalar UDF | `f` | one row per distinct signature DataFusion gives as example (`local_date(timestamp with time zone, text)`), names from the documentation | its return type |
//! | aggregate UDF | `a` | likewise | its return type |
//! | window UDF | `w` | likewise | its return type |
//! | report | `f`, `proretset` | its declared parameters, `DEFAULT` values (`NULL` when optional) | `TABLE(col type, …)` from its output schema |
//!
//! The functions are read from the session's function registry, each from its signature and
//! `documentation()`: every function that DataFusion and this front end do not provide
//! themselves (the `chatlake-udfs` crate's today). A new UDF shows in `\df` once it is
//! registered; nothing here lists them.
//!
//! OIDs: functions are numbered from [`UDF_OID_BASE`] in name order, reports from
//! [`REPORT_OID_BASE`]; stable for the life of a server process.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock, Weak};

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::function::WindowUDFFieldArgs;
use datafusion::logical_expr::{Documentation, ReturnFieldArgs, Signature, Volatility};
use datafusion::prelude::SessionContext;
use pgwire::api::Type;

use super::functions;
use crate::engine::reports::ReportDef;
use crate::pg::wire::types::column_type;
use crate::pg::wire::types::type_info;

/// First OID of the SQL functions.
pub const UDF_OID_BASE: i32 = 100_000;
/// First OID of the report functions.
pub const REPORT_OID_BASE: i32 = 150_000;

/// Most overloads listed per function (DataFusion's example signatures can multiply).
const MAX_OVERLOADS: usize = 8;

/// One argument of a routine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arg {
    /// Its name, when documented.
    pub name: Option<String>,
    /// Its type.
    pub ty: Type,
    /// `DEFAULT …` text, for optional report parameters.
    pub default: Option<String>,
    /// `VARIADIC`: any number of further arguments (documented as `cond1, ..., condN`).
    pub variadic: bool,
}

impl Arg {
    /// `[VARIADIC] [name] type`.
    fn identity(&self) -> String {
        let mut text = String::new();
        if self.variadic {
            text.push_str("VARIADIC ");
        }
        if let Some(name) = &self.name {
            text.push_str(name);
            text.push(' ');
        }
        text.push_str(&type_name(&self.ty));
        text
    }
}

/// What a routine returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Returns {
    /// One value of this type.
    Value(Type),
    /// A set of rows with these columns (a report).
    Table(Vec<(String, Type)>),
}

/// One `pg_proc` row of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Routine {
    /// `pg_proc.oid`.
    pub oid: i32,
    /// `proname`.
    pub name: String,
    /// `prokind`: `f` function, `a` aggregate, `w` window.
    pub kind: char,
    /// `provolatile`: `i`, `s` or `v`.
    pub volatility: char,
    /// Input arguments.
    pub args: Vec<Arg>,
    /// The result.
    pub returns: Returns,
    /// The description (documentation or the report's header).
    pub description: Option<String>,
}

impl Routine {
    /// `pg_get_function_arguments`: `ts timestamp with time zone, tz text`, with `DEFAULT`s.
    pub fn arguments(&self) -> String {
        self.args
            .iter()
            .map(|a| {
                let mut text = a.identity();
                if let Some(default) = &a.default {
                    text.push_str(" DEFAULT ");
                    text.push_str(default);
                }
                text
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `pg_get_function_identity_arguments`: the arguments without defaults.
    pub fn identity_arguments(&self) -> String {
        self.args
            .iter()
            .map(Arg::identity)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `pg_get_function_result`: `bigint`, or `TABLE(day date, users bigint)`.
    pub fn result(&self) -> String {
        match &self.returns {
            Returns::Value(ty) => type_name(ty),
            Returns::Table(columns) => format!(
                "TABLE({})",
                columns
                    .iter()
                    .map(|(name, ty)| format!("{} {}", quote_ident(name), type_name(ty)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// `prorettype`: the value's type, `record` for a table.
    pub fn return_type(&self) -> Type {
        match &self.returns {
            Returns::Value(ty) => ty.clone(),
            Returns::Table(_) => Type::RECORD,
        }
    }
}

/// A name as PostgreSQL prints it: bare when it is a plain lower-case identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A type as `format_type` prints it: `bigint`, `timestamp with time zone`, `text[]`.
pub(crate) fn type_name(ty: &Type) -> String {
    if *ty == Type::ANY {
        return "\"any\"".to_string();
    }
    if *ty == Type::RECORD {
        return "record".to_string();
    }
    if let Some(element) = crate::pg::wire::types::element_of(ty) {
        return format!("{}[]", type_name(&element));
    }
    let info = type_info(ty, &DataType::Null);
    if info.data_type == "text" && *ty != Type::TEXT {
        ty.name().to_string()
    } else {
        info.data_type.to_string()
    }
}

/// The session's report definitions, attached by the server (see [`attach_reports`]).
#[derive(Debug, Default)]
pub struct Reports(pub Vec<Arc<ReportDef>>);

/// Attaches `reports` to `ctx`, so that the catalog lists them and their arguments can be
/// bound as parameters.
pub fn attach_reports(ctx: &SessionContext, reports: &[Arc<ReportDef>]) {
    ctx.state_ref()
        .write()
        .config_mut()
        .set_extension(Arc::new(Reports(reports.to_vec())));
}

/// The reports attached to a session (none for sessions built without an engine).
pub(crate) fn reports_of(state: &dyn Session) -> Vec<Arc<ReportDef>> {
    state
        .config()
        .get_extension::<Reports>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// Every routine of ours: the SQL functions, then the session's reports.
pub(crate) fn routines(state: &dyn Session) -> Vec<Routine> {
    let mut all = udf_routines(state);
    all.extend(report_routines(&reports_of(state)));
    all
}

/// What is known of one function before numbering: kind, volatility, signatures (arguments
/// and result), description.
type Found = (char, char, Vec<(Vec<Arg>, Type)>, Option<String>);

/// The names of the functions every session has before the engine adds its own: DataFusion's
/// defaults and what this module's siblings register for Postgres clients (`version()`,
/// `has_table_privilege`, `current_setting`, …). They are PostgreSQL's builtins or DataFusion's,
/// not chatlake's: `pg_proc` lists them from its builtin rows, if at all.
fn builtin_names() -> &'static BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let ctx = SessionContext::new();
        // A failure leaves the crate's catalog functions out of the baseline: they would be
        // listed as ours, which is visible but harmless.
        if let Err(e) = super::install(&ctx) {
            tracing::warn!("pg_catalog functions missing from the builtin baseline: {e}");
        }
        functions::register_pg_functions(&ctx);
        functions::register_catalog_functions(&ctx);
        functions::register_backend_pid(&ctx, 0);
        functions::register_user(&ctx, "");
        functions::register_setting_functions(&ctx, Weak::new());
        let state = ctx.state();
        state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
            .cloned()
            .collect()
    })
}

/// The routines of the SQL functions the engine registered on the session (chatlake-udfs'
/// scalar, aggregate and window functions, or any other): every function of the session's
/// registry that is not a builtin ([`builtin_names`]), read from its signature and
/// documentation, numbered in name order.
fn udf_routines(state: &dyn Session) -> Vec<Routine> {
    let builtin = builtin_names();
    // The registries are keyed by name and by alias: each function once, under its name.
    let ours = |key: &String, name: &str| key == name && !builtin.contains(key);
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    let mut add = |name: &str,
                   kind: char,
                   signature: &Signature,
                   documentation: Option<&Documentation>,
                   return_type: &dyn Fn(&[DataType]) -> Option<DataType>| {
        found.insert(
            name.to_string(),
            (
                kind,
                volatility(signature),
                overloads(signature, documentation, return_type),
                description(documentation),
            ),
        );
    };
    for (key, udf) in state.scalar_functions() {
        if ours(key, udf.name()) {
            add(
                udf.name(),
                'f',
                udf.signature(),
                udf.documentation(),
                &|types| {
                    let fields = fields(types);
                    let scalars = vec![None; fields.len()];
                    udf.return_field_from_args(ReturnFieldArgs {
                        arg_fields: &fields,
                        scalar_arguments: &scalars,
                    })
                    .ok()
                    .map(|f| f.data_type().clone())
                },
            );
        }
    }
    for (key, udaf) in state.aggregate_functions() {
        if ours(key, udaf.name()) {
            add(
                udaf.name(),
                'a',
                udaf.signature(),
                udaf.documentation(),
                &|types| {
                    udaf.return_field(&fields(types))
                        .ok()
                        .map(|f| f.data_type().clone())
                },
            );
        }
    }
    for (key, udwf) in state.window_functions() {
        if ours(key, udwf.name()) {
            add(
                udwf.name(),
                'w',
                udwf.signature(),
                udwf.documentation(),
                &|types| {
                    udwf.field(WindowUDFFieldArgs::new(&fields(types), udwf.name()))
                        .ok()
                        .map(|f| f.data_type().clone())
                },
            );
        }
    }
    let mut routines = Vec::new();
    for (name, (kind, volatility, overloads, description)) in found {
        for (args, result) in overloads {
            let oid = UDF_OID_BASE + i32::try_from(routines.len()).unwrap_or(i32::MAX - 1);
            routines.push(Routine {
                oid,
                name: name.clone(),
                kind,
                volatility,
                args,
                returns: Returns::Value(result),
                description: description.clone(),
            });
        }
    }
    routines
}

/// The routines of `reports`, numbered in name order.
fn report_routines(reports: &[Arc<ReportDef>]) -> Vec<Routine> {
    let mut sorted: Vec<&Arc<ReportDef>> = reports.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    sorted
        .into_iter()
        .enumerate()
        .map(|(i, report)| Routine {
            oid: REPORT_OID_BASE + i32::try_from(i).unwrap_or(i32::MAX - REPORT_OID_BASE),
            name: report.name.clone(),
            kind: 'f',
            volatility: 's',
            args: report
                .params
                .iter()
                .map(|p| Arg {
                    name: Some(p.name.clone()),
                    ty: column_type(&p.ty.data_type()).pg,
                    default: (!p.required).then(|| default_text(&p.default, p.ty.pg_name())),
                    variadic: false,
                })
                .collect(),
            returns: Returns::Table(
                report
                    .schema
                    .fields()
                    .iter()
                    .map(|f| (f.name().clone(), column_type(f.data_type()).pg))
                    .collect(),
            ),
            description: (!report.description.is_empty()).then(|| report.description.clone()),
        })
        .collect()
}

/// A default as `pg_get_function_arguments` prints it: `10`, `'UTC'::text`, `NULL::date`.
fn default_text(value: &ScalarValue, type_name: &str) -> String {
    if value.is_null() {
        return format!("NULL::{type_name}");
    }
    match value {
        ScalarValue::Int64(Some(v)) => v.to_string(),
        ScalarValue::Boolean(Some(v)) => v.to_string(),
        other => format!("'{}'::{type_name}", other.to_string().replace('\'', "''")),
    }
}

/// A plain identifier (documented argument names are used only when they are one).
fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Nullable fields of `types`, for return type computations.
fn fields(types: &[DataType]) -> Vec<FieldRef> {
    types
        .iter()
        .enumerate()
        .map(|(i, t)| Arc::new(Field::new(format!("arg_{i}"), t.clone(), true)))
        .collect()
}

fn volatility(signature: &Signature) -> char {
    match signature.volatility {
        Volatility::Immutable => 'i',
        Volatility::Stable => 's',
        Volatility::Volatile => 'v',
    }
}

fn description(documentation: Option<&Documentation>) -> Option<String> {
    documentation.map(|d| d.description.trim().to_string())
}

/// The distinct Postgres signatures of a function: its example argument types mapped to
/// Postgres types (argument names from the documentation when the count matches), each with
/// its return type. A signature DataFusion gives no example for is one `"any"` argument per
/// documented argument.
fn overloads(
    signature: &Signature,
    documentation: Option<&Documentation>,
    return_type: &dyn Fn(&[DataType]) -> Option<DataType>,
) -> Vec<(Vec<Arg>, Type)> {
    let names: Vec<String> = documentation
        .and_then(|d| d.arguments.as_ref())
        .map(|args| args.iter().map(|(name, _)| name.clone()).collect())
        .unwrap_or_default();
    let named = |types: Vec<Type>| -> Vec<Arg> {
        let use_names = names.len() == types.len();
        types
            .into_iter()
            .enumerate()
            .map(|(i, ty)| {
                let name = use_names.then(|| names[i].clone());
                // `cond1, ..., condN`: a variadic argument, not a name.
                let variadic = name.as_ref().is_some_and(|n| n.contains("..."));
                Arg {
                    name: name.filter(|n| is_identifier(n)),
                    ty,
                    default: None,
                    variadic,
                }
            })
            .collect()
    };
    let mut out: Vec<(Vec<Arg>, Type)> = Vec::new();
    for types in signature.type_signature.get_example_types() {
        let Some(result) = return_type(&types) else {
            continue;
        };
        let args = named(types.iter().map(|t| column_type(t).pg).collect());
        let result = column_type(&result).pg;
        if !out.iter().any(|(a, _)| *a == args) {
            out.push((args, result));
        }
        if out.len() == MAX_OVERLOADS {
            break;
        }
    }
    if out.is_empty() {
        let args = named(vec![Type::ANY; names.len()]);
        out.push((args, Type::ANY));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_format_type_names() {
        assert_eq!(type_name(&Type::INT8), "bigint");
        assert_eq!(type_name(&Type::TIMESTAMPTZ), "timestamp with time zone");
        assert_eq!(type_name(&Type::TEXT_ARRAY), "text[]");
        assert_eq!(type_name(&Type::ANY), "\"any\"");
        assert_eq!(quote_ident("day"), "day");
        assert_eq!(quote_ident("Day"), "\"Day\"");
    }

    /// A session with chatlake's functions, as the engine builds it.
    fn engine_session() -> SessionContext {
        let ctx = SessionContext::new();
        chatlake_udfs::register_all(&ctx);
        ctx
    }

    #[test]
    fn every_udf_is_listed_with_a_description() {
        let routines = udf_routines(&engine_session().state());
        let names: std::collections::BTreeSet<&str> =
            routines.iter().map(|r| r.name.as_str()).collect();
        for name in ["local_date", "phone_country", "window_funnel", "session_id"] {
            assert!(names.contains(name), "{name} missing from {names:?}");
        }
        assert!(routines.iter().all(|r| r.description.is_some()));
        let funnel = routines
            .iter()
            .find(|r| r.name == "window_funnel")
            .expect("window_funnel");
        assert_eq!(funnel.kind, 'a');
        let session = routines
            .iter()
            .find(|r| r.name == "session_id")
            .expect("session_id");
        assert_eq!(session.kind, 'w');
        // OIDs are distinct.
        let oids: std::collections::BTreeSet<i32> = routines.iter().map(|r| r.oid).collect();
        assert_eq!(oids.len(), routines.len());
    }

    #[test]
    fn the_listed_functions_are_exactly_those_the_engine_registers() {
        // chatlake's functions alone, on a session with no builtins.
        let bare = SessionContext::new_with_state(
            datafusion::execution::session_state::SessionStateBuilder::new().build(),
        );
        chatlake_udfs::register_all(&bare);
        let state = bare.state();
        let registered: BTreeSet<String> = state
            .scalar_functions()
            .values()
            .map(|f| f.name().to_string())
            .chain(
                state
                    .aggregate_functions()
                    .values()
                    .map(|f| f.name().to_string()),
            )
            .chain(
                state
                    .window_functions()
                    .values()
                    .map(|f| f.name().to_string()),
            )
            .collect();
        let listed: BTreeSet<String> = udf_routines(&engine_session().state())
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(listed, registered);
        // A session without them lists none.
        assert!(udf_routines(&SessionContext::new().state()).is_empty());
    }

    #[test]
    fn a_function_registered_on_the_session_is_listed() {
        use datafusion::logical_expr::{ColumnarValue, create_udf};
        let ctx = engine_session();
        ctx.register_udf(create_udf(
            "brand_new",
            vec![DataType::Int64],
            DataType::Int64,
            Volatility::Immutable,
            Arc::new(|args: &[ColumnarValue]| Ok(args[0].clone())),
        ));
        let routines = udf_routines(&ctx.state());
        let new = routines
            .iter()
            .find(|r| r.name == "brand_new")
            .expect("brand_new listed");
        assert_eq!((new.kind, new.volatility), ('f', 'i'));
        assert_eq!(new.result(), "bigint");
    }
}
