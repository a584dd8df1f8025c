//! The synthetic execution venue: MAX's order handling, in process.
//!
//! A request arrives after a uniform latency in `[latency_min_ms, latency_max_ms]` (simulated
//! time). Then, against the synthetic MAX book at that moment:
//! - with `reject_probability`, the order is refused (`2002`, as MAX's create-order error);
//! - otherwise it is created (the REST 201 reply), and
//!   - `ioc_limit` fills up to the touch size at the touch if its limit crosses, the rest is
//!     cancelled (`done` when fully filled, else `cancel`);
//!   - `post_only` that would cross is cancelled at once (MAX does not document its reject
//!     code; cancelling is what a maker-only order does on most venues);
//!   - `limit` takes what crosses, rests otherwise, and fills later when the book crosses it.
//! - A cancel that arrives for a resting order cancels it; for an unknown or finished order it
//!   is refused with `2004` ("Order doesn't exist").
//!
//! Fees are `taker_fee_bps` / `maker_fee_bps` of the notional, in the quote currency.
//!
//! One file: the matching engine, whose pending requests, resting orders and fills change
//! together under one clock; the code is ~470 lines, the rest is its unit tests.

use crate::config::sim::SimConfig;
use crate::model::{
    ClientOid, Fixed, GatewayCmdKind, InvalidSetting, Level, OrderRequest, OrderType, Side, Symbol,
    WalletType,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The quote currency of a MAX market (`BTCTWD` → `TWD`), read off its name by MAX's quote
/// currencies; `TWD` when none ends it.
pub fn quote_of(market: Symbol) -> Symbol {
    let s = market.as_str();
    let q = ["TWD", "USDT", "USDC", "BTC", "ETH"]
        .into_iter()
        .find(|q| s.len() > q.len() && s.ends_with(q))
        .unwrap_or("TWD");
    Symbol::new(q).unwrap_or(market)
}

/// A simulated venue's fees, in bps of a fill's notional: the in-process venue's and the
/// replay's use the one rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeeRates {
    pub maker_bps: f64,
    pub taker_bps: f64,
}

impl FeeRates {
    /// The fee of a fill: its kind's rate times the notional (price × quantity), in the quote
    /// currency, rounded up to 10⁻⁸ (saturating at [`Fixed::MAX`], far beyond any real fee).
    pub fn fee(&self, price: Fixed, qty: Fixed, maker: bool) -> Fixed {
        let bps = if maker {
            self.maker_bps
        } else {
            self.taker_bps
        };
        let scale = crate::model::SCALE as f64;
        let notional = (price.raw() as i128 * qty.raw() as i128) as f64 / (scale * scale);
        Fixed::from_f64_ceil(notional * bps / 1e4, Fixed(1)).unwrap_or(Fixed::MAX)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecOutput {
    Created {
        order_id: u64,
        client_oid: ClientOid,
        market: Symbol,
        wallet: WalletType,
        side: Side,
        ord_type: OrderType,
        price: Fixed,
        volume: Fixed,
        ts_ms: u64,
    },
    Rejected {
        client_oid: ClientOid,
        code: u32,
        message: &'static str,
        /// A refused cancel, not a refused order.
        cancel: bool,
    },
    OrderUpdate {
        order_id: u64,
        client_oid: ClientOid,
        market: Symbol,
        wallet: WalletType,
        side: Side,
        ord_type: OrderType,
        price: Fixed,
        volume: Fixed,
        state: &'static str,
        executed: Fixed,
        remaining: Fixed,
        avg_price: Fixed,
        trades_count: u32,
        created_ms: u64,
        ts_ms: u64,
    },
    /// A fill; sent twice now and then (`duplicate_fill_probability`).
    Trade(VenueTrade),
}

/// A trade on one of the account's orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueTrade {
    pub id: u64,
    pub order_id: u64,
    pub client_oid: ClientOid,
    pub market: Symbol,
    pub wallet: WalletType,
    pub side: Side,
    pub price: Fixed,
    pub volume: Fixed,
    pub fee: Fixed,
    pub fee_currency: Symbol,
    pub maker: bool,
    pub ts_ms: u64,
}

impl VenueTrade {
    pub fn frame(&self) -> crate::sim::max_frames::MaxTradeFrame<'_> {
        crate::sim::max_frames::MaxTradeFrame {
            id: self.id,
            order_id: self.order_id,
            client_oid: &self.client_oid,
            market: self.market.as_str(),
            wallet: self.wallet,
            side: self.side,
            price: self.price,
            volume: self.volume,
            fee: self.fee,
            fee_currency: self.fee_currency.as_str(),
            maker: self.maker,
            ts_ms: self.ts_ms,
        }
    }
}

