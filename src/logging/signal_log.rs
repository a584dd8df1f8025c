//! The signal log: `signals.YYYY-MM-DD.log`, one JSON line per signal with its inputs, written
//! by the side thread (never by the scanner).
//!
//! A line holds what the [`Signal`] carries (strategy, market, side, price, qty, fair value,
//! edge, the quote → USDT factor, the threshold and the EWMA centre the scanner used) and the
//! latest sampled book tops the side thread has seen of the traded market and of its leader
//! (Binance for arbitrage, the reference rate for the stable-coin premium). Tops are sampled
//! (`nats.md_interval_ms`), so they may be up to that old; `null` when none was seen yet.

use super::error::LogError;
use crate::model::{BookTop, FileError, Instruments, Signal};
use std::io::Write;
use std::path::Path;
use tracing_appender::rolling::{RollingFileAppender, Rotation};

/// The signal log's file prefix (retention applies to it as well).
pub const SIGNAL_PREFIX: &str = "signals";

pub struct SignalLog {
    file: RollingFileAppender,
    /// Latest sampled top per instrument index.
    tops: Vec<Option<BookTop>>,
    line: String,
    /// Lines that could not be written.
    pub errors: u64,
    pub written: u64,
}

impl SignalLog {
    /// Opens (creates) the daily signal log in `dir`.
    pub fn open(dir: &Path) -> Result<SignalLog, LogError> {
        std::fs::create_dir_all(dir).map_err(FileError::at("create", dir))?;
        let file = RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix(SIGNAL_PREFIX)
            .filename_suffix("log")
            .build(dir)
            .map_err(|source| LogError::Open {
                what: "signal log",
                dir: dir.to_path_buf(),
                source,
            })?;
        Ok(SignalLog {
            file,
            tops: Vec::new(),
            line: String::with_capacity(1024),
            errors: 0,
            written: 0,
        })
    }

    /// Remembers `top` as its instrument's latest.
    pub fn on_top(&mut self, top: &BookTop) {
        let i = top.instrument.index();
        if self.tops.len() <= i {
            self.tops.resize(i + 1, None);
        }
        self.tops[i] = Some(*top);
    }

    /// Writes one line for `s`.
    pub fn on_signal(&mut self, s: &Signal, instruments: &Instruments, unix_ms: u64) {
        let top = |i: crate::model::InstrumentId| {
            self.tops
                .get(i.index())
                .copied()
                .flatten()
                .map(|t| top_json(&t, instruments))
                .unwrap_or(serde_json::Value::Null)
        };
        let inst = instruments.get(s.instrument);
        let leader = instruments.get(s.leader);
        let v = serde_json::json!({
            "ts_ms": unix_ms,
            "seq": s.seq,
            "strategy": s.strategy.to_string(),
            "venue": inst.venue.to_string(),
            "symbol": inst.symbol.to_string(),
            "side": s.side.rest(),
            "order_type": s.order_type.wire(),
            "price": s.price.to_string(),
            "qty": s.qty.to_string(),
            "fair_value": finite(s.fair_value),
            "edge_bps": finite(s.edge_bps),
            "threshold_bps": finite(s.threshold_bps),
            "center": finite(s.center),
            "quote_to_usdt": finite(s.quote_to_usdt),
            "top": top(s.instrument),
            "leader": { "venue": leader.venue.to_string(), "symbol": leader.symbol.to_string(), "top": top(s.leader) },
        });
        self.line.clear();
        self.line.push_str(&v.to_string());
        self.line.push('\n');
        match self.file.write_all(self.line.as_bytes()) {
            Ok(()) => self.written += 1,
            Err(_) => self.errors += 1,
        }
    }
}

fn finite(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

fn top_json(t: &BookTop, instruments: &Instruments) -> serde_json::Value {
    serde_json::json!({
        "symbol": instruments.get(t.instrument).symbol.to_string(),
        "status": format!("{:?}", t.status).to_lowercase(),
        "bid": t.bid.price.to_string(),
        "bid_qty": t.bid.qty.to_string(),
        "ask": t.ask.price.to_string(),
        "ask_qty": t.ask.qty.to_string(),
        "exch_ts_ms": t.exch_ts_ms,
    })
}
