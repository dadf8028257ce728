//! What tasks-api knows of the sessions that have ended, learnt from the issuer's feed
//! (`GET /internal/session-ends`) without reading the issuer's database. The feed's follower
//! reads it every second and hands each page to [`EndedSessions`]; the auth middleware asks
//! [`EndedSessions::check`] of every token.
//!
//! A session is remembered until no token of it can be accepted any more (`forget_after`), and so
//! is a deleted account, whose every token is refused, whatever its session: the memory is
//! bounded by the sessions that end and the accounts deleted within one token lifetime. An
//! account's deletion deletes its tasks, and bars any later write, before the feed is read past
//! it (`db::apply_deletions`). When the feed has not been read for longer than the staleness
//! bound, a token whose session is not known to have ended gets 503 rather than 401 or a pass:
//! tasks-api cannot tell.

use prometheus_client::metrics::counter::Counter;
use shared::session_feed::FeedPage;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How often expired sessions are forgotten, in seconds: one is remembered for at most this
/// long after its tokens expire.
const FORGET_EVERY: i64 = 60;

/// Why a token's session is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The session ended.
    Ended,
    /// The account was deleted.
    AccountDeleted,
    /// The token names no session, and tasks-api checks sessions.
    NoSession,
    /// The feed has not been read for too long (or not yet): try again after this many seconds.
    Unknown { retry_after: u32 },
}

#[derive(Default)]
struct State {
    /// Ended sessions, each with when it may be forgotten (seconds since the epoch).
    ended: HashMap<String, i64>,
    /// Deleted accounts' ids, each with when it may be forgotten.
    deleted: HashMap<String, i64>,
    /// The last `seq` read.
    cursor: i64,
    /// When the feed was last read to its end.
    read_at: Option<Instant>,
    /// When expired sessions were last forgotten (seconds since the epoch).
    forgotten_at: i64,
}

pub struct EndedSessions {
    state: RwLock<State>,
    max_staleness: Duration,
    started: Instant,
    /// Reads of the feed that failed, for the metrics.
    pub read_failures: Counter,
}

impl EndedSessions {
    pub fn new(max_staleness: Duration) -> Self {
        Self {
            state: RwLock::default(),
            max_staleness,
            started: Instant::now(),
            read_failures: Counter::default(),
        }
    }

    /// The time since the feed was last read to its end (since this was made, if never).
    pub fn age(&self) -> Duration {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state.read_at.unwrap_or(self.started).elapsed()
    }

