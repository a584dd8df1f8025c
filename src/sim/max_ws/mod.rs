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
//! As strict as MAX (spec max.md §3.1, §3.5), always:
//! - more than 20 client messages (text or ping frames) in any second, or 200 in any minute, on
//!   one connection: an error frame (`E-1029`, the simulator's own code: MAX documents none) and
//!   the connection is closed ([`MaxWsSim::rate_limited_connections`]);
//! - a connection whose client sent no ping for `max_ping_timeout_ms` (MAX: 130 s) is closed
//!   ([`MaxWsSim::closed_for_missing_ping`]);
//! - a `sub` with more than `max_subscriptions_per_message` subscriptions (default 100) gets an
//!   error frame (`E-1030`, again the simulator's own code) and subscribes nothing; the
//!   connection stays open ([`MaxWsSim::oversized_subs`]). MAX documents no such cap (it asks
//!   for many subscriptions in one message); the simulator holds the engine to its own
//!   `[venues.max] subscriptions_per_message`;
//! - `auth` nonces share the key's sequence with REST (see [`super::nonce_ledger`]);
//! - while the venue is banned (shared with REST, see [`super::venue_ban`]) handshakes get 429
//!   with `Retry-After: <unix s>`.
//!
//! Faults a test injects: [`MaxWsSim::empty_book_snapshots`], [`MaxWsSim::silence`],
//! [`MaxWsSim::drop_connections`], [`MaxWsSim::ban_until`].
//!
//! One ticker thread steps the market every millisecond of wall time, then serves new
//! subscriptions with snapshots, and fans frames out to the queues of the connections
//! subscribed to their (channel, market); each connection has its own thread.
//!
//! One concept per file: this one holds [`MaxWsSim`] (its ticker and acceptor threads, the
//! test's handle) and the types they share; `conn.rs` serves one connection (handshake, limits,
//! pings, silencing), `commands.rs` answers a client's `sub` / `unsub` / `auth`, and
//! `frames.rs` writes the book frames and a new subscription's snapshots.

mod commands;
mod conn;
mod frames;

use super::error::SimError;
use super::market::{MarketOutput, SyntheticMarket};
use super::max_account::MaxAccount;
use super::public_tape::PublicTape;
use super::venue_ban::refuse_handshake;
use crate::config::sim::SimConfig;
use crate::model::Level;
use crate::sim::max_frames::{MaxPublicTrade, write_public_trades, write_ticker};
use conn::{hold, serve};
use crossbeam::channel::{Sender, unbounded};
use frames::{encode, send_snapshot};
use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    Subscribe {
        conn: u64,
        subs: Vec<Sub>,
    },
    Unsubscribe {
        conn: u64,
        subs: Vec<Sub>,
    },
    /// Send an empty snapshot of this market's book to every connection subscribed to it.
    EmptyBookNow {
        market: String,
    },
}

/// What the ticker, the acceptor, the connections and the test's handle share: enforcement
/// counters and the injected faults.
struct Shared {
    ping_timeout: Duration,
    rate_limited: AtomicU64,
    missing_ping: AtomicU64,
    silenced: AtomicU64,
    /// Bumped by [`MaxWsSim::silence`]: `[public, private]`. A connection opened before a bump
    /// of its kind goes silent.
    silence_gen: [AtomicU64; 2],
    /// The earliest last frame (a pong, a reply, a push) among the connections silenced since
    /// the last [`MaxWsSim::silence`]: the instant from which a client's liveness deadline
    /// runs at the earliest.
    last_frame_before_silence: Mutex<Option<Instant>>,
    /// `sub` messages that asked for a market's book.
    book_subs: Mutex<HashMap<String, u64>>,
    /// The most subscriptions one `sub` may carry (`[sim] max_subscriptions_per_message`), and
    /// the bigger ones refused.
    max_subs_per_message: usize,
    oversized_subs: AtomicU64,
    /// Markets whose new book subscriptions get empty snapshots, until when.
    empty_until: Mutex<HashMap<String, Instant>>,
}

impl Shared {
    fn empty_now(&self, market: &str) -> bool {
        self.empty_until
            .lock()
            .map(|m| m.get(market).is_some_and(|t| Instant::now() < *t))
            .unwrap_or(false)
    }
}

struct Conn {
    id: u64,
    subs: HashSet<Sub>,
    frames: Sender<Arc<Vec<u8>>>,
}

pub struct MaxWsSim {
    addr: SocketAddr,
    account: Arc<MaxAccount>,
    shared: Arc<Shared>,
    ctl: Sender<Control>,
    stop: Arc<AtomicBool>,
    books: Arc<Mutex<HashMap<String, SimBook>>>,
    kick: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
}

impl MaxWsSim {
    /// Serves on `addr` (port 0: any free port) until dropped.
    /// Serves on `addr` (port 0: any free port) until dropped; private `auth` always fails.
    pub fn start(addr: &str, cfg: &SimConfig) -> Result<MaxWsSim, SimError> {
        Self::start_with_keys(addr, cfg, &[])
    }

