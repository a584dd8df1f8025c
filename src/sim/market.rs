//! The synthetic market: the price process, a synthetic book per Binance leader and per MAX
//! market, and the reference rate, emitting everything due by a simulated time in time order.
//!
//! Schedule (simulated time, so output depends only on the seed and the times asked for):
//! - at t = 0: a snapshot of every book (MAX WS snapshot; Binance REST depth);
//! - every `leader_tick_ms`: each Binance book steps → a depth update and a bookTicker;
//! - every `max_tick_ms`: each MAX book steps → a book update, then — only when public trades
//!   are on ([`SyntheticMarket::with_public_trades`]) — with `max_trade_probability` a synthetic
//!   public trade at the new touch (taker buy at the best ask or sell at the best bid, equally
//!   likely; a volume of 5–50 % of that level). The prints draw from their own generator (seeded
//!   from the seed too), so turning them on does not change the books;
//! - every `ref_update_ms`: the USD/TWD reference rate.

use super::price_process::{PriceProcess, ProcessParams, normal};
use super::synthetic_book::{SeqStyle, SyntheticBook};
use crate::config::sim::SimConfig;
use crate::model::{Fixed, InvalidSetting, Level, Side, Venue};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// What the market emits; the feed turns each into the venue's wire frame.
#[derive(Debug)]
pub enum MarketOutput<'a> {
    BinanceBookTicker {
        venue: Venue,
        symbol: &'a str,
        update_id: u64,
        event_ms: u64,
        bid: Level,
        ask: Level,
    },
    BinanceDepth {
        venue: Venue,
        symbol: &'a str,
        first_id: u64,
        last_id: u64,
        prev_id: i64,
        event_ms: u64,
        bids: &'a [Level],
        asks: &'a [Level],
    },
    BinanceSnapshot {
        venue: Venue,
        symbol: &'a str,
        last_id: u64,
        event_ms: u64,
        bids: &'a [Level],
        asks: &'a [Level],
    },
    MaxBook {
        snapshot: bool,
        market: &'a str,
        first_id: u64,
        last_id: u64,
        version: u64,
        ts_ms: u64,
        bids: &'a [Level],
        asks: &'a [Level],
    },
    /// A synthetic public trade on a MAX market, at its touch right after a book update.
    MaxTrade {
        market: &'a str,
        price: Fixed,
        volume: Fixed,
        taker_side: Side,
        ts_ms: u64,
    },
    RefRate {
        symbol: &'a str,
        rate: Fixed,
        ts_ms: u64,
    },
}

struct LeaderBook {
    venue: Venue,
    symbol: String,
    book: SyntheticBook,
}

#[derive(Clone, Copy)]
enum MaxSource {
    /// Follows leader `i`, times USDT/TWD when `convert`.
    Follow {
        leader: usize,
        convert: bool,
    },
    UsdtTwd,
}

struct MaxBook {
    market: String,
    book: SyntheticBook,
    source: MaxSource,
    updates: u64,
}

pub struct SyntheticMarket {
    process: PriceProcess,
    rng: SmallRng,
    leaders: Vec<LeaderBook>,
    maxes: Vec<MaxBook>,
    ref_symbol: String,
    epoch_ms: u64,
    leader_period: u64,
    max_period: u64,
    ref_period: u64,
    next_leader: u64,
    next_max: u64,
    next_ref: u64,
    started: bool,
    /// Leaders whose REST snapshot is due right after their next depth update: as a real client
    /// buffers the stream first and fetches the snapshot after, the update that straddles the
    /// snapshot's `lastUpdateId` is always in the buffer.
    snapshot_due: Vec<bool>,
    noise_bps: f64,
    gap_probability: f64,
    version_change_after: u64,
    /// Chance of a synthetic public trade per MAX book update (0 until
    /// [`SyntheticMarket::with_public_trades`]).
    trade_probability: f64,
    trade_rng: SmallRng,
}

/// The smallest volume a synthetic print has (the books' own quantity step).
const PRINT_STEP: Fixed = Fixed(1_000);

fn dec(s: &str) -> Result<Fixed, InvalidSetting> {
    Fixed::parse(s).map_err(|e| InvalidSetting::new("sim", format!("{s:?}: {e}")))
}

/// A synthetic taker against `top` (bid, ask): its side, and the price and volume it prints
/// (5–50 % of the level it lifts or hits, at least [`PRINT_STEP`]).
fn print_at_touch(top: Option<(Level, Level)>, rng: &mut SmallRng) -> Option<(Side, Level)> {
    let (bid, ask) = top?;
    let (side, level) = if rng.random::<bool>() {
        (Side::Buy, ask)
    } else {
        (Side::Sell, bid)
    };
    let share = 0.05 + 0.45 * rng.random::<f64>();
    let qty = Fixed::from_f64_floor(level.qty.to_f64() * share, PRINT_STEP)
        .filter(|q| q.raw() > 0)
        .unwrap_or(PRINT_STEP)
        .min(level.qty);
    Some((
        side,
        Level {
            price: level.price,
            qty,
        },
    ))
}

