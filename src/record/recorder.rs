//! The recorder's loop: fetch a batch, write it in one transaction, commit, then acknowledge.
//!
//! 1. Connect to NATS (stream and durable consumer created when missing) and to PostgreSQL
//!    (tables created when missing). A failed or lost connection is retried with a backoff
//!    that doubles from 100 ms up to `max_backoff` (±25 % jitter, [`Backoff`]); nothing is acknowledged meanwhile.
//! 2. Fetch up to `batch` messages, or what arrives within `fetch_wait`.
//! 3. Parse each message ([`super::event::parse`]); the malformed ones are counted, logged
//!    (subject, stream sequence and reason, never the payload) and kept in `bad_messages`.
//! 4. Write the whole batch in one transaction and commit ([`super::writer::Writer::write`]).
//!    If PostgreSQL goes away, reconnect and write the same batch again.
//! 5. Acknowledge each message. A crash between 4 and 5 means the batch is delivered again
//!    after the ack wait, and `ON CONFLICT DO NOTHING` makes the second write a no-op.
//!
//! The stop flag is read before each fetch: a batch already fetched is finished (written and
//! acknowledged) first. If PostgreSQL is down when the stop comes, the batch is left
//! unacknowledged, to be delivered again.

use super::config::{RecordOptions, redact_url};
use super::consumer::Source;
use super::counters::Counters;
use super::error::RecordError;
use super::event;
use super::writer::{Entry, WriteError, Writer, Written};
use crate::pipeline::backoff::Backoff;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);

fn wall_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64)
}
const BAD_LOGGED_PER_BATCH: usize = 10;

pub struct Recorder<'a> {
    opts: &'a RecordOptions,
    stop: &'a AtomicBool,
    counters: Counters,
    source: Option<Source>,
    writer: Option<Writer>,
    backoff: Backoff,
    last_stats: Instant,
}

