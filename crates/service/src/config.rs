//! The configuration every service reads the same way: where it listens, which browser origins
//! may call it, and its database. Each service adds its own variables and its own defaults.

use database::{DatabaseUrl, Migrations, Pool, PoolConfig, PoolSettings, StartupError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::config::{ConfigError, comma_list, from_pairs, variables};
use shared::token::TokenConfig;

/// Where a server listens and whom browsers may call it from.
#[derive(Debug, Clone)]
pub struct Listen {
    pub host: String,
    pub port: u16,
    pub cors_origins: Vec<String>,
}

/// `Listen`, and the database: what `HOST`, `PORT`, `CORS_ORIGINS`, `DATABASE_URL`,
/// `DATABASE_POOL_SIZE` and `DATABASE_STARTUP_TIMEOUT_SECONDS` say.
#[derive(Debug, Clone)]
pub struct Common {
    pub listen: Listen,
    pub database_url: DatabaseUrl,
    pub pool: PoolSettings,
}

#[derive(Deserialize)]
struct RawListen {
    host: Option<String>,
    port: Option<u16>,
    cors_origins: Option<String>,
}

#[derive(Deserialize)]
struct RawDatabase {
    database_url: Option<String>,
}

/// Every environment variable a service reads whose own settings are `Own`: those, the token
/// settings, the common ones, and `RUST_LOG` and `LOG_FORMAT` (read by the logger), sorted. What `--env-vars`
/// prints.
pub fn service_variables<Own: DeserializeOwned>() -> Vec<String> {
    let mut names = variables::<Own>();
    names.extend(variables::<TokenConfig>());
    names.extend(Common::variables());
    names.extend(["RUST_LOG".into(), "LOG_FORMAT".into()]);
    names.sort();
    names.dedup();
    names
}

impl Listen {
    /// `HOST` (default 127.0.0.1), `PORT` (default `default_port`) and `CORS_ORIGINS` (none).
    pub fn from_pairs<I, K, V>(pairs: I, default_port: u16) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let raw: RawListen = from_pairs(pairs)?;
        Ok(Self {
            host: raw.host.unwrap_or_else(|| "127.0.0.1".into()),
            port: raw.port.unwrap_or(default_port),
            cors_origins: comma_list(raw.cors_origins.as_deref()),
        })
    }
}

impl Common {
    /// The variables [`Common::from_pairs`] reads.
    fn variables() -> Vec<String> {
        let mut names = variables::<RawListen>();
        names.extend(variables::<RawDatabase>());
        names.extend(variables::<PoolConfig>());
        names
    }

    pub fn from_pairs<I, K, V>(
        pairs: I,
        default_port: u16,
        default_database_url: &str,
    ) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)> + Clone,
        K: Into<String>,
        V: Into<String>,
    {
        let database: RawDatabase = from_pairs(pairs.clone())?;
        let pool: PoolConfig = from_pairs(pairs.clone())?;
        Ok(Self {
            listen: Listen::from_pairs(pairs, default_port)?,
            database_url: DatabaseUrl::parse(
                database
                    .database_url
                    .as_deref()
                    .unwrap_or(default_database_url),
            )?,
            pool: pool.check()?,
        })
    }

    /// The pool for the configured database, once it answers (retried for the configured
    /// start-up wait) and has every one of `migrations` applied.
    pub fn connect(&self, migrations: &Migrations) -> Result<Pool, StartupError> {
        database::connect(&self.database_url, migrations, &self.pool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_where_nothing_is_set() {
        let common =
            Common::from_pairs(Vec::<(String, String)>::new(), 8001, "sqlite://x.db").unwrap();
        assert_eq!(common.listen.host, "127.0.0.1");
        assert_eq!(common.listen.port, 8001);
        assert!(common.listen.cors_origins.is_empty());
        assert_eq!(common.database_url, DatabaseUrl::Sqlite("x.db".into()));
    }

    #[test]
    fn what_is_set_wins_and_a_bad_value_names_its_variable() {
        let common = Common::from_pairs(
            [
                ("PORT", "9"),
                ("CORS_ORIGINS", "http://a, http://b"),
                ("DATABASE_URL", "sqlite://y.db"),
            ],
            8001,
            "sqlite://x.db",
        )
        .unwrap();
        assert_eq!(common.listen.port, 9);
        assert_eq!(common.listen.cors_origins, ["http://a", "http://b"]);
        assert_eq!(common.database_url, DatabaseUrl::Sqlite("y.db".into()));
        for (variable, value) in [
            ("PORT", "eighty"),
            ("DATABASE_URL", "mysql://h/d"),
            ("DATABASE_POOL_SIZE", "0"),
        ] {
            let error = Common::from_pairs([(variable, value)], 8001, "sqlite://x.db")
                .unwrap_err()
                .to_string();
            assert!(
                error.to_uppercase().contains(variable),
                "{variable}: {error}"
            );
        }
    }
}
