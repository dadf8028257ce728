//! The issuer's tables and queries: plain functions over a connection, called through
//! `database::run` (or `write`), which decides where each one runs, each on the backend's own
//! connection (`database::on_backend!`).

use chrono::NaiveDateTime;
use database::{DbConnection, DbError, Migrations};
use diesel::prelude::*;

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../migrations/issuer/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../migrations/issuer/postgres"),
};

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_user(conn: &mut DbConnection, user: &User) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::insert_into(users::table).values(user).execute(conn))?;
    Ok(())
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<User>, DbError> {
    Ok(database::on_backend!(conn => users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional())?)
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<User>, DbError> {
    Ok(database::on_backend!(conn => users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional())?)
}

pub fn update_password_hash(conn: &mut DbConnection, id: &str, hash: &str) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn))?;
    Ok(())
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key_pem -> Text,
        created_at -> Timestamp,
        activates_at -> Timestamp,
    }
}

/// A stored signing key. Its PEM is a private key: it never goes into a log.
#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub private_key_pem: String,
    pub created_at: NaiveDateTime,
    pub activates_at: NaiveDateTime,
}

/// The keys of one algorithm, in the order they take over signing.
pub fn signing_keys(
    conn: &mut DbConnection,
    algorithm: &str,
) -> Result<Vec<SigningKeyRow>, DbError> {
    Ok(database::on_backend!(conn => signing_keys::table
        .filter(signing_keys::algorithm.eq(algorithm))
        .order((signing_keys::activates_at, signing_keys::created_at))
        .select(SigningKeyRow::as_select())
        .load(conn))?)
}

pub fn insert_signing_key(conn: &mut DbConnection, row: &SigningKeyRow) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn))?;
    Ok(())
}

pub fn delete_signing_keys(conn: &mut DbConnection, kids: &[String]) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::delete(
        signing_keys::table.filter(signing_keys::kid.eq_any(kids))
    )
    .execute(conn))?;
    Ok(())
}

diesel::table! {
    signin_failures (email) {
        email -> Text,
        failures -> Integer,
        blocked_until -> Timestamp,
    }
}

/// Counts a sign-in attempt for `email` before its password is checked, unless the email must
/// still wait: then `Err` with when it may try again. Atomic across replicas: the count is one
/// upsert, which holds the row from the count to the commit, so a concurrent attempt sees the
/// wait this one set. `wait_after` gives the wait that `failures` consecutive failures earn.
pub fn count_attempt(
    conn: &mut DbConnection,
    email: &str,
    now: NaiveDateTime,
    wait_after: impl Fn(i32) -> Option<chrono::TimeDelta>,
) -> Result<Result<(), NaiveDateTime>, DbError> {
    // The `WHERE` of `ON CONFLICT DO UPDATE`, which `QueryDsl` does not offer.
    use diesel::query_dsl::methods::FilterDsl;
    use signin_failures::dsl as f;
    Ok(
        database::on_backend!(conn => conn.transaction::<_, diesel::result::Error, _>(|conn| {
            let never = chrono::DateTime::UNIX_EPOCH.naive_utc();
            let counted: Option<i32> = diesel::insert_into(f::signin_failures)
                .values((f::email.eq(email), f::failures.eq(1), f::blocked_until.eq(never)))
                .on_conflict(f::email)
                .do_update()
                .set(f::failures.eq(f::failures + 1))
                .filter(f::blocked_until.le(now))
                .returning(f::failures)
                .get_result(conn)
                .optional()?;
            let Some(failures) = counted else {
                // Not counted: the email is waiting, and the upsert holds its row.
                let until = f::signin_failures.find(email).select(f::blocked_until).first(conn)?;
                return Ok(Err(until));
            };
            if let Some(wait) = wait_after(failures) {
                diesel::update(f::signin_failures.find(email))
                    .set(f::blocked_until.eq(now + wait))
                    .execute(conn)?;
            }
            Ok(Ok(()))
        }))?,
    )
}

/// Forgets the failures of `email`: its password was just right.
pub fn clear_failures(conn: &mut DbConnection, email: &str) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::delete(signin_failures::table.find(email)).execute(conn))?;
    Ok(())
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    session_ends (seq) {
        seq -> BigInt,
        session_id -> Nullable<Text>,
        user_id -> Text,
        forget_after -> Timestamp,
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub user_agent: Option<String>,
}

/// One entry of the feed of ended sessions: a session's end, or (`session_id` empty) an
/// account's deletion.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = session_ends)]
pub struct SessionEnd {
    pub seq: i64,
    pub session_id: Option<String>,
    pub user_id: String,
    pub forget_after: NaiveDateTime,
}

