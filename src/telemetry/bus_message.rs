//! What the side thread publishes for each telemetry event: a subject in the seed's convention
//! `{domain}.{exchange}.{data_type}.{market_type}.{sub_type}.{event_type}.{symbol}` and a JSON
//! payload. Every payload carries `instance`, `run` (the run's start, Unix ms), `kind`, `seq`
//! (per instance, run and kind: 1, 2, 3, … so a consumer can see a hole) and `ts_ms`. Decimals
//! are exact strings; floats are numbers.
//!
//! | kind | subject |
//! |---|---|
//! | `md` | `exchange.{binance,max,refrate}.l1book.{spot,future}.update.{SYMBOL}` |
//! | `signal` | `signal.{strategy}.{SYMBOL}` |
//! | `order` | `order.max.{new,cancel,query}.{SYMBOL}` (requests sent) |
//! | `exec` | `order.max.{ack,reject,cancelled,cancel_reject,state}.{SYMBOL}` |
//! | `fill` | `order.max.filled.{SYMBOL}` |
//! | `position` | `position.{strategy}.{SYMBOL}` |
//! | `latency` | `latency.{instance}` |
//! | `system` | `system.{instance}.{event}` |
//!
//! The JetStream message id (`Nats-Msg-Id`) is `{instance}.{run}.{kind}.{seq}`, so a message
//! published twice is stored once.

use crate::model::{
    BookStatus, BookTop, ExecEvent, ExecKind, GatewayCmdKind, Instruments, OrderRequest,
    OrderState, PositionSnapshot, Signal, SystemCode, SystemEvent, Telemetry,
};
use crate::telemetry::Percentiles;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The message classes, each with its own sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Md,
    Signal,
    Order,
    Exec,
    Fill,
    Position,
    Latency,
    System,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Md,
        Kind::Signal,
        Kind::Order,
        Kind::Exec,
        Kind::Fill,
        Kind::Position,
        Kind::Latency,
        Kind::System,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Md => "md",
            Kind::Signal => "signal",
            Kind::Order => "order",
            Kind::Exec => "exec",
            Kind::Fill => "fill",
            Kind::Position => "position",
            Kind::Latency => "latency",
            Kind::System => "system",
        }
    }

    /// Market data may be sampled, conflated or dropped under pressure; nothing else may.
    pub fn is_critical(self) -> bool {
        !matches!(self, Kind::Md | Kind::Latency)
    }
}

/// One message ready to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct BusMessage {
    pub kind: Kind,
    pub seq: u64,
    pub subject: String,
    /// `{instance}.{run}.{kind}.{seq}`.
    pub msg_id: String,
    pub payload: Vec<u8>,
}

pub fn book_status(s: BookStatus) -> &'static str {
    match s {
        BookStatus::Resyncing => "resyncing",
        BookStatus::Live => "live",
        BookStatus::Crossed => "crossed",
        BookStatus::Empty => "empty",
        BookStatus::Stale => "stale",
    }
}

pub fn order_state(s: OrderState) -> &'static str {
    match s {
        OrderState::PendingNew => "pending_new",
        OrderState::New => "new",
        OrderState::PartiallyFilled => "partially_filled",
        OrderState::Filled => "filled",
        OrderState::PendingCancel => "pending_cancel",
        OrderState::Cancelled => "cancelled",
        OrderState::Rejected => "rejected",
    }
}

pub fn system_event(c: SystemCode) -> &'static str {
    match c {
        SystemCode::Started => "started",
        SystemCode::FeedUp => "feed_up",
        SystemCode::FeedDown => "feed_down",
        SystemCode::Resync => "resync",
        SystemCode::BookLive => "book_live",
        SystemCode::RiskReject => "risk_reject",
        SystemCode::TradingStateChanged => "trading_state_changed",
        SystemCode::ParseError => "parse_error",
        SystemCode::Stopping => "stopping",
        SystemCode::OrderExpired => "order_expired",
        SystemCode::ReconcileAdopted => "reconcile_adopted",
        SystemCode::ReconcileMissing => "reconcile_missing",
        SystemCode::ReconcileFill => "reconcile_fill",
        SystemCode::ReconcileDone => "reconcile_done",
        SystemCode::FeedRotated => "feed_rotated",
        SystemCode::ConnectionDead => "connection_dead",
        SystemCode::BudgetWait => "budget_wait",
        SystemCode::VenueBan => "venue_ban",
        SystemCode::MarketNotLive => "market_not_live",
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    instance: &'a str,
    run: u64,
    kind: &'static str,
    seq: u64,
    ts_ms: u64,
    #[serde(flatten)]
    body: Value,
}

/// Turns telemetry into bus messages, numbering each kind.
pub struct Encoder {
    instance: String,
    run: u64,
    /// Prepended to every subject with a dot when not empty.
    prefix: String,
    instruments: Instruments,
    next_seq: BTreeMap<Kind, u64>,
}

