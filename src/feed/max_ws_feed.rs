//! The MAX public WebSocket feed: a non-blocking socket polled by its feed thread, frames parsed
//! straight into md events (spec max.md §3).
//!
//! Protocol, in order:
//! 1. Connect and complete the WebSocket handshake (blocking, before the socket turns
//!    non-blocking: a feed is not live until it is subscribed) — never before the time the
//!    venue's ban names ([`VenueGate`], shared with the private connection and REST).
//! 2. Subscribe a `book` and a `trade` per market, as few `sub` messages as
//!    `[venues.max] subscriptions_per_message` allows (MAX rate-limits request messages and
//!    asks for many subscriptions in one; it documents no cap on one message, the setting
//!    bounds its size). The messages go out through the connection's budget: a board too large
//!    for the 20 messages of one second is subscribed over the next ones, never faster.
//! 3. Poll: read every frame buffered on the socket, parse, publish (book events, and public
//!    trades as [`MdKind::Trade`]). Every frame, pong included, tells the connection is alive;
//!    a connection quiet for half of `liveness_timeout` gets a probe ping, one quiet for all
//!    of it is dead ([`ConnUpkeep`]) — closed, reported and reconnected. A keep-alive ping goes
//!    out at least every `ping_interval` (MAX closes a connection it has not heard a ping from
//!    in 130 s).
//! 4. A book that asks to resync is resubscribed (`unsub` + `sub` of its `book` only): MAX
//!    answers with a fresh book snapshot, and the market's `trade` subscription, untouched,
//!    neither stops nor repeats its snapshot. Requests are paced per book ([`ResyncPacer`]:
//!    once per growing back-off step, so an empty snapshot answered again and again by empty
//!    snapshots cannot start a storm), the books due together share one `unsub` and one `sub`
//!    (a pair per `subscriptions_per_message` books), and every message goes through the
//!    connection's budget (20 per second, 200 per minute:
//!    [`crate::feed::message_budget::MAX_WS`]): books due beyond what the budget allows now
//!    wait for the next poll.
//! 5. On a closed, failed or dead connection: publish a `FeedDown` per book (the book stage
//!    marks them `Resyncing`) and reconnect after an exponential backoff with jitter — and
//!    never before the time a `429`'s `Retry-After` names (an absolute Unix time at MAX), for
//!    this connection or any other of the venue.
//!
//! `ws://` (the simulator) and `wss://` (MAX; roots in [`TlsTrust`]) alike, through
//! [`crate::feed::ws_conn::connect`]. The socket is exposed to a parked thread's readiness wait
//! ([`Stage::wait_fds`]).

use crate::capture::{CaptureTx, FrameKind};
use crate::feed::conn_upkeep::{ConnUpkeep, Upkeep};
use crate::feed::max_sub_messages::{sub_message, sub_messages};
use crate::feed::message_budget::MAX_WS;
use crate::feed::resync_pacer::ResyncPacer;
use crate::feed::venue_config::MAX_SUBSCRIPTIONS_PER_MESSAGE;
use crate::feed::ws_conn::{
    CONNECT_TIMEOUT, ConnectError, FeedCounts, Ws, connect, drain_frames, flush_failed,
    next_conn_id, publish_feed_down, wait_fd,
};
use crate::model::{
    FeedLink, InstrumentId, Instruments, SystemEvent, SystemKind, Telemetry, Venue,
};
use crate::pipeline::backoff::Backoff;
use crate::pipeline::board::ResyncRequests;
use crate::pipeline::ring::MdProducer;
use crate::pipeline::{EngineClock, Phase, Poll, Shutdown, Stage, WaitFd};
use crate::telemetry::{EngineCounters, LatencySet, TelemetryTx};
use crate::venue::max::MaxPublicParser;
use crate::venue::md_sink::RingSink;
use crate::venue::tls::TlsTrust;
use crate::venue::venue_gate::VenueGate;
use crate::venue::wall_clock::local_ms as unix_ms;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::Message;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

pub struct MaxWsFeedParts {
    pub url: String,
    /// Whom a `wss://` URL trusts (unused for `ws://`).
    pub tls: TlsTrust,
    pub instruments: Instruments,
    pub md: MdProducer,
    pub resync: Arc<ResyncRequests>,
    pub clock: EngineClock,
    pub counters: Arc<EngineCounters>,
    pub tele: TelemetryTx,
    pub shutdown: Shutdown,
}

