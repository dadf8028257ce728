//! A verifier's copy of an issuer's public keys (a JWKS, RFC 7517), fetched at start and kept.
//!
//! The cache honours the JWKS's `Cache-Control: max-age`, refetches when a token names a `kid` it
//! does not know (at most once per [`MIN_REFETCH_INTERVAL`], so a flood of made-up kids is not a
//! flood of fetches), and keeps its keys whenever a fetch fails or brings back something
//! unusable: an issuer that is down, or a JWKS that is huge or malformed, never costs the keys
//! already known.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use prometheus_client::metrics::counter::Counter;
use shared::token::{KeyLookup, KeySet, SigningAlgorithm, VerifyingKey, pick};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// No honest key set comes near this; a bigger answer is refused unread.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// The shortest time between two fetches prompted by unknown `kid`s.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// How long keys count as fresh when the JWKS says nothing (no `Cache-Control: max-age`).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// An issuer's `max-age` is kept within these bounds: never a fetch per request, never keys
/// older than a day.
const MAX_AGE_BOUNDS: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(86_400));
/// After a failed fetch, the cached keys serve this long before the next try.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a fetch brought nothing usable. The cached keys stay.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("could not fetch the JWKS: {0}")]
    Unreachable(String),
    #[error("the JWKS answered HTTP {0}")]
    Status(u16),
    #[error("the JWKS is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("the JWKS is not a JSON key set")]
    Malformed,
    #[error("the JWKS has no key for an allowed algorithm")]
    NoUsableKey,
}

/// A JWKS document as fetched, and how long it may be kept.
pub struct Fetched {
    pub body: Vec<u8>,
    pub max_age: Option<Duration>,
}

pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Fetched, FetchError>> + Send + 'a>>;

/// Where a JWKS comes from: a URL, or (in the standalone process) the issuer next door.
pub trait JwksSource: Send + Sync {
    fn fetch(&self) -> FetchFuture<'_>;
}

/// A JWKS served over HTTP(S), read with time-outs and a size bound, never following redirects.
pub struct JwksUrl {
    url: String,
    client: reqwest::Client,
}

impl JwksUrl {
    pub fn new(url: &str) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Unreachable(e.to_string()))?;
        Ok(Self {
            url: url.to_owned(),
            client,
        })
    }

    async fn get(&self) -> Result<Fetched, FetchError> {
        let unreachable = |e: reqwest::Error| FetchError::Unreachable(e.without_url().to_string());
        let mut response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    }
}

impl JwksSource for JwksUrl {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.get())
    }
}

/// The `max-age` of a `Cache-Control` value.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.trim().split_once('=')?;
        name.eq_ignore_ascii_case("max-age")
            .then(|| value.trim().parse().ok().map(Duration::from_secs))?
    })
}

/// The usable keys of a JWKS document: signature keys of an allowed algorithm. Keys of other
/// kinds (encryption keys, other curves, symmetric `oct` keys) are skipped, not fatal.
pub fn parse(body: &[u8], allowed: &[Algorithm]) -> Result<Vec<VerifyingKey>, FetchError> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(body).map_err(|_| FetchError::Malformed)?;
    let keys: Vec<VerifyingKey> = document
        .keys
        .into_iter()
        .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
        .filter_map(|jwk| verifying_key(&jwk))
        .filter(|key| allowed.contains(&key.algorithm))
        .collect();
    if keys.is_empty() {
        return Err(FetchError::NoUsableKey);
    }
    Ok(keys)
}

