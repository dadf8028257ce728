use crate::url::DatabaseUrl;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$conn` rebound to the backend's own connection. A query given the
/// `DbConnection` itself is written out as SQL text on every call, even when its statement is
/// cached (diesel's `MultiConnection` serializes it to bind its values), which the profiles
/// showed on every list. Given the backend's connection, a cached statement is only bound.
#[macro_export]
macro_rules! on_backend {
    ($conn:ident => $body:expr) => {
        match $conn {
            $crate::DbConnection::Postgresql($conn) => $body,
            $crate::DbConnection::Sqlite($conn) => $body,
        }
    };
}

/// Opens connections for the pool, applying SQLite's pragmas to every new SQLite connection.
pub struct DbManager {
    pub(crate) url: DatabaseUrl,
}

/// Shows the URL masked: a pool's `Debug` output must not carry the database password.
impl std::fmt::Debug for DbManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbManager")
            .field("url", &self.url.masked())
            .finish()
    }
}

/// busy_timeout makes a second writer wait instead of failing; foreign keys are off in SQLite
/// unless asked for. `synchronous` stays at its default (FULL) so that a commit a client was told
/// about survives a power cut.
///
/// Each connection keeps its own cache of the file's pages, on top of the kernel's cache of the
/// same file, and by default lets it grow to 2 MiB: up to 16 MiB across a pool of 8, mostly
/// holding the same pages. With 128 KiB a page beyond it is copied again from the kernel's
/// cache, never read from the disk; the benchmarks show no loss of speed and several MiB less
/// memory under load (bench/RESULTS.md).
const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -128;";

/// WAL lets readers proceed while one writer writes. The mode is kept in the file, so it is set
/// once, from a single connection, before the pool opens several at once: switching while
/// others are open fails with "database is locked", whatever the busy timeout.
pub(crate) fn enable_wal(path: &str) -> Result<(), r2d2::Error> {
    let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
        .map_err(r2d2::Error::QueryError)
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_sqlite_is_built_as_set_in_the_cargo_config() {
        // Losing QPSG makes every list request re-prepare its SQL; losing THREADSAFE=2 puts a
        // mutex back around every call on a connection; the last two put back global mutexes.
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        for (option, wanted) in [
            ("ENABLE_QPSG", 1),
            ("THREADSAFE=2", 1),
            ("DEFAULT_MEMSTATUS=0", 1),
            ("ENABLE_MEMORY_MANAGEMENT", 0),
        ] {
            let used: i32 = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
                &format!("sqlite_compileoption_used('{option}')"),
            ))
            .get_result(&mut conn)
            .unwrap();
            assert_eq!(
                used, wanted,
                "SQLITE_{option} used: {used}, wanted {wanted}"
            );
        }
    }
}
