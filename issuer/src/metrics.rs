//! What the issuer counts for its operators, besides every server's request metrics: sign-ups
//! and sign-ins by outcome, refusals by limit, sessions started and ended, password hashing's
//! load and the mail outbox. Labels are outcomes and reasons from fixed
//! sets, never an account's id or address.

use crate::error::IssuerError;
use crate::outbox::{self, Deliveries};
use crate::password::{HashError, HashLoad, Hasher};
use actix_web::HttpResponse;
use database::Pool;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Unit;
use service::metrics::Metrics;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// Why sessions ended.
#[derive(Debug, Clone, Copy)]
pub enum SessionsEnded {
    /// A sign-out (of this session, the others, or all).
    SignOut,
    /// One session, ended from the account's list.
    Revoked,
    /// The oldest, replaced by a new sign-in over the limit of live sessions.
    Replaced,
    PasswordChanged,
    PasswordReset,
    AccountDeleted,
}

impl SessionsEnded {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignOut => "sign_out",
            Self::Revoked => "revoked",
            Self::Replaced => "replaced",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::AccountDeleted => "account_deleted",
        }
    }
}

/// The issuer's own counters; the hasher, the rate limiter and the outbox's sender keep theirs.
#[derive(Default)]
pub struct IssuerMetrics {
    signups: Family<OutcomeLabels, Counter>,
    signins: Family<OutcomeLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    sessions_started: Counter,
    session_ends: Family<ReasonLabels, Counter>,
    /// Kept by the outbox's sender.
    pub mail_deliveries: Deliveries,
}

impl IssuerMetrics {
    pub fn signup(&self, answer: &Result<HttpResponse, IssuerError>) {
        self.signups.get_or_create(&outcome(answer)).inc();
    }

    pub fn signin(&self, answer: &Result<HttpResponse, IssuerError>) {
        self.signins.get_or_create(&outcome(answer)).inc();
    }

    pub fn session_started(&self) {
        self.sessions_started.inc();
    }

    pub fn sessions_ended(&self, why: SessionsEnded) {
        self.session_ends
            .get_or_create(&ReasonLabels {
                reason: why.as_str(),
            })
            .inc();
    }

    /// A refusal for too many attempts: from one client address, or at one account.
    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited
            .get_or_create(&LimitLabels { limit })
            .inc();
    }
}

/// How a sign-up or a sign-in ended.
fn outcome(answer: &Result<HttpResponse, IssuerError>) -> OutcomeLabels {
    let outcome = match answer {
        Ok(_) => "success",
        Err(IssuerError::InvalidCredentials) => "bad_credentials",
        Err(IssuerError::EmailTaken) => "email_taken",
        Err(IssuerError::EmailNotVerified) => "email_not_verified",
        Err(IssuerError::TooManyAttempts { .. }) => "rate_limited",
        Err(IssuerError::Hash(HashError::Busy)) => "busy",
        Err(IssuerError::Rejected(_)) => "invalid",
        Err(_) => "error",
    };
    OutcomeLabels { outcome }
}

/// Registers in `metrics` what the issuer counts: its own counters, the load of its `hasher`,
/// and its mail outbox (measured in `pool` at each scrape).
pub fn register(metrics: &mut Metrics, own: &IssuerMetrics, hasher: &Hasher, pool: &Pool) {
    let registry = metrics.registry();
    registry.register(
        "issuer_signups",
        "Sign-ups, by outcome",
        own.signups.clone(),
    );
    registry.register(
        "issuer_signins",
        "Sign-ins, by outcome",
        own.signins.clone(),
    );
    registry.register(
        "issuer_rate_limited",
        "Requests refused for too many attempts, by limit (client_address, account)",
        own.rate_limited.clone(),
    );
    registry.register(
        "issuer_sessions_started",
        "Sessions started (sign-ups and sign-ins that gave a token)",
        own.sessions_started.clone(),
    );
    registry.register(
        "issuer_session_ends",
        "Changes that ended sessions, by reason",
        own.session_ends.clone(),
    );
    let HashLoad { running, waiting } = hasher.load.clone();
    registry.register(
        "issuer_password_hashes_running",
        "Password hashes (and checks) running now",
        running,
    );
    registry.register(
        "issuer_password_hashes_waiting",
        "Password hashes (and checks) waiting now for a free slot",
        waiting,
    );
    own.mail_deliveries.register(registry);
    let (depth, oldest) = (Gauge::<i64>::default(), Gauge::<f64, AtomicU64>::default());
    registry.register(
        "issuer_mail_outbox_messages",
        "Messages in the mail outbox, waiting to be delivered",
        depth.clone(),
    );
    registry.register_with_unit(
        "issuer_mail_outbox_oldest_message_age",
        "How long the oldest message in the mail outbox has waited (0 when it is empty)",
        Unit::Seconds,
        oldest.clone(),
    );
    let pool = pool.clone();
    metrics.on_scrape(move || match outbox::depth(&pool) {
        Ok(found) => {
            depth.set(found.messages);
            oldest.set(found.oldest_age.as_secs_f64());
        }
        Err(e) => log::warn!("mail outbox: cannot measure it: {e}"),
    });
}
