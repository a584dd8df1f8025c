//! The handover from one Binance connection to a fresh one carrying the same streams (the 24 h
//! rotation, spec binance.md §1.1–§1.2), with no diff-depth event lost and none published twice.
//!
//! Every diff-depth event names its place in its stream: `U`..`u`, and on futures `pu`, the `u`
//! of the event before it (spec §2.2). Both connections receive the same events, but either may
//! be ahead of the other at any moment. Per depth stream (one per instrument):
//!
//! * H1. Until the stream is handed over, the old connection's events are published as before;
//!   `last` is the `u` of the last one published.
//! * H2. A new-connection event with `u <= last` shows the new connection is behind the old
//!   one: the stream is handed over at once. From then on the old connection's events are
//!   dropped, and the new connection's are dropped while `u <= last` (already published) and
//!   published after; the first published is the successor of `last`, since the new connection
//!   carries the same events in the same order and has not reached it yet.
//! * H3. A new-connection event with `u > last` is ahead of the old connection: it is held, in
//!   order. Held events the old connection then publishes are dropped from the hold. When the
//!   first held event chains onto `last` (futures `pu == last`, spot `U == last + 1`, the
//!   sequencer's own rules, §3.2 U3 and §3.3 step 6) the stream is handed over: the held events
//!   are published, then every later event of the new connection; the old one's are dropped.
//! * H4. When every depth stream is handed over, the old connection can be closed. The new one
//!   keeps dropping events with `u <= last` until one passes (it may still be catching up).
//!
//! Why nothing is lost or doubled: what is published for a stream is the old connection's run up
//! to `last`, then the new connection's run from the event after `last`. Each run is contiguous
//! because each connection's stream is; before the handover no new event is published, after it
//! no old one is, and nothing at or below `last` is published again. A held event waits until
//! the old connection catches up; holding is bounded ([`HOLD_CHUNKS`]) and clearing the hold is
//! always safe, since a later event can still chain (or be seen already published, H2). Should
//! the two connections ever cut the stream into different events, an event straddling `last`
//! never chains (H3 waits, then F2) or is published to the sequencer, which resyncs the book.
//!
//! `bookTicker` carries the same update id: from either connection it is published only when its
//! `u` is newer than the last one published for its instrument.
//!
//! When things fail:
//!
//! * F1 ([`Handover::abort`]): the new connection fails first. Streams not handed over stay on
//!   the old one as if nothing happened. A stream already handed over returns to the old one:
//!   its events with `u <= last` are dropped and the next is published; the book's sequencer
//!   checks that it chains (if the old connection ran ahead meanwhile, that is a real gap and the
//!   book resyncs as after any gap).
//! * F2 ([`Handover::promote`]): the old connection fails, or the handover takes too long (a
//!   stream with no traffic never chains): the new connection takes every stream over. Held
//!   events newer than `last` are published and the sequencer checks the first one chains.
//!
//! One file: the rules H1–H4 and the code that keeps them are one invariant; about 370 lines
//! are code, the rest are the tests that walk every interleaving of the two connections.

use crate::model::{InstrumentId, MdEvent, MdKind};
use crate::venue::binance::BinanceMarket;

/// Chunks held per depth stream while the old connection catches up (a few frames; Binance
/// sends a depth frame per symbol every 100 ms).
pub const HOLD_CHUNKS: usize = 256;

/// Which connection a frame came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The connection the feed publishes from.
    Live,
    /// The fresh connection being handed over to.
    Next,
}

/// What to do with one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Publish,
    /// Kept by the handover; published later by [`Handover::release`] or [`Handover::promote`].
    Held,
    Drop,
}

/// Who is in charge of one depth stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// The live connection (always, outside a handover).
    Live,
    /// Handed over to the next connection (H2, H3).
    Next,
    /// On the live connection, which may still deliver events already published (after F1, or
    /// after H4 when the new connection was behind): drop those, then `Live`.
    Rejoin,
}

