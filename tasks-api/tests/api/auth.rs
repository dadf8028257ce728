use crate::helpers::*;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(changes: Value) -> Value {
    let mut claims = json!({"sub": "ada", "iss": "issuer", "aud": "tasks-api", "iat": now(), "exp": now() + 3600});
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value.clone();
        }
    }
    claims
}

fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn signed(changes: Value) -> String {
    sign(&claims(changes), Algorithm::HS256, SECRET)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Asserts a 401 whose challenge is RFC 6750's: no error code when no token was sent.
async fn assert_unauthorized(response: reqwest::Response, token_sent: bool) {
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    if token_sent {
        assert_eq!(
            challenge,
            r#"Bearer realm="tasks-api", error="invalid_token""#
        );
    } else {
        assert_eq!(challenge, r#"Bearer realm="tasks-api""#);
    }
    assert_problem(response, 401).await;
}

#[actix_rt::test]
async fn every_forged_or_broken_token_is_refused_and_only_good_ones_pass() {
    let app = spawn_app().await;
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims(json!({})).to_string().as_bytes())
    );
    let good = signed(json!({}));
    let (head, _, signature) = {
        let parts: Vec<&str> = good.split('.').collect();
        (
            parts[0].to_owned(),
            parts[1].to_owned(),
            parts[2].to_owned(),
        )
    };
    let tampered = format!(
        "{head}.{}.{signature}",
        b64(claims(json!({"sub": "mallory"})).to_string().as_bytes())
    );
    let cases: Vec<(&str, String, u16)> = vec![
        ("a good token", good.clone(), 200),
        ("alg none", unsigned, 401),
        (
            "HS384 with the right secret",
            sign(&claims(json!({})), Algorithm::HS384, SECRET),
            401,
        ),
        (
            "HS512 with the right secret",
            sign(&claims(json!({})), Algorithm::HS512, SECRET),
            401,
        ),
        (
            "another secret",
            sign(
                &claims(json!({})),
                Algorithm::HS256,
                "another-secret-that-is-at-least-32-bytes",
            ),
            401,
        ),
        (
            "expired past the leeway",
            signed(json!({"exp": now() - 120})),
            401,
        ),
        (
            "expired within the leeway",
            signed(json!({"exp": now() - 30})),
            200,
        ),
        (
            "nbf in the future",
            signed(json!({"nbf": now() + 600})),
            401,
        ),
        ("wrong iss", signed(json!({"iss": "evil"})), 401),
        ("iss as a list", signed(json!({"iss": ["issuer"]})), 401),
        (
            "a critical header extension",
            jsonwebtoken::encode(
                &Header {
                    crit: Some(vec!["exp".into()]),
                    ..Header::new(Algorithm::HS256)
                },
                &claims(json!({})),
                &EncodingKey::from_secret(SECRET.as_bytes()),
            )
            .unwrap(),
            401,
        ),
        ("iat as a string", signed(json!({"iat": "now"})), 401),
        (
            "iat in the future past the leeway",
            signed(json!({"iat": now() + 600})),
            401,
        ),
        ("missing iss", signed(json!({"iss": null})), 401),
        ("wrong aud", signed(json!({"aud": "other-api"})), 401),
        ("missing aud", signed(json!({"aud": null})), 401),
        ("missing exp", signed(json!({"exp": null})), 401),
        ("missing subject", signed(json!({"sub": null})), 401),
        ("empty subject", signed(json!({"sub": ""})), 401),
        ("non-string subject", signed(json!({"sub": 7})), 401),
        (
            "userId where sub is absent",
            signed(json!({"sub": null, "userId": "ada"})),
            200,
        ),
        ("a payload changed under a valid signature", tampered, 401),
        (
            "a very large token",
            signed(json!({"pad": "x".repeat(9000)})),
            401,
        ),
        ("not a JWT", "garbage".into(), 401),
    ];
    for (name, token, status) in cases {
        let response = app
            .request(Method::GET, "/api/ada/tasks", Some(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{name}");
        if status == 401 {
            assert_unauthorized(response, true).await;
        }
    }
}

#[actix_rt::test]
async fn no_token_gets_the_bare_bearer_challenge() {
    let app = spawn_app().await;
    assert_unauthorized(
        app.request(Method::GET, "/api/ada/tasks", None)
            .send()
            .await
            .unwrap(),
        false,
    )
    .await;
}

#[actix_rt::test]
async fn a_token_anywhere_but_the_authorization_header_is_never_read() {
    let app = spawn_app().await;
    let token = token_for("ada");
    let in_query = app
        .request(
            Method::GET,
            &format!("/api/ada/tasks?access_token={token}&token={token}"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_unauthorized(in_query, false).await;
    let in_cookie = app
        .request(Method::GET, "/api/ada/tasks", None)
        .header("cookie", format!("token={token}; access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_unauthorized(in_cookie, false).await;
    let in_body = app
        .request(Method::POST, "/api/ada/tasks", None)
        .json(&json!({"title": "x", "access_token": token}))
        .send()
        .await
        .unwrap();
    assert_unauthorized(in_body, false).await;
}

#[actix_rt::test]
async fn the_scheme_is_case_insensitive_but_must_be_bearer() {
    let app = spawn_app().await;
    let token = token_for("ada");
    for (header, status) in [
        (format!("bearer {token}"), 200),
        (format!("BEARER {token}"), 200),
        (format!("Basic {token}"), 401),
        (token.clone(), 401),
        ("Bearer ".to_owned(), 401),
        (format!("Bearer {token} extra"), 401),
    ] {
        let response = app
            .request(Method::GET, "/api/ada/tasks", None)
            .header("authorization", &header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{header:.20}");
    }
}

#[actix_rt::test]
async fn two_authorization_headers_are_refused() {
    let app = spawn_app().await;
    let response = app
        .request(Method::GET, "/api/ada/tasks", None)
        .header("authorization", format!("Bearer {}", token_for("ada")))
        .header("authorization", format!("Bearer {}", token_for("ada")))
        .send()
        .await
        .unwrap();
    assert_unauthorized(response, true).await;
}

/// Every operation of the OpenAPI document under a user's path, with the path's parameters
/// filled in: read from the running service, so a route added later is walked too.
async fn documented_user_operations(
    app: &TestApp,
    user: &str,
    task_id: &str,
) -> Vec<(Method, String)> {
    let document = app.openapi().await;
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.contains("{user_id}") {
            continue;
        }
        let path = path
            .replace("{user_id}", user)
            .replace("{task_id}", task_id);
        assert!(
            !path.contains('{'),
            "a path parameter this test cannot fill: {path}"
        );
        for method in item.as_object().unwrap().keys() {
            operations.push((method.to_uppercase().parse().unwrap(), path.clone()));
        }
    }
    assert!(
        operations.len() >= 6,
        "the document lists every task route: {operations:?}"
    );
    operations
}

#[actix_rt::test]
async fn every_documented_user_operation_needs_the_users_own_token() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Ada's").await["id"].to_string();
    let mallory = token_for("mallory");
    for (method, path) in documented_user_operations(&app, "ada", &id).await {
        let send = |token: Option<&str>| {
            app.request(method.clone(), &path, token)
                .json(&json!({"title": "Mallory's"}))
                .send()
        };
        let without = send(None).await.unwrap();
        assert_eq!(
            without.status().as_u16(),
            401,
            "{method} {path} without a token"
        );
        assert_unauthorized(without, false).await;
        let forged = send(Some("not.a.token")).await.unwrap();
        assert_eq!(
            forged.status().as_u16(),
            401,
            "{method} {path} with a forged token"
        );
        let other = send(Some(&mallory)).await.unwrap();
        assert_eq!(
            other.status().as_u16(),
            403,
            "{method} {path} with another user's token"
        );
        assert_problem(other, 403).await;
    }
    let still: Value = app
        .on_task(Method::GET, "ada", &id, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["title"], "Ada's");
    assert_eq!(still["completed"], false);
}

#[actix_rt::test]
async fn every_documented_user_operation_answers_no_store_refused_or_not() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Ada's").await["id"].to_string();
    let ada = token_for("ada");
    let mallory = token_for("mallory");
    for (method, path) in documented_user_operations(&app, "ada", &id).await {
        for token in [Some(ada.as_str()), Some(mallory.as_str()), None] {
            let response = app
                .request(method.clone(), &path, token)
                .json(&json!({"title": "Ada's, again"}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            assert_eq!(
                response
                    .headers()
                    .get("cache-control")
                    .map(|v| v.to_str().unwrap()),
                Some("no-store"),
                "{method} {path} answered {status} without Cache-Control: no-store"
            );
        }
    }
}

/// The middleware answers before any body extractor runs: without a token, a body that is too
/// large, of the wrong type or of the wrong shape is never read, so the answer is a 401.
#[actix_rt::test]
async fn a_request_without_a_valid_token_is_refused_before_its_body_is_read() {
    let app = spawn_app().await;
    let too_large = "x".repeat(service::http::MAX_BODY_BYTES + 1);
    let bodies: [(&str, &str, String); 3] = [
        (
            "a body over the limit",
            "application/json",
            format!(r#"{{"title":"{too_large}"}}"#),
        ),
        ("not JSON's content type", "text/plain", "title".into()),
        (
            "a field of the wrong type",
            "application/json",
            r#"{"title":7}"#.into(),
        ),
    ];
    for (name, content_type, body) in bodies {
        for token in [None, Some("not.a.token")] {
            let response = app
                .request(Method::POST, "/api/ada/tasks", token)
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 401, "{name}, token {token:?}");
        }
    }
    let empty = app.list("ada", "").await;
    assert_eq!(empty.headers()["x-total-count"], "0");
}

/// Each refusal is counted by its reason, and no label names the token or its subject.
#[actix_rt::test]
async fn refused_tokens_are_counted_by_reason() {
    let app = spawn_app().await;
    let forged = sign(
        &claims(json!({})),
        Algorithm::HS256,
        "another-secret-of-at-least-32-bytes!!",
    );
    let cases = [
        (None, "no_token"),
        (Some(signed(json!({"exp": now() - 3600}))), "expired"),
        (Some(forged.clone()), "bad_signature"),
        (Some(signed(json!({"aud": "other-api"}))), "wrong_audience"),
        (Some(signed(json!({"sub": "someone-else"}))), "not_owner"),
    ];
    for (token, _) in &cases {
        app.request(Method::GET, "/api/ada/tasks", token.as_deref())
            .send()
            .await
            .unwrap();
    }
    let text = test_support::scrape(&app.client, &app.address).await;
    for (_, reason) in cases {
        let series = format!(r#"tasks_api_tokens_refused_total{{reason="{reason}"}}"#);
        assert_eq!(test_support::sample(&text, &series), Some(1.0), "{series}");
    }
    assert!(!text.contains("someone-else") && !text.contains(&forged[..20]));
}
