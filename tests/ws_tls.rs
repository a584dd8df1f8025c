//! `wss://` over real loopback sockets: a test CA (made with rcgen, `support/tls_proxy.rs`) signs
//! a certificate for 127.0.0.1 and a local rustls server speaks WebSocket over it.
//!
//! - With the CA in `tls_ca_file`, the shared connect speaks TLS, the non-blocking drain returns
//!   at once when nothing has arrived, frames flow both ways, and a close is seen.
//! - Without it the certificate is refused with an error that says why and what to do, and the
//!   MAX feed backs off and retries instead of panicking.
//! - A parked thread's readiness wait (edge-triggered `epoll`) wakes for every burst sent over
//!   TLS, and each drain takes everything that arrived: nothing stays in rustls or tungstenite
//!   waiting for a socket event that will not come.
//! - The MAX public feed, through a TLS-terminating proxy in front of the simulator, builds books
//!   equal to the simulator's, reconnects after a drop, and honours a 429 ban, all over TLS.

use arbline::book::{BookStage, BookStageParts};
use arbline::config::Config;
use arbline::feed::max_ws_feed::{MaxWsFeed, MaxWsFeedParts};
use arbline::feed::ws_conn::{ConnectError, connect, drain, flush_failed, send, wait_fd};
use arbline::model::{BookStatus, Instruments, Venue};
use arbline::pipeline::board::MidBoard;
use arbline::pipeline::board::ResyncRequests;
use arbline::pipeline::{EngineClock, Readiness, Rings, Shutdown, Stage};
use arbline::sim::max_ws::MaxWsSim;
use arbline::telemetry::{EngineCounters, telemetry_queue};
use arbline::venue::tls::TlsTrust;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tls_proxy::{Pki, TlsProxy, accept_tls, upstream};
use tungstenite::Message;

#[path = "support/tls_proxy.rs"]
mod tls_proxy;
#[path = "support/wait.rs"]
mod wait;
use wait::PATIENCE;

fn poll_until(mut done: impl FnMut() -> bool, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    done()
}

#[test]
fn connect_speaks_tls_with_the_configured_ca_and_the_drain_does_not_block() {
    let pki = Pki::new("drain");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (go_tx, go_rx) = crossbeam::channel::bounded::<()>(1);
    let server_cfg = pki.server.clone();
    let server = std::thread::spawn(move || {
        let tls = accept_tls(&listener, &server_cfg).expect("TLS handshake");
        let mut ws = tungstenite::accept(tls).expect("WebSocket upgrade");
        let first = ws.read().unwrap();
        go_rx.recv().unwrap();
        for i in 0..3 {
            ws.send(Message::text(format!("{{\"n\":{i}}}"))).unwrap();
        }
        ws.send(Message::text(format!("echo {}", first.to_text().unwrap())))
            .unwrap();
        go_rx.recv().unwrap();
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });

    let url = format!("wss://{addr}/ws");
    let (mut ws, resp) = connect(
        &url,
        &pki.trust(),
        Duration::from_secs(5),
        &EngineClock::new(),
    )
    .unwrap();
    assert_eq!(resp.status().as_u16(), 101);
    assert!(ws.get_ref().is_tls(), "wss:// is TLS");
    assert!(ws.get_ref().tcp().nodelay().unwrap(), "TCP_NODELAY on");
    send(&mut ws, Message::text("hello")).unwrap();
    assert!(!flush_failed(&mut ws));

    // Nothing sent yet: the drain finds WouldBlock and returns at once, connection healthy.
    let clock = EngineClock::new();
    let t = Instant::now();
    for _ in 0..100 {
        let (n, closed) = drain(&mut ws, &clock, |_, _| {});
        assert_eq!((n, closed), (0, false));
    }
    let per_call = t.elapsed() / 100;
    assert!(
        per_call < Duration::from_millis(5),
        "an empty drain took {per_call:?}"
    );

    go_tx.send(()).unwrap();
    let mut got: Vec<String> = Vec::new();
    let mut closed = false;
    let arrived = poll_until(
        || {
            let (_, c) = drain(&mut ws, &clock, |b, ts| {
                // Stamped when the socket read that brought the frame returned: before now.
                assert!(ts > 0 && ts <= clock.raw(), "frame stamp {ts}");
                got.push(String::from_utf8_lossy(b).into_owned())
            });
            closed |= c;
            got.len() >= 4 || closed
        },
        PATIENCE,
    );
    assert!(
        arrived,
        "gave up after {PATIENCE:?} waiting for the server's four frames: {got:?}"
    );
    assert!(!closed);
    assert_eq!(got, ["{\"n\":0}", "{\"n\":1}", "{\"n\":2}", "echo hello"]);

    // The server closes: the drain reports it.
    go_tx.send(()).unwrap();
    assert!(
        poll_until(
            || {
                let (_, c) = drain(&mut ws, &clock, |_, _| {});
                let _ = flush_failed(&mut ws);
                c
            },
            PATIENCE
        ),
        "gave up after {PATIENCE:?} waiting for the drain to report the server's close"
    );
    drop(ws);
    server.join().unwrap();
}

