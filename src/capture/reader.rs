//! [`CaptureReader`]: the records of a capture directory in capture order, across files.
//!
//! A closed file is read up to its footer index. A file without a footer (the writer died) is
//! read block by block to its end. The first block that cannot be read — cut short, a bad
//! magic, impossible lengths, a checksum that does not match, bytes zstd refuses, records that
//! do not match their header — ends the capture: every record before it has been delivered,
//! then the iterator yields one `Err(CaptureError::Torn(..))` and [`CaptureReader::tear`]
//! says where. Later files are not read (a tear is normally the last file of a crash).
//!
//! A file is read into memory whole (files are bounded by the writer's `max_file_bytes`).

use super::error::{CaptureError, TearReason, TornBlock};
use super::format::{
    BLOCK_HEADER_BYTES, BlockHeader, FileHeader, Footer, INDEX_MAGIC, decode_file_header,
};
use super::record::{OwnedFrame, decode};
use super::writer::capture_files;
use crate::model::FileError;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

struct Cursor {
    path: PathBuf,
    data: Vec<u8>,
    pos: usize,
    /// The index offset of a closed file, else the file's length.
    end: usize,
    closed: bool,
}

pub struct CaptureReader {
    files: Vec<PathBuf>,
    next_file: usize,
    cur: Option<Cursor>,
    pending: VecDeque<OwnedFrame>,
    headers: Vec<FileHeader>,
    blocks: u64,
    tear: Option<TornBlock>,
    done: bool,
}

impl CaptureReader {
    /// The capture files of `dir` (`capture-*.arbcap`), in name order.
    pub fn open(dir: impl AsRef<Path>) -> Result<CaptureReader, CaptureError> {
        Ok(CaptureReader::from_files(capture_files(dir.as_ref())?))
    }

