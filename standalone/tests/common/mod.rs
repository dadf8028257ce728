//! What the tests of the whole system share: the issuer and tasks-api replicas as servers of
//! their own in this test process, on fresh databases, and the calls the tests make of them.
// Each test file uses its own part of this.
#![allow(dead_code)]

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_support::{Process, TestDatabase};
pub const SECRET: &str = "system-test-secret-of-at-least-32-bytes";
pub const FEED_SECRET: &str = "feed-credential-7c1e9a3b5d2f4e6a8b0c";
pub use test_support::PASSWORD;

/// How the tokens are signed: a shared secret, or the issuer's key with its JWKS.
#[derive(Clone, Copy, Debug)]
pub enum Algorithm {
    Hs256,
    EdDsa,
}

impl Algorithm {
    /// The variables that choose it, for the issuer and tasks-api alike.
    fn pairs(self) -> Vec<(&'static str, String)> {
        match self {
            Algorithm::Hs256 => vec![("BETTER_AUTH_SECRET", SECRET.into())],
            Algorithm::EdDsa => vec![("JWT_ALGORITHM", "EdDSA".into())],
        }
    }
}

/// The issuer's settings in these tests: cheap hashes, and many sign-ins from one address and
/// for one account, on purpose.
fn issuer_settings() -> Vec<(&'static str, String)> {
    vec![
        ("HOST", "127.0.0.1".into()),
        ("PORT", "0".into()),
        ("ARGON2_MEMORY_KIB", "1024".into()),
        ("ARGON2_ITERATIONS", "1".into()),
        ("RATE_LIMIT_PER_MINUTE", "10000".into()),
        ("RATE_LIMIT_BURST", "10000".into()),
        ("SIGNIN_FREE_FAILURES", "10000".into()),
    ]
}

pub async fn start_issuer(database: &TestDatabase, algorithm: Algorithm) -> String {
    let mut pairs = issuer_settings();
    pairs.push(("DATABASE_URL", database.url.clone()));
    pairs.push(("MAIL_DIR", database.mail_dir().display().to_string()));
    pairs.push(("SESSION_FEED_SECRET", FEED_SECRET.into()));
    pairs.extend(algorithm.pairs());
    let config = issuer::Config::from_pairs(pairs).expect("a valid issuer configuration");
    let service = issuer::bind(config).await.expect("the issuer starts");
    let url = format!("http://127.0.0.1:{}", service.port());
    actix_web::rt::spawn(service.run_until_stopped());
    url
}

/// A tasks-api replica on `database` that reads the feed at `feed` (the issuer, or a relay to
/// it), and verifies the issuer's tokens as `algorithm` says.
pub async fn start_replica(
    database: &TestDatabase,
    algorithm: Algorithm,
    issuer: &str,
    feed: &str,
    staleness: &str,
) -> String {
    let mut pairs = vec![
        ("DATABASE_URL", database.url.clone()),
        ("SESSION_FEED_URL", format!("{feed}/internal/session-ends")),
        ("SESSION_FEED_SECRET", FEED_SECRET.into()),
        ("SESSION_FEED_MAX_STALENESS_SECONDS", staleness.into()),
        ("HOST", "127.0.0.1".into()),
        ("PORT", "0".into()),
    ];
    pairs.extend(algorithm.pairs());
    if let Algorithm::EdDsa = algorithm {
        pairs.push(("JWKS_URL", format!("{issuer}/.well-known/jwks.json")));
    }
    let config = tasks_api::Config::from_pairs(pairs).expect("a valid tasks-api configuration");
    let service = tasks_api::bind(config).await.expect("tasks-api starts");
    let url = format!("http://127.0.0.1:{}", service.port());
    actix_web::rt::spawn(service.run_until_stopped());
    url
}

