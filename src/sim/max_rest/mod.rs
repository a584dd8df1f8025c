//! The simulator's MAX v3 REST server, on loopback: the endpoints the engine trades through,
//! with MAX's authentication checks and error codes (spec max.md §1–§2).
//!
//! Authentication of a private request, in order, each failure with MAX's code:
//! 1. `X-MAX-ACCESSKEY` names a known key — else 401, 2008.
//! 2. `X-MAX-SIGNATURE` is the HMAC-SHA256 of `X-MAX-PAYLOAD` under the key's secret — else
//!    401, 2005. The HMAC is checked over the header exactly as sent, so key order and
//!    whitespace inside the payload are free.
//! 3. The payload decodes to a JSON object whose `path` is the request path — else 400, 2014.
//! 4. Its `nonce` is within 30 s of server time — else 400, 2007 — and greater than the last
//!    nonce the key had accepted, over REST or WebSocket `auth` — else 400, 2006 (MAX: "each
//!    nonce can be used only once"; see [`super::nonce_ledger`]). The nonce is taken only once
//!    the whole request passed these checks.
//! 5. Every query or body parameter other than `nonce`/`path` equals the payload's value,
//!    compared as strings — else 400, 2014. `nonce` may travel in the query, the body or both.
//!
//! While the venue is banned ([`super::venue_ban`], shared with the WebSocket server through
//! the [`MaxAccount`]), every MAX request is refused with 429 and `Retry-After: <unix s>`.
//!
//! It also serves the reference-rate sources (Bank of Taiwan board CSV, TAIFEX JSON).
//!
//! Endpoints: `GET /api/v3/timestamp`, `GET /api/v3/markets`, `POST /api/v3/wallet/{spot|m}/order` (201),
//! `GET /api/v3/order`, `DELETE /api/v3/order`, `GET /api/v3/wallet/{w}/orders/open`,
//! `DELETE /api/v3/wallet/{w}/orders` (cancel all), `GET /api/v3/wallet/{w}/trades`,
//! `GET /api/v3/order/trades`, `GET /api/v3/wallet/{w}/accounts`, and the public k-lines
//! `GET /api/v3/k` (a seeded random walk per market, see [`super::klines`]).
//! Orders, trades and balances live in a [`MaxAccount`]; matching happens where the account is
//! polled against the books (the WebSocket server's ticker). A server started alone lets orders
//! rest until cancelled.
//!
//! One concept per file: this one holds the public types ([`MaxRestSim`], [`SimMarket`]), the
//! server's state and its HTTP loop; `router.rs` sends each request to its endpoint, `auth.rs`
//! checks steps 1–5 above, `orders.rs` serves the order, trade and balance endpoints,
//! `reference_rate.rs` the Bank of Taiwan and TAIFEX sources, `klines.rs` `GET /api/v3/k`, and
//! `query.rs` parses query strings.

mod auth;
mod klines;
mod orders;
mod query;
mod reference_rate;
mod router;

use super::error::SimError;
use super::klines::KlineSource;
use super::max_account::{MaxAccount, Refusal};
use crate::model::{Fixed, Instrument, MarketRules, Symbol};
use crate::sim::max_frames::write_error;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A market of the simulated MAX: the simulator's one market type (what `GET /api/v3/markets`
/// serves, names written lower case there; the execution venue and the account name a market
/// by its `id`). The engine's form is [`Instrument`] ([`SimMarket::from_instrument`]), MAX's
/// wire form as the engine reads it `venue::max::markets::MaxMarket`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimMarket {
    pub id: Symbol,
    pub base: Symbol,
    pub quote: Symbol,
    pub base_precision: i32,
    pub quote_precision: i32,
    pub min_volume: Fixed,
    pub min_quote: Fixed,
}

/// MAX's precision of a step: its decimals (negative above 1).
fn precision(step: Fixed) -> i32 {
    let mut p = 8;
    let mut v = step.raw();
    while v >= 10 && v % 10 == 0 {
        v /= 10;
        p -= 1;
    }
    p
}

