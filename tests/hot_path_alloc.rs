//! The hot path allocates nothing per event after warm-up.
//!
//! The whole in-process pipeline — synthetic venue frames through the real parsers, the book
//! stage, the scanners, the order manager and the execution venue's answers — is driven on this
//! one thread, and a counting global allocator counts every allocation this thread makes.
//! Error paths (a venue's error reply, a malformed frame) may allocate their message; the
//! happy path may not. Neither may a parked feed thread's readiness wait.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/stepped_engine.rs"]
mod stepped_engine;

use arbline::config::Config;
use arbline::pipeline::{Readiness, WaitFd};
use counting_alloc::allocations;
use std::time::Duration;
use stepped_engine::SteppedEngine;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

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
    // The stages run on this thread on the mocked clock: the same frames, signals and fills on
    // every run, however loaded the machine.
    let mut e = SteppedEngine::new(&cfg);
    let counters = e.built.counters.clone();
    // Warm-up: every path has run at least once and the buffers have grown to their size.
    e.run_ms(3_000, true);
    e.run_until("orders and fills in the warm-up", 60_000, true, |_| {
        counters.orders_sent.get() > 0 && counters.fills.get() > 0
    });
    let (md0, orders0, fills0) = (
        counters.md.get(),
        counters.orders_sent.get(),
        counters.fills.get(),
    );
    counting_alloc::assert_counting();
    let before = allocations();
    let measured_ms = e.run_until(
        "1 000 md events, an order and a fill in the measured window",
        120_000,
        true,
        |_| {
            counters.md.get() - md0 > 1_000
                && counters.orders_sent.get() > orders0
                && counters.fills.get() > fills0
        },
    );
    let allocations = allocations() - before;
    let (md, orders, fills) = (
        counters.md.get() - md0,
        counters.orders_sent.get() - orders0,
        counters.fills.get() - fills0,
    );
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {measured_ms} simulated ms while processing {md} md \
         events, {orders} orders, {fills} fills"
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
    counting_alloc::assert_counting();
    let before = allocations();
    for _ in 0..50 {
        round(&mut ready);
    }
    let allocations = allocations() - before;
    assert_eq!(allocations, 0, "{allocations} allocations in 50 waits");
}
