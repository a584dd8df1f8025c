//! Instruments interned to small integer ids at start-up.
//!
//! The hot path never compares symbol strings: a feed resolves the wire symbol once per frame
//! through [`Instruments::lookup`] (a linear scan over a handful of fixed-size byte arrays, no
//! hashing, no allocation) and everything downstream carries the [`InstrumentId`].

use super::fixed::Fixed;
use super::invalid_setting::InvalidSetting;
use super::venue::Venue;
use std::fmt;

/// Index into the [`Instruments`] table. Fits in a byte-sized slot of every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InstrumentId(pub u16);

impl InstrumentId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Longest symbol stored inline; MAX and Binance symbols are far shorter.
pub const SYMBOL_CAP: usize = 16;

/// A symbol kept inline in a `Copy` value, stored upper-case (`BTCUSDT`, `USDTTWD`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Symbol {
    len: u8,
    bytes: [u8; SYMBOL_CAP],
}

impl Symbol {
    /// Upper-cases ASCII; `None` if empty, too long or not `[A-Za-z0-9_-]`.
    pub fn new(s: &str) -> Option<Symbol> {
        let b = s.as_bytes();
        if b.is_empty() || b.len() > SYMBOL_CAP {
            return None;
        }
        let mut bytes = [0u8; SYMBOL_CAP];
        for (i, &c) in b.iter().enumerate() {
            if !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                return None;
            }
            bytes[i] = c.to_ascii_uppercase();
        }
        Some(Symbol {
            len: b.len() as u8,
            bytes,
        })
    }
    pub fn as_str(&self) -> &str {
        // Only ASCII was stored by `new`.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("?")
    }
    /// Case-insensitive comparison with a wire symbol (`btcusdt` vs `BTCUSDT`).
    #[inline]
    pub fn eq_wire(&self, wire: &[u8]) -> bool {
        wire.len() == self.len as usize
            && wire
                .iter()
                .zip(self.bytes.iter())
                .all(|(a, b)| a.to_ascii_uppercase() == *b)
    }
    /// Exact comparison with a name written lower case, as MAX writes it (`btcusdt` matches
    /// `BTCUSDT`, `BtcUsdt` does not).
    #[inline]
    pub fn eq_lower(&self, wire: &[u8]) -> bool {
        wire.len() == self.len as usize
            && wire
                .iter()
                .zip(self.bytes.iter())
                .all(|(a, b)| *a == b.to_ascii_lowercase())
    }
    pub fn to_lowercase(&self) -> String {
        self.as_str().to_ascii_lowercase()
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

/// One market as the engine knows it: the engine's form, interned at start-up. The config
/// file's text form is `config::MarketSpec`, MAX's wire form `venue::max::markets::MaxMarket`;
/// both reach this type through [`MarketRules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instrument {
    pub id: InstrumentId,
    pub venue: Venue,
    pub symbol: Symbol,
    /// Base and quote currencies, upper-case (`BTC`, `TWD`).
    pub base: Symbol,
    pub quote: Symbol,
    pub rules: MarketRules,
}

/// Trading rules of a market, as configured or read from the venue's market list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketRules {
    /// Price increment (MAX: `10^-quote_unit_precision`).
    pub tick: Fixed,
    /// Quantity increment (MAX: `10^-base_unit_precision`).
    pub lot: Fixed,
    /// Smallest order quantity (MAX `min_base_amount`).
    pub min_qty: Fixed,
    /// Smallest order value in quote currency (MAX `min_quote_amount`).
    pub min_notional: Fixed,
}

impl Default for MarketRules {
    /// 10⁻⁸ steps and no minimum: for markets the engine only watches.
    fn default() -> Self {
        MarketRules {
            tick: Fixed(1),
            lot: Fixed(1),
            min_qty: Fixed::ZERO,
            min_notional: Fixed::ZERO,
        }
    }
}

/// The interned table, built once from configuration before any thread starts; immutable after.
#[derive(Clone, Debug, Default)]
pub struct Instruments {
    list: Vec<Instrument>,
}