struct Stream {
    depth: bool,
    owner: Owner,
    /// `u` of the last depth event published (H1).
    last: Option<u64>,
    /// `u` of the last bookTicker published.
    ticker: u64,
    held: Vec<MdEvent>,
}

/// How streams were handed over, for tests and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandoverCounts {
    /// The new connection was behind (H2).
    pub behind: u64,
    /// The new connection was level or ahead and its held events chained (H3).
    pub chained: u64,
}

pub struct Handover {
    market: BinanceMarket,
    counts: HandoverCounts,
    /// Indexed by instrument index.
    streams: Vec<Stream>,
    active: bool,
    /// Depth streams not yet handed over.
    pending: usize,
    /// The verdict taken at chunk 0 of the frame in progress, per source.
    frame: [Verdict; 2],
}

impl Handover {
    /// `depth`: the instruments whose diff depth the feed subscribes; `n`: instrument count.
    pub fn new(market: BinanceMarket, n: usize, depth: &[InstrumentId]) -> Handover {
        let streams = (0..n)
            .map(|i| {
                let has = depth.iter().any(|d| d.index() == i);
                Stream {
                    depth: has,
                    owner: Owner::Live,
                    last: None,
                    ticker: 0,
                    held: Vec::with_capacity(if has { HOLD_CHUNKS } else { 0 }),
                }
            })
            .collect();
        Handover {
            market,
            counts: HandoverCounts::default(),
            streams,
            active: false,
            pending: 0,
            frame: [Verdict::Publish; 2],
        }
    }

    pub fn counts(&self) -> HandoverCounts {
        self.counts
    }

    /// A handover is in progress.
    pub fn active(&self) -> bool {
        self.active
    }

    /// Every depth stream has been handed over (H4).
    pub fn complete(&self) -> bool {
        self.active && self.pending == 0
    }

    /// A fresh start after a cold reconnect: nothing is known of what the books have seen.
    pub fn reset(&mut self) {
        for s in &mut self.streams {
            s.owner = Owner::Live;
            s.last = None;
            s.ticker = 0;
            s.held.clear();
        }
        self.active = false;
        self.pending = 0;
        self.frame = [Verdict::Publish; 2];
    }

    /// The next connection is open and subscribed: hand over every depth stream.
    pub fn begin(&mut self) {
        self.pending = 0;
        for s in &mut self.streams {
            s.held.clear();
            if s.depth {
                // A stream still rejoining after F1 keeps dropping what was published.
                if s.owner == Owner::Next {
                    s.owner = Owner::Live;
                }
                self.pending += 1;
            }
        }
        self.active = true;
        self.frame[Source::Next as usize] = Verdict::Drop;
    }

    /// Decides one event (every chunk, in order per source). A `Held` event has been copied.
    #[inline]
    pub fn admit(&mut self, from: Source, ev: &MdEvent) -> Verdict {
        let Some(s) = self.streams.get_mut(ev.instrument.index()) else {
            return self.outside(from);
        };
        match ev.kind {
            MdKind::BookUpdate if s.depth => {
                let f = from as usize;
                if ev.chunk != 0 {
                    // The rest of a frame follows its first chunk.
                    if self.frame[f] == Verdict::Held && !hold(s, ev) {
                        self.frame[f] = Verdict::Drop;
                    }
                    return self.frame[f];
                }
                let v = decide(self.active, from, s, ev);
                if from == Source::Next
                    && self.active
                    && s.owner != Owner::Next
                    && v == Verdict::Drop
                {
                    // H2: the new connection is behind; it takes the stream over now.
                    s.owner = Owner::Next;
                    s.held.clear();
                    self.pending -= 1;
                    self.counts.behind += 1;
                }
                let v = match v {
                    Verdict::Publish => {
                        s.last = Some(ev.last_id);
                        if s.owner == Owner::Rejoin {
                            s.owner = Owner::Live;
                        }
                        Verdict::Publish
                    }
                    Verdict::Held if !hold(s, ev) => Verdict::Drop,
                    v => v,
                };
                self.frame[f] = v;
                v
            }
            MdKind::BookTicker => {
                if ev.last_id <= s.ticker {
                    return Verdict::Drop;
                }
                s.ticker = ev.last_id;
                Verdict::Publish
            }
            _ => self.outside(from),
        }
    }

