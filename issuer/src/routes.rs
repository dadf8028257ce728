//! The issuer's public routes: sign-up and sign-in, both answering with a freshly minted token,
//! and the JWKS that verifies the tokens.

use crate::account::UserView;
use crate::activity::Event;
use crate::db::{self, User};
use crate::domain::{Credentials, NewAccount, SignInRequest, SignUpRequest};
use crate::error::IssuerError;
use crate::links::Purpose;
use crate::metrics::SessionsEnded;
use crate::password::Verdict;
use crate::recovery;
use crate::sessions;
use crate::state::Issuer;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use database::Timestamp;
use serde::Serialize;
use service::http::{Json, Problem, no_store};
use service::responses::{BadJson, InvalidField, NotJson, TooLarge};
use shared::mint::TokenSubject;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthResponse {
    token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    #[schema(example = 604800)]
    expires_in: u64,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    user: UserView,
}

/// A new account that signs in once its address is verified (`REQUIRE_VERIFIED_EMAIL`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct PendingAccount {
    user: UserView,
    #[schema(example = "Follow the link mailed to the address, then sign in")]
    detail: &'static str,
}

/// Create an account and mail a link that verifies its address; the new account is signed in,
/// unless the issuer requires a verified address (then 202, without a token).
#[utoipa::path(post, path = "/signup", tag = "issuer", request_body = SignUpRequest,
    responses(
        (status = 201, description = "Account created and signed in", body = AuthResponse),
        (status = 202, description = "Account created; it signs in once its address is verified (REQUIRE_VERIFIED_EMAIL)", body = PendingAccount),
        (status = 400, response = BadJson),
        (status = 409, description = "Email already registered", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = TooLarge),
        (status = 415, response = NotJson),
        (status = 422, response = InvalidField),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable or too many sign-ins in flight", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn signup(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    body: Json<SignUpRequest>,
) -> Result<HttpResponse, IssuerError> {
    let answer = sign_up(issuer.clone(), request, body).await;
    issuer.metrics.signup(&answer);
    answer
}

async fn sign_up(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    body: Json<SignUpRequest>,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let account = NewAccount::try_from(body.0)?;
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        email: account.email.as_str().to_owned(),
        name: account.name.as_str().to_owned(),
        password_hash: issuer.hasher.hash(account.password).await?,
        created_at: database::now(),
        password_version: 0,
        email_verified: false,
    };
    let verification = recovery::link_message(
        &issuer,
        &user.id,
        &user.name,
        Purpose::VerifyEmail,
        &user.email,
    );
    let inserted = user.clone();
    let inserted = database::write(&issuer.pool, move |conn| {
        db::insert_user(conn, &inserted, verification.as_ref().map(|(l, m)| (l, m)))
    })
    .await?;
    if !inserted {
        return Err(IssuerError::EmailTaken);
    }
    issuer
        .record(&user.id, Event::SignUp, issuer.client(&request))
        .await;
    if issuer.require_verified_email {
        return Ok(HttpResponse::Accepted().json(PendingAccount {
            user: user.into(),
            detail: "Follow the link mailed to the address, then sign in",
        }));
    }
    authenticated(&issuer, &request, StatusCode::CREATED, user).await
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/signin", tag = "issuer", request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in", body = AuthResponse),
        (status = 400, response = BadJson),
        (status = 401, description = "Invalid email or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The password is right but the address is not verified (REQUIRE_VERIFIED_EMAIL); a new link is mailed", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = TooLarge),
        (status = 415, response = NotJson),
        (status = 422, response = InvalidField),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable or too many sign-ins in flight", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn signin(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    body: Json<SignInRequest>,
) -> Result<HttpResponse, IssuerError> {
    let answer = sign_in(issuer.clone(), request, body).await;
    issuer.metrics.signin(&answer);
    answer
}

