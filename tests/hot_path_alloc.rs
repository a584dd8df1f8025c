//! The hot path allocates nothing per event after warm-up.
//!
//! The whole in-process pipeline — synthetic venue frames through the real parsers, the book
//! stage, the scanners, the order manager and the execution venue's answers — is driven on this
//! one thread, and a counting global allocator counts every allocation this thread makes.
//! Error paths (a venue's error reply, a malformed frame) may allocate their message; the
//! happy path may not. Neither may a parked feed thread's readiness wait.

use arbline::config::Config;
use arbline::engine;
use arbline::pipeline::{Readiness, Stage, WaitFd};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
thread_local! {
    static COUNT_HERE: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator; counting touches only an atomic and a const
// thread-local that needs no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNT_HERE.with(|c| c.get()) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if COUNT_HERE.with(|c| c.get()) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_pipeline_allocates_nothing_per_event_after_warm_up() {
    let mut cfg = Config::default();
    // Busy markets and fast fills, so every path (signals, orders, acks, fills, cancels) runs.
    cfg.sim.jump_probability_per_s = 4.0;
    cfg.sim.latency_min_ms = 2;
    cfg.sim.latency_max_ms = 8;
    cfg.sim.duplicate_fill_probability = 0.2;
    // A venue error reply is classified with its message text (a `String`): the reject path
    // allocates by design, so the measured window has no rejects.
    cfg.sim.reject_probability = 0.0;
    for a in &mut cfg.scanner.arbitrage {
        a.cooldown_ms = 50;
        a.min_samples = 10;
    }
    let built = engine::build(&cfg, false).unwrap();
    let counters = built.counters.clone();
    let (mut feed, mut book, mut scanner, mut order) =
        (built.feeds, built.book, built.scanner, built.order);
    let mut run = |d: Duration| {
        let end = Instant::now() + d;
        while Instant::now() < end {
            feed.iter_mut().for_each(|f| {
                f.poll();
            });
            book.poll();
            scanner.poll();
            order.poll();
        }
    };
    run(Duration::from_secs(3));
    let (md0, orders0, fills0) = (
        counters.md.get(),
        counters.orders_sent.get(),
        counters.fills.get(),
    );
    COUNT_HERE.with(|c| c.set(true));
    run(Duration::from_secs(4));
    COUNT_HERE.with(|c| c.set(false));
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let (md, orders, fills) = (
        counters.md.get() - md0,
        counters.orders_sent.get() - orders0,
        counters.fills.get() - fills0,
    );
    assert!(md > 1_000, "market data flowed: {md}");
    assert!(
        orders > 0 && fills > 0,
        "orders and fills flowed: {orders} orders, {fills} fills"
    );
    assert_eq!(
        allocations, 0,
        "{allocations} allocations while processing {md} md events, {orders} orders, {fills} fills"
    );
}

/// A parked feed thread waits in `epoll` and wakes on its socket over and over: after the first
/// waits (the `epoll` instance, the registration) that allocates nothing.
#[test]
fn the_readiness_wait_allocates_nothing_after_warm_up() {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut peer = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (mut ours, _) = l.accept().unwrap();
    ours.set_nonblocking(true).unwrap();
    let fd = WaitFd {
        fd: ours.as_raw_fd(),
        conn: 1,
    };
    let mut ready = Readiness::new();
    let mut buf = [0u8; 64];
    let mut round = |ready: &mut Readiness| {
        peer.write_all(b"frame").unwrap();
        assert!(ready.wait(Duration::from_secs(5), |out| out.push(fd)));
        while ours.read(&mut buf).is_ok() {}
    };
    for _ in 0..3 {
        round(&mut ready);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNT_HERE.with(|c| c.set(true));
    for _ in 0..50 {
        round(&mut ready);
    }
    COUNT_HERE.with(|c| c.set(false));
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(allocations, 0, "{allocations} allocations in 50 waits");
}