pub struct MaxWsFeed {
    url: String,
    tls: TlsTrust,
    instruments: Instruments,
    markets: Vec<(InstrumentId, String)>,
    /// The most subscriptions in one `sub` / `unsub` (`[venues.max] subscriptions_per_message`).
    subs_per_message: usize,
    /// The connection's `sub` messages not sent yet for want of budget (step 2).
    pending: VecDeque<String>,
    ws: Option<Ws>,
    /// [`next_conn_id`] of `ws`.
    conn_id: u64,
    parser: MaxPublicParser,
    md: Option<MdProducer>,
    resync: Arc<ResyncRequests>,
    /// The resync requests already looked at ([`ResyncRequests::take_new`]).
    resync_seen: u64,
    pacer: ResyncPacer,
    upkeep: ConnUpkeep,
    gate: Arc<VenueGate>,
    clock: EngineClock,
    latency: LatencySet,
    counters: Arc<EngineCounters>,
    tele: TelemetryTx,
    shutdown: Shutdown,
    next_attempt: Instant,
    backoff: Backoff,
    counts: FeedCounts,
    /// What has been added to the shared counters: (dead, budget deferred, budget ms, refusals).
    published: (u64, u64, u64, u64),
    last_error: Option<ConnectError>,
    pub connects: u64,
    /// Every frame read also goes here (`--capture`).
    capture: Option<CaptureTx>,
    /// When the parse latency next goes to the metrics.
    latency_report: crate::telemetry::LatencyReport,
}

impl MaxWsFeed {
    pub fn new(p: MaxWsFeedParts) -> MaxWsFeed {
        let markets: Vec<(InstrumentId, String)> = p
            .instruments
            .iter()
            .filter(|i| i.venue == Venue::Max)
            .map(|i| (i.id, i.symbol.to_lowercase()))
            .collect();
        let defaults = crate::feed::venue_config::MaxVenue::default();
        MaxWsFeed {
            url: p.url,
            tls: p.tls,
            instruments: p.instruments,
            pacer: ResyncPacer::new(markets.len(), 0x51_7cc1_b727_220a),
            markets,
            subs_per_message: MAX_SUBSCRIPTIONS_PER_MESSAGE,
            pending: VecDeque::new(),
            ws: None,
            conn_id: 0,
            parser: MaxPublicParser::new(),
            md: Some(p.md),
            resync: p.resync,
            resync_seen: 0,
            upkeep: ConnUpkeep::new(
                &MAX_WS,
                Duration::from_millis(defaults.liveness_timeout_ms),
                Duration::from_millis(defaults.ping_interval_ms),
            ),
            gate: Arc::new(VenueGate::new()),
            clock: p.clock,
            latency: LatencySet::default(),
            counters: p.counters,
            tele: p.tele,
            shutdown: p.shutdown,
            next_attempt: Instant::now(),
            backoff: Backoff::new(BACKOFF_MIN, BACKOFF_MAX, 0x9e37_79b9_7f4a_7c15),
            counts: FeedCounts::default(),
            published: (0, 0, 0, 0),
            last_error: None,
            connects: 0,
            capture: None,
            latency_report: Default::default(),
        }
    }

    /// Hands every frame read to a capture as well.
    pub fn with_capture(mut self, capture: Option<CaptureTx>) -> Self {
        self.capture = capture;
        self
    }

    /// The venue's ban, shared with MAX's other connections and its REST client.
    pub fn with_gate(mut self, gate: Arc<VenueGate>) -> Self {
        self.gate = gate;
        self
    }

    /// The liveness deadline and the keep-alive period (config `[venues.max]`
    /// `liveness_timeout_ms`, `ping_interval_ms`).
    pub fn with_liveness(mut self, timeout: Duration, ping_every: Duration) -> Self {
        self.upkeep = ConnUpkeep::new(&MAX_WS, timeout, ping_every);
        self
    }

    /// The most subscriptions one `sub` or `unsub` carries (config `[venues.max]
    /// subscriptions_per_message`; at least 2, a market's book and trade).
    pub fn with_subscriptions_per_message(mut self, n: usize) -> Self {
        self.subs_per_message = n.max(2);
        self
    }

    pub fn latency(&self) -> &LatencySet {
        &self.latency
    }

    /// `sub` messages of the current connection still waiting for budget (0: every market
    /// has been asked for).
    pub fn pending_subscriptions(&self) -> usize {
        self.pending.len()
    }

    /// When the feed will try to connect next.
    pub fn next_attempt(&self) -> Instant {
        self.next_attempt
    }

