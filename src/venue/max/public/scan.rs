//! The fast path: a byte scanner for MAX book and trade frames as MAX writes them —
//! `{"c":"book","e":"snapshot"|"update","M":…,"a":[…],"b":[…],"T":…,"fi":…,"li":…,"v":…}` and
//! `{"c":"trade","e":…,"M":…,"t":[{"p":…,"v":…,"T":…,"tr":"up"|"down"},…],"T":…}`, compact,
//! keys in any order — reading the decimal strings straight into fixed point.
//!
//! It accepts the strict subset [`Cursor`] reads (no whitespace, no escapes, plain integers,
//! decimals as `digits(.digits)?`), only the keys a book frame carries plus unknown keys with a
//! scalar value, each known key once, levels of exactly two strings, at most
//! [`MAX_LEVELS_PER_SIDE`] per side, at most [`MAX_FRAME_TRADES`] trades each with a price,
//! a volume and a side. On anything else — another channel, a reply,
//! a nested unknown value, a refused number or decimal, trailing bytes — it answers "not mine"
//! and the general path reads the frame from the start; where it does accept, it reads exactly
//! the header and levels the general path reads (checked by the differential tests and the
//! `max_public` fuzz target).

use super::{Header, MAX_FRAME_TRADES, MAX_LEVELS_PER_SIDE, PubTrade};
use crate::model::{Level, Side};
use crate::venue::byte_scan::{Cursor, first_time};

/// The known keys, one bit each (duplicates go to the general path, which refuses them).
const C: u32 = 1;
const E: u32 = 1 << 1;
const M: u32 = 1 << 2;
const T: u32 = 1 << 3;
const FI: u32 = 1 << 4;
const LI: u32 = 1 << 5;
const V: u32 = 1 << 6;
const B: u32 = 1 << 7;
const A: u32 = 1 << 8;
const TRADES: u32 = 1 << 9;

