//! The database plumbing both services share: one connection type for SQLite and PostgreSQL,
//! chosen from `DATABASE_URL`; an r2d2 pool; embedded migrations run at start; and the bridge
//! between async handlers and diesel's blocking calls ([`run`] and [`write`]): a SQLite read
//! that can have an idle connection at once runs on the worker that asked for it, and every
//! other call waits on a blocking thread.

pub mod private_files;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, FromSql};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use shared::config::ConfigError;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

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

/// The connection pool, with a gate in front of it: a call takes a permit (waiting on the
/// async side, which costs nothing) before it takes a connection, so no more calls run database
/// work than there are connections, and none of them sleeps in the pool.
#[derive(Clone)]
pub struct Pool {
    connections: r2d2::Pool<DbManager>,
    permits: Arc<Semaphore>,
    /// SQLite only: the writes waiting to be committed (see [`write`]).
    writes: Option<Arc<WriteQueue>>,
    /// SQLite only: whether a read may run on the worker that asked for it (see [`run`]).
    reads_inline: bool,
    wait: Duration,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("connections", &self.connections)
            .finish()
    }
}

impl Pool {
    /// A connection for synchronous code (tests, tools); request handlers use [`run`].
    pub fn get(&self) -> Result<r2d2::PooledConnection<DbManager>, r2d2::PoolError> {
        self.connections.get()
    }
}

