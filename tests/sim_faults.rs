//! The simulator is as strict as the venues and injects the faults a test asks for, seen by raw
//! clients (tungstenite for WebSockets, ureq for REST):
//! - MAX WS: 20 messages/s and 200/min per connection, the 130 s ping deadline (scaled down),
//!   silenced connections, empty book snapshots;
//! - Binance WS: the incoming-message limit, server pings and the pong deadline, silence;
//! - MAX nonces: one increasing sequence per key across REST and WebSocket `auth`;
//! - IP bans with `Retry-After`: MAX's (absolute, venue-wide, prolonged by early attempts) and
//!   Binance's (seconds from now), lifting by themselves.

use arbline::config::Config;
use arbline::config::sim::SimConfig;
use arbline::sim::binance_ws::BinanceSim;
use arbline::sim::max_ws::MaxWsSim;
use arbline::sim::servers::SimServers;
use arbline::venue::max::MaxSigner;
use serde_json::{Value, json};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tungstenite::Message;

type Ws = tungstenite::WebSocket<TcpStream>;

const KEY: &str = "sim-access-key";
const SECRET: &str = "sim-secret-key-0123456789";

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn unix_s() -> u64 {
    unix_ms() / 1000
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap()
}

/// A handshake; the refusal's HTTP status and `Retry-After` when refused.
fn try_connect(url: &str) -> Result<Ws, (u16, Option<String>)> {
    let stream = TcpStream::connect(host_of(url)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    match tungstenite::client(url, stream) {
        Ok((ws, _)) => {
            ws.get_ref()
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            Ok(ws)
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => Err((
            r.status().as_u16(),
            r.headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        )),
        Err(e) => panic!("handshake with {url}: {e}"),
    }
}

fn connect(url: &str) -> Ws {
    try_connect(url).unwrap_or_else(|e| panic!("refused: {e:?}"))
}

fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).unwrap();
}

fn ping(ws: &mut Ws) {
    ws.send(Message::Ping(b"test".to_vec().into())).unwrap();
}

/// How reading a connection turned out.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Frame(Message),
    /// Nothing within the wait.
    Quiet,
    /// The server sent a close frame.
    CloseFrame,
    /// The connection ended without a close frame.
    Dropped,
}

fn read(ws: &mut Ws) -> Read {
    match ws.read() {
        Ok(Message::Close(_)) => Read::CloseFrame,
        Ok(m) => Read::Frame(m),
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Read::Quiet
        }
        Err(_) => Read::Dropped,
    }
}

/// The next text frame as JSON within `within` (pongs and pings skipped).
fn next_json(ws: &mut Ws, within: Duration) -> Option<Value> {
    let end = Instant::now() + within;
    while Instant::now() < end {
        match read(ws) {
            Read::Frame(Message::Text(t)) => {
                return Some(serde_json::from_str(t.as_str()).unwrap());
            }
            Read::Frame(_) | Read::Quiet => {}
            Read::CloseFrame | Read::Dropped => return None,
        }
    }
    None
}

/// The next text frame for which `f` holds.
fn next_where(ws: &mut Ws, within: Duration, f: impl Fn(&Value) -> bool) -> Option<Value> {
    let end = Instant::now() + within;
    while Instant::now() < end {
        let v = next_json(ws, end.saturating_duration_since(Instant::now()))?;
        if f(&v) {
            return Some(v);
        }
    }
    None
}

/// Reads until the connection ends: how it ended, and the text frames seen on the way.
fn until_closed(ws: &mut Ws, within: Duration) -> (Read, Vec<Value>) {
    let end = Instant::now() + within;
    let mut texts = Vec::new();
    while Instant::now() < end {
        match read(ws) {
            Read::Frame(Message::Text(t)) => texts.push(serde_json::from_str(t.as_str()).unwrap()),
            Read::Frame(_) | Read::Quiet => {}
            r => return (r, texts),
        }
    }
    (Read::Quiet, texts)
}

