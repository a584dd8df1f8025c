//! The MAX private WebSocket against the simulator: authentication with the HMAC of the nonce;
//! a wrong secret is a clear refusal (E-1007) that stops the feed and halts trading.

use arbline::config::Config;
use arbline::gateway::max_user_feed::{AuthState, MaxUserFeed, MaxUserFeedParts};
use arbline::pipeline::board::{HaltReason, HaltRequests};
use arbline::pipeline::{EngineClock, Rings, Shutdown, Stage};
use arbline::sim::max_ws::MaxWsSim;
use arbline::telemetry::{EngineCounters, telemetry_queue};
use arbline::venue::max::MaxSigner;
use std::sync::Arc;

#[path = "support/wait.rs"]
mod wait;
use wait::{PATIENCE, within};

fn feed(
    url: String,
    secret: &str,
    halts: Arc<HaltRequests>,
) -> (MaxUserFeed, arbline::pipeline::ring::ExecPoller) {
    let cfg = Config::default();
    let rings = Rings::new(cfg.ring_sizes());
    let (exec, exec_poll) = rings.exec;
    let (tx, _rx) = telemetry_queue("t", 64);
    let f = MaxUserFeed::new(MaxUserFeedParts {
        url,
        tls: Default::default(),
        signer: MaxSigner::new("user-key", secret),
        instruments: cfg.instruments().unwrap(),
        exec,
        clock: EngineClock::new(),
        counters: Arc::new(EngineCounters::default()),
        tele: tx,
        shutdown: Shutdown::new(),
        halts,
        reconcile_now: Default::default(),
    });
    (f, exec_poll)
}

/// Polls the feed until it reaches `want`, failing the test (with the state it is stuck in)
/// after [`PATIENCE`].
fn poll_until(f: &mut MaxUserFeed, want: AuthState) {
    let reached = within(PATIENCE, || {
        f.poll();
        f.state() == want
    });
    assert!(
        reached,
        "gave up after {PATIENCE:?} waiting for {want:?}: still {:?} (last error code {})",
        f.state(),
        f.last_error_code
    );
}

#[test]
fn the_right_secret_authenticates() {
    let sim = MaxWsSim::start_with_keys(
        "127.0.0.1:0",
        &Default::default(),
        &[("user-key", "user-secret")],
    )
    .unwrap();
    let halts = Arc::new(HaltRequests::default());
    let (mut f, _exec) = feed(sim.url(), "user-secret", halts.clone());
    poll_until(&mut f, AuthState::Authenticated);
    assert_eq!(halts.take(), None);
}

#[test]
fn after_auth_the_open_orders_arrive_as_a_snapshot_and_fills_as_updates() {
    use arbline::model::{ClientOid, ExecKind, Fixed, OrderType, Side, WalletType};
    use arbline::sim::max_account::{MaxAccount, NewVenueOrder};
    let cfg = arbline::config::sim::SimConfig {
        latency_min_ms: 0,
        latency_max_ms: 0,
        reject_probability: 0.0,
        ..Default::default()
    };
    let account = MaxAccount::new(&cfg).unwrap();
    let resting = account
        .create(&NewVenueOrder {
            wallet: WalletType::Spot,
            market: "btcusdt",
            side: Side::Buy,
            ord_type: OrderType::Limit,
            price: Fixed::from_int(1000),
            volume: Fixed::parse("0.001").unwrap(),
            client_oid: ClientOid::from_bytes(b"by_hand_1").unwrap(),
        })
        .unwrap();
    let sim = MaxWsSim::start_with_account(
        "127.0.0.1:0",
        &cfg,
        &[("user-key", "user-secret")],
        account.clone(),
    )
    .unwrap();
    let halts = Arc::new(HaltRequests::default());
    let (mut f, mut exec) = feed(sim.url(), "user-secret", halts);
    poll_until(&mut f, AuthState::Authenticated);
    // A marketable order placed now fills at the simulator: its trade comes as an update.
    account
        .create(&NewVenueOrder {
            wallet: WalletType::Spot,
            market: "btcusdt",
            side: Side::Buy,
            ord_type: OrderType::IocLimit,
            price: Fixed::from_int(10_000_000),
            volume: Fixed::parse("0.001").unwrap(),
            client_oid: ClientOid::from_bytes(b"by_hand_2").unwrap(),
        })
        .unwrap();
    let mut seen: Vec<arbline::model::ExecEvent> = Vec::new();
    let filled = within(PATIENCE, || {
        f.poll();
        if let Ok(mut evs) = exec.take(64) {
            for ev in &mut evs {
                seen.push(*ev);
            }
        }
        seen.iter().any(|e| e.kind == ExecKind::Fill)
    });
    assert!(
        filled,
        "gave up after {PATIENCE:?} waiting for a fill on the private WebSocket: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| e.exchange_order_id == resting.id && e.client_oid.as_str() == "by_hand_1"),
        "the resting order from the snapshot: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| e.kind == ExecKind::Fill && e.client_oid.as_str() == "by_hand_2"),
        "{seen:?}"
    );
}

#[test]
fn a_wrong_secret_is_refused_once_and_halts_trading() {
    let sim = MaxWsSim::start_with_keys(
        "127.0.0.1:0",
        &Default::default(),
        &[("user-key", "user-secret")],
    )
    .unwrap();
    let halts = Arc::new(HaltRequests::default());
    let (mut f, _exec) = feed(sim.url(), "not-the-secret", halts.clone());
    poll_until(&mut f, AuthState::Refused);
    assert_eq!(f.last_error_code, 1007);
    assert_eq!(halts.take(), Some(HaltReason::CredentialsRefused));
    // It does not keep knocking with a bad key.
    for _ in 0..200 {
        f.poll();
    }
    assert_eq!(f.state(), AuthState::Refused);
}
