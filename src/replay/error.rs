//! [`ReplayVenueError`]: why the simulated MAX execution venue of a replay cannot be built.

/// A replay venue setting that cannot be used; the message names the setting so the user knows
/// what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ReplayVenueError {
    /// A fee rate that is NaN, infinite or negative. `setting`: `maker_fee_bps` or
    /// `taker_fee_bps`.
    #[error("replay venue: {setting} must be a finite number of basis points ≥ 0, got {value}")]
    InvalidFee { setting: &'static str, value: f64 },
    /// An empirical latency model with no samples to draw from.
    #[error("replay venue: an empirical latency model needs at least one latency sample")]
    NoLatencySamples,
}