/// Whether the connection still answers: a ping gets its pong within `within`.
fn answers_ping(ws: &mut Ws, within: Duration) -> bool {
    if ws.send(Message::Ping(b"alive".to_vec().into())).is_err() {
        return false;
    }
    let end = Instant::now() + within;
    while Instant::now() < end {
        match read(ws) {
            Read::Frame(Message::Pong(p)) if p.as_ref() == b"alive" => return true,
            Read::Frame(_) | Read::Quiet => {}
            _ => return false,
        }
    }
    false
}

fn max_sim(tweak: impl FnOnce(&mut SimConfig)) -> MaxWsSim {
    let mut cfg = SimConfig::default();
    tweak(&mut cfg);
    MaxWsSim::start_with_keys("127.0.0.1:0", &cfg, &[(KEY, SECRET)]).unwrap()
}

fn book_sub(market: &str) -> Value {
    json!({"action": "sub", "subscriptions": [{"channel": "book", "market": market, "depth": 50}], "id": "t"})
}

fn auth(ws: &mut Ws, nonce: u64) -> Value {
    let frame = MaxSigner::new(KEY, SECRET).ws_auth_frame(nonce, "a", &[]);
    ws.send(Message::text(frame)).unwrap();
    next_where(ws, Duration::from_secs(5), |v| {
        v["e"] == "authenticated" || v["e"] == "error"
    })
    .expect("an answer to auth")
}

fn is_rate_limit_error(v: &Value) -> bool {
    v["e"] == "error"
        && v["E"][0] == "E-1029: too many requests (20/s, 200/min per connection)"
        && v["i"] == ""
        && v["T"].as_u64().is_some_and(|t| t > 0)
}

#[test]
fn max_ws_closes_a_connection_sending_more_than_20_messages_a_second() {
    let sim = max_sim(|_| {});
    // 20 in a burst are within the limit.
    let mut ok = connect(&sim.url());
    for _ in 0..20 {
        ping(&mut ok);
    }
    // The 21st message within a second, a text frame: error frame, then close.
    let mut over = connect(&sim.url());
    for _ in 0..20 {
        ping(&mut over);
    }
    send(&mut over, book_sub("btcusdt"));
    let (end, texts) = until_closed(&mut over, Duration::from_secs(5));
    assert_eq!(end, Read::CloseFrame, "closed by the server: {texts:?}");
    assert!(
        texts.iter().any(is_rate_limit_error),
        "error frame before the close: {texts:?}"
    );
    assert!(
        !texts.iter().any(|v| v["e"] == "subscribed"),
        "the 21st message was not served: {texts:?}"
    );
    assert_eq!(sim.rate_limited_connections(), 1);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(
        answers_ping(&mut ok, Duration::from_secs(3)),
        "20/s is fine"
    );
    assert_eq!(sim.rate_limited_connections(), 1);
}

#[test]
fn max_ws_closes_a_connection_sending_more_than_200_messages_a_minute() {
    let sim = max_sim(|_| {});
    let mut ws = connect(&sim.url());
    // Bursts of 19 (under 20/s), 2 s apart: the 201st message is in the 11th burst, 20 s in.
    // (The simulator counts a message when it reads it: the gap leaves a second of slack for a
    // reader thread descheduled on a loaded machine, so two bursts never share its second.)
    for burst in 0..10 {
        for _ in 0..19 {
            ping(&mut ws);
        }
        let until = Instant::now() + Duration::from_millis(2000);
        while Instant::now() < until {
            assert!(
                !matches!(read(&mut ws), Read::CloseFrame | Read::Dropped),
                "closed during burst {burst}"
            );
        }
    }
    assert_eq!(sim.rate_limited_connections(), 0, "190 in a minute is fine");
    for _ in 0..19 {
        ping(&mut ws);
    }
    let (end, texts) = until_closed(&mut ws, Duration::from_secs(5));
    assert_eq!(end, Read::CloseFrame);
    assert!(texts.iter().any(is_rate_limit_error), "{texts:?}");
    assert_eq!(sim.rate_limited_connections(), 1);
}

