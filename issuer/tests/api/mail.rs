//! Mail from the issuer: a notice goes out when the password changes and when the account is
//! deleted, through the outbox, to `MAIL_DIR` or a real SMTP server, and only when the change
//! was made. The outbox keeps what it could not deliver yet, and delivers each message once.

use crate::helpers::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_support::{SmtpMode, SmtpServer, TestDatabase};
use test_support::{sample, scrape};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn change_password(app: &TestApp, token: &str, current: &str) -> u16 {
    app.client
        .put(format!("{}/account/password", app.address))
        .bearer_auth(token)
        .json(&json!({"current_password": current, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn delete_account(app: &TestApp, token: &str) -> u16 {
    app.client
        .delete(format!("{}/account", app.address))
        .bearer_auth(token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[actix_rt::test]
async fn a_password_change_mails_a_notice_to_the_account_and_a_refused_one_mails_nothing() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    assert_eq!(change_password(&app, &token, "not the password").await, 403);
    assert_eq!(change_password(&app, &token, PASSWORD).await, 204);

    let mail = app
        .mail_with_subject(
            "Your Tasks password was changed",
            1,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        mail.len(),
        1,
        "one notice, for the change that was made: {mail:?}"
    );
    assert!(mail[0].contains("To: ada@example.com\r\n"), "{}", mail[0]);
    assert!(
        !mail[0].contains(NEW_PASSWORD) && !mail[0].contains(PASSWORD),
        "a notice never holds a password"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.mail(3, Duration::ZERO).await.len(),
        2,
        "the sign-up's verification link and the one notice"
    );
    assert_eq!(
        app.outbox_rows(),
        0,
        "a delivered message leaves the outbox"
    );
}

#[actix_rt::test]
async fn deleting_the_account_mails_a_notice_to_its_address() {
    let app = spawn_app().await;
    let token = ada(&app).await;
    assert_eq!(delete_account(&app, &token).await, 204);

    let mail = app
        .mail_with_subject("Your Tasks account was deleted", 1, Duration::from_secs(10))
        .await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: ada@example.com\r\n"));
}

#[actix_rt::test]
async fn with_smtp_url_the_notice_goes_to_the_mail_server_from_mail_from() {
    let Some(server) = SmtpServer::start(SmtpMode::Plain, None) else {
        return;
    };
    let url = format!("smtp://127.0.0.1:{}", server.port);
    let app = spawn_app_with(&[
        ("SMTP_URL", &url),
        ("MAIL_FROM", "Tasks <tasks@example.org>"),
    ])
    .await;
    let token = ada(&app).await;
    assert_eq!(change_password(&app, &token, PASSWORD).await, 204);

    // The sign-up's verification link, then the notice.
    let received = server.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 2);
    for message in &received {
        assert_eq!(message.mail_from, "tasks@example.org");
        assert_eq!(message.rcpt_tos, ["ada@example.com"]);
        assert!(
            message
                .message
                .contains("From: Tasks <tasks@example.org>\r\n")
        );
    }
    assert!(received.iter().any(|m| {
        m.message
            .contains("Subject: Your Tasks password was changed\r\n")
    }));
    assert!(
        mail_files(&app.database.mail_dir(), 1, Duration::ZERO)
            .await
            .is_empty(),
        "with SMTP_URL nothing is written to MAIL_DIR"
    );
}

#[actix_rt::test]
async fn while_the_mail_server_is_down_the_answer_waits_for_nothing_and_the_outbox_keeps_the_message()
 {
    let url = format!("smtp://127.0.0.1:{}", closed_port());
    let database = TestDatabase::new();
    let app = spawn_app_on(database, &[("SMTP_URL", &url)]).await;
    let token = ada(&app).await;
    let started = Instant::now();
    assert_eq!(change_password(&app, &token, PASSWORD).await, 204);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the change waited {:?} for the mail server",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.outbox_rows(),
        2,
        "the undelivered verification link and notice are kept"
    );
}

#[actix_rt::test]
async fn what_waited_for_a_server_that_was_down_is_delivered_once_when_it_comes_up() {
    let port = closed_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(&[("SMTP_URL", &url)]).await;
    let token = ada(&app).await;
    assert_eq!(change_password(&app, &token, PASSWORD).await, 204);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.outbox_rows(), 2, "the verification link and the notice");
    let text = scrape(&app.client, &app.address).await;
    assert_eq!(sample(&text, "issuer_mail_outbox_messages"), Some(2.0));
    assert_eq!(
        sample(&text, r#"issuer_mail_deliveries_total{outcome="retry"}"#),
        Some(2.0),
        "each tried once: {text}"
    );
    let age = sample(&text, "issuer_mail_outbox_oldest_message_age_seconds").unwrap();
    assert!((1.0..60.0).contains(&age), "{age}");

    // The server comes up, and two more issuers start on the same database (a restart, or
    // replicas): however many look at the outbox, the message goes out once.
    let Some(server) = SmtpServer::start_on(port) else {
        return;
    };
    for _ in 0..2 {
        start(&app.database, &[("SMTP_URL", &url)]).await;
    }
    let received = server.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(received.len(), 2, "delivered after the server came up");
    assert!(received.iter().all(|m| m.rcpt_tos == ["ada@example.com"]));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(server.received().len(), 2, "each delivered once");
    assert_eq!(app.outbox_rows(), 0);
    let text = scrape(&app.client, &app.address).await;
    assert_eq!(sample(&text, "issuer_mail_outbox_messages"), Some(0.0));
    assert_eq!(
        sample(&text, "issuer_mail_outbox_oldest_message_age_seconds"),
        Some(0.0)
    );
}

#[actix_rt::test]
async fn a_mail_server_that_refuses_the_address_for_good_is_not_asked_again() {
    let Some(server) = SmtpServer::start(SmtpMode::Plain, None) else {
        return;
    };
    let url = format!("smtp://127.0.0.1:{}", server.port);
    let app = spawn_app_with(&[("SMTP_URL", &url)]).await;
    let response = app.signup("refuse@example.com", PASSWORD, "Re").await;
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(change_password(&app, &token, PASSWORD).await, 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.outbox_rows() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.outbox_rows(), 0, "a 550 is given up at once");
    assert!(server.received().is_empty());
}
