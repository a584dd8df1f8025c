//! The fast path: a byte scanner for the hot MAX private frames as MAX writes them —
//! `{"c":"user","e":"order_update"|"order_snapshot","o":[{…},…],"T":…}` and
//! `{"c":"user","e":"trade_update"|"fast_trade_update"|"trade_snapshot","t":[{…},…],"T":…}`,
//! spot or `mwallet_`, compact, keys in any order — reading the decimal strings straight into
//! fixed point and each element into the [`Row`] that [`Row::exec`] turns into an event, as the
//! general path does.
//!
//! It accepts the strict subset [`Cursor`] reads (no whitespace, no escapes, printable ASCII
//! strings, plain integers, decimals as `digits(.digits)?` with at most 8 fractional digits —
//! `ap` with any number, those beyond the 8th dropped — or `null` where the general path reads
//! `null` as absent): the frame keys `c`, `e`, `T` and the event's own row array (`o` for order
//! events, `t` for trade events), in each row the keys the general path reads plus unknown keys
//! with a scalar value, each known key once, every row valid by [`Row::exec`], fewer than
//! [`MAX_PRIVATE_ROWS`] events. On anything else — account frames, replies, errors, other
//! events, a row array beside the event's own, an `E` list, a nested unknown value, a refused
//! number or decimal, a row the general path refuses, trailing bytes — it answers "not mine" and
//! the general path reads the frame from the start (and names any error); where it does accept,
//! it reads exactly the header, events and skipped rows the general path reads (checked by the
//! differential tests and the `max_private` fuzz target). It allocates nothing: events go into
//! the parser's reserved vector, strings are borrowed from the frame.

use super::{
    Header, K_C, K_E, K_ORDERS, K_T, K_TRADES, MAX_PRIVATE_ROWS, MaxOrderState, Row, UserEvent,
    user_event,
};
use crate::model::{ExecEvent, Instruments, Side};
use crate::venue::byte_scan::{Cursor, first_time};

/// Reads `json` if it is an order or trade frame of MAX's layout, its events (received at
/// `ts_recv`) into `execs`; `None`: use the general path. `execs` is cleared first and may hold
/// partial rows after a `None`.
pub(super) fn frame<'f>(
    json: &'f [u8],
    ts_recv: u64,
    instruments: &Instruments,
    execs: &mut Vec<ExecEvent>,
) -> Option<Header<'f>> {
    execs.clear();
    let mut c = Cursor::new(json);
    let mut h = Header::default();
    c.object(|c, key| {
        let k = match key {
            b"c" => K_C,
            b"e" => K_E,
            b"T" => K_T,
            b"o" => K_ORDERS,
            b"t" => K_TRADES,
            // Error lists and balances are the general path's.
            b"E" | b"B" => return None,
            _ => return c.skip_scalar(),
        };
        // A duplicate is the general path's to refuse.
        if h.seen.has(k) {
            return None;
        }
        h.seen.mark(k);
        match k {
            K_C => h.c = Some(text(c.quoted()?)?),
            K_E => h.e = Some(text(c.quoted()?)?),
            K_T => h.t = Some(c.unsigned()?),
            _ => rows(
                c,
                k == K_ORDERS,
                ts_recv,
                instruments,
                execs,
                &mut h.skipped,
            )?,
        }
        Some(())
    })?;
    if !c.at_end() || h.c != Some("user") {
        return None;
    }
    let (own, other) = match user_event(h.e?).1 {
        UserEvent::Orders => (K_ORDERS, K_TRADES),
        UserEvent::Trades => (K_TRADES, K_ORDERS),
        UserEvent::Account | UserEvent::Other => return None,
    };
    // Rows of the other kind beside the event's own are the general path's to refuse.
    debug_assert!(own != other);
    if h.seen.has(other) {
        return None;
    }
    Some(h)
}

/// `[{…},…]`: each element read by [`row`] and made an event by [`Row::exec`] (an order row
/// when `order`), or counted in `skipped` when its market is not an instrument.
fn rows(
    c: &mut Cursor,
    order: bool,
    ts_recv: u64,
    instruments: &Instruments,
    execs: &mut Vec<ExecEvent>,
    skipped: &mut u64,
) -> Option<()> {
    c.array(|c| {
        let r = row(c)?;
        match r.exec(order, ts_recv, instruments).ok()? {
            Some(ev) => {
                execs.push(ev);
                // The general path refuses a frame once it holds this many events.
                if execs.len() >= MAX_PRIVATE_ROWS {
                    return None;
                }
            }
            None => *skipped += 1,
        }
        Some(())
    })
}

