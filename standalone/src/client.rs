//! The web client (`web/` at the top of the repository), embedded in the binary: its page at `/`
//! and its files under `/assets/`, under the page's own Content-Security-Policy. The proxy
//! serves the same files with the same policy (`deploy/nginx/default.conf.template`).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use actix_web::web::{self, Bytes};
use rust_embed::Embed;
use service::http::Problem;
use std::borrow::Cow;

#[derive(Embed)]
#[folder = "../web/"]
struct Files;

/// Scripts, styles and API calls from this origin only; no inline script or style, no framing.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(page)))
        .service(web::resource("/assets/{file}").route(web::get().to(asset)));
}

async fn page() -> Result<HttpResponse, Problem> {
    serve("index.html")
}

async fn asset(file: web::Path<String>) -> Result<HttpResponse, Problem> {
    serve(&format!("assets/{file}"))
}

fn serve(path: &str) -> Result<HttpResponse, Problem> {
    let file =
        Files::get(path).ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "No such file"))?;
    let body = match file.data {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    };
    Ok(HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header((CONTENT_SECURITY_POLICY, PAGE_POLICY))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(body))
}
