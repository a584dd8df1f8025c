//! The MAX private WebSocket (`feed.user`): authenticates with the HMAC of a nonce and turns
//! order, trade and account events into exec events (spec max.md §4).
//!
//! 1. Connect, send `{"action":"auth","apiKey":…,"nonce":…,"signature":…,"filters":[…]}`
//!    with `signature = hex(HMAC-SHA256(secret, decimal nonce))`.
//! 2. `authenticated`: events flow (order and trade snapshots first, then updates), parsed into
//!    the exec ring; the order stage applies each fill once per trade id.
//! 3. `E-1007` (authentication failed): the key or secret is wrong. The feed stops — retrying
//!    would only hammer the venue with a bad key — reports it, and asks for a trading halt.
//!    `E-1006` (nonce off by 30 s or more) is retried after the usual backoff.
//! 4. A dropped connection reconnects with backoff and authenticates again; each successful
//!    auth asks the reconciler for a round, so what happened while the feed was away (fills,
//!    cancels) is read back from REST.
//! 5. Like every MAX connection it pings at least every `ping_interval` (MAX closes one it has
//!    not heard a ping from in 130 s, the private one included), probes a quiet connection and
//!    declares it dead past `liveness_timeout` ([`ConnUpkeep`]); its messages go through the
//!    connection's budget; it never connects before the venue's ban ends ([`VenueGate`], shared
//!    with the public connection and REST), and a 429 it meets holds the others back too.
//!
//! `ws://` or `wss://` through [`crate::feed::ws_conn::connect`], trusting [`TlsTrust`]; the
//! socket is exposed to a parked thread's readiness wait ([`Stage::wait_fds`]).

use crate::capture::{CaptureTx, FrameKind};
use crate::feed::conn_upkeep::{ConnUpkeep, Upkeep};
use crate::feed::message_budget::MAX_WS;
use crate::feed::ws_conn::{
    CONNECT_TIMEOUT, ConnectError, FeedCounts, Ws, connect, drain_frames, flush_failed,
    next_conn_id, wait_fd, would_block,
};
use crate::model::{ExecEvent, FeedLink, Instruments, SystemEvent, SystemKind, Telemetry, Venue};
use crate::pipeline::backoff::Backoff;
use crate::pipeline::board::{HaltReason, HaltRequests};
use crate::pipeline::ring::ExecProducer;
use crate::pipeline::{EngineClock, Phase, Poll, Shutdown, Stage, WaitFd};
use crate::telemetry::{EngineCounters, TelemetryTx};
use crate::venue::max::wall_clock::local_ms;
use crate::venue::max::{MaxPrivateOutcome, MaxPrivateParser, MaxSigner};
use crate::venue::tls::TlsTrust;
use crate::venue::venue_gate::VenueGate;
use crate::venue::wall_clock::local_ms as unix_ms;
use disruptor::Producer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::Message;

/// Where the private feed stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthState {
    Connecting,
    /// Connected; `auth` waits for a moment when no REST call of the key is in flight, so the
    /// venue receives the key's nonces in order ([`crate::venue::max::KeyNonce`]).
    AwaitingTurn,
    /// `auth` sent, no answer yet.
    Pending,
    Authenticated,
    /// The venue refused the credentials (E-1007): the feed has stopped.
    Refused,
}

pub struct MaxUserFeedParts {
    pub url: String,
    /// Whom a `wss://` URL trusts (unused for `ws://`).
    pub tls: TlsTrust,
    pub signer: MaxSigner,
    pub instruments: Instruments,
    pub exec: ExecProducer,
    pub clock: EngineClock,
    pub counters: Arc<EngineCounters>,
    pub tele: TelemetryTx,
    pub shutdown: Shutdown,
    pub halts: Arc<HaltRequests>,
    /// Set on every successful auth: the reconciler runs a round.
    pub reconcile_now: Arc<std::sync::atomic::AtomicBool>,
}

pub struct MaxUserFeed {
    p: MaxUserFeedParts,
    ws: Option<Ws>,
    /// [`next_conn_id`] of `ws`.
    conn_id: u64,
    parser: MaxPrivateParser,
    state: AuthState,
    backoff: Backoff,
    next_attempt: Instant,
    counts: FeedCounts,
    upkeep: ConnUpkeep,
    gate: Arc<VenueGate>,
    /// What has been added to the shared counters: connections declared dead. (The venue's
    /// refusals are reported by the public feed, which shares the gate.)
    published_dead: u64,
    last_connect_error: Option<ConnectError>,
    pub last_error_code: u32,
    /// Successful authentications, and connections opened.
    pub auths: u64,
    pub connects: u64,
    /// Every frame read also goes here (`--capture`).
    capture: Option<CaptureTx>,
}

