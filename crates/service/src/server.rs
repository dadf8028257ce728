//! What every binary does first and last: logging set up from `RUST_LOG` (default `info`), and a
//! clear message and non-zero exit when start-up fails; and the server both services run.

use crate::http;
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use std::process::ExitCode;

pub fn init_logging() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
}

/// Logs why the process cannot start and returns the failing exit code.
pub fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    log::error!("cannot start: {error}");
    ExitCode::FAILURE
}

pub fn exit_code(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// A bound HTTP server with the conventions both services share: problem+json errors, CORS,
/// request logs, the body limit and `GET /health`. `configure` adds the service's own state and
/// routes; the standalone process passes one that adds both services'.
pub struct Service {
    server: Server,
    port: u16,
}

impl Service {
    pub fn bind<F>(
        host: &str,
        port: u16,
        cors_origins: Vec<String>,
        configure: F,
    ) -> std::io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let listener = TcpListener::bind((host, port))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(http::cors(&cors_origins))
                .wrap(http::problem_responses())
                .wrap(http::request_logger())
                .app_data(http::payload_config())
                // A resource rather than `App::route`, whose method guard would turn another
                // method into a 404 instead of a 405; the services' own routes do the same.
                .service(web::resource("/health").route(web::get().to(http::health)))
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
