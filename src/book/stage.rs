//! The book stage: md ring → one L2 book per instrument under its venue's sequence rules →
//! tops of book on the book ring.
//!
//! Policy:
//! - A depth frame is published as a top only once all its chunks are applied.
//! - A book that loses sync (gap, version change, empty snapshot, crossed, buffer overflow)
//!   publishes a `Resyncing` top at once, so the scanner stops trading on it, and raises the
//!   instrument's resync flag for its feed; it is `Live` again only after a new snapshot.
//! - Binance tops come from `bookTicker` when the feed subscribes to it (faster than depth);
//!   depth is still sequenced so gaps are caught.
//! - A `FeedDown` event marks its book `Resyncing` (a feed sends one per book of the
//!   connection it lost).
//! - Staleness watchdog: a venue (other than the daily reference rate) whose feed has sent
//!   nothing for `stale_after` gets `Stale` tops for all its books, so no strategy trades on
//!   them, and a system event; the next applied update makes a book `Live` again.
//! - A configured market whose book has not gone live `live_timeout` after the stage started
//!   gets a `MarketNotLive` system event naming it (once), so a market nothing serves is never
//!   silently dark. Which books are live goes to the [`LiveBoard`] (the stats line's `books
//!   live/configured`).

use super::binance_sync::BinanceSync;
use super::l2book::L2Book;
use super::max_sync::MaxSync;
use super::sync::{ResyncReason, SyncOutcome};
use crate::model::{
    BookStatus, BookTop, FeedLink, Fixed, InstrumentId, Instruments, Level, MdEvent, MdKind,
    SystemEvent, SystemKind, Tally, Telemetry, Venue,
};
use crate::pipeline::board::ResyncRequests;
use crate::pipeline::board::{LiveBoard, MidBoard};
use crate::pipeline::ring::{BookProducer, MdPoller};
use crate::pipeline::{EngineClock, Poll, Stage};
use crate::telemetry::{EngineCounters, LatencySet, Segment, TelemetryTx};
use crate::venue::binance::BinanceMarket;
use disruptor::{Polling, Producer};
use std::sync::Arc;

enum Sequencer {
    Max(MaxSync),
    Binance(BinanceSync),
    /// Reference rates and other single-value sources: no book.
    Direct,
}

struct InstrumentBook {
    venue: Venue,
    book: L2Book,
    seq: Sequencer,
    status: BookStatus,
    /// Md events applied (handed to the metrics with the sampled tops: [`Tally::Book`]).
    md_events: u64,
}

/// Everything the stage does, apart from owning its input poller.
pub struct BookState {
    out: Option<BookProducer>,
    books: Vec<InstrumentBook>,
    /// Take Binance tops from bookTicker rather than depth.
    binance_ticker_tops: bool,
    resync: Arc<ResyncRequests>,
    mids: Arc<MidBoard>,
    live: Arc<LiveBoard>,
    /// When the stage first ran (clock raw; 0: not yet), and how long a book may take to go
    /// live (ns; 0: no deadline) before its market is named; `live_checked` once that is done.
    started: u64,
    live_timeout_ns: u64,
    live_checked: bool,
    clock: EngineClock,
    latency: LatencySet,
    counters: Arc<EngineCounters>,
    tele: TelemetryTx,
    /// Watchdog: TSC of the last event per venue, and whether it is flagged stale.
    last_seen: [u64; 4],
    stale: [bool; 4],
    stale_after_ns: u64,
    last_check: u64,
    /// Tops handed to the side thread (for the bus) at most this often per instrument, ns;
    /// `None`: none.
    top_sample: Option<u64>,
    top_sent: Vec<u64>,
    /// When the book latency next goes to the metrics.
    latency_report: crate::telemetry::LatencyReport,
}

pub struct BookStage {
    /// One md ring per producing feed (a feed never contends with another for a slot); read in
    /// turn, a batch from each. Each instrument's events come through one ring, in order.
    md: Vec<MdRing>,
    batch: u64,
    state: BookState,
}

struct MdRing {
    poller: MdPoller,
    /// Its producers are gone and it is drained.
    closed: bool,
}

/// What the book stage needs from the engine.
pub struct BookStageParts {
    pub md: MdPoller,
    pub out: BookProducer,
    pub instruments: Instruments,
    pub binance_ticker_tops: bool,
    pub resync: Arc<ResyncRequests>,
    pub mids: Arc<MidBoard>,
    pub clock: EngineClock,
    pub counters: Arc<EngineCounters>,
    pub tele: TelemetryTx,
    pub batch: u64,
    /// Silence after which a venue's books are marked `Stale` (0: never).
    pub stale_after_ms: u64,
    /// Which books are live (written here).
    pub live: Arc<LiveBoard>,
    /// A book not live this long after start: its market is named (0: never).
    pub live_timeout_ms: u64,
}

