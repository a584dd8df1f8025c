//! Fixed-point decimals parsed straight from the exchange's decimal strings.
//!
//! Every price and quantity in arbline is an `i64` count of 10⁻⁸ units (`SCALE`). Both venues
//! send decimals as JSON strings with at most 8 fractional digits (Binance spot uses exactly 8,
//! MAX's finest precision is 8), so parsing is exact: no `f64` round trip ever touches an order.
//! `f64` appears only where a scanner computes statistics ([`Fixed::to_f64`]).

use std::fmt;

/// Fractional digits carried by every [`Fixed`].
pub const DECIMALS: u32 = 8;
/// `10^DECIMALS`.
pub const SCALE: i64 = 100_000_000;

/// Why a decimal string was refused. Each variant is a parse-boundary error: the frame that
/// carried it is counted as a parse error and dropped, never half-applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Empty input, or only a sign or a dot.
    Empty,
    /// A byte that is not a digit, a leading sign or one dot (`NaN`, `inf`, `1e5`, `1,5`, ...).
    InvalidChar,
    /// More than [`DECIMALS`] non-zero fractional digits: the value cannot be held exactly.
    TooManyDecimals,
    /// The value does not fit in an `i64` of 10⁻⁸ units (about ±9.2·10¹⁰).
    Overflow,
    /// A `-` in a field that cannot be negative (a price, a volume, a balance, a fee).
    Sign,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            DecimalError::Empty => "empty decimal",
            DecimalError::InvalidChar => "invalid character in decimal (NaN, exponent or junk)",
            DecimalError::TooManyDecimals => "more than 8 significant fractional digits",
            DecimalError::Overflow => "decimal out of range",
            DecimalError::Sign => "sign in a field that cannot be negative",
        };
        f.write_str(what)
    }
}

impl std::error::Error for DecimalError {}

/// What a field's decimal text may hold beyond `digits(.digits)?`: see [`Fixed::read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecimalRule {
    /// A leading `-` is allowed (a P&L, a config offset); never a `+`.
    pub signed: bool,
    /// Fractional digits beyond the 8th are dropped toward zero instead of refused: only for
    /// fields the venue documents as computed quotients or dust (MAX `ap`, `avg_price`, account
    /// balances). They must still be digits.
    pub truncate: bool,
}

impl DecimalRule {
    /// Prices, volumes, fees: no sign, exact.
    pub const UNSIGNED: DecimalRule = DecimalRule {
        signed: false,
        truncate: false,
    };
    /// Exact, and may be negative.
    pub const SIGNED: DecimalRule = DecimalRule {
        signed: true,
        truncate: false,
    };
    /// No sign; digits beyond the 8th decimal dropped.
    pub const UNSIGNED_TRUNCATING: DecimalRule = DecimalRule {
        signed: false,
        truncate: true,
    };
}

/// A signed fixed-point decimal with 8 fractional digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fixed(pub i64);

impl Fixed {
    pub const ZERO: Fixed = Fixed(0);
    pub const ONE: Fixed = Fixed(SCALE);
    pub const MAX: Fixed = Fixed(i64::MAX);

