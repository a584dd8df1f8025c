//! The simulator's MAX WebSocket server (public `book`, `trade` and `ticker` channels, private
//! `auth`), on loopback, driven by the same synthetic market as the in-process venue (spec
//! max.md §3).
//!
//! - Accepts `{"action":"sub"|"subscribe","subscriptions":[{"channel":"book"|"trade"|"ticker",
//!   "market":…},…],"id":…}` (the singular key `subscription` too) and answers
//!   `{"e":"subscribed","s":[…],"i":…,"T":…}` listing what was asked; `unsub`/`unsubscribe`
//!   likewise. Any other action gets `{"e":"error","E":["E-1004: invalid action"],…}`.
//! - `book`: after subscribing, the market's snapshot, then every update (`fi`, `li`, `v` as
//!   MAX sends them); the simulator's gap injection skips updates, a version change moves `v`,
//!   and a client that resubscribes gets a fresh snapshot.
//! - `trade`: a snapshot of the market's recent public prints (possibly empty), then an update
//!   with each step's new prints. The prints are the account's fills (as the public sees them:
//!   no id, no user fields) and synthetic takers at the touch (`max_trade_probability` per book
//!   update; see [`SyntheticMarket`]); all are stamped on the books' clock. See
//!   [`PublicTape`].
//! - `ticker`: a snapshot, then an update after prints changed it, at most once per
//!   `ticker_interval_ms` per market.
//! - WebSocket pings are answered with pongs.
//! - Private `auth` (HMAC of the nonce) subscribes the connection to the [`MaxAccount`]'s
//!   `order_update` / `trade_update` events; the ticker runs the account's matching engine
//!   against the synthetic MAX books every millisecond.
//!
//! One ticker thread steps the market every millisecond of wall time, then serves new
//! subscriptions with snapshots, and fans frames out to the queues of the connections
//! subscribed to their (channel, market); each connection has its own thread.

use super::config::SimConfig;
use super::market::{MarketOutput, SyntheticMarket};
use super::max_account::MaxAccount;
use super::public_tape::PublicTape;
use crate::model::Level;
use crate::venue::max::frames::{
    MaxBookFrame, MaxPublicTrade, write_book, write_public_trades, write_ticker,
};
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

/// A public channel the simulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Channel {
    Book,
    Trade,
    Ticker,
}

impl Channel {
    fn parse(s: &str) -> Option<Channel> {
        match s {
            "book" => Some(Channel::Book),
            "trade" => Some(Channel::Trade),
            "ticker" => Some(Channel::Ticker),
            _ => None,
        }
    }
}

/// What a connection subscribes to: a channel of a market (lower case).
type Sub = (Channel, String);

/// One `sub` / `unsub` command's served subscriptions, handled together so a connection's
/// snapshots come in the order it asked for them, before any update.
enum Control {
    Subscribe { conn: u64, subs: Vec<Sub> },
    Unsubscribe { conn: u64, subs: Vec<Sub> },
}

struct Conn {
    id: u64,
    subs: HashSet<Sub>,
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
        let mut sim_market = SyntheticMarket::new(cfg)?.with_public_trades(cfg);
        let stop = Arc::new(AtomicBool::new(false));
        let books: Arc<Mutex<HashMap<String, SimBook>>> = Arc::new(Mutex::new(HashMap::new()));
        let conns: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
        let kick = Arc::new(AtomicU64::new(0));
        let ban_until = Arc::new(AtomicU64::new(0));
        let (ctl_tx, ctl_rx) = unbounded::<Control>();
        let mut threads = Vec::new();

