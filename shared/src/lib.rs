//! The contract between the issuer and tasks-api: the claims a token carries, the token settings,
//! the secret's configuration, the feed of ended sessions, and verifying. Signing and private keys
//! are behind the `mint` feature, which only the issuer enables. Keeping both halves in one crate
//! is what makes "a token the issuer mints is a token tasks-api accepts" a compile-time fact.
//!
//! Fetching is plumbing and lives elsewhere: a verifier's JWKS cache in `jwks-client`, the session
//! feed's client in tasks-api.

pub mod config;
#[cfg(feature = "mint")]
pub mod keys;
#[cfg(feature = "mint")]
pub mod mint;
pub mod session_feed;
pub mod token;