    pub fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    /// Why the latest connection attempt failed (cleared by a successful one).
    pub fn last_connect_error(&self) -> Option<&ConnectError> {
        self.last_error.as_ref()
    }

    fn system(&self, kind: SystemKind) {
        self.tele.send(Telemetry::System(SystemEvent {
            kind,
            venue: Venue::Max,
            ts: self.clock.raw(),
            ..Default::default()
        }));
    }

    /// Sends the connection's pending `sub` messages the budget allows now (step 2). Returns
    /// false when the connection failed.
    fn send_pending(&mut self, now: Instant) -> bool {
        let Some(ws) = self.ws.as_mut() else {
            return true;
        };
        while let Some(sub) = self.pending.front() {
            match self
                .upkeep
                .send_control(ws, Message::text(sub.as_str()), now)
            {
                Ok(true) => {
                    self.pending.pop_front();
                }
                Ok(false) => return true,
                Err(_) => return false,
            }
        }
        true
    }

    /// Steps 1–2.
    fn connect(&mut self) -> Result<(), ConnectError> {
        let (mut ws, _) = match connect(&self.url, &self.tls, CONNECT_TIMEOUT, &self.clock) {
            Ok(x) => x,
            Err(e) => {
                // MAX bans an IP that connects too often: 429 with `Retry-After` = the Unix time
                // (seconds) after which it may come back. Connecting earlier prolongs the ban.
                if let Some(until) = e.note_refusal(&self.gate) {
                    self.system(SystemKind::VenueBan {
                        until_unix_ms: until,
                    });
                }
                return Err(e);
            }
        };
        self.gate.succeeded();
        let now = Instant::now();
        self.upkeep.opened(now);
        let markets: Vec<&str> = self.markets.iter().map(|(_, m)| m.as_str()).collect();
        self.pending = sub_messages("sub", &markets, true, self.subs_per_message).into();
        // A fresh connection has its whole budget: the first 20 messages go now, the rest as
        // the budget allows (`poll`).
        while let Some(sub) = self.pending.front() {
            let sent = self
                .upkeep
                .send_control(&mut ws, Message::text(sub.as_str()), now)
                .map_err(|e| ConnectError::Io(format!("sending the subscription: {e}")))?;
            if !sent {
                break;
            }
            self.pending.pop_front();
        }
        self.pacer.asked_all(now);
        self.ws = Some(ws);
        self.conn_id = next_conn_id();
        self.connects += 1;
        if self.connects > 1 {
            self.counters.reconnects.add_shared(1);
        }
        self.backoff.reset();
        self.system(SystemKind::FeedUp(FeedLink::Connection {
            connects: self.connects,
            group: 0,
        }));
        Ok(())
    }

    /// Step 5.
    fn disconnected(&mut self) {
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        self.pending.clear();
        let now = self.clock.raw();
        let books = self.markets.iter().map(|(id, _)| *id);
        publish_feed_down(&mut self.md, Venue::Max, books, now);
        self.system(SystemKind::FeedDown(FeedLink::Connection {
            connects: self.connects,
            group: 0,
        }));
        // Exponential backoff with ±25 % jitter, capped; never before the venue's ban ends.
        let mut wait = self.backoff.next_wait();
        if let Some(ban) = self.gate.wait(unix_ms()) {
            wait = wait.max(ban);
        }
        self.next_attempt = Instant::now() + wait;
    }

    /// Step 4: the books due for a snapshot, an `unsub` and a `sub` per
    /// `subscriptions_per_message` of them, as many pairs as the budget has room for now (the
    /// other books stay due). Returns false when the connection failed.
    fn resubscribe(&mut self, now: Instant) -> bool {
        // The connection's own subscription first.
        if !self.pending.is_empty() {
            return true;
        }
        let Some(ws) = self.ws.as_mut() else {
            return true;
        };
        if !self.pacer.any_due(now) {
            return true;
        }
        let pairs = self.upkeep.budget.remaining(now) as usize / 2;
        if pairs == 0 {
            self.upkeep.budget.defer(now);
            return true;
        }
        let markets = &self.markets;
        let cap = self.subs_per_message;
        let mut due: Vec<&str> = Vec::new();
        self.pacer
            .take_due_up_to(now, pairs * cap, |i| due.push(markets[i].1.as_str()));
        let waited_before = self.upkeep.budget.waited;
        // The book only: the market's `trade` subscription stays as it is.
        let mut ok = true;
        for chunk in due.chunks(cap) {
            let unsub = Message::text(sub_message("unsub", chunk, false));
            let sub = Message::text(sub_message("sub", chunk, false));
            ok = ok
                && self.upkeep.send_control(ws, unsub, now).is_ok()
                && self.upkeep.send_control(ws, sub, now).is_ok();
        }
        // A resubscription that had to wait for budget: the operator hears of it.
        if self.upkeep.budget.waited > waited_before {
            let ms = self.upkeep.budget.waited.as_millis() as u64;
            self.system(SystemKind::BudgetWait { waited_ms: ms });
        }
        ok
    }

