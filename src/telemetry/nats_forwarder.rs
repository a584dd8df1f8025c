//! The forwarder to NATS JetStream, run by the side thread on a current-thread tokio runtime
//! that it drives only in its idle time ([`EventSink::pump`]), so nothing here ever runs on a
//! hot thread and the hot path never waits for NATS.
//!
//! - The stream (`[nats] stream`, subjects `{prefix.}exchange.>`, `signal.>`, `order.>`,
//!   `position.>`, `latency.>`, `system.>`) is created when missing, with nats-server 2.9
//!   features only.
//! - Each message goes out with `Nats-Msg-Id: {instance}.{run}.{kind}.{seq}`; JetStream stores a
//!   message id once within its duplicate window, so a message resent after a lost
//!   acknowledgement is not stored twice.
//! - A message counts as delivered only when JetStream acknowledges it. One that fails (NATS
//!   down, ack timed out, the stream without a leader) goes back to the front of the
//!   [`Outbox`] and is sent again once the client — which reconnects by itself — is back, no
//!   sooner than [`RETRY_PAUSE`] after the failure. The outbox is bounded: market data is
//!   dropped first; orders, fills, positions and system events only past a much larger bound,
//!   and every drop is counted.

use super::bus_message::BusMessage;
use super::event_sink::{EventSink, SinkStatus};
use super::outbox::Outbox;
use crate::secrets::redact_url;
use async_nats::jetstream;
use async_nats::jetstream::context::PublishError;
use async_nats::jetstream::publish::PublishAck;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A published message and, once it resolves, JetStream's answer for it. All of them are
/// polled together, so one lost acknowledgement does not hold up the others.
type AckFuture =
    Pin<Box<dyn Future<Output = (BusMessage, Result<PublishAck, PublishError>)> + Send>>;

/// Messages published and not yet acknowledged, at most.
const MAX_IN_FLIGHT: usize = 2048;

/// After a publish that failed, how long nothing more is sent. JetStream refuses at once while
/// a stream has no leader (a replicated stream just created, an election after a node's loss:
/// "no stream found for given subject"); resending the outbox at once would loop, thousands
/// of publishes a second, until it has one.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

pub struct NatsForwarderConfig {
    /// One server, or a cluster's nodes, comma-separated.
    pub url: String,
    /// Copies of the stream, when the forwarder creates it.
    pub replicas: usize,
    /// Its limits then: max age (zero: none), max bytes (-1: none).
    pub max_age: Duration,
    pub max_bytes: i64,
    pub stream: String,
    /// The stream's subjects (`NatsConfig::stream_subjects`).
    pub subjects: Vec<String>,
    /// Outbox bounds: critical messages, market data.
    pub critical_cap: usize,
    pub md_cap: usize,
}

/// Why the forwarder did not start. A server that is down is not one of them: the client keeps
/// trying in the background ([`NatsForwarder::start`]).
#[derive(Debug, thiserror::Error)]
pub enum ForwarderError {
    /// The tokio runtime could not be built (threads, timers): the host, not NATS.
    #[error("nats forwarder runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The client refused to start: a URL it cannot parse, bad credentials, TLS setup. `url`
    /// is shown without its `user:password@`.
    #[error("nats {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
}

impl ForwarderError {
    /// Whether starting again later can succeed as it is: a timeout, DNS or the network, not a
    /// malformed URL, refused credentials, TLS setup or the runtime.
    pub fn is_retryable(&self) -> bool {
        use async_nats::ConnectErrorKind as K;
        match self {
            ForwarderError::Runtime(_) => false,
            ForwarderError::Connect { source, .. } => matches!(
                source.kind(),
                K::TimedOut | K::Dns | K::Io | K::MaxReconnects
            ),
        }
    }
}

pub struct NatsForwarder {
    rt: tokio::runtime::Runtime,
    cfg: NatsForwarderConfig,
    client: async_nats::Client,
    js: jetstream::Context,
    stream_ready: bool,
    outbox: Outbox,
    in_flight: FuturesUnordered<AckFuture>,
    delivered: u64,
    failures: u64,
    /// Times the connection was lost (the client reconnects by itself).
    disconnects: Arc<AtomicU64>,
    next_stream_try: Instant,
    /// Nothing is published before this ([`RETRY_PAUSE`] after a failure).
    next_publish: Instant,
    /// The last reason the stream could not be created, logged once per reason.
    stream_error: Option<String>,
}

