//! The whole system in one process: the issuer and tasks-api on one port, with the same paths as
//! behind the proxy, on SQLite files under `data/` by default. One command, nothing to install.

mod client;

use actix_web::web;
use clap::Parser;
use database::Pool;
use issuer::Issuer;
use issuer::state::SessionEndsListener;
use jwks_client::{FetchError, FetchFuture, Fetched, JwksCache, JwksSource};
use serde::Deserialize;
use service::config::Listen;
use service::metrics::Metrics;
use service::{BoundServer, StartupError};
use shared::config::{ConfigError, Secret};
use shared::token::{TokenConfig, Verifier};
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use tasks_api::TasksApi;
use tasks_api::ended_sessions::EndedSessions;
use tasks_api::feed_follower::{FeedFuture, FeedSource, Follower};
use utoipa::OpenApi;

/// The issuer and tasks-api in one process, on SQLite files under `data/` unless told otherwise.
/// Configured by environment variables (and a `.env` file); see docs/configuration.md.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

/// Where each service's database is: the standalone process's own settings, read in place of
/// `DATABASE_URL`; everything else is the services' own variables.
#[derive(Deserialize)]
struct DatabaseUrls {
    #[serde(default = "default_issuer_database_url")]
    issuer_database_url: String,
    #[serde(default = "default_tasks_database_url")]
    tasks_database_url: String,
}

fn default_issuer_database_url() -> String {
    "sqlite://data/issuer.db".into()
}
fn default_tasks_database_url() -> String {
    "sqlite://data/tasks.db".into()
}

struct Config {
    listen: Listen,
    issuer: issuer::Config,
    tasks: tasks_api::Config,
    secret_generated: bool,
}

fn configure() -> Result<Config, ConfigError> {
    let pairs = shared::config::env_pairs();
    let databases: DatabaseUrls = shared::config::from_pairs(pairs.clone())?;
    let token_config: TokenConfig = shared::config::from_pairs(pairs.clone())?;
    let secret_configured = token_config.better_auth_secret.is_some();
    let token = token_config.check(Some(Secret::generate))?;
    let secret_generated = token.secret.is_some() && !secret_configured;
    // Each service reads DATABASE_URL; here each gets its own database.
    let with_database = |url: &str| {
        let mut pairs: Vec<_> = pairs
            .iter()
            .filter(|(k, _)| k != "DATABASE_URL")
            .cloned()
            .collect();
        pairs.push(("DATABASE_URL".into(), url.to_owned()));
        pairs
    };
    Ok(Config {
        issuer: issuer::Config::with_token(
            with_database(&databases.issuer_database_url),
            token.clone(),
        )?,
        tasks: tasks_api::Config::with_token(with_database(&databases.tasks_database_url), token)?,
        listen: Listen::from_pairs(pairs, 8000)?,
        secret_generated,
    })
}

/// The issuer in this process, as tasks-api's JWKS: its keys without an HTTP round trip.
struct LocalJwks(web::Data<Issuer>);

impl JwksSource for LocalJwks {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let document = self.0.keys.jwks(&self.0.pool).await;
            Ok(Fetched {
                body: document.ok_or(FetchError::NoUsableKey)?.to_vec(),
                max_age: Some(issuer::keys::JWKS_MAX_AGE),
            })
        })
    }
}

/// The issuer in this process, as tasks-api's feed of ended sessions: read from its database,
/// without HTTP or a credential.
struct LocalFeed(Pool);

impl FeedSource for LocalFeed {
    fn read(&self, after: i64) -> FeedFuture<'_> {
        Box::pin(async move { Ok(issuer::feed::feed_page(&self.0, after).await?) })
    }
}

/// tasks-api's half, told by the issuer's half when sessions end: it reads the feed before the
/// answer that ended them goes out, so their tokens are refused at once.
struct CatchUp(Arc<Follower>);

impl SessionEndsListener for CatchUp {
    fn sessions_ended(&self) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        Box::pin(self.0.catch_up())
    }
}

async fn start(config: Config) -> Result<BoundServer, StartupError> {
    let (issuer_config, tasks_config) = (config.issuer, config.tasks);
    let (mut issuer, sender) = web::block(move || Issuer::connect(&issuer_config)).await??;
    actix_web::rt::spawn(sender.run());
    let token = tasks_config.token.clone();
    let startup_wait = tasks_config.common.pool.startup_wait;
    let max_staleness = tasks_config.max_staleness;
    let tasks = web::Data::new(web::block(move || TasksApi::connect(&tasks_config)).await??);
    let ended = Arc::new(EndedSessions::new(max_staleness));
    let source = Box::new(LocalFeed(issuer.pool.clone()));
    let follower = Arc::new(Follower::new(ended.clone(), source, tasks.pool.clone()));
    issuer.session_ends_listener = Some(Box::new(CatchUp(follower.clone())));
    // Caught up before the first request, so that none gets a 503 for want of it.
    follower.catch_up().await;
    actix_web::rt::spawn(follower.follow());
    let readiness = issuer.readiness().and(tasks.readiness(Some(&ended)));
    // One registry for both halves: their names do not overlap.
    let mut metrics = Metrics::new(env!("CARGO_PKG_VERSION"));
    issuer.register_metrics(&mut metrics);
    let refusals = tasks_api::metrics::Refusals::register(&mut metrics);
    let pools = vec![
        ("issuer", issuer.pool.clone()),
        ("tasks", tasks.pool.clone()),
    ];
    service::metrics::register_pools(&mut metrics, pools);
    tasks_api::metrics::watch_session_feed(&mut metrics, ended.clone());
    let (issuer, ended) = (web::Data::new(issuer), web::Data::from(ended));
    let verifier = web::Data::new(match &token.secret {
        Some(secret) => Verifier::with_secret(&token, secret),
        None => {
            let source = Box::new(LocalJwks(issuer.clone()));
            let cache = JwksCache::load(source, &token.algorithms, startup_wait).await?;
            tasks_api::metrics::watch_jwks(&mut metrics, cache.health());
            Verifier::with_key_set(&token, cache)
        }
    });
    let mut document = issuer::startup::ApiDoc::openapi();
    document.merge(tasks_api::startup::ApiDoc::openapi());
    document.info.title = "issuer + tasks-api (standalone)".into();
    Ok(BoundServer::bind(
        &config.listen,
        document,
        readiness,
        metrics,
        move |cfg| {
            cfg.app_data(issuer.clone())
                .app_data(tasks.clone())
                .app_data(ended.clone())
                .app_data(verifier.clone())
                .app_data(refusals.clone())
                .configure(issuer::configure)
                .configure(tasks_api::configure)
                .configure(client::configure);
        },
    )?)
}

#[actix_web::main]
async fn main() -> ExitCode {
    Cli::parse();
    if let Err(code) = service::init_logging() {
        return code;
    }
    let config = match configure() {
        Ok(config) => config,
        Err(e) => return service::fail(&e),
    };
    if config.secret_generated {
        log::warn!("************************************************************************");
        log::warn!("BETTER_AUTH_SECRET is not set: this process generated a random secret.");
        log::warn!("Every token dies with the process: after a restart, users must sign in");
        log::warn!("again. Set BETTER_AUTH_SECRET (openssl rand -base64 48) to keep them.");
        log::warn!("************************************************************************");
    }
    let host = config.listen.host.clone();
    match start(config).await {
        Ok(server) => {
            log::info!(
                "standalone (issuer + tasks-api) listening on http://{host}:{}",
                server.port()
            );
            service::exit_code(server.run_until_stopped().await)
        }
        Err(e) => service::fail(&*e),
    }
}
