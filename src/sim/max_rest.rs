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

use super::klines::KlineSource;
use super::max_account::{MaxAccount, NewVenueOrder, OrderKey, Refusal, VenueOrder};
use super::nonce_ledger::NonceRefusal;
use crate::model::{ClientOid, Fixed, OrderType, Side, WalletType};
use crate::sim::max_frames::{
    write_error, write_order_created, write_rest_account, write_rest_trade,
};
use crate::venue::max::sign::verify_payload;
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A market the simulator accepts orders for, as `GET /api/v3/markets` describes it.
#[derive(Clone, Debug)]
pub struct SimMarket {
    pub id: String,
    pub base: String,
    pub quote: String,
    pub base_precision: i32,
    pub quote_precision: i32,
    pub min_volume: Fixed,
    pub min_quote: Fixed,
}

impl SimMarket {
    /// MAX's usdttwd: 0.01 USDT steps, 0.001 TWD ticks, at least 8 USDT and 250 TWD.
    pub fn usdttwd() -> SimMarket {
        SimMarket {
            id: "usdttwd".into(),
            base: "usdt".into(),
            quote: "twd".into(),
            base_precision: 2,
            quote_precision: 3,
            min_volume: Fixed::from_int(8),
            min_quote: Fixed::from_int(250),
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
}

pub struct MaxRestSim {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    state: Arc<Mutex<State>>,
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

fn order_json(o: &VenueOrder) -> Vec<u8> {
    let mut b = Vec::new();
    write_order_created(&mut b, &o.frame());
    b
}

fn trade_json(t: &super::max_account::VenueTrade) -> Vec<u8> {
    let mut b = Vec::new();
    write_rest_trade(&mut b, &t.frame());
    b
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
    ) -> Result<MaxRestSim, String> {
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
    ) -> Result<MaxRestSim, String> {
        Self::serve(addr, keys, markets, account, false)
    }

    /// `book_less`: no book will ever poll the account, so this server runs it (cancels only).
    fn serve(
        addr: &str,
        keys: &[(&str, &str)],
        markets: Vec<SimMarket>,
        account: Arc<MaxAccount>,
        book_less: bool,
    ) -> Result<MaxRestSim, String> {
        let server =
            tiny_http::Server::http(addr).map_err(|e| format!("sim REST on {addr}: {e}"))?;
        let local = server
            .server_addr()
            .to_ip()
            .ok_or("sim REST: not an IP address")?;
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
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
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
                    let _ = req.respond(resp);
                }
            })
            .map_err(|e| format!("sim REST thread: {e}"))?;
        Ok(MaxRestSim {
            addr: local,
            stop,
            state,
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

impl State {
    /// The reference-rate sources the provider reads: the Bank of Taiwan day board
    /// (`/xrt/flcsv/0/day`, UTF-8 with BOM, board time in `Content-Disposition`) and TAIFEX
    /// (`/v1/DailyForeignExchangeRates`).
    fn reference_rate(&self, url: &str) -> Option<HttpReply> {
        let path = url.split('?').next().unwrap_or(url);
        if path != "/xrt/flcsv/0/day" && path != "/v1/DailyForeignExchangeRates" {
            return None;
        }
        if self.ref_down {
            return Some(HttpReply {
                status: 503,
                body: b"<html><body>503 Service Unavailable</body></html>".to_vec(),
                content_type: "text/html",
                disposition: None,
            });
        }
        let half = 7_500_000;
        let now = now_ms(self.clock_offset_ms);
        // The Taipei day the engine asks for, by the engine's own reckoning.
        let day = crate::venue::refrate::bot_csv::taipei_day(now);
        let minute = (now + 8 * 3_600_000) % 86_400_000 / 60_000;
        if path == "/xrt/flcsv/0/day" {
            let mut body = Vec::new();
            crate::venue::refrate::bot_csv::write_day_board(
                &mut body,
                Fixed(self.ref_rate.raw() - half),
                Fixed(self.ref_rate.raw() + half),
            );
            let disposition = format!(
                "attachment; filename=\"ExchangeRate@{day:08}{:02}{:02}.csv\"",
                minute / 60,
                minute % 60
            );
            return Some(HttpReply {
                status: 200,
                body,
                content_type: "text/csv",
                disposition: Some(disposition),
            });
        }
        let body = format!(
            "[{{\"Date\":\"{day:08}\",\"USD/NTD\":\"{}\"}}]",
            self.ref_rate
        );
        Some(HttpReply {
            status: 200,
            body: body.into_bytes(),
            content_type: "application/json",
            disposition: None,
        })
    }

    fn handle(&mut self, req: &tiny_http::Request, body: &[u8]) -> Reply {
        let url = req.url();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let method = req.method().as_str().to_string();
        if method == "GET" && path == "/api/v3/markets" {
            let list: Vec<String> = self
                .markets
                .iter()
                .map(|m| {
                    format!(
                        "{{\"id\":\"{}\",\"status\":\"active\",\"base_unit\":\"{}\",\"base_unit_precision\":{},\"min_base_amount\":{},\"quote_unit\":\"{}\",\"quote_unit_precision\":{},\"min_quote_amount\":{},\"m_wallet_supported\":true}}",
                        m.id, m.base, m.base_precision, m.min_volume.to_f64(), m.quote, m.quote_precision, m.min_quote.to_f64()
                    )
                })
                .collect();
            return (200, format!("[{}]", list.join(",")).into_bytes());
        }
        if method == "GET" && path == "/api/v3/k" {
            return self.klines(query);
        }
        if method == "GET" && path == "/api/v3/timestamp" {
            return (
                200,
                format!("{{\"timestamp\":{}}}", now_ms(self.clock_offset_ms) / 1000).into_bytes(),
            );
        }
        let mut params: Map<String, Value> = Map::new();
        for (k, v) in url_pairs(query) {
            params.insert(k.trim_end_matches("[]").to_string(), Value::String(v));
        }
        if !body.is_empty() {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => params.extend(m),
                _ => return error(400, 1001, "body is not a JSON object"),
            }
        }
        let key = match self.authenticate(req, path, &params) {
            Ok(k) => k,
            Err(e) => return e,
        };
        let wallet_path = |p: &str| -> Option<(WalletType, String)> {
            let rest = p.strip_prefix("/api/v3/wallet/")?;
            let (w, tail) = rest.split_once('/')?;
            let w = match w {
                "spot" => WalletType::Spot,
                "m" => WalletType::Margin,
                _ => return None,
            };
            Some((w, format!("/{tail}")))
        };
        let _ = key;
        match (method.as_str(), path, wallet_path(path)) {
            ("POST", _, Some((w, t))) if t == "/order" => self.create(w, &params),
            ("GET", _, Some((w, t))) if t == "/orders/open" => self.open(w, &params),
            ("DELETE", _, Some((w, t))) if t == "/orders" => self.cancel_all(w, &params),
            ("GET", _, Some((w, t))) if t == "/trades" => self.trades(w, &params),
            ("GET", _, Some((w, t))) if t == "/accounts" => {
                let currency = params.get("currency").map(as_text);
                json_list(
                    self.account
                        .balances(w)
                        .into_iter()
                        .filter(|(c, _, _)| currency.as_deref().is_none_or(|x| c.as_str() == x))
                        .map(|(c, a, l)| {
                            let mut b = Vec::new();
                            write_rest_account(&mut b, c.as_str(), a, l);
                            b
                        }),
                )
            }
            ("GET", "/api/v3/order/trades", _) => {
                let key = match (params.get("order_id"), params.get("client_oid")) {
                    (Some(id), _) => as_text(id).parse().ok().map(OwnedKey::Id),
                    (None, Some(c)) => Some(OwnedKey::ClientOid(as_text(c))),
                    (None, None) => None,
                };
                match key {
                    Some(k) => {
                        json_list(self.account.order_trades(k.as_key()).iter().map(trade_json))
                    }
                    None => error(400, 1001, "order_id or client_oid is required"),
                }
            }
            ("GET", "/api/v3/order", _) => match order_key(&params) {
                Some(k) => match self.account.get(k.as_key()) {
                    Some(o) => (200, order_json(&o)),
                    None => error(404, 2004, "Order doesn't exist"),
                },
                None => error(400, 1001, "id or client_oid is required"),
            },
            ("DELETE", "/api/v3/order", _) => match order_key(&params) {
                Some(k) => match self.account.cancel(k.as_key()) {
                    Ok(()) => (200, b"{\"success\":true}".to_vec()),
                    Err(r) => refusal(r),
                },
                None => error(400, 1001, "id or client_oid is required"),
            },
            _ => error(404, 4000, "Resource not found"),
        }
    }

    /// Steps 1–5 of the module doc; returns the access key.
    fn authenticate(
        &mut self,
        req: &tiny_http::Request,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<String, Reply> {
        let header = |name: &'static str| {
            req.headers()
                .iter()
                .find(|h| h.field.equiv(name))
                .map(|h| h.value.as_str().to_string())
        };
        let key = header("X-MAX-ACCESSKEY")
            .ok_or_else(|| error(401, 2008, "The access key does not exist."))?;
        let secret = self
            .keys
            .get(&key)
            .cloned()
            .ok_or_else(|| error(401, 2008, "The access key does not exist."))?;
        let payload = header("X-MAX-PAYLOAD").unwrap_or_default();
        let signature = header("X-MAX-SIGNATURE").unwrap_or_default();
        if !verify_payload(&secret, &payload, &signature) {
            return Err(error(401, 2005, "Signature is incorrect."));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(payload.as_bytes())
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let Some(Value::Object(p)) = decoded else {
            return Err(error(400, 2015, "Payload is invalid"));
        };
        if p.get("path").and_then(|v| v.as_str()) != Some(path) {
            return Err(error(
                400,
                2014,
                "Payload is not consistent with body or wrong path in payload.",
            ));
        }
        let nonce = p
            .get("nonce")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0);
        let server = now_ms(self.clock_offset_ms);
        let ledger = self.account.nonce_ledger();
        ledger.check(&key, nonce, server).map_err(nonce_error)?;
        for (k, v) in params {
            if k == "nonce" || k == "path" {
                continue;
            }
            if p.get(k).map(as_text) != Some(as_text(v)) {
                return Err(error(
                    400,
                    2014,
                    "Payload is not consistent with body or wrong path in payload.",
                ));
            }
        }
        // Taken now that the request passed: a WebSocket `auth` may have taken a later one
        // meanwhile.
        ledger.accept(&key, nonce, server).map_err(nonce_error)?;
        Ok(key)
    }

    fn create(&mut self, wallet: WalletType, p: &Map<String, Value>) -> Reply {
        let s = |k: &str| p.get(k).map(as_text);
        let Some(market) = s("market").filter(|m| self.markets.iter().any(|x| &x.id == m)) else {
            return error(400, 1001, "market does not have a valid value");
        };
        let Some(side) = s("side").and_then(|v| Side::from_wire(v.as_bytes())) else {
            return error(400, 1001, "side does not have a valid value");
        };
        let ord_type = match s("ord_type") {
            None => OrderType::Limit,
            Some(t) => match OrderType::from_wire(t.as_bytes()) {
                Some(t) => t,
                None => return error(400, 1001, "ord_type does not have a valid value"),
            },
        };
        let (Some(volume), Some(price)) = (
            s("volume").and_then(|v| Fixed::parse(&v).ok()),
            s("price").and_then(|v| Fixed::parse(&v).ok()),
        ) else {
            return error(400, 1001, "volume and price must be decimals");
        };
        let min = self
            .markets
            .iter()
            .find(|x| x.id == market)
            .map(|x| x.min_volume)
            .unwrap_or_default();
        if volume.raw() <= 0 || volume < min {
            return error(400, 2016, "amount too small");
        }
        let client_oid = match s("client_oid") {
            Some(c) => match ClientOid::from_bytes(c.as_bytes()) {
                Some(c) => c,
                None => return error(400, 1001, "client_oid does not have a valid value"),
            },
            None => ClientOid::default(),
        };
        let o = NewVenueOrder {
            wallet,
            market: &market,
            side,
            ord_type,
            price,
            volume,
            client_oid,
        };
        match self.account.create(&o) {
            Ok(order) => (201, order_json(&order)),
            Err(r) => refusal(r),
        }
    }

    /// `GET /api/v3/k?market=&period=&limit=&timestamp=`: candles with start ≥ `timestamp`
    /// (seconds), up to now; without `timestamp`, the latest `limit`.
    fn klines(&mut self, query: &str) -> Reply {
        let q: HashMap<String, String> = url_pairs(query).into_iter().collect();
        let num = |k: &str, default: u64| -> Result<u64, Reply> {
            match q.get(k) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| error(400, 1001, &format!("{k} does not have a valid value"))),
            }
        };
        let Some(m) = q
            .get("market")
            .and_then(|id| self.markets.iter().find(|m| &m.id == id))
            .cloned()
        else {
            return error(400, 1001, "market does not have a valid value");
        };
        let period = match num("period", 1) {
            Ok(p) if crate::venue::max::kline::PERIODS.contains(&(p as u32)) && p <= 10080 => {
                p as u32
            }
            Ok(_) => return error(400, 1001, "period does not have a valid value"),
            Err(e) => return e,
        };
        let limit = match num("limit", 30) {
            Ok(l) if (1..=10_000).contains(&l) => l as usize,
            Ok(_) => return error(400, 1001, "limit does not have a valid value"),
            Err(e) => return e,
        };
        let now_s = now_ms(self.clock_offset_ms) / 1000;
        let step = u64::from(period) * 60;
        let from = match q.get("timestamp") {
            Some(_) => match num("timestamp", 0) {
                Ok(t) => t,
                Err(e) => return e,
            },
            None => (now_s / step).saturating_sub(limit as u64 - 1) * step,
        };
        let start = match self.kline_starts.get(&m.id) {
            Some(p) => *p,
            None if m.id == "usdttwd" => self.ref_rate.to_f64(),
            None => 100.0,
        };
        let tick = Fixed::step_from_precision(m.quote_precision).unwrap_or(Fixed(1));
        let lot = Fixed::step_from_precision(m.base_precision).unwrap_or(Fixed(1));
        let rows = self
            .klines
            .candles(&m.id, start, tick, lot, period, from, now_s, limit);
        let mut b = Vec::with_capacity(rows.len() * 64 + 2);
        b.push(b'[');
        for (i, k) in rows.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            b.extend_from_slice(
                format!(
                    "[{},{},{},{},{},{}]",
                    k.ts_s, k.open, k.high, k.low, k.close, k.volume
                )
                .as_bytes(),
            );
        }
        b.push(b']');
        (200, b)
    }

    fn cancel_all(&self, wallet: WalletType, p: &Map<String, Value>) -> Reply {
        let market = p.get("market").map(as_text);
        let side = match p.get("side").map(as_text) {
            None => None,
            Some(s) => match Side::from_wire(s.as_bytes()) {
                Some(s) => Some(s),
                None => return error(400, 1001, "side does not have a valid value"),
            },
        };
        let orders = self.account.cancel_all(wallet, market.as_deref(), side);
        json_list(orders.iter().map(|o| {
            let mut b = b"{\"error\":null,\"order\":".to_vec();
            b.extend_from_slice(&order_json(o));
            b.push(b'}');
            b
        }))
    }

    /// `from_id` (ascending from it) or the newest first; `limit` 1–1000, default 50.
    fn trades(&self, wallet: WalletType, p: &Map<String, Value>) -> Reply {
        let limit = match p.get("limit").map(as_text) {
            None => 50,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => return error(400, 1001, "limit does not have a valid value"),
            },
        };
        let from_id = p
            .get("from_id")
            .and_then(|v| as_text(v).parse::<u64>().ok());
        let market = p.get("market").map(as_text);
        let list = self
            .account
            .trades(wallet, market.as_deref(), from_id, limit);
        json_list(list.iter().map(trade_json))
    }

    fn open(&self, wallet: WalletType, p: &Map<String, Value>) -> Reply {
        let market = p.get("market").map(as_text);
        let list = self.account.open_orders(wallet, market.as_deref());
        json_list(list.iter().map(order_json))
    }
}

