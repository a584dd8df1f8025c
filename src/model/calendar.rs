//! Calendar arithmetic on Unix time (proleptic Gregorian, UTC), on the `time` crate's `Date`
//! rather than hand-written day formulas: the days of a date, the date of a day, `YYYYMMDD`
//! checks and the ISO-8601 text of a second.
//!
//! `time` (without its `large-dates` feature) knows the years -9999..=9999. A day or a second
//! outside them is `None` here rather than an extrapolated year: the values come from outside
//! (venue timestamps, file names, the clock), and no real one is that far out.

use time::{Date, Month, OffsetDateTime};

/// The Julian day of 1970-01-01: `time` counts days as Julian days, the callers from the epoch.
const EPOCH_JULIAN_DAY: i64 = OffsetDateTime::UNIX_EPOCH.date().to_julian_day() as i64;

/// Days since 1970-01-01 of a date; `None` unless it is a real calendar day (a month 1–12, a day
/// that month has) of a year `time` knows.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?);
    Some(i64::from(date.ok()?.to_julian_day()) - EPOCH_JULIAN_DAY)
}

/// (year, month, day) of a count of days since 1970-01-01; `None` past the years `time` knows.
pub fn civil_from_days(z: i64) -> Option<(i64, i64, i64)> {
    let julian_day = i32::try_from(z.checked_add(EPOCH_JULIAN_DAY)?).ok()?;
    let date = Date::from_julian_day(julian_day).ok()?;
    Some((
        i64::from(date.year()),
        i64::from(u8::from(date.month())),
        i64::from(date.day()),
    ))
}

/// `YYYYMMDD` text → the number, only for a real calendar day from 1970 on: eight ASCII digits,
/// a month 1–12 and a day that month has. A date from outside decides which row is the latest,
/// so `99999999` or `20240231` must not pass for one.
pub fn yyyymmdd(s: &str) -> Option<u32> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Eight ASCII digits: every range below is on a char boundary and parses.
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    if y < 1970 {
        return None;
    }
    days_from_civil(y, m, d)?;
    s.parse().ok()
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds; `None` past 9999-12-31T23:59:59Z.
pub fn format_utc(secs: u64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()?;
    // By hand rather than `time`'s `formatting` feature: one fixed layout needs no format
    // description, and the feature would pull `std` and `itoa` into the dependency.
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Howard Hinnant's `days_from_civil`, the formula this module used before `time`: the
    /// oracle the crate is checked against, day by day.
    fn hinnant_days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[test]
    fn only_real_days_are_dates() {
        assert_eq!(yyyymmdd("20240229"), Some(20240229));
        assert_eq!(yyyymmdd("19700101"), Some(19700101));
        assert_eq!(yyyymmdd("20000229"), Some(20000229));
        assert_eq!(yyyymmdd("99991231"), Some(99991231));
        for bad in [
            "20230229",
            "20240231",
            "20241301",
            "20240100",
            "04340192",
            "99999999",
            "2024021",
            "202402m2",
            "+2024021",
            "",
            "21000229",
            "19691231",
            "20240001",
            "20240432",
            "2024022９",
            "٢٠٢٤٠٢٢٩",
            "-2024022",
            " 2024022",
        ] {
            assert_eq!(yyyymmdd(bad), None, "{bad}");
        }
    }

    #[test]
    fn known_dates() {
        for ((y, m, d), days) in [
            ((1970, 1, 1), 0),
            ((1969, 12, 31), -1),
            ((2000, 2, 29), 11_016),
            ((2024, 2, 29), 19_782),
            ((2100, 2, 28), 47_540),
            ((2100, 3, 1), 47_541),
            ((1, 1, 1), -719_162),
            ((9999, 12, 31), 2_932_896),
        ] {
            assert_eq!(days_from_civil(y, m, d), Some(days), "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), Some((y, m, d)), "{days}");
        }
        // 2100 is not a leap year (divisible by 100, not by 400); 2000 was.
        assert_eq!(days_from_civil(2100, 2, 29), None);
        assert_eq!(days_from_civil(2023, 2, 29), None);
        for (y, m, d) in [(2024, 0, 1), (2024, 13, 1), (2024, 1, 0), (2024, 4, 31)] {
            assert_eq!(days_from_civil(y, m, d), None, "{y}-{m}-{d}");
        }
        assert_eq!(format_utc(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            format_utc(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            format_utc(1_709_210_096).as_deref(),
            Some("2024-02-29T12:34:56Z")
        );
        assert_eq!(
            format_utc(4_107_542_400).as_deref(),
            Some("2100-03-01T00:00:00Z")
        );
        assert_eq!(
            format_utc(253_402_300_799).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
    }

    /// Far out, from outside: `None`, never a panic or a wrapped value.
    #[test]
    fn out_of_range_is_none() {
        assert_eq!(format_utc(253_402_300_800), None);
        assert_eq!(format_utc(i64::MAX as u64), None);
        assert_eq!(format_utc(u64::MAX), None);
        for z in [
            2_932_897,
            i64::MAX,
            i64::MIN,
            i64::from(i32::MAX),
            -4_400_000,
        ] {
            assert_eq!(civil_from_days(z), None, "{z}");
        }
        for (y, m, d) in [
            (10_000, 1, 1),
            (i64::MAX, 1, 1),
            (i64::MIN, 1, 1),
            (2024, i64::MAX, 1),
            (2024, 1, i64::MIN),
            (2024, 257, 1),
            (2024, 1, 257),
        ] {
            assert_eq!(days_from_civil(y, m, d), None, "{y}-{m}-{d}");
        }
    }

    /// Every day of 1900–2400 and of 9900–9999 against the hand-written formula it replaced:
    /// the same day count, the same date back, the same `YYYYMMDD` verdict and text. The
    /// Gregorian calendar repeats every 400 years, so the first span holds every case (1970,
    /// 2000 a leap year, 2100 not); the second is the end of `time`'s range.
    #[test]
    fn every_day_agrees_with_the_old_formula() {
        let first = hinnant_days_from_civil(1900, 1, 1)..hinnant_days_from_civil(2401, 1, 1);
        let last = hinnant_days_from_civil(9900, 1, 1)..=2_932_896;
        let mut prev = None;
        for z in first.chain(last) {
            let (y, m, d) = civil_from_days(z).unwrap();
            assert_eq!(hinnant_days_from_civil(y, m, d), z);
            assert_eq!(days_from_civil(y, m, d), Some(z));
            if let Some((pz, (py, pm, pd))) = prev
                && pz + 1 == z
            {
                // The next day: of the same month, or the 1st of the next month or year.
                let next_month = d == 1 && (m == pm + 1 && y == py || m == 1 && y == py + 1);
                assert!((y, m, d) == (py, pm, pd + 1) || next_month, "{y}-{m}-{d}");
            }
            prev = Some((z, (y, m, d)));
            let text = format!("{y:04}{m:02}{d:02}");
            let want = (y >= 1970).then(|| (y * 10_000 + m * 100 + d) as u32);
            assert_eq!(yyyymmdd(&text), want, "{text}");
            if let Ok(secs) = u64::try_from(z * 86_400 + 86_399) {
                assert_eq!(
                    format_utc(secs),
                    Some(format!("{y:04}-{m:02}-{d:02}T23:59:59Z"))
                );
            }
        }
    }
}
