//! The order lane (`venue::max::order_http`) over real sockets: creates and cancels against the
//! simulator on one keep-alive connection, over `http://` and through a TLS proxy with a test
//! CA; and against scripted raw servers, the failure rules — a server closing between requests
//! costs a new connection, not an error; an answer lost after the request was written is a
//! transport error and the create is not sent again; a 429 bans the venue.

#[path = "support/max_fixture.rs"]
mod max_fixture;
#[path = "support/tls_proxy.rs"]
mod tls_proxy;

use arbline::model::{ClientOid, Fixed, OrderType, Side, WalletType};
use arbline::pipeline::EngineClock;
use arbline::sim::max_rest::{MaxRestSim, SimMarket};
use arbline::venue::max::MaxSigner;
use arbline::venue::max::rest_client::{MaxRestClient, NewOrder, OrderRef, RestError};
use max_fixture::fixture;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;
use tls_proxy::{Pki, TlsProxy};

fn client(base: &str) -> MaxRestClient {
    MaxRestClient::new(base, MaxSigner::new("k", "s"), Duration::from_secs(5)).with_rate_limit(
        100_000_000,
        100_000,
        0,
    )
}

fn order<'a>(market: &'a str, oid: &'a ClientOid) -> NewOrder<'a> {
    NewOrder {
        wallet: WalletType::Spot,
        market,
        side: Side::Buy,
        ord_type: OrderType::Limit,
        price: Fixed::parse("31.5").unwrap(),
        volume: Fixed::from_int(100),
        client_oid: oid,
    }
}

fn oid(i: usize) -> ClientOid {
    ClientOid::from_bytes(format!("lane_{i}").as_bytes()).unwrap()
}

fn sim() -> MaxRestSim {
    MaxRestSim::start("127.0.0.1:0", &[("k", "s")], vec![SimMarket::usdttwd()]).unwrap()
}

/// Creates `ids` (client ids from [`oid`]), each cancelled, on `c`.
fn creates_and_cancels(c: &mut MaxRestClient, ids: std::ops::Range<usize>) {
    for i in ids {
        let o = oid(i);
        let placed = c.create_order(&order("usdttwd", &o)).expect("create");
        assert_eq!(placed.client_oid, o);
        c.cancel_order(OrderRef::Id(placed.id)).expect("cancel");
    }
}

#[test]
fn creates_and_cancels_share_one_keep_alive_connection() {
    let sim = sim();
    let clock = EngineClock::new();
    let mut c = client(&sim.base_url()).with_clock(clock.clone());
    let before = clock.raw();
    creates_and_cancels(&mut c, 0..200);
    assert_eq!(
        c.order_lane_connects(),
        1,
        "one connection for 400 requests"
    );
    assert!(c.last_sent() >= before, "the lane stamps when it writes");
    assert_eq!(
        sim.signed_by("k"),
        400,
        "every request authenticated, none twice"
    );
    // A cancel by client id, and a cancel of an unknown order: the venue's error, classified.
    let o = oid(1000);
    c.create_order(&order("usdttwd", &o)).unwrap();
    c.cancel_order(OrderRef::ClientOid(&o)).unwrap();
    match c.cancel_order(OrderRef::Id(999_999_999)) {
        Err(RestError::Api(e)) => assert!((400..500).contains(&e.http_status), "{e}"),
        other => panic!("expected the venue's refusal: {other:?}"),
    }
    // Other requests still go through ureq, beside the lane.
    assert!(c.get_order(OrderRef::ClientOid(&o)).is_ok());
    creates_and_cancels(&mut c, 2000..2003);
    assert_eq!(c.order_lane_connects(), 1);
}

