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
//! memory_limit = "512MiB"       # optional: memory one query of this user may hold (53200 past it)
//!
//! [tokens.acme-backend]         # an ingest token (written by `chatlake user token add`)
//! sha256 = "<hex of the SHA-256 of the token>"
//! tenants = ["acme"]            # or: all_tenants = true
//! ```
//!
//! | Rule | Behaviour |
//! |---|---|
//! | passwords | only SCRAM-SHA-256 verifiers ([`super::scram::Verifier`]); anything else fails the load, naming the user |
//! | ingest tokens | only their SHA-256 is stored (the token is 256 random bits, so a plain hash is enough); a token has the same kind of grant as a user |
//! | grants | a user (and a token) has `tenants = [...]` (at least one) or `all_tenants = true`, not both, not neither |
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
    /// Bytes of the server's memory pool one query of the user may hold; past it `53200`.
    pub memory_limit: Option<u64>,
}

/// An ingest token of the HTTP listener: who it is (a name for the operator), the SHA-256 of
/// its secret, and the tenants whose rows it may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestToken {
    /// The operator's name for the token (`chatlake user token add NAME`).
    pub name: String,
    /// SHA-256 of the token's text.
    pub digest: [u8; 32],
    /// The tenants whose rows the token may write.
    pub tenants: TenantGrant,
}

/// Prefix of the tokens `chatlake user token add` makes (to spot one in a config or a log).
pub const TOKEN_PREFIX: &str = "clk_";

impl IngestToken {
    /// A new token for `tenants`: the token's text (shown once, never stored) and its record.
    pub fn generate(name: &str, tenants: TenantGrant) -> (String, IngestToken) {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let secret = format!(
            "{TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
        );
        let token = IngestToken {
            name: name.to_string(),
            digest: token_digest(&secret),
            tenants,
        };
        (secret, token)
    }
}

/// The SHA-256 of a token's text, as the auth file keeps it.
pub fn token_digest(secret: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).into()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex_32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
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
    tokens: BTreeMap<String, IngestToken>,
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
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tokens: BTreeMap<String, TokenRepr>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRepr {
    sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenants: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    all_tenants: bool,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    memory_limit: Option<String>,
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

impl TenantGrant {
    /// The grant of a file entry's `tenants`/`all_tenants` pair (exactly one must be given).
    fn from_repr(tenants: Option<Vec<String>>, all_tenants: bool) -> Result<TenantGrant, String> {
        match (tenants, all_tenants) {
            (Some(_), true) => Err("has both tenants and all_tenants = true; keep one".into()),
            (None, true) => Ok(TenantGrant::All),
            (Some(list), false) if !list.is_empty() => {
                if list.iter().any(|t| t.trim().is_empty()) {
                    return Err("has an empty tenant id".into());
                }
                Ok(TenantGrant::Only(list))
            }
            _ => Err("has no tenants: give tenants = [...] or all_tenants = true".into()),
        }
    }

    /// The `tenants`/`all_tenants` pair of a file entry.
    fn to_repr(&self) -> (Option<Vec<String>>, bool) {
        match self {
            TenantGrant::All => (None, true),
            TenantGrant::Only(list) => (Some(list.clone()), false),
        }
    }

    /// Whether rows of `tenant` are within the grant.
    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            TenantGrant::All => true,
            TenantGrant::Only(list) => list.iter().any(|t| t == tenant),
        }
    }
}

/// Checks a per-query memory limit (a size such as `512MiB`, at least 1 MiB).
pub fn check_memory_limit(value: &str) -> Result<u64, String> {
    let bytes = crate::config::parse_size(value).map_err(|e| format!("memory_limit: {e}"))?;
    if bytes < 1 << 20 {
        return Err(format!(
            "memory_limit '{value}' is below 1MiB: no query could run"
        ));
    }
    Ok(bytes)
}

