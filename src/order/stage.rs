//! The order stage: signal ring and exec ring → order manager → gateway queue.
//!
//! Shutdown: when the signal ring closes (the drain reached us), open orders are cancelled if
//! configured, and the stage waits for the venue to confirm, up to `cancel_timeout`, before it
//! reports the orders settled. It finishes when the exec ring closes.

use super::OrderManager;
use crate::model::{ExecKind, Instruments, OrderRequest, Telemetry};
use crate::pipeline::board::MidBoard;
use crate::pipeline::gateway_queue::GatewayQueue;
use crate::pipeline::ring::{ExecPoller, SignalPoller};
use crate::pipeline::{EngineClock, Poll, Shutdown, Stage};
use crate::telemetry::{EngineCounters, Segment, TelemetryTx};
use disruptor::Polling;
use std::sync::Arc;

/// How often marks and order timers run, in TSC-derived nanoseconds.
const TIMER_NS: u64 = 10_000_000;

pub struct OrderStageParts {
    pub signals: SignalPoller,
    pub exec: ExecPoller,
    pub manager: OrderManager,
    pub gateway: GatewayQueue,
    pub instruments: Instruments,
    pub mids: Arc<MidBoard>,
    pub clock: EngineClock,
    pub counters: Arc<EngineCounters>,
    pub tele: TelemetryTx,
    pub shutdown: Shutdown,
    pub cancel_on_shutdown: bool,
    pub cancel_timeout_ms: u64,
    pub batch: u64,
    /// Halts requested by gateway threads (clock drift, refused credentials).
    pub halts: Arc<crate::pipeline::board::HaltRequests>,
}

pub struct OrderStage {
    signals: SignalPoller,
    exec: ExecPoller,
    signals_closed: bool,
    settle_deadline_ms: u64,
    last_timer: u64,
    p: Parts,
}

/// Everything but the pollers, so they can be borrowed apart.
struct Parts {
    manager: OrderManager,
    gateway: GatewayQueue,
    mids: Arc<MidBoard>,
    clock: EngineClock,
    counters: Arc<EngineCounters>,
    tele: TelemetryTx,
    shutdown: Shutdown,
    cancel_on_shutdown: bool,
    cancel_timeout_ms: u64,
    halts: Arc<crate::pipeline::board::HaltRequests>,
    batch: u64,
    /// When the order stage's latency next goes to the metrics.
    latency_report: crate::telemetry::LatencyReport,
}

/// The segments the order stage's histograms hold.
const ORDER_SEGMENTS: [Segment; 5] = [
    Segment::Order,
    Segment::TickToTrade,
    Segment::SignalToAck,
    Segment::SignalToFill,
    Segment::WireToWire,
];

impl OrderStage {
    pub fn new(p: OrderStageParts) -> OrderStage {
        let now = p.clock.raw();
        OrderStage {
            signals: p.signals,
            exec: p.exec,
            signals_closed: false,
            settle_deadline_ms: 0,
            last_timer: now,
            p: Parts {
                manager: p.manager,
                gateway: p.gateway,
                mids: p.mids,
                clock: p.clock,
                counters: p.counters,
                tele: p.tele,
                shutdown: p.shutdown,
                cancel_on_shutdown: p.cancel_on_shutdown,
                cancel_timeout_ms: p.cancel_timeout_ms,
                halts: p.halts,
                batch: p.batch,
                latency_report: Default::default(),
            },
        }
    }

    pub fn manager(&self) -> &OrderManager {
        &self.p.manager
    }
}

impl Parts {
    fn publish_counters(&self) {
        let s = self.manager.stats();
        let c = &self.counters;
        c.orders_sent.set(s.orders_sent);
        c.acks.set(s.acks);
        c.rejects.set(s.rejects);
        c.rate_limited.set(s.rate_limited);
        c.risk_rejects.set(s.risk_rejects);
        c.fills.set(s.fills);
        c.duplicate_fills.set(s.duplicate_fills);
        c.cancels.set(s.cancels);
        c.cancel_requests.set(s.cancel_requests);
        c.reconcile_rounds.set(s.reconcile_rounds);
        c.reconcile_fills.set(s.reconcile_fills);
        c.adopted.set(s.adopted);
        c.reconcile_missing.set(s.reconcile_missing);
    }