impl BookStage {
    /// Reads one more md ring (another feed's), besides `BookStageParts::md`.
    pub fn with_md_ring(mut self, poller: MdPoller) -> BookStage {
        self.md.push(MdRing {
            poller,
            closed: false,
        });
        self
    }

    pub fn new(p: BookStageParts) -> BookStage {
        let books = p
            .instruments
            .iter()
            .map(|i| InstrumentBook {
                venue: i.venue,
                book: if i.venue == Venue::RefRate {
                    L2Book::empty()
                } else {
                    L2Book::default()
                },
                seq: match i.venue {
                    Venue::Max => Sequencer::Max(MaxSync::new()),
                    Venue::BinanceSpot => Sequencer::Binance(BinanceSync::new(BinanceMarket::Spot)),
                    Venue::BinanceFutures => {
                        Sequencer::Binance(BinanceSync::new(BinanceMarket::Futures))
                    }
                    Venue::RefRate => Sequencer::Direct,
                },
                status: BookStatus::Resyncing,
                md_events: 0,
            })
            .collect();
        BookStage {
            md: vec![MdRing {
                poller: p.md,
                closed: false,
            }],
            batch: p.batch,
            state: BookState {
                out: Some(p.out),
                books,
                binance_ticker_tops: p.binance_ticker_tops,
                resync: p.resync,
                mids: p.mids,
                live: p.live,
                started: 0,
                live_timeout_ns: p.live_timeout_ms * 1_000_000,
                live_checked: false,
                clock: p.clock,
                latency: LatencySet::default(),
                counters: p.counters,
                tele: p.tele,
                last_seen: [0; 4],
                stale: [false; 4],
                stale_after_ns: p.stale_after_ms * 1_000_000,
                last_check: 0,
                top_sample: None,
                top_sent: Vec::new(),
                latency_report: Default::default(),
            },
        }
    }

    /// Also hands tops to the side thread's telemetry queue, at most one per instrument every
    /// `interval_ms` (0: every top), for the market-data subjects of the bus.
    pub fn with_top_telemetry(mut self, interval_ms: u64) -> Self {
        let s = &mut self.state;
        s.top_sample = Some(interval_ms * 1_000_000);
        s.top_sent = vec![0; s.books.len()];
        self
    }

    pub fn latency(&self) -> &LatencySet {
        &self.state.latency
    }

    /// The local book of `i` (tests and the final report compare it with the venue's).
    pub fn book(&self, i: InstrumentId) -> &L2Book {
        &self.state.books[i.index()].book
    }

    pub fn status(&self, i: InstrumentId) -> BookStatus {
        self.state.books[i.index()].status
    }
}

impl Stage for BookStage {
    fn name(&self) -> &'static str {
        "book"
    }

    fn poll(&mut self) -> Poll {
        if self.state.out.is_none() {
            return Poll::Finished;
        }
        if self.state.started == 0 {
            self.state.started = self.state.clock.raw().max(1);
        }
        let mut n = 0;
        let mut open = 0;
        for ring in self.md.iter_mut().filter(|r| !r.closed) {
            match ring.poller.take(self.batch) {
                Ok(mut events) => {
                    open += 1;
                    for ev in &mut events {
                        self.state.on_md(ev);
                        n += 1;
                    }
                }
                Err(Polling::NoEvents) => open += 1,
                Err(Polling::Shutdown) => ring.closed = true,
            }
        }
        if n > 0 {
            Poll::Busy(n)
        } else if open > 0 {
            self.state.watchdog();
            Poll::Idle
        } else {
            // Every input closed and drained: close the output so the drain cascades.
            self.state.out = None;
            // The metrics' final per-instrument counts and latency.
            if self.state.top_sample.is_some() {
                for i in 0..self.state.books.len() {
                    self.state.tally(InstrumentId(i as u16));
                }
                let st = &self.state;
                st.latency.report_now(&st.tele, &[Segment::Book], None);
            }
            Poll::Finished
        }
    }
}

