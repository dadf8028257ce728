//! Who is calling. [`require_owner`] wraps the whole `/api/{user_id}` scope: it verifies the
//! bearer token and checks that the path's `user_id` is its subject before any handler or body
//! extractor runs, so a request without a valid token is a 401 whatever its body. It fails
//! closed: any doubt is a 401 (or 403), never a pass.

use crate::ended_sessions::{EndedSessions, Refusal};
use crate::error::ApiError;
use crate::metrics::Refusals;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use percent_encoding::percent_decode_str;
use service::http::Unauthenticated;
use shared::token::{Identity, Verifier};
use std::future::{Ready, ready};

/// The verified owner of the tasks under `/api/{user_id}/…`. Only [`require_owner`] makes one,
/// and every query of the tasks takes one: a handler cannot act for a user it was not given.
#[derive(Debug, Clone)]
pub struct Owner {
    user_id: String,
}

impl Owner {
    pub fn user_id(&self) -> &str {
        &self.user_id
    }
}

/// Counts a refusal of the request's token in the metrics, when the app keeps them.
fn refused(request: &HttpRequest, reason: &'static str) {
    if let Some(refusals) = request.app_data::<web::Data<Refusals>>() {
        refusals.count(reason);
    }
}

/// Verifies the request's token and returns whom it speaks for.
pub async fn authenticate(request: &HttpRequest) -> Result<Identity, ApiError> {
    let token = service::http::bearer_token(request).inspect_err(|missing| {
        let reason = match missing {
            Unauthenticated::NoToken => "no_token",
            Unauthenticated::InvalidToken(_) => "malformed_header",
        };
        refused(request, reason);
    })?;
    let verifier = request
        .app_data::<web::Data<Verifier>>()
        .ok_or_else(|| ApiError::Internal("the app holds no token verifier".into()))?;
    verifier.decode(token).await.map_err(|e| {
        log::debug!("token refused: {e}");
        refused(request, e.reason());
        ApiError::from(Unauthenticated::INVALID)
    })
}

/// The owner of the path's tasks, when the request's token is theirs. actix leaves `%`, `/` and
/// `+` escaped in a path segment (`%25`, `%2F`, `%2B`); the segment is decoded the rest of the
/// way before it is compared, so any subject has a path (the one `Location` gives).
async fn owner(request: &HttpRequest) -> Result<Owner, ApiError> {
    let identity = authenticate(request).await?;
    if let Some(ended) = request.app_data::<web::Data<EndedSessions>>() {
        ended
            .check(identity.session.as_deref(), &identity.subject)
            .map_err(|refusal| {
                let (reason, error) = match refusal {
                    Refusal::Ended => ("session_ended", Unauthenticated::SESSION_ENDED.into()),
                    Refusal::AccountDeleted => {
                        ("account_deleted", Unauthenticated::ACCOUNT_DELETED.into())
                    }
                    Refusal::NoSession => ("no_session", Unauthenticated::NO_SESSION.into()),
                    Refusal::Unknown { retry_after } => (
                        "sessions_unknown",
                        ApiError::SessionsUnknown { retry_after },
                    ),
                };
                refused(request, reason);
                error
            })?;
    }
    let subject = identity.subject;
    let in_path = request
        .match_info()
        .get("user_id")
        .map(|segment| percent_decode_str(segment).decode_utf8());
    match in_path {
        Some(Ok(user_id)) if user_id == subject => Ok(Owner { user_id: subject }),
        _ => {
            refused(request, "not_owner");
            Err(ApiError::NotOwner)
        }
    }
}

/// Middleware for the `/api/{user_id}` scope (`middleware::from_fn`): lets a request through
/// with its [`Owner`] in the request's extensions, or answers it without reading its body.
/// Every answer is `Cache-Control: no-store`: one person's tasks must not be kept by a shared
/// cache or a browser's disk.
pub async fn require_owner<B: MessageBody>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let verdict = owner(request.request()).await;
    service::http::admit(request, next, verdict).await
}

/// A handler's `Owner` argument: the one [`require_owner`] verified. A route mounted outside
/// that middleware has none, and answers 500 rather than serve anyone.
impl FromRequest for Owner {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request.extensions().get::<Owner>().cloned().ok_or_else(|| {
            ApiError::Internal("a task route is mounted without the auth middleware".into())
        }))
    }
}
