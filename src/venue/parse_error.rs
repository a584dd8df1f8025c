//! Why a frame could not be used. Every variant is counted by the feed that met it; the frame is
//! dropped whole, never half-applied, and the engine goes on.

use crate::model::{DecimalError, DecimalRule, Fixed};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not valid JSON, or not the JSON shape this message type has.
    Json,
    /// A required field is absent.
    MissingField(&'static str),
    /// A decimal field holds something that is not an exact decimal (NaN, exponent, overflow).
    BadDecimal {
        field: &'static str,
        err: DecimalError,
    },
    /// A field has a value outside its enumeration or range (an unknown side, a negative id).
    BadValue(&'static str),
    /// The symbol or market is not one this engine trades or watches.
    UnknownSymbol,
    /// An event or channel name this parser does not know.
    UnknownEvent,
    /// The frame is larger than the parser's buffers accept.
    TooLarge,
    /// A known key appears twice in one object: which value is meant cannot be known, so the
    /// frame is refused rather than read as the first, the last or both.
    DuplicateField(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Json => f.write_str("malformed JSON or unexpected shape"),
            ParseError::MissingField(n) => write!(f, "missing field `{n}`"),
            ParseError::BadDecimal { field, err } => write!(f, "field `{field}`: {err}"),
            ParseError::BadValue(n) => write!(f, "field `{n}` has an invalid value"),
            ParseError::UnknownSymbol => f.write_str("unknown symbol"),
            ParseError::UnknownEvent => f.write_str("unknown event or channel"),
            ParseError::TooLarge => f.write_str("frame too large"),
            ParseError::DuplicateField(n) => write!(f, "field `{n}` appears more than once"),
        }
    }
}

impl std::error::Error for ParseError {}

/// The one way a venue parser reads a decimal string: [`Fixed::read`] under `rule`, with the
/// error naming `field`. A `-` in an unsigned field is [`ParseError::BadValue`] (a value out of
/// the field's range, as a zero price is); every other refusal is [`ParseError::BadDecimal`].
#[inline]
pub fn decimal(field: &'static str, s: &[u8], rule: DecimalRule) -> Result<Fixed, ParseError> {
    Fixed::read(s, rule).map_err(|err| match err {
        DecimalError::Sign => ParseError::BadValue(field),
        err => ParseError::BadDecimal { field, err },
    })
}
