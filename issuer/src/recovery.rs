//! The routes a mailed link leads to: a forgotten password (`/password/forgot`, then
//! `/password/reset` with the link's secret) and an address's verification (`/email/verify`);
//! and [`mail_link`], which every route that mails a link goes through.

use crate::activity::Event;
use crate::db::{self, NotMailed, NotVerified, User, Verified};
use crate::domain::{
    Email, EmailVerificationRequest, ForgotPasswordRequest, Password, PasswordResetRequest,
};
use crate::error::IssuerError;
use crate::links::{Link, LinkSecret, Purpose};
use crate::metrics::SessionsEnded;
use crate::notices;
use crate::sessions;
use crate::state::Issuer;
use actix_web::{HttpRequest, HttpResponse, web};
use mail::Outgoing;
use serde::Serialize;
use service::http::{FieldError, Json, Problem};
use service::responses::{BadJson, InvalidField, NotJson, TooLarge};

/// A request taken, whose mail goes out in a moment.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    detail: &'static str,
}

impl Accepted {
    pub fn response(detail: &'static str) -> HttpResponse {
        HttpResponse::Accepted().json(Accepted { detail })
    }
}

/// A new link for `purpose` to `to`, of the account `user_id` whose owner is called `name`, and
/// the message that carries it; none when the address cannot be written in a message.
pub fn link_message(
    issuer: &Issuer,
    user_id: &str,
    name: &str,
    purpose: Purpose,
    to: &str,
) -> Option<(Link, Outgoing)> {
    let ttl = match purpose {
        Purpose::ResetPassword => issuer.links.reset_ttl,
        Purpose::VerifyEmail | Purpose::ChangeEmail => issuer.links.verify_ttl,
    };
    let (link, secret) = Link::new(user_id, purpose, to, ttl, database::now());
    let url = secret.url(&issuer.links.public_url, purpose);
    let compose = match purpose {
        Purpose::VerifyEmail => notices::verify_email,
        Purpose::ChangeEmail => notices::confirm_new_email,
        Purpose::ResetPassword => notices::reset_link,
    };
    let message = notices::or_skip(compose(&issuer.mail_from, to, name, &url, ttl))?;
    Some((link, message))
}

/// Mails `user` a link for `purpose` to `to`, and `notice` with it (see [`db::mail_link`]; a
/// request that checked a password passes the asking session and the password's version in
/// `checked`). An address that cannot be written in a message is mailed nothing.
pub async fn mail_link(
    issuer: &Issuer,
    user: &User,
    purpose: Purpose,
    to: &str,
    notice: Option<Outgoing>,
    checked: Option<(String, i32)>,
) -> Result<Result<(), NotMailed>, IssuerError> {
    let Some((link, message)) = link_message(issuer, &user.id, &user.name, purpose, to) else {
        return Ok(Ok(()));
    };
    Ok(database::write(&issuer.pool, move |conn| {
        let checked = checked
            .as_ref()
            .map(|(session, version)| (session.as_str(), *version));
        db::mail_link(conn, &link, &message, notice.as_ref(), checked)
    })
    .await?)
}

/// Mail a link that sets a new password to the account with this address, if there is one.
///
/// The answer is the same whether there is an account or not, and comes as fast: the account is
/// looked for, and the link mailed, after it has gone. A flood for one address mails a few links
/// an hour at most.
#[utoipa::path(post, path = "/password/forgot", tag = "recovery", request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "If an account has the address, a link is on its way", body = Accepted),
        (status = 400, response = BadJson),
        (status = 413, response = TooLarge),
        (status = 415, response = NotJson),
        (status = 422, response = InvalidField),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn forgot_password(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    body: Json<ForgotPasswordRequest>,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let email = Email::try_from(body.0)?;
    actix_web::rt::spawn(mail_reset_link(issuer, email));
    Ok(Accepted::response(
        "If an account has this address, a link to reset its password is on its way",
    ))
}

