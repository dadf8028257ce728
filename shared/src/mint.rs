//! Minting tokens: only the issuer signs, so this module (and the private keys in
//! [`crate::keys`]) is compiled only with the `mint` feature, which tasks-api does not enable.

use crate::config::Secret;
use crate::keys::{KeyError, PrivateKey};
use crate::token::{Claims, TokenError, TokenSettings};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// Whom a token is about.
pub struct TokenSubject<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    /// Whether the account's address is verified (`email_verified`).
    pub email_verified: bool,
    /// The session the token belongs to (`sid`).
    pub session: &'a str,
}

/// A freshly minted token and when it stops being accepted.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub expires_in: u64,
}

/// Mints tokens. Only the issuer holds one.
pub struct Signer {
    key: EncodingKey,
    header: Header,
    issuer: String,
    audience: String,
    ttl_seconds: u64,
}

impl Signer {
    /// HS256 with the shared secret.
    pub fn with_secret(settings: &TokenSettings, secret: &Secret) -> Self {
        Self::with_key(
            settings,
            EncodingKey::from_secret(secret.expose()),
            Header::new(Algorithm::HS256),
        )
    }

    /// An asymmetric key; its `kid` goes into every token's header.
    pub fn with_private_key(settings: &TokenSettings, key: &PrivateKey) -> Result<Self, KeyError> {
        let mut header = Header::new(key.algorithm().jwt());
        header.kid = Some(key.kid());
        Ok(Self::with_key(settings, key.encoding_key()?, header))
    }

    fn with_key(settings: &TokenSettings, key: EncodingKey, header: Header) -> Self {
        Self {
            key,
            header,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_seconds: settings.ttl_seconds,
        }
    }

    pub fn encode(
        &self,
        subject: TokenSubject<'_>,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, TokenError> {
        let iat = now.timestamp();
        let exp = iat + self.ttl_seconds as i64;
        let claims = Claims {
            sub: subject.id.to_owned(),
            email: subject.email.to_owned(),
            name: subject.name.to_owned(),
            email_verified: subject.email_verified,
            iat,
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: subject.session.to_owned(),
        };
        let token = jsonwebtoken::encode(&self.header, &claims, &self.key)?;
        Ok(IssuedToken {
            token,
            expires_at: DateTime::from_timestamp(exp, 0).unwrap_or(now),
            expires_in: self.ttl_seconds,
        })
    }
}
