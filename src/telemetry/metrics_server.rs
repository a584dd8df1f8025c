//! `/metrics`: a thread off the hot path that answers Prometheus's scrapes with the registry of
//! [`super::metrics::Metrics`] in the Prometheus text format (version 0.0.4). Any other path is
//! a 404. The thread stops with the engine.

use prometheus_client::encoding::prometheus_text::{CONTENT_TYPE, encode};
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsServerError {
    #[error("metrics.addr {addr}: cannot listen: {reason}")]
    Bind { addr: String, reason: String },
    #[error("metrics: cannot start its thread: {0}")]
    Spawn(#[source] std::io::Error),
}

/// A running `/metrics` endpoint.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Listens on `addr` (`host:port`; port 0 picks a free one) and serves `registry`.
    pub fn start(addr: &str, registry: Arc<Registry>) -> Result<MetricsServer, MetricsServerError> {
        let http = tiny_http::Server::http(addr).map_err(|e| MetricsServerError::Bind {
            addr: addr.into(),
            reason: e.to_string(),
        })?;
        let local = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| MetricsServerError::Bind {
                addr: addr.into(),
                reason: "not an IP address".into(),
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                let mut body = String::with_capacity(64 << 10);
                while !stop2.load(Ordering::Acquire) {
                    let req = match http.recv_timeout(Duration::from_millis(100)) {
                        Ok(Some(r)) => r,
                        Ok(None) => continue,
                        Err(e) => {
                            tracing::warn!("metrics endpoint: {e}");
                            continue;
                        }
                    };
                    let path = req.url().split('?').next().unwrap_or("");
                    let resp = if path == "/metrics" {
                        body.clear();
                        match encode(&mut body, &registry) {
                            Ok(()) => tiny_http::Response::from_string(body.as_str())
                                .with_header(header("Content-Type", CONTENT_TYPE)),
                            Err(_) => tiny_http::Response::from_string("encoding failed\n")
                                .with_status_code(500),
                        }
                    } else {
                        tiny_http::Response::from_string("arbline: metrics are at /metrics\n")
                            .with_status_code(404)
                    };
                    let _ = req.respond(resp);
                }
            })
            .map_err(MetricsServerError::Spawn)?;
        Ok(MetricsServer {
            addr: local,
            stop,
            handle: Some(handle),
        })
    }

    /// Where it listens (the port chosen when the configuration said 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and waits for the thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("static header names and values are valid")
}
