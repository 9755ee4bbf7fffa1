//! The auth file as a running server sees it: re-read when it changes, and per-user
//! connection counts.
//!
//! | Concern | Behaviour |
//! |---|---|
//! | start | the file must load, else `serve` fails with the file's error |
//! | change | every login stats the file; a new modification time or size re-reads it |
//! | SIGHUP | [`AuthStore::reload`] re-reads it whatever the time stamps say |
//! | a bad edit | the error is logged (warn) and the last good version stays in force |
//! | unknown user | [`AuthStore::verifier`] answers a mock verifier (the file's `mock_secret`, else a random per-process one) |
//! | connection limit | [`AuthStore::admit`] counts the user's open connections; the [`Admission`] it returns gives its slot back when dropped |

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use super::file::{AuthFile, User};
use super::scram::Verifier;
use crate::error::Result;

/// What identifies one version of the file on disk.
type Stamp = Option<(SystemTime, u64)>;

/// The auth file of a running server.
#[derive(Debug)]
pub struct AuthStore {
    path: PathBuf,
    loaded: Mutex<(Stamp, Arc<AuthFile>)>,
    process_secret: [u8; 32],
    open: Arc<Mutex<HashMap<String, u32>>>,
}

/// The verifier an exchange runs against, and the user it belongs to (`None`: an unknown
/// name, which a mock verifier stands in for).
#[derive(Debug)]
pub struct Lookup {
    /// The verifier to check the client's proof against.
    pub verifier: Verifier,
    /// The user, when the name is in the file.
    pub user: Option<Arc<User>>,
}

/// One of a user's connection slots, given back when dropped.
#[derive(Debug)]
pub struct Admission {
    user: String,
    open: Arc<Mutex<HashMap<String, u32>>>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl AuthStore {
    /// Loads the auth file at `path` (an error when it does not load).
    pub fn open(path: &Path) -> Result<AuthStore> {
        let before = stamp(path);
        let file = AuthFile::load(path)?;
        Ok(AuthStore {
            path: path.to_path_buf(),
            loaded: Mutex::new((before, Arc::new(file))),
            process_secret: rand::random(),
            open: Arc::default(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file in force, re-read first when it changed on disk.
    pub fn current(&self) -> Arc<AuthFile> {
        let now = stamp(&self.path);
        let unchanged = {
            let loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
            (loaded.0 == now).then(|| loaded.1.clone())
        };
        match unchanged {
            Some(file) => file,
            None => self.read(now),
        }
    }

    /// Re-reads the file now (SIGHUP).
    pub fn reload(&self) -> Arc<AuthFile> {
        self.read(stamp(&self.path))
    }

    fn read(&self, now: Stamp) -> Arc<AuthFile> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        match AuthFile::load(&self.path) {
            Ok(file) => {
                tracing::info!(
                    "auth file {} (re)loaded: {} users",
                    self.path.display(),
                    file.users().count()
                );
                *loaded = (now, Arc::new(file));
            }
            Err(e) => {
                // Remember the stamp so the warning is not repeated on every login.
                tracing::warn!(
                    "keeping the previous auth file: {}",
                    crate::error::report(&e)
                );
                loaded.0 = now;
            }
        }
        loaded.1.clone()
    }

    /// The verifier of `name` in the file in force, or a mock one for a name not in it.
    pub fn verifier(&self, name: &str) -> Lookup {
        let file = self.current();
        match file.user(name) {
            Some(user) => Lookup {
                verifier: user.verifier.clone(),
                user: Some(Arc::new(user.clone())),
            },
            None => Lookup {
                verifier: Verifier::mock(file.mock_secret().unwrap_or(&self.process_secret), name),
                user: None,
            },
        }
    }

    /// Takes one of `user`'s connection slots; `None` when its `connection_limit` is reached.
    pub fn admit(&self, user: &User) -> Option<Admission> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(user.name.clone()).or_insert(0);
        if user
            .limits
            .connection_limit
            .is_some_and(|limit| *n >= limit)
        {
            return None;
        }
        *n += 1;
        Some(Admission {
            user: user.name.clone(),
            open: self.open.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::file::{Limits, TenantGrant};

    fn user(name: &str, limit: Option<u32>) -> User {
        User {
            name: name.into(),
            verifier: Verifier::new("pw"),
            tenants: TenantGrant::All,
            limits: Limits {
                connection_limit: limit,
                statement_timeout: None,
                memory_limit: None,
            },
        }
    }

    /// A directory whose `auth.toml` lists alice alone, that file, and the store over it.
    fn store_of_alice() -> (tempfile::TempDir, AuthFile, AuthStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("auth.toml");
        let mut file = AuthFile::default();
        file.upsert(user("alice", None));
        file.save(&path).expect("save");
        let store = AuthStore::open(&path).expect("open");
        (dir, file, store)
    }

    #[test]
    fn a_changed_file_is_seen_and_a_broken_one_keeps_the_last_good() {
        let (dir, mut file, store) = store_of_alice();
        let path = dir.path().join("auth.toml");
        assert!(store.verifier("alice").user.is_some());
        assert!(store.verifier("bob").user.is_none());

        file.upsert(user("bob", None));
        file.save(&path).expect("save");
        assert!(store.verifier("bob").user.is_some(), "re-read on change");

        std::fs::write(&path, "this is not toml [").expect("write");
        assert!(store.verifier("bob").user.is_some(), "last good file stays");
        assert!(store.reload().user("alice").is_some());
    }

    #[test]
    fn an_unknown_name_gets_the_same_mock_every_time() {
        let (dir, _file, store) = store_of_alice();
        let path = dir.path().join("auth.toml");
        let a = store.verifier("mallory").verifier;
        assert_eq!(a, store.verifier("mallory").verifier);
        // Derived from the file's secret: a restarted server gives the same salt.
        let again = AuthStore::open(&path).expect("open");
        assert_eq!(a, again.verifier("mallory").verifier);
    }

    #[test]
    fn the_connection_limit_counts_open_connections() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("auth.toml");
        AuthFile::default().save(&path).expect("save");
        let store = AuthStore::open(&path).expect("open");
        let carol = user("carol", Some(2));
        let first = store.admit(&carol).expect("first");
        let _second = store.admit(&carol).expect("second");
        assert!(store.admit(&carol).is_none());
        drop(first);
        assert!(store.admit(&carol).is_some());
        let dave = user("dave", None);
        let all: Vec<_> = (0..50).filter_map(|_| store.admit(&dave)).collect();
        assert_eq!(all.len(), 50);
    }
}
