//! Builds the issuer: its state, its routes (for mounting in any `App`) and a server bound to the
//! configured address (port 0 in tests).

use crate::config::Config;
use crate::db::MIGRATIONS;
use crate::keys::KeyRing;
use crate::password::Hasher;
use crate::rate_limit::RateLimiter;
use crate::routes;

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use shared::db::Pool;
use shared::http::Problem;
use shared::startup::Service;
use utoipa::OpenApi;

/// Everything a request handler of the issuer needs.
pub struct Issuer {
    pub pool: Pool,
    pub keys: KeyRing,
    pub hasher: Hasher,
    pub rate_limiter: RateLimiter,
}

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

impl Issuer {
    /// Connects (retrying while the database is not up yet) and migrates.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        let pool = shared::db::connect(&config.database_url, &MIGRATIONS, &config.pool)?;
        let keys = KeyRing::load(
            &config.token,
            config.private_key_file.as_deref(),
            &mut *pool.get()?,
        )?;
        Ok(Self {
            pool,
            keys,
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
        .service(web::resource("/signin").route(web::post().to(routes::signin)))
        .service(web::resource("/.well-known/jwks.json").route(web::get().to(jwks)));
}

/// The public keys that verify the issuer's tokens (RFC 7517). Only with an asymmetric
/// algorithm: an HS256 secret is never published.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "issuer",
    responses(
        (status = 200, description = "The public keys, each with `kid`, `alg` and `use: \"sig\"`"),
        (status = 404, description = "The issuer signs with HS256: there is nothing to publish", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn jwks(issuer: web::Data<Issuer>) -> Result<HttpResponse, Problem> {
    let document = issuer.keys.jwks(&issuer.pool).await.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "This issuer signs with a shared secret and publishes no keys",
        )
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((
            CACHE_CONTROL,
            format!("public, max-age={}", crate::keys::JWKS_MAX_AGE.as_secs()),
        ))
        .body(document.to_vec()))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "issuer",
        description = "Sign-up and sign-in; mints the tokens tasks-api verifies."
    ),
    paths(routes::signup, routes::signin, jwks, shared::http::health, ready),
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

/// Stores a new signing key in the issuer's database (see [`crate::keys::rotate`]).
pub fn rotate_key(config: &Config) -> Result<(String, chrono::NaiveDateTime), StartupError> {
    if !config.token.is_asymmetric() || config.private_key_file.is_some() {
        return Err(
            "rotate-key is for an asymmetric JWT_ALGORITHM whose keys live in the \
                    database (no JWT_PRIVATE_KEY_FILE)"
                .into(),
        );
    }
    let pool = shared::db::connect(&config.database_url, &MIGRATIONS, &config.pool)?;
    Ok(crate::keys::rotate(&config.token, &mut *pool.get()?)?)
}
