//! Operator logging with `tracing`: a console on stderr and a daily-rotated file, per-module
//! levels (`[log] filter`, or `RUST_LOG`), retention, and the separate signal log.
//!
//! **Hot threads never format or write a log line.** Feeds, book, scanner and order stages hand
//! telemetry to their lossy queues; only the side thread ([`crate::telemetry::side`]) and the
//! off-path threads (gateway, reconciler, refrate, `arbline sim`, `arbline record`) call the
//! `tracing` macros. There is no `tracing` call in any stage's `poll` path. The file layer writes
//! through `tracing_appender::non_blocking`, so even the side thread does not wait on the disk.
//!
//! Files in `[log] dir`: `{file_prefix}.YYYY-MM-DD.log` (every event the filter lets through)
//! and `signals.YYYY-MM-DD.log` ([`SignalLog`]). Files of either prefix older than
//! `retention_days` are deleted at [`init`] and then once a day ([`remove_expired`]).

pub mod config;
mod error;
mod guard;
mod retention;
mod signal_log;
mod subscriber;

pub use error::LogError;
pub use guard::LogGuard;
pub use retention::remove_expired;
pub use signal_log::{SIGNAL_PREFIX, SignalLog};
pub use subscriber::{build, init};
