//! [`CaptureWriter`]: records buffered into zstd blocks, written into files that rotate by size
//! and by UTC hour, each closed with a footer index.
//!
//! Times come from the records (`ts_utc_ns`), never from the wall clock, so rotation is the
//! same in a test and in a replay. A file is named after its first record:
//! `capture-YYYYMMDDTHHMMSSZ-NNNN.arbcap`, `NNNN` counting the files this writer opened (and
//! stepping past a name that exists), so names sort in capture order.

use super::error::CaptureError;
use super::format::{BlockHeader, FileHeader, Footer, encode_file_header};
use super::record::CapturedFrame;
use crate::model::FileError;
use crate::model::calendar::format_utc;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const NS_PER_HOUR: u64 = 3_600_000_000_000;

/// Where and how to capture.
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    pub dir: PathBuf,
    /// Written into every file's JSON header.
    pub instruments: Vec<String>,
    pub config_hash: u64,
    /// Uncompressed bytes of records buffered before they are written as a block (256 KiB).
    pub block_bytes: usize,
    /// A new file starts once the current one reaches this size (256 MiB).
    pub max_file_bytes: u64,
    /// zstd level (3).
    pub zstd_level: i32,
}

impl CaptureOptions {
    pub fn new(dir: impl Into<PathBuf>) -> CaptureOptions {
        CaptureOptions {
            dir: dir.into(),
            instruments: Vec::new(),
            config_hash: 0,
            block_bytes: 256 << 10,
            max_file_bytes: 256 << 20,
            zstd_level: 3,
        }
    }
}

struct OpenFile {
    path: PathBuf,
    out: BufWriter<File>,
    pos: u64,
    hour: u64,
    footer: Footer,
}

/// Writes captured frames; [`close`](CaptureWriter::close) (or drop, ignoring errors) writes
/// the last block and the footer. A process that dies leaves the current file without a
/// footer and loses the unflushed block; the reader reads such a file block by block.
pub struct CaptureWriter {
    opts: CaptureOptions,
    file: Option<OpenFile>,
    buf: Vec<u8>,
    count: u32,
    first_ts: u64,
    last_ts: u64,
    seq: u32,
    files: Vec<PathBuf>,
}

impl CaptureWriter {
    /// Creates the directory if needed; no file is opened before the first record.
    pub fn new(opts: CaptureOptions) -> Result<CaptureWriter, CaptureError> {
        std::fs::create_dir_all(&opts.dir).map_err(FileError::at("create", &opts.dir))?;
        Ok(CaptureWriter {
            buf: Vec::with_capacity(opts.block_bytes + (64 << 10)),
            opts,
            file: None,
            count: 0,
            first_ts: 0,
            last_ts: 0,
            seq: 0,
            files: Vec::new(),
        })
    }

    /// The files opened so far, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Buffers one record; writes a block when the buffer reaches `block_bytes`, and starts a
    /// new file first when the record's UTC hour is not the current file's.
    pub fn write(&mut self, frame: &CapturedFrame<'_>) -> Result<(), CaptureError> {
        let hour = frame.ts_utc_ns / NS_PER_HOUR;
        if self.file.as_ref().is_some_and(|f| f.hour != hour) {
            self.close_file()?;
        }
        if self.file.is_none() {
            self.open_file(frame.ts_utc_ns)?;
        }
        frame.encode_into(&mut self.buf)?;
        if self.count == 0 {
            self.first_ts = frame.ts_utc_ns;
        }
        self.count += 1;
        // A block's header states first <= last; a clock stepping back keeps the maximum.
        self.last_ts = self.last_ts.max(frame.ts_utc_ns);
        if self.buf.len() >= self.opts.block_bytes || self.count == u32::MAX {
            self.write_block()?;
        }
        Ok(())
    }

    /// Writes the buffered records as a block and hands the file's buffer to the OS.
    pub fn flush(&mut self) -> Result<(), CaptureError> {
        self.write_block()?;
        if let Some(f) = self.file.as_mut() {
            f.out.flush().map_err(FileError::at("write", &f.path))?;
        }
        Ok(())
    }

    /// Writes the last block and the footer, and returns the files written.
    pub fn close(mut self) -> Result<Vec<PathBuf>, CaptureError> {
        self.close_file()?;
        Ok(std::mem::take(&mut self.files))
    }

