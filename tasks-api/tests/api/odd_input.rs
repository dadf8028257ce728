//! Oversized and odd input on every route: each gets its 4xx as problem+json, and the service
//! keeps serving.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use test_support::send_raw;

/// Every route, with a path that names an existing task of "ada" where the route takes one.
fn routes(task_id: &str) -> Vec<(Method, String)> {
    vec![
        (Method::GET, "/api/ada/tasks".into()),
        (Method::POST, "/api/ada/tasks".into()),
        (Method::GET, format!("/api/ada/tasks/{task_id}")),
        (Method::PUT, format!("/api/ada/tasks/{task_id}")),
        (Method::DELETE, format!("/api/ada/tasks/{task_id}")),
        (Method::PATCH, format!("/api/ada/tasks/{task_id}/complete")),
    ]
}

/// A field's value nested `depth` arrays deep: far past serde_json's recursion limit (128), it
/// must still be refused naming the field, without exhausting the stack.
fn deeply_nested(depth: usize) -> Vec<u8> {
    format!(r#"{{"title": {}{}}}"#, "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

#[actix_rt::test]
async fn odd_bodies_get_their_4xx_on_every_route_that_reads_one() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Ada's").await["id"].to_string();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("nested 20 000 deep", deeply_nested(20_000), 422),
        ("nested 100 deep", deeply_nested(100), 422),
        (
            "a NUL in the title",
            br#"{"title": "a\u0000b"}"#.to_vec(),
            422,
        ),
        (
            "a NUL in the description",
            br#"{"title": "a", "description": "a\u0000b"}"#.to_vec(),
            422,
        ),
        (
            "a raw NUL byte in a string",
            b"{\"title\": \"a\0b\"}".to_vec(),
            400,
        ),
        (
            "invalid UTF-8 in a string",
            b"{\"title\": \"a\xff\xfeb\"}".to_vec(),
            422,
        ),
        ("a lone surrogate", br#"{"title": "\ud800"}"#.to_vec(), 422),
        ("a number beyond f64", br#"{"title": 1e400}"#.to_vec(), 422),
        (
            "an integer beyond u64 for a string",
            br#"{"title": 18446744073709551616}"#.to_vec(),
            422,
        ),
        (
            "a duplicate key",
            br#"{"title": "a", "title": "b"}"#.to_vec(),
            422,
        ),
        ("an array", b"[]".to_vec(), 422),
        ("nothing", Vec::new(), 400),
        (
            "65 KiB",
            json!({"title": "x".repeat(65 * 1024)})
                .to_string()
                .into_bytes(),
            413,
        ),
    ];
    for (method, path) in [
        (Method::POST, "/api/ada/tasks".to_owned()),
        (Method::PUT, format!("/api/ada/tasks/{id}")),
    ] {
        for (name, body, status) in &cases {
            let response = app
                .request(method.clone(), &path, Some(&token_for("ada")))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status().as_u16(),
                *status,
                "{method} {path}: {name}"
            );
            assert_problem(response, *status).await;
        }
    }
}

#[actix_rt::test]
async fn a_body_not_declared_as_json_gets_415_on_every_route_that_reads_one() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Ada's").await["id"].to_string();
    for (method, path) in [
        (Method::POST, "/api/ada/tasks".to_owned()),
        (Method::PUT, format!("/api/ada/tasks/{id}")),
    ] {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
            Some("json"),
        ] {
            let mut request = app.request(method.clone(), &path, Some(&token_for("ada")));
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let response = request.body(r#"{"title": "x"}"#).send().await.unwrap();
            assert_problem(response, 415).await;
        }
    }
}

