//! Password authentication of one connection (SCRAM-SHA-256 through pgwire's SASL support)
//! and the connection log.
//!
//! | Step | Behaviour |
//! |---|---|
//! | startup over plain TCP with `--require-tls` | `FATAL 28000 connection requires TLS …` |
//! | startup without a user name | `FATAL 28000` (pgwire's `UserNameRequired`) |
//! | startup | `AuthenticationSASL` offering `SCRAM-SHA-256`, and `SCRAM-SHA-256-PLUS` on a TLS connection (channel binding `tls-server-end-point`) |
//! | client-first | the user's verifier from the auth file in force; a name not in it gets a mock verifier (same salt every time, same messages, same work) |
//! | client-final, wrong proof | `FATAL 28P01 password authentication failed for user "NAME"`, whether NAME exists or not |
//! | client-final, right proof | `AuthenticationSASLFinal`, then the user's connection limit (`FATAL 53300`), then the session starts |
//! | malformed, truncated or out-of-order messages | `FATAL 08P01` (pgwire's SCRAM errors; a `SASLInitialResponse` cut short is caught before pgwire's decoder, which would panic on it); never a panic |
//!
//! Every connection attempt is logged once at info level under the target
//! [`CONNECTION_LOG`]: peer address, user, TLS or not, outcome.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use pgwire::api::ClientInfo;
use pgwire::api::auth::sasl::SASLState;
use pgwire::api::auth::sasl::scram::{ScramAuth, ScramSecret};
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::{Authentication, PasswordMessageFamily};

use crate::auth::store::Admission;
use crate::auth::{AuthStore, Security, User};
use crate::error::Result;
use crate::pg::error::code;

/// The `tracing` target of the connection log (`CHATLAKE_LOG=chatlake::connections=info`).
pub const CONNECTION_LOG: &str = "chatlake::connections";

/// What every connection of a server shares for logging in.
#[derive(Debug)]
pub(crate) struct Login {
    users: Option<Arc<AuthStore>>,
    require_tls: bool,
    /// SCRAM over plain TCP: `SCRAM-SHA-256` only.
    plain: Option<ScramAuth<Arc<User>>>,
    /// SCRAM over TLS: also `SCRAM-SHA-256-PLUS`, bound to the server certificate.
    tls: Option<ScramAuth<Arc<User>>>,
}

impl Login {
    /// The login rules of `security`.
    pub fn new(security: &Security) -> Result<Login> {
        let (plain, tls) = match &security.users {
            None => (None, None),
            Some(store) => {
                let source = Arc::new(Users(store.clone()));
                let plain = ScramAuth::new(source.clone());
                let tls = match &security.tls {
                    None => None,
                    Some(tls) => {
                        let mut scram = ScramAuth::new(source);
                        match scram.configure_certificate(tls.cert_pem()) {
                            Ok(()) => Some(scram),
                            Err(e) => {
                                // e.g. an Ed25519 certificate: TLS works, channel binding not.
                                tracing::warn!(
                                    "SCRAM-SHA-256-PLUS (channel binding) is off: the certificate's signature algorithm is not supported for it: {e}"
                                );
                                None
                            }
                        }
                    }
                };
                (Some(plain), tls)
            }
        };
        Ok(Login {
            users: security.users.clone(),
            require_tls: security.require_tls,
            plain,
            tls,
        })
    }

    /// Whether connections log in with a password (else: trust).
    pub fn with_passwords(&self) -> bool {
        self.users.is_some()
    }

    fn scram(&self, secure: bool) -> Option<&ScramAuth<Arc<User>>> {
        if secure {
            self.tls.as_ref().or(self.plain.as_ref())
        } else {
            self.plain.as_ref()
        }
    }
}

/// The auth file as pgwire's SCRAM exchange asks it.
#[derive(Debug)]
struct Users(Arc<AuthStore>);