    fn open_file(&mut self, ts_utc_ns: u64) -> Result<(), CaptureError> {
        let stamp = format_utc(ts_utc_ns / 1_000_000_000)
            .ok_or(CaptureError::TimeOutOfRange(ts_utc_ns))?
            .replace(['-', ':'], "");
        let (path, file) = loop {
            let path = self
                .opts
                .dir
                .join(format!("capture-{stamp}-{:04}.arbcap", self.seq));
            self.seq += 1;
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(FileError::at("create", &path)(e).into()),
            }
        };
        let header = encode_file_header(&FileHeader {
            instruments: self.opts.instruments.clone(),
            config_hash: self.opts.config_hash,
            start_utc_ns: ts_utc_ns,
        });
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&header)
            .map_err(FileError::at("write", &path))?;
        self.files.push(path.clone());
        self.file = Some(OpenFile {
            path,
            out,
            pos: header.len() as u64,
            hour: ts_utc_ns / NS_PER_HOUR,
            footer: Footer::default(),
        });
        Ok(())
    }

    fn write_block(&mut self) -> Result<(), CaptureError> {
        if self.count == 0 {
            return Ok(());
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        let compressed = zstd::bulk::compress(&self.buf, self.opts.zstd_level)
            .map_err(CaptureError::Compress)?;
        let header = BlockHeader {
            compressed_len: compressed.len() as u32,
            uncompressed_len: self.buf.len() as u32,
            record_count: self.count,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            crc32: crc32fast::hash(&compressed),
        };
        f.out
            .write_all(&header.encode())
            .and_then(|()| f.out.write_all(&compressed))
            .map_err(FileError::at("write", &f.path))?;
        let ft = &mut f.footer;
        if ft.blocks.is_empty() {
            ft.first_ts = self.first_ts;
        }
        ft.blocks.push((f.pos, self.first_ts));
        ft.records += u64::from(self.count);
        ft.uncompressed_bytes += self.buf.len() as u64;
        ft.last_ts = ft.last_ts.max(self.last_ts);
        f.pos += (header.encode().len() + compressed.len()) as u64;
        self.buf.clear();
        self.count = 0;
        self.last_ts = 0;
        if f.pos >= self.opts.max_file_bytes {
            self.close_file()?;
        }
        Ok(())
    }

    fn close_file(&mut self) -> Result<(), CaptureError> {
        self.write_block()?;
        let Some(mut f) = self.file.take() else {
            return Ok(());
        };
        let footer = f.footer.encode(f.pos);
        f.out
            .write_all(&footer)
            .and_then(|()| f.out.flush())
            .map_err(FileError::at("write", &f.path))?;
        Ok(())
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        let _ = self.close_file();
    }
}

/// The capture files of `dir`, sorted by name (which is capture order).
pub fn capture_files(dir: &Path) -> Result<Vec<PathBuf>, CaptureError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(FileError::at("read", dir))? {
        let path = entry.map_err(FileError::at("read", dir))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("capture-") && name.ends_with(".arbcap") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::FrameKind;
    use crate::model::Venue;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "arbline-capture-writer-{name}-{}-{}",
            std::process::id(),
            std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn frame(ts: u64, bytes: &[u8]) -> CapturedFrame<'_> {
        CapturedFrame {
            ts_utc_ns: ts,
            ts_engine: ts / 2,
            venue: Venue::BinanceSpot,
            conn: 1,
            kind: FrameKind::WsText,
            bytes,
        }
    }

    const T0: u64 = 1_764_763_200_000_000_000; // 2025-12-03T12:00:00Z

    #[test]
    fn names_files_after_their_first_record_and_rotates_on_the_hour() {
        let dir = temp_dir("hour");
        let mut w = CaptureWriter::new(CaptureOptions::new(&dir)).unwrap();
        w.write(&frame(T0 + 1_500_000_000, b"a")).unwrap();
        w.write(&frame(T0 + NS_PER_HOUR - 1, b"b")).unwrap();
        w.write(&frame(T0 + NS_PER_HOUR, b"c")).unwrap();
        let files = w.close().unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "capture-20251203T120001Z-0000.arbcap",
                "capture-20251203T130000Z-0001.arbcap"
            ]
        );
        assert_eq!(capture_files(&dir).unwrap(), files);
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert!(Footer::decode(&bytes).is_some());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn blocks_at_the_size_and_files_past_the_limit() {
        let dir = temp_dir("size");
        let mut opts = CaptureOptions::new(&dir);
        opts.block_bytes = 1000;
        opts.max_file_bytes = 3000;
        let mut w = CaptureWriter::new(opts).unwrap();
        let payload: Vec<u8> = (0..200u32).flat_map(|i| i.to_le_bytes()).collect();
        for i in 0..40 {
            w.write(&frame(T0 + i, &payload)).unwrap();
        }
        let files = w.close().unwrap();
        assert!(files.len() > 1, "{files:?}");
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            let (footer, _) = Footer::decode(&bytes).unwrap();
            assert!(!footer.blocks.is_empty());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