    /// As [`MaxWsSim::start`], accepting private `auth` for these (access key, secret) pairs;
    /// the account behind them has no orders unless a REST server shares it (see
    /// [`MaxWsSim::start_with_account`]).
    pub fn start_with_keys(
        addr: &str,
        cfg: &SimConfig,
        keys: &[(&str, &str)],
    ) -> Result<MaxWsSim, SimError> {
        Self::start_with_account(addr, cfg, keys, MaxAccount::new(cfg)?)
    }

    /// Serves the public books and, for these keys, the private events of `account`, whose
    /// orders the ticker matches against the books.
    pub fn start_with_account(
        addr: &str,
        cfg: &SimConfig,
        keys: &[(&str, &str)],
        account: Arc<MaxAccount>,
    ) -> Result<MaxWsSim, SimError> {
        let keys: Arc<HashMap<String, String>> = Arc::new(
            keys.iter()
                .map(|(k, s)| (k.to_string(), s.to_string()))
                .collect(),
        );
        let listener = TcpListener::bind(addr).map_err(SimError::bind("WS", addr))?;
        listener
            .set_nonblocking(true)
            .map_err(SimError::socket("WS"))?;
        let local = listener.local_addr().map_err(SimError::socket("WS"))?;
        let mut sim_market = SyntheticMarket::new(cfg)?.with_public_trades(cfg);
        let stop = Arc::new(AtomicBool::new(false));
        let books: Arc<Mutex<HashMap<String, SimBook>>> = Arc::new(Mutex::new(HashMap::new()));
        let conns: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
        let kick = Arc::new(AtomicU64::new(0));
        let shared = Arc::new(Shared {
            ping_timeout: Duration::from_millis(cfg.max_ping_timeout_ms.max(1)),
            rate_limited: AtomicU64::new(0),
            missing_ping: AtomicU64::new(0),
            silenced: AtomicU64::new(0),
            silence_gen: [AtomicU64::new(0), AtomicU64::new(0)],
            last_frame_before_silence: Mutex::new(None),
            book_subs: Mutex::new(HashMap::new()),
            max_subs_per_message: cfg.max_subscriptions_per_message.max(1) as usize,
            oversized_subs: AtomicU64::new(0),
            empty_until: Mutex::new(HashMap::new()),
        });
        let (ctl_tx, ctl_rx) = unbounded::<Control>();
        let mut threads = Vec::new();

        // Ticker: steps the market, records the prints, fans out frames, serves new
        // subscriptions with snapshots, and runs the account's matching engine.
        {
            let (stop, books, conns, account, shared) = (
                stop.clone(),
                books.clone(),
                conns.clone(),
                account.clone(),
                shared.clone(),
            );
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
                                    tape.record(&m.to_lowercase(), p);
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
                                            let empty =
                                                ch == Channel::Book && shared.empty_now(&market);
                                            send_snapshot(
                                                &mut sim_market,
                                                &tape,
                                                &mut buf,
                                                now_ms,
                                                (ch, &market, empty),
                                                &k.frames,
                                            );
                                            k.subs.insert((ch, market));
                                        }
                                    }
                                    Control::EmptyBookNow { market } => {
                                        for k in cs
                                            .iter()
                                            .filter(|k| subscribed(k, Channel::Book, &market))
                                        {
                                            send_snapshot(
                                                &mut sim_market,
                                                &tape,
                                                &mut buf,
                                                now_ms,
                                                (Channel::Book, &market, true),
                                                &k.frames,
                                            );
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
                    .map_err(SimError::spawn("sim.max_ws.tick"))?,
            );
        }