/// The key a JWK describes, with the one algorithm its type allows. A JWK whose `alg` says
/// otherwise is refused rather than believed.
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            SigningAlgorithm::EdDSA
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            SigningAlgorithm::ES256
        }
        AlgorithmParameters::RSA(_) => SigningAlgorithm::RS256,
        _ => return None,
    };
    if jwk
        .common
        .key_algorithm
        .is_some_and(|stated| stated != algorithm.jwk())
    {
        return None;
    }
    Some(VerifyingKey {
        kid: jwk.common.key_id.clone(),
        algorithm: algorithm.jwt(),
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

struct Cached {
    keys: Arc<Vec<VerifyingKey>>,
    fresh_until: Instant,
    /// When the keys were fetched.
    fetched_at: Instant,
}

/// The keys of one JWKS, as a verifier holds them.
pub struct JwksCache {
    source: Box<dyn JwksSource>,
    allowed: Vec<Algorithm>,
    cached: Arc<RwLock<Cached>>,
    fetch_failures: Counter,
    /// Held while fetching, so that concurrent misses share one fetch; holds the time of the
    /// last fetch prompted by an unknown `kid`.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

enum Why {
    Stale,
    UnknownKid,
}

impl JwksCache {
    /// Fetches the key set, retrying with backoff while the source is not up yet, for at most
    /// `wait`.
    pub async fn load(
        source: Box<dyn JwksSource>,
        allowed: &[SigningAlgorithm],
        wait: Duration,
    ) -> Result<Self, FetchError> {
        let allowed: Vec<Algorithm> = allowed.iter().map(|a| a.jwt()).collect();
        let started = Instant::now();
        let mut delay = Duration::from_millis(100);
        let (keys, max_age) = loop {
            match fetch_keys(&*source, &allowed).await {
                Ok(fetched) => break fetched,
                Err(e) if started.elapsed() + delay < wait => {
                    log::warn!("the JWKS is not available yet ({e}); retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        };
        let now = Instant::now();
        Ok(Self {
            source,
            allowed,
            cached: Arc::new(RwLock::new(Cached {
                keys: Arc::new(keys),
                fresh_until: now + max_age,
                fetched_at: now,
            })),
            fetch_failures: Counter::default(),
            fetching: tokio::sync::Mutex::new(None),
        })
    }

    /// What the metrics watch of this cache, for as long as it lives.
    pub fn health(&self) -> JwksHealth {
        JwksHealth {
            cached: self.cached.clone(),
            fetch_failures: self.fetch_failures.clone(),
        }
    }

    /// The key for a token's `kid`: from the cache while it is fresh, after one refresh when it
    /// is stale or does not know the kid.
    pub async fn find(&self, kid: Option<&str>) -> Option<VerifyingKey> {
        if Instant::now() >= self.read().fresh_until {
            self.refresh(Why::Stale).await;
        }
        if let Some(key) = pick(&self.keys(), kid) {
            return Some(key.clone());
        }
        self.refresh(Why::UnknownKid).await;
        pick(&self.keys(), kid).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cached> {
        self.cached.read().unwrap_or_else(|e| e.into_inner())
    }

    fn keys(&self) -> Arc<Vec<VerifyingKey>> {
        self.read().keys.clone()
    }

    async fn refresh(&self, why: Why) {
        let mut last_kid_fetch = self.fetching.lock().await;
        let now = Instant::now();
        let due = match why {
            // Another request may have refreshed while this one waited for the lock.
            Why::Stale => now >= self.read().fresh_until,
            Why::UnknownKid => last_kid_fetch.is_none_or(|t| now - t >= MIN_REFETCH_INTERVAL),
        };
        if !due {
            return;
        }
        if matches!(why, Why::UnknownKid) {
            *last_kid_fetch = Some(now);
        }
        let result = fetch_keys(&*self.source, &self.allowed).await;
        let mut cached = self.cached.write().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok((keys, max_age)) => {
                let now = Instant::now();
                *cached = Cached {
                    keys: Arc::new(keys),
                    fresh_until: now + max_age,
                    fetched_at: now,
                };
            }
            Err(e) => {
                self.fetch_failures.inc();
                log::warn!("keeping the cached JWKS keys: {e}");
                cached.fresh_until = Instant::now() + RETRY_AFTER_FAILURE;
            }
        }
    }
}

/// A [`JwksCache`] as its metrics see it: how old its keys are, and how many refreshes failed.
#[derive(Clone)]
pub struct JwksHealth {
    cached: Arc<RwLock<Cached>>,
    pub fetch_failures: Counter,
}

impl JwksHealth {
    /// The time since the keys in use were fetched.
    pub fn age(&self) -> Duration {
        self.cached
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .fetched_at
            .elapsed()
    }
}

impl KeySet for JwksCache {
    fn find<'a>(&'a self, kid: Option<&'a str>) -> KeyLookup<'a> {
        Box::pin(JwksCache::find(self, kid))
    }
}

async fn fetch_keys(
    source: &dyn JwksSource,
    allowed: &[Algorithm],
) -> Result<(Vec<VerifyingKey>, Duration), FetchError> {
    let fetched = source.fetch().await?;
    let keys = parse(&fetched.body, allowed)?;
    let (low, high) = MAX_AGE_BOUNDS;
    Ok((
        keys,
        fetched.max_age.unwrap_or(DEFAULT_MAX_AGE).clamp(low, high),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use base64::Engine;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{EncodingKey, Header};
    use shared::keys::PrivateKey;
    use shared::mint::{Signer, TokenSubject};
    use shared::token::{TokenConfig, TokenError, TokenSettings, Verifier};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A tiny JWKS server whose answer a test changes, and which counts its fetches.
    struct Served {
        body: Mutex<Vec<u8>>,
        max_age: Mutex<u64>,
        up: AtomicBool,
        fetches: AtomicUsize,
    }

    struct JwksServer {
        url: String,
        state: web::Data<Served>,
    }

    impl JwksServer {
        async fn start(keys: &[&PrivateKey]) -> Self {
            let state = web::Data::new(Served {
                body: Mutex::new(document(keys)),
                max_age: Mutex::new(300),
                up: AtomicBool::new(true),
                fetches: AtomicUsize::new(0),
            });
            let served = state.clone();
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(served.clone())
                    .route("/jwks", web::get().to(answer))
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
            let url = format!("http://127.0.0.1:{}/jwks", server.addrs()[0].port());
            actix_web::rt::spawn(server.run());
            Self { url, state }
        }

        fn serve(&self, body: Vec<u8>) {
            *self.state.body.lock().unwrap() = body;
        }

        fn fetches(&self) -> usize {
            self.state.fetches.load(Ordering::SeqCst)
        }
    }

    async fn answer(state: web::Data<Served>) -> HttpResponse {
        state.fetches.fetch_add(1, Ordering::SeqCst);
        if !state.up.load(Ordering::SeqCst) {
            return HttpResponse::ServiceUnavailable().finish();
        }
        HttpResponse::Ok()
            .insert_header((
                "cache-control",
                format!("public, max-age={}", state.max_age.lock().unwrap()),
            ))
            .body(state.body.lock().unwrap().clone())
    }

    fn document(keys: &[&PrivateKey]) -> Vec<u8> {
        shared::keys::jwks_document(keys.iter().copied())
    }

    fn settings(algorithms: &str) -> TokenSettings {
        TokenConfig {
            jwt_algorithm: Some(algorithms.into()),
            ..Default::default()
        }
        .check(None)
        .unwrap()
    }

    fn key(algorithm: SigningAlgorithm) -> PrivateKey {
        PrivateKey::generate(algorithm).unwrap()
    }

    fn mint(key: &PrivateKey) -> String {
        let settings = settings(&format!("{:?}", key.algorithm()));
        let subject = TokenSubject {
            id: "ada",
            email: "ada@example.com",
            name: "Ada",
            email_verified: true,
            session: "ada-session",
        };
        Signer::with_private_key(&settings, key)
            .unwrap()
            .encode(subject, chrono::Utc::now())
            .unwrap()
            .token
    }

    async fn verifier(url: &str, algorithms: &str) -> Verifier {
        let settings = settings(algorithms);
        let source = Box::new(JwksUrl::new(url).unwrap());
        let cache = JwksCache::load(source, &settings.algorithms, Duration::from_secs(2))
            .await
            .unwrap();
        Verifier::with_key_set(&settings, cache)
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn claims() -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        serde_json::json!({"sub": "ada", "iss": "issuer", "aud": "tasks-api", "iat": now, "exp": now + 600})
    }

    /// A token with `header`, signed by `key` (its own algorithm), whatever the header claims.
    fn forge(header: &Header, key: &PrivateKey) -> String {
        jsonwebtoken::encode(header, &claims(), &key.encoding_key().unwrap()).unwrap()
    }

    #[actix_rt::test]
    async fn each_algorithm_verifies_through_the_jwks() {
        for algorithm in [SigningAlgorithm::EdDSA, SigningAlgorithm::ES256] {
            let key = key(algorithm);
            let server = JwksServer::start(&[&key]).await;
            let verifier = verifier(&server.url, &format!("{algorithm:?}")).await;
            assert_eq!(
                verifier.decode(&mint(&key)).await.unwrap().subject,
                "ada",
                "{algorithm:?}"
            );
        }
    }

    /// RS256 is never signed here, but another issuer's RS256 tokens verify.
    #[actix_rt::test]
    async fn a_third_party_rs256_token_verifies_through_the_jwks() {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let pem = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
            .unwrap()
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap();
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some("their-key".into());
        let server = JwksServer::start(&[]).await;
        server.serve(serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap());
        let verifier = verifier(&server.url, "RS256").await;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("their-key".into());
        let token = jsonwebtoken::encode(&header, &claims(), &key).unwrap();
        assert_eq!(verifier.decode(&token).await.unwrap().subject, "ada");
    }

    #[actix_rt::test]
    async fn an_unknown_kid_prompts_one_refetch_and_a_flood_of_them_no_more() {
        let known = key(SigningAlgorithm::EdDSA);
        let server = JwksServer::start(&[&known]).await;
        let verifier = verifier(&server.url, "EdDSA").await;
        assert_eq!(server.fetches(), 1);
        let stranger = key(SigningAlgorithm::EdDSA);
        assert!(matches!(
            verifier.decode(&mint(&stranger)).await,
            Err(TokenError::UnknownKey)
        ));
        assert_eq!(server.fetches(), 2, "one refetch for the unknown kid");
        for _ in 0..20 {
            let made_up = key(SigningAlgorithm::EdDSA);
            assert!(verifier.decode(&mint(&made_up)).await.is_err());
        }
        assert_eq!(
            server.fetches(),
            2,
            "no more within {MIN_REFETCH_INTERVAL:?}"
        );
        assert!(verifier.decode(&mint(&known)).await.is_ok());
    }

    #[actix_rt::test]
    async fn a_key_published_after_start_is_learnt_on_its_first_token() {
        let (old, new) = (key(SigningAlgorithm::EdDSA), key(SigningAlgorithm::EdDSA));
        let server = JwksServer::start(&[&old]).await;
        let verifier = verifier(&server.url, "EdDSA").await;
        server.serve(document(&[&old, &new]));
        assert_eq!(verifier.decode(&mint(&new)).await.unwrap().subject, "ada");
        assert_eq!(verifier.decode(&mint(&old)).await.unwrap().subject, "ada");
    }

    #[actix_rt::test]
    async fn a_retired_key_stops_verifying_once_the_jwks_drops_it() {
        let (old, new) = (key(SigningAlgorithm::EdDSA), key(SigningAlgorithm::EdDSA));
        let server = JwksServer::start(&[&old, &new]).await;
        *server.state.max_age.lock().unwrap() = 1;
        let verifier = verifier(&server.url, "EdDSA").await;
        let old_token = mint(&old);
        assert!(
            verifier.decode(&old_token).await.is_ok(),
            "within the grace period"
        );
        server.serve(document(&[&new]));
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(matches!(
            verifier.decode(&old_token).await,
            Err(TokenError::UnknownKey)
        ));
        assert!(verifier.decode(&mint(&new)).await.is_ok());
    }

    #[actix_rt::test]
    async fn the_max_age_of_the_jwks_is_honoured() {
        let key = key(SigningAlgorithm::EdDSA);
        let server = JwksServer::start(&[&key]).await;
        *server.state.max_age.lock().unwrap() = 1;
        let verifier = verifier(&server.url, "EdDSA").await;
        let token = mint(&key);
        verifier.decode(&token).await.unwrap();
        assert_eq!(server.fetches(), 1, "fresh keys are not refetched");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        verifier.decode(&token).await.unwrap();
        assert_eq!(server.fetches(), 2, "stale keys are");
    }

    #[actix_rt::test]
    async fn cached_keys_verify_while_the_issuer_is_down_and_a_new_key_waits_for_its_return() {
        let (old, new) = (key(SigningAlgorithm::EdDSA), key(SigningAlgorithm::EdDSA));
        let server = JwksServer::start(&[&old]).await;
        *server.state.max_age.lock().unwrap() = 1;
        let verifier = verifier(&server.url, "EdDSA").await;
        server.state.up.store(false, Ordering::SeqCst);
        server.serve(document(&[&old, &new]));
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(
            verifier.decode(&mint(&old)).await.is_ok(),
            "the cache serves on"
        );
        assert!(
            verifier.decode(&mint(&new)).await.is_err(),
            "nothing new to learn"
        );
        server.state.up.store(true, Ordering::SeqCst);
        tokio::time::sleep(MIN_REFETCH_INTERVAL).await;
        assert!(
            verifier.decode(&mint(&new)).await.is_ok(),
            "learnt once it is back"
        );
    }

    #[actix_rt::test]
    async fn a_huge_jwks_is_refused_and_the_cached_keys_stay() {
        let key = key(SigningAlgorithm::EdDSA);
        let server = JwksServer::start(&[&key]).await;
        *server.state.max_age.lock().unwrap() = 1;
        let verifier = verifier(&server.url, "EdDSA").await;
        let mut huge = document(&[&key]);
        huge.splice(
            1..1,
            format!(r#""pad":"{}","#, "x".repeat(MAX_JWKS_BYTES)).into_bytes(),
        );
        server.serve(huge);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(verifier.decode(&mint(&key)).await.is_ok());
        assert_eq!(server.fetches(), 2, "it was fetched, and refused");
        assert!(matches!(
            JwksUrl::new(&server.url).unwrap().get().await,
            Err(FetchError::TooLarge)
        ));
    }

    #[actix_rt::test]
    async fn a_malformed_jwks_is_refused_and_the_cached_keys_stay() {
        let key = key(SigningAlgorithm::EdDSA);
        let server = JwksServer::start(&[&key]).await;
        let verifier = verifier(&server.url, "EdDSA").await;
        server.serve(b"{\"keys\": [".to_vec());
        let stranger = PrivateKey::generate(SigningAlgorithm::EdDSA).unwrap();
        assert!(verifier.decode(&mint(&stranger)).await.is_err());
        assert_eq!(server.fetches(), 2);
        assert!(verifier.decode(&mint(&key)).await.is_ok());
    }

    #[test]
    fn only_signature_keys_of_an_allowed_algorithm_are_taken_from_a_jwks() {
        let allowed = [Algorithm::EdDSA];
        let ed = key(SigningAlgorithm::EdDSA);
        let mut jwk = serde_json::to_value(ed.public_jwk()).unwrap();
        let cases = [
            ("not JSON", b"<html>".to_vec(), false),
            ("no keys member", br#"{"key": []}"#.to_vec(), false),
            ("no keys", br#"{"keys": []}"#.to_vec(), false),
            (
                "a symmetric key",
                br#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "kid": "a"}]}"#
                    .to_vec(),
                false,
            ),
            (
                "an ES256 key",
                document(&[&key(SigningAlgorithm::ES256)]),
                false,
            ),
            ("the EdDSA key", document(&[&ed]), true),
        ];
        for (name, body, usable) in cases {
            assert_eq!(parse(&body, &allowed).is_ok(), usable, "{name}");
        }
        jwk["use"] = "enc".into();
        let body = serde_json::to_vec(&serde_json::json!({"keys": [jwk]})).unwrap();
        assert!(parse(&body, &allowed).is_err(), "an encryption key");
        jwk["use"] = "sig".into();
        jwk["alg"] = "ES256".into();
        let body =
            serde_json::to_vec(&serde_json::json!({"keys": [jwk, {"kty": "weird"}]})).unwrap();
        assert!(
            parse(&body, &allowed).is_err(),
            "an Ed25519 key claiming ES256"
        );
    }

    #[actix_rt::test]
    async fn forged_tokens_never_choose_their_key_or_algorithm() {
        let trusted = key(SigningAlgorithm::EdDSA);
        let es = key(SigningAlgorithm::ES256);
        let attacker = key(SigningAlgorithm::EdDSA);
        let server = JwksServer::start(&[&trusted, &es]).await;
        let elsewhere = JwksServer::start(&[&attacker]).await;
        let verifier = verifier(&server.url, "EdDSA,ES256").await;
        let with = |alg: Algorithm, kid: &str| {
            let mut header = Header::new(alg);
            header.kid = Some(kid.to_owned());
            header
        };

        // Algorithm confusion: an HMAC keyed with the public key's bytes.
        let public = trusted.public_jwk();
        let public_x = match &public.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p) => p.x.clone(),
            _ => unreachable!(),
        };
        let public_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&public_x)
            .unwrap();
        let mut confused = Vec::new();
        for secret in [
            public_bytes,
            public_x.into_bytes(),
            serde_json::to_vec(public).unwrap(),
        ] {
            confused.push(
                jsonwebtoken::encode(
                    &with(Algorithm::HS256, &trusted.kid()),
                    &claims(),
                    &EncodingKey::from_secret(&secret),
                )
                .unwrap(),
            );
        }
        let unsigned = format!(
            "{}.{}.",
            b64(format!(r#"{{"alg":"none","kid":"{}"}}"#, trusted.kid()).as_bytes()),
            b64(claims().to_string().as_bytes())
        );
        let mut own_jwk = with(Algorithm::EdDSA, &attacker.kid());
        own_jwk.jwk = Some(attacker.public_jwk().clone());
        let mut own_jwk_trusted_kid = with(Algorithm::EdDSA, &trusted.kid());
        own_jwk_trusted_kid.jwk = Some(attacker.public_jwk().clone());
        let mut jku = with(Algorithm::EdDSA, &attacker.kid());
        jku.jku = Some(elsewhere.url.clone());
        let mut x5u = with(Algorithm::EdDSA, &attacker.kid());
        x5u.x5u = Some(elsewhere.url.clone());

        let mut forged = vec![
            ("alg none", unsigned),
            ("own jwk header", forge(&own_jwk, &attacker)),
            (
                "own jwk under a trusted kid",
                forge(&own_jwk_trusted_kid, &attacker),
            ),
            ("jku elsewhere", forge(&jku, &attacker)),
            ("x5u elsewhere", forge(&x5u, &attacker)),
            (
                "an EdDSA token under the ES256 key's kid",
                forge(&with(Algorithm::EdDSA, &es.kid()), &trusted),
            ),
        ];
        forged.extend(
            confused
                .into_iter()
                .map(|t| ("HS256 keyed with the public key", t)),
        );
        for (name, token) in forged {
            assert!(verifier.decode(&token).await.is_err(), "{name}");
        }
        assert_eq!(elsewhere.fetches(), 0, "jku and x5u are never followed");
        assert!(verifier.decode(&mint(&trusted)).await.is_ok());
        assert!(verifier.decode(&mint(&es)).await.is_ok());
    }
}
