//! Whether an attacker can tell registered emails from unknown ones by the time an answer takes:
//! a sign-in, or a "forgot password". A test binary of its own, whose tests take turns, so that
//! no other test competes with the measurements.

#[path = "api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use helpers::*;
use serde_json::json;
use std::time::{Duration, Instant};

const WARM_UP: usize = 5;

/// Held by the test that measures: one at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The median times of `attempt(true)` (for an unknown email) and `attempt(false)` (for a known
/// one), `rounds` of each, each of which must answer `status`; interleaved, so that a drift in the
/// machine's load hits both alike. Returns how far apart they are, relative
/// to the known one's, with both.
async fn medians_apart(
    rounds: usize,
    status: u16,
    mut attempt: impl AsyncFnMut(bool) -> reqwest::StatusCode,
) -> (f64, Duration, Duration) {
    let _turn = TURN.lock().await;
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..WARM_UP + rounds {
        // Which goes first is a coin's toss: what one request leaves behind (a mail being
        // written) falls on the next ones, and a fixed order would give it to one kind more.
        let mut kinds = [true, false];
        if rand::random() {
            kinds.reverse();
        }
        for unknown in kinds {
            let started = Instant::now();
            let answered = attempt(unknown).await;
            let took = started.elapsed();
            assert_eq!(answered.as_u16(), status);
            if round >= WARM_UP {
                times[usize::from(unknown)].push(took);
            }
        }
    }
    let [known, unknown] = times.map(median);
    eprintln!("medians: unknown {unknown:?}, known {known:?}");
    let apart = unknown.abs_diff(known).as_secs_f64() / known.as_secs_f64();
    (apart, unknown, known)
}

fn email(unknown: bool) -> &'static str {
    if unknown {
        "nobody@example.com"
    } else {
        "ada@example.com"
    }
}

#[actix_rt::test]
async fn an_unknown_email_takes_as_long_as_a_wrong_password_at_the_default_cost() {
    // The default argon2id cost: timing only leaks when the hash dominates, as it does in
    // production.
    let app = spawn_app_with(&[
        ("ARGON2_MEMORY_KIB", "19456"),
        ("ARGON2_ITERATIONS", "2"),
        // Every attempt is a failure; none may be throttled.
        ("SIGNIN_FREE_FAILURES", "1000"),
    ])
    .await;
    app.signup("ada@example.com", PASSWORD, "Ada").await;
    let (apart, unknown, wrong) = medians_apart(60, 401, async |unknown| {
        app.signin(email(unknown), "not the password")
            .await
            .status()
    })
    .await;
    assert!(
        apart <= 0.10,
        "medians differ by {:.1}%: unknown email {unknown:?}, wrong password {wrong:?}",
        apart * 100.0
    );
}

/// "Forgot password" for `app`'s known and unknown addresses: within 15% of each other. An
/// answer takes well under a millisecond, so it takes many rounds for the medians to settle.
async fn forgot_takes_as_long_either_way(app: &TestApp) {
    app.signup("ada@example.com", PASSWORD, "Ada").await;
    let (apart, unknown, known) = medians_apart(500, 202, async |unknown| {
        app.post_json("/password/forgot", &json!({"email": email(unknown)}))
            .await
            .status()
    })
    .await;
    assert!(
        apart <= 0.15,
        "medians differ by {:.1}%: unknown address {unknown:?}, known {known:?}",
        apart * 100.0
    );
}

#[actix_rt::test]
async fn forgot_takes_as_long_for_an_unknown_address_as_for_a_known_one() {
    forgot_takes_as_long_either_way(&spawn_app().await).await;
}

#[actix_rt::test]
async fn forgot_takes_as_long_either_way_while_the_mail_server_is_down() {
    let url = format!("smtp://127.0.0.1:{}", closed_port());
    forgot_takes_as_long_either_way(&spawn_app_with(&[("SMTP_URL", &url)]).await).await;
}
