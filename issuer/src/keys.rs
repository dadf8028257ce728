//! The issuer's signing keys: the HS256 secret, or asymmetric keys with their JWKS.
//!
//! Asymmetric keys come from `JWT_PRIVATE_KEY_FILE`, or else live in the `signing_keys` table
//! (the first one generated at first start), so that every replica and every restart signs with
//! the same keys. Rotation is `issuer rotate-key`: it stores a new key that is published at once
//! and signs only from [`ACTIVATION_DELAY`] later, when every verifier has had time to learn it;
//! a replaced key stays published until every token it signed has expired.

use crate::db::{self, SigningKeyRow};
use chrono::{NaiveDateTime, TimeDelta};
use database::{DbConnection, DbError, Pool};
use shared::keys::{KeyError, PrivateKey, jwks_document};
use shared::mint::Signer;
use shared::token::{MAX_LEEWAY_SECONDS, SigningAlgorithm, TokenSettings, Verifier};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long verifiers may cache the JWKS (its `Cache-Control: max-age`).
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(300);
/// How often a running issuer rereads the stored keys, to see a rotation made by another process.
const RELOAD_INTERVAL: Duration = Duration::from_secs(60);
/// From its creation, a rotated-in key waits this long before it signs: longer than a reload
/// plus a verifier's cache, so that no verifier meets a token from a key it cannot know yet.
pub const ACTIVATION_DELAY: Duration = Duration::from_secs(600);

/// What signs now, and what verifiers may use.
struct Current {
    signer: Arc<Signer>,
    /// Verifies the issuer's own tokens: those of every key still published.
    verifier: Arc<Verifier>,
    /// The JWKS document; `None` with HS256, which publishes nothing.
    jwks: Option<Arc<Vec<u8>>>,
    loaded_at: Instant,
}

enum Source {
    Fixed,
    Database(SigningAlgorithm),
}