#[test]
fn over_tls_with_a_test_ca() {
    let sim = sim();
    let pki = Pki::new("order-lane");
    let up: SocketAddr = sim
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = TlsProxy::start(up, pki.server.clone());
    let base = proxy.base().replace("wss://", "https://");
    let mut c = client(&base).with_tls(pki.trust());
    creates_and_cancels(&mut c, 0..50);
    assert_eq!(c.order_lane_connects(), 1);
    // Mozilla's roots alone do not vouch for the test CA: a transport error, nothing sent.
    let mut untrusting = client(&base);
    let o = oid(0);
    match untrusting.create_order(&order("usdttwd", &o)) {
        Err(RestError::Transport(m)) => assert!(m.contains("connect"), "{m}"),
        other => panic!("expected a TLS failure: {other:?}"),
    }
}

/// How a scripted server answers each request on a connection.
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// The order fixture, then the connection closed with `Connection: close`.
    OrderThenClose,
    /// The order fixture, then the connection closed without a word.
    OrderThenSilentClose,
    /// Nothing: the connection closed once the request was read.
    Nothing,
    /// 429 with `Retry-After: 30`, keep-alive.
    TooMany,
    /// Nothing for 2 s, then the connection closed.
    Hang,
    /// A nonce refusal (2006), then the order fixture, keep-alive.
    NonceThenOrder,
}

/// One request read off `r`: its request line, and whether it came whole.
fn read_request(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        if h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(line)
}

/// A server answering every request with `answer`; each request line read (and each close,
/// as "closed") is sent on the channel.
fn scripted(answer: Answer) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(s) = s else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                let mut seen = 0;
                while let Some(line) = read_request(&mut r) {
                    seen += 1;
                    let _ = tx.send(line);
                    let body = fixture("rest_v3_order_create_limit_buy_201_bbgo.json");
                    let (status, extra, body) = match answer {
                        Answer::OrderThenClose => ("201 Created", "Connection: close\r\n", body),
                        Answer::OrderThenSilentClose => ("201 Created", "", body),
                        Answer::Nothing => break,
                        Answer::Hang => {
                            std::thread::sleep(Duration::from_secs(2));
                            break;
                        }
                        Answer::NonceThenOrder if seen == 1 => (
                            "400 Bad Request",
                            "",
                            br#"{"success":false,"error":{"code":2006,"message":"nonce used"}}"#
                                .to_vec(),
                        ),
                        Answer::NonceThenOrder => ("201 Created", "", body),
                        Answer::TooMany => (
                            "429 Too Many Requests",
                            "Retry-After: 30\r\n",
                            br#"{"success":false,"error":{"code":429,"message":"slow down"}}"#
                                .to_vec(),
                        ),
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}\
                         Content-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = w.write_all(head.as_bytes());
                    let _ = w.write_all(&body);
                    if !matches!(answer, Answer::TooMany | Answer::NonceThenOrder) {
                        break;
                    }
                }
                let _ = w.shutdown(std::net::Shutdown::Both);
                let _ = tx.send("closed".into());
            });
        }
    });
    (base, rx)
}

fn next(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the server saw something")
}

#[test]
fn a_server_closing_between_requests_costs_a_connection_not_an_error() {
    for answer in [Answer::OrderThenClose, Answer::OrderThenSilentClose] {
        let (base, rx) = scripted(answer);
        let mut c = client(&base);
        for i in 0..5 {
            let o = oid(i);
            let placed = c.create_order(&order("btcusdt", &o));
            assert!(placed.is_ok(), "{answer:?} #{i}: {placed:?}");
            assert!(next(&rx).starts_with("POST /api/v3/wallet/spot/order HTTP/1.1"));
            // The server has closed before the next request is sent.
            assert_eq!(next(&rx), "closed");
        }
        assert_eq!(c.order_lane_connects(), 5, "{answer:?}");
    }
}

