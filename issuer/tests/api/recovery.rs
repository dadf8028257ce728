//! What a mailed link does: a forgotten password reset, an address verified, an account moved to
//! another address. Each link works once, expires, gives way to a newer one, and never shows in
//! an answer; "forgot" tells nobody whether an account exists.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use test_support::{SmtpMode, SmtpServer};

const NEW_PASSWORD: &str = "a brand new passphrase";
const RESET_SUBJECT: &str = "Reset your Tasks password";
const VERIFY_SUBJECT: &str = "Confirm your email address for Tasks";
const WAIT: Duration = Duration::from_secs(10);

impl TestApp {
    async fn forgot(&self, email: &str) -> reqwest::Response {
        self.post_json("/password/forgot", &json!({"email": email}))
            .await
    }

    async fn reset(&self, secret: &str, new_password: &str) -> reqwest::Response {
        self.post_json(
            "/password/reset",
            &json!({"token": secret, "new_password": new_password}),
        )
        .await
    }

    async fn verify(&self, secret: &str) -> reqwest::Response {
        self.post_json("/email/verify", &json!({"token": secret}))
            .await
    }

    /// The secrets of the reset links mailed so far, waiting for `count` of them.
    async fn reset_secrets(&self, count: usize) -> Vec<String> {
        self.mail_with_subject(RESET_SUBJECT, count, WAIT)
            .await
            .iter()
            .map(|message| link_secret(message, "reset-password"))
            .collect()
    }

    async fn account(&self, token: &str) -> Value {
        let response = self.call(Method::GET, "/account", Some(token), None).await;
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }
}

/// The one secret in `now` that is not in `before`.
fn newest(before: &[String], now: &[String]) -> String {
    let new: Vec<_> = now.iter().filter(|s| !before.contains(s)).collect();
    assert_eq!(new.len(), 1, "one new link: {now:?}");
    new[0].clone()
}

#[actix_rt::test]
async fn the_whole_reset_journey_through_a_real_mail_server() {
    let Some(server) = SmtpServer::start(SmtpMode::Plain, None) else {
        return;
    };
    let url = format!("smtp://127.0.0.1:{}", server.port);
    let app = spawn_app_with(&[("SMTP_URL", &url)]).await;
    let first = ada(&app).await;
    let second = app.session("ada@example.com").await;

    let response = app.forgot("ada@example.com").await;
    assert_eq!(response.status().as_u16(), 202);
    // The sign-up's verification link, then the reset link.
    let received = server.wait_for(2, WAIT).await;
    let reset = received
        .iter()
        .find(|m| m.message.contains(&format!("Subject: {RESET_SUBJECT}\r\n")))
        .expect("the reset link arrived");
    assert_eq!(reset.rcpt_tos, ["ada@example.com"]);
    let unfolded = reset.message.replace("=\r\n", "").replace("=3D", "=");
    assert!(
        unfolded.contains("https://tasks.test/#reset-password="),
        "the link leads to PUBLIC_URL's web client, its secret in the fragment: {unfolded}"
    );
    let secret = link_secret(&reset.message, "reset-password");

    assert_eq!(
        app.reset(&secret, NEW_PASSWORD).await.status().as_u16(),
        204
    );
    assert!(
        !app.live(&first).await && !app.live(&second).await,
        "every session ended"
    );
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 401);
    assert_eq!(
        app.signin_status("ada@example.com", NEW_PASSWORD).await,
        200
    );

    let again = assert_problem(app.reset(&secret, "yet another passphrase").await, 400).await;
    assert!(!again.to_string().contains(&secret), "{again}");
    assert_eq!(
        app.signin_status("ada@example.com", NEW_PASSWORD).await,
        200
    );

    let notices = server.wait_for(3, WAIT).await;
    assert!(
        notices.iter().any(|m| m
            .message
            .contains("Subject: Your Tasks password was reset\r\n")),
        "a notice of the reset"
    );
}

#[actix_rt::test]
async fn a_reset_link_works_once_and_a_newer_one_retires_the_older() {
    let app = spawn_app().await;
    ada(&app).await;
    assert_eq!(app.forgot("ada@example.com").await.status().as_u16(), 202);
    let older = app.reset_secrets(1).await;
    assert_eq!(app.forgot("ada@example.com").await.status().as_u16(), 202);
    let both = app.reset_secrets(2).await;
    let newer = newest(&older, &both);

    assert_problem(app.reset(&older[0], NEW_PASSWORD).await, 400).await;
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 200);
    assert_eq!(app.reset(&newer, NEW_PASSWORD).await.status().as_u16(), 204);
    assert_problem(app.reset(&newer, PASSWORD).await, 400).await;
    assert_eq!(
        app.signin_status("ada@example.com", NEW_PASSWORD).await,
        200
    );
}

#[actix_rt::test]
async fn an_expired_reset_link_is_refused() {
    let app = spawn_app_with(&[("PASSWORD_RESET_TTL_SECONDS", "1")]).await;
    ada(&app).await;
    app.forgot("ada@example.com").await;
    let secret = app.reset_secrets(1).await.remove(0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_problem(app.reset(&secret, NEW_PASSWORD).await, 400).await;
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 200);
}

