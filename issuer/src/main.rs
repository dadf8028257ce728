use clap::{Parser, Subcommand};
use issuer::Config;
use std::process::ExitCode;

/// The issuer: sign-up, sign-in and the tokens tasks-api verifies. Configured by environment
/// variables (and a `.env` file); see docs/configuration.md.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Print the environment variables the issuer reads, one a line, and exit.
    #[arg(long)]
    env_vars: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Store a new signing key: published in the JWKS at once, signing ten minutes later, so
    /// that every verifier has fetched it first. For an asymmetric JWT_ALGORITHM whose keys
    /// live in the database.
    RotateKey,
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match service::start(cli.env_vars, Config::variables, Config::from_env) {
        Ok(config) => config,
        Err(code) => return code,
    };
    match cli.command {
        None => serve(config).await,
        Some(Command::RotateKey) => rotate_key(config),
    }
}

async fn serve(config: Config) -> ExitCode {
    match issuer::bind(config).await {
        Ok(app) => {
            log::info!("issuer listening on port {}", app.port());
            service::exit_code(app.run_until_stopped().await)
        }
        Err(e) => service::fail(&*e),
    }
}

fn rotate_key(config: Config) -> ExitCode {
    match issuer::startup::rotate_key(&config) {
        Ok((kid, activates_at)) => {
            log::info!("new signing key {kid} is published now and signs from {activates_at} UTC");
            ExitCode::SUCCESS
        }
        Err(e) => service::fail(&*e),
    }
}
