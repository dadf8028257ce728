//! The database plumbing both services share, one job a module:
//!
//! - [`DatabaseUrl`]: `DATABASE_URL` parsed; the scheme alone chooses SQLite or PostgreSQL.
//! - [`DbConnection`] and the pool's connection manager, which sets SQLite's pragmas.
//! - [`PoolConfig`] and [`PoolSettings`]: the pool's environment variables, checked.
//! - [`connect`]: the pool built and the database migrated at start, retrying while it is down.
//! - [`Migrations`], embedded per backend, and [`ready`] for a readiness check.
//! - [`run`] and [`write`]: the bridge between async handlers and diesel's blocking calls. A
//!   SQLite read that can have an idle connection at once runs on the worker that asked for it;
//!   every other call waits on a blocking thread; SQLite's writes are committed in groups.
//! - [`DbError`]: why a call failed, in the terms a handler needs.
//! - [`Timestamp`] and [`now`]: moments as both backends store them and clients are shown them.
//! - [`private_files`]: a SQLite file and its folder readable by their owner alone.

mod connect;
mod connection;
mod error;
mod group_commit;
mod migrations;
mod pool;
pub mod private_files;
mod settings;
#[cfg(test)]
mod testing;
mod timestamp;
mod url;

pub use connect::{StartupError, connect};
pub use connection::{DbConnection, DbManager};
pub use error::DbError;
pub use migrations::{Migrations, ready};
pub use pool::{Pool, PoolLoad, run, write};
pub use settings::{PoolConfig, PoolSettings};
pub use timestamp::{Timestamp, now};
pub use url::DatabaseUrl;
