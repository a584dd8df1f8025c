//! The simulator's Binance market data: combined-stream WebSocket (`/stream?streams=…`, or
//! `/public/stream` as the 2026 USDⓈ-M routing has it) with `<symbol>@depth@100ms` and
//! `<symbol>@bookTicker`, and the REST depth snapshot (`GET /api/v3/depth`, `GET
//! /fapi/v1/depth`), driven by the synthetic market (spec binance.md §1–§3).
//!
//! Live `{"method":"SUBSCRIBE","params":[…],"id":N}` and `UNSUBSCRIBE` are answered with
//! `{"result":null,"id":N}`. A REST snapshot is the synthetic book as of its latest step, so its
//! `lastUpdateId` is the `u` of the last depth event sent: the event a client buffered straddles
//! it, as the book-sync rules expect.
//!
//! Binance closes every connection at 24 h, sending `serverShutdown` first (spec §1.1);
//! [`BinanceSim::cut_connections_after`] does the same at an age a test can wait for, and
//! [`BinanceSim::refuse_connections`] makes new connections fail while the open ones keep
//! serving, and [`BinanceSim::lag_every_other_connection`] makes two connections deliver the
//! same frames at different times, as two servers of the venue may.
//!
//! As strict as Binance (spec binance.md §1), always: more than `binance_max_incoming_per_s`
//! incoming messages (text, ping and pong frames) in any second drop the connection without a
//! word ([`BinanceSim::rate_limited_connections`]); the server pings every
//! `binance_ping_interval_ms` and drops a connection that sent no pong (any payload) within
//! `binance_pong_timeout_ms` of a ping ([`BinanceSim::closed_for_missing_pong`]); a
//! connection carries at most `binance_max_streams_per_connection` streams (Binance: 1024).
//! Binance documents the stream limit but not how it refuses, so the simulator picks: a
//! handshake URL naming more is answered `HTTP 400` with `{"code":2,"msg":"Invalid request:
//! N streams, at most M per connection"}` and no WebSocket, and a live `SUBSCRIBE` that would go
//! over subscribes nothing, gets `{"error":{"code":2,"msg":…},"id":N}` and the connection is
//! closed; both are counted ([`BinanceSim::too_many_streams`]). tungstenite's handshake reads
//! requests up to 64 KiB, so a URL with 1024 streams (about 25 KiB) is accepted.
//!
//! The REST depth endpoints charge each request its documented weight by `limit` and refuse
//! one the window (`binance_weight_window_ms`, a minute) has no room for, with 429, code -1003
//! and `Retry-After` ([`BinanceSim::weight_limited`]; see `weight.rs`): spot
//! `binance_spot_request_weight` (6000), futures `binance_futures_request_weight` (2400).
//!
//! Faults a test injects besides: [`BinanceSim::silence`] (open connections stop being read and
//! written but stay open) and [`BinanceSim::ban_until`] (429 with `Retry-After: <seconds from
//! now>` on handshakes and REST depth requests, see [`super::venue_ban`]).
//!
//! One concept per file: this one holds [`BinanceSim`] (its market, WebSocket and REST
//! threads, the test's handle) and the rules its connections follow; `conn.rs` serves one
//! connection (handshake, live `SUBSCRIBE`, limits, pings, the age cut, silencing).

mod conn;
mod weight;

use super::error::SimError;
use super::market::{MarketOutput, SyntheticMarket};
use super::max_ws::SimBook;
use super::venue_ban::{RetryAfter, VenueBan, refuse_handshake};
use crate::config::sim::SimConfig;
use crate::model::Venue;
use crate::sim::binance_frames::{write_book_ticker, write_depth_snapshot, write_depth_update};
use crate::venue::binance::BinanceMarket;
use crate::venue::binance::weight::depth_weight;
use conn::{hold, serve};
use crossbeam::channel::unbounded;
use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use weight::{WeightLimit, too_much_weight};
/// Connection rules a test may change while the simulator runs.
struct ConnRules {
    /// Close connections older than this, in ms (0: never): Binance's 24 h cut, scaled down.
    max_age_ms: AtomicU64,
    /// Send `serverShutdown` this many ms before the cut (`u64::MAX`: no notice).
    notice_ms: AtomicU64,
    /// Drop new connections before the handshake.
    refuse: AtomicBool,
    /// Delay, in ms, of every frame on the 2nd, 4th, … connection.
    lag_ms: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    /// Binance's limits, from the configuration.
    max_incoming_per_s: usize,
    max_streams: usize,
    ping_interval: Duration,
    pong_timeout: Duration,
    rate_limited: AtomicU64,
    too_many_streams: AtomicU64,
    missing_pong: AtomicU64,
    silenced: AtomicU64,
    /// Bumped by [`BinanceSim::silence`]: a connection opened before a bump goes silent.
    silence_gen: AtomicU64,
}