impl SyntheticMarket {
    pub fn new(cfg: &SimConfig) -> Result<Self, InvalidSetting> {
        cfg.validate()?;
        let mut leaders: Vec<LeaderBook> = Vec::new();
        let mut starts = Vec::new();
        let mut maxes = Vec::new();
        let version = cfg.epoch_ms;
        for p in &cfg.pairs {
            let sym = p.leader_symbol.to_ascii_uppercase();
            let li = match leaders
                .iter()
                .position(|l| l.symbol == sym && l.venue == p.leader_venue)
            {
                Some(i) => i,
                None => {
                    let style = if p.leader_venue == Venue::BinanceFutures {
                        SeqStyle::BinanceFutures
                    } else {
                        SeqStyle::BinanceSpot
                    };
                    let qty = dec(&p.level_qty)?.to_f64();
                    leaders.push(LeaderBook {
                        venue: p.leader_venue,
                        symbol: sym,
                        book: SyntheticBook::new(
                            style,
                            dec(&p.leader_tick)?,
                            cfg.depth_levels,
                            qty * 5.0,
                            cfg.leader_spread_bps,
                            1_000_000,
                            0,
                        ),
                    });
                    starts.push(dec(&p.start_price)?.to_f64());
                    leaders.len() - 1
                }
            };
            maxes.push(MaxBook {
                market: p.max_symbol.to_ascii_lowercase(),
                book: SyntheticBook::new(
                    SeqStyle::Max,
                    dec(&p.max_tick)?,
                    cfg.depth_levels,
                    dec(&p.level_qty)?.to_f64(),
                    cfg.max_spread_bps,
                    1000,
                    version,
                ),
                source: MaxSource::Follow {
                    leader: li,
                    convert: !p.conversion.is_empty(),
                },
                updates: 0,
            });
        }
        maxes.push(MaxBook {
            market: cfg.usdttwd_symbol.to_ascii_lowercase(),
            book: SyntheticBook::new(
                SeqStyle::Max,
                dec(&cfg.usdttwd_tick)?,
                cfg.depth_levels,
                dec(&cfg.usdttwd_level_qty)?.to_f64(),
                cfg.max_spread_bps,
                1000,
                version,
            ),
            source: MaxSource::UsdtTwd,
            updates: 0,
        });
        let params = ProcessParams {
            volatility_bps_per_s: cfg.volatility_bps_per_s,
            jump_probability_per_s: cfg.jump_probability_per_s,
            jump_bps: cfg.jump_bps,
            lag_ms: cfg.lag_ms,
            premium_mean_bps: cfg.premium_mean_bps,
            premium_reversion_per_s: cfg.premium_reversion_per_s,
            premium_vol_bps_per_s: cfg.premium_vol_bps_per_s,
        };
        Ok(SyntheticMarket {
            process: PriceProcess::new(cfg.seed, params, &starts, dec(&cfg.ref_rate)?.to_f64()),
            rng: SmallRng::seed_from_u64(cfg.seed ^ 0x5eed_b00c),
            leaders,
            maxes,
            ref_symbol: cfg.ref_symbol.to_ascii_uppercase(),
            epoch_ms: cfg.epoch_ms,
            leader_period: cfg.leader_tick_ms * 1_000_000,
            max_period: cfg.max_tick_ms * 1_000_000,
            ref_period: cfg.ref_update_ms * 1_000_000,
            next_leader: 0,
            next_max: 0,
            next_ref: 0,
            started: false,
            snapshot_due: Vec::new(),
            noise_bps: cfg.max_noise_bps,
            gap_probability: cfg.gap_probability,
            version_change_after: cfg.version_change_after_updates,
            trade_probability: 0.0,
            trade_rng: SmallRng::seed_from_u64(cfg.seed ^ 0x7ade_7a9e),
        })
    }

    /// Also emits synthetic public MAX trades ([`MarketOutput::MaxTrade`]) with `cfg`'s
    /// `max_trade_probability`: the simulator's `trade` channel is alive without any order.
    pub fn with_public_trades(mut self, cfg: &SimConfig) -> Self {
        self.trade_probability = cfg.max_trade_probability;
        self
    }

    fn ms(&self, t_ns: u64) -> u64 {
        self.epoch_ms + t_ns / 1_000_000
    }

    fn max_mid(&mut self, source: MaxSource) -> f64 {
        let noise = 1.0 + self.noise_bps / 1e4 * normal(&mut self.rng);
        match source {
            MaxSource::Follow { leader, convert } => {
                let m = self.process.lagged[leader] * noise;
                if convert {
                    m * self.process.usdttwd()
                } else {
                    m
                }
            }
            MaxSource::UsdtTwd => self.process.usdttwd(),
        }
    }