#[derive(Clone, Copy)]
struct Pending {
    due_ns: u64,
    req: OrderRequest,
    market: Symbol,
    /// The venue id of an order a REST front already accepted (0: not yet accepted; the venue
    /// may still reject it and will announce it with `Created`).
    accepted_id: u64,
}

#[derive(Clone, Copy)]
struct Resting {
    id: u64,
    req: OrderRequest,
    market: Symbol,
    executed: Fixed,
    notional: i128,
    trades: u32,
    created_ms: u64,
}

pub struct ExecVenue {
    rng: SmallRng,
    latency_min_ns: u64,
    latency_max_ns: u64,
    reject_p: f64,
    dup_p: f64,
    fees: FeeRates,
    epoch_ms: u64,
    pending: Vec<Pending>,
    resting: Vec<Resting>,
    next_order_id: u64,
    next_trade_id: u64,
}

impl ExecVenue {
    pub fn new(cfg: &SimConfig) -> Result<Self, InvalidSetting> {
        cfg.validate()?;
        Ok(ExecVenue {
            rng: SmallRng::seed_from_u64(cfg.seed ^ 0xe8ec_0de5),
            latency_min_ns: cfg.latency_min_ms * 1_000_000,
            latency_max_ns: cfg.latency_max_ms * 1_000_000,
            reject_p: cfg.reject_probability,
            dup_p: cfg.duplicate_fill_probability,
            fees: FeeRates {
                maker_bps: cfg.maker_fee_bps,
                taker_bps: cfg.taker_fee_bps,
            },
            epoch_ms: cfg.epoch_ms,
            pending: Vec::with_capacity(256),
            resting: Vec::with_capacity(256),
            next_order_id: 2_492_000_000,
            next_trade_id: 12_300_000,
        })
    }

    pub fn open_orders(&self) -> usize {
        self.resting.len()
    }

    /// A request handed over by the gateway at simulated `t_ns`.
    pub fn submit(&mut self, req: &OrderRequest, market: Symbol, t_ns: u64) {
        self.enqueue(req, market, t_ns, 0);
    }

    /// An order a REST front has already accepted (HTTP 201) as `order_id`: it reaches
    /// matching after the venue latency, with no `Created` and no random reject.
    pub fn submit_accepted(
        &mut self,
        req: &OrderRequest,
        market: Symbol,
        order_id: u64,
        t_ns: u64,
    ) {
        self.enqueue(req, market, t_ns, order_id);
    }

    /// Whether the next order is refused (`reject_probability`), for a front that answers
    /// synchronously.
    pub fn roll_reject(&mut self) -> bool {
        self.rng.random::<f64>() < self.reject_p
    }

    fn enqueue(&mut self, req: &OrderRequest, market: Symbol, t_ns: u64, accepted_id: u64) {
        let lat = if self.latency_max_ns > self.latency_min_ns {
            self.rng
                .random_range(self.latency_min_ns..=self.latency_max_ns)
        } else {
            self.latency_min_ns
        };
        let mut due_ns = t_ns + lat;
        if req.kind == GatewayCmdKind::Cancel {
            // The venue handles an order's requests in the order they came: a cancel never
            // overtakes the order it cancels.
            for p in self.pending.iter().filter(|p| {
                p.req.kind == GatewayCmdKind::New
                    && ((req.exchange_order_id != 0 && p.accepted_id == req.exchange_order_id)
                        || (!req.client_oid.is_empty() && p.req.client_oid == req.client_oid))
            }) {
                due_ns = due_ns.max(p.due_ns + 1);
            }
        }
        self.pending.push(Pending {
            due_ns,
            req: *req,
            market,
            accepted_id,
        });
    }

