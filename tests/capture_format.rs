//! The capture format end to end on real directories: real Binance fixture frames written and
//! read back byte for byte, rotation by size and by hour, files cut or damaged inside a block,
//! `info`'s counts, and random bytes that must never make the reader panic.

use arbline::capture::reader::read_block;
use arbline::capture::{
    CaptureError, CaptureOptions, CaptureReader, CaptureWriter, Footer, FrameKind, OwnedFrame,
    TearReason, info,
};
use arbline::model::Venue;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// 2025-12-03T12:00:00Z.
const T0: u64 = 1_764_763_200_000_000_000;
const HOUR: u64 = 3_600_000_000_000;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "arbline-capture-format-{name}-{}-{}",
        std::process::id(),
        std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every fixture file's bytes and every `raw` message in them: real frames.
fn fixture_payloads() -> Vec<Vec<u8>> {
    fn raws(v: &serde_json::Value, out: &mut Vec<Vec<u8>>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    match v {
                        serde_json::Value::String(s) if k == "raw" => out.push(s.clone().into()),
                        _ => raws(v, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| raws(v, out)),
            _ => {}
        }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/binance");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let bytes = std::fs::read(&p).unwrap();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            raws(&v, &mut out);
        }
        out.push(bytes);
    }
    assert!(out.len() > 50, "{} fixture frames", out.len());
    out
}

fn frames(n: usize, step_ns: u64) -> Vec<OwnedFrame> {
    let payloads = fixture_payloads();
    (0..n)
        .map(|i| OwnedFrame {
            ts_utc_ns: T0 + i as u64 * step_ns,
            ts_engine: 1_000 + i as u64 * 7,
            venue: Venue::ALL[i % 4],
            conn: (i % 5) as u32,
            kind: FrameKind::ALL[i % 6],
            bytes: payloads[i % payloads.len()].clone(),
        })
        .collect()
}

fn write_all(
    dir: &Path,
    frames: &[OwnedFrame],
    opts: impl FnOnce(&mut CaptureOptions),
) -> Vec<PathBuf> {
    let mut o = CaptureOptions::new(dir);
    o.instruments = vec!["BTCUSDT".into(), "btctwd".into()];
    o.config_hash = 0x1234_5678_9abc_def0;
    opts(&mut o);
    let mut w = CaptureWriter::new(o).unwrap();
    for f in frames {
        w.write(&f.as_frame()).unwrap();
    }
    w.close().unwrap()
}

