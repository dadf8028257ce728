//! Sign-out across the services: the issuer and two tasks-api replicas as separate servers, the
//! replicas learning of ended sessions from the issuer's feed alone.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_support::TestDatabase;

const SECRET: &str = "sign-out-test-secret-of-at-least-32-bytes";
const FEED_SECRET: &str = "feed-credential-7c1e9a3b5d2f4e6a8b0c";
const PASSWORD: &str = "correct horse battery";

async fn start_issuer(database: &TestDatabase) -> String {
    let config = issuer::Config::from_pairs([
        ("DATABASE_URL", database.url.as_str()),
        ("BETTER_AUTH_SECRET", SECRET),
        ("SESSION_FEED_SECRET", FEED_SECRET),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("ARGON2_MEMORY_KIB", "1024"),
        ("ARGON2_ITERATIONS", "1"),
    ])
    .expect("a valid issuer configuration");
    let service = issuer::build(config).await.expect("the issuer starts");
    let url = format!("http://127.0.0.1:{}", service.port());
    actix_web::rt::spawn(service.run_until_stopped());
    url
}

/// A tasks-api replica on `database` that reads the feed at `issuer`.
async fn start_replica(database: &TestDatabase, issuer: &str, staleness: &str) -> String {
    let feed = format!("{issuer}/internal/session-ends");
    let config = tasks_api::Config::from_pairs([
        ("DATABASE_URL", database.url.as_str()),
        ("BETTER_AUTH_SECRET", SECRET),
        ("SESSION_FEED_URL", feed.as_str()),
        ("SESSION_FEED_SECRET", FEED_SECRET),
        ("SESSION_FEED_MAX_STALENESS_SECONDS", staleness),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ])
    .expect("a valid tasks-api configuration");
    let service = tasks_api::build(config).await.expect("tasks-api starts");
    let url = format!("http://127.0.0.1:{}", service.port());
    actix_web::rt::spawn(service.run_until_stopped());
    url
}

async fn post(url: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = Client::new().post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// A new session of `email`: its token and the user's id.
async fn sign_in(issuer: &str, email: &str) -> (String, String) {
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

async fn list_status(replica: &str, user: &str, token: &str) -> StatusCode {
    Client::new()
        .get(format!("{replica}/api/{user}/tasks"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// How long until `replica` refuses `token` with 401, polled every 50 ms for at most 5 s.
async fn refused_after(replica: &str, user: &str, token: &str) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if list_status(replica, user, token).await == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{replica} still serves the ended session after 5 s");
}

/// Until `replica` has read the feed, it answers 503; waits for its first 200.
async fn until_ready(replica: &str, user: &str, token: &str) {
    let started = Instant::now();
    while list_status(replica, user, token).await != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{replica} never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_signed_out_session_is_refused_by_every_replica_within_two_seconds() {
    let issuer_db = TestDatabase::new();
    let issuer = start_issuer(&issuer_db).await;
    post(
        &format!("{issuer}/signup"),
        None,
        json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}),
    )
    .await;
    let tasks_db = TestDatabase::new();
    let replicas = [
        start_replica(&tasks_db, &issuer, "60").await,
        start_replica(&tasks_db, &issuer, "60").await,
    ];
    let (kept, user) = sign_in(&issuer, "ada@example.com").await;
    for replica in &replicas {
        until_ready(replica, &user, &kept).await;
    }

    for scope in ["", "?scope=others", "?scope=all"] {
        let (ending, _) = sign_in(&issuer, "ada@example.com").await;
        let (token, by) = match scope {
            // `others`: the new session ends the kept one's siblings, so the new one is signed
            // out by the kept one's token instead.
            "?scope=others" => (ending.clone(), kept.clone()),
            _ => (ending.clone(), ending.clone()),
        };
        let signed_out = post(&format!("{issuer}/signout{scope}"), Some(&by), json!({})).await;
        assert_eq!(signed_out.status(), StatusCode::NO_CONTENT, "{scope}");
        for replica in &replicas {
            let took = refused_after(replica, &user, &token).await;
            assert!(took < Duration::from_secs(2), "{replica}{scope}: {took:?}");
        }
        let kept_status = list_status(&replicas[0], &user, &kept).await;
        let expected = if scope == "?scope=all" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(kept_status, expected, "the other session, after {scope:?}");
    }
}

#[actix_web::test]
async fn a_replica_that_cannot_read_the_feed_answers_503_never_200_or_401() {
    let (token, user) = {
        // A token the replica would accept, were it to know the session goes on.
        let issuer_db = TestDatabase::new();
        let issuer = start_issuer(&issuer_db).await;
        post(
            &format!("{issuer}/signup"),
            None,
            json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}),
        )
        .await;
        sign_in(&issuer, "ada@example.com").await
    };
    let tasks_db = TestDatabase::new();
    let replica = start_replica(&tasks_db, "http://127.0.0.1:9", "1").await;
    for _ in 0..3 {
        let response = Client::new()
            .get(format!("{replica}/api/{user}/tasks"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("retry-after"));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// How many tasks `user` has in the tasks database, read straight from it.
fn tasks_of(database: &TestDatabase, user: &str) -> i64 {
    use diesel::prelude::*;
    use tasks_api::db::tasks;
    let url = database::DatabaseUrl::parse(&database.url).unwrap();
    let pool = database::connect(&url, &tasks_api::db::MIGRATIONS, &Default::default()).unwrap();
    let mut conn = pool.get().unwrap();
    let conn = &mut *conn;
    database::on_backend!(conn => tasks::table
        .filter(tasks::user_id.eq(user))
        .count()
        .get_result(conn))
    .unwrap()
}

#[actix_web::test]
async fn a_deleted_accounts_tasks_are_deleted_by_tasks_api_and_no_one_elses() {
    let issuer_db = TestDatabase::new();
    let issuer = start_issuer(&issuer_db).await;
    let tasks_db = TestDatabase::new();
    let replica = start_replica(&tasks_db, &issuer, "60").await;
    let mut people = Vec::new();
    for email in ["ada@example.com", "bob@example.com"] {
        post(
            &format!("{issuer}/signup"),
            None,
            json!({"email": email, "password": PASSWORD, "name": "Someone"}),
        )
        .await;
        let (token, user) = sign_in(&issuer, email).await;
        until_ready(&replica, &user, &token).await;
        let created = post(
            &format!("{replica}/api/{user}/tasks"),
            Some(&token),
            json!({"title": "Mine"}),
        )
        .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        people.push((token, user));
    }
    let [(ada_token, ada), (_, bob)] = <[_; 2]>::try_from(people).unwrap();

    let deleted = Client::new()
        .delete(format!("{issuer}/account"))
        .bearer_auth(&ada_token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let started = Instant::now();
    while tasks_of(&tasks_db, &ada) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "ada's tasks are still there"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(tasks_of(&tasks_db, &bob), 1, "bob's tasks stay");
    assert_eq!(
        list_status(&replica, &ada, &ada_token).await,
        StatusCode::UNAUTHORIZED
    );

    // A replica started afterwards reads the same feed: nothing of bob's goes, nothing fails.
    let (bob_token, _) = sign_in(&issuer, "bob@example.com").await;
    let again = start_replica(&tasks_db, &issuer, "60").await;
    until_ready(&again, &bob, &bob_token).await;
    assert_eq!(tasks_of(&tasks_db, &bob), 1);
}
