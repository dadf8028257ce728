//! Tokens from a real Better Auth app (the `better-auth` npm package with its JWT plugin, in
//! tests/better-auth) are accepted through its JWKS, with their `sub` as the user id. The test
//! needs Node.js and the installed fixture, so it is ignored by default: run it with
//! tests/better-auth/run.sh.

use crate::helpers::*;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::path::Path;
use test_support::{Process, TestDatabase};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/better-auth");

/// Starts the fixture app on a free port with a fresh SQLite file.
fn better_auth(dir: &Path) -> Process {
    let fixture = Path::new(FIXTURE);
    assert!(
        fixture.join("node_modules/better-auth").is_dir(),
        "the Better Auth fixture is not installed: run tests/better-auth/run.sh"
    );
    let mut command = std::process::Command::new("node");
    command
        .arg("server.mjs")
        .current_dir(fixture)
        .env("PORT", "0")
        .env("DATABASE_PATH", dir.join("better-auth.db"))
        .env(
            "BETTER_AUTH_SECRET",
            "better-auth-fixture-secret-of-at-least-32-bytes",
        );
    Process::start(command)
}

#[actix_rt::test]
#[ignore = "needs Node.js and the Better Auth fixture: run tests/better-auth/run.sh"]
async fn a_better_auth_token_is_accepted_with_its_sub_as_the_user_id() {
    let dir = tempfile::tempdir().unwrap();
    let app = better_auth(dir.path());
    let base_url = app.url("");
    let client = Client::new();
    let signed_up = client
        .post(app.url("/api/auth/sign-up/email"))
        .json(&json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status().as_u16(), 200);
    let session_cookie = signed_up.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let user: Value = signed_up.json().await.unwrap();
    let token: Value = client
        .get(app.url("/api/auth/token"))
        .header("cookie", session_cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().expect("a JWT from the JWT plugin");
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);

    let jwks_url = app.url("/api/auth/jwks");
    let tasks = spawn_app_with(
        TestDatabase::new(),
        &[
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWKS_URL", &jwks_url),
            ("JWT_ISSUER", &base_url),
            ("JWT_AUDIENCE", &base_url),
        ],
    )
    .await;
    let sub = user["user"]["id"].as_str().unwrap();
    let own = tasks
        .request(Method::GET, &format!("/api/{sub}/tasks"), Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 200);
    let someone_else = tasks
        .request(Method::GET, "/api/someone-else/tasks", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(someone_else.status().as_u16(), 403);
    eprintln!(
        "better-auth token (alg {:?}, kid {:?}) accepted by tasks-api for user {sub}: HTTP {}",
        header.alg,
        header.kid,
        own.status()
    );
}
