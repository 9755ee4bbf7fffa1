//! Per-connection state: the connection's own DataFusion `SessionContext` and the Postgres
//! run-time settings the client can `SET`, `RESET` and `SHOW`.
//!
//! | Setting | Default | `SET` accepts | Effect |
//! |---|---|---|---|
//! | `TimeZone` | `UTC` | IANA zone names (any case), `UTC`, `LOCAL`/`DEFAULT` | zone `timestamptz` values are printed in |
//! | `extra_float_digits` | `1` | integers, clamped to -15..3 | `float4`/`float8` text output |
//! | `DateStyle` | `ISO, MDY` | `ISO[, MDY/DMY/YMD]` | reported only (output is always ISO) |
//! | `IntervalStyle` | `postgres` | `postgres` | reported only |
//! | `client_encoding` | `UTF8` | `UTF8`, `UTF-8`, `'utf-8'`, `UNICODE` | reported only |
//! | `statement_timeout` | `0` | milliseconds or a number with `us`/`ms`/`s`/`min`/`h`/`d` (`22023` otherwise) | running statements stop after it (`57014`) |
//! | `application_name`, `search_path`, any other name | see [`DEFAULTS`] | anything | stored and shown back |
//! | `server_version`, `server_encoding`, `integer_datetimes`, … | see [`DEFAULTS`] | — (`55P02`) | fixed |
//! | `chatlake.tenant` | the session's grant (`*` = all tenants) | one tenant id of the grant (`42501` otherwise; any id when all tenants are granted) | every scan sees only that tenant's rows; `RESET` widens back to the grant; ignored in the startup packet |
//! | `datafusion.*`, other `chatlake.*` | DataFusion's | what DataFusion accepts | passed to the session's DataFusion config |
//!
//! `RESET name` and `RESET ALL` go back to what the session started with: the logged-in
//! user's default (`statement_timeout` of the auth file) or the startup packet's options, else
//! the table's default, as PostgreSQL does.
//!
//! Names are case-insensitive. `SHOW` of a name never set and without a default is an error
//! (`42704`). A `SET` of a reported setting (`TimeZone`, `application_name`, …) sends the new
//! value to the client as a `ParameterStatus` message, as PostgreSQL does.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono_tz::Tz;
use datafusion::prelude::SessionContext;
use futures::stream::BoxStream;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

use super::error::{code, user_error};
use super::sql::origin::RelationOids;
use super::wire::cancel::{Canceler, Interrupt, parse_timeout};
use super::wire::encode::{OutputOptions, ResultColumns};
use crate::engine::tenant::{self, TenantScope};

/// PostgreSQL version clients see (`server_version`, `version()`).
pub const PG_VERSION: &str = "16.6";

/// `server_version` as reported at startup and by `SHOW`: PostgreSQL's version first (psql and
/// asyncpg parse the leading number), then ours.
pub fn server_version() -> String {
    format!("{PG_VERSION} (chatlake {})", env!("CARGO_PKG_VERSION"))
}

/// Settings every session starts with: `(canonical name, value)`.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("application_name", ""),
    ("bytea_output", "hex"),
    ("client_encoding", "UTF8"),
    ("client_min_messages", "notice"),
    ("DateStyle", "ISO, MDY"),
    ("default_transaction_isolation", "read committed"),
    ("default_transaction_read_only", "off"),
    ("extra_float_digits", "1"),
    ("in_hot_standby", "off"),
    ("integer_datetimes", "on"),
    ("IntervalStyle", "postgres"),
    ("is_superuser", "off"),
    // No JIT compilation here; asyncpg reads it before its type introspection.
    ("jit", "off"),
    ("lc_collate", "C.UTF-8"),
    ("lc_ctype", "C.UTF-8"),
    ("max_identifier_length", "63"),
    ("max_index_keys", "32"),
    ("search_path", "\"$user\", public"),
    ("server_encoding", "UTF8"),
    ("server_version", ""),
    ("server_version_num", "160006"),
    ("session_authorization", ""),
    ("standard_conforming_strings", "on"),
    ("statement_timeout", "0"),
    ("TimeZone", "UTC"),
    ("transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
];

