//! The request's auth path: the Authorization header parsed, the token verified, the subject
//! returned, as the auth middleware does on every tasks-api request (a valid token is
//! remembered after its first request, as a client sends it again).
//! `cargo bench -p tasks-api --bench auth`

use actix_web::test::TestRequest;
use actix_web::web;
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use shared::mint::{Signer, TokenSubject};
use shared::token::{TokenConfig, Verifier};
use std::hint::black_box;

fn auth_path(c: &mut Criterion) {
    let settings = TokenConfig {
        better_auth_secret: Some("benchmark-secret-of-at-least-32-bytes!!".into()),
        ..Default::default()
    }
    .check(None)
    .unwrap();
    let subject = TokenSubject {
        id: "4b1c6a62-6a52-4d8e-9d1e-0a4e7f0f3a11",
        email: "ada@example.com",
        name: "Ada",
        email_verified: true,
        session: "5f0c2d1e-3b4a-4c6d-8e9f-a0b1c2d3e4f5",
    };
    let secret = settings.secret.as_ref().unwrap();
    let token = Signer::with_secret(&settings, secret)
        .encode(subject, Utc::now())
        .unwrap()
        .token;
    let request = TestRequest::default()
        .insert_header(("Authorization", format!("Bearer {token}")))
        .app_data(web::Data::new(Verifier::with_secret(&settings, secret)))
        .to_http_request();
    let forged = TestRequest::default()
        .insert_header((
            "Authorization",
            format!("Bearer {}x", &token[..token.len() - 1]),
        ))
        .app_data(web::Data::new(Verifier::with_secret(&settings, secret)))
        .to_http_request();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    c.bench_function("auth path, valid token seen before", |b| {
        b.iter(|| {
            runtime
                .block_on(tasks_api::auth::authenticate(black_box(&request)))
                .unwrap()
        })
    });
    c.bench_function("auth path, forged signature", |b| {
        b.iter(|| {
            runtime
                .block_on(tasks_api::auth::authenticate(black_box(&forged)))
                .unwrap_err()
        })
    });
}

criterion_group!(benches, auth_path);
criterion_main!(benches);
