//! A stage: one step of the pipeline that a thread polls.

use std::os::fd::RawFd;

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

/// A socket a stage waits on: a parked thread wakes when it turns readable
/// ([`crate::pipeline::readiness`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitFd {
    pub fd: RawFd,
    /// Which connection is behind `fd`, unique in the process
    /// ([`crate::feed::ws_conn::next_conn_id`]): a reconnect often gets the closed socket's fd
    /// number back, and only this tells the readiness wait to register it again.
    pub conn: u64,
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

    /// Appends the sockets whose readability gives this stage work (none by default). A parked
    /// thread whose stages expose sockets sleeps in `epoll` on them instead of a plain sleep,
    /// and wakes as soon as one turns readable.
    ///
    /// Contract (the wait is edge-triggered): a poll that returns [`Poll::Idle`] has read each
    /// exposed socket until `WouldBlock`, so nothing is left above the socket that only a poll
    /// could make progress on — no complete WebSocket frame buffered in tungstenite, no
    /// decrypted plaintext in rustls. A stage that stops early (a batch limit) returns
    /// [`Poll::Busy`], and the thread does not block.
    fn wait_fds(&self, _out: &mut Vec<WaitFd>) {}
}
