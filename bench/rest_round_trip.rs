//! A signed MAX REST order round trip over loopback: `POST /api/v3/wallet/spot/order` to the
//! simulator's MAX REST server and the reply parsed (create), then `DELETE /api/v3/order`
//! (cancel), over the order lane's keep-alive connection (`venue::max::order_http`) — what a
//! gateway thread spends per order. The create is also
//! split at the moment its bytes were written (the REST client's transport stamp, as
//! `wire_to_wire` uses it): `to_wire` = call → request written (checks, pacing, nonce, signing,
//! building the request), `answer` = written → reply parsed. Percentiles from HdrHistogram.
//!
//! Run: `cargo bench --bench rest_round_trip` (env `REST_N`, default 3000).

use arbline::model::{ClientOid, Fixed, OrderType, Side, WalletType};
use arbline::pipeline::EngineClock;
use arbline::sim::max_rest::{MaxRestSim, SimMarket};
use arbline::venue::max::MaxSigner;
use arbline::venue::max::rest_client::{MaxRestClient, NewOrder, OrderRef};
use hdrhistogram::Histogram;
use std::time::Duration;

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: u64 = if quick {
        50
    } else {
        std::env::var("REST_N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000)
    };
    let sim = MaxRestSim::start("127.0.0.1:0", &[("k", "s")], vec![SimMarket::usdttwd()]).unwrap();
    // The client-side rate limit is lifted: this measures the round trip, not the pacing.
    let c = MaxRestClient::new(
        &sim.base_url(),
        MaxSigner::new("k", "s"),
        Duration::from_secs(5),
    )
    .with_rate_limit(100_000_000, 100_000, 0);
    let clock = EngineClock::new();
    let mut c = c.with_clock(clock.clone());
    let hist = || Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).unwrap();
    let (mut create, mut cancel, mut to_wire, mut answer) = (hist(), hist(), hist(), hist());
    for i in 0..n + n / 10 {
        let oid = ClientOid::from_bytes(format!("bench_spot_{i}").as_bytes()).unwrap();
        let o = NewOrder {
            wallet: WalletType::Spot,
            market: "usdttwd",
            side: Side::Buy,
            ord_type: OrderType::Limit,
            price: Fixed::parse("31.5").unwrap(),
            volume: Fixed::from_int(100),
            client_oid: &oid,
        };
        let t0 = clock.raw();
        let placed = c.create_order(&o).expect("create");
        let t1 = clock.raw();
        let written = c.last_sent();
        c.cancel_order(OrderRef::Id(placed.id)).expect("cancel");
        let t2 = clock.raw();
        if i >= n / 10 {
            let _ = create.record(clock.delta_ns(t0, t1).max(1));
            let _ = cancel.record(clock.delta_ns(t1, t2).max(1));
            let _ = to_wire.record(clock.delta_ns(t0, written).max(1));
            let _ = answer.record(clock.delta_ns(written, t1).max(1));
        }
    }
    println!(
        "MAX REST round trip to the simulator over loopback, {n} orders (keep-alive, signed):"
    );
    println!(
        "{:<8} {:>10} {:>10} {:>10} {:>10}",
        "µs", "p50", "p99", "p99.9", "max"
    );
    for (name, h) in [
        ("create", &create),
        ("to_wire", &to_wire),
        ("answer", &answer),
        ("cancel", &cancel),
    ] {
        let q = |p: f64| h.value_at_quantile(p) as f64 / 1000.0;
        println!(
            "{name:<8} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            q(0.5),
            q(0.99),
            q(0.999),
            h.max() as f64 / 1000.0
        );
    }
}
