//! The issuer's integration suite: each test starts the real issuer on a random port with a fresh
//! database (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set).

mod activity;
mod helpers;
mod mail;
mod metrics;
mod odd_input;
mod operations;
mod recovery;
mod sessions;
mod signin;
mod signup;
