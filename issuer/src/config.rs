//! The issuer's configuration, read once from the environment and checked at start.

use crate::notices;
use crate::password::HashCost;
use crate::throttle::AccountThrottle;
use mail::{Mailbox, Mailer, MailerError};
use serde::Deserialize;
use service::config::Common;
use shared::config::{ConfigError, Secret};
use shared::token::{TokenConfig, TokenSettings};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    trusted_proxies: Option<String>,
    #[serde(default = "default_rate_limit_per_minute")]
    rate_limit_per_minute: u32,
    #[serde(default = "default_rate_limit_burst")]
    rate_limit_burst: u32,
    argon2_memory_kib: Option<u32>,
    argon2_iterations: Option<u32>,
    argon2_parallelism: Option<u32>,
    max_concurrent_hashes: Option<usize>,
    #[serde(default = "default_hash_wait_ms")]
    hash_wait_ms: u64,
    jwt_private_key_file: Option<String>,
    #[serde(default = "default_signin_free_failures")]
    signin_free_failures: u32,
    #[serde(default = "default_signin_max_wait_seconds")]
    signin_max_wait_seconds: u32,
    session_feed_secret: Option<String>,
    smtp_url: Option<String>,
    smtp_ca_file: Option<String>,
    #[serde(default = "default_mail_dir")]
    mail_dir: String,
    #[serde(default = "default_mail_from")]
    mail_from: String,
    public_url: Option<String>,
    #[serde(default = "default_password_reset_ttl_seconds")]
    password_reset_ttl_seconds: u32,
    #[serde(default = "default_email_verify_ttl_seconds")]
    email_verify_ttl_seconds: u32,
    #[serde(default)]
    require_verified_email: bool,
}

fn default_rate_limit_per_minute() -> u32 {
    20
}
fn default_rate_limit_burst() -> u32 {
    10
}
fn default_hash_wait_ms() -> u64 {
    2_000
}
fn default_mail_dir() -> String {
    "data/mail".to_owned()
}
fn default_mail_from() -> String {
    "no-reply@localhost".to_owned()
}
/// The standalone process's own address, where its web client takes the links.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8000";
fn default_password_reset_ttl_seconds() -> u32 {
    30 * 60
}
fn default_email_verify_ttl_seconds() -> u32 {
    24 * 60 * 60
}
fn default_signin_free_failures() -> u32 {
    5
}
/// A quarter of an hour: long enough to make guessing slow (with the doubling, about four
/// guesses an hour), short enough that a person locked out by someone else's guesses gets in.
fn default_signin_max_wait_seconds() -> u32 {
    15 * 60
}

#[derive(Debug, Clone)]
pub struct Config {
    pub common: Common,
    pub token: TokenSettings,
    /// The asymmetric signing key's PEM file; without it the key lives in the database.
    pub private_key_file: Option<String>,
    pub trusted_proxies: Vec<IpAddr>,
    pub rate_limit_per_minute: NonZeroU32,
    pub rate_limit_burst: NonZeroU32,
    pub hash_cost: HashCost,
    /// How many argon2 hashes may run at once; each holds `hash_cost.memory_kib` of memory.
    pub max_concurrent_hashes: usize,
    /// How long a sign-in waits for a hashing slot before it gets 503.
    pub hash_wait: Duration,
    pub account_throttle: AccountThrottle,
    /// The credential tasks-api presents to read the feed of ended sessions; without it the
    /// feed is not served.
    pub session_feed_secret: Option<Secret>,
    pub mail: MailConfig,
    pub links: LinkSettings,
    /// `REQUIRE_VERIFIED_EMAIL`: an account signs in only once its address is verified.
    pub require_verified_email: bool,
}

/// Where the links in mail point, and how long they work.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// `PUBLIC_URL`, without a trailing `/`: the web client people reach.
    pub public_url: String,
    pub reset_ttl: chrono::TimeDelta,
    pub verify_ttl: chrono::TimeDelta,
}

/// Where the issuer's mail goes, and from whom.
#[derive(Clone)]
pub struct MailConfig {
    /// `SMTP_URL`: it may hold the server's password, so it is never shown.
    smtp_url: Option<String>,
    /// `SMTP_CA_FILE`'s certificate: an authority to trust besides the web's (a private relay).
    authority: Option<Vec<u8>>,
    /// `MAIL_DIR`: where messages are written without `SMTP_URL`.
    folder: PathBuf,
    /// `MAIL_FROM`, named after the product when it has no name of its own.
    pub from: Mailbox,
}

