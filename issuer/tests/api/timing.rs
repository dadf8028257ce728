//! Whether an attacker can tell registered emails from unknown ones by the time a sign-in takes.

use crate::helpers::*;
use std::time::{Duration, Instant};

const ROUNDS: usize = 60;
const WARM_UP: usize = 5;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
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
    let mut unknown_email = Vec::new();
    let mut wrong_password = Vec::new();
    for round in 0..WARM_UP + ROUNDS {
        // Interleaved, and in turn first, so that a drift in the machine's load hits both alike.
        let mut kinds = [true, false];
        if round % 2 == 1 {
            kinds.reverse();
        }
        for unknown in kinds {
            let email = if unknown {
                "nobody@example.com"
            } else {
                "ada@example.com"
            };
            let started = Instant::now();
            let status = app.signin(email, "not the password").await.status();
            let took = started.elapsed();
            assert_eq!(status.as_u16(), 401);
            if round >= WARM_UP {
                if unknown {
                    &mut unknown_email
                } else {
                    &mut wrong_password
                }
                .push(took);
            }
        }
    }
    let (unknown, wrong) = (median(unknown_email), median(wrong_password));
    let difference = unknown.abs_diff(wrong).as_secs_f64() / wrong.as_secs_f64();
    assert!(
        difference <= 0.10,
        "medians differ by {:.1}%: unknown email {unknown:?}, wrong password {wrong:?}",
        difference * 100.0
    );
}
