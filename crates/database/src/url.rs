use shared::config::ConfigError;

/// Where the database is. The scheme alone decides the backend, so a mistyped URL is an error at
/// start rather than a SQLite file named after it.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            variable: "DATABASE_URL",
            reason: reason.into(),
        };
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        match raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            Some("") => Err(invalid(
                "a sqlite URL needs a file path, as in sqlite://data/tasks.db",
            )),
            Some(path) => Ok(Self::Sqlite(path.to_owned())),
            None => Err(invalid("must start with sqlite:// or postgres://")),
        }
    }

    /// The URL with any password replaced, fit for a log line or an error message.
    pub fn masked(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{path}"),
            Self::Postgres(url) => {
                let Some((scheme, rest)) = url.split_once("://") else {
                    return "postgres://***".into();
                };
                let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
                let authority = match authority.rsplit_once('@') {
                    Some((credentials, host)) => match credentials.split_once(':') {
                        Some((user, _)) => format!("{user}:***@{host}"),
                        None => authority.to_owned(),
                    },
                    None => authority.to_owned(),
                };
                let query_free = tail.split('?').next().unwrap_or_default();
                format!("{scheme}://{authority}/{query_free}")
            }
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_chooses_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/tasks.db").unwrap(),
            DatabaseUrl::Sqlite("data/tasks.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
    }

    #[test]
    fn an_unknown_scheme_is_refused_naming_the_variable() {
        for raw in ["mysql://u@h/db", "data/tasks.db", "sqlite://", ""] {
            let err = DatabaseUrl::parse(raw).unwrap_err().to_string();
            assert!(err.contains("DATABASE_URL"), "{raw}: {err}");
        }
    }

    #[test]
    fn the_password_is_masked() {
        let url =
            DatabaseUrl::parse("postgres://app:hunter2@db:5432/tasks?sslmode=require").unwrap();
        let masked = url.masked();
        assert!(!masked.contains("hunter2"), "{masked}");
        assert_eq!(masked, "postgres://app:***@db:5432/tasks");
    }
}