impl MailConfig {
    pub fn mailer(&self) -> Result<Mailer, MailerError> {
        match &self.smtp_url {
            Some(url) => Mailer::smtp(url, self.from.email.clone(), self.authority.as_deref()),
            None => Ok(Mailer::folder(&self.folder)),
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "…"))
            .field("folder", &self.folder)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Every environment variable the service reads.
    pub fn variables() -> Vec<String> {
        service::config::service_variables::<Raw>()
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_pairs(shared::config::env_pairs())
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)> + Clone,
        K: Into<String>,
        V: Into<String>,
    {
        let token =
            shared::config::from_pairs::<TokenConfig, _, _, _>(pairs.clone())?.check(None)?;
        let raw: Raw = shared::config::from_pairs(pairs.clone())?;
        // Mail that leaves this machine must link to where people reach the web client: the
        // default, the standalone process's own address, is right only for that process.
        if raw.smtp_url.is_some() && raw.public_url.is_none() {
            return Err(ConfigError::Missing(
                "PUBLIC_URL (where the links in mail point; required with SMTP_URL)".into(),
            ));
        }
        Self::with_token(pairs, token)
    }

    /// The configuration from `pairs`, with token settings decided elsewhere (the standalone
    /// process decides them once for both services).
    pub fn with_token<I, K, V>(pairs: I, token: TokenSettings) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)> + Clone,
        K: Into<String>,
        V: Into<String>,
    {
        Self::check(
            shared::config::from_pairs(pairs.clone())?,
            token,
            Common::from_pairs(pairs, 8001, "sqlite://data/issuer.db")?,
        )
    }

    fn check(raw: Raw, token: TokenSettings, common: Common) -> Result<Self, ConfigError> {
        let invalid = |variable, reason: &str| ConfigError::Invalid {
            variable,
            reason: reason.into(),
        };
        let positive = |variable, value: u32| {
            NonZeroU32::new(value).ok_or_else(|| invalid(variable, "must be at least 1"))
        };
        let trusted_proxies = shared::config::comma_list(raw.trusted_proxies.as_deref())
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|_| invalid("TRUSTED_PROXIES", "must be comma-separated IP addresses"))
            })
            .collect::<Result<_, _>>()?;
        let defaults = HashCost::default();
        let hash_cost = HashCost {
            memory_kib: raw.argon2_memory_kib.unwrap_or(defaults.memory_kib),
            iterations: raw.argon2_iterations.unwrap_or(defaults.iterations),
            parallelism: raw.argon2_parallelism.unwrap_or(defaults.parallelism),
        };
        if !(8..=4 * 1024 * 1024).contains(&hash_cost.memory_kib) {
            return Err(invalid(
                "ARGON2_MEMORY_KIB",
                "must be between 8 and 4194304",
            ));
        }
        if !(1..=64).contains(&hash_cost.iterations) {
            return Err(invalid("ARGON2_ITERATIONS", "must be between 1 and 64"));
        }
        if !(1..=16).contains(&hash_cost.parallelism) {
            return Err(invalid("ARGON2_PARALLELISM", "must be between 1 and 16"));
        }
        token.signing_algorithm()?;
        if raw.jwt_private_key_file.is_some() && !token.is_asymmetric() {
            return Err(invalid(
                "JWT_PRIVATE_KEY_FILE",
                "is for an asymmetric JWT_ALGORITHM (EdDSA or ES256)",
            ));
        }
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let max_concurrent_hashes = raw.max_concurrent_hashes.unwrap_or(cores);
        if max_concurrent_hashes == 0 {
            return Err(invalid("MAX_CONCURRENT_HASHES", "must be at least 1"));
        }
        let mut from: Mailbox = raw.mail_from.parse().map_err(|_| {
            invalid(
                "MAIL_FROM",
                "must be an email address, as `Name <a@b.c>` or `a@b.c`",
            )
        })?;
        from.name.get_or_insert_with(|| notices::PRODUCT.to_owned());
        let authority = raw
            .smtp_ca_file
            .map(|path| {
                std::fs::read(&path)
                    .map_err(|e| invalid("SMTP_CA_FILE", &format!("cannot read {path}: {e}")))
            })
            .transpose()?;
        let mail = MailConfig {
            smtp_url: raw.smtp_url,
            authority,
            folder: raw.mail_dir.into(),
            from,
        };
        let links = LinkSettings {
            public_url: public_url(raw.public_url.as_deref().unwrap_or(DEFAULT_PUBLIC_URL))
                .map_err(|reason| invalid("PUBLIC_URL", reason))?,
            reset_ttl: chrono::TimeDelta::seconds(
                positive("PASSWORD_RESET_TTL_SECONDS", raw.password_reset_ttl_seconds)?
                    .get()
                    .into(),
            ),
            verify_ttl: chrono::TimeDelta::seconds(
                positive("EMAIL_VERIFY_TTL_SECONDS", raw.email_verify_ttl_seconds)?
                    .get()
                    .into(),
            ),
        };
        // Refused now, naming the variable, rather than at the first message.
        mail.mailer().map_err(|e| match e {
            MailerError::Url(reason) => invalid("SMTP_URL", &reason),
            MailerError::Authority(reason) => invalid("SMTP_CA_FILE", &reason),
        })?;
        Ok(Self {
            common,
            token,
            private_key_file: raw.jwt_private_key_file,
            trusted_proxies,
            rate_limit_per_minute: positive("RATE_LIMIT_PER_MINUTE", raw.rate_limit_per_minute)?,
            rate_limit_burst: positive("RATE_LIMIT_BURST", raw.rate_limit_burst)?,
            hash_cost,
            max_concurrent_hashes,
            hash_wait: Duration::from_millis(raw.hash_wait_ms),
            session_feed_secret: raw
                .session_feed_secret
                .map(|raw| Secret::of("SESSION_FEED_SECRET", raw))
                .transpose()?,
            account_throttle: AccountThrottle {
                free_failures: raw.signin_free_failures,
                max_wait: chrono::TimeDelta::seconds(
                    positive("SIGNIN_MAX_WAIT_SECONDS", raw.signin_max_wait_seconds)?
                        .get()
                        .into(),
                ),
            },
            mail,
            links,
            require_verified_email: raw.require_verified_email,
        })
    }
}

