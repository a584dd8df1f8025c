//! Things an operator must see — feeds, resyncs, risk, reconciliation, the kill switch — as
//! typed events: each kind carries exactly the data that belongs to it, so a count of
//! connections cannot be read as a cause code. [`SystemKind::code`] names the kind and
//! [`SystemKind::detail`] gives the one number the bus and the recorder store for it.

use super::{InstrumentId, ResyncReason, RiskReject, TradingState, Venue};

/// The name of a [`SystemKind`], without its data (the bus subject `system.{instance}.{name}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum SystemCode {
    #[default]
    Started = 0,
    FeedUp = 1,
    FeedDown = 2,
    Resync = 3,
    BookLive = 4,
    RiskReject = 5,
    TradingStateChanged = 6,
    ParseError = 7,
    Stopping = 8,
    OrderExpired = 9,
    ReconcileAdopted = 10,
    ReconcileMissing = 11,
    ReconcileFill = 12,
    ReconcileDone = 13,
    FeedRotated = 14,
    ConnectionDead = 15,
    BudgetWait = 16,
    VenueBan = 17,
    MarketNotLive = 18,
}

/// Which link a [`SystemKind::FeedUp`] / [`SystemKind::FeedDown`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedLink {
    /// The book stage's watchdog: the venue's market data stopped for longer than
    /// `stale_after` (down; its books are stale), or flows again (up).
    MarketDataSilence,
    /// The MAX private (user) stream.
    PrivateStream,
    /// A market-data connection closed (down) or opened (up); the feed's connections so far,
    /// and which of the venue's feeds it is (`group`: 0 with one; Binance spreads many symbols
    /// over several connections, one feed each).
    Connection { connects: u64, group: u16 },
    /// The book stage reset the venue's books because its feed reported the connection lost.
    BooksReset,
    /// The reference-rate source: every provider failed, `failures` polls in a row.
    ReferenceRate { failures: u64 },
    /// An in-process simulated feed started (no connection).
    InProcess,
}

impl FeedLink {
    /// The name the bus gives it (`"cause"`).
    pub fn name(self) -> &'static str {
        match self {
            FeedLink::MarketDataSilence => "market_data_silence",
            FeedLink::PrivateStream => "private_stream",
            FeedLink::Connection { .. } => "connection",
            FeedLink::BooksReset => "books_reset",
            FeedLink::ReferenceRate { .. } => "reference_rate",
            FeedLink::InProcess => "in_process",
        }
    }

    /// The bus's number: 1 silence, 2 private stream, the count for a connection or the
    /// reference rate, 0 otherwise.
    fn detail(self) -> u64 {
        match self {
            FeedLink::MarketDataSilence => 1,
            FeedLink::PrivateStream => 2,
            FeedLink::Connection { connects, .. } => connects,
            FeedLink::ReferenceRate { failures } => failures,
            FeedLink::BooksReset | FeedLink::InProcess => 0,
        }
    }
}

/// What happened, with its data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SystemKind {
    #[default]
    Started,
    Stopping,
    FeedUp(FeedLink),
    FeedDown(FeedLink),
    /// A book lost sync and waits for a new snapshot.
    Resync(ResyncReason),
    /// A book is synced and live.
    BookLive,
    /// An order refused by pre-trade risk.
    RiskReject(RiskReject),
    /// The kill switch moved (the new state is the event's `trading_state`).
    TradingStateChanged,
    /// A frame the parser refused (counted; the feed goes on).
    ParseError,
    /// An unfilled order cancelled after its time limit.
    OrderExpired,
    /// Reconciler: an open order the engine did not know, adopted.
    ReconcileAdopted {
        venue_order_id: u64,
    },
    /// Reconciler: a live order the venue no longer lists as open; its state is read back.
    ReconcileMissing {
        venue_order_id: u64,
    },
    /// Reconciler: a fill the private WebSocket had not delivered.
    ReconcileFill {
        trade_id: u64,
    },
    /// Reconciler: a round completed.
    ReconcileDone {
        round: u64,
    },
    /// A feed moved to a fresh connection without a gap (Binance's 24 h cut); the feed's
    /// rotations so far.
    FeedRotated {
        rotations: u64,
    },
    /// A connection went silent (no frame, no pong) past its liveness deadline and was closed
    /// to reconnect; the feed's dead connections so far.
    ConnectionDead {
        dead: u64,
    },
    /// A control message waited for the connection's message budget; ms waited so far in all
    /// on that feed.
    BudgetWait {
        waited_ms: u64,
    },
    /// The venue refused a connection or call with 429/418: nothing goes to it before this
    /// Unix ms.
    VenueBan {
        until_unix_ms: u64,
    },
    /// A configured market whose book has not gone live `after_ms` after start (`[engine]
    /// live_timeout_ms`): nothing serves it, or its subscription or snapshot keeps failing.
    MarketNotLive {
        after_ms: u64,
    },
}

