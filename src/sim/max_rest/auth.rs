//! Authentication of a private request: the access key, the payload's signature, its path and
//! nonce, and its agreement with the request's parameters (steps 1–5 of the `max_rest` module
//! doc, `mod.rs`), each failure with MAX's code.

use super::{Reply, State, as_text, error, now_ms};
use crate::sim::nonce_ledger::NonceRefusal;
use crate::venue::max::sign::verify_payload;
use base64::Engine;
use serde_json::{Map, Value};

impl State {
    /// Steps 1–5 of the `max_rest` module doc (`mod.rs`); returns the access key.
    pub(super) fn authenticate(
        &mut self,
        req: &tiny_http::Request,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<String, Reply> {
        let header = |name: &'static str| {
            req.headers()
                .iter()
                .find(|h| h.field.equiv(name))
                .map(|h| h.value.as_str().to_string())
        };
        let key = header("X-MAX-ACCESSKEY")
            .ok_or_else(|| error(401, 2008, "The access key does not exist."))?;
        let secret = self
            .keys
            .get(&key)
            .cloned()
            .ok_or_else(|| error(401, 2008, "The access key does not exist."))?;
        let payload = header("X-MAX-PAYLOAD").unwrap_or_default();
        let signature = header("X-MAX-SIGNATURE").unwrap_or_default();
        if !verify_payload(&secret, &payload, &signature) {
            return Err(error(401, 2005, "Signature is incorrect."));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(payload.as_bytes())
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let Some(Value::Object(p)) = decoded else {
            return Err(error(400, 2015, "Payload is invalid"));
        };
        if p.get("path").and_then(|v| v.as_str()) != Some(path) {
            return Err(error(
                400,
                2014,
                "Payload is not consistent with body or wrong path in payload.",
            ));
        }
        let nonce = p
            .get("nonce")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0);
        let server = now_ms(self.clock_offset_ms);
        let ledger = self.account.nonce_ledger();
        ledger.check(&key, nonce, server).map_err(nonce_error)?;
        for (k, v) in params {
            if k == "nonce" || k == "path" {
                continue;
            }
            if p.get(k).map(as_text) != Some(as_text(v)) {
                return Err(error(
                    400,
                    2014,
                    "Payload is not consistent with body or wrong path in payload.",
                ));
            }
        }
        // Taken now that the request passed: a WebSocket `auth` may have taken a later one
        // meanwhile.
        ledger.accept(&key, nonce, server).map_err(nonce_error)?;
        *self.signed_by.entry(key.clone()).or_default() += 1;
        Ok(key)
    }
}

/// A refused nonce as MAX's REST answers it.
fn nonce_error(r: NonceRefusal) -> Reply {
    match r {
        NonceRefusal::OutOfWindow => error(
            400,
            2007,
            "The nonce is invalid. (30 secconds difference from server time)",
        ),
        NonceRefusal::Used => error(400, 2006, "The nonce has already been used by access key."),
    }
}
