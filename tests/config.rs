//! The configuration: the example file is valid and complete; bad input fails at start with a
//! message naming the key.

use arbline::config::Config;

fn example() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/arbline.example.toml")).unwrap()
}

#[test]
fn the_example_file_is_valid_and_matches_the_defaults() {
    let c = Config::from_toml(&example()).unwrap();
    let d = Config::default();
    assert_eq!(
        format!("{:?}", c),
        format!("{:?}", d),
        "arbline.example.toml documents the defaults"
    );
}

#[test]
fn an_empty_file_means_the_defaults() {
    let c = Config::from_toml("").unwrap();
    assert_eq!(format!("{c:?}"), format!("{:?}", Config::default()));
}

fn err(toml: &str) -> String {
    Config::from_toml(toml).unwrap_err().to_string()
}

#[test]
fn bad_input_names_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("unknown key", "[engine]\ninstance = \"x\"\n", "instance"),
        ("unknown section", "[kafka]\nurl = \"x\"\n", "kafka"),
        ("unknown nats key", "[nats]\nport = 4222\n", "port"),
        ("nats url scheme", "[nats]\nurl = \"x\"\n", "nats.url"),
        ("wrong type", "[pipeline]\nmd_ring = \"big\"\n", "md_ring"),
        (
            "not a power of two",
            "[pipeline]\nmd_ring = 1000\n",
            "pipeline.md_ring",
        ),
        (
            "a multi-producer ring below the disruptor's 64 slots",
            "[pipeline]\nexec_ring = 32\n",
            "pipeline.exec_ring: must be a power of two ≥ 64, got 32",
        ),
        (
            "bad wait",
            "[[pipeline.threads]]\nname = \"a\"\nstages = [\"feed\",\"book\",\"scanner\",\"order\"]\nwait = \"sleepy\"\n",
            "sleepy",
        ),
        (
            "stage placed twice",
            "[[pipeline.threads]]\nname = \"a\"\nstages = [\"feed\",\"book\",\"book\",\"scanner\",\"order\"]\n",
            "`book`",
        ),
        (
            "NaN edge",
            "[[scanner.arbitrage]]\nedge_bps = nan\n",
            "scanner.arbitrage[0].edge_bps",
        ),
        (
            "bad decimal",
            "[[scanner.arbitrage]]\norder_qty = \"1e-3\"\n",
            "scanner.arbitrage[0].order_qty",
        ),
        (
            "bad hours",
            "[scanner.trading_hours]\nstart = \"9am\"\n",
            "trading_hours.start",
        ),
        (
            "bad market tick",
            "[[markets]]\nvenue = \"max\"\nsymbol = \"btcusdt\"\nbase = \"btc\"\nquote = \"usdt\"\ntick = \"-1\"\n",
            "markets[0]",
        ),
        (
            "unknown venue",
            "[[markets]]\nvenue = \"kraken\"\nsymbol = \"x\"\nbase = \"a\"\nquote = \"b\"\n",
            "kraken",
        ),
        (
            "risk limits inverted",
            "[risk]\nmax_loss_usdt = 10.0\nreduce_only_loss_usdt = 20.0\n",
            "risk.reduce_only_loss_usdt",
        ),
        (
            "sim probability",
            "[sim]\nreject_probability = 1.5\n",
            "sim.reject_probability",
        ),
        (
            "rotation off",
            "[venues.binance]\nrotate_after_s = 0\n",
            "venues.binance.rotate_after_s",
        ),
        (
            "more streams on a connection than Binance allows",
            "[venues.binance]\nstreams_per_connection = 1025\n",
            "venues.binance.streams_per_connection",
        ),
        (
            "no room for one symbol's two streams",
            "[venues.binance]\nstreams_per_connection = 1\n",
            "venues.binance.streams_per_connection",
        ),
        (
            "a request weight beyond any Binance limit",
            "[venues.binance]\nrequest_weight_per_minute = 2000000\n",
            "venues.binance.request_weight_per_minute",
        ),
        (
            "a market's book and trade do not fit in one sub",
            "[venues.max]\nsubscriptions_per_message = 1\n",
            "venues.max.subscriptions_per_message",
        ),
        (
            "a simulator that allows no stream",
            "[sim]\nbinance_max_streams_per_connection = 0\n",
            "sim.binance_max_streams_per_connection",
        ),
        (
            "a simulator that allows no request weight",
            "[sim]\nbinance_futures_request_weight = 0\n",
            "sim.binance_futures_request_weight",
        ),
        (
            "a simulator that allows no subscription",
            "[sim]\nmax_subscriptions_per_message = 0\n",
            "sim.max_subscriptions_per_message",
        ),
        (
            "rotation after Binance's own 24 h cut",
            "[venues.binance]\nrotate_after_s = 86400\n",
            "venues.binance.rotate_after_s",
        ),
        (
            "order lane's share of the rate limit leaves none for reads",
            "[venues.max]\norder_requests_per_minute = 1200\n",
            "venues.max.order_requests_per_minute",
        ),
        (
            "no share of the rate limit for orders",
            "[venues.max]\norder_requests_per_minute = 0\n",
            "venues.max.order_requests_per_minute",
        ),
        (
            "negative duration",
            "[demo]\nduration_s = -1.0\n",
            "demo.duration_s",
        ),
        (
            "missing CA file",
            "[venues.max]\ntls_ca_file = \"/nonexistent/arbline-ca.pem\"\n",
            "venues.max.tls_ca_file: \"/nonexistent/arbline-ca.pem\"",
        ),
        (
            "CA file that is a directory",
            "[venues.binance]\ntls_ca_file = \"/\"\n",
            "venues.binance.tls_ca_file: \"/\"",
        ),
        (
            "CA file of the wrong type",
            "[venues.binance]\ntls_ca_file = 3\n",
            "tls_ca_file",
        ),
    ];
    for (name, toml, want) in cases {
        let e = err(toml);
        assert!(e.contains(want), "{name}: {e:?} should name {want:?}");
    }
}

#[test]
fn the_local_simulator_config_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/arbline.local-sim.toml"
    ))
    .unwrap();
    let c = Config::from_toml(&text).unwrap();
    assert!(c.venues.max.ws_url.starts_with("ws://127.0.0.1:"));
}

#[test]
fn a_ca_file_without_certificates_names_the_key_and_the_path() {
    let p = std::env::temp_dir().join(format!("arbline-config-ca-{}.pem", std::process::id()));
    std::fs::write(
        &p,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let path = p.to_string_lossy().into_owned();
    let e = err(&format!("[venues.max]\ntls_ca_file = {path:?}\n"));
    let _ = std::fs::remove_file(&p);
    assert!(
        e.contains("venues.max.tls_ca_file") && e.contains(&path),
        "{e}"
    );
    assert!(e.contains("no PEM certificate"), "{e}");
}
