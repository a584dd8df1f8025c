//! The serde visitor: one pass over wrapper and payload, scalars into [`Fields`], levels into
//! the parser's buffers, decimals read exactly; the first error is kept in `Fields`.

use super::fields::{Event, Fields, Key};
use crate::model::instrument::SYMBOL_CAP;
use crate::model::{DecimalError, DecimalRule, Fixed, Level};
use crate::venue::{ParseError, decimal};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

pub(super) struct Ctx<'s> {
    pub(super) f: &'s mut Fields,
    pub(super) bids: &'s mut Vec<Level>,
    pub(super) asks: &'s mut Vec<Level>,
}

impl Ctx<'_> {
    pub(super) fn reborrow(&mut self) -> Ctx<'_> {
        Ctx {
            f: self.f,
            bids: self.bids,
            asks: self.asks,
        }
    }

    /// A decimal that must be an unsigned exact value (the range is checked per event).
    pub(super) fn decimal(&mut self, key: Key, v: &[u8]) -> Option<Fixed> {
        match decimal(key.name(), v, DecimalRule::UNSIGNED) {
            Ok(x) => Some(x),
            Err(e) => {
                self.f.fail(e);
                None
            }
        }
    }

    pub(super) fn on_str(&mut self, key: Key, v: &[u8]) {
        match key {
            Key::EventType => self.f.event = Event::from_name(v),
            Key::Symbol => {
                if v.len() <= SYMBOL_CAP {
                    self.f.symbol[..v.len()].copy_from_slice(v);
                    self.f.symbol_len = v.len();
                } else {
                    self.f.symbol_len = SYMBOL_CAP + 1;
                }
            }
            Key::B => self.f.bid = self.decimal(key, v),
            Key::BidQty => self.f.bid_qty = self.decimal(key, v),
            Key::A => self.f.ask = self.decimal(key, v),
            Key::AskQty => self.f.ask_qty = self.decimal(key, v),
            Key::Price => self.f.price = self.decimal(key, v),
            Key::Qty => self.f.qty = self.decimal(key, v),
            Key::Msg => self.f.has_msg = true,
            // `id` may be an alphanumeric string (spot); the stream name is not needed.
            Key::Id => self.f.has_id = true,
            Key::Stream | Key::Other => {}
            _ => self.f.fail(ParseError::Json),
        }
    }

    pub(super) fn on_u64(&mut self, key: Key, v: u64) {
        match key {
            Key::EventTime => self.f.event_ms = Some(v),
            Key::FirstId => self.f.first_id = Some(v),
            Key::LastId => self.f.last_id = Some(v),
            Key::PrevId => match i64::try_from(v) {
                Ok(v) => self.f.prev_id = Some(v),
                Err(_) => self.f.fail(ParseError::BadValue("pu")),
            },
            Key::A => self.f.agg_id = Some(v),
            Key::TradeId => self.f.trade_id = Some(v),
            Key::LastUpdateId => self.f.last_update_id = Some(v),
            Key::Id => self.f.has_id = true,
            Key::Code => self.f.has_code = true,
            Key::Other => {}
            _ => self.f.fail(ParseError::Json),
        }
    }

    pub(super) fn on_i64(&mut self, key: Key, v: i64) {
        match key {
            // `pu` is -1 when there is no previous event (COIN-M, spec §2.3).
            Key::PrevId => self.f.prev_id = Some(v),
            Key::Code => self.f.has_code = true,
            Key::Id => self.f.has_id = true,
            Key::Other => {}
            Key::EventTime
            | Key::FirstId
            | Key::LastId
            | Key::A
            | Key::TradeId
            | Key::LastUpdateId => self.f.fail(ParseError::BadValue(key.name())),
            _ => self.f.fail(ParseError::Json),
        }
    }

    pub(super) fn on_bool(&mut self, key: Key, v: bool) {
        match key {
            Key::BuyerMaker => self.f.buyer_maker = Some(v),
            Key::Result | Key::Other => {}
            _ => self.f.fail(ParseError::Json),
        }
    }

    /// A value of a type no known key takes here (float, null, object, array).
    pub(super) fn on_other(&mut self, key: Key, is_null: bool) {
        match (key, is_null) {
            (Key::Other | Key::Stream, _) => {}
            (Key::Id, true) => self.f.has_id = true,
            _ => self.f.fail(ParseError::Json),
        }
    }
}

/// Visits a JSON object: the top level (with `data`'s fields to fill if it is a wrapper) or
/// `data` (`data: None`: no further nesting).
pub(super) struct ObjectSeed<'s> {
    pub(super) ctx: Ctx<'s>,
    pub(super) data: Option<&'s mut Fields>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<(), M::Error> {
        // Known keys met so far in this object (bit = `Key as u32`): a second one is refused.
        let mut seen: u32 = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key != Key::Other {
                let bit = 1u32 << key as u32;
                if seen & bit != 0 {
                    let e = ParseError::DuplicateField(key.name());
                    self.ctx.f.fail(e);
                    if let Some(d) = self.data.as_deref_mut() {
                        d.fail(e);
                    }
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                seen |= bit;
            }
            let payload_seen = self.data.as_deref().is_some_and(|d| d.is_payload);
            match key {
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Result => {
                    self.ctx.f.has_result = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Data if self.data.is_some() => {
                    let Some(d) = self.data.as_deref_mut() else {
                        continue;
                    };
                    d.is_payload = true;
                    // Levels read beside `data` before it are not the payload's.
                    self.ctx.bids.clear();
                    self.ctx.asks.clear();
                    map.next_value_seed(ObjectSeed {
                        ctx: Ctx {
                            f: d,
                            bids: &mut *self.ctx.bids,
                            asks: &mut *self.ctx.asks,
                        },
                        data: None,
                    })?;
                }
                // Level arrays beside `data`, after it: checked for syntax, kept out of the
                // payload's buffers.
                Key::B | Key::A | Key::Bids | Key::Asks if payload_seen => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => map.next_value_seed(ValueSeed {
                    key,
                    ctx: self.ctx.reborrow(),
                })?,
            }
        }
        Ok(())
    }
}

