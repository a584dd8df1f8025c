//! Order stage → gateway hand-off: a bounded lock-free queue of complete requests. `push`
//! never blocks; a full queue makes the order stage reject the order locally (counted), because
//! a request that cannot be sent now should not be sent late.

use crate::model::OrderRequest;
use crossbeam::queue::ArrayQueue;
use std::sync::Arc;

pub type GatewayQueue = Arc<ArrayQueue<OrderRequest>>;

pub fn gateway_queue(capacity: usize) -> GatewayQueue {
    Arc::new(ArrayQueue::new(capacity.max(1)))
}
