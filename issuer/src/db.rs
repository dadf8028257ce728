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
/// still wait: then `Err` with when it may try again. Atomic across replicas: the row is
/// locked from the count to the commit, so a concurrent attempt sees the wait this one set.
/// `wait_after` gives the wait that `failures` consecutive failures earn.
pub fn count_attempt(
    conn: &mut DbConnection,
    email: &str,
    now: NaiveDateTime,
    wait_after: impl Fn(i32) -> Option<chrono::TimeDelta>,
) -> Result<Result<(), NaiveDateTime>, DbError> {
    use signin_failures::dsl as f;
    Ok(
        database::on_backend!(conn => conn.transaction::<_, diesel::result::Error, _>(|conn| {
            // Free to try from the start: not `now`, which a concurrent attempt that read the
            // clock a moment earlier would take for a wait.
            let never = chrono::DateTime::UNIX_EPOCH.naive_utc();
            diesel::insert_into(f::signin_failures)
                .values((f::email.eq(email), f::failures.eq(0), f::blocked_until.eq(never)))
                .on_conflict_do_nothing()
                .execute(conn)?;
            let counted: Option<i32> = diesel::update(
                f::signin_failures.filter(f::email.eq(email)).filter(f::blocked_until.le(now)),
            )
            .set(f::failures.eq(f::failures + 1))
            .returning(f::failures)
            .get_result(conn)
            .optional()?;
            match counted {
                None => Ok(Err(f::signin_failures
                    .find(email)
                    .select(f::blocked_until)
                    .first(conn)?)),
                Some(failures) => {
                    if let Some(wait) = wait_after(failures) {
                        diesel::update(f::signin_failures.find(email))
                            .set(f::blocked_until.eq(now + wait))
                            .execute(conn)?;
                    }
                    Ok(Ok(()))
                }
            }
        }))?,
    )
}

/// Forgets the failures of `email`: its password was just right.
pub fn clear_failures(conn: &mut DbConnection, email: &str) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::delete(signin_failures::table.find(email)).execute(conn))?;
    Ok(())
}
