//! The recorded and documented exchange messages the tests replay, in `tests/fixtures/`
//! (provenance in `tests/fixtures/README.md`).

use std::path::PathBuf;

/// Where fixture `rel` (e.g. `max/ws_book_snapshot_doc.json`) lies.
#[allow(dead_code)]
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/")).join(rel)
}

/// The bytes of fixture `rel`; panics naming the file.
#[allow(dead_code)]
pub fn bytes(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}