/// A refused nonce as MAX's REST answers it.
fn nonce_error(r: NonceRefusal) -> Reply {
    match r {
        NonceRefusal::OutOfWindow => error(
            400,
            2007,
            "The nonce is invalid. (30 secconds difference from server time)",
        ),
        NonceRefusal::Used => error(400, 2006, "The nonce has already been used by access key."),
    }
}

/// `[a, b]` from the JSON texts of its elements.
fn json_list(items: impl Iterator<Item = Vec<u8>>) -> Reply {
    let mut b = vec![b'['];
    for (i, item) in items.enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(&item);
    }
    b.push(b']');
    (200, b)
}

/// An order named by `id` or `client_oid` in a request's parameters.
enum OwnedKey {
    Id(u64),
    ClientOid(String),
}

impl OwnedKey {
    fn as_key(&self) -> OrderKey<'_> {
        match self {
            OwnedKey::Id(id) => OrderKey::Id(*id),
            OwnedKey::ClientOid(c) => OrderKey::ClientOid(c),
        }
    }
}

fn order_key(p: &Map<String, Value>) -> Option<OwnedKey> {
    if let Some(id) = p.get("id").map(as_text).and_then(|v| v.parse::<u64>().ok()) {
        return Some(OwnedKey::Id(id));
    }
    p.get("client_oid").map(|c| OwnedKey::ClientOid(as_text(c)))
}

