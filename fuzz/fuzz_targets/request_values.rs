//! Any text as an email, password, name, task title, description or task id: the parsers never
//! panic, and what they accept keeps their promises (lengths in characters, trimmed, no control
//! characters where refused).
#![no_main]

use issuer::domain::{Email, MAX_EMAIL_CHARS, MAX_NAME_CHARS, PASSWORD_CHARS, Password, UserName};
use libfuzzer_sys::fuzz_target;
use tasks_api::domain::{
    MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, TaskDescription, TaskId, TaskTitle,
};

fn is_trimmed(s: &str) -> bool {
    s.trim() == s && !s.is_empty()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(email) = Email::parse(text) {
        let email = email.as_str();
        assert!(is_trimmed(email) && email.chars().count() <= MAX_EMAIL_CHARS);
        assert_eq!(email, email.to_lowercase());
        assert_eq!(email.matches('@').count(), 1);
        assert!(!email.chars().any(char::is_control));
    }
    if Password::parse(text.to_owned()).is_ok() {
        assert!(PASSWORD_CHARS.contains(&text.chars().count()));
    }
    if let Ok(name) = UserName::parse(text) {
        let name = name.as_str();
        assert!(is_trimmed(name) && name.chars().count() <= MAX_NAME_CHARS);
        assert!(!name.chars().any(char::is_control));
    }
    if let Ok(title) = TaskTitle::parse(text) {
        let title = title.into_inner();
        assert!(is_trimmed(&title) && title.chars().count() <= MAX_TITLE_CHARS);
        assert!(!title.chars().any(char::is_control));
    }
    if let Ok(description) = TaskDescription::parse(text.to_owned()) {
        let description = description.into_inner();
        assert_eq!(description, text, "a description is kept as written");
        assert!(description.chars().count() <= MAX_DESCRIPTION_CHARS);
        assert!(!description.contains('\0'));
    }
    if let Some(TaskId(id)) = TaskId::parse(text) {
        assert!(id > 0);
        assert_eq!(
            id.to_string(),
            text.trim_start_matches('0'),
            "only ASCII digits name a task"
        );
    }
});