/// The known row keys, one bit each (a duplicate goes to the general path, which refuses it).
const I: u32 = 1;
const OI: u32 = 1 << 1;
const SD: u32 = 1 << 2;
const S: u32 = 1 << 3;
const M: u32 = 1 << 4;
const P: u32 = 1 << 5;
const AP: u32 = 1 << 6;
const V: u32 = 1 << 7;
const EV: u32 = 1 << 8;
const F: u32 = 1 << 9;
const CI: u32 = 1 << 10;
const T: u32 = 1 << 11;
const TU: u32 = 1 << 12;

/// One `{…}` of `o` or `t`: every key the general path reads, each once, with the value it
/// reads; unknown keys with a scalar value skipped.
fn row<'f>(c: &mut Cursor<'f>) -> Option<Row<'f>> {
    let mut r = Row::default();
    let mut seen = 0u32;
    c.object(|c, key| {
        let bit = match key {
            b"i" => I,
            b"oi" => OI,
            b"sd" => SD,
            b"S" => S,
            b"M" => M,
            b"p" => P,
            b"ap" => AP,
            b"v" => V,
            b"ev" => EV,
            b"f" => F,
            b"ci" => CI,
            b"T" => T,
            b"TU" => TU,
            _ => return c.skip_scalar(),
        };
        first_time(&mut seen, bit)?;
        match bit {
            I => r.id = Some(c.unsigned()?),
            OI => r.oi = Some(c.unsigned()?),
            SD => r.side = Some(Side::from_wire(c.quoted()?)?),
            S => r.state = Some(MaxOrderState::from_wire(c.quoted()?)?),
            M => r.market = Some(c.quoted()?),
            P => r.price = nullable(c, Cursor::decimal)?,
            AP => r.avg = nullable(c, Cursor::decimal_truncating)?,
            V => r.vol = nullable(c, Cursor::decimal)?,
            EV => r.executed = nullable(c, Cursor::decimal)?,
            F => r.fee = nullable(c, Cursor::decimal)?,
            CI => r.ci = nullable(c, Cursor::quoted)?,
            T => r.t = c.unsigned()?,
            _ => r.tu = c.unsigned()?,
        }
        Some(())
    })?;
    Some(r)
}

/// `null` (`Some(None)`: absent, as the general path reads it) or what `read` reads.
#[inline]
fn nullable<'f, V>(
    c: &mut Cursor<'f>,
    read: impl FnOnce(&mut Cursor<'f>) -> Option<V>,
) -> Option<Option<V>> {
    if c.peek()? == b'n' {
        c.eat(b"null")?;
        Some(None)
    } else {
        read(c).map(Some)
    }
}

