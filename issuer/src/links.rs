//! Links mailed to an account's address: to verify it, to confirm a new address, to reset the
//! password. A link carries a secret of 256 random bits in its URL's fragment (`#…`), which a
//! browser never sends to a server nor in a `Referer`; the database keeps only the secret's
//! SHA-256, so that a copy of it opens no account. The queries that make and use links are in
//! [`crate::db`], with the other changes of an account.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

diesel::table! {
    account_links (secret_hash) {
        secret_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        email -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    mail_allowance (email) {
        email -> Text,
        window_started_at -> Timestamp,
        sent -> Integer,
    }
}

/// Links mailed to one address within [`ALLOWANCE_WINDOW`]: a person who asks again and again
/// still gets a few, and a flood of requests cannot fill anyone's inbox.
pub const MAILS_PER_WINDOW: i32 = 5;
pub const ALLOWANCE_WINDOW: TimeDelta = TimeDelta::hours(1);

/// What a link does when it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Marks the account's address verified.
    VerifyEmail,
    /// Makes the address it was mailed to the account's (and verified).
    ChangeEmail,
    /// Lets its holder set a new password.
    ResetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ChangeEmail => "change_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    fn parse(stored: &str) -> Option<Self> {
        [
            Purpose::VerifyEmail,
            Purpose::ChangeEmail,
            Purpose::ResetPassword,
        ]
        .into_iter()
        .find(|purpose| purpose.as_str() == stored)
    }

    /// The web client's page that takes the link: the fragment's name.
    fn page(self) -> &'static str {
        match self {
            Purpose::VerifyEmail | Purpose::ChangeEmail => "verify-email",
            Purpose::ResetPassword => "reset-password",
        }
    }
}

/// A stored link: the hash of its secret, whose account it is, and what for.
#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = account_links)]
pub struct Link {
    pub secret_hash: String,
    pub user_id: String,
    purpose: String,
    /// The address the link was mailed to (for an email change, the new one).
    pub email: String,
    pub expires_at: NaiveDateTime,
}

impl Link {
    /// A new link to `email` for `purpose`, valid for `ttl`, and the secret its URL carries.
    pub fn new(
        user_id: &str,
        purpose: Purpose,
        email: &str,
        ttl: TimeDelta,
        now: NaiveDateTime,
    ) -> (Self, LinkSecret) {
        let secret = LinkSecret(URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 32]>()));
        let link = Self {
            secret_hash: secret.hash(),
            user_id: user_id.to_owned(),
            purpose: purpose.as_str().to_owned(),
            email: email.to_owned(),
            expires_at: now + ttl,
        };
        (link, secret)
    }

    pub fn purpose(&self) -> Option<Purpose> {
        Purpose::parse(&self.purpose)
    }
}

/// A link's secret, as its URL carries it and as a client sends it back. Neither `Debug` nor
/// `Display`: it never goes into a log line or an error.
pub struct LinkSecret(String);

impl LinkSecret {
    /// What a client sent back as a link's secret; anything else than what [`Link::new`] makes
    /// (43 characters of URL-safe base64) is no link's, and is never looked up.
    pub fn from_client(sent: String) -> Option<Self> {
        (sent.len() == 43
            && sent
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then_some(Self(sent))
    }

    /// What the database keeps of it: SHA-256, in hex. A fast hash is enough for 256 random bits,
    /// which no one can guess from the hash.
    pub fn hash(&self) -> String {
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The link to the web client's page for `purpose`, under `public_url`.
    pub fn url(&self, public_url: &str, purpose: Purpose) -> String {
        format!("{public_url}/#{}={}", purpose.page(), self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> NaiveDateTime {
        chrono::DateTime::UNIX_EPOCH.naive_utc()
    }

    #[test]
    fn a_secret_is_256_random_bits_and_only_its_hash_is_stored() {
        let (link, secret) = Link::new(
            "u",
            Purpose::ResetPassword,
            "a@b.c",
            TimeDelta::minutes(30),
            now(),
        );
        let (other, _) = Link::new(
            "u",
            Purpose::ResetPassword,
            "a@b.c",
            TimeDelta::minutes(30),
            now(),
        );
        assert_eq!(secret.0.len(), 43, "32 bytes in URL-safe base64");
        assert_ne!(link.secret_hash, other.secret_hash);
        assert_eq!(link.secret_hash.len(), 64);
        assert!(!link.secret_hash.contains(&secret.0));
        assert_eq!(link.expires_at, now() + TimeDelta::minutes(30));
        assert_eq!(link.purpose(), Some(Purpose::ResetPassword));
    }

    #[test]
    fn what_a_client_sends_back_hashes_as_the_secret_did() {
        let (link, secret) = Link::new(
            "u",
            Purpose::VerifyEmail,
            "a@b.c",
            TimeDelta::hours(1),
            now(),
        );
        let sent = LinkSecret::from_client(secret.0.clone()).expect("a secret it made");
        assert_eq!(sent.hash(), link.secret_hash);
    }

    #[test]
    fn what_is_not_a_secret_is_never_looked_up() {
        for sent in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
            &format!("{}\0", "a".repeat(42)),
        ] {
            assert!(
                LinkSecret::from_client(sent.to_owned()).is_none(),
                "{sent:?}"
            );
        }
    }

    #[test]
    fn the_secret_travels_in_the_fragment_of_the_page_for_its_purpose() {
        let (_, secret) = Link::new(
            "u",
            Purpose::ResetPassword,
            "a@b.c",
            TimeDelta::hours(1),
            now(),
        );
        let url = secret.url("https://tasks.example", Purpose::ResetPassword);
        assert_eq!(
            url,
            format!("https://tasks.example/#reset-password={}", secret.0)
        );
        let url = secret.url("https://tasks.example", Purpose::ChangeEmail);
        assert!(
            url.starts_with("https://tasks.example/#verify-email="),
            "{url}"
        );
    }
}
