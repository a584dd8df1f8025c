//! One frame's md events, merged back: the header of its chunks and all its levels, so a test
//! can state what a frame carried whatever the number of levels per ring slot.

#![allow(dead_code)]

use arbline::model::{Level, MD_LEVELS, MdEvent};

/// A whole frame: `head` is its first chunk (every chunk repeats the header), `bids()` and
/// `asks()` are the levels of all chunks in order. Header fields read through `Deref`.
#[derive(Debug)]
pub struct Frame {
    pub head: MdEvent,
    pub chunks: usize,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl Frame {
    /// Merges the chunks of exactly one frame, checking the chunking rule on the way: chunks
    /// numbered from 0, `last_chunk` on the last only, the same header on each, all bids before
    /// any ask, every chunk but the last full.
    pub fn merge(evs: &[MdEvent]) -> Frame {
        assert!(!evs.is_empty(), "a frame has at least one chunk");
        let head = evs[0];
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for (i, e) in evs.iter().enumerate() {
            assert_eq!(e.chunk as usize, i, "chunks numbered from 0");
            assert_eq!(
                e.last_chunk,
                i + 1 == evs.len(),
                "last_chunk on the last chunk only"
            );
            assert_eq!(
                (
                    e.kind,
                    e.venue,
                    e.instrument,
                    e.first_id,
                    e.last_id,
                    e.prev_id
                ),
                (
                    head.kind,
                    head.venue,
                    head.instrument,
                    head.first_id,
                    head.last_id,
                    head.prev_id
                ),
                "every chunk repeats the header"
            );
            assert_eq!(
                (e.version, e.exch_ts_ms, e.ts_frame),
                (head.version, head.exch_ts_ms, head.ts_frame)
            );
            if !e.bids().is_empty() {
                assert!(asks.is_empty(), "bids come before asks");
            }
            if i + 1 < evs.len() {
                assert_eq!(
                    e.bids().len() + e.asks().len(),
                    MD_LEVELS,
                    "only the last chunk is short"
                );
            }
            bids.extend_from_slice(e.bids());
            asks.extend_from_slice(e.asks());
        }
        Frame {
            head,
            chunks: evs.len(),
            bids,
            asks,
        }
    }

    pub fn bids(&self) -> &[Level] {
        &self.bids
    }

    pub fn asks(&self) -> &[Level] {
        &self.asks
    }
}

impl std::ops::Deref for Frame {
    type Target = MdEvent;
    fn deref(&self) -> &MdEvent {
        &self.head
    }
}

/// The number of slots a frame of `levels` levels takes.
pub fn chunks_for(levels: usize) -> usize {
    levels.div_ceil(MD_LEVELS).max(1)
}