    /// Processes every request due by `t_ns` and fills resting orders the book now crosses;
    /// `tops` gives a market's best bid and ask by its name (as [`Symbol`] keeps it: upper case).
    pub fn poll(
        &mut self,
        t_ns: u64,
        tops: impl Fn(&str) -> Option<(Level, Level)>,
        mut out: impl FnMut(ExecOutput),
    ) {
        let ms = self.epoch_ms + t_ns / 1_000_000;
        while let Some(i) = self.next_due(t_ns) {
            let p = self.pending.swap_remove(i);
            match p.req.kind {
                GatewayCmdKind::New => self.arrive_new(p, ms, &tops, &mut out),
                GatewayCmdKind::Cancel => self.arrive_cancel(p, ms, &mut out),
                GatewayCmdKind::Query => self.arrive_query(p, ms, &mut out),
            }
        }
        let mut i = 0;
        while i < self.resting.len() {
            let r = self.resting[i];
            let Some(top) = tops(r.market.as_str()) else {
                i += 1;
                continue;
            };
            let mut r2 = r;
            let done = self.match_against(&mut r2, top, ms, true, &mut out);
            if done {
                self.resting.swap_remove(i);
                self.update(&r2, "done", ms, &mut out);
            } else {
                if r2.executed != r.executed {
                    self.update(&r2, "wait", ms, &mut out);
                }
                self.resting[i] = r2;
                i += 1;
            }
        }
    }

