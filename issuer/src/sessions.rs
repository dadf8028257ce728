//! Sessions. Every sign-up and sign-in starts one, and the token minted for it names it
//! (`sid`). A session ends here, in the issuer's database (sign-out, a password change, the
//! account deleted), and the end goes into the feed that tasks-api reads. The routes for the
//! signed-in sit behind [`require_session`], which takes a token only while its session is live.
//! tasks-api learns of ended sessions from [`session_ends`], the feed.

use crate::db::{self, Session};
use crate::error::IssuerError;
use crate::startup::Issuer;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::USER_AGENT;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use chrono::{NaiveDateTime, TimeDelta};
use database::Pool;
use serde::Deserialize;
use service::http::{FieldError, Problem, Unauthenticated};
use shared::session_feed::{FeedEntry, FeedPage};
use std::future::{Future, Ready, ready};
use std::pin::Pin;

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

/// A new session's row, with the client's user agent, shortened.
pub fn new_session(
    request: &HttpRequest,
    id: String,
    user_id: &str,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Session {
    let user_agent = request
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
    Session {
        id,
        user_id: user_id.to_owned(),
        created_at,
        expires_at,
        user_agent,
    }
}

/// The caller of a route behind [`require_session`]: a verified token whose session is live.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: String,
    pub session_id: String,
}

async fn signed_in(issuer: &Issuer, request: &HttpRequest) -> Result<SignedIn, IssuerError> {
    let token = service::http::bearer_token(request)?;
    let verifier = issuer.keys.verifier(&issuer.pool).await;
    let identity = verifier.decode(token).await.map_err(|e| {
        log::debug!("token refused: {e}");
        Unauthenticated::INVALID
    })?;
    let session_id = identity.session.ok_or(Unauthenticated::NO_SESSION)?;
    let (user_id, id) = (identity.subject.clone(), session_id.clone());
    let live = database::run(&issuer.pool, move |conn| {
        db::live_session(conn, &user_id, &id, database::now())
    })
    .await?;
    match live {
        Some(_) => Ok(SignedIn {
            user_id: identity.subject,
            session_id,
        }),
        None => Err(Unauthenticated::SESSION_ENDED.into()),
    }
}

/// Middleware for the routes of the signed-in (`middleware::from_fn`): lets a request through
/// with its [`SignedIn`] in the request's extensions, or answers 401 without reading its body.
/// Every answer is `Cache-Control: no-store`: they hold a person's account and sessions.
pub async fn require_session<B: MessageBody>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(issuer) = request.app_data::<web::Data<Issuer>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "a route for the signed-in is mounted without the issuer's state",
        ));
    };
    let verdict = signed_in(&issuer, request.request()).await;
    service::http::admit(request, next, verdict).await
}

/// A handler's `SignedIn` argument: the one [`require_session`] found.
impl FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<SignedIn>()
                .cloned()
                .ok_or_else(|| {
                    actix_web::error::ErrorInternalServerError(
                        "a route for the signed-in is mounted without require_session",
                    )
                }),
        )
    }
}

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

/// Told that sessions have ended, once the change is committed and before the answer that ended
/// them goes out. The standalone process's tasks-api half listens, so that it refuses their
/// tokens at once rather than at its next read of the feed.
pub trait SessionEndsListener: Send + Sync {
    fn sessions_ended(&self) -> Pin<Box<dyn Future<Output = ()> + '_>>;
}
