//! The token: what it claims, its settings, and how it is verified (RFC 7519, RFC 8725).
//!
//! The issuer signs with `mint::Signer`; tasks-api sees only [`Verifier::decode`]. Which key
//! signs and which keys verify follows from [`TokenSettings`]: HS256 with the shared secret, or an
//! asymmetric algorithm whose public keys come from a file or from a [`KeySet`] that can change
//! while the verifier runs (a JWKS, fetched and cached outside this crate).

use crate::config::{ConfigError, Secret};
use jsonwebtoken::jwk::KeyAlgorithm;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

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
    /// One algorithm, or for a verifier a comma-separated allowlist of asymmetric ones.
    pub jwt_algorithm: Option<String>,
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
            jwt_algorithm: None,
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

/// The algorithms a deployment may choose. Only configured ones are ever accepted; the token's
/// own `alg` header never chooses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SigningAlgorithm {
    #[default]
    HS256,
    EdDSA,
    ES256,
    RS256,
}

impl SigningAlgorithm {
    pub const ALL: [Self; 4] = [Self::HS256, Self::EdDSA, Self::ES256, Self::RS256];

    pub fn is_asymmetric(self) -> bool {
        self != Self::HS256
    }

    pub fn jwt(self) -> Algorithm {
        match self {
            Self::HS256 => Algorithm::HS256,
            Self::EdDSA => Algorithm::EdDSA,
            Self::ES256 => Algorithm::ES256,
            Self::RS256 => Algorithm::RS256,
        }
    }

    /// The algorithm as a JWK's `alg` names it.
    pub fn jwk(self) -> KeyAlgorithm {
        match self {
            Self::HS256 => KeyAlgorithm::HS256,
            Self::EdDSA => KeyAlgorithm::EdDSA,
            Self::ES256 => KeyAlgorithm::ES256,
            Self::RS256 => KeyAlgorithm::RS256,
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| format!("{a:?}").eq_ignore_ascii_case(raw))
    }
}

/// Checked token settings, shared by the signer and the verifier.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// Present exactly when the algorithm is HS256.
    pub secret: Option<Secret>,
    pub issuer: String,
    pub audience: String,
    pub ttl_seconds: u64,
    pub leeway_seconds: u64,
    /// Never empty: `[HS256]`, or asymmetric algorithms only.
    pub algorithms: Vec<SigningAlgorithm>,
}

/// Why the issuer signs no RS256 token, while tasks-api still verifies them (a public-key
/// operation, which the advisory does not concern).
pub(crate) const NO_RS256_SIGNING: &str = "RS256 tokens are verified but never signed here: the \
    only RSA implementation in this build is not constant-time for private-key operations \
    (RUSTSEC-2023-0071); sign with EdDSA or ES256";

impl TokenSettings {
    /// The one algorithm a signer uses.
    pub fn signing_algorithm(&self) -> Result<SigningAlgorithm, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            variable: "JWT_ALGORITHM",
            reason: reason.into(),
        };
        match self.algorithms.as_slice() {
            [SigningAlgorithm::RS256] => Err(invalid(NO_RS256_SIGNING)),
            [one] => Ok(*one),
            _ => Err(invalid("the issuer signs with exactly one algorithm")),
        }
    }

    pub fn is_asymmetric(&self) -> bool {
        self.algorithms.iter().any(|a| a.is_asymmetric())
    }
}

/// The largest clock leeway a verifier may grant (`JWT_LEEWAY_SECONDS`): an issuer keeps a key
/// published, and a session's end announced, this long past its last token's expiry.
pub const MAX_LEEWAY_SECONDS: u64 = 300;

/// Tokens longer than this are refused before any parsing: no honest token comes near it.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