    /// Reads a decimal under `rule`: ASCII digits with at most one `.` and at least one digit,
    /// preceded by `-` only when `rule.signed`. Nothing else is a decimal: no `+`, no exponent,
    /// no spaces, no trailing byte of any kind ([`DecimalError::InvalidChar`], or
    /// [`DecimalError::Sign`] for a `-` in an unsigned field).
    ///
    /// Fractional digits beyond the 8th must be zeros ([`DecimalError::TooManyDecimals`]
    /// otherwise) unless `rule.truncate`, where they are dropped (toward zero) — but still read
    /// and checked to be digits, so `"1.2345678912.5"` or `"4.95687689e-7"` stay errors.
    #[inline]
    pub fn read(s: &[u8], rule: DecimalRule) -> Result<Fixed, DecimalError> {
        let (neg, digits) = match s.first() {
            None => return Err(DecimalError::Empty),
            Some(b'-') if rule.signed => (true, &s[1..]),
            Some(b'-') => return Err(DecimalError::Sign),
            Some(_) => (false, s),
        };
        let mut int: i64 = 0;
        let mut frac: i64 = 0;
        let mut frac_digits: u32 = 0;
        let mut seen_dot = false;
        let mut seen_digit = false;
        for &b in digits {
            match b {
                b'0'..=b'9' => {
                    seen_digit = true;
                    let d = (b - b'0') as i64;
                    if seen_dot {
                        if frac_digits < DECIMALS {
                            frac = frac * 10 + d;
                            frac_digits += 1;
                        } else if d != 0 && !rule.truncate {
                            return Err(DecimalError::TooManyDecimals);
                        }
                    } else {
                        int = int
                            .checked_mul(10)
                            .and_then(|v| v.checked_add(d))
                            .ok_or(DecimalError::Overflow)?;
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                _ => return Err(DecimalError::InvalidChar),
            }
        }
        if !seen_digit {
            return Err(DecimalError::Empty);
        }
        frac *= 10i64.pow(DECIMALS - frac_digits);
        let raw = int
            .checked_mul(SCALE)
            .and_then(|v| v.checked_add(frac))
            .ok_or(DecimalError::Overflow)?;
        Ok(Fixed(if neg { -raw } else { raw }))
    }

    /// [`Fixed::read`] with [`DecimalRule::SIGNED`]: `-?digits(.digits)?`, exact.
    #[inline]
    pub fn parse_bytes(s: &[u8]) -> Result<Fixed, DecimalError> {
        Fixed::read(s, DecimalRule::SIGNED)
    }

    /// The text of a JSON *number* (not a string) that a venue computes in floating point and
    /// prints with an exponent or float noise (MAX `/markets` `min_base_amount`: `8.0e-05`,
    /// `0.00028000000000000003`), rounded half-up to 8 decimals, never through `f64`: the
    /// mantissa's digits are shifted by the exponent in decimal. Unsigned: `-` is
    /// [`DecimalError::Sign`]. Grammar: `digits(.digits)?([eE][+-]?digits)?`.
    pub fn from_json_number(s: &[u8]) -> Result<Fixed, DecimalError> {
        if s.first() == Some(&b'-') {
            return Err(DecimalError::Sign);
        }
        let (mantissa, exp) = match s.iter().position(|&b| b == b'e' || b == b'E') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let exp: i64 = match exp {
            None => 0,
            Some(e) => {
                let (neg, d) = match e.first() {
                    Some(b'-') => (true, &e[1..]),
                    Some(b'+') => (false, &e[1..]),
                    _ => (false, e),
                };
                if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
                    return Err(DecimalError::InvalidChar);
                }
                // Saturate beyond the input's length: with |exp| > len + 64 a non-zero
                // mantissa is out of range (exp > 0) or rounds to 0 (exp < 0) either way.
                let limit = s.len() as i64 + 64;
                let mut v: i64 = 0;
                for &b in d {
                    v = (v * 10 + (b - b'0') as i64).min(limit);
                }
                if neg { -v } else { v }
            }
        };
        let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, &mantissa[..0]),
        };
        if int.is_empty()
            || (mantissa.len() > int.len() && frac.is_empty())
            || !int.iter().chain(frac).all(u8::is_ascii_digit)
        {
            return Err(DecimalError::InvalidChar);
        }
        // digit k of `int ++ frac` has weight 10^(point - 1 - k); the result counts 10^-8 units,
        // so it is made of the digits with k < point + 8, and digit point + 8 rounds.
        let point = int.len() as i64 + exp;
        let keep = point + DECIMALS as i64;
        let digit = |k: i64| -> i64 {
            let k = k as usize;
            if k < int.len() {
                (int[k] - b'0') as i64
            } else if k - int.len() < frac.len() {
                (frac[k - int.len()] - b'0') as i64
            } else {
                0
            }
        };
        let n = (int.len() + frac.len()) as i64;
        let mut raw: i64 = 0;
        for k in 0..keep.min(n) {
            raw = raw
                .checked_mul(10)
                .and_then(|v| v.checked_add(digit(k)))
                .ok_or(DecimalError::Overflow)?;
        }
        for _ in n..keep {
            if raw == 0 {
                break;
            }
            raw = raw.checked_mul(10).ok_or(DecimalError::Overflow)?;
        }
        if keep >= 0 && keep < n && digit(keep) >= 5 {
            raw = raw.checked_add(1).ok_or(DecimalError::Overflow)?;
        }
        Ok(Fixed(raw))
    }

    #[inline]
    pub fn parse(s: &str) -> Result<Fixed, DecimalError> {
        Fixed::parse_bytes(s.as_bytes())
    }

    /// A whole number of units.
    pub const fn from_int(v: i64) -> Fixed {
        Fixed(v * SCALE)
    }

    /// Statistics only: never feed the result back into an order without [`Fixed::from_f64_floor`]
    /// or [`Fixed::from_f64_ceil`] onto a tick.
    #[inline]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// The largest multiple of `step` not above `v`; `None` for NaN, infinities or overflow.
    #[inline]
    pub fn from_f64_floor(v: f64, step: Fixed) -> Option<Fixed> {
        Self::from_f64_with(v, step, f64::floor)
    }

    /// The smallest multiple of `step` not below `v`; `None` for NaN, infinities or overflow.
    #[inline]
    pub fn from_f64_ceil(v: f64, step: Fixed) -> Option<Fixed> {
        Self::from_f64_with(v, step, f64::ceil)
    }

    #[inline]
    fn from_f64_with(v: f64, step: Fixed, round: fn(f64) -> f64) -> Option<Fixed> {
        if !v.is_finite() || step.0 <= 0 {
            return None;
        }
        let steps = round(v * SCALE as f64 / step.0 as f64);
        if steps.abs() >= (i64::MAX / step.0) as f64 {
            return None;
        }
        Some(Fixed(steps as i64 * step.0))
    }

    #[inline]
    pub fn raw(self) -> i64 {
        self.0
    }
    #[inline]
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
    #[inline]
    pub fn abs(self) -> Fixed {
        Fixed(self.0.abs())
    }
    #[inline]
    pub fn checked_add(self, o: Fixed) -> Option<Fixed> {
        self.0.checked_add(o.0).map(Fixed)
    }
    #[inline]
    pub fn checked_sub(self, o: Fixed) -> Option<Fixed> {
        self.0.checked_sub(o.0).map(Fixed)
    }
    /// `self × o`, rounded toward zero, computed in `i128` so no intermediate overflows.
    #[inline]
    pub fn checked_mul(self, o: Fixed) -> Option<Fixed> {
        let p = self.0 as i128 * o.0 as i128 / SCALE as i128;
        i64::try_from(p).ok().map(Fixed)
    }
    /// `self ÷ o`, rounded toward zero; `None` on division by zero or overflow.
    #[inline]
    pub fn checked_div(self, o: Fixed) -> Option<Fixed> {
        if o.0 == 0 {
            return None;
        }
        let q = self.0 as i128 * SCALE as i128 / o.0 as i128;
        i64::try_from(q).ok().map(Fixed)
    }
    /// True when `self` is a whole multiple of `step` (a tick or a lot).
    #[inline]
    pub fn is_multiple_of(self, step: Fixed) -> bool {
        step.0 > 0 && self.0 % step.0 == 0
    }
    /// `10^-precision` as a step; precision may be negative (MAX's SHIB: `-3` → 1000).
    /// `None` when the step is finer than 10⁻⁸ or does not fit (any `i32`, `i32::MIN` included).
    pub fn step_from_precision(precision: i32) -> Option<Fixed> {
        let exp = (DECIMALS as i32).checked_sub(precision)?;
        10i64.checked_pow(u32::try_from(exp).ok()?).map(Fixed)
    }

    /// `(self + o) / 2` rounded toward zero, computed without overflow for any two values.
    #[inline]
    pub fn midpoint(self, o: Fixed) -> Fixed {
        Fixed(self.0.midpoint(o.0))
    }

    /// Writes the canonical decimal text (no trailing zeros, at least one digit) into `out`
    /// and returns the used prefix. No allocation: `out` is caller-owned.
    pub fn write_to(self, out: &mut [u8; 24]) -> &str {
        let mut tmp = [0u8; 24];
        let mut n = 0;
        let neg = self.0 < 0;
        let mut v = self.0.unsigned_abs();
        let mut frac = v % SCALE as u64;
        v /= SCALE as u64;
        let mut frac_len = DECIMALS as usize;
        while frac_len > 0 && frac.is_multiple_of(10) {
            frac /= 10;
            frac_len -= 1;
        }
        for _ in 0..frac_len {
            tmp[n] = b'0' + (frac % 10) as u8;
            frac /= 10;
            n += 1;
        }
        if frac_len > 0 {
            tmp[n] = b'.';
            n += 1;
        }
        loop {
            tmp[n] = b'0' + (v % 10) as u8;
            v /= 10;
            n += 1;
            if v == 0 {
                break;
            }
        }
        if neg {
            tmp[n] = b'-';
            n += 1;
        }
        for i in 0..n {
            out[i] = tmp[n - 1 - i];
        }
        // SAFETY-free: only ASCII digits, '.', '-' were written.
        std::str::from_utf8(&out[..n]).unwrap_or("0")
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        f.pad(self.write_to(&mut buf))
    }
}

