//! What an operator sees of each request: its id (`X-Request-Id`, in the answer, in every log
//! line written while it is served and in every problem+json body), one log line when it is
//! answered, and its count and latency in the metrics.

use crate::metrics::HttpMetrics;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client or a proxy (nginx's `$request_id` is 32).
const MAX_ID_LEN: usize = 64;

tokio::task_local! {
    static REQUEST_ID: RequestId;
}

/// A request's id: the one the proxy sent, when it is short and plain (letters, digits, `-`, `_`
/// and `.`: nothing that could forge a log line or a header), otherwise a fresh one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    fn of(request: &ServiceRequest) -> Self {
        request
            .headers()
            .get(X_REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .filter(|id| Self::is_plain(id))
            .map_or_else(Self::fresh, |id| Self(id.to_owned()))
    }

    fn is_plain(id: &str) -> bool {
        (1..=MAX_ID_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }

    fn fresh() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the request being served by the calling code, if any (not on a thread the
    /// request handed work to).
    pub fn current() -> Option<Self> {
        REQUEST_ID.try_with(Clone::clone).ok()
    }
}

/// The outermost middleware of every server: gives the request its id and serves it within it,
/// then logs the answer (method, path without the query string, which a careless client may
/// have put a token into, status, time) and counts it by route pattern, never by raw path.
/// Headers and bodies are never logged.
pub async fn observe<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let id = RequestId::of(&request);
    let started = Instant::now();
    let metrics = request.app_data::<web::Data<HttpMetrics>>().cloned();
    let (method, path) = (request.method().clone(), request.path().to_owned());
    REQUEST_ID
        .scope(id.clone(), async move {
            let header = HeaderValue::from_str(id.as_str()).expect("a plain id is a header value");
            let (answer, route): (Result<_, actix_web::Error>, _) = match next.call(request).await {
                Ok(mut response) => {
                    response.headers_mut().insert(X_REQUEST_ID, header);
                    let route = response.request().match_pattern();
                    (Ok(response), route)
                }
                // An error no middleware turned into an answer: rendered here, within the
                // request's id, rather than by the server after it.
                Err(error) => {
                    let mut answer = error.error_response();
                    answer.headers_mut().insert(X_REQUEST_ID, header);
                    let error = InternalError::from_response(error, answer);
                    (Err(error.into()), None)
                }
            };
            let status = match &answer {
                Ok(response) => response.status(),
                Err(error) => error.as_response_error().status_code(),
            };
            let elapsed = started.elapsed();
            log::info!(
                "{method} {path} {} {:.1}ms",
                status.as_u16(),
                elapsed.as_secs_f64() * 1e3
            );
            if let Some(metrics) = metrics {
                metrics.observe(&method, route, status, elapsed);
            }
            answer
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_kept() {
        for id in [
            "a",
            "0f3c9e2b5d7a41c6b8e0d2f4a6c8e0b2",
            "req-1_2.3",
            &"x".repeat(64),
        ] {
            assert!(RequestId::is_plain(id), "{id}");
        }
        for id in [
            "",
            &"x".repeat(65),
            "a b",
            "a\nINFO forged",
            "a\"b",
            "a=b",
            "é",
            "a/b",
        ] {
            assert!(!RequestId::is_plain(id), "{id:?}");
        }
    }

    #[test]
    fn a_fresh_id_is_plain_and_new_each_time() {
        let (a, b) = (RequestId::fresh(), RequestId::fresh());
        assert!(RequestId::is_plain(a.as_str()));
        assert_ne!(a, b);
    }
}
