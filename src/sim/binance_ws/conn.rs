//! One connection's thread: the handshake names the streams, live `SUBSCRIBE` /
//! `UNSUBSCRIBE` change them; frames go out (lagged when asked), with Binance's limits on
//! streams and incoming messages, pings and pong timeout, and the 24 h cut (scaled down)
//! enforced.

use super::{ConnRules, Control};
use crate::sim::binance_frames::write_server_shutdown;
use crossbeam::channel::{Receiver, TryRecvError};
use std::collections::{HashSet, VecDeque};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::Message;

/// How long a silenced connection's socket is held open at most.
const SILENCE_HOLD: Duration = Duration::from_secs(120);
type Ws = tungstenite::WebSocket<TcpStream>;

/// A silenced connection: the socket stays open, unread and unwritten, until the simulator
/// stops or [`SILENCE_HOLD`] passed.
pub(super) fn hold(ws: Ws, stop: &AtomicBool) {
    let since = Instant::now();
    while !stop.load(Ordering::Acquire) && since.elapsed() < SILENCE_HOLD {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(ws);
}

/// Drops a connection as Binance does on a violation: no close frame, the TCP connection just
/// ends.
fn drop_hard(ws: Ws) {
    let _ = ws.get_ref().shutdown(std::net::Shutdown::Both);
}

/// One connection: the handshake names the streams in the URL; SUBSCRIBE adds more. Returns
/// the socket when the connection was silenced (the caller holds it open).
pub(super) fn serve(
    stream: TcpStream,
    streams: Arc<Mutex<HashSet<String>>>,
    frames: Receiver<(Instant, Arc<String>)>,
    ctl: &Control<'_>,
) -> Option<Ws> {
    let (stop, kick, rules) = (ctl.stop, ctl.kick, ctl.rules);
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let s2 = streams.clone();
    let max_streams = rules.max_streams;
    // The error type is tungstenite's `Callback` contract, not ours to box.
    #[allow(clippy::result_large_err)]
    let cb = move |req: &tungstenite::handshake::server::Request, resp| {
        if let Some(q) = req.uri().query()
            && let Some(list) = q.split('&').find_map(|kv| kv.strip_prefix("streams="))
        {
            let named: HashSet<String> = list
                .split('/')
                .filter(|x| !x.is_empty())
                .map(|x| x.to_ascii_lowercase())
                .collect();
            if named.len() > max_streams {
                rules.too_many_streams.fetch_add(1, Ordering::AcqRel);
                return Err(too_many_streams_response(named.len(), max_streams));
            }
            if let Ok(mut s) = s2.lock() {
                s.extend(named);
            }
        }
        Ok(resp)
    };
    let Ok(mut ws) = tungstenite::accept_hdr(stream, cb) else {
        return None;
    };
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(1)));
    let kicked = kick.load(Ordering::Acquire);
    let opened = Instant::now();
    let mut announced = false;
    let mut due: VecDeque<(Instant, Arc<String>)> = VecDeque::new();
    // Incoming messages of the last second.
    let mut recent: VecDeque<Instant> = VecDeque::new();
    let mut last_ping_sent = opened;
    // The oldest ping not answered by a pong yet.
    let mut unanswered_since: Option<Instant> = None;
    loop {
        if rules.silence_gen.load(Ordering::Acquire) != ctl.silence_at_open {
            rules.silenced.fetch_add(1, Ordering::AcqRel);
            return Some(ws);
        }
        let cut = match age_limit(rules, opened.elapsed(), announced) {
            AgeLimit::Young => false,
            AgeLimit::Announce => {
                announced = true;
                let mut buf = Vec::with_capacity(96);
                write_server_shutdown(&mut buf, unix_ms());
                let text = String::from_utf8_lossy(&buf).into_owned();
                ws.send(Message::text(text)).is_err()
            }
            AgeLimit::Cut => true,
        };
        if cut || stop.load(Ordering::Acquire) || kick.load(Ordering::Acquire) != kicked {
            let _ = ws.close(None);
            let _ = ws.flush();
            return None;
        }
        if unanswered_since.is_some_and(|t| t.elapsed() >= rules.pong_timeout) {
            rules.missing_pong.fetch_add(1, Ordering::AcqRel);
            drop_hard(ws);
            return None;
        }
        if last_ping_sent.elapsed() >= rules.ping_interval {
            last_ping_sent = Instant::now();
            unanswered_since.get_or_insert(last_ping_sent);
            let payload = unix_ms().to_string().into_bytes();
            if ws.send(Message::Ping(payload.into())).is_err() {
                return None;
            }
        }
        match ws.read() {
            Ok(msg) => {
                if matches!(
                    msg,
                    Message::Text(_) | Message::Binary(_) | Message::Ping(_) | Message::Pong(_)
                ) {
                    let now = Instant::now();
                    recent.push_back(now);
                    while recent
                        .front()
                        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
                    {
                        recent.pop_front();
                    }
                    if recent.len() > rules.max_incoming_per_s {
                        rules.rate_limited.fetch_add(1, Ordering::AcqRel);
                        drop_hard(ws);
                        return None;
                    }
                }
                match msg {
                    Message::Text(t) => {
                        let (reply, close) = control_reply(t.as_str(), &streams, rules);
                        if ws.send(Message::text(reply)).is_err() || close {
                            let _ = ws.close(None);
                            let _ = ws.flush();
                            return None;
                        }
                    }
                    Message::Close(_) => return None,
                    Message::Pong(_) => unanswered_since = None,
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
                Ok(f) => due.push_back(f),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return None,
            }
        }
        let lag = if ctl.lagged {
            Duration::from_millis(rules.lag_ms.load(Ordering::Acquire))
        } else {
            Duration::ZERO
        };
        while due.front().is_some_and(|(at, _)| at.elapsed() >= lag) {
            let Some((_, f)) = due.pop_front() else {
                break;
            };
            if ws.send(Message::text(f.as_str())).is_err() {
                return None;
            }
        }
    }
}

