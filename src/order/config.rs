//! `[order]`: order lifecycle settings.

use crate::model::InvalidSetting;
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
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if self.cancel_after_ms == 0 {
            return Err(InvalidSetting::new("order.cancel_after_ms", "must be > 0"));
        }
        if !(1..=65_536).contains(&self.table_capacity) {
            return Err(InvalidSetting::new("order.table_capacity", "1..=65536"));
        }
        Ok(())
    }
}
