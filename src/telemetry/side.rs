//! The side thread: drains every hot thread's telemetry queue, prints live activity and the
//! periodic stats line, keeps the latest position per key for the final report, and forwards
//! every event to the bus ([`Bus`]: NATS JetStream, or the local events file) in its idle time.
//!
//! It is also where the engine's telemetry becomes operator log lines: system events (feed up or
//! down, resyncs, halts, reconcile findings) and bus outages go to `tracing`, and each signal to
//! the signal log ([`SignalLog`]) with the latest sampled book tops. The hot threads never log.
//!
//! It runs unpinned (on the core left to the OS on a tuned host). If it falls behind, the hot
//! threads' queues fill and drop (counted); nothing on the hot path waits for it.

use super::bus::Bus;
use super::counters::EngineCounters;
use super::event_sink::SinkStatus;
use super::queue::TelemetryRx;
use crate::logging::SignalLog;
use crate::model::{
    ExecKind, GatewayCmdKind, Instruments, PositionSnapshot, SystemCode, Telemetry,
};
use crate::pipeline::EngineClock;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct SideConfig {
    /// Print each signal, order, fill and system event as it happens.
    pub live: bool,
    /// Print a stats line this often (zero: never).
    pub stats_interval: Duration,
}

/// What the side thread saw, for the final summary.
#[derive(Clone, Debug, Default)]
pub struct SideReport {
    /// Latest snapshot per (strategy, wallet, instrument).
    pub positions: Vec<PositionSnapshot>,
    pub received: u64,
    pub dropped: u64,
    pub system_events: u64,
    /// The bus's state after the final flush.
    pub bus: Option<SinkStatus>,
    /// Why the interval log stopped early, if it did.
    pub interval_log_error: Option<String>,
}

pub struct SideThread {
    pub rxs: Vec<TelemetryRx>,
    pub counters: Arc<EngineCounters>,
    pub instruments: Instruments,
    /// Which books are live (the stats line's `books live/configured`).
    pub books_live: Arc<crate::pipeline::board::LiveBoard>,
    pub cfg: SideConfig,
    pub stop: Arc<AtomicBool>,
    pub clock: EngineClock,
    pub bus: Option<Bus>,
    /// One JSON line per signal (`[log] signal_log`).
    pub signal_log: Option<SignalLog>,
    /// The Prometheus metrics (`[metrics] addr`), kept from the same events.
    #[cfg(feature = "full")]
    pub metrics: Option<super::metrics::Metrics>,
}

/// How often the bus's connection state is looked at for the log.
const BUS_CHECK: Duration = Duration::from_millis(100);

/// How long the final flush may take to deliver what the bus still holds.
const BUS_FLUSH: Duration = Duration::from_secs(5);

type PosKey = (u8, u8, u16);

impl SideThread {
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<SideReport>> {
        std::thread::Builder::new()
            .name("side".into())
            .spawn(move || self.run())
    }

