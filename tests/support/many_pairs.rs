//! Configurations with many arbitrage pairs, as a desk would write them: each extra pair is a
//! Binance USDⓈ-M leader (`P07USDT`), the MAX market that lags it (`p07usdt`), its
//! `[[scanner.arbitrage]]`, its `[[risk.allocations]]` and its `[[sim.pairs]]`, appended to a
//! base configuration (TOML lets an array of tables continue anywhere in the file).

/// The example configuration (every key at its default).
#[allow(dead_code)]
pub fn example_toml() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/arbline.example.toml"))
        .expect("arbline.example.toml")
}

/// The leader's and the MAX market's symbols of extra pair `i`.
#[allow(dead_code)]
pub fn pair_symbols(i: usize) -> (String, String) {
    (format!("P{i:02}USDT"), format!("p{i:02}usdt"))
}

/// `n` extra pairs appended to `base`, all alike (a price of 100 USDT, so an order of 0.5 is
/// worth more than MAX's 8 USDT minimum; each pair's price path is its own). With `served`,
/// the simulator generates each pair's market; without it, the markets are configured but
/// nothing serves them.
#[allow(dead_code)]
pub fn with_pairs(base: &str, n: usize, served: bool) -> String {
    let mut s = base.to_string();
    s.push('\n');
    for i in 0..n {
        let (leader, max) = pair_symbols(i);
        s.push_str(&format!(
            r#"
[[markets]]
venue = "binance_futures"
symbol = "{leader}"
base = "p{i:02}"
quote = "usdt"
tick = "0.01"
lot = "0.001"

[[markets]]
venue = "max"
symbol = "{max}"
base = "p{i:02}"
quote = "usdt"
tick = "0.01"
lot = "0.0001"
min_qty = "0.0001"
min_notional = "8"

[[scanner.arbitrage]]
leader_venue = "binance_futures"
leader_symbol = "{leader}"
max_symbol = "{max}"
order_qty = "0.5"
max_position = "5"

[[risk.allocations]]
strategy = "arbitrage"
instrument = "{max}"
max_position = "5"
max_order_qty = "1"
allow_short = true
"#
        ));
        if served {
            s.push_str(&format!(
                r#"
[[sim.pairs]]
leader_venue = "binance_futures"
leader_symbol = "{leader}"
max_symbol = "{max}"
start_price = "100"
leader_tick = "0.01"
max_tick = "0.01"
level_qty = "5"
"#
            ));
        }
    }
    s
}