pub struct KeyRing {
    settings: TokenSettings,
    source: Source,
    current: RwLock<Current>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("JWT_PRIVATE_KEY_FILE is invalid: {0}")]
    File(String),
    #[error(transparent)]
    Config(#[from] shared::config::ConfigError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("could not read or store the signing keys: {0}")]
    Database(#[from] DbError),
    #[error("no signing key is active yet")]
    NoActiveKey,
}

impl KeyRing {
    /// The key ring the settings call for. With an asymmetric algorithm and no key file, the
    /// stored keys are loaded, and a first key is generated and stored when there is none. Runs
    /// blocking I/O: call it off the async workers.
    pub fn load(
        settings: &TokenSettings,
        private_key_file: Option<&str>,
        conn: &mut DbConnection,
    ) -> Result<Self, KeyRingError> {
        let algorithm = settings.signing_algorithm()?;
        let (source, current) = match (&settings.secret, private_key_file) {
            (Some(secret), _) => (
                Source::Fixed,
                Current {
                    signer: Arc::new(Signer::with_secret(settings, secret)),
                    verifier: Arc::new(Verifier::with_secret(settings, secret)),
                    jwks: None,
                    loaded_at: Instant::now(),
                },
            ),
            (None, Some(path)) => {
                database::private_files::check(std::path::Path::new(path))
                    .map_err(|e| KeyRingError::File(e.to_string()))?;
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| KeyRingError::File(format!("cannot read {path}: {}", e.kind())))?;
                let key = PrivateKey::from_pem(algorithm, &pem)
                    .map_err(|e| KeyRingError::File(e.to_string()))?;
                let jwks = Arc::new(jwks_document([&key]));
                (
                    Source::Fixed,
                    Current {
                        signer: Arc::new(Signer::with_private_key(settings, &key)?),
                        verifier: Arc::new(Verifier::with_public_keys(
                            settings,
                            vec![key.verifying_key()?],
                        )),
                        jwks: Some(jwks),
                        loaded_at: Instant::now(),
                    },
                )
            }
            (None, None) => {
                if db::signing_keys(conn, &name(algorithm))?.is_empty() {
                    let now = database::now();
                    store(conn, &PrivateKey::generate(algorithm)?, now, now)?;
                    log::info!("generated the first {algorithm:?} signing key");
                }
                (
                    Source::Database(algorithm),
                    arrange(
                        settings,
                        algorithm,
                        db::signing_keys(conn, &name(algorithm))?,
                    )?,
                )
            }
        };
        Ok(Self {
            settings: settings.clone(),
            source,
            current: RwLock::new(current),
        })
    }

    /// The signer to use now.
    pub async fn signer(&self, pool: &Pool) -> Arc<Signer> {
        self.reload_if_due(pool).await;
        self.read().signer.clone()
    }

    /// The verifier of the issuer's own tokens.
    pub async fn verifier(&self, pool: &Pool) -> Arc<Verifier> {
        self.reload_if_due(pool).await;
        self.read().verifier.clone()
    }

    /// The JWKS document, when the algorithm is asymmetric.
    pub async fn jwks(&self, pool: &Pool) -> Option<Arc<Vec<u8>>> {
        self.reload_if_due(pool).await;
        self.read().jwks.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Rereads the stored keys once per [`RELOAD_INTERVAL`]; on failure the keys in hand serve
    /// on, and the next request tries again after another interval.
    async fn reload_if_due(&self, pool: &Pool) {
        let Source::Database(algorithm) = self.source else {
            return;
        };
        {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            if current.loaded_at.elapsed() < RELOAD_INTERVAL {
                return;
            }
            // Claimed before the query, so that concurrent requests do not all reload.
            current.loaded_at = Instant::now();
        }
        let settings = self.settings.clone();
        let reloaded = database::run(pool, move |conn| {
            Ok(arrange(
                &settings,
                algorithm,
                db::signing_keys(conn, &name(algorithm))?,
            ))
        })
        .await;
        match reloaded {
            Ok(Ok(current)) => *self.current.write().unwrap_or_else(|e| e.into_inner()) = current,
            Ok(Err(e)) => log::error!("keeping the signing keys in hand: {e}"),
            Err(e) => log::warn!("keeping the signing keys in hand: {e}"),
        }
    }
}

/// How the issuer names an algorithm in its table.
fn name(algorithm: SigningAlgorithm) -> String {
    format!("{algorithm:?}")
}

fn store(
    conn: &mut DbConnection,
    key: &PrivateKey,
    created_at: NaiveDateTime,
    activates_at: NaiveDateTime,
) -> Result<(), DbError> {
    db::insert_signing_key(
        conn,
        &SigningKeyRow {
            kid: key.kid(),
            algorithm: name(key.algorithm()),
            private_key_pem: key.expose_pem().to_owned(),
            created_at,
            activates_at,
        },
    )
}

/// How long a key stays published after it stopped signing: its last token's lifetime, plus the
/// largest leeway a verifier may grant.
fn retention(settings: &TokenSettings) -> TimeDelta {
    TimeDelta::seconds(settings.ttl_seconds as i64) + TimeDelta::seconds(MAX_LEEWAY_SECONDS as i64)
}

/// Which of `rows` (in activation order) are published at `now`, and which one signs.
fn schedule(
    rows: &[SigningKeyRow],
    now: NaiveDateTime,
    retention: TimeDelta,
) -> (Option<usize>, Vec<usize>) {
    let signing = rows.iter().rposition(|row| row.activates_at <= now);
    let published = (0..rows.len())
        .filter(|&i| match rows.get(i + 1) {
            // Replaced when the next key activated; kept while its tokens may still be alive.
            Some(next) if next.activates_at <= now => next.activates_at + retention > now,
            _ => true,
        })
        .collect();
    (signing, published)
}

fn arrange(
    settings: &TokenSettings,
    algorithm: SigningAlgorithm,
    rows: Vec<SigningKeyRow>,
) -> Result<Current, KeyRingError> {
    let (signing, published) = schedule(&rows, database::now(), retention(settings));
    let signing = signing.ok_or(KeyRingError::NoActiveKey)?;
    let keys = rows
        .iter()
        .map(|row| PrivateKey::from_pem(algorithm, &row.private_key_pem))
        .collect::<Result<Vec<_>, KeyError>>()?;
    let jwks = jwks_document(published.iter().map(|&i| &keys[i]));
    let verifying = published
        .iter()
        .map(|&i| keys[i].verifying_key())
        .collect::<Result<_, _>>()?;
    Ok(Current {
        signer: Arc::new(Signer::with_private_key(settings, &keys[signing])?),
        verifier: Arc::new(Verifier::with_public_keys(settings, verifying)),
        jwks: Some(Arc::new(jwks)),
        loaded_at: Instant::now(),
    })
}

/// `issuer rotate-key`: stores a new key that signs from [`ACTIVATION_DELAY`] on, and deletes the
/// keys no longer published. Returns the new key's id and when it starts signing.
pub fn rotate(
    settings: &TokenSettings,
    conn: &mut DbConnection,
) -> Result<(String, NaiveDateTime), KeyRingError> {
    let algorithm = settings.signing_algorithm()?;
    let key = PrivateKey::generate(algorithm)?;
    let now = database::now();
    let activates_at = now + TimeDelta::from_std(ACTIVATION_DELAY).unwrap_or_default();
    store(conn, &key, now, activates_at)?;
    let rows = db::signing_keys(conn, &name(algorithm))?;
    let (_, published) = schedule(&rows, now, retention(settings));
    let expired: Vec<String> = (0..rows.len())
        .filter(|i| !published.contains(i))
        .map(|i| rows[i].kid.clone())
        .collect();
    db::delete_signing_keys(conn, &expired)?;
    Ok((key.kid(), activates_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0)
            .unwrap()
            .naive_utc()
    }

    fn row(kid: &str, activates_at: i64) -> SigningKeyRow {
        SigningKeyRow {
            kid: kid.into(),
            algorithm: "EdDSA".into(),
            private_key_pem: String::new(),
            created_at: at(activates_at - 10),
            activates_at: at(activates_at),
        }
    }

    #[test]
    fn a_rotated_in_key_is_published_before_it_signs() {
        let rows = [row("old", 0), row("new", 100)];
        let retention = TimeDelta::minutes(60);
        assert_eq!(schedule(&rows, at(95), retention), (Some(0), vec![0, 1]));
        assert_eq!(schedule(&rows, at(100), retention), (Some(1), vec![0, 1]));
    }

    #[test]
    fn a_replaced_key_stays_published_for_the_retention_then_goes() {
        let rows = [row("old", 0), row("new", 100)];
        let retention = TimeDelta::minutes(60);
        assert_eq!(schedule(&rows, at(159), retention), (Some(1), vec![0, 1]));
        assert_eq!(schedule(&rows, at(160), retention), (Some(1), vec![1]));
    }

    #[test]
    fn the_retention_covers_the_token_lifetime_and_the_largest_leeway() {
        let settings = shared::token::TokenConfig {
            jwt_algorithm: Some("EdDSA".into()),
            ..Default::default()
        }
        .check(None)
        .unwrap();
        assert_eq!(
            retention(&settings),
            TimeDelta::days(7) + TimeDelta::minutes(5)
        );
    }
}
