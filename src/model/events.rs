//! Fixed-size `Copy` events: everything that crosses a ring.
//!
//! Ring slots are pre-allocated by a factory (`Default`) and overwritten in place, so an event
//! must own all its data: no `Vec`, no `String`, no `Box`. A depth frame with more levels than
//! one [`MdEvent`] holds is split into consecutive chunks of the same frame (`chunk` counts up
//! from 0, `last_chunk` marks the end); the book stage treats the chunks of one frame as one
//! atomic update.
//!
//! Every event carries `ts_frame`, the raw TSC reading (quanta `Clock::raw`) taken when the
//! socket read that completed the frame returned — below TLS and WebSocket decoding
//! (`feed::ws_conn::StampedTcp`) — or when the synthetic venue generated it, so every
//! later stage can measure its own latency and the order stage can measure tick-to-trade.

use super::fixed::{Fixed, Price, Qty};
use super::instrument::InstrumentId;
use super::order_types::{ClientOid, OrderState, OrderType, Side, Strategy, WalletType};
use super::system_event::SystemEvent;
use super::venue::Venue;

/// One price level: absolute quantity at a price (`qty == 0` removes the level).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    pub price: Price,
    pub qty: Qty,
}

/// Levels carried by one [`MdEvent`] chunk (bids and asks together): enough for a
/// `bookTicker` (2) or a trade (1) in one slot, and what keeps the slot at 128 bytes (two
/// cache lines) beside its 72-byte header. Deeper frames span several slots.
pub const MD_LEVELS: usize = 3;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum MdKind {
    /// An unused slot.
    #[default]
    None = 0,
    /// Full book: replaces the local ladder (MAX WS `snapshot`, Binance REST depth).
    BookSnapshot = 1,
    /// Incremental depth: absolute sizes per level (MAX `update`, Binance `depthUpdate`).
    BookUpdate = 2,
    /// Best bid/offer only (Binance `bookTicker`): `bids[0]`, `asks[0]`.
    BookTicker = 3,
    /// A public trade: `levels[0]` is price and quantity, `side` the taker side when known.
    Trade = 4,
    /// A reference rate (USD/TWD): `levels[0].price` is the rate.
    RefRate = 5,
    /// The feed serving `instrument` lost its connection: that book is stale until its next
    /// snapshot. A feed sends one per book it served, `last_chunk` on the last.
    FeedDown = 6,
}

/// Market data: feed → md ring → book. One ring slot: 128 bytes, aligned to a cache line so a
/// slot never shares a line with its neighbours (checked below).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(align(64))]
pub struct MdEvent {
    pub kind: MdKind,
    pub venue: Venue,
    pub instrument: InstrumentId,
    /// Index of this chunk within its frame, from 0.
    pub chunk: u16,
    /// True on the frame's final chunk (also on single-chunk frames).
    pub last_chunk: bool,
    /// Taker side for trades.
    pub side: Side,
    /// MAX `fi`; Binance `U`.
    pub first_id: u64,
    /// MAX `li`; Binance `u`, or `lastUpdateId` of a snapshot.
    pub last_id: u64,
    /// Binance futures `pu` (`-1` = none, as on COIN-M); unused elsewhere.
    pub prev_id: i64,
    /// MAX book `v` (book engine instance); 0 elsewhere.
    pub version: u64,
    /// Exchange event time in ms (MAX `T`, Binance `E`), 0 when the venue sends none.
    pub exch_ts_ms: u64,
    /// TSC when the socket read that completed the frame returned (before TLS and WebSocket
    /// decoding).
    pub ts_frame: u64,
    /// TSC when this event was published (after parsing).
    pub ts_parsed: u64,
    pub n_bids: u8,
    pub n_asks: u8,
    /// `levels[..n_bids]` are bids, `levels[n_bids..n_bids + n_asks]` asks.
    pub levels: [Level; MD_LEVELS],
}

/// Bytes of one md ring slot.
pub const MD_SLOT_BYTES: usize = 128;
const _: () = assert!(std::mem::size_of::<MdEvent>() == MD_SLOT_BYTES);

impl MdEvent {
    #[inline]
    pub fn bids(&self) -> &[Level] {
        &self.levels[..self.n_bids as usize]
    }
    #[inline]
    pub fn asks(&self) -> &[Level] {
        &self.levels[self.n_bids as usize..(self.n_bids + self.n_asks) as usize]
    }
}

