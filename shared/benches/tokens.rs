//! The token's cost: minting (issuer) and verifying (tasks-api, on every request).
//! `cargo bench -p shared --bench tokens`

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use shared::token::{Signer, TokenConfig, TokenSubject, Verifier};
use std::hint::black_box;

fn tokens(c: &mut Criterion) {
    let settings = TokenConfig {
        better_auth_secret: Some("benchmark-secret-of-at-least-32-bytes!!".into()),
        ..Default::default()
    }
    .check(None)
    .unwrap();
    let signer = Signer::new(&settings);
    let verifier = Verifier::new(&settings);
    let subject = || TokenSubject {
        id: "4b1c6a62-6a52-4d8e-9d1e-0a4e7f0f3a11",
        email: "ada@example.com",
        name: "Ada",
    };
    let token = signer.encode(subject(), Utc::now()).unwrap().token;

    c.bench_function("HS256 encode", |b| {
        b.iter(|| signer.encode(black_box(subject()), Utc::now()).unwrap())
    });
    c.bench_function("HS256 decode", |b| {
        b.iter(|| verifier.decode(black_box(&token)).unwrap())
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
