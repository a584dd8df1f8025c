//! What the forwarder could not send yet, bounded: orders, fills, positions and system events
//! in one queue, market data and latency snapshots in another. When the sink is slow or down,
//! market data goes first (oldest dropped) and the critical queue only drops — oldest first,
//! counted — past its own, much larger bound. Critical messages always leave before market
//! data.

use super::bus_message::BusMessage;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    pub queued: usize,
    pub dropped_md: u64,
    pub dropped_critical: u64,
}

pub struct Outbox {
    critical: VecDeque<BusMessage>,
    md: VecDeque<BusMessage>,
    critical_cap: usize,
    md_cap: usize,
    dropped_md: u64,
    dropped_critical: u64,
}

impl Outbox {
    pub fn new(critical_cap: usize, md_cap: usize) -> Self {
        Outbox {
            critical: VecDeque::with_capacity(critical_cap.min(4096)),
            md: VecDeque::with_capacity(md_cap.min(4096)),
            critical_cap: critical_cap.max(1),
            md_cap: md_cap.max(1),
            dropped_md: 0,
            dropped_critical: 0,
        }
    }

    pub fn push(&mut self, m: BusMessage) {
        if m.kind.is_critical() {
            if self.critical.len() >= self.critical_cap {
                self.critical.pop_front();
                self.dropped_critical += 1;
            }
            self.critical.push_back(m);
        } else {
            if self.md.len() >= self.md_cap {
                self.md.pop_front();
                self.dropped_md += 1;
            }
            self.md.push_back(m);
        }
    }

    /// Puts back a message that could not be delivered, ahead of the rest of its queue.
    pub fn push_front(&mut self, m: BusMessage) {
        if m.kind.is_critical() {
            self.critical.push_front(m);
        } else if self.md.len() < self.md_cap {
            self.md.push_front(m);
        } else {
            self.dropped_md += 1;
        }
    }

    /// The next message to send: critical first.
    pub fn pop(&mut self) -> Option<BusMessage> {
        self.critical.pop_front().or_else(|| self.md.pop_front())
    }

    pub fn is_empty(&self) -> bool {
        self.critical.is_empty() && self.md.is_empty()
    }

    pub fn len(&self) -> usize {
        self.critical.len() + self.md.len()
    }

    pub fn stats(&self) -> OutboxStats {
        OutboxStats {
            queued: self.len(),
            dropped_md: self.dropped_md,
            dropped_critical: self.dropped_critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::bus_message::Kind;

    fn msg(kind: Kind, seq: u64) -> BusMessage {
        BusMessage {
            kind,
            seq,
            subject: String::new(),
            msg_id: String::new(),
            payload: Vec::new(),
        }
    }

    #[test]
    fn critical_leaves_first_and_market_data_is_dropped_first() {
        let mut o = Outbox::new(3, 2);
        for i in 1..=4 {
            o.push(msg(Kind::Md, i));
        }
        o.push(msg(Kind::Fill, 1));
        o.push(msg(Kind::Order, 1));
        assert_eq!(o.stats().dropped_md, 2);
        assert_eq!(o.pop().map(|m| m.kind), Some(Kind::Fill));
        let back = o.pop().unwrap();
        o.push_front(back);
        assert_eq!(o.pop().map(|m| (m.kind, m.seq)), Some((Kind::Order, 1)));
        assert_eq!(o.pop().map(|m| (m.kind, m.seq)), Some((Kind::Md, 3)));
        for i in 1..=5 {
            o.push(msg(Kind::System, i));
        }
        assert_eq!(o.stats().dropped_critical, 2);
    }
}