/// Bursts of frames written at once (one TLS record holds several WebSocket frames, so rustls
/// decrypts more than tungstenite asks for): the wait, a minute long, ends by waking (well
/// before its timeout) for each burst, and draining after each wake collects every frame of it.
#[test]
fn over_tls_the_readiness_wait_wakes_for_each_burst_and_leaves_nothing_buffered() {
    const BURSTS: usize = 4;
    const FRAMES: usize = 5;
    let pki = Pki::new("readiness");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (go_tx, go_rx) = crossbeam::channel::bounded::<()>(1);
    let server_cfg = pki.server.clone();
    let server = std::thread::spawn(move || {
        let tls = accept_tls(&listener, &server_cfg).expect("TLS handshake");
        let mut ws = tungstenite::accept(tls).expect("WebSocket upgrade");
        for b in 0..BURSTS {
            go_rx.recv().unwrap();
            for f in 0..FRAMES {
                ws.write(Message::text(format!("{{\"b\":{b},\"f\":{f}}}")))
                    .unwrap();
            }
            ws.flush().unwrap();
        }
        go_rx.recv().unwrap();
        let _ = ws.close(None);
    });

    let url = format!("wss://{addr}/ws");
    let (mut ws, _) = connect(
        &url,
        &pki.trust(),
        Duration::from_secs(5),
        &EngineClock::new(),
    )
    .unwrap();
    let clock = EngineClock::new();
    let mut ready = Readiness::new();
    let mut got = 0;
    for b in 0..BURSTS {
        // The thread has drained to WouldBlock (the session ticket, an earlier burst).
        let (_, closed) = drain(&mut ws, &clock, |_, _| got += 1);
        assert!(!closed);
        assert_eq!(got, b * FRAMES);
        go_tx.send(()).unwrap();
        while got < (b + 1) * FRAMES {
            let t = Instant::now();
            let sock = wait_fd(&ws, 1);
            let woke = ready.wait(PATIENCE, |out| out.push(sock));
            let took = t.elapsed();
            assert!(
                woke && took < PATIENCE / 2,
                "burst {b}: {got} frames so far, the wait ended after {took:?} (woke: {woke})"
            );
            let (_, closed) = drain(&mut ws, &clock, |_, _| got += 1);
            assert!(!closed);
        }
        assert_eq!(got, (b + 1) * FRAMES, "burst {b}: nothing more than sent");
    }
    assert_eq!(ready.counts().registered, 1);
    go_tx.send(()).unwrap();
    drop(ws);
    server.join().unwrap();
}

/// What a refused connection attempt says, case by case (the servers hang up after the
/// failed handshake, like the proxy does).
#[test]
fn refused_certificates_say_why() {
    let pki = Pki::new("refused");
    let other = Pki::new("other");
    let misnamed = Pki::for_names("misnamed", &["example.com"]);
    let unused: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let server = TlsProxy::start(unused, pki.server.clone());
    let misnamed_server = TlsProxy::start(unused, misnamed.server.clone());
    let cases = [
        (
            "Mozilla's roots only: the test CA is unknown, the fix is named",
            TlsTrust::webpki(),
            server.url(),
            "UnknownIssuer (the certificate is not signed by a trusted root; behind a \
             TLS-inspecting proxy, add its CA with tls_ca_file)",
        ),
        (
            "another CA configured",
            other.trust(),
            server.url(),
            "UnknownIssuer",
        ),
        (
            "the right CA, a certificate for another name",
            misnamed.trust(),
            misnamed_server.url(),
            "(the certificate is for another host)",
        ),
    ];
    for (name, trust, url, want) in cases {
        let e = connect(&url, &trust, Duration::from_secs(5), &EngineClock::new()).err();
        let Some(e @ ConnectError::Tls(msg)) = &e else {
            panic!("{name}: {e:?}");
        };
        assert!(msg.contains(want), "{name}: {e}");
        assert!(
            e.to_string().starts_with("TLS failed: 127.0.0.1:"),
            "{name}: {e}"
        );
    }
}

