//! The MAX public WebSocket feed: a non-blocking socket polled by its feed thread, frames parsed
//! straight into md events (spec max.md §3).
//!
//! Protocol, in order:
//! 1. Connect and complete the WebSocket handshake (blocking, before the socket turns
//!    non-blocking: a feed is not live until it is subscribed).
//! 2. Send one `sub` with a `book` and a `trade` subscription per market (MAX rate-limits
//!    request messages, so everything goes in one message).
//! 3. Poll: read every frame buffered on the socket, parse, publish (book events, and public
//!    trades as [`MdKind::Trade`]); answer pings; send our own ping every 30 s (the server
//!    closes a connection it has not heard a ping from in 130 s).
//! 4. A book that asks to resync is resubscribed (`unsub` + `sub` of its `book` only): MAX
//!    answers with a fresh book snapshot, and the market's `trade` subscription, untouched,
//!    neither stops nor repeats its snapshot.
//! 5. On a closed or failed connection: publish `FeedDown` (the book stage marks the venue's
//!    books `Resyncing`) and reconnect after an exponential backoff with jitter — and never
//!    before the time a `429`'s `Retry-After` names (an absolute Unix time at MAX).
//!
//! `ws://` (the simulator) and `wss://` (MAX; roots in [`TlsTrust`]) alike, through
//! [`crate::feed::ws_conn::connect`]. The socket is exposed to a parked thread's readiness wait
//! ([`Stage::wait_fds`]).

use crate::feed::resync::ResyncRequests;
use crate::feed::tls::TlsTrust;
use crate::feed::ws_conn::{
    Backoff, CONNECT_TIMEOUT, ConnectError, FeedCounts, Ws, connect, drain, flush_failed,
    next_conn_id, publish_md, send, wait_fd,
};
use crate::model::{
    InstrumentId, Instruments, MdEvent, MdKind, SystemCode, SystemEvent, Telemetry, Venue,
};
use crate::pipeline::ring::MdProducer;
use crate::pipeline::{EngineClock, Phase, Poll, Shutdown, Stage, WaitFd};
use crate::telemetry::{EngineCounters, LatencySet, TelemetryTx};
use crate::venue::max::MaxPublicParser;
use disruptor::Producer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::Message;

const PING_EVERY: Duration = Duration::from_secs(30);
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
    ws: Option<Ws>,
    /// [`next_conn_id`] of `ws`.
    conn_id: u64,
    parser: MaxPublicParser,
    md: Option<MdProducer>,
    resync: Arc<ResyncRequests>,
    clock: EngineClock,
    latency: LatencySet,
    counters: Arc<EngineCounters>,
    tele: TelemetryTx,
    shutdown: Shutdown,
    last_ping: Instant,
    next_attempt: Instant,
    backoff: Backoff,
    counts: FeedCounts,
    /// Set by a 429: do not reconnect before this Unix time (seconds).
    retry_after_unix_s: Option<u64>,
    last_error: Option<ConnectError>,
    pub connects: u64,
}

impl MaxWsFeed {
    pub fn new(p: MaxWsFeedParts) -> MaxWsFeed {
        let markets = p
            .instruments
            .iter()
            .filter(|i| i.venue == Venue::Max)
            .map(|i| (i.id, i.symbol.to_lowercase()))
            .collect();
        MaxWsFeed {
            url: p.url,
            tls: p.tls,
            instruments: p.instruments,
            markets,
            ws: None,
            conn_id: 0,
            parser: MaxPublicParser::new(),
            md: Some(p.md),
            resync: p.resync,
            clock: p.clock,
            latency: LatencySet::default(),
            counters: p.counters,
            tele: p.tele,
            shutdown: p.shutdown,
            last_ping: Instant::now(),
            next_attempt: Instant::now(),
            backoff: Backoff::new(BACKOFF_MIN, BACKOFF_MAX, 0x9e37_79b9_7f4a_7c15),
            counts: FeedCounts::default(),
            retry_after_unix_s: None,
            last_error: None,
            connects: 0,
        }
    }

