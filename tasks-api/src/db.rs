//! tasks-api's table and queries: plain functions over a connection, called through
//! `database::run` (or `write`), which decides where each one runs. Each query runs
//! on the backend's own connection (`database::on_backend!`), so that a cached statement is only
//! bound, not written out again. Every query takes the verified [`Owner`] and is scoped by its
//! id, so another user's task is simply not found, and a row is read without its `user_id`: the
//! caller already holds it.

use crate::auth::Owner;
use crate::domain::{ListFilter, NewTask, TaskChanges, TaskId};
use crate::error::AccountDeleted;
use chrono::NaiveDateTime;
use database::{DbConnection, DbError, Migrations, Timestamp};
use diesel::prelude::*;
use shared::session_feed::FeedEntry;

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../migrations/tasks/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../migrations/tasks/postgres"),
};

diesel::table! {
    tasks (id) {
        id -> BigInt,
        user_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        completed -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// `version` is set by triggers on every change to a user's tasks, to a random number, so
    /// that it names one state of the list even after a restore from a backup (see the
    /// migrations).
    task_lists (user_id) {
        user_id -> Text,
        version -> BigInt,
        /// Set, for good, when the user's account deletion is applied: writes are refused.
        deleted -> Bool,
    }
}

/// A task as read back: every column but `user_id`, which the query was scoped by.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = tasks)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Insertable)]
#[diesel(table_name = tasks)]
struct NewRow {
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = tasks)]
struct Changes {
    title: Option<String>,
    description: Option<Option<String>>,
    completed: Option<bool>,
    updated_at: NaiveDateTime,
}

/// What a write gives: its result, or its refusal for a deleted account.
pub type Written<T> = Result<Result<T, AccountDeleted>, DbError>;

/// Runs `write` for `owner` in the caller's transaction, unless the account's deletion has been
/// applied. On PostgreSQL, whose default isolation alone would let a write land after the
/// deletion's `DELETE` has looked, every write first takes the owner's row in `task_lists`, and
/// so does a deletion: a write and a deletion that overlap run one after the other, the write
/// first (its task goes with the rest) or the deletion first (the write is refused). SQLite has
/// one writer at a time, so there a read of the row is enough: taking the row there too cost
/// nearly a fifth of the creates per second, the read 3% (docs/races.md).
fn for_live_account<T>(
    conn: &mut DbConnection,
    owner: &Owner,
    write: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Written<T> {
    use task_lists::dsl as l;
    let deleted = match conn {
        DbConnection::Sqlite(conn) => l::task_lists
            .find(owner.user_id())
            .select(l::deleted)
            .first(conn)
            .optional()?
            .unwrap_or(false),
        // A user with no row yet gets one at version 0, which is what a list without one reads
        // as; the update changes nothing, but holds the row until the transaction ends.
        DbConnection::Postgresql(conn) => diesel::insert_into(l::task_lists)
            .values((l::user_id.eq(owner.user_id()), l::version.eq(0)))
            .on_conflict(l::user_id)
            .do_update()
            .set(l::deleted.eq(l::deleted))
            .returning(l::deleted)
            .get_result(conn)?,
    };
    if deleted {
        return Ok(Err(AccountDeleted));
    }
    write(conn).map(Ok)
}

pub fn insert(conn: &mut DbConnection, owner: &Owner, task: NewTask) -> Written<Task> {
    for_live_account(conn, owner, |conn| insert_row(conn, owner, task))
}

fn insert_row(conn: &mut DbConnection, owner: &Owner, task: NewTask) -> Result<Task, DbError> {
    let now = database::now();
    let row = NewRow {
        user_id: owner.user_id().to_owned(),
        title: task.title.into_inner(),
        description: task.description.map(|d| d.into_inner()),
        completed: false,
        created_at: now,
        updated_at: now,
    };
    Ok(
        database::on_backend!(conn => diesel::insert_into(tasks::table)
        .values(row)
        .returning(Task::as_returning())
        .get_result(conn))?,
    )
}

/// One page of a user's tasks, oldest first, and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    owner: &Owner,
    filter: &ListFilter,
) -> Result<(Vec<Task>, i64), DbError> {
    // One statement per filter shape, each with a fixed type, so that the connection's cache
    // keeps it prepared; a boxed query would be rebuilt as SQL text on every request. Without a
    // filter the count is answered from the (user_id, id) index alone, where a single shape with
    // `completed = $2 OR $2 IS NULL` would make every count read every row.
    macro_rules! page_and_total {
        ($conn:ident, $matching:expr) => {{
            let page = tasks::table
                .filter($matching)
                .order(tasks::id.asc())
                .limit(filter.limit)
                .offset(filter.offset)
                .select(Task::as_select())
                .load($conn)?;
            // A first page that is not full holds every match: no need to count them again.
            let fetched = page.len() as i64;
            let total = if filter.offset == 0 && fetched < filter.limit {
                fetched
            } else {
                tasks::table.filter($matching).count().get_result($conn)?
            };
            Ok((page, total))
        }};
    }
    let mine = tasks::user_id.eq(owner.user_id());
    database::on_backend!(conn => match filter.completed {
        None => page_and_total!(conn, mine),
        Some(completed) => page_and_total!(conn, mine.and(tasks::completed.eq(completed))),
    })
}

