//! What every issuer handler shares: [`Issuer`], made once at start.

use crate::activity::{Client, Event};
use crate::config::{Config, LinkSettings};
use crate::db::{self, MIGRATIONS};
use crate::error::IssuerError;
use crate::keys::KeyRing;
use crate::metrics::{IssuerMetrics, SessionsEnded};
use crate::outbox::Sender;
use crate::password::Hasher;
use crate::rate_limit::RateLimiter;
use crate::throttle::AccountThrottle;
use actix_web::HttpRequest;
use database::Pool;
use mail::Mailbox;
use service::{Readiness, StartupError};
use shared::config::Secret;
use std::future::Future;
use std::pin::Pin;

/// Everything a request handler of the issuer needs.
pub struct Issuer {
    pub pool: Pool,
    pub keys: KeyRing,
    pub hasher: Hasher,
    pub rate_limiter: RateLimiter,
    pub account_throttle: AccountThrottle,
    pub session_feed_secret: Option<Secret>,
    /// Who the mail is from (`MAIL_FROM`).
    pub mail_from: Mailbox,
    /// Where mailed links point, and how long they work.
    pub links: LinkSettings,
    /// `REQUIRE_VERIFIED_EMAIL`.
    pub require_verified_email: bool,
    /// Who in this process learns of ended sessions before the answer goes out, if anyone.
    pub session_ends_listener: Option<Box<dyn SessionEndsListener>>,
    pub metrics: IssuerMetrics,
}

impl Issuer {
    /// Connects (retrying while the database is not up yet), migrates and loads the keys; with
    /// the sender of the mail outbox, for the caller to run.
    pub fn connect(config: &Config) -> Result<(Self, Sender), StartupError> {
        let pool = config.common.connect(&MIGRATIONS)?;
        let mailer = config.mail.mailer()?;
        log::info!("mail goes to {}", mailer.describe());
        let metrics = IssuerMetrics::default();
        let sender = Sender {
            pool: pool.clone(),
            mailer,
            deliveries: metrics.mail_deliveries.clone(),
        };
        let keys = KeyRing::load(
            &config.token,
            config.private_key_file.as_deref(),
            &mut *pool.get()?,
        )?;
        let issuer = Self {
            pool,
            keys,
            hasher: Hasher::new(
                config.hash_cost,
                config.max_concurrent_hashes,
                config.hash_wait,
            )?,
            rate_limiter: RateLimiter::new(
                config.rate_limit_per_minute,
                config.rate_limit_burst,
                config.trusted_proxies.clone(),
            ),
            account_throttle: config.account_throttle,
            session_feed_secret: config.session_feed_secret.clone(),
            mail_from: config.mail.from.clone(),
            links: config.links.clone(),
            require_verified_email: config.require_verified_email,
            session_ends_listener: None,
            metrics,
        };
        Ok((issuer, sender))
    }

    /// Counts one attempt from the request's client address (see [`RateLimiter::check`]).
    pub fn check_rate(&self, request: &HttpRequest) -> Result<(), IssuerError> {
        self.rate_limiter
            .check(request)
            .inspect_err(|_| self.metrics.rate_limited("client_address"))
    }

    /// Counts an attempt at the password of `email`'s account (see
    /// [`AccountThrottle::count_attempt`]).
    pub async fn count_attempt(&self, email: &str) -> Result<(), IssuerError> {
        let counted = self.account_throttle.count_attempt(&self.pool, email).await;
        if let Err(IssuerError::TooManyAttempts { .. }) = counted {
            self.metrics.rate_limited("account");
        }
        counted
    }

    /// Counts sessions that have just ended, tells this process's listener if any, and waits
    /// for it.
    pub async fn sessions_ended(&self, why: SessionsEnded) {
        self.metrics.sessions_ended(why);
        if let Some(listener) = &self.session_ends_listener {
            listener.sessions_ended().await;
        }
    }

    /// The client of `request`, as an event records it.
    pub fn client(&self, request: &HttpRequest) -> Client {
        Client {
            user_agent: crate::sessions::user_agent(request),
            ip: self
                .rate_limiter
                .client_address(request)
                .map(|ip| ip.to_string()),
        }
    }

    /// Records `event` in the activity of account `user_id`, if it still exists. A failure is
    /// logged: what the event tells of has happened either way.
    pub async fn record(&self, user_id: &str, event: Event, client: Client) {
        let id = user_id.to_owned();
        let recorded = database::write(&self.pool, move |conn| {
            db::record_event(conn, &id, event, &client)
        })
        .await;
        if let Err(e) = recorded {
            log::warn!(
                "event {} of user {user_id} not recorded: {e}",
                event.as_str()
            );
        }
    }

    /// Registers in `metrics` what the issuer counts (see [`crate::metrics`]).
    pub fn register_metrics(&self, metrics: &mut service::metrics::Metrics) {
        crate::metrics::register(metrics, &self.metrics, &self.hasher, &self.pool);
    }

    /// What the issuer's `/ready` checks.
    pub fn readiness(&self) -> Readiness {
        Readiness::default().database(self.pool.clone(), &MIGRATIONS)
    }
}

/// Told that sessions have ended, once the change is committed and before the answer that ended
/// them goes out. The standalone process's tasks-api half listens, so that it refuses their
/// tokens at once rather than at its next read of the feed.
pub trait SessionEndsListener: Send + Sync {
    fn sessions_ended(&self) -> Pin<Box<dyn Future<Output = ()> + '_>>;
}
