//! HTTP as the tests see it: a raw HTTP/1.1 sender for requests no well-behaved client library
//! would send, the problem+json every error is, and the API document's references.

use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Sends `request` as raw bytes to `address` and returns the status of the answer, or `None`
/// when the server closed the connection without one (as it may for a request head it refuses
/// to read to the end). Gives up after five seconds, so that a hang fails the test.
pub async fn send_raw(address: SocketAddr, request: &[u8]) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = TcpStream::connect(address).await.ok()?;
        // A refused head may be cut off mid-write; the answer is what counts.
        let _ = stream.write_all(request).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let status_line = answer.split(|b| *b == b'\n').next()?;
        std::str::from_utf8(status_line)
            .ok()?
            .split(' ')
            .nth(1)?
            .parse()
            .ok()
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), exchange)
        .await
        .expect("the server answers or closes within 5 s")
}

/// Asserts that `response` is an RFC 9457 problem with `status`, as both services answer every
/// error, that it quotes its `X-Request-Id` as `request_id`, and that a 422 names the fields at
/// fault; returns its body without the `request_id`, which differs from request to request.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("every answer carries X-Request-Id");
    let mut body: serde_json::Value = response.json().await.expect("a JSON problem body");
    let quoted = body
        .as_object_mut()
        .and_then(|problem| problem.remove("request_id"));
    assert_eq!(
        quoted.as_ref().and_then(|id| id.as_str()),
        Some(request_id.as_str()),
        "the problem quotes its request's id"
    );
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], "about:blank");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    if status == 422 {
        assert!(!fields(&body).is_empty(), "a 422 names the field: {body}");
    }
    body
}

/// The field names listed in a 422 body.
pub fn fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts that every `$ref` of an API document names something in it: each schema and response
/// an operation refers to must be under `components`.
pub fn assert_refs_resolve(document: &serde_json::Value) {
    fn walk<'d>(value: &'d serde_json::Value, refs: &mut Vec<&'d str>) {
        match value {
            serde_json::Value::Object(object) => {
                if let Some(serde_json::Value::String(target)) = object.get("$ref") {
                    refs.push(target);
                }
                object.values().for_each(|v| walk(v, refs));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(document, &mut refs);
    let unresolved: Vec<_> = refs
        .into_iter()
        .filter(|target| {
            document
                .pointer(target.strip_prefix('#').unwrap_or(target))
                .is_none()
        })
        .collect();
    assert!(
        unresolved.is_empty(),
        "references to nothing: {unresolved:?}"
    );
}

/// The text of `base`'s `/metrics`, after checking that it is served as OpenMetrics.
pub async fn scrape(client: &reqwest::Client, base: &str) -> String {
    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

/// The value of one sample in a scrape's text, named as it is written there (its labels in the
/// order they are encoded): `issuer_signins_total{outcome="success"}`.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
}
