//! What every binary does first and last: logging set up from `RUST_LOG` (default `info`), and a
//! clear message and non-zero exit when start-up fails.

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
