//! What counts as visible text, for the free text a booking stores (the name, the email).
//!
//! A name is shown to staff at the box office and on the booker's own page. A name made only of
//! zero-width spaces, Hangul fillers or a braille blank looks empty on screen yet passes a
//! "not empty" check; a right-to-left override reorders the rest of the line it is shown on. So
//! text must hold at least one *visible* grapheme (a user-perceived character, UAX #29), must not
//! hold bidi controls, and is measured in graphemes, the way a reader counts, so an emoji made
//! of seven code points is one character and is never split by a limit.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_segmentation::UnicodeSegmentation;

/// The explicit bidirectional formatting characters (UAX #9): embeddings, overrides and
/// isolates (U+202A–202E, U+2066–2069), and the implicit marks LRM, RLM and ALM.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The first bidi control in `text`, if any.
pub fn first_bidi_control(text: &str) -> Option<char> {
    text.chars().find(|&c| is_bidi_control(c))
}

/// A character that starts a new line or moves the cursor: C0/C1 controls and the Unicode
/// line and paragraph separators (U+2028, U+2029), which are line breaks on every screen.
pub fn is_line_breaking_or_control(c: char) -> bool {
    c.is_control()
        || matches!(c.general_category(), GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator)
}

/// Whether a code point draws nothing by itself: white space, a control, a format character
/// (general category Cf: zero-width space and joiners, bidi controls, the BOM, tags), a
/// default-ignorable code point, or the braille pattern blank (U+2800, a symbol that renders
/// as an empty cell and is a favourite "invisible name").
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || c.general_category() == GeneralCategory::Format
        || is_default_ignorable(c)
        || c == '\u{2800}'
}

/// Default_Ignorable_Code_Point, from Unicode 16's DerivedCoreProperties.txt. No maintained
/// crate exports this derived property on its own; the list is short and changes rarely.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Whether `text` holds at least one grapheme with something to see in it.
pub fn has_visible_text(text: &str) -> bool {
    text.graphemes(true).any(|g| !g.chars().all(is_invisible))
}

/// The length a reader perceives: extended grapheme clusters.
pub fn perceived_len(text: &str) -> usize {
    text.graphemes(true).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphemes_are_counted_as_a_reader_counts_them() {
        assert_eq!(perceived_len("Ana"), 3);
        assert_eq!(perceived_len("👨‍👩‍👧‍👦"), 1, "a ZWJ family is one character");
        assert_eq!(perceived_len("🇮🇩"), 1, "a flag is one character");
        assert_eq!(perceived_len("e\u{301}"), 1, "a letter with a combining accent is one");
        assert_eq!(perceived_len("한국어"), 3);
    }

    #[test]
    fn invisible_only_text_is_not_visible() {
        for text in ["", " ", "\u{200B}", "\u{3164}\u{3164}", "\u{2800}", "\u{FEFF}", "\u{115F}", "\u{E0041}"] {
            assert!(!has_visible_text(text), "{text:?}");
        }
        for text in ["a", "\u{200B}a", "👍", "ㅤ한", "\u{0301}"] {
            assert!(has_visible_text(text), "{text:?}");
        }
    }
}