impl BookState {
    /// Names the markets not live by their deadline, and marks the books of venues that have
    /// gone silent `Stale` (checked every 100 ms at most).
    fn watchdog(&mut self) {
        if self.stale_after_ns == 0 && (self.live_checked || self.live_timeout_ns == 0) {
            return;
        }
        let now = self.clock.raw();
        if self.clock.delta_ns(self.last_check, now) < 100_000_000 {
            return;
        }
        self.last_check = now;
        self.check_live_deadline(now);
        if self.stale_after_ns == 0 {
            return;
        }
        for v in [Venue::Max, Venue::BinanceSpot, Venue::BinanceFutures] {
            let k = v as usize;
            if self.last_seen[k] == 0
                || self.stale[k]
                || self.clock.delta_ns(self.last_seen[k], now) < self.stale_after_ns
            {
                continue;
            }
            self.stale[k] = true;
            self.system(
                SystemKind::FeedDown(FeedLink::MarketDataSilence),
                v,
                InstrumentId(0),
            );
            for i in 0..self.books.len() {
                if self.books[i].venue == v && self.books[i].status == BookStatus::Live {
                    self.set_status(InstrumentId(i as u16), BookStatus::Stale);
                    let ev = MdEvent {
                        venue: v,
                        instrument: InstrumentId(i as u16),
                        ts_frame: now,
                        ..Default::default()
                    };
                    self.publish_without_levels(&ev, BookStatus::Stale, now);
                }
            }
        }
    }

    /// Once `live_timeout` has passed since start: a `MarketNotLive` event and a warning for
    /// each configured market whose book has never been live.
    fn check_live_deadline(&mut self, now: u64) {
        if self.live_checked
            || self.live_timeout_ns == 0
            || self.started == 0
            || self.clock.delta_ns(self.started, now) < self.live_timeout_ns
        {
            return;
        }
        self.live_checked = true;
        let after_ms = self.live_timeout_ns / 1_000_000;
        for i in 0..self.books.len() {
            let id = InstrumentId(i as u16);
            if !self.live.ever_live(id) {
                self.system(
                    SystemKind::MarketNotLive { after_ms },
                    self.books[i].venue,
                    id,
                );
            }
        }
    }

    /// A book's new status, and the live board's when it enters or leaves `Live`.
    #[inline]
    fn set_status(&mut self, i: InstrumentId, status: BookStatus) {
        let ib = &mut self.books[i.index()];
        let was = ib.status == BookStatus::Live;
        ib.status = status;
        if was != (status == BookStatus::Live) {
            self.live.set(i, !was);
        }
    }

    /// Applies one md event; public for benchmarks and the allocation test.
    #[inline]
    pub fn on_md(&mut self, ev: &MdEvent) {
        let k = ev.venue as usize;
        self.last_seen[k] = ev.ts_parsed.max(ev.ts_frame);
        if self.stale[k] {
            self.stale[k] = false;
            self.system(
                SystemKind::FeedUp(FeedLink::MarketDataSilence),
                ev.venue,
                ev.instrument,
            );
        }
        let idx = ev.instrument.index();
        if idx >= self.books.len() {
            return;
        }
        self.books[idx].md_events += 1;
        match ev.kind {
            MdKind::BookSnapshot | MdKind::BookUpdate => {
                let ib = &mut self.books[idx];
                let outcome = match &mut ib.seq {
                    Sequencer::Max(s) => s.on_event(ev, &mut ib.book),
                    Sequencer::Binance(s) => s.on_event(ev, &mut ib.book),
                    Sequencer::Direct => SyncOutcome::Dropped,
                };
                let tops_from_depth = !(self.binance_ticker_tops && is_binance(ib.venue));
                match outcome {
                    SyncOutcome::Partial | SyncOutcome::Buffered | SyncOutcome::Dropped => {}
                    SyncOutcome::Applied | SyncOutcome::Synced => {
                        let status = ib.book.integrity();
                        self.set_status(ev.instrument, status);
                        if outcome == SyncOutcome::Synced {
                            self.system(SystemKind::BookLive, ev.venue, ev.instrument);
                        }
                        if tops_from_depth {
                            self.publish_book_top(ev);
                        }
                    }
                    SyncOutcome::Resync(reason) => self.lost_sync(ev, reason),
                }
            }
            MdKind::BookTicker => {
                if self.binance_ticker_tops {
                    let top = top_from(ev, BookStatus::Live, first(ev.bids()), first(ev.asks()));
                    self.publish(top, ev.ts_parsed);
                }
            }
            MdKind::RefRate => {
                let rate = first(ev.bids());
                self.set_status(ev.instrument, BookStatus::Live);
                let top = top_from(ev, BookStatus::Live, rate, rate);
                self.publish(top, ev.ts_parsed);
            }
            MdKind::FeedDown => {
                // The book of the connection that was lost (another connection of the venue
                // may still serve the others).
                if self.books[idx].venue == ev.venue {
                    self.reset_book(ev.instrument);
                    self.publish_without_levels(ev, BookStatus::Resyncing, ev.ts_parsed);
                }
                if ev.last_chunk {
                    self.system(
                        SystemKind::FeedDown(FeedLink::BooksReset),
                        ev.venue,
                        ev.instrument,
                    );
                }
            }
            MdKind::Trade | MdKind::None => {}
        }
    }