#[test]
fn connect_refuses_urls_it_cannot_use() {
    let t = TlsTrust::webpki();
    for (url, want) in [
        ("http://127.0.0.1:1/ws", "ws:// or wss://"),
        ("wss:///ws", "bad WebSocket URL"),
        ("not a url", "bad WebSocket URL"),
    ] {
        let e = connect(url, &t, Duration::from_secs(1), &EngineClock::new())
            .err()
            .unwrap();
        assert!(
            matches!(e, ConnectError::Url(_)) && e.to_string().contains(want),
            "{url}: {e}"
        );
    }
    let e = connect(
        "wss://127.0.0.1:1/ws",
        &t,
        Duration::from_secs(1),
        &EngineClock::new(),
    )
    .err()
    .unwrap();
    assert!(matches!(e, ConnectError::Io(_)), "refused port: {e}");
}

struct Rig {
    feed: MaxWsFeed,
    book: BookStage,
    instruments: Instruments,
    _keep: arbline::pipeline::ring::BookPoller,
}

fn rig(url: String, tls: TlsTrust) -> Rig {
    let cfg = Config::default();
    let instruments = cfg.instruments().unwrap();
    let rings = Rings::new(cfg.ring_sizes());
    let counters = Arc::new(EngineCounters::default());
    let resync = Arc::new(ResyncRequests::default());
    let clock = EngineClock::new();
    let (tx, _rx) = telemetry_queue("t", 1024);
    let (md_prod, md_poll) = rings.md;
    let (book_prod, book_poll) = rings.book;
    let feed = MaxWsFeed::new(MaxWsFeedParts {
        url,
        tls,
        instruments: instruments.clone(),
        md: md_prod,
        resync: resync.clone(),
        clock: clock.clone(),
        counters: counters.clone(),
        tele: tx.clone(),
        shutdown: Shutdown::new(),
    });
    let book = BookStage::new(BookStageParts {
        md: md_poll,
        out: book_prod,
        instruments: instruments.clone(),
        binance_ticker_tops: true,
        resync,
        mids: Arc::new(MidBoard::default()),
        clock,
        counters,
        tele: tx,
        batch: 64,
        stale_after_ms: 5000,
        live: Arc::new(arbline::pipeline::board::LiveBoard::new(64)),
        live_timeout_ms: 0,
    });
    Rig {
        feed,
        book,
        instruments,
        _keep: book_poll,
    }
}

/// Drives the feed and the book until every MAX book equals the simulator's (or the deadline:
/// the error says what was waited for and the last difference seen).
fn converge(r: &mut Rig, sim: &MaxWsSim, within: Duration) -> Result<(), String> {
    let markets: Vec<_> = r
        .instruments
        .iter()
        .filter(|i| i.venue == Venue::Max)
        .map(|i| (i.id, i.symbol.to_lowercase()))
        .collect();
    let mut last = String::new();
    let ok = poll_until(
        || {
            for _ in 0..200 {
                r.feed.poll();
                r.book.poll();
            }
            markets.iter().all(|(id, m)| {
                let Some((bids, asks, _)) = sim.book(m) else {
                    return false;
                };
                let local = r.book.book(*id);
                let ok = r.book.status(*id) == BookStatus::Live
                    && local.bids.top(1000).eq(bids.iter().copied())
                    && local.asks.top(1000).eq(asks.iter().copied());
                if !ok {
                    last = format!(
                        "{m}: {:?}, last connect error: {:?}",
                        r.book.status(*id),
                        r.feed.last_connect_error().map(|e| e.to_string())
                    );
                }
                ok
            })
        },
        within,
    );
    if ok {
        Ok(())
    } else {
        Err(format!(
            "gave up after {within:?} waiting for every MAX book to be Live and equal to the \
             simulator's; last difference: {last}"
        ))
    }
}