/// The handshake's refusal of a URL naming more than `max` streams: HTTP 400 with an error
/// body in Binance's shape (the simulator's choice: Binance documents the limit, not the
/// answer).
fn too_many_streams_response(
    named: usize,
    max: usize,
) -> tungstenite::handshake::server::ErrorResponse {
    let body = serde_json::json!({
        "code": 2,
        "msg": format!("Invalid request: {named} streams, at most {max} per connection"),
    });
    let mut r = tungstenite::handshake::server::ErrorResponse::new(Some(body.to_string()));
    *r.status_mut() = tungstenite::http::StatusCode::BAD_REQUEST;
    r
}

/// The reply to a live `SUBSCRIBE` / `UNSUBSCRIBE` (anything else: `Invalid request`), and
/// whether the connection is closed after it: a `SUBSCRIBE` that would take the connection
/// over `max_streams` subscribes nothing, is answered with an error and closes it.
fn control_reply(
    text: &str,
    streams: &Mutex<HashSet<String>>,
    rules: &ConnRules,
) -> (String, bool) {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
    let params: Vec<String> = v
        .get("params")
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(|s| s.to_ascii_lowercase()))
                .collect()
        })
        .unwrap_or_default();
    let reply = match v.get("method").and_then(|m| m.as_str()) {
        Some("SUBSCRIBE") => {
            if let Ok(mut s) = streams.lock() {
                let after = s.len() + params.iter().filter(|p| !s.contains(*p)).count();
                if after > rules.max_streams {
                    rules.too_many_streams.fetch_add(1, Ordering::AcqRel);
                    let msg = format!(
                        "Invalid request: {after} streams, at most {} per connection",
                        rules.max_streams
                    );
                    let err = serde_json::json!({"error": {"code": 2, "msg": msg}, "id": id});
                    return (err.to_string(), true);
                }
                s.extend(params);
            }
            serde_json::json!({"result": null, "id": id})
        }
        Some("UNSUBSCRIBE") => {
            if let Ok(mut s) = streams.lock() {
                for p in &params {
                    s.remove(p);
                }
            }
            serde_json::json!({"result": null, "id": id})
        }
        _ => serde_json::json!({"code": 2, "msg": "Invalid request", "id": id}),
    };
    (reply.to_string(), false)
}

enum AgeLimit {
    Young,
    /// Send `serverShutdown` now.
    Announce,
    Cut,
}

fn age_limit(rules: &ConnRules, age: Duration, announced: bool) -> AgeLimit {
    let max = rules.max_age_ms.load(Ordering::Acquire);
    if max == 0 {
        return AgeLimit::Young;
    }
    let age = age.as_millis() as u64;
    if age >= max {
        return AgeLimit::Cut;
    }
    let notice = rules.notice_ms.load(Ordering::Acquire);
    if !announced && notice != u64::MAX && age.saturating_add(notice) >= max {
        return AgeLimit::Announce;
    }
    AgeLimit::Young
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
