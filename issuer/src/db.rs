//! The issuer's tables and queries: plain functions over a connection, called through
//! `database::run` (or `write`), which decides where each one runs, each on the backend's own
//! connection (`database::on_backend!`).

use crate::activity::{self, Client, Event};
use crate::links::{self, ALLOWANCE_WINDOW, Link, MAILS_PER_WINDOW, Purpose};
use crate::outbox;
use chrono::NaiveDateTime;
use database::{DbConnection, DbError, Migrations};
use diesel::prelude::*;
use mail::Outgoing;

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
        password_version -> Integer,
        email_verified -> Bool,
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
    /// Raised by every change of the password: what a session, a password change or a deletion
    /// checks is still the password that was verified for it.
    pub password_version: i32,
    /// Whether its owner has followed a link mailed to the address.
    pub email_verified: bool,
}

/// Inserts `user` unless an account has its email: `false` then, and nothing is written. With
/// it, `verification`: the link that verifies the address and the message that carries it, unless
/// the address's allowance of links is spent.
pub fn insert_user(
    conn: &mut DbConnection,
    user: &User,
    verification: Option<(&Link, &Outgoing)>,
) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        let inserted = database::on_backend!(conn => diesel::insert_into(users::table)
            .values(user)
            .on_conflict(users::email)
            .do_nothing()
            .execute(conn))?;
        if inserted == 1
            && let Some((link, message)) = verification
            && take_allowance(conn, &link.email, database::now())?.is_ok()
        {
            store_link(conn, link, message)?;
        }
        Ok(inserted == 1)
    })
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

/// Stores a stronger hash of the same password, unless the password has changed since
/// `password_version` was read: a new password's hash is never overwritten by the old one's.
pub fn upgrade_password_hash(
    conn: &mut DbConnection,
    id: &str,
    hash: &str,
    password_version: i32,
) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::update(
        users::table
            .find(id)
            .filter(users::password_version.eq(password_version)),
    )
    .set(users::password_hash.eq(hash))
    .execute(conn))?;
    Ok(())
}

/// What a password was checked for that had changed by the time it would have committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// The account was deleted.
    Account,
    /// The password was changed: the one checked is no longer the account's.
    Password,
    /// The session that asked has ended.
    Session,
}

/// Takes the user's row until the transaction ends, and returns its password's version, or
/// `None` when the account is gone. Every transaction that starts or ends a user's sessions or
/// changes their password takes the row first, so that on PostgreSQL they run one after another
/// for each user: its default isolation would let two of them read the same state and both act
/// on it. SQLite has one writer at a time, and a transaction whose reads another writer has
/// changed since fails when it writes, rather than writing on stale reads.
fn lock_user(conn: &mut DbConnection, user_id: &str) -> Result<Option<i32>, DbError> {
    let query = users::table.find(user_id).select(users::password_version);
    Ok(match conn {
        DbConnection::Postgresql(conn) => query.for_no_key_update().first(conn).optional()?,
        DbConnection::Sqlite(conn) => query.first(conn).optional()?,
    })
}

/// [`lock_user`], checking that the account's password is still the one verified at
/// `password_version`.
fn lock_unchanged(
    conn: &mut DbConnection,
    user_id: &str,
    password_version: i32,
) -> Result<Result<(), Changed>, DbError> {
    Ok(match lock_user(conn, user_id)? {
        None => Err(Changed::Account),
        Some(current) if current != password_version => Err(Changed::Password),
        Some(_) => Ok(()),
    })
}

/// [`lock_unchanged`], for an action of the signed-in: the session `asking` must be live too.
fn lock_for_session(
    conn: &mut DbConnection,
    user_id: &str,
    asking: &str,
    password_version: i32,
) -> Result<Result<(), Changed>, DbError> {
    if let Err(changed) = lock_unchanged(conn, user_id, password_version)? {
        return Ok(Err(changed));
    }
    Ok(live_session(conn, user_id, asking, database::now())?
        .map(|_| ())
        .ok_or(Changed::Session))
}

