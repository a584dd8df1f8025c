//! A client's commands: `sub` / `unsub` (either spelling) handed to the ticker, and private
//! `auth` against the account's keys and nonce ledger.

use super::conn::unix_ms;
use super::{Channel, ConnCtx, Control, Private, Sub, market_name};
use crate::sim::nonce_ledger::NonceRefusal;
use std::collections::HashSet;
use std::sync::atomic::Ordering;

/// A reply frame to a command, and whether the command authenticated the connection.
enum Reply {
    /// `authenticated`: the connection may now subscribe to private channels.
    Authenticated(String),
    /// Anything else: subscription answers and error frames alike.
    Other(String),
}

/// A client command; the reply to send back and whether it authenticated the connection.
pub(super) fn command(text: &str, cx: &ConnCtx<'_>) -> Option<(String, bool)> {
    command_reply(text, cx).map(|r| match r {
        Reply::Authenticated(reply) => (reply, true),
        Reply::Other(reply) => (reply, false),
    })
}

/// The reply to a command.
fn command_reply(text: &str, cx: &ConnCtx<'_>) -> Option<Reply> {
    let v: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            return Some(Reply::Other(
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
        return Some(auth(&v, &id, &cx.private));
    }
    let reply = subscription_reply(&v, &id, action, cx);
    Some(Reply::Other(reply))
}

/// `sub` / `unsub` in either spelling; anything else is an invalid action.
fn subscription_reply(v: &serde_json::Value, id: &str, action: &str, cx: &ConnCtx<'_>) -> String {
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
    let cap = cx.shared.max_subs_per_message;
    if sub && subs.len() > cap {
        cx.shared.oversized_subs.fetch_add(1, Ordering::AcqRel);
        let e = format!(
            "E-1030: too many subscriptions ({}, at most {cap} per message)",
            subs.len()
        );
        return serde_json::json!({"e": "error", "E": [e], "i": id, "T": unix_ms()}).to_string();
    }
    // Channels this simulator does not serve (kline, market_status, ...) are acknowledged and
    // send nothing.
    let served: Vec<Sub> = subs
        .iter()
        .filter_map(|s| {
            let ch = Channel::parse(s.get("channel")?.as_str()?)?;
            Some((ch, market_name(s.get("market")?.as_str()?)))
        })
        .collect();
    if sub {
        let books: HashSet<&str> = served
            .iter()
            .filter(|(ch, _)| *ch == Channel::Book)
            .map(|(_, m)| m.as_str())
            .collect();
        if !books.is_empty()
            && let Ok(mut counts) = cx.shared.book_subs.lock()
        {
            for m in books {
                *counts.entry(m.to_string()).or_default() += 1;
            }
        }
    }
    if !served.is_empty() {
        let conn = cx.id;
        let _ = cx.ctl.send(if sub {
            Control::Subscribe { conn, subs: served }
        } else {
            Control::Unsubscribe { conn, subs: served }
        });
    }
    serde_json::json!({ "e": event, "s": subs, "i": id, "T": 0 }).to_string()
}

/// Private `auth` (spec max.md §4.1): `signature = hex(HMAC-SHA256(secret, decimal nonce))`
/// under a known key (E-1007), then the nonce: within 30 s of server time (E-1006) and greater
/// than the key's last accepted one, REST included (E-1012).
fn auth(v: &serde_json::Value, id: &str, private: &Private) -> Reply {
    let key = v.get("apiKey").and_then(|k| k.as_str()).unwrap_or("");
    let nonce = v.get("nonce").and_then(|n| n.as_u64()).unwrap_or(0);
    let signature = v.get("signature").and_then(|s| s.as_str()).unwrap_or("");
    let now = unix_ms();
    let err = |e: &str| serde_json::json!({"e": "error", "E": [e], "i": id, "T": now}).to_string();
    let ok = private.keys.get(key).is_some_and(|secret| {
        let expected = crate::venue::max::MaxSigner::new(key, secret).sign_ws(nonce);
        expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0
    });
    if !ok {
        return Reply::Other(err("E-1007: authentication failed"));
    }
    match private.account.nonce_ledger().accept(key, nonce, now) {
        Ok(()) => Reply::Authenticated(
            serde_json::json!({"e": "authenticated", "i": id, "T": now}).to_string(),
        ),
        Err(NonceRefusal::OutOfWindow) => Reply::Other(err(
            "E-1006: invalid nonce (difference of 30 seconds or more)",
        )),
        Err(NonceRefusal::Used) => Reply::Other(err("E-1012: nonce has already been used")),
    }
}
