//! `arbline demo`: the simulator and the engine in one process over real loopback sockets, with
//! nothing configured — the README's first command.

use arbline::config::Config;
use arbline::engine::DemoOptions;
use std::time::Duration;

#[test]
fn the_demo_trades_over_loopback_sockets_with_a_made_up_key() {
    let cfg = Config::default();
    // The run ends once it has shown what is checked below (60 s only if it never does).
    let opts = DemoOptions {
        duration: Some(Duration::from_secs(60)),
        quiet: true,
        ..Default::default()
    };
    let r = arbline::demo::run_over_sockets_until(&cfg, &opts, |c| {
        c.md.get() > 500 && c.acks.get() > 0 && c.reconcile_rounds.get() >= 1
    })
    .unwrap();
    let e = &r.summary.events;
    assert!(
        e.md > 500,
        "market data over both venues' WebSockets within 60 s: {e:?}"
    );
    assert_eq!(e.parse_errors, 0, "{e:?}");
    assert!(
        e.orders_sent > 0 && e.acks > 0 && e.acks == e.orders_sent - e.rejects,
        "orders signed, sent and each answered: {e:?}"
    );
    assert_eq!(r.order_stats.unknown_exec, 0, "{:?}", r.order_stats);
    assert!(r.order_stats.reconcile_rounds >= 1, "{:?}", r.order_stats);
    assert_eq!(
        r.open_orders_at_exit, 0,
        "cancelled at shutdown, confirmed by the venue"
    );
}
