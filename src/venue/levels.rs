//! Shared pieces of the JSON parsers: `[[price, qty], ...]` level arrays decoded straight into a
//! reused buffer (no `Vec` per message), exact decimals from JSON strings, and the chunking of a
//! frame's levels into fixed-size [`MdEvent`]s.

use super::parse_error::ParseError;
use crate::model::{Fixed, Level, MD_LEVELS, MdEvent};
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;

thread_local! {
    /// The first decimal error met inside a level array: serde errors are strings, so the
    /// typed cause is carried beside them (no allocation on the happy path).
    static LEVEL_ERROR: Cell<Option<ParseError>> = const { Cell::new(None) };
}

/// Records `e` as the typed cause of the current parse failure (first one wins).
pub fn record_error(e: ParseError) {
    fail(e)
}

fn fail(e: ParseError) {
    LEVEL_ERROR.with(|c| {
        if c.get().is_none() {
            c.set(Some(e))
        }
    });
}

/// Clears the recorded cause; call before a parse.
pub fn reset_level_error() {
    LEVEL_ERROR.with(|c| c.set(None));
}

/// The recorded cause, or `fallback` (usually [`ParseError::Json`]).
pub fn take_level_error(fallback: ParseError) -> ParseError {
    LEVEL_ERROR.with(|c| c.take()).unwrap_or(fallback)
}

/// Parses a wire decimal; negative values are refused (prices and sizes are never negative).
#[inline]
pub fn decimal(field: &'static str, s: &str) -> Result<Fixed, ParseError> {
    let v = Fixed::parse(s).map_err(|err| ParseError::BadDecimal { field, err })?;
    if v.raw() < 0 {
        return Err(ParseError::BadValue(field));
    }
    Ok(v)
}

/// `DeserializeSeed` that appends every `[price, qty]` pair of an array to `levels`.
pub struct LevelsInto<'v> {
    pub levels: &'v mut Vec<Level>,
    pub field: &'static str,
}

impl<'de> DeserializeSeed<'de> for LevelsInto<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LevelsInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of [price, quantity] string pairs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(pair) = seq.next_element::<PairStr<'de>>()? {
            let price = decimal(self.field, pair.0).map_err(|e| {
                fail(e);
                de::Error::custom("bad price")
            })?;
            let qty = decimal(self.field, pair.1).map_err(|e| {
                fail(e);
                de::Error::custom("bad quantity")
            })?;
            self.levels.push(Level { price, qty });
        }
        Ok(())
    }
}

/// One `["price","qty"]` pair (extra elements, as in some feeds, are ignored).
struct PairStr<'a>(&'a str, &'a str);

impl<'de: 'a, 'a> de::Deserialize<'de> for PairStr<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PairStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[price, quantity]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<PairStr<'de>, A::Error> {
                let p: &'de str = s
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let q: &'de str = s
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while s.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(PairStr(p, q))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Emits `bids` then `asks` as consecutive chunks of at most [`MD_LEVELS`] levels, each a copy
/// of `header` with its own `chunk`, `last_chunk`, counts and levels. A frame without levels
/// still yields one (empty, final) chunk. Returns the number of events.
#[inline]
pub fn emit_chunks<F: FnMut(&MdEvent)>(
    header: &MdEvent,
    bids: &[Level],
    asks: &[Level],
    out: &mut F,
) -> usize {
    let total = bids.len() + asks.len();
    let chunks = total.div_ceil(MD_LEVELS).max(1);
    let mut ev = *header;
    let mut k = 0;
    for c in 0..chunks {
        let end = ((c + 1) * MD_LEVELS).min(total);
        let mut nb = 0u8;
        let mut na = 0u8;
        let mut slot = 0;
        while k < end {
            if k < bids.len() {
                ev.levels[slot] = bids[k];
                nb += 1;
            } else {
                ev.levels[slot] = asks[k - bids.len()];
                na += 1;
            }
            slot += 1;
            k += 1;
        }
        ev.chunk = c as u16;
        ev.last_chunk = c + 1 == chunks;
        ev.n_bids = nb;
        ev.n_asks = na;
        out(&ev);
    }
    chunks
}

/// Maps a serde_json error to our typed error, preferring a recorded decimal cause.
pub fn json_error(_e: serde_json::Error) -> ParseError {
    take_level_error(ParseError::Json)
}

/// For decimal fields outside level arrays.
pub fn opt_decimal(field: &'static str, s: Option<&str>) -> Result<Fixed, ParseError> {
    match s {
        Some(s) => decimal(field, s),
        None => Err(ParseError::MissingField(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_bids_then_asks() {
        let l = |i: i64| Level {
            price: Fixed::from_int(i),
            qty: Fixed::ONE,
        };
        let bids: Vec<Level> = (1..=25).map(l).collect();
        let asks: Vec<Level> = (100..120).map(l).collect();
        let mut got = Vec::new();
        let n = emit_chunks(&MdEvent::default(), &bids, &asks, &mut |e: &MdEvent| {
            got.push(*e)
        });
        assert_eq!(n, 3);
        assert_eq!(
            (got[0].n_bids, got[0].n_asks, got[0].last_chunk),
            (20, 0, false)
        );
        assert_eq!((got[1].n_bids, got[1].n_asks), (5, 15));
        assert_eq!(
            (
                got[2].n_bids,
                got[2].n_asks,
                got[2].last_chunk,
                got[2].chunk
            ),
            (0, 5, true, 2)
        );
        let mut none = Vec::new();
        emit_chunks(&MdEvent::default(), &[], &[], &mut |e: &MdEvent| {
            none.push(*e)
        });
        assert_eq!(none.len(), 1);
        assert!(none[0].last_chunk && none[0].n_bids == 0);
    }
}
