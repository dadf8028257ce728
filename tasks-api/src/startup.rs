//! Builds tasks-api: its state, its routes (for mounting in any `App`) and a server bound to the
//! configured address (port 0 in tests).

use crate::config::{Config, PublicKeys};
use crate::db::MIGRATIONS;
use crate::list_cache::ListCache;
use crate::{auth, routes};
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use shared::config::ConfigError;
use shared::db::Pool;
use shared::http::Problem;
use shared::jwks::{JwksCache, JwksUrl};
use shared::startup::Service;
use shared::token::{Verifier, VerifyingKey};
use utoipa::OpenApi;

/// Everything a tasks-api handler needs besides the token verifier.
pub struct TasksApi {
    pub pool: Pool,
    pub lists: ListCache,
}

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

impl TasksApi {
    /// Connects (retrying while the database is not up yet) and migrates.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        Ok(Self {
            pool: shared::db::connect(&config.database_url, &MIGRATIONS, &config.pool)?,
            lists: ListCache::new(config.list_cache_bytes),
        })
    }

    pub async fn is_ready(&self) -> bool {
        shared::db::ready(&self.pool, &MIGRATIONS).await
    }
}

/// tasks-api's public routes, for its own server and for the standalone process, all behind the
/// auth middleware. The app must hold a `web::Data<TasksApi>` and a `web::Data<Verifier>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/{user_id}")
            .wrap(from_fn(auth::require_owner))
            .service(
                web::resource("/tasks")
                    .route(web::get().to(routes::list))
                    .route(web::post().to(routes::create)),
            )
            .service(
                web::resource("/tasks/{task_id}")
                    .route(web::get().to(routes::read))
                    .route(web::put().to(routes::update))
                    .route(web::delete().to(routes::delete)),
            )
            .service(
                web::resource("/tasks/{task_id}/complete").route(web::patch().to(routes::toggle)),
            ),
    );
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "tasks-api", description = "Per-user tasks; every route takes a bearer token whose subject is the path's user."),
    paths(routes::list, routes::create, routes::read, routes::update, routes::delete, routes::toggle, shared::http::health, ready),
    components(schemas(Problem, shared::http::FieldError)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Whether the database answers and every migration is applied.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve"),
        (status = 503, description = "The database is not ready", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(api: web::Data<TasksApi>) -> Result<HttpResponse, Problem> {
    shared::http::readiness(api.is_ready().await)
}

/// The verifier the configuration calls for; with `JWKS_URL`, once the key set is fetched
/// (retried while the issuer is not up yet, as long as the database would be).
pub async fn verifier(config: &Config) -> Result<Verifier, StartupError> {
    let token = &config.token;
    let invalid = |variable, reason: String| ConfigError::Invalid { variable, reason };
    Ok(match (&token.secret, &config.public_keys) {
        (Some(secret), _) => Verifier::with_secret(token, secret),
        (None, Some(PublicKeys::Jwks(url))) => {
            let source = JwksUrl::new(url).map_err(|e| invalid("JWKS_URL", e.to_string()))?;
            let cache = JwksCache::load(
                Box::new(source),
                &token.algorithms,
                config.pool.startup_wait,
            )
            .await
            .map_err(|e| invalid("JWKS_URL", e.to_string()))?;
            Verifier::with_jwks(token, cache)
        }
        (None, Some(PublicKeys::File(path))) => {
            let pem = std::fs::read(path).map_err(|e| {
                invalid(
                    "JWT_PUBLIC_KEY_FILE",
                    format!("cannot read {path}: {}", e.kind()),
                )
            })?;
            let key = token
                .algorithms
                .iter()
                .find_map(|&algorithm| {
                    Some(VerifyingKey {
                        kid: None,
                        algorithm: algorithm.jwt(),
                        key: shared::keys::decoding_key_from_pem(algorithm, &pem)?,
                    })
                })
                .ok_or_else(|| {
                    invalid(
                        "JWT_PUBLIC_KEY_FILE",
                        "not a PEM public key for the JWT_ALGORITHM".into(),
                    )
                })?;
            Verifier::with_public_keys(token, vec![key])
        }
        (None, None) => return Err(crate::config::public_keys_required().into()),
    })
}

/// Connects, migrates and binds tasks-api's own server (port 0 binds a free port).
pub async fn build(config: Config) -> Result<Service, StartupError> {
    let (host, port, cors_origins) = (
        config.host.clone(),
        config.port,
        config.cors_origins.clone(),
    );
    let verifier = web::Data::new(verifier(&config).await?);
    let api = web::Data::new(web::block(move || TasksApi::build(&config)).await??);
    let openapi = web::Data::new(ApiDoc::openapi());
    Ok(Service::bind(&host, port, cors_origins, move |cfg| {
        cfg.app_data(api.clone())
            .app_data(verifier.clone())
            .app_data(openapi.clone())
            .configure(configure)
            .service(web::resource("/ready").route(web::get().to(ready)))
            .service(web::resource("/openapi.json").route(web::get().to(shared::http::openapi)));
    })?)
}