/// `a=1&b=x%2Fy` → pairs, decoded as an HTML form's query is: `+` is a space, `%XX` a byte,
/// a `%` without two hex digits stays as it is, bytes that are not UTF-8 become U+FFFD. The
/// engine's `query_escape` writes `%2B` for a `+`, so a raw `+` only comes from elsewhere.
fn url_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::url_pairs;

    fn pairs(q: &str) -> Vec<(String, String)> {
        url_pairs(q)
    }

    fn owned(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn query_pairs_decode_as_forms_do() {
        assert_eq!(pairs("a=1&b=x%2Fy"), owned(&[("a", "1"), ("b", "x/y")]));
        // What the engine's `query_escape` writes: `%2B` for a `+`, `%20` for a space.
        assert_eq!(
            pairs("client_oid=a%2Bb%20c&market=btcusdt"),
            owned(&[("client_oid", "a+b c"), ("market", "btcusdt")])
        );
        assert_eq!(pairs("s=a+b"), owned(&[("s", "a b")]));
        assert_eq!(pairs(""), owned(&[]));
        assert_eq!(pairs("&&a=1&"), owned(&[("a", "1")]));
        assert_eq!(
            pairs("k&=v&x=1=2"),
            owned(&[("k", ""), ("", "v"), ("x", "1=2")])
        );
        assert_eq!(
            pairs("states%5B%5D=wait&states[]=done"),
            owned(&[("states[]", "wait"), ("states[]", "done")])
        );
    }

    /// Malformed escapes from outside: kept as text or replaced, never a panic.
    #[test]
    fn bad_escapes_stay_text() {
        assert_eq!(
            pairs("a=%&b=%2&c=%zz&d=%%41"),
            owned(&[("a", "%"), ("b", "%2"), ("c", "%zz"), ("d", "%A")])
        );
        assert_eq!(pairs("a=%FF%C3"), owned(&[("a", "\u{FFFD}\u{FFFD}")]));
        assert_eq!(pairs("a=%C3%A9"), owned(&[("a", "é")]));
        // The hand-written decoder read `%+5` as byte 5 (`from_str_radix` takes a sign);
        // forms read the `+` as a space and leave the `%`.
        assert_eq!(pairs("a=%+5"), owned(&[("a", "% 5")]));
    }
}
