//! The market side of the in-process feed: each output of the synthetic market written in
//! its venue's wire format, then read back at once (`FeedIo::ingest`) or recorded for
//! replay.

use super::{FeedIo, FrameSource, Recorded};
use crate::model::{Fixed, Venue};
use crate::sim::binance_frames as bframes;
use crate::sim::market::MarketOutput;
use crate::sim::max_frames::{self as mframes, MaxBookFrame};
use crate::venue::binance::BinanceMarket;
use crate::venue::refrate::bot_csv;

/// `s` lower-cased into `buf`; symbols are short ASCII.
fn lower<'a>(s: &str, buf: &'a mut [u8; 32]) -> &'a str {
    let n = s.len().min(buf.len());
    for (d, c) in buf.iter_mut().zip(s.bytes()).take(n) {
        *d = c.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..n]).unwrap_or("")
}
impl FeedIo {
    /// Writes `o` in its venue's wire format into `self.frame`; says how to read it back.
    fn write(&mut self, o: MarketOutput<'_>) -> FrameSource {
        let mut lb = [0u8; 32];
        let frame = &mut self.frame;
        match o {
            MarketOutput::BinanceBookTicker {
                venue,
                symbol,
                update_id,
                event_ms,
                bid,
                ask,
            } => {
                let market = binance_market(venue);
                bframes::write_book_ticker(
                    frame,
                    market,
                    lower(symbol, &mut lb),
                    update_id,
                    event_ms,
                    bid,
                    ask,
                );
                FrameSource::Binance(market)
            }
            MarketOutput::BinanceDepth {
                venue,
                symbol,
                first_id,
                last_id,
                prev_id,
                event_ms,
                bids,
                asks,
            } => {
                let market = binance_market(venue);
                bframes::write_depth_update(
                    frame,
                    market,
                    lower(symbol, &mut lb),
                    first_id,
                    last_id,
                    prev_id,
                    event_ms,
                    bids,
                    asks,
                );
                FrameSource::Binance(market)
            }
            MarketOutput::BinanceSnapshot {
                venue,
                symbol,
                last_id,
                event_ms,
                bids,
                asks,
            } => {
                let market = binance_market(venue);
                match self.instruments.lookup(venue, symbol.as_bytes()) {
                    Some(id) => {
                        bframes::write_depth_snapshot(frame, market, last_id, event_ms, bids, asks);
                        FrameSource::BinanceSnapshot(market, id)
                    }
                    None => FrameSource::Unknown(venue),
                }
            }
            MarketOutput::MaxBook {
                snapshot,
                market,
                first_id,
                last_id,
                version,
                ts_ms,
                bids,
                asks,
            } => {
                let kind = if snapshot {
                    MaxBookFrame::Snapshot
                } else {
                    MaxBookFrame::Update
                };
                mframes::write_book(
                    frame, kind, market, first_id, last_id, version, ts_ms, bids, asks,
                );
                FrameSource::Max
            }
            MarketOutput::MaxTrade {
                market,
                price,
                volume,
                taker_side,
                ts_ms,
            } => {
                // Only emitted when public trades are turned on, which this feed does not do.
                let t = mframes::MaxPublicTrade {
                    price,
                    volume,
                    taker_side,
                    ts_ms,
                };
                mframes::write_public_trades(frame, market, false, &[t], ts_ms);
                FrameSource::Max
            }
            MarketOutput::RefRate {
                symbol,
                rate,
                ts_ms,
            } => match self.instruments.lookup(Venue::RefRate, symbol.as_bytes()) {
                Some(instrument) => {
                    // The bank's board: spot buy and sell 0.15 TWD apart around the rate.
                    let half = 7_500_000;
                    bot_csv::write_day_board(
                        frame,
                        Fixed(rate.raw() - half),
                        Fixed(rate.raw() + half),
                    );
                    FrameSource::BotBoard { instrument, ts_ms }
                }
                None => FrameSource::Unknown(Venue::RefRate),
            },
        }
    }

    /// Live mode: write, then read back at once.
    pub(super) fn on_market(&mut self, o: MarketOutput<'_>) {
        let src = self.write(o);
        let frame = std::mem::take(&mut self.frame);
        self.ingest(src, &frame);
        self.frame = frame;
    }

    /// Pre-generation: write and keep the frame for replay at simulated time `t_ns`.
    pub(super) fn record(&mut self, o: MarketOutput<'_>, t_ns: u64) {
        let src = self.write(o);
        let start = self.store.len();
        self.store.extend_from_slice(&self.frame);
        self.recorded.push(Recorded {
            t_ns,
            src,
            start,
            end: self.store.len(),
        });
    }
}

fn binance_market(venue: Venue) -> BinanceMarket {
    if venue == Venue::BinanceFutures {
        BinanceMarket::Futures
    } else {
        BinanceMarket::Spot
    }
}