impl<'a> Recorder<'a> {
    pub fn new(opts: &'a RecordOptions, stop: &'a AtomicBool) -> Recorder<'a> {
        Recorder {
            opts,
            stop,
            counters: Counters::default(),
            source: None,
            writer: None,
            // Seeded per process: two recorders sharing the durable consumer retry apart.
            backoff: Backoff::new(
                FIRST_BACKOFF,
                opts.max_backoff.max(FIRST_BACKOFF),
                u64::from(std::process::id()) << 32 ^ wall_nanos(),
            ),
            last_stats: Instant::now(),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Runs until the stop flag is raised (or the crash hook fires); returns the counters.
    /// Fails only on what retrying cannot mend (a table of another layout in the way). Every
    /// NATS failure is retried, whatever [`RecordError::is_retryable`] says of it: the server,
    /// its accounts and the stream can be fixed while the recorder waits, and each round logs
    /// why it failed.
    pub async fn run(mut self) -> Result<Counters, RecordError> {
        let o = self.opts;
        tracing::info!(
            "record: NATS {} stream {} durable {} -> PostgreSQL {} (batch {})",
            redact_url(&o.nats.url),
            o.nats.stream,
            o.durable,
            o.pg.describe(),
            o.batch
        );
        while !self.stopped() {
            self.print_stats_when_due();
            if self.source.is_none() {
                match Source::connect(o).await {
                    Ok(s) => {
                        tracing::info!("record: NATS connected");
                        self.source = Some(s);
                        self.backoff.reset();
                    }
                    Err(e) => {
                        self.retry_later(&e).await;
                        continue;
                    }
                }
            }
            if !self.connect_pg().await? {
                continue;
            }
            let Some(source) = &self.source else { continue };
            let msgs = match source.fetch(o.batch, o.fetch_wait).await {
                Ok(m) => m,
                Err(e) => {
                    self.source = None;
                    self.retry_later(&format!("NATS {e}")).await;
                    continue;
                }
            };
            if msgs.is_empty() {
                continue;
            }
            let received_ms = now_ms();
            let entries: Vec<Entry> = msgs
                .iter()
                .map(|m| {
                    let (stream_seq, delivered) = m
                        .info()
                        .map(|i| (i.stream_sequence, i.delivered))
                        .unwrap_or((0, 1));
                    if delivered > 1 {
                        self.counters.redelivered += 1;
                    }
                    Entry {
                        stream_seq,
                        subject: m.subject.as_str(),
                        payload: &m.payload,
                        received_ms,
                        parsed: event::parse(m.subject.as_str(), &m.payload, received_ms),
                    }
                })
                .collect();
            self.counters.received += entries.len() as u64;
            let Some(w) = self.write(&entries).await? else {
                break; // stopped while PostgreSQL was away: the batch is delivered again later
            };
            self.counted(w, &entries);
            if self.opts.crash_after_commits == Some(self.counters.batches) {
                tracing::warn!(
                    "record: crash_after_commits reached: stopping before the acknowledgements"
                );
                return Ok(self.counters);
            }
            if let Some(source) = &self.source
                && let Err(e) = source.ack(&msgs).await
            {
                // Committed but unacknowledged: delivered again, written as a no-op.
                self.source = None;
                self.retry_later(&format!("NATS {e}")).await;
            }
        }
        tracing::info!("record: stopped: {}", self.counters);
        Ok(self.counters)
    }

    /// Ensures a PostgreSQL connection; `Ok(false)` when it failed and a retry was waited for.
    async fn connect_pg(&mut self) -> Result<bool, RecordError> {
        if self.writer.as_ref().is_some_and(|w| !w.is_closed()) {
            return Ok(true);
        }
        self.writer = None;
        match Writer::connect(&self.opts.pg, &self.opts.nats.stream).await {
            Ok(w) => {
                tracing::info!("record: PostgreSQL connected, tables ready");
                self.writer = Some(w);
                self.backoff.reset();
                Ok(true)
            }
            Err(e) => {
                let e = self.postgres(e);
                if !e.is_retryable() {
                    return Err(e);
                }
                self.retry_later(&e).await;
                Ok(false)
            }
        }
    }

    fn postgres(&self, source: WriteError) -> RecordError {
        RecordError::Postgres {
            target: self.opts.pg.describe(),
            source,
        }
    }

    /// Writes the batch, reconnecting to PostgreSQL as often as it takes; `None` if the stop
    /// flag was raised before the batch could be committed.
    async fn write(&mut self, entries: &[Entry<'_>]) -> Result<Option<Written>, RecordError> {
        loop {
            if let Some(w) = self.writer.as_mut() {
                match w.write(entries).await {
                    Ok(written) => return Ok(Some(written)),
                    Err(e) => {
                        let e = self.postgres(e);
                        if !e.is_retryable() {
                            return Err(e);
                        }
                        self.writer = None;
                        self.retry_later(&e).await;
                    }
                }
            }
            if self.stopped() {
                return Ok(None);
            }
            self.connect_pg().await?;
        }
    }

    fn counted(&mut self, w: Written, entries: &[Entry<'_>]) {
        let c = &mut self.counters;
        c.batches += 1;
        c.written += w.rows;
        c.duplicates += w.duplicates;
        c.bad += w.bad;
        let bad = entries
            .iter()
            .filter_map(|e| match &e.parsed {
                Err(why) => Some((e.subject, e.stream_seq, why.0.as_str())),
                Ok(_) => None,
            })
            .chain(w.refused.iter().map(|(seq, why)| {
                let subject = entries
                    .iter()
                    .find(|e| e.stream_seq == *seq)
                    .map_or("?", |e| e.subject);
                (subject, *seq, why.as_str())
            }));
        // A forwarder gone wrong could make every message bad: say enough to find them.
        let mut shown = 0;
        for (subject, seq, why) in bad {
            shown += 1;
            if shown <= BAD_LOGGED_PER_BATCH {
                tracing::warn!(
                    "record: bad message on {subject} (stream seq {seq}): {why}; kept in bad_messages"
                );
            }
        }
        if shown > BAD_LOGGED_PER_BATCH {
            tracing::warn!(
                "record: … and {} more bad messages in this batch, kept in bad_messages",
                shown - BAD_LOGGED_PER_BATCH
            );
        }
    }

    /// Counts a failure, says so, and waits the backoff (less if the stop flag goes up).
    async fn retry_later(&mut self, what: &dyn std::fmt::Display) {
        self.counters.reconnects += 1;
        let wait = self.backoff.next_wait();
        tracing::warn!("record: {what}; retrying in {} ms", wait.as_millis());
        let until = Instant::now() + wait;
        while Instant::now() < until && !self.stopped() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn print_stats_when_due(&mut self) {
        let every = self.opts.stats_interval;
        if !every.is_zero() && self.last_stats.elapsed() >= every {
            tracing::info!("record: {}", self.counters);
            self.last_stats = Instant::now();
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
