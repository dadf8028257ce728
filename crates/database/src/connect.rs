use crate::connection::{DbManager, enable_wal};
use crate::migrations::Migrations;
use crate::pool::Pool;
use crate::private_files;
use crate::settings::PoolSettings;
use crate::url::DatabaseUrl;
use diesel::r2d2;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not reach the database at {url} within {waited:?}: {cause}")]
    Unreachable {
        url: String,
        waited: Duration,
        cause: String,
    },
    #[error("could not migrate the database at {url}: {cause}")]
    Migration { url: String, cause: String },
    #[error(transparent)]
    Exposed(#[from] private_files::ExposedFile),
}

/// Builds the pool and migrates the database, retrying with backoff while the database is not up
/// yet, for at most `settings.startup_wait`.
pub fn connect(
    url: &DatabaseUrl,
    migrations: &Migrations,
    settings: &PoolSettings,
) -> Result<Pool, StartupError> {
    if let DatabaseUrl::Sqlite(path) = url {
        private_files::prepare_sqlite_file(std::path::Path::new(path))?;
        enable_wal(path).map_err(|e| StartupError::Unreachable {
            url: url.masked(),
            waited: Duration::ZERO,
            cause: e.to_string(),
        })?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(settings.max_size)
        .min_idle(Some(1))
        // A PostgreSQL connection can die while idle (a restart, a network cut) and diesel does
        // not notice by itself, so it is pinged at checkout; a SQLite file cannot, and the ping
        // would only double the statements of every request.
        .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
        .connection_timeout(settings.checkout_timeout)
        .build_unchecked(DbManager { url: url.clone() });

    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    let mut conn = loop {
        let remaining = settings.startup_wait.saturating_sub(started.elapsed());
        match pool.get_timeout(remaining.clamp(Duration::from_millis(100), Duration::from_secs(1)))
        {
            Ok(conn) => break conn,
            Err(e) if started.elapsed() + delay < settings.startup_wait => {
                log::warn!(
                    "database at {} is not reachable yet ({e}); retrying in {delay:?}",
                    url.masked()
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                return Err(StartupError::Unreachable {
                    url: url.masked(),
                    waited: started.elapsed(),
                    cause: e.to_string(),
                });
            }
        }
    };
    migrations
        .run(&mut conn)
        .map_err(|e| StartupError::Migration {
            url: url.masked(),
            cause: e.to_string(),
        })?;
    Ok(Pool::new(
        pool,
        settings,
        matches!(url, DatabaseUrl::Sqlite(_)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::DbConnection;
    use crate::testing::{NO_MIGRATIONS, sqlite_pool_with};
    use diesel::prelude::*;

    #[test]
    fn every_pooled_sqlite_connection_enforces_foreign_keys_and_keeps_a_small_page_cache() {
        let (pool, dir) = sqlite_pool_with(&PoolSettings {
            max_size: 3,
            ..PoolSettings::default()
        });
        let held: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
        for mut conn in held {
            let DbConnection::Sqlite(conn) = &mut *conn else {
                panic!("a SQLite URL gave another backend");
            };
            let pragma = |conn: &mut SqliteConnection, name: &str| -> i64 {
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                    "(SELECT * FROM pragma_{name})"
                )))
                .get_result(conn)
                .unwrap()
            };
            assert_eq!(pragma(conn, "foreign_keys"), 1);
            // Negative: a size in KiB.
            assert_eq!(pragma(conn, "cache_size"), -128);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_unreachable_database_fails_within_the_bounded_wait_naming_the_masked_url() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@127.0.0.1:1/none").unwrap();
        let settings = PoolSettings {
            max_size: 1,
            checkout_timeout: Duration::from_millis(200),
            startup_wait: Duration::from_secs(1),
        };
        let started = Instant::now();
        let err = connect(&url, &NO_MIGRATIONS, &settings)
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.contains("postgres://app:***@127.0.0.1:1/none"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
