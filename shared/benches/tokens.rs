//! The token's cost: minting (issuer), and verifying (tasks-api, on every request) with EdDSA (a
//! public-key check) against HS256 (an HMAC), each with every claim rule applied: a token seen
//! for the first time, and one seen before (a client sends the same token with every request;
//! a verifier with fixed keys remembers it and checks only its time again).
//! `cargo bench -p shared --bench tokens`.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use shared::keys::PrivateKey;
use shared::mint::{Signer, TokenSubject};
use shared::token::{SigningAlgorithm, TokenConfig, TokenSettings, Verifier, VerifyingKey};
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
    email_verified: true,
    session: "5f0c2d1e-3b4a-4c6d-8e9f-a0b1c2d3e4f5",
};

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let hs = settings("HS256", Some("benchmark-secret-of-at-least-32-bytes-long"));
    let secret = hs.secret.as_ref().unwrap();
    let hs_signer = Signer::with_secret(&hs, secret);
    let hs_verifier = Verifier::with_secret(&hs, secret);

    let ed = settings("EdDSA", None);
    let key = PrivateKey::generate(SigningAlgorithm::EdDSA).unwrap();
    let ed_signer = Signer::with_private_key(&ed, &key).unwrap();
    let public = VerifyingKey {
        kid: Some(key.kid()),
        algorithm: jsonwebtoken::Algorithm::EdDSA,
        key: jsonwebtoken::DecodingKey::from_jwk(key.public_jwk()).unwrap(),
    };
    let ed_verifier = Verifier::with_public_keys(&ed, vec![public]);

    c.bench_function("encode/HS256", |b| {
        b.iter(|| {
            hs_signer
                .encode(black_box(SUBJECT), chrono::Utc::now())
                .unwrap()
        })
    });

    let mut group = c.benchmark_group("verify");
    for (name, signer, verifier) in [
        ("HS256", &hs_signer, &hs_verifier),
        ("EdDSA", &ed_signer, &ed_verifier),
    ] {
        let mint = || signer.encode(SUBJECT, chrono::Utc::now()).unwrap().token;
        // A new `jti` makes every minted token one the verifier has never seen.
        group.bench_function(format!("{name} first sight"), |b| {
            b.iter_batched(
                mint,
                |token| runtime.block_on(verifier.decode(&token)).unwrap(),
                BatchSize::SmallInput,
            )
        });
        let token = mint();
        group.bench_function(format!("{name} seen before"), |b| {
            b.iter(|| {
                runtime
                    .block_on(verifier.decode(black_box(&token)))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
