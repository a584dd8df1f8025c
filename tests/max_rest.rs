//! The MAX REST client against the simulator's MAX REST server, over real loopback sockets:
//! signed orders accepted, queried and cancelled; wrong secrets, replayed nonces, tampered
//! payloads and clock skew refused with MAX's codes.

use arbline::model::{ClientOid, Fixed, OrderState, OrderType, Side, WalletType};
use arbline::sim::max_rest::{MaxRestSim, SimMarket};
use arbline::venue::max::rest_client::{MaxRestClient, NewOrder, OrderRef, RestError};
use arbline::venue::max::{ErrorAction, MaxSigner};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[path = "support/max_fixture.rs"]
mod max_fixture;
#[path = "support/wait.rs"]
mod wait;

const KEY: &str = "sim-access-key";
const SECRET: &str = "sim-secret-key-0123456789";

fn sim() -> MaxRestSim {
    MaxRestSim::start("127.0.0.1:0", &[(KEY, SECRET)], vec![SimMarket::usdttwd()]).unwrap()
}

fn client(sim: &MaxRestSim, secret: &str) -> MaxRestClient {
    MaxRestClient::new(
        &sim.base_url(),
        MaxSigner::new(KEY, secret),
        Duration::from_secs(5),
    )
}

fn f(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn order<'a>(oid: &'a ClientOid, volume: &str) -> NewOrder<'a> {
    NewOrder {
        wallet: WalletType::Spot,
        market: "usdttwd",
        side: Side::Buy,
        ord_type: OrderType::Limit,
        price: f("31.5"),
        volume: f(volume),
        client_oid: oid,
    }
}

fn api_code(e: RestError) -> (Option<u32>, ErrorAction) {
    match e {
        RestError::Api(a) => (a.code, a.action),
        other => panic!("expected an API error, got {other}"),
    }
}

#[test]
fn a_signed_order_is_created_found_listed_and_cancelled() {
    let s = sim();
    let mut c = client(&s, SECRET);
    let oid = ClientOid::from_bytes(b"stable_coin_spot_1767225600000").unwrap();
    let o = c.create_order(&order(&oid, "100")).unwrap();
    assert_eq!(
        (o.client_oid, o.side, o.state, o.volume, o.price),
        (oid, Side::Buy, OrderState::New, f("100"), Some(f("31.5")))
    );
    let by_oid = c.get_order(OrderRef::ClientOid(&oid)).unwrap();
    assert_eq!(by_oid.id, o.id);
    assert_eq!(c.open_orders(WalletType::Spot, "usdttwd").unwrap().len(), 1);
    c.cancel_order(OrderRef::Id(o.id)).unwrap();
    // The cancel is queued (MAX: "a success reply means the request was accepted"); it takes
    // the venue latency.
    let mut state = OrderState::New;
    let cancelled = wait::within(wait::PATIENCE, || {
        state = c.get_order(OrderRef::Id(o.id)).unwrap().state;
        state == OrderState::Cancelled
    });
    assert!(
        cancelled,
        "gave up after {:?} waiting for the venue to cancel the order: still {state:?}",
        wait::PATIENCE
    );
    assert!(
        c.open_orders(WalletType::Spot, "usdttwd")
            .unwrap()
            .is_empty()
    );
    // Cancelling again: the venue refuses (already cancelled).
    assert_eq!(
        api_code(c.cancel_order(OrderRef::Id(o.id)).unwrap_err()),
        (Some(2003), ErrorAction::Reject)
    );
}

#[test]
fn a_wrong_secret_gives_a_clear_auth_error_and_no_order() {
    let s = sim();
    let mut bad = client(&s, "not-the-secret");
    let oid = ClientOid::from_bytes(b"arbitrage_spot_1").unwrap();
    let e = bad.create_order(&order(&oid, "100")).unwrap_err();
    let text = e.to_string();
    assert_eq!(api_code(e), (Some(2005), ErrorAction::Halt));
    assert!(
        !text.contains("not-the-secret") && !text.contains(SECRET),
        "{text}"
    );
    assert_eq!(
        s.order_count("wait"),
        0,
        "the refused order is not on the book"
    );
    // The same order with the right secret is: the count above would have seen it.
    client(&s, SECRET)
        .create_order(&order(&oid, "100"))
        .unwrap();
    assert_eq!(s.order_count("wait"), 1);
    let mut unknown = MaxRestClient::new(
        &s.base_url(),
        MaxSigner::new("who", SECRET),
        Duration::from_secs(5),
    );
    assert_eq!(
        api_code(
            unknown
                .open_orders(WalletType::Spot, "usdttwd")
                .unwrap_err()
        ),
        (Some(2008), ErrorAction::Halt)
    );
}

