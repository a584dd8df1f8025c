//! Capture of the frames the feeds read, for deterministic replay and backtests (issue 15):
//! the on-disk format, its writer ([`CaptureWriter`]) and its reader ([`CaptureReader`],
//! [`info`]), and the feeds' way into it: [`CaptureTx`] hands a frame to the capture
//! thread ([`CaptureThread`]) without ever waiting.
//!
//! # Files
//!
//! A capture is a directory of files `capture-YYYYMMDDTHHMMSSZ-NNNN.arbcap`, named after the
//! UTC time of their first record and a sequence number, so name order is capture order. A
//! file holds records of one UTC hour at most and is closed once it reaches `max_file_bytes`.
//! All integers are little-endian.
//!
//! ```text
//! file    = header block* [index trailer]         (no index/trailer: the writer died)
//! header  = "ARBCAP\0\x01"   8 bytes magic
//!           version          u16 = 1
//!           json_len         u32 (<= 1 MiB)
//!           json             {"instruments": [str], "config_hash": u64, "start_utc_ns": u64}
//! block   = magic            u32 = "ABLK"
//!           compressed_len   u32 (> 0)
//!           uncompressed_len u32 (> 0, <= 64 MiB)
//!           record_count     u32 (> 0)
//!           first_ts         u64  ts_utc_ns of the block's first record
//!           last_ts          u64  largest ts_utc_ns in the block
//!           crc32            u32  CRC-32 (IEEE, crc32fast) of the compressed bytes
//!           compressed       one zstd frame of the concatenated records
//! record  = body_len         u32 = 22 + n
//!           ts_utc_ns        u64  receive time, Unix ns
//!           ts_engine        u64  engine monotonic clock
//!           venue            u8   0 Max, 1 BinanceSpot, 2 BinanceFutures, 3 RefRate
//!           kind             u8   0 WsText, 1 WsBinary, 2 RestSnapshot, 3 RefRate,
//!                                 4 OrderAnswer, 5 Private
//!           conn             u32  connection id
//!           bytes            n bytes (n <= 16 MiB): the frame exactly, or for three
//!                                 kinds the frame with what it does not say ([`payload`])
//! index   = magic            u32 = "AIDX"
//!           block_count      u32
//!           records          u64
//!           uncompressed     u64  sum of uncompressed_len
//!           first_ts         u64
//!           last_ts          u64
//!           (offset u64, first_ts u64) per block, offset from the start of the file
//!           crc32            u32  of the index bytes before it
//! trailer = index_offset     u64
//!           "ARBCEND\0"      8 bytes
//! ```
//!
//! Records are buffered and written as a block when `block_bytes` (256 KiB) of them are
//! waiting or on [`CaptureWriter::flush`]. A reader seeks by the trailer and the index; a file
//! without them is read block by block from its header. A block that is cut, fails its
//! checksum or does not decode ends the capture there, after every earlier record
//! ([`TornBlock`]).

pub mod error;
pub mod format;
pub mod info;
pub mod payload;
pub mod queue;
pub mod reader;
pub mod record;
pub mod thread;
pub mod writer;

pub use error::{CaptureError, TearReason, TornBlock};
pub use format::{FileHeader, Footer};
pub use info::{CaptureInfo, Gap, info};
pub use queue::{CaptureCounts, CaptureTx, capture_queue};
pub use reader::CaptureReader;
pub use record::{CapturedFrame, FrameKind, OwnedFrame, RecordError};
pub use thread::{CaptureReport, CaptureThread};
pub use writer::{CaptureOptions, CaptureWriter, capture_files};
