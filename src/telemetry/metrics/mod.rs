//! The engine's state as Prometheus metrics (issue 16), kept by the side thread from what it
//! already receives — the telemetry events of every stage and the engine counters the stages
//! already write — so no stage gains a lock or an atomic for them. `/metrics`
//! ([`super::metrics_server`]) encodes the registry on each scrape.
//!
//! Names follow Prometheus conventions: the `arbline_` prefix, `_total` on counters, seconds for
//! durations. Per strategy and market: signals, orders, acks, rejects, fills, cancels; per
//! reason: risk rejects; per strategy, wallet and market: position, realized and unrealized
//! P&L; per venue and stream: feeds up and down; per venue, market and reason: book resyncs;
//! per venue and stream: the feeds' frames, md events and parse errors (their running totals,
//! [`Tally`]); per venue and market: md events the book stage applied;
//! each stage's own latency (p50, p99, p99.9, max and samples of its histogram, reported by the
//! stage once a second); the trading state; tick_to_trade, frame_to_top (sampled tops),
//! frame_to_signal and
//! order_ack as histograms; and the
//! engine totals (market data, parse errors, book tops, resyncs, reconnects, dead connections,
//! venue refusals), the telemetry queues' depths and drops, the bus's delivered, queued and dropped
//! events, and build and instance as `arbline_build_info`.

mod engine_totals;
mod labels;
mod updates;

use engine_totals::EngineTotals;
pub use labels::*;

use super::EngineCounters;
use super::event_sink::SinkStatus;
use crate::model::{
    ClientOid, ExecEvent, ExecKind, GatewayCmdKind, InstrumentId, Instruments, OrderRequest,
    PositionSnapshot, Signal, Strategy, SystemKind, Tally, Telemetry, TradingState,
};
use crate::pipeline::EngineClock;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

type FloatGauge = Gauge<f64, AtomicU64>;

