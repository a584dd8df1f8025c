//! One ring hop, measured as half a ping-pong round trip between two pinned, busy-spinning
//! threads, for the ring arbline uses (disruptor SPSC with an event poller, as the stages poll
//! it) beside its competitors and the hardware floor, all in the same run:
//!
//! - `raw_atomic_floor`: two cache-padded atomics, Release store / Acquire spin — one cache-line
//!   transfer each way, the floor any queue can reach;
//! - `disruptor_poller`: arbline's ring, `try_publish` + `EventPoller::take`;
//! - `crossbeam_channel`: bounded crossbeam channel, `try_send` / `try_recv` spin;
//! - `std_sync_channel`: `std::sync::mpsc::sync_channel`, `try_send` / `try_recv` spin.
//!
//! Implementations are interleaved over several rounds, so machine noise (this VM moves its
//! vCPUs) hits them alike; the ratio to the floor within a round is the robust figure.
//!
//! Run: `cargo bench --bench ring_hop` (env `HOP_ROUNDS`, `HOP_ITERS` to change the size).

#[path = "common.rs"]
mod common;

use crossbeam::utils::CachePadded;
use disruptor::{BusySpin, Polling, Producer, build_single_producer};
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

#[derive(Default, Clone, Copy)]
struct Ev {
    v: u64,
}

/// The host's cores, read once before any thread is pinned: a pinned thread (and every thread
/// it spawns) sees only its own core in `get_core_ids`.
static CORES: std::sync::OnceLock<Vec<core_affinity::CoreId>> = std::sync::OnceLock::new();

fn pin(core: usize) {
    let ids = CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default());
    if let Some(id) = ids.get(core % ids.len().max(1)) {
        core_affinity::set_for_current(*id);
    }
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000, 3).unwrap()
}

/// Times `iters` round trips after `warmup`, recording RTT/2 in ns.
fn measure(iters: u64, warmup: u64, mut round_trip: impl FnMut(u64)) -> Histogram<u64> {
    let clock = quanta::Clock::new();
    let mut h = new_hist();
    for i in 0..warmup {
        round_trip(i);
    }
    for i in 0..iters {
        let t0 = clock.raw();
        round_trip(i);
        let t1 = clock.raw();
        let _ = h.record((clock.delta_as_nanos(t0, t1) / 2).max(1));
    }
    h
}

fn raw_floor(iters: u64, warmup: u64) -> Histogram<u64> {
    let ping = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let pong = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let (pi, po, st) = (ping.clone(), pong.clone(), stop.clone());
    let echo = thread::spawn(move || {
        pin(1);
        let mut last = 0;
        while !st.load(Ordering::Relaxed) {
            let v = pi.load(Ordering::Acquire);
            if v != last {
                last = v;
                po.store(v, Ordering::Release);
            }
            std::hint::spin_loop();
        }
    });
    pin(0);
    let h = measure(iters, warmup, |i| {
        let v = i + 1 + warmup * 2;
        ping.store(v, Ordering::Release);
        while pong.load(Ordering::Acquire) != v {
            std::hint::spin_loop();
        }
    });
    stop.store(true, Ordering::Relaxed);
    echo.join().unwrap();
    h
}

fn disruptor_poller(iters: u64, warmup: u64) -> Histogram<u64> {
    let (mut fwd_poll, b) = build_single_producer(1024, Ev::default, BusySpin).new_event_poller();
    let mut fwd = b.build();
    let (mut back_poll, b) = build_single_producer(1024, Ev::default, BusySpin).new_event_poller();
    let back = b.build();
    let echo = thread::spawn(move || {
        pin(1);
        let mut back = back;
        loop {
            match fwd_poll.take(64) {
                Ok(mut evs) => {
                    for e in &mut evs {
                        let v = e.v;
                        while back.try_publish(|x| x.v = v).is_err() {
                            std::hint::spin_loop();
                        }
                    }
                }
                Err(Polling::NoEvents) => std::hint::spin_loop(),
                Err(Polling::Shutdown) => break,
            }
        }
    });
    pin(0);
    let h = measure(iters, warmup, |i| {
        while fwd.try_publish(|x| x.v = i).is_err() {
            std::hint::spin_loop();
        }
        loop {
            match back_poll.take(1) {
                Ok(mut evs) => {
                    if (&mut evs).next().is_some() {
                        break;
                    }
                }
                Err(_) => std::hint::spin_loop(),
            }
        }
    });
    drop(fwd);
    echo.join().unwrap();
    h
}

