//! Puts the issuer together: its routes (for mounting in any `App`), its API document, and a
//! server bound to the configured address (port 0 in tests).

use crate::config::Config;
use crate::db::MIGRATIONS;
use crate::error::SessionRequired;
use crate::signed_in::require_session;
use crate::state::Issuer;
use crate::{account, feed, recovery, routes};
use actix_web::middleware::from_fn;
use actix_web::web;
use service::metrics::Metrics;
use service::{BoundServer, StartupError};
use utoipa::OpenApi;

/// The issuer's public routes, for its own server and for the standalone process.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let signed_in = || from_fn(require_session);
    cfg.service(web::resource("/signup").route(web::post().to(routes::signup)))
        .service(web::resource("/signin").route(web::post().to(routes::signin)))
        .service(web::resource("/password/forgot").route(web::post().to(recovery::forgot_password)))
        .service(web::resource("/password/reset").route(web::post().to(recovery::reset_password)))
        .service(web::resource("/email/verify").route(web::post().to(recovery::verify_email)))
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
                .service(web::resource("/activity").route(web::get().to(account::list_activity)))
                .service(
                    web::resource("/sessions/{id}").route(web::delete().to(account::end_session)),
                )
                .service(web::resource("/password").route(web::put().to(account::change_password)))
                .service(web::resource("/email").route(web::put().to(account::change_email)))
                .service(
                    web::resource("/email/verification")
                        .route(web::post().to(account::resend_verification)),
                ),
        )
        .service(web::resource("/.well-known/jwks.json").route(web::get().to(routes::jwks)))
        .service(web::resource("/internal/session-ends").route(web::get().to(feed::session_ends)));
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "issuer",
        description = "Sign-up, sign-in, sessions, the account and its recovery by mail; mints the tokens tasks-api verifies."
    ),
    paths(
        routes::signup,
        routes::signin,
        account::signout,
        account::show,
        account::delete_account,
        account::list_sessions,
        account::list_activity,
        account::end_session,
        account::change_password,
        account::change_email,
        account::resend_verification,
        recovery::forgot_password,
        recovery::reset_password,
        recovery::verify_email,
        routes::jwks
    ),
    components(responses(SessionRequired))
)]
pub struct ApiDoc;

/// Connects, migrates and binds the issuer's own server (port 0 binds a free port).
pub async fn bind(config: Config) -> Result<BoundServer, StartupError> {
    let listen = config.common.listen.clone();
    let (issuer, sender) = web::block(move || Issuer::connect(&config)).await??;
    actix_web::rt::spawn(sender.run());
    let issuer = web::Data::new(issuer);
    let readiness = issuer.readiness();
    let mut metrics = Metrics::new(env!("CARGO_PKG_VERSION"));
    issuer.register_metrics(&mut metrics);
    service::metrics::register_pools(&mut metrics, vec![("issuer", issuer.pool.clone())]);
    Ok(BoundServer::bind(
        &listen,
        ApiDoc::openapi(),
        readiness,
        metrics,
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
