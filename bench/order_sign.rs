//! What the MAX gateway does per order before the request leaves, each step beside the floor it
//! cannot beat, in the same run:
//!
//! - `client_oid`: `ClientOidGen::next` (`{strategy}_{wallet}_{ms}`, no allocation);
//! - `decimal_strings`: price and volume to decimal text (`Fixed::write_to`, then the
//!   `to_string` the REST client does);
//! - `sign_rest_create_order`: `MaxSigner::sign_rest` with the create-order params
//!   (`{"nonce":N,"market","side","volume","price","ord_type","client_oid","path"}` → JSON →
//!   base64 → HMAC-SHA256 → hex), beside one HMAC-SHA256 over the same base64 payload bytes with
//!   the `hmac`/`sha2` crates directly: keyed per call (`new_from_slice`) and pre-keyed
//!   (`clone` of a keyed state, what the signer does);
//! - `sign_ws`: the private WebSocket auth signature (HMAC over the decimal nonce), beside the
//!   same two HMAC baselines over those bytes;
//! - `gateway_per_order`: nonce + client id + decimals + `sign_rest` together.
//!
//! Risk-approved signal → `OrderRequest` in the order manager is not here (too coupled to
//! measure alone; the `order` stage of `tick_to_trade` covers it).
//!
//! Run: `cargo bench --bench order_sign` (`-- --quick` for a shorter run). `cargo test
//! --benches` runs each benchmark once.

use arbline::model::{ClientOid, Fixed, OrderType, Side, Strategy, WalletType};
use arbline::order::client_oid::ClientOidGen;
use arbline::venue::max::{MaxSigner, ParamValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hint::black_box;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

const KEY: &str = "bench-access-key";
const SECRET: &str = "bench-secret-key-0123456789abcdef0123456789abcdef";
const PATH: &str = "/api/v3/wallet/spot/order";
const NOW_MS: u64 = 1_764_547_200_000; // 2025-12-01

fn create_params<'a>(
    price: &'a str,
    volume: &'a str,
    oid: &'a ClientOid,
) -> [(&'static str, ParamValue<'a>); 6] {
    [
        ("market", ParamValue::Str("btcusdt")),
        ("side", ParamValue::Str(Side::Buy.rest())),
        ("volume", ParamValue::Str(volume)),
        ("price", ParamValue::Str(price)),
        ("ord_type", ParamValue::Str(OrderType::Limit.wire())),
        ("client_oid", ParamValue::Str(oid.as_str())),
    ]
}

fn hmac_keyed_per_call(msg: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

fn order_sign(c: &mut Criterion) {
    let signer = MaxSigner::new(KEY, SECRET);
    let prekeyed = <HmacSha256 as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    let hmac_prekeyed = |msg: &[u8]| -> [u8; 32] {
        let mut mac = prekeyed.clone();
        mac.update(msg);
        mac.finalize().into_bytes().into()
    };
    let price = Fixed::parse("94999.12").unwrap();
    let volume = Fixed::parse("0.0123").unwrap();

    let mut g = c.benchmark_group("client_oid");
    let mut ids = ClientOidGen::new();
    let mut now = NOW_MS;
    g.bench_function("ClientOidGen::next", |b| {
        b.iter(|| {
            now += 1;
            ids.next(Strategy::Arbitrage, WalletType::Spot, black_box(now))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decimal_strings");
    g.bench_function("Fixed::write_to x2", |b| {
        b.iter(|| {
            let (mut pb, mut vb) = ([0u8; 24], [0u8; 24]);
            let p = black_box(price).write_to(&mut pb).len();
            let v = black_box(volume).write_to(&mut vb).len();
            black_box((pb, vb, p + v))
        })
    });
    g.bench_function("Fixed::write_to x2 + to_string (as the REST client)", |b| {
        b.iter(|| {
            let (mut pb, mut vb) = ([0u8; 24], [0u8; 24]);
            let p = black_box(price).write_to(&mut pb).to_string();
            let v = black_box(volume).write_to(&mut vb).to_string();
            (p, v)
        })
    });
    g.finish();

    let oid = ClientOidGen::new().next(Strategy::Arbitrage, WalletType::Spot, NOW_MS);
    let (mut pb, mut vb) = ([0u8; 24], [0u8; 24]);
    let (ps, vs) = (price.write_to(&mut pb), volume.write_to(&mut vb));
    let params = create_params(ps, vs, &oid);
    let signed = signer.sign_rest(PATH, NOW_MS, &params);
    let payload = signed.payload_b64.as_bytes();
    // The baselines compute the very signature the signer sends.
    let hex: String = hmac_prekeyed(payload)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, signed.signature_hex);
    assert_eq!(STANDARD.encode(&signed.payload_json), signed.payload_b64);

    let mut g = c.benchmark_group("sign_rest_create_order");
    let mut nonce = NOW_MS;
    g.bench_function("MaxSigner::sign_rest", |b| {
        b.iter(|| {
            nonce += 1;
            signer.sign_rest(PATH, black_box(nonce), black_box(&params))
        })
    });
    g.bench_function("hmac_sha256 keyed per call (same payload)", |b| {
        b.iter(|| hmac_keyed_per_call(black_box(payload)))
    });
    g.bench_function("hmac_sha256 pre-keyed clone (same payload)", |b| {
        b.iter(|| hmac_prekeyed(black_box(payload)))
    });
    g.finish();

    let ws_nonce = NOW_MS.to_string();
    let ws_sig: String = hmac_prekeyed(ws_nonce.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(ws_sig, signer.sign_ws(NOW_MS));
    let mut g = c.benchmark_group("sign_ws");
    g.bench_function("MaxSigner::sign_ws", |b| {
        b.iter(|| signer.sign_ws(black_box(NOW_MS)))
    });
    g.bench_function("hmac_sha256 keyed per call (same nonce text)", |b| {
        b.iter(|| hmac_keyed_per_call(black_box(ws_nonce.as_bytes())))
    });
    g.bench_function("hmac_sha256 pre-keyed clone (same nonce text)", |b| {
        b.iter(|| hmac_prekeyed(black_box(ws_nonce.as_bytes())))
    });
    g.finish();

    let mut g = c.benchmark_group("gateway_per_order");
    // The key's own nonce sequence (a compare-and-swap on one atomic, shared by its signers).
    let mut ids = ClientOidGen::new();
    let mut now = NOW_MS;
    g.bench_function("nonce + client_oid + decimals + sign_rest", |b| {
        b.iter(|| {
            now += 1;
            let oid = ids.next(Strategy::Arbitrage, WalletType::Spot, black_box(now));
            let (mut pb, mut vb) = ([0u8; 24], [0u8; 24]);
            let p = black_box(price).write_to(&mut pb).to_string();
            let v = black_box(volume).write_to(&mut vb).to_string();
            let params = create_params(&p, &v, &oid);
            signer.sign_rest(PATH, signer.nonces().next(now), &params)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = order_sign
}
criterion_main!(benches);
