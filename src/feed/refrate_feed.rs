//! The reference-rate feed (`refrate` thread, unpinned): fetches USD/TWD with the
//! [`RefRateProvider`] at start and every `[refrate] poll_interval_s` and publishes it on the md
//! ring, where the book stage keeps it for the stable-coin scanner. The fetch waits on the
//! network, so it never runs on a hot thread. A fetch that fails everywhere (bank, TAIFEX,
//! the day's cache) publishes nothing and is reported; the scanner's freshness gate then keeps
//! the strategy quiet instead of trading on an old rate.

use crate::capture::payload::refrate_record;
use crate::capture::{CaptureTx, FrameKind};
use crate::model::{FeedLink, InstrumentId, SystemEvent, SystemKind, Telemetry, Venue};
use crate::pipeline::ring::MdProducer;
use crate::pipeline::{EngineClock, Phase, Shutdown};
use crate::telemetry::TelemetryTx;
use crate::venue::refrate::bot_csv::taipei_day;
use crate::venue::refrate::provider::RefRateProvider;
use crate::venue::refrate::ref_rate_event;
use disruptor::Producer;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct RefRateFeed {
    pub provider: RefRateProvider,
    pub instrument: InstrumentId,
    /// The instrument's name (`USDTWD`), for the capture.
    pub symbol: String,
    pub md: MdProducer,
    pub clock: EngineClock,
    pub shutdown: Shutdown,
    pub tele: TelemetryTx,
    pub interval: Duration,
    /// Fetches that gave no rate at all.
    pub failures: u64,
    /// Each rate published also goes here (`--capture`), as `SYMBOL MID MS`.
    pub capture: Option<CaptureTx>,
}

impl RefRateFeed {
    pub fn spawn(self) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("refrate".into())
            .spawn(move || self.run())
    }

    /// One fetch; true when a rate was published.
    pub fn fetch_once(&mut self) -> bool {
        let now_ms = self.clock.now_unix_ms();
        match self.provider.fetch(taipei_day(now_ms)) {
            Ok((q, origin)) => {
                tracing::debug!(rate = %q.mid, "reference rate fetched ({origin:?})");
                let ts = self.clock.raw();
                let exch_ms = q.board_time_ms.unwrap_or(now_ms);
                let ev = ref_rate_event(self.instrument, q.mid, exch_ms, ts);
                if let Some(c) = &self.capture {
                    c.frame_with(Venue::RefRate, FrameKind::RefRate, 0, ts, |b| {
                        refrate_record(b, &self.symbol, q.mid, exch_ms)
                    });
                }
                self.md.publish(|slot| {
                    *slot = ev;
                    slot.ts_parsed = ts;
                });
                true
            }
            Err(e) => {
                self.failures += 1;
                tracing::warn!(failures = self.failures, "reference rate unavailable: {e}");
                self.tele.send(Telemetry::System(SystemEvent {
                    kind: SystemKind::FeedDown(FeedLink::ReferenceRate {
                        failures: self.failures,
                    }),
                    venue: Venue::RefRate,
                    instrument: self.instrument,
                    ts: self.clock.raw(),
                    ..Default::default()
                }));
                false
            }
        }
    }

    fn run(mut self) {
        let mut next = Instant::now();
        while self.shutdown.phase() == Phase::Running {
            if Instant::now() >= next {
                self.fetch_once();
                next = Instant::now() + self.interval;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