impl TokenConfig {
    /// Checks the settings. `generated` supplies a secret when HS256 is configured without one
    /// (the standalone mode); otherwise HS256 without a secret is an error.
    pub fn check(self, generated: Option<fn() -> Secret>) -> Result<TokenSettings, ConfigError> {
        let invalid = |variable, reason: &str| ConfigError::Invalid {
            variable,
            reason: reason.into(),
        };
        let algorithms = match self.jwt_algorithm.as_deref() {
            None => vec![SigningAlgorithm::HS256],
            Some(raw) => crate::config::comma_list(Some(raw))
                .iter()
                .map(|name| SigningAlgorithm::parse(name))
                .collect::<Option<Vec<_>>>()
                .filter(|list| !list.is_empty())
                .ok_or_else(|| invalid("JWT_ALGORITHM", "must be HS256, EdDSA, ES256 or RS256"))?,
        };
        // A verifier that accepts HS256 next to a public-key algorithm invites the classic
        // confusion attack (an HMAC keyed with the public key), so the two never mix.
        if algorithms.len() > 1 && algorithms.contains(&SigningAlgorithm::HS256) {
            return Err(invalid(
                "JWT_ALGORITHM",
                "HS256 cannot be combined with an asymmetric algorithm",
            ));
        }
        let secret = match (algorithms[0], self.better_auth_secret, generated) {
            (SigningAlgorithm::HS256, Some(raw), _) => Some(Secret::new(raw)?),
            (SigningAlgorithm::HS256, None, Some(generate)) => Some(generate()),
            (SigningAlgorithm::HS256, None, None) => {
                return Err(ConfigError::Missing("BETTER_AUTH_SECRET".into()));
            }
            _ => None,
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
        if self.jwt_leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(invalid(
                "JWT_LEEWAY_SECONDS",
                &format!("must be at most {MAX_LEEWAY_SECONDS}"),
            ));
        }
        Ok(TokenSettings {
            secret,
            issuer: self.jwt_issuer,
            audience: self.jwt_audience,
            ttl_seconds: self.token_ttl_seconds,
            leeway_seconds: self.jwt_leeway_seconds,
            algorithms,
        })
    }
}

/// Every claim the issuer puts in a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    pub name: String,
    /// Whether the issuer has seen a link mailed to `email` followed (OpenID Connect's claim).
    pub email_verified: bool,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The session the token belongs to: once it ends, the token is refused.
    pub sid: String,
}

/// The longest session id (`sid`) a token may carry. The issuer's are UUIDs, 36 characters.
pub const MAX_SESSION_ID_CHARS: usize = 128;

/// Whether `id` is a well-formed session id: 1 to [`MAX_SESSION_ID_CHARS`] printable ASCII
/// characters, none of them a space. The one rule for `sid`, by which both services read a
/// token's, and the issuer a session id in a path: blank, invisible or control characters (NUL,
/// which PostgreSQL refuses in text) are never taken for a session.
pub fn is_session_id(id: &str) -> bool {
    (1..=MAX_SESSION_ID_CHARS).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Why a token was refused. Deliberately coarse: the client learns only "invalid token"; the
/// kind is for the log.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("token has no usable subject")]
    NoSubject,
    #[error("token's sid is not a session id")]
    BadSession,
    #[error("token header names critical extensions, and this verifier implements none")]
    CriticalExtension,
    #[error("token was issued in the future")]
    IssuedInTheFuture,
    #[error("no known key for this token")]
    UnknownKey,
    #[error("token rejected: {0:?}")]
    Rejected(jsonwebtoken::errors::ErrorKind),
}

impl TokenError {
    /// The kind of refusal, as a short fixed name (a metric's label).
    pub fn reason(&self) -> &'static str {
        use jsonwebtoken::errors::ErrorKind;
        match self {
            TokenError::TooLong => "too_long",
            TokenError::NoSubject => "no_subject",
            TokenError::BadSession => "bad_session",
            TokenError::CriticalExtension => "critical_extension",
            TokenError::IssuedInTheFuture => "issued_in_the_future",
            TokenError::UnknownKey => "unknown_key",
            TokenError::Rejected(kind) => match kind {
                ErrorKind::ExpiredSignature => "expired",
                ErrorKind::ImmatureSignature => "not_yet_valid",
                ErrorKind::InvalidSignature => "bad_signature",
                ErrorKind::InvalidAudience => "wrong_audience",
                ErrorKind::InvalidIssuer => "wrong_issuer",
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "wrong_algorithm",
                ErrorKind::MissingRequiredClaim(_) => "missing_claim",
                _ => "malformed",
            },
        }
    }
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        TokenError::Rejected(e.into_kind())
    }
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's id: `sub`, or `userId` where `sub` is absent.
    pub subject: String,
    /// The issuer's session (`sid`). Third-party tokens have none.
    pub session: Option<String>,
}