/// Looks for the account with `email` and mails it a reset link. All of it, the lookup included,
/// is one write on a thread of the database's, so that this worker is as free after a known
/// address's answer as after an unknown one's.
async fn mail_reset_link(issuer: web::Data<Issuer>, email: Email) {
    let mailing = issuer.clone();
    let mailed = database::write(&issuer.pool, move |conn| {
        let Some(user) = db::find_by_email(conn, email.as_str())? else {
            return Ok(None);
        };
        let Some((link, message)) = link_message(
            &mailing,
            &user.id,
            &user.name,
            Purpose::ResetPassword,
            &user.email,
        ) else {
            return Ok(None);
        };
        Ok(Some((
            user.id,
            db::mail_link(conn, &link, &message, None, None)?,
        )))
    })
    .await;
    match mailed {
        Ok(Some((user_id, Err(refused)))) => {
            log::info!("no reset link mailed for user {user_id}: {refused:?}")
        }
        Ok(_) => {}
        Err(e) => log::warn!("a reset link was not mailed: {e}"),
    }
}

/// Set a new password with a mailed link: every session of the account ends.
#[utoipa::path(post, path = "/password/reset", tag = "recovery", request_body = PasswordResetRequest,
    responses(
        (status = 204, description = "The password is set; every session ended; a notice is mailed"),
        (status = 400, description = "The link is unknown, used or expired (or the body is not JSON)", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = TooLarge),
        (status = 415, response = NotJson),
        (status = 422, response = InvalidField),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable or too many passwords being hashed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reset_password(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    body: Json<PasswordResetRequest>,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let PasswordResetRequest {
        token,
        new_password,
    } = body.0;
    let new_password = Password::parse(new_password)
        .map_err(|message| Problem::validation(vec![FieldError::new("new_password", message)]))?;
    let secret_hash = LinkSecret::from_client(token)
        .ok_or(IssuerError::InvalidLink)?
        .hash();
    // A link that cannot be used costs no password hash.
    let looked_up = secret_hash.clone();
    let link = database::run(&issuer.pool, move |conn| {
        db::live_link(conn, &looked_up, database::now())
    })
    .await?;
    if link.and_then(|link| link.purpose()) != Some(Purpose::ResetPassword) {
        return Err(IssuerError::InvalidLink);
    }
    let hash = issuer.hasher.hash(new_password).await?;
    let (from, at) = (issuer.mail_from.clone(), database::now());
    let user_id = database::write(&issuer.pool, move |conn| {
        db::reset_password(conn, &secret_hash, &hash, sessions::linger(), |user| {
            notices::or_skip(notices::password_reset(&from, &user.email, &user.name, at))
        })
    })
    .await?
    .map_err(|_| IssuerError::InvalidLink)?;
    issuer.sessions_ended(SessionsEnded::PasswordReset).await;
    issuer
        .record(&user_id, Event::PasswordReset, issuer.client(&request))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Verify the account's address, or complete a change of it, with a mailed link.
#[utoipa::path(post, path = "/email/verify", tag = "recovery", request_body = EmailVerificationRequest,
    responses(
        (status = 204, description = "The address is verified (or is the account's new one)"),
        (status = 400, description = "The link is unknown, used or expired (or the body is not JSON)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new address is another account's by now", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = TooLarge),
        (status = 415, response = NotJson),
        (status = 422, response = InvalidField),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_email(
    issuer: web::Data<Issuer>,
    request: HttpRequest,
    body: Json<EmailVerificationRequest>,
) -> Result<HttpResponse, IssuerError> {
    issuer.check_rate(&request)?;
    let secret_hash = LinkSecret::from_client(body.0.token)
        .ok_or(IssuerError::InvalidLink)?
        .hash();
    let (verified, user_id) = match database::write(&issuer.pool, move |conn| {
        db::verify_email(conn, &secret_hash)
    })
    .await?
    {
        Ok(verified) => verified,
        Err(NotVerified::Unusable) => return Err(IssuerError::InvalidLink),
        Err(NotVerified::EmailTaken) => return Err(IssuerError::EmailTaken),
    };
    let event = match verified {
        Verified::Email => Event::EmailVerified,
        Verified::NewEmail => Event::EmailChanged,
    };
    issuer
        .record(&user_id, event, issuer.client(&request))
        .await;
    Ok(HttpResponse::NoContent().finish())
}
