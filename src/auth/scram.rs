//! SCRAM-SHA-256 verifiers in PostgreSQL's text form (RFC 5802 / RFC 7677):
//!
//! ```text
//! SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//! ```
//!
//! | Part | How it is made |
//! |---|---|
//! | `SaltedPassword` | `PBKDF2-HMAC-SHA-256(SASLprep(password), salt, iterations)`; never stored |
//! | `StoredKey` | `SHA-256(HMAC(SaltedPassword, "Client Key"))`: checks the client's proof |
//! | `ServerKey` | `HMAC(SaltedPassword, "Server Key")`: signs the server's final message |
//! | salt, iterations | 16 random bytes, 4096 ([`ITERATIONS`], PostgreSQL's default) for new passwords |
//! | mock verifier | for a user name not in the file: salt and keys derived from the file's secret and the name ([`Verifier::mock`]), so the exchange looks and costs the same and the same name always gets the same salt |
//!
//! A verifier lets the server check a password but not log in with it: the password cannot be
//! recovered from it (PBKDF2 over a random salt), and the `StoredKey` alone does not make a
//! valid proof.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pgwire::api::auth::sasl::scram::{ScramSecret, gen_salted_password};

/// PBKDF2 iterations for new verifiers (PostgreSQL's `scram_iterations` default).
pub const ITERATIONS: u32 = 4096;
/// Bytes of random salt for new verifiers (PostgreSQL uses 16).
pub const SALT_LEN: usize = 16;
/// The prefix of the text form.
const PREFIX: &str = "SCRAM-SHA-256$";

/// A SCRAM-SHA-256 verifier: what the server keeps instead of a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("iterations", &self.iterations)
            .field("salt", &STANDARD.encode(&self.salt))
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for `password` with a fresh random salt and [`ITERATIONS`].
    pub fn new(password: &str) -> Verifier {
        let salt: [u8; SALT_LEN] = rand::random();
        Verifier::with_salt(password, &salt, ITERATIONS)
    }

    /// A verifier for `password` with the given salt and iteration count.
    pub fn with_salt(password: &str, salt: &[u8], iterations: u32) -> Verifier {
        let salted = gen_salted_password(password, salt, iterations as usize);
        Verifier::from_key_material(salt.to_vec(), salted, iterations)
    }

    /// The verifier the server pretends a user name not in the auth file has: derived from
    /// `secret` (the file's, or the process's when the file has none) and `user`, so an
    /// unknown name gets the same exchange as a known one with a wrong password, with a
    /// salt that does not change between attempts.
    pub fn mock(secret: &[u8], user: &str) -> Verifier {
        // PBKDF2 with one iteration is one HMAC-SHA-256 keyed by the secret: a PRF of the name.
        let key = STANDARD.encode(secret);
        let prf = |label: &str| gen_salted_password(&key, format!("{label}\0{user}").as_bytes(), 1);
        let mut salt = prf("salt");
        salt.truncate(SALT_LEN);
        Verifier::from_key_material(salt, prf("key"), ITERATIONS)
    }

    fn from_key_material(salt: Vec<u8>, salted_password: Vec<u8>, iterations: u32) -> Verifier {
        match ScramSecret::verifier_from_salted_password(salt, salted_password, iterations as usize)
        {
            ScramSecret::Verifier {
                salt,
                iterations,
                stored_key,
                server_key,
            } => Verifier {
                iterations: iterations as u32,
                salt,
                stored_key,
                server_key,
            },
            // verifier_from_salted_password only makes verifiers.
            ScramSecret::SaltedPassword { salt, .. } => Verifier {
                iterations,
                salt,
                stored_key: Vec::new(),
                server_key: Vec::new(),
            },
        }
    }

    /// Parses PostgreSQL's text form; the error says which part is wrong.
    pub fn parse(text: &str) -> Result<Verifier, String> {
        let bad = |what: &str| format!("not a SCRAM-SHA-256 verifier ({what})");
        let rest = text
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("it must start with SCRAM-SHA-256$"))?;
        let (params, keys) = rest
            .split_once('$')
            .ok_or_else(|| bad("expected <iterations>:<salt>$<StoredKey>:<ServerKey>"))?;
        let (iterations, salt) = params
            .split_once(':')
            .ok_or_else(|| bad("expected <iterations>:<salt>"))?;
        let (stored_key, server_key) = keys
            .split_once(':')
            .ok_or_else(|| bad("expected <StoredKey>:<ServerKey>"))?;
        let iterations: u32 = iterations
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("the iteration count is not a positive integer"))?;
        let decode = |part: &str, name: &str| {
            STANDARD
                .decode(part)
                .map_err(|_| bad(&format!("the {name} is not base64")))
        };
        let salt = decode(salt, "salt")?;
        let stored_key = decode(stored_key, "StoredKey")?;
        let server_key = decode(server_key, "ServerKey")?;
        if salt.is_empty() {
            return Err(bad("the salt is empty"));
        }
        if stored_key.len() != 32 || server_key.len() != 32 {
            return Err(bad("the keys must be 32 bytes each"));
        }
        Ok(Verifier {
            iterations,
            salt,
            stored_key,
            server_key,
        })
    }

    /// Whether `password` is the one this verifier was made from (used by tests and tools;
    /// the server checks SCRAM proofs, never passwords).
    pub fn matches(&self, password: &str) -> bool {
        Verifier::with_salt(password, &self.salt, self.iterations) == *self
    }

    /// The PBKDF2 iteration count.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The salt.
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// The secret pgwire's SCRAM exchange checks a client's proof against.
    pub fn to_secret(&self) -> ScramSecret {
        ScramSecret::Verifier {
            salt: self.salt.clone(),
            iterations: self.iterations as usize,
            stored_key: self.stored_key.clone(),
            server_key: self.server_key.clone(),
        }
    }
}