        // Acceptor: one thread per connection.
        {
            let (stop, conns, kick, shared, ctl_tx, account) = (
                stop.clone(),
                conns.clone(),
                kick.clone(),
                shared.clone(),
                ctl_tx.clone(),
                account.clone(),
            );
            threads.push(
                std::thread::Builder::new()
                    .name("sim.max_ws.accept".into())
                    .spawn(move || {
                        let mut next_id = 1u64;
                        while !stop.load(Ordering::Acquire) {
                            match listener.accept() {
                                Ok((stream, _)) => {
                                    if let Some(until) = account.venue_ban().attempt() {
                                        refuse_handshake(stream, until);
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
                                    let silence_at_open = [
                                        shared.silence_gen[0].load(Ordering::Acquire),
                                        shared.silence_gen[1].load(Ordering::Acquire),
                                    ];
                                    let (stop, ctl, conns, kick, shared) = (
                                        stop.clone(),
                                        ctl_tx.clone(),
                                        conns.clone(),
                                        kick.clone(),
                                        shared.clone(),
                                    );
                                    let _ = std::thread::Builder::new()
                                        .name(format!("sim.max_ws.{id}"))
                                        .spawn(move || {
                                            let cx = ConnCtx {
                                                id,
                                                ctl,
                                                stop: &stop,
                                                kick: &kick,
                                                private,
                                                shared: &shared,
                                                silence_at_open,
                                            };
                                            let silenced = serve(stream, rx, &cx);
                                            if let Ok(mut cs) = conns.lock() {
                                                cs.retain(|k| k.id != id);
                                            }
                                            if let Some(ws) = silenced {
                                                hold(ws, &stop);
                                            }
                                        });
                                }
                                Err(_) => std::thread::sleep(Duration::from_millis(2)),
                            }
                        }
                    })
                    .map_err(SimError::spawn("sim.max_ws.accept"))?,
            );
        }
        Ok(MaxWsSim {
            addr: local,
            account,
            shared,
            ctl: ctl_tx,
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

    /// Bans the venue until `unix_s` (0 lifts it): handshakes, and REST requests of a server
    /// sharing the account, get `429` and `Retry-After: <unix s>`; the ban lifts by itself at
    /// its end and an early attempt prolongs it (see [`super::venue_ban`]).
    pub fn ban_until(&self, unix_s: u64) {
        self.account.venue_ban().ban_until(unix_s);
    }

    /// Attempts refused by the venue's ban (handshakes and REST requests of the account).
    pub fn attempts_refused(&self) -> u64 {
        self.account.venue_ban().attempts_refused()
    }

    /// Refused attempts made after a `Retry-After` had been sent and before it passed.
    pub fn early_attempts(&self) -> u64 {
        self.account.venue_ban().early_attempts()
    }

    /// Connections closed for sending more than 20 messages a second or 200 a minute.
    pub fn rate_limited_connections(&self) -> u64 {
        self.shared.rate_limited.load(Ordering::Acquire)
    }

    /// `sub` messages refused for carrying more than `max_subscriptions_per_message`
    /// subscriptions.
    pub fn oversized_subs(&self) -> u64 {
        self.shared.oversized_subs.load(Ordering::Acquire)
    }

    /// Connections closed because their client sent no ping within `max_ping_timeout_ms`.
    pub fn closed_for_missing_ping(&self) -> u64 {
        self.shared.missing_ping.load(Ordering::Acquire)
    }

    /// `sub` messages that asked for `market`'s book (any case), on any connection.
    pub fn book_subscriptions(&self, market: &str) -> u64 {
        self.shared
            .book_subs
            .lock()
            .map(|m| m.get(&market_name(market)).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// For `for_` from now, `market`'s book snapshots are empty (`"a":[],"b":[]`, ids and
    /// version as a real snapshot's): one goes at once to every connection subscribed to the
    /// book, and every new book subscription gets one. Updates keep flowing as usual.
    pub fn empty_book_snapshots(&self, market: &str, for_: Duration) {
        let market = market_name(market);
        if let Ok(mut m) = self.shared.empty_until.lock() {
            m.insert(market.clone(), Instant::now() + for_);
        }
        let _ = self.ctl.send(Control::EmptyBookNow { market });
    }

    /// Every connection open now of this kind (`private`: authenticated with `auth`) goes
    /// silent: the server neither reads it (no pongs) nor writes to it, and holds the TCP
    /// connection open (up to 120 s, or until the simulator stops). New connections are served.
    pub fn silence(&self, private: bool) {
        *self
            .shared
            .last_frame_before_silence
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.shared.silence_gen[usize::from(private)].fetch_add(1, Ordering::AcqRel);
    }

    /// Connections silenced by [`MaxWsSim::silence`].
    pub fn silenced_connections(&self) -> u64 {
        self.shared.silenced.load(Ordering::Acquire)
    }

    /// The earliest instant at which a connection silenced since the last [`silence`] wrote
    /// its last frame: a client may declare one dead a liveness deadline after this, not
    /// before. `None` until a connection went silent.
    ///
    /// [`silence`]: MaxWsSim::silence
    pub fn last_frame_before_silence(&self) -> Option<Instant> {
        *self
            .shared
            .last_frame_before_silence
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The account behind the private channels (shared with a REST server when started so).
    pub fn account(&self) -> &Arc<MaxAccount> {
        &self.account
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

fn market_name(m: &str) -> String {
    m.to_ascii_lowercase()
}

fn subscribed(k: &Conn, ch: Channel, market: &str) -> bool {
    k.subs.iter().any(|(c, m)| *c == ch && m == market)
}

/// What a connection needs to serve the private channels.
struct Private {
    keys: Arc<HashMap<String, String>>,
    account: Arc<MaxAccount>,
    /// The connection's own outbox, registered with the account once authenticated.
    outbox: Sender<Arc<Vec<u8>>>,
}

/// What a connection's thread works with besides its socket.
struct ConnCtx<'a> {
    id: u64,
    ctl: Sender<Control>,
    stop: &'a AtomicBool,
    kick: &'a AtomicU64,
    private: Private,
    shared: &'a Shared,
    /// [`Shared::silence_gen`] when the connection opened.
    silence_at_open: [u64; 2],
}
