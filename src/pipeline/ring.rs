//! The rings between stages, built on the `disruptor` crate with event pollers, so each stage
//! controls its own thread (and several stages can share one on a small host).
//!
//! | ring | producers | consumer | event |
//! |---|---|---|---|
//! | md | one per feed: MAX (with the reference rate), Binance (with its snapshot thread), or the in-process venue | book | [`MdEvent`] |
//! | book | book | scanner | [`BookTop`] |
//! | signal | scanner | order | [`Signal`] |
//! | exec | gateways and private feeds (multi-producer) | order | [`ExecEvent`] |
//!
//! The md rings are multi-producer rings, one per feed: the feeds never contend for a slot with
//! each other, and the threads that share a feed's ring (Binance's snapshot thread, the
//! reference rate) publish a few times a minute. The book stage reads them in turn.
//!
//! Slots are pre-allocated with `Default` events and overwritten in place. Sizes must be powers
//! of two (checked by the config). When a ring is full, a feed waits (its consumer is on another
//! thread and will drain it); a stage never waits on a ring whose consumer may share its thread,
//! it counts the loss instead (see `Stage` docs).

use crate::model::{BookTop, ExecEvent, MdEvent, Signal};
use disruptor::{
    BusySpin, EventPoller, MultiProducer, MultiProducerBarrier, SingleConsumerBarrier,
    SingleProducer, SingleProducerBarrier, build_multi_producer, build_single_producer,
};

pub type MdProducer = MultiProducer<MdEvent, SingleConsumerBarrier>;
pub type MdPoller = EventPoller<MdEvent, MultiProducerBarrier>;
pub type BookProducer = SingleProducer<BookTop, SingleConsumerBarrier>;
pub type BookPoller = EventPoller<BookTop, SingleProducerBarrier>;
pub type SignalProducer = SingleProducer<Signal, SingleConsumerBarrier>;
pub type SignalPoller = EventPoller<Signal, SingleProducerBarrier>;
pub type ExecProducer = MultiProducer<ExecEvent, SingleConsumerBarrier>;
pub type ExecPoller = EventPoller<ExecEvent, MultiProducerBarrier>;

/// Ring capacities (events); each a power of two.
#[derive(Clone, Copy, Debug)]
pub struct RingSizes {
    pub md: usize,
    pub book: usize,
    pub signal: usize,
    pub exec: usize,
}

/// Another feed's md ring, of `size` slots (a power of two). Build it before any thread is
/// pinned, like [`Rings::new`].
pub fn md_ring(size: usize) -> (MdProducer, MdPoller) {
    let (poll, b) = build_multi_producer(size, MdEvent::default, BusySpin).new_event_poller();
    (b.build(), poll)
}

/// Every ring of one engine, before the ends are handed to their threads.
pub struct Rings {
    pub md: (MdProducer, MdPoller),
    pub book: (BookProducer, BookPoller),
    pub signal: (SignalProducer, SignalPoller),
    pub exec: (ExecProducer, ExecPoller),
}

impl Rings {
    /// Builds all rings. Call before any thread is pinned (a disruptor built on a pinned thread
    /// sees only that thread's cores).
    pub fn new(s: RingSizes) -> Rings {
        // The wait strategy passed to the builders only matters for managed processors; pollers
        // never block, their thread's own wait strategy applies.
        let md = md_ring(s.md);
        let (book_poll, b) =
            build_single_producer(s.book, BookTop::default, BusySpin).new_event_poller();
        let book = (b.build(), book_poll);
        let (sig_poll, b) =
            build_single_producer(s.signal, Signal::default, BusySpin).new_event_poller();
        let signal = (b.build(), sig_poll);
        let (exec_poll, b) =
            build_multi_producer(s.exec, ExecEvent::default, BusySpin).new_event_poller();
        let exec = (b.build(), exec_poll);
        Rings {
            md,
            book,
            signal,
            exec,
        }
    }
}