/// Sets a new password, checked against the one verified at `password_version`, and ends every
/// session of the user but `keep`, which must still be live: all or nothing.
pub fn change_password(
    conn: &mut DbConnection,
    user_id: &str,
    keep: &str,
    hash: &str,
    password_version: i32,
    linger: chrono::TimeDelta,
    notice: Option<&Outgoing>,
) -> Result<Result<(), Changed>, DbError> {
    conn.transaction(|conn| {
        if let Err(changed) = lock_for_session(conn, user_id, keep, password_version)? {
            return Ok(Err(changed));
        }
        database::on_backend!(conn => diesel::update(users::table.find(user_id))
            .set((
                users::password_hash.eq(hash),
                users::password_version.eq(password_version + 1),
            ))
            .execute(conn))?;
        end_sessions(conn, user_id, Ending::AllBut(keep), linger)?;
        delete_links(conn, user_id, PASSWORD_LINKS)?;
        if let Some(notice) = notice {
            outbox::enqueue(conn, notice)?;
        }
        Ok(Ok(()))
    })
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

/// Stores `session` for a password verified at `password_version`, first ending the user's
/// oldest live sessions so that at most `max_live` remain with it, and forgetting the user's
/// expired ones. Returns how many sessions it ended; or, when the account has gone or its
/// password changed since it was verified, what changed, and stores nothing.
pub fn start_session(
    conn: &mut DbConnection,
    session: &Session,
    password_version: i32,
    max_live: i64,
    linger: chrono::TimeDelta,
) -> Result<Result<usize, Changed>, DbError> {
    use sessions::dsl as s;
    conn.transaction(|conn| {
        if let Err(changed) = lock_unchanged(conn, &session.user_id, password_version)? {
            return Ok(Err(changed));
        }
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
        Ok(Ok(ended))
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
        // Taken for its order, not to check anything: the sessions end whatever the account.
        lock_user(conn, user_id)?;
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

/// Deletes the account, asked by its session `asking` with a password verified at
/// `password_version`, with every session it has and its failed sign-ins; and records the
/// deletion in the feed, kept for good, its `forget_after` being when the account's last token
/// expires (and a verifier may stop refusing them). All or nothing: when the account, its
/// password or the asking session changed since the password was checked, nothing is deleted.
pub fn delete_user(
    conn: &mut DbConnection,
    user_id: &str,
    asking: &str,
    password_version: i32,
    linger: chrono::TimeDelta,
    notice: Option<&Outgoing>,
) -> Result<Result<(), Changed>, DbError> {
    use session_ends::dsl as e;
    use sessions::dsl as s;
    conn.transaction(|conn| {
        if let Err(changed) = lock_for_session(conn, user_id, asking, password_version)? {
            return Ok(Err(changed));
        }
        let last_expiry: Option<NaiveDateTime> = database::on_backend!(conn => s::sessions
            .filter(s::user_id.eq(user_id))
            .select(diesel::dsl::max(s::expires_at))
            .first(conn))?;
        end_sessions(conn, user_id, Ending::All, linger)?;
        let forget_after = last_expiry.unwrap_or_else(database::now) + linger;
        database::on_backend!(conn => diesel::insert_into(e::session_ends)
            .values((e::user_id.eq(user_id), e::forget_after.eq(forget_after)))
            .execute(conn))?;
        let email: String = database::on_backend!(conn => users::table
            .find(user_id)
            .select(users::email)
            .first(conn))?;
        database::on_backend!(conn => diesel::delete(signin_failures::table.find(&email)).execute(conn))?;
        delete_links(conn, user_id, ALL_LINKS)?;
        activity::forget_clients(conn, user_id)?;
        activity::insert(
            conn,
            user_id,
            Event::AccountDeleted,
            &Client::default(),
            database::now(),
        )?;
        database::on_backend!(conn => diesel::delete(users::table.find(user_id)).execute(conn))?;
        if let Some(notice) = notice {
            outbox::enqueue(conn, notice)?;
        }
        Ok(Ok(()))
    })
}

/// Makes this transaction the feed's only writer until it commits, so that `seq` order is commit
/// order: a reader that has seen `seq` n never meets a smaller one committed after. (SQLite has
/// one writer anyway.) And forgets, as new ends come, the sessions whose tokens have all
/// expired; an account's deletion stays, for a tasks-api that has still to delete its tasks.
fn take_feed_turn(conn: &mut DbConnection) -> Result<(), DbError> {
    use session_ends::dsl as e;
    if let DbConnection::Postgresql(conn) = conn {
        diesel::sql_query("LOCK TABLE session_ends IN SHARE ROW EXCLUSIVE MODE").execute(conn)?;
    }
    database::on_backend!(conn => diesel::delete(
        e::session_ends
            .filter(e::forget_after.le(database::now()))
            .filter(e::session_id.is_not_null()),
    )
    .execute(conn))?;
    Ok(())
}

/// The feed after `after`, oldest first, at most `limit` entries, leaving out session ends
/// whose tokens have all expired (but no account's deletion).
pub fn session_ends_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<SessionEnd>, DbError> {
    use session_ends::dsl as e;
    Ok(database::on_backend!(conn => e::session_ends
        .filter(e::seq.gt(after))
        .filter(e::forget_after.gt(now).or(e::session_id.is_null()))
        .order(e::seq)
        .limit(limit)
        .select(SessionEnd::as_select())
        .load(conn))?)
}

/// Records `event` in the activity of account `user_id`, unless the account is gone: taking its
/// row first, so that no event with a client's details lands after the account's deletion.
pub fn record_event(
    conn: &mut DbConnection,
    user_id: &str,
    event: Event,
    client: &Client,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        if lock_user(conn, user_id)?.is_some() {
            activity::insert(conn, user_id, event, client, database::now())?;
        }
        Ok(())
    })
}

/// Why a link was not mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotMailed {
    /// What a password was checked for changed before the commit.
    Changed(Changed),
    /// The address the link was for is no longer the account's.
    AddressChanged,
    /// A new address that another account has.
    EmailTaken,
    /// The address's allowance of links is spent until then.
    Throttled(NaiveDateTime),
}

/// Mails `link` in `message`, and `notice` with it, replacing the account's earlier links of the
/// same purpose. A link to verify the address or reset the password is for the account's address
/// as it is at the commit; a link to change it, for an address no account has. When the request
/// checked a password, `checked` holds the asking session and the password's version, which must
/// be unchanged too.
pub fn mail_link(
    conn: &mut DbConnection,
    link: &Link,
    message: &Outgoing,
    notice: Option<&Outgoing>,
    checked: Option<(&str, i32)>,
) -> Result<Result<(), NotMailed>, DbError> {
    conn.transaction(|conn| {
        let locked = match checked {
            Some((asking, version)) => lock_for_session(conn, &link.user_id, asking, version)?,
            None => lock_user(conn, &link.user_id)?
                .map(|_| ())
                .ok_or(Changed::Account),
        };
        if let Err(changed) = locked {
            return Ok(Err(NotMailed::Changed(changed)));
        }
        let purpose = link
            .purpose()
            .expect("a link made here has a known purpose");
        if purpose == Purpose::ChangeEmail {
            if find_by_email(conn, &link.email)?.is_some() {
                return Ok(Err(NotMailed::EmailTaken));
            }
        } else if account_email(conn, &link.user_id)? != link.email {
            return Ok(Err(NotMailed::AddressChanged));
        }
        if let Err(until) = take_allowance(conn, &link.email, database::now())? {
            return Ok(Err(NotMailed::Throttled(until)));
        }
        delete_links(conn, &link.user_id, &[purpose])?;
        store_link(conn, link, message)?;
        if let Some(notice) = notice {
            outbox::enqueue(conn, notice)?;
        }
        Ok(Ok(()))
    })
}

/// The live link whose secret hashes to `secret_hash`, if there is one.
pub fn live_link(
    conn: &mut DbConnection,
    secret_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<Link>, DbError> {
    use links::account_links::dsl as l;
    Ok(database::on_backend!(conn => l::account_links
        .find(secret_hash)
        .filter(l::expires_at.gt(now))
        .select(Link::as_select())
        .first(conn)
        .optional())?)
}

/// A link that cannot be used: unknown, used, expired, or for something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unusable;

/// Sets the password of the account whose reset link's secret hashes to `secret_hash`, using the
/// link up: every session of the account ends, every reset link goes, the failed sign-ins are
/// forgotten, and the address counts as verified (the link reached its owner there). `notice`
/// composes the message that tells the account's owner.
pub fn reset_password(
    conn: &mut DbConnection,
    secret_hash: &str,
    hash: &str,
    linger: chrono::TimeDelta,
    notice: impl FnOnce(&User) -> Option<Outgoing>,
) -> Result<Result<String, Unusable>, DbError> {
    conn.transaction(|conn| {
        let Some((_, user)) = use_link(conn, secret_hash, &[Purpose::ResetPassword])? else {
            return Ok(Err(Unusable));
        };
        database::on_backend!(conn => diesel::update(users::table.find(&user.id))
            .set((
                users::password_hash.eq(hash),
                users::password_version.eq(user.password_version + 1),
                users::email_verified.eq(true),
            ))
            .execute(conn))?;
        end_sessions(conn, &user.id, Ending::All, linger)?;
        delete_links(conn, &user.id, PASSWORD_LINKS)?;
        clear_failures(conn, &user.email)?;
        if let Some(notice) = notice(&user) {
            outbox::enqueue(conn, &notice)?;
        }
        Ok(Ok(user.id))
    })
}

/// What following a verification link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The account's address is verified.
    Email,
    /// The account's address is now the one the link was mailed to, verified.
    NewEmail,
}

/// Why a verification link did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotVerified {
    Unusable,
    /// The new address is another account's by now.
    EmailTaken,
}

