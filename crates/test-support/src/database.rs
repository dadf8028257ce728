//! A database that exists for one test: SQLite by default, PostgreSQL when `TEST_DATABASE_URL`
//! names a server.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// A database that exists for one test and is removed after it, with a folder of the test's own
/// (the SQLite file lives there, and the issuer's mail).
pub struct TestDatabase {
    pub url: String,
    files: tempfile::TempDir,
    /// The server's administrative URL and the database's name, on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new() -> Self {
        let files = tempfile::tempdir().expect("a temporary directory");
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL server")
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("TEST_DATABASE_URL's role must be allowed to create databases");
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("TEST_DATABASE_URL needs a database name");
                Self {
                    url: format!("{base}/{name}"),
                    files,
                    postgres: Some((admin_url, name)),
                }
            }
            None => Self {
                url: format!("sqlite://{}/test.db", files.path().display()),
                files,
                postgres: None,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Where the issuer writes its mail in this test (`MAIL_DIR`).
    pub fn mail_dir(&self) -> std::path::PathBuf {
        self.files.path().join("mail")
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}
