//! Where the side thread sends bus messages: NATS JetStream ([`super::nats_forwarder`]) or, with
//! no NATS configured, a rotating JSON-lines file ([`super::jsonl_file`]). A sink is only ever
//! called from the side thread, never from a hot one.

use super::bus_message::BusMessage;
use std::time::Duration;

/// How a sink is doing, for the stats line and the bus-status message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SinkStatus {
    pub connected: bool,
    /// Messages delivered (acknowledged by JetStream, or written to the file).
    pub delivered: u64,
    /// Waiting to be delivered.
    pub queued: usize,
    pub dropped_md: u64,
    pub dropped_critical: u64,
    /// Connections lost and regained.
    pub reconnects: u64,
    /// Delivery attempts that failed and were retried (or write errors).
    pub failures: u64,
}

pub trait EventSink: Send {
    /// Takes a message; never waits on the network.
    fn accept(&mut self, m: BusMessage);
    /// Makes progress for at most `budget` (the side thread's idle time): sends what it can,
    /// collects acknowledgements, keeps the connection alive.
    fn pump(&mut self, budget: Duration);
    /// At shutdown: tries to deliver everything for at most `deadline`.
    fn flush(&mut self, deadline: Duration);
    fn status(&self) -> SinkStatus;
    /// `nats://…` or the file path, for the banner.
    fn describe(&self) -> String;
}
