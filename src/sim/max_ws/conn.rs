//! One connection's thread: the handshake, then commands in and frames out until either side
//! leaves, with MAX's message limits and ping timeout enforced, and a silenced connection held
//! open.

use super::ConnCtx;
use super::commands::command;
use crossbeam::channel::{Receiver, TryRecvError};
use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tungstenite::Message;

/// MAX's per-connection request limits (spec max.md §3.5).
const MAX_MSGS_PER_S: usize = 20;
const MAX_MSGS_PER_MIN: usize = 200;
/// The error frame's text. MAX documents no code for this limit: E-1029 is the simulator's.
const TOO_MANY_REQUESTS: &str = "E-1029: too many requests (20/s, 200/min per connection)";
/// How long a silenced connection's socket is held open at most.
const SILENCE_HOLD: Duration = Duration::from_secs(120);

type Ws = tungstenite::WebSocket<TcpStream>;

pub(super) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Records a client message at `now`; whether the connection went over MAX's limits.
fn over_limit(recent: &mut VecDeque<Instant>, now: Instant) -> bool {
    recent.push_back(now);
    while recent
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
    {
        recent.pop_front();
    }
    let last_second = recent
        .iter()
        .rev()
        .take_while(|t| now.duration_since(**t) < Duration::from_secs(1))
        .count();
    last_second > MAX_MSGS_PER_S || recent.len() > MAX_MSGS_PER_MIN
}

/// One connection: handshake, then read commands and write frames until either side leaves.
/// Returns the socket when the connection was silenced (the caller holds it open).
pub(super) fn serve(
    stream: TcpStream,
    frames: Receiver<Arc<Vec<u8>>>,
    cx: &ConnCtx<'_>,
) -> Option<Ws> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tungstenite::accept(stream) else {
        return None;
    };
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(1)));
    let kicked_at = cx.kick.load(Ordering::Acquire);
    let mut last_ping = Instant::now();
    // The last frame written: a silenced connection's client hears nothing after it.
    let mut last_sent = Instant::now();
    let mut recent: VecDeque<Instant> = VecDeque::with_capacity(MAX_MSGS_PER_MIN + 1);
    let mut authenticated = false;
    let close = |ws: &mut Ws| {
        let _ = ws.close(None);
        let _ = ws.flush();
    };
    loop {
        if cx.stop.load(Ordering::Acquire) || cx.kick.load(Ordering::Acquire) != kicked_at {
            close(&mut ws);
            return None;
        }
        let kind = usize::from(authenticated);
        if cx.shared.silence_gen[kind].load(Ordering::Acquire) != cx.silence_at_open[kind] {
            let mut earliest = cx
                .shared
                .last_frame_before_silence
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *earliest = Some(earliest.map_or(last_sent, |t| t.min(last_sent)));
            drop(earliest);
            cx.shared.silenced.fetch_add(1, Ordering::AcqRel);
            return Some(ws);
        }
        if last_ping.elapsed() >= cx.shared.ping_timeout {
            cx.shared.missing_ping.fetch_add(1, Ordering::AcqRel);
            close(&mut ws);
            return None;
        }
        match ws.read() {
            Ok(msg) => {
                let now = Instant::now();
                if matches!(
                    msg,
                    Message::Text(_) | Message::Binary(_) | Message::Ping(_)
                ) && over_limit(&mut recent, now)
                {
                    cx.shared.rate_limited.fetch_add(1, Ordering::AcqRel);
                    let err = serde_json::json!({
                        "e": "error", "E": [TOO_MANY_REQUESTS], "i": "", "T": unix_ms()
                    });
                    let _ = ws.send(Message::text(err.to_string()));
                    close(&mut ws);
                    return None;
                }
                match msg {
                    Message::Text(t) => {
                        if let Some((reply, authed)) = command(t.as_str(), cx) {
                            if ws.send(Message::text(reply)).is_err() {
                                return None;
                            }
                            last_sent = Instant::now();
                            if authed {
                                authenticated = true;
                                cx.private.account.subscribe(cx.private.outbox.clone());
                            }
                        }
                    }
                    Message::Close(_) => {
                        let _ = ws.flush();
                        return None;
                    }
                    Message::Ping(_) => {
                        last_ping = now;
                        // tungstenite queued the pong: send it now.
                        if ws.flush().is_ok() {
                            last_sent = Instant::now();
                        }
                    }
                    _ => {
                        let _ = ws.flush();
                    }
                }
            }
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
        loop {
            match frames.try_recv() {
                Ok(f) => {
                    let text = String::from_utf8_lossy(&f).into_owned();
                    if ws.send(Message::text(text)).is_err() {
                        return None;
                    }
                    last_sent = Instant::now();
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return None,
            }
        }
    }
}

/// A silenced connection: the socket stays open, unread and unwritten, until the simulator
/// stops or [`SILENCE_HOLD`] passed.
pub(super) fn hold(ws: Ws, stop: &AtomicBool) {
    let since = Instant::now();
    while !stop.load(Ordering::Acquire) && since.elapsed() < SILENCE_HOLD {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(ws);
}
