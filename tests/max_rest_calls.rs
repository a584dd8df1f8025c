//! The MAX REST client's trades, order-trades, accounts, cancel-all and all-markets open-orders
//! calls against a scripted loopback server: each request is checked for its method, path,
//! parameters and signed payload (spec §1.2: `X-MAX-PAYLOAD` is base64 JSON of the params plus
//! `nonce` and `path`, and must agree with the query or body), then answered with a real
//! fixture or an error body.

use arbline::model::{ClientOid, Fixed, OrderState, Side, Symbol, WalletType};
use arbline::sim::max_frames::write_error;
use arbline::venue::ParseError;
use arbline::venue::max::rest_client::{MaxRestClient, OrderRef, RestError};
use arbline::venue::max::{ErrorAction, MaxSigner, verify_payload};
use base64::Engine;
use serde_json::{Map, Value, json};
use std::sync::mpsc;
use std::time::Duration;

const KEY: &str = "test-access-key";
const SECRET: &str = "test-secret-key";

#[path = "support/max_fixture.rs"]
mod max_fixture;
use max_fixture::fixture;
#[path = "support/wait.rs"]
mod wait;
use wait::PATIENCE;

/// One request as the server received it.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    /// Query parameters (GET) or the JSON body (DELETE), as a JSON object.
    sent: Map<String, Value>,
    access_key: Option<String>,
    /// The decoded `X-MAX-PAYLOAD`.
    payload: Value,
    signature_ok: bool,
}

/// A loopback server that answers each request with the next scripted reply, in order, and
/// stops once the script is spent (later connections are refused).
struct Script {
    base: String,
    seen: mpsc::Receiver<Seen>,
}

impl Script {
    /// The next request the client sent (fails the test when none came).
    fn next(&self) -> Seen {
        self.seen.recv_timeout(PATIENCE).unwrap_or_else(|e| {
            panic!("gave up after {PATIENCE:?} waiting for a request to reach the server: {e}")
        })
    }
    fn nothing_more(&self) {
        assert!(self.seen.try_recv().is_err(), "no further request");
    }
    fn client(&self) -> MaxRestClient {
        MaxRestClient::new(
            &self.base,
            MaxSigner::new(KEY, SECRET),
            Duration::from_secs(5),
        )
    }
}

fn seen(req: &mut tiny_http::Request) -> Seen {
    let header = |name: &'static str| {
        req.headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_string())
    };
    let access_key = header("X-MAX-ACCESSKEY");
    let b64 = header("X-MAX-PAYLOAD").unwrap_or_default();
    let sig = header("X-MAX-SIGNATURE").unwrap_or_default();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .ok()
        .and_then(|j| serde_json::from_slice(&j).ok())
        .unwrap_or(Value::Null);
    let method = req.method().to_string();
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut sent = Map::new();
    // Read as MAX (and the simulator) read a query: a raw `+` would be a space there.
    for (k, v) in form_urlencoded::parse(query.as_bytes()).into_owned() {
        sent.insert(k, Value::String(v));
    }
    let mut body = Vec::new();
    req.as_reader().read_to_end(&mut body).unwrap();
    if !body.is_empty() {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(m)) => sent.extend(m),
            _ => panic!("body is not a JSON object: {body:?}"),
        }
    }
    Seen {
        method,
        path: path.to_string(),
        sent,
        access_key,
        payload,
        signature_ok: verify_payload(SECRET, &b64, &sig),
    }
}

fn script(replies: Vec<(u16, Vec<u8>)>) -> Script {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (status, body) in replies {
            let Ok(Some(mut req)) = server.recv_timeout(PATIENCE) else {
                return;
            };
            let _ = tx.send(seen(&mut req));
            let _ = req.respond(tiny_http::Response::from_data(body).with_status_code(status));
        }
    });
    Script {
        base: format!("http://{addr}"),
        seen: rx,
    }
}

/// Checks that `s` is a signed `method path` whose payload carries exactly `params` plus
/// `nonce` and `path`, and that the query or body sent agrees with the payload. Returns the
/// nonce.
fn assert_signed(s: &Seen, method: &str, path: &str, params: Value) -> u64 {
    assert_eq!((s.method.as_str(), s.path.as_str()), (method, path));
    assert_eq!(s.access_key.as_deref(), Some(KEY));
    assert!(s.signature_ok, "HMAC of X-MAX-PAYLOAD verifies: {s:?}");
    let mut want = params.as_object().unwrap().clone();
    let nonce = s.payload["nonce"]
        .as_u64()
        .expect("numeric nonce in the payload");
    assert!(
        nonce > 1_600_000_000_000,
        "nonce is ms since epoch: {nonce}"
    );
    want.insert("nonce".into(), json!(nonce));
    want.insert("path".into(), json!(path));
    assert_eq!(s.payload, Value::Object(want.clone()), "signed payload");
    want.remove("path");
    if method == "GET" {
        // The query carries every value as text.
        let text: Map<String, Value> = want
            .into_iter()
            .map(|(k, v)| {
                let t = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, Value::String(t))
            })
            .collect();
        assert_eq!(s.sent, text, "query agrees with the payload");
    } else {
        assert_eq!(s.sent, want, "JSON body agrees with the payload");
    }
    nonce
}

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

