//! `arbline record`: a JetStream durable consumer that writes the engine's events to
//! PostgreSQL, acknowledging only what is committed.
//!
//! The engine's forwarder publishes one JSON object per event on the `[nats] stream` stream
//! (`{"instance", "run", "kind", "seq", "ts_ms", …}`, header `Nats-Msg-Id:
//! {instance}.{run}.{kind}.{seq}`). Each kind has its table ([`schema::TABLES`]) with
//! `UNIQUE (instance, run, seq)`, so writing an event twice is a no-op and redelivery after a
//! crash is harmless. The loop is described step by step in [`recorder`].
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use arbline::config::NatsConfig;
//! use arbline::record::{self, PgTarget, RecordOptions};
//!
//! let opts = RecordOptions::new(NatsConfig::default(), PgTarget::from_env()?);
//! let stop = AtomicBool::new(false); // raise it to stop after the current batch
//! let counters = record::run(&opts, &stop)?;
//! println!("{counters}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod config;
pub mod consumer;
pub mod counters;
pub mod error;
pub mod event;
pub mod recorder;
pub mod schema;
pub mod writer;

pub use config::{PgTarget, RecordOptions};
pub use consumer::stream_config;
pub use counters::Counters;
pub use error::RecordError;

use std::sync::atomic::AtomicBool;

/// Runs the recorder on a current-thread tokio runtime of its own until `stop` is raised;
/// blocks the calling thread. Returns the final counters.
pub fn run(opts: &RecordOptions, stop: &AtomicBool) -> Result<Counters, RecordError> {
    opts.validate()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RecordError::Runtime)?;
    rt.block_on(recorder::Recorder::new(opts, stop).run())
}
