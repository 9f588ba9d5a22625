//! Time budgets written like `90s`, `10m`, `8h` or `1h30m`.

use std::time::Duration;

/// Parses a budget: one or more `<number><unit>` with units `s`, `m`, `h`, `d`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let malformed = || format!("malformed duration `{text}`: expected e.g. 90s, 10m, 8h or 1h30m");
    let mut total: u64 = 0;
    let mut digits = String::new();
    for character in text.trim().chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        let unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(malformed()),
        };
        let number: u64 = digits.parse().map_err(|_| malformed())?;
        total = number.checked_mul(unit).and_then(|seconds| total.checked_add(seconds)).ok_or_else(malformed)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(malformed());
    }
    Ok(Duration::from_secs(total))
}

/// `1h02m03s` style, for people.
pub fn display(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("8h"), Ok(Duration::from_secs(8 * 3600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn refuses_malformed_budgets() {
        for text in ["", "10", "m", "10x", "0s", "-5m", "99999999999999999999h"] {
            let error = parse(text).unwrap_err();
            assert!(error.contains("malformed duration"), "{text}: {error}");
        }
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(display(Duration::from_secs(45)), "45s");
        assert_eq!(display(Duration::from_secs(125)), "2m05s");
        assert_eq!(display(Duration::from_secs(3725)), "1h02m05s");
    }
}
