//! The routes of the signed-in: sign-out, the account, its sessions, a password change and the
//! account's deletion. Each sits behind [`crate::signed_in::require_session`]; the ones that
//! check a password do it as sign-in does: rate-limited per client address with sign-in,
//! counted per account, within the bounded hashing, and taking effect only if the password, the
//! session and the account are still what they were when it was checked.

use crate::activity::{self, Event};
use crate::db::{self, Ending, User};
use crate::domain::{
    AccountDeletionRequest, EmailChange, EmailChangeRequest, Password, PasswordChange,
    PasswordChangeRequest,
};
use crate::error::{IssuerError, SessionRequired};
use crate::links::Purpose;
use crate::metrics::SessionsEnded;
use crate::notices;
use crate::password::Verdict;
use crate::recovery::{self, Accepted};
use crate::sessions;
use crate::signed_in::SignedIn;
use crate::state::Issuer;
use actix_web::{HttpRequest, HttpResponse, web};
use database::Timestamp;
use serde::{Deserialize, Serialize};
use service::http::{FieldError, Json, Problem, Unauthenticated};
use service::responses::InvalidField;

/// The account as its owner sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    id: String,
    email: String,
    name: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// Whether a link mailed to `email` has been followed.
    email_verified: bool,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            name: user.name,
            created_at: user.created_at.into(),
            email_verified: user.email_verified,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SignOutQuery {
    /// Absent: this session. `others`: every other session of the user. `all`: every one.
    #[param(example = "others")]
    scope: Option<String>,
}

/// End this session, every other one, or all of them.
#[utoipa::path(post, path = "/signout", tag = "account", params(SignOutQuery),
    responses(
        (status = 204, description = "The sessions ended; their tokens are refused from now on"),
        (status = 401, response = SessionRequired),
        (status = 422, description = "An unknown scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn signout(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    signed_in: SignedIn,
    query: web::Query<SignOutQuery>,
) -> Result<HttpResponse, IssuerError> {
    let user_id = signed_in.user_id.clone();
    #[derive(Clone, Copy)]
    enum Scope {
        This,
        Others,
        All,
    }
    let scope = match query.scope.as_deref() {
        None => Scope::This,
        Some("others") => Scope::Others,
        Some("all") => Scope::All,
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "scope",
                "must be others or all",
            )])
            .into());
        }
    };
    database::write(&issuer.pool, move |conn| {
        let ending = match scope {
            Scope::This => Ending::One(&signed_in.session_id),
            Scope::Others => Ending::AllBut(&signed_in.session_id),
            Scope::All => Ending::All,
        };
        db::end_sessions(conn, &signed_in.user_id, ending, sessions::linger())
    })
    .await?;
    issuer.sessions_ended(SessionsEnded::SignOut).await;
    issuer
        .record(&user_id, Event::SignOut, issuer.client(&request))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(get, path = "/account", tag = "account",
    responses(
        (status = 200, description = "The account", body = UserView),
        (status = 401, response = SessionRequired),
    ))]
pub async fn show(
    issuer: web::Data<Issuer>,
    signed_in: SignedIn,
) -> Result<HttpResponse, IssuerError> {
    let user = user(&issuer, &signed_in).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    id: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    /// Whether this is the session of the token that asked.
    current: bool,
    user_agent: Option<String>,
}

/// The user's live sessions, newest first.
#[utoipa::path(get, path = "/account/sessions", tag = "account",
    responses(
        (status = 200, description = "The live sessions", body = [SessionView]),
        (status = 401, response = SessionRequired),
    ))]
