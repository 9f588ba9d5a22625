//! Delta debugging (ddmin) over a list: bytes, sections, commands.

/// Removes ever smaller chunks of `input` while `still_fails` says the rest
/// still fails. Stops when no chunk can go.
pub fn delta_debug<T: Clone>(mut input: Vec<T>, still_fails: &mut dyn FnMut(&[T]) -> bool) -> Vec<T> {
    let mut chunks = 2;
    while input.len() >= 2 && chunks <= input.len() {
        let size = input.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..input.len()).step_by(size) {
            let end = (start + size).min(input.len());
            let candidate: Vec<T> = input[..start].iter().chain(&input[end..]).cloned().collect();
            if still_fails(&candidate) {
                input = candidate;
                chunks = (chunks - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if chunks == input.len() {
                break;
            }
            chunks = (chunks * 2).min(input.len());
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_debugging_keeps_only_what_makes_it_fail() {
        let input = b"xxxxcxxrxxxaxxsxxhxxxx".to_vec();
        let mut tries = 0;
        let minimized = delta_debug(input, &mut |candidate| {
            tries += 1;
            let text = String::from_utf8_lossy(candidate);
            let mut wanted = "crash".chars();
            let mut next = wanted.next();
            for character in text.chars() {
                if Some(character) == next {
                    next = wanted.next();
                }
            }
            next.is_none()
        });
        assert_eq!(minimized, b"crash");
        assert!(tries < 200, "{tries} tries");
    }

    #[test]
    fn a_prefix_failure_shrinks_to_the_prefix() {
        let minimized = delta_debug(b"crash and a long tail".to_vec(), &mut |candidate| candidate.starts_with(b"crash"));
        assert_eq!(minimized, b"crash");
    }
}