impl fmt::Debug for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A price in quote-currency units.
pub type Price = Fixed;
/// A quantity in base-currency units.
pub type Qty = Fixed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exchange_strings_exactly() {
        let cases: &[(&str, i64)] = &[
            ("0.35210000", 35_210_000),
            ("672.00000000", 67_200_000_000),
            ("7.6110", 761_100_000),
            ("2", 200_000_000),
            ("0", 0),
            ("0.000", 0),
            ("31.5", 3_150_000_000),
            ("-1.25", -125_000_000),
            (".5", 50_000_000),
            ("0.00000001", 1),
            ("0.0000000100", 1),
        ];
        for (s, raw) in cases {
            assert_eq!(Fixed::parse(s), Ok(Fixed(*raw)), "{s}");
        }
    }

    #[test]
    fn rejects_what_cannot_be_exact() {
        let cases: &[(&str, DecimalError)] = &[
            ("", DecimalError::Empty),
            ("-", DecimalError::Empty),
            (".", DecimalError::Empty),
            ("NaN", DecimalError::InvalidChar),
            ("inf", DecimalError::InvalidChar),
            ("1e5", DecimalError::InvalidChar),
            ("8.0e-05", DecimalError::InvalidChar),
            ("1.2.3", DecimalError::InvalidChar),
            (" 1", DecimalError::InvalidChar),
            ("0.000000001", DecimalError::TooManyDecimals),
            ("99999999999999999999", DecimalError::Overflow),
            ("92233720368.54775808", DecimalError::Overflow),
        ];
        for (s, e) in cases {
            assert_eq!(Fixed::parse(s), Err(*e), "{s:?}");
        }
    }

    #[test]
    fn one_contract_for_every_field() {
        let u = DecimalRule::UNSIGNED;
        let t = DecimalRule::UNSIGNED_TRUNCATING;
        // Truncating fields drop digits beyond the 8th, toward zero, and nothing else.
        assert_eq!(
            Fixed::read(b"2112833.333333333333333333333333333", t),
            Ok(Fixed(211_283_333_333_333))
        );
        assert_eq!(Fixed::read(b"0.000000495687689", t), Ok(Fixed(49)));
        // Issue 12's inputs: junk after (or among) the digits is an error, never a cut point.
        for s in [
            "4.95687689e-7",
            "1.00000000e+20",
            "1.2345678912.5",
            ".29106575x",
            "1.123456789x",
            "1.1234567891 ",
        ] {
            assert_eq!(
                Fixed::read(s.as_bytes(), t),
                Err(DecimalError::InvalidChar),
                "{s}"
            );
            assert!(Fixed::read(s.as_bytes(), u).is_err(), "{s}");
        }
        // Signs: `-` only where the field allows it, `+` never.
        assert_eq!(Fixed::read(b"-1", u), Err(DecimalError::Sign));
        assert_eq!(Fixed::read(b"-0", t), Err(DecimalError::Sign));
        assert_eq!(Fixed::read(b"-1", DecimalRule::SIGNED), Ok(Fixed(-SCALE)));
        assert_eq!(Fixed::parse("+1"), Err(DecimalError::InvalidChar));
        assert_eq!(Fixed::read(b"+1", u), Err(DecimalError::InvalidChar));
        assert_eq!(
            Fixed::read(b"--1", DecimalRule::SIGNED),
            Err(DecimalError::InvalidChar)
        );
        // Exact fields keep refusing a ninth significant decimal.
        assert_eq!(
            Fixed::read(b"1.123456789", u),
            Err(DecimalError::TooManyDecimals)
        );
        assert_eq!(Fixed::read(b"1.123456789", t), Ok(Fixed(112_345_678)));
    }

    #[test]
    fn json_numbers_are_read_from_their_text() {
        let n = |s: &str| Fixed::from_json_number(s.as_bytes());
        // Issue 12: through f64 this was 70126511.59999999.
        assert_eq!(n("70126511.6"), Ok(Fixed(7_012_651_160_000_000)));
        assert_eq!(n("8.0e-05"), Ok(Fixed(8_000)));
        assert_eq!(n("8E-5"), Ok(Fixed(8_000)));
        assert_eq!(n("0.00028000000000000003"), Ok(Fixed(28_000)));
        assert_eq!(n("0.29999999999999999"), Ok(Fixed(30_000_000)));
        assert_eq!(n("250"), Ok(Fixed::from_int(250)));
        assert_eq!(n("250.0"), Ok(Fixed::from_int(250)));
        assert_eq!(n("1.5e+3"), Ok(Fixed::from_int(1500)));
        assert_eq!(n("5e-9"), Ok(Fixed(1)));
        assert_eq!(n("4.9e-9"), Ok(Fixed(0)));
        assert_eq!(n("1e-100000000000"), Ok(Fixed(0)));
        assert_eq!(n("0e100000000000"), Ok(Fixed(0)));
        assert_eq!(n("92233720368.54775807"), Ok(Fixed::MAX));
        assert_eq!(n("92233720368.547758075"), Err(DecimalError::Overflow));
        assert_eq!(n("1e11"), Err(DecimalError::Overflow));
        assert_eq!(n("1e100000000000"), Err(DecimalError::Overflow));
        assert_eq!(n("-1"), Err(DecimalError::Sign));
        for bad in [
            "", "e5", "1e", "1e+", ".5", "5.", "1.2.3", "1x", "NaN", "1e5.0",
        ] {
            assert_eq!(n(bad), Err(DecimalError::InvalidChar), "{bad:?}");
        }
    }

    #[test]
    fn precision_and_midpoint_cannot_overflow() {
        assert_eq!(Fixed::step_from_precision(i32::MIN), None);
        assert_eq!(Fixed::step_from_precision(i32::MAX), None);
        assert_eq!(
            Fixed::step_from_precision(-10),
            Some(Fixed::from_int(10_000_000_000))
        );
        assert_eq!(Fixed::step_from_precision(-11), None);
        assert_eq!(Fixed::step_from_precision(8), Some(Fixed(1)));
        assert_eq!(Fixed::step_from_precision(9), None);
        let near = Fixed::parse("50000000000").unwrap();
        assert_eq!(near.midpoint(near), near);
        assert_eq!(Fixed::MAX.midpoint(Fixed::MAX), Fixed::MAX);
        assert_eq!(Fixed(3).midpoint(Fixed(4)), Fixed(3));
        assert_eq!(Fixed(-3).midpoint(Fixed(-4)), Fixed(-3));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "0",
            "1",
            "0.1",
            "31.512",
            "-2.5",
            "0.00000001",
            "92233720368.54775807",
        ] {
            assert_eq!(Fixed::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn arithmetic_and_rounding_to_ticks() {
        let p = Fixed::parse("31.5").unwrap();
        let q = Fixed::parse("100").unwrap();
        assert_eq!(p.checked_mul(q), Some(Fixed::from_int(3150)));
        assert_eq!(Fixed::from_int(3150).checked_div(q), Some(p));
        let tick = Fixed::parse("0.001").unwrap();
        assert_eq!(
            Fixed::from_f64_floor(31.50049, tick),
            Fixed::parse("31.5").ok()
        );
        assert_eq!(
            Fixed::from_f64_ceil(31.50001, tick),
            Fixed::parse("31.501").ok()
        );
        assert_eq!(Fixed::from_f64_floor(f64::NAN, tick), None);
        assert_eq!(Fixed::step_from_precision(-3), Some(Fixed::from_int(1000)));
        assert_eq!(Fixed::step_from_precision(3), Some(tick));
        assert!(Fixed::parse("31.501").unwrap().is_multiple_of(tick));
        assert!(!Fixed::parse("31.5015").unwrap().is_multiple_of(tick));
    }
}