        // Ticker: steps the market, records the prints, fans out frames, serves new
        // subscriptions with snapshots, and runs the account's matching engine.
        {
            let (stop, books, conns, account) =
                (stop.clone(), books.clone(), conns.clone(), account.clone());
            let (epoch_ms, ticker_interval_ms) = (cfg.epoch_ms, cfg.ticker_interval_ms);
            let mut tape = PublicTape::default();
            threads.push(
                std::thread::Builder::new()
                    .name("sim.max_ws.tick".into())
                    .spawn(move || {
                        let start = Instant::now();
                        let mut buf = Vec::with_capacity(16 * 1024);
                        let mut opened = false;
                        while !stop.load(Ordering::Acquire) {
                            let t = start.elapsed().as_nanos() as u64;
                            let now_ms = epoch_ms + t / 1_000_000;
                            let mut out: Vec<(Channel, String, Vec<u8>)> = Vec::new();
                            let mut book_moved = false;
                            sim_market.poll(t, &mut |o| match o {
                                MarketOutput::MaxBook { market, .. } => {
                                    book_moved = true;
                                    let m = market.to_string();
                                    if let Some(f) = encode(&o, &mut buf) {
                                        out.push((Channel::Book, m, f));
                                    }
                                }
                                MarketOutput::MaxTrade {
                                    market,
                                    price,
                                    volume,
                                    taker_side,
                                    ts_ms,
                                } => tape.record(
                                    market,
                                    MaxPublicTrade {
                                        price,
                                        volume,
                                        taker_side,
                                        ts_ms,
                                    },
                                ),
                                _ => {}
                            });
                            if !opened {
                                // The simulated day opens at every market's first best bid.
                                opened = true;
                                for m in sim_market.max_markets() {
                                    if let Some((bid, _)) = sim_market.max_top(m) {
                                        tape.open(m, bid.price);
                                    }
                                }
                            }
                            // The account's fills print on the tape too, stamped on the books'
                            // clock (the account's own is the host's) so the tape is in order.
                            account.poll_prints(
                                |m| sim_market.max_top(m),
                                |m, mut p| {
                                    p.ts_ms = now_ms;
                                    tape.record(m.as_str(), p);
                                },
                            );
                            tape.take_updates(|m, trades| {
                                write_public_trades(&mut buf, m, false, trades, now_ms);
                                out.push((Channel::Trade, m.to_string(), buf.clone()));
                            });
                            tape.due_tickers(now_ms, ticker_interval_ms, |m, tk| {
                                write_ticker(&mut buf, m, false, tk, now_ms);
                                out.push((Channel::Ticker, m.to_string(), buf.clone()));
                            });
                            if !out.is_empty()
                                && let Ok(cs) = conns.lock()
                            {
                                for (ch, m, f) in out {
                                    let f = Arc::new(f);
                                    for k in cs.iter().filter(|k| subscribed(k, ch, &m)) {
                                        let _ = k.frames.send(f.clone());
                                    }
                                }
                            }
                            if book_moved && let Ok(mut b) = books.lock() {
                                let names: Vec<String> =
                                    sim_market.max_markets().map(str::to_string).collect();
                                for n in names {
                                    if let Some((bids, asks, li)) = sim_market.max_book(&n) {
                                        b.insert(n, (bids.to_vec(), asks.to_vec(), li));
                                    }
                                }
                            }
                            // New subscriptions, after this step's updates: a snapshot shows
                            // the state those updates led to, and the next updates follow it.
                            while let Ok(c) = ctl_rx.try_recv() {
                                let Ok(mut cs) = conns.lock() else { return };
                                match c {
                                    Control::Subscribe { conn, subs } => {
                                        let Some(k) = cs.iter_mut().find(|k| k.id == conn) else {
                                            continue;
                                        };
                                        for (ch, market) in subs {
                                            send_snapshot(
                                                &mut sim_market,
                                                &tape,
                                                &mut buf,
                                                now_ms,
                                                ch,
                                                &market,
                                                &k.frames,
                                            );
                                            k.subs.insert((ch, market));
                                        }
                                    }
                                    Control::Unsubscribe { conn, subs } => {
                                        if let Some(k) = cs.iter_mut().find(|k| k.id == conn) {
                                            for s in &subs {
                                                k.subs.remove(s);
                                            }
                                        }
                                    }
                                }
                            }
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
                                            subs: HashSet::new(),
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

fn subscribed(k: &Conn, ch: Channel, market: &str) -> bool {
    k.subs.iter().any(|(c, m)| *c == ch && m == market)
}

/// Sends a new subscription's snapshot of `ch` of `market` to `to` (nothing for a market the
/// simulator lacks).
fn send_snapshot(
    sim: &mut SyntheticMarket,
    tape: &PublicTape,
    buf: &mut Vec<u8>,
    now_ms: u64,
    ch: Channel,
    market: &str,
    to: &Sender<Arc<Vec<u8>>>,
) {
    if !sim.max_markets().any(|m| m == market) {
        return;
    }
    match ch {
        Channel::Book => sim.max_snapshot(market, &mut |o| {
            if let Some(f) = encode(&o, buf) {
                let _ = to.send(Arc::new(f));
            }
        }),
        Channel::Trade => {
            write_public_trades(buf, market, true, &tape.recent(market), now_ms);
            let _ = to.send(Arc::new(buf.clone()));
        }
        Channel::Ticker => {
            if let Some(tk) = tape.ticker(market) {
                write_ticker(buf, market, true, &tk, now_ms);
                let _ = to.send(Arc::new(buf.clone()));
            }
        }
    }
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
    // Channels this simulator does not serve (kline, market_status, ...) are acknowledged and
    // send nothing.
    let served: Vec<Sub> = subs
        .iter()
        .filter_map(|s| {
            let ch = Channel::parse(s.get("channel")?.as_str()?)?;
            Some((ch, market_name(s.get("market")?.as_str()?)))
        })
        .collect();
    if !served.is_empty() {
        let _ = ctl.send(if sub {
            Control::Subscribe { conn, subs: served }
        } else {
            Control::Unsubscribe { conn, subs: served }
        });
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
