use std::process::ExitCode;
use tasks_api::Config;

#[actix_web::main]
async fn main() -> ExitCode {
    shared::startup::init_logging();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return shared::startup::fail(&e),
    };
    match tasks_api::build(config).await {
        Ok(service) => {
            log::info!("tasks-api listening on port {}", service.port());
            shared::startup::exit_code(service.run_until_stopped().await)
        }
        Err(e) => shared::startup::fail(&*e),
    }
}
