//! [`SimError`]: why a simulator server did not start.

use crate::model::InvalidSetting;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// `[sim]` (or the markets it serves) is not usable: fix the configuration.
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    /// A server cannot listen on its address (in use, not local, not an address). `server`:
    /// "REST", "WS", "Binance WS", "Binance REST".
    #[error("sim {server} on {addr}: {source}")]
    Bind {
        server: &'static str,
        addr: String,
        #[source]
        source: io::Error,
    },
    /// A listening socket cannot be set up (non-blocking mode, its local address).
    #[error("sim {server}: {source}")]
    Socket {
        server: &'static str,
        #[source]
        source: io::Error,
    },
    /// The HTTP server listens somewhere other than an IP address.
    #[error("sim {server}: not an IP address")]
    NotIp { server: &'static str },
    /// A server thread could not be started.
    #[error("sim thread {thread}: {source}")]
    Spawn {
        thread: String,
        #[source]
        source: io::Error,
    },
}

impl SimError {
    /// A `map_err` adapter for `TcpListener::bind(addr)`.
    pub(crate) fn bind(server: &'static str, addr: &str) -> impl FnOnce(io::Error) -> SimError {
        let addr = addr.to_string();
        move |source| SimError::Bind {
            server,
            addr,
            source,
        }
    }

    /// A `map_err` adapter for `tiny_http::Server::http(addr)`, whose error is boxed (an
    /// `io::Error` inside, as far as tiny_http goes).
    pub(crate) fn bind_http(
        server: &'static str,
        addr: &str,
    ) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> SimError {
        let addr = addr.to_string();
        move |e| SimError::Bind {
            server,
            addr,
            source: match e.downcast::<io::Error>() {
                Ok(e) => *e,
                Err(e) => io::Error::other(e),
            },
        }
    }

    /// A `map_err` adapter for a listener's setup calls.
    pub(crate) fn socket(server: &'static str) -> impl FnOnce(io::Error) -> SimError {
        move |source| SimError::Socket { server, source }
    }

    /// A `map_err` adapter for `thread::Builder::spawn`.
    pub(crate) fn spawn(thread: &str) -> impl FnOnce(io::Error) -> SimError {
        let thread = thread.to_string();
        move |source| SimError::Spawn { thread, source }
    }
}
