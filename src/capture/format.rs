//! The byte layout of a capture file's header, block headers and footer (see the module
//! documentation for the whole file), encoded and decoded without panicking on any input.

use super::error::TearReason;
use serde::{Deserialize, Serialize};

/// The first 8 bytes of every capture file.
pub const FILE_MAGIC: [u8; 8] = *b"ARBCAP\0\x01";
/// The format version after the magic.
pub const FORMAT_VERSION: u16 = 1;
/// The JSON header's length limit (1 MiB).
pub const MAX_JSON_HEADER: usize = 1 << 20;
/// `"ABLK"` read as a `u32` LE: the start of a block.
pub const BLOCK_MAGIC: u32 = u32::from_le_bytes(*b"ABLK");
/// Bytes of a block header.
pub const BLOCK_HEADER_BYTES: usize = 36;
/// A block's uncompressed limit (64 MiB): larger is corruption.
pub const MAX_BLOCK_BYTES: u32 = 64 << 20;
/// `"AIDX"` read as a `u32` LE: the start of the footer index.
pub const INDEX_MAGIC: u32 = u32::from_le_bytes(*b"AIDX");
/// Fixed part of the index: magic, count, records, uncompressed bytes, first and last ts.
pub const INDEX_FIXED_BYTES: usize = 40;
/// The last 8 bytes of a closed file.
pub const TRAILER_MAGIC: [u8; 8] = *b"ARBCEND\0";
/// Bytes of the trailer: index offset `u64` LE, then [`TRAILER_MAGIC`].
pub const TRAILER_BYTES: usize = 16;

/// The JSON header of a file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHeader {
    /// The instruments the engine ran with (their symbols).
    pub instruments: Vec<String>,
    /// A hash of the configuration, to match a capture with the run that made it.
    pub config_hash: u64,
    /// `ts_utc_ns` of the file's first record.
    pub start_utc_ns: u64,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Magic, version, JSON length and JSON.
pub fn encode_file_header(h: &FileHeader) -> Vec<u8> {
    let json = serde_json::to_vec(h).expect("a FileHeader always serialises");
    let mut out = Vec::with_capacity(14 + json.len());
    out.extend_from_slice(&FILE_MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out
}

/// The header at the start of `buf` and its length, or why it is not one.
pub fn decode_file_header(buf: &[u8]) -> Result<(FileHeader, usize), String> {
    if buf.len() < 14 {
        return Err(format!("{} bytes, shorter than a file header", buf.len()));
    }
    if buf[..8] != FILE_MAGIC {
        return Err("not a capture file (bad magic)".into());
    }
    let version = u16::from_le_bytes([buf[8], buf[9]]);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, this build reads {FORMAT_VERSION}"
        ));
    }
    let len = u32_at(buf, 10) as usize;
    if len > MAX_JSON_HEADER || buf.len() - 14 < len {
        return Err(format!("JSON header of {len} bytes is cut or too long"));
    }
    let h = serde_json::from_slice(&buf[14..14 + len]).map_err(|e| format!("JSON header: {e}"))?;
    Ok((h, 14 + len))
}

/// The header in front of a block's compressed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    pub compressed_len: u32,
    pub uncompressed_len: u32,
    pub record_count: u32,
    pub first_ts: u64,
    pub last_ts: u64,
    /// CRC-32 (IEEE, crc32fast) of the compressed bytes.
    pub crc32: u32,
}

impl BlockHeader {
    pub fn encode(&self) -> [u8; BLOCK_HEADER_BYTES] {
        let mut out = [0u8; BLOCK_HEADER_BYTES];
        out[0..4].copy_from_slice(&BLOCK_MAGIC.to_le_bytes());
        out[4..8].copy_from_slice(&self.compressed_len.to_le_bytes());
        out[8..12].copy_from_slice(&self.uncompressed_len.to_le_bytes());
        out[12..16].copy_from_slice(&self.record_count.to_le_bytes());
        out[16..24].copy_from_slice(&self.first_ts.to_le_bytes());
        out[24..32].copy_from_slice(&self.last_ts.to_le_bytes());
        out[32..36].copy_from_slice(&self.crc32.to_le_bytes());
        out
    }

    /// The header at the start of `buf` (whose magic the caller has seen).
    pub fn decode(buf: &[u8]) -> Result<BlockHeader, TearReason> {
        if buf.len() < BLOCK_HEADER_BYTES {
            return Err(TearReason::Short {
                need: BLOCK_HEADER_BYTES as u64,
                have: buf.len() as u64,
            });
        }
        let magic = u32_at(buf, 0);
        if magic != BLOCK_MAGIC {
            return Err(TearReason::BadMagic(magic));
        }
        let h = BlockHeader {
            compressed_len: u32_at(buf, 4),
            uncompressed_len: u32_at(buf, 8),
            record_count: u32_at(buf, 12),
            first_ts: u64_at(buf, 16),
            last_ts: u64_at(buf, 24),
            crc32: u32_at(buf, 32),
        };
        let bad_len = h.compressed_len == 0
            || h.uncompressed_len == 0
            || h.uncompressed_len > MAX_BLOCK_BYTES
            || h.record_count == 0
            || h.record_count > h.uncompressed_len / 26
            || h.first_ts > h.last_ts;
        if bad_len {
            return Err(TearReason::BadLengths {
                compressed: h.compressed_len,
                uncompressed: h.uncompressed_len,
            });
        }
        Ok(h)
    }
}

