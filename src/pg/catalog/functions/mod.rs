//! The Postgres functions clients call, registered on every connection's session; one file per
//! group. (The `datafusion-pg-catalog` crate's own functions, `has_table_privilege`,
//! `format_type`, `pg_get_userbyid`, … are registered by [`super::install`].)
//!
//! | Group (file) | Functions | Answer |
//! |---|---|---|
//! | per connection (`system`) | `version()` | `PostgreSQL 16.6 (chatlake 0.1.0) on x86_64-pc-linux-gnu`: SQLAlchemy/Superset parse `PostgreSQL N.N` from it (replaces DataFusion's own) |
//! | | `current_database()`, `current_schema()` | `chatlake`, `public` (pgjdbc, Metabase, SQLAlchemy) |
//! | | `session_user`, `current_user`, `user` | the name the client logged in as |
//! | | `pg_backend_pid()` | the connection's process id (as in `BackendKeyData`; Superset) |
//! | settings (`settings`) | `current_setting(name [, missing_ok])`, `set_config(name, value, is_local)` | the connection's settings, as `SHOW`/`SET` |
//! | JSON (`json`) | `json_build_object(k, v, …)` | a JSON object as text (SQLAlchemy's identity columns) |
//! | array helpers (`arrays`) | `_format_types(oids)`, `_pg_expandarray(a)` | what `sql::rewrite` plans `::regtype[]` and `information_schema._pg_expandarray` with |
//! | numbers (`math`) | `mod(a, b)`, `div(a, b)`, `sign(x)` | PostgreSQL's remainder, truncated quotient and sign (DataFusion has `%`, `/` and `signum`) |
//! | strings (`format`) | `format(formatstr, arg, …)` | PostgreSQL's `%s`/`%I`/`%L` string builder (Metabase's field sync) |
//! | dates (`template`) | `to_char(ts, template)`, `to_date(text, template)`, `to_timestamp(text, template)` | PostgreSQL's template patterns (`YYYY-MM-DD HH24:MI`, `FMDay`, `IW` …), in the session's time zone; chrono `%` patterns still go to DataFusion's functions |
//! | types (`type_of`) | `pg_typeof(value)` | the PostgreSQL name of the value's type (`bigint`, `text[]`, `timestamp with time zone`) |
//! | fixed answers (`stubs`) | `obj_description`, `col_description`, `shobj_description`, `pg_get_indexdef`, `pg_get_triggerdef`, `pg_get_ruledef`, `pg_get_serial_sequence`, `pg_get_function_result`, `pg_get_function_arguments`, `pg_get_function_identity_arguments`, `pg_get_function_sqlbody`, `to_regtype`, `to_regclass`, `pg_advisory_unlock_all` | NULL (the three `pg_get_function_*` are answered from the catalog for chatlake's functions, see `sql::rewrite`) |
//! | | `pg_type_is_visible`, `pg_function_is_visible`, `pg_collation_is_visible`, `pg_opclass_is_visible` | true |
//! | | `pg_is_in_recovery` | false |
//! | | `pg_table_size`, `pg_database_size`, `pg_indexes_size` | 0 |
//! | | `pg_size_pretty(bigint)` | PostgreSQL's rendering: `512 bytes`, `10 kB`, `2048 MB` |
//!
//! The per-connection functions take no arguments, never return NULL and are constant for the
//! session.

mod arrays;
mod format;
mod json;
mod math;
mod settings;
mod stubs;
mod system;
mod template;
mod type_of;

use std::sync::Weak;

use datafusion::logical_expr::{DocSection, ScalarUDF};
use datafusion::prelude::SessionContext;

use crate::pg::session::{PG_VERSION, Session};
use arrays::{ExpandArray, FormatTypes};
use format::PgFormat;
use json::JsonBuildObject;
use math::{MathOp, PgMath};
use settings::SettingFunction;
use stubs::{Stub, StubFunction};
use system::{BackendPid, ConstantText};
use type_of::PgTypeof;

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

/// The documentation section of these functions.
pub(crate) const SECTION: DocSection = DocSection {
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

/// Registers the catalog helper functions clients call in their introspection queries:
/// [`json_build_object`](json), [`pg_typeof`](type_of), [`format`](format), `mod`/`div`/`sign` ([`math`]), the array helpers of `sql::rewrite` ([`arrays`]), and those
/// that have nothing to say about a lake (no comments, indexes, triggers or sizes, [`stubs`]):
///
/// | Function | Returns |
/// |---|---|
/// | `obj_description`, `col_description`, `pg_advisory_unlock_all`, `shobj_description`, `pg_get_indexdef`, `pg_get_triggerdef`, `pg_get_ruledef`, `pg_get_serial_sequence`, `pg_get_function_result`, `pg_get_function_arguments`, `pg_get_function_identity_arguments` (the last three are answered from the catalog for chatlake's functions, see `crate::pg::sql::rewrite`), `pg_get_function_sqlbody`, `to_regtype`, `to_regclass` | NULL |
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
        ("pg_table_size", Zero),
        ("pg_database_size", Zero),
        ("pg_indexes_size", Zero),
        ("pg_size_pretty", Size),
    ] {
        ctx.register_udf(ScalarUDF::from(StubFunction::new(name, result)));
    }
    ctx.register_udf(ScalarUDF::from(JsonBuildObject::new()));
    ctx.register_udf(ScalarUDF::from(PgTypeof::new()));
    ctx.register_udf(ScalarUDF::from(PgFormat::new()));
    for op in [MathOp::Mod, MathOp::Div, MathOp::Sign] {
        ctx.register_udf(ScalarUDF::from(PgMath::new(op)));
    }
    ctx.register_udf(ScalarUDF::from(ExpandArray::new()));
    ctx.register_udf(ScalarUDF::from(FormatTypes::new()));
    for function in template::functions(ctx.state().config_options()) {
        ctx.register_udf(function);
    }
}

/// Registers `session_user`, `current_user` and `user`: the name the client logged in as; and
/// `chatlake_activity()`, which shows a session not granted every tenant only its user's rows.
pub fn register_user(ctx: &SessionContext, user: &str) {
    crate::engine::admission::activity::register(ctx, user);
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::Result;

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