    fn run(mut self) -> SideReport {
        let start = Instant::now();
        let mut next_stats = start + self.cfg.stats_interval;
        let mut last = (0u64, 0u64);
        let mut last_at = start;
        let mut positions: BTreeMap<PosKey, PositionSnapshot> = BTreeMap::new();
        let mut report = SideReport::default();
        let mut trading_state = crate::model::TradingState::Active;
        let stdout = std::io::stdout();
        let mut next_bus_check = start;
        let mut bus_up = true;
        // The bus's failed deliveries and deliveries at the last stats line.
        let mut bus_last = (0u64, 0u64);
        loop {
            let stopping = self.stop.load(Ordering::Acquire);
            let mut n = 0;
            for rx in &self.rxs {
                while let Some(t) = rx.pop() {
                    n += 1;
                    report.received += 1;
                    if let Telemetry::Position(p) = &t {
                        positions.insert((p.strategy as u8, p.wallet as u8, p.instrument.0), *p);
                    }
                    if let Telemetry::System(s) = &t {
                        report.system_events += 1;
                        if s.code() == SystemCode::TradingStateChanged {
                            trading_state = s.trading_state;
                        }
                        self.log_system(s);
                    }
                    if let Some(log) = self.signal_log.as_mut() {
                        match &t {
                            Telemetry::Top(top) => log.on_top(top),
                            Telemetry::Signal(sig) => {
                                log.on_signal(sig, &self.instruments, self.clock.now_unix_ms())
                            }
                            _ => {}
                        }
                    }
                    #[cfg(feature = "full")]
                    if let Some(m) = self.metrics.as_mut() {
                        m.on_telemetry(&t);
                    }
                    if let Some(bus) = self.bus.as_mut() {
                        bus.on_telemetry(&t);
                    }
                    if self.cfg.live {
                        let mut out = stdout.lock();
                        let _ = self.print_event(&mut out, start, &t);
                    }
                }
            }
            let now = Instant::now();
            if now >= next_bus_check {
                next_bus_check = now + BUS_CHECK;
                #[cfg(feature = "full")]
                self.metrics_tick();
                if let Some(bus) = self.bus.as_ref() {
                    let up = bus.status().connected;
                    if up != bus_up {
                        if up {
                            tracing::info!(bus = %bus.describe(), "bus connected");
                        } else {
                            tracing::warn!(bus = %bus.describe(), "bus down: events are queued (market data dropped first)");
                        }
                        bus_up = up;
                    }
                }
            }
            if !self.cfg.stats_interval.is_zero() && now >= next_stats {
                next_stats = now + self.cfg.stats_interval;
                let c = &self.counters;
                let secs = now.duration_since(last_at).as_secs_f64().max(1e-9);
                let (md, book) = (c.md.get(), c.book.get());
                let dropped: u64 = self.rxs.iter().map(|r| r.dropped()).sum();
                let bus_line = match self.bus.as_mut() {
                    Some(bus) => {
                        let t2t = bus.end_interval();
                        let s = bus.status();
                        // Connected, yet every publish of the interval failed: e.g. a cluster
                        // that lost its quorum (the connection to a node stays up).
                        let failing = s.failures > bus_last.0 && s.delivered == bus_last.1;
                        bus_last = (s.failures, s.delivered);
                        format!(
                            " | t2t p50 {:.1}µs p99 {:.1}µs | bus {} delivered {} queued {} dropped {}",
                            t2t.p50 as f64 / 1000.0,
                            t2t.p99 as f64 / 1000.0,
                            match (s.connected, failing) {
                                (false, _) => "DOWN",
                                (true, true) => "FAILING",
                                (true, false) => "up",
                            },
                            s.delivered,
                            s.queued,
                            s.dropped_md + s.dropped_critical
                        )
                    }
                    None => String::new(),
                };
                let (books_live, books) = self.books_live.count();
                let mut out = stdout.lock();
                let _ = writeln!(
                    out,
                    "[{:>6.1}s] {} | books {}/{} live | md {:>7.0}/s  tops {:>7.0}/s | signals {} orders {} acks {} fills {} rejects {} risk-rejects {} | resyncs {} parse-errors {} drops {}{}",
                    now.duration_since(start).as_secs_f64(),
                    format!("{trading_state:?}").to_lowercase(),
                    books_live,
                    books,
                    (md - last.0) as f64 / secs,
                    (book - last.1) as f64 / secs,
                    c.signals.get(),
                    c.orders_sent.get(),
                    c.acks.get(),
                    c.fills.get(),
                    c.rejects.get(),
                    c.risk_rejects.get(),
                    c.resyncs.get(),
                    c.parse_errors.get(),
                    dropped,
                    bus_line,
                );
                for p in positions
                    .values()
                    .filter(|p| !p.qty.is_zero() || p.realized_pnl != 0.0)
                {
                    let _ = writeln!(
                        out,
                        "           position {}/{}/{}: qty {} avg {} realized {:.4} unrealized {:.4}",
                        p.strategy,
                        p.wallet.wire(),
                        self.instruments.get(p.instrument).symbol,
                        p.qty,
                        p.avg_price,
                        p.realized_pnl,
                        p.unrealized_pnl
                    );
                }
                last = (md, book);
                last_at = now;
            }
            if n == 0 {
                if stopping {
                    break;
                }
                match self.bus.as_mut() {
                    Some(bus) => bus.pump(Duration::from_millis(1)),
                    None => std::thread::sleep(Duration::from_millis(1)),
                }
            } else if let Some(bus) = self.bus.as_mut() {
                bus.pump(Duration::ZERO);
            }
        }
        report.dropped = self.rxs.iter().map(|r| r.dropped()).sum();
        #[cfg(feature = "full")]
        self.metrics_tick();
        if let Some(log) = &self.signal_log
            && log.errors > 0
        {
            tracing::warn!(
                "signal log: {} lines could not be written ({} written)",
                log.errors,
                log.written
            );
        }
        if report.dropped > 0 {
            tracing::warn!(
                dropped = report.dropped,
                "telemetry queues were full: events dropped"
            );
        }
        report.bus = self.bus.as_mut().map(|b| b.finish(BUS_FLUSH));
        report.interval_log_error = self
            .bus
            .as_ref()
            .and_then(|b| b.interval_log_error().map(str::to_string));
        report.positions = positions.into_values().collect();
        report
    }

