//! tasks-api: per-user tasks under `/api/{user_id}/tasks`. It never sees a password and never
//! reads the issuer's tables; it trusts a request only through a token it can verify.

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod ended_sessions;
pub mod error;
pub mod feed_follower;
pub mod list_cache;
pub mod metrics;
pub mod routes;
pub mod startup;
pub mod state;

pub use config::Config;
pub use startup::{bind, configure};
pub use state::TasksApi;
