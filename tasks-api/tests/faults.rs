//! tasks-api as a process under faults: its PostgreSQL stopped while requests flow, and itself
//! killed with SIGKILL in the middle of a burst of creates.

use reqwest::Client;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;
use test_support::{PrivateCluster, Process, TestDatabase, kill_during_burst, outage, runtime};

const SECRET: &str = "fault-test-secret-of-at-least-32-bytes!!";

fn tasks_api(database_url: &str) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tasks-api"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("DATABASE_URL", database_url)
        .env("PORT", "0");
    Process::start(command)
}

fn token_for(user: &str) -> String {
    test_support::hs256_token(SECRET, user, test_support::SESSION)
}

#[test]
fn a_stopped_database_gives_503_within_seconds_and_service_resumes_by_itself() {
    let Some(cluster) = PrivateCluster::start() else {
        return;
    };
    let process = tasks_api(&cluster.url("tasks"));
    let (tasks, health, token) = (
        process.url("/api/ada/tasks"),
        process.url("/health"),
        token_for("ada"),
    );
    let client = Client::new();
    let seen = outage(&cluster, 4, Duration::from_secs(8), move || {
        let request = client
            .post(&tasks)
            .bearer_auth(&token)
            .json(&json!({"title": "while the database comes and goes"}))
            .timeout(Duration::from_secs(30))
            .send();
        async move { request.await.map_or(0, |r| r.status().as_u16()) }
    });
    seen.assert_contract_held(&process.logs());
    let alive =
        runtime().block_on(async { reqwest::get(&health).await.map(|r| r.status().as_u16()) });
    assert_eq!(alive.ok(), Some(200), "the process stayed up");
}

#[test]
fn every_create_answered_201_is_there_after_a_sigkill_mid_burst() {
    let database = TestDatabase::new();
    let process = tasks_api(&database.url);
    let tasks = process.url("/api/ada/tasks");
    let token = token_for("ada");
    let client = Client::new();
    let (burst_url, burst_token) = (tasks.clone(), token.clone());
    let acknowledged = kill_during_burst(process, 8, 200, move |n| {
        let request = client
            .post(&burst_url)
            .bearer_auth(&burst_token)
            .json(&json!({"title": format!("burst {n}")}))
            .send();
        async move {
            let response = request.await.ok()?;
            if response.status().as_u16() != 201 {
                return None;
            }
            let task: Value = response.json().await.ok()?;
            Some((task["id"].as_i64()?, task["title"].as_str()?.to_owned()))
        }
    });
    assert!(
        acknowledged.len() >= 200,
        "{} acknowledged",
        acknowledged.len()
    );

    let restarted = tasks_api(&database.url);
    let stored: BTreeMap<i64, String> = runtime().block_on(async {
        let client = Client::new();
        let mut stored = BTreeMap::new();
        loop {
            let page: Vec<Value> = client
                .get(restarted.url(&format!("/api/ada/tasks?limit=500&offset={}", stored.len())))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if page.is_empty() {
                break stored;
            }
            for task in page {
                stored.insert(
                    task["id"].as_i64().unwrap(),
                    task["title"].as_str().unwrap().to_owned(),
                );
            }
        }
    });
    for (id, title) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(title),
            "task {id} was answered 201 and then lost"
        );
    }
}
