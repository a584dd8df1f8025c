//! The engine's state as Prometheus metrics (issue 16), kept by the side thread from what it
//! already receives — the telemetry events of every stage and the engine counters the stages
//! already write — so no stage gains a lock or an atomic for them. `/metrics`
//! ([`super::metrics_server`]) encodes the registry on each scrape.
//!
//! Names follow Prometheus conventions: the `arbline_` prefix, `_total` on counters, seconds for
//! durations. Per strategy and market: signals, orders, acks, rejects, fills, cancels; per
//! reason: risk rejects; per strategy, wallet and market: position, realized and unrealized
//! P&L; per venue and stream: feeds up and down; per venue, market and reason: book resyncs;
//! the trading state; tick_to_trade, frame_to_top (sampled tops), frame_to_signal and
//! order_ack as histograms; and the
//! engine totals (market data, parse errors, book tops, resyncs, reconnects, dead connections,
//! venue refusals), the telemetry queues' drops, the bus's delivered, queued and dropped
//! events, and build and instance as `arbline_build_info`.

use super::EngineCounters;
use super::event_sink::SinkStatus;
use crate::model::{
    ClientOid, ExecEvent, ExecKind, GatewayCmdKind, InstrumentId, Instruments, OrderRequest,
    PositionSnapshot, Signal, Strategy, SystemKind, Telemetry, TradingState,
};
use crate::pipeline::EngineClock;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StrategyMarket {
    pub strategy: String,
    pub market: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PositionLabels {
    pub strategy: String,
    pub wallet: String,
    pub market: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FeedLabel {
    pub venue: String,
    /// `market_data` or `private` (MAX's user stream).
    pub stream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResyncLabels {
    pub venue: String,
    pub market: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: String,
    pub instance: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Orders remembered to name the strategy and market of their answers (fills may come after an
/// order's final state, so an order is forgotten only when this many newer ones were sent; a
/// later answer then counts under strategy `unknown`).
const ORDERS_REMEMBERED: usize = 65_536;

/// The engine totals, read from [`EngineCounters`] at each scrape.
struct EngineTotals(Arc<EngineCounters>);

impl std::fmt::Debug for EngineTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineTotals")
    }
}

impl Collector for EngineTotals {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &self.0;
        for (name, help, v) in [
            ("frames", "Frames read by the feeds", c.frames.get()),
            (
                "md_events",
                "Market-data events published on the md ring",
                c.md.get(),
            ),
            (
                "parse_errors",
                "Frames a parser refused",
                c.parse_errors.get(),
            ),
            (
                "book_tops",
                "Tops of book published by the book stage",
                c.book.get(),
            ),
            (
                "resyncs",
                "Books that lost sync and resynced",
                c.resyncs.get(),
            ),
            (
                "reconnects",
                "Cold reconnects of the venue connections",
                c.reconnects.get(),
            ),
            (
                "dead_connections",
                "Connections declared dead at their liveness deadline",
                c.dead_connections.get(),
            ),
            (
                "venue_refusals",
                "Connections and calls the venues refused with 429/418",
                c.venue_refusals.get(),
            ),
            (
                "ring_full",
                "Events lost because a stage's output ring was full",
                c.ring_full_book.get() + c.ring_full_signal.get(),
            ),
            (
                "rate_limited",
                "Orders refused before sending for want of a rate-limit token",
                c.rate_limited.get(),
            ),
            (
                "duplicate_fills",
                "Fills the venue sent twice, applied once",
                c.duplicate_fills.get(),
            ),
            (
                "reconcile_rounds",
                "Reconciler rounds completed",
                c.reconcile_rounds.get(),
            ),
        ] {
            let counter = ConstCounter::new(v);
            let m = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(m)?;
        }
        Ok(())
    }
}

/// The side thread's metrics: it updates them, the server thread encodes them.
pub struct Metrics {
    registry: Arc<Registry>,
    instruments: Instruments,
    clock: EngineClock,
    signals: Family<StrategyMarket, Counter>,
    orders: Family<StrategyMarket, Counter>,
    cancels_sent: Family<StrategyMarket, Counter>,
    acks: Family<StrategyMarket, Counter>,
    rejects: Family<StrategyMarket, Counter>,
    fills: Family<StrategyMarket, Counter>,
    cancels: Family<StrategyMarket, Counter>,
    risk_rejects: Family<ReasonLabel, Counter>,
    trading_state: Family<StateLabel, Gauge>,
    feed_up: Family<FeedLabel, Gauge>,
    feed_downs: Family<FeedLabel, Counter>,
    resyncs: Family<ResyncLabels, Counter>,
    frame_to_top: Histogram,
    position: Family<PositionLabels, FloatGauge>,
    realized: Family<PositionLabels, FloatGauge>,
    unrealized: Family<PositionLabels, FloatGauge>,
    tick_to_trade: Histogram,
    frame_to_signal: Histogram,
    order_ack: Histogram,
    telemetry_dropped: Counter,
    bus_delivered: Counter,
    bus_dropped: Counter,
    bus_queued: Gauge,
    bus_connected: Gauge,
    /// Last values seen of the totals mirrored as counters (they only grow).
    seen: (u64, u64, u64),
    order_names: HashMap<ClientOid, (Strategy, InstrumentId)>,
    order_age: std::collections::VecDeque<ClientOid>,
}

fn latency_buckets() -> impl Iterator<Item = f64> {
    // 1 µs to ~8 s, doubling.
    exponential_buckets(1e-6, 2.0, 24)
}

impl Metrics {
    pub fn new(
        counters: Arc<EngineCounters>,
        instruments: Instruments,
        instance: &str,
        clock: EngineClock,
    ) -> Metrics {
        let mut r = Registry::with_prefix("arbline");
        let m = Metrics {
            registry: Arc::new(Registry::default()),
            instruments,
            clock,
            signals: Family::default(),
            orders: Family::default(),
            cancels_sent: Family::default(),
            acks: Family::default(),
            rejects: Family::default(),
            fills: Family::default(),
            cancels: Family::default(),
            risk_rejects: Family::default(),
            trading_state: Family::default(),
            feed_up: Family::default(),
            feed_downs: Family::default(),
            resyncs: Family::default(),
            frame_to_top: Histogram::new(latency_buckets()),
            position: Family::default(),
            realized: Family::default(),
            unrealized: Family::default(),
            tick_to_trade: Histogram::new(latency_buckets()),
            frame_to_signal: Histogram::new(latency_buckets()),
            order_ack: Histogram::new(latency_buckets()),
            telemetry_dropped: Counter::default(),
            bus_delivered: Counter::default(),
            bus_dropped: Counter::default(),
            bus_queued: Gauge::default(),
            bus_connected: Gauge::default(),
            seen: (0, 0, 0),
            order_names: HashMap::new(),
            order_age: std::collections::VecDeque::new(),
        };
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").into(),
                instance: instance.into(),
            })
            .set(1);
        r.register(
            "build_info",
            "Version and instance id of this engine (always 1)",
            build,
        );
        r.register_collector(Box::new(EngineTotals(counters)));
        r.register(
            "signals",
            "Signals published, per strategy and market",
            m.signals.clone(),
        );
        r.register(
            "orders",
            "New orders handed to the gateway, per strategy and market",
            m.orders.clone(),
        );
        r.register(
            "cancel_requests",
            "Cancels handed to the gateway, per strategy and market",
            m.cancels_sent.clone(),
        );
        r.register(
            "acks",
            "Orders the venue accepted, per strategy and market",
            m.acks.clone(),
        );
        r.register(
            "rejects",
            "Orders refused (by the venue or before sending), per strategy and market",
            m.rejects.clone(),
        );
        r.register(
            "fills",
            "Fills applied, per strategy and market",
            m.fills.clone(),
        );
        r.register(
            "cancels",
            "Orders the venue confirmed cancelled, per strategy and market",
            m.cancels.clone(),
        );
        r.register(
            "risk_rejects",
            "Signals refused by pre-trade risk, per reason",
            m.risk_rejects.clone(),
        );
        r.register(
            "trading_state",
            "The kill switch: 1 for the current state (active, reducing, halted)",
            m.trading_state.clone(),
        );
        r.register(
            "feed_up",
            "1 while the venue's feed is connected (from its up and down events)",
            m.feed_up.clone(),
        );
        r.register(
            "feed_downs",
            "Times the venue's feed went down (lost, dead or refused connections)",
            m.feed_downs.clone(),
        );
        r.register(
            "book_resyncs",
            "Books that lost sync, per venue, market and reason",
            m.resyncs.clone(),
        );
        r.register_with_unit(
            "frame_to_top",
            "From the frame's read to its top of book (parse and book stages; the tops the book stage samples for the bus)",
            prometheus_client::registry::Unit::Seconds,
            m.frame_to_top.clone(),
        );
        r.register(
            "position",
            "Signed base quantity, per strategy, wallet and market",
            m.position.clone(),
        );
        r.register(
            "realized_pnl",
            "Realized P&L in the market's quote currency, fees included",
            m.realized.clone(),
        );
        r.register(
            "unrealized_pnl",
            "Unrealized P&L in the market's quote currency at the last mark",
            m.unrealized.clone(),
        );
        r.register_with_unit(
            "tick_to_trade",
            "From the frame's read to the order handed to the gateway",
            prometheus_client::registry::Unit::Seconds,
            m.tick_to_trade.clone(),
        );
        r.register_with_unit(
            "frame_to_signal",
            "From the frame's read to the signal",
            prometheus_client::registry::Unit::Seconds,
            m.frame_to_signal.clone(),
        );
        r.register_with_unit(
            "order_ack",
            "From the order's bytes written to the venue's acknowledgement read",
            prometheus_client::registry::Unit::Seconds,
            m.order_ack.clone(),
        );
        r.register(
            "telemetry_dropped",
            "Telemetry events lost because a stage's queue to the side thread was full",
            m.telemetry_dropped.clone(),
        );
        r.register(
            "bus_delivered",
            "Events the bus delivered (NATS acknowledged, or written to the events file)",
            m.bus_delivered.clone(),
        );
        r.register(
            "bus_dropped",
            "Events the bus dropped while its buffer was full",
            m.bus_dropped.clone(),
        );
        r.register(
            "bus_queued",
            "Events waiting in the bus's buffer",
            m.bus_queued.clone(),
        );
        r.register(
            "bus_connected",
            "1 while the bus is connected",
            m.bus_connected.clone(),
        );
        for s in [
            TradingState::Active,
            TradingState::Reducing,
            TradingState::Halted,
        ] {
            m.trading_state
                .get_or_create(&StateLabel {
                    state: format!("{s:?}").to_lowercase(),
                })
                .set(i64::from(s == TradingState::Active));
        }
        Metrics {
            registry: Arc::new(r),
            ..m
        }
    }

    /// Creates one series in every labelled family (at zero) and observes nothing: what a
    /// scrape can hold, for checks such as the dashboard's (`tests/prometheus.rs`).
    pub fn touch_every_family(&mut self) {
        let sm = StrategyMarket {
            strategy: "arbitrage".into(),
            market: "BTCTWD".into(),
        };
        for f in [
            &self.signals,
            &self.orders,
            &self.cancels_sent,
            &self.acks,
            &self.rejects,
            &self.fills,
            &self.cancels,
        ] {
            drop(f.get_or_create(&sm));
        }
        let v = FeedLabel {
            venue: "max".into(),
            stream: "market_data".into(),
        };
        drop(self.feed_up.get_or_create(&v));
        drop(self.feed_downs.get_or_create(&v));
        drop(self.resyncs.get_or_create(&ResyncLabels {
            venue: "max".into(),
            market: "BTCTWD".into(),
            reason: "Gap".into(),
        }));
        drop(self.risk_rejects.get_or_create(&ReasonLabel {
            reason: "Halted".into(),
        }));
        let pl = PositionLabels {
            strategy: "arbitrage".into(),
            wallet: "spot".into(),
            market: "BTCTWD".into(),
        };
        for f in [&self.position, &self.realized, &self.unrealized] {
            drop(f.get_or_create(&pl));
        }
    }

    /// The registry the server thread encodes.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    fn market(&self, i: InstrumentId) -> String {
        if i.index() < self.instruments.len() {
            self.instruments.get(i).symbol.to_string()
        } else {
            "unknown".into()
        }
    }

    fn labels(&self, s: Strategy, i: InstrumentId) -> StrategyMarket {
        StrategyMarket {
            strategy: s.id().into(),
            market: self.market(i),
        }
    }

    fn seconds(&self, from: u64, to: u64) -> Option<f64> {
        (from != 0 && to > from).then(|| self.clock.delta_ns(from, to) as f64 / 1e9)
    }

    /// One telemetry event, as the side thread receives it.
    pub fn on_telemetry(&mut self, t: &Telemetry) {
        match t {
            Telemetry::Signal(s) => self.on_signal(s),
            Telemetry::OrderSent(o) => self.on_order(o),
            Telemetry::Exec(e) => self.on_exec(e),
            Telemetry::Position(p) => self.on_position(p),
            Telemetry::System(s) => match s.kind {
                SystemKind::RiskReject(r) => {
                    self.risk_rejects
                        .get_or_create(&ReasonLabel {
                            reason: format!("{r:?}"),
                        })
                        .inc();
                }
                SystemKind::FeedUp(link) | SystemKind::FeedDown(link) => {
                    let up = matches!(s.kind, SystemKind::FeedUp(_));
                    let private = matches!(link, crate::model::FeedLink::PrivateStream);
                    let l = FeedLabel {
                        venue: s.venue.to_string(),
                        stream: if private { "private" } else { "market_data" }.into(),
                    };
                    self.feed_up.get_or_create(&l).set(i64::from(up));
                    if !up {
                        self.feed_downs.get_or_create(&l).inc();
                    }
                }
                SystemKind::Resync(reason) => {
                    let l = ResyncLabels {
                        venue: s.venue.to_string(),
                        market: self.market(s.instrument),
                        reason: format!("{reason:?}"),
                    };
                    self.resyncs.get_or_create(&l).inc();
                }
                SystemKind::TradingStateChanged => {
                    for st in [
                        TradingState::Active,
                        TradingState::Reducing,
                        TradingState::Halted,
                    ] {
                        self.trading_state
                            .get_or_create(&StateLabel {
                                state: format!("{st:?}").to_lowercase(),
                            })
                            .set(i64::from(st == s.trading_state));
                    }
                }
                _ => {}
            },
            Telemetry::Top(top) => {
                if let Some(secs) = self.seconds(top.ts_frame, top.ts_book) {
                    self.frame_to_top.observe(secs);
                }
            }
        }
    }

    fn on_signal(&mut self, s: &Signal) {
        self.signals
            .get_or_create(&self.labels(s.strategy, s.instrument))
            .inc();
        if let Some(secs) = self.seconds(s.ts_frame, s.ts_signal) {
            self.frame_to_signal.observe(secs);
        }
    }

    fn on_order(&mut self, o: &OrderRequest) {
        let labels = self.labels(o.strategy, o.instrument);
        match o.kind {
            GatewayCmdKind::New => {
                self.orders.get_or_create(&labels).inc();
                if let Some(secs) = self.seconds(o.ts_frame, o.ts_handed) {
                    self.tick_to_trade.observe(secs);
                }
                if self.order_age.len() >= ORDERS_REMEMBERED
                    && let Some(old) = self.order_age.pop_front()
                {
                    self.order_names.remove(&old);
                }
                self.order_age.push_back(o.client_oid);
                self.order_names
                    .insert(o.client_oid, (o.strategy, o.instrument));
            }
            GatewayCmdKind::Cancel => {
                self.cancels_sent.get_or_create(&labels).inc();
            }
            GatewayCmdKind::Query => {}
        }
    }

    fn on_exec(&mut self, e: &ExecEvent) {
        let known = self.order_names.get(&e.client_oid).copied();
        let labels = match known {
            Some((s, i)) => self.labels(s, i),
            None => StrategyMarket {
                strategy: "unknown".into(),
                market: self.market(e.instrument),
            },
        };
        match e.kind {
            ExecKind::Ack => {
                self.acks.get_or_create(&labels).inc();
                if let Some(secs) = self.seconds(e.ts_sent, e.ts_recv) {
                    self.order_ack.observe(secs);
                }
            }
            ExecKind::Reject => {
                self.rejects.get_or_create(&labels).inc();
            }
            ExecKind::Fill => {
                self.fills.get_or_create(&labels).inc();
            }
            ExecKind::Cancelled => {
                self.cancels.get_or_create(&labels).inc();
            }
            _ => {}
        }
    }

    fn on_position(&mut self, p: &PositionSnapshot) {
        let l = PositionLabels {
            strategy: p.strategy.id().into(),
            wallet: p.wallet.wire().into(),
            market: self.market(p.instrument),
        };
        self.position.get_or_create(&l).set(p.qty.to_f64());
        self.realized.get_or_create(&l).set(p.realized_pnl);
        self.unrealized.get_or_create(&l).set(p.unrealized_pnl);
    }

    /// What the side thread reads itself: the telemetry queues' drops and the bus's state.
    pub fn on_tick(&mut self, telemetry_dropped: u64, bus: Option<&SinkStatus>) {
        let (dropped, delivered, bus_dropped) = self.seen;
        self.telemetry_dropped
            .inc_by(telemetry_dropped.saturating_sub(dropped));
        let mut seen = (telemetry_dropped.max(dropped), delivered, bus_dropped);
        if let Some(s) = bus {
            let all_dropped = s.dropped_md + s.dropped_critical;
            self.bus_delivered
                .inc_by(s.delivered.saturating_sub(delivered));
            self.bus_dropped
                .inc_by(all_dropped.saturating_sub(bus_dropped));
            self.bus_queued.set(s.queued as i64);
            self.bus_connected.set(i64::from(s.connected));
            seen.1 = s.delivered.max(delivered);
            seen.2 = all_dropped.max(bus_dropped);
        }
        self.seen = seen;
    }
}
