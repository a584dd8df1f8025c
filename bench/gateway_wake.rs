//! Order stage → gateway hand-off: how long a request waits in the gateway queue before the
//! gateway thread takes it, for the ways an idle gateway can wait, in the same run:
//!
//! - `park_unpark`: arbline's gateway (`GatewayQueue::park`, woken by the push);
//! - `sleep_200us`: the gateway before it — `sleep(200 µs)` between polls of the same queue;
//! - `yield` and `spin`: the other wait strategies (`spin` only means something with a core
//!   each; on a 2-vCPU VM it is shown for completeness).
//!
//! One request every `WAKE_GAP_US` (default 1 000 µs, an idle gateway between orders), pushed by
//! the main thread with its push time inside; the gateway thread records now − push time.
//! Strategies run interleaved over several rounds so the VM's noise hits them alike.
//!
//! Run: `cargo bench --bench gateway_wake` (env `WAKE_ROUNDS`, `WAKE_ORDERS`, `WAKE_GAP_US`).
//! `cargo test --benches` runs each once, briefly.

use arbline::model::OrderRequest;
use arbline::pipeline::gateway_queue::{GatewayQueue, gateway_queue};
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Way {
    ParkUnpark,
    Sleep200us,
    Yield,
    Spin,
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Pushes `orders` requests `gap` apart; returns the queueing delays (ns) the gateway saw.
fn run(way: Way, orders: u64, gap: Duration, clock: &quanta::Clock) -> Histogram<u64> {
    let q: GatewayQueue = gateway_queue(64);
    let stop = Arc::new(AtomicBool::new(false));
    let gw = {
        let (q, stop, clock) = (q.clone(), stop.clone(), clock.clone());
        std::thread::spawn(move || {
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
            loop {
                match q.pop() {
                    // The last push only wakes the thread to stop.
                    Some(req) if req.ts_handed == 0 => {}
                    Some(req) => {
                        let now = clock.raw();
                        let _ = h.record(clock.delta_as_nanos(req.ts_handed, now).max(1));
                    }
                    None if stop.load(Ordering::Acquire) => return h,
                    None => match way {
                        Way::ParkUnpark => q.park(Duration::from_millis(1)),
                        Way::Sleep200us => std::thread::sleep(Duration::from_micros(200)),
                        Way::Yield => std::thread::yield_now(),
                        Way::Spin => std::hint::spin_loop(),
                    },
                }
            }
        })
    };
    for _ in 0..orders {
        std::thread::sleep(gap);
        let req = OrderRequest {
            ts_handed: clock.raw(),
            ..Default::default()
        };
        if q.push(req).is_err() {
            panic!("the queue of 64 filled up: the gateway thread does not run");
        }
    }
    stop.store(true, Ordering::Release);
    q.push(OrderRequest::default()).ok();
    gw.join().expect("gateway thread")
}

fn main() {
    // `cargo test --benches` passes no `--bench`: run briefly as a check.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 1 } else { env("WAKE_ROUNDS", 5) };
    let orders = if quick { 50 } else { env("WAKE_ORDERS", 400) };
    let gap = Duration::from_micros(env("WAKE_GAP_US", 1_000));
    let clock = quanta::Clock::new();
    let ways = [Way::ParkUnpark, Way::Sleep200us, Way::Yield, Way::Spin];
    let mut all: Vec<Histogram<u64>> = ways
        .iter()
        .map(|_| Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap())
        .collect();
    for _ in 0..rounds {
        for (w, h) in ways.iter().zip(&mut all) {
            h.add(run(*w, orders, gap, &clock)).unwrap();
        }
    }
    println!(
        "gateway wake-up: {rounds} rounds x {orders} requests, one every {} us; CPU: {}; cores: {}",
        gap.as_micros(),
        arbline::telemetry::run_info::cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!(
        "{:<14} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "wait", "count", "p50 us", "p90 us", "p99 us", "max us"
    );
    for (w, h) in ways.iter().zip(&all) {
        let us = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
        println!(
            "{:<14} {:>8} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            format!("{w:?}"),
            h.len(),
            us(0.5),
            us(0.9),
            us(0.99),
            h.max() as f64 / 1_000.0
        );
    }
}