#[test]
fn max_ws_closes_public_and_private_connections_that_do_not_ping() {
    let sim = max_sim(|c| c.max_ping_timeout_ms = 1500);
    let mut pinging = connect(&sim.url());
    let mut public = connect(&sim.url());
    let mut private = connect(&sim.url());
    assert_eq!(auth(&mut private, unix_ms())["e"], "authenticated");
    // Pinging every 400 ms keeps a connection open past the deadline.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        ping(&mut pinging);
        let until = Instant::now() + Duration::from_millis(400);
        while Instant::now() < until {
            assert!(
                matches!(read(&mut pinging), Read::Frame(_) | Read::Quiet),
                "a pinging connection stays open"
            );
        }
    }
    assert_eq!(
        until_closed(&mut public, Duration::from_secs(3)).0,
        Read::CloseFrame
    );
    assert_eq!(
        until_closed(&mut private, Duration::from_secs(3)).0,
        Read::CloseFrame
    );
    assert_eq!(sim.closed_for_missing_ping(), 2);
    assert!(answers_ping(&mut pinging, Duration::from_secs(3)));
}

#[test]
fn max_ws_default_ping_deadline_is_130_s() {
    assert_eq!(SimConfig::default().max_ping_timeout_ms, 130_000);
}

#[test]
fn max_ws_silence_stops_one_kind_of_connection_and_keeps_its_socket_open() {
    let sim = max_sim(|_| {});
    let mut public = connect(&sim.url());
    send(&mut public, book_sub("btcusdt"));
    let mut private = connect(&sim.url());
    assert_eq!(auth(&mut private, unix_ms())["e"], "authenticated");
    assert!(answers_ping(&mut private, Duration::from_secs(3)));

    sim.silence(true);
    std::thread::sleep(Duration::from_millis(100));
    // Drain what was sent before; then nothing, not even a pong, and no close.
    while let Read::Frame(_) = read(&mut private) {}
    assert!(!answers_ping(&mut private, Duration::from_secs(1)));
    assert_eq!(read(&mut private), Read::Quiet, "the socket stays open");
    // The public connection is served as before.
    assert!(
        next_where(&mut public, Duration::from_secs(3), |v| v["e"] == "update").is_some(),
        "public updates keep flowing"
    );
    assert!(answers_ping(&mut public, Duration::from_secs(3)));
    assert_eq!(sim.silenced_connections(), 1);

    sim.silence(false);
    std::thread::sleep(Duration::from_millis(100));
    while let Read::Frame(_) = read(&mut public) {}
    assert!(!answers_ping(&mut public, Duration::from_secs(1)));
    assert_eq!(read(&mut public), Read::Quiet);
    assert_eq!(sim.silenced_connections(), 2);

    // New connections are served.
    let mut fresh = connect(&sim.url());
    send(&mut fresh, book_sub("btcusdt"));
    assert!(next_where(&mut fresh, Duration::from_secs(3), |v| v["e"] == "snapshot").is_some());
    let mut fresh_private = connect(&sim.url());
    assert_eq!(auth(&mut fresh_private, unix_ms())["e"], "authenticated");
    assert_eq!(sim.silenced_connections(), 2);
}

fn book_frame(ws: &mut Ws, kind: &str) -> Value {
    next_where(ws, Duration::from_secs(5), |v| {
        v["c"] == "book" && v["e"] == kind
    })
    .unwrap_or_else(|| panic!("a book {kind}"))
}

