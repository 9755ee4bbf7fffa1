//! Tenant isolation under the planner: which tenants' rows a session may read, and the table
//! provider that enforces it on every scan of every lake table.
//!
//! | piece | job |
//! |---|---|
//! | [`TenantScope`] | `All` tenants or `Only` a set of tenant ids; stored as a `SessionConfig` extension of each session (Rust only: no SQL statement, setting or startup option reaches it) |
//! | [`set_scope`] / [`scope_of`] | write / read the scope of a session |
//! | [`TenantScoped`] (`scoped.rs`) | wraps a lake table; its `scan` reads the scope of the session *running the query* and filters |
//! | [`TenantGuardExec`] (`guard.rs`) | the top of a filtered scan: nothing of the query above is evaluated below it |
//!
//! Views and report functions need nothing of their own: a view's plan holds these providers
//! (the catalog registers only wrapped tables) and is inlined into the caller's plan; a report
//! is planned per call with the caller's session. Either way the scan runs with the scope of
//! the calling session. Every lake table has a `tenant_id` column (SPEC section 3, the
//! dimension tables `tenants`, `channels`, `contacts` included), so every table is wrapped; a
//! table without one is refused when the engine opens it.

//!
//! **Wiring authentication in.** The pg server builds each connection's session before the
//! client authenticates ([`crate::pg::engine_sessions`] with a fixed scope). Once the user is
//! known, the handler calls `Session::set_tenant_scope(scope)` (crate-internal, in
//! `pg::session`): a user granted all tenants gets [`TenantScope::All`], one granted a list gets
//! [`TenantScope::only`] of it. With an auth file, build the sessions with
//! `TenantScope::only(Vec::<String>::new())` (no rows) so that a session whose login never
//! assigned a grant fails closed; without one (trust mode, the demo) they get
//! [`TenantScope::All`], as `pg::serve` does.

mod guard;
mod scoped;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::prelude::{SessionConfig, SessionContext};

pub use guard::TenantGuardExec;
pub use scoped::TenantScoped;

/// The column every lake table carries and every scan is filtered on.
pub const TENANT_COLUMN: &str = "tenant_id";

/// The tenants whose rows a session may read.
///
/// Set by the server (trust mode: [`TenantScope::All`]; after authentication: the user's
/// grant) and narrowed by `SET chatlake.tenant`; never by SQL directly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TenantScope {
    /// Every tenant: no filter.
    All,
    /// Only these tenant ids (an empty set: no rows of any table).
    Only(BTreeSet<String>),
}

impl TenantScope {
    /// A scope of exactly these tenants.
    pub fn only<I, S>(tenants: I) -> TenantScope
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TenantScope::Only(tenants.into_iter().map(Into::into).collect())
    }

    /// Whether rows of `tenant` are visible.
    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Only(set) => set.contains(tenant),
        }
    }

    /// Whether this scope sees every tenant.
    pub fn is_all(&self) -> bool {
        matches!(self, TenantScope::All)
    }

    /// The scope narrowed to `tenant`, or `None` when `tenant` is outside this scope.
    pub fn narrow(&self, tenant: &str) -> Option<TenantScope> {
        self.allows(tenant)
            .then(|| TenantScope::only([tenant.to_string()]))
    }
}

impl fmt::Display for TenantScope {
    /// `*` for all tenants, else the tenant ids in order, comma-separated (what `SHOW
    /// chatlake.tenant` answers).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenantScope::All => f.write_str("*"),
            TenantScope::Only(set) => {
                let ids: Vec<&str> = set.iter().map(String::as_str).collect();
                f.write_str(&ids.join(","))
            }
        }
    }
}

/// Sets the scope of `ctx` (the scans of every later statement of this session use it).
pub fn set_scope(ctx: &SessionContext, scope: TenantScope) {
    ctx.state_ref()
        .write()
        .config_mut()
        .set_extension(Arc::new(scope));
}

/// `config` with `scope` set.
pub fn with_scope(config: SessionConfig, scope: TenantScope) -> SessionConfig {
    config.with_extension(Arc::new(scope))
}

/// The scope of a session (`None`: none was set; scans of wrapped tables then fail).
pub fn scope_of(state: &dyn Session) -> Option<Arc<TenantScope>> {
    state.config().get_extension::<TenantScope>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_semantics() {
        let all = TenantScope::All;
        let two = TenantScope::only(["t1", "t2"]);
        assert!(all.allows("anything"));
        assert!(two.allows("t1") && !two.allows("t3"));
        assert_eq!(two.narrow("t2"), Some(TenantScope::only(["t2"])));
        assert_eq!(two.narrow("t3"), None);
        assert_eq!(all.narrow("t9"), Some(TenantScope::only(["t9"])));
        assert_eq!(all.to_string(), "*");
        assert_eq!(two.to_string(), "t1,t2");
        assert_eq!(TenantScope::only(Vec::<String>::new()).to_string(), "");
    }
}
