//! The socket path allocates nothing per frame after warm-up: the MAX public and the Binance
//! futures feeds reading WebSocket frames off a real TCP socket from the simulators
//! (tungstenite's read, the byte scanners, the sequencing requests, publishing into the md
//! ring), each polled on this thread, with a counting allocator counting this thread's
//! allocations. The simulators (and the Binance feed's snapshot-fetching thread) run on their
//! own threads and are not counted. Plain `ws://`: the TLS path is not covered here.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/wait.rs"]
mod wait;

use arbline::config::Config;
use arbline::feed::binance_ws_feed::{BinanceWsFeed, BinanceWsFeedParts};
use arbline::feed::max_ws_feed::{MaxWsFeed, MaxWsFeedParts};
use arbline::pipeline::board::ResyncRequests;
use arbline::pipeline::ring::MdPoller;
use arbline::pipeline::{EngineClock, Rings, Shutdown, Stage};
use arbline::sim::binance_ws::BinanceSim;
use arbline::sim::max_ws::MaxWsSim;
use arbline::telemetry::{EngineCounters, telemetry_queue};
use arbline::venue::binance::BinanceMarket;
use counting_alloc::allocations;
use std::sync::Arc;
use wait::{PATIENCE, spin_within};

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// Polls `feed` on this thread until 500 md events (warm-up: connected, subscribed,
/// snapshots in, buffers grown), then counts this thread's allocations over 1 000 more md
/// events and 200 more frames.
fn allocations_after_warm_up(
    feed: &mut impl Stage,
    md_poll: &mut MdPoller,
    counters: &EngineCounters,
) -> (u64, u64) {
    let mut round = || {
        feed.poll();
        while md_poll.take(4096).is_ok() {}
    };
    assert!(
        spin_within(PATIENCE, || {
            round();
            counters.md.get() > 500
        }),
        "gave up after {PATIENCE:?} waiting for 500 md events"
    );
    counting_alloc::assert_counting();
    let (frames0, md0) = (counters.frames.get(), counters.md.get());
    let before = allocations();
    assert!(
        spin_within(PATIENCE, || {
            round();
            counters.md.get() > md0 + 1_000 && counters.frames.get() > frames0 + 200
        }),
        "gave up after {PATIENCE:?} waiting for 1 000 more md events and 200 more frames"
    );
    let allocs = allocations() - before;
    let frames = counters.frames.get() - frames0;
    assert!(
        frames > 200,
        "frames were read in the measured window: {frames}"
    );
    assert_eq!(counters.parse_errors.get(), 0);
    (allocs, frames)
}

#[test]
fn the_max_feed_reads_frames_off_its_socket_without_allocating_after_warm_up() {
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let cfg = Config::default();
    let rings = Rings::new(cfg.ring_sizes());
    let counters = Arc::new(EngineCounters::default());
    let (tx, _rx) = telemetry_queue("t", 1 << 16);
    let (md, mut md_poll) = rings.md;
    let mut feed = MaxWsFeed::new(MaxWsFeedParts {
        url: sim.url(),
        tls: Default::default(),
        instruments: cfg.instruments().unwrap(),
        md,
        resync: Arc::new(ResyncRequests::default()),
        clock: EngineClock::new(),
        counters: counters.clone(),
        tele: tx,
        shutdown: Shutdown::new(),
    });
    let (allocs, frames) = allocations_after_warm_up(&mut feed, &mut md_poll, &counters);
    assert_eq!(
        allocs, 0,
        "{allocs} allocations while reading {frames} frames off the socket"
    );
}

#[test]
fn the_binance_feed_reads_frames_off_its_socket_without_allocating_after_warm_up() {
    let cfg = Config::default();
    let sim = BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg.sim).unwrap();
    let rings = Rings::new(cfg.ring_sizes());
    let counters = Arc::new(EngineCounters::default());
    let (tx, _rx) = telemetry_queue("t", 1 << 16);
    let (md, mut md_poll) = rings.md;
    let mut feed = BinanceWsFeed::new(BinanceWsFeedParts {
        market: BinanceMarket::Futures,
        ws_url: sim.ws_base(),
        tls: Default::default(),
        rest_url: sim.rest_base(),
        instruments: cfg.instruments().unwrap(),
        md,
        resync: Arc::new(ResyncRequests::default()),
        clock: EngineClock::new(),
        counters: counters.clone(),
        tele: tx,
        shutdown: Shutdown::new(),
        rotate_after: None,
    });
    let (allocs, frames) = allocations_after_warm_up(&mut feed, &mut md_poll, &counters);
    assert_eq!(
        allocs, 0,
        "{allocs} allocations while reading {frames} frames off the socket"
    );
}