    /// Emits everything due by `t_ns`, in time order.
    pub fn poll(&mut self, t_ns: u64, out: &mut impl FnMut(MarketOutput<'_>)) {
        if !self.started {
            self.started = true;
            self.snapshot_due = vec![true; self.leaders.len()];
            for i in 0..self.leaders.len() {
                let mid = self.process.leaders[i];
                self.leaders[i].book.step(mid, &mut self.rng);
            }
            for i in 0..self.maxes.len() {
                let mid = self.max_mid(self.maxes[i].source);
                self.maxes[i].book.step(mid, &mut self.rng);
                self.emit_max_snapshot(i, 0, out);
            }
        }
        loop {
            let next = self.next_leader.min(self.next_max).min(self.next_ref);
            if next > t_ns {
                return;
            }
            self.process.advance_to(next);
            let ms = self.ms(next);
            if next == self.next_leader {
                self.next_leader += self.leader_period;
                for i in 0..self.leaders.len() {
                    let mid = self.process.leaders[i];
                    let gap = self.rng.random::<f64>() < self.gap_probability;
                    let l = &mut self.leaders[i];
                    let ids = l.book.step(mid, &mut self.rng);
                    if gap {
                        continue;
                    }
                    out(MarketOutput::BinanceDepth {
                        venue: l.venue,
                        symbol: &l.symbol,
                        first_id: ids.first,
                        last_id: ids.last,
                        prev_id: ids.prev,
                        event_ms: ms,
                        bids: &l.book.diff_bids,
                        asks: &l.book.diff_asks,
                    });
                    if let Some((bid, ask)) = l.book.top() {
                        out(MarketOutput::BinanceBookTicker {
                            venue: l.venue,
                            symbol: &l.symbol,
                            update_id: ids.last,
                            event_ms: ms,
                            bid,
                            ask,
                        });
                    }
                    if self.snapshot_due[i] {
                        self.snapshot_due[i] = false;
                        self.emit_binance_snapshot(i, ms, out);
                    }
                }
            } else if next == self.next_max {
                self.next_max += self.max_period;
                for i in 0..self.maxes.len() {
                    let mid = self.max_mid(self.maxes[i].source);
                    let gap = self.rng.random::<f64>() < self.gap_probability;
                    let change_version = self.version_change_after > 0
                        && self.maxes[i].updates > 0
                        && self.maxes[i]
                            .updates
                            .is_multiple_of(self.version_change_after);
                    let m = &mut self.maxes[i];
                    m.updates += 1;
                    if change_version {
                        m.book.version += 1;
                    }
                    let ids = m.book.step(mid, &mut self.rng);
                    let print = if self.trade_probability > 0.0
                        && self.trade_rng.random::<f64>() < self.trade_probability
                    {
                        print_at_touch(m.book.top(), &mut self.trade_rng)
                    } else {
                        None
                    };
                    if !gap {
                        out(MarketOutput::MaxBook {
                            snapshot: false,
                            market: &m.market,
                            first_id: ids.first,
                            last_id: ids.last,
                            version: ids.version,
                            ts_ms: ms,
                            bids: &m.book.diff_bids,
                            asks: &m.book.diff_asks,
                        });
                    }
                    if let Some((taker_side, l)) = print {
                        out(MarketOutput::MaxTrade {
                            market: &m.market,
                            price: l.price,
                            volume: l.qty,
                            taker_side,
                            ts_ms: ms,
                        });
                    }
                }
            } else {
                self.next_ref += self.ref_period;
                let rate = Fixed::from_f64_floor(self.process.ref_rate, Fixed(10_000))
                    .unwrap_or(Fixed::ONE);
                out(MarketOutput::RefRate {
                    symbol: &self.ref_symbol,
                    rate,
                    ts_ms: ms,
                });
            }
        }
    }

    fn emit_binance_snapshot(&self, i: usize, ms: u64, out: &mut impl FnMut(MarketOutput<'_>)) {
        let l = &self.leaders[i];
        out(MarketOutput::BinanceSnapshot {
            venue: l.venue,
            symbol: &l.symbol,
            last_id: l.book.last_id(),
            event_ms: ms,
            bids: l.book.bids(),
            asks: l.book.asks(),
        });
    }

    fn emit_max_snapshot(&self, i: usize, ms: u64, out: &mut impl FnMut(MarketOutput<'_>)) {
        let m = &self.maxes[i];
        let li = m.book.last_id();
        out(MarketOutput::MaxBook {
            snapshot: true,
            market: &m.market,
            first_id: li,
            last_id: li,
            version: m.book.version,
            ts_ms: ms,
            bids: m.book.bids(),
            asks: m.book.asks(),
        });
    }

    /// Requests a Binance REST depth snapshot of `symbol` (resync). It is emitted right after
    /// the symbol's next depth update, as a real client fetches it while buffering the stream,
    /// so the update that straddles the snapshot's `lastUpdateId` is always in the buffer.
    pub fn binance_snapshot(&mut self, symbol: &str) {
        if let Some(i) = self
            .leaders
            .iter()
            .position(|l| l.symbol.eq_ignore_ascii_case(symbol))
            && let Some(d) = self.snapshot_due.get_mut(i)
        {
            *d = true;
        }
    }

    /// A MAX WebSocket snapshot of `market` now (resubscribe).
    pub fn max_snapshot(&mut self, market: &str, out: &mut impl FnMut(MarketOutput<'_>)) {
        let ms = self.ms(self.process.now_ns());
        if let Some(i) = self
            .maxes
            .iter()
            .position(|m| m.market.eq_ignore_ascii_case(market))
        {
            self.emit_max_snapshot(i, ms, out);
        }
    }

    /// The whole synthetic MAX book of `market` and its last update id: the simulator's own
    /// book, which a client's local book must equal.
    pub fn max_book(&self, market: &str) -> Option<(&[Level], &[Level], u64)> {
        let m = self.maxes.iter().find(|m| m.market == market)?;
        Some((m.book.bids(), m.book.asks(), m.book.last_id()))
    }

    /// The whole synthetic Binance book of `symbol` (any case) and its last update id.
    pub fn binance_book(&self, symbol: &str) -> Option<(Venue, &[Level], &[Level], u64)> {
        let l = self
            .leaders
            .iter()
            .find(|l| l.symbol.eq_ignore_ascii_case(symbol))?;
        Some((l.venue, l.book.bids(), l.book.asks(), l.book.last_id()))
    }

    /// The Binance symbols this market simulates (upper case).
    pub fn binance_symbols(&self) -> impl Iterator<Item = &str> {
        self.leaders.iter().map(|l| l.symbol.as_str())
    }

    /// The MAX markets this market simulates (lower case).
    pub fn max_markets(&self) -> impl Iterator<Item = &str> {
        self.maxes.iter().map(|m| m.market.as_str())
    }

    /// MAX best bid and ask of `market` (any case; the execution venue matches against it).
    pub fn max_top(&self, market: &str) -> Option<(Level, Level)> {
        self.maxes
            .iter()
            .find(|m| m.market.eq_ignore_ascii_case(market))?
            .book
            .top()
    }

    /// Leader mid and MAX mid of every pair, for tests.
    pub fn mids(&self) -> (Vec<f64>, Vec<f64>) {
        (self.process.leaders.clone(), self.process.lagged.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a market emits over `secs` simulated seconds, as text, and its prints.
    fn run(m: &mut SyntheticMarket, secs: u64) -> (Vec<String>, Vec<(String, Side, Level)>) {
        let (mut books, mut prints) = (Vec::new(), Vec::new());
        for ms in 0..secs * 1000 {
            let mut step_prints = Vec::new();
            m.poll(ms * 1_000_000, &mut |o| match o {
                MarketOutput::MaxTrade {
                    market,
                    price,
                    volume,
                    taker_side,
                    ..
                } => {
                    step_prints.push((market.to_string(), taker_side, Level { price, qty: volume }))
                }
                other => books.push(format!("{other:?}")),
            });
            // A print is at the touch of the book it followed, on the side its taker took.
            for (market, side, l) in &step_prints {
                let (bid, ask) = m.max_top(market).unwrap();
                let touch = if *side == Side::Buy { ask } else { bid };
                assert_eq!(l.price, touch.price, "{market} {side:?}");
                assert!(l.qty.raw() > 0 && l.qty <= touch.qty, "{l:?} vs {touch:?}");
            }
            prints.extend(step_prints);
        }
        (books, prints)
    }

    #[test]
    fn public_prints_sit_at_the_touch_repeat_with_the_seed_and_leave_the_books_alone() {
        let cfg = SimConfig {
            max_trade_probability: 0.5,
            ..SimConfig::default()
        };
        let (plain, none) = run(&mut SyntheticMarket::new(&cfg).unwrap(), 3);
        assert!(none.is_empty(), "off unless asked for");
        let with = || SyntheticMarket::new(&cfg).unwrap().with_public_trades(&cfg);
        let (books, prints) = run(&mut with(), 3);
        assert_eq!(books, plain, "the prints draw from their own generator");
        // 3 s at 50 ms: 60 steps per market, half of them print.
        assert!(prints.len() > 60, "{}", prints.len());
        assert!(
            prints.iter().any(|p| p.1 == Side::Buy) && prints.iter().any(|p| p.1 == Side::Sell)
        );
        assert_eq!(run(&mut with(), 3).1, prints, "deterministic from the seed");
    }
}
