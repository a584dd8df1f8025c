//! The order lane allocates nothing per request after warm-up: creates and cancels over
//! `http://` against the simulator (its threads not counted), with a counting allocator
//! counting this thread's allocations across the whole `create_order` + `cancel_order` calls —
//! gate, pacing, nonce, template, signing, the request write, the response read, `parse_order`.
//! The error path is not on it: a venue error builds an owned message (`classify_error`).

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use arbline::model::{ClientOid, Fixed, OrderType, Side, WalletType};
use arbline::pipeline::EngineClock;
use arbline::sim::max_rest::{MaxRestSim, SimMarket};
use arbline::venue::max::MaxSigner;
use arbline::venue::max::rest_client::{MaxRestClient, NewOrder, OrderRef};
use counting_alloc::allocations;
use std::time::Duration;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

const WARM: usize = 50;
const MEASURED: usize = 300;

#[test]
fn creates_and_cancels_allocate_nothing_once_warm() {
    let sim = MaxRestSim::start("127.0.0.1:0", &[("k", "s")], vec![SimMarket::usdttwd()]).unwrap();
    let mut c = MaxRestClient::new(
        &sim.base_url(),
        MaxSigner::new("k", "s"),
        Duration::from_secs(5),
    )
    .with_rate_limit(100_000_000, 100_000, 0)
    .with_clock(EngineClock::new());
    c.prepare_orders([(WalletType::Spot, "usdttwd")]);
    // Every client id made up front: making them allocates.
    let oids: Vec<ClientOid> = (0..WARM + MEASURED)
        .map(|i| ClientOid::from_bytes(format!("alloc_{i:06}").as_bytes()).unwrap())
        .collect();
    let price = Fixed::parse("31.5").unwrap();
    let mut round = |oid: &ClientOid| {
        let o = NewOrder {
            wallet: WalletType::Spot,
            market: "usdttwd",
            side: Side::Buy,
            ord_type: OrderType::Limit,
            price,
            volume: Fixed::from_int(100),
            client_oid: oid,
        };
        let placed = c.create_order(&o).expect("create");
        c.cancel_order(OrderRef::Id(placed.id)).expect("cancel");
    };
    for oid in &oids[..WARM] {
        round(oid);
    }
    counting_alloc::assert_counting();
    let before = allocations();
    for oid in &oids[WARM..] {
        round(oid);
    }
    let allocs = allocations() - before;
    assert_eq!(
        allocs, 0,
        "{allocs} allocations over {MEASURED} creates + cancels"
    );
    assert_eq!(c.order_lane_connects(), 1);
}