    /// Whether a token of `session`, for the account `subject`, may be served now.
    pub fn check(&self, session: Option<&str>, subject: &str) -> Result<(), Refusal> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        if state.deleted.contains_key(subject) {
            return Err(Refusal::AccountDeleted);
        }
        let session = session.ok_or(Refusal::NoSession)?;
        if state.ended.contains_key(session) {
            return Err(Refusal::Ended);
        }
        if self.fresh(&state) {
            Ok(())
        } else {
            Err(Refusal::Unknown { retry_after: 1 })
        }
    }

    /// Whether the feed has been read lately enough for a live session's token to be served.
    pub fn is_fresh(&self) -> bool {
        self.fresh(&self.state.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn fresh(&self, state: &State) -> bool {
        state
            .read_at
            .is_some_and(|read_at| read_at.elapsed() <= self.max_staleness)
    }

    /// How many ended sessions are remembered.
    pub fn remembered(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .ended
            .len()
    }

    pub(crate) fn cursor(&self) -> i64 {
        self.state.read().unwrap_or_else(|e| e.into_inner()).cursor
    }

    /// Takes in one page of the feed, and forgets what has expired (at most once a
    /// [`FORGET_EVERY`], since it walks every remembered session).
    pub(crate) fn learn(&self, page: &FeedPage, now_unix: i64) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        for end in &page.ends {
            match &end.session_id {
                Some(session) => {
                    state.ended.insert(session.clone(), end.forget_after);
                }
                // The feed keeps a deletion for good; only one with tokens left is remembered.
                None if end.forget_after > now_unix => {
                    state.deleted.insert(end.user_id.clone(), end.forget_after);
                }
                None => {}
            }
            state.cursor = state.cursor.max(end.seq);
        }
        if now_unix >= state.forgotten_at + FORGET_EVERY {
            let unexpired = |_: &String, forget_after: &mut i64| *forget_after > now_unix;
            state.ended.retain(unexpired);
            state.deleted.retain(unexpired);
            state.forgotten_at = now_unix;
        }
        if !page.more {
            state.read_at = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::session_feed::FeedEntry;

    fn page(ends: &[(i64, Option<&str>, i64)], more: bool) -> FeedPage {
        FeedPage {
            ends: ends
                .iter()
                .map(|&(seq, session, forget_after)| FeedEntry {
                    seq,
                    user_id: "u".into(),
                    session_id: session.map(str::to_owned),
                    forget_after,
                })
                .collect(),
            more,
        }
    }

    #[test]
    fn nothing_is_served_until_the_feed_has_been_read_to_its_end() {
        let ended = EndedSessions::new(Duration::from_secs(60));
        assert!(matches!(
            ended.check(Some("s"), "someone"),
            Err(Refusal::Unknown { .. })
        ));
        ended.learn(&page(&[(1, Some("gone"), 2_000)], true), 1_000);
        assert!(matches!(
            ended.check(Some("s"), "someone"),
            Err(Refusal::Unknown { .. })
        ));
        assert_eq!(
            ended.check(Some("gone"), "someone"),
            Err(Refusal::Ended),
            "known already"
        );
        ended.learn(&page(&[], false), 1_000);
        assert_eq!(ended.check(Some("s"), "someone"), Ok(()));
        assert_eq!(ended.check(None, "someone"), Err(Refusal::NoSession));
    }

    #[test]
    fn an_ended_session_is_refused_until_its_tokens_expire_then_forgotten() {
        let ended = EndedSessions::new(Duration::from_secs(60));
        ended.learn(
            &page(
                &[
                    (4, Some("a"), 2_000),
                    (5, None, 9_999),
                    (7, Some("b"), 3_000),
                ],
                false,
            ),
            1_000,
        );
        assert_eq!(ended.cursor(), 7);
        assert_eq!(ended.check(Some("a"), "someone"), Err(Refusal::Ended));
        assert_eq!(ended.check(Some("b"), "someone"), Err(Refusal::Ended));
        assert_eq!(
            ended.remembered(),
            2,
            "an account's deletion ends no session by itself"
        );
        ended.learn(&page(&[], false), 2_500);
        assert_eq!(ended.remembered(), 1);
        assert_eq!(
            ended.check(Some("a"), "someone"),
            Ok(()),
            "its tokens have expired anyway"
        );
        assert_eq!(ended.check(Some("b"), "someone"), Err(Refusal::Ended));
    }

    #[test]
    fn a_deleted_accounts_every_token_is_refused_until_they_expire_then_forgotten() {
        let ended = EndedSessions::new(Duration::from_secs(60));
        // `page` writes every entry for the user "u"; a deletion long expired is not taken in.
        ended.learn(&page(&[(1, None, 500), (2, None, 2_000)], false), 1_000);
        assert_eq!(ended.check(Some("any"), "u"), Err(Refusal::AccountDeleted));
        assert_eq!(ended.check(None, "u"), Err(Refusal::AccountDeleted));
        assert_eq!(ended.check(Some("any"), "someone"), Ok(()));
        ended.learn(&page(&[], false), 2_100);
        assert_eq!(
            ended.check(Some("any"), "u"),
            Ok(()),
            "its tokens have expired"
        );
        assert!(ended.state.read().unwrap().deleted.is_empty(), "forgotten");
    }

    #[test]
    fn past_the_staleness_bound_a_live_session_is_unknown_and_an_ended_one_still_refused() {
        let ended = EndedSessions::new(Duration::ZERO);
        ended.learn(&page(&[(1, Some("gone"), i64::MAX)], false), 0);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(ended.check(Some("gone"), "someone"), Err(Refusal::Ended));
        assert_eq!(
            ended.check(Some("live"), "someone"),
            Err(Refusal::Unknown { retry_after: 1 })
        );
    }
    /// Counts the bytes the current thread has allocated and not freed, for the memory test.
    mod held {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            static HELD: Cell<isize> = const { Cell::new(0) };
        }

        pub struct Counting;

        fn count(bytes: isize) {
            HELD.with(|held| held.set(held.get() + bytes));
        }

        // SAFETY: every call goes to the system allocator unchanged; it is only counted.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                count(layout.size() as isize);
                unsafe { System.alloc(layout) }
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                count(-(layout.size() as isize));
                unsafe { System.dealloc(ptr, layout) }
            }
        }

        pub fn bytes() -> isize {
            HELD.with(Cell::get)
        }
    }

    #[global_allocator]
    static ALLOCATOR: held::Counting = held::Counting;

    /// The most heap one remembered session takes, as docs/performance.md states: its 36-character id,
    /// and its share of the table at the table's emptiest.
    const BYTES_PER_SESSION: isize = 128;

    #[test]
    fn a_sustained_stream_of_sign_outs_keeps_memory_within_its_bound() {
        // A token's lifetime and the feed's linger; the feed read every 10 minutes, each read
        // bringing 10 sign-outs (one a minute), for three lifetimes.
        const REMEMBERED_FOR: i64 = 7 * 24 * 3600 + 300;
        const STEP: i64 = 600;
        const PER_READ: i64 = 10;
        let most_remembered = (REMEMBERED_FOR + FORGET_EVERY + STEP) / STEP * PER_READ;
        let reads = 3 * REMEMBERED_FOR / STEP;
        let mut per_session = Vec::with_capacity(reads as usize);
        let (before, mut seq) = (held::bytes(), 0);
        let ended = EndedSessions::new(Duration::from_secs(60));
        for read in 0..reads {
            let now = read * STEP;
            {
                let ids: Vec<String> = (seq + 1..=seq + PER_READ)
                    .map(|n| format!("{n:036}"))
                    .collect();
                let ends: Vec<_> = ids
                    .iter()
                    .map(|id| {
                        seq += 1;
                        (seq, Some(id.as_str()), now + REMEMBERED_FOR)
                    })
                    .collect();
                ended.learn(&page(&ends, false), now);
            }
            let (remembered, bytes) = (ended.remembered() as isize, held::bytes() - before);
            assert!(
                remembered <= most_remembered as isize,
                "{remembered} remembered at {now}"
            );
            assert!(
                bytes <= remembered * BYTES_PER_SESSION,
                "{bytes} bytes for {remembered} sessions at {now}"
            );
            if now > REMEMBERED_FOR {
                per_session.push(bytes as f64 / remembered as f64);
            }
        }
        drop(ended);
        // Checked before printing, whose output buffer the test harness grows on this thread.
        assert_eq!(
            held::bytes(),
            before,
            "all of it is freed with the sessions"
        );
        per_session.sort_by(f64::total_cmp);
        println!(
            "bytes per remembered session, over two lifetimes of a steady stream: \
             least {:.0}, median {:.0}, most {:.0}",
            per_session[0],
            per_session[per_session.len() / 2],
            per_session[per_session.len() - 1]
        );
    }
}
