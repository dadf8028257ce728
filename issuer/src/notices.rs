//! The mail the issuer sends: the links that verify an address or reset a password, and the
//! notices of what happened to an account that its owner should hear of even if they did not do
//! it. Plain words, a text part and the same in HTML, nothing that tracks the reader; a notice has
//! no link, and a link message has one, to the web client (`PUBLIC_URL`).

use chrono::{NaiveDateTime, TimeDelta};
use mail::{ComposeError, Mailbox, Outgoing, compose};

/// The product's name, as the mail shows it.
pub const PRODUCT: &str = "Tasks";

/// To `to`: the password was changed at `at`, and every other session ended.
pub fn password_changed(
    from: &Mailbox,
    to: &str,
    name: &str,
    at: NaiveDateTime,
) -> Result<Outgoing, ComposeError> {
    notice(
        from,
        to,
        &format!("Your {PRODUCT} password was changed"),
        name,
        &[
            format!(
                "The password of your {PRODUCT} account ({to}) was changed on {} UTC, and \
                 every other session of the account was signed out.",
                at.format("%Y-%m-%d at %H:%M")
            ),
            "If you did this, there is nothing more to do. If you did not, someone else knows \
             your password: sign in, change it, and end the sessions you do not recognise."
                .to_owned(),
        ],
    )
}

/// To `to`: the password was reset with a mailed link at `at`, and every session ended.
pub fn password_reset(
    from: &Mailbox,
    to: &str,
    name: &str,
    at: NaiveDateTime,
) -> Result<Outgoing, ComposeError> {
    notice(
        from,
        to,
        &format!("Your {PRODUCT} password was reset"),
        name,
        &[
            format!(
                "The password of your {PRODUCT} account ({to}) was reset with a link mailed to \
                 this address on {} UTC, and every session of the account was signed out.",
                at.format("%Y-%m-%d at %H:%M")
            ),
            "If you did not do this, someone can read your mail: secure your mailbox, then use \
             \"Forgot password?\" again to choose a password only you know."
                .to_owned(),
        ],
    )
}

/// To `to`, the account's address until the change is confirmed: someone signed in asked at `at`
/// to move the account to `new_email`.
pub fn email_change_requested(
    from: &Mailbox,
    to: &str,
    name: &str,
    new_email: &str,
    at: NaiveDateTime,
) -> Result<Outgoing, ComposeError> {
    notice(
        from,
        to,
        &format!("Your {PRODUCT} account is moving to another address"),
        name,
        &[
            format!(
                "On {} UTC your {PRODUCT} account ({to}) asked to use {new_email} from now on. \
                 The change happens when a link mailed to {new_email} is followed.",
                at.format("%Y-%m-%d at %H:%M")
            ),
            "If you did not ask for this, someone knows your password: sign in and change it \
             before that link is followed. Changing the password cancels the move."
                .to_owned(),
        ],
    )
}

/// To `to`, a new account's address: the link that verifies it.
pub fn verify_email(
    from: &Mailbox,
    to: &str,
    name: &str,
    link: &str,
    ttl: TimeDelta,
) -> Result<Outgoing, ComposeError> {
    message(
        from,
        to,
        &format!("Confirm your email address for {PRODUCT}"),
        name,
        &[format!(
            "Follow this link to confirm that {to} is the address of your {PRODUCT} account. \
             It works once, for {}.",
            lifetime(ttl)
        )],
        Some(link),
    )
}

/// To `to`, the address an account asked to move to: the link that makes the move.
pub fn confirm_new_email(
    from: &Mailbox,
    to: &str,
    name: &str,
    link: &str,
    ttl: TimeDelta,
) -> Result<Outgoing, ComposeError> {
    message(
        from,
        to,
        &format!("Confirm your new email address for {PRODUCT}"),
        name,
        &[format!(
            "Your {PRODUCT} account asked to use {to} from now on. Follow this link to make the \
             change; it works once, for {}. If you did not ask for this, ignore this message.",
            lifetime(ttl)
        )],
        Some(link),
    )
}

/// To `to`: the link that sets a new password.
pub fn reset_link(
    from: &Mailbox,
    to: &str,
    name: &str,
    link: &str,
    ttl: TimeDelta,
) -> Result<Outgoing, ComposeError> {
    message(
        from,
        to,
        &format!("Reset your {PRODUCT} password"),
        name,
        &[format!(
            "Someone, probably you, asked to reset the password of your {PRODUCT} account \
             ({to}). Follow this link to choose a new one; it works once, for {}, and signs \
             out every session of the account. If you did not ask, ignore this message: your \
             password stays as it is.",
            lifetime(ttl)
        )],
        Some(link),
    )
}

/// A composed message, or none when the address cannot be written in one (logged, without the
/// address): what the message tells of goes ahead either way, as it would without mail.
pub fn or_skip(composed: Result<Outgoing, ComposeError>) -> Option<Outgoing> {
    composed.inspect_err(|e| log::warn!("no mail: {e}")).ok()
}

