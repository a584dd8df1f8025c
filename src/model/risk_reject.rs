//! Why pre-trade risk refused an order: raised by `risk`, carried to the operator in a
//! [`super::SystemKind::RiskReject`] event.

/// Why pre-trade risk refused a signal ([`crate::risk::RiskLimits::check`], in the order the checks
/// run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskReject {
    Halted,
    ReduceOnly,
    NoAllocation,
    InFlight,
    TooManyOpenOrders,
    OrderTooLarge,
    OffTick,
    BelowMinimum,
    NotionalTooLarge,
    OverAllocation,
    ShortNotAllowed,
    PortfolioExposure,
    GatewayFull,
}

impl RiskReject {
    /// Stable code: the `detail` of a `risk_reject` system event on the bus.
    pub fn code(self) -> u64 {
        self as u64 + 1
    }
    pub fn name(self) -> &'static str {
        match self {
            RiskReject::Halted => "halted",
            RiskReject::ReduceOnly => "reduce_only",
            RiskReject::NoAllocation => "no_allocation",
            RiskReject::InFlight => "in_flight",
            RiskReject::TooManyOpenOrders => "too_many_open_orders",
            RiskReject::OrderTooLarge => "order_too_large",
            RiskReject::OffTick => "off_tick",
            RiskReject::BelowMinimum => "below_minimum",
            RiskReject::NotionalTooLarge => "notional_too_large",
            RiskReject::OverAllocation => "over_allocation",
            RiskReject::ShortNotAllowed => "short_not_allowed",
            RiskReject::PortfolioExposure => "portfolio_exposure",
            RiskReject::GatewayFull => "gateway_full",
        }
    }
}
