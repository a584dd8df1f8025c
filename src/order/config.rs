//! `[order]`: order lifecycle settings.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderConfig {
    /// Cancel an order still unfilled (or partly filled) this long after it was sent.
    pub cancel_after_ms: u64,
    /// Live orders tracked at once (a fixed table, no allocation while trading).
    pub table_capacity: usize,
}

impl Default for OrderConfig {
    fn default() -> Self {
        OrderConfig {
            cancel_after_ms: 2000,
            table_capacity: 256,
        }
    }
}

impl OrderConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.cancel_after_ms == 0 {
            return Err("order.cancel_after_ms: must be > 0".into());
        }
        if !(1..=65_536).contains(&self.table_capacity) {
            return Err("order.table_capacity: 1..=65536".into());
        }
        Ok(())
    }
}
