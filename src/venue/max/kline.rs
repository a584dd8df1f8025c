//! `GET /api/v3/k` (spec max.md §2.1): candles `[[ts_sec, open, high, low, close, volume]]`.
//!
//! Real replies carry the prices and volume as JSON *numbers* (the spec's "array of string" is
//! wrong in practice), so the reply is scanned by hand: each number's text goes straight into
//! [`Fixed::read`] (unsigned, exact), never through `f64`. Strings are accepted too. Float text that is not
//! an exact 8-decimal value (`1.2e-5`, nine significant decimals) is a typed
//! [`ParseError::BadDecimal`], never a rounding and never a panic.
//!
//! [`fetch_range`] pages a time range through [`MaxRestClient::klines`]; the date helpers serve
//! `arbline klines`.

#[cfg(feature = "full")]
use super::rest_client::{MaxRestClient, RestError};
use crate::model::calendar::days_from_civil;
pub use crate::model::calendar::format_utc;
use crate::model::{DecimalRule, Fixed};
use crate::venue::{ParseError, decimal};

/// The periods MAX serves, minutes.
pub const PERIODS: [u32; 12] = [1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 4320, 10080];

/// Most candles one request returns.
pub const MAX_KLINE_LIMIT: u32 = 10_000;

/// One candle; `ts_s` is its start, Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kline {
    pub ts_s: u64,
    pub open: Fixed,
    pub high: Fixed,
    pub low: Fixed,
    pub close: Fixed,
    pub volume: Fixed,
}

const FIELDS: [&str; 5] = ["open", "high", "low", "close", "volume"];

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), ParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(ParseError::Json)
        }
    }
    /// A number token or a string's content (no escapes), as bytes.
    fn scalar(&mut self) -> Result<&'a [u8], ParseError> {
        match self.peek() {
            Some(b'"') => {
                let start = self.i + 1;
                let len = self.b[start..]
                    .iter()
                    .position(|&c| c == b'"')
                    .ok_or(ParseError::Json)?;
                let s = &self.b[start..start + len];
                if s.contains(&b'\\') {
                    return Err(ParseError::Json);
                }
                self.i = start + len + 1;
                Ok(s)
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.b.len()
                    && matches!(
                        self.b[self.i],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.i += 1;
                }
                Ok(&self.b[start..self.i])
            }
            _ => Err(ParseError::Json),
        }
    }
}

/// Parses a `/api/v3/k` (or v2 `/k`) reply.
pub fn parse_klines(body: &[u8]) -> Result<Vec<Kline>, ParseError> {
    let mut s = Scan { b: body, i: 0 };
    let mut out = Vec::new();
    s.expect(b'[')?;
    if !s.eat(b']') {
        loop {
            s.expect(b'[')?;
            let ts = s.scalar()?;
            let ts_s = std::str::from_utf8(ts)
                .ok()
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or(ParseError::BadValue("timestamp"))?;
            let mut v = [Fixed::ZERO; 5];
            for (slot, field) in v.iter_mut().zip(FIELDS) {
                s.expect(b',')?;
                // Unsigned: a `-` is BadValue(field), as any other value out of range.
                *slot = decimal(field, s.scalar()?, DecimalRule::UNSIGNED)?;
            }
            s.expect(b']')?;
            let [open, high, low, close, volume] = v;
            if high < open.max(close).max(low) || low > open.min(close) {
                return Err(ParseError::BadValue("high/low"));
            }
            out.push(Kline {
                ts_s,
                open,
                high,
                low,
                close,
                volume,
            });
            if s.eat(b']') {
                break;
            }
            s.expect(b',')?;
        }
    }
    if s.peek().is_some() {
        return Err(ParseError::Json);
    }
    Ok(out)
}

/// A candle length MAX does not serve (minutes); refused before any request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("period {0} is not one of MAX's periods (minutes): {PERIODS:?}")]
pub struct UnknownPeriod(pub u32);

/// `Ok` when `period_min` is one MAX serves, else why not.
pub fn check_period(period_min: u32) -> Result<(), UnknownPeriod> {
    if PERIODS.contains(&period_min) {
        Ok(())
    } else {
        Err(UnknownPeriod(period_min))
    }
}