pub async fn list_sessions(
    issuer: web::Data<Issuer>,
    signed_in: SignedIn,
) -> Result<HttpResponse, IssuerError> {
    let user_id = signed_in.user_id.clone();
    let live = database::run(&issuer.pool, move |conn| {
        db::live_sessions(conn, &user_id, database::now())
    })
    .await?;
    let views: Vec<SessionView> = live
        .into_iter()
        .map(|session| SessionView {
            current: session.id == signed_in.session_id,
            id: session.id,
            created_at: session.created_at.into(),
            expires_at: session.expires_at.into(),
            user_agent: session.user_agent,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// One event of the account's security activity.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
    /// `signup`, `signin`, `signin_failed`, `signout`, `session_ended`, `password_changed`,
    /// `password_reset`, `email_verified`, `email_changed` or `account_deleted`.
    #[schema(example = "signin")]
    event: String,
    user_agent: Option<String>,
    /// The client's address (an IPv6 client's /64).
    ip: Option<String>,
}

/// The account's security events of the last 90 days (at most 100), newest first.
#[utoipa::path(get, path = "/account/activity", tag = "account",
    responses(
        (status = 200, description = "The events", body = [EventView]),
        (status = 401, response = SessionRequired),
    ))]
pub async fn list_activity(
    issuer: web::Data<Issuer>,
    signed_in: SignedIn,
) -> Result<HttpResponse, IssuerError> {
    let events = database::run(&issuer.pool, move |conn| {
        activity::recent(conn, &signed_in.user_id, database::now())
    })
    .await?;
    let views: Vec<EventView> = events
        .into_iter()
        .map(|recorded| EventView {
            at: recorded.at.into(),
            event: recorded.event,
            user_agent: recorded.user_agent,
            ip: recorded.ip,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// End one of the user's sessions.
#[utoipa::path(delete, path = "/account/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "The session's id")),
    responses(
        (status = 204, description = "The session ended"),
        (status = 401, response = SessionRequired),
        (status = 404, description = "Not one of the user's live sessions", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn end_session(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, IssuerError> {
    let user_id = signed_in.user_id.clone();
    let id = id.into_inner();
    // Not a session id (blank, a NUL): no session has it, and it goes into no query.
    if !shared::token::is_session_id(&id) {
        return Err(IssuerError::SessionNotFound);
    }
    let ended = database::write(&issuer.pool, move |conn| {
        db::end_sessions(
            conn,
            &signed_in.user_id,
            Ending::One(&id),
            sessions::linger(),
        )
    })
    .await?;
    if ended == 0 {
        return Err(IssuerError::SessionNotFound);
    }
    issuer.sessions_ended(SessionsEnded::Revoked).await;
    issuer
        .record(&user_id, Event::SessionEnded, issuer.client(&request))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password; every other session ends (ASVS 7.4.3), this one goes on.
#[utoipa::path(put, path = "/account/password", tag = "account", request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Changed; the other sessions ended"),
        (status = 401, response = SessionRequired),
        (status = 403, description = "The current password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidField),
        (status = 429, description = "Too many attempts from this address, or wrong passwords for this account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    signed_in: SignedIn,
    body: Json<PasswordChangeRequest>,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let user_id = signed_in.user_id.clone();
    let change = PasswordChange::try_from(body.0)?;
    let user = check_password(&issuer, &signed_in, change.current).await?;
    let hash = issuer.hasher.hash(change.new).await?;
    let notice = notices::or_skip(notices::password_changed(
        &issuer.mail_from,
        &user.email,
        &user.name,
        database::now(),
    ));
    database::write(&issuer.pool, move |conn| {
        db::change_password(
            conn,
            &signed_in.user_id,
            &signed_in.session_id,
            &hash,
            user.password_version,
            sessions::linger(),
            notice.as_ref(),
        )
    })
    .await??;
    issuer.sessions_ended(SessionsEnded::PasswordChanged).await;
    issuer
        .record(&user_id, Event::PasswordChanged, issuer.client(&request))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Delete the account: every session ends, and tasks-api deletes the user's tasks.
#[utoipa::path(delete, path = "/account", tag = "account", request_body = AccountDeletionRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = SessionRequired),
        (status = 403, description = "The password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidField),
        (status = 429, description = "Too many attempts from this address, or wrong passwords for this account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_account(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    signed_in: SignedIn,
    body: Json<AccountDeletionRequest>,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let password = Password::try_from(body.0)?;
    let user = check_password(&issuer, &signed_in, password).await?;
    let notice = notices::or_skip(notices::account_deleted(
        &issuer.mail_from,
        &user.email,
        &user.name,
        database::now(),
    ));
    database::write(&issuer.pool, move |conn| {
        db::delete_user(
            conn,
            &signed_in.user_id,
            &signed_in.session_id,
            user.password_version,
            sessions::linger(),
            notice.as_ref(),
        )
    })
    .await??;
    issuer.sessions_ended(SessionsEnded::AccountDeleted).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Mail a new link that verifies the account's address (nothing, when it is verified).
#[utoipa::path(post, path = "/account/email/verification", tag = "account",
    responses(
        (status = 202, description = "A link is on its way, unless the address is verified already", body = Accepted),
        (status = 401, response = SessionRequired),
        (status = 429, description = "Too many attempts from this address, or links mailed to the account's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resend_verification(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    signed_in: SignedIn,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let user = user(&issuer, &signed_in).await?;
    if !user.email_verified {
        let to = user.email.clone();
        recovery::mail_link(&issuer, &user, Purpose::VerifyEmail, &to, None, None).await??;
    }
    Ok(Accepted::response(
        "Unless the address is verified already, a link to verify it is on its way",
    ))
}

/// Move the account to another address: a link that makes the change is mailed to the new one,
/// and a notice to the old one.
#[utoipa::path(put, path = "/account/email", tag = "account", request_body = EmailChangeRequest,
    responses(
        (status = 202, description = "The link is on its way to the new address", body = Accepted),
        (status = 401, response = SessionRequired),
        (status = 403, description = "The password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another account has the new address", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidField),
        (status = 429, description = "Too many attempts from this address, wrong passwords for this account, or links mailed to the new address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_email(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    signed_in: SignedIn,
    body: Json<EmailChangeRequest>,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let change = EmailChange::try_from(body.0)?;
    let user = check_password(&issuer, &signed_in, change.password).await?;
    let new_email = change.new_email.as_str();
    if new_email == user.email {
        return Err(Problem::validation(vec![FieldError::new(
            "new_email",
            "is the account's address already",
        )])
        .into());
    }
    let notice = notices::or_skip(notices::email_change_requested(
        &issuer.mail_from,
        &user.email,
        &user.name,
        new_email,
        database::now(),
    ));
    let checked = Some((signed_in.session_id.clone(), user.password_version));
    recovery::mail_link(
        &issuer,
        &user,
        Purpose::ChangeEmail,
        new_email,
        notice,
        checked,
    )
    .await??;
    Ok(Accepted::response(
        "A link that makes the change is on its way to the new address",
    ))
}

pub(crate) async fn user(issuer: &Issuer, signed_in: &SignedIn) -> Result<User, IssuerError> {
    let id = signed_in.user_id.clone();
    database::run(&issuer.pool, move |conn| db::find_by_id(conn, &id))
        .await?
        .ok_or(Unauthenticated::SESSION_ENDED.into())
}

/// Checks `password` against the signed-in user's, as sign-in does: counted by the per-account
/// throttle before it is hashed, and the count cleared when it is right. Returns the user as it
/// was checked: what it was checked for must find the same `password_version` when it commits.
async fn check_password(
    issuer: &Issuer,
    signed_in: &SignedIn,
    password: Password,
) -> Result<User, IssuerError> {
    let user = user(issuer, signed_in).await?;
    issuer.count_attempt(&user.email).await?;
    match issuer
        .hasher
        .verify(password, Some(user.password_hash.clone()))
        .await?
    {
        Verdict::Right | Verdict::RightButWeak => {
            issuer
                .account_throttle
                .clear(&issuer.pool, &user.email)
                .await;
            Ok(user)
        }
        Verdict::Wrong => Err(IssuerError::WrongPassword),
    }
}
