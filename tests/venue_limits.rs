//! The simulator enforces the venues' limits on subscriptions, seen by raw clients
//! (tungstenite), as strictly as the venues document them:
//! - Binance: at most `binance_max_streams_per_connection` (1024) streams on one connection,
//!   whether named in the handshake URL or added by a live `SUBSCRIBE`; a URL with 1024 streams
//!   (about 25 KiB) goes through the simulator's and the engine's handshakes;
//! - MAX: at most `max_subscriptions_per_message` subscriptions in one `sub` (MAX documents no
//!   cap; the simulator holds the engine to its own);
//! - Binance REST: depth requests charged their documented weight by `limit`, refused with 429
//!   and code -1003 beyond the window's request weight.
//!
//! That the engine keeps within them with many markets is `tests/many_markets.rs`.

use arbline::config::sim::SimConfig;
use arbline::sim::binance_ws::BinanceSim;
use arbline::sim::max_ws::MaxWsSim;
use serde_json::{Value, json};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::Message;

type Ws = tungstenite::WebSocket<TcpStream>;

const WAIT: Duration = Duration::from_secs(10);

/// A handshake; the refusal's HTTP status and body when refused.
fn try_connect(url: &str) -> Result<Ws, (u16, String)> {
    let host = url.split_once("://").map_or(url, |(_, r)| r);
    let stream = TcpStream::connect(host.split('/').next().unwrap()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    match tungstenite::client(url, stream) {
        Ok((ws, _)) => {
            ws.get_ref()
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            Ok(ws)
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => Err((
            r.status().as_u16(),
            r.body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
        )),
        Err(e) => panic!("handshake with {url}: {e}"),
    }
}

/// The next text frame for which `f` holds, as JSON, within [`WAIT`]; `None` if the connection
/// ended first or nothing came.
fn next_where(ws: &mut Ws, f: impl Fn(&Value) -> bool) -> Option<Value> {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        match ws.read() {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if f(&v) {
                    return Some(v);
                }
            }
            Ok(Message::Close(_)) => return None,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Whether the server ended the connection within [`WAIT`] (frames on the way are skipped).
fn closed(ws: &mut Ws) -> bool {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        match ws.read() {
            Ok(Message::Close(_)) => return true,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// `n` stream names: the simulator's BTCUSDT (which it serves) and made-up symbols after it.
fn streams(n: usize) -> Vec<String> {
    let mut s = vec!["btcusdt@bookTicker".to_string()];
    s.extend((1..n).map(|i| format!("q{i:04}usdt@depth@100ms")));
    s
}

fn binance_sim(max_streams: u32) -> BinanceSim {
    let cfg = SimConfig {
        binance_max_streams_per_connection: max_streams,
        ..SimConfig::default()
    };
    BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg).unwrap()
}

#[test]
fn binance_takes_1024_streams_in_the_handshake_and_refuses_1025() {
    let sim = binance_sim(1024);
    let url = |n: usize| {
        format!(
            "{}/public/stream?streams={}",
            sim.ws_base(),
            streams(n).join("/")
        )
    };
    let full = url(1024);
    assert!(full.len() > 20_000, "a long URL: {} bytes", full.len());
    let mut ws = try_connect(&full).unwrap_or_else(|e| panic!("1024 streams refused: {e:?}"));
    assert!(
        next_where(&mut ws, |v| v["stream"] == "btcusdt@bookTicker").is_some(),
        "frames flow on a connection with 1024 streams"
    );
    // The engine's own connector (the feeds') sends the same URL.
    let engine_side = arbline::feed::ws_conn::connect(
        &full,
        &arbline::venue::tls::TlsTrust::webpki(),
        WAIT,
        &arbline::pipeline::EngineClock::new(),
    );
    assert!(engine_side.is_ok(), "{:?}", engine_side.err());
    assert_eq!(sim.too_many_streams(), 0);

    let (status, body) = try_connect(&url(1025)).expect_err("1025 streams accepted");
    assert_eq!(status, 400, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], 2, "{body}");
    assert!(v["msg"].as_str().unwrap().contains("1024"), "{body}");
    assert_eq!(sim.too_many_streams(), 1);
}

#[test]
fn binance_closes_a_connection_whose_subscribe_goes_over_the_limit() {
    let sim = binance_sim(4);
    let base = format!("{}/stream?streams=", sim.ws_base());
    let mut ws = try_connect(&(base.clone() + &streams(2).join("/"))).unwrap();
    let sub = |ws: &mut Ws, params: &[&str], id: u64| {
        let m = json!({"method": "SUBSCRIBE", "params": params, "id": id});
        ws.send(Message::text(m.to_string())).unwrap();
    };
    // Up to the limit, a stream already there counting once.
    sub(
        &mut ws,
        &["btcusdt@bookTicker", "a@depth@100ms", "b@depth@100ms"],
        1,
    );
    let ok = next_where(&mut ws, |v| v["id"] == 1).expect("an answer");
    assert_eq!(ok, json!({"result": null, "id": 1}));
    sub(&mut ws, &["c@depth@100ms"], 2);
    let err = next_where(&mut ws, |v| v["id"] == 2).expect("an answer");
    assert_eq!(err["error"]["code"], 2, "{err}");
    assert!(
        closed(&mut ws),
        "the connection is closed after the refusal"
    );
    assert_eq!(sim.too_many_streams(), 1);
    assert_eq!(sim.rate_limited_connections(), 0);
    // A handshake over the limit is refused too, and counted.
    let five = base + &streams(5).join("/");
    assert_eq!(try_connect(&five).err().map(|e| e.0), Some(400));
    assert_eq!(sim.too_many_streams(), 2);
}

#[test]
fn max_refuses_a_sub_with_more_subscriptions_than_its_cap_and_keeps_the_connection() {
    let cfg = SimConfig {
        max_subscriptions_per_message: 4,
        ..SimConfig::default()
    };
    let sim = MaxWsSim::start("127.0.0.1:0", &cfg).unwrap();
    let mut ws = try_connect(&sim.url()).unwrap();
    let sub = |markets: &[&str], id: &str| {
        let subs: Vec<Value> = markets
            .iter()
            .flat_map(|m| {
                [
                    json!({"channel": "book", "market": m, "depth": 50}),
                    json!({"channel": "trade", "market": m}),
                ]
            })
            .collect();
        Message::text(json!({"action": "sub", "subscriptions": subs, "id": id}).to_string())
    };
    ws.send(sub(&["btcusdt", "btctwd", "usdttwd"], "big"))
        .unwrap();
    let err = next_where(&mut ws, |v| v["i"] == "big").expect("an answer");
    assert_eq!(err["e"], "error", "{err}");
    assert!(err["E"][0].as_str().unwrap().starts_with("E-1030"), "{err}");
    assert_eq!(sim.oversized_subs(), 1);
    // Nothing was subscribed, and the connection still serves a sub within the cap.
    ws.send(sub(&["btcusdt", "btctwd"], "ok")).unwrap();
    let ok = next_where(&mut ws, |v| v["i"] == "ok").expect("an answer");
    assert_eq!(ok["e"], "subscribed", "{ok}");
    let book = next_where(&mut ws, |v| v["c"] == "book").expect("a book");
    assert!(book["M"] == "btcusdt" || book["M"] == "btctwd", "{book}");
    assert_eq!(sim.oversized_subs(), 1);
    assert_eq!(sim.rate_limited_connections(), 0);
}

#[test]
fn binance_rest_refuses_depth_requests_beyond_the_request_weight() {
    let cfg = SimConfig {
        binance_futures_request_weight: 50,
        binance_spot_request_weight: 100,
        ..SimConfig::default()
    };
    let sim = BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str, limit: u32| {
        let mut r = agent
            .get(format!(
                "{}{path}?symbol=BTCUSDT&limit={limit}",
                sim.rest_base()
            ))
            .call()
            .unwrap();
        let header = |h: &str| {
            r.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (used, retry) = (header("X-MBX-USED-WEIGHT-1M"), header("Retry-After"));
        let status = r.status().as_u16();
        (status, used, retry, r.body_mut().read_to_string().unwrap())
    };
    // Futures: 1000 levels weigh 20; 50 a minute allows two.
    for used in ["20", "40"] {
        let (status, u, _, body) = get("/fapi/v1/depth", 1000);
        assert_eq!(status, 200, "{body}");
        assert_eq!(u.as_deref(), Some(used));
    }
    let (status, _, retry, body) = get("/fapi/v1/depth", 1000);
    assert_eq!(status, 429, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], -1003, "{body}");
    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    assert_eq!(sim.weight_limited(), 1);
    // Still room for a lighter request (limit 50 weighs 2), and spot counts on its own.
    assert_eq!(get("/fapi/v1/depth", 50).0, 200);
    assert_eq!(get("/api/v3/depth", 1000).0, 200, "spot: 50 of 100");
    assert_eq!(get("/api/v3/depth", 1000).0, 200, "spot: 100 of 100");
    assert_eq!(get("/api/v3/depth", 5).0, 429, "spot: none left");
    assert_eq!(sim.weight_limited(), 2);
}
