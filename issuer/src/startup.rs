//! Builds the issuer: its state, its routes (for mounting in any `App`) and a server bound to the
//! configured address (port 0 in tests).

use crate::config::Config;
use crate::db::MIGRATIONS;
use crate::password::Hasher;
use crate::rate_limit::RateLimiter;
use crate::routes;
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use shared::db::Pool;
use shared::http::Problem;
use shared::token::Signer;
use std::net::TcpListener;
use utoipa::OpenApi;

/// Everything a request handler of the issuer needs.
pub struct Issuer {
    pub pool: Pool,
    pub signer: Signer,
    pub hasher: Hasher,
    pub rate_limiter: RateLimiter,
}

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

impl Issuer {
    /// Connects (retrying while the database is not up yet) and migrates.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        Ok(Self {
            pool: shared::db::connect(&config.database_url, &MIGRATIONS, &config.pool)?,
            signer: Signer::new(&config.token),
            hasher: Hasher::new(
                config.hash_cost,
                config.max_concurrent_hashes,
                config.hash_wait,
            )?,
            rate_limiter: RateLimiter::new(
                config.rate_limit_per_minute,
                config.rate_limit_burst,
                config.trusted_proxies.clone(),
            ),
        })
    }

    pub async fn is_ready(&self) -> bool {
        shared::db::ready(&self.pool, &MIGRATIONS).await
    }
}

/// The issuer's public routes, for its own server and for the standalone process.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/signup").route(web::post().to(routes::signup)))
        .service(web::resource("/signin").route(web::post().to(routes::signin)));
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "issuer",
        description = "Sign-up and sign-in; mints the tokens tasks-api verifies."
    ),
    paths(routes::signup, routes::signin, shared::http::health, ready),
    components(schemas(Problem, shared::http::FieldError))
)]
pub struct ApiDoc;

/// Whether the database answers and every migration is applied.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve"),
        (status = 503, description = "The database is not ready", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(issuer: web::Data<Issuer>) -> Result<HttpResponse, Problem> {
    shared::http::readiness(issuer.is_ready().await)
}

pub struct Application {
    server: Server,
    port: u16,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let listener = TcpListener::bind((config.host.as_str(), config.port))?;
        let port = listener.local_addr()?.port();
        let cors_origins = config.cors_origins.clone();
        let issuer = web::Data::new(web::block(move || Issuer::build(&config)).await??);
        let openapi = web::Data::new(ApiDoc::openapi());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(shared::http::cors(&cors_origins))
                .wrap(shared::http::problem_responses())
                .wrap(shared::http::request_logger())
                .app_data(issuer.clone())
                .app_data(openapi.clone())
                .app_data(shared::http::payload_config())
                .configure(configure)
                .route("/health", web::get().to(shared::http::health))
                .route("/ready", web::get().to(ready))
                .route("/openapi.json", web::get().to(shared::http::openapi))
        })
        .listen(listener)?
        .run();
        Ok(Self { server, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
