//! One message from the stream, checked against the forwarder's contract and turned into a row
//! of its kind's table ([`super::schema::TABLES`]).
//!
//! Everything PostgreSQL would refuse is refused here, so one bad message cannot fail the batch
//! it travels in: decimals must be plain (`-?digits[.digits]`), integers must fit `bigint`,
//! timestamps must lie before year 10000, text and objects must not hold NUL. Fields the
//! contract does not name are ignored (the forwarder may add some); a missing one is an error.
//! Reasons name the field, never its value.

use super::schema::{ColType, TABLES, table_for_kind};
use serde_json::{Map, Value};

/// Unix ms of 9999-12-31T23:59:59.999Z.
pub const MAX_MILLIS: u64 = 253_402_300_799_999;

/// A value bound for one column; `Numeric` and `Object` travel as text and are cast in SQL,
/// `Millis` as an integer.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
}

/// One message as a row: `cells` follow `TABLES[table].all_columns()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub table: usize,
    pub cells: Vec<Cell>,
}

/// Why a message is not a valid event; goes to `bad_messages.error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `payload` (received on `subject` at `received_ms`) into its table's row.
pub fn parse(subject: &str, payload: &[u8], received_ms: u64) -> Result<Row, Malformed> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| Malformed(format!("not JSON ({})", e.classify_and_place())))?;
    let Value::Object(obj) = v else {
        return Err(Malformed("not a JSON object".into()));
    };
    let kind = match obj.get("kind") {
        Some(Value::String(k)) => k.as_str(),
        Some(_) => return Err(Malformed("field `kind`: expected a string".into())),
        None => return Err(Malformed("field `kind`: missing".into())),
    };
    let table = table_for_kind(kind).ok_or_else(|| {
        // The kind names are ours, but a malformed payload may put anything there.
        Malformed(
            "field `kind`: not one of md, signal, order, exec, fill, position, latency, system"
                .into(),
        )
    })?;
    let t = &TABLES[table];
    let mut cells = Vec::with_capacity(t.width());
    for c in t.all_columns() {
        let cell = match c.field {
            Some(field) => cell(&obj, field, c.ty)?,
            None if c.name == "subject" => text(subject.to_string(), "subject")?,
            None => Cell::Int(millis(received_ms, "received_at")?),
        };
        cells.push(cell);
    }
    Ok(Row { table, cells })
}

trait ClassifyAndPlace {
    fn classify_and_place(&self) -> String;
}

impl ClassifyAndPlace for serde_json::Error {
    /// serde_json's message for a syntax error never quotes the input; say where it broke.
    fn classify_and_place(&self) -> String {
        format!(
            "{:?} error at line {} column {}",
            self.classify(),
            self.line(),
            self.column()
        )
    }
}

fn cell(obj: &Map<String, Value>, field: &str, ty: ColType) -> Result<Cell, Malformed> {
    let v = obj
        .get(field)
        .ok_or_else(|| Malformed(format!("field `{field}`: missing")))?;
    let want = |what: &str| Malformed(format!("field `{field}`: expected {what}"));
    match ty {
        ColType::Text => match v {
            Value::String(s) => text(s.clone(), field),
            _ => Err(want("a string")),
        },
        ColType::Numeric => match v {
            Value::String(s) if is_decimal(s) => Ok(Cell::Text(s.clone())),
            _ => Err(want("a decimal string such as \"95123.45\"")),
        },
        ColType::BigInt => v
            .as_u64()
            .and_then(|n| i64::try_from(n).ok())
            .map(Cell::Int)
            .ok_or_else(|| want("an unsigned integer below 2^63")),
        ColType::Float => v.as_f64().map(Cell::Float).ok_or_else(|| want("a number")),
        ColType::Millis => {
            millis(v.as_u64().ok_or_else(|| want("Unix milliseconds"))?, field).map(Cell::Int)
        }
        ColType::Object => match v {
            Value::Object(_) if !holds_nul(v) => Ok(Cell::Text(v.to_string())),
            Value::Object(_) => Err(want("an object without NUL characters")),
            _ => Err(want("an object")),
        },
    }
}

fn text(s: String, field: &str) -> Result<Cell, Malformed> {
    if s.contains('\0') {
        return Err(Malformed(format!("field `{field}`: holds a NUL character")));
    }
    Ok(Cell::Text(s))
}

fn millis(ms: u64, field: &str) -> Result<i64, Malformed> {
    if ms > MAX_MILLIS {
        return Err(Malformed(format!(
            "field `{field}`: Unix milliseconds after year 9999"
        )));
    }
    Ok(ms as i64)
}