/// A string the cursor read (printable ASCII, so always UTF-8).
#[inline]
fn text(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

#[cfg(test)]
mod tests {
    use super::super::{MaxPrivateOutcome, MaxPrivateParser};
    use super::*;
    use crate::model::{Fixed, Venue};
    use crate::venue::ParseError;
    use std::sync::OnceLock;

    fn instruments() -> &'static Instruments {
        static INS: OnceLock<Instruments> = OnceLock::new();
        INS.get_or_init(|| {
            let mut i = Instruments::new();
            for (s, b, q) in [
                ("ethtwd", "eth", "twd"),
                ("ethusdt", "eth", "usdt"),
                ("btctwd", "btc", "twd"),
            ] {
                i.intern(Venue::Max, s, b, q).expect("intern");
            }
            i
        })
    }

    /// The real frames of `tests/fixtures/max/` this path is for (the rest go to serde).
    const HOT: &[&str] = &[
        "ws_order_update_doc.json",
        "ws_order_snapshot_doc.json",
        "ws_mwallet_order_snapshot_doc.json",
        "ws_mwallet_order_update_cancel_doc.json",
        "ws_trade_update_private_doc.json",
        "ws_trade_snapshot_private_doc.json",
        "ws_trade_snapshot_private_bbgo_test.json",
        "ws_fast_trade_update_doc.json",
        "ws_mwallet_fast_trade_update_doc.json",
        "ws_mwallet_trade_snapshot_doc.json",
        "ws_mwallet_trade_update_doc.json",
    ];

    fn fixtures() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/max")
    }

    /// Fixture `name` (pretty-printed there) with the whitespace outside strings removed, as
    /// MAX sends it.
    fn compact(name: &str) -> Vec<u8> {
        crate::venue::compact_json(&std::fs::read(fixtures().join(name)).expect("fixture"))
    }

    type Outcome = Result<MaxPrivateOutcome, ParseError>;
    /// Header and events read, then the whole parse: outcome, events emitted, rows skipped.
    type Read = (String, Vec<ExecEvent>, Outcome, Vec<ExecEvent>, u64);

    /// `p.parse(json)`: its outcome, the events it emitted, the rows it skipped and whether
    /// the scanner read the frame.
    fn run(mut p: MaxPrivateParser, json: &[u8]) -> (Outcome, Vec<ExecEvent>, u64, bool) {
        let mut evs = Vec::new();
        let r = p.parse(json, 7, instruments(), |e| evs.push(*e), |_| {});
        (r, evs, p.skipped_unknown_market(), p.scanned_frames() == 1)
    }

    fn fast(json: &[u8]) -> Option<Read> {
        let mut execs = Vec::new();
        let h = frame(json, 7, instruments(), &mut execs)?;
        let (r, evs, skipped, scanned) = run(MaxPrivateParser::new(), json);
        assert!(scanned, "the parser did not take the scanner");
        Some((format!("{h:?}"), execs, r, evs, skipped))
    }

    /// What the general path reads from `json`, `None` where its walk refuses it.
    fn general(json: &[u8]) -> Option<Read> {
        let mut p = MaxPrivateParser::general_only();
        let h = p.walk(json, 7, instruments()).ok()?;
        let execs = p.execs.clone();
        let (r, evs, skipped, scanned) = run(MaxPrivateParser::general_only(), json);
        assert!(!scanned);
        Some((format!("{h:?}"), execs, r, evs, skipped))
    }

    #[test]
    fn every_order_and_trade_fixture_takes_the_fast_path_and_reads_what_serde_reads() {
        let mut names: Vec<String> = std::fs::read_dir(fixtures())
            .expect("fixtures")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("ws_"))
            .collect();
        names.sort();
        let mut taken = 0;
        for name in &names {
            let json = compact(name);
            match fast(&json) {
                Some(got) => {
                    assert!(HOT.contains(&name.as_str()), "taken: {name}");
                    assert!(got.2.is_ok(), "{name}: {:?}", got.2);
                    assert_eq!(Some(got), general(&json), "{name}");
                    taken += 1;
                }
                None => assert!(!HOT.contains(&name.as_str()), "not taken: {name}"),
            }
        }
        assert_eq!(taken, HOT.len());
    }

    const ORDER: &str = r#"{"c":"user","e":"order_update","o":[{"i":87,"sd":"bid","ot":"limit","p":"21499.0","sp":null,"ap":"AP","S":"wait","M":"ethtwd","T":1,"TU":2,"v":"0.2658","rv":"0.1658","ev":"0.1","tc":1,"gi":null,"ci":"c1"}],"T":3}"#;
    const TRADE: &str = r#"{"c":"user","e":"mwallet_trade_update","t":[{"i":68444,"M":"ethusdt","sd":"ask","p":"P","v":"0.2658","f":"3.2","fc":"twd","fd":false,"fn":"5714.4342","T":1,"TU":2,"m":true,"oi":87}],"T":3}"#;

    /// Two orders, one on a market that is not an instrument, with MAX's 27-digit average.
    const SNAPSHOT: &str = r#"{"c":"user","e":"mwallet_order_snapshot","o":[{"i":1,"sd":"ask","ot":"limit","p":"2112900","sp":null,"ap":"2112833.333333333333333333333333333","v":"0.3","rv":"0","ev":"0.3","S":"done","M":"btctwd","tc":3,"T":1,"TU":2,"gi":null,"ci":null},{"i":2,"sd":"bid","ot":"limit","p":"0.1","sp":null,"ap":"0.0","v":"10","rv":"10","ev":"0","S":"wait","M":"dogetwd","tc":0,"T":1,"TU":2,"gi":7,"ci":"x"}],"T":3}"#;

    #[test]
    fn decimals_take_the_fast_path_only_where_it_reads_them_exactly() {
        let fx = |s: &str| Fixed::parse(s).expect("fixed");
        // (template, placeholder, text, the price the fast path reads; None: not taken).
        let cases: &[(&str, &str, &str, Option<Fixed>)] = &[
            (
                ORDER,
                "AP",
                "2112833.333333333333333333333333333",
                Some(Fixed(211_283_333_333_333)),
            ),
            (ORDER, "AP", "0.000000495687689", Some(Fixed(49))),
            (ORDER, "AP", "0.123456789999", Some(fx("0.12345678"))),
            (
                ORDER,
                "AP",
                "9999999999.99999999",
                Some(fx("9999999999.99999999")),
            ),
            (ORDER, "AP", ".5", Some(fx("0.5"))),
            (ORDER, "AP", "5.", Some(fx("5"))),
            (ORDER, "AP", "0007", Some(fx("7"))),
            (ORDER, "AP", "1.2345678912.5", None),
            (ORDER, "AP", "4.95687689e-7", None),
            (ORDER, "AP", "-1", None),
            (ORDER, "AP", "", None),
            (ORDER, "AP", ".", None),
            (ORDER, "AP", "12345678901", None),
            (ORDER, "AP", "1 ", None),
            (TRADE, "P", "21499.12345678", Some(fx("21499.12345678"))),
            (TRADE, "P", "1.000000000", None),
            (TRADE, "P", "1.123456789", None),
            (TRADE, "P", "0", None),
            (TRADE, "P", "0.0", None),
            (TRADE, "P", "00000000001", None),
            (TRADE, "P", "+1", None),
            (TRADE, "P", "1e2", None),
        ];
        for &(template, at, text, want) in cases {
            let json = template.replacen(at, text, 1);
            let got = fast(json.as_bytes());
            assert_eq!(got.as_ref().map(|g| g.3[0].price), want, "{json}");
            if got.is_some() {
                assert_eq!(got, general(json.as_bytes()), "{json}");
            }
        }
        // `null` decimals are absent to both paths.
        let json = ORDER.replacen(r#""AP""#, "null", 1);
        let got = fast(json.as_bytes()).expect("taken");
        assert_eq!(got.3[0].price, Fixed::ZERO);
        assert_eq!(Some(got), general(json.as_bytes()));
    }

    #[test]
    fn unknown_markets_are_skipped_and_counted_on_the_fast_path() {
        let got = fast(SNAPSHOT.as_bytes()).expect("taken");
        assert_eq!(got.2, Ok(MaxPrivateOutcome::Exec { events: 1 }));
        assert_eq!((got.3[0].exchange_order_id, got.4), (1, 1));
        assert_eq!(got.3[0].price, Fixed(211_283_333_333_333));
        assert_eq!(Some(got), general(SNAPSHOT.as_bytes()));
    }

    #[test]
    fn the_row_cap_is_the_general_paths() {
        let row = r#"{"i":1,"M":"btctwd","sd":"bid","p":"1","v":"1","T":1,"oi":2}"#;
        let frame = |n: usize, unknown: bool| {
            let mut rows = vec![row; n].join(",");
            if unknown {
                rows.push_str(&format!(",{}", row.replace("btctwd", "dogetwd")));
            }
            format!(r#"{{"c":"user","e":"trade_snapshot","t":[{rows}],"T":3}}"#)
        };
        let below = frame(MAX_PRIVATE_ROWS - 1, true);
        let got = fast(below.as_bytes()).expect("taken");
        assert_eq!(
            (got.3.len(), got.4),
            (MAX_PRIVATE_ROWS - 1, 1),
            "events, skipped"
        );
        assert_eq!(Some(got), general(below.as_bytes()));
        let at = frame(MAX_PRIVATE_ROWS, false);
        assert_eq!(fast(at.as_bytes()), None);
        let (r, evs, _, _) = run(MaxPrivateParser::new(), at.as_bytes());
        assert_eq!((r, evs.len()), (Err(ParseError::TooLarge), 0));
    }

    #[test]
    fn it_leaves_everything_else_to_the_general_path() {
        let order = r#"{"i":1,"sd":"bid","S":"wait","M":"btctwd","ev":"0"}"#;
        let trade = r#"{"i":1,"M":"btctwd","sd":"bid","p":"1","v":"1","oi":2}"#;
        for frame in [
            // An account frame, a reply, an error, an event this path is not for.
            r#"{"c":"user","e":"account_update","B":[{"cu":"btc","av":"1","l":"0","TU":1}],"T":1}"#,
            r#"{"e":"authenticated","i":"x","T":1}"#,
            r#"{"e":"error","E":["E-1007: authentication failed"],"i":"x","T":1}"#,
            r#"{"c":"user","e":"ad_ratio_snapshot","T":1}"#,
            r#"{"c":"book","e":"order_update","o":[],"T":1}"#,
            r#"{"e":"order_update","o":[],"T":1}"#,
            // The other row array beside the event's own, balances, an error list.
            &format!(r#"{{"c":"user","e":"order_update","o":[{order}],"t":[{trade}]}}"#),
            &format!(r#"{{"c":"user","e":"trade_update","o":[],"t":[{trade}]}}"#),
            &format!(r#"{{"c":"user","e":"order_update","t":[{trade}]}}"#),
            r#"{"c":"user","e":"order_update","o":[],"B":[]}"#,
            r#"{"c":"user","e":"order_update","o":[],"E":["E-1: x"]}"#,
            // Duplicates, in the frame and in a row.
            r#"{"c":"user","e":"order_update","o":[],"o":[]}"#,
            r#"{"c":"user","c":"user","e":"order_update","o":[]}"#,
            &format!(
                r#"{{"c":"user","e":"order_update","o":[{}]}}"#,
                order.replace(r#""ev":"0""#, r#""ev":"0","ev":"0""#)
            ),
            // Whitespace, an escape, a nested unknown value, trailing bytes, a float id.
            r#"{"c": "user","e":"order_update","o":[]}"#,
            &format!(
                r#"{{"c":"user","e":"order_update","o":[{}]}}"#,
                order.replace("btctwd", r"btc\u0074wd")
            ),
            &format!(
                r#"{{"c":"user","e":"order_update","o":[{}]}}"#,
                order.replace(r#""ev":"0""#, r#""ev":"0","gi":[1]"#)
            ),
            r#"{"c":"user","e":"order_update","o":[]} "#,
            &format!(
                r#"{{"c":"user","e":"order_update","o":[{}]}}"#,
                order.replace(r#""i":1"#, r#""i":1.0"#)
            ),
            // Rows the general path refuses: no state, a bad side, ev above v, a long client id.
            &format!(
                r#"{{"c":"user","e":"order_update","o":[{}]}}"#,
                order.replace(r#""S":"wait","#, "")
            ),
            &format!(
                r#"{{"c":"user","e":"order_update","o":[{}]}}"#,
                order.replace("bid", "long")
            ),
            &format!(
                r#"{{"c":"user","e":"order_update","o":[{}]}}"#,
                order.replace(r#""ev":"0""#, r#""ev":"2","v":"1""#)
            ),
            &format!(
                r#"{{"c":"user","e":"order_update","o":[{}]}}"#,
                order.replace(
                    r#""ev":"0""#,
                    r#""ev":"0","ci":"0123456789012345678901234567890123456789""#
                )
            ),
            &format!(
                r#"{{"c":"user","e":"trade_update","t":[{}]}}"#,
                trade.replace(r#","oi":2"#, "")
            ),
        ] {
            assert_eq!(fast(frame.as_bytes()), None, "taken: {frame}");
        }
    }

    /// Every frame one edit away from real order and trade frames: where the fast path takes
    /// it, both paths read the same header and events and `parse` gives the same outcome.
    #[test]
    fn on_every_single_byte_edit_the_two_paths_agree() {
        let alphabet = b"0123456789-.eE\"{}[],:nulSTUMBopvfaci \\x\x00\xc3";
        let owned: Vec<Vec<u8>> = [
            "ws_order_update_doc.json",
            "ws_mwallet_order_update_cancel_doc.json",
            "ws_trade_update_private_doc.json",
            "ws_fast_trade_update_doc.json",
        ]
        .iter()
        .map(|n| compact(n))
        .chain([SNAPSHOT.as_bytes().to_vec()])
        .collect();
        let frames: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let taken = crate::venue::byte_scan::edits_agree(&frames, alphabet, fast, general);
        assert!(
            taken > 5_000,
            "only {taken} edited frames took the fast path"
        );
    }
}
