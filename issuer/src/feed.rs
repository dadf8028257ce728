//! The feed of ended sessions that tasks-api reads: `GET /internal/session-ends`.

use crate::db;
use crate::error::IssuerError;
use crate::state::Issuer;
use actix_web::{HttpRequest, HttpResponse, web};
use database::Pool;
use serde::Deserialize;
use service::http::{FieldError, Problem, Unauthenticated};
use shared::session_feed::{FeedEntry, FeedPage};

/// The most entries one answer of the feed carries; `more` says whether others follow.
const FEED_PAGE: i64 = 1000;

#[derive(Deserialize)]
pub struct FeedQuery {
    /// The last `seq` the reader has; 0 (the default) reads from the start.
    #[serde(default)]
    after: i64,
}

/// `GET /internal/session-ends?after=N`: the feed of ended sessions, for tasks-api. Served only
/// with `SESSION_FEED_SECRET`, to a caller that presents it as a bearer token; the proxy does not
/// route it. Not in the public API document.
pub async fn session_ends(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, IssuerError> {
    let secret = issuer
        .session_feed_secret
        .as_ref()
        .ok_or(IssuerError::NoSessionFeed)?;
    let presented = service::http::bearer_token(&request)?;
    if !secret.matches(presented.as_bytes()) {
        return Err(Unauthenticated::InvalidToken("This is not the feed's credential").into());
    }
    let after = query.after;
    if after < 0 {
        return Err(
            Problem::validation(vec![FieldError::new("after", "must be 0 or more")]).into(),
        );
    }
    Ok(HttpResponse::Ok()
        .insert_header(service::http::no_store())
        .json(feed_page(&issuer.pool, after).await?))
}

/// The feed after `seq` `after`: at most [`FEED_PAGE`] entries, oldest first.
pub async fn feed_page(pool: &Pool, after: i64) -> Result<FeedPage, IssuerError> {
    let mut ends = database::run(pool, move |conn| {
        db::session_ends_after(conn, after, FEED_PAGE + 1, database::now())
    })
    .await?;
    let more = ends.len() as i64 > FEED_PAGE;
    ends.truncate(FEED_PAGE as usize);
    let ends = ends
        .into_iter()
        .map(|end| FeedEntry {
            seq: end.seq,
            user_id: end.user_id,
            session_id: end.session_id,
            forget_after: end.forget_after.and_utc().timestamp(),
        })
        .collect();
    Ok(FeedPage { ends, more })
}