    fn next_due(&self, t_ns: u64) -> Option<usize> {
        self.pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.due_ns <= t_ns)
            .min_by_key(|(_, p)| p.due_ns)
            .map(|(i, _)| i)
    }

    fn arrive_new(
        &mut self,
        p: Pending,
        ms: u64,
        tops: &impl Fn(&str) -> Option<(Level, Level)>,
        out: &mut impl FnMut(ExecOutput),
    ) {
        let req = p.req;
        let id = if p.accepted_id != 0 {
            p.accepted_id
        } else {
            if self.roll_reject() {
                out(ExecOutput::Rejected {
                    client_oid: req.client_oid,
                    code: 2002,
                    message: "Failed to create order",
                    cancel: false,
                });
                return;
            }
            let id = self.next_order_id;
            self.next_order_id += 1;
            out(ExecOutput::Created {
                order_id: id,
                client_oid: req.client_oid,
                market: p.market,
                wallet: req.wallet,
                side: req.side,
                ord_type: req.order_type,
                price: req.price,
                volume: req.qty,
                ts_ms: ms,
            });
            id
        };
        let mut r = Resting {
            id,
            req,
            market: p.market,
            executed: Fixed::ZERO,
            notional: 0,
            trades: 0,
            created_ms: ms,
        };
        let top = tops(p.market.as_str());
        let crosses = top.is_some_and(|(bid, ask)| match req.side {
            Side::Buy => ask.price.raw() > 0 && req.price >= ask.price,
            Side::Sell => bid.price.raw() > 0 && req.price <= bid.price,
        });
        match req.order_type {
            OrderType::PostOnly if crosses => self.update(&r, "cancel", ms, out),
            OrderType::IocLimit => {
                let done = top.is_some_and(|t| self.match_against(&mut r, t, ms, false, out));
                self.update(&r, if done { "done" } else { "cancel" }, ms, out);
            }
            _ => {
                let done = top.is_some_and(|t| self.match_against(&mut r, t, ms, false, out));
                if done {
                    self.update(&r, "done", ms, out);
                } else {
                    if !r.executed.is_zero() {
                        self.update(&r, "wait", ms, out);
                    }
                    self.resting.push(r);
                }
            }
        }
    }

    fn arrive_cancel(&mut self, p: Pending, ms: u64, out: &mut impl FnMut(ExecOutput)) {
        let req = p.req;
        let pos = self.resting.iter().position(|r| {
            (req.exchange_order_id != 0 && r.id == req.exchange_order_id)
                || (!req.client_oid.is_empty() && r.req.client_oid == req.client_oid)
        });
        match pos {
            Some(i) => {
                let r = self.resting.swap_remove(i);
                self.update(&r, "cancel", ms, out);
            }
            None => out(ExecOutput::Rejected {
                client_oid: req.client_oid,
                code: 2004,
                message: "Order doesn't exist",
                cancel: true,
            }),
        }
    }

    /// A state read: a resting order's state now. A finished order's final state was already
    /// sent when it finished; an unknown one is refused with 2004.
    fn arrive_query(&mut self, p: Pending, ms: u64, out: &mut impl FnMut(ExecOutput)) {
        let req = p.req;
        match self.resting.iter().find(|r| {
            (req.exchange_order_id != 0 && r.id == req.exchange_order_id)
                || (!req.client_oid.is_empty() && r.req.client_oid == req.client_oid)
        }) {
            Some(r) => self.update(r, "wait", ms, out),
            None => out(ExecOutput::Rejected {
                client_oid: req.client_oid,
                code: 2004,
                message: "Order doesn't exist",
                cancel: false,
            }),
        }
    }

    /// Fills what crosses the touch, up to the touch size. Returns true when fully filled.
    fn match_against(
        &mut self,
        r: &mut Resting,
        (bid, ask): (Level, Level),
        ms: u64,
        maker: bool,
        out: &mut impl FnMut(ExecOutput),
    ) -> bool {
        let remaining = Fixed(r.req.qty.raw() - r.executed.raw());
        let (touch, crosses) = match r.req.side {
            Side::Buy => (ask, ask.price.raw() > 0 && r.req.price >= ask.price),
            Side::Sell => (bid, bid.price.raw() > 0 && r.req.price <= bid.price),
        };
        if !crosses || remaining.raw() <= 0 {
            return remaining.raw() <= 0;
        }
        let qty = Fixed(remaining.raw().min(touch.qty.raw()));
        // A resting order fills at its own price (maker); an arriving one at the touch (taker).
        let price = if maker { r.req.price } else { touch.price };
        let trade_id = self.next_trade_id;
        self.next_trade_id += 1;
        r.executed = Fixed(r.executed.raw() + qty.raw());
        r.notional += price.raw() as i128 * qty.raw() as i128;
        r.trades += 1;
        let t = ExecOutput::Trade(VenueTrade {
            id: trade_id,
            order_id: r.id,
            client_oid: r.req.client_oid,
            market: r.market,
            wallet: r.req.wallet,
            side: r.req.side,
            price,
            volume: qty,
            fee: self.fees.fee(price, qty, maker),
            fee_currency: quote_of(r.market),
            maker,
            ts_ms: ms,
        });
        out(t);
        if self.rng.random::<f64>() < self.dup_p {
            out(t);
        }
        r.executed == r.req.qty
    }

    fn update(&self, r: &Resting, state: &'static str, ms: u64, out: &mut impl FnMut(ExecOutput)) {
        let avg = if r.executed.raw() > 0 {
            Fixed((r.notional / r.executed.raw() as i128) as i64)
        } else {
            Fixed::ZERO
        };
        out(ExecOutput::OrderUpdate {
            order_id: r.id,
            client_oid: r.req.client_oid,
            market: r.market,
            wallet: r.req.wallet,
            side: r.req.side,
            ord_type: r.req.order_type,
            price: r.req.price,
            volume: r.req.qty,
            state,
            executed: r.executed,
            remaining: Fixed(r.req.qty.raw() - r.executed.raw()),
            avg_price: avg,
            trades_count: r.trades,
            created_ms: r.created_ms,
            ts_ms: ms,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btcusdt() -> Symbol {
        Symbol::new("btcusdt").unwrap()
    }

    fn venue(reject: f64) -> ExecVenue {
        let cfg = SimConfig {
            reject_probability: reject,
            ..SimConfig::default()
        };
        ExecVenue::new(&cfg).unwrap()
    }

    fn req(
        kind: GatewayCmdKind,
        ot: OrderType,
        side: Side,
        price: &str,
        qty: &str,
        oid: &str,
    ) -> OrderRequest {
        OrderRequest {
            kind,
            client_oid: ClientOid::from_bytes(oid.as_bytes()).unwrap(),
            order_type: ot,
            side,
            price: Fixed::parse(price).unwrap(),
            qty: Fixed::parse(qty).unwrap(),
            ..Default::default()
        }
    }

    fn top(bid: &str, bq: &str, ask: &str, aq: &str) -> Option<(Level, Level)> {
        let f = |s: &str| Fixed::parse(s).unwrap();
        Some((
            Level {
                price: f(bid),
                qty: f(bq),
            },
            Level {
                price: f(ask),
                qty: f(aq),
            },
        ))
    }

    fn run(v: &mut ExecVenue, t_ns: u64, t: Option<(Level, Level)>) -> Vec<ExecOutput> {
        let mut out = Vec::new();
        v.poll(t_ns, |_| t, |o| out.push(o));
        out
    }

    #[test]
    fn nothing_happens_before_the_latency_and_everything_within_it() {
        let mut v = venue(0.0);
        v.submit(
            &req(
                GatewayCmdKind::New,
                OrderType::Limit,
                Side::Buy,
                "99",
                "1",
                "a",
            ),
            btcusdt(),
            0,
        );
        assert!(run(&mut v, 49_999_999, top("100", "1", "101", "1")).is_empty());
        let out = run(&mut v, 200_000_000, top("100", "1", "101", "1"));
        assert!(matches!(out[0], ExecOutput::Created { .. }), "{out:?}");
        assert_eq!(v.open_orders(), 1);
    }

    #[test]
    fn ioc_fills_the_touch_and_cancels_the_rest() {
        let mut v = venue(0.0);
        v.submit(
            &req(
                GatewayCmdKind::New,
                OrderType::IocLimit,
                Side::Buy,
                "101",
                "3",
                "a",
            ),
            btcusdt(),
            0,
        );
        let out = run(&mut v, 300_000_000, top("100", "1", "101", "2"));
        assert!(
            matches!(out[1], ExecOutput::Trade(t) if t.volume == Fixed::from_int(2) && t.price == Fixed::from_int(101))
        );
        assert!(
            matches!(out[2], ExecOutput::OrderUpdate { state: "cancel", executed, .. } if executed == Fixed::from_int(2))
        );
        assert_eq!(v.open_orders(), 0);
    }

    #[test]
    fn resting_limit_fills_when_the_book_crosses_it_and_cancel_of_a_done_order_is_refused() {
        let mut v = venue(0.0);
        v.submit(
            &req(
                GatewayCmdKind::New,
                OrderType::Limit,
                Side::Sell,
                "105",
                "1",
                "s",
            ),
            btcusdt(),
            0,
        );
        run(&mut v, 300_000_000, top("100", "1", "101", "1"));
        let out = run(&mut v, 310_000_000, top("106", "5", "107", "1"));
        assert!(
            matches!(out[0], ExecOutput::Trade(t) if t.maker && t.price == Fixed::from_int(105))
        );
        assert!(matches!(
            out[1],
            ExecOutput::OrderUpdate { state: "done", .. }
        ));
        v.submit(
            &req(
                GatewayCmdKind::Cancel,
                OrderType::Limit,
                Side::Sell,
                "105",
                "1",
                "s",
            ),
            btcusdt(),
            310_000_000,
        );
        let out = run(&mut v, 600_000_000, top("106", "5", "107", "1"));
        assert!(matches!(out[0], ExecOutput::Rejected { code: 2004, .. }));
    }

    #[test]
    fn post_only_that_would_cross_is_cancelled() {
        let mut v = venue(0.0);
        v.submit(
            &req(
                GatewayCmdKind::New,
                OrderType::PostOnly,
                Side::Buy,
                "101",
                "1",
                "p",
            ),
            btcusdt(),
            0,
        );
        let out = run(&mut v, 300_000_000, top("100", "1", "101", "1"));
        assert!(matches!(
            out[1],
            ExecOutput::OrderUpdate {
                state: "cancel",
                ..
            }
        ));
    }

    #[test]
    fn rejects_with_the_venue_code() {
        let mut v = venue(1.0);
        v.submit(
            &req(
                GatewayCmdKind::New,
                OrderType::Limit,
                Side::Buy,
                "99",
                "1",
                "r",
            ),
            btcusdt(),
            0,
        );
        assert!(matches!(
            run(&mut v, 300_000_000, top("100", "1", "101", "1"))[0],
            ExecOutput::Rejected { code: 2002, .. }
        ));
    }
}
