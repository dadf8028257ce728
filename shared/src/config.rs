//! Configuration is read once, from the environment (and a `.env` file), and checked at start:
//! a service refuses to start with a message that names the variable at fault.

use serde::de::DeserializeOwned;
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required")]
    Missing(String),
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        variable: &'static str,
        reason: String,
    },
    #[error("configuration is invalid: {0}")]
    Unparsable(String),
}

/// Reads `T` from the process environment, after loading `.env` when there is one.
/// Field `database_url` is read from `DATABASE_URL`, and so on.
pub fn from_env<T: DeserializeOwned>() -> Result<T, ConfigError> {
    from_pairs(env_pairs())
}

/// The process environment, after loading `.env` when there is one (variables already set win).
pub fn env_pairs() -> Vec<(String, String)> {
    let _ = dotenvy::dotenv();
    std::env::vars().collect()
}

/// Reads `T` from explicit pairs, as `from_env` would from the environment; for tests and for
/// embedding a service in another process.
pub fn from_pairs<T, I, K, V>(pairs: I) -> Result<T, ConfigError>
where
    T: DeserializeOwned,
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    envy::from_iter(pairs.into_iter().map(|(k, v)| (k.into(), v.into()))).map_err(|e| match e {
        envy::Error::MissingValue(field) => ConfigError::Missing(field.to_uppercase()),
        envy::Error::Custom(message) => ConfigError::Unparsable(message),
    })
}

/// The environment variables [`from_pairs`] reads for `T`: its fields' names, in upper case. A
/// service lists what it reads from its configuration types themselves, so the list cannot drift
/// from them.
pub fn variables<T: DeserializeOwned>() -> Vec<String> {
    let mut fields = Vec::new();
    // Fails by design once the field names are known: no value is ever read.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields.iter().map(|field| field.to_uppercase()).collect()
}

/// A deserializer that only learns the field names a struct asks for.
struct FieldNames<'a>(&'a mut Vec<&'static str>);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend(fields);
        Err(serde::de::Error::custom("only the field names are read"))
    }

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom(
            "configuration is read into structs",
        ))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Splits a comma-separated variable (`CORS_ORIGINS`, `TRUSTED_PROXIES`) into its items.
pub fn comma_list(raw: Option<&str>) -> Vec<String> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The token-signing secret. Its only constructor checks it; neither `Debug` nor `Display` shows
/// it, so it cannot end up in a log by accident.
#[derive(Clone)]
pub struct Secret(String);

/// Placeholders copied from tutorials and example files: a deployment that still has one is
/// signing tokens anybody can forge.
const KNOWN_PLACEHOLDERS: &[&str] = &[
    "your-secret-key-here",
    "super-secret-key-change-in-production",
    "change-me",
    "changeme",
    "secret",
    "your-256-bit-secret",
    "replace-with-a-random-secret-of-at-least-32-bytes",
];

pub const MIN_SECRET_BYTES: usize = 32;

impl Secret {
    /// `BETTER_AUTH_SECRET`, checked.
    pub fn new(value: String) -> Result<Self, ConfigError> {
        Self::of("BETTER_AUTH_SECRET", value)
    }

    /// The secret that `variable` holds, checked by the same rules.
    pub fn of(variable: &'static str, value: String) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            variable,
            reason: reason.to_owned(),
        };
        let lowered = value.trim().to_ascii_lowercase();
        if KNOWN_PLACEHOLDERS
            .iter()
            .any(|p| lowered == *p || (p.len() >= 16 && lowered.contains(p)))
        {
            return Err(invalid(
                "it is a well-known placeholder; generate one with `openssl rand -base64 48`",
            ));
        }
        if value.len() < MIN_SECRET_BYTES {
            return Err(invalid(&format!(
                "it must be at least {MIN_SECRET_BYTES} bytes long"
            )));
        }
        if is_guessable(&value) {
            return Err(invalid(
                "it is long but guessable (one piece repeated, or too few different characters); \
                 generate one with `openssl rand -base64 48`",
            ));
        }
        Ok(Self(value))
    }

    /// A fresh random secret, for the standalone mode's one-command start.
    #[cfg(feature = "mint")]
    pub fn generate() -> Self {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Whether `candidate` is this secret, in a time that depends on its length only.
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let secret = self.0.as_bytes();
        secret.len() == candidate.len()
            && secret
                .iter()
                .zip(candidate)
                .fold(0u8, |differ, (a, b)| differ | (a ^ b))
                == 0
    }
}

/// Fewer different characters than this and a secret of any length is a pattern, not a key. A
/// random one has many more: 32 random bytes in hex show all 16 digits, in base64 about 40.
const MIN_DISTINCT_CHARS: usize = 8;

