//! The snapshot thread of a Binance feed: REST depth snapshots fetched off the feed's thread
//! (a round trip never blocks the socket reads) and published on the md ring like any frame,
//! within the venue's ban and its request-weight budget (shared by every feed of the venue: a
//! snapshot waits until the minute has room for its weight).

use crate::capture::{CaptureTx, FrameKind};
use crate::feed::weight_budget::WeightBudget;
use crate::model::InstrumentId;
use crate::pipeline::EngineClock;
use crate::pipeline::board::ResyncRequests;
use crate::pipeline::ring::MdProducer;
use crate::venue::binance::weight::depth_weight;
use crate::venue::binance::{BinanceMarket, BinanceParser};
use crate::venue::venue_gate::VenueGate;
use crate::venue::wall_clock::local_ms as unix_ms;
use crossbeam::channel::Receiver;
use disruptor::Producer;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Levels asked of a snapshot (weight 20 on futures, 50 on spot).
pub(super) const DEPTH_LIMIT: u32 = 1000;

/// What the snapshot thread needs: REST depth snapshots off the feed's path, results on the md
/// ring, the venue's ban respected and a 429/418 recorded in it.
pub(super) struct SnapshotFetcher {
    pub(super) market: BinanceMarket,
    /// `{rest_url}/api/v3/depth` or `{rest_url}/fapi/v1/depth`.
    pub(super) url_prefix: String,
    pub(super) md: MdProducer,
    pub(super) clock: EngineClock,
    pub(super) errors: Arc<AtomicU64>,
    /// Each snapshot body also goes here, as `SYMBOL body` (the body does not name its market).
    pub(super) capture: Option<CaptureTx>,
    /// The venue's request weight, shared with its other feeds' snapshot threads.
    pub(super) weight: Arc<WeightBudget>,
    /// A snapshot that failed is asked for again through the feed's resync pacing (nothing
    /// else would ask: the book waits for it).
    pub(super) resync: Arc<ResyncRequests>,
    /// `weight_waits`: snapshots that waited for the request weight (the summary's count).
    pub(super) counters: Arc<crate::telemetry::EngineCounters>,
}

impl SnapshotFetcher {
    pub(super) fn spawn(
        mut self,
        gate: Arc<VenueGate>,
        stop: Arc<AtomicBool>,
        rx: Receiver<(InstrumentId, String)>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("feed.binance.snapshot".into())
            .spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(5)))
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut parser = BinanceParser::new(self.market);
                let weight = depth_weight(self.market, Some(DEPTH_LIMIT));
                while let Ok((id, symbol)) = rx.recv() {
                    // Not before the venue's ban ends (a stopping feed does not wait for it).
                    while let Some(w) = gate.wait(unix_ms()) {
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        std::thread::sleep(w.min(Duration::from_millis(100)));
                    }
                    // Nor before the minute has room for its weight.
                    let mut waited = false;
                    while let Err(w) = self.weight.try_take(weight, Instant::now()) {
                        if !waited {
                            self.weight.note_deferred();
                            self.counters.weight_waits.add_shared(1);
                            waited = true;
                        }
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        std::thread::sleep(w.min(Duration::from_millis(100)));
                    }
                    let url = format!("{}?symbol={symbol}&limit={DEPTH_LIMIT}", self.url_prefix);
                    let body = match agent.get(&url).call() {
                        Ok(mut r) if r.status().is_success() => {
                            gate.succeeded();
                            r.body_mut().read_to_vec().ok()
                        }
                        Ok(r) => {
                            if matches!(r.status().as_u16(), 429 | 418) {
                                let retry =
                                    r.headers().get("retry-after").and_then(|v| v.to_str().ok());
                                gate.refused(retry, unix_ms());
                            }
                            None
                        }
                        Err(_) => None,
                    };
                    let Some(body) = body else {
                        self.errors.fetch_add(1, Ordering::Relaxed);
                        self.resync.request(id);
                        continue;
                    };
                    let (md, clock) = (&mut self.md, &self.clock);
                    let ts = clock.raw();
                    if let Some(c) = &self.capture {
                        let venue = self.market.venue();
                        c.frame_with(venue, FrameKind::RestSnapshot, 0, ts, |b| {
                            crate::capture::payload::snapshot_record(b, &symbol, &body)
                        });
                    }
                    let res = parser.parse_depth_snapshot(&body, id, ts, |ev| {
                        let now = clock.raw();
                        md.publish(|slot| {
                            *slot = *ev;
                            slot.ts_parsed = now;
                        });
                    });
                    if res.is_err() {
                        self.errors.fetch_add(1, Ordering::Relaxed);
                        self.resync.request(id);
                    }
                }
            })
    }
}