impl Encoder {
    pub fn new(instance: &str, run: u64, prefix: &str, instruments: Instruments) -> Self {
        Encoder {
            instance: instance.to_string(),
            run,
            prefix: prefix.to_string(),
            instruments,
            next_seq: BTreeMap::new(),
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }
    pub fn run(&self) -> u64 {
        self.run
    }

    /// The sequence the next message of `kind` will get.
    pub fn next_seq(&self, kind: Kind) -> u64 {
        self.next_seq.get(&kind).copied().unwrap_or(1)
    }

    fn sym(&self, i: crate::model::InstrumentId) -> &str {
        self.instruments.get(i).symbol.as_str()
    }

    fn subject(&self, s: String) -> String {
        if self.prefix.is_empty() {
            s
        } else {
            format!("{}.{s}", self.prefix)
        }
    }

    fn finish(&mut self, kind: Kind, subject: String, ts_ms: u64, body: Value) -> BusMessage {
        let seq = self.next_seq(kind);
        self.next_seq.insert(kind, seq + 1);
        let env = Envelope {
            instance: &self.instance,
            run: self.run,
            kind: kind.name(),
            seq,
            ts_ms,
            body,
        };
        let payload = serde_json::to_vec(&env).unwrap_or_default();
        BusMessage {
            kind,
            seq,
            subject: self.subject(subject),
            msg_id: format!("{}.{}.{}.{}", self.instance, self.run, kind.name(), seq),
            payload,
        }
    }

    /// The kind a telemetry event will be published as (before encoding it); `None` for what
    /// is never published (running totals).
    pub fn kind_of(t: &Telemetry) -> Option<Kind> {
        Some(match t {
            Telemetry::Top(_) => Kind::Md,
            Telemetry::Signal(_) => Kind::Signal,
            Telemetry::OrderSent(_) => Kind::Order,
            Telemetry::Exec(e) if matches!(e.kind, ExecKind::Fill | ExecKind::VenueFill) => {
                Kind::Fill
            }
            Telemetry::Exec(_) => Kind::Exec,
            Telemetry::Position(_) => Kind::Position,
            Telemetry::System(_) => Kind::System,
            Telemetry::Tally(_) => return None,
        })
    }

    /// A message for `t`; `None` for what is not published (internal reconcile bookkeeping).
    pub fn encode(&mut self, t: &Telemetry, ts_ms: u64) -> Option<BusMessage> {
        match t {
            Telemetry::Top(b) => Some(self.top(b, ts_ms)),
            Telemetry::Signal(s) => Some(self.signal(s, ts_ms)),
            Telemetry::OrderSent(o) => Some(self.order(o, ts_ms)),
            Telemetry::Exec(e) => self.exec(e, ts_ms),
            Telemetry::Position(p) => Some(self.position(p, ts_ms)),
            Telemetry::System(s) => Some(self.system(s, ts_ms)),
            Telemetry::Tally(_) => None,
        }
    }

    fn top(&mut self, b: &BookTop, ts_ms: u64) -> BusMessage {
        let symbol = self.sym(b.instrument).to_string();
        let subject = format!(
            "exchange.{}.l1book.{}.update.{symbol}",
            b.venue.exchange(),
            b.venue.market_type()
        );
        let body = json!({
            "venue": b.venue.exchange(),
            "symbol": symbol,
            "status": book_status(b.status),
            "bid_px": b.bid.price.to_string(),
            "bid_qty": b.bid.qty.to_string(),
            "ask_px": b.ask.price.to_string(),
            "ask_qty": b.ask.qty.to_string(),
            "last_id": b.last_id,
            "exch_ts_ms": b.exch_ts_ms,
        });
        self.finish(Kind::Md, subject, ts_ms, body)
    }

    fn signal(&mut self, s: &Signal, ts_ms: u64) -> BusMessage {
        let symbol = self.sym(s.instrument).to_string();
        let subject = format!("signal.{}.{symbol}", s.strategy.id());
        let body = json!({
            "strategy": s.strategy.id(),
            "symbol": symbol,
            "wallet": s.wallet.wire(),
            "side": s.side.rest(),
            "order_type": s.order_type.wire(),
            "price": s.price.to_string(),
            "qty": s.qty.to_string(),
            "fair_value": finite(s.fair_value),
            "edge_bps": finite(s.edge_bps),
        });
        self.finish(Kind::Signal, subject, ts_ms, body)
    }

    fn order(&mut self, o: &OrderRequest, ts_ms: u64) -> BusMessage {
        let symbol = self.sym(o.instrument).to_string();
        let event = match o.kind {
            GatewayCmdKind::New => "new",
            GatewayCmdKind::Cancel => "cancel",
            GatewayCmdKind::Query => "query",
        };
        let subject = format!("order.max.{event}.{symbol}");
        let body = json!({
            "event": event,
            "client_oid": o.client_oid.as_str(),
            "exchange_order_id": o.exchange_order_id,
            "strategy": o.strategy.id(),
            "symbol": symbol,
            "wallet": o.wallet.wire(),
            "side": o.side.rest(),
            "order_type": o.order_type.wire(),
            "price": o.price.to_string(),
            "qty": o.qty.to_string(),
        });
        self.finish(Kind::Order, subject, ts_ms, body)
    }

    fn exec(&mut self, e: &ExecEvent, ts_ms: u64) -> Option<BusMessage> {
        let symbol = self.sym(e.instrument).to_string();
        if matches!(e.kind, ExecKind::Fill | ExecKind::VenueFill) {
            let body = json!({
                "client_oid": e.client_oid.as_str(),
                "exchange_order_id": e.exchange_order_id,
                "trade_id": e.trade_id,
                "symbol": symbol,
                "side": e.side.rest(),
                "price": e.price.to_string(),
                "qty": e.qty.to_string(),
                "fee": e.fee.to_string(),
                "source": if e.kind == ExecKind::Fill { "ws" } else { "rest" },
                "venue_ts_ms": e.venue_ts_ms,
            });
            return Some(self.finish(
                Kind::Fill,
                format!("order.max.filled.{symbol}"),
                ts_ms,
                body,
            ));
        }
        let event = match e.kind {
            ExecKind::Ack => "ack",
            ExecKind::Reject => "reject",
            ExecKind::Cancelled => "cancelled",
            ExecKind::CancelReject => "cancel_reject",
            ExecKind::StateUpdate => "state",
            _ => return None,
        };
        let body = json!({
            "event": event,
            "client_oid": e.client_oid.as_str(),
            "exchange_order_id": e.exchange_order_id,
            "symbol": symbol,
            "side": e.side.rest(),
            "state": order_state(e.state),
            "reject_code": e.reject_code,
            "venue_ts_ms": e.venue_ts_ms,
        });
        Some(self.finish(
            Kind::Exec,
            format!("order.max.{event}.{symbol}"),
            ts_ms,
            body,
        ))
    }

    fn position(&mut self, p: &PositionSnapshot, ts_ms: u64) -> BusMessage {
        let symbol = self.sym(p.instrument).to_string();
        let subject = format!("position.{}.{symbol}", p.strategy.id());
        let body = json!({
            "strategy": p.strategy.id(),
            "wallet": p.wallet.wire(),
            "symbol": symbol,
            "qty": p.qty.to_string(),
            "avg_price": p.avg_price.to_string(),
            "fees": p.fees.to_string(),
            "realized_pnl": finite(p.realized_pnl),
            "unrealized_pnl": finite(p.unrealized_pnl),
            "limit": p.limit.to_string(),
        });
        self.finish(Kind::Position, subject, ts_ms, body)
    }

    fn system(&mut self, s: &SystemEvent, ts_ms: u64) -> BusMessage {
        let event = system_event(s.code());
        let subject = format!("system.{}.{event}", self.instance);
        let body = json!({
            "event": event,
            "venue": s.venue.exchange(),
            "symbol": self.sym(s.instrument),
            "detail": s.detail(),
            "trading_state": format!("{:?}", s.trading_state).to_lowercase(),
        });
        // What `detail` means for a feed event: a cause (silence, the private stream) or a
        // count (connections, reference-rate failures).
        let body = match s.kind.feed_link() {
            Some(link) => {
                let mut body = body;
                body["cause"] = json!(link.name());
                body
            }
            None => body,
        };
        self.finish(Kind::System, subject, ts_ms, body)
    }

    /// The forwarder's own state (`system.{instance}.bus_status`): published when its
    /// connection goes down or comes back, so the outage and what it cost are on record.
    pub fn bus_status(&mut self, s: &super::event_sink::SinkStatus, ts_ms: u64) -> BusMessage {
        let subject = format!("system.{}.bus_status", self.instance);
        let body = json!({
            "event": "bus_status",
            "venue": "nats",
            "symbol": "",
            "detail": s.dropped_critical,
            "trading_state": "",
            "connected": s.connected,
            "delivered": s.delivered,
            "queued": s.queued,
            "dropped_md": s.dropped_md,
            "dropped_critical": s.dropped_critical,
            "reconnects": s.reconnects,
            "failures": s.failures,
        });
        self.finish(Kind::System, subject, ts_ms, body)
    }

    /// A latency snapshot: per stage percentiles in ns over the last interval.
    pub fn latency(&mut self, stages: &[(&str, Percentiles)], ts_ms: u64) -> BusMessage {
        let mut m = serde_json::Map::new();
        for (name, p) in stages {
            m.insert(
                (*name).to_string(),
                json!({"count": p.count, "p50": p.p50, "p99": p.p99, "p999": p.p999, "max": p.max}),
            );
        }
        let subject = format!("latency.{}", self.instance);
        self.finish(
            Kind::Latency,
            subject,
            ts_ms,
            json!({ "stages": Value::Object(m) }),
        )
    }
}

/// JSON has no NaN or infinity: those become null.
fn finite(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}