#[test]
fn venue_order_errors_are_rejects() {
    let s = sim();
    let mut c = client(&s, SECRET);
    let oid = ClientOid::from_bytes(b"a1").unwrap();
    assert_eq!(
        api_code(c.create_order(&order(&oid, "1")).unwrap_err()),
        (Some(2016), ErrorAction::Reject)
    );
    c.create_order(&order(&oid, "100")).unwrap();
    assert_eq!(
        api_code(c.create_order(&order(&oid, "100")).unwrap_err()).1,
        ErrorAction::Reject,
        "client_oid reused"
    );
    let mut bad_market = order(&oid, "100");
    bad_market.market = "dogetwd";
    assert_eq!(
        api_code(c.create_order(&bad_market).unwrap_err()),
        (Some(1001), ErrorAction::Reject)
    );
    assert_eq!(
        api_code(c.get_order(OrderRef::Id(42)).unwrap_err()).0,
        Some(2004)
    );
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Sends a hand-signed request, to exercise what a well-behaved client never sends.
fn raw(s: &MaxRestSim, payload_json: &str, body: &str) -> (u16, String) {
    let signer = MaxSigner::new(KEY, SECRET);
    let (b64, sig) = signer.sign_payload(payload_json);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .post(format!("{}/api/v3/wallet/spot/order", s.base_url()))
        .header("X-MAX-ACCESSKEY", KEY)
        .header("X-MAX-PAYLOAD", &b64)
        .header("X-MAX-SIGNATURE", &sig)
        .send(body.as_bytes())
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

#[test]
fn replayed_nonces_tampered_payloads_and_stale_nonces_are_refused() {
    let s = sim();
    let n = now_ms();
    let payload = format!(
        r#"{{"nonce":{n},"market":"usdttwd","side":"buy","volume":"100","price":"31.5","path":"/api/v3/wallet/spot/order"}}"#
    );
    let body =
        format!(r#"{{"nonce":{n},"market":"usdttwd","side":"buy","volume":"100","price":"31.5"}}"#);
    assert_eq!(raw(&s, &payload, &body).0, 201);
    let (st, text) = raw(&s, &payload, &body);
    assert!(st == 400 && text.contains("2006"), "replay: {st} {text}");
    // Python-style spacing in the payload is fine; a body that differs from it is not.
    let n2 = n + 1;
    let spaced = format!(
        r#"{{"nonce": {n2}, "market": "usdttwd", "side": "buy", "volume": "100", "price": "31.5", "path": "/api/v3/wallet/spot/order"}}"#
    );
    let body2 = format!(
        r#"{{"nonce":{n2},"market":"usdttwd","side":"buy","volume":"100","price":"31.5"}}"#
    );
    assert_eq!(raw(&s, &spaced, &body2).0, 201);
    let n3 = n + 2;
    let p3 = format!(
        r#"{{"nonce":{n3},"market":"usdttwd","side":"buy","volume":"100","price":"31.5","path":"/api/v3/wallet/spot/order"}}"#
    );
    let tampered = format!(
        r#"{{"nonce":{n3},"market":"usdttwd","side":"buy","volume":"9999","price":"31.5"}}"#
    );
    let (st, text) = raw(&s, &p3, &tampered);
    assert!(st == 400 && text.contains("2014"), "tampered: {st} {text}");
    let old = n - 60_000;
    let p4 = format!(
        r#"{{"nonce":{old},"market":"usdttwd","side":"buy","volume":"100","price":"31.5","path":"/api/v3/wallet/spot/order"}}"#
    );
    let (st, text) = raw(&s, &p4, "");
    assert!(st == 400 && text.contains("2007"), "stale: {st} {text}");
}

#[test]
fn time_sync_moves_nonces_onto_the_venue_clock() {
    let s = sim();
    s.set_clock_offset_ms(-45_000);
    let mut c = client(&s, SECRET);
    let oid = ClientOid::from_bytes(b"t1").unwrap();
    // Without sync the nonce is 45 s ahead of the venue: refused (after one retry).
    assert_eq!(
        api_code(c.create_order(&order(&oid, "100")).unwrap_err()).0,
        Some(2007)
    );
    let offset = c.sync_time().unwrap();
    assert!((-46_500..=-43_500).contains(&offset), "{offset}");
    c.create_order(&order(&oid, "100")).unwrap();
    assert_eq!(s.order_count("wait"), 1, "accepted once on the venue clock");
}

#[test]
fn market_rules_from_real_market_lists() {
    use arbline::venue::max::markets::{MarketStatus, parse_markets};
    let read = max_fixture::fixture;
    let node = parse_markets(&read("rest_v3_markets_node.json")).unwrap();
    let usdt = node.iter().find(|m| m.id.as_str() == "USDTTWD").unwrap();
    assert_eq!(
        (
            usdt.rules.tick,
            usdt.rules.lot,
            usdt.rules.min_qty,
            usdt.rules.min_notional
        ),
        (f("0.001"), f("0.01"), f("8"), f("250"))
    );
    assert_eq!(usdt.status, MarketStatus::Active);
    let shib = node
        .iter()
        .find(|m| m.id.as_str() == "SHIBTWD")
        .expect("SHIBTWD in the list");
    assert_eq!(shib.rules.lot, Fixed::from_int(1000), "negative precision");
    let bbgo = parse_markets(&read("rest_v3_markets_bbgo.json")).unwrap();
    let btc = bbgo.iter().find(|m| m.id.as_str() == "BTCTWD").unwrap();
    assert_eq!(btc.rules.min_qty, f("0.00008"), "exponent form 8.0e-05");
    assert_eq!(
        parse_markets(b"[{\"id\":\"x\"}]").err(),
        Some(arbline::venue::ParseError::Json),
        "a market without its fields"
    );
}

#[test]
fn orders_breaking_the_market_rules_are_not_sent() {
    let s = sim();
    let mut c = client(&s, SECRET);
    assert_eq!(c.load_markets().unwrap().len(), 1);
    let oid = ClientOid::from_bytes(b"r1").unwrap();
    let mut off_tick = order(&oid, "100");
    off_tick.price = f("31.5005");
    let mut off_step = order(&oid, "100.001");
    off_step.price = f("31.5");
    let mut small_value = order(&oid, "8");
    small_value.price = f("31.2"); // 249.6 TWD
    for (name, o) in [
        ("off tick", off_tick),
        ("off step", off_step),
        ("below 250 TWD", small_value),
    ] {
        match c.create_order(&o) {
            Err(RestError::Invalid(_)) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(s.order_count("wait"), 0, "nothing reached the venue");
    // A valid order does, and the count sees it.
    c.create_order(&order(&oid, "100")).unwrap();
    assert_eq!(s.order_count("wait"), 1);
}
