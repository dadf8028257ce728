//! What the tests sign in with: the password of every test account, and tokens minted as the
//! issuer mints them.

use shared::mint::{Signer, TokenSubject};
use shared::token::{TokenConfig, TokenSettings};

/// The password every test account is made with.
pub const PASSWORD: &str = "correct horse battery";

/// The session a token names when the test does not care which.
pub const SESSION: &str = "5f0c2d1e-3b4a-4c6d-8e9f-a0b1c2d3e4f5";

/// The token settings of a deployment that signs with `secret` (HS256), every other setting
/// at its default.
pub fn hs256_settings(secret: &str) -> TokenSettings {
    TokenConfig {
        better_auth_secret: Some(secret.into()),
        ..TokenConfig::default()
    }
    .check(None)
    .expect("a test secret of at least 32 bytes")
}

/// A token signed with `secret` as the issuer signs, for `user_id` and naming `session`,
/// whatever they hold.
pub fn hs256_token(secret: &str, user_id: &str, session: &str) -> String {
    let settings = hs256_settings(secret);
    let subject = TokenSubject {
        id: user_id,
        email: "someone@example.com",
        name: "Someone",
        email_verified: true,
        session,
    };
    Signer::with_secret(
        &settings,
        settings.secret.as_ref().expect("HS256 has a secret"),
    )
    .encode(subject, chrono::Utc::now())
    .expect("a token signs")
    .token
}