/// Orders remembered to name the strategy and market of their answers (fills may come after an
/// order's final state, so an order is forgotten only when this many newer ones were sent; a
/// later answer then counts under strategy `unknown`).
const ORDERS_REMEMBERED: usize = 65_536;

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
    feed_frames: Family<FeedLabel, Counter>,
    feed_md: Family<FeedLabel, Counter>,
    feed_parse_errors: Family<FeedLabel, Counter>,
    market_md: Family<VenueMarket, Counter>,
    /// The running totals seen last, per feed and per instrument (counters grow by the
    /// difference).
    feed_seen: HashMap<(FeedLabel, u16), (u64, u64, u64)>,
    /// Whether each feed (of a venue and stream, by group) is up: `feed_up` is 1 when all are.
    feed_links: HashMap<(FeedLabel, u16), bool>,
    market_seen: HashMap<InstrumentId, u64>,
    queued: Family<QueueLabel, Gauge>,
    /// p50, p99, p99.9 and max of each stage's own histogram.
    stage_latency: [Family<StageLabels, FloatGauge>; 4],
    stage_samples: Family<StageLabels, Counter>,
    /// Per feed of a source (by group): the samples seen and the last p50, p99, p99.9 and max
    /// (the gauges show the largest among the source's feeds).
    stage_seen: HashMap<(StageLabels, u16), (u64, [u64; 4])>,
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
    bus_failures: Counter,
    bus_reconnects: Counter,
    /// The bus's failures and reconnects seen last.
    bus_seen: (u64, u64),
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
            feed_frames: Family::default(),
            feed_md: Family::default(),
            feed_parse_errors: Family::default(),
            market_md: Family::default(),
            feed_seen: HashMap::new(),
            feed_links: HashMap::new(),
            market_seen: HashMap::new(),
            queued: Family::default(),
            stage_latency: Default::default(),
            stage_samples: Family::default(),
            stage_seen: HashMap::new(),
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
            bus_failures: Counter::default(),
            bus_reconnects: Counter::default(),
            bus_seen: (0, 0),
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
        // Families registered by kind, each (name, help, family).
        for (name, help, f) in [
            ("signals", "Signals published", &m.signals),
            ("orders", "New orders handed to the gateway", &m.orders),
            (
                "cancel_requests",
                "Cancels handed to the gateway",
                &m.cancels_sent,
            ),
            ("acks", "Orders the venue accepted", &m.acks),
            (
                "rejects",
                "Orders refused (by the venue or before sending)",
                &m.rejects,
            ),
            ("fills", "Fills applied", &m.fills),
            (
                "cancels",
                "Orders the venue confirmed cancelled",
                &m.cancels,
            ),
        ] {
            r.register(name, format!("{help}, per strategy and market"), f.clone());
        }
        for (name, help, f) in [
            (
                "feed_downs",
                "Times the venue's feed went down (a connection lost, dead or refused, or its market data silent past engine.stale_feed_ms)",
                &m.feed_downs,
            ),
            (
                "feed_frames",
                "Frames read, per venue and stream (market_data or private)",
                &m.feed_frames,
            ),
            (
                "feed_md_events",
                "Md events published, per venue and stream",
                &m.feed_md,
            ),
            (
                "feed_parse_errors",
                "Frames the parser refused, per venue and stream",
                &m.feed_parse_errors,
            ),
        ] {
            r.register(name, help, f.clone());
        }
        for (name, help, f) in [
            (
                "position",
                "Signed base quantity, per strategy, wallet and market",
                &m.position,
            ),
            (
                "realized_pnl",
                "Realized P&L in the market's quote currency, fees included",
                &m.realized,
            ),
            (
                "unrealized_pnl",
                "Unrealized P&L in the market's quote currency at the last mark",
                &m.unrealized,
            ),
        ] {
            r.register(name, help, f.clone());
        }
        for (name, help, f) in [
            (
                "tick_to_trade",
                "From the frame's read to the order handed to the gateway",
                &m.tick_to_trade,
            ),
            (
                "frame_to_signal",
                "From the frame's read to the signal",
                &m.frame_to_signal,
            ),
            (
                "order_ack",
                "From the order's bytes written to the venue's acknowledgement read",
                &m.order_ack,
            ),
            (
                "frame_to_top",
                "From the frame's read to its top of book (parse and book stages; the tops the book stage samples for the bus)",
                &m.frame_to_top,
            ),
        ] {
            r.register_with_unit(name, help, Unit::Seconds, f.clone());
        }
        for (name, f) in [
            "stage_latency_p50",
            "stage_latency_p99",
            "stage_latency_p999",
            "stage_latency_max",
        ]
        .into_iter()
        .zip(&m.stage_latency)
        {
            r.register_with_unit(
                name,
                "Each stage's own latency since start, from its histogram (the run's summary table), per stage and source; sent by the stage once a second",
                Unit::Seconds,
                f.clone(),
            );
        }
        for (name, help, f) in [
            (
                "telemetry_dropped",
                "Telemetry events lost because a stage's queue to the side thread was full",
                &m.telemetry_dropped,
            ),
            (
                "bus_delivered",
                "Events the bus delivered (NATS acknowledged, or written to the events file)",
                &m.bus_delivered,
            ),
            (
                "bus_failures",
                "Deliveries the bus tried and failed, then retried (a cluster without quorum refuses every publish while the connection stays up)",
                &m.bus_failures,
            ),
            (
                "bus_reconnects",
                "Times the bus's connection was lost and regained",
                &m.bus_reconnects,
            ),
            (
                "bus_dropped",
                "Events the bus dropped while its buffer was full",
                &m.bus_dropped,
            ),
        ] {
            r.register(name, help, f.clone());
        }
        for (name, help, f) in [
            (
                "bus_queued",
                "Events waiting in the bus's buffer",
                &m.bus_queued,
            ),
            (
                "bus_connected",
                "1 while the bus is connected",
                &m.bus_connected,
            ),
        ] {
            r.register(name, help, f.clone());
        }
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
        r.register("market_md_events", "Md events the book stage applied, per venue and market (sent with the sampled tops: up to [nats] md_interval_ms behind)", m.market_md.clone());
        r.register(
            "stage_latency_samples",
            "Samples in each stage's latency histogram",
            m.stage_samples.clone(),
        );
        r.register(
            "telemetry_queued",
            "Events waiting in each stage's queue to the side thread",
            m.queued.clone(),
        );
        r.register(
            "book_resyncs",
            "Books that lost sync, per venue, market and reason",
            m.resyncs.clone(),
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
        drop(self.feed_frames.get_or_create(&v));
        drop(self.feed_md.get_or_create(&v));
        drop(self.feed_parse_errors.get_or_create(&v));
        drop(self.market_md.get_or_create(&VenueMarket {
            venue: "max".into(),
            market: "BTCTWD".into(),
        }));
        let sl = StageLabels {
            stage: "book".into(),
            source: "engine".into(),
        };
        for f in &self.stage_latency {
            drop(f.get_or_create(&sl));
        }
        drop(self.stage_samples.get_or_create(&sl));
        drop(self.queued.get_or_create(&QueueLabel {
            queue: "feed".into(),
        }));
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
}