fn api(e: RestError) -> (u16, Option<u32>, ErrorAction) {
    match e {
        RestError::Api(a) => (a.http_status, a.code, a.action),
        other => panic!("expected an API error, got {other}"),
    }
}

fn error_body(code: u32, message: &str) -> Vec<u8> {
    let mut b = Vec::new();
    write_error(&mut b, code, message);
    b
}

// ---------------------------------------------------------------- trades

#[test]
fn trades_from_an_id_ask_for_ascending_order() {
    let s = script(vec![(200, fixture("rest_v3_wallet_spot_trades_bbgo.json"))]);
    let t = s
        .client()
        .trades(WalletType::Spot, Some("btcusdt"), Some(12328549), 500)
        .unwrap();
    assert_signed(
        &s.next(),
        "GET",
        "/api/v3/wallet/spot/trades",
        json!({"market": "btcusdt", "from_id": 12328549, "order": "asc", "limit": 500}),
    );
    assert_eq!(
        t.iter().map(|t| (t.id, t.side)).collect::<Vec<_>>(),
        vec![(12328549, Side::Buy), (12328658, Side::Sell)]
    );
    assert_eq!(t[1].fee_currency, Some(sym("usdt")));
    s.nothing_more();
}

#[test]
fn trades_of_every_market_in_the_m_wallet_leave_the_order_to_the_venue() {
    let s = script(vec![(
        200,
        fixture("rest_v3_wallet_spot_trades_self_trade_node.json"),
    )]);
    let t = s
        .client()
        .trades(WalletType::Margin, None, None, 50)
        .unwrap();
    assert_signed(
        &s.next(),
        "GET",
        "/api/v3/wallet/m/trades",
        json!({"limit": 50}),
    );
    assert!(!t.is_empty(), "the fixture's trades");
    assert!(t.iter().all(|t| t.self_trade));
}

#[test]
fn a_limit_outside_1_to_1000_is_refused_without_a_request() {
    let s = script(vec![(200, b"[]".to_vec()), (200, b"[]".to_vec())]);
    let mut c = s.client();
    for bad in [0, 1001, u32::MAX] {
        let e = c
            .trades(WalletType::Spot, Some("btcusdt"), None, bad)
            .unwrap_err();
        assert!(matches!(e, RestError::Invalid(_)), "{bad}: {e}");
        assert_eq!(e.action(), ErrorAction::Reject);
        assert!(e.to_string().contains("limit"), "{e}");
    }
    s.nothing_more();
    for good in [1, 1000] {
        assert!(
            c.trades(WalletType::Spot, None, None, good)
                .unwrap()
                .is_empty()
        );
        assert_signed(
            &s.next(),
            "GET",
            "/api/v3/wallet/spot/trades",
            json!({ "limit": good }),
        );
    }
}

#[test]
fn order_trades_by_id_and_by_client_oid() {
    let body = fixture("rest_v3_order_trades_bbgo.json");
    let s = script(vec![(200, body.clone()), (200, body)]);
    let mut c = s.client();
    let by_id = c.order_trades(OrderRef::Id(2492665741)).unwrap();
    assert_signed(
        &s.next(),
        "GET",
        "/api/v3/order/trades",
        json!({"order_id": 2492665741u64}),
    );
    assert_eq!((by_id[0].id, by_id[0].order_id), (12328658, 2492665741));
    let oid = ClientOid::from_bytes(b"arb/1+x&y=z%").unwrap();
    let by_oid = c.order_trades(OrderRef::ClientOid(&oid)).unwrap();
    assert_signed(
        &s.next(),
        "GET",
        "/api/v3/order/trades",
        json!({"client_oid": "arb/1+x&y=z%"}),
    );
    assert_eq!(by_oid, by_id);
}

// ---------------------------------------------------------------- accounts

#[test]
fn accounts_of_spot_and_m_wallets() {
    let s = script(vec![
        (200, fixture("rest_v3_wallet_spot_accounts_node.json")),
        (200, fixture("rest_v3_wallet_spot_accounts_bbgo.json")),
    ]);
    let mut c = s.client();
    let spot = c.accounts(WalletType::Spot).unwrap();
    assert_signed(&s.next(), "GET", "/api/v3/wallet/spot/accounts", json!({}));
    assert_eq!(spot.len(), 51);
    let max = spot.iter().find(|b| b.currency == sym("max")).unwrap();
    assert_eq!(max.staked, Some(Fixed::parse("20342.15710518").unwrap()));
    let m = c.accounts(WalletType::Margin).unwrap();
    assert_signed(&s.next(), "GET", "/api/v3/wallet/m/accounts", json!({}));
    assert_eq!(
        (m.len(), m[0].currency, m[0].staked),
        (50, sym("twd"), None)
    );
}