/// The claims tasks-api needs from a token: its subject, which is `sub`, or `userId` (as some
/// Better Auth setups send it) where `sub` is absent, and its session. A non-string subject fails
/// to deserialize.
/// `exp` and `nbf` (checked by jsonwebtoken) are kept to check a remembered token's time again.
/// `iat` must be a number, and `iss` a single string: jsonwebtoken alone would take an array of
/// issuers that contains ours (its value is compared by jsonwebtoken).
#[derive(Deserialize)]
struct SubjectClaims {
    sub: Option<String>,
    #[serde(rename = "userId")]
    user_id: Option<String>,
    sid: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    iat: Option<f64>,
    #[serde(rename = "iss")]
    _single_issuer: Option<String>,
}

/// A token that passed every check, remembered with what may still change: the time.
struct Verified {
    identity: Identity,
    expires: f64,
    not_before: Option<f64>,
}

/// How many verified tokens a verifier remembers; when full it forgets them all. Only tokens
/// that verified are kept, so this many at most (each under `MAX_TOKEN_BYTES`).
const REMEMBERED_TOKENS: usize = 4096;

/// A public key a verifier trusts, with the one algorithm it verifies.
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

impl VerifyingKey {
    /// Reads a public key PEM (`BEGIN PUBLIC KEY`) for `algorithm`.
    pub fn from_pem(algorithm: SigningAlgorithm, pem: &[u8]) -> Option<Self> {
        let key = match algorithm {
            SigningAlgorithm::HS256 => None,
            SigningAlgorithm::EdDSA => DecodingKey::from_ed_pem(pem).ok(),
            SigningAlgorithm::ES256 => DecodingKey::from_ec_pem(pem).ok(),
            SigningAlgorithm::RS256 => DecodingKey::from_rsa_pem(pem).ok(),
        }?;
        Some(Self {
            kid: None,
            algorithm: algorithm.jwt(),
            key,
        })
    }
}

/// Public keys that can change while a verifier runs, such as an issuer's JWKS: a key is looked
/// up by a token's `kid` at each verification (see [`pick`] for the rule).
pub trait KeySet: Send + Sync {
    fn find<'a>(&'a self, kid: Option<&'a str>) -> KeyLookup<'a>;
}

pub type KeyLookup<'a> = Pin<Box<dyn Future<Output = Option<VerifyingKey>> + Send + 'a>>;

/// Where a verifier's keys come from.
enum Keys {
    Secret(DecodingKey),
    /// Public keys fixed at start (`JWT_PUBLIC_KEY_FILE`).
    Fixed(Vec<VerifyingKey>),
    Changing(Box<dyn KeySet>),
}

/// Verifies tokens: a configured algorithm only, signature, `exp` (required), `nbf` (when
/// present), `iss` and `aud` (required and matching), a subject that is neither blank nor holds
/// a NUL, and a `sid`, where there is one, that [`is_session_id`].
pub struct Verifier {
    keys: Keys,
    /// One validation per allowed algorithm, each accepting that algorithm alone.
    validations: Vec<(Algorithm, Validation)>,
    leeway: f64,
    /// Tokens already verified, by their exact text: a client sends the same token with every
    /// request, and its verdict can only change with the time, which is checked again. Kept only
    /// where the keys cannot change (a secret, keys from a file): with keys that change, a key that
    /// leaves the set must stop verifying at once.
    verified: Option<std::sync::Mutex<std::collections::HashMap<Box<str>, Verified>>>,
}

