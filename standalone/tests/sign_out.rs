//! Sign-out across the services: the issuer and tasks-api replicas as separate servers, the
//! replicas learning of ended sessions from the issuer's feed alone, with HS256 and EdDSA tokens.

mod common;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};
use test_support::{Relay, TestDatabase};

/// Two replicas on one tasks database, both following the issuer; and a session of ada's that
/// both serve.
struct Replicated {
    issuer: String,
    replicas: [String; 2],
    kept: String,
    user: String,
    _databases: (TestDatabase, TestDatabase),
}

async fn replicated(algorithm: Algorithm) -> Replicated {
    let issuer_db = TestDatabase::new();
    let issuer = start_issuer(&issuer_db, algorithm).await;
    sign_up(&issuer, "ada@example.com").await;
    let tasks_db = TestDatabase::new();
    let replicas = [
        start_replica(&tasks_db, algorithm, &issuer, &issuer, "60").await,
        start_replica(&tasks_db, algorithm, &issuer, &issuer, "60").await,
    ];
    let (kept, user) = sign_in(&issuer, "ada@example.com").await;
    for replica in &replicas {
        until_ready(replica, &user, &kept).await;
    }
    Replicated {
        issuer,
        replicas,
        kept,
        user,
        _databases: (issuer_db, tasks_db),
    }
}

/// Signs out of a new session `rounds` times (each scope in turn), and returns how long each
/// replica took to refuse its token. Checks that the kept session is served throughout, but for
/// `scope=all`, which ends it too.
async fn sign_outs(algorithm: Algorithm, rounds: usize) -> Vec<Duration> {
    let mut setup = replicated(algorithm).await;
    let mut took = Vec::new();
    for round in 0..rounds {
        let scope = ["", "?scope=others", "?scope=all"][round % 3];
        let (ending, _) = sign_in(&setup.issuer, "ada@example.com").await;
        // Spread the sign-outs over the replicas' poll interval, rather than right after a read.
        tokio::time::sleep(Duration::from_millis(round as u64 * 347 % 1000)).await;
        // `others` is asked by the kept session, and ends the new one.
        let by = if scope == "?scope=others" {
            &setup.kept
        } else {
            &ending
        };
        let signed_out = post(
            &format!("{}/signout{scope}", setup.issuer),
            Some(by),
            json!({}),
        )
        .await;
        assert_eq!(signed_out.status(), StatusCode::NO_CONTENT, "{scope}");
        let signed_out_at = Instant::now();
        for replica in &setup.replicas {
            refused_by(replica, &setup.user, &ending).await;
            took.push(signed_out_at.elapsed());
        }
        let kept_status = list_status(&setup.replicas[0], &setup.user, &setup.kept).await;
        if scope == "?scope=all" {
            assert_eq!(
                kept_status,
                StatusCode::UNAUTHORIZED,
                "all ends the kept one"
            );
            setup.kept = sign_in(&setup.issuer, "ada@example.com").await.0;
        } else {
            assert_eq!(
                kept_status,
                StatusCode::OK,
                "the kept session, after {scope:?}"
            );
        }
    }
    took
}

/// The sign-out test for `algorithm`: many sign-outs, every one refused by both replicas within
/// 2 s. Prints the median and the worst (`--nocapture` shows them).
async fn signed_out_sessions_are_refused_within_two_seconds(algorithm: Algorithm) {
    let mut took = sign_outs(algorithm, 20).await;
    took.sort();
    let (median, worst) = (took[took.len() / 2], took[took.len() - 1]);
    println!(
        "{algorithm:?}: {} refusals, median {median:?}, worst {worst:?}",
        took.len()
    );
    assert!(worst < Duration::from_secs(2), "worst {worst:?}");
}

#[actix_web::test]
async fn hs256_signed_out_sessions_are_refused_by_every_replica_within_two_seconds() {
    signed_out_sessions_are_refused_within_two_seconds(Algorithm::Hs256).await;
}

#[actix_web::test]
async fn eddsa_signed_out_sessions_are_refused_by_every_replica_within_two_seconds() {
    signed_out_sessions_are_refused_within_two_seconds(Algorithm::EdDsa).await;
}

