//! Instruments interned to small integer ids at start-up.
//!
//! The hot path never compares symbol strings: a feed resolves the wire symbol once per frame
//! through [`Instruments::lookup`] (one hash of the symbol's bytes into an open-addressed index,
//! usually one comparison, no allocation: the same cost with 5 instruments or 500) and
//! everything downstream carries the [`InstrumentId`], an index into per-instrument tables sized
//! from the configuration at start.

use super::fixed::Fixed;
use super::invalid_setting::InvalidSetting;
use super::venue::Venue;
use std::fmt;

/// Index into the [`Instruments`] table (and into every per-instrument table, all sized
/// [`Instruments::len`]).
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
    /// Open-addressed index of `list` by (venue, symbol): a power-of-two table at most half
    /// full, [`EMPTY`] where free, rebuilt by `intern` (start-up only).
    index: Vec<u16>,
}

/// Most instruments one engine tracks: MAX's whole board and a Binance leader for each, with
/// room to spare. Per-instrument tables are sized from the configured count, not from this.
pub const MAX_INSTRUMENTS: usize = 1024;

const EMPTY: u16 = u16::MAX;

/// FNV-1a over the venue and the upper-cased symbol: the index's hash, the same for a wire
/// symbol in any case.
#[inline]
fn symbol_hash(venue: Venue, symbol: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (venue as u64);
    for &c in symbol {
        h ^= c.to_ascii_uppercase() as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

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
        if let Some(id) = self.lookup(venue, sym.as_str().as_bytes()) {
            return Ok(id);
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
        self.reindex();
        Ok(id)
    }

    /// Rebuilds the index, at most half full.
    fn reindex(&mut self) {
        let size = (2 * self.list.len()).next_power_of_two().max(8);
        self.index = vec![EMPTY; size];
        let mask = size - 1;
        for inst in &self.list {
            let mut k = symbol_hash(inst.venue, inst.symbol.as_str().as_bytes()) as usize & mask;
            while self.index[k] != EMPTY {
                k = (k + 1) & mask;
            }
            self.index[k] = inst.id.0;
        }
    }

    /// Resolves a wire symbol (any case) on a venue: one hash and a probe or two, whatever the
    /// number of instruments. Allocation-free.
    #[inline]
    pub fn lookup(&self, venue: Venue, wire_symbol: &[u8]) -> Option<InstrumentId> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let mut k = symbol_hash(venue, wire_symbol) as usize & mask;
        loop {
            let id = *self.index.get(k)?;
            if id == EMPTY {
                return None;
            }
            let i = self.list.get(id as usize)?;
            if i.venue == venue && i.symbol.eq_wire(wire_symbol) {
                return Some(i.id);
            }
            k = (k + 1) & mask;
        }
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

    #[test]
    fn a_full_board_resolves_every_symbol_and_nothing_else() {
        let mut t = Instruments::new();
        for i in 0..MAX_INSTRUMENTS / 2 {
            t.intern(Venue::Max, &format!("c{i}twd"), "c", "twd")
                .unwrap();
            t.intern(Venue::BinanceSpot, &format!("C{i}USDT"), "c", "usdt")
                .unwrap();
        }
        assert_eq!(t.len(), MAX_INSTRUMENTS);
        for (k, inst) in t.iter().enumerate() {
            assert_eq!(inst.id.index(), k);
            let wire = inst.symbol.as_str().to_ascii_lowercase();
            assert_eq!(t.lookup(inst.venue, wire.as_bytes()), Some(inst.id));
        }
        assert_eq!(t.lookup(Venue::Max, b"c0usdt"), None);
        assert_eq!(t.lookup(Venue::BinanceFutures, b"C0USDT"), None);
        assert_eq!(t.lookup(Venue::Max, b""), None);
        let err = t.intern(Venue::Max, "onemore", "o", "twd").unwrap_err();
        assert!(err.to_string().contains("instruments"), "{err}");
        assert_eq!(
            t.intern(Venue::Max, "C7TWD", "c", "twd").unwrap(),
            t.lookup(Venue::Max, b"c7twd").unwrap(),
            "already there: its id, even at capacity"
        );
    }
}