impl Verifier {
    /// HS256 with the shared secret.
    pub fn with_secret(settings: &TokenSettings, secret: &Secret) -> Self {
        Self::with_keys(
            settings,
            Keys::Secret(DecodingKey::from_secret(secret.expose())),
        )
    }

    /// Public keys known at start, as read from a PEM file.
    pub fn with_public_keys(settings: &TokenSettings, keys: Vec<VerifyingKey>) -> Self {
        Self::with_keys(settings, Keys::Fixed(keys))
    }

    /// Keys that can change, such as a JWKS kept fresh by a cache.
    pub fn with_key_set(settings: &TokenSettings, keys: impl KeySet + 'static) -> Self {
        Self::with_keys(settings, Keys::Changing(Box::new(keys)))
    }

    fn with_keys(settings: &TokenSettings, keys: Keys) -> Self {
        let validation = |algorithm: SigningAlgorithm| {
            let mut validation = Validation::new(algorithm.jwt());
            validation.set_issuer(&[&settings.issuer]);
            validation.set_audience(&[&settings.audience]);
            // `set_audience` and `set_issuer` only compare when the claim is there; RFC 8725
            // wants a token without them refused, so they are required too.
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            validation.validate_nbf = true;
            validation.leeway = settings.leeway_seconds;
            (algorithm.jwt(), validation)
        };
        let remembers = !matches!(keys, Keys::Changing(_));
        Self {
            keys,
            leeway: settings.leeway_seconds as f64,
            verified: remembers.then(Default::default),
            validations: settings
                .algorithms
                .iter()
                .copied()
                .map(validation)
                .collect(),
        }
    }

    /// Returns whom the token speaks for when every rule holds.
    pub async fn decode(&self, token: &str) -> Result<Identity, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLong);
        }
        let now = jsonwebtoken::get_current_timestamp() as f64;
        if let Some(identity) = self.recall(token, now) {
            return Ok(identity);
        }
        let invalid_algorithm =
            || TokenError::Rejected(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm);
        // The `kid` of a token whose `alg` is one we accept, read before any key is looked up
        // (or fetched). Only `kid` picks a key, and only among keys already trusted: `jku`,
        // `x5u` and `jwk` are never read, and a key verifies only its own algorithm.
        let kid = || {
            let header = jsonwebtoken::decode_header(token)?;
            if !self.validations.iter().any(|(a, _)| *a == header.alg) {
                return Err(invalid_algorithm());
            }
            Ok::<_, TokenError>(header.kid)
        };
        let cached;
        let (key, algorithm) = match &self.keys {
            // One key, one algorithm: the decoding below checks `alg` against it.
            Keys::Secret(key) => (key, Algorithm::HS256),
            Keys::Fixed(keys) => {
                let found = pick(keys, kid()?.as_deref()).ok_or(TokenError::UnknownKey)?;
                (&found.key, found.algorithm)
            }
            Keys::Changing(keys) => {
                cached = keys
                    .find(kid()?.as_deref())
                    .await
                    .ok_or(TokenError::UnknownKey)?;
                (&cached.key, cached.algorithm)
            }
        };
        let (_, validation) = self
            .validations
            .iter()
            .find(|(a, _)| *a == algorithm)
            .ok_or_else(invalid_algorithm)?;
        let data = jsonwebtoken::decode::<SubjectClaims>(token, key, validation)?;
        // RFC 7515 §4.1.11: a `crit` extension the verifier does not implement makes the token
        // invalid, and this one implements none.
        if data.header.crit.is_some() {
            return Err(TokenError::CriticalExtension);
        }
        if data.claims.iat.is_some_and(|iat| iat > now + self.leeway) {
            return Err(TokenError::IssuedInTheFuture);
        }
        let subject = match data.claims.sub {
            Some(sub) => sub,
            None => data.claims.user_id.ok_or(TokenError::NoSubject)?,
        };
        // A subject names a user in the services' queries: never blank, and never with a NUL,
        // which PostgreSQL refuses in text. Any other character is some issuer's id.
        if subject.trim().is_empty() || subject.contains('\0') {
            return Err(TokenError::NoSubject);
        }
        if data
            .claims
            .sid
            .as_deref()
            .is_some_and(|sid| !is_session_id(sid))
        {
            return Err(TokenError::BadSession);
        }
        let identity = Identity {
            subject,
            session: data.claims.sid,
        };
        if let Some(expires) = data.claims.exp {
            self.remember(token, &identity, expires, data.claims.nbf);
        }
        Ok(identity)
    }

    /// Whom a token verified before speaks for, while its time still holds (the same rule, and
    /// leeway, as jsonwebtoken's). Otherwise `None`, and the token is verified in full.
    fn recall(&self, token: &str, now: f64) -> Option<Identity> {
        let mut verified = self
            .verified
            .as_ref()?
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let known = verified.get(token)?;
        let in_time = known.expires >= now - self.leeway
            && known.not_before.is_none_or(|nbf| nbf <= now + self.leeway);
        if in_time {
            return Some(known.identity.clone());
        }
        verified.remove(token);
        None
    }

    fn remember(&self, token: &str, identity: &Identity, expires: f64, not_before: Option<f64>) {
        let Some(verified) = &self.verified else {
            return;
        };
        let mut verified = verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= REMEMBERED_TOKENS {
            verified.clear();
        }
        let known = Verified {
            identity: identity.clone(),
            expires,
            not_before,
        };
        verified.insert(token.into(), known);
    }
}