/// Uses the verification or email-change link whose secret hashes to `secret_hash`, and says
/// what it did to which account. A change also ends the account's other links: they were mailed
/// to the old address.
pub fn verify_email(
    conn: &mut DbConnection,
    secret_hash: &str,
) -> Result<Result<(Verified, String), NotVerified>, DbError> {
    conn.transaction(|conn| {
        let Some((link, user)) = use_link(
            conn,
            secret_hash,
            &[Purpose::VerifyEmail, Purpose::ChangeEmail],
        )?
        else {
            return Ok(Err(NotVerified::Unusable));
        };
        if link.purpose() == Some(Purpose::VerifyEmail) {
            if link.email != user.email {
                return Ok(Err(NotVerified::Unusable));
            }
            database::on_backend!(conn => diesel::update(users::table.find(&user.id))
                .set(users::email_verified.eq(true))
                .execute(conn))?;
            return Ok(Ok((Verified::Email, user.id)));
        }
        // In a savepoint of its own: an address another account took meanwhile fails only it.
        let changed = conn.transaction(|conn| {
            Ok::<_, DbError>(
                database::on_backend!(conn => diesel::update(users::table.find(&user.id))
                .set((users::email.eq(&link.email), users::email_verified.eq(true)))
                .execute(conn))?,
            )
        });
        match changed {
            Err(e) if e.is_unique_violation() => return Ok(Err(NotVerified::EmailTaken)),
            other => other?,
        };
        delete_links(conn, &user.id, ALL_LINKS)?;
        Ok(Ok((Verified::NewEmail, user.id)))
    })
}