// ---------------------------------------------------------------- cancel-all, open orders

#[test]
fn cancel_all_sends_a_signed_delete_with_the_market_in_the_body() {
    let s = script(vec![
        (200, fixture("rest_v3_cancel_all_by_market_bbgo.json")),
        (200, fixture("rest_v3_cancel_all_empty_bbgo.json")),
    ]);
    let mut c = s.client();
    let r = c.cancel_all(WalletType::Spot, Some("btcusdt")).unwrap();
    assert_signed(
        &s.next(),
        "DELETE",
        "/api/v3/wallet/spot/orders",
        json!({"market": "btcusdt"}),
    );
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].0.as_deref(), r[0].1.id), (None, 2492709208));
    assert_eq!(r[0].1.state, OrderState::New, "queued: still wait");
    assert!(c.cancel_all(WalletType::Margin, None).unwrap().is_empty());
    assert_signed(&s.next(), "DELETE", "/api/v3/wallet/m/orders", json!({}));
}

#[test]
fn open_orders_all_asks_every_market_with_the_largest_limit() {
    let s = script(vec![
        (200, fixture("rest_v3_orders_closed_node.json")),
        (200, fixture("rest_v3_orders_open_empty_bbgo.json")),
    ]);
    let mut c = s.client();
    assert_eq!(c.open_orders_all(WalletType::Spot).unwrap().len(), 31);
    assert_signed(
        &s.next(),
        "GET",
        "/api/v3/wallet/spot/orders/open",
        json!({"limit": 1000}),
    );
    assert!(c.open_orders_all(WalletType::Margin).unwrap().is_empty());
    assert_signed(
        &s.next(),
        "GET",
        "/api/v3/wallet/m/orders/open",
        json!({"limit": 1000}),
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn error_replies_are_classified_as_for_order_calls() {
    let html = b"<html><head><title>502 Bad Gateway</title></head></html>".to_vec();
    let s = script(vec![
        (404, error_body(2004, "Order doesn't exist")),
        (
            401,
            fixture("rest_v2_error_access_key_not_exist_http401_rs.json"),
        ),
        (502, html),
        (400, error_body(1001, "market does not have a valid value")),
        (200, b"{\"not\":\"a list\"}".to_vec()),
        (
            200,
            b"[{\"currency\":\"btc\",\"balance\":\"NaN\",\"locked\":\"0\"}]".to_vec(),
        ),
    ]);
    let mut c = s.client();
    assert_eq!(
        api(c.order_trades(OrderRef::Id(42)).unwrap_err()),
        (404, Some(2004), ErrorAction::Reject)
    );
    assert_eq!(
        api(c.accounts(WalletType::Spot).unwrap_err()),
        (401, Some(2008), ErrorAction::Halt)
    );
    let e = c.cancel_all(WalletType::Spot, None).unwrap_err();
    assert!(e.to_string().contains("502 Bad Gateway"), "{e}");
    assert_eq!(api(e), (502, None, ErrorAction::BackOff));
    assert_eq!(
        api(c
            .trades(WalletType::Spot, Some("nope"), None, 10)
            .unwrap_err()),
        (400, Some(1001), ErrorAction::Reject)
    );
    let e = c.open_orders_all(WalletType::Spot).unwrap_err();
    assert!(matches!(e, RestError::Parse(ParseError::Json)), "{e}");
    assert_eq!(e.action(), ErrorAction::Halt);
    assert!(matches!(
        c.accounts(WalletType::Spot).unwrap_err(),
        RestError::Parse(ParseError::BadDecimal {
            field: "balance",
            ..
        })
    ));
    for _ in 0..6 {
        s.next();
    }
    s.nothing_more();
}

#[test]
fn a_refused_nonce_is_retried_once_with_a_fresh_one() {
    let s = script(vec![
        (
            400,
            error_body(2006, "The nonce has already been used by access key."),
        ),
        (200, fixture("rest_v3_wallet_spot_accounts_bbgo.json")),
        (400, error_body(2007, "The nonce is invalid.")),
        (400, error_body(2007, "The nonce is invalid.")),
    ]);
    let mut c = s.client();
    assert_eq!(c.accounts(WalletType::Spot).unwrap().len(), 50);
    let first = assert_signed(&s.next(), "GET", "/api/v3/wallet/spot/accounts", json!({}));
    let second = assert_signed(&s.next(), "GET", "/api/v3/wallet/spot/accounts", json!({}));
    assert!(second > first, "fresh nonce: {first} then {second}");
    // Refused twice: the second refusal is the caller's.
    assert_eq!(
        api(c.cancel_all(WalletType::Spot, Some("btcusdt")).unwrap_err()),
        (400, Some(2007), ErrorAction::RetryWithNewNonce)
    );
    s.next();
    s.next();
    s.nothing_more();
}