impl ConnRules {
    fn new(cfg: &SimConfig) -> Self {
        ConnRules {
            max_age_ms: AtomicU64::new(0),
            notice_ms: AtomicU64::new(u64::MAX),
            refuse: AtomicBool::new(false),
            lag_ms: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            max_incoming_per_s: cfg.binance_max_incoming_per_s.max(1) as usize,
            max_streams: cfg.binance_max_streams_per_connection.max(1) as usize,
            ping_interval: Duration::from_millis(cfg.binance_ping_interval_ms.max(1)),
            pong_timeout: Duration::from_millis(cfg.binance_pong_timeout_ms.max(1)),
            rate_limited: AtomicU64::new(0),
            too_many_streams: AtomicU64::new(0),
            missing_pong: AtomicU64::new(0),
            silenced: AtomicU64::new(0),
            silence_gen: AtomicU64::new(0),
        }
    }
}
struct Conn {
    id: u64,
    streams: Arc<Mutex<HashSet<String>>>,
    frames: crossbeam::channel::Sender<(Instant, Arc<String>)>,
}

pub struct BinanceSim {
    ws_addr: SocketAddr,
    rest_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    kick: Arc<AtomicU64>,
    rules: Arc<ConnRules>,
    ban: Arc<VenueBan>,
    /// Depth requests refused for want of request weight.
    weight_limited: Arc<AtomicU64>,
    books: Arc<Mutex<HashMap<String, (Venue, SimBook)>>>,
    threads: Vec<JoinHandle<()>>,
}

fn market_of(v: Venue) -> BinanceMarket {
    if v == Venue::BinanceFutures {
        BinanceMarket::Futures
    } else {
        BinanceMarket::Spot
    }
}

