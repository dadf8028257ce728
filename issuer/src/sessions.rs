//! Sessions. Every sign-up and sign-in starts one, and the token minted for it names it
//! (`sid`). A session ends here, in the issuer's database (sign-out, a password change, the
//! account deleted), and the end goes into the feed that tasks-api reads ([`crate::feed`]). The
//! routes for the signed-in take a token only while its session is live
//! ([`crate::signed_in`]).

use crate::db::Session;
use actix_web::HttpRequest;
use actix_web::http::header::USER_AGENT;
use chrono::{NaiveDateTime, TimeDelta};

/// The most live sessions a user has: a new one ends the oldest. It bounds what one account adds
/// to the tables, and to what tasks-api remembers of ended sessions.
pub const MAX_LIVE: i64 = 50;

/// The longest user agent kept with a session, in characters.
const MAX_USER_AGENT_CHARS: usize = 200;

/// How long an ended session stays in the feed after its tokens expire: the largest leeway a
/// verifier may grant them.
pub fn linger() -> TimeDelta {
    TimeDelta::seconds(shared::token::MAX_LEEWAY_SECONDS as i64)
}

/// The request's user agent, shortened: what a session and an event keep of the client.
pub fn user_agent(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect())
}

/// A new session's row, with the client's user agent.
pub fn new_session(
    request: &HttpRequest,
    id: String,
    user_id: &str,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Session {
    Session {
        id,
        user_id: user_id.to_owned(),
        created_at,
        expires_at,
        user_agent: user_agent(request),
    }
}