#[test]
fn keeping_the_lane_warm_reopens_a_closed_connection_before_the_next_order() {
    let (base, rx) = scripted(Answer::OrderThenClose);
    let mut c = client(&base);
    assert!(
        c.keep_order_lane_warm().unwrap(),
        "connects ahead of the first order"
    );
    assert!(
        !c.keep_order_lane_warm().unwrap(),
        "already open: nothing to do"
    );
    assert!(c.create_order(&order("btcusdt", &oid(0))).is_ok());
    assert!(next(&rx).starts_with("POST "));
    assert_eq!(next(&rx), "closed");
    assert_eq!(
        c.order_lane_connects(),
        1,
        "the order went on the warm connection"
    );
    assert!(
        c.keep_order_lane_warm().unwrap(),
        "the server closed it: reopened"
    );
    assert_eq!(c.order_lane_connects(), 2);
    assert!(c.create_order(&order("btcusdt", &oid(1))).is_ok());
    assert!(next(&rx).starts_with("POST "));
    assert_eq!(
        c.order_lane_connects(),
        2,
        "the next order paid for no connection"
    );
}

#[test]
fn a_create_whose_answer_is_lost_is_a_transport_error_and_is_not_resent() {
    let (base, rx) = scripted(Answer::Nothing);
    let mut c = client(&base);
    let o = oid(0);
    match c.create_order(&order("btcusdt", &o)) {
        Err(e @ RestError::Transport(_)) => {
            let m = e.to_string();
            assert!(m.contains("connection closed after 0 bytes"), "{m}");
        }
        other => panic!("expected a transport error: {other:?}"),
    }
    assert!(next(&rx).starts_with("POST "));
    assert_eq!(next(&rx), "closed");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the create was sent once"
    );
    assert_eq!(c.order_lane_connects(), 1);
}

#[test]
fn a_429_on_the_lane_bans_the_venue() {
    let (base, rx) = scripted(Answer::TooMany);
    let mut c = client(&base);
    let o = oid(0);
    match c.create_order(&order("btcusdt", &o)) {
        Err(RestError::Api(e)) => assert_eq!(e.http_status, 429, "{e}"),
        other => panic!("expected the 429: {other:?}"),
    }
    assert!(next(&rx).starts_with("POST "));
    // The ban holds the next request back, unsent.
    match c.cancel_order(OrderRef::Id(1)) {
        Err(RestError::Api(e)) => assert!(e.message.contains("venue ban"), "{e}"),
        other => panic!("expected the ban: {other:?}"),
    }
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
}

#[test]
fn a_server_that_is_gone_is_a_transport_error() {
    let base = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut c = client(&base);
    let o = oid(0);
    assert!(matches!(
        c.create_order(&order("btcusdt", &o)),
        Err(RestError::Transport(_))
    ));
    assert!(matches!(
        c.cancel_order(OrderRef::Id(1)),
        Err(RestError::Transport(_))
    ));
}

#[test]
fn a_create_unanswered_within_the_timeout_is_a_transport_error_and_is_not_resent() {
    let (base, rx) = scripted(Answer::Hang);
    let mut c = MaxRestClient::new(&base, MaxSigner::new("k", "s"), Duration::from_millis(300));
    let o = oid(0);
    let t0 = std::time::Instant::now();
    match c.create_order(&order("btcusdt", &o)) {
        Err(e @ RestError::Transport(_)) => {
            let m = e.to_string();
            assert!(m.contains("no complete response within 300ms"), "{m}");
        }
        other => panic!("expected a timeout: {other:?}"),
    }
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "the timeout was honoured"
    );
    assert!(next(&rx).starts_with("POST "));
    assert_eq!(next(&rx), "closed");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the create was sent once"
    );
}

#[test]
fn a_nonce_refusal_on_the_lane_is_retried_once_on_the_same_connection() {
    let (base, rx) = scripted(Answer::NonceThenOrder);
    let mut c = client(&base);
    let o = oid(0);
    let placed = c.create_order(&order("btcusdt", &o));
    assert!(placed.is_ok(), "{placed:?}");
    assert!(next(&rx).starts_with("POST "));
    assert!(next(&rx).starts_with("POST "));
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    assert_eq!(c.order_lane_connects(), 1);
}
