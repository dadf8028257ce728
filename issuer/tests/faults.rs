//! The issuer as a process under faults: its PostgreSQL stopped while sign-ins flow, and itself
//! killed with SIGKILL in the middle of a burst of sign-ups.

use reqwest::Client;
use serde_json::json;
use std::process::Command;
use std::time::Duration;
use test_support::{
    PASSWORD, PrivateCluster, Process, TestDatabase, kill_during_burst, outage, runtime,
};

const SECRET: &str = "fault-test-secret-of-at-least-32-bytes!!";

/// The issuer on `database_url`, its mail written to `mail_dir`.
fn issuer(database_url: &str, mail_dir: &std::path::Path) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_issuer"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("DATABASE_URL", database_url)
        .env("MAIL_DIR", mail_dir)
        .env("PORT", "0")
        .env("ARGON2_MEMORY_KIB", "1024")
        .env("ARGON2_ITERATIONS", "1")
        .env("RATE_LIMIT_PER_MINUTE", "1000000")
        .env("RATE_LIMIT_BURST", "1000000");
    Process::start(command)
}

async fn signin(client: &Client, process: &Process, email: &str) -> u16 {
    client
        .post(process.url("/signin"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[test]
fn a_stopped_database_gives_503_within_seconds_and_service_resumes_by_itself() {
    let Some(cluster) = PrivateCluster::start() else {
        return;
    };
    let mail = tempfile::tempdir().unwrap();
    let process = issuer(&cluster.url("issuer"), mail.path());
    let signup = runtime().block_on(async {
        Client::new()
            .post(process.url("/signup"))
            .json(&json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(signup, 201);
    let (url, client) = (process.url("/signin"), Client::new());
    // Each sign-in waits out the pool's 3 s for a connection before its 503, and the ones in
    // flight at the halt longer: 12 s leave room for the four the contract asks to see.
    let seen = outage(&cluster, 4, Duration::from_secs(12), move || {
        let request = client
            .post(&url)
            .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
            .timeout(Duration::from_secs(30))
            .send();
        async move { request.await.map_or(0, |r| r.status().as_u16()) }
    });
    seen.assert_contract_held(&process.logs());
    let alive = runtime().block_on(signin(&Client::new(), &process, "ada@example.com"));
    assert_eq!(alive, 200, "the process stayed up");
}

#[test]
fn every_signup_answered_201_can_sign_in_after_a_sigkill_mid_burst() {
    let database = TestDatabase::new();
    let process = issuer(&database.url, &database.mail_dir());
    let (url, client) = (process.url("/signup"), Client::new());
    let acknowledged = kill_during_burst(process, 8, 100, move |n| {
        let email = format!("burst{n}@example.com");
        let request = client
            .post(&url)
            .json(&json!({"email": email, "password": PASSWORD, "name": "Burst"}))
            .send();
        async move { (request.await.ok()?.status().as_u16() == 201).then_some(email) }
    });
    assert!(
        acknowledged.len() >= 100,
        "{} acknowledged",
        acknowledged.len()
    );

    let restarted = issuer(&database.url, &database.mail_dir());
    runtime().block_on(async {
        let client = Client::new();
        for email in &acknowledged {
            assert_eq!(
                signin(&client, &restarted, email).await,
                200,
                "{email} was answered 201 and cannot sign in"
            );
        }
    });
}