#[actix_rt::test]
async fn a_password_change_retires_the_reset_links() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    app.forgot("ada@example.com").await;
    let secret = app.reset_secrets(1).await.remove(0);
    let changed = app
        .call(
            Method::PUT,
            "/account/password",
            Some(&token),
            Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(changed.status().as_u16(), 204);
    assert_problem(app.reset(&secret, "an attacker's passphrase").await, 400).await;
    assert_eq!(
        app.signin_status("ada@example.com", NEW_PASSWORD).await,
        200
    );
}

#[actix_rt::test]
async fn two_resets_racing_with_one_link_set_one_password() {
    let app = spawn_app().await;
    ada(&app).await;
    app.forgot("ada@example.com").await;
    let secret = app.reset_secrets(1).await.remove(0);
    let passwords = ["first racing passphrase", "second racing passphrase"];
    let (a, b) = futures_util::join!(
        app.reset(&secret, passwords[0]),
        app.reset(&secret, passwords[1])
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [204, 400]);
    let mut signins = Vec::new();
    for password in passwords {
        signins.push(app.signin_status("ada@example.com", password).await);
    }
    signins.sort();
    assert_eq!(
        signins,
        [200, 401],
        "exactly one of the two is the password"
    );
}

#[actix_rt::test]
async fn forgot_says_the_same_for_an_unknown_address_and_mails_nothing() {
    let app = spawn_app().await;
    ada(&app).await;
    let known = app.forgot("ada@example.com").await;
    let unknown = app.forgot("nobody@example.com").await;
    assert_eq!(known.status().as_u16(), 202);
    assert_eq!(unknown.status().as_u16(), 202);
    assert_eq!(
        known.text().await.unwrap(),
        unknown.text().await.unwrap(),
        "the same body"
    );
    app.reset_secrets(1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mail = app.mail(0, Duration::ZERO).await;
    assert!(
        mail.iter().all(|m| !m.contains("nobody@example.com")),
        "nothing goes to an address without an account"
    );
    assert_eq!(with_subject(mail, RESET_SUBJECT).len(), 1);
}

#[actix_rt::test]
async fn a_flood_of_forgot_for_one_address_mails_a_few_links() {
    let app = spawn_app().await;
    ada(&app).await;
    for _ in 0..30 {
        assert_eq!(app.forgot("ada@example.com").await.status().as_u16(), 202);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The sign-up's verification link counts against the same allowance of five an hour.
    assert_eq!(
        app.mail(0, Duration::ZERO).await.len(),
        5,
        "the verification link and four reset links"
    );
}

#[actix_rt::test]
async fn the_routes_that_mail_or_try_a_link_share_sign_ins_limit_per_address() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_MINUTE", "1"), ("RATE_LIMIT_BURST", "2")]).await;
    let token = ada(&app).await;
    // The sign-up took one of the two; "forgot" takes the other.
    assert_eq!(app.forgot("ada@example.com").await.status().as_u16(), 202);
    let secret = "A".repeat(43);
    for limited in [
        app.forgot("ada@example.com").await,
        app.reset(&secret, NEW_PASSWORD).await,
        app.verify(&secret).await,
        app.call(
            Method::POST,
            "/account/email/verification",
            Some(&token),
            None,
        )
        .await,
        app.call(
            Method::PUT,
            "/account/email",
            Some(&token),
            Some(json!({"new_email": "ada@example.org", "password": PASSWORD})),
        )
        .await,
    ] {
        assert_eq!(limited.status().as_u16(), 429, "{}", limited.url());
        assert!(limited.headers().contains_key("retry-after"));
    }
    assert_eq!(
        app.signin_status("ada@example.com", PASSWORD).await,
        429,
        "counted with sign-in"
    );
}

#[actix_rt::test]
async fn what_is_not_a_link_is_a_400_and_a_bad_new_password_a_422() {
    let app = spawn_app().await;
    for token in ["", "short", &"x".repeat(43), &"é".repeat(43)] {
        assert_problem(app.reset(token, NEW_PASSWORD).await, 400).await;
        assert_problem(app.verify(token).await, 400).await;
    }
    let problem = assert_problem(app.reset(&"x".repeat(43), "short").await, 422).await;
    assert_eq!(fields(&problem), ["new_password"]);
    let problem = assert_problem(app.forgot("not an address").await, 422).await;
    assert_eq!(fields(&problem), ["email"]);
}

#[actix_rt::test]
async fn verifying_the_address_shows_in_the_account_and_the_next_token() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    assert_eq!(app.account(&token).await["email_verified"], false);
    assert_eq!(token_claims(&token)["email_verified"], false);

    let mail = app.mail_with_subject(VERIFY_SUBJECT, 1, WAIT).await;
    let secret = link_secret(&mail[0], "verify-email");
    assert_eq!(app.verify(&secret).await.status().as_u16(), 204);
    assert_eq!(app.account(&token).await["email_verified"], true);
    let fresh = app.session("ada@example.com").await;
    assert_eq!(token_claims(&fresh)["email_verified"], true);
    assert_problem(app.verify(&secret).await, 400).await;
}

