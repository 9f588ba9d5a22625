//! The oracle every layer applies to its outcome: the embedder's messages are
//! fit to be logged.
//!
//! A service running untrusted modules logs why it refused or stopped one.
//! Those messages quote names the guest chose (imports, exports, function
//! names in a backtrace), so an embedder that passes them through verbatim lets
//! a module write its own log lines, terminal escapes or megabytes of text
//! into the host's logs.

use contract::{End, MAX_MESSAGE_BYTES, Outcome, TrapCode};

/// Panics with `oracle:` unless every message in `outcome` is one line of
/// printable text of at most [`MAX_MESSAGE_BYTES`], and the outcome's
/// rendering for people is a single printable line too.
pub fn check(outcome: &Outcome) {
    crate::phase::timed("oracle:messages", || check_messages(outcome));
}

fn check_messages(outcome: &Outcome) {
    let message = match &outcome.end {
        End::Rejected(rejection) => Some(rejection.reason.as_str()),
        End::Trap(TrapCode::Other(text)) | End::Error(text) => Some(text.as_str()),
        _ => None,
    };
    if let Some(message) = message {
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "oracle: a message of {} bytes, over the {MAX_MESSAGE_BYTES}-byte bound: {:?}…",
            message.len(),
            message.chars().take(80).collect::<String>()
        );
        check_printable("message", message);
    }
    check_printable("rendered outcome", &format!("{} {}", outcome.stage, outcome.end));
}

fn check_printable(what: &str, text: &str) {
    if let Some(control) = text.chars().find(|character| shapes_logs(*character)) {
        panic!("oracle: {what} holds the control character {control:?}, so a guest can shape the host's logs: {text:?}");
    }
}

/// Characters that break a log line or change how a terminal shows it:
/// C0/C1 controls (line feed, escape, ...), Unicode line and paragraph
/// separators, and bidirectional embeddings, overrides and isolates.
fn shapes_logs(character: char) -> bool {
    character.is_control() || matches!(character, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use contract::{Rejection, Stage};

    use super::*;

    fn rejected(reason: &str) -> Outcome {
        Outcome::rejected(Rejection { stage: Stage::AbiCheck, reason: reason.to_owned() })
    }

    #[test]
    fn stays_quiet_on_a_plain_reason() {
        check(&rejected("forbidden import env.f"));
    }

    #[test]
    #[should_panic(expected = "oracle: message holds the control character '\\n'")]
    fn fires_on_a_newline_in_a_reason() {
        check(&rejected("forbidden import env.f\nINFO forged log line"));
    }

    #[test]
    #[should_panic(expected = "oracle: message holds the control character '\\u{1b}'")]
    fn fires_on_a_terminal_escape_in_a_trap_message() {
        let mut outcome = rejected("");
        outcome.end = End::Trap(TrapCode::Other("error in \u{1b}[2Jfunc".to_owned()));
        check(&outcome);
    }

    #[test]
    #[should_panic(expected = "oracle: message holds the control character '\\u{202e}'")]
    fn fires_on_a_bidirectional_override() {
        check(&rejected("export main\u{202e}"));
    }

    #[test]
    #[should_panic(expected = "over the 1024-byte bound")]
    fn fires_on_a_reason_past_the_bound() {
        check(&rejected(&"n".repeat(MAX_MESSAGE_BYTES + 100)));
    }
}
