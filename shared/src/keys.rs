//! Asymmetric keys: a private key (generated, or read from a PEM file) and its public half as a
//! JWK (RFC 7517), identified by its RFC 7638 thumbprint so that the same key always gets the
//! same `kid`, wherever it is loaded.

use crate::token::{SigningAlgorithm, VerifyingKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
    ThumbprintHash,
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use std::fmt;

/// Why a key could not be made or read. It never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("HS256 has no private key; it signs with BETTER_AUTH_SECRET")]
    Symmetric,
    #[error("{}", crate::token::NO_RS256_SIGNING)]
    NoRsaSigning,
    #[error("not a PKCS#8 PEM private key for {0:?}")]
    Unreadable(SigningAlgorithm),
    #[error("could not generate a key: {0}")]
    Generation(String),
}

/// A private signing key in PKCS#8 PEM, the form it is stored and read in. Neither `Debug` nor any
/// error shows it.
#[derive(Clone)]
pub struct PrivateKey {
    algorithm: SigningAlgorithm,
    pem: String,
    public: Jwk,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?}, [redacted])", self.algorithm)
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl PrivateKey {
    /// A fresh key for `algorithm`.
    pub fn generate(algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
        let mut rng = rand_core::OsRng;
        let failed = |e: &dyn fmt::Display| KeyError::Generation(e.to_string());
        let pem = match algorithm {
            SigningAlgorithm::HS256 => return Err(KeyError::Symmetric),
            SigningAlgorithm::RS256 => return Err(KeyError::NoRsaSigning),
            SigningAlgorithm::EdDSA => ed25519_dalek::SigningKey::generate(&mut rng)
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| failed(&e))?,
            SigningAlgorithm::ES256 => p256::SecretKey::random(&mut rng)
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| failed(&e))?,
        };
        Self::from_pem(algorithm, pem.as_str())
    }

    /// Reads a PKCS#8 PEM private key.
    pub fn from_pem(algorithm: SigningAlgorithm, pem: &str) -> Result<Self, KeyError> {
        match algorithm {
            SigningAlgorithm::HS256 => return Err(KeyError::Symmetric),
            SigningAlgorithm::RS256 => return Err(KeyError::NoRsaSigning),
            SigningAlgorithm::EdDSA | SigningAlgorithm::ES256 => {}
        }
        let public = public_jwk(algorithm, pem).ok_or(KeyError::Unreadable(algorithm))?;
        let key = Self {
            algorithm,
            pem: pem.to_owned(),
            public,
        };
        // Read it the way the signer will, so that a key that loads also signs.
        key.encoding_key()?;
        Ok(key)
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The PEM text, for storing the key. Never for a log.
    pub fn expose_pem(&self) -> &str {
        &self.pem
    }

    /// The key's id: the RFC 7638 thumbprint of its public half.
    pub fn kid(&self) -> String {
        self.public
            .common
            .key_id
            .clone()
            .expect("public_jwk always sets the kid")
    }

    /// The public half, as published in the JWKS: `kid`, `alg` and `use: "sig"` included.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public
    }

    /// The public half as a verifier holds it, named by its `kid`.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        Ok(VerifyingKey {
            kid: Some(self.kid()),
            algorithm: self.algorithm.jwt(),
            key: DecodingKey::from_jwk(&self.public)
                .map_err(|_| KeyError::Unreadable(self.algorithm))?,
        })
    }

    pub fn encoding_key(&self) -> Result<EncodingKey, KeyError> {
        let pem = self.pem.as_bytes();
        match self.algorithm {
            SigningAlgorithm::HS256 => return Err(KeyError::Symmetric),
            SigningAlgorithm::RS256 => return Err(KeyError::NoRsaSigning),
            SigningAlgorithm::EdDSA => EncodingKey::from_ed_pem(pem),
            SigningAlgorithm::ES256 => EncodingKey::from_ec_pem(pem),
        }
        .map_err(|_| KeyError::Unreadable(self.algorithm))
    }
}

/// The JWKS document (RFC 7517 §5) that publishes the public halves of `keys`.
pub fn jwks_document<'k>(keys: impl IntoIterator<Item = &'k PrivateKey>) -> Vec<u8> {
    let keys = keys.into_iter().map(|k| k.public.clone()).collect();
    serde_json::to_vec(&JwkSet { keys }).expect("a JWK set always serializes")
}

