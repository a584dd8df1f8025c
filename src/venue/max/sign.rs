//! MAX request signing: REST v3 payload signatures and the private WebSocket `auth` message.
//!
//! REST (spec §1.2, MAX's official algorithm):
//! 1. `params = { nonce: <ms since epoch>, ...request params }`
//! 2. `paramsToBeSigned = { ...params, path: '<request path>' }` (URL path only, no host/query)
//! 3. `payload = base64(JSON.stringify(paramsToBeSigned))` (standard alphabet, `=` padding)
//! 4. `signature = hex(HMAC_SHA256(secretKey, payload))` — the HMAC is over the **base64 text**
//! 5. Send `X-MAX-ACCESSKEY`, `X-MAX-PAYLOAD`, `X-MAX-SIGNATURE`; params (with `nonce`, without
//!    `path`) go in the query string (GET) or JSON body (POST/DELETE).
//!
//! Key order and whitespace do not matter to the server (it verifies the HMAC over the header as
//! sent, then decodes it); arbline emits `{"nonce":N, <params in the caller's order>, "path":P}`
//! compactly, which is byte-identical to MAX's own JS example and vectors R1–R5.
//!
//! WebSocket (spec §4.1): `signature = hex(HMAC_SHA256(secret, decimal_string(nonce)))`; only the
//! nonce is signed, no base64 and no path.
//!
//! The secret never leaves this file: the signer keeps a pre-keyed HMAC state (cloned per
//! signature, so no key schedule per request) and its `Debug` prints `<redacted>`.

use super::key_nonce::KeyNonce;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;

type HmacSha256 = Hmac<Sha256>;

/// A value of a signed REST parameter: strings are quoted, integers are bare (as MAX's clients
/// send them: decimals as strings, ids and nonces as numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamValue<'a> {
    Str(&'a str),
    Int(i64),
}

/// The signature headers of one request, rewritten in place for each request
/// ([`MaxSigner::sign_into`]).
#[derive(Debug, Default)]
pub struct SignedBuffers {
    /// `X-MAX-PAYLOAD`.
    pub payload_b64: String,
    /// `X-MAX-SIGNATURE` (lowercase hex).
    pub signature_hex: String,
}

/// The three things a signed REST request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRequest {
    /// The JSON that was base64-encoded (for building the body/query and for logs: no secret).
    pub payload_json: String,
    /// `X-MAX-PAYLOAD`.
    pub payload_b64: String,
    /// `X-MAX-SIGNATURE` (lowercase hex).
    pub signature_hex: String,
}

/// Holds the access key, an HMAC-SHA256 state already keyed with the secret, and the key's one
/// nonce sequence: clones share it, so every signer of a key (REST client, private WebSocket)
/// draws from the same strictly increasing sequence ([`KeyNonce`]).
#[derive(Clone)]
pub struct MaxSigner {
    access_key: String,
    mac: HmacSha256,
    nonces: Arc<KeyNonce>,
}

impl fmt::Debug for MaxSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxSigner")
            .field("access_key", &self.access_key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

fn keyed(secret: &str) -> HmacSha256 {
    // HMAC accepts keys of any length (longer keys are hashed), so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length")
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let nib = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        };
        out[i] = (nib(pair[0])? << 4) | nib(pair[1])?;
    }
    Some(out)
}

impl MaxSigner {
    pub fn new(access_key: &str, secret_key: &str) -> Self {
        MaxSigner {
            access_key: access_key.to_string(),
            mac: keyed(secret_key),
            nonces: Arc::new(KeyNonce::new()),
        }
    }

    /// The key's nonce sequence, shared by every clone of this signer.
    pub fn nonces(&self) -> &KeyNonce {
        &self.nonces
    }

    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// Steps 3–4 into reused buffers: `out.payload_b64 = base64(payload)`, `out.signature_hex =
    /// hex(HMAC(secret, payload_b64))`; allocates nothing once the buffers have grown.
    pub fn sign_into(&self, payload: &[u8], out: &mut SignedBuffers) {
        out.payload_b64.clear();
        STANDARD.encode_string(payload, &mut out.payload_b64);
        let mut mac = self.mac.clone();
        mac.update(out.payload_b64.as_bytes());
        out.signature_hex.clear();
        for b in mac.finalize().into_bytes() {
            out.signature_hex.push(HEX[(b >> 4) as usize] as char);
            out.signature_hex.push(HEX[(b & 15) as usize] as char);
        }
    }

    fn hmac_hex(&self, msg: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(msg);
        hex_lower(&mac.finalize().into_bytes())
    }

    /// Steps 3–4: `payload = base64(payload_json)` exactly as given, `signature =
    /// hex(HMAC(secret, payload))`. Returns `(payload_b64, signature_hex)`.
    pub fn sign_payload(&self, payload_json: &str) -> (String, String) {
        let b64 = STANDARD.encode(payload_json.as_bytes());
        let sig = self.hmac_hex(b64.as_bytes());
        (b64, sig)
    }