/// Which of a user's sessions to end.
pub enum Ending<'a> {
    One(&'a str),
    AllBut(&'a str),
    All,
    These(&'a [String]),
}

/// Stores `session`, first ending the user's oldest live sessions so that at most `max_live`
/// remain with it, and forgetting the user's expired ones. Returns how many sessions it ended.
pub fn start_session(
    conn: &mut DbConnection,
    session: &Session,
    max_live: i64,
    linger: chrono::TimeDelta,
) -> Result<usize, DbError> {
    use sessions::dsl as s;
    conn.transaction(|conn| {
        database::on_backend!(conn => diesel::delete(
            s::sessions
                .filter(s::user_id.eq(&session.user_id))
                .filter(s::expires_at.le(session.created_at)),
        )
        .execute(conn))?;
        let oldest: Vec<String> = database::on_backend!(conn => s::sessions
            .filter(s::user_id.eq(&session.user_id))
            .order((s::created_at.desc(), s::id.desc()))
            .offset(max_live - 1)
            .select(s::id)
            .load(conn))?;
        // Only a sign-in that ends sessions takes the feed's lock.
        let ended = if oldest.is_empty() {
            0
        } else {
            end_sessions(conn, &session.user_id, Ending::These(&oldest), linger)?
        };
        database::on_backend!(conn => diesel::insert_into(s::sessions).values(session).execute(conn))?;
        Ok(ended)
    })
}

/// The live session `id` of `user_id`, if it is one.
pub fn live_session(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<Session>, DbError> {
    use sessions::dsl as s;
    Ok(database::on_backend!(conn => s::sessions
        .filter(s::id.eq(id))
        .filter(s::user_id.eq(user_id))
        .filter(s::expires_at.gt(now))
        .select(Session::as_select())
        .first(conn)
        .optional())?)
}

/// The user's live sessions, newest first.
pub fn live_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<Session>, DbError> {
    use sessions::dsl as s;
    Ok(database::on_backend!(conn => s::sessions
        .filter(s::user_id.eq(user_id))
        .filter(s::expires_at.gt(now))
        .order((s::created_at.desc(), s::id.desc()))
        .select(Session::as_select())
        .load(conn))?)
}

/// Ends the user's sessions that `ending` names, recording each end in the feed, to be
/// forgotten `linger` after the session would have expired. Returns how many there were.
pub fn end_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    ending: Ending<'_>,
    linger: chrono::TimeDelta,
) -> Result<usize, DbError> {
    use session_ends::dsl as e;
    use sessions::dsl as s;
    conn.transaction(|conn| {
        take_feed_turn(conn)?;
        let ended: Vec<(String, NaiveDateTime)> = database::on_backend!(conn => {
            let query = diesel::delete(s::sessions.filter(s::user_id.eq(user_id))).into_boxed();
            let query = match ending {
                Ending::One(id) => query.filter(s::id.eq(id)),
                Ending::AllBut(keep) => query.filter(s::id.ne(keep)),
                Ending::All => query,
                Ending::These(ids) => query.filter(s::id.eq_any(ids)),
            };
            query.returning((s::id, s::expires_at)).get_results(conn)
        })?;
        let rows: Vec<_> = ended
            .iter()
            .map(|(id, expires_at)| {
                (
                    e::session_id.eq(Some(id.as_str())),
                    e::user_id.eq(user_id),
                    e::forget_after.eq(*expires_at + linger),
                )
            })
            .collect();
        if !rows.is_empty() {
            database::on_backend!(conn => diesel::insert_into(e::session_ends).values(&rows).execute(conn))?;
        }
        Ok(ended.len())
    })
}

/// Deletes the account with every session it has, and records its deletion in the feed, kept
/// for good.
pub fn delete_user(
    conn: &mut DbConnection,
    user_id: &str,
    linger: chrono::TimeDelta,
) -> Result<(), DbError> {
    use session_ends::dsl as e;
    conn.transaction(|conn| {
        end_sessions(conn, user_id, Ending::All, linger)?;
        let forever = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .expect("a valid date");
        database::on_backend!(conn => diesel::insert_into(e::session_ends)
            .values((e::user_id.eq(user_id), e::forget_after.eq(forever)))
            .execute(conn))?;
        database::on_backend!(conn => diesel::delete(users::table.find(user_id)).execute(conn))?;
        Ok(())
    })
}

/// Makes this transaction the feed's only writer until it commits, so that `seq` order is commit
/// order: a reader that has seen `seq` n never meets a smaller one committed after. (SQLite has
/// one writer anyway.) And forgets, as new ends come, what no verifier needs any more.
fn take_feed_turn(conn: &mut DbConnection) -> Result<(), DbError> {
    use session_ends::dsl as e;
    if let DbConnection::Postgresql(conn) = conn {
        diesel::sql_query("LOCK TABLE session_ends IN SHARE ROW EXCLUSIVE MODE").execute(conn)?;
    }
    database::on_backend!(conn => diesel::delete(
        e::session_ends.filter(e::forget_after.le(database::now())),
    )
    .execute(conn))?;
    Ok(())
}

/// The feed after `after`, oldest first, at most `limit` entries, leaving out session ends
/// whose tokens have all expired.
pub fn session_ends_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<SessionEnd>, DbError> {
    use session_ends::dsl as e;
    Ok(database::on_backend!(conn => e::session_ends
        .filter(e::seq.gt(after))
        .filter(e::forget_after.gt(now))
        .order(e::seq)
        .limit(limit)
        .select(SessionEnd::as_select())
        .load(conn))?)
}
