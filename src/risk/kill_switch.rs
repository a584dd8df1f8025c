//! The kill switch: `Active` → `Reducing` (only position-reducing orders) → `Halted` (none),
//! from P&L limits or by hand. It only moves towards safety by itself; going back to `Active`
//! is an operator's decision (a restart or an explicit `reset`).

use crate::model::TradingState;

pub struct KillSwitch {
    state: TradingState,
    reason: &'static str,
    max_loss: f64,
    reduce_only_loss: f64,
}

impl KillSwitch {
    pub fn new(max_loss_usdt: f64, reduce_only_loss_usdt: f64) -> Self {
        KillSwitch {
            state: TradingState::Active,
            reason: "",
            max_loss: max_loss_usdt,
            reduce_only_loss: reduce_only_loss_usdt,
        }
    }

    pub fn state(&self) -> TradingState {
        self.state
    }
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// Moves to at least `to`; returns true when the state changed.
    pub fn escalate(&mut self, to: TradingState, reason: &'static str) -> bool {
        if (to as u8) > (self.state as u8) {
            self.state = to;
            self.reason = reason;
            true
        } else {
            false
        }
    }

    pub fn halt(&mut self, reason: &'static str) -> bool {
        self.escalate(TradingState::Halted, reason)
    }

    /// Checks total P&L (USDT); returns true when the state changed.
    pub fn on_pnl(&mut self, total_pnl_usdt: f64) -> bool {
        if !total_pnl_usdt.is_finite() {
            return self.halt("P&L is not a number");
        }
        if total_pnl_usdt <= -self.max_loss {
            self.halt("loss limit")
        } else if total_pnl_usdt <= -self.reduce_only_loss {
            self.escalate(TradingState::Reducing, "reduce-only loss limit")
        } else {
            false
        }
    }

    pub fn reset(&mut self) {
        self.state = TradingState::Active;
        self.reason = "";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalates_with_losses_and_never_relaxes_by_itself() {
        let mut k = KillSwitch::new(500.0, 250.0);
        assert!(!k.on_pnl(-100.0));
        assert!(k.on_pnl(-300.0));
        assert_eq!(k.state(), TradingState::Reducing);
        assert!(!k.on_pnl(100.0));
        assert_eq!(k.state(), TradingState::Reducing);
        assert!(k.on_pnl(-600.0));
        assert_eq!(
            (k.state(), k.reason()),
            (TradingState::Halted, "loss limit")
        );
        assert!(!k.on_pnl(f64::NAN) && k.state() == TradingState::Halted);
    }
}
