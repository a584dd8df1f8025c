//! Opening a connection to a venue: TCP with the options every venue connection uses, and what
//! a failed TLS handshake means in words an operator can act on. Shared by the WebSocket feeds
//! (`feed::ws_conn`) and the order lane's HTTP client (`max::order_http`).

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Why a connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// DNS, TCP connect, a timeout, or the connection dropped during the handshake.
    #[error("connection failed: {0}")]
    Io(String),
    /// The TLS handshake failed, most often on a certificate the roots do not vouch for.
    #[error("TLS failed: {0}")]
    Tls(String),
}

/// Connects to `host:port` (each resolved address in turn) within `timeout`, with TCP_NODELAY
/// and `timeout` on reads and writes.
pub fn open_tcp(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, NetError> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| NetError::Io(format!("{host}:{port}: {e}")))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => {
                tcp.set_nodelay(true)
                    .and_then(|_| tcp.set_read_timeout(Some(timeout)))
                    .and_then(|_| tcp.set_write_timeout(Some(timeout)))
                    .map_err(|e| NetError::Io(format!("{host}:{port}: {e}")))?;
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(NetError::Io(match last {
        Some(e) => format!("{host}:{port}: {e}"),
        None => format!("{host}:{port}: the name resolves to no address"),
    }))
}

/// A failed TLS handshake, in words an operator can act on.
pub fn tls_error(host: &str, port: u16, e: io::Error) -> NetError {
    use rustls::{CertificateError, Error as TlsError};
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<TlsError>()) else {
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                NetError::Io(format!("{host}:{port}: TLS handshake timed out"))
            }
            _ => NetError::Io(format!("{host}:{port}: TLS handshake: {e}")),
        };
    };
    let hint = match tls {
        TlsError::InvalidCertificate(CertificateError::UnknownIssuer) => {
            " (the certificate is not signed by a trusted root; behind a TLS-inspecting proxy, \
             add its CA with tls_ca_file)"
        }
        TlsError::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => " (the certificate is for another host)",
        _ => "",
    };
    NetError::Tls(format!("{host}:{port}: {tls}{hint}"))
}
