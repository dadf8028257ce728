//! Puts tasks-api together: its routes (for mounting in any `App`), its API document, its token
//! verifier, and a server bound to the configured address (port 0 in tests).

use crate::config::{Config, PublicKeys};
use crate::ended_sessions::EndedSessions;
use crate::error::{NoValidToken, NotTheOwner, TaskNotFound};
use crate::feed_follower::{Follower, HttpFeed};
use crate::state::TasksApi;
use crate::{auth, metrics, routes};
use actix_web::middleware::from_fn;
use actix_web::web;
use jwks_client::{JwksCache, JwksHealth, JwksUrl};
use service::metrics::Metrics;
use service::{BoundServer, StartupError};
use shared::config::ConfigError;
use shared::token::{Verifier, VerifyingKey};
use std::sync::Arc;
use utoipa::OpenApi;

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
    paths(routes::list, routes::create, routes::read, routes::update, routes::delete, routes::toggle),
    components(responses(NoValidToken, NotTheOwner, TaskNotFound)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The verifier the configuration calls for; with `JWKS_URL`, once the key set is fetched
/// (retried while the issuer is not up yet, as long as the database would be), and with what the
/// metrics watch of that key set.
pub async fn verifier(config: &Config) -> Result<(Verifier, Option<JwksHealth>), StartupError> {
    let token = &config.token;
    let invalid = |variable, reason: String| ConfigError::Invalid { variable, reason };
    Ok(match (&token.secret, &config.public_keys) {
        (Some(secret), _) => (Verifier::with_secret(token, secret), None),
        (None, Some(PublicKeys::Jwks(url))) => {
            let source = JwksUrl::new(url).map_err(|e| invalid("JWKS_URL", e.to_string()))?;
            let cache = JwksCache::load(
                Box::new(source),
                &token.algorithms,
                config.common.pool.startup_wait,
            )
            .await
            .map_err(|e| invalid("JWKS_URL", e.to_string()))?;
            let health = cache.health();
            (Verifier::with_key_set(token, cache), Some(health))
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
                .find_map(|&algorithm| VerifyingKey::from_pem(algorithm, &pem))
                .ok_or_else(|| {
                    invalid(
                        "JWT_PUBLIC_KEY_FILE",
                        "not a PEM public key for the JWT_ALGORITHM".into(),
                    )
                })?;
            (Verifier::with_public_keys(token, vec![key]), None)
        }
        (None, None) => return Err(crate::config::public_keys_required().into()),
    })
}

/// Connects, migrates and binds tasks-api's own server (port 0 binds a free port).
pub async fn bind(config: Config) -> Result<BoundServer, StartupError> {
    let listen = config.common.listen.clone();
    let (verifier, jwks) = verifier(&config).await?;
    let verifier = web::Data::new(verifier);
    let (feed, max_staleness) = (config.session_feed.clone(), config.max_staleness);
    let api = web::Data::new(web::block(move || TasksApi::connect(&config)).await??);
    let ended = feed.map(|feed| {
        let ended = Arc::new(EndedSessions::new(max_staleness));
        let source = Box::new(HttpFeed::new(feed.url, &feed.secret));
        let follower = Follower::new(ended.clone(), source, api.pool.clone());
        actix_rt::spawn(Arc::new(follower).follow());
        ended
    });
    let readiness = api.readiness(ended.as_ref());
    let mut metrics = Metrics::new(env!("CARGO_PKG_VERSION"));
    let refusals = metrics::Refusals::register(&mut metrics);
    service::metrics::register_pools(&mut metrics, vec![("tasks", api.pool.clone())]);
    if let Some(jwks) = jwks {
        metrics::watch_jwks(&mut metrics, jwks);
    }
    if let Some(ended) = &ended {
        metrics::watch_session_feed(&mut metrics, ended.clone());
    }
    let ended = ended.map(web::Data::from);
    Ok(BoundServer::bind(
        &listen,
        ApiDoc::openapi(),
        readiness,
        metrics,
        move |cfg| {
            cfg.app_data(api.clone())
                .app_data(verifier.clone())
                .app_data(refusals.clone())
                .configure(configure);
            if let Some(ended) = &ended {
                cfg.app_data(ended.clone());
            }
        },
    )?)
}
