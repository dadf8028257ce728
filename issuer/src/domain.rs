//! The issuer's request values. Each type's only constructor validates, so a handler holding an
//! `Email` needs no further checks. Lengths are counted in characters, not bytes.

use serde::Deserialize;
use service::http::{Problem, field};

pub const MAX_EMAIL_CHARS: usize = 254;
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
pub const MAX_NAME_CHARS: usize = 100;

/// An email address, trimmed, in Unicode's NFKC form and lower-cased, so that every spelling
/// that shows as the same address is one account: canonically equal ones (`é` as one character
/// or as `e` and an accent) and compatibility variants (fullwidth `ａ`, ligatures) alike.
/// Invisible format characters are refused: they would make one address look like another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        use unicode_normalization::UnicodeNormalization;
        if raw.chars().any(service::text::is_invisible) {
            return Err("must not contain invisible characters");
        }
        let email: String = raw.trim().nfkc().collect::<String>().to_lowercase();
        if email.is_empty() {
            return Err("must not be empty");
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err("must be at most 254 characters");
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(Self(email))
        } else {
            Err("must be an email address such as name@example.com")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password in Unicode's NFKC form (NIST SP 800-63B §5.1.1.2: so that a password typed on
/// another keyboard or system, spelled with other code points that show the same, still
/// matches). Never trimmed, never logged, 8 to 128 characters once normalised. Hashes made
/// before passwords were normalised were made from the text as typed, which is kept for them
/// when it differs.
#[derive(Clone)]
pub struct Password {
    normalized: String,
    as_typed: Option<String>,
}

impl Password {
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        use unicode_normalization::UnicodeNormalization;
        let normalized: String = raw.nfkc().collect();
        let chars = normalized.chars().count();
        if chars < *PASSWORD_CHARS.start() {
            return Err("must be at least 8 characters");
        }
        if chars > *PASSWORD_CHARS.end() {
            return Err("must be at most 128 characters");
        }
        let as_typed = (raw != normalized).then_some(raw);
        Ok(Self {
            normalized,
            as_typed,
        })
    }

    /// What is hashed.
    pub fn as_bytes(&self) -> &[u8] {
        self.normalized.as_bytes()
    }

    /// The text as typed, where it differs from [`Self::as_bytes`]: what a hash made before
    /// normalisation was made from.
    pub fn as_typed(&self) -> Option<&[u8]> {
        self.as_typed.as_deref().map(str::as_bytes)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A display name, trimmed, 1 to 100 characters, without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        if service::text::shows_nothing(name) {
            return Err("must not be empty");
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err("must be at most 100 characters");
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A field a route does not take is refused by name, never dropped: a typo must not pass as
/// "absent".
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub password: String,
    #[schema(example = "Ada Lovelace", min_length = 1, max_length = 100)]
    pub name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub current_password: String,
    #[schema(
        example = "battery staple horse correct",
        min_length = 8,
        max_length = 128
    )]
    pub new_password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountDeletionRequest {
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The secret of the link mailed by `POST /password/forgot`.
    pub token: String,
    #[schema(
        example = "battery staple horse correct",
        min_length = 8,
        max_length = 128
    )]
    pub new_password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailVerificationRequest {
    /// The secret of a mailed verification or email-change link.
    pub token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeRequest {
    #[schema(example = "ada@example.org", format = Email, max_length = 254)]
    pub new_email: String,
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub password: String,
}

impl TryFrom<ForgotPasswordRequest> for Email {
    type Error = Problem;

    fn try_from(request: ForgotPasswordRequest) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        field("email", Email::parse(&request.email), &mut errors)
            .ok_or_else(|| Problem::validation(errors))
    }
}

/// An email change, checked: the new address read as sign-up reads one, the password as
/// [`Password`].
pub struct EmailChange {
    pub new_email: Email,
    pub password: Password,
}

impl TryFrom<EmailChangeRequest> for EmailChange {
    type Error = Problem;

    fn try_from(request: EmailChangeRequest) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        let new_email = field("new_email", Email::parse(&request.new_email), &mut errors);
        let password = field("password", Password::parse(request.password), &mut errors);
        match (new_email, password) {
            (Some(new_email), Some(password)) => Ok(Self {
                new_email,
                password,
            }),
            _ => Err(Problem::validation(errors)),
        }
    }
}

/// A password change, checked: both passwords read by the rules of [`Password`].
pub struct PasswordChange {
    pub current: Password,
    pub new: Password,
}

impl TryFrom<PasswordChangeRequest> for PasswordChange {
    type Error = Problem;

    fn try_from(request: PasswordChangeRequest) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        let current = field(
            "current_password",
            Password::parse(request.current_password),
            &mut errors,
        );
        let new = field(
            "new_password",
            Password::parse(request.new_password),
            &mut errors,
        );
        match (current, new) {
            (Some(current), Some(new)) => Ok(Self { current, new }),
            _ => Err(Problem::validation(errors)),
        }
    }
}

impl TryFrom<AccountDeletionRequest> for Password {
    type Error = Problem;

    fn try_from(request: AccountDeletionRequest) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        field("password", Password::parse(request.password), &mut errors)
            .ok_or_else(|| Problem::validation(errors))
    }
}

pub struct NewAccount {
    pub email: Email,
    pub password: Password,
    pub name: UserName,
}

pub struct Credentials {
    pub email: Email,
    pub password: Password,
}

impl TryFrom<SignUpRequest> for NewAccount {
    type Error = Problem;

