//! The whole journey against the standalone binary, started as a newcomer would: no
//! configuration at all, SQLite files under `data/`.

use reqwest::Client;
use serde_json::{Value, json};
use std::process::Command;
use test_support::{PASSWORD, Process, assert_refs_resolve};

fn standalone(dir: &std::path::Path) -> Process {
    Process::start(standalone_command(dir))
}

/// The standalone binary in `dir`, with nothing configured but a free port and cheap hashes.
fn standalone_command(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_standalone"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("ARGON2_MEMORY_KIB", "1024");
    command
}

#[tokio::test]
async fn with_eddsa_it_publishes_its_keys_and_verifies_its_tokens_without_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = standalone_command(dir.path());
    command.env("JWT_ALGORITHM", "EdDSA");
    let process = Process::start(command);
    assert!(
        !process.logs().contains("BETTER_AUTH_SECRET"),
        "no secret is needed, nor generated"
    );
    let client = Client::new();
    let jwks: Value = client
        .get(process.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    let signup: Value = client
        .post(process.url("/signup"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signup["token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(token).unwrap().kid.as_deref(),
        jwks["keys"][0]["kid"].as_str()
    );
    let created = client
        .post(process.url(&format!(
            "/api/{}/tasks",
            signup["user"]["id"].as_str().unwrap()
        )))
        .bearer_auth(token)
        .json(&json!({"title": "Signed with EdDSA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
}

#[tokio::test]
async fn a_user_signs_up_signs_in_and_manages_tasks_through_one_port() {
    let dir = tempfile::tempdir().unwrap();
    let process = standalone(dir.path());
    assert!(
        process.logs().contains("BETTER_AUTH_SECRET is not set"),
        "it warns that tokens die with the process"
    );
    let client = Client::new();
    let url = |path: &str| process.url(path);

    assert_eq!(
        client
            .get(url("/ready"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert!(
        dir.path().join("data/issuer.db").exists() && dir.path().join("data/tasks.db").exists()
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &str| {
            std::fs::metadata(dir.path().join(path))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("data"), 0o700, "the data folder is its owner's alone");
        assert_eq!(mode("data/issuer.db"), 0o600);
        assert_eq!(mode("data/tasks.db"), 0o600);
    }

    let account = json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"});
    let signup = client
        .post(url("/signup"))
        .json(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status().as_u16(), 201);
    let signin: Value = client
        .post(url("/signin"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signin["token"].as_str().unwrap();
    let user = signin["user"]["id"].as_str().unwrap();
    let tasks = url(&format!("/api/{user}/tasks"));

    let created = client
        .post(&tasks)
        .bearer_auth(token)
        .json(&json!({"title": "Buy milk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let task: Value = created.json().await.unwrap();
    let task_url = format!("{tasks}/{}", task["id"]);

    let listed: Vec<Value> = client
        .get(&tasks)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, std::slice::from_ref(&task));

    let updated: Value = client
        .put(&task_url)
        .bearer_auth(token)
        .json(&json!({"description": "Two litres"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(updated["description"], "Two litres");

    let toggled: Value = client
        .patch(format!("{task_url}/complete"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(toggled["completed"], true);

    let deleted = client
        .delete(&task_url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted.json::<Value>().await.unwrap(),
        json!({"status": "deleted", "task_id": task["id"]})
    );
    assert_eq!(
        client
            .get(&task_url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    assert_eq!(
        client.get(&tasks).send().await.unwrap().status().as_u16(),
        401
    );
    let document: Value = client
        .get(url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        document["paths"]["/signin"].is_object()
            && document["paths"]["/api/{user_id}/tasks"].is_object()
    );
    // Both services' documents merged, with every component either refers to.
    assert_refs_resolve(&document);
}

#[tokio::test]
async fn tasks_survive_a_restart_when_the_secret_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "standalone-test-secret-of-at-least-32-bytes";
    let start = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_standalone"));
        command
            .current_dir(dir.path())
            .env("PORT", "0")
            .env("ARGON2_MEMORY_KIB", "1024")
            .env("BETTER_AUTH_SECRET", secret);
        Process::start(command)
    };
    let client = Client::new();
    let account = json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"});
    let first = start();
    assert!(!first.logs().contains("BETTER_AUTH_SECRET is not set"));
    let signup: Value = client
        .post(first.url("/signup"))
        .json(&account)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (token, user) = (
        signup["token"].as_str().unwrap().to_owned(),
        signup["user"]["id"].as_str().unwrap().to_owned(),
    );
    client
        .post(first.url(&format!("/api/{user}/tasks")))
        .bearer_auth(&token)
        .json(&json!({"title": "Keep me"}))
        .send()
        .await
        .unwrap();
    drop(first);

    let second = start();
    let listed: Vec<Value> = client
        .get(second.url(&format!("/api/{user}/tasks")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        1,
        "the old token still works and the task is still there"
    );
    assert_eq!(listed[0]["title"], "Keep me");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_a_proxy_would_add() {
    let dir = tempfile::tempdir().unwrap();
    let process = standalone(dir.path());
    let client = Client::new();
    let answers = [
        client.get(process.url("/health")).send().await.unwrap(),
        client
            .get(process.url("/no-such-page"))
            .send()
            .await
            .unwrap(),
        client
            .get(process.url("/api/ada/tasks"))
            .send()
            .await
            .unwrap(),
        client
            .post(process.url("/signin"))
            .body("not json")
            .send()
            .await
            .unwrap(),
    ];
    for answer in answers {
        let status = answer.status();
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            (
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'",
            ),
        ] {
            let sent: Vec<_> = answer.headers().get_all(name).iter().collect();
            assert_eq!(sent, [value], "{name} on a {status} answer");
        }
    }
}

/// In one process there is no feed to wait for: the answer that ends a session goes out once
/// tasks-api refuses it, and the one that deletes an account once its tasks are gone.
async fn sessions_end_at_once(command: Command) {
    let process = Process::start(command);
    let client = Client::new();
    let password = PASSWORD;
    let credentials = json!({"email": "ada@example.com", "password": password});
    let session = |path: &'static str| {
        let mut body = credentials.clone();
        if path == "/signup" {
            body["name"] = json!("Ada");
        }
        let (client, url) = (&client, process.url(path));
        async move {
            let body: Value = client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (
                body["token"].as_str().unwrap().to_owned(),
                body["user"]["id"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (first, user) = session("/signup").await;
    let (second, _) = session("/signin").await;
    let tasks = process.url(&format!("/api/{user}/tasks"));
    let list_status = |token: &str| {
        let request = client.get(&tasks).bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let created = client
        .post(&tasks)
        .bearer_auth(&first)
        .json(&json!({"title": "Buy milk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);

    let signed_out = client
        .post(process.url("/signout"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status().as_u16(), 204);
    assert_eq!(list_status(&first).await, 401, "at once");
    assert_eq!(list_status(&second).await, 200);

    let deleted = client
        .delete(process.url("/account"))
        .bearer_auth(&second)
        .json(&json!({"password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    assert_eq!(list_status(&second).await, 401, "at once");
    let (again, same_user) = session("/signup").await;
    assert_ne!(same_user, user, "a new account");
    let listed: Value = client
        .get(process.url(&format!("/api/{same_user}/tasks")))
        .bearer_auth(&again)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]), "the new account starts empty");
    assert!(
        !process.logs().contains("session feed"),
        "every catch-up succeeded: {}",
        process.logs()
    );
}

#[tokio::test]
async fn with_hs256_the_standalone_process_refuses_an_ended_session_at_once() {
    let dir = tempfile::tempdir().unwrap();
    sessions_end_at_once(standalone_command(dir.path())).await;
}

#[tokio::test]
async fn with_eddsa_the_standalone_process_refuses_an_ended_session_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = standalone_command(dir.path());
    command.env("JWT_ALGORITHM", "EdDSA");
    sessions_end_at_once(command).await;
}
