use clap::Parser;
use std::process::ExitCode;
use tasks_api::Config;

/// tasks-api: per-user tasks, for bearers of a token it can verify. Configured by environment
/// variables (and a `.env` file); see docs/configuration.md.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Print the environment variables tasks-api reads, one a line, and exit.
    #[arg(long)]
    env_vars: bool,
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match service::start(cli.env_vars, Config::variables, Config::from_env) {
        Ok(config) => config,
        Err(code) => return code,
    };
    match tasks_api::bind(config).await {
        Ok(server) => {
            log::info!("tasks-api listening on port {}", server.port());
            service::exit_code(server.run_until_stopped().await)
        }
        Err(e) => service::fail(&*e),
    }
}
