use crate::connection::DbConnection;
use crate::error::DbError;
use crate::pool::{Pool, run};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

/// A service's migrations, one set per backend, with matching version names.
pub struct Migrations {
    pub sqlite: EmbeddedMigrations,
    pub postgres: EmbeddedMigrations,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Migrations {
    pub fn run(&self, conn: &mut DbConnection) -> Result<(), BoxError> {
        match conn {
            DbConnection::Postgresql(c) => {
                c.run_pending_migrations(Borrowed(&self.postgres)).map(drop)
            }
            DbConnection::Sqlite(c) => c.run_pending_migrations(Borrowed(&self.sqlite)).map(drop),
        }
    }

    pub fn pending(&self, conn: &mut DbConnection) -> Result<bool, BoxError> {
        match conn {
            DbConnection::Postgresql(c) => c.has_pending_migration(Borrowed(&self.postgres)),
            DbConnection::Sqlite(c) => c.has_pending_migration(Borrowed(&self.sqlite)),
        }
    }
}

/// diesel takes a migration source by value and `EmbeddedMigrations` is not `Copy`; this lends
/// the embedded set out of a `static` instead.
struct Borrowed<'a>(&'a EmbeddedMigrations);

impl<DB: diesel::backend::Backend> diesel::migration::MigrationSource<DB> for Borrowed<'_> {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        diesel::migration::MigrationSource::<DB>::migrations(self.0)
    }
}

/// Whether the database answers and every migration is applied.
pub async fn ready(pool: &Pool, migrations: &'static Migrations) -> bool {
    run(pool, move |conn| {
        migrations
            .pending(conn)
            .map_err(|e| DbError::Unavailable(e.to_string()))
    })
    .await
    .is_ok_and(|pending| !pending)
}