/// Most instruments one engine tracks; per-instrument state is kept in fixed arrays of this size.
pub const MAX_INSTRUMENTS: usize = 64;

impl Instruments {
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns `(venue, symbol)` with default rules; returns the existing id when present.
    pub fn intern(
        &mut self,
        venue: Venue,
        symbol: &str,
        base: &str,
        quote: &str,
    ) -> Result<InstrumentId, InvalidSetting> {
        self.intern_with_rules(venue, symbol, base, quote, MarketRules::default())
    }

    /// Interns with trading rules (positive steps, non-negative minimums); returns the existing
    /// id when `(venue, symbol)` is already present. The error's key is the market's part at
    /// fault (its symbol, `symbol`, `base`, `quote`, or `instruments` for one too many).
    pub fn intern_with_rules(
        &mut self,
        venue: Venue,
        symbol: &str,
        base: &str,
        quote: &str,
        rules: MarketRules,
    ) -> Result<InstrumentId, InvalidSetting> {
        if rules.tick.raw() <= 0
            || rules.lot.raw() <= 0
            || rules.min_qty.raw() < 0
            || rules.min_notional.raw() < 0
        {
            return Err(InvalidSetting::new(
                symbol,
                "tick and lot must be positive, minimums not negative",
            ));
        }
        let sym = Symbol::new(symbol)
            .ok_or_else(|| InvalidSetting::new("symbol", format!("invalid symbol {symbol:?}")))?;
        if let Some(i) = self
            .list
            .iter()
            .find(|i| i.venue == venue && i.symbol == sym)
        {
            return Ok(i.id);
        }
        if self.list.len() >= MAX_INSTRUMENTS {
            return Err(InvalidSetting::new(
                "instruments",
                format!("more than {MAX_INSTRUMENTS} instruments"),
            ));
        }
        let id = InstrumentId(self.list.len() as u16);
        self.list.push(Instrument {
            id,
            venue,
            symbol: sym,
            base: Symbol::new(base).ok_or_else(|| {
                InvalidSetting::new("base", format!("invalid base currency {base:?}"))
            })?,
            quote: Symbol::new(quote).ok_or_else(|| {
                InvalidSetting::new("quote", format!("invalid quote currency {quote:?}"))
            })?,
            rules,
        });
        Ok(id)
    }

    /// Resolves a wire symbol (any case) on a venue. Allocation-free.
    #[inline]
    pub fn lookup(&self, venue: Venue, wire_symbol: &[u8]) -> Option<InstrumentId> {
        self.list
            .iter()
            .find(|i| i.venue == venue && i.symbol.eq_wire(wire_symbol))
            .map(|i| i.id)
    }

    #[inline]
    pub fn get(&self, id: InstrumentId) -> &Instrument {
        &self.list[id.index()]
    }
    pub fn len(&self) -> usize {
        self.list.len()
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_case_insensitive() {
        let mut t = Instruments::new();
        let a = t.intern(Venue::Max, "btcusdt", "btc", "usdt").unwrap();
        let b = t
            .intern(Venue::BinanceFutures, "BTCUSDT", "BTC", "USDT")
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(t.intern(Venue::Max, "BTCUSDT", "btc", "usdt").unwrap(), a);
        assert_eq!(t.lookup(Venue::Max, b"btcusdt"), Some(a));
        assert_eq!(t.lookup(Venue::BinanceFutures, b"btcusdt"), Some(b));
        assert_eq!(t.lookup(Venue::BinanceSpot, b"btcusdt"), None);
        assert_eq!(t.get(a).quote.as_str(), "USDT");
        let s = t.get(a).symbol;
        assert!(s.eq_lower(b"btcusdt") && !s.eq_lower(b"BTCUSDT") && !s.eq_lower(b"btcusd"));
        assert!(t.intern(Venue::Max, "btc usdt", "btc", "usdt").is_err());
    }
}
