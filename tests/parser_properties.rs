//! Every parser against mutated fixtures, on stable Rust (the cargo-fuzz targets in `fuzz/`
//! run the same checks for longer; see `scripts/fuzz`). Runs in a few seconds in debug, where
//! integer overflow panics, so an overflow anywhere on the way is a failure here.
//!
//! * `mutated_fixtures_keep_every_parser_sound`: the recorded frames and bodies
//!   (`support/parser_seeds.rs`), mutated byte-wise and with tokens that broke parsers before
//!   (exponents, extra points, signs, huge numbers, duplicated keys), through their parser:
//!   no panic, nothing emitted for a refused frame, venue value rules on what is accepted
//!   (`support/parser_checks.rs`).
//! * `decimal_fields_hold_the_exact_value_of_their_text`: one decimal field of each parser
//!   set to generated text; the parser accepts it exactly when an independent, string-based
//!   reading of the text says it is a valid value for that field, and then holds exactly that
//!   value.
//! * `decimal_reader_matches_the_reference`: [`Fixed::read`] and [`Fixed::from_json_number`]
//!   against the references, on any bytes.

#[path = "support/parser_checks.rs"]
mod parser_checks;

use arbline::model::{DecimalRule, Fixed, MdEvent};
use arbline::venue::binance::{BinanceMarket, BinanceParser};
use arbline::venue::max::markets::parse_markets;
use arbline::venue::max::{
    MaxPrivateParser, MaxPublicParser, parse_accounts, parse_klines, parse_order, parse_trades,
};
use arbline::venue::refrate::{bot_csv, taifex};
use parser_checks::parser_seeds::{self, Target};
use parser_checks::{check, check_decimal, instruments, reference_decimal, reference_json_number};
use proptest::prelude::*;
use proptest::sample::Index;
use std::path::Path;
use std::sync::OnceLock;

fn seeds() -> &'static Vec<(Target, Vec<u8>)> {
    static SEEDS: OnceLock<Vec<(Target, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Target::ALL
            .iter()
            .flat_map(|&t| {
                parser_seeds::seeds(root, t)
                    .into_iter()
                    .map(move |s| (t, s))
            })
            .collect()
    })
}

/// Tokens that have broken parsers (issue 12) or sit on a boundary.
const TOKENS: &[&str] = &[
    "e-7",
    "e+20",
    "E5",
    ".",
    "-",
    "+",
    "0",
    "9",
    "x",
    " ",
    "\"",
    ",",
    ":",
    "[",
    "]",
    "{",
    "}",
    "null",
    "true",
    "[]",
    "{}",
    "\\n",
    "\\u001b[31m",
    "92233720368",
    "92233720368.54775808",
    "99999999999999999999",
    "18446744073709551616",
    "9223372036854775808",
    "-2147483648",
    "0.000000001",
    "12345678912.5",
    "\"p\":\"0\",",
    "\"t\":[],",
    "\"o\":[],",
    "\"data\":{},",
    "\"b\":\"99\",",
    "\"s\":\"BTCUSDT\",",
    "本行賣出",
    "USD",
];

#[derive(Clone, Debug)]
enum Mutation {
    /// XOR a byte.
    Flip(Index, u8),
    /// Insert a token.
    Insert(Index, Index),
    /// Replace up to `n` bytes with a token.
    Replace(Index, usize, Index),
    /// Remove up to `n` bytes.
    Delete(Index, usize),
    /// Copy a stretch of the input elsewhere (duplicates keys, levels, rows).
    Splice(Index, usize, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1..=255u8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<Index>(), 1..6usize, any::<Index>())
            .prop_map(|(i, n, t)| Mutation::Replace(i, n, t)),
        (any::<Index>(), 1..8usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), 1..48usize, any::<Index>())
            .prop_map(|(i, n, j)| Mutation::Splice(i, n, j)),
    ]
}