    /// These files, in this order.
    pub fn from_files(files: Vec<PathBuf>) -> CaptureReader {
        CaptureReader {
            files,
            next_file: 0,
            cur: None,
            pending: VecDeque::new(),
            headers: Vec::new(),
            blocks: 0,
            tear: None,
            done: false,
        }
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The headers of the files opened so far.
    pub fn headers(&self) -> &[FileHeader] {
        &self.headers
    }

    /// Blocks read so far.
    pub fn blocks_read(&self) -> u64 {
        self.blocks
    }

    /// Where reading stopped on a damaged block, once the iterator has reached it.
    pub fn tear(&self) -> Option<&TornBlock> {
        self.tear.as_ref()
    }

    fn open_next(&mut self) -> Result<bool, CaptureError> {
        let Some(path) = self.files.get(self.next_file).cloned() else {
            return Ok(false);
        };
        self.next_file += 1;
        let data = std::fs::read(&path).map_err(FileError::at("read", &path))?;
        let (header, start) =
            decode_file_header(&data).map_err(|reason| CaptureError::BadHeader {
                file: path.clone(),
                reason,
            })?;
        self.headers.push(header);
        let footer = Footer::decode(&data)
            .and_then(|(_, off)| usize::try_from(off).ok())
            .filter(|off| *off >= start);
        self.cur = Some(Cursor {
            path,
            end: footer.unwrap_or(data.len()),
            closed: footer.is_some(),
            data,
            pos: start,
        });
        Ok(true)
    }

    /// Reads the next block of the current file into `pending`; `Ok(false)` at its end.
    fn next_block(&mut self) -> Result<bool, TornBlock> {
        let Some(c) = self.cur.as_mut() else {
            return Ok(false);
        };
        if c.pos >= c.end {
            return Ok(false);
        }
        let rest = &c.data[c.pos..c.end];
        let tear = |reason| TornBlock {
            file: c.path.clone(),
            offset: c.pos as u64,
            reason,
        };
        if !c.closed && rest.len() >= 4 && rest[..4] == INDEX_MAGIC.to_le_bytes() {
            return Err(tear(TearReason::BadFooter));
        }
        let (frames, used) = read_block(rest).map_err(tear)?;
        c.pos += used;
        self.blocks += 1;
        self.pending.extend(frames);
        Ok(true)
    }
}

/// The records of the block at the start of `buf` and the bytes the block took.
pub fn read_block(buf: &[u8]) -> Result<(Vec<OwnedFrame>, usize), TearReason> {
    let h = BlockHeader::decode(buf)?;
    let need = BLOCK_HEADER_BYTES as u64 + u64::from(h.compressed_len);
    if (buf.len() as u64) < need {
        return Err(TearReason::Short {
            need,
            have: buf.len() as u64,
        });
    }
    let compressed = &buf[BLOCK_HEADER_BYTES..need as usize];
    let actual = crc32fast::hash(compressed);
    if actual != h.crc32 {
        return Err(TearReason::Checksum {
            expected: h.crc32,
            actual,
        });
    }
    let raw = zstd::bulk::decompress(compressed, h.uncompressed_len as usize)
        .map_err(|e| TearReason::Decompress(e.to_string()))?;
    if raw.len() != h.uncompressed_len as usize {
        return Err(TearReason::Decompress(format!(
            "expanded to {} bytes, header says {}",
            raw.len(),
            h.uncompressed_len
        )));
    }
    let mut frames = Vec::with_capacity(h.record_count as usize);
    let mut at = 0;
    let mut max_ts = 0;
    while at < raw.len() {
        let (f, used) = decode(&raw[at..]).map_err(|e| TearReason::BadRecord(e.to_string()))?;
        max_ts = max_ts.max(f.ts_utc_ns);
        frames.push(f.to_owned_frame());
        at += used;
    }
    let first = frames.first().map(|f| f.ts_utc_ns);
    if frames.len() != h.record_count as usize || first != Some(h.first_ts) || max_ts != h.last_ts {
        return Err(TearReason::BadRecord(format!(
            "{} records from {first:?} to {max_ts}, header says {} from {} to {}",
            frames.len(),
            h.record_count,
            h.first_ts,
            h.last_ts
        )));
    }
    Ok((frames, need as usize))
}

impl Iterator for CaptureReader {
    type Item = Result<OwnedFrame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(f) = self.pending.pop_front() {
                return Some(Ok(f));
            }
            if self.done {
                return None;
            }
            if self.cur.is_none() {
                match self.open_next() {
                    Ok(true) => {}
                    Ok(false) => {
                        self.done = true;
                        return None;
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
            match self.next_block() {
                Ok(true) => {}
                Ok(false) => self.cur = None,
                Err(t) => {
                    self.done = true;
                    self.cur = None;
                    self.tear = Some(t.clone());
                    return Some(Err(CaptureError::Torn(t)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::FrameKind;
    use crate::capture::writer::{CaptureOptions, CaptureWriter};
    use crate::model::Venue;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "arbline-capture-reader-{name}-{}-{}",
            std::process::id(),
            std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn frames(n: u64) -> Vec<OwnedFrame> {
        (0..n)
            .map(|i| OwnedFrame {
                ts_utc_ns: 1_764_763_200_000_000_000 + i * 1000,
                ts_engine: i,
                venue: Venue::ALL[(i % 4) as usize],
                conn: (i % 3) as u32,
                kind: FrameKind::ALL[(i % 6) as usize],
                bytes: format!(
                    "{{\"u\":{i},\"pad\":\"{}\"}}",
                    "x".repeat((i % 50) as usize)
                )
                .into_bytes(),
            })
            .collect()
    }

    #[test]
    fn a_crashed_file_is_read_to_its_last_flushed_block() {
        let dir = temp_dir("crash");
        let mut opts = CaptureOptions::new(&dir);
        opts.block_bytes = 500;
        let mut w = CaptureWriter::new(opts).unwrap();
        let all = frames(300);
        for f in &all[..200] {
            w.write(&f.as_frame()).unwrap();
        }
        w.flush().unwrap();
        for f in &all[200..] {
            w.write(&f.as_frame()).unwrap();
        }
        // Dies: no close, the records after the flush that were not yet a block are lost.
        let written = w.files().to_vec();
        std::mem::forget(w);
        let file = std::fs::read(&written[0]).unwrap();
        assert!(Footer::decode(&file).is_none());
        let mut r = CaptureReader::open(&dir).unwrap();
        let back: Vec<OwnedFrame> = r.by_ref().map(|f| f.unwrap()).collect();
        assert!(back.len() >= 200 && back.len() < 300, "{}", back.len());
        assert_eq!(back[..], all[..back.len()]);
        assert_eq!(r.tear(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_short_or_foreign_block_is_refused() {
        let buf = vec![0u8; 10];
        assert!(matches!(read_block(&buf), Err(TearReason::Short { .. })));
        let mut buf = vec![0u8; 64];
        buf[..4].copy_from_slice(b"NOPE");
        assert!(matches!(read_block(&buf), Err(TearReason::BadMagic(_))));
    }
}
