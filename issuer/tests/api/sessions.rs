//! Sessions at the issuer: every sign-in starts one, its token names it, and the routes of the
//! signed-in end them. An ended session's token is refused by these routes at once.

use crate::helpers::*;
use reqwest::{Method, Response};
use serde_json::{Value, json};

impl TestApp {
    async fn sessions(&self, token: &str) -> Vec<Value> {
        let response = self
            .call(Method::GET, "/account/sessions", Some(token), None)
            .await;
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }
}

async fn sid(token: &str) -> String {
    verifier().decode(token).await.unwrap().session.unwrap()
}

#[actix_rt::test]
async fn every_sign_up_and_sign_in_starts_a_session_its_token_names() {
    let app = spawn_app().await;
    let first = ada(&app).await;
    let second = app.session("ada@example.com").await;
    let (first_id, second_id) = (sid(&first).await, sid(&second).await);
    assert_ne!(first_id, second_id);
    let listed = app.sessions(&second).await;
    let ids: Vec<&str> = listed.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second_id, first_id], "newest first");
    assert_eq!(listed[0]["current"], true);
    assert_eq!(listed[1]["current"], false);
    for session in &listed {
        assert!(session["created_at"].is_string() && session["expires_at"].is_string());
        assert!(session["user_agent"].is_string() || session["user_agent"].is_null());
    }

    let account: Value = app
        .call(Method::GET, "/account", Some(&second), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(account["email"], "ada@example.com");
    assert_eq!(account["name"], "Ada");
    assert!(account.get("password_hash").is_none());
}

#[actix_rt::test]
async fn sign_out_ends_this_session_others_or_all() {
    let app = spawn_app().await;
    ada(&app).await;
    let [a, b, c] = [
        app.session("ada@example.com").await,
        app.session("ada@example.com").await,
        app.session("ada@example.com").await,
    ];
    let signout = |token: String, query: &'static str| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                &format!("/signout{query}"),
                Some(&token),
                None,
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(signout(a.clone(), "").await, 204);
    assert!(!app.live(&a).await, "this session ended");
    assert!(app.live(&b).await && app.live(&c).await, "the others go on");
    assert_eq!(
        signout(a.clone(), "").await,
        401,
        "an ended session cannot sign out again"
    );

    assert_eq!(signout(b.clone(), "?scope=others").await, 204);
    assert!(app.live(&b).await);
    assert!(!app.live(&c).await);

    let d = app.session("ada@example.com").await;
    assert_eq!(signout(b.clone(), "?scope=all").await, 204);
    assert!(!app.live(&b).await && !app.live(&d).await);
    // Signing in again still works (`session` asserts a 200).
    app.session("ada@example.com").await;
}

#[actix_rt::test]
async fn one_session_is_ended_by_id_and_only_the_users_own() {
    let app = spawn_app().await;
    ada(&app).await;
    let (a, b) = (
        app.session("ada@example.com").await,
        app.session("ada@example.com").await,
    );
    app.signup("bob@example.com", PASSWORD, "Bob").await;
    let bob = app.session("bob@example.com").await;

    let end = |token: &str, id: &str| {
        let (token, path) = (token.to_owned(), format!("/account/sessions/{id}"));
        let app = &app;
        async move { app.call(Method::DELETE, &path, Some(&token), None).await }
    };
    assert_problem(end(&bob, &sid(&a).await).await, 404).await;
    assert!(app.live(&a).await, "bob cannot end ada's session");
    assert_problem(end(&a, "no-such-session").await, 404).await;
    // Not session ids at all: refused before any query, on PostgreSQL (which refuses a NUL in
    // text) as on SQLite.
    for odd in ["%00", "a%00b", "%20", "%E2%80%8B", &"s".repeat(129)] {
        assert_problem(end(&a, odd).await, 404).await;
    }
    assert_eq!(end(&a, &sid(&b).await).await.status().as_u16(), 204);
    assert!(!app.live(&b).await);
    assert!(app.live(&a).await);
}

