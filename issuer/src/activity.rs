//! An account's security activity: what happened to it (a sign-in, a failed one, a password
//! reset…), when, and from which client, shown to its owner by `GET /account/activity`. Each
//! account keeps its last [`KEPT_PER_ACCOUNT`] events of the last [`KEPT_FOR`]; once the account
//! is deleted, what remains of its events says what happened and when, and nothing of who.
//! The queries that record an event are in [`crate::db`], which takes the account's row first.

use chrono::{NaiveDateTime, TimeDelta};
use database::{DbConnection, DbError};
use diesel::prelude::*;

diesel::table! {
    account_events (id) {
        id -> BigInt,
        user_id -> Text,
        at -> Timestamp,
        event -> Text,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
    }
}

/// The most events an account keeps: the oldest go first.
pub const KEPT_PER_ACCOUNT: i64 = 100;
/// How long an event is kept and shown.
pub const KEPT_FOR: TimeDelta = TimeDelta::days(90);

/// What happened, as the contract names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    SignUp,
    SignIn,
    SignInFailed,
    SignOut,
    SessionEnded,
    PasswordChanged,
    PasswordReset,
    EmailVerified,
    EmailChanged,
    AccountDeleted,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::SignUp => "signup",
            Event::SignIn => "signin",
            Event::SignInFailed => "signin_failed",
            Event::SignOut => "signout",
            Event::SessionEnded => "session_ended",
            Event::PasswordChanged => "password_changed",
            Event::PasswordReset => "password_reset",
            Event::EmailVerified => "email_verified",
            Event::EmailChanged => "email_changed",
            Event::AccountDeleted => "account_deleted",
        }
    }
}

/// The client an event came from: its user agent (shortened) and its address, as the rate limit
/// counts it (behind a trusted proxy, the forwarded one). See `Issuer::client`.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// One event as its owner sees it.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = account_events)]
pub struct Recorded {
    pub at: NaiveDateTime,
    pub event: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// Adds `event` to the account's activity, and forgets its events past the bounds.
pub fn insert(
    conn: &mut DbConnection,
    user_id: &str,
    event: Event,
    client: &Client,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    use account_events::dsl as e;
    database::on_backend!(conn => diesel::insert_into(e::account_events)
        .values((
            e::user_id.eq(user_id),
            e::at.eq(now),
            e::event.eq(event.as_str()),
            e::user_agent.eq(&client.user_agent),
            e::ip.eq(&client.ip),
        ))
        .execute(conn))?;
    let oldest_kept: Option<i64> = database::on_backend!(conn => e::account_events
        .filter(e::user_id.eq(user_id))
        .order(e::id.desc())
        .offset(KEPT_PER_ACCOUNT - 1)
        .select(e::id)
        .first(conn)
        .optional())?;
    database::on_backend!(conn => diesel::delete(
        e::account_events
            .filter(e::user_id.eq(user_id))
            .filter(e::id.lt(oldest_kept.unwrap_or(0)).or(e::at.lt(now - KEPT_FOR))),
    )
    .execute(conn))?;
    Ok(())
}

/// The account's events of the last [`KEPT_FOR`], newest first.
pub fn recent(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<Recorded>, DbError> {
    use account_events::dsl as e;
    Ok(database::on_backend!(conn => e::account_events
        .filter(e::user_id.eq(user_id))
        .filter(e::at.ge(now - KEPT_FOR))
        .order(e::id.desc())
        .limit(KEPT_PER_ACCOUNT)
        .select(Recorded::as_select())
        .load(conn))?)
}

/// Forgets who did what to a deleted account: its events keep what and when.
pub fn forget_clients(conn: &mut DbConnection, user_id: &str) -> Result<(), DbError> {
    use account_events::dsl as e;
    database::on_backend!(conn => diesel::update(e::account_events.filter(e::user_id.eq(user_id)))
        .set((
            e::user_agent.eq(None::<String>),
            e::ip.eq(None::<String>),
        ))
        .execute(conn))?;
    Ok(())
}
