//! The token's cost: minting (issuer), and verifying (tasks-api, on every request) with EdDSA (a
//! public-key check) against HS256 (an HMAC), each with every claim rule applied.
//! `cargo bench -p shared --bench tokens`.

use criterion::{Criterion, criterion_group, criterion_main};
use shared::keys::PrivateKey;
use shared::token::{
    Signer, SigningAlgorithm, TokenConfig, TokenSettings, TokenSubject, Verifier, VerifyingKey,
};
use std::hint::black_box;

fn settings(algorithm: &str, secret: Option<&str>) -> TokenSettings {
    TokenConfig {
        jwt_algorithm: Some(algorithm.into()),
        better_auth_secret: secret.map(str::to_owned),
        ..Default::default()
    }
    .check(None)
    .unwrap()
}

const SUBJECT: TokenSubject<'static> = TokenSubject {
    id: "0b8f3c4e-5d6a-4e7b-8c9d-0e1f2a3b4c5d",
    email: "ada@example.com",
    name: "Ada",
};

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let hs = settings("HS256", Some("benchmark-secret-of-at-least-32-bytes-long"));
    let secret = hs.secret.as_ref().unwrap();
    let hs_token = Signer::with_secret(&hs, secret)
        .encode(SUBJECT, chrono::Utc::now())
        .unwrap()
        .token;
    let hs_verifier = Verifier::with_secret(&hs, secret);

    let ed = settings("EdDSA", None);
    let key = PrivateKey::generate(SigningAlgorithm::EdDSA).unwrap();
    let ed_token = Signer::with_private_key(&ed, &key)
        .unwrap()
        .encode(SUBJECT, chrono::Utc::now())
        .unwrap()
        .token;
    let public = VerifyingKey {
        kid: Some(key.kid()),
        algorithm: jsonwebtoken::Algorithm::EdDSA,
        key: jsonwebtoken::DecodingKey::from_jwk(key.public_jwk()).unwrap(),
    };
    let ed_verifier = Verifier::with_public_keys(&ed, vec![public]);

    let hs_signer = Signer::with_secret(&hs, secret);
    c.bench_function("encode/HS256", |b| {
        b.iter(|| {
            hs_signer
                .encode(black_box(SUBJECT), chrono::Utc::now())
                .unwrap()
        })
    });

    let mut group = c.benchmark_group("verify");
    group.bench_function("HS256", |b| {
        b.iter(|| {
            runtime
                .block_on(hs_verifier.decode(black_box(&hs_token)))
                .unwrap()
        })
    });
    group.bench_function("EdDSA", |b| {
        b.iter(|| {
            runtime
                .block_on(ed_verifier.decode(black_box(&ed_token)))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
