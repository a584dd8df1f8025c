//! The socket path allocates nothing per frame after warm-up: the MAX public and the Binance
//! futures feeds reading WebSocket frames off a real TCP socket from the simulators
//! (tungstenite's read, the byte scanners, the sequencing requests, publishing into the md
//! ring), each polled on this thread, with a counting allocator counting this thread's
//! allocations. The simulators (and the Binance feed's snapshot-fetching thread) run on their
//! own threads and are not counted.
//!
//! Over `wss://` too, as production runs: each feed connects through `feed::ws_conn::connect`
//! with the test CA as its `TlsTrust` to a TLS-terminating proxy in front of the simulator
//! (`support/tls_proxy.rs`, its threads not counted), so rustls decrypts on this thread.
//! There the count is bounded, not zero: rustls 0.23 allocates per TLS record, inside its
//! buffered connection, in ways no configuration changes (see [`TLS_ALLOCS_PER_FRAME`]).
//! Everything above the TLS read is the same code as over `ws://`, where the count is zero.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/tls_proxy.rs"]
mod tls_proxy;
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
use arbline::venue::tls::TlsTrust;
use counting_alloc::allocations;
use std::sync::Arc;
use tls_proxy::{Pki, TlsProxy, upstream};
use wait::{PATIENCE, spin_within};

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// What reading over `wss://` may allocate per frame after warm-up, all of it inside rustls
/// 0.23's buffered connection (`StreamOwned` over `ClientConnection`), seen in backtraces from
/// the counting allocator:
/// - one `Vec` per TLS application-data record: the record is decrypted in place in rustls'
///   receive buffer, then copied into a fresh `Vec` queued as received plaintext
///   (`CommonState::take_received_plaintext` → `Payload::into_vec`);
/// - a `realloc` growing that receive buffer (`DeframerVecBuffer::prepare_read`) when a record
///   straddles one of its 4 KiB socket reads, and one shrinking it back to 4 KiB when the next
///   read finds it empty.
///
/// A record carries one whole frame or several (the proxy, like a venue's server, encrypts what
/// it has at once), so a small record costs at most 1 + 1 + 1 = 3, and a record bigger than
/// 4 KiB (up to three grows) carries several frames, or a big one (a snapshot: rare after
/// warm-up). No setting of `ClientConfig` sizes or keeps that buffer, and rustls' unbuffered
/// API still copies each record into a `Vec` (`ReadTraffic::next_record` pops the same queue).
/// Measured: about 0.5 to 0.75 per frame. An allocation per frame in arbline's own code (the
/// same above the TLS read as over `ws://`) shows in the plain tests, whose bound is zero.
const TLS_ALLOCS_PER_FRAME: u64 = 3;

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

/// The MAX public feed on `url`, and the poller of its md ring.
fn max_feed(url: String, tls: TlsTrust, counters: &Arc<EngineCounters>) -> (MaxWsFeed, MdPoller) {
    let cfg = Config::default();
    let rings = Rings::new(cfg.ring_sizes());
    let (tx, _rx) = telemetry_queue("t", 1 << 16);
    let (md, md_poll) = rings.md;
    let feed = MaxWsFeed::new(MaxWsFeedParts {
        url,
        tls,
        instruments: cfg.instruments().unwrap(),
        md,
        resync: Arc::new(ResyncRequests::default()),
        clock: EngineClock::new(),
        counters: counters.clone(),
        tele: tx,
        shutdown: Shutdown::new(),
    });
    (feed, md_poll)
}

/// The Binance futures feed on `ws_url` (snapshots from `rest_url`), and the poller of its md
/// ring.
fn binance_feed(
    ws_url: String,
    tls: TlsTrust,
    rest_url: String,
    counters: &Arc<EngineCounters>,
) -> (BinanceWsFeed, MdPoller) {
    let cfg = Config::default();
    let rings = Rings::new(cfg.ring_sizes());
    let (tx, _rx) = telemetry_queue("t", 1 << 16);
    let (md, md_poll) = rings.md;
    let feed = BinanceWsFeed::new(BinanceWsFeedParts {
        market: BinanceMarket::Futures,
        ws_url,
        tls,
        rest_url,
        instruments: cfg.instruments().unwrap(),
        md,
        resync: Arc::new(ResyncRequests::default()),
        clock: EngineClock::new(),
        counters: counters.clone(),
        tele: tx,
        shutdown: Shutdown::new(),
        rotate_after: None,
    });
    (feed, md_poll)
}

#[test]
fn the_max_feed_reads_frames_off_its_socket_without_allocating_after_warm_up() {
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let counters = Arc::new(EngineCounters::default());
    let (mut feed, mut md_poll) = max_feed(sim.url(), Default::default(), &counters);
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
    let counters = Arc::new(EngineCounters::default());
    let (mut feed, mut md_poll) = binance_feed(
        sim.ws_base(),
        Default::default(),
        sim.rest_base(),
        &counters,
    );
    let (allocs, frames) = allocations_after_warm_up(&mut feed, &mut md_poll, &counters);
    assert_eq!(
        allocs, 0,
        "{allocs} allocations while reading {frames} frames off the socket"
    );
}

#[test]
fn the_max_feed_over_wss_allocates_within_the_tls_bound_after_warm_up() {
    let pki = Pki::new("alloc-max");
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let proxy = TlsProxy::start(upstream(&sim.url()), pki.server.clone());
    let counters = Arc::new(EngineCounters::default());
    let (mut feed, mut md_poll) = max_feed(proxy.url(), pki.trust(), &counters);
    let (allocs, frames) = allocations_after_warm_up(&mut feed, &mut md_poll, &counters);
    assert_within_the_tls_bound("MAX", allocs, frames);
}

#[test]
fn the_binance_feed_over_wss_allocates_within_the_tls_bound_after_warm_up() {
    let cfg = Config::default();
    let pki = Pki::new("alloc-binance");
    let sim = BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg.sim).unwrap();
    let proxy = TlsProxy::start(upstream(&sim.ws_base()), pki.server.clone());
    let counters = Arc::new(EngineCounters::default());
    let (mut feed, mut md_poll) =
        binance_feed(proxy.base(), pki.trust(), sim.rest_base(), &counters);
    let (allocs, frames) = allocations_after_warm_up(&mut feed, &mut md_poll, &counters);
    assert_within_the_tls_bound("Binance", allocs, frames);
}

fn assert_within_the_tls_bound(feed: &str, allocs: u64, frames: u64) {
    eprintln!(
        "{feed} over wss://: {allocs} allocations while reading {frames} frames ({:.2} per frame)",
        allocs as f64 / frames as f64
    );
    assert!(
        allocs <= TLS_ALLOCS_PER_FRAME * frames,
        "{feed}: {allocs} allocations while reading {frames} frames over wss://: more than \
         {TLS_ALLOCS_PER_FRAME} per frame, rustls' own (see TLS_ALLOCS_PER_FRAME)"
    );
}