    /// Steps 1–4: builds `{"nonce":N,<params in the given order>,"path":P}` and signs it.
    pub fn sign_rest(
        &self,
        path: &str,
        nonce: u64,
        params: &[(&str, ParamValue)],
    ) -> SignedRequest {
        let mut json: Vec<u8> = Vec::with_capacity(64 + path.len() + params.len() * 24);
        push_params_json(&mut json, nonce, params);
        json.extend_from_slice(b",\"path\":");
        push_json_str(&mut json, path);
        json.push(b'}');
        // Only ASCII and valid UTF-8 from `&str` inputs were written.
        let payload_json = String::from_utf8(json).unwrap_or_default();
        let (payload_b64, signature_hex) = self.sign_payload(&payload_json);
        SignedRequest {
            payload_json,
            payload_b64,
            signature_hex,
        }
    }

    /// WS auth signature: `hex(HMAC(secret, decimal nonce))` (spec §4.1).
    pub fn sign_ws(&self, nonce: u64) -> String {
        let mut buf = Vec::with_capacity(20);
        push_u64(&mut buf, nonce);
        self.hmac_hex(&buf)
    }

    /// The complete `auth` command:
    /// `{"action":"auth","apiKey":K,"nonce":N,"signature":S,"id":I,"filters":[..]}`.
    /// `id` is left out when empty, `filters` when empty (the server then defaults to
    /// `order`, `trade`, `account`).
    pub fn ws_auth_frame(&self, nonce: u64, id: &str, filters: &[&str]) -> String {
        let sig = self.sign_ws(nonce);
        let mut out: Vec<u8> = Vec::with_capacity(160 + self.access_key.len());
        out.extend_from_slice(b"{\"action\":\"auth\",\"apiKey\":");
        push_json_str(&mut out, &self.access_key);
        out.extend_from_slice(b",\"nonce\":");
        push_u64(&mut out, nonce);
        out.extend_from_slice(b",\"signature\":\"");
        out.extend_from_slice(sig.as_bytes());
        out.push(b'"');
        if !id.is_empty() {
            out.extend_from_slice(b",\"id\":");
            push_json_str(&mut out, id);
        }
        if !filters.is_empty() {
            out.extend_from_slice(b",\"filters\":[");
            for (i, f) in filters.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_json_str(&mut out, f);
            }
            out.push(b']');
        }
        out.push(b'}');
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Checks `signature_hex == hex(HMAC(secret, payload_b64))` in constant time (the simulator's
/// side of step 4). A malformed hex signature is simply `false`.
pub fn verify_payload(secret: &str, payload_b64: &str, signature_hex: &str) -> bool {
    let Some(sig) = unhex(signature_hex) else {
        return false;
    };
    let mut mac = keyed(secret);
    mac.update(payload_b64.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// Appends `s` as a JSON string literal (quotes, `\"`, `\\` and control characters escaped).
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Appends `{"nonce":N,<params in the given order>` — an object left open: the signed payload
/// adds `"path"` before closing it, a request body closes it as it is.
pub fn push_params_json(out: &mut Vec<u8>, nonce: u64, params: &[(&str, ParamValue)]) {
    out.extend_from_slice(b"{\"nonce\":");
    push_u64(out, nonce);
    for (k, v) in params {
        out.push(b',');
        push_json_str(out, k);
        out.push(b':');
        match v {
            ParamValue::Str(s) => push_json_str(out, s),
            ParamValue::Int(i) => {
                if *i < 0 {
                    out.push(b'-');
                }
                push_u64(out, i.unsigned_abs());
            }
        }
    }
}

/// Appends the decimal digits of `v` (no allocation beyond `out`'s growth).
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut n = 0;
    loop {
        tmp[n] = b'0' + (v % 10) as u8;
        v /= 10;
        n += 1;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        out.push(tmp[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r1_upstream_vector() {
        let s = MaxSigner::new("key", "secret");
        let r = s.sign_rest(
            "/api/v3/order",
            123456,
            &[
                ("market", ParamValue::Str("btctwd")),
                ("side", ParamValue::Str("bid")),
            ],
        );
        assert_eq!(
            r.payload_json,
            r#"{"nonce":123456,"market":"btctwd","side":"bid","path":"/api/v3/order"}"#
        );
        assert_eq!(
            r.signature_hex,
            "a9bf57e0ad199f4ca4325cd0a9af0a82193cb103b1ba5eaaa55b58f79d408ab6"
        );
        assert!(verify_payload("secret", &r.payload_b64, &r.signature_hex));
        assert!(!verify_payload("secret2", &r.payload_b64, &r.signature_hex));
        assert!(!verify_payload("secret", &r.payload_b64, "zz"));
    }

    #[test]
    fn debug_redacts_secret() {
        let s = MaxSigner::new("key", "topsecretvalue");
        assert!(!format!("{s:?}").contains("topsecretvalue"));
    }
}
