//! A private `nats-server -js` for a test: its own port and store directory, so a test can
//! kill and restart it without touching anyone else's server. `scripts/test` installs
//! Debian's `nats-server` when the machine lacks it. [`NatsCluster`]: three (or more) of them
//! routed into one JetStream cluster on loopback, each with its own store and a monitoring port.

#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    /// A cluster node's configuration file (`server_name`, `cluster`, JetStream `store_dir`)
    /// and monitoring port; `None` for a plain `-js` server.
    node: Option<(PathBuf, u16)>,
}

/// A port free now and never handed out before in this process: a server a test killed to
/// restart leaves its port free for a moment, and another test of the binary must not take it
/// (it did: a tap connected to the other test's server as it was killed).
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

impl NatsServer {
    pub fn start(name: &str) -> NatsServer {
        Self::start_on(name, free_port())
    }

    pub fn start_on(name: &str, port: u16) -> NatsServer {
        let mut s = NatsServer {
            child: None,
            port,
            dir: fresh_dir(name),
            node: None,
        };
        s.restart();
        s
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and store directory.
    pub fn restart(&mut self) {
        let mut cmd = Command::new("nats-server");
        match &self.node {
            Some((conf, _)) => cmd.arg("-c").arg(conf),
            None => cmd
                .args(["-js", "-a", "127.0.0.1", "-p"])
                .arg(self.port.to_string())
                .arg("-sd")
                .arg(&self.dir),
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server on PATH (scripts/test installs Debian's nats-server)");
        self.child = Some(child);
        let end = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < end, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn fresh_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "arbline-nats-{name}-{}-{nanos}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `GET path` on a node's monitoring port: (status, body), `None` when it does not answer.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// A JetStream cluster of nats-server children on loopback: client, route and monitoring
/// ports picked free, one store directory per node, so a node killed and restarted comes back
/// with what it held.
pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts `n` nodes (`n1`, `n2`, …) routed to each other; returns once every node
    /// answers its health check (JetStream included: the cluster has its metadata leader).
    pub fn start(name: &str, n: usize) -> NatsCluster {
        let routes: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let route_urls: Vec<String> = routes
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect();
        let mut nodes = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            let dir = fresh_dir(&format!("{name}-n{}", i + 1));
            std::fs::create_dir_all(&dir).expect("the node's directory");
            let (port, monitor) = (free_port(), free_port());
            let conf = dir.join("node.conf");
            let text = format!(
                "server_name: n{}\nlisten: 127.0.0.1:{port}\nhttp: 127.0.0.1:{monitor}\n\
                 jetstream {{ store_dir: {:?} }}\n\
                 cluster {{\n  name: {name}\n  listen: 127.0.0.1:{route}\n  routes: [{}]\n}}\n",
                i + 1,
                dir.join("js").display().to_string(),
                route_urls.join(", ")
            );
            std::fs::write(&conf, text).expect("the node's configuration");
            let mut node = NatsServer {
                child: None,
                port,
                dir,
                node: Some((conf, monitor)),
            };
            node.restart();
            nodes.push(node);
        }
        let c = NatsCluster { nodes };
        for i in 0..n {
            c.wait_healthy(i);
        }
        c
    }

    /// Every node's URL, comma-separated: what `[nats] url` takes for a cluster.
    pub fn url(&self) -> String {
        let urls: Vec<String> = self.nodes.iter().map(NatsServer::url).collect();
        urls.join(",")
    }

    /// Node `i`'s `server_name`.
    pub fn name(&self, i: usize) -> String {
        format!("n{}", i + 1)
    }

    /// Node `i`'s monitoring endpoint `path`, as JSON.
    pub fn monitor(&self, i: usize, path: &str) -> Option<serde_json::Value> {
        let (_, port) = self.nodes[i].node.as_ref()?;
        let (status, body) = http_get(*port, path)?;
        if status != 200 {
            return None;
        }
        serde_json::from_str(&body).ok()
    }

    /// How many client connections named `client` node `i` holds.
    pub fn connections(&self, i: usize, client: &str) -> usize {
        self.monitor(i, "/connz")
            .and_then(|v| {
                v["connections"]
                    .as_array()
                    .map(|cs| cs.iter().filter(|c| c["name"] == client).count())
            })
            .unwrap_or(0)
    }

    /// Waits until node `i` answers `/healthz` with 200 (after a restart: it has caught up
    /// with the cluster's JetStream state).
    pub fn wait_healthy(&self, i: usize) {
        let (_, port) = self.nodes[i].node.as_ref().expect("a cluster node");
        let end = Instant::now() + Duration::from_secs(60);
        while http_get(*port, "/healthz").map(|(s, _)| s) != Some(200) {
            assert!(
                Instant::now() < end,
                "gave up after 60 s waiting for node n{} to report healthy",
                i + 1
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every message in `stream`, in stream order: (subject, payload as JSON).
pub fn read_stream(url: &str, stream: &str) -> Vec<(String, serde_json::Value)> {
    use async_nats::jetstream;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = async_nats::connect(url).await.expect("connect");
        let js = jetstream::new(client);
        let s = js.get_stream(stream).await.expect("stream");
        let consumer = s
            .create_consumer(jetstream::consumer::pull::Config {
                deliver_policy: jetstream::consumer::DeliverPolicy::All,
                ack_policy: jetstream::consumer::AckPolicy::None,
                ..Default::default()
            })
            .await
            .expect("consumer");
        let mut out = Vec::new();
        loop {
            let mut batch = consumer
                .batch()
                .max_messages(1000)
                .expires(Duration::from_millis(500))
                .messages()
                .await
                .expect("batch");
            let mut n = 0;
            use futures_util::StreamExt;
            while let Some(m) = batch.next().await {
                let m = m.expect("message");
                n += 1;
                let v: serde_json::Value =
                    serde_json::from_slice(&m.payload).expect("every payload is JSON");
                out.push((m.subject.to_string(), v));
            }
            if n == 0 {
                break;
            }
        }
        out
    })
}
