//! One captured frame and its record encoding: a `u32` LE body length, then the fixed header
//! (22 bytes, all little-endian), then the frame's bytes exactly as the feed read them.
//!
//! ```text
//! offset size field
//!      0    4 body_len    u32  = 22 + bytes.len()  (not counting these 4 bytes)
//!      4    8 ts_utc_ns   u64  wall-clock receive time, Unix nanoseconds (UTC)
//!     12    8 ts_engine   u64  the engine's monotonic clock at receive
//!     20    1 venue       u8   `Venue` code: 0 Max, 1 BinanceSpot, 2 BinanceFutures, 3 RefRate
//!     21    1 kind        u8   `FrameKind` code (below)
//!     22    4 conn        u32  connection id within the venue
//!     26    n bytes            the frame, byte for byte
//! ```

use crate::model::Venue;

/// Bytes of the fixed header inside a record body (after the length prefix).
pub const RECORD_HEADER_BYTES: usize = 22;
/// The largest frame a record may hold (16 MiB): a longer length is corruption, not a frame.
pub const MAX_FRAME_BYTES: usize = 16 << 20;

/// What a captured frame was. The `u8` codes are part of the file format: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FrameKind {
    /// A WebSocket text message (market data, user streams' text frames).
    WsText = 0,
    /// A WebSocket binary message.
    WsBinary = 1,
    /// A REST depth snapshot body.
    RestSnapshot = 2,
    /// A reference-rate answer (USD/TWD board).
    RefRate = 3,
    /// An order lane's HTTP answer.
    OrderAnswer = 4,
    /// A private (authenticated) stream frame.
    Private = 5,
}

impl FrameKind {
    pub const ALL: [FrameKind; 6] = [
        FrameKind::WsText,
        FrameKind::WsBinary,
        FrameKind::RestSnapshot,
        FrameKind::RefRate,
        FrameKind::OrderAnswer,
        FrameKind::Private,
    ];

    /// The stable on-disk code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The kind of a code; `None` for a code no version wrote.
    pub fn from_code(code: u8) -> Option<FrameKind> {
        FrameKind::ALL.get(usize::from(code)).copied()
    }
}

/// The stable on-disk code of a venue (its `repr(u8)` discriminant).
pub fn venue_code(v: Venue) -> u8 {
    v as u8
}

/// The venue of a code; `None` for a code no version wrote.
pub fn venue_from_code(code: u8) -> Option<Venue> {
    Venue::ALL.iter().copied().find(|v| *v as u8 == code)
}

/// A frame to capture, borrowing the feed's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapturedFrame<'a> {
    pub ts_utc_ns: u64,
    pub ts_engine: u64,
    pub venue: Venue,
    pub conn: u32,
    pub kind: FrameKind,
    pub bytes: &'a [u8],
}

/// A frame read back from a capture, owning its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedFrame {
    pub ts_utc_ns: u64,
    pub ts_engine: u64,
    pub venue: Venue,
    pub conn: u32,
    pub kind: FrameKind,
    pub bytes: Vec<u8>,
}

impl OwnedFrame {
    pub fn as_frame(&self) -> CapturedFrame<'_> {
        CapturedFrame {
            ts_utc_ns: self.ts_utc_ns,
            ts_engine: self.ts_engine,
            venue: self.venue,
            conn: self.conn,
            kind: self.kind,
            bytes: &self.bytes,
        }
    }
}

impl CapturedFrame<'_> {
    pub fn to_owned_frame(&self) -> OwnedFrame {
        OwnedFrame {
            ts_utc_ns: self.ts_utc_ns,
            ts_engine: self.ts_engine,
            venue: self.venue,
            conn: self.conn,
            kind: self.kind,
            bytes: self.bytes.to_vec(),
        }
    }

    /// Bytes the record takes: prefix, header and frame.
    pub fn encoded_len(&self) -> usize {
        4 + RECORD_HEADER_BYTES + self.bytes.len()
    }

    /// Appends the record to `out`. Refuses a frame over [`MAX_FRAME_BYTES`].
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), RecordError> {
        if self.bytes.len() > MAX_FRAME_BYTES {
            return Err(RecordError::FrameTooLarge(self.bytes.len()));
        }
        // Fits: MAX_FRAME_BYTES + 22 < u32::MAX.
        let body_len = (RECORD_HEADER_BYTES + self.bytes.len()) as u32;
        out.reserve(self.encoded_len());
        out.extend_from_slice(&body_len.to_le_bytes());
        out.extend_from_slice(&self.ts_utc_ns.to_le_bytes());
        out.extend_from_slice(&self.ts_engine.to_le_bytes());
        out.push(venue_code(self.venue));
        out.push(self.kind.code());
        out.extend_from_slice(&self.conn.to_le_bytes());
        out.extend_from_slice(self.bytes);
        Ok(())
    }
}

