//! The issuer and tasks-api as separate servers with an asymmetric algorithm: the issuer mints
//! and publishes its keys, tasks-api verifies through the JWKS alone (it holds no secret).

mod common;

use common::sign_up;
use reqwest::Client;
use serde_json::{Value, json};
use test_support::TestDatabase;

struct Issuer {
    url: String,
    config: issuer::Config,
    database: TestDatabase,
}

fn issuer_config(database: &TestDatabase, algorithm: &str) -> issuer::Config {
    let mail_dir = database.mail_dir().display().to_string();
    issuer::Config::from_pairs([
        ("DATABASE_URL", database.url.as_str()),
        ("MAIL_DIR", mail_dir.as_str()),
        ("JWT_ALGORITHM", algorithm),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("ARGON2_MEMORY_KIB", "1024"),
        ("ARGON2_ITERATIONS", "1"),
    ])
    .expect("a valid issuer configuration")
}

async fn start_issuer(database: TestDatabase, algorithm: &str) -> Issuer {
    let config = issuer_config(&database, algorithm);
    let service = issuer::bind(config.clone())
        .await
        .expect("the issuer starts");
    let url = format!("http://127.0.0.1:{}", service.port());
    actix_web::rt::spawn(service.run_until_stopped());
    Issuer {
        url,
        config,
        database,
    }
}

async fn start_tasks_api(jwks_url: &str, algorithm: &str) -> (String, TestDatabase) {
    let database = TestDatabase::new();
    let config = tasks_api::Config::from_pairs([
        ("DATABASE_URL", database.url.as_str()),
        ("JWT_ALGORITHM", algorithm),
        ("JWKS_URL", jwks_url),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ])
    .expect("a valid tasks-api configuration");
    let service = tasks_api::bind(config).await.expect("tasks-api starts");
    let url = format!("http://127.0.0.1:{}", service.port());
    actix_web::rt::spawn(service.run_until_stopped());
    (url, database)
}

async fn jwks(issuer: &Issuer) -> (String, Value) {
    let response = Client::new()
        .get(format!("{}/.well-known/jwks.json", issuer.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let cache_control = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    (cache_control, response.json().await.unwrap())
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("a kid")
}

#[actix_web::test]
async fn each_algorithm_goes_from_the_issuer_to_tasks_api_through_the_jwks() {
    for algorithm in ["EdDSA", "ES256"] {
        let issuer = start_issuer(TestDatabase::new(), algorithm).await;
        let (cache_control, set) = jwks(&issuer).await;
        assert_eq!(cache_control, "public, max-age=300");
        let key = &set["keys"][0];
        assert_eq!(
            (key["alg"].as_str(), key["use"].as_str()),
            (Some(algorithm), Some("sig"))
        );
        assert!(key.get("d").is_none(), "{algorithm}: no private part");

        let jwks_url = format!("{}/.well-known/jwks.json", issuer.url);
        let (tasks, _db) = start_tasks_api(&jwks_url, algorithm).await;
        let account = sign_up(&issuer.url, &format!("{algorithm}@example.com")).await;
        let token = account["token"].as_str().unwrap();
        assert_eq!(kid(token), key["kid"].as_str().unwrap(), "{algorithm}");
        let user = account["user"]["id"].as_str().unwrap();
        let response = Client::new()
            .post(format!("{tasks}/api/{user}/tasks"))
            .bearer_auth(token)
            .json(&json!({"title": "Verified by public key"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201, "{algorithm}");
    }
}

#[actix_web::test]
async fn the_generated_key_survives_a_restart_of_the_issuer() {
    let issuer = start_issuer(TestDatabase::new(), "EdDSA").await;
    let before = kid(sign_up(&issuer.url, "ada@example.com").await["token"]
        .as_str()
        .unwrap());
    let again = start_issuer(issuer.database, "EdDSA").await;
    let after = kid(sign_up(&again.url, "bob@example.com").await["token"]
        .as_str()
        .unwrap());
    assert_eq!(before, after);
}

#[actix_web::test]
async fn a_rotated_key_is_published_at_once_but_signs_only_later() {
    let issuer = start_issuer(TestDatabase::new(), "EdDSA").await;
    let old = kid(sign_up(&issuer.url, "ada@example.com").await["token"]
        .as_str()
        .unwrap());
    let (new, activates_at) = issuer::startup::rotate_key(&issuer.config).unwrap();
    assert!(activates_at > chrono::Utc::now().naive_utc() + chrono::TimeDelta::minutes(9));
    // A fresh instance reads the stored keys as a running one does at its next reload.
    let restarted = start_issuer(issuer.database, "EdDSA").await;
    let (_, set) = jwks(&restarted).await;
    let published: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(published, [old.as_str(), new.as_str()]);
    let token = sign_up(&restarted.url, "bob@example.com").await;
    assert_eq!(
        kid(token["token"].as_str().unwrap()),
        old,
        "the old key signs until then"
    );
}

#[actix_web::test]
async fn an_hs256_issuer_publishes_no_keys() {
    let database = TestDatabase::new();
    let mail_dir = database.mail_dir().display().to_string();
    let config = issuer::Config::from_pairs([
        ("DATABASE_URL", database.url.as_str()),
        ("MAIL_DIR", mail_dir.as_str()),
        (
            "BETTER_AUTH_SECRET",
            "integration-test-secret-of-at-least-32-bytes",
        ),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ])
    .unwrap();
    let service = issuer::bind(config).await.unwrap();
    let url = format!("http://127.0.0.1:{}/.well-known/jwks.json", service.port());
    actix_web::rt::spawn(service.run_until_stopped());
    let response = Client::new().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
