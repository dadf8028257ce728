//! The notices the issuer mails when something happens to an account that its owner should hear
//! of even if they did not do it: plain words, a text part and the same in HTML, no link, nothing
//! that tracks the reader.

use chrono::NaiveDateTime;
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

/// A greeting, the paragraphs, and a signature, as text and as HTML.
fn notice(
    from: &Mailbox,
    to: &str,
    subject: &str,
    name: &str,
    paragraphs: &[String],
) -> Result<Outgoing, ComposeError> {
    let greeting = format!("Hello {name},");
    let signature = format!("— {PRODUCT}");
    let lines = std::iter::once(&greeting)
        .chain(paragraphs)
        .chain(std::iter::once(&signature));
    let text = lines.clone().cloned().collect::<Vec<_>>().join("\n\n") + "\n";
    let html = lines
        .map(|line| format!("<p>{}</p>", escape_html(line)))
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