impl fmt::Display for Verifier {
    /// PostgreSQL's text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(&self.stored_key),
            STANDARD.encode(&self.server_key)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3's example: user "user", password "pencil", salt
    /// `W22ZaJ0SNY7soEsUEjb6gQ==`, 4096 iterations. The keys below were computed independently
    /// with Python's `hashlib.pbkdf2_hmac` and `hmac` from PostgreSQL's definition.
    #[test]
    fn the_rfc_7677_example_password_gives_the_known_verifier() {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").expect("salt");
        let verifier = Verifier::with_salt("pencil", &salt, 4096);
        assert_eq!(
            verifier.to_string(),
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
        assert!(verifier.matches("pencil"));
        assert!(!verifier.matches("pencil "));
    }

    #[test]
    fn the_text_form_round_trips_and_bad_forms_say_why() {
        let verifier = Verifier::new("secret");
        assert_eq!(verifier.iterations(), 4096);
        assert_eq!(verifier.salt().len(), 16);
        let parsed = Verifier::parse(&verifier.to_string()).expect("parse");
        assert_eq!(parsed, verifier);
        assert!(!verifier.to_string().contains("secret"));
        for (text, why) in [
            ("secret", "must start with"),
            ("SCRAM-SHA-256$4096:c2FsdA==", "expected"),
            ("SCRAM-SHA-256$x:c2FsdA==$a:b", "iteration count"),
            ("SCRAM-SHA-256$4096:!!$a:b", "salt is not base64"),
            ("SCRAM-SHA-256$4096:c2FsdA==$YQ==:YQ==", "32 bytes"),
        ] {
            let error = Verifier::parse(text).expect_err(text);
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn two_verifiers_of_one_password_differ_by_salt() {
        assert_ne!(
            Verifier::new("a").to_string(),
            Verifier::new("a").to_string()
        );
    }

    #[test]
    fn a_mock_verifier_is_stable_per_name_and_secret() {
        let a = Verifier::mock(b"secret", "mallory");
        assert_eq!(a, Verifier::mock(b"secret", "mallory"));
        assert_ne!(a.salt(), Verifier::mock(b"secret", "eve").salt());
        assert_ne!(a.salt(), Verifier::mock(b"other", "mallory").salt());
        assert_eq!((a.iterations(), a.salt().len()), (4096, 16));
        assert!(Verifier::parse(&a.to_string()).is_ok());
    }
}
