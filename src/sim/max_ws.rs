//! The simulator's MAX WebSocket server (public book channel), on loopback, driven by the same
//! synthetic market as the in-process venue (spec max.md §3).
//!
//! - Accepts `{"action":"sub"|"subscribe","subscriptions":[{"channel":"book","market":…}],
//!   "id":…}` and answers `{"e":"subscribed","s":[…],"i":…,"T":…}`; `unsub`/`unsubscribe`
//!   likewise. Any other action gets `{"e":"error","E":["E-1004: invalid action"],…}`.
//! - After subscribing, a connection gets the market's snapshot, then every update (`fi`, `li`,
//!   `v` as MAX sends them); the simulator's gap injection skips updates, a version change moves
//!   `v`, and a client that resubscribes gets a fresh snapshot.
//! - WebSocket pings are answered with pongs.
//! - Private `auth` (HMAC of the nonce) subscribes the connection to the [`MaxAccount`]'s
//!   `order_update` / `trade_update` events; the ticker runs the account's matching engine
//!   against the synthetic MAX books every millisecond.
//!
//! One ticker thread steps the market every millisecond of wall time and fans frames out to the
//! connections' queues; each connection has its own thread.

use super::config::SimConfig;
use super::market::{MarketOutput, SyntheticMarket};
use super::max_account::MaxAccount;
use crate::model::Level;
use crate::venue::max::frames::{MaxBookFrame, write_book};
use crossbeam::channel::{Receiver, Sender, TryRecvError, unbounded};
use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tungstenite::Message;

/// The simulator's own book of a market, as last stepped: (bids, asks, last update id).
pub type SimBook = (Vec<Level>, Vec<Level>, u64);

enum Control {
    Subscribe { conn: u64, market: String },
    Unsubscribe { conn: u64, market: String },
}

struct Conn {
    id: u64,
    markets: HashSet<String>,
    frames: Sender<Arc<Vec<u8>>>,
}

pub struct MaxWsSim {
    addr: SocketAddr,
    /// While set, handshakes are refused with 429 and `Retry-After` = this Unix time (s).
    ban_until: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    books: Arc<Mutex<HashMap<String, SimBook>>>,
    kick: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
}

impl MaxWsSim {
    /// Serves on `addr` (port 0: any free port) until dropped.
    /// Serves on `addr` (port 0: any free port) until dropped; private `auth` always fails.
    pub fn start(addr: &str, cfg: &SimConfig) -> Result<MaxWsSim, String> {
        Self::start_with_keys(addr, cfg, &[])
    }

    /// As [`MaxWsSim::start`], accepting private `auth` for these (access key, secret) pairs;
    /// the account behind them has no orders unless a REST server shares it (see
    /// [`MaxWsSim::start_with_account`]).
    pub fn start_with_keys(
        addr: &str,
        cfg: &SimConfig,
        keys: &[(&str, &str)],
    ) -> Result<MaxWsSim, String> {
        Self::start_with_account(addr, cfg, keys, MaxAccount::new(cfg)?)
    }

