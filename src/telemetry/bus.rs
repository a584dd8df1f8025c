//! The side thread's end of the bus: encodes every telemetry event ([`Encoder`]), hands it to
//! the sink (NATS JetStream or the events file), keeps interval latency histograms for the
//! `latency.{instance}` snapshots and the stats line, and reports the sink's connection changes
//! as `bus_status` system messages.

use super::bus_message::{BusMessage, Encoder};
use super::event_sink::{EventSink, SinkStatus};
use super::interval_log::IntervalLog;
use super::latency::Percentiles;
use crate::model::{GatewayCmdKind, Telemetry};
use crate::pipeline::EngineClock;
use hdrhistogram::Histogram;
use std::time::{Duration, SystemTime};

pub struct Bus {
    encoder: Encoder,
    sink: Box<dyn EventSink>,
    clock: EngineClock,
    /// Frame read → order handed to the gateway, this interval (ns).
    tick_to_trade: Histogram<u64>,
    /// Frame read → signal published, this interval (ns).
    frame_to_signal: Histogram<u64>,
    last_connected: Option<bool>,
    /// `--hist-dir`: each interval's two histograms are appended here (tags `tick_to_trade`,
    /// `frame_to_signal`).
    interval_log: Option<IntervalLog>,
    interval_start: SystemTime,
    /// The first failure to write the interval log (the log is then dropped; the run goes on).
    interval_log_error: Option<String>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("static histogram bounds")
}

fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    Percentiles {
        count: h.len(),
        p50: h.value_at_quantile(0.5),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
    }
}

impl Bus {
    pub fn new(encoder: Encoder, sink: Box<dyn EventSink>, clock: EngineClock) -> Self {
        Bus {
            encoder,
            sink,
            clock,
            tick_to_trade: histogram(),
            frame_to_signal: histogram(),
            last_connected: None,
            interval_log: None,
            interval_start: SystemTime::now(),
            interval_log_error: None,
        }
    }

    /// Logs every interval's histograms into `log` from now on.
    pub fn set_interval_log(&mut self, log: IntervalLog) {
        self.interval_log = Some(log);
        self.interval_start = SystemTime::now();
    }

    /// Why the interval log stopped, if it did.
    pub fn interval_log_error(&self) -> Option<&str> {
        self.interval_log_error.as_deref()
    }

    fn send(&mut self, m: BusMessage) {
        self.sink.accept(m);
    }

    pub fn on_telemetry(&mut self, t: &Telemetry) {
        match t {
            Telemetry::OrderSent(o) if o.kind == GatewayCmdKind::New && o.ts_frame != 0 => {
                let _ = self
                    .tick_to_trade
                    .record(self.clock.delta_ns(o.ts_frame, o.ts_handed).max(1));
            }
            Telemetry::Signal(s) if s.ts_frame != 0 => {
                let _ = self
                    .frame_to_signal
                    .record(self.clock.delta_ns(s.ts_frame, s.ts_signal).max(1));
            }
            _ => {}
        }
        let ts_ms = self.clock.now_unix_ms();
        if let Some(m) = self.encoder.encode(t, ts_ms) {
            self.send(m);
        }
    }

    /// Ends a stats interval: publishes the latency snapshot and returns `tick_to_trade` over
    /// the interval, then starts a new one.
    pub fn end_interval(&mut self) -> Percentiles {
        let t2t = percentiles(&self.tick_to_trade);
        let f2s = percentiles(&self.frame_to_signal);
        let ts_ms = self.clock.now_unix_ms();
        let m = self
            .encoder
            .latency(&[("tick_to_trade", t2t), ("frame_to_signal", f2s)], ts_ms);
        self.send(m);
        if let Some(log) = self.interval_log.as_mut() {
            let now = SystemTime::now();
            let length = now.duration_since(self.interval_start).unwrap_or_default();
            let written = log
                .append(
                    "tick_to_trade",
                    &self.tick_to_trade,
                    self.interval_start,
                    length,
                )
                .and_then(|()| {
                    log.append(
                        "frame_to_signal",
                        &self.frame_to_signal,
                        self.interval_start,
                        length,
                    )
                });
            if let Err(e) = written {
                self.interval_log_error = Some(e.to_string());
                self.interval_log = None;
            }
            self.interval_start = now;
        }
        self.tick_to_trade.reset();
        self.frame_to_signal.reset();
        t2t
    }

    /// Gives the sink `budget` of the side thread's time; reports connection changes.
    pub fn pump(&mut self, budget: Duration) {
        self.sink.pump(budget);
        let s = self.sink.status();
        if self.last_connected != Some(s.connected) {
            // The first state is only news when it is "down".
            if self.last_connected.is_some() || !s.connected {
                let m = self.encoder.bus_status(&s, self.clock.now_unix_ms());
                self.send(m);
            }
            self.last_connected = Some(s.connected);
        }
    }

    pub fn status(&self) -> SinkStatus {
        self.sink.status()
    }

    pub fn describe(&self) -> String {
        self.sink.describe()
    }

    /// At exit: the last latency snapshot, then everything still queued, for at most `deadline`.
    pub fn finish(&mut self, deadline: Duration) -> SinkStatus {
        self.end_interval();
        self.sink.flush(deadline);
        self.sink.status()
    }
}