/// Health of a local book as published to the scanner. No signal is taken from a book that is
/// not `Live`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum BookStatus {
    /// Waiting for a snapshot (start, after a gap, version change or reconnect).
    #[default]
    Resyncing = 0,
    /// In sync and not crossed.
    Live = 1,
    /// In sync by sequence but best bid ≥ best ask: an integrity error, not tradable.
    Crossed = 2,
    /// A snapshot with no levels (MAX asks to clear and wait for the next snapshot).
    Empty = 3,
    /// In sync, but its feed has been silent longer than the watchdog allows: not tradable
    /// until data flows again.
    Stale = 4,
}

/// Top of book: book → book ring → scanner. Also carries reference rates (`bid == ask`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookTop {
    pub venue: Venue,
    pub instrument: InstrumentId,
    pub status: BookStatus,
    /// Best bid; zero price and quantity when the side is empty.
    pub bid: Level,
    /// Best ask; zero price and quantity when the side is empty.
    pub ask: Level,
    /// Sequence id of the last applied update.
    pub last_id: u64,
    pub exch_ts_ms: u64,
    pub ts_frame: u64,
    /// TSC when the book stage published this top.
    pub ts_book: u64,
}

impl BookTop {
    /// The strategies' market time: when the frame that moved this top was read (`ts_frame`),
    /// never after `now` (both raw clock readings). Averages, cooldowns and trading hours run
    /// on it, so queueing on a busy host does not bend them and a replay of the frames
    /// computes the same values; freshness stays on `now` (a top that waited is older).
    #[inline]
    pub fn market_raw(&self, now: u64) -> u64 {
        if self.ts_frame == 0 {
            now
        } else {
            self.ts_frame.min(now)
        }
    }

    /// Mid price as `f64`, `None` unless both sides exist.
    #[inline]
    pub fn mid_f64(&self) -> Option<f64> {
        if self.bid.price.raw() > 0 && self.ask.price.raw() > 0 {
            Some((self.bid.price.to_f64() + self.ask.price.to_f64()) * 0.5)
        } else {
            None
        }
    }
}

/// A trading decision: scanner → signal ring → order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Signal {
    pub seq: u64,
    pub strategy: Strategy,
    /// The MAX market to trade.
    pub instrument: InstrumentId,
    /// The market that sets its fair value (Binance for arbitrage, the reference rate for the
    /// stable-coin premium): the signal log records its top.
    pub leader: InstrumentId,
    pub wallet: WalletType,
    pub side: Side,
    pub order_type: OrderType,
    /// Limit price, on the market's tick.
    pub price: Price,
    /// Quantity, on the market's lot.
    pub qty: Qty,
    /// Fair value the scanner computed (quote currency), for logs and marks.
    pub fair_value: f64,
    /// Deviation from fair value beyond fees, in basis points.
    pub edge_bps: f64,
    /// Multiply a quote-currency amount by this to get USDT (1 for USDT markets, 1/USDTTWD for
    /// TWD markets): the order stage measures exposure in USDT.
    pub quote_to_usdt: f64,
    /// The band the price had to clear, in bps (arbitrage: the threshold around fair value;
    /// stable coin: the buy-below or sell-above band of the side taken). For the signal log.
    pub threshold_bps: f64,
    /// The EWMA state the decision used (arbitrage: the basis mean, ln(MAX / leader); stable
    /// coin: the premium centre in bps). For the signal log.
    pub center: f64,
    pub ts_frame: u64,
    /// TSC when the scanner published the signal.
    pub ts_signal: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum GatewayCmdKind {
    #[default]
    New = 0,
    Cancel = 1,
    /// Read the order's state back from the venue (the reconciler found it missing).
    Query = 2,
}