    /// Serves the public books and, for these keys, the private events of `account`, whose
    /// orders the ticker matches against the books.
    pub fn start_with_account(
        addr: &str,
        cfg: &SimConfig,
        keys: &[(&str, &str)],
        account: Arc<MaxAccount>,
    ) -> Result<MaxWsSim, String> {
        let keys: Arc<HashMap<String, String>> = Arc::new(
            keys.iter()
                .map(|(k, s)| (k.to_string(), s.to_string()))
                .collect(),
        );
        let listener = TcpListener::bind(addr).map_err(|e| format!("sim WS on {addr}: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let mut sim_market = SyntheticMarket::new(cfg)?;
        let stop = Arc::new(AtomicBool::new(false));
        let books: Arc<Mutex<HashMap<String, SimBook>>> = Arc::new(Mutex::new(HashMap::new()));
        let conns: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
        let kick = Arc::new(AtomicU64::new(0));
        let ban_until = Arc::new(AtomicU64::new(0));
        let (ctl_tx, ctl_rx) = unbounded::<Control>();
        let mut threads = Vec::new();

        // Ticker: steps the market, fans out frames, serves subscriptions with snapshots, and
        // runs the account's matching engine.
        {
            let (stop, books, conns, account) =
                (stop.clone(), books.clone(), conns.clone(), account.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("sim.max_ws.tick".into())
                    .spawn(move || {
                        let start = Instant::now();
                        let mut buf = Vec::with_capacity(16 * 1024);
                        while !stop.load(Ordering::Acquire) {
                            while let Ok(c) = ctl_rx.try_recv() {
                                let Ok(mut cs) = conns.lock() else { return };
                                match c {
                                    Control::Subscribe { conn, market } => {
                                        if let Some(k) = cs.iter_mut().find(|k| k.id == conn) {
                                            let tx = k.frames.clone();
                                            sim_market.max_snapshot(&market, &mut |o| {
                                                if let Some(f) = encode(&o, &mut buf) {
                                                    let _ = tx.send(Arc::new(f));
                                                }
                                            });
                                            k.markets.insert(market);
                                        }
                                    }
                                    Control::Unsubscribe { conn, market } => {
                                        if let Some(k) = cs.iter_mut().find(|k| k.id == conn) {
                                            k.markets.remove(&market);
                                        }
                                    }
                                }
                            }
                            let t = start.elapsed().as_nanos() as u64;
                            let mut out: Vec<(String, Vec<u8>)> = Vec::new();
                            sim_market.poll(t, &mut |o| {
                                if let MarketOutput::MaxBook { market: m, .. } = &o {
                                    let m = m.to_string();
                                    if let Some(f) = encode(&o, &mut buf) {
                                        out.push((m, f));
                                    }
                                }
                            });
                            if !out.is_empty() {
                                if let Ok(cs) = conns.lock() {
                                    for (m, f) in out {
                                        let f = Arc::new(f);
                                        for k in cs.iter().filter(|k| k.markets.contains(&m)) {
                                            let _ = k.frames.send(f.clone());
                                        }
                                    }
                                }
                                if let Ok(mut b) = books.lock() {
                                    let names: Vec<String> =
                                        sim_market.max_markets().map(str::to_string).collect();
                                    for n in names {
                                        if let Some((bids, asks, li)) = sim_market.max_book(&n) {
                                            b.insert(n, (bids.to_vec(), asks.to_vec(), li));
                                        }
                                    }
                                }
                            }
                            account.poll(|m| sim_market.max_top(m));
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    })
                    .map_err(|e| e.to_string())?,
            );
        }

        // Acceptor: one thread per connection.
        {
            let (stop, conns, kick, ban) =
                (stop.clone(), conns.clone(), kick.clone(), ban_until.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("sim.max_ws.accept".into())
                    .spawn(move || {
                        let mut next_id = 1u64;
                        while !stop.load(Ordering::Acquire) {
                            match listener.accept() {
                                Ok((stream, _)) => {
                                    let until = ban.load(Ordering::Acquire);
                                    if until != 0 {
                                        refuse_429(stream, until);
                                        continue;
                                    }
                                    let (tx, rx) = unbounded();
                                    let id = next_id;
                                    next_id += 1;
                                    let private = Private {
                                        keys: keys.clone(),
                                        account: account.clone(),
                                        outbox: tx.clone(),
                                    };
                                    if let Ok(mut cs) = conns.lock() {
                                        cs.push(Conn {
                                            id,
                                            markets: HashSet::new(),
                                            frames: tx,
                                        });
                                    }
                                    let (stop, ctl, conns, kick) =
                                        (stop.clone(), ctl_tx.clone(), conns.clone(), kick.clone());
                                    let _ = std::thread::Builder::new()
                                        .name(format!("sim.max_ws.{id}"))
                                        .spawn(move || {
                                            serve(stream, id, rx, ctl, &stop, &kick, &private);
                                            if let Ok(mut cs) = conns.lock() {
                                                cs.retain(|k| k.id != id);
                                            }
                                        });
                                }
                                Err(_) => std::thread::sleep(Duration::from_millis(2)),
                            }
                        }
                    })
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok(MaxWsSim {
            addr: local,
            ban_until,
            stop,
            books,
            kick,
            threads,
        })
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// The simulator's own book of `market` (lower case) as of its latest step.
    pub fn book(&self, market: &str) -> Option<SimBook> {
        self.books.lock().ok()?.get(market).cloned()
    }

    /// Refuses new connections with `429` and `Retry-After: <unix_s>` (0 lifts the ban).
    pub fn ban_until(&self, unix_s: u64) {
        self.ban_until.store(unix_s, Ordering::Release);
    }

    /// Closes every open connection (reconnect tests).
    pub fn drop_connections(&self) {
        self.kick.fetch_add(1, Ordering::AcqRel);
    }
}

impl Drop for MaxWsSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Answers a handshake with MAX's ban: HTTP 429 and the absolute time to come back.
fn refuse_429(mut stream: TcpStream, until: u64) {
    use std::io::{Read, Write};
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut req = [0u8; 2048];
    let _ = stream.read(&mut req);
    let _ = write!(
        stream,
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: {until}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

fn market_name(m: &str) -> String {
    m.to_ascii_lowercase()
}

fn encode(o: &MarketOutput<'_>, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    match o {
        MarketOutput::MaxBook {
            snapshot,
            market,
            first_id,
            last_id,
            version,
            ts_ms,
            bids,
            asks,
        } => {
            let kind = if *snapshot {
                MaxBookFrame::Snapshot
            } else {
                MaxBookFrame::Update
            };
            write_book(
                buf, kind, market, *first_id, *last_id, *version, *ts_ms, bids, asks,
            );
            Some(buf.clone())
        }
        _ => None,
    }
}

/// What a connection needs to serve the private channels.
struct Private {
    keys: Arc<HashMap<String, String>>,
    account: Arc<MaxAccount>,
    /// The connection's own outbox, registered with the account once authenticated.
    outbox: Sender<Arc<Vec<u8>>>,
}

/// One connection: handshake, then read commands and write frames until either side leaves.
fn serve(
    stream: TcpStream,
    id: u64,
    frames: Receiver<Arc<Vec<u8>>>,
    ctl: Sender<Control>,
    stop: &AtomicBool,
    kick: &AtomicU64,
    private: &Private,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tungstenite::accept(stream) else {
        return;
    };
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(1)));
    let kicked_at = kick.load(Ordering::Acquire);
    loop {
        if stop.load(Ordering::Acquire) || kick.load(Ordering::Acquire) != kicked_at {
            let _ = ws.close(None);
            let _ = ws.flush();
            return;
        }
        match ws.read() {
            Ok(Message::Text(t)) => {
                if let Some((reply, authenticated)) = command(t.as_str(), id, &ctl, &private.keys) {
                    if ws.send(Message::text(reply)).is_err() {
                        return;
                    }
                    if authenticated {
                        private.account.subscribe(private.outbox.clone());
                    }
                }
            }
            Ok(Message::Close(_)) => {
                let _ = ws.flush();
                return;
            }
            Ok(_) => {
                // Pings are answered by tungstenite on the next write/flush.
                let _ = ws.flush();
            }
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
        loop {
            match frames.try_recv() {
                Ok(f) => {
                    let text = String::from_utf8_lossy(&f).into_owned();
                    if ws.send(Message::text(text)).is_err() {
                        return;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
    }
}

/// A client command; the reply to send back and whether it authenticated the connection.
fn command(
    text: &str,
    conn: u64,
    ctl: &Sender<Control>,
    keys: &HashMap<String, String>,
) -> Option<(String, bool)> {
    command_reply(text, conn, ctl, keys).map(|r| match r {
        Ok(reply) => (reply, true),
        Err(reply) => (reply, false),
    })
}

/// The reply to a command: `Ok` when it authenticated the connection.
fn command_reply(
    text: &str,
    conn: u64,
    ctl: &Sender<Control>,
    keys: &HashMap<String, String>,
) -> Option<Result<String, String>> {
    let v: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            return Some(Err(
                r#"{"e":"error","E":["E-1005: invalid json"],"i":"","T":0}"#.into(),
            ));
        }
    };
    let id = v
        .get("id")
        .and_then(|i| i.as_str())
        .unwrap_or("")
        .to_string();
    let action = v.get("action").and_then(|a| a.as_str()).unwrap_or("");
    if action == "auth" {
        return Some(auth(&v, &id, keys));
    }
    let reply = subscription_reply(&v, &id, action, conn, ctl);
    Some(Err(reply))
}

/// `sub` / `unsub` in either spelling; anything else is an invalid action.
fn subscription_reply(
    v: &serde_json::Value,
    id: &str,
    action: &str,
    conn: u64,
    ctl: &Sender<Control>,
) -> String {
    // The docs' unsubscribe example writes the singular key: accept both.
    let subs = v
        .get("subscriptions")
        .or_else(|| v.get("subscription"))
        .and_then(|s| s.as_array())
        .cloned()
        .unwrap_or_default();
    let (event, sub) = match action {
        "sub" | "subscribe" => ("subscribed", true),
        "unsub" | "unsubscribe" => ("unsubscribed", false),
        _ => {
            return format!(
                r#"{{"e":"error","E":["E-1004: invalid action"],"i":{},"T":0}}"#,
                serde_json::Value::from(id)
            );
        }
    };
    for s in &subs {
        if s.get("channel").and_then(|c| c.as_str()) == Some("book") {
            if let Some(m) = s.get("market").and_then(|m| m.as_str()) {
                let market = market_name(m);
                let _ = ctl.send(if sub {
                    Control::Subscribe { conn, market }
                } else {
                    Control::Unsubscribe { conn, market }
                });
            }
        }
    }
    serde_json::json!({ "e": event, "s": subs, "i": id, "T": 0 }).to_string()
}

/// Private `auth` (spec max.md §4.1): `signature = hex(HMAC-SHA256(secret, decimal nonce))`,
/// nonce within 30 s of server time (E-1006), a known key with a matching signature (E-1007).
fn auth(v: &serde_json::Value, id: &str, keys: &HashMap<String, String>) -> Result<String, String> {
    let key = v.get("apiKey").and_then(|k| k.as_str()).unwrap_or("");
    let nonce = v.get("nonce").and_then(|n| n.as_u64()).unwrap_or(0);
    let signature = v.get("signature").and_then(|s| s.as_str()).unwrap_or("");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let err = |e: &str| serde_json::json!({"e": "error", "E": [e], "i": id, "T": now}).to_string();
    if nonce.abs_diff(now) > 30_000 {
        return Err(err(
            "E-1006: invalid nonce (difference of 30 seconds or more)",
        ));
    }
    let ok = keys.get(key).is_some_and(|secret| {
        let expected = crate::venue::max::MaxSigner::new(key, secret).sign_ws(nonce);
        expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0
    });
    if !ok {
        return Err(err("E-1007: authentication failed"));
    }
    Ok(serde_json::json!({"e": "authenticated", "i": id, "T": now}).to_string())
}
