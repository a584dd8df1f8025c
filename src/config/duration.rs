//! Durations as people write them on the command line: `15s`, `2m`, `1h30m`, `1h 30m`,
//! `500ms`, or a plain number of seconds (`15`, `2.5`). Units and their spellings are
//! humantime's; a bare number is seconds, as the options have always taken.

use crate::model::InvalidSetting;
use std::time::Duration;

/// Parses a positive duration; zero, negative, non-finite and unit-less junk are refused with
/// a message that says what is accepted. The error's key is the text as given, quoted (the
/// caller knows which option it came from).
pub fn parse_duration(text: &str) -> Result<Duration, InvalidSetting> {
    let bad = |reason: String| InvalidSetting::new(format!("{text:?}"), reason);
    let t = text.trim();
    let d = if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !t.is_empty() {
        let secs: f64 = t
            .parse()
            .map_err(|_| bad("not a number of seconds".into()))?;
        Duration::try_from_secs_f64(secs).map_err(|e| bad(e.to_string()))?
    } else {
        humantime::parse_duration(t).map_err(|e| {
            bad(format!(
                "{e} (write e.g. 15s, 2m, 1h30m, or a number of seconds)"
            ))
        })?
    };
    if d.is_zero() {
        return Err(bad("must be longer than zero".into()));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn the_ways_people_write_a_duration() {
        let s = Duration::from_secs;
        assert_eq!(parse_duration("15s"), Ok(s(15)));
        assert_eq!(parse_duration("2m"), Ok(s(120)));
        assert_eq!(parse_duration("1h30m"), Ok(s(5_400)));
        assert_eq!(parse_duration("1h 30m"), Ok(s(5_400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("15"), Ok(s(15)));
        assert_eq!(parse_duration(" 2.5 "), Ok(Duration::from_millis(2_500)));
    }

    #[test]
    fn what_is_not_a_duration_is_refused_with_a_reason() {
        for bad in [
            "", "0", "0s", "-5", "-5s", "abc", "15x", "1.2.3", "NaN", "inf", "1e3", "s",
        ] {
            let e = parse_duration(bad).expect_err(bad).to_string();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
        assert!(parse_duration("1e400").is_err());
    }
}
