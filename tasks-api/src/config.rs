//! tasks-api's configuration, read once from the environment and checked at start.

use serde::Deserialize;
use shared::config::ConfigError;
use shared::db::{DatabaseUrl, PoolConfig, PoolSettings};
use shared::token::{TokenConfig, TokenSettings};

#[derive(Deserialize)]
struct Raw {
    #[serde(default = "default_database_url")]
    database_url: String,
    #[serde(default = "default_host")]
    host: String,
    #[serde(default = "default_port")]
    port: u16,
    cors_origins: Option<String>,
}

fn default_database_url() -> String {
    "sqlite://data/tasks.db".into()
}
fn default_host() -> String {
    "127.0.0.1".into()
}
fn default_port() -> u16 {
    8002
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub host: String,
    pub port: u16,
    pub token: TokenSettings,
    pub cors_origins: Vec<String>,
    pub pool: PoolSettings,
}

impl Config {
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
        Self::with_token(pairs, token)
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
        let pool: PoolConfig = shared::config::from_pairs(pairs)?;
        Ok(Self {
            database_url: DatabaseUrl::parse(&raw.database_url)?,
            host: raw.host,
            port: raw.port,
            token,
            cors_origins: shared::config::comma_list(raw.cors_origins.as_deref()),
            pool: pool.check()?,
        })
    }
}