/// `-?digits[.digits]`, at most 1000 characters (PostgreSQL's `numeric` takes 131072 digits
/// before the point and 16383 after; nothing real comes near either).
pub fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    s.len() <= 1000 && digits(int) && frac.is_none_or(digits)
}

fn holds_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(holds_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: &str = r#"{"instance":"eng-1","run":1700000000000,"kind":"md","seq":7,
        "ts_ms":1700000000123,"venue":"binance","symbol":"BTCUSDT","status":"live",
        "bid_px":"95123.45","bid_qty":"0.5","ask_px":"95123.46","ask_qty":"1",
        "last_id":42,"exch_ts_ms":1700000000100,"extra":"ignored"}"#;

    #[test]
    fn a_market_data_top_becomes_its_row() {
        let subject = "exchange.binance.l1book.future.update.BTCUSDT";
        let r = parse(subject, MD.as_bytes(), 1_700_000_000_200).unwrap();
        assert_eq!(TABLES[r.table].name, "md_tops");
        assert_eq!(
            r.cells,
            vec![
                Cell::Text("eng-1".into()),
                Cell::Int(1_700_000_000_000),
                Cell::Int(7),
                Cell::Int(1_700_000_000_123),
                Cell::Text(subject.into()),
                Cell::Int(1_700_000_000_200),
                Cell::Text("binance".into()),
                Cell::Text("BTCUSDT".into()),
                Cell::Text("live".into()),
                Cell::Text("95123.45".into()),
                Cell::Text("0.5".into()),
                Cell::Text("95123.46".into()),
                Cell::Text("1".into()),
                Cell::Int(42),
                Cell::Int(1_700_000_000_100),
            ]
        );
    }

    #[test]
    fn malformed_messages_are_refused_with_the_field_named() {
        let with = |from: &str, to: &str| MD.replace(from, to);
        let cases: Vec<(&str, String, &str)> = vec![
            ("not json", "{\"kind\":".into(), "not JSON"),
            ("an array", "[1,2]".into(), "not a JSON object"),
            ("no kind", with("\"kind\":\"md\",", ""), "`kind`: missing"),
            (
                "unknown kind",
                with("\"kind\":\"md\"", "\"kind\":\"trade\""),
                "`kind`",
            ),
            (
                "missing field",
                with("\"status\":\"live\",", ""),
                "`status`: missing",
            ),
            ("decimal as number", with("\"0.5\"", "0.5"), "`bid_qty`"),
            ("exponent decimal", with("\"0.5\"", "\"5e-1\""), "`bid_qty`"),
            (
                "negative id",
                with("\"last_id\":42", "\"last_id\":-1"),
                "`last_id`",
            ),
            (
                "id past bigint",
                with("\"last_id\":42", "\"last_id\":18446744073709551615"),
                "`last_id`",
            ),
            ("seq as string", with("\"seq\":7", "\"seq\":\"7\""), "`seq`"),
            (
                "year 10000",
                with(
                    "\"exch_ts_ms\":1700000000100",
                    "\"exch_ts_ms\":253402300800000",
                ),
                "`exch_ts_ms`",
            ),
            (
                "NUL in text",
                with("\"live\"", "\"li\\u0000ve\""),
                "`status`",
            ),
        ];
        for (name, payload, want) in cases {
            let e = parse("s", payload.as_bytes(), 0).unwrap_err();
            assert!(e.0.contains(want), "{name}: {e}");
        }
    }

    #[test]
    fn decimals_are_plain() {
        for ok in [
            "0",
            "-1",
            "95123.45",
            "0.00000001",
            "123456789012345678901234567890",
        ] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in [
            "", "-", ".5", "5.", "1e3", "+1", "1,5", " 1", "NaN", "1.2.3", "--1",
        ] {
            assert!(!is_decimal(bad), "{bad:?}");
        }
    }

    #[test]
    fn latency_stages_stay_an_object() {
        let p = r#"{"instance":"e","run":1,"kind":"latency","seq":1,"ts_ms":5,
            "stages":{"book":{"count":3,"p50":100,"p99":200,"p999":300,"max":400}}}"#;
        let r = parse("latency.e", p.as_bytes(), 6).unwrap();
        assert_eq!(TABLES[r.table].name, "latency_snapshots");
        let Cell::Text(j) = &r.cells[6] else { panic!() };
        let back: Value = serde_json::from_str(j).unwrap();
        assert_eq!(back["book"]["p999"], 300);
        let bad = p
            .replace("\"stages\":{", "\"stages\":[{")
            .replace("}}}", "}}]}");
        assert!(
            parse("latency.e", bad.as_bytes(), 6)
                .unwrap_err()
                .0
                .contains("`stages`")
        );
    }
}
