//! The HTTP conventions both services follow: every error is `application/problem+json`
//! (RFC 9457), actix's own errors included; JSON bodies are read by one extractor that names the
//! field at fault.

use crate::observe::{RequestId, X_REQUEST_ID};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The largest request body either service reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A field that failed validation, as listed in a 422 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Records a field's verdict: its value when valid, otherwise `None` and an entry in `errors`,
/// so that one 422 can list every field that is wrong.
pub fn field<T>(name: &str, verdict: Result<T, &str>, errors: &mut Vec<FieldError>) -> Option<T> {
    verdict
        .map_err(|message| errors.push(FieldError::new(name, message)))
        .ok()
}

/// An RFC 9457 problem. It is an error in its own right, so a handler can return one directly,
/// and each service's error type renders through it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    kind: &'static str,
    #[schema(example = "Not Found")]
    title: &'static str,
    #[schema(example = 404)]
    status: u16,
    #[schema(example = "Task not found")]
    detail: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: Box<[FieldError]>,
    /// The request's `X-Request-Id`, to quote when reporting the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "0f3c9e2b5d7a41c6b8e0d2f4a6c8e0b2")]
    request_id: Option<Box<str>>,
    #[serde(skip)]
    #[schema(ignore)]
    headers: Vec<(header::HeaderName, String)>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Box::default(),
            request_id: None,
            headers: Vec::new(),
        }
    }

    /// 422 listing every field that failed.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The request has invalid fields",
        );
        problem.errors = errors.into_boxed_slice();
        problem
    }

    /// 500, naming nothing of the cause, which goes to the log.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An unexpected error occurred",
        )
    }

    /// 503 telling the client when to try again.
    pub fn unavailable(detail: impl Into<String>, retry_after_seconds: u32) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
            .with_header(header::RETRY_AFTER, retry_after_seconds.to_string())
    }

    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl std::error::Error for Problem {}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        response.content_type(PROBLEM_JSON);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.as_str()));
        }
        let request_id = RequestId::current().map(|id| id.as_str().into());
        response.json(Self {
            request_id,
            ..self.clone()
        })
    }
}

/// A failed database call as the client sees it: 503 with `Retry-After` when the database is
/// unreachable, otherwise a generic 500. The cause is for the log ([`database::DbError::log`]),
/// never for the body.
impl From<&database::DbError> for Problem {
    fn from(e: &database::DbError) -> Self {
        match e {
            database::DbError::Unavailable(_) => {
                Problem::unavailable("The database is unavailable; try again shortly", 2)
            }
            database::DbError::Query(_) => Problem::internal(),
        }
    }
}

/// The detail for errors that actix raises before any handler runs.
fn generic_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "No such resource",
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed on this resource",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than 64 KiB",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Content-Type must be application/json",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "The request headers are too large",
        StatusCode::BAD_REQUEST => "The request is malformed",
        s if s.is_server_error() => "An unexpected error occurred",
        _ => "The request could not be processed",
    }
}

/// Middleware that turns any error response which is not yet problem+json (actix's 404 for an
/// unknown route, 405, a rejected payload, a CORS refusal) into one, keeping its headers.
pub fn problem_responses<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render_as_problem)
}

fn render_as_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if already_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let mut replacement = Problem::new(status, generic_detail(status)).error_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .append(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, replacement).map_into_right_body::<B>(),
    ))
}

/// The longest a request body may take to arrive, once its head has (actix bounds the head
/// alone). Without it a client that sends a few bytes and stalls holds a connection and its
/// buffer forever; 64 KiB in this time is a little over 6 KiB/s.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A JSON body, read by the service's rules: `Content-Type: application/json`, not compressed
/// (no `Content-Encoding` but `identity`), at most 64 KiB, within [`BODY_READ_TIMEOUT`] (408
/// after it), 400 when it is not JSON at all, 422 naming the field when it is JSON of the wrong
/// shape.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        // RFC 9110 §15.5.16: a content coding the server does not decode is a 415 too.
        let is_encoded = req
            .headers()
            .get_all(header::CONTENT_ENCODING)
            .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        let body = actix_web::web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type must be application/json",
                )
                .into());
            }
            if is_encoded {
                return Err(Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "The body must not be compressed: send it without Content-Encoding",
                )
                .into());
            }
            let bytes = actix_rt::time::timeout(BODY_READ_TIMEOUT, body)
                .await
                .map_err(|_| {
                    Problem::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "The request body did not arrive in time",
                    )
                })?
                .map_err(|e| {
                    let status = e.as_response_error().status_code();
                    Problem::new(status, generic_detail(status))
                })?;
            parse_json(&bytes).map(Json).map_err(Into::into)
        })
    }
}

