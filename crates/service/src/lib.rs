//! What both services (and the standalone process, which runs both) are built on: the HTTP
//! conventions ([`http`]) and the error answers they document ([`responses`]), what a person's
//! text shows ([`text`]), the common configuration ([`config`]), the server with `/health`,
//! `/ready`, `/metrics`, `/openapi.json` and `/docs` ([`BoundServer`]), what an operator sees of
//! each request ([`observe`], [`metrics`]), and how a process starts, logs ([`logging`]) and fails.

pub mod config;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod observe;
pub mod responses;
mod server;
pub mod text;

pub use server::{BoundServer, Readiness};
use std::process::ExitCode;

/// Why a service could not start; the message names what to fix.
pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

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
    init_logging()?;
    from_env().map_err(|e| fail(&e))
}

/// Starts logging ([`logging`]); `Err` holds the exit code of a process that cannot, having said
/// why on stderr (there is no logger to say it with).
pub fn init_logging() -> Result<(), ExitCode> {
    logging::init().map_err(|e| {
        eprintln!("cannot start: {e}");
        ExitCode::FAILURE
    })
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
