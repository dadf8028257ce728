//! tasks-api's integration suite: each test starts the real service on a random port with a
//! fresh database (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set).

mod auth;
mod better_auth;
mod helpers;
mod isolation;
mod lists;
mod odd_input;
mod tasks;