/// Where the database is. The scheme alone decides the backend, so a mistyped URL is an error at
/// start rather than a SQLite file named after it.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            variable: "DATABASE_URL",
            reason: reason.into(),
        };
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        match raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            Some("") => Err(invalid(
                "a sqlite URL needs a file path, as in sqlite://data/tasks.db",
            )),
            Some(path) => Ok(Self::Sqlite(path.to_owned())),
            None => Err(invalid("must start with sqlite:// or postgres://")),
        }
    }

    /// The URL with any password replaced, fit for a log line or an error message.
    pub fn masked(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{path}"),
            Self::Postgres(url) => {
                let Some((scheme, rest)) = url.split_once("://") else {
                    return "postgres://***".into();
                };
                let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
                let authority = match authority.rsplit_once('@') {
                    Some((credentials, host)) => match credentials.split_once(':') {
                        Some((user, _)) => format!("{user}:***@{host}"),
                        None => authority.to_owned(),
                    },
                    None => authority.to_owned(),
                };
                let query_free = tail.split('?').next().unwrap_or_default();
                format!("{scheme}://{authority}/{query_free}")
            }
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Opens connections for the pool, applying SQLite's pragmas to every new SQLite connection.
pub struct DbManager {
    url: DatabaseUrl,
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
fn enable_wal(path: &str) -> Result<(), r2d2::Error> {
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
    Ok(Pool {
        connections: pool,
        permits: Arc::new(Semaphore::new(settings.max_size as usize)),
        writes: matches!(url, DatabaseUrl::Sqlite(_)).then(Arc::default),
        reads_inline: matches!(url, DatabaseUrl::Sqlite(_)),
        wait: settings.checkout_timeout,
    })
}

/// The current time as both backends store it: PostgreSQL keeps microseconds, so a timestamp
/// is cut to microseconds before it is saved or shown, and what a client is told is what it
/// reads back later.
pub fn now() -> NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored moment (UTC, to the microsecond, as [`now`] makes it), read from either backend and
/// kept as it is shown: RFC 3339 with six fraction digits, `2026-11-27T13:40:01.123456Z`.
///
/// A task list is mostly timestamps, and parsing each into chrono's types to format it back out
/// slowed the many-user load by more than a tenth (bench/RESULTS.md). So the text SQLite holds is
/// checked and copied into this form in one pass, and shown as it is. RFC 3339 writes a year in
/// four digits, so a moment outside the years 0000–9999 is held at the nearest end of them.
#[derive(Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Timestamp([u8; 27]);

impl Timestamp {
    /// The shown form, before its digits are written.
    const LAYOUT: [u8; 27] = *b"0000-00-00T00:00:00.000000Z";

    /// Where each part of the shown form starts, and how many digits it has.
    const YEAR: (usize, usize) = (0, 4);
    const MONTH: (usize, usize) = (5, 2);
    const DAY: (usize, usize) = (8, 2);
    const HOUR: (usize, usize) = (11, 2);
    const MINUTE: (usize, usize) = (14, 2);
    const SECOND: (usize, usize) = (17, 2);
    const MICROS: (usize, usize) = (20, 6);

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a timestamp is digits and separators")
    }

    /// Reads the layout diesel writes to SQLite, `YYYY-MM-DD HH:MM:SS` with an optional
    /// fraction of one to nine digits (shown to the microsecond); `None` for any other text and
    /// for a date or time that does not exist.
    fn from_stored(text: &[u8]) -> Option<Self> {
        let (moment, fraction) = match text.split_at_checked(19)? {
            (moment, []) => (moment, &[][..]),
            (moment, [b'.', fraction @ ..]) if (1..=9).contains(&fraction.len()) => {
                (moment, fraction)
            }
            _ => return None,
        };
        let separators = [moment[4], moment[7], moment[10], moment[13], moment[16]];
        let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
        if separators != *b"-- ::"
            || !digits.iter().all(|&i| moment[i].is_ascii_digit())
            || !fraction.iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        let mut shown = Self::LAYOUT;
        shown[..10].copy_from_slice(&moment[..10]);
        shown[11..19].copy_from_slice(&moment[11..]);
        let kept = &fraction[..fraction.len().min(Self::MICROS.1)];
        shown[Self::MICROS.0..][..kept.len()].copy_from_slice(kept);
        let shown = Self(shown);
        shown.exists().then_some(shown)
    }

    /// The two digits at `at`, which compare as the numbers they write.
    fn two_digits(&self, (at, _): (usize, usize)) -> [u8; 2] {
        [self.0[at], self.0[at + 1]]
    }

    /// Whether the digits name a moment of the proleptic Gregorian calendar, leap seconds aside.
    fn exists(&self) -> bool {
        let leap_year = || {
            let year = self.0[..4]
                .iter()
                .fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
            year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        };
        let last_day = match &self.two_digits(Self::MONTH) {
            b"02" if leap_year() => b"29",
            b"02" => b"28",
            b"04" | b"06" | b"09" | b"11" => b"30",
            b"01" | b"03" | b"05" | b"07" | b"08" | b"10" | b"12" => b"31",
            _ => return false,
        };
        (*b"01"..=*last_day).contains(&self.two_digits(Self::DAY))
            && self.two_digits(Self::HOUR) < *b"24"
            && self.two_digits(Self::MINUTE) < *b"60"
            && self.two_digits(Self::SECOND) < *b"60"
    }
}

impl From<NaiveDateTime> for Timestamp {
    fn from(moment: NaiveDateTime) -> Self {
        use chrono::{Datelike, NaiveDate, Timelike};
        let first = NaiveDate::from_ymd_opt(0, 1, 1).and_then(|day| day.and_hms_opt(0, 0, 0));
        let last = NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|day| day.and_hms_micro_opt(23, 59, 59, 999_999));
        let moment = moment.clamp(
            first.expect("the first moment of year 0"),
            last.expect("the last moment of year 9999"),
        );
        let mut shown = Self(Self::LAYOUT);
        let mut put = |(start, digits): (usize, usize), mut value: u32| {
            for digit in shown.0[start..start + digits].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        let (date, time) = (moment.date(), moment.time());
        put(Self::YEAR, date.year() as u32);
        put(Self::MONTH, date.month());
        put(Self::DAY, date.day());
        put(Self::HOUR, time.hour());
        put(Self::MINUTE, time.minute());
        put(Self::SECOND, time.second());
        // chrono counts a leap second as a second :59 whose fraction runs past one.
        put(Self::MICROS, (time.nanosecond() / 1000).min(999_999));
        shown
    }
}

impl std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl FromSql<diesel::sql_types::Timestamp, diesel::sqlite::Sqlite> for Timestamp {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(moment) = Self::from_stored(value.read_text().as_bytes()) {
            return Ok(moment);
        }
        // Any other layout SQLite holds (a row written by hand, say) takes diesel's own path.
        <NaiveDateTime as FromSql<diesel::sql_types::Timestamp, diesel::sqlite::Sqlite>>::from_sql(
            value,
        )
        .map(Self::from)
    }
}

impl FromSql<diesel::sql_types::Timestamp, diesel::pg::Pg> for Timestamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<diesel::sql_types::Timestamp, diesel::pg::Pg>>::from_sql(value)
            .map(Self::from)
    }
}

impl FromSql<diesel::sql_types::Timestamp, MultiBackend> for Timestamp {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, diesel::sql_types::Timestamp>()
    }
}

