//! One connection of a Binance feed: the socket with its upkeep (message budget, liveness),
//! opening one — on the feed's thread, or in the background during a rotation — and reading
//! one.

use super::BinanceWsFeed;
use crate::capture::FrameKind;
use crate::feed::conn_upkeep::{ConnUpkeep, Upkeep};
use crate::feed::handover::{Source, Verdict};
use crate::feed::message_budget::Limit;
use crate::feed::ws_conn::{
    CONNECT_TIMEOUT, ConnectError, Ws, connect, drain_frames, flush_failed, publish_md,
};
use crate::model::MdKind;
use crate::pipeline::EngineClock;
use crate::venue::binance::BinanceOutcome;
use crate::venue::tls::TlsTrust;
use crate::venue::venue_gate::VenueGate;
use crossbeam::channel::{Receiver, bounded};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One open connection.
pub(super) struct Conn {
    pub(super) ws: Ws,
    /// [`next_conn_id`]: what the readiness wait knows the socket by.
    pub(super) id: u64,
    /// Engine clock reading when it opened.
    pub(super) opened: u64,
    /// The server said it will close this connection soon (`serverShutdown`).
    pub(super) shutdown_announced: bool,
    /// Its message budget and liveness.
    pub(super) upkeep: ConnUpkeep,
}

/// How a feed's connections keep within the venue's rules and find out they are dead.
#[derive(Clone, Copy)]
pub(super) struct UpkeepRules {
    pub(super) limits: &'static [Limit],
    pub(super) timeout: Duration,
    /// Binance pings us (every 20 s on spot, 3 min on futures); our own pings are probes only.
    pub(super) ping_every: Duration,
}

impl UpkeepRules {
    pub(super) fn upkeep(&self) -> ConnUpkeep {
        let mut u = ConnUpkeep::new(self.limits, self.timeout, self.ping_every);
        u.opened(Instant::now());
        u
    }
}

/// Opens the combined stream at `url` (`ws://` or `wss://`), non-blocking after the handshake;
/// a refusal with 429/418 sets the venue's ban.
pub(super) fn open(
    url: &str,
    tls: &TlsTrust,
    gate: &VenueGate,
    clock: &EngineClock,
) -> Result<Ws, ConnectError> {
    match connect(url, tls, CONNECT_TIMEOUT, clock) {
        Ok((ws, _)) => {
            gate.succeeded();
            Ok(ws)
        }
        Err(e) => {
            e.note_refusal(gate);
            Err(e)
        }
    }
}

/// Opens `url` on a short-lived thread, so the feed keeps reading the live connection.
pub(super) fn open_in_background(
    url: &str,
    tls: &TlsTrust,
    gate: &Arc<VenueGate>,
    clock: &EngineClock,
) -> Receiver<Result<Ws, ConnectError>> {
    let (tx, rx) = bounded(1);
    let (url, tls, gate, clock) = (url.to_string(), tls.clone(), gate.clone(), clock.clone());
    // A thread that cannot start drops the sender with it: the receiver then reports failure.
    let _ = std::thread::Builder::new()
        .name("feed.binance.open".into())
        .spawn(move || {
            let _ = tx.send(open(&url, &tls, &gate, &clock));
        });
    rx
}

impl BinanceWsFeed {
    /// Reads every frame buffered on one connection and publishes what the handover admits.
    /// Returns the frames read, whether the connection failed, and whether it failed because it
    /// went silent past the liveness deadline.
    pub(super) fn read(&mut self, from: Source) -> (usize, bool, bool) {
        let BinanceWsFeed {
            live,
            next,
            parser,
            md,
            instruments,
            clock,
            latency,
            counts,
            handover,
            dead,
            capture,
            market,
            ..
        } = self;
        let mut dead_now = false;
        let conn = match from {
            Source::Live => live,
            Source::Next => next,
        };
        let Some(conn) = conn.as_mut() else {
            return (0, false, false);
        };
        let mut announced = false;
        let conn_id = conn.id;
        let d = drain_frames(&mut conn.ws, clock, |bytes, ts| {
            counts.frames += 1;
            if let Some(c) = capture {
                c.frame(market.venue(), FrameKind::WsText, conn_id, ts, bytes);
            }
            let res = parser.parse_ws(bytes, ts, instruments, |ev| {
                if handover.admit(from, ev) == Verdict::Publish {
                    publish_md(md, clock, latency, &mut counts.md_events, ev);
                }
                if ev.kind == MdKind::BookUpdate && ev.last_chunk {
                    handover.release(ev.instrument, |h| {
                        publish_md(md, clock, latency, &mut counts.md_events, h)
                    });
                }
            });
            match res {
                Ok(BinanceOutcome::ServerShutdown) => announced = true,
                Ok(_) => {}
                Err(_) => counts.parse_errors += 1,
            }
        });
        conn.shutdown_announced |= announced;
        let now = Instant::now();
        conn.upkeep.after_read(&d, now);
        let mut failed = d.closed;
        if !failed {
            match conn.upkeep.tick(&mut conn.ws, now) {
                Upkeep::Alive => {}
                Upkeep::Failed => failed = true,
                Upkeep::Dead => {
                    failed = true;
                    *dead += 1;
                    dead_now = true;
                }
            }
        }
        (d.texts, failed || flush_failed(&mut conn.ws), dead_now)
    }
}
