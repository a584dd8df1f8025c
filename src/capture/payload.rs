//! What a record's bytes hold, by kind. Most kinds are the frame exactly as read; three carry
//! what the frame alone does not say:
//!
//! ```text
//! WsText, WsBinary, Private   the WebSocket message, byte for byte
//! RestSnapshot                SYMBOL ' ' body         the depth body does not name its market
//! RefRate                     SYMBOL ' ' MID ' ' MS   the provider's answer as the engine took it:
//!                                                     instrument, mid rate (decimal), the
//!                                                     board's time (Unix ms); the bank's and
//!                                                     TAIFEX's pages differ and are fetched by a
//!                                                     fallback chain, the rate is what counts
//! OrderAnswer                 sent_utc_ns u64 LE, status u16 LE, the HTTP body
//!                                                     the request's send time makes the
//!                                                     answer an ack latency sample
//! ```

use crate::model::Fixed;

/// A record's bytes do not have the layout of their kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("capture payload: {kind} record without {what}")]
    Missing {
        kind: &'static str,
        what: &'static str,
    },
    #[error("capture payload: {kind} record has a bad {what}")]
    Bad {
        kind: &'static str,
        what: &'static str,
    },
}

/// A REST depth snapshot's record: `SYMBOL body`.
pub fn snapshot_record(out: &mut Vec<u8>, symbol: &str, body: &[u8]) {
    out.extend_from_slice(symbol.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body);
}

/// The market and body of a snapshot record.
pub fn split_snapshot(bytes: &[u8]) -> Result<(&str, &[u8]), PayloadError> {
    let missing = PayloadError::Missing {
        kind: "RestSnapshot",
        what: "a market before the body",
    };
    let sp = bytes.iter().position(|b| *b == b' ').ok_or(missing)?;
    let symbol = std::str::from_utf8(&bytes[..sp])
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric()))
        .ok_or(PayloadError::Bad {
            kind: "RestSnapshot",
            what: "market",
        })?;
    Ok((symbol, &bytes[sp + 1..]))
}

/// A reference rate's record: `SYMBOL MID MS`.
pub fn refrate_record(out: &mut Vec<u8>, symbol: &str, mid: Fixed, board_ms: u64) {
    use std::io::Write;
    let _ = write!(out, "{symbol} {mid} {board_ms}");
}

/// The instrument, mid rate and board time of a reference-rate record.
pub fn parse_refrate(bytes: &[u8]) -> Result<(&str, Fixed, u64), PayloadError> {
    let bad = |what| PayloadError::Bad {
        kind: "RefRate",
        what,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("text"))?;
    let mut parts = text.split(' ');
    let symbol = parts
        .next()
        .filter(|s| !s.is_empty())
        .ok_or(bad("symbol"))?;
    let mid = parts
        .next()
        .and_then(|m| Fixed::parse(m).ok())
        .filter(|m| m.raw() > 0)
        .ok_or(bad("mid rate"))?;
    let ms = parts
        .next()
        .and_then(|m| m.parse::<u64>().ok())
        .ok_or(bad("board time"))?;
    if parts.next().is_some() {
        return Err(bad("field count"));
    }
    Ok((symbol, mid, ms))
}

/// An order answer's record: send time, HTTP status, body.
pub fn order_answer_record(out: &mut Vec<u8>, sent_utc_ns: u64, status: u16, body: &[u8]) {
    out.extend_from_slice(&sent_utc_ns.to_le_bytes());
    out.extend_from_slice(&status.to_le_bytes());
    out.extend_from_slice(body);
}

/// An order answer's send time (Unix ns), HTTP status and body.
pub fn split_order_answer(bytes: &[u8]) -> Result<(u64, u16, &[u8]), PayloadError> {
    if bytes.len() < 10 {
        return Err(PayloadError::Missing {
            kind: "OrderAnswer",
            what: "its send time and status",
        });
    }
    let mut t = [0u8; 8];
    t.copy_from_slice(&bytes[..8]);
    let status = u16::from_le_bytes([bytes[8], bytes[9]]);
    Ok((u64::from_le_bytes(t), status, &bytes[10..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_payload_reads_back_what_was_written() {
        let mut b = Vec::new();
        snapshot_record(&mut b, "BTCUSDT", br#"{"lastUpdateId":1}"#);
        assert_eq!(
            split_snapshot(&b).unwrap(),
            ("BTCUSDT", &br#"{"lastUpdateId":1}"#[..])
        );
        b.clear();
        refrate_record(
            &mut b,
            "USDTWD",
            Fixed::parse("31.525").unwrap(),
            1_767_225_600_000,
        );
        assert_eq!(b, b"USDTWD 31.525 1767225600000");
        assert_eq!(
            parse_refrate(&b).unwrap(),
            ("USDTWD", Fixed::parse("31.525").unwrap(), 1_767_225_600_000)
        );
        b.clear();
        order_answer_record(&mut b, 123, 201, b"{}");
        assert_eq!(split_order_answer(&b).unwrap(), (123, 201, &b"{}"[..]));
    }

    #[test]
    fn malformed_payloads_are_errors() {
        assert!(split_snapshot(b"{\"lastUpdateId\":1}").is_err());
        assert!(split_snapshot(b" {}").is_err());
        assert!(parse_refrate(b"USDTWD abc 1").is_err());
        assert!(parse_refrate(b"USDTWD 0 1").is_err());
        assert!(parse_refrate(b"USDTWD 31.5").is_err());
        assert!(parse_refrate(b"USDTWD 31.5 1 2").is_err());
        assert!(split_order_answer(b"short").is_err());
    }
}