/// Writes `bytes` the way [`crate::config::parse_size`] reads it (`512MiB`, `3GiB`, bytes).
pub fn format_size(bytes: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

impl User {
    fn from_repr(name: String, repr: UserRepr) -> Result<User, String> {
        check_user_name(&name)?;
        let verifier = Verifier::parse(&repr.password).map_err(|e| format!("password: {e}"))?;
        let tenants = TenantGrant::from_repr(repr.tenants, repr.all_tenants)?;
        if let Some(timeout) = &repr.statement_timeout {
            check_statement_timeout(timeout)?;
        }
        let memory_limit = repr
            .memory_limit
            .as_deref()
            .map(check_memory_limit)
            .transpose()?;
        Ok(User {
            name,
            verifier,
            tenants,
            limits: Limits {
                connection_limit: repr.connection_limit,
                statement_timeout: repr.statement_timeout,
                memory_limit,
            },
        })
    }

    fn to_repr(&self) -> UserRepr {
        let (tenants, all_tenants) = self.tenants.to_repr();
        UserRepr {
            password: self.verifier.to_string(),
            tenants,
            all_tenants,
            connection_limit: self.limits.connection_limit,
            statement_timeout: self.limits.statement_timeout.clone(),
            memory_limit: self.limits.memory_limit.map(format_size),
        }
    }
}

impl IngestToken {
    fn from_repr(name: String, repr: TokenRepr) -> Result<IngestToken, String> {
        check_user_name(&name)?;
        let digest = from_hex_32(&repr.sha256)
            .ok_or("sha256 is not 64 hex digits (the token's SHA-256, as `chatlake user token add` writes it)")?;
        Ok(IngestToken {
            name,
            digest,
            tenants: TenantGrant::from_repr(repr.tenants, repr.all_tenants)?,
        })
    }

    fn to_repr(&self) -> TokenRepr {
        let (tenants, all_tenants) = self.tenants.to_repr();
        TokenRepr {
            sha256: to_hex(&self.digest),
            tenants,
            all_tenants,
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
        let mut tokens = BTreeMap::new();
        for (name, token) in repr.tokens {
            let token = IngestToken::from_repr(name.clone(), token)
                .map_err(|e| format!("token '{name}': {e}"))?;
            tokens.insert(name, token);
        }
        Ok(AuthFile {
            users,
            tokens,
            mock_secret,
        })
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
            tokens: self
                .tokens
                .iter()
                .map(|(name, token)| (name.clone(), token.to_repr()))
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

    /// Every ingest token, by name.
    pub fn tokens(&self) -> impl Iterator<Item = &IngestToken> {
        self.tokens.values()
    }

    /// Adds `token`, replacing one of the same name; true when it replaced one.
    pub fn upsert_token(&mut self, token: IngestToken) -> bool {
        self.tokens.insert(token.name.clone(), token).is_some()
    }

    /// Removes the token called `name`; false when there was none.
    pub fn remove_token(&mut self, name: &str) -> bool {
        self.tokens.remove(name).is_some()
    }

    /// The token whose text is `secret`, when one is in the file. Every stored digest is
    /// compared, in constant time, so the answer's timing says nothing about the others.
    pub fn token(&self, secret: &[u8]) -> Option<&IngestToken> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(secret).into();
        let mut found = None;
        for token in self.tokens.values() {
            if constant_time_eq(&token.digest, &digest) {
                found = Some(token);
            }
        }
        found
    }

    /// The secret the fake verifiers of unknown names are derived from, when the file has one.
    pub fn mock_secret(&self) -> Option<&[u8]> {
        self.mock_secret.as_deref()
    }
}

/// Whether `a` equals `b`, looking at every byte whatever the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)));
    diff == 0
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
            memory_limit: Some(512 << 20),
        };
        file.upsert(bob);
        let (secret, token) = IngestToken::generate("feed", TenantGrant::Only(vec!["t1".into()]));
        file.upsert_token(token.clone());
        let text = file.to_text();
        assert!(text.starts_with("# chatlake auth file"));
        assert!(text.contains("all_tenants = true"), "{text}");
        assert!(text.contains("tenants = [\"t1\", \"t2\"]"), "{text}");
        assert!(text.contains("memory_limit = \"512MiB\""), "{text}");
        assert!(!text.contains(&secret), "the token itself is never written");
        assert_eq!(AuthFile::parse(&text).expect("parse"), file);
        assert!(file.mock_secret().is_some_and(|s| s.len() == 32));
        assert!(secret.starts_with(TOKEN_PREFIX) && secret.len() == TOKEN_PREFIX.len() + 43);
        assert_eq!(file.token(secret.as_bytes()), Some(&token));
        assert_eq!(file.token(b"clk_guess"), None);
        assert!(file.remove_token("feed"));
        assert_eq!(file.token(secret.as_bytes()), None);
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
            (
                format!(
                    "[users.a]\npassword = \"{verifier}\"\nall_tenants = true\nmemory_limit = \"512\"\n"
                ),
                "below 1MiB",
            ),
            (
                format!(
                    "[users.a]\npassword = \"{verifier}\"\nall_tenants = true\nmemory_limit = \"lots\"\n"
                ),
                "memory_limit: 'lots' is not a size",
            ),
            (
                "[tokens.feed]\nsha256 = \"abc\"\ntenants = [\"t\"]\n".to_string(),
                "token 'feed': sha256 is not 64 hex digits",
            ),
            (
                format!("[tokens.feed]\nsha256 = \"{}\"\n", "0".repeat(64)),
                "token 'feed': has no tenants",
            ),
            ("users = 3".to_string(), "invalid type"),
        ] {
            let error = AuthFile::parse(&text).expect_err(&text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn the_token_digest_is_sha256_of_the_text() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            to_hex(&token_digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            from_hex_32(&to_hex(&token_digest("abc"))),
            Some(token_digest("abc"))
        );
    }

    #[test]
    fn sizes_are_written_as_they_are_read() {
        for bytes in [1 << 20, 512 << 20, 3 << 30, (1 << 20) + 1, 1536 << 10] {
            assert_eq!(crate::config::parse_size(&format_size(bytes)), Ok(bytes));
        }
        assert_eq!(format_size(3 << 30), "3GiB");
        assert_eq!(format_size(1536 << 10), "1536KiB");
    }

    #[test]
    fn user_names_are_checked() {
        assert!(check_user_name("alice").is_ok());
        assert!(check_user_name("").is_err());
        assert!(check_user_name(&"x".repeat(64)).is_err());
        assert!(check_user_name("a\nb").is_err());
    }
}