#[actix_rt::test]
async fn a_password_change_ends_the_other_sessions_and_keeps_this_one() {
    let app = spawn_app().await;
    ada(&app).await;
    let (this, other) = (
        app.session("ada@example.com").await,
        app.session("ada@example.com").await,
    );
    let change = |current: &str, new: &str| {
        let body = json!({"current_password": current, "new_password": new});
        let (app, this) = (&app, this.clone());
        async move {
            app.call(Method::PUT, "/account/password", Some(&this), Some(body))
                .await
        }
    };
    assert_problem(change("wrong password!", "a new passphrase").await, 403).await;
    assert!(app.live(&other).await, "a refused change ends nothing");
    let problem = assert_problem(change(PASSWORD, "short").await, 422).await;
    assert_eq!(fields(&problem), ["new_password"]);

    assert_eq!(
        change(PASSWORD, "a new passphrase").await.status().as_u16(),
        204
    );
    assert!(app.live(&this).await);
    assert!(!app.live(&other).await);
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 401);
    assert_eq!(
        app.signin_status("ada@example.com", "a new passphrase")
            .await,
        200
    );
}

#[actix_rt::test]
async fn deleting_the_account_ends_every_session_and_frees_the_email() {
    let app = spawn_app().await;
    let first = ada(&app).await;
    let second = app.session("ada@example.com").await;
    let delete = |password: &str| {
        let (app, token, body) = (&app, second.clone(), json!({"password": password}));
        async move {
            app.call(Method::DELETE, "/account", Some(&token), Some(body))
                .await
        }
    };
    assert_problem(delete("wrong password!").await, 403).await;
    assert!(app.live(&first).await);
    assert_eq!(delete(PASSWORD).await.status().as_u16(), 204);
    assert!(!app.live(&first).await && !app.live(&second).await);
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 401);
    assert_eq!(
        app.signup("ada@example.com", PASSWORD, "Ada again")
            .await
            .status()
            .as_u16(),
        201,
        "the email is free again"
    );
}

#[actix_rt::test]
async fn the_routes_of_the_signed_in_refuse_anyone_else_before_reading_a_body() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    let routes = [
        (Method::POST, "/signout"),
        (Method::GET, "/account"),
        (Method::DELETE, "/account"),
        (Method::GET, "/account/sessions"),
        (Method::DELETE, "/account/sessions/x"),
        (Method::PUT, "/account/password"),
    ];
    for (method, path) in routes {
        for (name, token) in [("none", None), ("forged", Some(forged.as_str()))] {
            let response = app
                .client
                .request(method.clone(), format!("{}{path}", app.address))
                .header("content-type", "text/plain")
                .body("not json")
                .optional_bearer(token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.headers()["cache-control"],
                "no-store",
                "{method} {path}"
            );
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert_problem(response, 401).await;
            assert_eq!(
                challenge.contains("invalid_token"),
                token.is_some(),
                "{method} {path} with {name}: {challenge}"
            );
        }
    }
}

trait OptionalBearer {
    fn optional_bearer(self, token: Option<&str>) -> Self;
}

impl OptionalBearer for reqwest::RequestBuilder {
    fn optional_bearer(self, token: Option<&str>) -> Self {
        match token {
            Some(token) => self.bearer_auth(token),
            None => self,
        }
    }
}

#[actix_rt::test]
async fn a_user_keeps_at_most_fifty_live_sessions_the_oldest_ending_first() {
    let app = spawn_app().await;
    let first = ada(&app).await;
    let second = app.session("ada@example.com").await;
    let mut last = String::new();
    for _ in 0..49 {
        last = app.session("ada@example.com").await;
    }
    assert_eq!(app.sessions(&last).await.len(), 50);
    assert!(!app.live(&first).await, "the 51st session ended the oldest");
    assert!(app.live(&second).await);
}

#[actix_rt::test]
async fn an_unknown_sign_out_scope_is_a_422_naming_it_and_ends_nothing() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    let response = app
        .call(
            Method::POST,
            "/signout?scope=everything",
            Some(&token),
            None,
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(fields(&problem), ["scope"]);
    assert!(app.live(&token).await);
}

const FEED_SECRET: &str = "feed-credential-3e9b1c7a5d2f4e6b8a0c";

async fn feed(app: &TestApp, after: i64, credential: Option<&str>) -> Response {
    let mut request = app.client.get(format!(
        "{}/internal/session-ends?after={after}",
        app.address
    ));
    if let Some(credential) = credential {
        request = request.bearer_auth(credential);
    }
    request.send().await.unwrap()
}