/// Parses a JSON body, turning serde's error into a problem that names the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    // Syntax first, so that broken JSON is a 400 whatever its shape; every body we accept is an
    // object (serde would otherwise take `[..]` for a struct).
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON",
        ));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Problem::validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        // The syntax is known to be good, so this is a data error: say which field, and what is
        // wrong with it, in our words rather than serde's.
        let message = e.inner().to_string();
        let path = e.path().to_string();
        let (field, what) = if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            (join_path(&path, name), "is required")
        } else if message.starts_with("unknown field") {
            (path, "is not an accepted field")
        } else if message.starts_with("invalid type: null") {
            (path, "must not be null")
        } else if message.starts_with("invalid type") {
            (path, "has the wrong type")
        } else if message.starts_with("duplicate field") {
            (path, "appears more than once")
        } else {
            (path, "has an invalid value")
        };
        let field = if field == "." {
            "body".to_owned()
        } else {
            field
        };
        Problem::validation(vec![FieldError::new(field, what)])
    })
}

fn join_path(parent: &str, name: &str) -> String {
    if parent == "." || parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// Cross-origin access for the browser origins listed in `CORS_ORIGINS` (none by default).
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    origins
        .iter()
        .fold(actix_cors::Cors::default(), |cors, origin| {
            cors.allowed_origin(origin)
        })
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([
            header::LOCATION,
            header::HeaderName::from_static("x-total-count"),
            header::RETRY_AFTER,
            X_REQUEST_ID,
        ])
        .max_age(600)
}

/// The headers a browser needs on every answer, errors included: no content sniffing, no
/// framing, no referrer. The proxy sends the same set and hides these copies; the standalone
/// process, which browsers reach with no proxy in front, relies on them.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
}

/// Why a request is not authenticated, answered as RFC 6750 §3 says: 401 with a
/// `WWW-Authenticate: Bearer` challenge that carries an error code only when a token was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// No `Authorization` header at all.
    NoToken,
    /// A token that cannot be used; the detail says what the client got wrong, and never why a
    /// signature failed.
    InvalidToken(&'static str),
}

impl fmt::Display for Unauthenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unauthenticated::NoToken => f.write_str("no bearer token"),
            Unauthenticated::InvalidToken(detail) => write!(f, "token refused: {detail}"),
        }
    }
}

impl std::error::Error for Unauthenticated {}

impl Unauthenticated {
    /// A token that does not verify. The client is not told why: a bad signature, an expired
    /// token, another issuer's or audience's.
    pub const INVALID: Self = Self::InvalidToken("The token is invalid or expired");
    /// A valid token whose session has ended.
    pub const SESSION_ENDED: Self = Self::InvalidToken("This session has ended");
    /// A valid token of an account that has been deleted.
    pub const ACCOUNT_DELETED: Self = Self::InvalidToken("This account has been deleted");
    /// A valid token that names no session, to a service that checks sessions.
    pub const NO_SESSION: Self = Self::InvalidToken("The token belongs to no session");

    /// The 401 for a service that names itself `realm`.
    pub fn problem(self, realm: &str) -> Problem {
        let (detail, challenge) = match self {
            Unauthenticated::NoToken => (
                "A bearer token is required",
                format!(r#"Bearer realm="{realm}""#),
            ),
            Unauthenticated::InvalidToken(detail) => (
                detail,
                format!(r#"Bearer realm="{realm}", error="invalid_token""#),
            ),
        };
        Problem::new(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, challenge)
    }
}

/// The token of the request's only `Authorization` header, when that header is `Bearer <token>`
/// (scheme case-insensitive). A token anywhere else (query string, cookie, body) is never read.
pub fn bearer_token(request: &HttpRequest) -> Result<&str, Unauthenticated> {
    let mut headers = request.headers().get_all(header::AUTHORIZATION);
    let header = headers.next().ok_or(Unauthenticated::NoToken)?;
    if headers.next().is_some() {
        return Err(Unauthenticated::InvalidToken(
            "Send exactly one Authorization header",
        ));
    }
    let malformed =
        || Unauthenticated::InvalidToken("The Authorization header must be `Bearer <token>`");
    let value = header.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(malformed());
    }
    Ok(token)
}

/// The end of an auth middleware: lets `request` through with what `verdict` found in its
/// extensions, or answers with the refusal before the body is read. Every answer is
/// `Cache-Control: no-store`: what lies behind such a middleware is one person's.
pub async fn admit<T: 'static, B: MessageBody>(
    request: ServiceRequest,
    next: Next<B>,
    verdict: Result<T, impl ResponseError + 'static>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let mut response = match verdict {
        Ok(found) => {
            request.extensions_mut().insert(found);
            next.call(request).await?.map_into_left_body()
        }
        Err(refused) => request.error_response(refused).map_into_right_body(),
    };
    let (name, value) = no_store();
    response.headers_mut().insert(name, value);
    Ok(response)
}

