//! Any bytes as the `Authorization` header: `authenticate` (header parsing, then token
//! verification) never panics, and nothing but a token signed with our secret passes. The same
//! bytes go to `Verifier::decode` directly, for what the header's own rules would filter out.
#![no_main]

use actix_web::ResponseError;
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::test::TestRequest;
use actix_web::web::Data;
use libfuzzer_sys::fuzz_target;
use shared::token::{TokenConfig, Verifier};
use std::sync::LazyLock;

static VERIFIER: LazyLock<Data<Verifier>> = LazyLock::new(|| {
    let settings = TokenConfig {
        better_auth_secret: Some("fuzzing-secret-that-no-input-can-know!!".into()),
        ..TokenConfig::default()
    }
    .check(None)
    .expect("valid fuzzing settings");
    let secret = settings.secret.clone().expect("HS256 has a secret");
    Data::new(Verifier::with_secret(&settings, &secret))
});

/// Verification is async (a JWKS may need fetching); here the keys are fixed, so a bare
/// current-thread runtime drives it.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread().build().expect("a runtime")
});

fuzz_target!(|data: &[u8]| {
    // Without the secret no input can carry a valid signature, so every one must be refused.
    if let Ok(token) = std::str::from_utf8(data) {
        assert!(RUNTIME.block_on(VERIFIER.decode(token)).is_err());
    }
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let request = TestRequest::default()
        .insert_header((AUTHORIZATION, value))
        .app_data(VERIFIER.clone())
        .to_http_request();
    let refused = RUNTIME
        .block_on(tasks_api::auth::authenticate(&request))
        .expect_err("no forged token passes");
    assert_eq!(refused.status_code().as_u16(), 401);
});