/// Reads a capture: the frames delivered and the tear, if any.
fn read_all(dir: &Path) -> (Vec<OwnedFrame>, Option<TearReason>, Option<u64>) {
    let mut r = CaptureReader::open(dir).unwrap();
    let mut out = Vec::new();
    let mut torn = None;
    for item in r.by_ref() {
        match item {
            Ok(f) => out.push(f),
            Err(CaptureError::Torn(t)) => torn = Some(t),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(r.tear(), torn.as_ref());
    (
        out,
        torn.as_ref().map(|t| t.reason.clone()),
        torn.map(|t| t.offset),
    )
}

#[test]
fn thousands_of_real_frames_round_trip_byte_for_byte() {
    let dir = temp_dir("round-trip");
    let all = frames(5_000, 1_000);
    let files = write_all(&dir, &all, |o| o.block_bytes = 16 << 10);
    assert_eq!(files.len(), 1);
    let (back, tear, _) = read_all(&dir);
    assert_eq!(tear, None);
    assert_eq!(back.len(), all.len());
    assert!(back == all, "frames differ after the round trip");

    // The footer indexes every block: each offset starts a block, their records sum up.
    let bytes = std::fs::read(&files[0]).unwrap();
    let (footer, _) = Footer::decode(&bytes).unwrap();
    assert!(footer.blocks.len() > 10, "{} blocks", footer.blocks.len());
    assert_eq!(footer.records, all.len() as u64);
    assert_eq!(
        (footer.first_ts, footer.last_ts),
        (all[0].ts_utc_ns, all[4_999].ts_utc_ns)
    );
    let mut n = 0;
    for (offset, first_ts) in &footer.blocks {
        let (block, _) = read_block(&bytes[*offset as usize..]).unwrap();
        assert_eq!(block[0].ts_utc_ns, *first_ts);
        n += block.len();
    }
    assert_eq!(n, all.len());

    let i = info(&dir, 1_000).unwrap();
    assert_eq!(
        (i.files, i.blocks, i.records),
        (1, footer.blocks.len() as u64, 5_000)
    );
    assert_eq!((i.first_ts, i.last_ts), (Some(T0), Some(T0 + 4_999_000)));
    assert_eq!(
        i.frame_bytes,
        all.iter().map(|f| f.bytes.len() as u64).sum::<u64>()
    );
    for v in Venue::ALL {
        for k in FrameKind::ALL {
            let want = all.iter().filter(|f| f.venue == v && f.kind == k).count() as u64;
            assert_eq!(
                i.per_venue_kind.get(&(v, k)).copied().unwrap_or(0),
                want,
                "{v:?} {k:?}"
            );
        }
    }
    assert!(i.gaps.is_empty());
    assert_eq!(info(&dir, 999).unwrap().gaps.len(), 4_999);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rotates_by_size_and_by_hour_and_reads_across_files_in_order() {
    let dir = temp_dir("rotate");
    // 2 000 frames 10 s apart: 20 000 s, six UTC hours.
    let all = frames(2_000, 10_000_000_000);
    let files = write_all(&dir, &all, |o| {
        o.block_bytes = 8 << 10;
        o.max_file_bytes = 64 << 10;
    });
    let hours = (all[1_999].ts_utc_ns / HOUR - T0 / HOUR + 1) as usize;
    assert!(
        files.len() > hours,
        "{} files for {hours} hours",
        files.len()
    );
    let mut seen = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let (footer, index_offset) = Footer::decode(&bytes).unwrap();
        // A file stops at the block that takes it past the limit.
        let last_block = footer.blocks.last().unwrap().0;
        assert!(last_block < 64 << 10, "{f:?}");
        assert!(index_offset as usize <= bytes.len());
        assert_eq!(
            footer.first_ts / HOUR,
            footer.last_ts / HOUR,
            "{f:?} spans an hour"
        );
        seen += footer.records;
    }
    assert_eq!(seen, 2_000);
    let (back, tear, _) = read_all(&dir);
    assert_eq!(tear, None);
    assert!(back == all);
    let i = info(&dir, 10_000_000_000).unwrap();
    assert_eq!((i.files, i.records), (files.len(), 2_000));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Per block of a file: its offset and the records before it.
type Blocks = Vec<(usize, usize)>;

/// A closed single-file capture (removed from `dir`): its frames, bytes, blocks and index offset.
fn one_file(dir: &Path) -> (Vec<OwnedFrame>, Vec<u8>, Blocks, usize) {
    let all = frames(1_500, 1_000);
    let files = write_all(dir, &all, |o| o.block_bytes = 8 << 10);
    let bytes = std::fs::read(&files[0]).unwrap();
    std::fs::remove_file(&files[0]).unwrap();
    let (footer, index_offset) = Footer::decode(&bytes).unwrap();
    let mut before = 0;
    let mut blocks = Vec::new();
    for (offset, _) in &footer.blocks {
        blocks.push((*offset as usize, before));
        before += read_block(&bytes[*offset as usize..]).unwrap().0.len();
    }
    assert!(blocks.len() >= 4);
    (all, bytes, blocks, index_offset as usize)
}

#[test]
fn a_file_cut_inside_a_block_replays_up_to_the_cut_and_reports_it() {
    let dir = temp_dir("cut");
    let (all, bytes, blocks, index_offset) = one_file(&dir);
    let path = dir.join("capture-20251203T120000Z-0000.arbcap");
    let (b2, before2) = blocks[2];
    let b3 = blocks[3].0;
    for cut in [
        b2 + 1,
        b2 + 20,
        b2 + 35,
        b2 + 36,
        b2 + 37,
        (b2 + b3) / 2,
        b3 - 1,
    ] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let (back, tear, offset) = read_all(&dir);
        assert_eq!(back.len(), before2, "cut at {cut}");
        assert!(back[..] == all[..before2]);
        assert_eq!(offset, Some(b2 as u64), "cut at {cut}");
        assert!(
            matches!(tear, Some(TearReason::Short { .. })),
            "cut at {cut}: {tear:?}"
        );
        let i = info(&dir, u64::MAX).unwrap();
        assert_eq!(i.records, before2 as u64);
        assert_eq!(i.tear.unwrap().offset, b2 as u64);
    }
    // Cut exactly between blocks, or at the footer: a crash after a whole block, no tear.
    for cut in [b3, index_offset] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let (back, tear, _) = read_all(&dir);
        assert_eq!(tear, None, "cut at {cut}");
        assert!(back[..] == all[..back.len()]);
    }
    // Cut inside the footer: every record, then the torn footer.
    std::fs::write(&path, &bytes[..index_offset + 10]).unwrap();
    let (back, tear, offset) = read_all(&dir);
    assert!(back == all);
    assert_eq!(
        (tear, offset),
        (Some(TearReason::BadFooter), Some(index_offset as u64))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupted_byte_in_a_block_fails_its_checksum() {
    let dir = temp_dir("corrupt");
    let (all, mut bytes, blocks, _) = one_file(&dir);
    let path = dir.join("capture-20251203T120000Z-0000.arbcap");
    let (b1, before1) = blocks[1];
    bytes[b1 + 36 + 100] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let (back, tear, offset) = read_all(&dir);
    assert!(back[..] == all[..before1]);
    assert_eq!(offset, Some(b1 as u64));
    assert!(
        matches!(tear, Some(TearReason::Checksum { .. })),
        "{tear:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn read_garbage(dir: &Path, bytes: &[u8]) {
    let path = dir.join("capture-20251203T120000Z-0000.arbcap");
    std::fs::write(&path, bytes).unwrap();
    let mut r = CaptureReader::open(dir).unwrap();
    let mut errors = 0;
    for item in r.by_ref() {
        if item.is_err() {
            errors += 1;
        }
    }
    assert!(errors <= 1);
    let _ = info(dir, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let dir = temp_dir("garbage");
        read_garbage(&dir, &bytes);
        // The same bytes after a valid header reach the block parser.
        let mut valid = arbline::capture::format::encode_file_header(&Default::default());
        valid.extend_from_slice(&bytes);
        read_garbage(&dir, &valid);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn flipped_bytes_in_a_real_file_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..8)) {
        let dir = temp_dir("flips");
        let all = frames(300, 1_000);
        let files = write_all(&dir, &all, |o| o.block_bytes = 4 << 10);
        let mut bytes = std::fs::read(&files[0]).unwrap();
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        read_garbage(&dir, &bytes);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
