//! Builds the issuer: its state, its routes (for mounting in any `App`) and a server bound to the
//! configured address (port 0 in tests).

use crate::config::Config;
use crate::db::MIGRATIONS;
use crate::error::IssuerError;
use crate::keys::KeyRing;
use crate::password::Hasher;
use crate::rate_limit::RateLimiter;
use crate::sessions::SessionEndsListener;
use crate::throttle::AccountThrottle;
use crate::{account, routes, sessions};

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use database::Pool;
use service::http::Problem;
use service::{Readiness, Service, StartupError};
use shared::config::Secret;
use utoipa::OpenApi;

/// Everything a request handler of the issuer needs.
pub struct Issuer {
    pub pool: Pool,
    pub keys: KeyRing,
    pub hasher: Hasher,
    pub rate_limiter: RateLimiter,
    pub account_throttle: AccountThrottle,
    pub session_feed_secret: Option<Secret>,
    /// Who in this process learns of ended sessions before the answer goes out, if anyone.
    pub session_ends_listener: Option<Box<dyn SessionEndsListener>>,
}

impl Issuer {
    /// Connects (retrying while the database is not up yet) and migrates.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        let pool = config.common.connect(&MIGRATIONS)?;
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
            account_throttle: config.account_throttle,
            session_feed_secret: config.session_feed_secret.clone(),
            session_ends_listener: None,
        })
    }

    /// Tells this process's listener, if any, that sessions have just ended, and waits for it.
    pub async fn sessions_ended(&self) {
        if let Some(listener) = &self.session_ends_listener {
            listener.sessions_ended().await;
        }
    }

    /// What the issuer's `/ready` checks.
    pub fn readiness(&self) -> Readiness {
        Readiness::default().database(self.pool.clone(), &MIGRATIONS)
    }
}

/// The issuer's public routes, for its own server and for the standalone process.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let signed_in = || from_fn(sessions::require_session);
    cfg.service(web::resource("/signup").route(web::post().to(routes::signup)))
        .service(web::resource("/signin").route(web::post().to(routes::signin)))
        .service(
            web::resource("/signout")
                .wrap(signed_in())
                .route(web::post().to(account::signout)),
        )
        .service(
            web::scope("/account")
                .wrap(signed_in())
                .service(
                    web::resource("")
                        .route(web::get().to(account::show))
                        .route(web::delete().to(account::delete_account)),
                )
                .service(web::resource("/sessions").route(web::get().to(account::list_sessions)))
                .service(
                    web::resource("/sessions/{id}").route(web::delete().to(account::end_session)),
                )
                .service(web::resource("/password").route(web::put().to(account::change_password))),
        )
        .service(web::resource("/.well-known/jwks.json").route(web::get().to(jwks)))
        .service(
            web::resource("/internal/session-ends").route(web::get().to(sessions::session_ends)),
        );
}

/// The public keys that verify the issuer's tokens (RFC 7517). Only with an asymmetric
/// algorithm: an HS256 secret is never published.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "issuer",
    responses(
        (status = 200, description = "The public keys, each with `kid`, `alg` and `use: \"sig\"`"),
        (status = 404, description = "The issuer signs with HS256: there is nothing to publish", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn jwks(issuer: web::Data<Issuer>) -> Result<HttpResponse, IssuerError> {
    let document = issuer
        .keys
        .jwks(&issuer.pool)
        .await
        .ok_or(IssuerError::NoPublicKeys)?;
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
        description = "Sign-up, sign-in, sessions and the account; mints the tokens tasks-api verifies."
    ),
    paths(
        routes::signup,
        routes::signin,
        account::signout,
        account::show,
        account::delete_account,
        account::list_sessions,
        account::end_session,
        account::change_password,
        jwks
    )
)]
pub struct ApiDoc;

/// Connects, migrates and binds the issuer's own server (port 0 binds a free port).
pub async fn build(config: Config) -> Result<Service, StartupError> {
    let listen = config.common.listen.clone();
    let issuer = web::Data::new(web::block(move || Issuer::build(&config)).await??);
    let readiness = issuer.readiness();
    Ok(Service::bind(
        &listen,
        ApiDoc::openapi(),
        readiness,
        move |cfg| {
            cfg.app_data(issuer.clone()).configure(configure);
        },
    )?)
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
    let pool = config.common.connect(&MIGRATIONS)?;
    Ok(crate::keys::rotate(&config.token, &mut *pool.get()?)?)
}
