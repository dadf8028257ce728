use issuer::Config;
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    shared::startup::init_logging();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return shared::startup::fail(&e),
    };
    match issuer::build(config).await {
        Ok(app) => {
            log::info!("issuer listening on port {}", app.port());
            shared::startup::exit_code(app.run_until_stopped().await)
        }
        Err(e) => shared::startup::fail(&*e),
    }
}
