//! Every way an issuer request can fail, and the one place where each becomes its answer in
//! problem+json. A handler returns `IssuerError` and uses `?`.

use crate::db;
use crate::password::HashError;
use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};
use database::DbError;
use service::http::{Problem, Unauthenticated};
use shared::token::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// A sign-up for an email that has an account.
    #[error("email already registered")]
    EmailTaken,
    /// A sign-in whose email is unknown or whose password is wrong: the client is not told which.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Over the sign-in and sign-up rate limit of the client's address, or an email that must
    /// wait after failed sign-ins.
    #[error("too many attempts; retry after {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    /// A request refused with the problem that names what is wrong with it (a field).
    #[error("{0}")]
    Rejected(#[from] Problem),
    /// A route for the signed-in without a token of a live session.
    #[error("{0}")]
    Unauthenticated(#[from] Unauthenticated),
    /// A password check on an account route (a password change, a deletion) that failed.
    #[error("wrong password")]
    WrongPassword,
    /// A mailed link's secret that is unknown, used, expired or for something else.
    #[error("unusable link")]
    InvalidLink,
    /// A sign-in to an account whose address is not verified, with `REQUIRE_VERIFIED_EMAIL`.
    #[error("email not verified")]
    EmailNotVerified,
    /// A link for the account's address, which changed while it was being mailed.
    #[error("the account's address changed")]
    AddressChanged,
    /// A session that is not one of the caller's live sessions.
    #[error("no such session")]
    SessionNotFound,
    /// The feed of ended sessions is not served: no `SESSION_FEED_SECRET`.
    #[error("no session feed")]
    NoSessionFeed,
    /// The issuer signs with HS256: there are no public keys to publish.
    #[error("no public keys")]
    NoPublicKeys,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("could not sign a token: {0}")]
    Signing(#[from] TokenError),
}

impl IssuerError {
    /// Too many attempts, to try again after `wait`: `Retry-After` in whole seconds, rounded up
    /// so that a client that obeys it is not refused again, and never 0.
    pub fn too_many_attempts(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        IssuerError::TooManyAttempts {
            retry_after: seconds.max(1),
        }
    }
}

/// What changed between a password's check and the commit it was checked for, as the routes of
/// the signed-in answer it: the password checked is no longer the account's (403), or the session
/// or the account is gone (401).
impl From<db::Changed> for IssuerError {
    fn from(changed: db::Changed) -> Self {
        match changed {
            db::Changed::Password => IssuerError::WrongPassword,
            db::Changed::Account | db::Changed::Session => Unauthenticated::SESSION_ENDED.into(),
        }
    }
}

/// Why a link was not mailed, as the routes of the signed-in answer it.
impl From<db::NotMailed> for IssuerError {
    fn from(refused: db::NotMailed) -> Self {
        match refused {
            db::NotMailed::Changed(changed) => changed.into(),
            db::NotMailed::AddressChanged => IssuerError::AddressChanged,
            db::NotMailed::EmailTaken => IssuerError::EmailTaken,
            db::NotMailed::Throttled(until) => IssuerError::too_many_attempts(
                (until - database::now()).to_std().unwrap_or_default(),
            ),
        }
    }
}

impl IssuerError {
    fn problem(&self) -> Problem {
        match self {
            IssuerError::EmailTaken => {
                Problem::new(StatusCode::CONFLICT, "This email is already registered")
            }
            IssuerError::InvalidCredentials => {
                Problem::new(StatusCode::UNAUTHORIZED, "Invalid email or password")
            }
            IssuerError::TooManyAttempts { retry_after } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts; try again later",
            )
            .with_header(RETRY_AFTER, retry_after.to_string()),
            IssuerError::Rejected(problem) => problem.clone(),
            IssuerError::Unauthenticated(refused) => refused.problem("issuer"),
            IssuerError::WrongPassword => {
                Problem::new(StatusCode::FORBIDDEN, "The password is not this account's")
            }
            IssuerError::InvalidLink => Problem::new(
                StatusCode::BAD_REQUEST,
                "This link is invalid, used or expired; ask for a new one",
            ),
            IssuerError::EmailNotVerified => {
                Problem::new(StatusCode::FORBIDDEN, "Email not verified")
            }
            IssuerError::AddressChanged => Problem::new(
                StatusCode::CONFLICT,
                "The account's address changed meanwhile; try again",
            ),
            IssuerError::SessionNotFound => Problem::new(StatusCode::NOT_FOUND, "No such session"),
            // As any unknown path: the caller, who may be anyone, learns nothing of the settings.
            IssuerError::NoSessionFeed => Problem::new(StatusCode::NOT_FOUND, "No such resource"),
            IssuerError::NoPublicKeys => Problem::new(
                StatusCode::NOT_FOUND,
                "This issuer signs with a shared secret and publishes no keys",
            ),
            IssuerError::Hash(HashError::Busy) => {
                Problem::unavailable("Too many sign-ins in progress; try again shortly", 1)
            }
            IssuerError::Database(e) => Problem::from(e),
            IssuerError::Hash(HashError::Internal(_)) | IssuerError::Signing(_) => {
                Problem::internal()
            }
        }
    }
}

impl ResponseError for IssuerError {
    fn status_code(&self) -> StatusCode {
        self.problem().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            IssuerError::Database(e) => e.log(),
            IssuerError::Hash(HashError::Internal(_)) | IssuerError::Signing(_) => {
                log::error!("{self}")
            }
            _ => {}
        }
        self.problem().error_response()
    }
}

service::reusable_problems! {
    /// 401 from the middleware of the signed-in's routes.
    SessionRequired = "No token, or one whose session has ended";
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    #[test]
    fn a_lost_database_is_a_503_and_any_other_database_failure_a_500() {
        // A taken email is found by the sign-up's insert itself (`db::insert_user`); a unique
        // violation anywhere else is a bug, not a 409.
        let violation = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("UNIQUE constraint failed: users.id".to_owned()),
        );
        assert_eq!(
            IssuerError::from(DbError::from(violation)).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let lost = IssuerError::from(DbError::Unavailable("connection refused".into()));
        assert_eq!(lost.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let missing = IssuerError::from(DbError::from(DieselError::NotFound));
        assert_eq!(missing.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_wait_is_told_in_whole_seconds_rounded_up_and_never_zero() {
        for (wait_ms, told) in [(0, 1), (1, 1), (999, 1), (1000, 1), (1001, 2), (2500, 3)] {
            let refused = IssuerError::too_many_attempts(std::time::Duration::from_millis(wait_ms));
            assert!(
                matches!(refused, IssuerError::TooManyAttempts { retry_after } if retry_after == told),
                "{wait_ms} ms: {refused:?}"
            );
        }
    }

    #[test]
    fn too_many_attempts_says_when_to_come_back() {
        let response = IssuerError::TooManyAttempts { retry_after: 7 }.error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(RETRY_AFTER).unwrap(), "7");
    }
}
