//! The JetStream side: the stream (created when missing, so the recorder may start before the
//! engine), the durable pull consumer, batch fetches and acknowledgements.
//!
//! The consumer acknowledges explicitly: a message fetched and not acknowledged within the ack
//! wait is delivered again, and at most `max_ack_pending` messages are out at once. Recorders
//! that share the durable name share the work.

use super::config::{RecordOptions, redact_url};
use super::error::RecordError;
use crate::config::NatsConfig;
use async_nats::jetstream::{self, Message, consumer, stream};
use futures_util::StreamExt;
use std::time::Duration;

/// The stream the engine publishes to, as the recorder creates it when missing: every subject
/// family of [`NatsConfig::stream_subjects`], kept on file, nats-server 2.9 features only.
pub fn stream_config(nats: &NatsConfig) -> stream::Config {
    let (max_age, max_bytes) = nats.stream_limits();
    stream::Config {
        max_age,
        max_bytes,
        name: nats.stream.clone(),
        subjects: nats.stream_subjects(),
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        num_replicas: nats.stream_replicas,
        ..Default::default()
    }
}

/// A connection to NATS with the stream and the durable consumer in place.
pub struct Source {
    client: async_nats::Client,
    consumer: consumer::PullConsumer,
}

impl Source {
    pub async fn connect(opts: &RecordOptions) -> Result<Source, RecordError> {
        let url = redact_url(&opts.nats.url);
        let client = async_nats::ConnectOptions::new()
            .name("arbline-record")
            .connection_timeout(Duration::from_secs(5))
            .connect(opts.nats.servers().as_slice())
            .await
            .map_err(|source| RecordError::NatsConnect {
                url: url.clone(),
                source,
            })?;
        let js = jetstream::new(client.clone());
        let stream = js
            .get_or_create_stream(stream_config(&opts.nats))
            .await
            .map_err(|e| RecordError::Stream {
                url: url.clone(),
                stream: opts.nats.stream.clone(),
                source: Box::new(e),
            })?;
        let consumer = stream
            .get_or_create_consumer(
                &opts.durable,
                consumer::pull::Config {
                    durable_name: Some(opts.durable.clone()),
                    description: Some("arbline record: JetStream -> PostgreSQL".into()),
                    deliver_policy: consumer::DeliverPolicy::All,
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: opts.ack_wait,
                    max_ack_pending: opts.max_ack_pending,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| RecordError::Consumer {
                url,
                durable: opts.durable.clone(),
                stream: opts.nats.stream.clone(),
                source: Box::new(e),
            })?;
        Ok(Source { client, consumer })
    }

    /// Up to `max` messages: as soon as that many are there, or what arrived within `wait`.
    /// An error after some messages arrived returns those (they are written and acknowledged;
    /// the next fetch sees the error again if it persists).
    pub async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Message>, RecordError> {
        let mut batch = self
            .consumer
            .batch()
            .max_messages(max)
            .expires(wait)
            .messages()
            .await
            .map_err(|e| RecordError::Fetch(Box::new(e)))?;
        let mut out = Vec::with_capacity(max.min(1024));
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => out.push(m),
                Err(e) if out.is_empty() => return Err(RecordError::Fetch(e)),
                Err(_) => break,
            }
        }
        Ok(out)
    }

    /// Acknowledges every message and flushes, so the acks have left before this returns.
    pub async fn ack(&self, msgs: &[Message]) -> Result<(), RecordError> {
        for m in msgs {
            m.ack().await.map_err(RecordError::Ack)?;
        }
        self.client
            .flush()
            .await
            .map_err(|e| RecordError::Ack(Box::new(e)))
    }
}
