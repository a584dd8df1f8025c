//! What a replay did, in capture time: every request the order stage sent and every answer of
//! the simulated venue (the orders-and-fills CSV), every signal (the signals CSV), and the
//! P&L sampled along the way (the chart, the drawdown).
//!
//! Everything here comes from the capture's clock and the stages' deterministic output, so
//! two replays of one capture with one configuration write the same bytes.

use crate::model::{
    ClientOid, GatewayCmdKind, InstrumentId, Instruments, OrderRequest, Signal, Strategy,
};
use crate::sim::exec_venue::ExecOutput;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The orders-and-fills CSV's columns.
pub const ORDERS_CSV_HEADER: &str = "ts_utc_ns,event,strategy,market,wallet,side,type,price,qty,\
client_oid,order_id,trade_id,fee,fee_currency,liquidity,state,executed,reject_code";

/// The signals CSV's columns.
pub const SIGNALS_CSV_HEADER: &str =
    "ts_utc_ns,seq,strategy,market,leader,wallet,side,type,price,qty,fair_value,edge_bps";

/// One point of the P&L series: capture time, realized and total (realized + unrealized) P&L
/// in USDT, fees included.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PnlPoint {
    pub ts_utc_ns: u64,
    pub realized_usdt: f64,
    pub total_usdt: f64,
}

/// Counts the sweep's table and the summary report.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct JournalCounts {
    pub signals: u64,
    pub orders: u64,
    pub cancels: u64,
    pub acks: u64,
    pub rejects: u64,
    pub fills: u64,
    pub maker_fills: u64,
    /// Orders with at least one fill.
    pub orders_filled: u64,
}

impl JournalCounts {
    /// Orders with at least one fill, over orders sent (0 without orders).
    pub fn hit_rate(&self) -> f64 {
        if self.orders == 0 {
            0.0
        } else {
            self.orders_filled as f64 / self.orders as f64
        }
    }
}

pub struct Journal {
    instruments: Instruments,
    orders_csv: String,
    signals_csv: String,
    /// Each order's strategy and whether it has filled, by client id.
    orders: HashMap<ClientOid, (Strategy, bool)>,
    counts: JournalCounts,
    pnl: Vec<PnlPoint>,
}

impl Journal {
    pub fn new(instruments: Instruments) -> Journal {
        Journal {
            instruments,
            orders_csv: format!("{ORDERS_CSV_HEADER}\n"),
            signals_csv: format!("{SIGNALS_CSV_HEADER}\n"),
            orders: HashMap::new(),
            counts: JournalCounts::default(),
            pnl: Vec::new(),
        }
    }

    pub fn counts(&self) -> JournalCounts {
        self.counts
    }

    pub fn orders_csv(&self) -> &str {
        &self.orders_csv
    }

    pub fn signals_csv(&self) -> &str {
        &self.signals_csv
    }

    pub fn pnl(&self) -> &[PnlPoint] {
        &self.pnl
    }

    fn symbol(&self, i: InstrumentId) -> String {
        if i.index() < self.instruments.len() {
            self.instruments.get(i).symbol.to_string()
        } else {
            "?".into()
        }
    }

    pub fn signal(&mut self, t: u64, s: &Signal) {
        self.counts.signals += 1;
        let (market, leader) = (self.symbol(s.instrument), self.symbol(s.leader));
        let _ = writeln!(
            self.signals_csv,
            "{t},{},{},{market},{leader},{},{},{},{},{},{:.6},{:.4}",
            s.seq,
            s.strategy.id(),
            s.wallet.wire(),
            s.side.rest(),
            s.order_type.wire(),
            s.price,
            s.qty,
            s.fair_value,
            s.edge_bps,
        );
    }