#[async_trait]
impl AuthSource<Arc<User>> for Users {
    async fn get_password(&self, _login: &LoginInfo) -> PgWireResult<Password> {
        // Only SCRAM is offered, and it asks for the verifier (below), never a password.
        Err(PgWireError::InvalidSASLState)
    }

    async fn get_scram_secret(
        &self,
        login: &LoginInfo,
    ) -> PgWireResult<(ScramSecret, Option<Arc<User>>)> {
        let lookup = self.0.verifier(login.user().unwrap_or_default());
        Ok((lookup.verifier.to_secret(), lookup.user))
    }
}

/// One connection's progress through the login.
#[derive(Debug, Default)]
pub(crate) struct LoginState {
    sasl: Option<SASLState>,
    user: Option<Arc<User>>,
    admission: Option<Admission>,
}

/// What a step of the exchange asks the handler to do.
pub(crate) enum Step {
    /// Send this and wait for the client's next message.
    Send(Authentication),
    /// Logged in: send this final message, then start the session as this user.
    Done(Authentication, Arc<User>),
}

/// A FATAL error with `code` and `message`.
pub(crate) fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        code.to_string(),
        message,
    )))
}

impl Login {
    /// Checks a startup packet: TLS when required, a user name. `None`: trust, go on.
    pub fn begin<C: ClientInfo + ?Sized>(
        &self,
        client: &C,
        state: &Mutex<LoginState>,
        log: &ConnectionLog,
    ) -> PgWireResult<Option<Authentication>> {
        let user = client
            .metadata()
            .get(pgwire::api::METADATA_USER)
            .cloned()
            .unwrap_or_default();
        log.started(&user, client.is_secure());
        if self.require_tls && !client.is_secure() {
            log.outcome("refused: no TLS");
            return Err(fatal(
                code::INVALID_AUTHORIZATION,
                format!(
                    "connection requires TLS: user \"{user}\" connected without encryption (use sslmode=require or stronger)"
                ),
            ));
        }
        let Some(scram) = self.scram(client.is_secure()) else {
            return Ok(None);
        };
        if user.is_empty() {
            log.outcome("refused: no user name");
            return Err(PgWireError::UserNameRequired);
        }
        lock(state).sasl = Some(SASLState::ScramClientFirstReceived);
        Ok(Some(Authentication::SASL(
            pgwire::api::auth::sasl::SaslMechanismFactory::sasl_mechanism_names(scram),
        )))
    }

