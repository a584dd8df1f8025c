//! MAX authentication (spec max.md §1 and §4.1).
//!
//! REST v3: `payload = base64(JSON{nonce, params…, path})`, `signature = hex(HMAC-SHA256(secret,
//! payload))`, sent as `X-MAX-ACCESSKEY`, `X-MAX-PAYLOAD`, `X-MAX-SIGNATURE`. The server verifies
//! the HMAC over the header string exactly as sent, so key order and whitespace are free.
//! WebSocket `auth`: `signature = hex(HMAC-SHA256(secret, decimal nonce))`, no payload, no path.
//!
//! The secret is held only inside a pre-keyed HMAC (cloned per signature); `Debug` shows the
//! access key's first characters and never the secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::fmt::Write;

type HmacSha256 = Hmac<Sha256>;

pub struct MaxSigner {
    access_key: String,
    mac: HmacSha256,
}

impl fmt::Debug for MaxSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.access_key.chars().take(4).collect();
        f.debug_struct("MaxSigner")
            .field("access_key", &format!("{shown}…"))
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A request parameter for the signed payload: strings stay strings, integers stay integers.
#[derive(Clone, Copy, Debug)]
pub enum ParamValue<'a> {
    Str(&'a str),
    Int(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRequest {
    pub payload_json: String,
    pub payload_b64: String,
    pub signature_hex: String,
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl MaxSigner {
    pub fn new(access_key: &str, secret_key: &str) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        let mac =
            HmacSha256::new_from_slice(secret_key.as_bytes()).expect("HMAC takes any key length");
        MaxSigner {
            access_key: access_key.to_string(),
            mac,
        }
    }

    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    fn hmac_hex(&self, msg: &[u8]) -> String {
        let mut m = self.mac.clone();
        m.update(msg);
        hex(&m.finalize().into_bytes())
    }

    /// `(base64(payload_json), hex(HMAC(secret, base64)))`.
    pub fn sign_payload(&self, payload_json: &str) -> (String, String) {
        let b64 = STANDARD.encode(payload_json.as_bytes());
        let sig = self.hmac_hex(b64.as_bytes());
        (b64, sig)
    }

    /// Builds `{"nonce":N,<params in order>,"path":P}` (compact, as the official examples) and
    /// signs it.
    pub fn sign_rest(
        &self,
        path: &str,
        nonce: u64,
        params: &[(&str, ParamValue)],
    ) -> SignedRequest {
        let mut j = String::with_capacity(128);
        let _ = write!(j, "{{\"nonce\":{nonce}");
        for (k, v) in params {
            j.push(',');
            json_str(&mut j, k);
            j.push(':');
            match v {
                ParamValue::Str(s) => json_str(&mut j, s),
                ParamValue::Int(i) => {
                    let _ = write!(j, "{i}");
                }
            }
        }
        j.push_str(",\"path\":");
        json_str(&mut j, path);
        j.push('}');
        let (payload_b64, signature_hex) = self.sign_payload(&j);
        SignedRequest {
            payload_json: j,
            payload_b64,
            signature_hex,
        }
    }

    /// WebSocket auth signature over the decimal nonce.
    pub fn sign_ws(&self, nonce: u64) -> String {
        self.hmac_hex(nonce.to_string().as_bytes())
    }

    /// The complete `auth` command.
    pub fn ws_auth_frame(&self, nonce: u64, id: &str, filters: &[&str]) -> String {
        let mut j = String::with_capacity(256);
        j.push_str("{\"action\":\"auth\",\"apiKey\":");
        json_str(&mut j, &self.access_key);
        let _ = write!(
            j,
            ",\"nonce\":{nonce},\"signature\":\"{}\",\"id\":",
            self.sign_ws(nonce)
        );
        json_str(&mut j, id);
        j.push_str(",\"filters\":[");
        for (i, f) in filters.iter().enumerate() {
            if i > 0 {
                j.push(',');
            }
            json_str(&mut j, f);
        }
        j.push_str("]}");
        j
    }
}

/// Checks a REST signature as the venue does (constant-time comparison), for the simulator.
pub fn verify_payload(secret: &str, payload_b64: &str, signature_hex: &str) -> bool {
    let Ok(mut m) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    m.update(payload_b64.as_bytes());
    let expected = hex(&m.finalize().into_bytes());
    let (a, b) = (expected.as_bytes(), signature_hex.as_bytes());
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0u8, |acc, (x, y)| acc | (x ^ y.to_ascii_lowercase()))
            == 0
}
