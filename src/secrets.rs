//! API secrets: read only from the environment or a `.env` file, never from the config file,
//! and never printed (`Debug` redacts them).

use std::fmt;

#[derive(Clone, Default)]
pub struct Secrets {
    pub max_api_key: Option<String>,
    pub max_secret_key: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| if v.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("Secrets")
            .field("max_api_key", &shown(&self.max_api_key))
            .field("max_secret_key", &shown(&self.max_secret_key))
            .finish()
    }
}

impl Secrets {
    /// Loads `.env` from the working directory if present (variables already set in the
    /// environment win), then reads `MAX_API_KEY` and `MAX_SECRET_KEY`. A malformed `.env` is an
    /// error that names the file and line but never echoes its values.
    pub fn load() -> Result<Secrets, String> {
        load_dotenv()?;
        Ok(Secrets::from_env())
    }

    pub fn from_env() -> Secrets {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Secrets {
            max_api_key: get("MAX_API_KEY"),
            max_secret_key: get("MAX_SECRET_KEY"),
        }
    }
}

/// Loads `.env` from the working directory into the environment if present (variables already
/// set win). A malformed `.env` is an error that names the file and the position but never
/// echoes its values.
pub fn load_dotenv() -> Result<(), String> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(dotenvy::Error::LineParse(_, idx)) => {
            Err(format!(".env: cannot parse the entry at byte {idx}"))
        }
        Err(_) => Err(".env: cannot be read".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Secrets {
            max_api_key: Some("AKIA-very-real-key".into()),
            max_secret_key: Some("s3cr3t-value".into()),
        };
        let d = format!("{s:?}");
        assert!(!d.contains("AKIA") && !d.contains("s3cr3t"), "{d}");
        assert!(d.contains("<set>"));
    }
}
