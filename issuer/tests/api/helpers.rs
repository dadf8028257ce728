use issuer::Config;
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use test_support::TestDatabase;
pub use test_support::{assert_problem, fields};

pub const SECRET: &str = "integration-test-secret-of-at-least-32-bytes";
pub use test_support::PASSWORD;

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub database: TestDatabase,
}

/// Settings every test starts from: cheap hashes (the cost is not what most tests are about) and
/// a rate limit no ordinary test reaches.
fn base_settings(database_url: &str) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database_url),
        ("BETTER_AUTH_SECRET", SECRET),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("ARGON2_MEMORY_KIB", "1024"),
        ("ARGON2_ITERATIONS", "1"),
        ("RATE_LIMIT_PER_MINUTE", "10000"),
        ("RATE_LIMIT_BURST", "10000"),
        ("PUBLIC_URL", "https://tasks.test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_on(TestDatabase::new(), overrides).await
}

/// Starts an issuer on `database`, with `overrides` replacing or adding settings.
pub async fn spawn_app_on(database: TestDatabase, overrides: &[(&str, &str)]) -> TestApp {
    let address = start(&database, overrides).await;
    TestApp {
        address,
        client: Client::new(),
        database,
    }
}

/// Starts an issuer server on `database` (another, if one runs there already), its mail going
/// to the database's mail folder unless `overrides` say otherwise, and returns its address.
pub async fn start(database: &TestDatabase, overrides: &[(&str, &str)]) -> String {
    let mut settings = base_settings(&database.url);
    settings.push((
        "MAIL_DIR".to_owned(),
        database.mail_dir().display().to_string(),
    ));
    for (key, value) in overrides {
        settings.retain(|(k, _)| k != key);
        settings.push(((*key).to_owned(), (*value).to_owned()));
    }
    let config = Config::from_pairs(settings).expect("a valid test configuration");
    let app = issuer::bind(config).await.expect("the issuer starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_rt::spawn(app.run_until_stopped());
    address
}

/// Signs Ada up and returns her token.
pub async fn ada(app: &TestApp) -> String {
    let response = app.signup("ada@example.com", PASSWORD, "Ada").await;
    assert_eq!(response.status().as_u16(), 201);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn signup(&self, email: &str, password: &str, name: &str) -> Response {
        self.post_json(
            "/signup",
            &json!({"email": email, "password": password, "name": name}),
        )
        .await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Response {
        self.post_json("/signin", &json!({"email": email, "password": password}))
            .await
    }

    pub async fn signin_status(&self, email: &str, password: &str) -> u16 {
        self.signin(email, password).await.status().as_u16()
    }

    /// A sign-in for ada@example.com with `X-Forwarded-For: forwarded`.
    pub async fn signin_forwarded_for(&self, forwarded: &str) -> Response {
        self.client
            .post(format!("{}/signin", self.address))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// A fresh sign-in's token for `email`.
    pub async fn session(&self, email: &str) -> String {
        let response = self.signin(email, PASSWORD).await;
        assert_eq!(response.status().as_u16(), 200);
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Whether `token`'s session is still live here: `GET /account` answers 200 rather than 401.
    pub async fn live(&self, token: &str) -> bool {
        match self
            .call(Method::GET, "/account", Some(token), None)
            .await
            .status()
            .as_u16()
        {
            200 => true,
            401 => false,
            other => panic!("GET /account answered {other}"),
        }
    }

    /// The app's database, for what no route shows.
    pub fn pool(&self) -> database::Pool {
        let url = database::DatabaseUrl::parse(&self.database.url).unwrap();
        database::connect(&url, &issuer::db::MIGRATIONS, &Default::default()).unwrap()
    }

    /// Replaces an account's stored password hash, as an older build would have left it.
    pub fn set_stored_hash(&self, email: &str, hash: &str) {
        use diesel::prelude::*;
        diesel::update(issuer::db::users::table.filter(issuer::db::users::email.eq(email)))
            .set(issuer::db::users::password_hash.eq(hash))
            .execute(&mut *self.pool().get().unwrap())
            .unwrap();
    }

    /// The stored password hash of an account, read straight from the database.
    pub fn stored_hash(&self, email: &str) -> String {
        use diesel::prelude::*;
        issuer::db::users::table
            .filter(issuer::db::users::email.eq(email))
            .select(issuer::db::users::password_hash)
            .first(&mut *self.pool().get().unwrap())
            .unwrap()
    }

    /// Rows left in the outbox.
    pub fn outbox_rows(&self) -> i64 {
        use diesel::prelude::*;
        issuer::outbox::outbox::table
            .count()
            .get_result(&mut *self.pool().get().unwrap())
            .unwrap()
    }

    /// The messages written to the app's `MAIL_DIR`, waiting up to `within` for `count` of them.
    pub async fn mail(&self, count: usize, within: Duration) -> Vec<String> {
        mail_files(&self.database.mail_dir(), count, within).await
    }

    /// The messages with `subject` written to the app's `MAIL_DIR`, waiting up to `within` for
    /// `count` of them.
    pub async fn mail_with_subject(
        &self,
        subject: &str,
        count: usize,
        within: Duration,
    ) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let found = with_subject(self.mail(0, Duration::ZERO).await, subject);
            if found.len() >= count || Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A port nothing listens on: a mail server that is down.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `.eml` files in `folder`, waiting up to `within` for `count` of them.
pub async fn mail_files(folder: &Path, count: usize, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .into_iter()
            .flatten()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "eml"))
            .collect();
        if files.len() >= count || Instant::now() > deadline {
            files.sort();
            return files
                .iter()
                .map(|path| std::fs::read_to_string(path).unwrap())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The messages among `messages` whose subject is `subject`.
pub fn with_subject(messages: Vec<String>, subject: &str) -> Vec<String> {
    let header = format!("Subject: {subject}\r\n");
    messages
        .into_iter()
        .filter(|message| message.contains(&header))
        .collect()
}

/// The secret of the link in `message` to the web client's `page` (`reset-password`,
/// `verify-email`), read through the quoted-printable encoding of the text part.
pub fn link_secret(message: &str, page: &str) -> String {
    let unfolded = message.replace("=\r\n", "").replace("=3D", "=");
    let marker = format!("#{page}=");
    let start = unfolded
        .find(&marker)
        .unwrap_or_else(|| panic!("no {page} link in {message}"))
        + marker.len();
    unfolded[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// A token's claims, as its payload says them (its signature is not what this is for).
pub fn token_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&json).expect("JSON claims")
}

/// The token settings of the test issuer: HS256 with its secret.
pub fn token_settings() -> shared::token::TokenSettings {
    test_support::hs256_settings(SECRET)
}

pub fn verifier() -> shared::token::Verifier {
    let settings = token_settings();
    shared::token::Verifier::with_secret(&settings, settings.secret.as_ref().unwrap())
}
