//! Messages fit to be logged, and the rejection that carries one.

use std::fmt;

use crate::Stage;

/// The most bytes a message in an [`crate::Outcome`] (a rejection's reason,
/// the text of [`crate::TrapCode::Other`]) holds. Messages are one line of
/// printable text: a service logs them, and they may quote names the guest chose.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// Why a module was refused: the stage that refused it and its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The stage that refused the module.
    pub stage: Stage,
    /// What was wrong, for people: one printable line of at most
    /// [`MAX_MESSAGE_BYTES`] ([`Rejection::new`] makes it so).
    pub reason: String,
}

impl Rejection {
    /// A rejection whose reason is made fit to log with [`printable_message`].
    pub fn new(stage: Stage, reason: &str) -> Rejection {
        Rejection { stage, reason: printable_message(reason) }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rejected at {}: {}", self.stage, self.reason)
    }
}

impl std::error::Error for Rejection {}

/// `text` as one line of printable text of at most [`MAX_MESSAGE_BYTES`]:
/// control characters and other characters Rust's `Debug` would not print
/// as they are (line separators, bidirectional overrides) are escaped, and a
/// longer text is cut and ends in `…`.
pub fn printable_message(text: &str) -> String {
    let mut line = String::with_capacity(text.len().min(MAX_MESSAGE_BYTES));
    for character in text.chars() {
        if line.len() > MAX_MESSAGE_BYTES {
            break;
        }
        let escaped = character.escape_debug();
        if escaped.len() > 1 && !matches!(character, '"' | '\'' | '\\') {
            line.extend(escaped);
        } else {
            line.push(character);
        }
    }
    if line.len() > MAX_MESSAGE_BYTES {
        let mut cut = MAX_MESSAGE_BYTES - '…'.len_utf8();
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_is_kept_and_line_breaks_and_escapes_are_escaped() {
        assert_eq!(printable_message("import env.\"f\" is 'x' \\ ok"), "import env.\"f\" is 'x' \\ ok");
        assert_eq!(printable_message("a\nb\r\u{1b}[2J\u{2028}\u{202e}"), r"a\nb\r\u{1b}[2J\u{2028}\u{202e}");
    }

    #[test]
    fn text_up_to_the_bound_is_whole_and_longer_text_is_cut_on_a_char_boundary() {
        let exact = "x".repeat(MAX_MESSAGE_BYTES);
        assert_eq!(printable_message(&exact), exact);
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = printable_message(&long);
        assert!(cut.len() <= MAX_MESSAGE_BYTES && cut.ends_with('…'), "{} bytes", cut.len());
        let escapes = "\n".repeat(MAX_MESSAGE_BYTES);
        let cut = printable_message(&escapes);
        assert!(cut.len() <= MAX_MESSAGE_BYTES && cut.starts_with(r"\n\n") && cut.ends_with('…'));
    }

    #[test]
    fn a_rejection_names_its_stage_and_keeps_its_reason_printable() {
        let rejection = Rejection::new(Stage::AbiCheck, "forbidden import env.f\nforged");
        assert_eq!(rejection.to_string(), r"rejected at abi-check: forbidden import env.f\nforged");
    }
}