async fn sign_in(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    body: Json<SignInRequest>,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let credentials = Credentials::try_from(body.0)?;
    issuer.count_attempt(credentials.email.as_str()).await?;
    let email = credentials.email.as_str().to_owned();
    let user = database::run(&issuer.pool, move |conn| db::find_by_email(conn, &email)).await?;
    let verdict = issuer
        .hasher
        .verify(
            credentials.password.clone(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = match (verdict, user) {
        (Verdict::Right, Some(user)) => user,
        (Verdict::RightButWeak, Some(user)) => {
            rehash(&issuer, &user, credentials).await;
            user
        }
        (Verdict::Wrong, Some(user)) => {
            // Recorded after the answer: an unknown email, which records nothing, must take as
            // long as a wrong password.
            let client = issuer.client(&request);
            actix_web::rt::spawn(async move {
                issuer.record(&user.id, Event::SignInFailed, client).await;
            });
            return Err(IssuerError::InvalidCredentials);
        }
        (_, None) => return Err(IssuerError::InvalidCredentials),
    };
    issuer
        .account_throttle
        .clear(&issuer.pool, &user.email)
        .await;
    if issuer.require_verified_email && !user.email_verified {
        // The one who knows the password may have lost the first link: another goes out, within
        // the address's allowance.
        let to = user.email.clone();
        if let Err(refused) =
            recovery::mail_link(&issuer, &user, Purpose::VerifyEmail, &to, None, None).await?
        {
            log::info!(
                "no verification link mailed for user {}: {refused:?}",
                user.id
            );
        }
        return Err(IssuerError::EmailNotVerified);
    }
    let id = user.id.clone();
    let answer = authenticated(&issuer, &request, StatusCode::OK, user).await?;
    issuer
        .record(&id, Event::SignIn, issuer.client(&request))
        .await;
    Ok(answer)
}

/// Stores a stronger hash of a password that was just verified. A failure here costs the user
/// nothing (the old hash still works), so it is logged, not returned.
async fn rehash(issuer: &Issuer, user: &User, credentials: Credentials) {
    let (id, version) = (user.id.clone(), user.password_version);
    let result = match issuer.hasher.hash(credentials.password).await {
        Ok(hash) => database::write(&issuer.pool, move |conn| {
            db::upgrade_password_hash(conn, &id, &hash, version)
        })
        .await
        .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(()) => log::info!("upgraded the password hash of user {}", user.id),
        Err(e) => log::warn!(
            "could not upgrade the password hash of user {}: {e}",
            user.id
        ),
    }
}

/// Starts a session for `user`, whose password was verified at `user.password_version`, and
/// answers with its token. If the account has gone or its password changed since, there is no
/// session: 401, as for a sign-in that came a moment later.
async fn authenticated(
    issuer: &Issuer,
    request: &HttpRequest,
    status: StatusCode,
    user: User,
) -> Result<HttpResponse, IssuerError> {
    let now = chrono::Utc::now();
    let signer = issuer.keys.signer(&issuer.pool).await;
    let session_id = uuid::Uuid::new_v4().to_string();
    let subject = TokenSubject {
        id: &user.id,
        email: &user.email,
        name: &user.name,
        email_verified: user.email_verified,
        session: &session_id,
    };
    let issued = signer.encode(subject, now)?;
    // The session expires with its token, and the token is given out only once it is stored.
    let session = sessions::new_session(
        request,
        session_id,
        &user.id,
        now.naive_utc(),
        issued.expires_at.naive_utc(),
    );
    let version = user.password_version;
    let ended = database::write(&issuer.pool, move |conn| {
        db::start_session(
            conn,
            &session,
            version,
            sessions::MAX_LIVE,
            sessions::linger(),
        )
    })
    .await?
    .map_err(|_| IssuerError::InvalidCredentials)?;
    issuer.metrics.session_started();
    if ended > 0 {
        issuer.sessions_ended(SessionsEnded::Replaced).await;
    }
    Ok(HttpResponse::build(status)
        .insert_header(no_store())
        .json(AuthResponse {
            token: issued.token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            expires_at: issued.expires_at.naive_utc().into(),
            user: user.into(),
        }))
}

/// The public keys that verify the issuer's tokens (RFC 7517). Only with an asymmetric
/// algorithm: an HS256 secret is never published.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "issuer",
    responses(
        (status = 200, description = "The public keys, each with `kid`, `alg` and `use: \"sig\"`"),
        (status = 404, description = "The issuer signs with HS256: there is nothing to publish", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn jwks(issuer: web::Data<Issuer>) -> Result<HttpResponse, IssuerError> {
    let document = issuer
        .keys
        .jwks(&issuer.pool)
        .await
        .ok_or(IssuerError::NoPublicKeys)?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((
            CACHE_CONTROL,
            format!("public, max-age={}", crate::keys::JWKS_MAX_AGE.as_secs()),
        ))
        .body(document.to_vec()))
}
