//! What the issuer and tasks-api must agree on: the token (claims, settings, the secret), the
//! configuration rules, the database plumbing and the HTTP error format. Keeping these in one
//! crate is what makes "a token the issuer mints is a token tasks-api accepts" a compile-time fact.

pub mod config;
pub mod db;
pub mod http;
pub mod jwks;
pub mod keys;
pub mod startup;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
