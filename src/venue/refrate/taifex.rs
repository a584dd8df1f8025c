//! TAIFEX daily FX reference rates (`openapi.taifex.com.tw/v1/DailyForeignExchangeRates`), the
//! official JSON fallback (spec binance.md §6.2): an array of rows with string values, `Date`
//! YYYYMMDD and `USD/NTD`. The latest date wins.
//!
//! The document must be a JSON array; each row is judged on its own. A row that is not an
//! object, has a `Date` that is not a real day as an 8-digit string (`99999999` would always be
//! the latest), a `USD/NTD` that is missing, `null`, not
//! a string or not a positive exact decimal, or either key twice, is skipped and counted
//! ([`TaifexRates::skipped_rows`]): one odd row does not cost the whole document.

use super::RefQuote;
use crate::model::calendar::yyyymmdd;
use crate::model::{DecimalRule, Fixed};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The latest USD/NTD rate of a document and how many rows were not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaifexRates {
    pub quote: RefQuote,
    pub skipped_rows: usize,
}

/// `(date, rate)` of a usable row, `None` for a skipped one.
struct Row(Option<(u32, Fixed)>);

/// A string value, or the fact that the value was of another JSON type.
enum Text<'a> {
    Str(&'a str),
    Other,
}

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text::Str(v))
    }
    // An escaped string cannot be borrowed; no date or rate needs an escape.
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Text<'de>, E> {
        Ok(Text::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text<'de>, E> {
        Ok(Text::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text<'de>, E> {
        Ok(Text::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text<'de>, E> {
        Ok(Text::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text<'de>, E> {
        Ok(Text::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Text<'de>, E> {
        Ok(Text::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text::Other)
    }
}

/// A row's key; read unescaped (`"USD\/NTD"` is `USD/NTD`).
enum Key {
    Date,
    UsdNtd,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match v {
            "Date" => Key::Date,
            "USD/NTD" => Key::UsdNtd,
            _ => Key::Other,
        })
    }
}

impl<'de> de::Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RowVisitor)
    }
}

struct RowVisitor;

impl RowVisitor {
    fn other<E>(self) -> Result<Row, E> {
        Ok(Row(None))
    }
}

impl<'de> Visitor<'de> for RowVisitor {
    type Value = Row;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TAIFEX rate row")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
        let (mut d, mut rate): (Option<Text>, Option<Text>) = (None, None);
        let mut twice = false;
        while let Some(key) = map.next_key::<Key>()? {
            let slot = match key {
                Key::Date => &mut d,
                Key::UsdNtd => &mut rate,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            twice |= slot.is_some();
            *slot = Some(map.next_value()?);
        }
        let (Some(Text::Str(d)), Some(Text::Str(rate))) = (d, rate) else {
            return Ok(Row(None));
        };
        if twice {
            return Ok(Row(None));
        }
        let rate = Fixed::read(rate.as_bytes(), DecimalRule::UNSIGNED)
            .ok()
            .filter(|v| v.raw() > 0);
        Ok(Row(yyyymmdd(d).zip(rate)))
    }
    fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Row, E> {
        self.other()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Row, E> {
        self.other()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Row, E> {
        self.other()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Row, E> {
        self.other()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Row, E> {
        self.other()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Row, E> {
        self.other()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Row, E> {
        self.other()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Row, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.other()
    }
}

/// Why a TAIFEX document gave no rate. Asking again returns the same document: not worth a
/// retry before the source publishes another.
#[derive(Debug, thiserror::Error)]
pub enum TaifexError {
    /// Not a JSON array of rows.
    #[error("TAIFEX JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Rows, but none with a string `Date` and a USD/NTD rate.
    #[error("TAIFEX JSON: no row with a USD/NTD rate ({skipped_rows} rows skipped)")]
    NoRate { skipped_rows: usize },
}

/// The latest usable row of a document, and the count of rows skipped.
pub fn parse_rates(body: &[u8]) -> Result<TaifexRates, TaifexError> {
    let rows: Vec<Row> = serde_json::from_slice(body)?;
    let mut best: Option<(u32, Fixed)> = None;
    let mut skipped_rows = 0;
    for Row(r) in rows {
        let Some((date, v)) = r else {
            skipped_rows += 1;
            continue;
        };
        if best.is_none_or(|(d, _)| date > d) {
            best = Some((date, v));
        }
    }
    let (date, mid) = best.ok_or(TaifexError::NoRate { skipped_rows })?;
    Ok(TaifexRates {
        quote: RefQuote {
            mid,
            buy: mid,
            sell: mid,
            date,
            board_time_ms: None,
        },
        skipped_rows,
    })
}

/// [`parse_rates`]' quote.
pub fn parse(body: &[u8]) -> Result<RefQuote, TaifexError> {
    parse_rates(body).map(|r| r.quote)
}
