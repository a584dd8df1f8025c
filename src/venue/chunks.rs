//! Book levels of one frame → fixed-size events: the one chunking rule both venues' parsers use.
//!
//! A frame's levels go out as [`MdEvent`]s of at most [`MD_LEVELS`] levels each, all bids first
//! then asks (a chunk may hold the last bids and the first asks). `chunk` counts from 0,
//! `last_chunk` is set on the final one, every chunk repeats the header fields, and the slots a
//! chunk does not use are zeroed. A frame with no levels still emits exactly one chunk with
//! `n_bids = n_asks = 0` and `last_chunk = true`, so the book stage sees every snapshot.

use crate::model::{Level, MD_LEVELS, MdEvent};
use crate::venue::ParseError;
use crate::venue::md_sink::MdSink;

/// The most levels one frame may carry: `chunk` is a `u16`.
pub const MAX_CHUNKED_LEVELS: usize = MD_LEVELS * u16::MAX as usize;

/// Emits `bids ++ asks` in chunks (see the module doc) into `out`, each written straight into
/// its slot with `header`'s fields (its levels are not read). Returns the number of events
/// emitted (at least one), or [`ParseError::TooLarge`] (nothing emitted) past
/// [`MAX_CHUNKED_LEVELS`].
pub fn emit_chunks<S: MdSink>(
    header: &MdEvent,
    bids: &[Level],
    asks: &[Level],
    out: &mut S,
) -> Result<usize, ParseError> {
    let total = bids.len() + asks.len();
    if total > MAX_CHUNKED_LEVELS {
        return Err(ParseError::TooLarge);
    }
    let mut start = 0usize;
    let mut chunk = 0u16;
    loop {
        let end = (start + MD_LEVELS).min(total);
        out.publish_md(|slot| {
            *slot = MdEvent {
                levels: [Level::default(); MD_LEVELS],
                chunk,
                last_chunk: end == total,
                ..*header
            };
            let (mut nb, mut na) = (0u8, 0u8);
            for (i, k) in (start..end).enumerate() {
                slot.levels[i] = if k < bids.len() {
                    nb += 1;
                    bids[k]
                } else {
                    na += 1;
                    asks[k - bids.len()]
                };
            }
            slot.n_bids = nb;
            slot.n_asks = na;
        });
        if end == total {
            return Ok(chunk as usize + 1);
        }
        start = end;
        chunk += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Fixed;

    fn levels(n: usize, base: i64) -> Vec<Level> {
        (0..n as i64)
            .map(|i| Level {
                price: Fixed::from_int(base + i),
                qty: Fixed::ONE,
            })
            .collect()
    }

    #[test]
    fn packs_bids_then_asks() {
        const L: usize = MD_LEVELS;
        const {
            assert!(
                L >= 3,
                "the expectations below need 3 levels per event or more"
            )
        };
        // L + 2 bids and 2L asks: a full bid chunk, a mixed one, a full ask chunk, a short one.
        let (bids, asks) = (levels(L + 2, 100), levels(2 * L, 200));
        let ev = MdEvent::default();
        let mut got = Vec::new();
        let n = emit_chunks(&ev, &bids, &asks, &mut |e: &MdEvent| got.push(*e)).unwrap();
        assert_eq!(n, 4);
        assert_eq!((got[0].n_bids, got[0].n_asks), (L as u8, 0));
        assert_eq!((got[1].n_bids, got[1].n_asks), (2, L as u8 - 2));
        assert_eq!((got[2].n_bids, got[2].n_asks), (0, L as u8));
        assert_eq!((got[3].n_bids, got[3].n_asks), (0, 2));
        assert_eq!(got[1].levels[2], asks[0]);
        assert_eq!(got[3].asks(), &asks[2 * L - 2..]);
        assert_eq!(
            got.iter().map(|e| e.chunk).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!(
            got.iter().map(|e| e.last_chunk).collect::<Vec<_>>(),
            [false, false, false, true]
        );
        // The last chunk's unused slots are zeroed, not left from the chunk before.
        assert!(got[3].levels[2..].iter().all(|l| *l == Level::default()));
    }

    #[test]
    fn no_levels_is_one_empty_last_chunk() {
        let mut ev = MdEvent {
            last_id: 7,
            ..MdEvent::default()
        };
        ev.levels[0] = levels(1, 5)[0];
        let mut got = Vec::new();
        let n = emit_chunks(&ev, &[], &[], &mut |e: &MdEvent| got.push(*e)).unwrap();
        assert_eq!(n, 1);
        assert_eq!(got.len(), 1);
        assert!(got[0].last_chunk);
        assert_eq!((got[0].chunk, got[0].n_bids, got[0].n_asks), (0, 0, 0));
        assert_eq!(got[0].last_id, 7, "the header travels with the chunk");
        assert_eq!(got[0].levels[0], Level::default());
    }

    #[test]
    fn too_many_levels_emit_nothing() {
        let bids = vec![Level::default(); MAX_CHUNKED_LEVELS + 1];
        let mut emitted = 0;
        let r = emit_chunks(&MdEvent::default(), &bids, &[], &mut |_: &MdEvent| {
            emitted += 1
        });
        assert_eq!(r, Err(ParseError::TooLarge));
        assert_eq!(emitted, 0);
    }
}
