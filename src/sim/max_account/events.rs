//! The account's private event stream: the snapshots an authenticated connection gets, the
//! matching engine run against the books, and each of its outputs recorded and broadcast as
//! `order_update` / `trade_update` / `account_update`.

use super::holdings::base_of;
use super::{Inner, MaxAccount, Outbox, VenueOrder, VenueTrade};
use crate::model::{Fixed, Level, Side, Symbol, WalletType};
use crate::sim::exec_venue::{ExecOutput, quote_of};
use crate::sim::max_frames::{
    MaxOrderFrame, MaxPublicTrade, MaxTradeFrame, write_account_event, write_order_snapshot_in,
    write_order_update, write_trade_snapshot_in, write_trade_update,
};
use std::sync::Arc;

impl MaxAccount {
    /// Registers an authenticated private connection: first the snapshots MAX sends after
    /// `authenticated` (open orders, the latest trades, balances; per wallet), then every later
    /// order, trade and account event of the account.
    pub fn subscribe(&self, outbox: Outbox) {
        let ms = self.now_ms();
        let mut g = self.lock();
        let mut frames = Vec::new();
        for w in [WalletType::Spot, WalletType::Margin] {
            let open: Vec<VenueOrder> = g
                .orders
                .iter()
                .filter(|o| o.is_open() && o.wallet == w)
                .copied()
                .collect();
            let frames_o: Vec<MaxOrderFrame> = open.iter().map(|o| o.frame()).collect();
            write_order_snapshot_in(&mut g.buf, w, &frames_o, ms);
            frames.push(g.buf.clone());
            // MAX sends at most 100 trades in a snapshot.
            let recent: Vec<VenueTrade> = g
                .trades
                .iter()
                .rev()
                .filter(|t| t.wallet == w)
                .take(100)
                .copied()
                .collect();
            let frames_t: Vec<MaxTradeFrame> = recent.iter().rev().map(|t| t.frame()).collect();
            write_trade_snapshot_in(&mut g.buf, w, &frames_t, ms);
            frames.push(g.buf.clone());
            let balances = g.balances(w);
            let rows: Vec<(&str, Fixed, Fixed)> = balances
                .iter()
                .map(|(c, a, l)| (c.as_str(), *a, *l))
                .collect();
            let mut buf = Vec::new();
            write_account_event(&mut buf, w, true, &rows, ms);
            frames.push(buf);
        }
        if !g.muted {
            for f in frames {
                if outbox.send(Arc::new(f)).is_err() {
                    return;
                }
            }
        }
        g.listeners.push(outbox);
    }

    /// Runs the matching engine up to now against the books' tops (`market` → (bid, ask)) and
    /// sends the resulting events to the private connections.
    pub fn poll(&self, tops: impl Fn(&str) -> Option<(Level, Level)>) {
        self.poll_prints(tops, |_, _| {});
    }

    /// [`MaxAccount::poll`], also handing each new trade to `print` as the public tape shows
    /// it: market, price, volume, the taker's side (ours when we took, the other side when our
    /// order was the maker) and time — no id, no user fields. A duplicate sent on purpose
    /// prints once.
    pub fn poll_prints(
        &self,
        tops: impl Fn(&str) -> Option<(Level, Level)>,
        mut print: impl FnMut(Symbol, MaxPublicTrade),
    ) {
        let t = self.now_ns();
        let mut g = self.lock();
        let mut outputs = Vec::new();
        g.venue.poll(t, tops, |o| outputs.push(o));
        for o in outputs {
            if let Some((market, p)) = g.apply(o) {
                print(market, p);
            }
        }
    }
}

impl Inner {
    fn broadcast(&mut self) {
        if self.muted {
            return;
        }
        let frame = Arc::new(self.buf.clone());
        self.listeners.retain(|l| l.send(frame.clone()).is_ok());
    }

    /// Records and broadcasts one output of the matching engine; a new trade is returned as
    /// its public print.
    fn apply(&mut self, o: ExecOutput) -> Option<(Symbol, MaxPublicTrade)> {
        match o {
            ExecOutput::OrderUpdate {
                order_id,
                state,
                executed,
                avg_price,
                trades_count,
                ts_ms,
                ..
            } => {
                let i = self.orders.iter().position(|x| x.id == order_id)?;
                let rec = &mut self.orders[i];
                rec.state = state;
                rec.executed = executed;
                rec.avg_price = avg_price;
                rec.trades = trades_count;
                rec.updated_ms = ts_ms;
                let rec = *rec;
                write_order_update(&mut self.buf, &rec.frame(), ts_ms);
                self.broadcast();
                None
            }
            ExecOutput::Trade(t) => {
                let (trade_id, ts_ms) = (t.id, t.ts_ms);
                let fresh = self.trades.last().is_none_or(|l| l.id != trade_id);
                if !fresh {
                    self.duplicates_sent += 1;
                } else {
                    self.trades.push(t);
                    self.settle(&t);
                    // The order's own update follows the trade: count the volume as executed
                    // now, so the account update below does not lock what was just sold (the
                    // available balance went negative for a moment otherwise).
                    if let Some(rec) = self.orders.iter_mut().find(|x| x.id == t.order_id) {
                        rec.executed =
                            Fixed((rec.executed.raw() + t.volume.raw()).min(rec.volume.raw()));
                    }
                }
                write_trade_update(&mut self.buf, &t.frame(), ts_ms);
                self.broadcast();
                if !fresh {
                    return None;
                }
                self.account_update(&t, ts_ms);
                let taker_side = match (t.maker, t.side) {
                    (false, s) => s,
                    (true, Side::Buy) => Side::Sell,
                    (true, Side::Sell) => Side::Buy,
                };
                Some((
                    t.market,
                    MaxPublicTrade {
                        price: t.price,
                        volume: t.volume,
                        taker_side,
                        ts_ms,
                    },
                ))
            }
            // Accepted orders are never announced or rejected by the matching engine; a cancel
            // that lost the race to a fill was already answered `success` by REST, as on MAX.
            ExecOutput::Created { .. } | ExecOutput::Rejected { .. } => None,
        }
    }

    /// `account_update` with the currencies a trade moved (only those, as MAX sends it).
    fn account_update(&mut self, t: &VenueTrade, ts_ms: u64) {
        let moved = [base_of(t.market), quote_of(t.market), t.fee_currency];
        let all = self.balances(t.wallet);
        let rows: Vec<(&str, Fixed, Fixed)> = all
            .iter()
            .filter(|(c, _, _)| moved.contains(c))
            .map(|(c, a, l)| (c.as_str(), *a, *l))
            .collect();
        write_account_event(&mut self.buf, t.wallet, false, &rows, ts_ms);
        self.broadcast();
    }
}
