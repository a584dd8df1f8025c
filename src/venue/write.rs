//! Small helpers for writing wire JSON into a reused buffer without allocating.

use crate::model::{Fixed, Level};
use std::io::Write;

/// Appends `"<decimal>"`.
#[inline]
pub fn dec(out: &mut Vec<u8>, v: Fixed) {
    let mut b = [0u8; 24];
    out.push(b'"');
    out.extend_from_slice(v.write_to(&mut b).as_bytes());
    out.push(b'"');
}

/// Appends `"<decimal>"` with exactly `decimals` fractional digits (Binance spot style).
#[inline]
pub fn dec_fixed(out: &mut Vec<u8>, v: Fixed, decimals: u32) {
    let neg = v.raw() < 0;
    let raw = v.raw().unsigned_abs();
    let int = raw / crate::model::SCALE as u64;
    let frac = raw % crate::model::SCALE as u64;
    let frac = frac / 10u64.pow(crate::model::fixed::DECIMALS - decimals.min(8));
    out.push(b'"');
    if neg {
        out.push(b'-');
    }
    let _ = write!(out, "{int}");
    if decimals > 0 {
        let _ = write!(out, ".{:0width$}", frac, width = decimals.min(8) as usize);
    }
    out.push(b'"');
}

#[inline]
pub fn int(out: &mut Vec<u8>, v: impl itoa_like::Int) {
    v.write(out);
}

/// Appends `[["p","q"],…]`.
pub fn levels(out: &mut Vec<u8>, ls: &[Level], fixed_decimals: Option<u32>) {
    out.push(b'[');
    for (i, l) in ls.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        match fixed_decimals {
            Some(d) => {
                dec_fixed(out, l.price, d);
                out.push(b',');
                dec_fixed(out, l.qty, d);
            }
            None => {
                dec(out, l.price);
                out.push(b',');
                dec(out, l.qty);
            }
        }
        out.push(b']');
    }
    out.push(b']');
}

/// Appends a JSON string, escaping what JSON requires.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.bytes() {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            c if c < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c);
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

pub mod itoa_like {
    use std::io::Write;
    pub trait Int {
        fn write(self, out: &mut Vec<u8>);
    }
    impl Int for u64 {
        fn write(self, out: &mut Vec<u8>) {
            let _ = write!(out, "{self}");
        }
    }
    impl Int for i64 {
        fn write(self, out: &mut Vec<u8>) {
            let _ = write!(out, "{self}");
        }
    }
    impl Int for u32 {
        fn write(self, out: &mut Vec<u8>) {
            let _ = write!(out, "{self}");
        }
    }
}