/// The setting that narrows a session to one of its granted tenants.
pub(crate) const TENANT_SETTING: &str = "chatlake.tenant";

/// Settings a client cannot change (PostgreSQL answers `55P02`).
pub(crate) const READ_ONLY: &[&str] = &[
    "in_hot_standby",
    "integer_datetimes",
    "is_superuser",
    "lc_collate",
    "lc_ctype",
    "max_identifier_length",
    "max_index_keys",
    "server_encoding",
    "server_version",
    "server_version_num",
];

/// Settings whose changes PostgreSQL reports to the client with `ParameterStatus`.
const REPORTED: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
];

#[derive(Debug)]
struct Settings {
    /// Lower-cased name → (canonical name, value).
    values: BTreeMap<String, (String, String)>,
    output: OutputOptions,
}

/// One client connection's state.
pub(crate) struct Session {
    ctx: SessionContext,
    settings: Mutex<Settings>,
    /// What the session started with beyond [`DEFAULTS`] (the user's defaults, the startup
    /// packet's options): where `RESET` goes back to, as in PostgreSQL.
    session_defaults: Mutex<BTreeMap<String, (String, String)>>,
    canceler: Canceler,
    cursors: Mutex<HashMap<String, Arc<Cursor>>>,
    relation_oids: Mutex<RelationOids>,
    tenancy: Mutex<Tenancy>,
    /// The backend process id announced to the client (0: none, the console's query API).
    backend_pid: std::sync::atomic::AtomicI32,
}

/// The tenants a session may see: what it was granted and what it narrowed to.
#[derive(Debug, Clone)]
struct Tenancy {
    /// Set by the server (authentication); `RESET chatlake.tenant` returns to it.
    grant: TenantScope,
    /// What scans use now: the grant, or one tenant of it after `SET chatlake.tenant`.
    current: TenantScope,
}

/// An open SQL cursor (`DECLARE`): rows not fetched yet, still streaming from DataFusion.
pub(crate) struct Cursor {
    /// The cursor's result columns.
    pub columns: ResultColumns,
    /// Rows left, text-encoded.
    pub rows: tokio::sync::Mutex<BoxStream<'static, PgWireResult<DataRow>>>,
    /// `WITH HOLD`: survives the end of the transaction.
    pub hold: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.ctx.session_id())
            .field("settings", &self.settings)
            .finish()
    }
}

impl Session {
    /// A session over `ctx` with every setting at its default.
    ///
    /// The tenant grant is the scope `ctx` was built with
    /// ([`crate::engine::Engine::new_scoped_session`]), all tenants when it has none.
    pub fn new(ctx: SessionContext) -> Self {
        let grant = tenant::scope_of(&ctx.state())
            .map(|scope| scope.as_ref().clone())
            .unwrap_or(TenantScope::All);
        let session = Session {
            tenancy: Mutex::new(Tenancy {
                current: grant.clone(),
                grant,
            }),
            ctx,
            settings: Mutex::new(Settings::defaults()),
            session_defaults: Mutex::default(),
            canceler: Canceler::default(),
            cursors: Mutex::new(HashMap::new()),
            relation_oids: Mutex::new(RelationOids::default()),
            backend_pid: std::sync::atomic::AtomicI32::new(0),
        };
        session.sync_time_zone();
        session
    }

    /// The `pg_class` OIDs of `relations` (schema, name), in order (`None`: unknown). The
    /// known OIDs are cached; a miss re-reads `pg_class` once.
    pub async fn relation_oids(&self, relations: &[(String, String)]) -> Vec<Option<i32>> {
        let lookup = |cache: &RelationOids| -> Vec<Option<i32>> {
            relations
                .iter()
                .map(|(schema, name)| cache.get(schema, name))
                .collect()
        };
        let known = lookup(&self.relation_oids.lock().unwrap_or_else(|e| e.into_inner()));
        if known.iter().all(Option::is_some) {
            return known;
        }
        match self.read_relation_oids().await {
            Ok(oids) => {
                let mut cache = self.relation_oids.lock().unwrap_or_else(|e| e.into_inner());
                cache.replace(oids);
                lookup(&cache)
            }
            Err(e) => {
                tracing::debug!("reading relation OIDs: {e}");
                known
            }
        }
    }

