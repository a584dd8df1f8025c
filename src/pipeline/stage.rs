//! A stage: one step of the pipeline that a thread polls.

/// What one poll of a stage did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Nothing was waiting.
    Idle,
    /// Processed this many inputs.
    Busy(usize),
    /// Every input is closed and drained: the stage will do nothing more.
    Finished,
}

/// A pipeline step. A stage thread calls [`Stage::poll`] in a loop; stages that share a thread
/// are polled round-robin.
///
/// Contract: `poll` handles at most a small batch (the pipeline's `batch`, 64 by default) per
/// input so stages sharing a thread interleave fairly, and it never blocks or waits on a ring
/// whose consumer may run on the same thread.
pub trait Stage {
    fn name(&self) -> &'static str;
    fn poll(&mut self) -> Poll;
}
