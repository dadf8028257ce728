//! The token: what it claims, how it is signed and how it is verified (RFC 7519, RFC 8725).
//!
//! Handlers see only [`Signer::encode`] and [`Verifier::decode`]. Which key signs and which keys
//! verify is decided here, from [`TokenSettings`], so that another algorithm family (EdDSA keys
//! published as a JWKS) is a change to this module and not to any handler.

use crate::config::{ConfigError, Secret};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The token settings as they arrive from the environment, before they are checked.
#[derive(Clone, Deserialize)]
pub struct TokenConfig {
    pub better_auth_secret: Option<String>,
    #[serde(default = "default_issuer")]
    pub jwt_issuer: String,
    #[serde(default = "default_audience")]
    pub jwt_audience: String,
    #[serde(default = "default_ttl")]
    pub token_ttl_seconds: u64,
    #[serde(default = "default_leeway")]
    pub jwt_leeway_seconds: u64,
    #[serde(default)]
    pub jwt_algorithm: SigningAlgorithm,
}

impl Default for TokenConfig {
    /// Every setting at its default, and no secret.
    fn default() -> Self {
        Self {
            better_auth_secret: None,
            jwt_issuer: default_issuer(),
            jwt_audience: default_audience(),
            token_ttl_seconds: default_ttl(),
            jwt_leeway_seconds: default_leeway(),
            jwt_algorithm: SigningAlgorithm::default(),
        }
    }
}

fn default_issuer() -> String {
    "issuer".into()
}
fn default_audience() -> String {
    "tasks-api".into()
}
fn default_ttl() -> u64 {
    7 * 24 * 60 * 60
}
fn default_leeway() -> u64 {
    60
}

/// The algorithms a deployment may choose. Only the configured one is ever accepted; the
/// token's own `alg` header never chooses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum SigningAlgorithm {
    #[default]
    HS256,
}

/// Checked token settings, shared by the signer and the verifier.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    pub secret: Secret,
    pub issuer: String,
    pub audience: String,
    pub ttl_seconds: u64,
    pub leeway_seconds: u64,
    pub algorithm: SigningAlgorithm,
}

/// Tokens longer than this are refused before any parsing: no honest token comes near it.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

impl TokenConfig {
    /// Checks the settings. `generated` supplies a secret when none is configured (the standalone
    /// mode); without it a missing secret is an error.
    pub fn check(self, generated: Option<fn() -> Secret>) -> Result<TokenSettings, ConfigError> {
        let secret = match (self.better_auth_secret, generated) {
            (Some(raw), _) => Secret::new(raw)?,
            (None, Some(generate)) => generate(),
            (None, None) => return Err(ConfigError::Missing("BETTER_AUTH_SECRET".into())),
        };
        let invalid = |variable, reason: &str| ConfigError::Invalid {
            variable,
            reason: reason.into(),
        };
        if self.jwt_issuer.trim().is_empty() {
            return Err(invalid("JWT_ISSUER", "must not be empty"));
        }
        if self.jwt_audience.trim().is_empty() {
            return Err(invalid("JWT_AUDIENCE", "must not be empty"));
        }
        if !(60..=365 * 24 * 60 * 60).contains(&self.token_ttl_seconds) {
            return Err(invalid(
                "TOKEN_TTL_SECONDS",
                "must be between 60 and 31536000",
            ));
        }
        if self.jwt_leeway_seconds > 300 {
            return Err(invalid("JWT_LEEWAY_SECONDS", "must be at most 300"));
        }
        Ok(TokenSettings {
            secret,
            issuer: self.jwt_issuer,
            audience: self.jwt_audience,
            ttl_seconds: self.token_ttl_seconds,
            leeway_seconds: self.jwt_leeway_seconds,
            algorithm: self.jwt_algorithm,
        })
    }
}

/// Every claim the issuer puts in a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    pub name: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

/// Whom a token is about.
pub struct TokenSubject<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
}

/// A freshly minted token and when it stops being accepted.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub expires_in: u64,
}

/// Why a token was refused. Deliberately coarse: the client learns only "invalid token"; the
/// kind is for the log.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("token has no usable subject")]
    NoSubject,
    #[error("token rejected: {0:?}")]
    Rejected(jsonwebtoken::errors::ErrorKind),
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        TokenError::Rejected(e.into_kind())
    }
}