/// Why a record could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record: {have} bytes left, the record needs {need}")]
    Truncated { need: usize, have: usize },
    #[error("record: body length {0} is shorter than the 22-byte header or longer than 16 MiB")]
    BadLength(u32),
    #[error("record: unknown venue code {0}")]
    BadVenue(u8),
    #[error("record: unknown frame kind code {0}")]
    BadKind(u8),
    #[error("record: frame of {0} bytes is over the 16 MiB limit")]
    FrameTooLarge(usize),
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Decodes the record at the start of `buf`: the frame (borrowing `buf`) and the bytes it
/// took. Never panics: short input, a bad length or an unknown code is an error.
pub fn decode(buf: &[u8]) -> Result<(CapturedFrame<'_>, usize), RecordError> {
    if buf.len() < 4 {
        return Err(RecordError::Truncated {
            need: 4,
            have: buf.len(),
        });
    }
    let body_len = u32_at(buf, 0);
    let body = body_len as usize;
    if body < RECORD_HEADER_BYTES || body - RECORD_HEADER_BYTES > MAX_FRAME_BYTES {
        return Err(RecordError::BadLength(body_len));
    }
    let total = 4 + body;
    if buf.len() < total {
        return Err(RecordError::Truncated {
            need: total,
            have: buf.len(),
        });
    }
    let venue = venue_from_code(buf[20]).ok_or(RecordError::BadVenue(buf[20]))?;
    let kind = FrameKind::from_code(buf[21]).ok_or(RecordError::BadKind(buf[21]))?;
    let frame = CapturedFrame {
        ts_utc_ns: u64_at(buf, 4),
        ts_engine: u64_at(buf, 12),
        venue,
        conn: u32_at(buf, 22),
        kind,
        bytes: &buf[4 + RECORD_HEADER_BYTES..total],
    };
    Ok((frame, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> CapturedFrame<'_> {
        CapturedFrame {
            ts_utc_ns: 1_700_000_000_123_456_789,
            ts_engine: 42,
            venue: Venue::BinanceFutures,
            conn: 7,
            kind: FrameKind::RestSnapshot,
            bytes,
        }
    }

    #[test]
    fn round_trips_with_the_documented_layout() {
        let f = frame(b"{\"e\":\"depthUpdate\"}");
        let mut out = Vec::new();
        f.encode_into(&mut out).unwrap();
        assert_eq!(out.len(), f.encoded_len());
        assert_eq!(u32_at(&out, 0) as usize, 22 + f.bytes.len());
        assert_eq!(out[20], 2);
        assert_eq!(out[21], 2);
        assert_eq!(&out[26..], f.bytes);
        let (back, used) = decode(&out).unwrap();
        assert_eq!(back, f);
        assert_eq!(used, out.len());
    }

    #[test]
    fn codes_are_stable() {
        let codes: Vec<u8> = FrameKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5]);
        assert_eq!(FrameKind::from_code(6), None);
        assert_eq!(venue_code(Venue::Max), 0);
        assert_eq!(venue_from_code(3), Some(Venue::RefRate));
        assert_eq!(venue_from_code(4), None);
    }

    #[test]
    fn refuses_bad_lengths_codes_and_short_input() {
        let mut out = Vec::new();
        frame(b"abc").encode_into(&mut out).unwrap();
        for cut in 0..out.len() {
            assert!(matches!(
                decode(&out[..cut]),
                Err(RecordError::Truncated { .. })
            ));
        }
        let mut bad = out.clone();
        bad[0..4].copy_from_slice(&5u32.to_le_bytes());
        assert_eq!(decode(&bad).unwrap_err(), RecordError::BadLength(5));
        let mut bad = out.clone();
        bad[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&bad).unwrap_err(), RecordError::BadLength(u32::MAX));
        let mut bad = out.clone();
        bad[20] = 9;
        assert_eq!(decode(&bad).unwrap_err(), RecordError::BadVenue(9));
        let mut bad = out;
        bad[21] = 200;
        assert_eq!(decode(&bad).unwrap_err(), RecordError::BadKind(200));
    }

    #[test]
    fn refuses_a_frame_over_the_limit() {
        let big = vec![0u8; MAX_FRAME_BYTES + 1];
        let mut out = Vec::new();
        assert_eq!(
            frame(&big).encode_into(&mut out),
            Err(RecordError::FrameTooLarge(MAX_FRAME_BYTES + 1))
        );
        assert!(out.is_empty());
    }
}
