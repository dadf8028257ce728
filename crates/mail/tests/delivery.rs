//! Composing, and delivering to a real SMTP server (aiosmtpd) in each of its ways, and to a folder.

use lettre::Address;
use lettre::message::Mailbox;
use mail::{Failure, Mailer, Outgoing, compose};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use test_support::{SmtpMode, SmtpServer};

const SENDER: &str = "no-reply@tasks.test";

fn from() -> Mailbox {
    format!("Tasks <{SENDER}>").parse().expect("a mailbox")
}

fn sender() -> Address {
    SENDER.parse().expect("an address")
}

fn message_to(to: &str) -> Outgoing {
    compose(
        &from(),
        to,
        "Your password was changed",
        "Plain words.".to_owned(),
        "<p>Plain words.</p>".to_owned(),
    )
    .expect("a message")
}

fn smtp(url: &str, server: &SmtpServer) -> Mailer {
    Mailer::smtp(url, sender(), Some(&server.certificate)).expect("a mailer")
}

#[test]
fn a_message_has_its_headers_and_a_text_and_an_html_part() {
    let outgoing = message_to("ada@example.com");
    assert_eq!(outgoing.recipient, "ada@example.com");
    let text = String::from_utf8(outgoing.message).expect("ASCII");
    for header in [
        "From: Tasks <no-reply@tasks.test>\r\n",
        "To: ada@example.com\r\n",
        "Subject: Your password was changed\r\n",
        "Message-ID: <",
        "Date: ",
        "Content-Type: multipart/alternative;",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Type: text/html; charset=utf-8",
    ] {
        assert!(text.contains(header), "no {header:?} in\n{text}");
    }
    assert!(
        text.find("text/plain") < text.find("text/html"),
        "the text part comes first"
    );
}

#[test]
fn an_address_that_is_not_one_is_refused_when_composing() {
    let composed = compose(&from(), "not an address", "s", String::new(), String::new());
    assert!(composed.is_err());
}

#[tokio::test]
async fn the_folder_gets_one_private_eml_file_per_message() {
    let root = tempfile::tempdir().expect("a folder");
    let folder = root.path().join("mail");
    let mailer = Mailer::folder(&folder);
    let outgoing = message_to("ada@example.com");
    mailer.deliver(&outgoing).await.expect("written");
    mailer.deliver(&outgoing).await.expect("written");

    let files: Vec<_> = std::fs::read_dir(&folder)
        .expect("the folder exists")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    assert_eq!(
        files.len(),
        2,
        "one file per message, no partial file left: {files:?}"
    );
    for file in files {
        assert_eq!(file.extension().and_then(|e| e.to_str()), Some("eml"));
        assert_eq!(std::fs::read(&file).expect("readable"), outgoing.message);
        let mode = file.metadata().expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is mode {mode:o}", file.display());
    }
    let mode = folder.metadata().expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[tokio::test]
async fn plain_smtp_delivers_to_the_recipient_from_the_sender() {
    let Some(server) = SmtpServer::start(SmtpMode::Plain, None) else {
        return;
    };
    let mailer = smtp(&format!("smtp://127.0.0.1:{}", server.port), &server);
    mailer
        .deliver(&message_to("ada@example.com"))
        .await
        .expect("delivered");

    let received = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].mail_from, SENDER);
    assert_eq!(received[0].rcpt_tos, ["ada@example.com"]);
    assert!(
        received[0]
            .message
            .contains("Subject: Your password was changed")
    );
    assert!(!received[0].tls);
}

#[tokio::test]
async fn smtp_uses_starttls_when_offered_and_authenticates_over_it() {
    let Some(server) = SmtpServer::start(SmtpMode::StartTls, Some(("mailer", "s3cret pass")))
    else {
        return;
    };
    let url = format!("smtp://mailer:s3cret%20pass@localhost:{}", server.port);
    smtp(&url, &server)
        .deliver(&message_to("ada@example.com"))
        .await
        .expect("delivered");

    let received = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    assert!(
        received[0].tls,
        "STARTTLS was offered: the message must have gone encrypted"
    );
    assert_eq!(received[0].user.as_deref(), Some("mailer"));
}

#[tokio::test]
async fn smtps_speaks_tls_from_the_first_byte() {
    let Some(server) = SmtpServer::start(SmtpMode::Smtps, Some(("mailer", "pw"))) else {
        return;
    };
    smtp(
        &format!("smtps://mailer:pw@localhost:{}", server.port),
        &server,
    )
    .deliver(&message_to("ada@example.com"))
    .await
    .expect("delivered");
    let received = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].tls);
}

#[tokio::test]
async fn a_certificate_nobody_vouches_for_is_refused_and_nothing_is_sent() {
    let Some(server) = SmtpServer::start(SmtpMode::StartTls, None) else {
        return;
    };
    // No authority given: only the web's roots, which never signed this certificate.
    let mailer = Mailer::smtp(&format!("smtp://localhost:{}", server.port), sender(), None)
        .expect("a mailer");
    let failure = mailer
        .deliver(&message_to("ada@example.com"))
        .await
        .expect_err("an unverified server must not get the message");
    assert!(!failure.permanent, "{failure:?}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn tls_required_refuses_a_server_without_starttls() {
    let Some(server) = SmtpServer::start(SmtpMode::Plain, None) else {
        return;
    };
    let url = format!("smtp://127.0.0.1:{}?tls=required", server.port);
    smtp(&url, &server)
        .deliver(&message_to("ada@example.com"))
        .await
        .expect_err("no STARTTLS, no delivery");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_wrong_password_and_a_refused_recipient_fail_for_good_a_busy_one_for_now() {
    let Some(server) = SmtpServer::start(SmtpMode::StartTls, Some(("mailer", "right"))) else {
        return;
    };
    let wrong = smtp(
        &format!("smtp://mailer:wrong@localhost:{}", server.port),
        &server,
    );
    let failure = wrong
        .deliver(&message_to("ada@example.com"))
        .await
        .unwrap_err();
    assert!(failure.permanent, "535 is final: {failure:?}");

    let right = smtp(
        &format!("smtp://mailer:right@localhost:{}", server.port),
        &server,
    );
    let refused = right
        .deliver(&message_to("refuse@example.com"))
        .await
        .unwrap_err();
    assert!(refused.permanent, "550 is final: {refused:?}");
    let later = right
        .deliver(&message_to("later@example.com"))
        .await
        .unwrap_err();
    assert!(!later.permanent, "451 asks to try again: {later:?}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_server_that_is_down_is_a_failure_for_now() {
    let Some(mut server) = SmtpServer::start(SmtpMode::Plain, None) else {
        return;
    };
    server.stop();
    let Failure { permanent, reason } = smtp(&format!("smtp://127.0.0.1:{}", server.port), &server)
        .deliver(&message_to("ada@example.com"))
        .await
        .unwrap_err();
    assert!(!permanent, "{reason}");
}

#[test]
fn a_url_that_is_not_smtp_is_refused() {
    for url in ["http://mail.example.com", "not a url", "smtp://"] {
        assert!(
            Mailer::smtp(url, sender(), None).is_err(),
            "{url} was accepted"
        );
    }
}