/// `PUBLIC_URL` checked: an http(s) URL with a host and nothing after its path, which a link's
/// fragment is appended to; without the trailing `/`.
fn public_url(raw: &str) -> Result<String, &'static str> {
    let parsed = url::Url::parse(raw).map_err(|_| "must be a URL, as https://tasks.example.com")?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        return Err("must be an http or https URL with a host");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err("must have no query, fragment or user");
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut pairs = vec![(
            "BETTER_AUTH_SECRET",
            "a-test-secret-that-is-long-enough-0123456789",
        )];
        pairs.extend_from_slice(extra);
        Config::from_pairs(pairs)
    }

    fn refused_variable(result: Result<Config, ConfigError>) -> String {
        match result {
            Err(ConfigError::Invalid { variable, .. }) => variable.to_owned(),
            Err(ConfigError::Missing(what)) => what,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn links_point_at_the_standalone_address_unless_public_url_says_otherwise() {
        assert_eq!(
            config(&[]).unwrap().links.public_url,
            "http://127.0.0.1:8000"
        );
        let set = config(&[("PUBLIC_URL", "https://tasks.example.com/app/")]).unwrap();
        assert_eq!(set.links.public_url, "https://tasks.example.com/app");
    }

    #[test]
    fn mail_that_leaves_the_machine_needs_public_url() {
        let missing = refused_variable(config(&[("SMTP_URL", "smtp://mail.example.com:587")]));
        assert!(missing.starts_with("PUBLIC_URL"), "{missing}");
        config(&[
            ("SMTP_URL", "smtp://mail.example.com:587"),
            ("PUBLIC_URL", "https://tasks.example.com"),
        ])
        .expect("with both");
    }

    #[test]
    fn a_public_url_that_cannot_take_a_fragment_is_refused() {
        for bad in [
            "tasks.example.com",
            "ftp://tasks.example.com",
            "https://tasks.example.com/?a=b",
            "https://tasks.example.com/#x",
            "https://user@tasks.example.com",
        ] {
            assert_eq!(
                refused_variable(config(&[("PUBLIC_URL", bad)])),
                "PUBLIC_URL",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_link_lives_a_positive_number_of_seconds() {
        for variable in ["PASSWORD_RESET_TTL_SECONDS", "EMAIL_VERIFY_TTL_SECONDS"] {
            assert_eq!(refused_variable(config(&[(variable, "0")])), variable);
        }
        let set = config(&[("PASSWORD_RESET_TTL_SECONDS", "60")]).unwrap();
        assert_eq!(set.links.reset_ttl, chrono::TimeDelta::seconds(60));
        assert_eq!(set.links.verify_ttl, chrono::TimeDelta::hours(24));
        assert!(!set.require_verified_email);
    }
}