#[actix_rt::test]
async fn a_new_verification_link_is_mailed_on_request_and_retires_the_first() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    let first = app.mail_with_subject(VERIFY_SUBJECT, 1, WAIT).await;
    let asked = app
        .call(
            Method::POST,
            "/account/email/verification",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(asked.status().as_u16(), 202);
    let both = app.mail_with_subject(VERIFY_SUBJECT, 2, WAIT).await;
    let secrets: Vec<_> = both
        .iter()
        .map(|m| link_secret(m, "verify-email"))
        .collect();
    let old = link_secret(&first[0], "verify-email");
    let new = newest(std::slice::from_ref(&old), &secrets);
    assert_problem(app.verify(&old).await, 400).await;
    assert_eq!(app.verify(&new).await.status().as_u16(), 204);

    // Verified: asking again mails nothing.
    let asked = app
        .call(
            Method::POST,
            "/account/email/verification",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(asked.status().as_u16(), 202);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        with_subject(app.mail(0, Duration::ZERO).await, VERIFY_SUBJECT).len(),
        2
    );
}

#[actix_rt::test]
async fn with_a_verified_address_required_sign_in_waits_for_the_link() {
    let app = spawn_app_with(&[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let response = app.signup("ada@example.com", PASSWORD, "Ada").await;
    assert_eq!(response.status().as_u16(), 202);
    let body: Value = response.json().await.unwrap();
    assert!(
        body.get("token").is_none(),
        "no token before the address is verified: {body}"
    );
    assert_eq!(body["user"]["email_verified"], false);

    let refused = assert_problem(app.signin("ada@example.com", PASSWORD).await, 403).await;
    assert_eq!(refused["detail"], "Email not verified");
    // A wrong password says nothing of the address.
    assert_problem(app.signin("ada@example.com", "not the password").await, 401).await;
    // The refused sign-in mailed a new link, which retired the first.
    let links = app.mail_with_subject(VERIFY_SUBJECT, 2, WAIT).await;
    assert_eq!(links.len(), 2);
    let secrets: Vec<_> = links
        .iter()
        .map(|m| link_secret(m, "verify-email"))
        .collect();
    let mut verified = 0;
    for secret in &secrets {
        if app.verify(secret).await.status().as_u16() == 204 {
            verified += 1;
        }
    }
    assert_eq!(verified, 1, "only the newer link works");
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 200);
}

#[actix_rt::test]
async fn an_email_change_is_confirmed_by_the_new_address_and_told_to_the_old() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    app.signup("grace@example.com", PASSWORD, "Grace").await;
    let change = |new_email: &'static str, password: &'static str| {
        app.call(
            Method::PUT,
            "/account/email",
            Some(&token),
            Some(json!({"new_email": new_email, "password": password})),
        )
    };
    assert_problem(change("ada@example.org", "not the password").await, 403).await;
    assert_problem(change("Grace@Example.com", PASSWORD).await, 409).await;
    let problem = assert_problem(change("ADA@example.com", PASSWORD).await, 422).await;
    assert_eq!(fields(&problem), ["new_email"]);
    assert_eq!(
        change(" Ada@Example.ORG ", PASSWORD)
            .await
            .status()
            .as_u16(),
        202
    );

    let told = app
        .mail_with_subject("Your Tasks account is moving to another address", 1, WAIT)
        .await;
    assert!(told[0].contains("To: ada@example.com\r\n"), "{}", told[0]);
    let confirm = app
        .mail_with_subject("Confirm your new email address for Tasks", 1, WAIT)
        .await;
    assert!(
        confirm[0].contains("To: ada@example.org\r\n"),
        "{}",
        confirm[0]
    );
    assert_eq!(
        app.account(&token).await["email"],
        "ada@example.com",
        "nothing changes before the new address confirms"
    );

    let secret = link_secret(&confirm[0], "verify-email");
    assert_eq!(app.verify(&secret).await.status().as_u16(), 204);
    let account = app.account(&token).await;
    assert_eq!(account["email"], "ada@example.org");
    assert_eq!(account["email_verified"], true);
    assert_eq!(app.signin_status("ada@example.org", PASSWORD).await, 200);
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 401);
    // The old address is free again.
    assert_eq!(
        app.signup("ada@example.com", PASSWORD, "Another Ada")
            .await
            .status()
            .as_u16(),
        201
    );
}

#[actix_rt::test]
async fn an_email_change_whose_address_was_taken_meanwhile_is_a_409() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    let asked = app
        .call(
            Method::PUT,
            "/account/email",
            Some(&token),
            Some(json!({"new_email": "ada@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(asked.status().as_u16(), 202);
    let confirm = app
        .mail_with_subject("Confirm your new email address for Tasks", 1, WAIT)
        .await;
    assert_eq!(
        app.signup("ada@example.org", PASSWORD, "Someone")
            .await
            .status()
            .as_u16(),
        201
    );
    let secret = link_secret(&confirm[0], "verify-email");
    assert_problem(app.verify(&secret).await, 409).await;
    assert_eq!(app.signin_status("ada@example.com", PASSWORD).await, 200);
}