fn crossbeam_channel(iters: u64, warmup: u64) -> Histogram<u64> {
    let (tx, rx) = crossbeam::channel::bounded::<u64>(1024);
    let (btx, brx) = crossbeam::channel::bounded::<u64>(1024);
    let echo = thread::spawn(move || {
        pin(1);
        loop {
            match rx.try_recv() {
                Ok(v) => while btx.try_send(v).is_err() {},
                Err(crossbeam::channel::TryRecvError::Empty) => std::hint::spin_loop(),
                Err(_) => break,
            }
        }
    });
    pin(0);
    let h = measure(iters, warmup, |i| {
        while tx.try_send(i).is_err() {}
        while brx.try_recv().is_err() {
            std::hint::spin_loop();
        }
    });
    drop(tx);
    echo.join().unwrap();
    h
}

fn std_sync_channel(iters: u64, warmup: u64) -> Histogram<u64> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<u64>(1024);
    let (btx, brx) = std::sync::mpsc::sync_channel::<u64>(1024);
    let echo = thread::spawn(move || {
        pin(1);
        loop {
            match rx.try_recv() {
                Ok(v) => while btx.try_send(v).is_err() {},
                Err(std::sync::mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
                Err(_) => break,
            }
        }
    });
    pin(0);
    let h = measure(iters, warmup, |i| {
        while tx.try_send(i).is_err() {}
        while brx.try_recv().is_err() {
            std::hint::spin_loop();
        }
    });
    drop(tx);
    echo.join().unwrap();
    h
}

fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

type Impl = (&'static str, fn(u64, u64) -> Histogram<u64>);

fn main() {
    // `cargo test --all-targets` runs benches once with `--bench` absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default());
    let rounds = if quick { 1 } else { env_u64("HOP_ROUNDS", 7) };
    let iters = if quick {
        2_000
    } else {
        env_u64("HOP_ITERS", 200_000)
    };
    let warmup = iters / 5;
    let impls: [Impl; 4] = [
        ("raw_atomic_floor", raw_floor),
        ("disruptor_poller", disruptor_poller),
        ("crossbeam_channel", crossbeam_channel),
        ("std_sync_channel", std_sync_channel),
    ];
    let cpu = common::cpu_model();
    println!(
        "ring hop (RTT/2), {rounds} rounds x {iters} round trips, cores 0<->1, busy spin; CPU: {cpu}"
    );
    let mut per_impl: Vec<Vec<(u64, u64, u64)>> = vec![Vec::new(); impls.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); impls.len()];
    for _ in 0..rounds {
        let mut floor_p50 = 1;
        for (k, (_, f)) in impls.iter().enumerate() {
            let h = f(iters, warmup);
            let p = (
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
            );
            if k == 0 {
                floor_p50 = p.0.max(1);
            }
            ratios[k].push(p.0 as f64 / floor_p50 as f64);
            per_impl[k].push(p);
        }
    }
    println!(
        "{:<20} {:>9} {:>9} {:>10} {:>14}",
        "impl", "p50 ns", "p99 ns", "p99.9 ns", "p50/floor"
    );
    for (k, (name, _)) in impls.iter().enumerate() {
        let med = |mut v: Vec<u64>| {
            v.sort_unstable();
            v[v.len() / 2]
        };
        let mut r = ratios[k].clone();
        r.sort_by(|a, b| a.total_cmp(b));
        println!(
            "{:<20} {:>9} {:>9} {:>10} {:>14.2}",
            name,
            med(per_impl[k].iter().map(|p| p.0).collect()),
            med(per_impl[k].iter().map(|p| p.1).collect()),
            med(per_impl[k].iter().map(|p| p.2).collect()),
            r[r.len() / 2]
        );
    }
    println!("(medians over rounds; p50/floor is the median of per-round ratios)");
}