    fn try_from(request: SignUpRequest) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        let email = field("email", Email::parse(&request.email), &mut errors);
        let password = field("password", Password::parse(request.password), &mut errors);
        let name = field("name", UserName::parse(&request.name), &mut errors);
        match (email, password, name) {
            (Some(email), Some(password), Some(name)) => Ok(Self {
                email,
                password,
                name,
            }),
            _ => Err(Problem::validation(errors)),
        }
    }
}

impl TryFrom<SignInRequest> for Credentials {
    type Error = Problem;

    fn try_from(request: SignInRequest) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        let email = field("email", Email::parse(&request.email), &mut errors);
        let password = field("password", Password::parse(request.password), &mut errors);
        match (email, password) {
            (Some(email), Some(password)) => Ok(Self { email, password }),
            _ => Err(Problem::validation(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for raw in [
            "",
            "   ",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a@b@c.com",
            "ada@.com",
            "ada@example.",
            "ada@exa..mple.com",
            "a da@example.com",
            "ada@exa\u{0}mple.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn the_email_limit_is_254_characters_not_bytes() {
        let domain = "@example.com";
        let fits = format!("{}{domain}", "é".repeat(254 - domain.len()));
        assert_eq!(fits.chars().count(), 254);
        assert!(fits.len() > 254);
        assert!(Email::parse(&fits).is_ok());
        let too_long = format!("é{fits}");
        assert!(Email::parse(&too_long).is_err());
    }

    #[test]
    fn the_password_limits_count_characters() {
        assert!(Password::parse("ééééééé".into()).is_err());
        assert!(Password::parse("éééééééé".into()).is_ok());
        assert!(Password::parse("🦀".repeat(128)).is_ok());
        assert!(Password::parse("🦀".repeat(129)).is_err());
    }

    #[test]
    fn a_password_is_never_trimmed_nor_shown_in_debug() {
        let password = Password::parse("  spaced  ".into()).unwrap();
        assert_eq!(password.as_bytes(), b"  spaced  ");
        assert!(!format!("{password:?}").contains("spaced"));
    }

    #[test]
    fn spellings_that_show_as_one_address_are_one_email_and_invisible_ones_are_refused() {
        let one = Email::parse("josé@example.com").unwrap();
        for spelling in [
            "jose\u{301}@example.com",
            "JOSÉ@EXAMPLE.COM",
            "ｊｏｓé@ｅｘａｍｐｌｅ.ｃｏｍ",
        ] {
            assert_eq!(Email::parse(spelling).unwrap(), one, "{spelling}");
        }
        for hidden in [
            "ada\u{200B}@example.com",
            "ada@exam\u{00AD}ple.com",
            "\u{FEFF}ada@example.com",
            "ad\u{200D}a@example.com",
            "ada@example.com\u{2060}",
        ] {
            assert!(Email::parse(hidden).is_err(), "{hidden:?}");
        }
    }

    #[test]
    fn a_name_or_password_of_format_characters_alone_is_refused_but_a_password_keeps_them() {
        assert!(UserName::parse("\u{200B}\u{200D}").is_err());
        assert!(UserName::parse(" \u{FEFF} ").is_err());
        assert!(UserName::parse("A\u{200D}da").is_ok());
        let password = Password::parse("pass\u{200B}word".into()).unwrap();
        assert_eq!(password.as_bytes(), "pass\u{200B}word".as_bytes());
    }

    #[test]
    fn a_password_is_kept_in_its_normal_form_and_as_typed_when_that_differs() {
        let plain = Password::parse("correct horse".into()).unwrap();
        assert_eq!(plain.as_typed(), None);
        let wide = Password::parse("ｃｏｒｒｅｃｔ ﬁsh".into()).unwrap();
        assert_eq!(wide.as_bytes(), b"correct fish");
        assert_eq!(wide.as_typed(), Some("ｃｏｒｒｅｃｔ ﬁsh".as_bytes()));
    }

    #[test]
    fn every_invalid_field_is_listed_at_once() {
        let request = SignUpRequest {
            email: "nope".into(),
            password: "short".into(),
            name: " ".into(),
        };
        let problem = NewAccount::try_from(request).err().unwrap();
        let fields: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "name"]);
    }

    proptest! {
        #[test]
        fn a_password_is_taken_exactly_when_its_normal_form_has_8_to_128_characters(s in "\\PC{0,140}") {
            use unicode_normalization::UnicodeNormalization;
            let normalized = s.nfkc().count();
            prop_assert_eq!(Password::parse(s).is_ok(), PASSWORD_CHARS.contains(&normalized));
        }

        #[test]
        fn a_name_is_its_trimmed_self(core in "[^\\s\\p{Cc}\\p{Cf}]([^\\p{Cc}]{0,98}[^\\s\\p{Cc}])?", pad in "[ \t\n]{0,5}") {
            let name = UserName::parse(&format!("{pad}{core}{pad}")).unwrap();
            prop_assert_eq!(name.as_str(), core.as_str());
        }

        #[test]
        fn a_name_over_100_characters_is_refused(core in "[^\\s\\p{Cc}]{101,140}") {
            prop_assert!(UserName::parse(&core).is_err());
        }

        #[test]
        fn whitespace_alone_is_never_a_name(s in "\\s{0,20}") {
            prop_assert!(UserName::parse(&s).is_err());
        }

        #[test]
        fn a_valid_email_survives_any_case_and_padding(local in "[a-zA-Z0-9._%+-]{1,40}", host in "[a-zA-Z0-9-]{1,20}", pad in " {0,3}") {
            let raw = format!("{pad}{local}@{host}.Example.org{pad}");
            let email = Email::parse(&raw).unwrap();
            prop_assert_eq!(email.as_str(), raw.trim().to_lowercase());
        }
    }
}