/// Why a database call failed, in the terms a handler needs.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had, or the one we had was lost: the client may retry (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(DieselError),
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => DbError::Unavailable(info.message().to_owned()),
            DieselError::BrokenTransactionManager => {
                DbError::Unavailable("broken transaction manager".into())
            }
            other => DbError::Query(other),
        }
    }
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(DieselError::NotFound))
    }

    /// Logs the cause, which the client is never shown: a warning for a database out of reach,
    /// an error for a query that failed.
    pub fn log(&self) {
        match self {
            DbError::Unavailable(_) => log::warn!("{self}"),
            DbError::Query(cause) => log::error!("database error: {cause}"),
        }
    }
}

/// Runs `f` with a pooled connection. Waiting for a connection is bounded by the pool's checkout
/// timeout; past it the database counts as unavailable.
///
/// On SQLite, a read runs on the worker that asked for it whenever a connection is idle: it
/// reads pages that are in memory and never waits for a writer (WAL), so it takes microseconds,
/// less than handing it to another thread costs (a wake-up, a sleep and a cross-thread free of
/// every row; bench/RESULTS.md has the figures). With no connection idle, and always on
/// PostgreSQL, where a query waits on the network, the call waits on a blocking thread of its
/// own, never on an async worker.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    if pool.reads_inline
        && let Ok(permit) = pool.permits.clone().try_acquire_owned()
        && let Some(conn) = pool.connections.try_get()
    {
        return run_here(conn, permit, f);
    }
    on_blocking_thread(pool, f).await
}

/// `f` with `conn`, on this thread. A panic in `f` is the caller's error, as on a blocking
/// thread, and the connection it left behind is dropped while unwinding, so the pool closes it
/// instead of lending it again mid-transaction.
fn run_here<T, F>(
    mut conn: r2d2::PooledConnection<DbManager>,
    permit: tokio::sync::OwnedSemaphorePermit,
    f: F,
) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError>,
{
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let result = f(&mut conn);
        drop(conn);
        drop(permit);
        result
    }));
    result.unwrap_or_else(|_| Err(DbError::Unavailable("the database call panicked".into())))
}

/// [`run`] on a blocking thread of its own.
async fn on_blocking_thread<T, F>(pool: &Pool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let permit = tokio::time::timeout(pool.wait, pool.permits.clone().acquire_owned())
        .await
        .map_err(|_| DbError::Unavailable("every connection stayed busy".into()))?
        .map_err(|e| DbError::Unavailable(e.to_string()))?;
    let connections = pool.connections.clone();
    actix_rt::task::spawn_blocking(move || {
        let conn = connections
            .get()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        run_here(conn, permit, f)
    })
    .await
    .map_err(|e| DbError::Unavailable(format!("blocking pool: {e}")))?
}

/// [`run`] for a call that writes, answered only once its transaction has committed.
///
/// On SQLite, writes are committed in groups. SQLite lets one connection write at a time (the
/// busy handler makes the others sleep and retry, which under concurrent writes turns into
/// latencies of a fifth of a second and more: bench/RESULTS.md) and a durable commit costs an
/// fsync, so each write waiting when a commit starts
/// joins it: one transaction, one fsync, with each write in its own savepoint so that one that
/// fails is undone alone. On PostgreSQL each write is a transaction of its own.
pub async fn write<T, F>(pool: &Pool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let Some(queue) = &pool.writes else {
        return run(pool, move |conn| conn.transaction(f)).await;
    };
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |conn| {
        let result = conn.transaction(f);
        Box::new(move |commit_failure| {
            let _ = answer.send(match commit_failure {
                Some(failure) => Err(DbError::Unavailable(failure.to_owned())),
                None => result,
            });
        })
    });
    let lead = {
        let mut state = queue.state.lock().unwrap_or_else(|e| e.into_inner());
        state.jobs.push(job);
        !std::mem::replace(&mut state.committing, true)
    };
    if lead {
        actix_rt::spawn(commit_in_groups(pool.clone(), queue.clone()));
    }
    // A write dropped unanswered (no connection to be had) was never committed.
    answered
        .await
        .unwrap_or_else(|_| Err(DbError::Unavailable("the write was not committed".into())))
}

/// A write waiting for its group: it runs inside the group's transaction and returns how to
/// answer once the commit is known (`Some` with why it failed, or `None`).
type Job = Box<dyn FnOnce(&mut DbConnection) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

#[derive(Default)]
struct WriteQueue {
    state: std::sync::Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    jobs: Vec<Job>,
    /// Whether a task is committing groups; it stops when it finds no write waiting.
    committing: bool,
}

