//! The web client's own copy of the services' limits (`web/assets/limits.js`), which sets its
//! fields' `maxlength` and hints, is the services' own.

/// The number after `key: ` in `text`.
fn number_after(text: &str, key: &str) -> usize {
    let (_, rest) = text
        .split_once(&format!("{key}: "))
        .unwrap_or_else(|| panic!("limits.js has no {key}"));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number"))
}

#[test]
fn the_web_clients_limits_are_the_services() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/assets/limits.js");
    let limits = std::fs::read_to_string(path).expect("web/assets/limits.js");
    let (_, password) = limits.split_once("passwordChars").expect("passwordChars");
    for (key, text, service) in [
        ("nameChars", &*limits, issuer::domain::MAX_NAME_CHARS),
        ("min", password, *issuer::domain::PASSWORD_CHARS.start()),
        ("max", password, *issuer::domain::PASSWORD_CHARS.end()),
        ("titleChars", &limits, tasks_api::domain::MAX_TITLE_CHARS),
        (
            "descriptionChars",
            &limits,
            tasks_api::domain::MAX_DESCRIPTION_CHARS,
        ),
    ] {
        assert_eq!(number_after(text, key), service, "{key}");
    }
}