/// Reads an object key without allocating (borrowed, or transient when escaped).
pub(super) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::from_bytes(v.as_bytes()))
    }
}

/// Reads the value of one known key, dispatching on its JSON type.
pub(super) struct ValueSeed<'s> {
    pub(super) key: Key,
    pub(super) ctx: Ctx<'s>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Binance field value")
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        self.ctx.on_str(self.key, v.as_bytes());
        Ok(())
    }
    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        self.ctx.on_u64(self.key, v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        if v >= 0 {
            self.ctx.on_u64(self.key, v as u64);
        } else {
            self.ctx.on_i64(self.key, v);
        }
        Ok(())
    }
    fn visit_f64<E: de::Error>(mut self, _v: f64) -> Result<(), E> {
        self.ctx.on_other(self.key, false);
        Ok(())
    }
    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<(), E> {
        self.ctx.on_bool(self.key, v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.ctx.on_other(self.key, true);
        Ok(())
    }
    fn visit_seq<S: SeqAccess<'de>>(mut self, mut seq: S) -> Result<(), S::Error> {
        let (out, has) = match self.key {
            Key::B => (&mut *self.ctx.bids, &mut self.ctx.f.has_bids),
            Key::A => (&mut *self.ctx.asks, &mut self.ctx.f.has_asks),
            Key::Bids => (&mut *self.ctx.bids, &mut self.ctx.f.has_bids_rest),
            Key::Asks => (&mut *self.ctx.asks, &mut self.ctx.f.has_asks_rest),
            _ => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                self.ctx.on_other(self.key, false);
                return Ok(());
            }
        };
        *has = true;
        out.clear();
        let mut err = None;
        // A diff's quantity 0 removes the level; a snapshot lists live levels only.
        let zero_qty_removes = matches!(self.key, Key::B | Key::A);
        while seq
            .next_element_seed(LevelSeed {
                side: self.key.name(),
                zero_qty_removes,
                out: &mut *out,
                err: &mut err,
            })?
            .is_some()
        {}
        if let Some(e) = err {
            self.ctx.f.fail(e);
        }
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<(), M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.ctx.on_other(self.key, false);
        Ok(())
    }
}

/// One `["price","qty"]` pair, pushed onto the side's buffer. The price is above zero; the
/// quantity is above zero, or zero where `zero_qty_removes` (a diff deleting the level).
pub(super) struct LevelSeed<'v> {
    pub(super) side: &'static str,
    pub(super) zero_qty_removes: bool,
    pub(super) out: &'v mut Vec<Level>,
    pub(super) err: &'v mut Option<ParseError>,
}

impl LevelSeed<'_> {
    pub(super) fn fail(&mut self, e: ParseError) {
        if self.err.is_none() {
            *self.err = Some(e);
        }
    }
    pub(super) fn decimal(&mut self, v: Option<Dec>) -> Fixed {
        match v {
            Some(Dec::Ok(x)) => x,
            Some(Dec::Bad(DecimalError::Sign)) => {
                self.fail(ParseError::BadValue(self.side));
                Fixed::ZERO
            }
            Some(Dec::Bad(err)) => {
                self.fail(ParseError::BadDecimal {
                    field: self.side,
                    err,
                });
                Fixed::ZERO
            }
            Some(Dec::WrongType) | None => {
                self.fail(ParseError::Json);
                Fixed::ZERO
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for LevelSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LevelSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a [price, qty] pair")
    }
    fn visit_seq<S: SeqAccess<'de>>(mut self, mut seq: S) -> Result<(), S::Error> {
        let price = seq.next_element_seed(DecSeed)?;
        let qty = seq.next_element_seed(DecSeed)?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        let price = self.decimal(price);
        let qty = self.decimal(qty);
        let qty_ok = qty.raw() > 0 || (self.zero_qty_removes && qty.raw() == 0);
        if self.err.is_none() && (price.raw() <= 0 || !qty_ok) {
            self.fail(ParseError::BadValue(self.side));
        }
        if self.err.is_none() {
            self.out.push(Level { price, qty });
        }
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<(), M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_str<E: de::Error>(mut self, _v: &str) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_u64<E: de::Error>(mut self, _v: u64) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_i64<E: de::Error>(mut self, _v: i64) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_f64<E: de::Error>(mut self, _v: f64) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_bool<E: de::Error>(mut self, _v: bool) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
}

/// A decimal string, parsed exactly; any other JSON type is `WrongType`.
pub(super) enum Dec {
    Ok(Fixed),
    Bad(DecimalError),
    WrongType,
}

pub(super) struct DecSeed;

impl<'de> DeserializeSeed<'de> for DecSeed {
    type Value = Dec;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Dec, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DecSeed {
    type Value = Dec;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
        Ok(match Fixed::read(v.as_bytes(), DecimalRule::UNSIGNED) {
            Ok(x) => Dec::Ok(x),
            Err(e) => Dec::Bad(e),
        })
    }
    fn visit_u64<E: de::Error>(self, _v: u64) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_i64<E: de::Error>(self, _v: i64) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Dec, S::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Dec::WrongType)
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Dec, M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Dec::WrongType)
    }
}