    /// Events the handover does not sequence: from the live connection only.
    fn outside(&self, from: Source) -> Verdict {
        if from == Source::Live {
            Verdict::Publish
        } else {
            Verdict::Drop
        }
    }

    /// After the last chunk of a depth frame of `i` (from either source): hands the stream over
    /// if its first held event now chains onto what was published (H2, H3).
    pub fn release<F: FnMut(&MdEvent)>(&mut self, i: InstrumentId, mut publish: F) {
        if !self.active {
            return;
        }
        let market = self.market;
        let Some(s) = self.streams.get_mut(i.index()) else {
            return;
        };
        if s.owner == Owner::Next || s.held.is_empty() {
            return;
        }
        let Some(last) = s.last else {
            return;
        };
        drop_published(s, last);
        if s.held.first().is_some_and(|h| chains(market, last, h)) {
            flush(s, &mut publish);
            s.owner = Owner::Next;
            self.pending -= 1;
            self.counts.chained += 1;
        }
    }

    /// F2 and the normal end (H4): the next connection becomes the live one for every stream.
    pub fn promote<F: FnMut(&MdEvent)>(&mut self, mut publish: F) {
        for s in &mut self.streams {
            if s.owner != Owner::Next && !s.held.is_empty() {
                if let Some(last) = s.last {
                    drop_published(s, last);
                }
                flush(s, &mut publish);
            }
            s.held.clear();
            // What it delivers up to `last` was published already (H4).
            s.owner = Owner::Rejoin;
        }
        self.active = false;
        self.pending = 0;
        self.frame = [Verdict::Publish; 2];
    }

    /// F1: the next connection failed; the live one keeps (or takes back) every stream.
    pub fn abort(&mut self) {
        for s in &mut self.streams {
            s.held.clear();
            if s.owner == Owner::Next {
                s.owner = Owner::Rejoin;
            }
        }
        self.active = false;
        self.pending = 0;
        self.frame[Source::Next as usize] = Verdict::Drop;
    }
}

/// The verdict at chunk 0 of a depth frame.
fn decide(active: bool, from: Source, s: &Stream, ev: &MdEvent) -> Verdict {
    let published = s.last.is_some_and(|last| ev.last_id <= last);
    match (from, s.owner) {
        // After the handover the old connection is ignored.
        (Source::Live, Owner::Next) => Verdict::Drop,
        // F1, H4: what was published is not published again.
        (Source::Live, Owner::Rejoin) if published => Verdict::Drop,
        (Source::Live, Owner::Live | Owner::Rejoin) => Verdict::Publish,
        (Source::Next, _) if !active => Verdict::Drop,
        // H2 (the caller hands the stream over when it was not yet).
        (Source::Next, _) if published => Verdict::Drop,
        (Source::Next, Owner::Next) => Verdict::Publish,
        // H3.
        (Source::Next, _) => Verdict::Held,
    }
}

/// Holds one chunk; on overflow clears the stream's held events (always safe, see the module
/// doc) and keeps this chunk only if it starts a frame. False when the chunk was not kept.
fn hold(s: &mut Stream, ev: &MdEvent) -> bool {
    if s.held.len() == s.held.capacity() {
        s.held.clear();
        if ev.chunk != 0 {
            return false;
        }
    }
    s.held.push(*ev);
    true
}

/// The sequencer's continuity rule between `last` and the next event.
fn chains(market: BinanceMarket, last: u64, ev: &MdEvent) -> bool {
    match market {
        BinanceMarket::Futures => ev.prev_id == last as i64,
        BinanceMarket::Spot => ev.first_id == last.wrapping_add(1),
    }
}