#[actix_rt::test]
async fn the_feed_lists_ended_sessions_in_order_to_its_credential_only() {
    let app = spawn_app_with(&[("SESSION_FEED_SECRET", FEED_SECRET)]).await;
    let first = ada(&app).await;
    let second = app.session("ada@example.com").await;
    let user_id = app
        .call(Method::GET, "/account", Some(&second), None)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for credential in [None, Some("wrong"), Some(&FEED_SECRET[1..])] {
        assert_problem(feed(&app, 0, credential).await, 401).await;
    }
    let empty: Value = feed(&app, 0, Some(FEED_SECRET)).await.json().await.unwrap();
    assert_eq!(empty, json!({"ends": [], "more": false}));

    app.call(Method::POST, "/signout", Some(&first), None).await;
    let page: Value = feed(&app, 0, Some(FEED_SECRET)).await.json().await.unwrap();
    let ends = page["ends"].as_array().unwrap();
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0]["session_id"], sid(&first).await);
    assert_eq!(ends[0]["user_id"], user_id.as_str());
    let week = 7 * 24 * 3600;
    let forget_after = ends[0]["forget_after"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now + week..=now + week + 400).contains(&forget_after),
        "{forget_after}"
    );

    let cursor = ends[0]["seq"].as_i64().unwrap();
    let delete = json!({"password": PASSWORD});
    app.call(Method::DELETE, "/account", Some(&second), Some(delete))
        .await;
    let page: Value = feed(&app, cursor, Some(FEED_SECRET))
        .await
        .json()
        .await
        .unwrap();
    let ends = page["ends"].as_array().unwrap();
    let sessions: Vec<&Value> = ends.iter().map(|e| &e["session_id"]).collect();
    assert_eq!(
        sessions,
        [&json!(sid(&second).await), &Value::Null],
        "the session, then the account"
    );
    assert!(ends.iter().all(|e| e["seq"].as_i64().unwrap() > cursor));
    assert_eq!(page["more"], false);
}

#[actix_rt::test]
async fn without_a_credential_configured_there_is_no_feed() {
    let app = spawn_app().await;
    let problem = assert_problem(feed(&app, 0, Some(FEED_SECRET)).await, 404).await;
    assert_eq!(
        problem["detail"], "No such resource",
        "as any unknown path: nothing of the settings"
    );
}

/// A token signed with the issuer's own secret whose `sub` or `sid` no session can have.
fn odd_token(sub: &str, sid: &str) -> String {
    test_support::hs256_token(SECRET, sub, sid)
}

#[actix_rt::test]
async fn a_signed_token_with_a_nul_or_an_unusable_sid_gets_401_before_any_query() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    let (user, session) = {
        let identity = verifier().decode(&token).await.unwrap();
        (identity.subject, identity.session.unwrap())
    };
    assert!(
        app.live(&odd_token(&user, &session)).await,
        "the odd_token is well made"
    );
    for (name, odd) in [
        (
            "a NUL in the subject",
            odd_token(&format!("{user}\0"), &session),
        ),
        (
            "a NUL in the sid",
            odd_token(&user, &format!("{session}\0")),
        ),
        ("a blank sid", odd_token(&user, " ")),
        ("an invisible sid", odd_token(&user, "\u{200B}")),
    ] {
        for (method, path) in [
            (Method::GET, "/account"),
            (Method::GET, "/account/sessions"),
        ] {
            let response = app.call(method.clone(), path, Some(&odd), None).await;
            assert_eq!(response.status().as_u16(), 401, "{method} {path}: {name}");
            assert_problem(response, 401).await;
        }
    }
}

#[actix_rt::test]
async fn the_routes_that_check_a_password_share_sign_ins_limit_per_address() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_MINUTE", "1"), ("RATE_LIMIT_BURST", "3")]).await;
    let token = ada(&app).await;
    // The sign-up took one of the three; a sign-in takes the second.
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 200);
    let change = |current: &str| {
        let body = json!({"current_password": current, "new_password": "another good password"});
        app.call(Method::PUT, "/account/password", Some(&token), Some(body))
    };
    assert_problem(change("a wrong guess").await, 403).await;
    let limited = change(PASSWORD).await;
    assert_eq!(limited.status().as_u16(), 429, "the fourth, right or not");
    assert!(limited.headers().contains_key("retry-after"));
    let body = json!({"password": PASSWORD});
    let deletion = app.call(Method::DELETE, "/account", Some(&token), Some(body));
    assert_problem(deletion.await, 429).await;
    assert_eq!(
        app.signin_status("ada@example.com", PASSWORD).await,
        429,
        "counted with sign-in"
    );
}