fn apply(mut b: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let at = |i: &Index, b: &Vec<u8>| i.index(b.len() + 1);
        match m {
            Mutation::Flip(i, x) if !b.is_empty() => {
                let k = i.index(b.len());
                b[k] ^= x;
            }
            Mutation::Flip(..) => {}
            Mutation::Insert(i, t) => {
                let k = at(i, &b);
                let tok = TOKENS[t.index(TOKENS.len())].as_bytes();
                b.splice(k..k, tok.iter().copied());
            }
            Mutation::Replace(i, n, t) => {
                let k = at(i, &b);
                let end = (k + n).min(b.len());
                let tok = TOKENS[t.index(TOKENS.len())].as_bytes();
                b.splice(k..end, tok.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let k = at(i, &b);
                let end = (k + n).min(b.len());
                b.drain(k..end);
            }
            Mutation::Splice(i, n, j) => {
                let k = at(i, &b);
                let end = (k + n).min(b.len());
                let piece = b[k..end].to_vec();
                let to = at(j, &b);
                b.splice(to..to, piece);
            }
        }
    }
    b
}

#[test]
fn every_fixture_passes_the_checks() {
    for (t, s) in seeds() {
        check(*t, s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_keep_every_parser_sound(
        seed in any::<Index>(),
        ms in proptest::collection::vec(mutation(), 1..6),
        cross in any::<Index>(),
    ) {
        let (target, bytes) = &seeds()[seed.index(seeds().len())];
        let m = apply(bytes.clone(), &ms);
        check(*target, &m);
        // One time in four, another parser gets the same bytes: it must stay as sound.
        if let Some(&other) = Target::ALL.get(cross.index(Target::ALL.len() * 4)) {
            check(other, &m);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One decimal field per parser, set to generated text.
// ---------------------------------------------------------------------------------------------

/// Decimal-looking text: valid values of every length, exponent forms, boundaries and junk.
/// Never `"`, `\`, `,` or whitespace, so it can be put inside any of the templates.
fn decimal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,13}(\\.[0-9]{0,12})?",
        "[0-9]{1,3}(\\.[0-9]{1,10})?[eE][+-]?[0-9]{1,3}",
        "0\\.[0-9]{8}[0-9x.e-]{0,4}",
        "[-0-9.eE+x]{0,24}",
        prop::sample::select(vec![
            "92233720368.54775807",
            "92233720368.54775808",
            "92233720368.547758079",
            "-92233720368.54775807",
            "0.000000005",
            "0.00000001",
            "0.000000010",
            "-0",
            "0",
            "00",
            ".5",
            "5.",
            ".",
            "",
            "4.95687689e-7",
            "1.00000000e+20",
            "1.2345678912.5",
            ".29106575x",
            "70126511.6",
            "8.0e-05",
            "0.00028000000000000003",
        ])
        .prop_map(str::to_string),
    ]
}

/// How a field may be: `rule`, and above zero (`positive`) or not negative.
struct Field {
    name: &'static str,
    rule: DecimalRule,
    positive: bool,
    /// The parser's value for the field with `text` put in, `None` when it refused.
    read: fn(&str) -> Option<Fixed>,
}

fn ws(market: BinanceMarket, frame: &str) -> Option<MdEvent> {
    let mut ev = None;
    BinanceParser::new(market)
        .parse_ws(frame.as_bytes(), 0, instruments(), |e| ev = Some(*e))
        .ok()?;
    ev
}

fn max_public(frame: &str) -> Option<MdEvent> {
    let mut ev = None;
    MaxPublicParser::new()
        .parse(frame.as_bytes(), 0, instruments(), |e| ev = Some(*e))
        .ok()?;
    ev
}

fn max_private(frame: &str) -> Option<(Option<arbline::model::ExecEvent>, Option<Fixed>)> {
    let (mut ex, mut av) = (None, None);
    MaxPrivateParser::new()
        .parse(
            frame.as_bytes(),
            0,
            instruments(),
            |e| ex = Some(*e),
            |b| av = Some(b.available),
        )
        .ok()?;
    Some((ex, av))
}

const ORDER_ROW: &str = r#"{"i":87,"sd":"bid","ot":"limit","p":"21499.0","ap":"@","S":"wait","M":"ethtwd","T":1,"TU":2,"v":"0.2658","rv":"0.1658","ev":"0.1","tc":1}"#;
const REST_ORDER: &str = r#"{"id":1,"wallet_type":"spot","market":"btcusdt","client_oid":null,"side":"sell","state":"wait","ord_type":"limit","price":"1","avg_price":"A","volume":"V","remaining_volume":"0","executed_volume":"0","trades_count":0,"created_at":1,"updated_at":2}"#;

fn fields() -> Vec<Field> {
    use BinanceMarket::{Futures, Spot};
    let u = DecimalRule::UNSIGNED;
    let t = DecimalRule::UNSIGNED_TRUNCATING;
    vec![
        Field {
            name: "binance bookTicker b",
            rule: u,
            positive: true,
            read: |x| {
                let f = r#"{"u":1,"s":"BNBUSDT","b":"@","B":"1","a":"2","A":"1"}"#;
                ws(Spot, &f.replace('@', x)).map(|e| e.levels[0].price)
            },
        },
        Field {
            name: "binance depthUpdate bid qty",
            rule: u,
            positive: false,
            read: |x| {
                let f = r#"{"e":"depthUpdate","E":1,"T":1,"s":"BNBUSDT","U":1,"u":2,"pu":0,"b":[["1","@"]],"a":[]}"#;
                ws(Futures, &f.replace('@', x)).map(|e| e.levels[0].qty)
            },
        },
        Field {
            name: "binance trade q",
            rule: u,
            positive: true,
            read: |x| {
                let f = r#"{"stream":"s","data":{"e":"trade","E":1,"s":"BNBUSDT","t":1,"p":"1","q":"@","T":1,"m":true}}"#;
                ws(Spot, &f.replace('@', x)).map(|e| e.levels[0].qty)
            },
        },
        Field {
            name: "binance snapshot ask price",
            rule: u,
            positive: true,
            read: |x| {
                let f = r#"{"lastUpdateId":1,"bids":[],"asks":[["@","1"]]}"#.replace('@', x);
                let mut ev = None;
                let id = instruments()
                    .lookup(arbline::model::Venue::BinanceSpot, b"BNBUSDT")
                    .unwrap();
                BinanceParser::new(Spot)
                    .parse_depth_snapshot(f.as_bytes(), id, 0, |e| ev = Some(*e))
                    .ok()?;
                ev.map(|e| e.levels[0].price)
            },
        },
        Field {
            name: "max book ask volume",
            rule: u,
            positive: false,
            read: |x| {
                let f = r#"{"c":"book","e":"update","M":"btcusdt","a":[["1","@"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#;
                max_public(&f.replace('@', x)).map(|e| e.levels[0].qty)
            },
        },
        Field {
            name: "max public trade p",
            rule: u,
            positive: true,
            read: |x| {
                let f = r#"{"c":"trade","e":"update","M":"btcusdt","t":[{"p":"@","v":"1","T":1,"tr":"up"}],"T":1}"#;
                max_public(&f.replace('@', x)).map(|e| e.levels[0].price)
            },
        },
        Field {
            name: "max private ap",
            rule: t,
            positive: false,
            read: |x| {
                let f = format!(r#"{{"c":"user","e":"order_update","o":[{ORDER_ROW}]}}"#);
                max_private(&f.replace('@', x))?.0.map(|e| e.price)
            },
        },
        Field {
            name: "max private fee",
            rule: u,
            positive: false,
            read: |x| {
                let f = r#"{"c":"user","e":"trade_update","t":[{"i":1,"M":"ethtwd","sd":"bid","p":"2","v":"1","f":"@","fc":"twd","T":1,"oi":2}]}"#;
                max_private(&f.replace('@', x))?.0.map(|e| e.fee)
            },
        },
        Field {
            name: "max private av",
            rule: u,
            positive: false,
            read: |x| {
                let f = r#"{"c":"user","e":"account_update","B":[{"cu":"btc","av":"@","l":"0"}]}"#;
                max_private(&f.replace('@', x))?.1
            },
        },
        Field {
            name: "max rest avg_price",
            rule: t,
            positive: false,
            read: |x| {
                let b = REST_ORDER.replace('A', x).replace('V', "1");
                parse_order(b.as_bytes()).ok().map(|o| o.avg_price)
            },
        },
        Field {
            name: "max rest volume",
            rule: u,
            positive: true,
            read: |x| {
                let b = REST_ORDER.replace('A', "1").replace('V', x);
                parse_order(b.as_bytes()).ok().map(|o| o.volume)
            },
        },
        Field {
            name: "max rest trade fee",
            rule: u,
            positive: false,
            read: |x| {
                let b = r#"[{"id":1,"order_id":2,"price":"1","volume":"2","funds":"2","market":"usdttwd","side":"ask","fee":"@","fee_currency":"twd","liquidity":"maker","created_at":3}]"#;
                parse_trades(b.replace('@', x).as_bytes())
                    .ok()
                    .map(|t| t[0].fee)?
            },
        },
        Field {
            name: "max rest balance",
            rule: t,
            positive: false,
            read: |x| {
                let b = r#"[{"currency":"btc","balance":"@","locked":"0","staked":null}]"#;
                parse_accounts(b.replace('@', x).as_bytes())
                    .ok()
                    .map(|a| a[0].available)
            },
        },
        Field {
            name: "max k-line volume",
            rule: u,
            positive: false,
            read: |x| {
                let b = r#"[[1,"1","1","1","1","@"]]"#;
                parse_klines(b.replace('@', x).as_bytes())
                    .ok()
                    .map(|k| k[0].volume)
            },
        },
        Field {
            name: "bot csv spot buy",
            rule: u,
            positive: true,
            read: |x| {
                let b = "USD,本行買入,,@,,,,,,,,本行賣出,,32".replace('@', x);
                bot_csv::parse(b.as_bytes(), None).ok().map(|q| q.buy)
            },
        },
        Field {
            name: "taifex USD/NTD",
            rule: u,
            positive: true,
            read: |x| {
                let b = r#"[{"Date":"20240201","USD/NTD":"@"}]"#.replace('@', x);
                taifex::parse_rates(b.as_bytes()).ok().map(|r| r.quote.mid)
            },
        },
    ]
}

/// JSON's number grammar (serde_json refuses anything else before arbline sees it).
fn is_json_number(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if int == 0 || (int > 1 && b[0] == b'0') {
        return false;
    }
    let mut rest = &b[int..];
    if let Some(r) = rest.strip_prefix(b".") {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &r[n..];
    }
    if let Some(r) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let r = r
            .strip_prefix(b"+")
            .or_else(|| r.strip_prefix(b"-"))
            .unwrap_or(r);
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &r[n..];
    }
    rest.is_empty()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, .. ProptestConfig::default() })]

    #[test]
    fn decimal_fields_hold_the_exact_value_of_their_text(text in decimal_text()) {
        for f in fields() {
            let want = reference_decimal(text.as_bytes(), f.rule)
                .filter(|v| if f.positive { *v > 0 } else { *v >= 0 });
            let got = (f.read)(&text).map(Fixed::raw);
            prop_assert_eq!(got, want, "{} = {:?}", f.name, text);
        }
        // /markets minimums: a JSON number, read from its text.
        let body = format!(
            r#"[{{"id":"btctwd","status":"active","base_unit":"btc","base_unit_precision":8,"min_base_amount":{text},"quote_unit":"twd","quote_unit_precision":1,"min_quote_amount":250,"m_wallet_supported":true}}]"#
        );
        let got = parse_markets(body.as_bytes()).ok().map(|m| m[0].rules.min_qty.raw());
        let want = is_json_number(&text)
            .then(|| reference_json_number(text.as_bytes()))
            .flatten();
        prop_assert_eq!(got, want, "min_base_amount = {}", text);
    }

    #[test]
    fn decimal_reader_matches_the_reference(
        text in prop_oneof![
            decimal_text().prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..24),
            "[0-9]{0,40}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{0,25})?".prop_map(String::into_bytes),
        ]
    ) {
        check_decimal(&text);
    }
}
