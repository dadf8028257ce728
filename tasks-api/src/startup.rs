//! Builds tasks-api: its state, its routes (for mounting in any `App`) and a server bound to the
//! configured address (port 0 in tests).

use crate::config::Config;
use crate::db::MIGRATIONS;
use crate::routes;
use actix_web::{HttpResponse, web};
use shared::db::Pool;
use shared::http::Problem;
use shared::startup::Service;
use shared::token::Verifier;
use utoipa::OpenApi;

/// Everything a tasks-api handler needs besides the token verifier.
pub struct TasksApi {
    pub pool: Pool,
}

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

impl TasksApi {
    /// Connects (retrying while the database is not up yet) and migrates.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        Ok(Self {
            pool: shared::db::connect(&config.database_url, &MIGRATIONS, &config.pool)?,
        })
    }

    pub async fn is_ready(&self) -> bool {
        shared::db::ready(&self.pool, &MIGRATIONS).await
    }
}

/// tasks-api's public routes, for its own server and for the standalone process. The app must
/// hold a `web::Data<TasksApi>` and a `web::Data<Verifier>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/{user_id}/tasks")
            .service(
                web::resource("")
                    .route(web::get().to(routes::list))
                    .route(web::post().to(routes::create)),
            )
            .service(
                web::resource("/{task_id}")
                    .route(web::get().to(routes::read))
                    .route(web::put().to(routes::update))
                    .route(web::delete().to(routes::delete)),
            )
            .service(web::resource("/{task_id}/complete").route(web::patch().to(routes::toggle))),
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

/// Connects, migrates and binds tasks-api's own server (port 0 binds a free port).
pub async fn build(config: Config) -> Result<Service, StartupError> {
    let (host, port, cors_origins) = (
        config.host.clone(),
        config.port,
        config.cors_origins.clone(),
    );
    let verifier = web::Data::new(Verifier::new(&config.token));
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