pub async fn post(url: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = Client::new().post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// A new session of `email`: its token and the user's id.
pub async fn sign_in(issuer: &str, email: &str) -> (String, String) {
    let body: Value = post(
        &format!("{issuer}/signin"),
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await
    .json()
    .await
    .unwrap();
    (
        body["token"].as_str().unwrap().to_owned(),
        body["user"]["id"].as_str().unwrap().to_owned(),
    )
}

/// What `service`'s `/ready` answers.
pub async fn ready_status(service: &str) -> StatusCode {
    Client::new()
        .get(format!("{service}/ready"))
        .send()
        .await
        .unwrap()
        .status()
}

pub async fn list_status(replica: &str, user: &str, token: &str) -> StatusCode {
    Client::new()
        .get(format!("{replica}/api/{user}/tasks"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits until `replica` refuses `token` with 401, polled every 10 ms for at most 5 s.
pub async fn refused_by(replica: &str, user: &str, token: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if list_status(replica, user, token).await == StatusCode::UNAUTHORIZED {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{replica} still serves the ended session after 5 s");
}

/// Until `replica` has read the feed, it answers 503; waits for its first 200.
pub async fn until_ready(replica: &str, user: &str, token: &str) {
    let started = Instant::now();
    while list_status(replica, user, token).await != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{replica} never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new account for `email`, signed in: the answer's body, with its token and user.
pub async fn sign_up(issuer: &str, email: &str) -> Value {
    let response = post(
        &format!("{issuer}/signup"),
        None,
        json!({"email": email, "password": PASSWORD, "name": "Someone"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// A pool of connections to `database`, to read it straight.
pub fn pool(database: &TestDatabase, migrations: &'static database::Migrations) -> database::Pool {
    let url = database::DatabaseUrl::parse(&database.url).unwrap();
    database::connect(&url, migrations, &Default::default()).unwrap()
}

/// How many tasks `user` has in the tasks database, read straight from it.
pub fn tasks_of(database: &TestDatabase, user: &str) -> i64 {
    use diesel::prelude::*;
    use tasks_api::db::tasks;
    let mut conn = pool(database, &tasks_api::db::MIGRATIONS).get().unwrap();
    let conn = &mut *conn;
    database::on_backend!(conn => tasks::table
        .filter(tasks::user_id.eq(user))
        .count()
        .get_result(conn))
    .unwrap()
}

/// The whole system, deployed one of two ways, on fresh databases.
pub struct System {
    /// Where the issuer's routes are.
    pub issuer: String,
    /// Where tasks-api's routes are.
    pub tasks: String,
    pub issuer_db: TestDatabase,
    pub tasks_db: TestDatabase,
    /// How long tasks-api may take to learn that sessions ended or an account went: nothing in
    /// one process, the feed's poll and a request's time across services.
    pub learns_within: Duration,
    _process: Option<Process>,
}

impl System {
    /// The standalone binary: both services in one process, tasks-api told of every end before
    /// the answer that made it goes out.
    pub fn standalone() -> Self {
        let (issuer_db, tasks_db) = (TestDatabase::new(), TestDatabase::new());
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_standalone"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BETTER_AUTH_SECRET", SECRET)
            .env("ISSUER_DATABASE_URL", &issuer_db.url)
            .env("TASKS_DATABASE_URL", &tasks_db.url)
            .env("MAIL_DIR", issuer_db.mail_dir())
            .envs(issuer_settings());
        let process = Process::start(command);
        let url = process.url("");
        Self {
            issuer: url.clone(),
            tasks: url,
            issuer_db,
            tasks_db,
            learns_within: Duration::ZERO,
            _process: Some(process),
        }
    }

    /// The issuer and one tasks-api replica, each a server of its own, tasks-api following the
    /// issuer's feed.
    pub async fn two_services() -> Self {
        let (issuer_db, tasks_db) = (TestDatabase::new(), TestDatabase::new());
        let issuer = start_issuer(&issuer_db, Algorithm::Hs256).await;
        let tasks = start_replica(&tasks_db, Algorithm::Hs256, &issuer, &issuer, "60").await;
        Self {
            issuer,
            tasks,
            issuer_db,
            tasks_db,
            learns_within: Duration::from_secs(2),
            _process: None,
        }
    }
}