#[test]
fn max_ws_serves_empty_book_snapshots_for_a_while() {
    let sim = max_sim(|_| {});
    let url = sim.url();
    let mut before = connect(&url);
    send(&mut before, book_sub("btcusdt"));
    let snap = book_frame(&mut before, "snapshot");
    assert!(!snap["a"].as_array().unwrap().is_empty());

    sim.empty_book_snapshots("btcusdt", Duration::from_millis(1500));
    // Pushed at once to the subscribed connection, ids as the writer's, then updates follow it.
    let empty = book_frame(&mut before, "snapshot");
    assert_eq!(
        (empty["a"].clone(), empty["b"].clone()),
        (json!([]), json!([]))
    );
    assert_eq!(empty["M"], "btcusdt");
    assert_eq!(empty["v"], snap["v"]);
    let li = empty["li"].as_u64().unwrap();
    assert_eq!(empty["fi"].as_u64(), Some(li), "a snapshot's fi is its li");
    let next = book_frame(&mut before, "update");
    assert_eq!(
        next["fi"].as_u64(),
        Some(li + 1),
        "updates continue from it"
    );

    // A new subscription in the window: empty too. Other markets are untouched.
    let mut during = connect(&url);
    send(&mut during, book_sub("btcusdt"));
    let s = book_frame(&mut during, "snapshot");
    assert_eq!((s["a"].clone(), s["b"].clone()), (json!([]), json!([])));
    send(&mut during, book_sub("usdttwd"));
    let other = book_frame(&mut during, "snapshot");
    assert_eq!(other["M"], "usdttwd");
    assert!(!other["b"].as_array().unwrap().is_empty());

    std::thread::sleep(Duration::from_millis(1600));
    let mut after = connect(&url);
    send(&mut after, book_sub("btcusdt"));
    let s = book_frame(&mut after, "snapshot");
    assert!(
        !s["a"].as_array().unwrap().is_empty(),
        "real snapshots again"
    );
    assert_eq!(sim.book_subscriptions("btcusdt"), 3);
    assert_eq!(sim.book_subscriptions("usdttwd"), 1);
}

fn binance_sim(tweak: impl FnOnce(&mut SimConfig)) -> BinanceSim {
    let mut cfg = SimConfig::default();
    tweak(&mut cfg);
    BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg).unwrap()
}

#[test]
fn binance_drops_a_connection_over_5_incoming_messages_a_second() {
    assert_eq!(SimConfig::default().binance_max_incoming_per_s, 5);
    let sim = binance_sim(|_| {});
    let url = format!("{}/stream", sim.ws_base());
    let mut ok = connect(&url);
    for _ in 0..5 {
        ping(&mut ok);
    }
    let mut over = connect(&url);
    for _ in 0..5 {
        ping(&mut over);
    }
    // A pong counts too.
    over.send(Message::Pong(Vec::new().into())).unwrap();
    let (end, texts) = until_closed(&mut over, Duration::from_secs(5));
    assert_eq!(end, Read::Dropped, "no close frame, no word: {texts:?}");
    assert!(texts.is_empty(), "{texts:?}");
    assert_eq!(sim.rate_limited_connections(), 1);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(answers_ping(&mut ok, Duration::from_secs(3)));
    assert_eq!(sim.rate_limited_connections(), 1);
}

#[test]
fn binance_pings_and_drops_a_connection_without_a_pong() {
    let d = SimConfig::default();
    assert_eq!(
        (d.binance_ping_interval_ms, d.binance_pong_timeout_ms),
        (20_000, 60_000)
    );
    let sim = binance_sim(|c| {
        c.binance_ping_interval_ms = 300;
        c.binance_pong_timeout_ms = 1000;
    });
    let url = format!("{}/stream", sim.ws_base());
    // tungstenite answers every ping it reads; the other client reads nothing, so never pongs.
    let mut answering = connect(&url);
    let mut mute = connect(&url);
    let start = Instant::now();
    let mut pings = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        match read(&mut answering) {
            Read::Frame(Message::Ping(_)) => pings += 1,
            Read::Frame(_) | Read::Quiet => {}
            r => panic!("the answering connection ended: {r:?}"),
        }
    }
    assert!(pings >= 5, "a ping every 300 ms: {pings}");
    assert_eq!(sim.closed_for_missing_pong(), 1);
    let (end, _) = until_closed(&mut mute, Duration::from_secs(3));
    assert_eq!(end, Read::Dropped);
    assert!(answers_ping(&mut answering, Duration::from_secs(2)));
}

