//! Whom a `wss://` feed trusts: Mozilla's root CAs (webpki-roots, compiled in) plus, when
//! configured, the CAs of one PEM file (`venues.<venue>.tls_ca_file`: a corporate TLS proxy,
//! a test server). The file adds to the roots; it never replaces them.
//!
//! Cryptography is rustls with the ring provider, the one ureq already uses for REST.

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A `tls_ca_file` that cannot be used, named by its configuration key and path. The caller
/// must reject the configuration: the file has to be fixed or replaced.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {path:?}: {problem}")]
pub struct TlsCaError {
    pub key: String,
    pub path: PathBuf,
    #[source]
    pub problem: CaProblem,
}

/// What is wrong with a CA file, or with the TLS setup built from it.
#[derive(Debug, thiserror::Error)]
pub enum CaProblem {
    #[error(transparent)]
    Read(std::io::Error),
    /// The `index`th (from 1) PEM section is not a certificate.
    #[error("certificate {index}: {source}")]
    Pem {
        index: usize,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("no PEM certificate (-----BEGIN CERTIFICATE-----) in the file")]
    NoCertificate,
    /// The `index`th certificate parses but cannot be a trust anchor.
    #[error("certificate {index}: not a usable CA: {source}")]
    UnusableCa {
        index: usize,
        #[source]
        source: rustls::Error,
    },
    /// The ring provider refused the default protocol versions.
    #[error(transparent)]
    Protocols(rustls::Error),
}

/// The TLS client configuration of a venue's WebSockets, shared by its feeds (cheap to clone).
#[derive(Clone)]
pub struct TlsTrust {
    config: Arc<ClientConfig>,
    extra_cas: usize,
}

impl TlsTrust {
    /// Mozilla's roots only.
    pub fn webpki() -> TlsTrust {
        Self::build(Vec::new()).expect("ring supports rustls' default protocol versions")
    }

    /// Mozilla's roots plus every certificate in the PEM file `path`; "" means none. `key` is
    /// the configuration key, named in every error with the path.
    pub fn load(key: &str, path: &str) -> Result<TlsTrust, TlsCaError> {
        if path.is_empty() {
            return Ok(Self::webpki());
        }
        let fail = |problem| TlsCaError {
            key: key.to_string(),
            path: PathBuf::from(path),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| fail(CaProblem::Read(e)))?;
        let mut cas = Vec::new();
        for (i, c) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
            let c = c.map_err(|source| {
                fail(CaProblem::Pem {
                    index: i + 1,
                    source,
                })
            })?;
            cas.push(c);
        }
        if cas.is_empty() {
            return Err(fail(CaProblem::NoCertificate));
        }
        Self::build(cas).map_err(fail)
    }

    fn build(cas: Vec<CertificateDer<'static>>) -> Result<TlsTrust, CaProblem> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let extra_cas = cas.len();
        for (i, c) in cas.into_iter().enumerate() {
            roots.add(c).map_err(|source| CaProblem::UnusableCa {
                index: i + 1,
                source,
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(CaProblem::Protocols)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsTrust {
            config: Arc::new(config),
            extra_cas,
        })
    }

    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// How many CAs the configured file added to Mozilla's roots.
    pub fn extra_cas(&self) -> usize {
        self.extra_cas
    }
}

impl Default for TlsTrust {
    fn default() -> Self {
        Self::webpki()
    }
}

impl fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TlsTrust {{ webpki roots + {} extra CA(s) }}",
            self.extra_cas
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, body: &[u8]) -> String {
        let p = std::env::temp_dir().join(format!("arbline-tls-{}-{name}", std::process::id()));
        std::fs::write(&p, body).unwrap();
        p.to_string_lossy().into_owned()
    }

    #[test]
    fn an_empty_path_means_the_mozilla_roots_only() {
        let t = TlsTrust::load("venues.max.tls_ca_file", "").unwrap();
        assert_eq!(t.extra_cas(), 0);
    }

    #[test]
    fn a_missing_file_names_the_key_and_the_path() {
        let e = TlsTrust::load("venues.max.tls_ca_file", "/nonexistent/ca.pem")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("venues.max.tls_ca_file: \"/nonexistent/ca.pem\""),
            "{e}"
        );
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let p = temp("empty.pem", b"not a certificate\n");
        let e = TlsTrust::load("venues.binance.tls_ca_file", &p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("venues.binance.tls_ca_file") && e.contains(&p),
            "{e}"
        );
        assert!(e.contains("no PEM certificate"), "{e}");
    }

    #[test]
    fn a_garbage_certificate_is_refused() {
        let p = temp(
            "garbage.pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        let e = TlsTrust::load("venues.max.tls_ca_file", &p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("venues.max.tls_ca_file") && e.contains(&p),
            "{e}"
        );
        assert!(e.contains("certificate 1"), "{e}");
    }
}