/// Most writes in one transaction, so that a group's commit stays short.
const MAX_GROUP: usize = 64;

async fn commit_in_groups(pool: Pool, queue: Arc<WriteQueue>) {
    loop {
        let group: Vec<Job> = {
            let mut state = queue.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.jobs.is_empty() {
                state.committing = false;
                return;
            }
            let size = state.jobs.len().min(MAX_GROUP);
            state.jobs.drain(..size).collect()
        };
        // A commit waits on the disk; it never holds up a reader.
        let outcome = on_blocking_thread(&pool, move |conn| {
            let mut answers = Vec::with_capacity(group.len());
            let committed = conn.transaction::<_, DbError, _>(|conn| {
                answers.extend(group.into_iter().map(|job| job(conn)));
                Ok(())
            });
            let failure = committed.err().map(|e| e.to_string());
            for answer in answers {
                answer(failure.as_deref());
            }
            Ok(())
        })
        .await;
        if let Err(e) = outcome {
            log::warn!("a group of writes was not committed: {e}");
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    static NO_MIGRATIONS: Migrations = Migrations {
        sqlite: diesel_migrations::EmbeddedMigrations::new(&[]),
        postgres: diesel_migrations::EmbeddedMigrations::new(&[]),
    };

    #[test]
    fn the_scheme_chooses_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/tasks.db").unwrap(),
            DatabaseUrl::Sqlite("data/tasks.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
    }

    #[test]
    fn an_unknown_scheme_is_refused_naming_the_variable() {
        for raw in ["mysql://u@h/db", "data/tasks.db", "sqlite://", ""] {
            let err = DatabaseUrl::parse(raw).unwrap_err().to_string();
            assert!(err.contains("DATABASE_URL"), "{raw}: {err}");
        }
    }

    #[test]
    fn a_timestamp_reads_back_from_sqlite_as_written_and_shows_in_rfc_3339() {
        use diesel::sql_types::{Text, Timestamp as SqlTimestamp};
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let written = chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_micro_opt(13, 40, 1, 23)
            .unwrap();
        let read = |conn: &mut SqliteConnection, sql: &str| -> Timestamp {
            diesel::select(diesel::dsl::sql::<SqlTimestamp>(sql))
                .get_result(conn)
                .unwrap()
        };
        // What diesel writes, then layouts only its own reader understands.
        let stored: String =
            diesel::select(diesel::dsl::sql::<Text>("").bind::<SqlTimestamp, _>(written))
                .get_result(&mut conn)
                .unwrap();
        assert_eq!(stored, "2026-11-27 13:40:01.000023");
        for sql in [format!("'{stored}'"), "'2026-11-27T13:40:01.000023'".into()] {
            assert_eq!(
                read(&mut conn, &sql).as_str(),
                "2026-11-27T13:40:01.000023Z"
            );
        }
        assert_eq!(
            read(&mut conn, "'2026-11-27 13:40:01'").as_str(),
            "2026-11-27T13:40:01.000000Z"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp::from(written)).unwrap(),
            r#""2026-11-27T13:40:01.000023Z""#
        );
    }

    proptest::proptest! {
        /// The hand-written reader and writer against chrono's, from before year 0 to after
        /// 9999, to the nanosecond.
        #[test]
        fn a_timestamp_shows_as_chrono_writes_it_and_reads_back_as_diesel_stored_it(
            seconds in -70_000_000_000i64..260_000_000_000,
            nanosecond in 0u32..1_000_000_000,
        ) {
            use chrono::Datelike;
            let moment = chrono::DateTime::from_timestamp(seconds, nanosecond).unwrap().naive_utc();
            let shown = Timestamp::from(moment);
            let stored = moment.format("%F %T%.f").to_string();
            let read = Timestamp::from_stored(stored.as_bytes());
            let expected = match moment.year() {
                ..0 => "0000-01-01T00:00:00.000000Z".to_owned(),
                10_000.. => "9999-12-31T23:59:59.999999Z".to_owned(),
                _ => {
                    proptest::prop_assert_eq!(read, Some(shown), "{}", stored);
                    moment.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                }
            };
            proptest::prop_assert_eq!(shown.as_str(), expected.as_str());
            if !(0..=9999).contains(&moment.year()) {
                proptest::prop_assert_eq!(read, None, "{}", stored);
            }
        }
    }

    #[test]
    fn only_the_stored_layout_of_a_real_moment_takes_the_fast_reader() {
        for text in [
            "2026-11-27T13:40:01",
            "2026-11-27 13:40:01.",
            "2026-11-27 13:40:01.1234567890",
            "2026-11-27 13:40:01.12345a",
            "2026-11-27 13:40:01.1234567a9",
            "2026-11-27 13:40:1",
            "2026-13-27 13:40:01",
            "2026-00-27 13:40:01",
            "2026-11-00 13:40:01",
            "2026-11-31 13:40:01",
            "2026-02-29 13:40:01",
            "2100-02-29 13:40:01",
            "2026-11-27 24:00:00",
            "2026-11-27 23:60:00",
            "2026-11-27 23:59:60",
            "2026-11-27 13:40:01Z",
            "2026-1a-27 13:40:01",
            "2026-11-27 13-40-01",
            "",
        ] {
            assert_eq!(Timestamp::from_stored(text.as_bytes()), None, "{text}");
        }
        for (text, shown) in [
            ("2024-02-29 00:00:00", "2024-02-29T00:00:00.000000Z"),
            ("2000-02-29 23:59:59.9", "2000-02-29T23:59:59.900000Z"),
            (
                "2026-12-31 13:40:01.123456789",
                "2026-12-31T13:40:01.123456Z",
            ),
        ] {
            assert_eq!(
                Timestamp::from_stored(text.as_bytes()).unwrap().as_str(),
                shown
            );
        }
    }

    /// A pool over a fresh SQLite file, and the folder to remove afterwards.
    fn sqlite_pool() -> (Pool, std::path::PathBuf) {
        sqlite_pool_with(&PoolSettings::default())
    }

    fn sqlite_pool_with(settings: &PoolSettings) -> (Pool, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("shared-db-{}", uuid::Uuid::new_v4()));
        let url = DatabaseUrl::parse(&format!("sqlite://{}/test.db", dir.display())).unwrap();
        let pool = connect(&url, &NO_MIGRATIONS, settings).unwrap();
        (pool, dir)
    }

    /// One connection, given up on after 100 ms.
    fn one_connection() -> PoolSettings {
        PoolSettings {
            max_size: 1,
            checkout_timeout: Duration::from_millis(100),
            ..PoolSettings::default()
        }
    }

    fn select(value: i64) -> impl FnOnce(&mut DbConnection) -> Result<i64, DbError> {
        move |conn| {
            Ok(diesel::select(value.into_sql::<diesel::sql_types::BigInt>()).get_result(conn)?)
        }
    }

    /// The thread a call ran on.
    fn on_thread() -> impl FnOnce(&mut DbConnection) -> Result<std::thread::ThreadId, DbError> {
        |conn| {
            select(1)(conn)?;
            Ok(std::thread::current().id())
        }
    }

    #[actix_rt::test]
    async fn a_sqlite_read_runs_on_the_calling_worker_while_a_connection_is_idle() {
        let (pool, dir) = sqlite_pool_with(&one_connection());
        let here = std::thread::current().id();
        for _ in 0..3 {
            assert_eq!(run(&pool, on_thread()).await.unwrap(), here);
        }
        // With its one connection lent out, a read waits on a blocking thread, never here.
        let held = pool.get().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            drop(held);
        });
        let waited = run(&pool, on_thread()).await.unwrap();
        assert_ne!(
            waited, here,
            "a read waited for a connection on the async worker"
        );
        release.join().unwrap();
        assert_eq!(run(&pool, on_thread()).await.unwrap(), here);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[actix_rt::test]
    async fn a_read_that_waited_past_the_checkout_timeout_is_refused_and_never_runs() {
        let (pool, dir) = sqlite_pool_with(&one_connection());
        let held = pool.get().unwrap();
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let late = {
            let ran = ran.clone();
            run(&pool, move |conn| {
                ran.store(true, Ordering::SeqCst);
                select(2)(conn)
            })
            .await
        };
        assert!(matches!(late, Err(DbError::Unavailable(_))), "{late:?}");
        assert!(!ran.load(Ordering::SeqCst), "a refused read still ran");
        drop(held);
        assert_eq!(run(&pool, select(3)).await.unwrap(), 3);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[actix_rt::test]
    async fn a_call_that_panics_is_refused_and_its_connection_is_not_lent_again() {
        let (pool, dir) = sqlite_pool_with(&one_connection());
        // Left mid-transaction by the panic: lent again, the next call would be inside it.
        let panic_mid_transaction = || {
            run(&pool, |conn| -> Result<i64, DbError> {
                conn.batch_execute("BEGIN")?;
                panic!("a query bug")
            })
        };
        let after_a_panic = || {
            run(&pool, |conn| {
                conn.batch_execute("BEGIN; COMMIT;")?;
                select(5)(conn)
            })
        };
        let mut calls = vec![];
        for _ in 0..2 {
            let panicked = panic_mid_transaction().await;
            assert!(
                matches!(panicked, Err(DbError::Unavailable(_))),
                "{panicked:?}"
            );
            calls.push(after_a_panic().await);
            let held = pool.get().unwrap();
            let release = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                drop(held);
            });
            // The same, from a blocking thread.
            let panicked = panic_mid_transaction().await;
            assert!(
                matches!(panicked, Err(DbError::Unavailable(_))),
                "{panicked:?}"
            );
            release.join().unwrap();
            calls.push(after_a_panic().await);
        }
        for call in calls {
            assert_eq!(call.unwrap(), 5, "a call after a panic failed");
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[actix_rt::test]
    async fn sqlite_writes_run_one_at_a_time_and_readers_do_not_wait_for_them() {
        let (pool, dir) = sqlite_pool();
        let started = Instant::now();
        let spans = Arc::new(std::sync::Mutex::new(Vec::new()));
        let slow_write = |name: &'static str| {
            let spans = spans.clone();
            write(&pool, move |_| {
                let from = started.elapsed();
                std::thread::sleep(Duration::from_millis(150));
                spans.lock().unwrap().push((name, from, started.elapsed()));
                Ok(())
            })
        };
        let read = run(&pool, move |_| Ok(started.elapsed()));
        let (a, b, read) = tokio::join!(slow_write("a"), slow_write("b"), read);
        a.unwrap();
        b.unwrap();
        let spans = spans.lock().unwrap();
        let [(_, _, first_end), (_, second_start, _)] = spans[..] else {
            panic!("two writes expected, got {spans:?}");
        };
        assert!(
            second_start >= first_end,
            "the writes overlapped: {spans:?}"
        );
        assert!(read.unwrap() < first_end, "the read waited for a write");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[actix_rt::test]
    async fn a_write_that_fails_is_undone_alone_and_every_answered_write_is_kept() {
        let (pool, dir) = sqlite_pool();
        run(&pool, |conn| {
            Ok(conn.batch_execute(
                "CREATE TABLE t (v INTEGER PRIMARY KEY, w INTEGER NOT NULL);
                 INSERT INTO t VALUES (999, -1);",
            )?)
        })
        .await
        .unwrap();
        // 40 concurrent writes of two rows each; the second row of every odd one clashes with
        // the row already there, after its first row went in. Those must leave nothing behind.
        let writes: Vec<_> = (0..40)
            .map(|i: i64| {
                let pool = pool.clone();
                actix_rt::spawn(async move {
                    let second = if i % 2 == 0 { 100 + i } else { 999 };
                    write(&pool, move |conn| {
                        for v in [i, second] {
                            diesel::sql_query(format!("INSERT INTO t VALUES ({v}, {i})"))
                                .execute(conn)?;
                        }
                        Ok(i)
                    })
                    .await
                })
            })
            .collect();
        let mut kept = Vec::new();
        for (i, handle) in writes.into_iter().enumerate() {
            match handle.await.unwrap() {
                Ok(v) => kept.push(v),
                Err(e) => assert!(e.is_unique_violation(), "write {i}: {e}"),
            }
        }
        assert_eq!(kept, (0..40).step_by(2).collect::<Vec<_>>());
        let count = |condition: &'static str| {
            run(&pool, move |conn| {
                Ok(
                    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                        "(SELECT count(*) FROM t WHERE {condition})"
                    )))
                    .get_result::<i64>(conn)?,
                )
            })
        };
        assert_eq!(
            count("w % 2 = 1").await.unwrap(),
            0,
            "a failed write left a row"
        );
        assert_eq!(
            count("w >= 0").await.unwrap(),
            40,
            "a kept write lost a row"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

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
    fn the_password_is_masked() {
        let url =
            DatabaseUrl::parse("postgres://app:hunter2@db:5432/tasks?sslmode=require").unwrap();
        let masked = url.masked();
        assert!(!masked.contains("hunter2"), "{masked}");
        assert_eq!(masked, "postgres://app:***@db:5432/tasks");
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