/// The key a token's `kid` names; a token without one matches only a lone key.
/// A lone key without an id (one read from a PEM file) matches any token.
pub fn pick<'k>(keys: &'k [VerifyingKey], kid: Option<&str>) -> Option<&'k VerifyingKey> {
    let named = kid.and_then(|kid| keys.iter().find(|k| k.kid.as_deref() == Some(kid)));
    named.or(match keys {
        [only] if kid.is_none() || only.kid.is_none() => Some(only),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mint::{Signer, TokenSubject};
    use chrono::Utc;
    use jsonwebtoken::{EncodingKey, Header};
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

    /// The good claims under a header written out as given, signed with the secret.
    fn with_header(header: Value) -> String {
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(good_claims().to_string().as_bytes())
        );
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let signature =
            jsonwebtoken::crypto::sign(signed.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{signed}.{signature}")
    }

    async fn verify(token: &str) -> Result<String, TokenError> {
        let settings = settings();
        Verifier::with_secret(&settings, settings.secret.as_ref().unwrap())
            .decode(token)
            .await
            .map(|identity| identity.subject)
    }

    fn signer(settings: &TokenSettings) -> Signer {
        Signer::with_secret(settings, settings.secret.as_ref().unwrap())
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[actix_rt::test]
    async fn a_token_the_signer_mints_verifies_to_its_subject_with_every_claim() {
        let settings = settings();
        let issued = signer(&settings)
            .encode(
                TokenSubject {
                    id: "user-1",
                    email: "a@b.co",
                    name: "A",
                    email_verified: true,
                    session: "session-1",
                },
                Utc::now(),
            )
            .unwrap();
        let verifier = Verifier::with_secret(&settings, settings.secret.as_ref().unwrap());
        assert_eq!(
            verifier.decode(&issued.token).await.unwrap(),
            Identity {
                subject: "user-1".into(),
                session: Some("session-1".into())
            }
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

    #[actix_rt::test]
    async fn a_remembered_token_still_answers_to_its_time_and_only_a_verified_one_is_remembered() {
        let settings = settings();
        let verifier = Verifier::with_secret(&settings, settings.secret.as_ref().unwrap());
        let (exp, nbf) = (now() + 3600, now() - 10);
        let token = sign(
            &with(json!({"exp": exp, "nbf": nbf})),
            Algorithm::HS256,
            SECRET,
        );
        let flip = token.len() - 5;
        let swap = if &token[flip..=flip] == "A" { "B" } else { "A" };
        let forged = format!("{}{swap}{}", &token[..flip], &token[flip + 1..]);
        assert!(verifier.decode(&forged).await.is_err());
        assert_eq!(
            verifier.recall(&forged, now() as f64),
            None,
            "refused: not kept"
        );
        assert_eq!(verifier.decode(&token).await.unwrap().subject, "user-1");
        assert!(
            verifier.decode(&forged).await.is_err(),
            "a byte off is another token"
        );

        let leeway = settings.leeway_seconds as f64;
        let at = |t: f64| verifier.recall(&token, t).map(|identity| identity.subject);
        assert_eq!(at(now() as f64).as_deref(), Some("user-1"));
        assert_eq!(at(exp as f64 + leeway).as_deref(), Some("user-1"));
        assert_eq!(
            at(nbf as f64 - leeway - 1.0),
            None,
            "before nbf and its leeway"
        );
        assert_eq!(at(now() as f64), None, "a token out of time is forgotten");
        assert_eq!(verifier.decode(&token).await.unwrap().subject, "user-1");
        assert_eq!(
            at(exp as f64 + leeway + 1.0),
            None,
            "past exp and its leeway"
        );
    }

    #[test]
    fn a_verifier_remembers_a_bounded_number_of_tokens() {
        let settings = settings();
        let verifier = Verifier::with_secret(&settings, settings.secret.as_ref().unwrap());
        let identity = Identity {
            subject: "u".into(),
            session: None,
        };
        for i in 0..=REMEMBERED_TOKENS {
            verifier.remember(&format!("token-{i}"), &identity, f64::MAX, None);
        }
        let kept = verifier.verified.as_ref().unwrap().lock().unwrap().len();
        assert!(kept <= REMEMBERED_TOKENS, "{kept}");
        let last = format!("token-{REMEMBERED_TOKENS}");
        assert_eq!(verifier.recall(&last, 0.0), Some(identity));
    }

    #[test]
    fn two_tokens_for_one_user_have_different_ids() {
        let signer = signer(&settings());
        let jti = |t: &str| {
            jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(t)
                .unwrap()
                .jti
        };
        let subject = || TokenSubject {
            id: "u",
            email: "a@b.co",
            name: "A",
            email_verified: true,
            session: "s",
        };
        let (a, b) = (
            signer.encode(subject(), Utc::now()).unwrap(),
            signer.encode(subject(), Utc::now()).unwrap(),
        );
        assert_ne!(jti(&a.token), jti(&b.token));
    }

    #[actix_rt::test]
    async fn every_token_rule_holds() {
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
            (
                "iss as an array holding ours",
                sign(&with(json!({"iss": ["issuer"]})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "iss as an array holding ours and another",
                sign(
                    &with(json!({"iss": ["issuer", "someone-else"]})),
                    Algorithm::HS256,
                    SECRET,
                ),
                false,
            ),
            (
                "iat as a string",
                sign(&with(json!({"iat": "yesterday"})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "iat in the future past the leeway",
                sign(&with(json!({"iat": now() + 600})), Algorithm::HS256, SECRET),
                false,
            ),
            (
                "iat in the future within the leeway",
                sign(&with(json!({"iat": now() + 30})), Algorithm::HS256, SECRET),
                true,
            ),
            (
                "no iat",
                sign(&with(json!({"iat": null})), Algorithm::HS256, SECRET),
                true,
            ),
            (
                "crit naming an extension",
                with_header(json!({"alg": "HS256", "typ": "JWT", "crit": ["exp"]})),
                false,
            ),
            (
                "crit empty",
                with_header(json!({"alg": "HS256", "typ": "JWT", "crit": []})),
                false,
            ),
            (
                "crit not a list",
                with_header(json!({"alg": "HS256", "typ": "JWT", "crit": "b64"})),
                false,
            ),
            (
                "an unknown header parameter that is not critical",
                with_header(json!({"alg": "HS256", "typ": "JWT", "x-note": "hello"})),
                true,
            ),
            ("garbage", "not.a.token".into(), false),
            ("empty", String::new(), false),
        ];
        for (name, token, accepted) in cases {
            let verdict = verify(&token).await;
            assert_eq!(verdict.is_ok(), accepted, "{name}: {verdict:?}");
        }
    }

    #[actix_rt::test]
    async fn a_sid_or_subject_that_is_blank_invisible_or_holds_a_nul_is_refused() {
        let long = "s".repeat(MAX_SESSION_ID_CHARS + 1);
        for sid in [
            "", " ", "\t", "\u{200B}", "\u{FEFF}", "a b", "nul\0", "é", &long,
        ] {
            let verdict = verify(&sign(&with(json!({"sid": sid})), Algorithm::HS256, SECRET)).await;
            assert!(
                matches!(verdict, Err(TokenError::BadSession)),
                "{sid:?}: {verdict:?}"
            );
        }
        for sid in ["3f2b6c1e-8a4d-4f7e-9b0a-1c2d3e4f5a6b", "s", &long[1..]] {
            let token = sign(&with(json!({"sid": sid})), Algorithm::HS256, SECRET);
            assert!(verify(&token).await.is_ok(), "{sid:?}");
        }
        for sub in ["", "  ", "nul\0"] {
            let verdict = verify(&sign(&with(json!({"sub": sub})), Algorithm::HS256, SECRET)).await;
            assert!(
                matches!(verdict, Err(TokenError::NoSubject)),
                "{sub:?}: {verdict:?}"
            );
        }
    }

    #[actix_rt::test]
    async fn the_subject_is_sub_when_both_sub_and_user_id_are_present() {
        let token = sign(
            &with(json!({"userId": "someone-else"})),
            Algorithm::HS256,
            SECRET,
        );
        assert_eq!(verify(&token).await.unwrap(), "user-1");
    }

    #[actix_rt::test]
    async fn an_unsigned_token_is_refused() {
        let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64(good_claims().to_string().as_bytes());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert!(verify(&token).await.is_err(), "{token}");
        }
    }

    #[actix_rt::test]
    async fn a_payload_changed_under_a_valid_signature_is_refused() {
        let token = sign(&good_claims(), Algorithm::HS256, SECRET);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = b64(with(json!({"sub": "admin"})).to_string().as_bytes());
        assert!(
            verify(&format!("{}.{forged}.{}", parts[0], parts[2]))
                .await
                .is_err()
        );
    }

    #[actix_rt::test]
    async fn a_very_large_token_is_refused_before_parsing() {
        let token = sign(
            &with(json!({"pad": "x".repeat(10_000)})),
            Algorithm::HS256,
            SECRET,
        );
        assert!(matches!(verify(&token).await, Err(TokenError::TooLong)));
    }

    #[test]
    fn the_algorithm_is_an_allowlist_that_never_mixes_hs256_with_public_keys() {
        let check = |algorithm: &str| {
            TokenConfig {
                jwt_algorithm: Some(algorithm.into()),
                better_auth_secret: None,
                ..base()
            }
            .check(None)
        };
        let settings = check("EdDSA, ES256").unwrap();
        assert_eq!(
            settings.algorithms,
            [SigningAlgorithm::EdDSA, SigningAlgorithm::ES256]
        );
        assert!(settings.secret.is_none(), "no secret with public keys");
        assert!(settings.signing_algorithm().is_err(), "a signer needs one");
        let rs256 = check("RS256").unwrap();
        assert_eq!(rs256.algorithms, [SigningAlgorithm::RS256], "verified");
        let err = rs256.signing_algorithm().unwrap_err().to_string();
        assert!(err.contains("RUSTSEC-2023-0071"), "never signed: {err}");
        for refused in ["HS256,EdDSA", "PS256", "none", " , "] {
            let err = check(refused).unwrap_err().to_string();
            assert!(err.contains("JWT_ALGORITHM"), "{refused}: {err}");
        }
        let err = check("HS256").unwrap_err().to_string();
        assert!(err.contains("BETTER_AUTH_SECRET"), "{err}");
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
