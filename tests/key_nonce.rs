//! One nonce sequence per MAX API key, whoever signs: 10 000 signed REST payloads and private
//! WebSocket `auth` frames from four threads holding clones of one key's signer carry nonces
//! that never repeat and strictly increase on every thread, read back from the bytes that
//! would go on the wire.

use arbline::venue::max::{MaxSigner, ParamValue};
use base64::Engine;
use std::time::{SystemTime, UNIX_EPOCH};

fn local_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The nonce of a signed request: from its base64 payload, as the venue reads it.
fn rest_nonce(payload_b64: &str) -> u64 {
    let json = base64::engine::general_purpose::STANDARD
        .decode(payload_b64)
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    v["nonce"].as_u64().unwrap()
}

fn auth_nonce(frame: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(frame).unwrap();
    v["nonce"].as_u64().unwrap()
}

#[test]
fn ten_thousand_requests_and_auths_from_four_threads_never_reuse_or_reverse_a_nonce() {
    let signer = MaxSigner::new("nonce-key", "nonce-secret");
    // Time sync moved the key onto a venue clock 2 s ahead of ours.
    signer.nonces().set_offset_ms(2_000);
    let per_thread = 2_500;
    let before = local_ms();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let s = signer.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::with_capacity(per_thread);
                for i in 0..per_thread {
                    let nonce = s.nonces().next(local_ms());
                    let on_wire = if (i + t) % 2 == 0 {
                        let r = s.sign_rest(
                            "/api/v3/wallet/spot/order",
                            nonce,
                            &[("market", ParamValue::Str("btcusdt"))],
                        );
                        rest_nonce(&r.payload_b64)
                    } else {
                        auth_nonce(&s.ws_auth_frame(nonce, "arbline", &["order"]))
                    };
                    assert_eq!(on_wire, nonce);
                    seen.push(on_wire);
                }
                seen
            })
        })
        .collect();
    let per_thread_seen: Vec<Vec<u64>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (t, seen) in per_thread_seen.iter().enumerate() {
        assert_eq!(seen.len(), per_thread);
        for w in seen.windows(2) {
            assert!(w[1] > w[0], "thread {t}: {} after {}", w[1], w[0]);
        }
    }
    let mut all: Vec<u64> = per_thread_seen.into_iter().flatten().collect();
    all.sort_unstable();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "no nonce used twice");
    assert_eq!(n, 10_000);
    // On the venue's clock: from our time plus the offset, ahead of it by at most one per nonce.
    let after = local_ms();
    assert!(
        all[0] >= before + 2_000,
        "first nonce {} vs {before}",
        all[0]
    );
    assert!(
        all[n - 1] <= after + 2_000 + n as u64,
        "last nonce {}",
        all[n - 1]
    );
    assert_eq!(signer.nonces().last(), *all.last().unwrap());
}