/// Takes the live link whose secret hashes to `secret_hash`, if it is for one of `purposes`, and
/// its account, and deletes the link: of two requests that race with one link, one has it. The
/// account's row is taken before the link, as every change of an account takes it first.
fn use_link(
    conn: &mut DbConnection,
    secret_hash: &str,
    purposes: &[Purpose],
) -> Result<Option<(Link, User)>, DbError> {
    use links::account_links::dsl as l;
    let now = database::now();
    let Some(link) = live_link(conn, secret_hash, now)? else {
        return Ok(None);
    };
    if !link.purpose().is_some_and(|p| purposes.contains(&p))
        || lock_user(conn, &link.user_id)?.is_none()
    {
        return Ok(None);
    }
    let used = database::on_backend!(conn => diesel::delete(
        l::account_links
            .find(secret_hash)
            .filter(l::expires_at.gt(now)),
    )
    .execute(conn))?;
    if used == 0 {
        return Ok(None);
    }
    Ok(find_by_id(conn, &link.user_id)?.map(|user| (link, user)))
}

fn account_email(conn: &mut DbConnection, user_id: &str) -> Result<String, DbError> {
    Ok(database::on_backend!(conn => users::table
        .find(user_id)
        .select(users::email)
        .first(conn))?)
}

fn store_link(conn: &mut DbConnection, link: &Link, message: &Outgoing) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::insert_into(links::account_links::table)
        .values(link)
        .execute(conn))?;
    outbox::enqueue(conn, message)
}

