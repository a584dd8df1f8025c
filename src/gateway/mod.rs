//! The order gateway: where orders leave the engine and the venue's answers come back.
//!
//! - [`max_gateway`]: the gateway thread; takes complete order requests from the order stage's
//!   queue, sends them with the MAX REST client and writes the answers to the exec ring.
//! - [`read_lane`]: with a read key, the thread that does the gateway's reads (reconcile rounds,
//!   order queries, time sync) so that none delays an order.
//! - [`venue_reads`]: those reads, wherever they run.
//! - [`reconciler`]: compares the venue's open orders and trades with what the engine believes
//!   and repairs the difference.
//! - [`max_user_feed`]: the private user stream (MAX's authenticated WebSocket): order and trade
//!   updates onto the exec ring.
//!
//! It sits above the stages it serves (feed, order) and below the engine that wires it.

pub mod max_gateway;
pub mod max_user_feed;
pub mod read_lane;
pub mod reconciler;
pub mod venue_reads;
