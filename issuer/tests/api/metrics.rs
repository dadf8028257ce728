use crate::helpers::*;
use reqwest::Method;
use serde_json::Value;
use test_support::{sample, scrape};

/// Sign-ins by outcome, the refusal's limit, sessions started and ended, and each request by its
/// route's pattern: none of it names the account.
#[actix_rt::test]
async fn sign_ins_sessions_and_requests_are_counted_and_no_label_names_the_account() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_MINUTE", "1"), ("RATE_LIMIT_BURST", "4")]).await;
    let created: Value = app
        .signup("ada@example.com", PASSWORD, "Ada")
        .await
        .json()
        .await
        .unwrap();
    let token = app.session("ada@example.com").await;
    assert_eq!(
        app.signin_status("ada@example.com", "not the password")
            .await,
        401
    );
    assert_eq!(app.signin_status("nobody@example.com", PASSWORD).await, 401);
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 429);
    // The sign-in's session ends the sign-up's.
    let session_id = token_claims(created["token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/account/sessions/{session_id}");
    let ended = app.call(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(ended.status().as_u16(), 204);

    let text = scrape(&app.client, &app.address).await;
    let value = |series: &str| sample(&text, series);
    assert_eq!(
        value(r#"issuer_signups_total{outcome="success"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"issuer_signins_total{outcome="success"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"issuer_signins_total{outcome="bad_credentials"}"#),
        Some(2.0)
    );
    assert_eq!(
        value(r#"issuer_signins_total{outcome="rate_limited"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"issuer_rate_limited_total{limit="client_address"}"#),
        Some(1.0)
    );
    assert_eq!(value("issuer_sessions_started_total"), Some(2.0));
    assert_eq!(
        value(r#"issuer_session_ends_total{reason="revoked"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"http_requests_total{method="POST",route="/signin",status="401"}"#),
        Some(2.0)
    );
    assert_eq!(
        value(
            r#"http_requests_total{method="DELETE",route="/account/sessions/{id}",status="204"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(r#"http_request_duration_seconds_count{method="POST",route="/signup",status="201"}"#),
        Some(1.0)
    );
    assert_eq!(value(r#"build_info{version="0.1.0"}"#), Some(1.0));
    assert!(value(r#"db_pool_connections_max{pool="issuer"}"#).unwrap() >= 1.0);
    assert_eq!(value("issuer_password_hashes_running"), Some(0.0));
    let user_id = created["user"]["id"].as_str().unwrap();
    for private in [
        "ada@example.com",
        "nobody@example.com",
        user_id,
        &session_id,
        &token,
    ] {
        assert!(!text.contains(private), "{private} is in the metrics");
    }
}

/// A path no route matches is counted as `unmatched`, whatever a client makes up.
#[actix_rt::test]
async fn an_unmatched_path_or_a_made_up_method_is_never_a_label() {
    let app = spawn_app().await;
    let made_up = Method::from_bytes(b"BREW").unwrap();
    app.call(Method::GET, "/users/ada@example.com/secret", None, None)
        .await;
    app.call(made_up, "/signin", None, None).await;
    let text = scrape(&app.client, &app.address).await;
    assert_eq!(
        sample(
            &text,
            r#"http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0)
    );
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(!text.contains("ada@example.com") && !text.contains("BREW"));
}