const ALL_LINKS: &[Purpose] = &[
    Purpose::VerifyEmail,
    Purpose::ChangeEmail,
    Purpose::ResetPassword,
];
/// The links a new password makes useless: what someone who knew the old one, or read the
/// mailbox, may have asked for.
const PASSWORD_LINKS: &[Purpose] = &[Purpose::ChangeEmail, Purpose::ResetPassword];

/// Deletes the account's links for `purposes`.
fn delete_links(
    conn: &mut DbConnection,
    user_id: &str,
    purposes: &[Purpose],
) -> Result<(), DbError> {
    use links::account_links::dsl as l;
    let purposes: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
    database::on_backend!(conn => diesel::delete(
        l::account_links
            .filter(l::user_id.eq(user_id))
            .filter(l::purpose.eq_any(&purposes)),
    )
    .execute(conn))?;
    Ok(())
}

/// Counts a link mailed to `email` against the address's allowance: `Err` with the end of the
/// window when it is spent. Windows that have passed are forgotten first, this one's too. Safe
/// under concurrent requests: the count is one conditional update, which holds the row to the
/// commit.
fn take_allowance(
    conn: &mut DbConnection,
    email: &str,
    now: NaiveDateTime,
) -> Result<Result<(), NaiveDateTime>, DbError> {
    use links::mail_allowance::dsl as a;
    database::on_backend!(conn => diesel::delete(
        a::mail_allowance.filter(a::window_started_at.le(now - ALLOWANCE_WINDOW)),
    )
    .execute(conn))?;
    database::on_backend!(conn => diesel::insert_into(a::mail_allowance)
        .values((a::email.eq(email), a::window_started_at.eq(now), a::sent.eq(0)))
        .on_conflict(a::email)
        .do_nothing()
        .execute(conn))?;
    let counted = database::on_backend!(conn => diesel::update(
        a::mail_allowance
            .find(email)
            .filter(a::sent.lt(MAILS_PER_WINDOW)),
    )
    .set(a::sent.eq(a::sent + 1))
    .execute(conn))?;
    if counted == 1 {
        return Ok(Ok(()));
    }
    let started: NaiveDateTime = database::on_backend!(conn => a::mail_allowance
        .find(email)
        .select(a::window_started_at)
        .first(conn))?;
    Ok(Err(started + ALLOWANCE_WINDOW))
}
