use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Why a database call failed, in the terms a handler needs.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had, or the one we had was lost: the client may retry (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(DieselError),
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => DbError::Unavailable(info.message().to_owned()),
            DieselError::BrokenTransactionManager => {
                DbError::Unavailable("broken transaction manager".into())
            }
            other => DbError::Query(other),
        }
    }
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(DieselError::NotFound))
    }

    /// Logs the cause, which the client is never shown: a warning for a database out of reach,
    /// an error for a query that failed.
    pub fn log(&self) {
        match self {
            DbError::Unavailable(_) => log::warn!("{self}"),
            DbError::Query(cause) => log::error!("database error: {cause}"),
        }
    }
}
