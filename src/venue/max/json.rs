//! serde building blocks shared by the MAX WebSocket parsers: visitors that parse decimals and
//! level arrays straight out of `serde_json`'s borrowed input into caller-owned storage, so a
//! frame allocates nothing on the success path.
//!
//! serde errors are untyped, so the seeds record *why* they failed (a [`ParseError`]) in an
//! [`ErrSlot`] before returning a generic serde error; the parser reports the slot's error when
//! there is one and [`ParseError::Json`] otherwise. Keys and string fields are borrowed `&str`:
//! MAX never escapes them, and an escaped one is a shape error, not a panic.

use crate::model::{DecimalRule, Fixed, Level};
use crate::venue::{ParseError, decimal};
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

/// Parses an unsigned decimal string field into [`Fixed`], exactly (never via `f64`).
pub(crate) fn dec<E: de::Error>(slot: &ErrSlot, field: &'static str, s: &str) -> Result<Fixed, E> {
    decimal(field, s.as_bytes(), DecimalRule::UNSIGNED).map_err(|e| fail(slot, e))
}

/// The known keys already met in one JSON object, one bit each (the caller numbers them): a
/// second occurrence is [`ParseError::DuplicateField`], so a frame is never read as its first,
/// its last or (for arrays appended to) both copies of a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen(u32);

impl Seen {
    #[inline]
    pub(crate) fn once<E: de::Error>(
        &mut self,
        slot: &ErrSlot,
        bit: u32,
        field: &'static str,
    ) -> Result<(), E> {
        let b = 1u32 << bit;
        if self.0 & b != 0 {
            return Err(fail(slot, ParseError::DuplicateField(field)));
        }
        self.0 |= b;
        Ok(())
    }

    /// Marks the key numbered `bit` as met, for a byte scanner that checks duplicates itself.
    #[inline]
    pub(crate) fn mark(&mut self, bit: u32) {
        self.0 |= 1u32 << bit;
    }

    /// Whether the key numbered `bit` was met.
    #[inline]
    pub(crate) fn has(&self, bit: u32) -> bool {
        self.0 & (1u32 << bit) != 0
    }
}

/// A decimal string, or `null` (→ `None`), read under `rule` (see [`Fixed::read`]): unsigned
/// everywhere in MAX; [`DecimalRule::UNSIGNED_TRUNCATING`] only for average prices (`ap`),
/// which MAX computes as a quotient and sends with up to 27 fractional digits
/// (`"2112833.333333333333333333333333333"` in the Node SDK fixture).
pub(crate) struct OptDecSeed<'a> {
    pub slot: &'a ErrSlot,
    pub field: &'static str,
    pub rule: DecimalRule,
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
        decimal(self.field, s.as_bytes(), self.rule)
            .map(Some)
            .map_err(|e| fail(self.slot, e))
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