impl MaxUserFeed {
    pub fn new(p: MaxUserFeedParts) -> Self {
        MaxUserFeed {
            p,
            ws: None,
            conn_id: 0,
            parser: MaxPrivateParser::new(),
            state: AuthState::Connecting,
            backoff: Backoff::new(
                Duration::from_millis(100),
                Duration::from_secs(30),
                0x5bd1_e995,
            ),
            next_attempt: Instant::now(),
            counts: FeedCounts::default(),
            upkeep: {
                let d = crate::feed::venue_config::MaxVenue::default();
                ConnUpkeep::new(
                    &MAX_WS,
                    Duration::from_millis(d.liveness_timeout_ms),
                    Duration::from_millis(d.ping_interval_ms),
                )
            },
            gate: Arc::new(VenueGate::new()),
            published_dead: 0,
            last_connect_error: None,
            last_error_code: 0,
            auths: 0,
            connects: 0,
            capture: None,
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

    fn publish_counters(&mut self) {
        self.counts.publish(&self.p.counters);
        let stopping = self.p.shutdown.phase() >= crate::pipeline::Phase::StopFeeds;
        self.counts
            .tally(&self.p.tele, &self.p.clock, Venue::Max, true, stopping);
        let c = &self.p.counters;
        c.dead_connections
            .add_shared(self.upkeep.dead - self.published_dead);
        self.published_dead = self.upkeep.dead;
    }

    pub fn state(&self) -> AuthState {
        self.state
    }

    /// Why the latest connection attempt failed (cleared by a successful one).
    pub fn last_connect_error(&self) -> Option<&ConnectError> {
        self.last_connect_error.as_ref()
    }

    fn system(&self, kind: SystemKind) {
        self.p.tele.send(Telemetry::System(SystemEvent {
            kind,
            venue: Venue::Max,
            ts: self.p.clock.raw(),
            ..Default::default()
        }));
    }

    fn connect(&mut self) -> Result<(), ConnectError> {
        let (ws, _) = match connect(&self.p.url, &self.p.tls, CONNECT_TIMEOUT, &self.p.clock) {
            Ok(x) => x,
            Err(e) => {
                // A ban holds for every MAX connection and REST call (spec max.md §3.5).
                if let Some(until) = e.note_refusal(&self.gate) {
                    self.system(SystemKind::VenueBan {
                        until_unix_ms: until,
                    });
                }
                return Err(e);
            }
        };
        self.gate.succeeded();
        self.upkeep.opened(Instant::now());
        self.ws = Some(ws);
        self.conn_id = next_conn_id();
        self.state = AuthState::AwaitingTurn;
        self.connects += 1;
        if self.connects > 1 {
            self.p.counters.reconnects.add_shared(1);
        }
        Ok(())
    }

    /// Step 1's `auth`, once the key's turn allows it. Err: the connection failed.
    fn send_auth(&mut self) -> Result<(), tungstenite::Error> {
        let nonces = self.p.signer.nonces();
        if self.state != AuthState::AwaitingTurn || !nonces.try_begin_auth() {
            return Ok(());
        }
        let Some(ws) = self.ws.as_mut() else {
            nonces.end_auth();
            return Ok(());
        };
        // The key's one nonce sequence, shared with the REST client (spec max.md §1.3).
        let nonce = nonces.next(local_ms());
        let frame = self
            .p
            .signer
            .ws_auth_frame(nonce, "arbline", &["order", "trade", "account"]);
        // The error is tungstenite's, about the socket: it never quotes the frame.
        match self
            .upkeep
            .send_control(ws, Message::text(frame), Instant::now())
        {
            Ok(true) => {
                self.state = AuthState::Pending;
                Ok(())
            }
            // No budget (a fresh connection always has it): try at the next poll.
            Ok(false) => {
                nonces.end_auth();
                Ok(())
            }
            Err(e) => {
                nonces.end_auth();
                Err(e)
            }
        }
    }

    fn disconnected(&mut self) {
        self.ws = None;
        if self.state == AuthState::Pending {
            self.p.signer.nonces().end_auth();
        }
        if self.state != AuthState::Refused {
            self.state = AuthState::Connecting;
            let mut wait = self.backoff.next_wait();
            if let Some(ban) = self.gate.wait(unix_ms()) {
                wait = wait.max(ban);
            }
            self.next_attempt = Instant::now() + wait;
        }
        self.system(SystemKind::FeedDown(FeedLink::PrivateStream));
    }
}

impl Stage for MaxUserFeed {
    fn name(&self) -> &'static str {
        "feed.user"
    }

    fn wait_fds(&self, out: &mut Vec<WaitFd>) {
        if let Some(ws) = &self.ws {
            out.push(wait_fd(ws, self.conn_id));
        }
    }

    fn poll(&mut self) -> Poll {
        if self.p.shutdown.phase() == Phase::Done {
            return Poll::Finished;
        }
        if self.state == AuthState::Refused {
            return Poll::Idle;
        }
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
                Ok(()) => self.last_connect_error = None,
                Err(e) => {
                    self.last_connect_error = Some(e);
                    self.disconnected();
                    self.publish_counters();
                    return Poll::Idle;
                }
            }
        }
        let auth_failed = self.send_auth().is_err();
        let MaxUserFeed {
            ws,
            parser,
            p,
            counts,
            capture,
            conn_id,
            ..
        } = self;
        let mut outcome_auth: Option<Result<(), u32>> = None;
        let d = match ws.as_mut() {
            Some(sock) => drain_frames(sock, &p.clock, |bytes, ts| {
                counts.frames += 1;
                if let Some(c) = capture {
                    c.frame(Venue::Max, FrameKind::Private, *conn_id, ts, bytes);
                }
                let exec = &mut p.exec;
                let r = parser.parse(
                    bytes,
                    ts,
                    &p.instruments,
                    |ev: &ExecEvent| exec.publish(|slot| *slot = *ev),
                    |_| {},
                );
                match r {
                    Ok(MaxPrivateOutcome::Authenticated) => outcome_auth = Some(Ok(())),
                    Ok(MaxPrivateOutcome::Error { code }) => outcome_auth = Some(Err(code)),
                    Ok(_) => {}
                    Err(e) => {
                        counts.parse_errors += 1;
                        // Counted, and said: which frame and why (no secret is in a private
                        // frame; balances and orders are the account's own).
                        let head = &bytes[..bytes.len().min(300)];
                        tracing::warn!(
                            error = %e,
                            frame = %String::from_utf8_lossy(head),
                            "MAX private frame refused"
                        );
                    }
                }
            }),
            None => Default::default(),
        };
        let (n, mut failed) = (d.texts, d.closed || auth_failed);
        self.upkeep.after_read(&d, Instant::now());
        if outcome_auth.is_some() && self.state == AuthState::Pending {
            self.p.signer.nonces().end_auth();
        }
        match outcome_auth {
            Some(Ok(())) => {
                self.state = AuthState::Authenticated;
                self.auths += 1;
                self.backoff.reset();
                self.p
                    .reconcile_now
                    .store(true, std::sync::atomic::Ordering::Release);
                self.system(SystemKind::FeedUp(FeedLink::PrivateStream));
            }
            Some(Err(code)) => {
                self.last_error_code = code;
                if code == 1007 {
                    self.state = AuthState::Refused;
                    self.p.halts.request(HaltReason::CredentialsRefused);
                    failed = true;
                } else {
                    failed = true;
                }
            }
            None => {}
        }
        if !failed && let Some(sock) = self.ws.as_mut() {
            match self.upkeep.tick(sock, Instant::now()) {
                Upkeep::Alive => {}
                Upkeep::Failed => failed = true,
                Upkeep::Dead => {
                    failed = true;
                    self.system(SystemKind::ConnectionDead {
                        dead: self.upkeep.dead,
                    });
                }
            }
        }
        if let Some(sock) = self.ws.as_mut() {
            failed |= flush_failed(sock);
        }
        if failed {
            if let Some(mut sock) = self.ws.take() {
                let _ = sock.close(None);
                let _ = sock.flush().map_err(|e| would_block(&e));
            }
            self.disconnected();
        }
        self.publish_counters();
        if n == 0 { Poll::Idle } else { Poll::Busy(n) }
    }
}