#[test]
fn binance_silence_keeps_open_connections_unread_and_unwritten() {
    let sim = binance_sim(|_| {});
    let url = format!("{}/stream?streams=btcusdt@bookTicker", sim.ws_base());
    let mut old = connect(&url);
    assert!(
        next_json(&mut old, Duration::from_secs(3)).is_some(),
        "frames flow"
    );
    sim.silence();
    std::thread::sleep(Duration::from_millis(100));
    while let Read::Frame(_) = read(&mut old) {}
    assert!(!answers_ping(&mut old, Duration::from_secs(1)));
    assert_eq!(read(&mut old), Read::Quiet, "the socket stays open");
    assert_eq!(sim.silenced_connections(), 1);
    let mut fresh = connect(&url);
    assert!(next_json(&mut fresh, Duration::from_secs(3)).is_some());
    assert!(answers_ping(&mut fresh, Duration::from_secs(2)));
}

fn servers() -> SimServers {
    let mut cfg = Config::default();
    cfg.sim.use_free_ports();
    SimServers::start(&cfg, &[(KEY, SECRET)]).unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A signed `GET /api/v3/wallet/spot/accounts` with `nonce`: status, `Retry-After`, body.
fn rest_get(s: &SimServers, nonce: u64) -> (u16, Option<String>, String) {
    let path = "/api/v3/wallet/spot/accounts";
    let (b64, sig) = MaxSigner::new(KEY, SECRET)
        .sign_payload(&format!(r#"{{"nonce":{nonce},"path":"{path}"}}"#));
    let mut r = agent()
        .get(format!("{}{path}?nonce={nonce}", s.max_rest.base_url()))
        .header("X-MAX-ACCESSKEY", KEY)
        .header("X-MAX-PAYLOAD", &b64)
        .header("X-MAX-SIGNATURE", &sig)
        .call()
        .unwrap();
    let retry = r
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (
        r.status().as_u16(),
        retry,
        r.body_mut().read_to_string().unwrap(),
    )
}

fn ws_error(v: &Value) -> &str {
    v["E"][0].as_str().unwrap_or("")
}

#[test]
fn max_nonces_are_one_increasing_sequence_per_key_across_rest_and_ws() {
    let s = servers();
    let n = unix_ms();
    assert_eq!(rest_get(&s, n).0, 200);
    let mut ws = connect(&s.max_ws.url());
    // The nonce REST took, or an older one: used.
    let v = auth(&mut ws, n);
    assert_eq!(ws_error(&v), "E-1012: nonce has already been used", "{v}");
    let v = auth(&mut ws, n - 5);
    assert_eq!(ws_error(&v), "E-1012: nonce has already been used", "{v}");
    assert_eq!(auth(&mut ws, n + 10)["e"], "authenticated");
    // REST below what WS took: 2006.
    let (st, _, body) = rest_get(&s, n + 5);
    assert!(
        st == 400
            && body.contains("2006")
            && body.contains("The nonce has already been used by access key."),
        "{st} {body}"
    );
    assert_eq!(rest_get(&s, n + 11).0, 200);
    // More than 30 s off: 2007 / E-1006.
    let (st, _, body) = rest_get(&s, unix_ms() + 40_000);
    assert!(st == 400 && body.contains("2007"), "{st} {body}");
    let mut ws2 = connect(&s.max_ws.url());
    let v = auth(&mut ws2, unix_ms() - 40_000);
    assert_eq!(
        ws_error(&v),
        "E-1006: invalid nonce (difference of 30 seconds or more)",
        "{v}"
    );
    assert_eq!(s.account.nonce_refusals(), 5);
    assert_eq!(s.max_nonce_refusals(), 5);
    assert_eq!(s.account.nonce_ledger().last(KEY), Some(n + 11));
}

#[test]
fn a_max_ban_refuses_rest_and_ws_is_prolonged_by_early_attempts_and_lifts_by_itself() {
    let s = servers();
    let ws_url = s.max_ws.url();
    let until = unix_s() + 2;
    s.ban_max_until(until);
    // The first refusal tells the absolute time to come back.
    let (st, retry, _) = rest_get(&s, unix_ms());
    assert_eq!((st, retry), (429, Some(until.to_string())));
    assert_eq!(
        (s.max_ban().attempts_refused(), s.max_ban().early_attempts()),
        (1, 0)
    );
    // Coming back early (here over WebSocket: the ban is venue-wide) prolongs it — once past
    // the moment a request already in flight could have crossed the refusal.
    std::thread::sleep(Duration::from_millis(
        arbline::sim::venue_ban::IN_FLIGHT_GRACE_MS + 50,
    ));
    let (st, retry) = try_connect(&ws_url).expect_err("refused");
    assert_eq!(st, 429);
    let prolonged: u64 = retry.unwrap().parse().unwrap();
    assert!(prolonged > until, "{prolonged} > {until}");
    assert_eq!(s.max_ws.early_attempts(), 1);
    assert_eq!(s.max_ws.attempts_refused(), 2);
    // At the (prolonged) end it lifts by itself.
    while unix_ms() < prolonged * 1000 {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(rest_get(&s, unix_ms()).0, 200);
    let mut ws = connect(&ws_url);
    assert!(answers_ping(&mut ws, Duration::from_secs(2)));
    assert_eq!(s.max_ban().attempts_refused(), 2);
    // `ban_until(0)` lifts a ban at once.
    s.ban_max_until(unix_s() + 60);
    assert_eq!(rest_get(&s, unix_ms()).0, 429);
    s.ban_max_until(0);
    assert_eq!(rest_get(&s, unix_ms()).0, 200);
    assert!(try_connect(&ws_url).is_ok());
    assert_eq!(s.max_ban().early_attempts(), 1);
}

#[test]
fn a_binance_ban_answers_seconds_from_now_and_lifts_by_itself() {
    let sim = binance_sim(|_| {});
    let ws_url = format!("{}/stream?streams=btcusdt@bookTicker", sim.ws_base());
    let depth = format!(
        "{}/fapi/v1/depth?symbol=BTCUSDT&limit=1000",
        sim.rest_base()
    );
    let until_ms = (unix_s() + 3) * 1000;
    sim.ban_until(until_ms / 1000);
    let r = agent().get(&depth).call().unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let secs: u64 = r.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&secs), "seconds from now: {secs}");
    std::thread::sleep(Duration::from_millis(
        arbline::sim::venue_ban::IN_FLIGHT_GRACE_MS + 50,
    ));
    let (st, retry) = try_connect(&ws_url).expect_err("refused");
    assert_eq!(st, 429);
    let secs2: u64 = retry.unwrap().parse().unwrap();
    assert!(secs2 <= secs, "not prolonged: {secs2} <= {secs}");
    assert_eq!((sim.attempts_refused(), sim.early_attempts()), (2, 1));
    while unix_ms() < until_ms {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(agent().get(&depth).call().unwrap().status().as_u16(), 200);
    let mut ws = connect(&ws_url);
    assert!(next_json(&mut ws, Duration::from_secs(3)).is_some());
    sim.ban_until(unix_s() + 60);
    assert_eq!(agent().get(&depth).call().unwrap().status().as_u16(), 429);
    sim.ban_until(0);
    assert_eq!(agent().get(&depth).call().unwrap().status().as_u16(), 200);
}
