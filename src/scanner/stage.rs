//! The scanner stage: book ring → strategies → signal ring.

use super::Scanners;
use crate::model::{BookTop, Telemetry};
use crate::pipeline::board::PositionBoard;
use crate::pipeline::ring::{BookPoller, SignalProducer};
use crate::pipeline::{EngineClock, Poll, Stage};
use crate::telemetry::{EngineCounters, LatencySet, Segment, TelemetryTx};
use disruptor::{Polling, Producer};
use std::sync::Arc;

pub struct ScannerState {
    out: Option<SignalProducer>,
    scanners: Scanners,
    board: Arc<PositionBoard>,
    clock: EngineClock,
    latency: LatencySet,
    counters: Arc<EngineCounters>,
    tele: TelemetryTx,
    /// Warm-up: the strategies see every top (averages, gates) but no signal is published;
    /// counted in `muted`. A replay's `--from` runs the frames before it muted.
    muted: bool,
    pub muted_signals: u64,
    /// When the scan latency next goes to the metrics.
    latency_report: crate::telemetry::LatencyReport,
}

pub struct ScannerStage {
    input: BookPoller,
    batch: u64,
    state: ScannerState,
}

pub struct ScannerStageParts {
    pub input: BookPoller,
    pub out: SignalProducer,
    pub scanners: Scanners,
    pub board: Arc<PositionBoard>,
    pub clock: EngineClock,
    pub counters: Arc<EngineCounters>,
    pub tele: TelemetryTx,
    pub batch: u64,
}

impl ScannerStage {
    pub fn new(p: ScannerStageParts) -> ScannerStage {
        ScannerStage {
            input: p.input,
            batch: p.batch,
            state: ScannerState {
                out: Some(p.out),
                scanners: p.scanners,
                board: p.board,
                clock: p.clock,
                latency: LatencySet::default(),
                counters: p.counters,
                tele: p.tele,
                muted: false,
                muted_signals: 0,
                latency_report: Default::default(),
            },
        }
    }

    /// Mutes (or unmutes) the stage: the strategies go on seeing every top, but their signals
    /// are dropped and counted in [`Self::muted_signals`] instead of published.
    pub fn set_muted(&mut self, muted: bool) {
        self.state.muted = muted;
    }

    pub fn muted(&self) -> bool {
        self.state.muted
    }

    pub fn muted_signals(&self) -> u64 {
        self.state.muted_signals
    }
    pub fn latency(&self) -> &LatencySet {
        &self.state.latency
    }
    pub fn scanners(&self) -> &Scanners {
        &self.state.scanners
    }
}

impl ScannerState {
    /// Runs the strategies on one top and publishes their signals. Scan latency is measured
    /// from the top's publication to the end of its evaluation, signal or not.
    #[inline]
    pub fn on_top(&mut self, top: &BookTop) {
        let now = self.clock.raw();
        let ScannerState {
            out,
            scanners,
            board,
            clock,
            counters,
            tele,
            muted,
            muted_signals,
            ..
        } = self;
        scanners.on_top(top, now, clock, board, |sig| {
            if *muted {
                *muted_signals += 1;
                return;
            }
            let Some(out) = out.as_mut() else { return };
            if out.try_publish(|slot| *slot = *sig).is_ok() {
                counters.signals.add(1);
                tele.send(Telemetry::Signal(*sig));
            } else {
                counters.ring_full_signal.add(1);
            }
        });
        let done = self.clock.raw();
        self.latency
            .record(Segment::Scan, self.clock.delta_ns(top.ts_book, done));
        self.latency.report(
            &mut self.latency_report,
            &self.clock,
            done,
            &self.tele,
            &[Segment::Scan],
            None,
        );
    }
}

impl Stage for ScannerStage {
    fn name(&self) -> &'static str {
        "scanner"
    }

    fn poll(&mut self) -> Poll {
        if self.state.out.is_none() {
            return Poll::Finished;
        }
        match self.input.take(self.batch) {
            Ok(mut tops) => {
                let mut n = 0;
                for top in &mut tops {
                    self.state.on_top(top);
                    n += 1;
                }
                Poll::Busy(n)
            }
            Err(Polling::NoEvents) => Poll::Idle,
            Err(Polling::Shutdown) => {
                self.state.out = None;
                let st = &self.state;
                st.latency.report_now(&st.tele, &[Segment::Scan], None);
                Poll::Finished
            }
        }
    }
}