impl NatsForwarder {
    /// Starts connecting to `cfg.url` in the background (a server that is down now is retried
    /// for as long as the engine runs); fails only on a malformed URL or runtime error.
    pub fn start(cfg: NatsForwarderConfig) -> Result<Self, ForwarderError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ForwarderError::Runtime)?;
        let disconnects = Arc::new(AtomicU64::new(0));
        let d = disconnects.clone();
        let client = rt
            .block_on(
                async_nats::ConnectOptions::new()
                    .name("arbline")
                    .retry_on_initial_connect()
                    .connection_timeout(Duration::from_secs(2))
                    .event_callback(move |ev| {
                        let d = d.clone();
                        async move {
                            if matches!(ev, async_nats::Event::Disconnected) {
                                d.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    })
                    .connect(servers(&cfg.url).as_slice()),
            )
            .map_err(|source| ForwarderError::Connect {
                url: redact_url(&cfg.url),
                source,
            })?;
        // The JetStream context starts tasks of its own: inside the runtime.
        let mut js = {
            let _in_runtime = rt.enter();
            jetstream::new(client.clone())
        };
        js.set_timeout(Duration::from_secs(3));
        let outbox = Outbox::new(cfg.critical_cap, cfg.md_cap);
        Ok(NatsForwarder {
            rt,
            cfg,
            client,
            js,
            stream_ready: false,
            outbox,
            in_flight: FuturesUnordered::new(),
            delivered: 0,
            failures: 0,
            disconnects,
            next_stream_try: Instant::now(),
            next_publish: Instant::now(),
            stream_error: None,
        })
    }

    fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// One round of work, bounded by `until`.
    fn work(&mut self, until: Instant) {
        let NatsForwarder {
            rt,
            cfg,
            client,
            js,
            stream_ready,
            outbox,
            in_flight,
            delivered,
            failures,
            next_stream_try,
            next_publish,
            stream_error,
            ..
        } = self;
        let connected = client.connection_state() == async_nats::connection::State::Connected;
        rt.block_on(async {
            if connected && !*stream_ready && Instant::now() >= *next_stream_try {
                let config = jetstream::stream::Config {
                    name: cfg.stream.clone(),
                    subjects: cfg.subjects.clone(),
                    num_replicas: cfg.replicas,
                    max_age: cfg.max_age,
                    max_bytes: cfg.max_bytes,
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                };
                let left = until.saturating_duration_since(Instant::now());
                let r = tokio::time::timeout(
                    left.max(Duration::from_millis(500)),
                    js.get_or_create_stream(config),
                )
                .await;
                match r {
                    Ok(Ok(_)) => *stream_ready = true,
                    other => {
                        *failures += 1;
                        *next_stream_try = Instant::now() + Duration::from_secs(1);
                        // E.g. another stream already captures these subjects: nothing can be
                        // stored until the operator fixes it, so say so (once per reason).
                        let why = match other {
                            Ok(Err(e)) => e.to_string(),
                            _ => "no answer from JetStream".to_string(),
                        };
                        if stream_error.as_deref() != Some(why.as_str()) {
                            tracing::error!(
                                stream = %cfg.stream,
                                reason = %why,
                                "bus: cannot create or open the JetStream stream; events stay queued"
                            );
                            *stream_error = Some(why);
                        }
                    }
                }
            }
            if connected && *stream_ready && Instant::now() >= *next_publish {
                while in_flight.len() < MAX_IN_FLIGHT {
                    let Some(m) = outbox.pop() else { break };
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert("Nats-Msg-Id", m.msg_id.as_str());
                    match js
                        .publish_with_headers(m.subject.clone(), headers, m.payload.clone().into())
                        .await
                    {
                        Ok(ack) => {
                            let ack = ack.into_future();
                            in_flight.push(Box::pin(async move { (m, ack.await) }));
                        }
                        Err(_) => {
                            *failures += 1;
                            *next_publish = Instant::now() + RETRY_PAUSE;
                            outbox.push_front(m);
                            break;
                        }
                    }
                }
            }
            // Collect acknowledgements until the budget is spent.
            while !in_flight.is_empty() {
                let left = until.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, in_flight.next()).await {
                    Ok(Some((_, Ok(_)))) => *delivered += 1,
                    Ok(Some((m, Err(_)))) => {
                        // Lost or refused: again later, under the same message id.
                        *failures += 1;
                        *next_publish = Instant::now() + RETRY_PAUSE;
                        outbox.push_front(m);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            // Let the client's connection task run for what is left of the budget.
            let left = until.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                tokio::time::sleep(left).await;
            }
        });
    }
}

impl EventSink for NatsForwarder {
    fn accept(&mut self, m: BusMessage) {
        self.outbox.push(m);
    }

    fn pump(&mut self, budget: Duration) {
        self.work(Instant::now() + budget);
    }

    fn flush(&mut self, deadline: Duration) {
        let end = Instant::now() + deadline;
        while Instant::now() < end && !(self.outbox.is_empty() && self.in_flight.is_empty()) {
            self.work((Instant::now() + Duration::from_millis(50)).min(end));
        }
    }

    fn status(&self) -> SinkStatus {
        let o = self.outbox.stats();
        SinkStatus {
            connected: self.connected(),
            delivered: self.delivered,
            queued: o.queued + self.in_flight.len(),
            dropped_md: o.dropped_md,
            dropped_critical: o.dropped_critical,
            reconnects: self.disconnects.load(Ordering::Relaxed),
            failures: self.failures,
        }
    }

    fn describe(&self) -> String {
        format!("nats {} stream {}", self.cfg.url, self.cfg.stream)
    }
}

/// The servers of a `nats.url`: comma-separated, blanks around them ignored.
pub fn servers(url: &str) -> Vec<String> {
    url.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect()
}
