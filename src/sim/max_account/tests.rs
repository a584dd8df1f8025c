//! Unit tests of the simulated MAX account (`mod.rs`).
use super::*;
use crate::model::Level;

fn cfg() -> SimConfig {
    SimConfig {
        latency_min_ms: 0,
        latency_max_ms: 0,
        reject_probability: 0.0,
        duplicate_fill_probability: 1.0,
        ..SimConfig::default()
    }
}

fn lvl(p: i64, q: i64) -> Level {
    Level {
        price: Fixed::from_int(p),
        qty: Fixed::from_int(q),
    }
}

fn order(
    side: Side,
    ord_type: OrderType,
    price: i64,
    volume: i64,
    oid: &str,
) -> NewVenueOrder<'static> {
    NewVenueOrder {
        wallet: WalletType::Spot,
        market: "btcusdt",
        side,
        ord_type,
        price: Fixed::from_int(price),
        volume: Fixed::from_int(volume),
        client_oid: ClientOid::from_bytes(oid.as_bytes()).unwrap_or_default(),
    }
}

#[test]
fn an_ioc_fills_after_the_ack_and_a_duplicate_trade_is_sent_twice_but_recorded_once() {
    let acct = MaxAccount::new(&cfg()).unwrap();
    let (tx, rx) = crossbeam::channel::unbounded();
    acct.subscribe(tx);
    let o = acct
        .create(&order(Side::Buy, OrderType::IocLimit, 101, 2, "a1"))
        .unwrap();
    assert_eq!(o.state, "wait");
    acct.poll(|_| Some((lvl(100, 5), lvl(101, 5))));
    let frames: Vec<String> = rx
        .try_iter()
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .collect();
    assert_eq!(
        frames.iter().filter(|f| f.contains("trade_update")).count(),
        2
    );
    assert!(
        frames.iter().any(|f| f.contains("\"S\":\"done\"")),
        "{frames:?}"
    );
    assert_eq!(acct.trades(WalletType::Spot, None, None, 50).len(), 1);
    assert_eq!(acct.duplicates_sent(), 1);
    let b = acct.balances(WalletType::Spot);
    let btc = b.iter().find(|x| x.0.to_lowercase() == "btc").unwrap();
    assert_eq!(btc.1, Fixed::from_int(12));
}

#[test]
fn a_spot_order_the_wallet_cannot_fund_is_refused() {
    let acct = MaxAccount::new(&cfg()).unwrap();
    // 10 BTC and 300 000 USDT to start.
    let refused = |r: Result<VenueOrder, Refusal>| r.err().map(|e| e.1);
    assert_eq!(
        refused(acct.create(&order(Side::Sell, OrderType::Limit, 100, 11, "s1"))),
        Some(2018)
    );
    assert!(
        acct.create(&order(Side::Sell, OrderType::Limit, 100, 10, "s2"))
            .is_ok()
    );
    assert_eq!(
        refused(acct.create(&order(Side::Sell, OrderType::Limit, 100, 1, "s3"))),
        Some(2018),
        "the 10 are locked by s2"
    );
    assert_eq!(
        refused(acct.create(&order(Side::Buy, OrderType::Limit, 100_000, 4, "b1"))),
        Some(2018)
    );
}

#[test]
fn selling_all_of_a_coin_never_shows_a_negative_balance() {
    let acct = MaxAccount::new(&SimConfig {
        duplicate_fill_probability: 0.0,
        ..cfg()
    })
    .unwrap();
    let (tx, rx) = crossbeam::channel::unbounded();
    acct.subscribe(tx);
    // All 10 BTC, through the bid.
    acct.create(&order(Side::Sell, OrderType::IocLimit, 100, 10, "all"))
        .unwrap();
    acct.poll(|_| Some((lvl(100, 50), lvl(101, 50))));
    let frames: Vec<String> = rx
        .try_iter()
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .collect();
    let updates: Vec<&String> = frames
        .iter()
        .filter(|f| f.contains("account_update"))
        .collect();
    assert!(!updates.is_empty(), "{frames:?}");
    for f in updates {
        assert!(
            !f.contains("\"av\":\"-"),
            "a negative available balance: {f}"
        );
    }
}

#[test]
fn a_fill_prints_once_on_the_public_tape_without_user_fields() {
    let acct = MaxAccount::new(&cfg()).unwrap();
    acct.create(&order(Side::Buy, OrderType::IocLimit, 101, 2, "p1"))
        .unwrap();
    let mut prints = Vec::new();
    acct.poll_prints(
        |_| Some((lvl(100, 5), lvl(101, 5))),
        |m, t| prints.push((m, t)),
    );
    // The duplicate trade_update (probability 1) is not a second print.
    assert_eq!(prints.len(), 1, "{prints:?}");
    let (m, t) = prints[0];
    assert_eq!(m.to_lowercase(), "btcusdt");
    assert_eq!(
        (t.price, t.volume),
        (Fixed::from_int(101), Fixed::from_int(2))
    );
    assert_eq!(t.taker_side, Side::Buy, "our IOC took the ask");
}

#[test]
fn a_cancel_never_overtakes_its_order_and_locks_are_released() {
    let acct = MaxAccount::new(&SimConfig {
        latency_min_ms: 5,
        latency_max_ms: 5,
        ..cfg()
    })
    .unwrap();
    let o = acct
        .create(&order(Side::Buy, OrderType::Limit, 90, 1, "r1"))
        .unwrap();
    let usdt_locked = |a: &MaxAccount| {
        a.balances(WalletType::Spot)
            .into_iter()
            .find(|x| x.0.to_lowercase() == "usdt")
            .unwrap()
            .2
    };
    assert_eq!(usdt_locked(&acct), Fixed::from_int(90));
    acct.cancel(OrderKey::Id(o.id)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    acct.poll(|_| Some((lvl(100, 5), lvl(101, 5))));
    assert_eq!(acct.get(OrderKey::ClientOid("r1")).unwrap().state, "cancel");
    assert_eq!(usdt_locked(&acct), Fixed::ZERO);
    assert_eq!(
        acct.cancel(OrderKey::Id(o.id)),
        Err((400, 2003, "Failed to cancel order"))
    );
    assert_eq!(
        acct.cancel(OrderKey::Id(7)),
        Err((404, 2004, "Order doesn't exist"))
    );
    assert_eq!(
        acct.create(&order(Side::Buy, OrderType::Limit, 90, 1, "r1")),
        Err((400, 2036, "client_oid already used"))
    );
}
