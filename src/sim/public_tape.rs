//! The simulated MAX's public tape: every print of a market (synthetic takers at the touch and
//! the simulated account's fills) and the ticker built from them, for the WebSocket `trade` and
//! `ticker` channels (spec max.md §3.4).
//!
//! - `trade`: a subscriber first gets the last [`RECENT`] prints (oldest first, possibly none)
//!   as a `snapshot`; then each batch of new prints as an `update`.
//! - `ticker`: open, high, low and close of the prints and their total volume, counted from
//!   the moment the tape opened the market (a simulated "day" starts with the simulator, which
//!   opens every market at its first best bid); until the first print every price is that. An
//!   `update` follows any print that changed the ticker, at most once per `interval_ms` per
//!   market; `V` ("volume in BTC") repeats `v`, as the doc's example does.

use crate::model::Fixed;
use crate::sim::max_frames::{MaxPublicTrade, MaxTickerFrame};
use std::collections::VecDeque;

/// Prints kept for a `trade` snapshot.
pub const RECENT: usize = 50;

struct MarketTape {
    market: String,
    recent: VecDeque<MaxPublicTrade>,
    /// Prints not yet sent as an update.
    pending: Vec<MaxPublicTrade>,
    ticker: MaxTickerFrame,
    /// The ticker changed since it was last sent.
    ticker_changed: bool,
    ticker_sent_ms: Option<u64>,
}

#[derive(Default)]
pub struct PublicTape {
    markets: Vec<MarketTape>,
}

impl PublicTape {
    fn find(&self, market: &str) -> Option<usize> {
        self.markets.iter().position(|m| m.market == market)
    }

    /// Opens `market`'s tape at `price` (its ticker's open), unless the tape has it already.
    pub fn open(&mut self, market: &str, price: Fixed) {
        self.tape(market, price);
    }

    /// The tape of `market`, opened at `price` if the tape has not seen it yet.
    fn tape(&mut self, market: &str, price: Fixed) -> &mut MarketTape {
        let i = match self.find(market) {
            Some(i) => i,
            None => {
                self.markets.push(MarketTape {
                    market: market.to_string(),
                    recent: VecDeque::with_capacity(RECENT),
                    pending: Vec::new(),
                    ticker: MaxTickerFrame {
                        open: price,
                        high: price,
                        low: price,
                        close: price,
                        volume: Fixed::ZERO,
                        volume_in_btc: Fixed::ZERO,
                    },
                    ticker_changed: false,
                    ticker_sent_ms: None,
                });
                self.markets.len() - 1
            }
        };
        &mut self.markets[i]
    }

    /// Adds a print to `market`'s tape (a market seen first through a print opens at its
    /// price).
    pub fn record(&mut self, market: &str, t: MaxPublicTrade) {
        let m = self.tape(market, t.price);
        if m.recent.len() == RECENT {
            m.recent.pop_front();
        }
        m.recent.push_back(t);
        m.pending.push(t);
        let tk = &mut m.ticker;
        tk.high = tk.high.max(t.price);
        tk.low = tk.low.min(t.price);
        tk.close = t.price;
        tk.volume = tk.volume.checked_add(t.volume).unwrap_or(tk.volume);
        tk.volume_in_btc = tk.volume;
        m.ticker_changed = true;
    }

    /// The last [`RECENT`] prints of `market`, oldest first: a `trade` snapshot.
    pub fn recent(&self, market: &str) -> Vec<MaxPublicTrade> {
        self.find(market)
            .map(|i| self.markets[i].recent.iter().copied().collect())
            .unwrap_or_default()
    }

    /// `market`'s ticker now (a `ticker` snapshot); `None` until the tape has opened it.
    pub fn ticker(&self, market: &str) -> Option<MaxTickerFrame> {
        self.find(market).map(|i| self.markets[i].ticker)
    }

    /// Hands every market's new prints (oldest first) to `out` and forgets them: the `trade`
    /// updates.
    pub fn take_updates(&mut self, mut out: impl FnMut(&str, &[MaxPublicTrade])) {
        for m in &mut self.markets {
            if !m.pending.is_empty() {
                out(&m.market, &m.pending);
                m.pending.clear();
            }
        }
    }

    /// Hands `out` the ticker of every market whose ticker changed and was last sent at least
    /// `interval_ms` before `now_ms`: the `ticker` updates.
    pub fn due_tickers(
        &mut self,
        now_ms: u64,
        interval_ms: u64,
        mut out: impl FnMut(&str, &MaxTickerFrame),
    ) {
        for m in &mut self.markets {
            let due = m
                .ticker_sent_ms
                .is_none_or(|s| now_ms.saturating_sub(s) >= interval_ms);
            if m.ticker_changed && due {
                out(&m.market, &m.ticker);
                m.ticker_changed = false;
                m.ticker_sent_ms = Some(now_ms);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Side;

    fn print(p: i64, v: i64, ts_ms: u64) -> MaxPublicTrade {
        MaxPublicTrade {
            price: Fixed::from_int(p),
            volume: Fixed::from_int(v),
            taker_side: Side::Buy,
            ts_ms,
        }
    }

    #[test]
    fn prints_feed_snapshot_updates_and_a_rate_limited_ticker() {
        let mut tape = PublicTape::default();
        assert!(tape.ticker("btcusdt").is_none());
        tape.open("btcusdt", Fixed::from_int(100));
        tape.open("btcusdt", Fixed::from_int(1));
        let opened = tape.ticker("btcusdt").unwrap();
        assert_eq!(
            (opened.open, opened.close),
            (Fixed::from_int(100), Fixed::from_int(100))
        );
        assert!(
            tape.recent("btcusdt").is_empty(),
            "an empty snapshot is a snapshot"
        );
        let mut sent = Vec::new();
        tape.due_tickers(0, 1000, |m, t| sent.push((m.to_string(), *t)));
        assert!(sent.is_empty(), "nothing changed");

        tape.record("btcusdt", print(103, 1, 1));
        tape.record("btcusdt", print(98, 2, 2));
        let mut updates = Vec::new();
        tape.take_updates(|m, t| updates.push((m.to_string(), t.to_vec())));
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].1, [print(103, 1, 1), print(98, 2, 2)]);
        tape.take_updates(|_, _| panic!("sent once"));

        tape.due_tickers(10, 1000, |m, t| sent.push((m.to_string(), *t)));
        let tk = sent[0].1;
        assert_eq!(
            [
                tk.open,
                tk.high,
                tk.low,
                tk.close,
                tk.volume,
                tk.volume_in_btc
            ],
            [100, 103, 98, 98, 3, 3].map(Fixed::from_int)
        );
        tape.record("btcusdt", print(99, 1, 500));
        tape.due_tickers(500, 1000, |_, _| panic!("at most once per interval"));
        tape.due_tickers(1010, 1000, |m, t| sent.push((m.to_string(), *t)));
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].1.close, Fixed::from_int(99));
    }

    #[test]
    fn a_snapshot_keeps_only_the_latest_prints() {
        let mut tape = PublicTape::default();
        for i in 0..(RECENT as u64 + 10) {
            tape.record("usdttwd", print(32, 1, i));
        }
        let recent = tape.recent("usdttwd");
        assert_eq!(recent.len(), RECENT);
        assert_eq!(recent[0].ts_ms, 10);
        assert_eq!(recent[RECENT - 1].ts_ms, RECENT as u64 + 9);
    }
}