impl SystemKind {
    pub fn code(self) -> SystemCode {
        match self {
            SystemKind::Started => SystemCode::Started,
            SystemKind::Stopping => SystemCode::Stopping,
            SystemKind::FeedUp(_) => SystemCode::FeedUp,
            SystemKind::FeedDown(_) => SystemCode::FeedDown,
            SystemKind::Resync(_) => SystemCode::Resync,
            SystemKind::BookLive => SystemCode::BookLive,
            SystemKind::RiskReject(_) => SystemCode::RiskReject,
            SystemKind::TradingStateChanged => SystemCode::TradingStateChanged,
            SystemKind::ParseError => SystemCode::ParseError,
            SystemKind::OrderExpired => SystemCode::OrderExpired,
            SystemKind::ReconcileAdopted { .. } => SystemCode::ReconcileAdopted,
            SystemKind::ReconcileMissing { .. } => SystemCode::ReconcileMissing,
            SystemKind::ReconcileFill { .. } => SystemCode::ReconcileFill,
            SystemKind::ReconcileDone { .. } => SystemCode::ReconcileDone,
            SystemKind::FeedRotated { .. } => SystemCode::FeedRotated,
            SystemKind::ConnectionDead { .. } => SystemCode::ConnectionDead,
            SystemKind::BudgetWait { .. } => SystemCode::BudgetWait,
            SystemKind::VenueBan { .. } => SystemCode::VenueBan,
            SystemKind::MarketNotLive { .. } => SystemCode::MarketNotLive,
        }
    }

    /// The one number the bus (`"detail"`) and the recorder's `detail` column keep: the
    /// resync reason's or the risk reject's code, the order or trade id, the count, the time;
    /// 0 for kinds without data (see [`SystemEvent::detail`] for a trading-state change).
    pub fn detail(self) -> u64 {
        match self {
            SystemKind::FeedUp(l) | SystemKind::FeedDown(l) => l.detail(),
            SystemKind::Resync(r) => r as u64,
            SystemKind::RiskReject(r) => r.code(),
            SystemKind::ReconcileAdopted { venue_order_id }
            | SystemKind::ReconcileMissing { venue_order_id } => venue_order_id,
            SystemKind::ReconcileFill { trade_id } => trade_id,
            SystemKind::ReconcileDone { round } => round,
            SystemKind::FeedRotated { rotations } => rotations,
            SystemKind::ConnectionDead { dead } => dead,
            SystemKind::BudgetWait { waited_ms } => waited_ms,
            SystemKind::VenueBan { until_unix_ms } => until_unix_ms,
            SystemKind::MarketNotLive { after_ms } => after_ms,
            SystemKind::Started
            | SystemKind::Stopping
            | SystemKind::BookLive
            | SystemKind::TradingStateChanged
            | SystemKind::ParseError
            | SystemKind::OrderExpired => 0,
        }
    }

    /// Which link a feed event is about.
    pub fn feed_link(self) -> Option<FeedLink> {
        match self {
            SystemKind::FeedUp(l) | SystemKind::FeedDown(l) => Some(l),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemEvent {
    pub kind: SystemKind,
    pub venue: Venue,
    pub instrument: InstrumentId,
    pub trading_state: TradingState,
    pub ts: u64,
}

impl SystemEvent {
    pub fn code(&self) -> SystemCode {
        self.kind.code()
    }

    /// [`SystemKind::detail`], and for a trading-state change the new state's number.
    pub fn detail(&self) -> u64 {
        match self.kind {
            SystemKind::TradingStateChanged => self.trading_state as u64,
            k => k.detail(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bus_numbers_are_the_ones_recorded_before_the_kinds_were_typed() {
        let cases = [
            (SystemKind::FeedDown(FeedLink::MarketDataSilence), 1),
            (SystemKind::FeedUp(FeedLink::PrivateStream), 2),
            (
                SystemKind::FeedUp(FeedLink::Connection {
                    connects: 7,
                    group: 2,
                }),
                7,
            ),
            (SystemKind::FeedDown(FeedLink::BooksReset), 0),
            (SystemKind::Resync(ResyncReason::Crossed), 4),
            (SystemKind::RiskReject(RiskReject::Halted), 1),
            (SystemKind::VenueBan { until_unix_ms: 99 }, 99),
            (SystemKind::BookLive, 0),
        ];
        for (kind, detail) in cases {
            assert_eq!(kind.detail(), detail, "{kind:?}");
        }
        assert_eq!(
            SystemKind::ReconcileDone { round: 3 }.code(),
            SystemCode::ReconcileDone
        );
    }
}
