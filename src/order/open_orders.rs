//! The live orders of the engine, in a fixed table (no allocation while trading), plus a ring of
//! recently closed orders so that a fill reported after the order's final state still finds its
//! strategy and position, and a ring of recent trade ids so each fill is applied once.

use crate::model::{
    ClientOid, InstrumentId, OrderState, OrderType, Price, Qty, Side, Strategy, WalletType,
};
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOrder {
    pub client_oid: ClientOid,
    pub exchange_id: u64,
    pub strategy: Strategy,
    pub instrument: InstrumentId,
    pub wallet: WalletType,
    pub side: Side,
    pub order_type: OrderType,
    pub price: Price,
    pub qty: Qty,
    pub filled: Qty,
    pub state: OrderState,
    pub sent_ms: u64,
    pub ts_signal: u64,
    pub ts_frame: u64,
    pub acked: bool,
    pub any_fill: bool,
    /// The last reconcile round whose venue open-order list named this order.
    pub seen_round: u64,
    /// Unix ms of the last cancel or state read sent for this order (0: none).
    pub asked_ms: u64,
}

impl OpenOrder {
    pub fn remaining(&self) -> Qty {
        crate::model::Fixed((self.qty.raw() - self.filled.raw()).max(0))
    }
}

const CLOSED: usize = 512;
const TRADE_IDS: usize = 4096;

pub struct OpenOrders {
    slots: Vec<Option<OpenOrder>>,
    live: usize,
    closed: Vec<OpenOrder>,
    closed_next: usize,
    /// The last [`TRADE_IDS`] trade ids, oldest first from `trade_next` (a ring), and the same
    /// ids as a set: a fill is checked in O(1), not against all 4 096.
    trade_ids: Vec<u64>,
    trade_next: usize,
    trade_seen: HashSet<u64>,
}

impl OpenOrders {
    pub fn new(capacity: usize) -> Self {
        OpenOrders {
            slots: vec![None; capacity],
            live: 0,
            closed: Vec::with_capacity(CLOSED),
            closed_next: 0,
            trade_ids: vec![0; TRADE_IDS],
            trade_next: 0,
            // Twice the ids it holds: deletions then never make it grow (hashbrown rehashes in
            // place while at most half its capacity is live), so no fill allocates.
            trade_seen: HashSet::with_capacity(2 * TRADE_IDS),
        }
    }

    pub fn len(&self) -> usize {
        self.live
    }
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// `false` when the table is full.
    pub fn insert(&mut self, o: OpenOrder) -> bool {
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(s) => {
                *s = Some(o);
                self.live += 1;
                true
            }
            None => false,
        }
    }

    /// The slot of a live order, by client id when given, else by exchange id.
    pub fn find(&self, oid: &ClientOid, exchange_id: u64) -> Option<usize> {
        self.slots.iter().position(|s| {
            s.as_ref().is_some_and(|o| {
                (!oid.is_empty() && o.client_oid == *oid)
                    || (oid.is_empty() && exchange_id != 0 && o.exchange_id == exchange_id)
            })
        })
    }

    pub fn get_mut(&mut self, slot: usize) -> &mut OpenOrder {
        // Slots come from `find`/`iter_slots`, which only return occupied ones.
        self.slots[slot].as_mut().expect("occupied slot")
    }

    /// Removes a finished order, remembering it for late fills.
    pub fn close(&mut self, slot: usize) -> Option<OpenOrder> {
        let o = self.slots[slot].take()?;
        self.live -= 1;
        if self.closed.len() < CLOSED {
            self.closed.push(o);
        } else {
            self.closed[self.closed_next] = o;
        }
        self.closed_next = (self.closed_next + 1) % CLOSED;
        Some(o)
    }

    /// A recently closed order, for a fill that arrives after the final state.
    pub fn find_closed(&self, oid: &ClientOid, exchange_id: u64) -> Option<OpenOrder> {
        self.closed
            .iter()
            .rev()
            .find(|o| {
                (!oid.is_empty() && o.client_oid == *oid)
                    || (exchange_id != 0 && o.exchange_id == exchange_id)
            })
            .copied()
    }

    /// True the first time a trade id is seen (within the last 4096 trades; 0 is not a trade
    /// id and never counts as new).
    pub fn first_sighting(&mut self, trade_id: u64) -> bool {
        if trade_id == 0 || !self.trade_seen.insert(trade_id) {
            return false;
        }
        let evicted = std::mem::replace(&mut self.trade_ids[self.trade_next], trade_id);
        if evicted != 0 {
            self.trade_seen.remove(&evicted);
        }
        self.trade_next = (self.trade_next + 1) % TRADE_IDS;
        true
    }

    pub fn iter(&self) -> impl Iterator<Item = &OpenOrder> {
        self.slots.iter().flatten()
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn get(&self, slot: usize) -> Option<&OpenOrder> {
        self.slots.get(slot).and_then(|s| s.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trade_id_counts_once_within_the_last_4096() {
        let mut t = OpenOrders::new(8);
        assert!(t.first_sighting(7));
        assert!(!t.first_sighting(7), "seen");
        assert!(!t.first_sighting(0), "0 is no trade id");
        for id in 1_000..1_000 + TRADE_IDS as u64 - 1 {
            assert!(t.first_sighting(id));
        }
        assert!(!t.first_sighting(7), "still among the last 4096");
        assert!(t.first_sighting(99_999), "pushes 7 out");
        assert!(t.first_sighting(7), "forgotten: new again");
        assert!(!t.first_sighting(1_001), "a recent one is still known");
        assert!(t.trade_seen.len() <= TRADE_IDS);
    }
}