    /// A request the order stage handed to the gateway at `t`.
    pub fn request(&mut self, t: u64, r: &OrderRequest) {
        let event = match r.kind {
            GatewayCmdKind::New => {
                self.counts.orders += 1;
                self.orders.insert(r.client_oid, (r.strategy, false));
                "order"
            }
            GatewayCmdKind::Cancel => {
                self.counts.cancels += 1;
                "cancel"
            }
            GatewayCmdKind::Query => "query",
        };
        let market = self.symbol(r.instrument);
        let _ = writeln!(
            self.orders_csv,
            "{t},{event},{},{market},{},{},{},{},{},{},{},,,,,,,",
            r.strategy.id(),
            r.wallet.wire(),
            r.side.rest(),
            r.order_type.wire(),
            r.price,
            r.qty,
            r.client_oid,
            r.exchange_order_id,
        );
    }

    fn strategy_of(&self, c: &ClientOid) -> &'static str {
        self.orders.get(c).map_or("", |(s, _)| s.id())
    }

    /// An answer of the simulated venue at `t`.
    pub fn answer(&mut self, t: u64, o: &ExecOutput) {
        let line = match o {
            ExecOutput::Created {
                order_id,
                client_oid,
                market,
                wallet,
                side,
                ord_type,
                price,
                volume,
                ..
            } => {
                self.counts.acks += 1;
                format!(
                    "{t},ack,{},{market},{},{},{},{price},{volume},{client_oid},{order_id},,,,,,,",
                    self.strategy_of(client_oid),
                    wallet.wire(),
                    side.rest(),
                    ord_type.wire(),
                )
            }
            ExecOutput::Rejected {
                client_oid,
                code,
                cancel,
                ..
            } => {
                let event = if *cancel {
                    "cancel_reject"
                } else {
                    self.counts.rejects += 1;
                    "reject"
                };
                format!(
                    "{t},{event},{},,,,,,,{client_oid},,,,,,,,{code}",
                    self.strategy_of(client_oid)
                )
            }
            ExecOutput::OrderUpdate {
                order_id,
                client_oid,
                market,
                wallet,
                side,
                ord_type,
                price,
                volume,
                state,
                executed,
                ..
            } => format!(
                "{t},update,{},{market},{},{},{},{price},{volume},{client_oid},{order_id},,,,,{state},{executed},",
                self.strategy_of(client_oid),
                wallet.wire(),
                side.rest(),
                ord_type.wire(),
            ),
            ExecOutput::Trade(tr) => {
                self.counts.fills += 1;
                if tr.maker {
                    self.counts.maker_fills += 1;
                }
                if let Some((_, filled)) = self.orders.get_mut(&tr.client_oid)
                    && !*filled
                {
                    *filled = true;
                    self.counts.orders_filled += 1;
                }
                format!(
                    "{t},fill,{},{},{},{},,{},{},{},{},{},{},{},{},,,",
                    self.strategy_of(&tr.client_oid),
                    tr.market,
                    tr.wallet.wire(),
                    tr.side.rest(),
                    tr.price,
                    tr.volume,
                    tr.client_oid,
                    tr.order_id,
                    tr.id,
                    tr.fee,
                    tr.fee_currency,
                    if tr.maker { "maker" } else { "taker" },
                )
            }
        };
        self.orders_csv.push_str(&line);
        self.orders_csv.push('\n');
    }

    /// A P&L sample; a sample at the same time as the previous one replaces it.
    pub fn pnl_at(&mut self, p: PnlPoint) {
        match self.pnl.last_mut() {
            Some(last) if last.ts_utc_ns == p.ts_utc_ns => *last = p,
            _ => self.pnl.push(p),
        }
    }

    /// The largest fall of total P&L from an earlier peak, in USDT (0 when it never fell).
    pub fn max_drawdown(&self) -> f64 {
        let mut peak = f64::NEG_INFINITY;
        let mut worst: f64 = 0.0;
        for p in &self.pnl {
            peak = peak.max(p.total_usdt);
            worst = worst.max(peak - p.total_usdt);
        }
        worst
    }
}