fn pinned_algorithm(algorithm: SigningAlgorithm) -> Algorithm {
    match algorithm {
        SigningAlgorithm::HS256 => Algorithm::HS256,
    }
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
    pub fn new(settings: &TokenSettings) -> Self {
        Self {
            key: EncodingKey::from_secret(settings.secret.expose()),
            header: Header::new(pinned_algorithm(settings.algorithm)),
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
            iat,
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(&self.header, &claims, &self.key)?;
        Ok(IssuedToken {
            token,
            expires_at: DateTime::from_timestamp(exp, 0).unwrap_or(now),
            expires_in: self.ttl_seconds,
        })
    }
}

/// The claims tasks-api needs from a token: its subject, which is `sub`, or `userId` (as some
/// Better Auth setups send it) where `sub` is absent. A non-string subject fails to deserialize.
#[derive(Deserialize)]
struct SubjectClaims {
    sub: Option<String>,
    #[serde(rename = "userId")]
    user_id: Option<String>,
}

/// Verifies tokens: the configured algorithm only, signature, `exp` (required), `nbf` (when
/// present), `iss` and `aud` (required and matching), and a non-empty subject.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl Verifier {
    pub fn new(settings: &TokenSettings) -> Self {
        let mut validation = Validation::new(pinned_algorithm(settings.algorithm));
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        // `set_audience` and `set_issuer` only compare when the claim is there; RFC 8725 wants
        // a token without them refused, so they are required too.
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = settings.leeway_seconds;
        Self {
            key: DecodingKey::from_secret(settings.secret.expose()),
            validation,
        }
    }

    /// Returns the token's subject (the user id) when every rule holds.
    pub fn decode(&self, token: &str) -> Result<String, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLong);
        }
        let data = jsonwebtoken::decode::<SubjectClaims>(token, &self.key, &self.validation)?;
        let subject = match data.claims.sub {
            Some(sub) => sub,
            None => data.claims.user_id.ok_or(TokenError::NoSubject)?,
        };
        if subject.trim().is_empty() {
            return Err(TokenError::NoSubject);
        }
        Ok(subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

    fn settings() -> TokenSettings {
        base().check(None).unwrap()
    }

    fn base() -> TokenConfig {
        TokenConfig {
            better_auth_secret: Some(SECRET.into()),
            ..TokenConfig::default()
        }
    }

    fn now() -> i64 {
        Utc::now().timestamp()
    }

    fn good_claims() -> Value {
        json!({"sub": "user-1", "iss": "issuer", "aud": "tasks-api", "iat": now(), "exp": now() + 3600})
    }

    fn sign(claims: &Value, alg: Algorithm, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn with(changes: Value) -> Value {
        let mut claims = good_claims();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    fn verify(token: &str) -> Result<String, TokenError> {
        Verifier::new(&settings()).decode(token)
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_token_the_signer_mints_verifies_to_its_subject_with_every_claim() {
        let settings = settings();
        let issued = Signer::new(&settings)
            .encode(
                TokenSubject {
                    id: "user-1",
                    email: "a@b.co",
                    name: "A",
                },
                Utc::now(),
            )
            .unwrap();
        assert_eq!(
            Verifier::new(&settings).decode(&issued.token).unwrap(),
            "user-1"
        );
        assert_eq!(issued.expires_in, 604_800);
        let claims: Claims =
            jsonwebtoken::dangerous::insecure_decode_claims(&issued.token).unwrap();
        assert_eq!(
            (
                claims.iss.as_str(),
                claims.aud.as_str(),
                claims.email.as_str()
            ),
            ("issuer", "tasks-api", "a@b.co")
        );
        assert_eq!(claims.exp - claims.iat, 604_800);
        assert_eq!(claims.exp, issued.expires_at.timestamp());
        assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());
    }

    #[test]
    fn two_tokens_for_one_user_have_different_ids() {
        let signer = Signer::new(&settings());
        let jti = |t: &str| {
            jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(t)
                .unwrap()
                .jti
        };
        let subject = || TokenSubject {
            id: "u",
            email: "a@b.co",
            name: "A",
        };
        let (a, b) = (
            signer.encode(subject(), Utc::now()).unwrap(),
            signer.encode(subject(), Utc::now()).unwrap(),
        );
        assert_ne!(jti(&a.token), jti(&b.token));
    }

    #[test]
    fn every_token_rule_holds() {
        let good = good_claims();
        let cases: Vec<(&str, String, bool)> = vec![
            ("a good token", sign(&good, Algorithm::HS256, SECRET), true),
            (
                "HS384 with the right secret",
                sign(&good, Algorithm::HS384, SECRET),
                false,
            ),
            (
                "HS512 with the right secret",
                sign(&good, Algorithm::HS512, SECRET),
                false,
            ),
            (
                "another secret",
                sign(
                    &good,
                    Algorithm::HS256,
                    "another-secret-that-is-32-bytes-long!!",
                ),
                false,
            ),
            (
                "expired past the leeway",
                sign(&with(json!({"exp": now() - 120})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "expired within the leeway",
                sign(&with(json!({"exp": now() - 30})), Algorithm::HS256, SECRET),
                true,
            ),
            (
                "nbf in the future",
                sign(&with(json!({"nbf": now() + 600})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "nbf in the past",
                sign(&with(json!({"nbf": now() - 600})), Algorithm::HS256, SECRET),
                true,
            ),
            (
                "wrong iss",
                sign(
                    &with(json!({"iss": "someone-else"})),
                    Algorithm::HS256,
                    SECRET,
                ),
                false,
            ),
            (
                "missing iss",
                sign(&with(json!({"iss": null})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "wrong aud",
                sign(
                    &with(json!({"aud": "another-api"})),
                    Algorithm::HS256,
                    SECRET,
                ),
                false,
            ),
            (
                "missing aud",
                sign(&with(json!({"aud": null})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "missing exp",
                sign(&with(json!({"exp": null})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "exp as a string",
                sign(&with(json!({"exp": "tomorrow"})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "missing sub",
                sign(&with(json!({"sub": null})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "empty sub",
                sign(&with(json!({"sub": ""})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "numeric sub",
                sign(&with(json!({"sub": 42})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "userId where sub is absent",
                sign(
                    &with(json!({"sub": null, "userId": "user-1"})),
                    Algorithm::HS256,
                    SECRET,
                ),
                true,
            ),
            (
                "empty userId",
                sign(
                    &with(json!({"sub": null, "userId": ""})),
                    Algorithm::HS256,
                    SECRET,
                ),
                false,
            ),
            ("garbage", "not.a.token".into(), false),
            ("empty", String::new(), false),
        ];
        for (name, token, accepted) in cases {
            assert_eq!(
                verify(&token).is_ok(),
                accepted,
                "{name}: {:?}",
                verify(&token)
            );
        }
    }

    #[test]
    fn the_subject_is_sub_when_both_sub_and_user_id_are_present() {
        let token = sign(
            &with(json!({"userId": "someone-else"})),
            Algorithm::HS256,
            SECRET,
        );
        assert_eq!(verify(&token).unwrap(), "user-1");
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64(good_claims().to_string().as_bytes());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert!(verify(&token).is_err(), "{token}");
        }
    }

    #[test]
    fn a_payload_changed_under_a_valid_signature_is_refused() {
        let token = sign(&good_claims(), Algorithm::HS256, SECRET);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = b64(with(json!({"sub": "admin"})).to_string().as_bytes());
        assert!(verify(&format!("{}.{forged}.{}", parts[0], parts[2])).is_err());
    }

    #[test]
    fn a_very_large_token_is_refused_before_parsing() {
        let token = sign(
            &with(json!({"pad": "x".repeat(10_000)})),
            Algorithm::HS256,
            SECRET,
        );
        assert!(matches!(verify(&token), Err(TokenError::TooLong)));
    }

    #[test]
    fn settings_are_checked_naming_the_variable() {
        let err = |c: TokenConfig| c.check(None).unwrap_err().to_string();
        assert!(
            err(TokenConfig {
                better_auth_secret: None,
                ..base()
            })
            .contains("BETTER_AUTH_SECRET")
        );
        assert!(
            err(TokenConfig {
                jwt_issuer: " ".into(),
                ..base()
            })
            .contains("JWT_ISSUER")
        );
        assert!(
            err(TokenConfig {
                token_ttl_seconds: 1,
                ..base()
            })
            .contains("TOKEN_TTL_SECONDS")
        );
        assert!(
            err(TokenConfig {
                jwt_leeway_seconds: 100_000,
                ..base()
            })
            .contains("JWT_LEEWAY_SECONDS")
        );
        assert!(
            TokenConfig {
                better_auth_secret: None,
                ..base()
            }
            .check(Some(Secret::generate))
            .is_ok()
        );
    }
}
