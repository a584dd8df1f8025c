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
//!
//! `ws://` or `wss://` through [`crate::feed::ws_conn::connect`], trusting [`TlsTrust`]; the
//! socket is exposed to a parked thread's readiness wait ([`Stage::wait_fds`]).

use crate::feed::tls::TlsTrust;
use crate::feed::ws_conn::{
    Backoff, CONNECT_TIMEOUT, ConnectError, FeedCounts, Ws, connect, drain, flush_failed,
    next_conn_id, send, wait_fd, would_block,
};
use crate::model::{ExecEvent, Instruments, SystemCode, SystemEvent, Telemetry, Venue};
use crate::pipeline::ring::ExecProducer;
use crate::pipeline::{EngineClock, Phase, Poll, Shutdown, Stage, WaitFd};
use crate::risk::{HaltReason, HaltRequests};
use crate::telemetry::{EngineCounters, TelemetryTx};
use crate::venue::max::wall_clock::local_ms;
use crate::venue::max::{MaxPrivateOutcome, MaxPrivateParser, MaxSigner};
use disruptor::Producer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::Message;

/// Where the private feed stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthState {
    Connecting,
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
    last_connect_error: Option<ConnectError>,
    pub last_error_code: u32,
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
            last_connect_error: None,
            last_error_code: 0,
        }
    }

    pub fn state(&self) -> AuthState {
        self.state
    }

    /// Why the latest connection attempt failed (cleared by a successful one).
    pub fn last_connect_error(&self) -> Option<&ConnectError> {
        self.last_connect_error.as_ref()
    }

    fn system(&self, code: SystemCode, detail: u64) {
        self.p.tele.send(Telemetry::System(SystemEvent {
            code,
            venue: Venue::Max,
            detail,
            ts: self.p.clock.raw(),
            ..Default::default()
        }));
    }

    fn connect(&mut self) -> Result<(), ConnectError> {
        let (mut ws, _) = connect(&self.p.url, &self.p.tls, CONNECT_TIMEOUT)?;
        // The key's one nonce sequence, shared with the REST client (spec max.md §1.3).
        let nonce = self.p.signer.nonces().next(local_ms());
        let frame = self
            .p
            .signer
            .ws_auth_frame(nonce, "arbline", &["order", "trade", "account"]);
        // The error is tungstenite's, about the socket: it never quotes the frame.
        send(&mut ws, Message::text(frame))
            .map_err(|e| ConnectError::Io(format!("sending auth: {e}")))?;
        self.ws = Some(ws);
        self.conn_id = next_conn_id();
        self.state = AuthState::Pending;
        Ok(())
    }

    fn disconnected(&mut self) {
        self.ws = None;
        if self.state != AuthState::Refused {
            self.state = AuthState::Connecting;
            self.next_attempt = Instant::now() + self.backoff.next_wait();
        }
        self.system(SystemCode::FeedDown, 2);
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
            if Instant::now() < self.next_attempt {
                return Poll::Idle;
            }
            match self.connect() {
                Ok(()) => self.last_connect_error = None,
                Err(e) => {
                    self.last_connect_error = Some(e);
                    self.disconnected();
                    return Poll::Idle;
                }
            }
        }
        let MaxUserFeed {
            ws,
            parser,
            p,
            counts,
            ..
        } = self;
        let mut outcome_auth: Option<Result<(), u32>> = None;
        let (n, mut failed) = match ws.as_mut() {
            Some(sock) => drain(sock, &p.clock, |bytes, ts| {
                counts.frames += 1;
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
                    Err(_) => counts.parse_errors += 1,
                }
            }),
            None => (0, false),
        };
        match outcome_auth {
            Some(Ok(())) => {
                self.state = AuthState::Authenticated;
                self.backoff.reset();
                self.p
                    .reconcile_now
                    .store(true, std::sync::atomic::Ordering::Release);
                self.system(SystemCode::FeedUp, 2);
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
        self.counts.publish(&self.p.counters);
        if n == 0 { Poll::Idle } else { Poll::Busy(n) }
    }
}