    /// Runs one SASL message of the exchange.
    pub async fn next<C: ClientInfo + Sync + ?Sized>(
        &self,
        client: &C,
        message: PasswordMessageFamily,
        state: &Mutex<LoginState>,
        log: &ConnectionLog,
    ) -> PgWireResult<Step> {
        let name = client
            .metadata()
            .get(pgwire::api::METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let (Some(scram), Some(sasl)) = (self.scram(client.is_secure()), lock(state).sasl.take())
        else {
            log.outcome("protocol error: a password message before SASL started");
            return Err(PgWireError::NoAuthenticationInProgress);
        };
        if matches!(sasl, SASLState::ScramClientFirstReceived)
            && !well_formed_initial_response(&message)
        {
            log.outcome("protocol error: malformed SASLInitialResponse");
            return Err(PgWireError::InvalidScramMessage(
                "malformed SASLInitialResponse".into(),
            ));
        }
        match scram.process_scram_message(client, message, &sasl).await {
            Ok((Authentication::SASLContinue(data), next, identity)) => {
                let mut state = lock(state);
                state.sasl = Some(next);
                state.user = identity;
                Ok(Step::Send(Authentication::SASLContinue(data)))
            }
            Ok((Authentication::SASLFinal(data), _, _)) => {
                let user = lock(state).user.take();
                let Some(user) = user else {
                    // A mock verifier cannot be matched; refuse all the same.
                    log.outcome("unknown user");
                    return Err(bad_password(&name));
                };
                if let Some(store) = &self.users {
                    match store.admit(&user) {
                        Some(admission) => lock(state).admission = Some(admission),
                        None => {
                            log.outcome("refused: user connection limit");
                            return Err(fatal(
                                code::TOO_MANY_CONNECTIONS,
                                format!("too many connections for role \"{name}\""),
                            ));
                        }
                    }
                }
                log.outcome("ok");
                Ok(Step::Done(Authentication::SASLFinal(data), user))
            }
            Ok(_) => {
                log.outcome("protocol error: unexpected SASL state");
                Err(PgWireError::InvalidSASLState)
            }
            Err(PgWireError::InvalidPassword(_)) => {
                let known = lock(state).user.is_some();
                log.outcome(if known {
                    "bad password"
                } else {
                    "unknown user"
                });
                Err(bad_password(&name))
            }
            Err(e) => {
                log.outcome(&format!("protocol error: {e}"));
                Err(e)
            }
        }
    }
}

/// Whether a `SASLInitialResponse` body is whole: mechanism name, NUL, a data length of -1 or
/// at most what follows. pgwire's decoder reads the length and the data without checking what
/// is left (a panic on a message cut short), so the frame is checked before it gets it.
fn well_formed_initial_response(message: &PasswordMessageFamily) -> bool {
    let PasswordMessageFamily::Raw(body) = message else {
        return true;
    };
    let Some(nul) = body.iter().position(|b| *b == 0) else {
        return false;
    };
    let rest = &body[nul + 1..];
    let Some((length, data)) = rest.split_first_chunk::<4>() else {
        return false;
    };
    match i32::from_be_bytes(*length) {
        -1 => true,
        n => usize::try_from(n).is_ok_and(|n| n <= data.len()),
    }
}

/// The one answer to a wrong password and to an unknown user (PostgreSQL's wording).
fn bad_password(user: &str) -> PgWireError {
    fatal(
        code::INVALID_PASSWORD,
        format!("password authentication failed for user \"{user}\""),
    )
}

fn lock(state: &Mutex<LoginState>) -> std::sync::MutexGuard<'_, LoginState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The one log line of a connection attempt: written when its outcome is known, or when the
/// connection ends before that.
#[derive(Debug)]
pub struct ConnectionLog {
    peer: SocketAddr,
    seen: Mutex<(String, bool)>,
    done: AtomicBool,
}

impl ConnectionLog {
    /// The log of a connection from `peer`.
    pub fn new(peer: SocketAddr) -> ConnectionLog {
        ConnectionLog {
            peer,
            seen: Mutex::new((String::new(), false)),
            done: AtomicBool::new(false),
        }
    }

    /// Notes the user name and whether the connection is encrypted, from its startup packet.
    pub fn started(&self, user: &str, tls: bool) {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = (user.to_string(), tls);
    }

    /// Writes the line with `outcome`, unless one was written already.
    pub fn outcome(&self, outcome: &str) {
        if self.done.swap(true, Ordering::SeqCst) {
            return;
        }
        let (user, tls) = self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        tracing::info!(
            target: CONNECTION_LOG,
            peer = %self.peer,
            user = %user,
            tls = %if tls { "yes" } else { "no" },
            outcome,
            "connection attempt"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    #[test]
    fn a_sasl_initial_response_cut_short_is_caught() {
        let raw = |bytes: &[u8]| PasswordMessageFamily::Raw(BytesMut::from(bytes));
        assert!(well_formed_initial_response(&raw(
            b"SCRAM-SHA-256\0\0\0\0\x03abc"
        )));
        assert!(well_formed_initial_response(&raw(
            b"SCRAM-SHA-256\0\xff\xff\xff\xff"
        )));
        for bad in [
            &b"SCRAM-SHA-256"[..],
            b"SCRAM-SHA-256\0",
            b"SCRAM-SHA-256\0\0\0",
            b"SCRAM-SHA-256\0\0\0\0\x04abc",
            b"SCRAM-SHA-256\0\xff\xff\xff\xfe",
            b"x\0\x80\0\0\0",
        ] {
            assert!(!well_formed_initial_response(&raw(bad)), "{bad:?}");
        }
    }
}
