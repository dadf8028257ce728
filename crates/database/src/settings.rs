use shared::config::ConfigError;
use std::time::Duration;

/// How the pool behaves. A request waits at most `checkout_timeout` for a connection; past that
/// the database counts as unreachable and the client gets 503.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub max_size: u32,
    pub checkout_timeout: Duration,
    /// How long start-up keeps retrying a database that is not up yet.
    pub startup_wait: Duration,
}

/// The pool's environment variables, shared by both services.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct PoolConfig {
    pub database_pool_size: Option<u32>,
    pub database_startup_timeout_seconds: Option<u64>,
}

impl PoolConfig {
    pub fn check(self) -> Result<PoolSettings, ConfigError> {
        let defaults = PoolSettings::default();
        let max_size = self.database_pool_size.unwrap_or(defaults.max_size);
        if !(1..=256).contains(&max_size) {
            return Err(ConfigError::Invalid {
                variable: "DATABASE_POOL_SIZE",
                reason: "must be between 1 and 256".into(),
            });
        }
        Ok(PoolSettings {
            max_size,
            startup_wait: self
                .database_startup_timeout_seconds
                .map_or(defaults.startup_wait, Duration::from_secs),
            ..defaults
        })
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 8,
            checkout_timeout: Duration::from_secs(3),
            startup_wait: Duration::from_secs(30),
        }
    }
}
