//! The server both services run, with what every one of them answers: `/health`, `/ready` and
//! `/openapi.json`, behind problem+json errors, CORS, request logs and the body limit.

use crate::config::Listen;
use crate::http::{self, FieldError, Problem};
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;
use utoipa::OpenApi;

/// The databases whose readiness is the service's: each must answer with every migration applied.
#[derive(Clone, Default)]
pub struct Databases(Vec<(database::Pool, &'static database::Migrations)>);

impl Databases {
    pub fn with(mut self, pool: database::Pool, migrations: &'static database::Migrations) -> Self {
        self.0.push((pool, migrations));
        self
    }

    /// These databases and `others`: for a process that serves more than one service.
    pub fn and(mut self, others: Databases) -> Self {
        self.0.extend(others.0);
        self
    }

    async fn ready(&self) -> bool {
        for (pool, migrations) in &self.0 {
            if !database::ready(pool, migrations).await {
                return false;
            }
        }
        true
    }
}

/// Liveness: the process serves. It touches no database.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process serves")))]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Whether every database answers and every migration is applied.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve"),
        (status = 503, description = "A database is not ready", body = Problem, content_type = "application/problem+json"),
    ))]
async fn ready(databases: web::Data<Databases>) -> Result<HttpResponse, Problem> {
    if databases.ready().await {
        Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
    } else {
        Err(Problem::unavailable("The database is not ready", 2))
    }
}

/// Serves the service's OpenAPI document, built once at start.
async fn openapi(document: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(document.get_ref())
}

/// What every service documents besides its own routes.
#[derive(OpenApi)]
#[openapi(paths(health, ready), components(schemas(Problem, FieldError)))]
struct Operations;

/// A bound HTTP server. `configure` adds the service's own state and routes; the standalone
/// process passes one that adds both services'.
pub struct Service {
    server: Server,
    port: u16,
}

impl Service {
    pub fn bind<F>(
        listen: &Listen,
        mut document: utoipa::openapi::OpenApi,
        databases: Databases,
        configure: F,
    ) -> std::io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        document.merge(Operations::openapi());
        let document = web::Data::new(document);
        let databases = web::Data::new(databases);
        let cors_origins = listen.cors_origins.clone();
        let listener = TcpListener::bind((listen.host.as_str(), listen.port))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(http::cors(&cors_origins))
                .wrap(http::problem_responses())
                .wrap(http::request_logger())
                .wrap(http::security_headers())
                .app_data(http::payload_config())
                .app_data(document.clone())
                .app_data(databases.clone())
                // Resources rather than `App::route`, whose method guard would turn another
                // method into a 404 instead of a 405; the services' own routes do the same.
                .service(web::resource("/health").route(web::get().to(health)))
                .service(web::resource("/ready").route(web::get().to(ready)))
                .service(web::resource("/openapi.json").route(web::get().to(openapi)))
                .configure(configure.clone())
        })
        .listen(listener)?
        .run();
        Ok(Self { server, port })
    }

    /// The port actually bound (the configured one, or the one the OS chose for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server (tests use it to restart a service on the same database).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
