//! [`RecordError`]: what went wrong between NATS JetStream and PostgreSQL, classified by
//! [`RecordError::is_retryable`]: a transport, a timeout or a server that is away passes by
//! itself; bad configuration, refused credentials and a schema in the way do not.

use super::writer::WriteError;
use crate::model::InvalidSetting;
use async_nats::jetstream::context::{CreateStreamError, CreateStreamErrorKind};
use async_nats::jetstream::stream::{ConsumerError, ConsumerErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The options (`[nats]`, `--durable`, `--batch`, the PostgreSQL target) are not usable.
    #[error(transparent)]
    Config(#[from] InvalidSetting),
    /// The async runtime could not start (threads, timers): the host, not the services.
    #[error("record: cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// No NATS connection. `url` is shown without its `user:password@`.
    #[error("NATS {url}: {source}")]
    NatsConnect {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    /// The stream could not be found or created. (JetStream's errors are boxed: they are
    /// large, and the error travels up every `?`.)
    #[error("NATS {url}: stream {stream}: {source}")]
    Stream {
        url: String,
        stream: String,
        #[source]
        source: Box<CreateStreamError>,
    },
    /// The durable consumer could not be found or created.
    #[error("NATS {url}: consumer {durable} on stream {stream}: {source}")]
    Consumer {
        url: String,
        durable: String,
        stream: String,
        #[source]
        source: Box<ConsumerError>,
    },
    /// A batch could not be fetched (the connection went away, the consumer was deleted).
    #[error("fetch: {0}")]
    Fetch(#[source] async_nats::Error),
    /// Acknowledgements could not be sent or flushed.
    #[error("ack: {0}")]
    Ack(#[source] async_nats::Error),
    /// PostgreSQL refused the connection, the schema or the batch. `target` is
    /// `user@host:port/dbname`, never the password.
    #[error("PostgreSQL {target}: {source}{}", schema_hint(.source))]
    Postgres {
        target: String,
        #[source]
        source: WriteError,
    },
}

/// What to do about a table of another layout.
fn schema_hint(e: &WriteError) -> &'static str {
    match e {
        WriteError::Terminal(_) => {
            " (a table of another layout is in the way: migrate it, or record into another \
             database or schema)"
        }
        _ => "",
    }
}

impl RecordError {
    /// Whether the same step later can succeed: NATS or PostgreSQL away, a timeout, a lost
    /// connection. Not: the options, the runtime, a URL NATS cannot parse, refused credentials
    /// or TLS setup, a stream or consumer name JetStream refuses, a table of another layout.
    pub fn is_retryable(&self) -> bool {
        use async_nats::ConnectErrorKind as C;
        match self {
            RecordError::Config(_) | RecordError::Runtime(_) => false,
            RecordError::NatsConnect { source, .. } => {
                matches!(
                    source.kind(),
                    C::TimedOut | C::Dns | C::Io | C::MaxReconnects
                )
            }
            RecordError::Stream { source, .. } => !matches!(
                source.kind(),
                CreateStreamErrorKind::EmptyStreamName
                    | CreateStreamErrorKind::InvalidStreamName
                    | CreateStreamErrorKind::DomainAndExternalSet
            ),
            RecordError::Consumer { source, .. } => !matches!(
                source.kind(),
                ConsumerErrorKind::InvalidConsumerType | ConsumerErrorKind::InvalidName
            ),
            RecordError::Fetch(_) | RecordError::Ack(_) => true,
            RecordError::Postgres { source, .. } => !matches!(source, WriteError::Terminal(_)),
        }
    }
}
