use issuer::Config;
use reqwest::{Client, Response};
use serde_json::{Value, json};
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

    /// Replaces an account's stored password hash, as an older build would have left it.
    pub fn set_stored_hash(&self, email: &str, hash: &str) {
        use diesel::prelude::*;
        let url = database::DatabaseUrl::parse(&self.database.url).unwrap();
        let pool = database::connect(&url, &issuer::db::MIGRATIONS, &Default::default()).unwrap();
        let mut conn = pool.get().unwrap();
        diesel::update(issuer::db::users::table.filter(issuer::db::users::email.eq(email)))
            .set(issuer::db::users::password_hash.eq(hash))
            .execute(&mut *conn)
            .unwrap();
    }

    /// The stored password hash of an account, read straight from the database.
    pub fn stored_hash(&self, email: &str) -> String {
        use diesel::prelude::*;
        let url = database::DatabaseUrl::parse(&self.database.url).unwrap();
        let pool = database::connect(&url, &issuer::db::MIGRATIONS, &Default::default()).unwrap();
        let mut conn = pool.get().unwrap();
        issuer::db::users::table
            .filter(issuer::db::users::email.eq(email))
            .select(issuer::db::users::password_hash)
            .first(&mut *conn)
            .unwrap()
    }
}

/// The token settings of the test issuer: HS256 with its secret.
pub fn token_settings() -> shared::token::TokenSettings {
    test_support::hs256_settings(SECRET)
}

pub fn verifier() -> shared::token::Verifier {
    let settings = token_settings();
    shared::token::Verifier::with_secret(&settings, settings.secret.as_ref().unwrap())
}
