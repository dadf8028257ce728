//! Every way a tasks-api request can fail, and the one place where each becomes its answer in
//! problem+json. A handler returns `ApiError` and uses `?`: a failed query whose row is missing
//! becomes 404 here, whatever the handler forgot to map.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use database::DbError;
use service::http::{Problem, Unauthenticated};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, or one that cannot be used.
    #[error("{0}")]
    Unauthenticated(#[from] Unauthenticated),
    /// tasks-api has not read the issuer's feed of ended sessions for too long, and cannot tell
    /// whether the token's session goes on.
    #[error("the sessions are not known; retry after {retry_after} s")]
    SessionsUnknown { retry_after: u32 },
    /// A valid token for another user's path.
    #[error("the token is for another user")]
    NotOwner,
    /// No such task for this user; another user's task looks exactly the same.
    #[error("no such task")]
    TaskNotFound,
    /// A request refused with the problem that names what is wrong with it (a field, a query
    /// parameter).
    #[error("{0}")]
    Rejected(#[from] Problem),
    #[error(transparent)]
    Database(DbError),
    /// Our own fault (a route mounted without the auth middleware, JSON that cannot be
    /// written): logged, and answered 500 without the cause.
    #[error("{0}")]
    Internal(String),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_not_found() {
            ApiError::TaskNotFound
        } else {
            ApiError::Database(e)
        }
    }
}

/// A write refused because its owner's account has been deleted: tasks-api applied the deletion
/// while the write was on its way, and the token no longer speaks for anyone.
#[derive(Debug)]
pub struct AccountDeleted;

impl From<AccountDeleted> for ApiError {
    fn from(_: AccountDeleted) -> Self {
        Unauthenticated::ACCOUNT_DELETED.into()
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(format!("cannot write JSON: {e}"))
    }
}

impl ApiError {
    fn problem(&self) -> Problem {
        match self {
            ApiError::Unauthenticated(refused) => refused.problem("tasks-api"),
            ApiError::SessionsUnknown { retry_after } => Problem::unavailable(
                "Whether this session goes on is not known just now; try again shortly",
                *retry_after,
            ),
            ApiError::NotOwner => Problem::new(
                StatusCode::FORBIDDEN,
                "This token does not grant access to this user's tasks",
            ),
            ApiError::TaskNotFound => Problem::new(StatusCode::NOT_FOUND, "Task not found"),
            ApiError::Rejected(problem) => problem.clone(),
            ApiError::Database(e) => Problem::from(e),
            ApiError::Internal(_) => Problem::internal(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Database(e) => e.log(),
            ApiError::Internal(cause) => log::error!("{cause}"),
            _ => {}
        }
        self.problem().error_response()
    }
}

service::reusable_problems! {
    /// 401 from the auth middleware, with `WWW-Authenticate`.
    NoValidToken = "Missing or invalid token";
    /// 403 from the auth middleware.
    NotTheOwner = "The token's subject is not this user";
    /// 404, exactly as for another user's task.
    TaskNotFound = "No such task for this user";
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::Error as DieselError;

    #[test]
    fn a_missing_row_is_a_404_wherever_it_comes_from() {
        let missing = ApiError::from(DbError::from(DieselError::NotFound));
        assert_eq!(missing.status_code(), StatusCode::NOT_FOUND);
        let lost = ApiError::from(DbError::Unavailable("connection refused".into()));
        assert_eq!(lost.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let broken = ApiError::from(DbError::from(DieselError::RollbackTransaction));
        assert_eq!(broken.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
