//! Seed inputs for every parser, taken from the recorded fixtures (`tests/fixtures/`) and the
//! example configurations: the bytes a parser really meets, for `tests/parser_properties.rs` to
//! mutate and for `scripts/fuzz` to write into each fuzz target's corpus (through the fuzz
//! crate's `seed_corpus`, which includes this file). Nothing is copied into the repository.
//!
//! Binance fixtures wrap the wire text in JSON (`"raw"`, and `messages[].raw` /
//! `snapshot.raw` in the depth sequences): every `raw` string is one seed. MAX fixtures are the
//! bodies and frames themselves, each WebSocket frame also compact (whitespace outside strings
//! removed) as MAX sends it, the shape the byte scanners take. TAIFEX's sample keeps the rows under `parsed`.

#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;

/// One parser (or family of parsers fed the same bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `BinanceParser::parse_ws`, spot and futures.
    BinanceWs,
    /// `BinanceParser::parse_depth_snapshot`.
    BinanceSnapshot,
    /// `MaxPublicParser::parse`.
    MaxPublic,
    /// `MaxPrivateParser::parse`.
    MaxPrivate,
    /// The MAX REST models: orders, cancel replies, trades, accounts, markets, k-lines, errors.
    MaxRest,
    /// `refrate::bot_csv::parse`.
    BotCsv,
    /// `refrate::taifex::parse_rates`.
    Taifex,
    /// `Config::from_toml` and what is derived from a valid one.
    Config,
}

impl Target {
    pub const ALL: [Target; 8] = [
        Target::BinanceWs,
        Target::BinanceSnapshot,
        Target::MaxPublic,
        Target::MaxPrivate,
        Target::MaxRest,
        Target::BotCsv,
        Target::Taifex,
        Target::Config,
    ];

    /// The fuzz target's name.
    pub fn name(self) -> &'static str {
        match self {
            Target::BinanceWs => "binance_ws",
            Target::BinanceSnapshot => "binance_snapshot",
            Target::MaxPublic => "max_public",
            Target::MaxPrivate => "max_private",
            Target::MaxRest => "max_rest",
            Target::BotCsv => "refrate_bot_csv",
            Target::Taifex => "refrate_taifex",
            Target::Config => "config",
        }
    }
}

fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    out.sort();
    out
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every string under a `raw` key, at any depth.
fn raws(v: &Value, out: &mut Vec<Vec<u8>>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("raw", Value::String(s)) => out.push(s.as_bytes().to_vec()),
                    _ => raws(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| raws(v, out)),
        _ => {}
    }
}

/// `json` without whitespace outside strings: MAX's wire is compact. The same as
/// `arbline::venue::compact_json`, written again because this file is also compiled without
/// arbline (the fuzz seed tool, `fuzz/seed`).
fn compact(json: &[u8]) -> Vec<u8> {
    let (mut out, mut in_str, mut esc) = (Vec::with_capacity(json.len()), false, false);
    for &c in json {
        if in_str {
            out.push(c);
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
        } else if !c.is_ascii_whitespace() {
            in_str = c == b'"';
            out.push(c);
        }
    }
    out
}

/// The seeds of `target`; `root` is the crate root. Duplicates removed, order stable.
pub fn seeds(root: &Path, target: Target) -> Vec<Vec<u8>> {
    let fx = root.join("tests/fixtures");
    let mut out = Vec::new();
    match target {
        Target::BinanceWs | Target::BinanceSnapshot => {
            for p in files(&fx.join("binance"), |n| n.ends_with(".json")) {
                let v: Value = serde_json::from_slice(&read(&p))
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                raws(&v, &mut out);
            }
            if target == Target::BinanceSnapshot {
                out.retain(|s| s.windows(12).any(|w| w == b"lastUpdateId"));
            }
        }
        Target::MaxPublic | Target::MaxPrivate => {
            let private = |s: &[u8]| {
                s.windows(6).any(|w| w == b"\"user\"") || s.windows(4).any(|w| w == b"auth")
            };
            for p in files(&fx.join("max"), |n| n.starts_with("ws_")) {
                let b = read(&p);
                let error = b.windows(7).any(|w| w == b"\"error\"");
                if error || private(&b) == (target == Target::MaxPrivate) {
                    // MAX sends compact frames, the shape the byte scanners take; the fixtures
                    // are pretty-printed: both, so mutations reach both paths.
                    out.push(compact(&b));
                    out.push(b);
                }
            }
        }
        Target::MaxRest => {
            for p in files(&fx.join("max"), |n| n.starts_with("rest_")) {
                out.push(read(&p));
            }
        }
        Target::BotCsv => {
            for p in files(&fx.join("usdtwd"), |n| n.ends_with(".csv")) {
                out.push(read(&p));
            }
        }
        Target::Taifex => {
            for p in files(&fx.join("usdtwd"), |n| n.starts_with("taifex")) {
                let b = read(&p);
                if let Ok(v) = serde_json::from_slice::<Value>(&b)
                    && let Some(rows) = v.get("parsed")
                {
                    out.push(serde_json::to_vec(rows).expect("serialises"));
                }
                out.push(b);
            }
        }
        Target::Config => {
            for p in files(root, |n| n.ends_with(".toml") && n.starts_with("arbline")) {
                out.push(read(&p));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|s| seen.insert(s.clone()));
    assert!(!out.is_empty(), "no seeds for {target:?}");
    out
}
