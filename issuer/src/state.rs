//! What every issuer handler shares: [`Issuer`], made once at start.

use crate::activity::{Client, Event};
use crate::config::{Config, LinkSettings};
use crate::db::{self, MIGRATIONS};
use crate::keys::KeyRing;
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
}

impl Issuer {
    /// Connects (retrying while the database is not up yet), migrates and loads the keys; with
    /// the sender of the mail outbox, for the caller to run.
    pub fn connect(config: &Config) -> Result<(Self, Sender), StartupError> {
        let pool = config.common.connect(&MIGRATIONS)?;
        let mailer = config.mail.mailer()?;
        log::info!("mail goes to {}", mailer.describe());
        let sender = Sender {
            pool: pool.clone(),
            mailer,
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
        };
        Ok((issuer, sender))
    }

    /// Tells this process's listener, if any, that sessions have just ended, and waits for it.
    pub async fn sessions_ended(&self) {
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
