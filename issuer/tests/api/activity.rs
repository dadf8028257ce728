//! The account's security activity: what happened, when and from which client, newest first,
//! bounded, and without the client's details once the account is deleted.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

impl TestApp {
    async fn activity(&self, token: &str) -> Vec<Value> {
        let response = self
            .call(Method::GET, "/account/activity", Some(token), None)
            .await;
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

#[actix_rt::test]
async fn the_activity_says_what_happened_newest_first_and_from_where() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    assert_eq!(
        app.signin_status("ada@example.com", "not the password")
            .await,
        401
    );
    // A failed sign-in is recorded just after its answer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signed_in = app
        .client
        .post(format!("{}/signin", app.address))
        .header("user-agent", "Firefox/140 (test)")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let second: Value = signed_in.json().await.unwrap();
    let second = second["token"].as_str().unwrap();
    let ended = app.call(Method::POST, "/signout", Some(second), None).await;
    assert_eq!(ended.status().as_u16(), 204);
    let changed = app
        .call(
            Method::PUT,
            "/account/password",
            Some(&token),
            Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(changed.status().as_u16(), 204);

    let events = app.activity(&token).await;
    assert_eq!(
        names(&events),
        [
            "password_changed",
            "signout",
            "signin",
            "signin_failed",
            "signup"
        ]
    );
    assert!(events.iter().all(|e| e["ip"] == "127.0.0.1"), "{events:?}");
    assert_eq!(events[2]["user_agent"], "Firefox/140 (test)");
    assert!(events[0]["at"].as_str().unwrap() >= events[4]["at"].as_str().unwrap());
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(PASSWORD) && !text.contains(&token), "{text}");
}

#[actix_rt::test]
async fn an_account_keeps_its_last_hundred_events() {
    let app = spawn_app_with(&[("SIGNIN_FREE_FAILURES", "1000")]).await;
    let token = ada(&app).await;
    for _ in 0..105 {
        assert_eq!(
            app.signin_status("ada@example.com", "not the password")
                .await,
            401
        );
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let events = app.activity(&token).await;
    assert_eq!(events.len(), 100);
    assert!(!names(&events).contains(&"signup"), "the oldest went first");
    assert_eq!(stored_events(&app), 100);
}

#[actix_rt::test]
async fn a_deleted_accounts_events_keep_what_and_when_and_nothing_of_who() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    let deleted = app
        .call(
            Method::DELETE,
            "/account",
            Some(&token),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(deleted.status().as_u16(), 204);

    use diesel::prelude::*;
    use issuer::activity::account_events::dsl as e;
    let rows: Vec<(String, Option<String>, Option<String>)> = e::account_events
        .order(e::id)
        .select((e::event, e::user_agent, e::ip))
        .load(&mut *app.pool().get().unwrap())
        .unwrap();
    let events: Vec<&str> = rows.iter().map(|(event, _, _)| event.as_str()).collect();
    assert_eq!(events, ["signup", "account_deleted"]);
    assert!(
        rows.iter()
            .all(|(_, agent, ip)| agent.is_none() && ip.is_none()),
        "{rows:?}"
    );
}

fn stored_events(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    issuer::activity::account_events::table
        .count()
        .get_result(&mut *app.pool().get().unwrap())
        .unwrap()
}