    fn publish_counters(&mut self) {
        self.counts.publish(&self.counters);
        let stopping = self.md.is_none();
        self.counts.report(
            &self.latency,
            &mut self.latency_report,
            &self.tele,
            &self.clock,
            Venue::Max,
            stopping,
        );
        let now = (
            self.upkeep.dead,
            self.upkeep.budget.deferred,
            self.upkeep.budget.waited.as_millis() as u64,
            // The venue's refusals, whichever connection or call met them: this feed is the
            // one that reports the shared gate's count.
            self.gate.refusals(),
        );
        let c = &self.counters;
        c.dead_connections.add_shared(now.0 - self.published.0);
        c.budget_deferred.add_shared(now.1 - self.published.1);
        c.budget_wait_ms.add_shared(now.2 - self.published.2);
        c.venue_refusals.add_shared(now.3 - self.published.3);
        self.published = now;
    }
}

impl Stage for MaxWsFeed {
    fn name(&self) -> &'static str {
        "feed.max"
    }

    fn wait_fds(&self, out: &mut Vec<WaitFd>) {
        if let Some(ws) = &self.ws {
            out.push(wait_fd(ws, self.conn_id));
        }
    }

    fn poll(&mut self) -> Poll {
        if self.shutdown.phase() >= Phase::StopFeeds {
            if let Some(mut ws) = self.ws.take() {
                let _ = ws.close(None);
                let _ = ws.flush();
            }
            self.md = None;
            // The last running totals (the metrics' final values).
            self.publish_counters();
            return Poll::Finished;
        }
        let pacer = &mut self.pacer;
        self.resync.take_new(
            &mut self.resync_seen,
            self.markets.iter().map(|(id, _)| *id),
            |i| pacer.request(i),
        );
        if self.ws.is_none() {
            let now = Instant::now();
            if now < self.next_attempt {
                return Poll::Idle;
            }
            // Another connection of the venue may have been refused meanwhile.
            if let Some(ban) = self.gate.wait(unix_ms()) {
                self.next_attempt = now + ban;
                return Poll::Idle;
            }
            match self.connect() {
                Ok(()) => self.last_error = None,
                Err(e) => {
                    self.last_error = Some(e);
                    self.disconnected();
                    self.publish_counters();
                    return Poll::Idle;
                }
            }
        }
        let now = Instant::now();
        let mut failed = !self.send_pending(now) || !self.resubscribe(now);
        // Step 3.
        let MaxWsFeed {
            ws,
            parser,
            md,
            instruments,
            clock,
            latency,
            counts,
            upkeep,
            capture,
            conn_id,
            ..
        } = self;
        let mut n = 0;
        if let Some(sock) = ws.as_mut() {
            let d = drain_frames(sock, clock, |bytes, ts| {
                counts.frames += 1;
                if let Some(c) = capture {
                    c.frame(Venue::Max, FrameKind::WsText, *conn_id, ts, bytes);
                }
                let sink = RingSink {
                    md: md.as_mut(),
                    clock,
                    latency,
                    count: &mut counts.md_events,
                };
                let ok = parser.parse_into(bytes, ts, instruments, sink).is_ok();
                if !ok {
                    counts.parse_errors += 1;
                }
            });
            n = d.texts;
            failed |= d.closed;
            let now = Instant::now();
            upkeep.after_read(&d, now);
            if !failed {
                match upkeep.tick(sock, now) {
                    Upkeep::Alive => {}
                    Upkeep::Failed => failed = true,
                    Upkeep::Dead => {
                        failed = true;
                        let dead = upkeep.dead;
                        self.system(SystemKind::ConnectionDead { dead });
                    }
                }
            }
            if let Some(sock) = self.ws.as_mut() {
                failed |= flush_failed(sock);
            }
        }
        if failed {
            self.disconnected();
        }
        self.publish_counters();
        if n == 0 { Poll::Idle } else { Poll::Busy(n) }
    }
}