/// Whether a secret that is long enough is still easy to guess (RFC 8725 §3.5: a key must have
/// enough entropy): one piece repeated (`"a"` × 32, a word over and over) or made of a handful of
/// characters.
fn is_guessable(value: &str) -> bool {
    let bytes = value.as_bytes();
    let repeated =
        (1..=bytes.len() / 2).any(|unit| bytes.iter().zip(&bytes[unit..]).all(|(a, b)| a == b));
    let distinct = bytes
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    repeated || distinct < MIN_DISTINCT_CHARS
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secret_matches_itself_only() {
        let raw = "2f9c6e0b8a4d4e5f9a7b3c1d0e2f4a6b8c9d";
        let secret = Secret::of("SESSION_FEED_SECRET", raw.into()).unwrap();
        assert!(secret.matches(raw.as_bytes()));
        for other in [
            "",
            "2f9c6e0b8a4d4e5f9a7b3c1d0e2f4a6b8c9e",
            "2f9c6e0b8a4d4e5f9a7b3c1d0e2f4a6b8c9d0",
        ] {
            assert!(!secret.matches(other.as_bytes()), "{other}");
        }
        let err = Secret::of("SESSION_FEED_SECRET", "short".into()).unwrap_err();
        assert!(err.to_string().contains("SESSION_FEED_SECRET"), "{err}");
    }

    use super::*;

    #[test]
    fn the_variables_of_a_configuration_type_are_its_fields_in_upper_case() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Raw {
            database_url: Option<String>,
            #[serde(default)]
            rate_limit_burst: u32,
        }
        assert_eq!(variables::<Raw>(), ["DATABASE_URL", "RATE_LIMIT_BURST"]);
        assert_eq!(
            variables::<crate::token::TokenConfig>(),
            [
                "BETTER_AUTH_SECRET",
                "JWT_ISSUER",
                "JWT_AUDIENCE",
                "TOKEN_TTL_SECONDS",
                "JWT_LEEWAY_SECONDS",
                "JWT_ALGORITHM"
            ]
        );
    }

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused_naming_the_variable() {
        let err = Secret::new("x".repeat(31)).unwrap_err();
        assert!(err.to_string().contains("BETTER_AUTH_SECRET"), "{err}");
    }

    #[test]
    fn a_well_known_placeholder_is_refused_even_when_long_enough() {
        for placeholder in [
            "your-secret-key-here-and-some-padding-000000",
            "super-secret-key-change-in-production",
        ] {
            assert!(Secret::new(placeholder.into()).is_err(), "{placeholder}");
        }
    }

    #[test]
    fn a_long_but_guessable_secret_is_refused_and_a_random_one_taken() {
        for guessable in [
            "a".repeat(32),
            "ab".repeat(20),
            "hunter2!".repeat(5),
            // A word repeated, cut off mid-word.
            "correcthorse".repeat(3),
            format!("{}b", "a".repeat(40)),
            "0123456".repeat(6),
        ] {
            let err = Secret::new(guessable.clone()).err();
            assert!(
                err.as_ref()
                    .is_some_and(|e| e.to_string().contains("guessable")),
                "{guessable:?}: {err:?}"
            );
        }
        for random in [
            // `openssl rand -base64 48`
            "q3V8kq1tq6v0Q7m2Zc9mJb8YwR4pX1sN0dE6fG5hH2jK3lL4mM5nN6oO7pP8qQ9r",
            // 16 random bytes in hex: the fewest different characters a good secret shows
            "3f9a0c17e4b2d8561a7c9e0b2d4f6a81",
            "correct horse battery staple, then a tree",
        ] {
            assert!(Secret::new(random.into()).is_ok(), "{random}");
        }
    }

    #[test]
    fn the_secret_never_shows_in_debug_or_display() {
        let raw = "a-perfectly-good-secret-of-forty-bytes!!";
        let secret = Secret::new(raw.into()).unwrap();
        assert!(!format!("{secret:?}").contains(raw));
        assert!(!format!("{secret}").contains(raw));
        assert!(!format!("{:?}", Some(&secret)).contains(raw));
    }

    #[test]
    #[cfg(feature = "mint")]
    fn generated_secrets_are_long_enough_and_differ() {
        let (a, b) = (Secret::generate(), Secret::generate());
        assert!(a.expose().len() >= MIN_SECRET_BYTES);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_missing_variable_is_named_in_upper_case() {
        #[derive(serde::Deserialize, Debug)]
        struct Needs {
            #[allow(dead_code)]
            better_auth_secret: String,
        }
        let err = from_pairs::<Needs, _, &str, &str>([]).unwrap_err();
        assert_eq!(err.to_string(), "BETTER_AUTH_SECRET is required");
    }
}