#[test]
fn the_max_feed_builds_its_books_over_wss_and_reconnects() {
    let pki = Pki::new("feed");
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let proxy = TlsProxy::start(upstream(&sim.url()), pki.server.clone());
    let mut r = rig(proxy.url(), pki.trust());
    converge(&mut r, &sim, PATIENCE).expect("after start");
    assert_eq!(r.feed.connects, 1);
    assert!(r.feed.last_connect_error().is_none());
    sim.drop_connections();
    assert!(
        poll_until(
            || {
                r.feed.poll();
                r.book.poll();
                r.feed.connects >= 2
            },
            PATIENCE
        ),
        "gave up after {PATIENCE:?} waiting for the feed to reconnect over wss://: {:?}",
        r.feed.last_connect_error().map(|e| e.to_string())
    );
    converge(&mut r, &sim, PATIENCE).expect("after the reconnect");
}

#[test]
fn without_the_ca_the_max_feed_reports_the_certificate_and_backs_off() {
    let pki = Pki::new("noca");
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let proxy = TlsProxy::start(upstream(&sim.url()), pki.server.clone());
    let mut r = rig(proxy.url(), TlsTrust::webpki());
    r.feed.poll();
    assert!(!r.feed.is_connected());
    let e = r.feed.last_connect_error().expect("a connect error");
    assert!(
        matches!(e, ConnectError::Tls(m) if m.contains("UnknownIssuer")),
        "{e}"
    );
    let first_retry = r.feed.next_attempt();
    assert!(first_retry > Instant::now(), "backs off before retrying");
    // Retries keep failing the same way, further apart, and nothing panics.
    assert!(
        poll_until(
            || {
                r.feed.poll();
                r.book.poll();
                r.feed.next_attempt() > first_retry
            },
            PATIENCE
        ),
        "gave up after {PATIENCE:?} waiting for the feed to retry and back off again"
    );
    assert_eq!(r.feed.connects, 0);
    assert!(
        matches!(r.feed.last_connect_error(), Some(ConnectError::Tls(m)) if m.contains("UnknownIssuer")),
        "{:?}",
        r.feed.last_connect_error().map(|e| e.to_string())
    );
}

#[test]
fn a_429_over_wss_is_honoured_until_its_retry_after_time() {
    let pki = Pki::new("ban");
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let proxy = TlsProxy::start(upstream(&sim.url()), pki.server.clone());
    let mut r = rig(proxy.url(), pki.trust());
    converge(&mut r, &sim, PATIENCE).expect("after start");
    // Far enough out that the feed's retry is refused even on a slow machine.
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 5;
    sim.ban_until(until);
    sim.drop_connections();
    let mut refused: Option<u16> = None;
    assert!(
        poll_until(
            || {
                r.feed.poll();
                r.book.poll();
                if let Some(s) = r.feed.last_connect_error().and_then(|e| e.http_status()) {
                    refused = Some(s);
                }
                refused.is_some() && !r.feed.is_connected()
            },
            PATIENCE
        ),
        "gave up after {PATIENCE:?} waiting for a reconnect refused with an HTTP status: {:?}",
        r.feed.last_connect_error().map(|e| e.to_string())
    );
    assert_eq!(refused, Some(429));
    assert!(
        r.feed.next_attempt() > Instant::now() + Duration::from_millis(500),
        "Retry-After pushed the next attempt out"
    );
    sim.ban_until(0);
    assert!(
        poll_until(
            || {
                r.feed.poll();
                r.book.poll();
                r.feed.connects >= 2
            },
            PATIENCE
        ),
        "gave up after {PATIENCE:?} waiting for the feed to reconnect after the ban: {:?}",
        r.feed.last_connect_error().map(|e| e.to_string())
    );
    let back_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        back_at >= until as f64 - 0.001,
        "came back at {back_at}, before the ban ended at {until}"
    );
    converge(&mut r, &sim, PATIENCE).expect("after the ban");
}