/// Reads `json` if it is a book or trade frame of MAX's layout; `None`: use the general path.
/// The buffers are cleared first and may hold partial rows after a `None`.
pub(super) fn frame<'f>(
    json: &'f [u8],
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    trades: &mut Vec<PubTrade>,
) -> Option<Header<'f>> {
    bids.clear();
    asks.clear();
    trades.clear();
    let mut c = Cursor::new(json);
    let mut h = Header::default();
    let mut seen = 0u32;
    c.object(|c, key| {
        let bit = match key {
            b"c" => C,
            b"e" => E,
            b"M" => M,
            b"T" => T,
            b"fi" => FI,
            b"li" => LI,
            b"v" => V,
            b"b" => B,
            b"a" => A,
            b"t" => TRADES,
            // Error lists are the general path's.
            b"E" => return None,
            _ => 0,
        };
        first_time(&mut seen, bit)?;
        match bit {
            C => h.c = Some(text(c.quoted()?)?),
            E => h.e = Some(text(c.quoted()?)?),
            M => h.m = Some(text(c.quoted()?)?),
            T => h.t = Some(c.unsigned()?),
            FI => h.fi = Some(c.unsigned()?),
            LI => h.li = Some(c.unsigned()?),
            V => h.v = Some(c.unsigned()?),
            B => c.levels(bids, MAX_LEVELS_PER_SIDE)?,
            A => c.levels(asks, MAX_LEVELS_PER_SIDE)?,
            TRADES => trade_rows(c, trades)?,
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    let fits = match h.c {
        Some("book") => seen & TRADES == 0,
        Some("trade") => seen & (B | A) == 0,
        _ => false,
    };
    if !c.at_end() || !fits || !matches!(h.e, Some("snapshot" | "update")) {
        return None;
    }
    Some(h)
}

/// `[{"p":"…","v":"…","T":…,"tr":"up"|"down"},…]`: each key once, `p` and `v` above zero,
/// `tr` present, scalar unknown keys skipped.
fn trade_rows(c: &mut Cursor, out: &mut Vec<PubTrade>) -> Option<()> {
    c.array(|c| {
        let (mut p, mut v, mut side, mut ts) = (None, None, None, None);
        let mut seen = 0u32;
        c.object(|c, key| {
            match key {
                b"p" => {
                    first_time(&mut seen, 1)?;
                    p = Some(c.decimal()?)
                }
                b"v" => {
                    first_time(&mut seen, 2)?;
                    v = Some(c.decimal()?)
                }
                b"T" => {
                    first_time(&mut seen, 4)?;
                    ts = Some(c.unsigned()?)
                }
                b"tr" => {
                    first_time(&mut seen, 8)?;
                    side = Some(match c.quoted()? {
                        b"up" => Side::Buy,
                        b"down" => Side::Sell,
                        _ => return None,
                    })
                }
                _ => c.skip_scalar()?,
            }
            Some(())
        })?;
        let (price, qty, side) = (p?, v?, side?);
        if price.raw() <= 0 || qty.raw() <= 0 || out.len() >= MAX_FRAME_TRADES {
            return None;
        }
        out.push(PubTrade {
            price,
            qty,
            side,
            ts: ts.unwrap_or(0),
        });
        Some(())
    })
}

/// A string the cursor read (printable ASCII, so always UTF-8).
#[inline]
fn text(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

#[cfg(test)]
mod tests {
    use super::super::MaxPublicParser;
    use super::*;

    type Read = (String, Vec<Level>, Vec<Level>, Vec<PubTrade>);

    /// What the general path reads from `json`: its header, levels and trades, or `None` on an
    /// error.
    fn general(json: &[u8]) -> Option<Read> {
        let mut p = MaxPublicParser::general_only();
        p.trades.clear();
        let h = p.walk(json).ok()?;
        Some((
            format!("{h:?}"),
            p.bids.clone(),
            p.asks.clone(),
            p.trades.clone(),
        ))
    }

    fn fast(json: &[u8]) -> Option<Read> {
        let (mut bids, mut asks, mut trades) = (Vec::new(), Vec::new(), Vec::new());
        let h = frame(json, &mut bids, &mut asks, &mut trades)?;
        Some((format!("{h:?}"), bids, asks, trades))
    }

    const FRAMES: &[&str] = &[
        r#"{"c":"book","e":"snapshot","M":"btcusdt","a":[["5337.3","0.1"]],"b":[["5333.3","0.5"]],"T":1591869939634,"fi":12141725,"li":12141725,"v":1725602999632}"#,
        r#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[["5333.3","0"],["5333.2","1.25"]],"T":1591869939635,"fi":12141726,"li":12141727,"v":1725602999632}"#,
        r#"{"c":"book","e":"snapshot","M":"usdttwd","a":[],"b":[],"T":1,"fi":1,"li":1,"v":2,"x":null}"#,
        r#"{"c":"trade","e":"update","M":"btcusdt","t":[{"p":"5337.3","v":"0.1","T":1591869939634,"tr":"up"},{"p":"5337.2","v":"2","T":1591869939635,"tr":"down"}],"T":1591869939636}"#,
    ];

    #[test]
    fn the_fast_path_takes_book_frames_and_reads_what_the_general_path_reads() {
        for frame in FRAMES {
            let got = fast(frame.as_bytes()).unwrap_or_else(|| panic!("not taken: {frame}"));
            assert_eq!(Some(got), general(frame.as_bytes()), "{frame}");
        }
    }

    #[test]
    fn it_leaves_everything_else_to_the_general_path() {
        for frame in [
            // A trade without a side, a trade frame with levels, a reply, an error, whitespace,
            // an escape, a duplicate key, a float id, a nested unknown value, trailing bytes, a
            // third level element, another event.
            r#"{"c":"trade","e":"update","M":"btcusdt","t":[{"p":"1","v":"1","T":1}],"T":1}"#,
            r#"{"c":"trade","e":"update","M":"btcusdt","t":[],"b":[],"T":1}"#,
            r#"{"e":"subscribed","s":[{"channel":"book","market":"btcusdt","depth":50}],"i":"x","T":1}"#,
            r#"{"e":"error","E":["E-1004: invalid action"],"i":"","T":1}"#,
            r#"{"c": "book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            r#"{"c":"book","e":"update","M":"btc\u0075sdt","a":[],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            r#"{"c":"book","e":"update","M":"btcusdt","a":[],"a":[],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            r#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1.5,"fi":1,"li":1,"v":1}"#,
            r#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"x":[1],"T":1,"fi":1,"li":1,"v":1}"#,
            r#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"fi":1,"li":1,"v":1} "#,
            r#"{"c":"book","e":"update","M":"btcusdt","a":[["1","1","x"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            r#"{"c":"book","e":"delta","M":"btcusdt","a":[],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            r#"{"c":"ticker","e":"update","M":"btcusdt","T":1}"#,
        ] {
            assert_eq!(fast(frame.as_bytes()), None, "taken: {frame}");
        }
    }

    /// Every frame one edit away from a book frame: where the fast path takes it, it reads what
    /// the general path reads, and it never takes a frame the general path refuses.
    #[test]
    fn on_every_single_byte_edit_the_two_paths_agree() {
        let alphabet = b"0123456789-.eE\"{}[],:abcMTfilv \\x\x00\xc3";
        let frames: Vec<&[u8]> = FRAMES.iter().map(|f| f.as_bytes()).collect();
        let taken = crate::venue::byte_scan::edits_agree(&frames, alphabet, fast, general);
        assert!(
            taken > 1_000,
            "only {taken} edited frames took the fast path"
        );
    }
}
