//! The byte cursor the venues' fast paths share: readers for the strict subset of JSON the
//! exchanges actually write (no whitespace, no escapes, printable ASCII strings, integers without
//! sign or fraction, decimals as quoted `digits(.digits)?`), each returning `None` on anything
//! else so the caller hands the frame to its general (serde) path. What a reader accepts it
//! reads to exactly the value the general path gives; the venues' differential tests and fuzz
//! targets check that.

use crate::model::fixed::DECIMALS;
use crate::model::{Fixed, Level, SCALE};

/// `10^(DECIMALS - digits)`: the scale of a fraction of `digits` digits.
const FRACTION_SCALE: [u64; 9] = [
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// Integer digits read at most: 10 digits times [`SCALE`] stay below `i64::MAX`.
const MAX_INT_DIGITS: usize = 10;

/// A position in one frame. Every reader returns `None` on anything outside the subset it
/// accepts; the caller then leaves the whole frame to its general path.
pub(crate) struct Cursor<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) i: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Cursor { b, i: 0 }
    }

    /// Whether every byte was read.
    pub(crate) fn at_end(&self) -> bool {
        self.i == self.b.len()
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    pub(crate) fn eat(&mut self, lit: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + lit.len())? == lit {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    /// The bytes of a string whose opening quote was just read, up to the closing quote:
    /// printable ASCII only, as the venues write them (escapes, control characters and other
    /// bytes — which the general path must check for UTF-8 — are left to the general path).
    #[inline]
    pub(crate) fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        let rest = self.b.get(start..)?;
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))?;
        if rest[len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        Some(&rest[..len])
    }

    /// A quoted string.
    #[inline]
    pub(crate) fn quoted(&mut self) -> Option<&'a [u8]> {
        self.eat(b"\"")?;
        self.string()
    }

    /// An unsigned JSON integer that fits `u64`: digits, no leading zero, no fraction or
    /// exponent (those are floats to the general path).
    #[inline]
    pub(crate) fn unsigned(&mut self) -> Option<u64> {
        let rest = self.b.get(self.i..)?;
        let len = rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        if len == 0 || (len > 1 && rest[0] == b'0') {
            return None;
        }
        if matches!(rest.get(len), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let mut v: u64 = 0;
        for &d in &rest[..len] {
            v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        self.i += len;
        Some(v)
    }

    /// A plain scalar of a key this path does not use: a string, a number, `true`, `false` or
    /// `null`. Numbers are checked for JSON syntax; nested values are not this path's.
    pub(crate) fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.quoted().map(|_| ()),
            b't' => self.eat(b"true"),
            b'f' => self.eat(b"false"),
            b'n' => self.eat(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// A JSON number by the grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    pub(crate) fn number(&mut self) -> Option<()> {
        let digits = |c: &mut Self| {
            let n = c.b[c.i..].iter().take_while(|b| b.is_ascii_digit()).count();
            c.i += n;
            n
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        Some(())
    }

    /// A quoted unsigned decimal, read exactly in the same pass that finds its end:
    /// `digits(.digits)?` (or `.digits`) with at most [`MAX_INT_DIGITS`] integer and [`DECIMALS`]
    /// fractional digits — every price and quantity Binance sends. Anything else (a sign, an
    /// exponent, a ninth fractional digit, a longer integer, an escape) is `None`, and the general
    /// path reads the frame with [`Fixed::read`], whose value this equals wherever both accept.
    #[inline]
    pub(crate) fn decimal(&mut self) -> Option<Fixed> {
        self.decimal_with::<false>()
    }

    /// [`Cursor::decimal`] for a computed quotient read under
    /// [`crate::model::DecimalRule::UNSIGNED_TRUNCATING`] (MAX's average price `ap`, sent with up
    /// to 27 fractional digits): fractional digits beyond the [`DECIMALS`]th must still be digits
    /// and are dropped, toward zero, as [`Fixed::read`] drops them.
    #[inline]
    pub(crate) fn decimal_truncating(&mut self) -> Option<Fixed> {
        self.decimal_with::<true>()
    }

    /// The reader behind [`Cursor::decimal`] and [`Cursor::decimal_truncating`].
    #[inline(always)]
    fn decimal_with<const TRUNCATE: bool>(&mut self) -> Option<Fixed> {
        let b = self.b;
        if b.get(self.i) != Some(&b'"') {
            return None;
        }
        let mut i = self.i + 1;
        let mut int: u64 = 0;
        let start = i;
        while let Some(&d) = b.get(i) {
            if !d.is_ascii_digit() {
                break;
            }
            int = int * 10 + u64::from(d - b'0');
            i += 1;
            if i - start > MAX_INT_DIGITS {
                return None;
            }
        }
        let int_digits = i - start;
        let (mut frac, mut frac_digits) = (0u64, 0usize);
        if b.get(i) == Some(&b'.') {
            i += 1;
            while let Some(&d) = b.get(i) {
                if !d.is_ascii_digit() {
                    break;
                }
                if frac_digits == DECIMALS as usize {
                    if !TRUNCATE {
                        return None;
                    }
                } else {
                    frac = frac * 10 + u64::from(d - b'0');
                    frac_digits += 1;
                }
                i += 1;
            }
        }
        if b.get(i) != Some(&b'"') || int_digits + frac_digits == 0 {
            return None;
        }
        self.i = i + 1;
        let raw = int * SCALE as u64 + frac * FRACTION_SCALE[frac_digits];
        Some(Fixed(raw as i64))
    }

    /// `{"key":value,…}` (or `{}`): `field` gets each key with the cursor at its value, and
    /// reads the value.
    #[inline]
    pub(crate) fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.eat(b"{")?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.quoted()?;
            self.eat(b":")?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `[item,…]` (or `[]`): `item` reads each element.
    #[inline]
    pub(crate) fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b"[")?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `[["price","qty"],…]` (cleared first): prices above zero, quantities above zero or zero (a
    /// zero removes the level), exactly two strings per level, at most `cap` levels.
    pub(crate) fn levels(&mut self, out: &mut Vec<Level>, cap: usize) -> Option<()> {
        out.clear();
        self.array(|c| {
            c.eat(b"[")?;
            let price = c.decimal()?;
            c.eat(b",")?;
            let qty = c.decimal()?;
            c.eat(b"]")?;
            if price.raw() <= 0 || qty.raw() < 0 || out.len() >= cap {
                return None;
            }
            out.push(Level { price, qty });
            Some(())
        })
    }
}

/// Marks the known key `bit` as met in `seen`; `None` when it was met before (a duplicate key is
/// the general path's to refuse). A `bit` of 0 (an unknown key) is never a duplicate.
#[inline]
pub(crate) fn first_time(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

/// Every frame one edit away from each of `frames` — each byte deleted, and each byte of
/// `alphabet` put in place of and before every byte — read by both paths of a scanner: where
/// `fast` reads one, `general` must read the same. Returns how many edits `fast` read, for the
/// scanners' differential tests.
/// `json` with every whitespace byte outside strings removed: the compact layout exchanges send
/// and the scanners read (pretty-printed documents made wire-like, for tests and benches).
pub fn compact_json(json: &[u8]) -> Vec<u8> {
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

#[cfg(test)]
pub(crate) fn edits_agree<R: PartialEq + std::fmt::Debug>(
    frames: &[&[u8]],
    alphabet: &[u8],
    fast: impl Fn(&[u8]) -> Option<R>,
    general: impl Fn(&[u8]) -> Option<R>,
) -> usize {
    let mut taken = 0;
    for base in frames {
        for i in 0..base.len() {
            let mut edits = vec![[&base[..i], &base[i + 1..]].concat()];
            for &c in alphabet {
                edits.push([&base[..i], &[c], &base[i + 1..]].concat());
                edits.push([&base[..i], &[c], &base[i..]].concat());
            }
            for e in edits {
                if let Some(got) = fast(&e) {
                    taken += 1;
                    assert_eq!(Some(got), general(&e), "{}", String::from_utf8_lossy(&e));
                }
            }
        }
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_json_keeps_strings_whole() {
        let pretty = b"{\n  \"a b\": [1, 2],\n  \"q\": \"x \\\" y\"\n}";
        assert_eq!(
            compact_json(pretty),
            br#"{"a b":[1,2],"q":"x \" y"}"#.to_vec()
        );
    }
}