    /// The order stage's latency summaries for the metrics (once a second, or now when
    /// `stopping`).
    fn report_latency(&mut self, stopping: bool) {
        let latency = self.manager.latency();
        if stopping {
            latency.report_now(&self.tele, &ORDER_SEGMENTS, None);
        } else {
            latency.report(
                &mut self.latency_report,
                &self.clock,
                self.clock.raw(),
                &self.tele,
                &ORDER_SEGMENTS,
                None,
            );
        }
    }

    fn timer(&mut self) {
        self.report_latency(false);
        if let Some(reason) = self.halts.take() {
            let tele = &self.tele;
            self.manager
                .halt(reason.text(), |t: Telemetry| tele.send(t));
        }
        // Only the markets with a position need a mark: a tick costs the same whatever the
        // number of markets configured.
        self.manager.mark_held(&self.mids);
        let now_ms = self.clock.now_unix_ms();
        let Parts {
            manager,
            gateway,
            tele,
            ..
        } = self;
        manager.on_timer(
            now_ms,
            |r: &OrderRequest| gateway.push(*r).is_ok(),
            |t: Telemetry| tele.send(t),
        );
    }
}

impl Stage for OrderStage {
    fn name(&self) -> &'static str {
        "order"
    }

    fn poll(&mut self) -> Poll {
        let mut n = 0usize;
        let batch = self.p.batch;
        let exec_closed = match self.exec.take(batch) {
            Ok(mut evs) => {
                let Parts {
                    manager,
                    gateway,
                    tele,
                    shutdown,
                    ..
                } = &mut self.p;
                for ev in &mut evs {
                    manager.on_exec(
                        ev,
                        |r: &OrderRequest| gateway.push(*r).is_ok(),
                        |t: Telemetry| tele.send(t),
                    );
                    // The gateway's last round at shutdown is applied: its fills are in.
                    if ev.kind == ExecKind::ReconcileEnd
                        && ev.trade_id != 0
                        && ev.trade_id == shutdown.final_round()
                    {
                        shutdown.set_reconciled();
                    }
                    n += 1;
                }
                false
            }
            Err(Polling::NoEvents) => false,
            Err(Polling::Shutdown) => true,
        };
        if !self.signals_closed {
            match self.signals.take(batch) {
                Ok(mut sigs) => {
                    let Parts {
                        manager,
                        gateway,
                        tele,
                        mids,
                        ..
                    } = &mut self.p;
                    for sig in &mut sigs {
                        // The market's mark before its order: a position opened by it is
                        // valued from the start (the timer keeps the marks of the markets
                        // held fresh).
                        let mid = mids.get(sig.instrument);
                        if mid.raw() > 0 {
                            manager.mark(sig.instrument, mid);
                        }
                        manager.on_signal(
                            sig,
                            |r: &OrderRequest| gateway.push(*r).is_ok(),
                            |t: Telemetry| tele.send(t),
                        );
                        n += 1;
                    }
                }
                Err(Polling::NoEvents) => {}
                Err(Polling::Shutdown) => {
                    self.signals_closed = true;
                    let Parts {
                        manager,
                        gateway,
                        cancel_on_shutdown,
                        ..
                    } = &mut self.p;
                    if *cancel_on_shutdown {
                        manager.cancel_all(|r: &OrderRequest| gateway.push(*r).is_ok());
                    }
                    self.settle_deadline_ms = self.p.clock.now_unix_ms() + self.p.cancel_timeout_ms;
                }
            }
        }
        let now = self.p.clock.raw();
        if self.p.clock.delta_ns(self.last_timer, now) >= TIMER_NS {
            self.last_timer = now;
            self.p.timer();
            self.p.publish_counters();
            if self.signals_closed && !self.p.shutdown.orders_settled() {
                let open = self.p.manager.open_order_count();
                let waiting = self.p.cancel_on_shutdown && open > 0;
                if !waiting || self.p.clock.now_unix_ms() >= self.settle_deadline_ms {
                    self.p.shutdown.set_orders_settled();
                }
            }
        }
        if exec_closed && self.signals_closed {
            self.p.publish_counters();
            self.p.report_latency(true);
            self.p.shutdown.set_orders_settled();
            return Poll::Finished;
        }
        if n == 0 { Poll::Idle } else { Poll::Busy(n) }
    }
}
