//! The live orders of the engine, in a fixed table (no allocation while trading), plus a ring of
//! recently closed orders so that a fill reported after the order's final state still finds its
//! strategy and position, and a ring of recent trade ids so each fill is applied once.
//!
//! Every hot lookup is direct, whatever the table's size or the number of markets: an order by
//! its client id (a hash map sized at start), a free slot (a stack), the orders of one
//! (strategy, market) (a count per pair: the risk check walks the live orders only when that
//! market has one), the live orders (a dense list of their slots, for the timer).

use crate::model::{
    ClientOid, InstrumentId, OrderState, OrderType, Price, Qty, Side, Strategy, WalletType,
};
use std::collections::{HashMap, HashSet};

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
    /// Free slots, taken from the end.
    free: Vec<u32>,
    /// Occupied slots, densely, and each slot's place in it.
    live_slots: Vec<u32>,
    live_pos: Vec<u32>,
    /// Slot of each live order with a client id.
    by_oid: HashMap<ClientOid, u32>,
    /// Live orders per (instrument, strategy).
    per_market: Vec<u16>,
    closed: Vec<OpenOrder>,
    closed_next: usize,
    /// The last [`TRADE_IDS`] trade ids, oldest first from `trade_next` (a ring), and the same
    /// ids as a set: a fill is checked in O(1), not against all 4 096.
    trade_ids: Vec<u64>,
    trade_next: usize,
    trade_seen: HashSet<u64>,
}

const STRATEGIES: usize = Strategy::ALL.len();

impl OpenOrders {
    /// A table of `capacity` orders over `instruments` instruments (ids `0..instruments`).
    pub fn new(capacity: usize, instruments: usize) -> Self {
        OpenOrders {
            slots: vec![None; capacity],
            live: 0,
            free: (0..capacity as u32).rev().collect(),
            live_slots: Vec::with_capacity(capacity),
            live_pos: vec![u32::MAX; capacity],
            // Twice the orders it can hold, so it never grows (no allocation while trading).
            by_oid: HashMap::with_capacity(2 * capacity),
            per_market: vec![0; instruments * STRATEGIES],
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

    #[inline]
    fn market(o: &OpenOrder) -> usize {
        o.instrument.index() * STRATEGIES + o.strategy.index()
    }

    /// `false` when the table is full.
    pub fn insert(&mut self, o: OpenOrder) -> bool {
        let Some(slot) = self.free.pop() else {
            return false;
        };
        if let Some(n) = self.per_market.get_mut(Self::market(&o)) {
            *n += 1;
        }
        if !o.client_oid.is_empty() {
            // Two live orders with one client id: the first keeps it, as a scan would find.
            self.by_oid.entry(o.client_oid).or_insert(slot);
        }
        self.live_pos[slot as usize] = self.live_slots.len() as u32;
        self.live_slots.push(slot);
        self.slots[slot as usize] = Some(o);
        self.live += 1;
        true
    }

    /// The slot of a live order, by client id when given, else by exchange id (orders placed
    /// outside the engine carry none: the live orders are walked then).
    pub fn find(&self, oid: &ClientOid, exchange_id: u64) -> Option<usize> {
        if !oid.is_empty() {
            return self.by_oid.get(oid).map(|&s| s as usize);
        }
        if exchange_id == 0 {
            return None;
        }
        self.live_slots.iter().map(|&s| s as usize).find(|&s| {
            self.slots[s]
                .as_ref()
                .is_some_and(|o| o.exchange_id == exchange_id)
        })
    }

    /// Whether `strategy` has a live order in `instrument`: one read, not a walk.
    #[inline]
    pub fn any_in(&self, strategy: Strategy, instrument: InstrumentId) -> bool {
        self.per_market
            .get(instrument.index() * STRATEGIES + strategy.index())
            .is_some_and(|&n| n > 0)
    }

    /// The slots of the live orders, in no particular order.
    pub fn live_slots(&self) -> &[u32] {
        &self.live_slots
    }

    pub fn get_mut(&mut self, slot: usize) -> &mut OpenOrder {
        // Slots come from `find`/`iter_slots`, which only return occupied ones.
        self.slots[slot].as_mut().expect("occupied slot")
    }

    /// Removes a finished order, remembering it for late fills.
    pub fn close(&mut self, slot: usize) -> Option<OpenOrder> {
        let o = self.slots.get_mut(slot)?.take()?;
        self.live -= 1;
        self.free.push(slot as u32);
        let pos = self.live_pos[slot] as usize;
        self.live_slots.swap_remove(pos);
        if let Some(&moved) = self.live_slots.get(pos) {
            self.live_pos[moved as usize] = pos as u32;
        }
        self.live_pos[slot] = u32::MAX;
        if let Some(n) = self.per_market.get_mut(Self::market(&o)) {
            *n -= 1;
        }
        if self.by_oid.get(&o.client_oid) == Some(&(slot as u32)) {
            self.by_oid.remove(&o.client_oid);
        }
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

    fn order(oid: &str, exchange_id: u64, strategy: Strategy, instrument: u16) -> OpenOrder {
        OpenOrder {
            client_oid: ClientOid::from_bytes(oid.as_bytes()).unwrap_or_default(),
            exchange_id,
            strategy,
            instrument: InstrumentId(instrument),
            ..Default::default()
        }
    }

    #[test]
    fn orders_are_found_by_client_id_exchange_id_and_market_as_they_come_and_go() {
        let mut t = OpenOrders::new(3, 200);
        let (a, e) = (Strategy::Arbitrage, Strategy::External);
        assert!(t.insert(order("arb_spot_1", 0, a, 150)));
        assert!(t.insert(order("arb_spot_2", 0, a, 7)));
        assert!(t.insert(order("", 99, e, 7)));
        assert!(!t.insert(order("arb_spot_3", 0, a, 1)), "full");
        let oid = |s: &str| ClientOid::from_bytes(s.as_bytes()).unwrap();
        let first = t.find(&oid("arb_spot_1"), 0).unwrap();
        assert_eq!(t.get(first).unwrap().instrument, InstrumentId(150));
        assert_eq!(
            t.find(&ClientOid::default(), 99)
                .map(|s| t.get(s).unwrap().strategy),
            Some(e)
        );
        assert_eq!(t.find(&ClientOid::default(), 5), None);
        assert_eq!(t.find(&oid("arb_spot_9"), 99), None, "a client id decides");
        assert!(t.any_in(a, InstrumentId(150)) && t.any_in(a, InstrumentId(7)));
        assert!(!t.any_in(e, InstrumentId(150)) && !t.any_in(a, InstrumentId(8)));
        assert_eq!(t.close(first).unwrap().client_oid, oid("arb_spot_1"));
        assert!(t.close(first).is_none(), "closed once");
        assert!(!t.any_in(a, InstrumentId(150)));
        assert_eq!(t.find(&oid("arb_spot_1"), 0), None);
        assert!(t.find_closed(&oid("arb_spot_1"), 0).is_some());
        assert_eq!((t.len(), t.live_slots().len()), (2, 2));
        assert!(t.insert(order("arb_spot_4", 0, a, 150)), "the freed slot");
        let mut live: Vec<_> = t
            .live_slots()
            .iter()
            .map(|&s| t.get(s as usize).unwrap().client_oid)
            .collect();
        live.sort_by_key(|o| o.as_str().to_string());
        assert_eq!(
            live,
            [ClientOid::default(), oid("arb_spot_2"), oid("arb_spot_4")]
        );
    }

    #[test]
    fn a_trade_id_counts_once_within_the_last_4096() {
        let mut t = OpenOrders::new(8, 1);
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