/// "30 minutes", "24 hours": how long a link works, in the largest whole unit.
fn lifetime(ttl: TimeDelta) -> String {
    let (count, unit) = match ttl.num_minutes() {
        minutes if minutes % (24 * 60) == 0 && minutes > 0 => (minutes / (24 * 60), "day"),
        minutes if minutes % 60 == 0 && minutes > 0 => (minutes / 60, "hour"),
        minutes if minutes > 0 => (minutes, "minute"),
        _ => (ttl.num_seconds(), "second"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// To `to`: the account and its tasks were deleted at `at`.
pub fn account_deleted(
    from: &Mailbox,
    to: &str,
    name: &str,
    at: NaiveDateTime,
) -> Result<Outgoing, ComposeError> {
    notice(
        from,
        to,
        &format!("Your {PRODUCT} account was deleted"),
        name,
        &[
            format!(
                "Your {PRODUCT} account ({to}) and its tasks were deleted on {} UTC, and every \
                 session of the account was signed out.",
                at.format("%Y-%m-%d at %H:%M")
            ),
            "This cannot be undone. You may sign up again with the same address at any time."
                .to_owned(),
        ],
    )
}

/// A message without a link.
fn notice(
    from: &Mailbox,
    to: &str,
    subject: &str,
    name: &str,
    paragraphs: &[String],
) -> Result<Outgoing, ComposeError> {
    message(from, to, subject, name, paragraphs, None)
}

/// A greeting, the paragraphs, the link if there is one, and a signature, as text and as HTML.
fn message(
    from: &Mailbox,
    to: &str,
    subject: &str,
    name: &str,
    paragraphs: &[String],
    link: Option<&str>,
) -> Result<Outgoing, ComposeError> {
    let greeting = format!("Hello {name},");
    let signature = format!("— {PRODUCT}");
    let text_lines = std::iter::once(greeting.as_str())
        .chain(paragraphs.iter().map(String::as_str))
        .chain(link)
        .chain(std::iter::once(signature.as_str()));
    let text = text_lines.collect::<Vec<_>>().join("\n\n") + "\n";
    let escaped = |line: &str| format!("<p>{}</p>", escape_html(line));
    let html = std::iter::once(escaped(&greeting))
        .chain(paragraphs.iter().map(|p| escaped(p)))
        .chain(link.map(|url| {
            let url = escape_html(url);
            format!("<p><a href=\"{url}\">{url}</a></p>")
        }))
        .chain(std::iter::once(escaped(&signature)))
        .collect::<String>();
    compose(from, to, subject, text, html)
}

/// `text` as HTML shows it: the characters HTML gives meaning to, as entities. A name is the
/// user's own words and may hold any of them.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> Mailbox {
        "Tasks <no-reply@tasks.test>".parse().unwrap()
    }

    fn at() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 4)
            .unwrap()
            .and_hms_opt(21, 5, 0)
            .unwrap()
    }

    #[test]
    fn a_name_is_text_in_the_html_part_never_markup() {
        let outgoing =
            password_changed(&from(), "ada@example.com", "<b>Ada</b> & \"co\"", at()).unwrap();
        let message = String::from_utf8(outgoing.message).unwrap();
        let (text, html) = message
            .split_once("Content-Type: text/html")
            .expect("an HTML part");
        assert!(
            text.contains("Hello <b>Ada</b> & \"co\","),
            "the text part says it as it is"
        );
        assert!(!html.contains("<b>Ada</b>"), "{html}");
        assert!(
            html.contains("&lt;b&gt;Ada&lt;/b&gt; &amp; &quot;co&quot;"),
            "{html}"
        );
    }

    #[test]
    fn each_notice_says_what_happened_when_and_to_which_account() {
        for (outgoing, subject, what) in [
            (
                password_changed(&from(), "ada@example.com", "Ada", at()).unwrap(),
                "Subject: Your Tasks password was changed",
                "was changed on 2026-12-04 at 21:05 UTC",
            ),
            (
                account_deleted(&from(), "ada@example.com", "Ada", at()).unwrap(),
                "Subject: Your Tasks account was deleted",
                "were deleted on 2026-12-04 at 21:05 UTC",
            ),
        ] {
            assert_eq!(outgoing.recipient, "ada@example.com");
            let message = String::from_utf8(outgoing.message).unwrap();
            assert!(message.contains(subject), "{message}");
            // The text part may be folded by its transfer encoding: compare without line breaks.
            let unfolded = message.replace("=\r\n", "").replace("\r\n", " ");
            assert!(unfolded.contains(what), "{message}");
            assert!(unfolded.contains("Hello Ada,"), "{message}");
            assert!(
                !message.contains("http"),
                "a notice carries no link: {message}"
            );
        }
    }
}