/// `Cache-Control: no-store`, for responses that carry a token or a person's data.
pub fn no_store() -> (header::HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// Reads request bodies up to [`MAX_BODY_BYTES`]; larger ones get 413.
pub fn payload_config() -> actix_web::web::PayloadConfig {
    actix_web::web::PayloadConfig::new(MAX_BODY_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        count: u8,
    }

    #[test]
    fn text_that_is_not_json_is_a_400() {
        for body in ["", "{", "not json", "{\"email\": \"a\"} trailing"] {
            let problem = parse_json::<Body>(body.as_bytes()).unwrap_err();
            assert_eq!(problem.status(), StatusCode::BAD_REQUEST, "{body:?}");
        }
    }

    #[test]
    fn a_missing_field_is_a_422_naming_it() {
        let problem = parse_json::<Body>(br#"{"email": "a"}"#).unwrap_err();
        assert_eq!(problem.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem.errors(), [FieldError::new("count", "is required")]);
    }

    #[test]
    fn a_wrong_type_is_a_422_naming_the_field() {
        let problem = parse_json::<Body>(br#"{"email": 5, "count": 1}"#).unwrap_err();
        assert_eq!(
            problem.errors(),
            [FieldError::new("email", "has the wrong type")]
        );
        let problem = parse_json::<Body>(br#"{"email": "a", "count": 300}"#).unwrap_err();
        assert_eq!(
            problem.errors(),
            [FieldError::new("count", "has an invalid value")]
        );
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_a_422_on_the_body() {
        for body in ["[1, 2]", "\"text\"", "42", "null"] {
            let problem = parse_json::<Body>(body.as_bytes()).unwrap_err();
            assert_eq!(problem.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(
                problem.errors(),
                [FieldError::new("body", "must be a JSON object")]
            );
        }
    }

    /// The field errors above are told apart by serde's message text; each message is pinned
    /// here, so a serde release that words one differently fails this test, not a client.
    #[test]
    fn each_serde_message_we_recognise_still_reads_as_we_match_it() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Strict {
            title: String,
        }
        let cases: [(&[u8], FieldError); 5] = [
            (br#"{}"#, FieldError::new("title", "is required")),
            (
                br#"{"title": 1}"#,
                FieldError::new("title", "has the wrong type"),
            ),
            (
                br#"{"title": null}"#,
                FieldError::new("title", "must not be null"),
            ),
            (
                br#"{"title": "a", "titel": "b"}"#,
                FieldError::new("titel", "is not an accepted field"),
            ),
            (
                br#"{"title": "a", "title": "b"}"#,
                FieldError::new("body", "appears more than once"),
            ),
        ];
        for (body, expected) in cases {
            let problem = parse_json::<Strict>(body).unwrap_err();
            assert_eq!(
                problem.errors(),
                [expected],
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_challenge_carries_an_error_code_only_when_a_token_was_sent() {
        let challenge = |refused: Unauthenticated| {
            let response = refused.problem("svc").error_response();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(challenge(Unauthenticated::NoToken), r#"Bearer realm="svc""#);
        assert_eq!(
            challenge(Unauthenticated::InvalidToken("expired")),
            r#"Bearer realm="svc", error="invalid_token""#
        );
    }

    #[test]
    fn the_detail_never_repeats_library_text() {
        let problem = parse_json::<Body>(br#"{"email": 5, "count": 1}"#).unwrap_err();
        let body = serde_json::to_string(&problem).unwrap();
        assert!(!body.contains("invalid type"), "{body}");
    }
}
