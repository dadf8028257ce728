//! Oversized and odd input on every route: each gets its 4xx as problem+json, and the service
//! keeps serving.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use test_support::send_raw;

const ROUTES: [&str; 2] = ["/signup", "/signin"];

/// A field's value nested `depth` arrays deep: far past serde_json's recursion limit (128), it
/// must still be refused naming the field, without exhausting the stack.
fn deeply_nested(depth: usize) -> Vec<u8> {
    format!(
        r#"{{"email": {}{}, "password": "correct horse battery", "name": "A"}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
    .into_bytes()
}

#[actix_rt::test]
async fn odd_bodies_get_their_4xx_on_every_route() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("nested 20 000 deep", deeply_nested(20_000), 422),
        ("nested 100 deep", deeply_nested(100), 422),
        (
            "a NUL in the email",
            br#"{"email": "a\u0000@b.co", "password": "correct horse battery", "name": "A"}"#
                .to_vec(),
            422,
        ),
        (
            "a raw NUL byte in a string",
            b"{\"email\": \"a\0@b.co\", \"password\": \"correct horse battery\", \"name\": \"A\"}"
                .to_vec(),
            400,
        ),
        (
            "invalid UTF-8 in a string",
            b"{\"email\": \"a\xff@b.co\", \"password\": \"correct horse battery\", \"name\": \"A\"}"
                .to_vec(),
            422,
        ),
        (
            "a lone surrogate",
            br#"{"email": "a@b.co", "password": "\udc00\udc00\udc00\udc00\udc00\udc00\udc00\udc00", "name": "A"}"#
                .to_vec(),
            422,
        ),
        (
            "a number beyond f64",
            br#"{"email": 1e422, "password": "correct horse battery", "name": "A"}"#.to_vec(),
            422,
        ),
        (
            "a huge integer for a string",
            br#"{"email": 18446744073709551616, "password": "correct horse battery", "name": "A"}"#
                .to_vec(),
            422,
        ),
        (
            "a duplicate key",
            br#"{"email": "a@b.co", "email": "c@d.co", "password": "correct horse battery", "name": "A"}"#
                .to_vec(),
            422,
        ),
        ("an array", b"[]".to_vec(), 422),
        ("null", b"null".to_vec(), 422),
        ("nothing", Vec::new(), 400),
        (
            "65 KiB",
            json!({"email": "a@b.co", "password": "correct horse battery", "name": "x".repeat(65 * 1024)})
                .to_string()
                .into_bytes(),
            413,
        ),
    ];
    for path in ROUTES {
        for (name, body, status) in &cases {
            let response = app
                .client
                .post(format!("{}{path}", app.address))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), *status, "{path}: {name}");
            assert_problem(response, *status).await;
        }
    }
}

#[actix_rt::test]
async fn a_password_with_a_nul_signs_up_and_in_like_any_other() {
    let app = spawn_app().await;
    let password = "correct\u{0}horse";
    assert_eq!(
        app.signup("ada@example.com", password, "Ada")
            .await
            .status()
            .as_u16(),
        201
    );
    assert_eq!(
        app.signin("ada@example.com", password)
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        app.signin("ada@example.com", "correct\u{0}other")
            .await
            .status()
            .as_u16(),
        401,
        "what follows the NUL is part of the password"
    );
}

#[actix_rt::test]
async fn a_body_not_declared_as_json_gets_415_on_every_route() {
    let app = spawn_app().await;
    for path in ROUTES {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/jsonx"),
            Some("json"),
        ] {
            let mut request = app.client.post(format!("{}{path}", app.address));
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let response = request.body(r#"{"email": "a@b.co"}"#).send().await.unwrap();
            assert_problem(response, 415).await;
        }
    }
}

#[actix_rt::test]
async fn request_heads_too_large_to_read_get_431_or_a_closed_connection_and_the_service_goes_on() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").parse().unwrap();
    let body = r#"{"email": "a@b.co", "password": "correct horse battery"}"#;
    let huge_header = format!(
        "POST /signin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nX-Padding: {}\r\nContent-Length: {}\r\n\r\n{body}",
        "p".repeat(200 * 1024),
        body.len()
    );
    let many_headers = format!(
        "POST /signin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\n\r\n{body}",
        (0..100)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>(),
        body.len()
    );
    for (name, request) in [
        ("a 200 KiB header", huge_header),
        ("100 headers", many_headers),
    ] {
        let status = send_raw(address, request.as_bytes()).await;
        assert!(matches!(status, None | Some(431)), "{name}: {status:?}");
    }
    assert_eq!(
        app.signin("ada@example.com", PASSWORD)
            .await
            .status()
            .as_u16(),
        401,
        "the service goes on"
    );
}

#[actix_rt::test]
async fn a_large_header_or_a_token_on_the_issuer_is_ignored() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/signin", app.address))
        .header("x-padding", "p".repeat(60 * 1024))
        .bearer_auth("a".repeat(50 * 1024))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
}

#[actix_rt::test]
async fn methods_a_route_does_not_have_get_405() {
    let app = spawn_app().await;
    for (method, path) in [
        ("GET", "/signup"),
        ("PUT", "/signup"),
        ("DELETE", "/signin"),
        ("PATCH", "/signin"),
        ("TRACE", "/signin"),
        ("BREW", "/signup"),
        ("PROPFIND", "/signin"),
        ("POST", "/health"),
        ("PUT", "/ready"),
        ("DELETE", "/openapi.json"),
    ] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        assert_problem(response, 405).await;
    }
}

#[actix_rt::test]
async fn odd_paths_get_404() {
    let app = spawn_app().await;
    for path in [
        "/signin/",
        "/signin/x",
        "/%00",
        "/%FF",
        "/signin%00",
        "/..%2Fsignin",
        "/SIGNIN",
    ] {
        let response = app
            .client
            .post(format!("{}{path}", app.address))
            .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
        assert_problem(response, 404).await;
    }
}
