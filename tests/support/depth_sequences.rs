//! The recorded Binance depth sequences in `tests/fixtures/binance/` (real cryptofeed captures:
//! a REST snapshot, then every frame in receive order, with the final books as oracles), named
//! once for the tests and the replay bench.

pub const SEQUENCES: [&str; 8] = [
    "spot_depth_sequence_NKNUSDT_cryptofeed.json",
    "spot_depth_sequence_BLZETH_cryptofeed.json",
    "spot_depth_sequence_LRCBTC_cryptofeed.json",
    "spot_depth_sequence_RUNEEUR_cryptofeed.json",
    "futures_usdm_depth_sequence_SUSHIUSDT_cryptofeed.json",
    "futures_usdm_depth_sequence_AKROUSDT_cryptofeed.json",
    "futures_usdm_depth_sequence_KEEPUSDT_cryptofeed.json",
    "futures_usdm_depth_sequence_CTKUSDT_cryptofeed.json",
];
