//! The guard of the signed-in's routes: [`require_session`] takes a token only while its session
//! is live, and hands the handler a [`SignedIn`].

use crate::db;
use crate::error::IssuerError;
use crate::state::Issuer;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use service::http::Unauthenticated;
use std::future::{Ready, ready};

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
