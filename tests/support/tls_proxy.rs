//! `wss://` for tests: a test CA made with rcgen (its PEM on disk, for `tls_ca_file`), a server
//! certificate it signs for 127.0.0.1, and a TLS-terminating proxy that forwards the bytes to a
//! simulator's plain socket, so a feed speaks TLS to the simulators as it does to the venues.
//! The proxy's threads are its own: a test counting its thread's allocations does not see them.

#![allow(dead_code)]

use arbline::venue::tls::TlsTrust;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The configuration key named in a [`Pki::trust`] error.
pub const KEY: &str = "venues.max.tls_ca_file";

/// A test CA, its PEM on disk, and a server certificate it signed for 127.0.0.1 and localhost.
pub struct Pki {
    pub ca_file: String,
    pub server: Arc<ServerConfig>,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        Self::for_names(name, &["127.0.0.1", "localhost"])
    }

    pub fn for_names(name: &str, names: &[&str]) -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("arbline test CA {name}"));
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let leaf = CertificateParams::new(names)
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let ca_file = std::env::temp_dir()
            .join(format!("arbline-test-ca-{}-{name}.pem", std::process::id()))
            .to_string_lossy()
            .into_owned();
        std::fs::write(&ca_file, ca.pem()).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let chain = vec![CertificateDer::from(leaf.der().to_vec())];
        let server =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap();
        Pki {
            ca_file,
            server: Arc::new(server),
        }
    }

    pub fn trust(&self) -> TlsTrust {
        TlsTrust::load(KEY, &self.ca_file).unwrap()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

pub type TlsServerStream = StreamOwned<ServerConnection, TcpStream>;

/// Accepts one TCP connection and completes the TLS handshake (blocking); None if the client
/// gave up on it (a refused certificate).
pub fn accept_tls(listener: &TcpListener, cfg: &Arc<ServerConfig>) -> Option<TlsServerStream> {
    let (mut tcp, _) = listener.accept().ok()?;
    tcp.set_nonblocking(false).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut conn = ServerConnection::new(cfg.clone()).ok()?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).ok()?;
    }
    Some(StreamOwned::new(conn, tcp))
}
/// Terminates TLS for the feed and forwards bytes to the simulator's plain socket.
pub struct TlsProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl TlsProxy {
    pub fn start(upstream: SocketAddr, cfg: Arc<ServerConfig>) -> TlsProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let accept = std::thread::spawn(move || {
            while !stop2.load(Ordering::Acquire) {
                let Some(tls) = accept_tls(&listener, &cfg) else {
                    continue;
                };
                let stop = stop2.clone();
                std::thread::spawn(move || pump(tls, upstream, &stop));
            }
        });
        TlsProxy {
            addr,
            stop,
            accept: Some(accept),
        }
    }

    /// `wss://host:port/ws` (the MAX public feed's URL).
    pub fn url(&self) -> String {
        format!("wss://{}/ws", self.addr)
    }

    /// `wss://host:port` (the base the Binance feed adds its route to).
    pub fn base(&self) -> String {
        format!("wss://{}", self.addr)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Copies bytes both ways until either side closes, then closes the other.
fn pump(mut tls: TlsServerStream, upstream: SocketAddr, stop: &AtomicBool) {
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    let _ = up.set_nodelay(true);
    if tls.sock.set_nonblocking(true).is_err() || up.set_nonblocking(true).is_err() {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let write_all = |w: &mut dyn Write, mut b: &[u8]| -> bool {
        while !b.is_empty() {
            match w.write(b) {
                Ok(0) => return false,
                Ok(n) => b = &b[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(_) => return false,
            }
        }
        loop {
            match w.flush() {
                Ok(()) => return true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(_) => return false,
            }
        }
    };
    while !stop.load(Ordering::Acquire) {
        let mut moved = false;
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                moved = true;
                if !write_all(&mut up, &buf[..n]) {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
        match up.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                moved = true;
                if !write_all(&mut tls, &buf[..n]) {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
        if !moved {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    tls.conn.send_close_notify();
    let _ = tls.flush();
    let _ = tls.sock.shutdown(std::net::Shutdown::Both);
    let _ = up.shutdown(std::net::Shutdown::Both);
}

/// The address of a simulator's `ws://host:port[/path]` URL, for [`TlsProxy::start`].
pub fn upstream(ws_url: &str) -> SocketAddr {
    let rest = ws_url
        .strip_prefix("ws://")
        .unwrap_or_else(|| panic!("not a ws:// URL: {ws_url}"));
    let hostport = rest.split('/').next().unwrap_or(rest);
    hostport.parse().unwrap_or_else(|e| panic!("{ws_url}: {e}"))
}