    pub fn latency(&self) -> &LatencySet {
        &self.latency
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

    fn system(&self, code: SystemCode, detail: u64) {
        self.tele.send(Telemetry::System(SystemEvent {
            code,
            venue: Venue::Max,
            detail,
            ts: self.clock.raw(),
            ..Default::default()
        }));
    }

    /// `{"action":…,"subscriptions":[…],"id":"arbline"}`: every market's `book` (depth 50)
    /// and, with `trades`, its `trade` channel.
    fn sub_message(action: &str, markets: &[&str], trades: bool) -> String {
        let mut subs: Vec<String> = Vec::with_capacity(markets.len() * 2);
        for m in markets {
            subs.push(format!(r#"{{"channel":"book","market":"{m}","depth":50}}"#));
            if trades {
                subs.push(format!(r#"{{"channel":"trade","market":"{m}"}}"#));
            }
        }
        format!(
            r#"{{"action":"{action}","subscriptions":[{}],"id":"arbline"}}"#,
            subs.join(",")
        )
    }

    /// Steps 1–2.
    fn connect(&mut self) -> Result<(), ConnectError> {
        let (mut ws, _) = match connect(&self.url, &self.tls, CONNECT_TIMEOUT) {
            Ok(x) => x,
            Err(e) => {
                // MAX bans an IP that connects too often: 429 with `Retry-After` = the Unix time
                // (seconds) after which it may come back. Connecting earlier prolongs the ban.
                if let ConnectError::Http(resp) = &e
                    && resp.status().as_u16() == 429
                {
                    self.retry_after_unix_s = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse().ok());
                }
                return Err(e);
            }
        };
        let markets: Vec<&str> = self.markets.iter().map(|(_, m)| m.as_str()).collect();
        send(
            &mut ws,
            Message::text(Self::sub_message("sub", &markets, true)),
        )
        .map_err(|e| ConnectError::Io(format!("sending the subscription: {e}")))?;
        self.ws = Some(ws);
        self.conn_id = next_conn_id();
        self.connects += 1;
        self.backoff.reset();
        self.last_ping = Instant::now();
        self.system(SystemCode::FeedUp, self.connects);
        Ok(())
    }

    /// Step 5.
    fn disconnected(&mut self) {
        self.ws = None;
        if let Some(md) = self.md.as_mut() {
            let now = self.clock.raw();
            md.publish(|e| {
                *e = MdEvent {
                    kind: MdKind::FeedDown,
                    venue: Venue::Max,
                    last_chunk: true,
                    ts_frame: now,
                    ts_parsed: now,
                    ..Default::default()
                };
            });
        }
        self.system(SystemCode::FeedDown, self.connects);
        // Exponential backoff with ±25 % jitter (xorshift), capped.
        let mut wait = self.backoff.next_wait().as_millis() as u64;
        if let Some(until) = self.retry_after_unix_s.take() {
            let now_ms = crate::venue::max::wall_clock::local_ms();
            wait = wait.max((until * 1000).saturating_sub(now_ms));
            self.system(SystemCode::FeedDown, until);
        }
        self.next_attempt = Instant::now() + Duration::from_millis(wait);
    }

    fn publish_counters(&mut self) {
        self.counts.publish(&self.counters);
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
            return Poll::Finished;
        }
        if self.ws.is_none() {
            if Instant::now() < self.next_attempt {
                return Poll::Idle;
            }
            match self.connect() {
                Ok(()) => self.last_error = None,
                Err(e) => {
                    self.last_error = Some(e);
                    self.disconnected();
                    return Poll::Idle;
                }
            }
        }
        // Step 4: resubscribe books that lost sync.
        let mut resub: Vec<&str> = Vec::new();
        for (id, m) in &self.markets {
            if self.resync.take(*id) {
                resub.push(m.as_str());
            }
        }
        let mut failed = false;
        if !resub.is_empty()
            && let Some(ws) = self.ws.as_mut()
        {
            // The book only: the market's `trade` subscription stays as it is.
            failed |= send(ws, Message::text(Self::sub_message("unsub", &resub, false))).is_err();
            failed |= send(ws, Message::text(Self::sub_message("sub", &resub, false))).is_err();
        }
        // Step 3.
        let mut n = 0;
        let MaxWsFeed {
            ws,
            parser,
            md,
            instruments,
            clock,
            latency,
            counts,
            ..
        } = self;
        if let Some(sock) = ws.as_mut() {
            let (frames, closed) = drain(sock, clock, |bytes, ts| {
                counts.frames += 1;
                let ok = parser
                    .parse(bytes, ts, instruments, |ev| {
                        publish_md(md, clock, latency, &mut counts.md_events, ev)
                    })
                    .is_ok();
                if !ok {
                    counts.parse_errors += 1;
                }
            });
            n = frames;
            failed |= closed;
            if !failed && self.last_ping.elapsed() >= PING_EVERY {
                self.last_ping = Instant::now();
                if let Some(sock) = self.ws.as_mut() {
                    failed |= send(sock, Message::Ping(Vec::new().into())).is_err();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sub_carries_book_and_trade_and_a_resubscribe_only_the_book() {
        let sub = MaxWsFeed::sub_message("sub", &["btcusdt", "usdttwd"], true);
        let v: serde_json::Value = serde_json::from_str(&sub).unwrap();
        let subs: Vec<(String, String)> = v["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["channel"].as_str().unwrap().to_string(),
                    s["market"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want = |c: &str, m: &str| (c.to_string(), m.to_string());
        assert_eq!(
            subs,
            [
                want("book", "btcusdt"),
                want("trade", "btcusdt"),
                want("book", "usdttwd"),
                want("trade", "usdttwd"),
            ]
        );
        assert_eq!(v["action"], "sub");
        let resub = MaxWsFeed::sub_message("unsub", &["btcusdt"], false);
        assert_eq!(
            resub,
            r#"{"action":"unsub","subscriptions":[{"channel":"book","market":"btcusdt","depth":50}],"id":"arbline"}"#
        );
    }
}
