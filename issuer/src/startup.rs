//! Builds the issuer: its state, its routes (for mounting in any `App`) and a server bound to the
//! configured address (port 0 in tests).

use crate::config::Config;
use crate::db::MIGRATIONS;
use crate::password::Hasher;
use crate::rate_limit::RateLimiter;
use crate::routes;

use actix_web::{HttpResponse, web};
use shared::db::Pool;
use shared::http::Problem;
use shared::startup::Service;
use shared::token::Signer;
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

/// Connects, migrates and binds the issuer's own server (port 0 binds a free port).
pub async fn build(config: Config) -> Result<Service, StartupError> {
    let (host, port, cors_origins) = (
        config.host.clone(),
        config.port,
        config.cors_origins.clone(),
    );
    let issuer = web::Data::new(web::block(move || Issuer::build(&config)).await??);
    let openapi = web::Data::new(ApiDoc::openapi());
    Ok(Service::bind(&host, port, cors_origins, move |cfg| {
        cfg.app_data(issuer.clone())
            .app_data(openapi.clone())
            .configure(configure)
            .service(web::resource("/ready").route(web::get().to(ready)))
            .service(web::resource("/openapi.json").route(web::get().to(shared::http::openapi)));
    })?)
}