impl SimMarket {
    /// MAX's usdttwd: 0.01 USDT steps, 0.001 TWD ticks, at least 8 USDT and 250 TWD.
    pub fn usdttwd() -> SimMarket {
        let sym = |s| Symbol::new(s).unwrap_or_default();
        SimMarket {
            id: sym("usdttwd"),
            base: sym("usdt"),
            quote: sym("twd"),
            base_precision: 2,
            quote_precision: 3,
            min_volume: Fixed::from_int(8),
            min_quote: Fixed::from_int(250),
        }
    }

    /// The market an engine's instrument describes (a step that is not a power of ten is
    /// served as the power of ten at its last digit).
    pub fn from_instrument(i: &Instrument) -> SimMarket {
        SimMarket {
            id: i.symbol,
            base: i.base,
            quote: i.quote,
            base_precision: precision(i.rules.lot),
            quote_precision: precision(i.rules.tick),
            min_volume: i.rules.min_qty,
            min_quote: i.rules.min_notional,
        }
    }

    /// Its trading rules: tick `10^-quote_precision`, lot `10^-base_precision` (one unit of
    /// 10⁻⁸ where the precision is out of range), and the minimums.
    pub fn rules(&self) -> MarketRules {
        let step = |p| Fixed::step_from_precision(p).unwrap_or(Fixed(1));
        MarketRules {
            tick: step(self.quote_precision),
            lot: step(self.base_precision),
            min_qty: self.min_volume,
            min_notional: self.min_quote,
        }
    }
}

struct State {
    /// access key → secret
    keys: HashMap<String, String>,
    markets: Vec<SimMarket>,
    account: Arc<MaxAccount>,
    /// Server clock offset from the host clock, ms (to test time sync).
    clock_offset_ms: i64,
    /// USD/TWD served as the Bank of Taiwan board and the TAIFEX JSON.
    ref_rate: Fixed,
    /// Simulates the reference-rate sources being down (HTTP 503 with an HTML page).
    ref_down: bool,
    klines: KlineSource,
    /// Each market's price at the k-line epoch (default: the reference rate for usdttwd, else 100).
    kline_starts: HashMap<String, f64>,
    /// Requests that passed authentication, per access key.
    signed_by: HashMap<String, u64>,
}

/// A fault: the reconciler's list reads (`GET …/orders/open`, `GET …/trades`) answered late.
/// Each is handled at once, in arrival order like every request, and its reply is held back
/// for `delay` on a thread of its own, so the server goes on answering other requests.
#[derive(Default)]
struct SlowReads {
    delay_ms: AtomicU64,
    /// Replies held back now.
    pending: AtomicU64,
    /// Replies that were held back.
    delayed: AtomicU64,
    /// Order creations that arrived while a held-back reply was pending.
    orders_meanwhile: AtomicU64,
}

impl SlowReads {
    fn is_list_read(method: &str, url: &str) -> bool {
        let path = url.split_once('?').map_or(url, |(p, _)| p);
        method == "GET" && (path.ends_with("/orders/open") || path.ends_with("/trades"))
    }

    fn is_order_creation(method: &str, url: &str) -> bool {
        let path = url.split_once('?').map_or(url, |(p, _)| p);
        method == "POST" && path.ends_with("/order")
    }
}

pub struct MaxRestSim {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    state: Arc<Mutex<State>>,
    slow_reads: Arc<SlowReads>,
    thread: Option<JoinHandle<()>>,
}

fn now_ms(offset: i64) -> u64 {
    let local = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    (local + offset).max(0) as u64
}

type Reply = (u16, Vec<u8>);

fn error(status: u16, code: u32, message: &str) -> Reply {
    let mut b = Vec::new();
    write_error(&mut b, code, message);
    (status, b)
}

fn refusal((status, code, message): Refusal) -> Reply {
    error(status, code, message)
}

