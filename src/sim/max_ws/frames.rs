//! The frames the ticker writes: book frames from the market's output, and a new
//! subscription's snapshot of a book, the recent trades or the ticker.

use super::Channel;
use crate::sim::market::{MarketOutput, SyntheticMarket};
use crate::sim::max_frames::{MaxBookFrame, write_book, write_public_trades, write_ticker};
use crate::sim::public_tape::PublicTape;
use crossbeam::channel::Sender;
use std::sync::Arc;

/// Sends a new subscription's snapshot of `ch` of `market` to `to` (nothing for a market the
/// simulator lacks); `empty`: a book snapshot without levels.
pub(super) fn send_snapshot(
    sim: &mut SyntheticMarket,
    tape: &PublicTape,
    buf: &mut Vec<u8>,
    now_ms: u64,
    (ch, market, empty): (Channel, &str, bool),
    to: &Sender<Arc<Vec<u8>>>,
) {
    if !sim.max_markets().any(|m| m == market) {
        return;
    }
    match ch {
        Channel::Book => sim.max_snapshot(market, &mut |o| {
            let o = match o {
                MarketOutput::MaxBook {
                    snapshot,
                    market,
                    first_id,
                    last_id,
                    version,
                    ts_ms,
                    ..
                } if empty => MarketOutput::MaxBook {
                    snapshot,
                    market,
                    first_id,
                    last_id,
                    version,
                    ts_ms,
                    bids: &[],
                    asks: &[],
                },
                o => o,
            };
            if let Some(f) = encode(&o, buf) {
                let _ = to.send(Arc::new(f));
            }
        }),
        Channel::Trade => {
            write_public_trades(buf, market, true, &tape.recent(market), now_ms);
            let _ = to.send(Arc::new(buf.clone()));
        }
        Channel::Ticker => {
            if let Some(tk) = tape.ticker(market) {
                write_ticker(buf, market, true, &tk, now_ms);
                let _ = to.send(Arc::new(buf.clone()));
            }
        }
    }
}

pub(super) fn encode(o: &MarketOutput<'_>, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    match o {
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
            let kind = if *snapshot {
                MaxBookFrame::Snapshot
            } else {
                MaxBookFrame::Update
            };
            write_book(
                buf, kind, market, *first_id, *last_id, *version, *ts_ms, bids, asks,
            );
            Some(buf.clone())
        }
        _ => None,
    }
}