    async fn read_relation_oids(
        &self,
    ) -> datafusion::error::Result<HashMap<(String, String), i32>> {
        use arrow::array::AsArray;
        let batches = self
            .ctx
            .sql(
                "SELECT n.nspname, c.relname, CAST(c.oid AS INT) FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
            )
            .await?
            .collect()
            .await?;
        let mut oids = HashMap::new();
        for batch in &batches {
            let schemas = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
            let names = arrow::compute::cast(batch.column(1), &arrow::datatypes::DataType::Utf8)?;
            let (schemas, names) = (schemas.as_string::<i32>(), names.as_string::<i32>());
            let ids = batch
                .column(2)
                .as_primitive::<arrow::datatypes::Int32Type>();
            for row in 0..batch.num_rows() {
                oids.insert(
                    (schemas.value(row).to_string(), names.value(row).to_string()),
                    ids.value(row),
                );
            }
        }
        Ok(oids)
    }

    /// Grants this session the tenants of `scope`, replacing any earlier grant and narrowing
    /// (the authentication code calls it once the user is known). From the next statement on,
    /// every scan of every lake table, view and report sees only rows of these tenants.
    pub fn set_tenant_scope(&self, scope: TenantScope) {
        let mut tenancy = self.tenancy();
        tenancy.grant = scope.clone();
        tenancy.current = scope.clone();
        tenant::set_scope(&self.ctx, scope);
    }

    /// Caps the memory one statement of this session may hold at `bytes` of the server's
    /// shared pool (the user's `memory_limit`; see [`crate::engine::memory`]): past it the
    /// statement fails with `53200`.
    pub fn set_memory_limit(&self, user: &str, bytes: u64) -> datafusion::error::Result<()> {
        use datafusion::execution::session_state::SessionStateBuilder;
        let cap = usize::try_from(bytes).unwrap_or(usize::MAX);
        let state = self.ctx.state_ref();
        let existing = state.read().clone();
        let runtime = crate::engine::memory::capped_runtime(existing.runtime_env(), cap, user)?;
        *state.write() = SessionStateBuilder::new_from_existing(existing)
            .with_runtime_env(runtime)
            .build();
        Ok(())
    }

    /// Starts the session as `user` of the auth file: its default `statement_timeout` (where
    /// `RESET` returns), its `memory_limit` and its tenant grant, before any query runs.
    pub fn apply_user(&self, user: &crate::auth::User) -> datafusion::error::Result<()> {
        if let Some(timeout) = &user.limits.statement_timeout {
            self.set_from_startup("statement_timeout", timeout);
        }
        if let Some(bytes) = user.limits.memory_limit {
            self.set_memory_limit(&user.name, bytes)?;
        }
        self.set_tenant_scope(match &user.tenants {
            crate::auth::TenantGrant::All => TenantScope::All,
            crate::auth::TenantGrant::Only(ids) => TenantScope::only(ids.iter().cloned()),
        });
        Ok(())
    }

    /// The tenants scans see now (the grant, or the tenant `SET chatlake.tenant` chose).
    pub fn tenant_scope(&self) -> TenantScope {
        self.tenancy().current.clone()
    }

    /// The tenants this session was granted ([`Session::set_tenant_scope`]).
    pub fn tenant_grant(&self) -> TenantScope {
        self.tenancy().grant.clone()
    }

    fn tenancy(&self) -> MutexGuard<'_, Tenancy> {
        self.tenancy.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `SET chatlake.tenant = value`: narrows to one tenant of the grant (`42501` otherwise).
    fn narrow_tenant(&self, value: &str) -> Result<(), PgWireError> {
        let tenant = value.trim().trim_matches('\'').trim();
        if tenant.is_empty() {
            return Err(user_error(
                code::INVALID_PARAMETER_VALUE,
                format!(
                    "invalid value for parameter \"{TENANT_SETTING}\": a tenant id is required (RESET {TENANT_SETTING} widens to every granted tenant)"
                ),
            ));
        }
        let mut tenancy = self.tenancy();
        let Some(narrowed) = tenancy.grant.narrow(tenant) else {
            return Err(user_error(
                code::INSUFFICIENT_PRIVILEGE,
                format!(
                    "permission denied for tenant \"{tenant}\": it is not granted to this session"
                ),
            ));
        };
        tenancy.current = narrowed.clone();
        tenant::set_scope(&self.ctx, narrowed);
        Ok(())
    }