/// H2: drops held frames (whole) that were already published.
fn drop_published(s: &mut Stream, last: u64) {
    let mut cut = 0;
    let mut stale = false;
    for (k, h) in s.held.iter().enumerate() {
        if h.chunk == 0 {
            stale = h.last_id <= last;
            if !stale {
                break;
            }
        }
        if stale {
            cut = k + 1;
        }
    }
    s.held.drain(..cut);
}

/// Publishes every held chunk in order; `last` follows.
fn flush<F: FnMut(&MdEvent)>(s: &mut Stream, publish: &mut F) {
    for h in &s.held {
        publish(h);
        if h.chunk == 0 {
            s.last = Some(h.last_id);
        }
    }
    s.held.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: InstrumentId = InstrumentId(0);

    fn futures(pu: i64, first: u64, u: u64) -> MdEvent {
        MdEvent {
            kind: MdKind::BookUpdate,
            instrument: I,
            first_id: first,
            last_id: u,
            prev_id: pu,
            last_chunk: true,
            ..Default::default()
        }
    }

    fn spot(first: u64, u: u64) -> MdEvent {
        futures(-1, first, u)
    }

    fn ticker(u: u64) -> MdEvent {
        MdEvent {
            kind: MdKind::BookTicker,
            instrument: I,
            last_id: u,
            last_chunk: true,
            ..Default::default()
        }
    }

    /// Feeds `(source, event)` in order; returns the `u`s published.
    fn run(h: &mut Handover, steps: &[(Source, MdEvent)]) -> Vec<u64> {
        let mut out = Vec::new();
        for (from, ev) in steps {
            if h.admit(*from, ev) == Verdict::Publish {
                out.push(ev.last_id);
            }
            if ev.kind == MdKind::BookUpdate && ev.last_chunk {
                h.release(ev.instrument, |e| out.push(e.last_id));
            }
        }
        out
    }

    use Source::{Live, Next};

    #[test]
    fn named_cases() {
        // (name, market, before the handover on Live, during it, published during it, complete)
        type Case = (
            &'static str,
            BinanceMarket,
            Vec<MdEvent>,
            Vec<(Source, MdEvent)>,
            Vec<u64>,
            bool,
        );
        let f = futures;
        let cases: Vec<Case> = vec![
            (
                "futures: same events on both, old first",
                BinanceMarket::Futures,
                vec![f(5, 6, 10)],
                vec![
                    (Live, f(10, 11, 20)),
                    (Next, f(10, 11, 20)),
                    (Live, f(20, 21, 30)),
                    (Next, f(20, 21, 30)),
                    (Next, f(30, 31, 40)),
                    (Live, f(30, 31, 40)),
                ],
                vec![20, 30, 40],
                true,
            ),
            (
                "futures: new connection ahead is held until the old catches up",
                BinanceMarket::Futures,
                vec![f(5, 6, 10)],
                vec![
                    (Next, f(20, 21, 30)),
                    (Next, f(30, 31, 40)),
                    (Live, f(10, 11, 20)),
                    (Live, f(20, 21, 30)),
                    (Live, f(30, 31, 40)),
                    (Next, f(40, 41, 50)),
                ],
                vec![20, 30, 40, 50],
                true,
            ),
            (
                "futures: the held run chains after one old event",
                BinanceMarket::Futures,
                vec![f(5, 6, 10)],
                vec![
                    (Next, f(20, 21, 30)),
                    (Next, f(30, 31, 40)),
                    (Live, f(10, 11, 20)),
                    (Live, f(20, 21, 30)),
                ],
                vec![20, 30, 40],
                true,
            ),
            (
                "futures: ids shared across symbols, U is not last + 1",
                BinanceMarket::Futures,
                vec![f(5, 6, 10)],
                vec![(Next, f(10, 17, 20)), (Live, f(10, 17, 20))],
                vec![20],
                true,
            ),
            (
                "spot: chains by U == last + 1",
                BinanceMarket::Spot,
                vec![spot(1, 10)],
                vec![
                    (Next, spot(11, 12)),
                    (Live, spot(11, 12)),
                    (Next, spot(13, 15)),
                ],
                vec![12, 15],
                true,
            ),
            (
                "spot: new connection ahead, old catches up",
                BinanceMarket::Spot,
                vec![spot(1, 10)],
                vec![
                    (Next, spot(13, 15)),
                    (Live, spot(11, 12)),
                    (Live, spot(13, 15)),
                ],
                vec![12, 15],
                true,
            ),
            (
                "nothing known yet of the stream: wait",
                BinanceMarket::Futures,
                vec![],
                vec![(Next, f(10, 11, 20))],
                vec![],
                false,
            ),
            (
                "a straddling event never chains",
                BinanceMarket::Spot,
                vec![spot(1, 10)],
                vec![(Next, spot(9, 12))],
                vec![],
                false,
            ),
        ];
        for (name, market, before, during, want, complete) in cases {
            let mut h = Handover::new(market, 1, &[I]);
            run(
                &mut h,
                &before.iter().map(|e| (Live, *e)).collect::<Vec<_>>(),
            );
            h.begin();
            let got = run(&mut h, &during);
            assert_eq!(got, want, "{name}");
            assert_eq!(h.complete(), complete, "{name}");
        }
    }

    #[test]
    fn multi_chunk_frames_are_held_and_released_whole() {
        let mut h = Handover::new(BinanceMarket::Futures, 1, &[I]);
        run(&mut h, &[(Live, futures(5, 6, 10))]);
        h.begin();
        let mut a = futures(10, 11, 20);
        a.last_chunk = false;
        let mut b = a;
        b.chunk = 1;
        b.last_chunk = true;
        let mut out = Vec::new();
        for ev in [a, b] {
            assert_eq!(h.admit(Next, &ev), Verdict::Held);
        }
        h.release(I, |e| out.push((e.last_id, e.chunk)));
        assert_eq!(out, [(20, 0), (20, 1)]);
        assert!(h.complete());
        // The old connection's copy is dropped whole.
        assert_eq!(h.admit(Live, &a), Verdict::Drop);
        assert_eq!(h.admit(Live, &b), Verdict::Drop);
    }

    #[test]
    fn tickers_are_published_once_by_update_id() {
        let mut h = Handover::new(BinanceMarket::Futures, 1, &[I]);
        h.begin();
        let got = run(
            &mut h,
            &[
                (Live, ticker(5)),
                (Next, ticker(5)),
                (Next, ticker(7)),
                (Live, ticker(6)),
                (Live, ticker(7)),
                (Live, ticker(8)),
            ],
        );
        assert_eq!(got, [5, 7, 8]);
    }

    #[test]
    fn abort_returns_handed_over_streams_to_the_old_connection() {
        let mut h = Handover::new(BinanceMarket::Futures, 1, &[I]);
        run(&mut h, &[(Live, futures(5, 6, 10))]);
        h.begin();
        let got = run(
            &mut h,
            &[(Next, futures(10, 11, 20)), (Live, futures(10, 11, 20))],
        );
        assert_eq!(got, [20]);
        assert!(h.complete());
        h.abort();
        // The old connection is behind: what was published is dropped, then it continues.
        let got = run(
            &mut h,
            &[(Live, futures(10, 11, 20)), (Live, futures(20, 21, 30))],
        );
        assert_eq!(got, [30]);
        assert!(!h.active());
    }

    #[test]
    fn the_new_connection_alone_completes_the_handover_when_its_run_chains() {
        let mut h = Handover::new(BinanceMarket::Futures, 1, &[I]);
        run(&mut h, &[(Live, futures(5, 6, 10))]);
        h.begin();
        // The old connection is silent: the run held from the new one chains onto 10.
        let mut got = run(
            &mut h,
            &[
                (Next, futures(10, 11, 20)),
                (Next, futures(20, 21, 30)),
                (Next, futures(30, 31, 40)),
            ],
        );
        assert!(h.complete());
        h.promote(|e| got.push(e.last_id));
        assert_eq!(got, [20, 30, 40], "nothing more at the promotion");
        let got = run(&mut h, &[(Live, futures(40, 41, 50))]);
        assert_eq!(got, [50]);
    }

    #[test]
    fn stale_held_events_are_dropped_before_the_chain_is_checked() {
        let mut h = Handover::new(BinanceMarket::Spot, 1, &[I]);
        run(&mut h, &[(Live, spot(1, 10))]);
        h.begin();
        // A straddling event keeps the stream from chaining until the old one passes it.
        let got = run(
            &mut h,
            &[
                (Next, spot(9, 12)),
                (Next, spot(13, 15)),
                (Next, spot(16, 18)),
                (Live, spot(11, 15)),
            ],
        );
        assert_eq!(
            got,
            [15, 18],
            "16..18 chains onto 15; 9..12 and 13..15 are stale"
        );
        assert!(h.complete());
    }

    #[test]
    fn forced_promote_publishes_what_is_held_and_leaves_the_check_to_the_sequencer() {
        let mut h = Handover::new(BinanceMarket::Spot, 1, &[I]);
        run(&mut h, &[(Live, spot(1, 10))]);
        h.begin();
        let mut got = run(&mut h, &[(Next, spot(9, 12))]);
        assert!(got.is_empty() && !h.complete());
        h.promote(|e| got.push(e.last_id));
        assert_eq!(got, [12], "the straddling 9..12 goes to the sequencer");
        assert!(!h.active());
    }

    #[test]
    fn a_new_connection_behind_the_old_takes_over_at_once_and_catches_up() {
        let f = futures;
        let before = [
            (Live, f(5, 6, 10)),
            (Live, f(10, 11, 20)),
            (Live, f(20, 21, 30)),
        ];
        let mut h = Handover::new(BinanceMarket::Futures, 1, &[I]);
        run(&mut h, &before);
        h.begin();
        let got = run(&mut h, &[(Next, f(10, 11, 20))]);
        assert!(got.is_empty());
        assert!(
            h.complete(),
            "an event already published proves the new one has the rest"
        );
        let got = run(
            &mut h,
            &[
                (Live, f(30, 31, 40)),
                (Next, f(20, 21, 30)),
                (Next, f(30, 31, 40)),
            ],
        );
        assert_eq!(
            got,
            [40],
            "the old one's 40 is dropped, the new one's published"
        );
        // Promoted while still behind: it keeps dropping what was published.
        let mut h = Handover::new(BinanceMarket::Futures, 1, &[I]);
        run(&mut h, &before);
        h.begin();
        run(&mut h, &[(Next, f(5, 6, 10))]);
        h.promote(|_| panic!("nothing was held"));
        let got = run(
            &mut h,
            &[
                (Live, f(10, 11, 20)),
                (Live, f(20, 21, 30)),
                (Live, f(30, 31, 40)),
            ],
        );
        assert_eq!(got, [40]);
    }

    #[test]
    fn a_stream_still_rejoining_does_not_publish_twice_in_the_next_handover() {
        let mut h = Handover::new(BinanceMarket::Futures, 1, &[I]);
        run(&mut h, &[(Live, futures(5, 6, 10))]);
        h.begin();
        assert_eq!(run(&mut h, &[(Next, futures(10, 11, 20))]), [20]);
        h.abort();
        h.begin();
        // The old connection is still behind what the failed one published.
        let got = run(
            &mut h,
            &[(Live, futures(10, 11, 20)), (Live, futures(20, 21, 30))],
        );
        assert_eq!(got, [30]);
    }

    #[test]
    fn holding_is_bounded() {
        let mut h = Handover::new(BinanceMarket::Futures, 1, &[I]);
        run(&mut h, &[(Live, futures(0, 1, 1))]);
        h.begin();
        for k in 0..(HOLD_CHUNKS as u64 * 3) {
            let ev = futures(10 + k as i64, 11 + k, 11 + k);
            assert_ne!(h.admit(Next, &ev), Verdict::Publish);
        }
        assert!(h.streams[0].held.len() <= HOLD_CHUNKS);
        assert_eq!(h.streams[0].held.capacity(), HOLD_CHUNKS);
    }
}