/// The footer index of a closed file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Footer {
    /// Per block: its offset in the file and its first `ts_utc_ns`.
    pub blocks: Vec<(u64, u64)>,
    pub records: u64,
    pub uncompressed_bytes: u64,
    pub first_ts: u64,
    pub last_ts: u64,
}

impl Footer {
    /// Index (magic, counts, entries, CRC-32 of all of it before the CRC) then trailer.
    pub fn encode(&self, index_offset: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(INDEX_FIXED_BYTES + 16 * self.blocks.len() + 20);
        out.extend_from_slice(&INDEX_MAGIC.to_le_bytes());
        out.extend_from_slice(&(self.blocks.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.records.to_le_bytes());
        out.extend_from_slice(&self.uncompressed_bytes.to_le_bytes());
        out.extend_from_slice(&self.first_ts.to_le_bytes());
        out.extend_from_slice(&self.last_ts.to_le_bytes());
        for (offset, ts) in &self.blocks {
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&ts.to_le_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&index_offset.to_le_bytes());
        out.extend_from_slice(&TRAILER_MAGIC);
        out
    }

    /// The footer of a whole file and the offset where its index starts, if the file ends
    /// with a valid trailer and index; `None` for a file that was not closed (or is damaged).
    pub fn decode(file: &[u8]) -> Option<(Footer, u64)> {
        let n = file.len();
        if n < TRAILER_BYTES || file[n - 8..] != TRAILER_MAGIC {
            return None;
        }
        let index_offset = u64_at(file, n - 16);
        let start = usize::try_from(index_offset).ok()?;
        let index = file.get(start..n - TRAILER_BYTES)?;
        if index.len() < INDEX_FIXED_BYTES + 4 || u32_at(index, 0) != INDEX_MAGIC {
            return None;
        }
        let count = u32_at(index, 4) as usize;
        if index.len() != INDEX_FIXED_BYTES + 16 * count + 4 {
            return None;
        }
        let body = &index[..index.len() - 4];
        if crc32fast::hash(body) != u32_at(index, index.len() - 4) {
            return None;
        }
        let blocks = (0..count)
            .map(|i| {
                let at = INDEX_FIXED_BYTES + 16 * i;
                (u64_at(body, at), u64_at(body, at + 8))
            })
            .collect();
        let footer = Footer {
            blocks,
            records: u64_at(body, 8),
            uncompressed_bytes: u64_at(body, 16),
            first_ts: u64_at(body, 24),
            last_ts: u64_at(body, 32),
        };
        Some((footer, index_offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_header_round_trips_and_refuses_others() {
        let h = FileHeader {
            instruments: vec!["BTCUSDT".into(), "btctwd".into()],
            config_hash: u64::MAX,
            start_utc_ns: 1_700_000_000_000_000_000,
        };
        let bytes = encode_file_header(&h);
        assert_eq!(&bytes[..8], b"ARBCAP\0\x01");
        assert_eq!(decode_file_header(&bytes).unwrap(), (h, bytes.len()));
        for cut in 0..bytes.len() {
            assert!(decode_file_header(&bytes[..cut]).is_err());
        }
        let mut v2 = bytes.clone();
        v2[8] = 2;
        assert!(decode_file_header(&v2).unwrap_err().contains("version 2"));
    }

    #[test]
    fn block_header_round_trips_and_refuses_impossible_lengths() {
        let h = BlockHeader {
            compressed_len: 100,
            uncompressed_len: 1000,
            record_count: 10,
            first_ts: 5,
            last_ts: 9,
            crc32: 0xdead_beef,
        };
        assert_eq!(BlockHeader::decode(&h.encode()), Ok(h));
        let zero = BlockHeader {
            compressed_len: 0,
            ..h
        };
        assert!(matches!(
            BlockHeader::decode(&zero.encode()),
            Err(TearReason::BadLengths { .. })
        ));
        let huge = BlockHeader {
            uncompressed_len: u32::MAX,
            ..h
        };
        assert!(BlockHeader::decode(&huge.encode()).is_err());
        assert!(matches!(
            BlockHeader::decode(&h.encode()[..20]),
            Err(TearReason::Short { need: 36, have: 20 })
        ));
    }

    #[test]
    fn footer_round_trips_and_a_damaged_one_is_absent() {
        let f = Footer {
            blocks: vec![(60, 1), (400, 7)],
            records: 12,
            uncompressed_bytes: 999,
            first_ts: 1,
            last_ts: 11,
        };
        let mut file = vec![0u8; 1000];
        let off = file.len() as u64;
        file.extend_from_slice(&f.encode(off));
        assert_eq!(Footer::decode(&file), Some((f, off)));
        let n = file.len();
        file[n - 30] ^= 1;
        assert_eq!(Footer::decode(&file), None);
        assert_eq!(Footer::decode(&file[..n - 1]), None);
    }
}
