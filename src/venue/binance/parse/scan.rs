//! The fast path: a byte scanner for the hot Binance frames as Binance writes them —
//! `bookTicker`, `depthUpdate`, `aggTrade` and `trade`, raw or in the combined-stream envelope
//! `{"stream":"…","data":{…}}` — that reads decimal strings straight into fixed point.
//!
//! It accepts a strict subset of JSON: no whitespace, no escapes, keys in any order, only the
//! payload keys those events carry (`e E s U u pu b B a A p q t m`) plus unknown keys with a
//! plain scalar value (`T`, `st`, `ps`, `f`, `l`, `M`, …), every value valid by the same rules as
//! the general path. On
//! anything else — another event, a duplicate key, a nested value it does not expect, a number
//! or decimal the general path would refuse, trailing bytes — it answers "not mine" and the
//! general (serde) path parses the frame from the start, so correctness never depends on this
//! file: what it accepts, it reads into exactly the [`Fields`] and levels the general path
//! produces (checked on every fixture and on mutated frames by the differential tests, and by
//! the `binance_ws` fuzz target).

use super::fields::{Event, Fields, Key};
use crate::model::Level;
use crate::model::instrument::SYMBOL_CAP;
use crate::venue::byte_scan::{Cursor, first_time};

/// Reads `json` if it is a frame of the fast path's shape; `None`: use the general path. The
/// level buffers are cleared first and may hold partial levels after a `None`.
pub(super) fn scan(json: &[u8], bids: &mut Vec<Level>, asks: &mut Vec<Level>) -> Option<Fields> {
    bids.clear();
    asks.clear();
    let mut c = Cursor::new(json);
    let mut f = Fields::default();
    const WRAPPER: &[u8] = br#"{"stream":""#;
    if json.starts_with(WRAPPER) {
        c.i = WRAPPER.len();
        c.string()?;
        c.eat(br#","data":"#)?;
        f.is_payload = true;
        payload(&mut c, &mut f, bids, asks)?;
        c.eat(b"}")?;
    } else {
        payload(&mut c, &mut f, bids, asks)?;
    }
    if !c.at_end() {
        return None;
    }
    // Only the events this path is for; the general path handles every other one.
    match f.event {
        Event::DepthUpdate | Event::BookTicker | Event::AggTrade | Event::Trade => Some(f),
        // Spot bookTicker: `{u,s,b,B,a,A}` with no `e` (recognised after the walk).
        Event::None if f.symbol_len > 0 && f.last_id.is_some() => Some(f),
        _ => None,
    }
}

/// Reads a REST depth snapshot body (`{"lastUpdateId":…,"E":…,"T":…,"bids":[…],"asks":[…]}`,
/// spot without the times) if it has exactly that shape, every level live (quantity above
/// zero, as a snapshot's must be); `None`: use the general path. The level buffers are cleared
/// first and may hold partial levels after a `None`.
pub(super) fn snapshot(
    json: &[u8],
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
) -> Option<Fields> {
    bids.clear();
    asks.clear();
    let mut c = Cursor::new(json);
    let mut f = Fields::default();
    let mut seen: u32 = 0;
    c.object(|c, key| {
        let key = Key::from_bytes(key);
        first_time(&mut seen, key.bit())?;
        match key {
            Key::LastUpdateId => f.last_update_id = Some(c.unsigned()?),
            Key::EventTime => f.event_ms = Some(c.unsigned()?),
            Key::Bids => {
                f.has_bids_rest = true;
                c.levels(bids, usize::MAX)?;
            }
            Key::Asks => {
                f.has_asks_rest = true;
                c.levels(asks, usize::MAX)?;
            }
            Key::Other => c.skip_scalar()?,
            _ => return None,
        }
        Some(())
    })?;
    let live = |l: &Level| l.qty.raw() > 0;
    if !c.at_end() || !bids.iter().all(live) || !asks.iter().all(live) {
        return None;
    }
    Some(f)
}

/// `{…}`: the event's fields. Every known key once; a value of the wrong type, a refused
/// decimal or number, or a key this path does not handle is `None`.
fn payload(
    c: &mut Cursor,
    f: &mut Fields,
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
) -> Option<()> {
    let mut seen: u32 = 0;
    c.object(|c, key| {
        let key = Key::from_bytes(key);
        first_time(&mut seen, key.bit())?;
        match key {
            Key::EventType => f.event = Event::from_name(c.quoted()?),
            Key::Symbol => {
                let s = c.quoted()?;
                if s.len() > SYMBOL_CAP {
                    return None;
                }
                f.symbol[..s.len()].copy_from_slice(s);
                f.symbol_len = s.len();
            }
            Key::EventTime => f.event_ms = Some(c.unsigned()?),
            Key::FirstId => f.first_id = Some(c.unsigned()?),
            Key::LastId => f.last_id = Some(c.unsigned()?),
            Key::PrevId => {
                // `pu` is -1 when there is no previous event (COIN-M); `-0` is left to serde.
                f.prev_id = Some(if c.eat(b"-").is_some() {
                    let v = c.unsigned()?;
                    if v == 0 {
                        return None;
                    }
                    0i64.checked_sub_unsigned(v)?
                } else {
                    i64::try_from(c.unsigned()?).ok()?
                });
            }
            Key::B | Key::A if c.peek()? == b'[' => {
                let (out, has) = if key == Key::B {
                    (&mut *bids, &mut f.has_bids)
                } else {
                    (&mut *asks, &mut f.has_asks)
                };
                *has = true;
                c.levels(out, usize::MAX)?;
            }
            // `a` of an aggTrade: its id.
            Key::A if c.peek()?.is_ascii_digit() => f.agg_id = Some(c.unsigned()?),
            Key::B => f.bid = Some(c.decimal()?),
            Key::BidQty => f.bid_qty = Some(c.decimal()?),
            Key::A => f.ask = Some(c.decimal()?),
            Key::AskQty => f.ask_qty = Some(c.decimal()?),
            Key::Price => f.price = Some(c.decimal()?),
            Key::Qty => f.qty = Some(c.decimal()?),
            Key::TradeId => f.trade_id = Some(c.unsigned()?),
            Key::BuyerMaker => {
                f.buyer_maker = Some(match c.peek()? {
                    b't' => c.eat(b"true").map(|_| true)?,
                    b'f' => c.eat(b"false").map(|_| false)?,
                    _ => return None,
                })
            }
            Key::Other => c.skip_scalar()?,
            _ => return None,
        }
        Some(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::BinanceParser;
    use super::*;
    use crate::venue::binance::BinanceMarket;
    use crate::venue::byte_scan::edits_agree;

    /// What the general path reads from `json`: its fields and levels, or `None` on an error.
    fn general(json: &[u8]) -> Option<(Fields, Vec<Level>, Vec<Level>)> {
        let mut p = BinanceParser::general_only(BinanceMarket::Futures);
        let f = p.walk(json).ok()?;
        Some((f, p.bids.clone(), p.asks.clone()))
    }

    fn fast(json: &[u8]) -> Option<(Fields, Vec<Level>, Vec<Level>)> {
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        let f = scan(json, &mut bids, &mut asks)?;
        Some((f, bids, asks))
    }

    const FRAMES: &[&str] = &[
        r#"{"stream":"ethusdt@bookTicker","data":{"e":"bookTicker","u":1553413152520,"s":"ETHUSDT","b":"1778.54","B":"15.164","a":"1778.55","A":"7.289","T":1653817855284,"E":1653817855289}}"#,
        r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1622371244693,"T":1622371244687,"s":"BTCUSDT","U":475776377463,"u":475776380184,"pu":475776377452,"b":[["35729.77","1.600"],["35750.00","0.000"]],"a":[]}}"#,
        r#"{"stream":"nknusdt@bookTicker","data":{"u":499869768,"s":"NKNUSDT","b":"0.35210000","B":"672.00000000","a":"0.35260000","A":"3199.00000000"}}"#,
        r#"{"e":"depthUpdate","E":1,"s":"BTCUSD_PERP","U":5,"u":7,"pu":-1,"b":[],"a":[["1.5","2"]],"st":"x","ps":null,"nq":1.5e3}"#,
        r#"{"stream":"sushiusdt@aggTrade","data":{"e":"aggTrade","E":1626992744262,"a":87353230,"s":"SUSHIUSDT","p":"7.6120","q":"297","f":126902924,"l":126902924,"T":1626992744257,"m":false}}"#,
        r#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}"#,
    ];

    #[test]
    fn the_fast_path_takes_the_hot_frames_and_reads_what_the_general_path_reads() {
        for frame in FRAMES {
            let got = fast(frame.as_bytes()).unwrap_or_else(|| panic!("not taken: {frame}"));
            assert_eq!(Some(got), general(frame.as_bytes()), "{frame}");
        }
    }

    #[test]
    fn it_leaves_everything_else_to_the_general_path() {
        for frame in [
            // Another event, a reply, whitespace, an escape, a duplicate key, a float id, a
            // nested unknown value, trailing bytes, a bad decimal, a zero price, non-ASCII, a
            // quoted boolean.
            r#"{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1}}"#,
            r#"{"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1","q":"1","m":"true"}"#,
            r#"{"result":null,"id":1}"#,
            r#"{"e": "bookTicker","u":1,"s":"BTCUSDT","b":"1","B":"1","a":"1","A":"1"}"#,
            r#"{"e":"bookTicker","u":1,"s":"BTC\u0055SDT","b":"1","B":"1","a":"1","A":"1"}"#,
            r#"{"e":"bookTicker","u":1,"u":2,"s":"BTCUSDT","b":"1","B":"1","a":"1","A":"1"}"#,
            r#"{"e":"bookTicker","u":1.0,"s":"BTCUSDT","b":"1","B":"1","a":"1","A":"1"}"#,
            r#"{"e":"bookTicker","u":1,"s":"BTCUSDT","x":{},"b":"1","B":"1","a":"1","A":"1"}"#,
            r#"{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1","B":"1","a":"1","A":"1"}x"#,
            r#"{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1e3","B":"1","a":"1","A":"1"}"#,
            r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["0","1"]],"a":[]}"#,
            "{\"e\":\"bookTicker\",\"u\":1,\"s\":\"BTC\u{e9}\",\"b\":\"1\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}",
            r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"pu":-0,"b":[],"a":[]}"#,
            r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":01,"u":2,"b":[],"a":[]}"#,
        ] {
            assert_eq!(fast(frame.as_bytes()), None, "taken: {frame}");
        }
    }

    /// A REST snapshot, and every edit of one, reads as the general path reads it.
    #[test]
    fn snapshots_read_what_the_general_path_reads() {
        let body = br#"{"lastUpdateId":1027024,"E":1589436922972,"T":1589436922959,"bids":[["4.00000000","431.00000000"],["3.9","1"]],"asks":[["4.00000200","12.00000000"]]}"#;
        let fast_snapshot = |json: &[u8]| {
            let (mut bids, mut asks) = (Vec::new(), Vec::new());
            let f = snapshot(json, &mut bids, &mut asks)?;
            Some((f, bids, asks))
        };
        assert_eq!(fast_snapshot(body), general(body), "the whole body");
        assert!(fast_snapshot(body).is_some(), "taken");
        let zero = br#"{"lastUpdateId":1,"bids":[["4","0"]],"asks":[]}"#;
        assert_eq!(
            fast_snapshot(zero),
            None,
            "a zero quantity is the general path's to refuse"
        );
        let taken = edits_agree(
            &[body],
            b"0123456789-.\"{}[],:abdsx ",
            fast_snapshot,
            general,
        );
        assert!(
            taken > 500,
            "only {taken} edited snapshots took the fast path"
        );
    }

    /// The one-pass decimal reader equals `Fixed::read` wherever it accepts, and leaves the
    /// rest (signs, exponents, ninth decimals, eleven-digit integers) to the general path.
    #[test]
    fn decimals_read_in_one_pass_equal_the_general_reader() {
        let mut taken = 0;
        for d in [
            "1",
            "0",
            "0.0",
            "1.",
            ".5",
            "0001",
            "00.10",
            "1778.54",
            "0.35210000",
            "672.00000000",
            "9999999999.99999999",
            "99999999999",
            "1.123456789",
            "1.123456780",
            "-1",
            "1e3",
            "",
            ".",
            "1..2",
            "1.2.3",
            "+1",
            " 1",
        ] {
            let frame = format!(
                r#"{{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"{d}","B":"1","a":"2","A":"{d}"}}"#
            );
            let got = fast(frame.as_bytes());
            if got.is_some() {
                taken += 1;
                assert_eq!(got, general(frame.as_bytes()), "{d:?}");
            }
        }
        assert_eq!(taken, 11, "the plain decimals take the fast path");
    }

    /// Every frame one edit away from a hot frame: where the fast path takes it, it reads what
    /// the general path reads, and it never takes a frame the general path refuses.
    #[test]
    fn on_every_single_byte_edit_the_two_paths_agree() {
        let alphabet = b"0123456789-.eE\"{}[],:aAbBsuU \\x\x00\xc3";
        let frames: Vec<&[u8]> = FRAMES.iter().map(|f| f.as_bytes()).collect();
        let taken = edits_agree(&frames, alphabet, fast, general);
        // Many edits keep a valid hot frame (another digit, another symbol letter).
        assert!(
            taken > 1_000,
            "only {taken} edited frames took the fast path"
        );
    }
}
