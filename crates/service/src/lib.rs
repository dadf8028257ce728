//! What both services (and the standalone process, which runs both) are built on: the HTTP
//! conventions ([`http`]) and the error answers they document ([`responses`]), what a person's
//! text shows ([`text`]), the common configuration ([`config`]), the server with `/health`,
//! `/ready` and `/openapi.json` ([`BoundServer`]), and how a process starts and fails to.

pub mod config;
pub mod http;
pub mod responses;
mod server;
pub mod text;

pub use server::{BoundServer, Readiness};
use std::process::ExitCode;

/// Why a service could not start; the message names what to fix.
pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

/// Logging from `RUST_LOG`, `info` by default.
pub fn init_logging() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
}

/// How a service's `main` begins. With `--env-vars` (`env_vars`), it prints the variables the
/// service reads, one a line, and the process ends there; otherwise logging starts and the
/// configuration is read, and a process that cannot read it ends with a message naming the
/// variable at fault. `Err` holds the exit code to end with.
pub fn start<C, E: std::fmt::Display>(
    env_vars: bool,
    variables: fn() -> Vec<String>,
    from_env: fn() -> Result<C, E>,
) -> Result<C, ExitCode> {
    if env_vars {
        println!("{}", variables().join("\n"));
        return Err(ExitCode::SUCCESS);
    }
    init_logging();
    from_env().map_err(|e| fail(&e))
}

/// Logs why the process cannot start and returns the failing exit code.
pub fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    log::error!("cannot start: {error}");
    ExitCode::FAILURE
}

/// The exit code of a server that has stopped.
pub fn exit_code(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}
