//! The auth file: users, their SCRAM verifiers, tenant grants and limits, as TOML.
//!
//! ```toml
//! # written by `chatlake user add/remove`
//! mock_secret = "…"            # keys the fake verifiers of unknown user names (made once)
//!
//! [users.alice]
//! password = "SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>"
//! tenants = ["acme", "globex"]  # or: all_tenants = true
//! connection_limit = 5          # optional: connections at once (53300 past it)
//! statement_timeout = "30s"     # optional: the session's default statement_timeout
//! ```
//!
//! | Rule | Behaviour |
//! |---|---|
//! | passwords | only SCRAM-SHA-256 verifiers ([`super::scram::Verifier`]); anything else fails the load, naming the user |
//! | grants | a user has `tenants = [...]` (at least one) or `all_tenants = true`, not both, not neither |
//! | names | user names 1..=63 bytes without control characters; tenant ids non-empty |
//! | unknown keys | refused (a typo must not silently drop a limit) |
//! | writing | to a temporary file beside it, mode 0600 on Unix, then renamed over the old one: a reader never sees half a file |

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::scram::Verifier;
use crate::error::{Error, Result};

/// Longest user name (PostgreSQL's NAMEDATALEN - 1).
const MAX_NAME: usize = 63;

/// The tenants a user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantGrant {
    /// Every tenant of the lake.
    All,
    /// Only these tenant ids (never empty).
    Only(Vec<String>),
}

impl fmt::Display for TenantGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenantGrant::All => f.write_str("all tenants"),
            TenantGrant::Only(tenants) => f.write_str(&tenants.join(",")),
        }
    }
}

/// Per-user limits (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Connections the user may have open at once; past it `53300`.
    pub connection_limit: Option<u32>,
    /// The session's default `statement_timeout` (a value `SET statement_timeout` accepts).
    pub statement_timeout: Option<String>,
}

/// One user of the auth file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name clients log in with.
    pub name: String,
    /// The SCRAM-SHA-256 verifier of the password.
    pub verifier: Verifier,
    /// The tenants whose rows the user sees.
    pub tenants: TenantGrant,
    /// Connection limit and default statement timeout.
    pub limits: Limits,
}

/// The whole auth file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthFile {
    users: BTreeMap<String, User>,
    mock_secret: Option<Vec<u8>>,
}

/// The file as it is written (serde's view).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mock_secret: Option<String>,
    #[serde(default)]
    users: BTreeMap<String, UserRepr>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRepr {
    password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenants: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    all_tenants: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connection_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    statement_timeout: Option<String>,
}

/// The first lines of a written file.
const HEADER: &str = "\
# chatlake auth file: users of `chatlake serve --auth-file`.
# Managed with `chatlake user add/remove/list`; passwords are SCRAM-SHA-256 verifiers only.
# The server re-reads this file when it changes (or on SIGHUP).

";

/// Checks a user name: 1..=63 bytes, no control characters.
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!(
            "a user name has 1 to {MAX_NAME} bytes, '{name}' has {}",
            name.len()
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("user name {name:?} has a control character"));
    }
    Ok(())
}

/// Checks a `statement_timeout` value the way `SET statement_timeout` does.
pub fn check_statement_timeout(value: &str) -> Result<(), String> {
    crate::pg::parse_statement_timeout(value)
        .map(|_| ())
        .ok_or_else(|| {
            format!("statement_timeout '{value}' is not a duration (e.g. 30s, 5min, 1500ms)")
        })
}

impl User {
    fn from_repr(name: String, repr: UserRepr) -> Result<User, String> {
        check_user_name(&name)?;
        let verifier = Verifier::parse(&repr.password).map_err(|e| format!("password: {e}"))?;
        let tenants = match (repr.tenants, repr.all_tenants) {
            (Some(_), true) => {
                return Err("has both tenants and all_tenants = true; keep one".into());
            }
            (None, true) => TenantGrant::All,
            (Some(list), false) if !list.is_empty() => {
                if list.iter().any(|t| t.trim().is_empty()) {
                    return Err("has an empty tenant id".into());
                }
                TenantGrant::Only(list)
            }
            _ => return Err("has no tenants: give tenants = [...] or all_tenants = true".into()),
        };
        if let Some(timeout) = &repr.statement_timeout {
            check_statement_timeout(timeout)?;
        }
        Ok(User {
            name,
            verifier,
            tenants,
            limits: Limits {
                connection_limit: repr.connection_limit,
                statement_timeout: repr.statement_timeout,
            },
        })
    }

    fn to_repr(&self) -> UserRepr {
        let (tenants, all_tenants) = match &self.tenants {
            TenantGrant::All => (None, true),
            TenantGrant::Only(list) => (Some(list.clone()), false),
        };
        UserRepr {
            password: self.verifier.to_string(),
            tenants,
            all_tenants,
            connection_limit: self.limits.connection_limit,
            statement_timeout: self.limits.statement_timeout.clone(),
        }
    }
}