    /// The metrics of what the side thread reads itself: queue drops, the bus's state.
    #[cfg(feature = "full")]
    fn metrics_tick(&mut self) {
        if let Some(m) = self.metrics.as_mut() {
            let dropped = self.rxs.iter().map(|r| r.dropped()).sum();
            let queued: Vec<(&'static str, usize)> =
                self.rxs.iter().map(|r| (r.name(), r.len())).collect();
            let bus = self.bus.as_ref().map(|b| b.status());
            m.on_tick(dropped, &queued, bus.as_ref());
        }
    }

    /// A system event as an operator log line, at the level it deserves.
    fn log_system(&self, s: &crate::model::SystemEvent) {
        use crate::model::{FeedLink, SystemKind, TradingState};
        let sym = self.instruments.get(s.instrument).symbol;
        let venue = s.venue;
        match s.kind {
            SystemKind::Started => tracing::info!(%venue, "engine started"),
            SystemKind::Stopping => tracing::info!("engine stopping"),
            SystemKind::FeedUp(link) => tracing::debug!(%venue, ?link, "feed up"),
            SystemKind::FeedDown(FeedLink::MarketDataSilence) => tracing::warn!(
                %venue,
                "market data silent past stale_after: books stale until it flows again"
            ),
            SystemKind::FeedDown(link) => tracing::warn!(%venue, %sym, ?link, "feed down"),
            SystemKind::FeedRotated { rotations } => {
                tracing::info!(%venue, rotations, "feed rotated to a fresh connection")
            }
            SystemKind::ConnectionDead { dead } => tracing::warn!(
                %venue,
                dead,
                "connection silent past its liveness deadline: closed, reconnecting"
            ),
            SystemKind::BudgetWait { waited_ms } => tracing::info!(
                %venue,
                waited_ms,
                "control message held back by the connection's message budget"
            ),
            SystemKind::VenueBan { until_unix_ms } => tracing::warn!(
                %venue,
                until_unix_ms,
                "venue refused with 429/418: no connection or call before the time given"
            ),
            SystemKind::Resync(reason) => tracing::warn!(%venue, %sym, ?reason, "book resync"),
            SystemKind::BookLive => tracing::debug!(%venue, %sym, "book live"),
            SystemKind::MarketNotLive { after_ms } => tracing::warn!(
                %venue,
                market = %sym,
                after_ms,
                "configured market not live: no book yet (nothing serves it, or its \
                 subscription or snapshot keeps failing); no strategy trades on it"
            ),
            SystemKind::ParseError => tracing::warn!(%venue, "parse error"),
            SystemKind::RiskReject(r) => tracing::debug!(%sym, reason = r.name(), "risk reject"),
            SystemKind::OrderExpired => tracing::debug!(%sym, "order expired"),
            SystemKind::TradingStateChanged => match s.trading_state {
                TradingState::Halted => tracing::error!("trading HALTED"),
                state => tracing::warn!(?state, "trading state changed"),
            },
            SystemKind::ReconcileAdopted { venue_order_id } => tracing::warn!(
                %sym,
                venue_order_id,
                "reconcile: adopted an order the engine did not know"
            ),
            SystemKind::ReconcileMissing { venue_order_id } => tracing::warn!(
                %sym,
                venue_order_id,
                "reconcile: order missing at the venue"
            ),
            SystemKind::ReconcileFill { trade_id } => {
                tracing::warn!(%sym, trade_id, "reconcile: fill recovered from REST")
            }
            SystemKind::ReconcileDone { round } => {
                tracing::debug!(round, "reconcile: round done")
            }
        }
    }

    fn print_event(
        &self,
        out: &mut impl Write,
        start: Instant,
        t: &Telemetry,
    ) -> std::io::Result<()> {
        let at = start.elapsed().as_secs_f64();
        let sym = |i: crate::model::InstrumentId| self.instruments.get(i).symbol;
        match t {
            Telemetry::Signal(s) => writeln!(
                out,
                "[{at:>6.2}s] SIGNAL  {} {} {} {} @ {}  fair {:.4}  edge {:.1} bps",
                s.strategy,
                sym(s.instrument),
                s.side.rest(),
                s.qty,
                s.price,
                s.fair_value,
                s.edge_bps
            ),
            Telemetry::OrderSent(o) => match o.kind {
                GatewayCmdKind::New => writeln!(
                    out,
                    "[{at:>6.2}s] ORDER   {} {} {} {} {} @ {}",
                    o.client_oid,
                    sym(o.instrument),
                    o.order_type.wire(),
                    o.side.rest(),
                    o.qty,
                    o.price
                ),
                GatewayCmdKind::Cancel => {
                    writeln!(
                        out,
                        "[{at:>6.2}s] CANCEL  {} {}",
                        o.client_oid,
                        sym(o.instrument)
                    )
                }
                GatewayCmdKind::Query => {
                    writeln!(
                        out,
                        "[{at:>6.2}s] QUERY   {} id {}",
                        o.client_oid, o.exchange_order_id
                    )
                }
            },
            Telemetry::Exec(e) => match e.kind {
                ExecKind::Ack => writeln!(
                    out,
                    "[{at:>6.2}s] ACK     {} id {}",
                    e.client_oid, e.exchange_order_id
                ),
                ExecKind::Reject => writeln!(
                    out,
                    "[{at:>6.2}s] REJECT  {} code {}",
                    e.client_oid, e.reject_code
                ),
                ExecKind::Fill => writeln!(
                    out,
                    "[{at:>6.2}s] FILL    {} {} {} {} @ {} fee {}",
                    e.client_oid,
                    sym(e.instrument),
                    e.side.rest(),
                    e.qty,
                    e.price,
                    e.fee
                ),
                ExecKind::Cancelled => {
                    writeln!(out, "[{at:>6.2}s] CANCELLED {}", e.client_oid)
                }
                _ => Ok(()),
            },
            Telemetry::Position(_) | Telemetry::Top(_) | Telemetry::Tally(_) => Ok(()),
            // A routine round is not news; what it found (adopted, missing, recovered) is.
            Telemetry::System(s) if s.code() == SystemCode::ReconcileDone => Ok(()),
            Telemetry::System(s) => {
                let what = match s.code() {
                    SystemCode::Started => "started",
                    SystemCode::FeedUp => "feed up",
                    SystemCode::FeedDown => "feed down",
                    SystemCode::Resync => "book resync",
                    SystemCode::BookLive => "book live",
                    SystemCode::RiskReject => "risk reject",
                    SystemCode::TradingStateChanged => "trading state changed",
                    SystemCode::ParseError => "parse error",
                    SystemCode::Stopping => "stopping",
                    SystemCode::OrderExpired => "order expired",
                    SystemCode::ReconcileAdopted => "reconcile: adopted venue order",
                    SystemCode::ReconcileMissing => "reconcile: order missing at venue",
                    SystemCode::ReconcileFill => "reconcile: fill recovered from REST",
                    SystemCode::ReconcileDone => "reconcile: round done",
                    SystemCode::FeedRotated => "feed rotated",
                    SystemCode::ConnectionDead => "connection dead (silent), reconnecting",
                    SystemCode::BudgetWait => "message budget wait (ms)",
                    SystemCode::VenueBan => "venue ban until (unix ms)",
                    SystemCode::MarketNotLive => "MARKET NOT LIVE",
                };
                writeln!(
                    out,
                    "[{at:>6.2}s] SYSTEM  {what} {} {} ({:?}) state {:?}",
                    s.venue,
                    sym(s.instrument),
                    s.kind,
                    s.trading_state
                )
            }
        }
    }
}
