//! SQLite's writes, committed in groups: one transaction and one fsync for every write waiting
//! when a commit starts, with each write in its own savepoint so that one that fails is undone
//! alone.

use crate::connection::DbConnection;
use crate::error::DbError;
use diesel::Connection;
use tokio::sync::oneshot;

/// A write waiting for its group: it runs inside the group's transaction and returns how to
/// answer once the commit is known (`Some` with why it failed, or `None`).
pub(crate) type Job = Box<dyn FnOnce(&mut DbConnection) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// Most writes in one transaction, so that a group's commit stays short.
const MAX_GROUP: usize = 64;

/// `f` as a job: its result goes to `answer` once the group's commit is known, and a write whose
/// group failed to commit is told so even when `f` itself succeeded.
pub(crate) fn job<T, F>(f: F, answer: oneshot::Sender<Result<T, DbError>>) -> Job
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    Box::new(move |conn| {
        // A savepoint: the group's transaction is already open.
        let result = conn.transaction(f);
        Box::new(move |commit_failure| {
            let _ = answer.send(match commit_failure {
                Some(failure) => Err(DbError::Unavailable(failure.to_owned())),
                None => result,
            });
        })
    })
}

/// The writes waiting for a commit.
#[derive(Default)]
pub(crate) struct WriteQueue {
    state: std::sync::Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    jobs: Vec<Job>,
    /// Whether a task is committing groups; it stops when it finds no write waiting.
    committing: bool,
}

impl WriteQueue {
    /// Adds a write; `true` when no task is committing, so the caller starts one.
    pub(crate) fn push(&self, job: Job) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.jobs.push(job);
        !std::mem::replace(&mut state.committing, true)
    }

    /// The next group, oldest first; `None` when no write is waiting, which ends the
    /// committing task's turn.
    pub(crate) fn next_group(&self) -> Option<Vec<Job>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.jobs.is_empty() {
            state.committing = false;
            return None;
        }
        let size = state.jobs.len().min(MAX_GROUP);
        Some(state.jobs.drain(..size).collect())
    }
}

/// Runs `group` in one transaction and answers each write once the commit is known.
pub(crate) fn commit(conn: &mut DbConnection, group: Vec<Job>) {
    let mut answers = Vec::with_capacity(group.len());
    let committed = conn.transaction::<_, DbError, _>(|conn| {
        answers.extend(group.into_iter().map(|job| job(conn)));
        Ok(())
    });
    let failure = committed.err().map(|e| e.to_string());
    for answer in answers {
        answer(failure.as_deref());
    }
}
