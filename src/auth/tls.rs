//! TLS for the Postgres listener: a certificate chain and key in PEM, served with rustls on the
//! aws-lc-rs provider (the one the rest of the tree already builds).
//!
//! | Concern | Behaviour |
//! |---|---|
//! | files | `--tls-cert` (PEM chain, leaf first) and `--tls-key` (PEM: PKCS#8, PKCS#1 or SEC1); a bad or missing file fails `serve` with its path |
//! | versions | TLS 1.2 and 1.3 (rustls' safe defaults) |
//! | ALPN | `postgresql`, which PostgreSQL 17 clients require for direct TLS (`sslnegotiation=direct`); clients that send no ALPN still connect after an `SSLRequest` |
//! | channel binding | the certificate PEM is kept for `SCRAM-SHA-256-PLUS` (`tls-server-end-point`) |

use std::path::Path;
use std::sync::Arc;

use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::tokio_rustls::rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// The ALPN protocol name of PostgreSQL's direct TLS.
const ALPN_POSTGRESQL: &[u8] = b"postgresql";

/// A loaded certificate and key, ready to accept TLS connections.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    cert_pem: Arc<Vec<u8>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads the PEM certificate chain at `cert` and the private key at `key`.
    pub fn load(cert: &Path, key: &Path) -> Result<Tls> {
        let read = |path: &Path, what: &str| {
            std::fs::read(path).map_err(|source| Error::Io {
                context: format!("reading TLS {what} {}", path.display()),
                source,
            })
        };
        let cert_pem = read(cert, "certificate")?;
        let key_pem = read(key, "key")?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| {
                Error::Config(format!(
                    "--tls-cert {}: not a PEM certificate: {e}",
                    cert.display()
                ))
            })?;
        if chain.is_empty() {
            return Err(Error::Config(format!(
                "--tls-cert {}: no certificate in the file (expected -----BEGIN CERTIFICATE-----)",
                cert.display()
            )));
        }
        let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
            Error::Config(format!(
                "--tls-key {}: not a PEM private key: {e}",
                key.display()
            ))
        })?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS setup: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)
            .map_err(|e| {
                Error::Config(format!(
                    "--tls-cert {} / --tls-key {}: {e}",
                    cert.display(),
                    key.display()
                ))
            })?;
        config.alpn_protocols = vec![ALPN_POSTGRESQL.to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            cert_pem: Arc::new(cert_pem),
        })
    }

    /// What pgwire accepts TLS connections with.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// The certificate chain's PEM (for SCRAM channel binding).
    pub fn cert_pem(&self) -> &[u8] {
        &self.cert_pem
    }
}
