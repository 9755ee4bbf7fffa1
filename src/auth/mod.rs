//! Who may connect and what they may see: the auth file, SCRAM verifiers, TLS, tenant grants
//! (shared by the Postgres front end and the HTTP ingest listener's tokens).
//!
//! - [`file`]: the auth file (TOML): [`AuthFile`], [`User`], [`TenantGrant`], [`Limits`],
//!   the HTTP listener's [`IngestToken`]s.
//! - [`scram`]: SCRAM-SHA-256 verifiers in PostgreSQL's text form ([`Verifier`]).
//! - [`store`]: the file as a running server sees it: re-read on change or SIGHUP, mock
//!   verifiers for unknown names, per-user connection counts ([`AuthStore`]).
//! - [`tls`]: certificate and key for the Postgres listener ([`Tls`]).
//! - [`users`]: `chatlake user add/remove/list` and `chatlake user token add/remove/list`.
//!
//! What a server does with them ([`Security`]):
//!
//! | Server started with | Connections |
//! |---|---|
//! | no auth file | any user name, no password (trust), on loopback addresses only |
//! | `--auth-file F` | SCRAM-SHA-256 against `F`'s verifiers (`-PLUS` with channel binding over TLS); a wrong password and an unknown user both get `FATAL 28P01 password authentication failed for user "…"` |
//! | `--tls-cert/--tls-key` | `SSLRequest` answered `S`, direct TLS (ALPN `postgresql`) accepted |
//! | `--require-tls` | a plain connection gets `FATAL 28000` |

pub mod file;
pub mod scram;
pub mod store;
pub mod tls;
pub mod users;

use std::sync::Arc;

pub use file::{AuthFile, IngestToken, Limits, TenantGrant, User};
pub use scram::Verifier;
pub use store::AuthStore;
pub use tls::Tls;

/// How the Postgres listener authenticates and encrypts (the default: trust, plain TCP).
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// The users; `None` is trust authentication (loopback only, checked by `serve`).
    pub users: Option<Arc<AuthStore>>,
    /// TLS, when a certificate is configured.
    pub tls: Option<Tls>,
    /// Refuse connections that did not negotiate TLS (`28000`).
    pub require_tls: bool,
}
