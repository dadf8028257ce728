//! tasks-api's configuration, read once from the environment and checked at start.

use serde::Deserialize;
use service::config::Common;
use shared::config::{ConfigError, Secret};
use shared::token::{TokenConfig, TokenSettings};

#[derive(Deserialize)]
struct Raw {
    jwks_url: Option<String>,
    jwt_public_key_file: Option<String>,
    #[serde(default = "default_list_cache_bytes")]
    list_cache_bytes: u64,
    session_feed_url: Option<String>,
    session_feed_secret: Option<String>,
    #[serde(default = "default_session_feed_max_staleness_seconds")]
    session_feed_max_staleness_seconds: u64,
}

fn default_list_cache_bytes() -> u64 {
    8 << 20
}
/// A minute: long enough to ride out an issuer's restart or redeploy, short enough that a
/// session ended during an outage is served for at most that long.
fn default_session_feed_max_staleness_seconds() -> u64 {
    60
}

/// The issuer's feed of ended sessions, and the credential it asks for.
#[derive(Debug, Clone)]
pub struct SessionFeed {
    pub url: String,
    pub secret: Secret,
}

/// Where an asymmetric verifier learns the issuer's public keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeys {
    /// `JWKS_URL`: fetched at start, cached, refreshed.
    Jwks(String),
    /// `JWT_PUBLIC_KEY_FILE`: one PEM public key, fixed.
    File(String),
}

pub(crate) fn public_keys_required() -> ConfigError {
    ConfigError::Invalid {
        variable: "JWKS_URL",
        reason: "is required (or JWT_PUBLIC_KEY_FILE) with an asymmetric JWT_ALGORITHM".into(),
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub common: Common,
    pub token: TokenSettings,
    /// Required with an asymmetric algorithm, unused with HS256.
    pub public_keys: Option<PublicKeys>,
    /// The most bytes of written task lists kept for sending again (see `list_cache`).
    pub list_cache_bytes: u64,
    /// Where tasks-api learns which sessions ended; without it, tokens are not checked for a
    /// session (a third-party issuer's, say).
    pub session_feed: Option<SessionFeed>,
    /// How long tasks-api serves tokens without having read what sessions ended.
    pub max_staleness: std::time::Duration,
}

impl Config {
    /// Every environment variable the service reads.
    pub fn variables() -> Vec<String> {
        service::config::service_variables::<Raw>()
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_pairs(shared::config::env_pairs())
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)> + Clone,
        K: Into<String>,
        V: Into<String>,
    {
        let token =
            shared::config::from_pairs::<TokenConfig, _, _, _>(pairs.clone())?.check(None)?;
        let config = Self::with_token(pairs, token)?;
        if config.token.is_asymmetric() && config.public_keys.is_none() {
            return Err(public_keys_required());
        }
        Ok(config)
    }

    /// The configuration from `pairs`, with token settings decided elsewhere (the standalone
    /// process decides them once for both services).
    pub fn with_token<I, K, V>(pairs: I, token: TokenSettings) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)> + Clone,
        K: Into<String>,
        V: Into<String>,
    {
        let raw: Raw = shared::config::from_pairs(pairs.clone())?;
        let common = Common::from_pairs(pairs, 8002, "sqlite://data/tasks.db")?;
        let invalid = |variable, reason: &str| ConfigError::Invalid {
            variable,
            reason: reason.into(),
        };
        let public_keys = match (raw.jwks_url, raw.jwt_public_key_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "JWT_PUBLIC_KEY_FILE",
                    "set JWKS_URL or JWT_PUBLIC_KEY_FILE, not both",
                ));
            }
            (Some(url), None) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                return Err(invalid("JWKS_URL", "must be an http:// or https:// URL"));
            }
            (Some(url), None) => Some(PublicKeys::Jwks(url)),
            (None, Some(path)) => Some(PublicKeys::File(path)),
            (None, None) => None,
        };
        if public_keys.is_some() && !token.is_asymmetric() {
            return Err(invalid(
                "JWT_ALGORITHM",
                "must be asymmetric (EdDSA, ES256, RS256) when JWKS_URL or JWT_PUBLIC_KEY_FILE is set",
            ));
        }
        let session_feed = match (raw.session_feed_url, raw.session_feed_secret) {
            (None, None) => None,
            (Some(url), Some(secret)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(invalid(
                        "SESSION_FEED_URL",
                        "must be an http:// or https:// URL",
                    ));
                }
                Some(SessionFeed {
                    url,
                    secret: Secret::of("SESSION_FEED_SECRET", secret)?,
                })
            }
            (Some(_), None) => {
                return Err(invalid(
                    "SESSION_FEED_SECRET",
                    "is required with SESSION_FEED_URL",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "SESSION_FEED_URL",
                    "is required with SESSION_FEED_SECRET",
                ));
            }
        };
        if !(1..=3600).contains(&raw.session_feed_max_staleness_seconds) {
            return Err(invalid(
                "SESSION_FEED_MAX_STALENESS_SECONDS",
                "must be between 1 and 3600",
            ));
        }
        Ok(Self {
            common,
            token,
            public_keys,
            list_cache_bytes: raw.list_cache_bytes,
            session_feed,
            max_staleness: std::time::Duration::from_secs(raw.session_feed_max_staleness_seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut pairs = vec![(
            "BETTER_AUTH_SECRET",
            "a-test-secret-of-at-least-32-bytes-long",
        )];
        pairs.extend_from_slice(extra);
        Config::from_pairs(pairs)
    }

    #[test]
    fn the_list_cache_holds_8_mib_unless_told_and_refuses_what_is_not_a_size() {
        assert_eq!(with(&[]).unwrap().list_cache_bytes, 8 << 20);
        let none = with(&[("LIST_CACHE_BYTES", "0")]).unwrap();
        assert_eq!(none.list_cache_bytes, 0);
        for bad in ["-1", "8MiB", ""] {
            let error = with(&[("LIST_CACHE_BYTES", bad)])
                .err()
                .unwrap()
                .to_string();
            assert!(error.contains("LIST_CACHE_BYTES"), "{bad:?}: {error}");
        }
    }
}
