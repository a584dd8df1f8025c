//! `arbline demo`: the simulator and the engine in one process over real loopback sockets, with
//! nothing configured — the README's first command.

use arbline::config::Config;
use arbline::engine::DemoOptions;

#[test]
fn the_demo_trades_over_loopback_sockets_with_a_made_up_key() {
    let cfg = Config::default();
    let opts = DemoOptions {
        duration: Some(std::time::Duration::from_secs(4)),
        quiet: true,
        ..Default::default()
    };
    let r = arbline::demo::run_over_sockets(&cfg, &opts).unwrap();
    let e = &r.summary.events;
    assert!(
        e.md > 500,
        "market data over both venues' WebSockets: {e:?}"
    );
    assert_eq!(e.parse_errors, 0, "{e:?}");
    assert!(
        e.orders_sent > 0 && e.acks == e.orders_sent - e.rejects,
        "{e:?}"
    );
    assert_eq!(r.order_stats.unknown_exec, 0, "{:?}", r.order_stats);
    assert!(r.order_stats.reconcile_rounds >= 1, "{:?}", r.order_stats);
    assert_eq!(
        r.open_orders_at_exit, 0,
        "cancelled at shutdown, confirmed by the venue"
    );
}