/// Pages `[from_s, to_s)` of `market`'s `period_min` candles, `page` (1..=10000) per request:
/// each next request starts at the last candle's start + one period, until a candle at or past
/// `to_s` or a short page. Calls `each` once per candle, in order; returns how many.
#[cfg(feature = "full")]
pub fn fetch_range(
    client: &MaxRestClient,
    market: &str,
    period_min: u32,
    from_s: u64,
    to_s: u64,
    page: u32,
    each: &mut impl FnMut(&Kline),
) -> Result<usize, RestError> {
    check_period(period_min).map_err(|e| RestError::Invalid(e.to_string()))?;
    if from_s >= to_s {
        return Err(RestError::Invalid(format!(
            "empty range: from {from_s} is not before to {to_s}"
        )));
    }
    let step = u64::from(period_min) * 60;
    let mut next = from_s;
    let mut n = 0;
    while next < to_s {
        let rows = client.klines(market, period_min, Some(next), page)?;
        let mut last = None;
        for k in &rows {
            if k.ts_s < next {
                continue; // not asked for: MAX answers start ≥ timestamp
            }
            if k.ts_s >= to_s {
                return Ok(n);
            }
            each(k);
            n += 1;
            last = Some(k.ts_s);
        }
        match last {
            Some(ts) if rows.len() >= page as usize => next = ts + step,
            _ => break,
        }
    }
    Ok(n)
}

/// A time [`parse_time`] cannot read (the text as given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}`: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds")]
pub struct BadTime(pub String);

/// `YYYY-MM-DD` (midnight UTC), `YYYY-MM-DDTHH:MM:SSZ` or Unix seconds → Unix seconds.
pub fn parse_time(s: &str) -> Result<u64, BadTime> {
    let bad = || BadTime(s.to_string());
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad());
    }
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z').ok_or_else(bad)?)),
        None => (s, None),
    };
    let num = |p: &str, len: usize| -> Result<u32, BadTime> {
        if p.len() == len && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let dp: Vec<&str> = date.split('-').collect();
    let [y, m, d] = dp[..] else { return Err(bad()) };
    let (y, m, d) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
    // `None` for a month or day the calendar does not have (2025-02-29, 2026-13-01).
    let days = days_from_civil(i64::from(y), i64::from(m), i64::from(d))
        .filter(|_| y >= 1970)
        .ok_or_else(bad)?;
    let mut secs = 0;
    if let Some(t) = time {
        let tp: Vec<&str> = t.split(':').collect();
        let [hh, mm, ss] = tp[..] else {
            return Err(bad());
        };
        let (hh, mm, ss) = (num(hh, 2)?, num(mm, 2)?, num(ss, 2)?);
        if hh > 23 || mm > 59 || ss > 59 {
            return Err(bad());
        }
        secs = u64::from(hh * 3600 + mm * 60 + ss);
    }
    // From 1970 on: `days` is not negative.
    Ok(days as u64 * 86_400 + secs)
}

/// The CSV header `arbline klines` writes.
pub const CSV_HEADER: &str = "timestamp,time_utc,open,high,low,close,volume";

/// One CSV row (no newline).
pub fn csv_row(k: &Kline) -> String {
    format!(
        "{},{},{},{},{},{},{}",
        k.ts_s,
        // Past 9999-12-31 (not a real candle) the cell is empty rather than a made-up date.
        format_utc(k.ts_s).unwrap_or_default(),
        k.open,
        k.high,
        k.low,
        k.close,
        k.volume
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_time("2026-01-01").unwrap(), 1_767_225_600);
        assert_eq!(parse_time("1767225600").unwrap(), 1_767_225_600);
        assert_eq!(parse_time("2024-02-29T12:34:56Z").unwrap(), 1_709_210_096);
        assert_eq!(
            format_utc(1_709_210_096).as_deref(),
            Some("2024-02-29T12:34:56Z")
        );
        assert_eq!(format_utc(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        for bad in [
            "",
            "2026-13-01",
            "2025-02-29",
            "2026-1-1",
            "2026-01-01T25:00:00Z",
            "yesterday",
            "2026-01-01T00:00:00",
            "-5",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
