//! The issuer: email/password accounts, argon2id hashes, and the tokens tasks-api verifies.
//! It is the only component that ever sees a password.

pub mod account;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod keys;
pub mod password;
pub mod rate_limit;
pub mod routes;
pub mod sessions;
pub mod startup;
pub mod throttle;

pub use config::Config;
pub use startup::{Issuer, build, configure};
