//! Bank of Taiwan board-rate CSV (`https://rate.bot.com.tw/xrt/flcsv/0/day`, and the history
//! variant `/xrt/flcsv/0/L6M/USD`), spec binance.md §6.1.
//!
//! Layout (21 columns; data rows end with a trailing comma):
//! `currency, 本行買入, cash buy, SPOT BUY, forward buy ×7, 本行賣出, cash sell, SPOT SELL,
//! forward sell ×7`. The history file prepends `資料日期` (YYYYMMDD), shifting every index by one.
//! The reference rate is the spot mid `(spot buy + spot sell) / 2`. Checks, each with its own
//! error: UTF-8 (a BOM is allowed; Big5, used by older boards, is refused with a clear error
//! rather than misread), the literals `本行買入`/`本行賣出` at their indices before trusting the
//! positions (index 12 is *cash* sell, a common bug), a USD row, and real quotes (`0` and `-`
//! mean none).

use super::RefQuote;
use crate::model::calendar::{civil_from_days, days_from_civil, yyyymmdd};
use crate::model::{DecimalRule, Fixed};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotCsvError {
    /// Not UTF-8, or no `本行` anywhere: probably the Big5 board or not a BoT file at all.
    NotUtf8BotCsv,
    /// No USD row.
    NoUsdRow,
    /// The literals are not where the layout puts them: the format changed.
    Layout { column: usize },
    /// `0`, `-` or a bad decimal where a spot quote should be.
    NoQuote { column: usize },
    /// A history row with a date that is not a real YYYYMMDD day.
    BadDate,
}

impl fmt::Display for BotCsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BotCsvError::NotUtf8BotCsv => {
                f.write_str("not a UTF-8 Bank of Taiwan board CSV (Big5 or another file?)")
            }
            BotCsvError::NoUsdRow => f.write_str("no USD row in the Bank of Taiwan CSV"),
            BotCsvError::Layout { column } => {
                write!(f, "unexpected Bank of Taiwan CSV layout at column {column}")
            }
            BotCsvError::NoQuote { column } => {
                write!(f, "no spot quote in column {column} of the USD row")
            }
            BotCsvError::BadDate => f.write_str("history row date is not YYYYMMDD"),
        }
    }
}

impl std::error::Error for BotCsvError {}

const BUY: &str = "本行買入";
const SELL: &str = "本行賣出";

fn quote(cols: &[&str], i: usize) -> Result<Fixed, BotCsvError> {
    let s = cols
        .get(i)
        .map(|s| s.trim())
        .ok_or(BotCsvError::Layout { column: i })?;
    match Fixed::read(s.as_bytes(), DecimalRule::UNSIGNED) {
        Ok(v) if v.raw() > 0 => Ok(v),
        _ => Err(BotCsvError::NoQuote { column: i }),
    }
}

/// Parses a day board or a history file; for history, the latest date wins.
/// `board_time_ms` (from `Content-Disposition`, see [`board_time_ms`]) is carried into the quote.
pub fn parse(body: &[u8], board_time_ms: Option<u64>) -> Result<RefQuote, BotCsvError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| BotCsvError::NotUtf8BotCsv)?;
    if !text.contains("本行") {
        return Err(BotCsvError::NotUtf8BotCsv);
    }
    let mut best: Option<(u32, RefQuote)> = None;
    for line in text.lines() {
        // Columns on the stack: no allocation per line.
        let mut buf = [""; 24];
        let mut n = 0;
        for c in line.split(',') {
            if n < buf.len() {
                buf[n] = c.trim();
            }
            n += 1;
        }
        let cols = &buf[..n.min(buf.len())];
        let (shift, date) = match (cols.first(), cols.get(1)) {
            (Some(&"USD"), _) => (0, 0),
            // The latest date wins: it must be a real day, or `99999999` would.
            (Some(d), Some(&"USD")) => (1, yyyymmdd(d).ok_or(BotCsvError::BadDate)?),
            _ => continue,
        };
        if cols.get(1 + shift) != Some(&BUY) {
            return Err(BotCsvError::Layout { column: 1 + shift });
        }
        if cols.get(11 + shift) != Some(&SELL) {
            return Err(BotCsvError::Layout { column: 11 + shift });
        }
        let buy = quote(cols, 3 + shift)?;
        let sell = quote(cols, 13 + shift)?;
        let q = RefQuote {
            // `midpoint`: no overflow for any two quotes the parser accepts.
            mid: buy.midpoint(sell),
            buy,
            sell,
            date,
            board_time_ms,
        };
        if best.as_ref().is_none_or(|(d, _)| date > *d) {
            best = Some((date, q));
        }
    }
    best.map(|(_, q)| q).ok_or(BotCsvError::NoUsdRow)
}

/// `attachment; filename="ExchangeRate@202610011419.csv"` → the board time (Taipei, UTC+8)
/// in Unix ms.
pub fn board_time_ms(content_disposition: &str) -> Option<u64> {
    let at = content_disposition.find('@')?;
    let digits = content_disposition.get(at + 1..at + 13)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits[r].parse::<i64>().ok();
    let (y, mo, d, h, mi) = (n(0..4)?, n(4..6)?, n(6..8)?, n(8..10)?, n(10..12)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 {
        return None;
    }
    // A day the month does not have (`20240231`) is not a time: no board time, not March 2nd.
    let days = days_from_civil(y, mo, d)?;
    let secs = days * 86_400 + h * 3600 + mi * 60 - 8 * 3600;
    u64::try_from(secs * 1000).ok()
}

/// The Taipei (UTC+8) calendar day of a Unix time, as YYYYMMDD: the day the rate is for.
/// A time past 9999-12-31 (the last day `time` knows; no clock reads that) is that day.
pub fn taipei_day(unix_ms: u64) -> u32 {
    let days = ((unix_ms / 1000 + 8 * 3600) / 86_400) as i64;
    civil_from_days(days).map_or(99_991_231, |(y, m, d)| (y * 10_000 + m * 100 + d) as u32)
}

/// Writes a one-row (USD) day board in the bank's format, BOM included, for the simulator.
pub fn write_day_board(out: &mut Vec<u8>, buy: Fixed, sell: Fixed) {
    use std::io::Write;
    out.clear();
    out.extend_from_slice(b"\xEF\xBB\xBF");
    out.extend_from_slice("幣別,匯率,現金,即期,遠期10天,遠期30天,遠期60天,遠期90天,遠期120天,遠期150天,遠期180天,匯率,現金,即期,遠期10天,遠期30天,遠期60天,遠期90天,遠期120天,遠期150天,遠期180天\n".as_bytes());
    let f5 = |v: Fixed| {
        let r = v.raw();
        (r / 100_000_000, (r % 100_000_000) / 1000)
    };
    let (bi, bf) = f5(buy);
    let (si, sf) = f5(sell);
    let _ = write!(out, "USD,{BUY},0,{bi}.{bf:05}");
    for _ in 0..7 {
        let _ = write!(out, ",{bi}.{bf:05}");
    }
    let _ = write!(out, ",{SELL},0,{si}.{sf:05}");
    for _ in 0..7 {
        let _ = write!(out, ",{si}.{sf:05}");
    }
    out.extend_from_slice(b",\n");
}
