//! Test support for both services, named only in `[dev-dependencies]`:
//!
//! - [`TestDatabase`]: a fresh database per test, SQLite by default or PostgreSQL when
//!   `TEST_DATABASE_URL` names a server;
//! - [`Relay`]: a TCP relay that can cut the line to a database and restore it;
//! - [`PrivateCluster`]: a PostgreSQL server of the test's own, to stop and start;
//! - [`Process`]: service binaries as child processes, their command line and `--env-vars`
//!   included;
//! - [`outage`] and [`kill_during_burst`]: the fault scenarios;
//! - [`send_raw`], [`assert_problem`], [`assert_refs_resolve`]: HTTP as no client library sends it,
//!   the problem+json of every error, and the API document's references;
//! - [`SmtpServer`]: a real SMTP server (aiosmtpd), plain, STARTTLS or implicit TLS;
//! - [`PASSWORD`], [`hs256_token`], [`runtime`]: what tests sign in with and run on.

mod cluster;
mod database;
mod faults;
mod http;
mod process;
mod relay;
mod smtp;
mod tokens;

pub use cluster::PrivateCluster;
pub use database::TestDatabase;
pub use faults::{Outage, kill_during_burst, outage};
pub use http::{assert_problem, assert_refs_resolve, fields, sample, scrape, send_raw};
pub use process::{Process, assert_command_line, assert_env_vars};
pub use relay::Relay;
pub use smtp::{Received, SmtpMode, SmtpServer};
pub use tokens::{PASSWORD, SESSION, hs256_settings, hs256_token};

/// A single-threaded runtime, for a test that drives async clients from plain `#[test]` code.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}