/// What the order stage hands to a gateway thread: a complete, validated request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderRequest {
    pub kind: GatewayCmdKind,
    pub client_oid: ClientOid,
    /// Known once acknowledged; 0 before. Cancels use it when present, the client id otherwise.
    pub exchange_order_id: u64,
    pub strategy: Strategy,
    pub instrument: InstrumentId,
    pub wallet: WalletType,
    pub side: Side,
    pub order_type: OrderType,
    pub price: Price,
    pub qty: Qty,
    pub ts_frame: u64,
    /// TSC when handed to the gateway.
    pub ts_handed: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum ExecKind {
    #[default]
    None = 0,
    /// The venue accepted the order (REST 201 / `order_update` with state `wait`).
    Ack = 1,
    /// The venue refused the order (`reject_code` holds its error code).
    Reject = 2,
    /// A trade on one of our orders.
    Fill = 3,
    /// The venue confirmed the order is cancelled (`cancel` state).
    Cancelled = 4,
    /// The venue refused a cancel (e.g. already done).
    CancelReject = 5,
    /// An order state update with no fill (e.g. `done` after the last trade).
    StateUpdate = 6,
    /// Reconciler: the venue lists this order as open (`price`, `qty` = remaining volume,
    /// `state`, `trade_id` = the round).
    VenueOpen = 7,
    /// Reconciler: end of a round (`trade_id` = the round, `venue_ts_ms` = local Unix ms when
    /// its open-order lists were requested).
    ReconcileEnd = 8,
    /// A trade read from the venue's REST trade list: applied like `Fill` (once per trade id)
    /// and reported when it was news.
    VenueFill = 9,
}

/// `ExecEvent::reject_code` of an order the gateway refused before sending for want of a
/// rate-limit token (MAX's own codes have four digits; this is HTTP's "too many requests").
pub const REJECT_RATE_LIMITED: u32 = 429;

/// Venue answers: gateway / private feed → exec ring → order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecEvent {
    pub kind: ExecKind,
    pub client_oid: ClientOid,
    pub exchange_order_id: u64,
    pub instrument: InstrumentId,
    pub side: Side,
    /// Venue state after this event, when it says.
    pub state: OrderState,
    /// Trade id of a fill: fills are applied once per id, whatever arrives twice.
    pub trade_id: u64,
    /// Fill price and quantity.
    pub price: Price,
    pub qty: Qty,
    /// Fee of a fill, in quote currency.
    pub fee: Fixed,
    /// Venue error code of a reject; [`REJECT_RATE_LIMITED`] when the gateway refused it before
    /// sending for want of a rate-limit token, 0 for other refusals before sending.
    pub reject_code: u32,
    pub wallet: WalletType,
    pub venue_ts_ms: u64,
    /// TSC when the frame carrying this answer was read.
    pub ts_recv: u64,
    /// On the live gateway's answer to a new order: TSC when the request's bytes were written
    /// to the venue's socket; 0 when unknown (the in-process venue has no socket).
    pub ts_sent: u64,
}

/// A position as the order stage keeps it, published on every change.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PositionSnapshot {
    pub strategy: Strategy,
    pub wallet: WalletType,
    pub instrument: InstrumentId,
    /// Signed base quantity.
    pub qty: Qty,
    pub avg_price: Price,
    pub fees: Fixed,
    pub realized_pnl: f64,
    pub unrealized_pnl: f64,
    /// The strategy's allocation for this instrument (base quantity).
    pub limit: Qty,
}

/// A stage's running totals, for the metrics: cumulative, so one lost in a full queue loses
/// nothing. Sent at most every 100 ms per feed, and with each top the book stage samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tally {
    /// A feed's frames read, md events published and frames its parser refused.
    Feed {
        venue: Venue,
        /// MAX's private (user) stream rather than market data.
        private: bool,
        /// Which of the venue's feeds (0 with one): each sends its own running totals.
        group: u16,
        frames: u64,
        md_events: u64,
        parse_errors: u64,
    },
    /// The md events the book stage applied to one instrument.
    Book {
        instrument: InstrumentId,
        md_events: u64,
    },
    /// A stage's latency since start, from its own histogram, for one segment (the
    /// `telemetry::Segment` code): samples, and ns at p50, p99, p99.9 and max. `source`: the
    /// feed's venue for the parse segment, `None` for the engine's stages. Sent every second.
    Latency {
        segment: u8,
        source: Option<Venue>,
        /// Which of the source's feeds (0 with one, and for the engine's stages).
        group: u16,
        count: u64,
        p50: u64,
        p99: u64,
        p999: u64,
        max: u64,
    },
}

/// What hot threads hand to the side thread through their lossy telemetry queues.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Telemetry {
    /// A book top, sampled by the book stage for the market-data subjects.
    Top(BookTop),
    Signal(Signal),
    OrderSent(OrderRequest),
    Exec(ExecEvent),
    Position(PositionSnapshot),
    System(SystemEvent),
    /// Running totals for the metrics; never published on the bus.
    Tally(Tally),
}
