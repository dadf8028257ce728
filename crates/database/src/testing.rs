//! What the unit tests of several modules need: a pool over a fresh SQLite file.

use crate::connect::connect;
use crate::migrations::Migrations;
use crate::pool::Pool;
use crate::settings::PoolSettings;
use crate::url::DatabaseUrl;

pub(crate) static NO_MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::EmbeddedMigrations::new(&[]),
    postgres: diesel_migrations::EmbeddedMigrations::new(&[]),
};

/// A pool over a fresh SQLite file, and the folder to remove afterwards.
pub(crate) fn sqlite_pool() -> (Pool, std::path::PathBuf) {
    sqlite_pool_with(&PoolSettings::default())
}

pub(crate) fn sqlite_pool_with(settings: &PoolSettings) -> (Pool, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("shared-db-{}", uuid::Uuid::new_v4()));
    let url = DatabaseUrl::parse(&format!("sqlite://{}/test.db", dir.display())).unwrap();
    let pool = connect(&url, &NO_MIGRATIONS, settings).unwrap();
    (pool, dir)
}