fn public_jwk(algorithm: SigningAlgorithm, pem: &str) -> Option<Jwk> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let parameters = match algorithm {
        SigningAlgorithm::HS256 | SigningAlgorithm::RS256 => return None,
        SigningAlgorithm::EdDSA => {
            let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).ok()?;
            AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: b64(key.verifying_key().as_bytes()),
            })
        }
        SigningAlgorithm::ES256 => {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            let point = p256::SecretKey::from_pkcs8_pem(pem)
                .ok()?
                .public_key()
                .to_encoded_point(false);
            AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: b64(point.x()?),
                y: b64(point.y()?),
            })
        }
    };
    let mut jwk = Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(algorithm.jwk()),
            ..Default::default()
        },
        algorithm: parameters,
    };
    jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256).ok()?);
    Some(jwk)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: [SigningAlgorithm; 2] = [SigningAlgorithm::EdDSA, SigningAlgorithm::ES256];

    #[test]
    fn a_generated_key_reloads_from_its_pem_with_the_same_kid() {
        for algorithm in SIGNED {
            let key = PrivateKey::generate(algorithm).unwrap();
            let again = PrivateKey::from_pem(algorithm, key.expose_pem()).unwrap();
            assert_eq!(key.kid(), again.kid(), "{algorithm:?}");
            assert_ne!(
                key.kid(),
                PrivateKey::generate(algorithm).unwrap().kid(),
                "{algorithm:?}"
            );
        }
    }

    #[test]
    fn the_public_jwk_carries_kid_alg_and_use_and_no_private_part() {
        for algorithm in SIGNED {
            let key = PrivateKey::generate(algorithm).unwrap();
            let jwk = serde_json::to_value(key.public_jwk()).unwrap();
            assert_eq!(jwk["kid"], key.kid().as_str());
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["alg"], format!("{algorithm:?}"));
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(
                    jwk.get(private).is_none(),
                    "{algorithm:?} publishes {private}"
                );
            }
        }
    }

    #[actix_rt::test]
    async fn a_key_verifies_what_it_signed_and_nothing_another_key_did() {
        use crate::mint::{Signer, TokenSubject};
        use crate::token::{TokenConfig, Verifier};
        for algorithm in SIGNED {
            let settings = TokenConfig {
                jwt_algorithm: Some(format!("{algorithm:?}")),
                ..Default::default()
            }
            .check(None)
            .unwrap();
            let (key, other) = (
                PrivateKey::generate(algorithm).unwrap(),
                PrivateKey::generate(algorithm).unwrap(),
            );
            let verifier =
                Verifier::with_public_keys(&settings, vec![key.verifying_key().unwrap()]);
            let mint = |key: &PrivateKey| {
                let subject = TokenSubject {
                    id: "ada",
                    email: "ada@example.com",
                    name: "Ada",
                    email_verified: true,
                    session: "s",
                };
                Signer::with_private_key(&settings, key)
                    .unwrap()
                    .encode(subject, chrono::Utc::now())
                    .unwrap()
                    .token
            };
            assert_eq!(verifier.decode(&mint(&key)).await.unwrap().subject, "ada");
            assert!(
                verifier.decode(&mint(&other)).await.is_err(),
                "{algorithm:?}"
            );
        }
    }

    #[test]
    fn the_private_key_never_shows_in_debug() {
        let key = PrivateKey::generate(SigningAlgorithm::EdDSA).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert!(!shown.contains("PRIVATE KEY"));
    }

    #[test]
    fn a_key_of_another_algorithm_is_refused() {
        let ed = PrivateKey::generate(SigningAlgorithm::EdDSA).unwrap();
        assert!(PrivateKey::from_pem(SigningAlgorithm::ES256, ed.expose_pem()).is_err());
        assert!(PrivateKey::from_pem(SigningAlgorithm::ES256, "not a pem").is_err());
    }

    #[test]
    fn rs256_is_never_a_signing_key() {
        assert!(matches!(
            PrivateKey::generate(SigningAlgorithm::RS256),
            Err(KeyError::NoRsaSigning)
        ));
        let ed = PrivateKey::generate(SigningAlgorithm::EdDSA).unwrap();
        assert!(matches!(
            PrivateKey::from_pem(SigningAlgorithm::RS256, ed.expose_pem()),
            Err(KeyError::NoRsaSigning)
        ));
    }
}
