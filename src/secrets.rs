//! API secrets: read only from the environment or a `.env` file, never from the config file,
//! and never printed (`Debug` redacts them).

use std::fmt;

#[derive(Clone, Default)]
pub struct Secrets {
    pub max_api_key: Option<String>,
    pub max_secret_key: Option<String>,
    /// A second MAX key for everything but orders and cancels: the reconciler's reads, order
    /// queries and the private WebSocket. With it, those run on their own thread and nonce
    /// sequence and never delay an order (`gateway::read_lane`); without it they share the
    /// trading key's thread.
    pub max_read_api_key: Option<String>,
    pub max_read_secret_key: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| if v.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("Secrets")
            .field("max_api_key", &shown(&self.max_api_key))
            .field("max_secret_key", &shown(&self.max_secret_key))
            .field("max_read_api_key", &shown(&self.max_read_api_key))
            .field("max_read_secret_key", &shown(&self.max_read_secret_key))
            .finish()
    }
}

impl Secrets {
    /// Loads `.env` from the working directory if present (variables already set in the
    /// environment win), then reads `MAX_API_KEY` and `MAX_SECRET_KEY`. A malformed `.env` is an
    /// error that names the file and line but never echoes its values.
    pub fn load() -> Result<Secrets, SecretsError> {
        load_dotenv()?;
        Ok(Secrets::from_env())
    }

    /// MAX's key and secret, or [`SecretsError::Missing`] naming the variables not set.
    pub fn max_keys(&self) -> Result<(&str, &str), SecretsError> {
        pair(
            (self.max_api_key.as_deref(), "MAX_API_KEY"),
            (self.max_secret_key.as_deref(), "MAX_SECRET_KEY"),
        )
    }

    /// The optional read key: `None` when neither `MAX_READ_API_KEY` nor
    /// `MAX_READ_SECRET_KEY` is set, [`SecretsError::Missing`] when only one of them is.
    pub fn max_read_keys(&self) -> Result<Option<(&str, &str)>, SecretsError> {
        let (k, s) = (
            self.max_read_api_key.as_deref(),
            self.max_read_secret_key.as_deref(),
        );
        if k.is_none() && s.is_none() {
            return Ok(None);
        }
        pair((k, "MAX_READ_API_KEY"), (s, "MAX_READ_SECRET_KEY")).map(Some)
    }

    pub fn from_env() -> Secrets {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Secrets {
            max_api_key: get("MAX_API_KEY"),
            max_secret_key: get("MAX_SECRET_KEY"),
            max_read_api_key: get("MAX_READ_API_KEY"),
            max_read_secret_key: get("MAX_READ_SECRET_KEY"),
        }
    }
}

/// A key and its secret, or [`SecretsError::Missing`] naming the variables not set.
fn pair<'a>(
    key: (Option<&'a str>, &'static str),
    secret: (Option<&'a str>, &'static str),
) -> Result<(&'a str, &'a str), SecretsError> {
    match (key.0, secret.0) {
        (Some(k), Some(s)) => Ok((k, s)),
        _ => Err(SecretsError::Missing(
            [key, secret]
                .into_iter()
                .filter(|(v, _)| v.is_none())
                .map(|(_, name)| name)
                .collect(),
        )),
    }
}

/// `url` without a `user:password@` part, for logs and error texts.
pub fn redact_url(url: &str) -> String {
    // A cluster's comma-separated list: each URL on its own.
    url.split(',')
        .map(|url| match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
            _ => url.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Loads `.env` from the working directory into the environment if present (variables already
/// set win). A malformed `.env` is an error that names the file and the position but never
/// echoes its values.
pub fn load_dotenv() -> Result<(), SecretsError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(dotenvy::Error::LineParse(_, index)) => Err(SecretsError::DotenvEntry { index }),
        // The I/O error of the file, never its content.
        Err(dotenvy::Error::Io(e)) => Err(SecretsError::DotenvUnreadable(Some(e))),
        Err(_) => Err(SecretsError::DotenvUnreadable(None)),
    }
}

/// Why the secrets are not there. No variant holds a value read from the environment or from
/// `.env` (a malformed line is named by its position only), so no error text can leak one. The
/// caller must reject: an operator sets the variables or fixes the file.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// Variables that must be set and are not (or are blank).
    #[error("{} must be set (environment or .env)", .0.join(" and "))]
    Missing(Vec<&'static str>),
    /// `.env` has an entry that is not `NAME=value`.
    #[error(".env: cannot parse the entry at byte {index}")]
    DotenvEntry { index: usize },
    /// `.env` exists but cannot be read (or is not UTF-8).
    #[error(".env: cannot be read")]
    DotenvUnreadable(#[source] Option<std::io::Error>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_each_one_of_a_cluster_list() {
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(
            redact_url("nats://user:pw@a:4222,nats://b:4222,tls://u:p@c:4443"),
            "nats://***@a:4222,nats://b:4222,tls://***@c:4443"
        );
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Secrets {
            max_api_key: Some("AKIA-very-real-key".into()),
            max_secret_key: Some("s3cr3t-value".into()),
            max_read_api_key: Some("AKIA-read-key".into()),
            max_read_secret_key: Some("r3ad-s3cr3t".into()),
        };
        let d = format!("{s:?}");
        assert!(!d.contains("r3ad"), "{d}");
        assert!(!d.contains("AKIA") && !d.contains("s3cr3t"), "{d}");
        assert!(d.contains("<set>"));
    }

    #[test]
    fn a_missing_key_is_named_and_no_error_shows_a_value() {
        let s = Secrets {
            max_api_key: Some("AKIA-very-real-key".into()),
            ..Secrets::default()
        };
        let e = s.max_keys().unwrap_err();
        assert_eq!(
            e.to_string(),
            "MAX_SECRET_KEY must be set (environment or .env)"
        );
        let e = Secrets::default().max_keys().unwrap_err().to_string();
        assert_eq!(
            e,
            "MAX_API_KEY and MAX_SECRET_KEY must be set (environment or .env)"
        );
        let e = SecretsError::DotenvEntry { index: 12 }.to_string();
        assert!(!e.contains("AKIA"), "{e}");
        let full = Secrets {
            max_api_key: Some("k".into()),
            max_secret_key: Some("s3cr3t-value".into()),
            ..Secrets::default()
        };
        assert_eq!(full.max_keys().unwrap(), ("k", "s3cr3t-value"));
    }

    #[test]
    fn the_read_key_is_optional_but_never_half_set() {
        assert!(Secrets::default().max_read_keys().unwrap().is_none());
        let half = Secrets {
            max_read_api_key: Some("AKIA-read".into()),
            ..Secrets::default()
        };
        assert_eq!(
            half.max_read_keys().unwrap_err().to_string(),
            "MAX_READ_SECRET_KEY must be set (environment or .env)"
        );
        let both = Secrets {
            max_read_api_key: Some("r".into()),
            max_read_secret_key: Some("rs".into()),
            ..Secrets::default()
        };
        assert_eq!(both.max_read_keys().unwrap(), Some(("r", "rs")));
    }
}
