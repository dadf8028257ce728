//! The bridge between async handlers and diesel's blocking calls: [`run`] and [`write`].

use crate::connection::{DbConnection, DbManager};
use crate::error::DbError;
use crate::group_commit::{self, WriteQueue};
use crate::settings::PoolSettings;
use diesel::prelude::*;
use diesel::r2d2;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

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
    /// Calls waiting now for a permit.
    waiting: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("connections", &self.connections)
            .finish()
    }
}

impl Pool {
    pub(crate) fn new(
        connections: r2d2::Pool<DbManager>,
        settings: &PoolSettings,
        sqlite: bool,
    ) -> Self {
        Self {
            connections,
            permits: Arc::new(Semaphore::new(settings.max_size as usize)),
            writes: sqlite.then(Arc::default),
            reads_inline: sqlite,
            wait: settings.checkout_timeout,
            waiting: Arc::default(),
        }
    }

    /// How busy the pool is now, for the metrics.
    pub fn load(&self) -> PoolLoad {
        let size = self.connections.max_size() as usize;
        PoolLoad {
            size,
            in_use: size.saturating_sub(self.permits.available_permits()),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }

    /// A connection for synchronous code (tests, tools); request handlers use [`run`].
    pub fn get(&self) -> Result<r2d2::PooledConnection<DbManager>, r2d2::PoolError> {
        self.connections.get()
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

/// A pool's load at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLoad {
    /// Connections the pool may open.
    pub size: usize,
    /// Calls that hold a connection (or are about to take one).
    pub in_use: usize,
    /// Calls waiting for one.
    pub waiting: usize,
}

/// A call counted as waiting until it is dropped, however the wait ends (a caller that goes away
/// drops its future mid-wait).
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn start(waiting: &Arc<AtomicUsize>) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Self(waiting.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// [`run`] on a blocking thread of its own.
async fn on_blocking_thread<T, F>(pool: &Pool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let waiting = Waiting::start(&pool.waiting);
    let permit = tokio::time::timeout(pool.wait, pool.permits.clone().acquire_owned()).await;
    drop(waiting);
    let permit = permit
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
/// On SQLite, writes are committed in groups (see [`group_commit`]). SQLite lets one
/// connection write at a time (the busy handler makes the others sleep and retry, which under
/// concurrent writes turns into latencies of a fifth of a second and more: bench/RESULTS.md) and
/// a durable commit costs an fsync, so each write waiting when a commit starts joins it. On
/// PostgreSQL each write is a transaction of its own.
pub async fn write<T, F>(pool: &Pool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let Some(queue) = &pool.writes else {
        return run(pool, move |conn| conn.transaction(f)).await;
    };
    let (answer, answered) = tokio::sync::oneshot::channel();
    if queue.push(group_commit::job(f, answer)) {
        actix_rt::spawn(commit_in_groups(pool.clone(), queue.clone()));
    }
    // A write dropped unanswered (no connection to be had) was never committed.
    answered
        .await
        .unwrap_or_else(|_| Err(DbError::Unavailable("the write was not committed".into())))
}

/// Commits the queue's groups one after another until none is waiting.
async fn commit_in_groups(pool: Pool, queue: Arc<WriteQueue>) {
    while let Some(group) = queue.next_group() {
        // A commit waits on the disk; it never holds up a reader.
        let outcome = on_blocking_thread(&pool, move |conn| {
            group_commit::commit(conn, group);
            Ok(())
        })
        .await;
        if let Err(e) = outcome {
            log::warn!("a group of writes was not committed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{NO_MIGRATIONS, sqlite_pool, sqlite_pool_with};
    use diesel::connection::SimpleConnection;
    use std::sync::atomic::Ordering;
    use std::time::Instant;

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
    async fn the_load_counts_the_calls_holding_and_waiting_for_a_connection() {
        let (pool, dir) = sqlite_pool_with(&PoolSettings {
            checkout_timeout: Duration::from_secs(5),
            ..one_connection()
        });
        let idle = PoolLoad {
            size: 1,
            in_use: 0,
            waiting: 0,
        };
        assert_eq!(pool.load(), idle);
        let (entered, release) = (
            Arc::new(tokio::sync::Notify::new()),
            Arc::new(std::sync::Barrier::new(2)),
        );
        let holding = {
            let (entered, release) = (entered.clone(), release.clone());
            write(&pool, move |_| {
                entered.notify_one();
                release.wait();
                Ok(())
            })
        };
        let observe = async {
            entered.notified().await;
            assert_eq!(pool.load().in_use, 1);
            let waiter = run(&pool, select(1));
            let check = async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let load = pool.load();
                release.wait();
                load
            };
            let (waited, load) = tokio::join!(waiter, check);
            waited.unwrap();
            load
        };
        let (held, load) = tokio::join!(holding, observe);
        held.unwrap();
        assert_eq!(
            load,
            PoolLoad {
                size: 1,
                in_use: 1,
                waiting: 1
            }
        );
        assert_eq!(pool.load(), idle);
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

    /// The promise of [`write`] on PostgreSQL too, where no group holds a transaction open: a
    /// write that fails after one of its statements succeeded leaves nothing behind.
    #[actix_rt::test]
    async fn a_postgresql_write_that_fails_part_way_leaves_nothing() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("skipped: needs TEST_DATABASE_URL");
            return;
        };
        let url = crate::DatabaseUrl::parse(&url).unwrap();
        let pool = crate::connect(&url, &NO_MIGRATIONS, &PoolSettings::default()).unwrap();
        let table = format!("write_test_{}", uuid::Uuid::new_v4().simple());
        let sql = move |sql: String| move |conn: &mut DbConnection| Ok(conn.batch_execute(&sql)?);
        run(
            &pool,
            sql(format!("CREATE TABLE {table} (v INTEGER PRIMARY KEY)")),
        )
        .await
        .unwrap();
        // Two statements, not one text: PostgreSQL runs a text of several in a transaction.
        let insert = sql(format!("INSERT INTO {table} VALUES (1)"));
        let failed = write(&pool, move |conn| {
            insert.clone()(conn)?;
            insert(conn)
        })
        .await;
        assert!(failed.is_err_and(|e| e.is_unique_violation()));
        let count_sql = format!("(SELECT count(*) FROM {table})");
        let left = run(&pool, move |conn| {
            Ok(
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&count_sql))
                    .get_result::<i64>(conn)?,
            )
        })
        .await;
        run(&pool, sql(format!("DROP TABLE {table}")))
            .await
            .unwrap();
        assert_eq!(left.unwrap(), 0, "half of a failed write was kept");
    }
}