    fn reset_book(&mut self, i: InstrumentId) {
        let ib = &mut self.books[i.index()];
        match &mut ib.seq {
            Sequencer::Max(s) => s.reset(&mut ib.book),
            Sequencer::Binance(s) => s.reset(&mut ib.book),
            Sequencer::Direct => {}
        }
        self.set_status(i, BookStatus::Resyncing);
    }

    fn lost_sync(&mut self, ev: &MdEvent, reason: ResyncReason) {
        self.set_status(ev.instrument, BookStatus::Resyncing);
        self.resync.request(ev.instrument);
        self.counters.resyncs.add(1);
        self.system(SystemKind::Resync(reason), ev.venue, ev.instrument);
        self.publish_without_levels(ev, BookStatus::Resyncing, ev.ts_parsed);
    }

    /// A top with no levels: the book of `ev.instrument` is `status` (not Live), no strategy
    /// may trade on it.
    fn publish_without_levels(&mut self, ev: &MdEvent, status: BookStatus, ts_parsed: u64) {
        let top = top_from(ev, status, Level::default(), Level::default());
        self.publish(top, ts_parsed);
    }

    fn publish_book_top(&mut self, ev: &MdEvent) {
        let ib = &self.books[ev.instrument.index()];
        let top = top_from(ev, ib.status, ib.book.best_bid(), ib.book.best_ask());
        self.publish(top, ev.ts_parsed);
    }

    #[inline]
    fn publish(&mut self, mut top: BookTop, ts_parsed: u64) {
        if let Some(mid) = mid_of(&top) {
            self.mids.set(top.instrument, mid);
        }
        let Some(out) = self.out.as_mut() else { return };
        let now = self.clock.raw();
        top.ts_book = now;
        if let Some(every) = self.top_sample {
            let last = &mut self.top_sent[top.instrument.index()];
            if *last == 0 || self.clock.delta_ns(*last, now) >= every {
                *last = now;
                self.tele.send(Telemetry::Top(top));
                let md_events = self.books[top.instrument.index()].md_events;
                self.tele.send(Telemetry::Tally(Tally::Book {
                    instrument: top.instrument,
                    md_events,
                }));
                self.latency.report(
                    &mut self.latency_report,
                    &self.clock,
                    now,
                    &self.tele,
                    &[Segment::Book],
                    None,
                );
            }
        }
        if out.try_publish(|slot| *slot = top).is_ok() {
            self.counters.book.add(1);
            self.latency
                .record(Segment::Book, self.clock.delta_ns(ts_parsed, now));
        } else {
            self.counters.ring_full_book.add(1);
        }
    }

    /// The md events applied to `i` so far, for the metrics.
    fn tally(&self, i: InstrumentId) {
        if let Some(b) = self.books.get(i.index()) {
            self.tele.send(Telemetry::Tally(Tally::Book {
                instrument: i,
                md_events: b.md_events,
            }));
        }
    }

    fn system(&self, kind: SystemKind, venue: Venue, instrument: InstrumentId) {
        self.tele.send(Telemetry::System(SystemEvent {
            kind,
            venue,
            instrument,
            trading_state: Default::default(),
            ts: self.clock.raw(),
        }));
    }
}

#[inline]
fn is_binance(v: Venue) -> bool {
    matches!(v, Venue::BinanceSpot | Venue::BinanceFutures)
}

#[inline]
fn first(levels: &[Level]) -> Level {
    levels.first().copied().unwrap_or_default()
}

#[inline]
fn top_from(ev: &MdEvent, status: BookStatus, bid: Level, ask: Level) -> BookTop {
    BookTop {
        venue: ev.venue,
        instrument: ev.instrument,
        status,
        bid,
        ask,
        last_id: ev.last_id,
        exch_ts_ms: ev.exch_ts_ms,
        ts_frame: ev.ts_frame,
        ts_book: 0,
    }
}

/// The mid of a two-sided top, `None` unless both prices are above zero. `midpoint`: two prices
/// near the `i64` limit (a bookTicker at ~5·10¹⁰ on both sides) cannot overflow the sum.
fn mid_of(top: &BookTop) -> Option<Fixed> {
    (top.bid.price.raw() > 0 && top.ask.price.raw() > 0)
        .then(|| top.bid.price.midpoint(top.ask.price))
}

#[cfg(test)]
mod tests;
