//! The issuer: email/password accounts, argon2id hashes, and the tokens tasks-api verifies.
//! It is the only component that ever sees a password.

pub mod account;
pub mod activity;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod feed;
pub mod keys;
pub mod links;
pub mod metrics;
pub mod notices;
pub mod outbox;
pub mod password;
pub mod rate_limit;
pub mod recovery;
pub mod routes;
pub mod sessions;
pub mod signed_in;
pub mod startup;
pub mod state;
pub mod throttle;

pub use config::Config;
pub use startup::{bind, configure};
pub use state::Issuer;
