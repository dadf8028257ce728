//! The server both services run, with what every one of them answers: `/health`, `/ready`,
//! `/metrics`, `/openapi.json` and `/docs`, behind request ids, problem+json errors, CORS,
//! request logs and the body limit.

use crate::config::Listen;
use crate::http::{self, FieldError, Problem};
use crate::metrics::{self, HttpMetrics, Metrics};
use crate::observe::observe;
use crate::responses::{BadJson, DatabaseUnreachable, InvalidField, NotJson, TooLarge};
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;
use std::sync::Arc;
use utoipa::OpenApi;

/// Whether a service has now what it needs to serve: its databases, each answering with every
/// migration applied, and whatever else it names (tasks-api: a recent read of the session feed).
#[derive(Clone, Default)]
pub struct Readiness {
    databases: Vec<(database::Pool, &'static database::Migrations)>,
    checks: Vec<(&'static str, Check)>,
}

/// A condition besides the databases: whether it holds now.
type Check = Arc<dyn Fn() -> bool + Send + Sync>;

impl Readiness {
    pub fn database(
        mut self,
        pool: database::Pool,
        migrations: &'static database::Migrations,
    ) -> Self {
        self.databases.push((pool, migrations));
        self
    }

    /// Another condition: `ready` tells whether it holds now, and `/ready` answers `unready` as
    /// its 503's detail while it does not.
    pub fn check(
        mut self,
        unready: &'static str,
        ready: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        self.checks.push((unready, Arc::new(ready)));
        self
    }

    /// These conditions and `others`: for a process that serves more than one service.
    pub fn and(mut self, others: Readiness) -> Self {
        self.databases.extend(others.databases);
        self.checks.extend(others.checks);
        self
    }

    /// Why the service cannot serve now, or `None` when it can.
    async fn unready(&self) -> Option<&'static str> {
        for (pool, migrations) in &self.databases {
            if !database::ready(pool, migrations).await {
                return Some("The database is not ready");
            }
        }
        self.checks
            .iter()
            .find(|(_, ready)| !ready())
            .map(|(unready, _)| *unready)
    }
}

/// Liveness: the process serves. It touches no database.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process serves")))]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Whether the service can serve now: every database answers with every migration applied, and
/// whatever else it needs holds.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve"),
        (status = 503, description = "Not ready: the detail says what is missing", body = Problem, content_type = "application/problem+json"),
    ))]
async fn ready(readiness: web::Data<Readiness>) -> Result<HttpResponse, Problem> {
    match readiness.unready().await {
        None => Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))),
        Some(unready) => Err(Problem::unavailable(unready, 2)),
    }
}

/// Serves the service's OpenAPI document, built once at start.
async fn openapi(document: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(document.get_ref())
}

/// The metrics, in the text Prometheus scrapes. Not documented in the API: it is for the
/// operator's scraper, on the service's own port, and the proxy does not route it.
async fn scrape(metrics: web::Data<Metrics>) -> Result<HttpResponse, actix_web::Error> {
    let text = web::block(move || metrics.encode()).await?;
    Ok(HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .body(text))
}

/// Swagger UI at `/docs/`, from the files built into the binary, showing `/openapi.json`. Its
/// pages need scripts, styles and images of their own origin, which the API's policy forbids.
fn docs() -> impl actix_web::dev::HttpServiceFactory {
    let policy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                  img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
    let to_index = || async {
        HttpResponse::Found()
            .insert_header((header::LOCATION, "/docs/"))
            .finish()
    };
    web::scope("/docs")
        .wrap(DefaultHeaders::new().add((header::CONTENT_SECURITY_POLICY, policy)))
        .service(web::resource("").route(web::get().to(to_index)))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/{_:.*}")
                // No validator badge: it would be fetched from swagger.io.
                .config(utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none")),
        )
}

/// What every service documents besides its own routes.
#[derive(OpenApi)]
#[openapi(
    paths(health, ready),
    components(
        schemas(Problem, FieldError),
        responses(BadJson, TooLarge, NotJson, InvalidField, DatabaseUnreachable)
    )
)]
struct Operations;

/// A bound HTTP server. `configure` adds the service's own state and routes; the standalone
/// process passes one that adds both services'.
pub struct BoundServer {
    server: Server,
    port: u16,
}

impl BoundServer {
    /// `metrics` holds what the service registered; the requests' are added here.
    pub fn bind<F>(
        listen: &Listen,
        mut document: utoipa::openapi::OpenApi,
        readiness: Readiness,
        mut metrics: Metrics,
        configure: F,
    ) -> std::io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        document.merge(Operations::openapi());
        let document = web::Data::new(document);
        let readiness = web::Data::new(readiness);
        let http_metrics = web::Data::new(HttpMetrics::register(&mut metrics));
        let metrics = web::Data::new(metrics);
        let cors_origins = listen.cors_origins.clone();
        let listener = TcpListener::bind((listen.host.as_str(), listen.port))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(http::cors(&cors_origins))
                .wrap(http::problem_responses())
                .wrap(http::security_headers())
                .wrap(from_fn(observe))
                .app_data(http::payload_config())
                .app_data(document.clone())
                .app_data(readiness.clone())
                .app_data(metrics.clone())
                .app_data(http_metrics.clone())
                // Resources rather than `App::route`, whose method guard would turn another
                // method into a 404 instead of a 405; the services' own routes do the same.
                .service(web::resource("/health").route(web::get().to(health)))
                .service(web::resource("/ready").route(web::get().to(ready)))
                .service(web::resource("/metrics").route(web::get().to(scrape)))
                .service(web::resource("/openapi.json").route(web::get().to(openapi)))
                .configure(configure.clone())
                .service(docs())
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