    /// `RESET chatlake.tenant`: back to every granted tenant.
    fn widen_tenant(&self) {
        let mut tenancy = self.tenancy();
        tenancy.current = tenancy.grant.clone();
        tenant::set_scope(&self.ctx, tenancy.grant.clone());
    }

    /// The connection's DataFusion context.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    fn cursors(&self) -> MutexGuard<'_, HashMap<String, Arc<Cursor>>> {
        self.cursors.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens cursor `name`; `42P03` if one of that name is open.
    pub fn open_cursor(&self, name: &str, cursor: Cursor) -> Result<(), PgWireError> {
        let mut cursors = self.cursors();
        if cursors.contains_key(name) {
            return Err(user_error(
                code::DUPLICATE_CURSOR,
                format!("cursor \"{name}\" already exists"),
            ));
        }
        cursors.insert(name.to_string(), Arc::new(cursor));
        Ok(())
    }

    /// The open cursor `name`; `34000` if there is none.
    pub fn cursor(&self, name: &str) -> Result<Arc<Cursor>, PgWireError> {
        self.cursors().get(name).cloned().ok_or_else(|| {
            user_error(
                code::INVALID_CURSOR_NAME,
                format!("cursor \"{name}\" does not exist"),
            )
        })
    }

    /// Closes cursor `name` (`None`: all of them); `34000` if there is none of that name.
    pub fn close_cursor(&self, name: Option<&str>) -> Result<(), PgWireError> {
        let mut cursors = self.cursors();
        match name {
            None => cursors.clear(),
            Some(name) => {
                if cursors.remove(name).is_none() {
                    return Err(user_error(
                        code::INVALID_CURSOR_NAME,
                        format!("cursor \"{name}\" does not exist"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Closes the cursors declared without `WITH HOLD` (the transaction ended).
    pub fn end_transaction(&self) {
        self.cursors().retain(|_, cursor| cursor.hold);
    }

    /// Records the backend process id the connection announced (`BackendKeyData`).
    pub fn set_backend_pid(&self, pid: i32) {
        self.backend_pid
            .store(pid, std::sync::atomic::Ordering::Relaxed);
    }

    /// The backend process id of the connection (`None` for the console's query API).
    pub fn backend_pid(&self) -> Option<i32> {
        Some(self.backend_pid.load(std::sync::atomic::Ordering::Relaxed)).filter(|pid| *pid != 0)
    }

    /// The user the session logged in as (`session_authorization`; empty before login).
    pub fn user(&self) -> String {
        self.get("session_authorization")
            .map(|(_, user)| user)
            .unwrap_or_default()
    }

    /// The connection's cancel switch.
    pub fn canceler(&self) -> &Canceler {
        &self.canceler
    }

    /// The interrupt of a statement starting now: a cancel request or `statement_timeout`.
    pub fn interrupt(&self) -> Interrupt {
        let timeout = self
            .get("statement_timeout")
            .and_then(|(_, value)| parse_timeout(&value))
            .flatten();
        self.canceler.interrupt(timeout)
    }

    fn settings(&self) -> MutexGuard<'_, Settings> {
        // Settings are plain values: a panic elsewhere cannot leave them half-written.
        self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How to print values right now.
    pub fn output_options(&self) -> OutputOptions {
        self.settings().output
    }

    /// The value of a setting, if it is set or has a default: `(canonical name, value)`.
    pub fn get(&self, name: &str) -> Option<(String, String)> {
        if name.eq_ignore_ascii_case(TENANT_SETTING) {
            return Some((TENANT_SETTING.into(), self.tenant_scope().to_string()));
        }
        self.settings()
            .values
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    /// Every setting, sorted by name: `(canonical name, value)`.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self.settings().values.values().cloned().collect();
        all.push((TENANT_SETTING.into(), self.tenant_scope().to_string()));
        all.sort_by_key(|(name, _)| name.to_ascii_lowercase());
        all
    }

    /// Sets `name` to `value` for the rest of the session.
    ///
    /// Returns `Some((name, value))` when the change must be reported to the client.
    pub fn set(&self, name: &str, value: &str) -> Result<Option<(String, String)>, PgWireError> {
        let key = name.to_ascii_lowercase();
        if key == TENANT_SETTING {
            self.narrow_tenant(value)?;
            return Ok(None);
        }
        if READ_ONLY.contains(&key.as_str()) {
            return Err(user_error(
                code::CANT_CHANGE_RUNTIME_PARAM,
                format!("parameter \"{name}\" cannot be changed"),
            ));
        }
        let canonical = canonical_name(name);
        let value = normalize(&canonical, value)?;
        {
            let mut settings = self.settings();
            settings.apply_output(&canonical, &value);
            settings
                .values
                .insert(key, (canonical.clone(), value.clone()));
        }
        self.sync_time_zone();
        Ok(REPORTED
            .contains(&canonical.as_str())
            .then_some((canonical, value)))
    }

    /// Gives DataFusion the session's `TimeZone` (`datafusion.execution.time_zone`), so that
    /// `timestamptz` literals and casts (`TIMESTAMPTZ '2026-01-01 10:00'`, `'…'::timestamptz`)
    /// read a zone-less time in the session's zone and carry it, as PostgreSQL's do, and
    /// `now()` is a `timestamptz` in that zone.
    fn sync_time_zone(&self) {
        let zone = self.settings().output.time_zone.name().to_string();
        let state = self.ctx.state_ref();
        let mut state = state.write();
        let current = &mut state.config_mut().options_mut().execution.time_zone;
        if current.as_deref() == Some(zone.as_str()) {
            return;
        }
        *current = Some(zone);
        // Functions built from the configuration (`now()` carries the zone in its type) are
        // rebuilt, as DataFusion's own `SET` does.
        let options = state.config().options();
        let rebuilt: Vec<_> = state
            .scalar_functions()
            .values()
            .filter_map(|udf| udf.inner().with_updated_config(options))
            .collect();
        for udf in rebuilt {
            // Registering a function cannot fail for a name that is already registered.
            let _ = datafusion::execution::FunctionRegistry::register_udf(
                &mut *state,
                std::sync::Arc::new(udf),
            );
        }
    }

    /// Applies a setting sent by the client at startup or in `options`. Invalid values are
    /// ignored (the setting keeps its default), read-only ones too.
    /// `chatlake.tenant` is ignored too: the startup packet comes before authentication.
    pub fn set_from_startup(&self, name: &str, value: &str) {
        let key = name.to_ascii_lowercase();
        if READ_ONLY.contains(&key.as_str()) || key == TENANT_SETTING {
            return;
        }
        // A bad startup value must not lock the client out: keep the default.
        if self.set(name, value).is_ok()
            && let Some(started_with) = self.settings().values.get(&key).cloned()
        {
            self.defaults_at_start().insert(key, started_with);
        }
    }

    fn defaults_at_start(&self) -> MutexGuard<'_, BTreeMap<String, (String, String)>> {
        self.session_defaults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the user the client logged in as (`session_authorization`).
    pub fn set_user(&self, user: &str) {
        self.settings().values.insert(
            "session_authorization".into(),
            ("session_authorization".into(), user.into()),
        );
    }

    /// Restores `name` to the value the session started with: the user's default or the
    /// startup packet's, else [`DEFAULTS`] (or removes it when it has none).
    ///
    /// Returns the restored value when the change must be reported to the client.
    pub fn reset(&self, name: &str) -> Option<(String, String)> {
        let key = name.to_ascii_lowercase();
        if key == TENANT_SETTING {
            self.widen_tenant();
            return None;
        }
        if READ_ONLY.contains(&key.as_str()) || key == "session_authorization" {
            return None;
        }
        let started_with = self.defaults_at_start().get(&key).cloned();
        let mut settings = self.settings();
        let restored = started_with.or_else(|| default_of(&key));
        match &restored {
            Some((canonical, value)) => {
                settings.apply_output(canonical, value);
                settings
                    .values
                    .insert(key, (canonical.clone(), value.clone()));
            }
            None => {
                settings.values.remove(&key);
            }
        }
        drop(settings);
        self.sync_time_zone();
        restored.filter(|(canonical, _)| REPORTED.contains(&canonical.as_str()))
    }

    /// Restores every setting to the value the session started with (`RESET ALL`, `DISCARD
    /// ALL`; see [`Session::reset`]); returns the reported settings whose value changed.
    pub fn reset_all(&self) -> Vec<(String, String)> {
        self.widen_tenant();
        let started_with = self.defaults_at_start().clone();
        let mut settings = self.settings();
        let user = settings.values.get("session_authorization").cloned();
        let before = std::mem::replace(&mut *settings, Settings::defaults());
        if let Some(user) = user {
            settings.values.insert("session_authorization".into(), user);
        }
        for (key, (canonical, value)) in started_with {
            settings.apply_output(&canonical, &value);
            settings.values.insert(key, (canonical, value));
        }
        let changed = settings
            .values
            .values()
            .filter(|(canonical, value)| {
                REPORTED.contains(&canonical.as_str())
                    && before
                        .values
                        .get(&canonical.to_ascii_lowercase())
                        .is_none_or(|(_, old)| old != value)
            })
            .cloned()
            .collect();
        drop(settings);
        self.sync_time_zone();
        changed
    }

    /// The `ParameterStatus` values sent at startup.
    pub fn startup_parameters(&self) -> Vec<(String, String)> {
        let settings = self.settings();
        REPORTED
            .iter()
            .filter_map(|name| settings.values.get(&name.to_ascii_lowercase()).cloned())
            .collect()
    }
}

impl Settings {
    fn defaults() -> Self {
        let values = DEFAULTS
            .iter()
            .map(|(name, value)| {
                let value = if *name == "server_version" {
                    server_version()
                } else {
                    (*value).to_string()
                };
                (name.to_ascii_lowercase(), ((*name).to_string(), value))
            })
            .collect();
        Settings {
            values,
            output: OutputOptions::default(),
        }
    }

    fn apply_output(&mut self, canonical: &str, value: &str) {
        match canonical {
            "TimeZone" => {
                if let Some(tz) = parse_time_zone(value) {
                    self.output.time_zone = tz;
                }
            }
            "extra_float_digits" => {
                if let Ok(digits) = value.parse::<i32>() {
                    self.output.extra_float_digits = digits;
                }
            }
            _ => {}
        }
    }
}

/// The default `(canonical name, value)` of a lower-cased setting name.
fn default_of(key: &str) -> Option<(String, String)> {
    Settings::defaults().values.get(key).cloned()
}

/// The canonical spelling of a setting name (`timezone` → `TimeZone`); unknown names are kept
/// lower-cased, as PostgreSQL does.
fn canonical_name(name: &str) -> String {
    DEFAULTS
        .iter()
        .find(|(canonical, _)| canonical.eq_ignore_ascii_case(name))
        .map(|(canonical, _)| (*canonical).to_string())
        .unwrap_or_else(|| name.to_ascii_lowercase())
}

/// Parses a zone name the way `SET TimeZone` accepts it.
pub(crate) fn parse_time_zone(value: &str) -> Option<Tz> {
    if let Ok(tz) = Tz::from_str(value) {
        return Some(tz);
    }
    match value.to_ascii_uppercase().as_str() {
        "UTC" | "Z" | "ZULU" | "GMT" | "UCT" | "UNIVERSAL" => return Some(Tz::UTC),
        _ => {}
    }
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(value))
        .copied()
}

/// Validates and normalizes a value for a setting with canonical name `name`.
fn normalize(name: &str, value: &str) -> Result<String, PgWireError> {
    let invalid = || {
        user_error(
            code::INVALID_PARAMETER_VALUE,
            format!("invalid value for parameter \"{name}\": \"{value}\""),
        )
    };
    let unquoted = value.trim().trim_matches('\'').trim();
    match name {
        "TimeZone" => {
            if unquoted.eq_ignore_ascii_case("local") || unquoted.eq_ignore_ascii_case("default") {
                return Ok("UTC".into());
            }
            let tz = parse_time_zone(unquoted).ok_or_else(invalid)?;
            Ok(
                if tz == Tz::UTC && !unquoted.eq_ignore_ascii_case("Etc/UTC") {
                    "UTC".into()
                } else {
                    tz.name().into()
                },
            )
        }
        "statement_timeout" => {
            parse_timeout(unquoted).ok_or_else(invalid)?;
            Ok(unquoted.to_string())
        }
        "extra_float_digits" => {
            let digits: i32 = unquoted.parse().map_err(|_| invalid())?;
            Ok(digits.clamp(-15, 3).to_string())
        }
        "client_encoding" => match unquoted.to_ascii_uppercase().as_str() {
            "UTF8" | "UTF-8" | "UNICODE" => Ok("UTF8".into()),
            _ => Err(user_error(
                code::FEATURE_NOT_SUPPORTED,
                format!("client encoding \"{unquoted}\" is not supported; use UTF8"),
            )),
        },
        "DateStyle" => {
            let upper = unquoted.to_ascii_uppercase();
            let mut parts = upper.split(',').map(str::trim).filter(|p| !p.is_empty());
            let (mut style, mut order) = ("ISO", "MDY");
            for part in parts.by_ref() {
                match part {
                    "ISO" => style = "ISO",
                    "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => order = "MDY",
                    "DMY" | "EURO" | "EUROPEAN" => order = "DMY",
                    "YMD" => order = "YMD",
                    _ => {
                        return Err(user_error(
                            code::FEATURE_NOT_SUPPORTED,
                            format!("DateStyle \"{unquoted}\" is not supported; use ISO"),
                        ));
                    }
                }
            }
            Ok(format!("{style}, {order}"))
        }
        "IntervalStyle" => {
            if unquoted.eq_ignore_ascii_case("postgres") {
                Ok("postgres".into())
            } else {
                Err(user_error(
                    code::FEATURE_NOT_SUPPORTED,
                    format!("IntervalStyle \"{unquoted}\" is not supported; use postgres"),
                ))
            }
        }
        "bytea_output" => {
            if unquoted.eq_ignore_ascii_case("hex") {
                Ok("hex".into())
            } else {
                Err(user_error(
                    code::FEATURE_NOT_SUPPORTED,
                    format!("bytea_output \"{unquoted}\" is not supported; use hex"),
                ))
            }
        }
        _ => Ok(unquoted.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new(SessionContext::new())
    }

    #[test]
    fn defaults_and_show() {
        let s = session();
        assert_eq!(s.get("timezone"), Some(("TimeZone".into(), "UTC".into())));
        assert_eq!(
            s.get("SERVER_VERSION").map(|(_, v)| v),
            Some(server_version())
        );
        assert!(s.get("no_such_setting").is_none());
    }

    #[test]
    fn set_time_zone_validates_and_reports() {
        let s = session();
        let reported = s.set("timezone", "asia/kolkata").ok().flatten();
        assert_eq!(reported, Some(("TimeZone".into(), "Asia/Kolkata".into())));
        assert_eq!(s.output_options().time_zone, Tz::Asia__Kolkata);
        assert!(s.set("TimeZone", "Mars/Olympus").is_err());
        assert_eq!(s.reset("TIMEZONE"), Some(("TimeZone".into(), "UTC".into())));
        assert_eq!(s.output_options().time_zone, Tz::UTC);
    }

    #[test]
    fn reset_goes_back_to_what_the_session_started_with() {
        let s = session();
        // A user's default statement_timeout, then the startup packet's TimeZone; a bad
        // startup value is ignored and leaves nothing behind.
        s.set_from_startup("statement_timeout", "30s");
        s.set_from_startup("TimeZone", "Asia/Kolkata");
        s.set_from_startup("DateStyle", "German");
        assert!(s.set("statement_timeout", "0").is_ok());
        assert!(s.set("TimeZone", "UTC").is_ok());
        assert_eq!(s.reset("statement_timeout"), None);
        assert_eq!(
            s.get("statement_timeout"),
            Some(("statement_timeout".into(), "30s".into()))
        );
        assert_eq!(
            s.reset("timezone"),
            Some(("TimeZone".into(), "Asia/Kolkata".into()))
        );
        assert!(s.set("statement_timeout", "1").is_ok());
        assert!(s.set("TimeZone", "UTC").is_ok());
        let reported = s.reset_all();
        assert!(reported.contains(&("TimeZone".into(), "Asia/Kolkata".into())));
        assert_eq!(s.output_options().time_zone, Tz::Asia__Kolkata);
        assert_eq!(
            s.get("statement_timeout").map(|(_, v)| v),
            Some("30s".into())
        );
        assert_eq!(s.get("datestyle").map(|(_, v)| v), Some("ISO, MDY".into()));
        // A setting the session did not start with goes back to the built-in default.
        assert!(s.set("extra_float_digits", "3").is_ok());
        s.reset("extra_float_digits");
        assert_eq!(
            s.get("extra_float_digits").map(|(_, v)| v),
            Some("1".into())
        );
    }

    #[test]
    fn read_only_and_free_form_settings() {
        let s = session();
        assert!(s.set("server_version", "1").is_err());
        assert_eq!(s.set("myapp.flag", "x").ok().flatten(), None);
        assert_eq!(s.get("MyApp.Flag").map(|(_, v)| v), Some("x".into()));
        assert_eq!(
            s.set("client_encoding", "'utf-8'").ok().flatten(),
            Some(("client_encoding".into(), "UTF8".into()))
        );
        assert_eq!(
            s.set("datestyle", "iso").ok().flatten(),
            Some(("DateStyle".into(), "ISO, MDY".into()))
        );
        s.set_user("alice");
        assert!(s.set("application_name", "psql").is_ok());
        // Only reported settings whose value changes are sent again.
        assert_eq!(
            s.reset_all(),
            vec![("application_name".to_string(), String::new())]
        );
        assert!(s.get("myapp.flag").is_none());
        assert_eq!(
            s.get("session_authorization").map(|(_, v)| v),
            Some("alice".into())
        );
    }

    #[test]
    fn tenant_setting_narrows_within_the_grant() {
        let s = session();
        // No scope on the context: all tenants, narrowing to any.
        assert_eq!(s.get("chatlake.tenant").map(|(_, v)| v), Some("*".into()));
        assert!(s.set("chatlake.tenant", "'t9'").is_ok());
        assert_eq!(s.tenant_scope(), TenantScope::only(["t9"]));
        assert_eq!(s.reset("CHATLAKE.TENANT"), None);
        assert_eq!(s.tenant_scope(), TenantScope::All);

        s.set_tenant_scope(TenantScope::only(["a", "c"]));
        assert_eq!(s.get("chatlake.tenant").map(|(_, v)| v), Some("a,c".into()));
        let denied = s
            .set("chatlake.tenant", "b")
            .err()
            .map(|e| format!("{e:?}"));
        assert!(denied.is_some_and(|e| e.contains("42501")));
        assert!(s.set("chatlake.tenant", "").is_err());
        assert!(s.set("chatlake.tenant", "c").is_ok());
        assert_eq!(
            tenant::scope_of(&s.context().state()).map(|scope| scope.as_ref().clone()),
            Some(TenantScope::only(["c"]))
        );
        // RESET ALL widens to the grant; the startup packet cannot narrow or widen.
        s.reset_all();
        assert_eq!(s.tenant_scope(), TenantScope::only(["a", "c"]));
        s.set_from_startup("chatlake.tenant", "b");
        s.set_from_startup("chatlake.tenant", "a");
        assert_eq!(s.tenant_scope(), TenantScope::only(["a", "c"]));
        assert!(
            s.all()
                .iter()
                .any(|(name, value)| name == "chatlake.tenant" && value == "a,c")
        );
    }
}