impl BinanceSim {
    pub fn start(ws_addr: &str, rest_addr: &str, cfg: &SimConfig) -> Result<BinanceSim, SimError> {
        let listener = TcpListener::bind(ws_addr).map_err(SimError::bind("Binance WS", ws_addr))?;
        listener
            .set_nonblocking(true)
            .map_err(SimError::socket("Binance WS"))?;
        let ws_local = listener
            .local_addr()
            .map_err(SimError::socket("Binance WS"))?;
        let http = tiny_http::Server::http(rest_addr)
            .map_err(SimError::bind_http("Binance REST", rest_addr))?;
        let rest_local = http.server_addr().to_ip().ok_or(SimError::NotIp {
            server: "Binance REST",
        })?;
        let mut sim_market = SyntheticMarket::new(cfg)?;
        let stop = Arc::new(AtomicBool::new(false));
        let kick = Arc::new(AtomicU64::new(0));
        let rules = Arc::new(ConnRules::new(cfg));
        let weight_limited = Arc::new(AtomicU64::new(0));
        let ban = Arc::new(VenueBan::new(RetryAfter::DeltaSeconds));
        let books: Arc<Mutex<HashMap<String, (Venue, SimBook)>>> =
            Arc::new(Mutex::new(HashMap::new()));
        let conns: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
        let epoch_ms = cfg.epoch_ms;
        let mut threads = Vec::new();
        {
            let (stop, books, conns) = (stop.clone(), books.clone(), conns.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("sim.binance.tick".into())
                    .spawn(move || {
                        let start = Instant::now();
                        let mut buf = Vec::with_capacity(16 * 1024);
                        while !stop.load(Ordering::Acquire) {
                            let t = start.elapsed().as_nanos() as u64;
                            let mut out: Vec<(String, String)> = Vec::new();
                            sim_market.poll(t, &mut |o| match o {
                                MarketOutput::BinanceDepth {
                                    venue,
                                    symbol,
                                    first_id,
                                    last_id,
                                    prev_id,
                                    event_ms,
                                    bids,
                                    asks,
                                } => {
                                    let lower = symbol.to_ascii_lowercase();
                                    write_depth_update(
                                        &mut buf,
                                        market_of(venue),
                                        &lower,
                                        first_id,
                                        last_id,
                                        prev_id,
                                        event_ms,
                                        bids,
                                        asks,
                                    );
                                    out.push((
                                        format!("{lower}@depth@100ms"),
                                        String::from_utf8_lossy(&buf).into_owned(),
                                    ));
                                }
                                MarketOutput::BinanceBookTicker {
                                    venue,
                                    symbol,
                                    update_id,
                                    event_ms,
                                    bid,
                                    ask,
                                } => {
                                    let lower = symbol.to_ascii_lowercase();
                                    write_book_ticker(
                                        &mut buf,
                                        market_of(venue),
                                        &lower,
                                        update_id,
                                        event_ms,
                                        bid,
                                        ask,
                                    );
                                    out.push((
                                        format!("{lower}@bookticker"),
                                        String::from_utf8_lossy(&buf).into_owned(),
                                    ));
                                }
                                _ => {}
                            });
                            if !out.is_empty() {
                                if let Ok(cs) = conns.lock() {
                                    let now = Instant::now();
                                    for (stream, f) in out {
                                        let f = (now, Arc::new(f));
                                        for k in cs.iter() {
                                            if k.streams
                                                .lock()
                                                .map(|s| s.contains(&stream))
                                                .unwrap_or(false)
                                            {
                                                let _ = k.frames.send(f.clone());
                                            }
                                        }
                                    }
                                }
                                if let Ok(mut b) = books.lock() {
                                    let syms: Vec<String> =
                                        sim_market.binance_symbols().map(str::to_string).collect();
                                    for s in syms {
                                        if let Some((v, bids, asks, u)) =
                                            sim_market.binance_book(&s)
                                        {
                                            b.insert(s, (v, (bids.to_vec(), asks.to_vec(), u)));
                                        }
                                    }
                                }
                            }
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    })
                    .map_err(SimError::spawn("sim.binance.tick"))?,
            );
        }
        {
            let (stop, books, ban) = (stop.clone(), books.clone(), ban.clone());
            let mut weight = WeightLimit::new(cfg);
            let weight_limited = weight_limited.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("sim.binance.rest".into())
                    .spawn(move || {
                        let mut buf = Vec::new();
                        while !stop.load(Ordering::Acquire) {
                            let Ok(Some(req)) = http.recv_timeout(Duration::from_millis(50)) else {
                                continue;
                            };
                            if let Some(secs) = ban.attempt() {
                                let mut resp = tiny_http::Response::from_data(Vec::new())
                                    .with_status_code(429);
                                if let Ok(h) =
                                    tiny_http::Header::from_bytes("Retry-After", secs.to_string())
                                {
                                    resp = resp.with_header(h);
                                }
                                let _ = req.respond(resp);
                                continue;
                            }
                            let url = req.url().to_string();
                            let (path, query) = url.split_once('?').unwrap_or((&url, ""));
                            let symbol = query
                                .split('&')
                                .find_map(|kv| kv.strip_prefix("symbol="))
                                .unwrap_or("")
                                .to_ascii_uppercase();
                            // The request's weight, by its market and `limit`.
                            let market = match path {
                                "/api/v3/depth" => Some(BinanceMarket::Spot),
                                "/fapi/v1/depth" => Some(BinanceMarket::Futures),
                                _ => None,
                            };
                            let mut used = None;
                            if let Some(m) = market {
                                let limit = query
                                    .split('&')
                                    .find_map(|kv| kv.strip_prefix("limit="))
                                    .and_then(|l| l.parse().ok());
                                match weight.charge(m, depth_weight(m, limit), Instant::now()) {
                                    Ok(u) => used = Some(u),
                                    Err((limit, secs)) => {
                                        weight_limited.fetch_add(1, Ordering::AcqRel);
                                        let mut resp = tiny_http::Response::from_data(
                                            too_much_weight(m, limit).into_bytes(),
                                        )
                                        .with_status_code(429);
                                        if let Ok(h) = tiny_http::Header::from_bytes(
                                            "Retry-After",
                                            secs.to_string(),
                                        ) {
                                            resp = resp.with_header(h);
                                        }
                                        let _ = req.respond(resp);
                                        continue;
                                    }
                                }
                            }
                            let found = books.lock().ok().and_then(|b| b.get(&symbol).cloned());
                            let (status, body) = match (path, found) {
                                (
                                    "/api/v3/depth" | "/fapi/v1/depth",
                                    Some((venue, (bids, asks, u))),
                                ) => {
                                    let ms = epoch_ms + u % 1000;
                                    write_depth_snapshot(
                                        &mut buf,
                                        market_of(venue),
                                        u,
                                        ms,
                                        &bids,
                                        &asks,
                                    );
                                    (200, buf.clone())
                                }
                                ("/api/v3/depth" | "/fapi/v1/depth", None) => {
                                    (400, br#"{"code":-1121,"msg":"Invalid symbol."}"#.to_vec())
                                }
                                _ => (404, br#"{"code":-1000,"msg":"Not found."}"#.to_vec()),
                            };
                            let mut resp =
                                tiny_http::Response::from_data(body).with_status_code(status);
                            if let Some(u) = used
                                && let Ok(h) = tiny_http::Header::from_bytes(
                                    "X-MBX-USED-WEIGHT-1M",
                                    u.to_string(),
                                )
                            {
                                resp = resp.with_header(h);
                            }
                            let _ = req.respond(resp);
                        }
                    })
                    .map_err(SimError::spawn("sim.binance.rest"))?,
            );
        }
        {
            let (stop, conns, kick, rules, ban) = (
                stop.clone(),
                conns.clone(),
                kick.clone(),
                rules.clone(),
                ban.clone(),
            );
            threads.push(
                std::thread::Builder::new()
                    .name("sim.binance.accept".into())
                    .spawn(move || {
                        let mut next_id = 1;
                        while !stop.load(Ordering::Acquire) {
                            let stream = match listener.accept() {
                                Ok((stream, _)) => stream,
                                Err(_) => {
                                    std::thread::sleep(Duration::from_millis(2));
                                    continue;
                                }
                            };
                            if let Some(secs) = ban.attempt() {
                                refuse_handshake(stream, secs);
                                continue;
                            }
                            match stream {
                                stream if rules.refuse.load(Ordering::Acquire) => {
                                    rules.refused.fetch_add(1, Ordering::AcqRel);
                                    drop(stream);
                                }
                                stream => {
                                    rules.accepted.fetch_add(1, Ordering::AcqRel);
                                    let (tx, rx) = unbounded();
                                    let streams = Arc::new(Mutex::new(HashSet::new()));
                                    let id = next_id;
                                    next_id += 1;
                                    if let Ok(mut cs) = conns.lock() {
                                        cs.push(Conn {
                                            id,
                                            streams: streams.clone(),
                                            frames: tx,
                                        });
                                    }
                                    let (stop, conns, kick, rules) =
                                        (stop.clone(), conns.clone(), kick.clone(), rules.clone());
                                    let silence_at_open = rules.silence_gen.load(Ordering::Acquire);
                                    let _ = std::thread::Builder::new()
                                        .name(format!("sim.binance.{id}"))
                                        .spawn(move || {
                                            let lagged = id % 2 == 0;
                                            let ctl = Control {
                                                stop: &stop,
                                                kick: &kick,
                                                rules: &rules,
                                                lagged,
                                                silence_at_open,
                                            };
                                            let silenced = serve(stream, streams, rx, &ctl);
                                            if let Ok(mut cs) = conns.lock() {
                                                cs.retain(|k| k.id != id);
                                            }
                                            if let Some(ws) = silenced {
                                                hold(ws, &stop);
                                            }
                                        });
                                }
                            }
                        }
                    })
                    .map_err(SimError::spawn("sim.binance.accept"))?,
            );
        }
        Ok(BinanceSim {
            ws_addr: ws_local,
            rest_addr: rest_local,
            stop,
            kick,
            rules,
            ban,
            weight_limited,
            books,
            threads,
        })
    }

    /// Base of the WebSocket URLs (`ws://host:port`).
    pub fn ws_base(&self) -> String {
        format!("ws://{}", self.ws_addr)
    }

    /// Base of the REST URLs (`http://host:port`).
    pub fn rest_base(&self) -> String {
        format!("http://{}", self.rest_addr)
    }

    /// The simulator's own book of `symbol` (upper case) as of its latest step.
    pub fn book(&self, symbol: &str) -> Option<SimBook> {
        self.books.lock().ok()?.get(symbol).map(|(_, b)| b.clone())
    }

    pub fn drop_connections(&self) {
        self.kick.fetch_add(1, Ordering::AcqRel);
    }

    /// Closes every connection once it is `age` old, as Binance does at 24 h, sending
    /// `serverShutdown` `notice` before (none when `None`). Applies to open connections too.
    pub fn cut_connections_after(&self, age: Duration, notice: Option<Duration>) {
        let notice = notice.map_or(u64::MAX, |n| n.as_millis() as u64);
        self.rules.notice_ms.store(notice, Ordering::Release);
        self.rules
            .max_age_ms
            .store((age.as_millis() as u64).max(1), Ordering::Release);
    }

    /// While on, new connections are dropped before the handshake; open ones keep serving.
    pub fn refuse_connections(&self, on: bool) {
        self.rules.refuse.store(on, Ordering::Release);
    }

    /// Delays every frame on the 2nd, 4th, … connection by `lag` (0: none), so a rotation's
    /// new connection is alternately behind and ahead of the old one.
    pub fn lag_every_other_connection(&self, lag: Duration) {
        self.rules
            .lag_ms
            .store(lag.as_millis() as u64, Ordering::Release);
    }

    /// Connections that reached the handshake.
    pub fn connections_accepted(&self) -> u64 {
        self.rules.accepted.load(Ordering::Acquire)
    }

    /// Connections dropped by [`BinanceSim::refuse_connections`].
    pub fn connections_refused(&self) -> u64 {
        self.rules.refused.load(Ordering::Acquire)
    }

    /// Connections dropped for sending more than `binance_max_incoming_per_s` messages in a
    /// second.
    pub fn rate_limited_connections(&self) -> u64 {
        self.rules.rate_limited.load(Ordering::Acquire)
    }

    /// Handshakes refused and connections closed for naming more than
    /// `binance_max_streams_per_connection` streams (in the URL or by a live `SUBSCRIBE`).
    pub fn too_many_streams(&self) -> u64 {
        self.rules.too_many_streams.load(Ordering::Acquire)
    }

    /// REST depth requests refused with 429 (-1003) for want of request weight.
    pub fn weight_limited(&self) -> u64 {
        self.weight_limited.load(Ordering::Acquire)
    }

    /// Connections dropped for not answering a ping within `binance_pong_timeout_ms`.
    pub fn closed_for_missing_pong(&self) -> u64 {
        self.rules.missing_pong.load(Ordering::Acquire)
    }

    /// Every connection open now goes silent: the server neither reads it (no pongs, no
    /// replies) nor writes to it (no frames, no pings), and holds the TCP connection open (up
    /// to 120 s, or until the simulator stops). New connections are served.
    pub fn silence(&self) {
        self.rules.silence_gen.fetch_add(1, Ordering::AcqRel);
    }

    /// Connections silenced by [`BinanceSim::silence`].
    pub fn silenced_connections(&self) -> u64 {
        self.rules.silenced.load(Ordering::Acquire)
    }

    /// Bans the venue until `unix_s` (0 lifts it): handshakes and REST depth requests get 429
    /// with `Retry-After: <seconds from now>`; the ban lifts by itself at its end.
    pub fn ban_until(&self, unix_s: u64) {
        self.ban.ban_until(unix_s);
    }

    /// Attempts refused by the ban (handshakes and REST requests).
    pub fn attempts_refused(&self) -> u64 {
        self.ban.attempts_refused()
    }

    /// Refused attempts made after a `Retry-After` had been sent and before it passed.
    pub fn early_attempts(&self) -> u64 {
        self.ban.early_attempts()
    }
}

impl Drop for BinanceSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// What a connection's thread watches besides its socket.
struct Control<'a> {
    stop: &'a AtomicBool,
    kick: &'a AtomicU64,
    rules: &'a ConnRules,
    /// Frames go out `rules.lag_ms` late.
    lagged: bool,
    /// [`ConnRules::silence_gen`] when the connection opened.
    silence_at_open: u64,
}
