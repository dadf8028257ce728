//! What a person's text shows. Unicode's format characters (category Cf: zero-width spaces and
//! joiners, the soft hyphen, the byte order mark, direction marks) take no room on screen, so
//! text made of them and of spaces shows as nothing, and two strings that differ only by them
//! look the same.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Whether `c` is a format character: present in the text, invisible on screen.
pub fn is_invisible(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
}

/// Whether `text` shows as nothing: empty, or only spaces and format characters.
pub fn shows_nothing(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_characters_are_invisible_and_letters_marks_and_emoji_are_not() {
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{00AD}',
            '\u{FEFF}',
            '\u{2060}',
            '\u{202E}',
            '\u{E0041}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', '\u{0301}', '字', '😀', ' ', '-'] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn text_of_spaces_and_format_characters_shows_nothing() {
        for blank in [
            "",
            "   ",
            "\u{200B}",
            " \u{200D}\u{FEFF} ",
            "\u{00AD}\u{2060}",
        ] {
            assert!(shows_nothing(blank), "{blank:?}");
        }
        for shown in ["a", "\u{200B}a", "👩\u{200D}💻", "-"] {
            assert!(!shows_nothing(shown), "{shown:?}");
        }
    }
}