/// The version of the owner's list: a random number that changes with every change to their
/// tasks, and 0 for a user who has never had one.
pub fn list_version(conn: &mut DbConnection, owner: &Owner) -> Result<i64, DbError> {
    let version = database::on_backend!(conn => task_lists::table
        .find(owner.user_id())
        .select(task_lists::version)
        .first(conn)
        .optional())?;
    Ok(version.unwrap_or(0))
}

pub fn get(conn: &mut DbConnection, owner: &Owner, id: TaskId) -> Result<Task, DbError> {
    Ok(database::on_backend!(conn => tasks::table
        .filter(tasks::id.eq(id.0).and(tasks::user_id.eq(owner.user_id())))
        .select(Task::as_select())
        .first(conn))?)
}

pub fn update(
    conn: &mut DbConnection,
    owner: &Owner,
    id: TaskId,
    changes: TaskChanges,
) -> Written<Task> {
    for_live_account(conn, owner, |conn| update_row(conn, owner, id, changes))
}

fn update_row(
    conn: &mut DbConnection,
    owner: &Owner,
    id: TaskId,
    changes: TaskChanges,
) -> Result<Task, DbError> {
    if changes.is_empty() {
        return get(conn, owner, id);
    }
    let changes = Changes {
        title: changes.title.map(|t| t.into_inner()),
        description: changes.description.map(|d| d.map(|d| d.into_inner())),
        completed: changes.completed,
        updated_at: database::now(),
    };
    Ok(database::on_backend!(conn => diesel::update(
        tasks::table.filter(tasks::id.eq(id.0).and(tasks::user_id.eq(owner.user_id())))
    )
    .set(changes)
    .returning(Task::as_returning())
    .get_result(conn))?)
}

pub fn toggle(conn: &mut DbConnection, owner: &Owner, id: TaskId) -> Written<Task> {
    for_live_account(conn, owner, |conn| {
        let now = database::now();
        Ok(database::on_backend!(conn => diesel::update(
            tasks::table.filter(tasks::id.eq(id.0).and(tasks::user_id.eq(owner.user_id())))
        )
        .set((
            tasks::completed.eq(diesel::dsl::not(tasks::completed)),
            tasks::updated_at.eq(now),
        ))
        .returning(Task::as_returning())
        .get_result(conn))?)
    })
}

/// Whether a task was deleted (false: there was no such task of this user).
pub fn delete(conn: &mut DbConnection, owner: &Owner, id: TaskId) -> Written<bool> {
    for_live_account(conn, owner, |conn| {
        let deleted = database::on_backend!(conn => diesel::delete(
            tasks::table.filter(tasks::id.eq(id.0).and(tasks::user_id.eq(owner.user_id())))
        )
        .execute(conn))?;
        Ok(deleted == 1)
    })
}

diesel::table! {
    /// The last `seq` of the issuer's feed whose deleted account's tasks are gone.
    deletions_applied (id) {
        id -> Integer,
        seq -> BigInt,
    }
}

/// An account the issuer deleted, as its feed said: made only from a feed entry, and taken only
/// by [`apply_deletions`].
pub struct DeletedAccount {
    seq: i64,
    user_id: String,
}

impl DeletedAccount {
    /// The deletion `entry` records, if it records one (an entry without a session).
    pub(crate) fn from_feed(entry: &FeedEntry) -> Option<Self> {
        entry.session_id.is_none().then(|| Self {
            seq: entry.seq,
            user_id: entry.user_id.clone(),
        })
    }

    pub fn seq(&self) -> i64 {
        self.seq
    }

    pub fn user_id(&self) -> &str {
        &self.user_id
    }
}

/// Marks the list of each account in `deleted` not applied yet, so that no write for it
/// succeeds from then on, deletes its tasks, and records how far the feed is applied, in one
/// transaction: whichever replica gets there first does it, and a restart in the middle leaves it
/// either done or still to do. The mark comes first: it waits for the writes that hold the list
/// to commit, and the `DELETE` after it sees their tasks.
pub fn apply_deletions(conn: &mut DbConnection, deleted: &[DeletedAccount]) -> Result<(), DbError> {
    use deletions_applied::dsl as applied;
    use task_lists::dsl as l;
    conn.transaction(|conn| {
        let done: i64 = database::on_backend!(conn => applied::deletions_applied
            .find(1)
            .select(applied::seq)
            .first(conn))?;
        for account in deleted.iter().filter(|account| account.seq() > done) {
            database::on_backend!(conn => diesel::insert_into(l::task_lists)
                .values((
                    l::user_id.eq(account.user_id()),
                    l::version.eq(0),
                    l::deleted.eq(true),
                ))
                .on_conflict(l::user_id)
                .do_update()
                .set(l::deleted.eq(true))
                .execute(conn))?;
            database::on_backend!(conn => diesel::delete(
                tasks::table.filter(tasks::user_id.eq(account.user_id())),
            )
            .execute(conn))?;
        }
        let last = deleted
            .iter()
            .map(DeletedAccount::seq)
            .max()
            .unwrap_or(done);
        database::on_backend!(conn => diesel::update(applied::deletions_applied.find(1))
            .set(applied::seq.eq(last.max(done)))
            .execute(conn))?;
        Ok(())
    })
}
