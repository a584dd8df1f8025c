//! serde building blocks shared by the MAX WebSocket parsers: visitors that parse decimals and
//! level arrays straight out of `serde_json`'s borrowed input into caller-owned storage, so a
//! frame allocates nothing on the success path.
//!
//! serde errors are untyped, so the seeds record *why* they failed (a [`ParseError`]) in an
//! [`ErrSlot`] before returning a generic serde error; the parser reports the slot's error when
//! there is one and [`ParseError::Json`] otherwise. Keys and string fields are borrowed `&str`:
//! MAX never escapes them, and an escaped one is a shape error, not a panic.

use crate::model::{Fixed, Level};
use crate::venue::ParseError;
use serde::de::{self, DeserializeSeed, IgnoredAny, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;

/// The first typed error a seed met while deserializing one frame.
pub(crate) type ErrSlot = Cell<Option<ParseError>>;

/// Records `e` (the first one wins) and returns a serde error that aborts the parse.
pub(crate) fn fail<E: de::Error>(slot: &ErrSlot, e: ParseError) -> E {
    if slot.get().is_none() {
        slot.set(Some(e));
    }
    E::custom("typed error recorded")
}

/// The slot's typed error, else the generic shape error.
pub(crate) fn take_err(slot: &ErrSlot) -> ParseError {
    slot.take().unwrap_or(ParseError::Json)
}

/// Parses a decimal string field into [`Fixed`] (never via `f64`).
pub(crate) fn dec<E: de::Error>(slot: &ErrSlot, field: &'static str, s: &str) -> Result<Fixed, E> {
    Fixed::parse_bytes(s.as_bytes())
        .map_err(|err| fail(slot, ParseError::BadDecimal { field, err }))
}

/// Cuts the fraction of a decimal string after [`crate::model::fixed::DECIMALS`] digits.
///
/// Only for *average* prices (`ap`, `avg_price`): MAX computes them as a quotient and sends up
/// to 27 fractional digits (`"2112833.333333333333333333333333333"` in the Node SDK fixture), so
/// they are truncated toward zero to 10⁻⁸. Prices, volumes and fees stay exact and strict.
pub(crate) fn truncate_fraction(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == b'.') {
        Some(dot) if s.len() > dot + 1 + crate::model::fixed::DECIMALS as usize => {
            &s[..dot + 1 + crate::model::fixed::DECIMALS as usize]
        }
        _ => s,
    }
}

/// A decimal string, or `null` (→ `None`).
pub(crate) struct OptDecSeed<'a> {
    pub slot: &'a ErrSlot,
    pub field: &'static str,
    /// Truncate beyond 8 fractional digits (average prices only, see [`truncate_fraction`]).
    pub truncate: bool,
}

impl<'de> DeserializeSeed<'de> for OptDecSeed<'_> {
    type Value = Option<Fixed>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptDecSeed<'_> {
    type Value = Option<Fixed>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal string or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let s: &'de str = de::Deserialize::deserialize(d)?;
        let b = if self.truncate {
            truncate_fraction(s.as_bytes())
        } else {
            s.as_bytes()
        };
        Fixed::parse_bytes(b).map(Some).map_err(|err| {
            fail(
                self.slot,
                ParseError::BadDecimal {
                    field: self.field,
                    err,
                },
            )
        })
    }
}

/// `[[price, qty], ...]` appended into a pre-allocated vector (cleared first). Price must be
/// positive and quantity not negative; more than `cap` levels is [`ParseError::TooLarge`].
pub(crate) struct LevelsSeed<'a> {
    pub out: &'a mut Vec<Level>,
    pub slot: &'a ErrSlot,
    pub field: &'static str,
    pub cap: usize,
}

impl<'de> DeserializeSeed<'de> for LevelsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LevelsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of [price, volume] string pairs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.clear();
        while let Some(l) = seq.next_element_seed(LevelSeed {
            slot: self.slot,
            field: self.field,
        })? {
            if self.out.len() >= self.cap {
                return Err(fail(self.slot, ParseError::TooLarge));
            }
            self.out.push(l);
        }
        Ok(())
    }
}

struct LevelSeed<'a> {
    slot: &'a ErrSlot,
    field: &'static str,
}

impl<'de> DeserializeSeed<'de> for LevelSeed<'_> {
    type Value = Level;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Level, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LevelSeed<'_> {
    type Value = Level;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("[price, volume]")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Level, A::Error> {
        let p: &'de str = seq
            .next_element()?
            .ok_or_else(|| fail(self.slot, ParseError::BadValue(self.field)))?;
        let q: &'de str = seq
            .next_element()?
            .ok_or_else(|| fail(self.slot, ParseError::BadValue(self.field)))?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        let price = dec(self.slot, self.field, p)?;
        let qty = dec(self.slot, self.field, q)?;
        if price.raw() <= 0 || qty.raw() < 0 {
            return Err(fail(self.slot, ParseError::BadValue(self.field)));
        }
        Ok(Level { price, qty })
    }
}

/// `["E-1004: invalid action", ...]` → the code of the first entry (spec §3.3).
pub(crate) struct ErrorsSeed<'a> {
    pub slot: &'a ErrSlot,
}

impl<'de> DeserializeSeed<'de> for ErrorsSeed<'_> {
    type Value = u32;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ErrorsSeed<'_> {
    type Value = u32;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of \"E-<code>: <message>\" strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u32, A::Error> {
        let first: Option<&'de str> = seq.next_element()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        first
            .and_then(error_code)
            .ok_or_else(|| fail(self.slot, ParseError::BadValue("E")))
    }
}

/// `"E-1004: invalid action"` → `1004`.
pub(crate) fn error_code(s: &str) -> Option<u32> {
    let rest = s.strip_prefix("E-")?;
    let end = rest
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}
