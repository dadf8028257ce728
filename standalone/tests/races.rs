//! Requests that overlap the end of a session's life, released together rather than sent one at
//! a time: sign-ins racing a password change or an account's deletion, task writes racing a
//! deletion, and sign-ins racing each other at the cap of live sessions. Each race is repeated
//! for many rounds; after each, what the issuer and tasks-api promise must still hold. Every race
//! runs in the standalone process and in the two-service topology, on SQLite, and on PostgreSQL
//! with `TEST_DATABASE_URL`.

mod common;

use common::*;
use futures_util::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};
use test_support::TestDatabase;

/// Rounds of each race, and the requests released together in each.
const ROUNDS: usize = 12;
const TOGETHER: usize = 8;

/// The token of a sign-in that succeeded, `None` for one refused with 401; anything else fails
/// the test.
async fn try_sign_in(issuer: &str, email: &str, password: &str) -> Option<String> {
    let response = post(
        &format!("{issuer}/signin"),
        None,
        json!({"email": email, "password": password}),
    )
    .await;
    match response.status() {
        StatusCode::OK => Some(
            response.json::<serde_json::Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        StatusCode::UNAUTHORIZED => None,
        other => panic!("a sign-in answered {other}"),
    }
}

/// `TOGETHER` sign-ins, spread over a few milliseconds so that some land on each side of what
/// they race: the tokens of those that succeeded.
async fn sign_ins(issuer: &str, email: &str, password: &str) -> Vec<String> {
    let attempts = (0..TOGETHER).map(|i| async move {
        tokio::time::sleep(Duration::from_millis(i as u64 * 2)).await;
        try_sign_in(issuer, email, password).await
    });
    join_all(attempts).await.into_iter().flatten().collect()
}

/// A new account `email` and the token of its first session, and its id.
async fn new_account(issuer: &str, email: &str) -> (String, String) {
    sign_up(issuer, email).await;
    sign_in(issuer, email).await
}

/// Whether the issuer's routes for the signed-in take `token`: 200, or 401 for an ended session.
async fn issuer_takes(issuer: &str, token: &str) -> bool {
    let status = Client::new()
        .get(format!("{issuer}/account"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status();
    match status {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => false,
        other => panic!("GET /account answered {other}"),
    }
}

/// The tokens in `tokens` that the issuer or tasks-api still takes, once tasks-api has had the
/// time the system gives it to learn.
async fn still_served(system: &System, user: &str, tokens: &[String]) -> Vec<String> {
    tokio::time::sleep(system.learns_within).await;
    let mut served = Vec::new();
    for token in tokens {
        let by_issuer = issuer_takes(&system.issuer, token).await;
        let by_tasks = list_status(&system.tasks, user, token).await;
        assert_ne!(
            by_tasks,
            StatusCode::SERVICE_UNAVAILABLE,
            "tasks-api is behind"
        );
        if by_issuer || by_tasks != StatusCode::UNAUTHORIZED {
            served.push(format!("issuer {by_issuer}, tasks-api {by_tasks}"));
        }
    }
    served
}

/// How many rows of `user` the issuer's tables hold: the account and its sessions.
fn issuer_rows_of(database: &TestDatabase, user: &str) -> i64 {
    use diesel::prelude::*;
    use issuer::db::{sessions, users};
    let mut conn = pool(database, &issuer::db::MIGRATIONS).get().unwrap();
    let conn = &mut *conn;
    let accounts: i64 = database::on_backend!(conn => users::table
        .filter(users::id.eq(user))
        .count()
        .get_result(conn))
    .unwrap();
    let sessions: i64 = database::on_backend!(conn => sessions::table
        .filter(sessions::user_id.eq(user))
        .count()
        .get_result(conn))
    .unwrap();
    accounts + sessions
}

/// A password change released together with sign-ins that use the password it replaces: every
/// session those sign-ins got must end with the change (ASVS 7.4.3), at the issuer and at
/// tasks-api.
async fn sign_ins_racing_a_password_change(system: System) {
    let email = "ada@example.com";
    let (_, user) = new_account(&system.issuer, email).await;
    let mut password = PASSWORD.to_owned();
    let mut old_sessions = Vec::new();
    for round in 0..ROUNDS {
        let changer = try_sign_in(&system.issuer, email, &password).await.unwrap();
        let new_password = format!("{PASSWORD} {round}");
        let change = async {
            tokio::time::sleep(Duration::from_millis(3)).await;
            Client::new()
                .put(format!("{}/account/password", system.issuer))
                .bearer_auth(&changer)
                .json(&json!({"current_password": password, "new_password": new_password}))
                .send()
                .await
                .unwrap()
                .status()
        };
        let (tokens, changed) =
            futures_util::join!(sign_ins(&system.issuer, email, &password), change);
        assert_eq!(changed, StatusCode::NO_CONTENT, "round {round}");
        old_sessions.extend(tokens);
        password = new_password;
    }
    let served = still_served(&system, &user, &old_sessions).await;
    assert!(
        served.is_empty(),
        "{} of {} sessions of replaced passwords are still served: {served:?}",
        served.len(),
        old_sessions.len()
    );
}

/// An account's deletion released together with sign-ins to it: no session may outlive the
/// account, at the issuer or at tasks-api, and no row of it may remain.
async fn sign_ins_racing_a_deletion(system: System) {
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let email = format!("round-{round}@example.com");
        let (token, user) = new_account(&system.issuer, &email).await;
        let deletion = async {
            tokio::time::sleep(Duration::from_millis(3)).await;
            Client::new()
                .delete(format!("{}/account", system.issuer))
                .bearer_auth(&token)
                .json(&json!({"password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .status()
        };
        let (tokens, deleted) =
            futures_util::join!(sign_ins(&system.issuer, &email, PASSWORD), deletion);
        assert_eq!(deleted, StatusCode::NO_CONTENT, "round {round}");
        let served = still_served(&system, &user, &tokens).await;
        let rows = issuer_rows_of(&system.issuer_db, &user);
        if !served.is_empty() || rows > 0 {
            failures.push(format!(
                "round {round}: {served:?} served, {rows} rows left"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

/// What one writer saw: the tasks it was told were created, and when it was told.
struct Written {
    acknowledged: Vec<Instant>,
    refused: bool,
}

/// Creates tasks for `user` with `token`, one after another, until one is refused.
async fn write_until_refused(tasks: &str, user: &str, token: &str) -> Written {
    let mut acknowledged = Vec::new();
    for _ in 0..5_000 {
        let sent = Instant::now();
        let status = post(
            &format!("{tasks}/api/{user}/tasks"),
            Some(token),
            json!({"title": "Written while the account goes"}),
        )
        .await
        .status();
        match status {
            StatusCode::CREATED => acknowledged.push(sent),
            StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND => {
                return Written {
                    acknowledged,
                    refused: true,
                };
            }
            other => panic!("a task write answered {other}"),
        }
    }
    Written {
        acknowledged,
        refused: false,
    }
}

/// An account's deletion released while task writes for it stream in from several sessions:
/// once tasks-api has applied it, no task of the account remains, and (in one process, where it
/// is applied before the answer) no write sent after `DELETE /account` answered was acknowledged.
async fn task_writes_racing_a_deletion(system: System) {
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let email = format!("round-{round}@example.com");
        let (deleter, user) = new_account(&system.issuer, &email).await;
        let mut writers = Vec::new();
        for _ in 0..3 {
            writers.push(sign_in(&system.issuer, &email).await.0);
        }
        let deletion = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let status = Client::new()
                .delete(format!("{}/account", system.issuer))
                .bearer_auth(&deleter)
                .json(&json!({"password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .status();
            (status, Instant::now())
        };
        let writes = join_all(
            writers
                .iter()
                .map(|token| write_until_refused(&system.tasks, &user, token)),
        );
        let (written, (deleted, answered_at)) = futures_util::join!(writes, deletion);
        assert_eq!(deleted, StatusCode::NO_CONTENT, "round {round}");
        assert!(
            written.iter().all(|w| w.refused),
            "every writer was refused in the end"
        );
        tokio::time::sleep(system.learns_within).await;
        let left = tasks_of(&system.tasks_db, &user);
        let late = if system.learns_within.is_zero() {
            written
                .iter()
                .flat_map(|w| &w.acknowledged)
                .filter(|sent| **sent > answered_at)
                .count()
        } else {
            0
        };
        if left > 0 || late > 0 {
            failures.push(format!(
                "round {round}: {left} tasks left, {late} acknowledged writes sent after the deletion answered"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

/// How many live sessions `user` has, read straight from the issuer's database.
fn live_sessions_of(database: &TestDatabase, user: &str) -> i64 {
    use diesel::prelude::*;
    use issuer::db::sessions;
    let mut conn = pool(database, &issuer::db::MIGRATIONS).get().unwrap();
    let conn = &mut *conn;
    database::on_backend!(conn => sessions::table
        .filter(sessions::user_id.eq(user))
        .filter(sessions::expires_at.gt(database::now()))
        .count()
        .get_result(conn))
    .unwrap()
}

/// Sign-ins released together at an account that has all but one of its live sessions: the cap
/// holds, whichever of them end which.
async fn sign_ins_racing_each_other_at_the_cap(system: System) {
    const MAX_LIVE: i64 = 50;
    let email = "ada@example.com";
    let (_, user) = new_account(&system.issuer, email).await;
    while live_sessions_of(&system.issuer_db, &user) < MAX_LIVE - 1 {
        sign_in(&system.issuer, email).await;
    }
    let mut most = 0;
    for _ in 0..ROUNDS {
        let tokens = sign_ins(&system.issuer, email, PASSWORD).await;
        assert_eq!(tokens.len(), TOGETHER, "every sign-in succeeds");
        most = most.max(live_sessions_of(&system.issuer_db, &user));
    }
    assert!(
        most <= MAX_LIVE,
        "{most} live sessions, over the cap of {MAX_LIVE}"
    );
}

#[tokio::test]
async fn standalone_sign_ins_racing_a_password_change_keep_no_session_of_the_old_password() {
    sign_ins_racing_a_password_change(System::standalone()).await;
}

#[actix_web::test]
async fn two_services_sign_ins_racing_a_password_change_keep_no_session_of_the_old_password() {
    sign_ins_racing_a_password_change(System::two_services().await).await;
}

#[tokio::test]
async fn standalone_sign_ins_racing_a_deletion_leave_no_session_and_no_row() {
    sign_ins_racing_a_deletion(System::standalone()).await;
}

#[actix_web::test]
async fn two_services_sign_ins_racing_a_deletion_leave_no_session_and_no_row() {
    sign_ins_racing_a_deletion(System::two_services().await).await;
}

#[tokio::test]
async fn standalone_task_writes_racing_a_deletion_leave_no_task_and_none_is_acknowledged_late() {
    task_writes_racing_a_deletion(System::standalone()).await;
}

#[actix_web::test]
async fn two_services_task_writes_racing_a_deletion_leave_no_task_once_it_is_applied() {
    task_writes_racing_a_deletion(System::two_services().await).await;
}

#[tokio::test]
async fn standalone_sign_ins_racing_each_other_keep_the_session_cap() {
    sign_ins_racing_each_other_at_the_cap(System::standalone()).await;
}

#[actix_web::test]
async fn two_services_sign_ins_racing_each_other_keep_the_session_cap() {
    sign_ins_racing_each_other_at_the_cap(System::two_services().await).await;
}
