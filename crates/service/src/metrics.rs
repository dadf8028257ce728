//! The metrics a server serves at `/metrics`, in the OpenMetrics text format Prometheus scrapes:
//! what every server counts (requests by route pattern, their latency, the build), and whatever
//! each service registers besides. Label values come from short fixed sets (a route *pattern*, a
//! method, a status, an outcome): never a user id, an email or a token.

use actix_web::http::{Method, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// The media type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A registry, and what brings its gauges up to date when it is scraped.
pub struct Metrics {
    registry: Registry,
    on_scrape: Vec<Box<dyn Fn() + Send + Sync>>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

impl Metrics {
    /// A registry holding `build_info{version}` (always 1), for the program of that version.
    pub fn new(version: &'static str) -> Self {
        let mut registry = Registry::default();
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version }).set(1);
        registry.register("build_info", "The version of the running program", build);
        Self {
            registry,
            on_scrape: Vec::new(),
        }
    }

    pub fn registry(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Runs `refresh` before each scrape: for gauges read off the state they describe (a pool, a
    /// table, the time since something happened), so that they are never stale.
    pub fn on_scrape(&mut self, refresh: impl Fn() + Send + Sync + 'static) {
        self.on_scrape.push(Box::new(refresh));
    }

    /// The text of a scrape. It may block (a refresh may ask a database): call it off the async
    /// workers.
    pub fn encode(&self) -> String {
        for refresh in &self.on_scrape {
            refresh();
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

/// The load of the process's database pools, read at each scrape: each one's size, the calls
/// holding a connection and those waiting for one, under the label `pool="<name>"`.
pub fn register_pools(metrics: &mut Metrics, pools: Vec<(&'static str, database::Pool)>) {
    let families: [(&str, &str, Family<PoolLabels, Gauge>); 3] = [
        (
            "db_pool_connections_max",
            "Connections the pool may open",
            Family::default(),
        ),
        (
            "db_pool_connections_in_use",
            "Calls holding a connection of the pool now",
            Family::default(),
        ),
        (
            "db_pool_waiting_calls",
            "Calls waiting now for a connection of the pool",
            Family::default(),
        ),
    ];
    for (metric, help, family) in &families {
        metrics.registry().register(*metric, *help, family.clone());
    }
    metrics.on_scrape(move || {
        for (name, pool) in &pools {
            let load = pool.load();
            let labels = PoolLabels { pool: name };
            for ((_, _, family), value) in
                families.iter().zip([load.size, load.in_use, load.waiting])
            {
                family.get_or_create(&labels).set(value as i64);
            }
        }
    });
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    /// The route's pattern (`/api/{user_id}/tasks`), or `unmatched`.
    route: String,
    status: u16,
}

/// Requests by method, route pattern and status: a count, and how long each took to answer.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<HttpLabels, Counter>,
    duration: Family<HttpLabels, Histogram>,
}

impl HttpMetrics {
    pub fn register(metrics: &mut Metrics) -> Self {
        let requests = Family::<HttpLabels, Counter>::default();
        // From half a millisecond to about 16 s, doubling.
        let duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let registry = metrics.registry();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer's head, by method, route pattern and status",
            Unit::Seconds,
            duration.clone(),
        );
        Self { requests, duration }
    }

    /// Counts a request to `route` (its pattern; `None` when no route matched).
    pub(crate) fn observe(
        &self,
        method: &Method,
        route: Option<String>,
        status: StatusCode,
        took: Duration,
    ) {
        let labels = HttpLabels {
            method: method_label(method),
            route: route.unwrap_or_else(|| "unmatched".to_owned()),
            status: status.as_u16(),
        };
        self.requests.get_or_create(&labels).inc();
        self.duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }
}

/// The method, from the standard set only: any other string a client makes up is `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |(_, label)| label)
}