impl AuthFile {
    /// Parses the text of an auth file; the error names the user or line at fault.
    pub fn parse(text: &str) -> Result<AuthFile, String> {
        let repr: FileRepr = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        let mock_secret = match repr.mock_secret {
            Some(secret) => Some(
                STANDARD
                    .decode(secret.trim())
                    .map_err(|_| "mock_secret is not base64".to_string())?,
            ),
            None => None,
        };
        let mut users = BTreeMap::new();
        for (name, user) in repr.users {
            let user =
                User::from_repr(name.clone(), user).map_err(|e| format!("user '{name}': {e}"))?;
            users.insert(name, user);
        }
        Ok(AuthFile { users, mock_secret })
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<AuthFile> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("reading auth file {}", path.display()),
            source,
        })?;
        AuthFile::parse(&text)
            .map_err(|e| Error::Config(format!("auth file {}: {e}", path.display())))
    }

    /// Reads the file at `path`, or an empty one when there is no file yet.
    pub fn load_or_new(path: &Path) -> Result<AuthFile> {
        if path.exists() {
            AuthFile::load(path)
        } else {
            Ok(AuthFile::default())
        }
    }

    /// The file's text (header comment, then TOML).
    pub fn to_text(&self) -> String {
        let repr = FileRepr {
            mock_secret: self.mock_secret.as_ref().map(|s| STANDARD.encode(s)),
            users: self
                .users
                .iter()
                .map(|(name, user)| (name.clone(), user.to_repr()))
                .collect(),
        };
        let body = toml::to_string(&repr).unwrap_or_default();
        format!("{HEADER}{body}")
    }

    /// Writes the file to `path` atomically (temporary file, then rename), mode 0600 on Unix.
    pub fn save(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let io = |context: String| move |source| Error::Io { context, source };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "auth.toml".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&tmp)
            .map_err(io(format!("writing {}", tmp.display())))?;
        file.write_all(self.to_text().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, path).map_err(io(format!("replacing {}", path.display())))
    }

    /// The user called `name`.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    /// Every user, by name.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// Adds `user`, replacing one of the same name; true when it replaced one. Makes the
    /// mock secret if the file has none yet.
    pub fn upsert(&mut self, user: User) -> bool {
        if self.mock_secret.is_none() {
            self.mock_secret = Some(rand::random::<[u8; 32]>().to_vec());
        }
        self.users.insert(user.name.clone(), user).is_some()
    }

    /// Removes the user called `name`; false when there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        self.users.remove(name).is_some()
    }

    /// The secret the fake verifiers of unknown names are derived from, when the file has one.
    pub fn mock_secret(&self) -> Option<&[u8]> {
        self.mock_secret.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, tenants: TenantGrant) -> User {
        User {
            name: name.into(),
            verifier: Verifier::new("pw"),
            tenants,
            limits: Limits::default(),
        }
    }

    #[test]
    fn a_file_round_trips_through_its_text() {
        let mut file = AuthFile::default();
        assert!(!file.upsert(user(
            "alice",
            TenantGrant::Only(vec!["t1".into(), "t2".into()])
        )));
        let mut bob = user("bob", TenantGrant::All);
        bob.limits = Limits {
            connection_limit: Some(3),
            statement_timeout: Some("30s".into()),
        };
        file.upsert(bob);
        let text = file.to_text();
        assert!(text.starts_with("# chatlake auth file"));
        assert!(text.contains("all_tenants = true"), "{text}");
        assert!(text.contains("tenants = [\"t1\", \"t2\"]"), "{text}");
        assert_eq!(AuthFile::parse(&text).expect("parse"), file);
        assert!(file.mock_secret().is_some_and(|s| s.len() == 32));
        assert!(file.remove("alice"));
        assert!(!file.remove("alice"));
    }

    #[test]
    fn bad_files_name_the_user_and_the_fault() {
        let verifier = Verifier::new("pw").to_string();
        for (text, expected) in [
            (
                "[users.a]\npassword = \"pw\"\nall_tenants = true\n".to_string(),
                "user 'a': password: not a SCRAM-SHA-256 verifier",
            ),
            (
                format!("[users.a]\npassword = \"{verifier}\"\n"),
                "user 'a': has no tenants",
            ),
            (
                format!("[users.a]\npassword = \"{verifier}\"\ntenants = []\n"),
                "user 'a': has no tenants",
            ),
            (
                format!(
                    "[users.a]\npassword = \"{verifier}\"\ntenants = [\"x\"]\nall_tenants = true\n"
                ),
                "has both",
            ),
            (
                format!(
                    "[users.a]\npassword = \"{verifier}\"\nall_tenants = true\nconection_limit = 1\n"
                ),
                "unknown field",
            ),
            (
                format!(
                    "[users.a]\npassword = \"{verifier}\"\nall_tenants = true\nstatement_timeout = \"soon\"\n"
                ),
                "statement_timeout 'soon'",
            ),
            ("users = 3".to_string(), "invalid type"),
        ] {
            let error = AuthFile::parse(&text).expect_err(&text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn user_names_are_checked() {
        assert!(check_user_name("alice").is_ok());
        assert!(check_user_name("").is_err());
        assert!(check_user_name(&"x".repeat(64)).is_err());
        assert!(check_user_name("a\nb").is_err());
    }
}
