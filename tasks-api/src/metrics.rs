//! What tasks-api counts for its operators, besides every server's request metrics: the tokens
//! it refused and why, how fresh its keys and its knowledge of ended sessions are, the fetches of
//! either that failed. Labels are reasons from fixed sets, never a user
//! id or a token.

use crate::ended_sessions::EndedSessions;
use actix_web::web;
use jwks_client::JwksHealth;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Unit;
use service::metrics::Metrics;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// Requests refused for their token, or for the session or account it speaks for, by reason:
/// the app's data, for the `/api` scope's middleware to count in.
#[derive(Default)]
pub struct Refusals(Family<ReasonLabels, Counter>);

impl Refusals {
    /// Registers the counters in `metrics`, and returns them as the app's data.
    pub fn register(metrics: &mut Metrics) -> web::Data<Self> {
        let refusals = Self::default();
        metrics.registry().register(
            "tasks_api_tokens_refused",
            "Requests refused for their token, by reason",
            refusals.0.clone(),
        );
        web::Data::new(refusals)
    }

    pub fn count(&self, reason: &'static str) {
        self.0.get_or_create(&ReasonLabels { reason }).inc();
    }
}

/// A gauge of seconds, set at each scrape to what `age` reads.
fn age_gauge(
    metrics: &mut Metrics,
    name: &str,
    help: &str,
    age: impl Fn() -> std::time::Duration + Send + Sync + 'static,
) {
    let gauge = Gauge::<f64, AtomicU64>::default();
    metrics
        .registry()
        .register_with_unit(name, help, Unit::Seconds, gauge.clone());
    metrics.on_scrape(move || {
        gauge.set(age().as_secs_f64());
    });
}

/// The key set's age, and its refreshes that failed.
pub fn watch_jwks(metrics: &mut Metrics, jwks: JwksHealth) {
    metrics.registry().register(
        "tasks_api_jwks_fetch_failures",
        "Refreshes of the JWKS that failed (the cached keys were kept)",
        jwks.fetch_failures.clone(),
    );
    age_gauge(
        metrics,
        "tasks_api_jwks_age",
        "Time since the keys in use were fetched",
        move || jwks.age(),
    );
}

/// How long ago the feed of ended sessions was read to its end, and the reads that failed.
pub fn watch_session_feed(metrics: &mut Metrics, ended: Arc<EndedSessions>) {
    metrics.registry().register(
        "tasks_api_session_feed_read_failures",
        "Reads of the issuer's feed of ended sessions that failed",
        ended.read_failures.clone(),
    );
    age_gauge(
        metrics,
        "tasks_api_session_feed_age",
        "Time since the feed of ended sessions was last read to its end",
        move || ended.age(),
    );
}