#[actix_rt::test]
async fn a_compressed_body_gets_415_naming_the_encoding_and_saves_nothing() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Ada's").await["id"].to_string();
    for (method, path) in [
        (Method::POST, "/api/ada/tasks".to_owned()),
        (Method::PUT, format!("/api/ada/tasks/{id}")),
    ] {
        for encoding in ["gzip", "br", "deflate", "x-unknown", "identity, gzip"] {
            let response = app
                .request(method.clone(), &path, Some(&token_for("ada")))
                .header("content-type", "application/json")
                .header("content-encoding", encoding)
                .body(r#"{"title": "x"}"#)
                .send()
                .await
                .unwrap();
            let problem = assert_problem(response, 415).await;
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("Content-Encoding"),
                "{method} {encoding}: {problem}"
            );
        }
    }
    let identity = app
        .request(Method::POST, "/api/ada/tasks", Some(&token_for("ada")))
        .header("content-type", "application/json")
        .header("content-encoding", "identity")
        .body(r#"{"title": "plain"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status().as_u16(), 201, "identity is no coding");
    let tasks: Vec<serde_json::Value> = app.list("ada", "").await.json().await.unwrap();
    let titles: Vec<&str> = tasks.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Ada's", "plain"], "nothing compressed was saved");
}

#[actix_rt::test]
async fn odd_tokens_and_headers_get_401_on_every_route() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Ada's").await["id"].to_string();
    let authorizations = [
        (
            "a 100 KiB token",
            format!("Bearer {}", "a".repeat(100 * 1024)),
        ),
        (
            "a token just over 8 KiB",
            format!("Bearer {}", "a".repeat(8 * 1024 + 1)),
        ),
        ("a token of dots", "Bearer ....".into()),
        ("a token of JSON", r#"Bearer {"alg":"none"}"#.into()),
        ("Latin-1 bytes", "Bearer \u{e9}t\u{e9}".into()),
        (
            "a tab for the space",
            format!("Bearer\t{}", token_for("ada")),
        ),
        ("the scheme alone", "Bearer".into()),
    ];
    for (method, path) in routes(&id) {
        for (name, authorization) in &authorizations {
            let response = app
                .request(method.clone(), &path, None)
                .header("authorization", authorization.as_bytes())
                .header("content-type", "application/json")
                .body(r#"{"title": "x"}"#)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 401, "{method} {path}: {name}");
            assert_problem(response, 401).await;
        }
    }
}

#[actix_rt::test]
async fn a_signed_token_with_a_nul_or_an_unusable_sid_gets_401_before_any_query() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Ada's").await["id"].to_string();
    let cases = [
        ("a NUL in the subject", token_for("ada\0"), "ada%00"),
        ("a NUL in the sid", token_of_session("ada", "s\0"), "ada"),
        ("a blank sid", token_of_session("ada", " "), "ada"),
        ("an empty sid", token_of_session("ada", ""), "ada"),
        (
            "an invisible sid",
            token_of_session("ada", "\u{200B}"),
            "ada",
        ),
    ];
    for (name, token, user) in cases {
        for (method, path) in routes(&id) {
            let path = path.replacen("/api/ada/", &format!("/api/{user}/"), 1);
            let response = app
                .request(method.clone(), &path, Some(&token))
                .json(&json!({"title": "x"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 401, "{method} {path}: {name}");
            assert_problem(response, 401).await;
        }
    }
}

#[actix_rt::test]
async fn a_large_header_that_is_not_the_token_is_ignored() {
    let app = spawn_app().await;
    let response = app
        .request(Method::GET, "/api/ada/tasks", Some(&token_for("ada")))
        .header("x-padding", "p".repeat(100 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[actix_rt::test]
async fn request_heads_too_large_to_read_get_431_or_a_closed_connection_and_the_service_goes_on() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").parse().unwrap();
    let token = token_for("ada");
    let huge_token = format!(
        "GET /api/ada/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let many_headers = format!(
        "GET /api/ada/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n{}\r\n",
        (0..100)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    for (name, request) in [
        ("a 200 KiB token", huge_token),
        ("100 headers", many_headers),
    ] {
        let status = send_raw(address, request.as_bytes()).await;
        assert!(matches!(status, None | Some(431)), "{name}: {status:?}");
    }
    let healthy = app
        .request(Method::GET, "/api/ada/tasks", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(healthy.status().as_u16(), 200, "the service goes on");
}

#[actix_rt::test]
async fn odd_query_strings_get_a_4xx_naming_the_parameter_or_are_ignored() {
    let app = spawn_app().await;
    for (query, status, field) in [
        ("?limit=1e3", 422, Some("limit")),
        ("?limit=99999999999999999999", 422, Some("limit")),
        ("?offset=99999999999999999999", 422, Some("offset")),
        ("?offset=-0", 200, None),
        ("?limit=%00", 422, Some("limit")),
        ("?completed=TRUE", 422, Some("completed")),
        ("?limit=%FF", 422, Some("limit")),
        ("?limit=1&limit=2", 400, None),
        ("?unknown=%FF%FE", 200, None),
        ("?&&&=&", 200, None),
    ] {
        let response = app.list("ada", query).await;
        assert_eq!(response.status().as_u16(), status, "{query}");
        if status != 200 {
            let problem = assert_problem(response, status).await;
            if let Some(field) = field {
                assert_eq!(fields(&problem), [field], "{query}");
            }
        }
    }
}

#[actix_rt::test]
async fn odd_task_ids_and_user_ids_in_the_path_get_404_or_403() {
    let app = spawn_app().await;
    for (path, status) in [
        ("/api/ada/tasks/9223372036854775808", 404),
        ("/api/ada/tasks/%00", 404),
        ("/api/ada/tasks/%FF", 404),
        ("/api/ada/tasks/1%2F2", 404),
        ("/api/ada/tasks/..%2F..%2Fhealth", 404),
        ("/api/%00/tasks", 403),
        ("/api/%FF/tasks", 403),
        ("/api/ad%61/tasks/1/complete/extra", 404),
    ] {
        let response = app
            .request(Method::GET, path, Some(&token_for("ada")))
            .send()
            .await
            .unwrap();
        assert_problem(response, status).await;
    }
}

#[actix_rt::test]
async fn methods_a_route_does_not_have_get_405() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Ada's").await["id"].to_string();
    let missing = [
        ("PUT", "/api/ada/tasks".to_owned()),
        ("DELETE", "/api/ada/tasks".to_owned()),
        ("PATCH", "/api/ada/tasks".to_owned()),
        ("POST", format!("/api/ada/tasks/{id}")),
        ("PATCH", format!("/api/ada/tasks/{id}")),
        ("GET", format!("/api/ada/tasks/{id}/complete")),
        ("TRACE", "/api/ada/tasks".to_owned()),
        ("BREW", "/api/ada/tasks".to_owned()),
        ("PROPFIND", format!("/api/ada/tasks/{id}")),
        ("POST", "/health".to_owned()),
        ("DELETE", "/openapi.json".to_owned()),
    ];
    for (method, path) in missing {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .request(method.clone(), &path, Some(&token_for("ada")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        assert_problem(response, 405).await;
    }
    let still: serde_json::Value = app
        .on_task(Method::GET, "ada", &id, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["title"], "Ada's", "no odd method changed the task");
}

#[actix_rt::test]
async fn a_body_that_stalls_after_its_first_bytes_is_answered_408_within_the_bound() {
    use std::io::{Read, Write};
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let token = token_for("ada");
    let started = std::time::Instant::now();
    let answer = actix_rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let head = format!(
            "POST /api/ada/tasks HTTP/1.1\r\nHost: tasks\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{{\"title\""
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = vec![0; 1024];
        let read = stream.read(&mut answer).unwrap();
        String::from_utf8_lossy(&answer[..read]).into_owned()
    })
    .await
    .unwrap();
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        waited >= service::http::BODY_READ_TIMEOUT && waited < 2 * service::http::BODY_READ_TIMEOUT,
        "answered after {waited:?}"
    );
    let listed: serde_json::Value = app.list("ada", "").await.json().await.unwrap();
    assert_eq!(listed, json!([]), "nothing was saved");
}
