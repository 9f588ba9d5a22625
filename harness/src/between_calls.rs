//! The between-calls oracle: an embedder that runs every invocation in a
//! fresh instance must answer a request the same way whatever ran before it
//! on the same loaded module. A layer runs a request, a different one, and
//! the first again, and hands the two outcomes of the first here: a
//! response, a log line, stdout, stderr or an ending that differs is state
//! that survived from one call into the next.

use contract::{End, Outcome};

/// Panics with `oracle:` when `again`, the outcome of a request run after
/// `between`, differs from `first`, the same request's outcome before it.
/// Runs stopped by the wall clock are not compared (their ending depends on
/// the machine's load).
pub fn check(first: &Outcome, again: &Outcome, between: &str) {
    if first.end == End::DeadlineExceeded || again.end == End::DeadlineExceeded {
        return;
    }
    let survived = |what: &str, before: String, after: String| {
        format!("oracle: state survived between calls: {what} of the same request, first {before}, then after {between} {after}")
    };
    assert!(first.end == again.end, "{}", survived("ending", format!("{:?}", first.end), format!("{:?}", again.end)));
    let shown = |bytes: &[u8]| format!("{} bytes {:?}", bytes.len(), String::from_utf8_lossy(bytes.get(..64).unwrap_or(bytes)));
    for (what, before, after) in
        [("response", &first.response, &again.response), ("stdout", &first.stdout, &again.stdout), ("stderr", &first.stderr, &again.stderr)]
    {
        assert!(before == after, "{}", survived(what, shown(before), shown(after)));
    }
    assert!(first.logs == again.logs, "{}", survived("log lines", format!("{:?}", first.logs), format!("{:?}", again.logs)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::{Stage, TrapCode};

    fn answered(response: &[u8]) -> Outcome {
        let mut outcome = Outcome::ended(Stage::Execute, End::Ok);
        outcome.response = response.to_vec();
        outcome
    }

    #[test]
    fn stays_quiet_on_the_same_outcome() {
        check(&answered(b"digest"), &answered(b"digest"), "another request");
    }

    #[test]
    #[should_panic(
        expected = "oracle: state survived between calls: response of the same request, first 6 bytes \"digest\", then after another request 12 bytes"
    )]
    fn fires_on_a_response_that_kept_an_earlier_one() {
        check(&answered(b"digest"), &answered(b"staledigest!"), "another request");
    }

    #[test]
    #[should_panic(expected = "ending of the same request, first Ok, then after another request Trap(Unreachable)")]
    fn fires_on_another_ending() {
        let trapped = Outcome::ended(Stage::Execute, End::Trap(TrapCode::Unreachable));
        check(&answered(b""), &trapped, "another request");
    }

    #[test]
    #[should_panic(expected = "log lines of the same request, first []")]
    fn fires_on_a_log_line_left_from_before() {
        let mut again = answered(b"");
        again.logs.push("from the call before".to_owned());
        check(&answered(b""), &again, "another request");
    }

    #[test]
    fn does_not_compare_runs_the_clock_stopped() {
        let stopped = Outcome::ended(Stage::Execute, End::DeadlineExceeded);
        check(&answered(b"digest"), &stopped, "another request");
    }
}