/// The secret of the reset link in the issuer's mail, waiting for it to be written.
async fn reset_secret(mail_dir: &std::path::Path) -> String {
    let started = Instant::now();
    loop {
        let found = std::fs::read_dir(mail_dir)
            .into_iter()
            .flatten()
            .find_map(|entry| {
                let message = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                let unfolded = message.replace("=\r\n", "").replace("=3D", "=");
                let start = unfolded.find("#reset-password=")? + "#reset-password=".len();
                Some(unfolded[start..start + 43].to_owned())
            });
        if let Some(secret) = found {
            return secret;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no reset link mailed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_password_reset_ends_every_session_at_every_replica_within_two_seconds() {
    let setup = replicated(Algorithm::Hs256).await;
    let forgot = post(
        &format!("{}/password/forgot", setup.issuer),
        None,
        json!({"email": "ada@example.com"}),
    )
    .await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    let secret = reset_secret(&setup._databases.0.mail_dir()).await;
    let reset_at = Instant::now();
    let reset = post(
        &format!("{}/password/reset", setup.issuer),
        None,
        json!({"token": secret, "new_password": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    for replica in &setup.replicas {
        refused_by(replica, &setup.user, &setup.kept).await;
    }
    let took = reset_at.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "refused by both after {took:?}"
    );
}

#[actix_web::test]
async fn a_replica_started_after_a_sign_out_refuses_the_ended_session_too() {
    let setup = replicated(Algorithm::Hs256).await;
    let (ended, _) = sign_in(&setup.issuer, "ada@example.com").await;
    post(
        &format!("{}/signout", setup.issuer),
        Some(&ended),
        json!({}),
    )
    .await;
    refused_by(&setup.replicas[0], &setup.user, &ended).await;
    // A restarted replica remembers nothing: it learns the ended session from the feed again,
    // and serves no one until it has.
    let tasks_db = TestDatabase::new();
    let restarted = start_replica(
        &tasks_db,
        Algorithm::Hs256,
        &setup.issuer,
        &setup.issuer,
        "60",
    )
    .await;
    until_ready(&restarted, &setup.user, &setup.kept).await;
    assert_eq!(
        list_status(&restarted, &setup.user, &ended).await,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn while_the_issuer_is_unreachable_ended_sessions_stay_refused_and_live_ones_are_served_then_503()
 {
    let issuer_db = TestDatabase::new();
    let issuer = start_issuer(&issuer_db, Algorithm::Hs256).await;
    sign_up(&issuer, "ada@example.com").await;
    let relay = Relay::start(issuer.trim_start_matches("http://").parse().unwrap()).await;
    let through_relay = format!("http://{}", relay.address);
    let tasks_db = TestDatabase::new();
    let replica = start_replica(&tasks_db, Algorithm::Hs256, &issuer, &through_relay, "2").await;
    let (live, user) = sign_in(&issuer, "ada@example.com").await;
    let (ended, _) = sign_in(&issuer, "ada@example.com").await;
    until_ready(&replica, &user, &live).await;
    post(&format!("{issuer}/signout"), Some(&ended), json!({})).await;
    refused_by(&replica, &user, &ended).await;

    relay.cut();
    let cut = Instant::now();
    let mut seen = Vec::new();
    while cut.elapsed() < Duration::from_secs(4) {
        let status = list_status(&replica, &user, &live).await;
        assert_eq!(
            list_status(&replica, &user, &ended).await,
            StatusCode::UNAUTHORIZED,
            "an ended session is never served"
        );
        if seen.last() != Some(&status) {
            seen.push(status);
            println!("{:?} after the cut: {status}", cut.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen,
        [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE],
        "served until the bound (2 s), then 503"
    );
    assert_eq!(
        ready_status(&replica).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready while it can serve no token"
    );

    // A replica started during the outage has learnt nothing: it serves no one.
    let late = start_replica(&tasks_db, Algorithm::Hs256, &issuer, &through_relay, "2").await;
    assert_eq!(
        list_status(&late, &user, &live).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(ready_status(&late).await, StatusCode::SERVICE_UNAVAILABLE);

    relay.restore();
    until_ready(&replica, &user, &live).await;
    until_ready(&late, &user, &live).await;
    assert_eq!(ready_status(&replica).await, StatusCode::OK);
    assert_eq!(ready_status(&late).await, StatusCode::OK);
    assert_eq!(
        list_status(&late, &user, &ended).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        list_status(&replica, &user, &ended).await,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_replica_that_cannot_read_the_feed_answers_503_never_200_or_401() {
    let (token, user, _issuer_db) = {
        // A token the replica would accept, were it to know the session goes on.
        let issuer_db = TestDatabase::new();
        let issuer = start_issuer(&issuer_db, Algorithm::Hs256).await;
        sign_up(&issuer, "ada@example.com").await;
        let (token, user) = sign_in(&issuer, "ada@example.com").await;
        (token, user, issuer_db)
    };
    let tasks_db = TestDatabase::new();
    let nowhere = "http://127.0.0.1:9";
    let replica = start_replica(&tasks_db, Algorithm::Hs256, nowhere, nowhere, "1").await;
    for _ in 0..3 {
        let response = Client::new()
            .get(format!("{replica}/api/{user}/tasks"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("retry-after"));
        let ready = Client::new()
            .get(format!("{replica}/ready"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            ready.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "/ready agrees"
        );
        let problem: serde_json::Value = ready.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("session feed"),
            "{problem}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[actix_web::test]
async fn a_deleted_accounts_tasks_are_deleted_by_tasks_api_and_no_one_elses() {
    let issuer_db = TestDatabase::new();
    let issuer = start_issuer(&issuer_db, Algorithm::Hs256).await;
    let tasks_db = TestDatabase::new();
    let replica = start_replica(&tasks_db, Algorithm::Hs256, &issuer, &issuer, "60").await;
    let mut people = Vec::new();
    for email in ["ada@example.com", "bob@example.com"] {
        sign_up(&issuer, email).await;
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
    let again = start_replica(&tasks_db, Algorithm::Hs256, &issuer, &issuer, "60").await;
    until_ready(&again, &bob, &bob_token).await;
    assert_eq!(tasks_of(&tasks_db, &bob), 1);
}
