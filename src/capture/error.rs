//! [`CaptureError`] and [`TornBlock`]: what can go wrong writing or reading a capture, and
//! where a file stops being readable.

use super::record::RecordError;
use crate::model::FileError;
use std::fmt;
use std::path::PathBuf;

/// Why a block (or the footer after the blocks) could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TearReason {
    /// The file ends inside the block header or its compressed bytes.
    Short { need: u64, have: u64 },
    /// The bytes where a block (or the footer) should start are neither.
    BadMagic(u32),
    /// The header's lengths or count are impossible (zero, over the limits).
    BadLengths { compressed: u32, uncompressed: u32 },
    /// The CRC-32 of the compressed bytes is not the one in the header.
    Checksum { expected: u32, actual: u32 },
    /// zstd refused the bytes, or they did not expand to the stated length.
    Decompress(String),
    /// The checksum held but a record inside is malformed, or the records do not match the
    /// header's count and timestamps.
    BadRecord(String),
    /// A footer index starts here but is cut or fails its checksum.
    BadFooter,
}

impl fmt::Display for TearReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TearReason::Short { need, have } => write!(f, "short: {have} of {need} bytes"),
            TearReason::BadMagic(m) => write!(f, "bad magic {m:#010x}"),
            TearReason::BadLengths {
                compressed,
                uncompressed,
            } => write!(f, "bad lengths {compressed} / {uncompressed}"),
            TearReason::Checksum { expected, actual } => {
                write!(f, "checksum {actual:#010x}, header says {expected:#010x}")
            }
            TearReason::Decompress(e) => write!(f, "decompress: {e}"),
            TearReason::BadRecord(e) => write!(f, "records: {e}"),
            TearReason::BadFooter => write!(f, "footer index cut or corrupt"),
        }
    }
}

/// Where reading stopped: everything before `offset` in `file` (and in earlier files) was
/// delivered; nothing after it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("torn capture {} at byte {offset}: {reason}", .file.display())]
pub struct TornBlock {
    pub file: PathBuf,
    pub offset: u64,
    pub reason: TearReason,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    File(#[from] FileError),
    /// The file does not start with a capture header this version reads.
    #[error("capture {}: {reason}", .file.display())]
    BadHeader { file: PathBuf, reason: String },
    #[error(transparent)]
    Torn(#[from] TornBlock),
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A record's time cannot be written as a file name (past year 9999).
    #[error("capture: timestamp {0} ns is out of range")]
    TimeOutOfRange(u64),
    #[error("capture: compress: {0}")]
    Compress(#[source] std::io::Error),
    #[error("capture: cannot start its thread: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("capture: its thread panicked")]
    Panicked,
}
