use issuer::Config;
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    shared::startup::init_logging();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return shared::startup::fail(&e),
    };
    match std::env::args().nth(1).as_deref() {
        None => serve(config).await,
        Some("rotate-key") => rotate_key(config),
        Some(other) => shared::startup::fail(&format!(
            "unknown command `{other}`; the only one is `rotate-key`"
        )),
    }
}

async fn serve(config: Config) -> ExitCode {
    match issuer::build(config).await {
        Ok(app) => {
            log::info!("issuer listening on port {}", app.port());
            shared::startup::exit_code(app.run_until_stopped().await)
        }
        Err(e) => shared::startup::fail(&*e),
    }
}

/// `issuer rotate-key`: stores a new signing key, published now and signing from a few minutes on.
fn rotate_key(config: Config) -> ExitCode {
    match issuer::startup::rotate_key(&config) {
        Ok((kid, activates_at)) => {
            log::info!("new signing key {kid} is published now and signs from {activates_at} UTC");
            ExitCode::SUCCESS
        }
        Err(e) => shared::startup::fail(&*e),
    }
}
