//! The MAX private WebSocket against the simulator: authentication with the HMAC of the nonce;
//! a wrong secret is a clear refusal (E-1007) that stops the feed and halts trading.

use arbline::config::Config;
use arbline::feed::max_user_feed::{AuthState, MaxUserFeed, MaxUserFeedParts};
use arbline::pipeline::{EngineClock, Rings, Shutdown, Stage};
use arbline::risk::{HaltReason, HaltRequests};
use arbline::sim::max_ws::MaxWsSim;
use arbline::telemetry::{EngineCounters, telemetry_queue};
use arbline::venue::max::MaxSigner;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    });
    (f, exec_poll)
}

fn poll_until(f: &mut MaxUserFeed, want: AuthState) -> AuthState {
    let end = Instant::now() + Duration::from_secs(5);
    while f.state() != want && Instant::now() < end {
        f.poll();
        std::thread::sleep(Duration::from_millis(1));
    }
    f.state()
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
    assert_eq!(
        poll_until(&mut f, AuthState::Authenticated),
        AuthState::Authenticated
    );
    assert_eq!(halts.take(), None);
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
    assert_eq!(poll_until(&mut f, AuthState::Refused), AuthState::Refused);
    assert_eq!(f.last_error_code, 1007);
    assert_eq!(halts.take(), Some(HaltReason::CredentialsRefused));
    // It does not keep knocking with a bad key.
    for _ in 0..200 {
        f.poll();
    }
    assert_eq!(f.state(), AuthState::Refused);
}