/// A JSON value as the string a client would have meant (`"100"` and `100` compare equal).
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl MaxRestSim {
    /// Serves on `addr` (use port 0 for any free port) until dropped, with an account of its
    /// own and no book: orders rest until cancelled (cancels still take the venue latency) and
    /// none is refused at random.
    pub fn start(
        addr: &str,
        keys: &[(&str, &str)],
        markets: Vec<SimMarket>,
    ) -> Result<MaxRestSim, SimError> {
        let account = MaxAccount::new(&crate::config::sim::SimConfig {
            reject_probability: 0.0,
            ..Default::default()
        })?;
        Self::serve(addr, keys, markets, account, true)
    }

    /// Serves `account` on `addr` (port 0: any free port) until dropped; whoever holds the
    /// book (the WebSocket server's ticker) runs its matching.
    pub fn start_with_account(
        addr: &str,
        keys: &[(&str, &str)],
        markets: Vec<SimMarket>,
        account: Arc<MaxAccount>,
    ) -> Result<MaxRestSim, SimError> {
        Self::serve(addr, keys, markets, account, false)
    }

    /// `book_less`: no book will ever poll the account, so this server runs it (cancels only).
    fn serve(
        addr: &str,
        keys: &[(&str, &str)],
        markets: Vec<SimMarket>,
        account: Arc<MaxAccount>,
        book_less: bool,
    ) -> Result<MaxRestSim, SimError> {
        let server = tiny_http::Server::http(addr).map_err(SimError::bind_http("REST", addr))?;
        let local = server
            .server_addr()
            .to_ip()
            .ok_or(SimError::NotIp { server: "REST" })?;
        let state = Arc::new(Mutex::new(State {
            keys: keys
                .iter()
                .map(|(k, s)| (k.to_string(), s.to_string()))
                .collect(),
            markets,
            account,
            clock_offset_ms: 0,
            ref_rate: Fixed::from_int(32),
            ref_down: false,
            klines: KlineSource::new(42),
            kline_starts: HashMap::new(),
            signed_by: HashMap::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let slow_reads = Arc::new(SlowReads::default());
        let (st, sp, slow) = (state.clone(), stop.clone(), slow_reads.clone());
        let thread = std::thread::Builder::new()
            .name("sim.max_rest".into())
            .spawn(move || {
                while !sp.load(Ordering::Acquire) {
                    if book_less && let Ok(s) = st.lock() {
                        s.account.poll(|_| None);
                    }
                    let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(5)) else {
                        continue;
                    };
                    let mut body = Vec::new();
                    let _ = req.as_reader().take(1 << 20).read_to_end(&mut body);
                    let method = req.method().as_str();
                    if SlowReads::is_order_creation(method, req.url())
                        && slow.pending.load(Ordering::Acquire) > 0
                    {
                        slow.orders_meanwhile.fetch_add(1, Ordering::AcqRel);
                    }
                    let delay_ms = match slow.delay_ms.load(Ordering::Acquire) {
                        d if d > 0 && SlowReads::is_list_read(method, req.url()) => d,
                        _ => 0,
                    };
                    let mut retry_after = None;
                    let reply = match st.lock() {
                        Ok(mut s) => {
                            if let Some(r) = s.reference_rate(req.url()) {
                                // The reference-rate routes stand for other hosts: not banned.
                                r
                            } else if let Some(until) = s.account.venue_ban().attempt() {
                                retry_after = Some(until);
                                HttpReply {
                                    status: 429,
                                    body: Vec::new(),
                                    content_type: "text/plain",
                                    disposition: None,
                                }
                            } else {
                                let (status, body) = s.handle(&req, &body);
                                HttpReply {
                                    status,
                                    body,
                                    content_type: "application/json",
                                    disposition: None,
                                }
                            }
                        }
                        Err(_) => HttpReply {
                            status: 500,
                            body: error(500, 5999, "server error").1,
                            content_type: "application/json",
                            disposition: None,
                        },
                    };
                    let mut resp = tiny_http::Response::from_data(reply.body)
                        .with_status_code(reply.status)
                        .with_header(
                            tiny_http::Header::from_bytes("Content-Type", reply.content_type)
                                .expect("static header"),
                        );
                    if let Some(d) = reply.disposition
                        && let Ok(h) = tiny_http::Header::from_bytes("Content-Disposition", d)
                    {
                        resp = resp.with_header(h);
                    }
                    if let Some(until) = retry_after
                        && let Ok(h) =
                            tiny_http::Header::from_bytes("Retry-After", until.to_string())
                    {
                        resp = resp.with_header(h);
                    }
                    if delay_ms == 0 {
                        let _ = req.respond(resp);
                        continue;
                    }
                    slow.pending.fetch_add(1, Ordering::AcqRel);
                    slow.delayed.fetch_add(1, Ordering::AcqRel);
                    let slow = slow.clone();
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(delay_ms));
                        // Counted out before the reply can reach the client: a request the
                        // client sends after reading it never sees this one pending.
                        slow.pending.fetch_sub(1, Ordering::AcqRel);
                        let _ = req.respond(resp);
                    });
                }
            })
            .map_err(SimError::spawn("sim.max_rest"))?;
        Ok(MaxRestSim {
            addr: local,
            stop,
            state,
            slow_reads,
            thread: Some(thread),
        })
    }

    /// Sets `market`'s k-line walk to start at `price` (at [`super::klines::KLINE_EPOCH_S`]).
    pub fn set_kline_start(&self, market: &str, price: Fixed) {
        if let Ok(mut s) = self.state.lock() {
            s.kline_starts.insert(market.to_string(), price.to_f64());
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Moves the simulated server clock (time-sync tests).
    pub fn set_clock_offset_ms(&self, offset: i64) {
        if let Ok(mut s) = self.state.lock() {
            s.clock_offset_ms = offset;
        }
    }

    /// The USD/TWD rate the reference-rate routes serve.
    pub fn set_ref_rate(&self, rate: Fixed) {
        if let Ok(mut s) = self.state.lock() {
            s.ref_rate = rate;
        }
    }

    /// Takes the reference-rate routes down (503) or back up.
    pub fn set_ref_down(&self, down: bool) {
        if let Ok(mut s) = self.state.lock() {
            s.ref_down = down;
        }
    }

    /// Orders the venue holds, by state.
    pub fn order_count(&self, state: &str) -> usize {
        self.state
            .lock()
            .map(|s| s.account.order_count(state))
            .unwrap_or(0)
    }

    /// Bans the venue until `unix_s` (0 lifts it): see [`super::venue_ban`]. Shared with every
    /// server of the same account.
    pub fn ban_until(&self, unix_s: u64) {
        if let Some(a) = self.account() {
            a.venue_ban().ban_until(unix_s);
        }
    }

    /// Holds back every reply to the reconciler's list reads for `delay` (zero: none), see
    /// [`SlowReads`].
    pub fn set_slow_reads(&self, delay: Duration) {
        self.slow_reads
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::Release);
    }

    /// Replies held back by [`Self::set_slow_reads`] so far.
    pub fn slow_reads_delayed(&self) -> u64 {
        self.slow_reads.delayed.load(Ordering::Acquire)
    }

    /// Order creations that arrived while a held-back reply was pending.
    pub fn orders_during_slow_reads(&self) -> u64 {
        self.slow_reads.orders_meanwhile.load(Ordering::Acquire)
    }

    /// Requests that passed authentication with `key`.
    pub fn signed_by(&self, key: &str) -> u64 {
        self.state
            .lock()
            .map(|s| s.signed_by.get(key).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// The account behind the server.
    pub fn account(&self) -> Option<Arc<MaxAccount>> {
        self.state.lock().ok().map(|s| s.account.clone())
    }
}

impl Drop for MaxRestSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct HttpReply {
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
    disposition: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_market_served_from_an_instrument_keeps_its_rules() {
        let cfg = crate::config::Config::default();
        let instruments = cfg.instruments().unwrap();
        let max: Vec<_> = instruments
            .iter()
            .filter(|i| i.venue == crate::model::Venue::Max)
            .collect();
        assert_eq!(max.len(), 3);
        for i in max {
            let m = SimMarket::from_instrument(i);
            assert_eq!(m.rules(), i.rules, "{}", i.symbol);
            assert_eq!((m.id, m.base, m.quote), (i.symbol, i.base, i.quote));
        }
        let usdttwd = SimMarket::usdttwd();
        assert_eq!(usdttwd.id.to_lowercase(), "usdttwd");
        assert_eq!(
            (usdttwd.rules().tick, usdttwd.rules().lot),
            (
                Fixed::parse("0.001").unwrap(),
                Fixed::parse("0.01").unwrap()
            )
        );
    }
}
