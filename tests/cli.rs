//! The command line as a user types it: durations written the way people write them, and what a
//! run says about how long it will last.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn arbline() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_arbline"));
    // No .env or RUST_LOG of the developer's leaks in.
    c.current_dir(std::env::temp_dir()).env_remove("RUST_LOG");
    c
}

#[test]
fn the_demo_takes_a_duration_with_a_unit() {
    let out = arbline()
        .args(["demo", "--in-process", "--quiet", "--duration", "1s"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("arbline demo: 1s,"), "{stdout}");
}

#[test]
fn a_duration_that_is_not_one_is_refused_before_anything_starts() {
    for bad in ["2x", "0", "-5", "soon"] {
        let out = arbline()
            .args(["demo", "--in-process", &format!("--duration={bad}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains("--duration") && stderr.contains(bad),
            "{bad}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{bad}: nothing ran");
    }
}

/// Without `--duration`, `run` says it runs until Ctrl+C (it used to print `4294967295 s`).
/// The venues point at a closed port: only the banner matters here, then the run is killed.
#[test]
fn run_without_a_duration_says_until_ctrl_c() {
    let dir = std::env::temp_dir().join(format!("arbline-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::fs::write(
        dir.join("arbline.toml"),
        format!(
            "[venues.max]\nrest_url = \"http://127.0.0.1:{closed}\"\nws_url = \
             \"ws://127.0.0.1:{closed}/ws\"\n[venues.binance]\nws_url = \
             \"ws://127.0.0.1:{closed}\"\nrest_url = \"http://127.0.0.1:{closed}\"\n\
             [refrate]\nurl = \"http://127.0.0.1:{closed}/a\"\nfallback_url = \
             \"http://127.0.0.1:{closed}/b\"\n[nats]\nfile_dir = \"events\"\n\
             [log]\ndir = \"logs\"\n"
        ),
    )
    .unwrap();
    let mut child = arbline()
        .args(["run", "--config", "arbline.toml", "--quiet"])
        .current_dir(&dir)
        .env("MAX_API_KEY", "cli-test-key")
        .env("MAX_SECRET_KEY", "cli-test-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let banner = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if l.starts_with("engine:") => break l,
            Ok(l) => seen.push(l),
            Err(e) => {
                let _ = child.kill();
                panic!("no `engine:` banner within 60 s ({e}); stdout so far: {seen:?}");
            }
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        banner.starts_with("engine: until Ctrl+C against"),
        "{banner}"
    );
}

#[test]
fn capture_info_summarises_a_capture_and_names_a_tear() {
    use arbline::capture::{CaptureOptions, CaptureWriter, CapturedFrame, FrameKind};
    use arbline::model::Venue;
    let dir = std::env::temp_dir().join(format!("arbline-cli-capture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut w = CaptureWriter::new(CaptureOptions::new(&dir)).unwrap();
    let t0 = 1_764_763_200_000_000_000u64; // 2025-12-03T12:00:00Z
    for (i, dt) in [0u64, 1_000_000, 9_000_000_000].into_iter().enumerate() {
        w.write(&CapturedFrame {
            ts_utc_ns: t0 + dt,
            ts_engine: dt,
            venue: if i == 0 {
                Venue::Max
            } else {
                Venue::BinanceFutures
            },
            conn: 1,
            kind: FrameKind::WsText,
            bytes: br#"{"e":"depthUpdate"}"#,
        })
        .unwrap();
    }
    let files = w.close().unwrap();
    let out = arbline()
        .args(["capture", "info", dir.to_str().unwrap(), "--gap", "5s"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("frames 3"), "{text}");
    assert!(
        text.contains("from 2025-12-03T12:00:00.000000000Z"),
        "{text}"
    );
    assert!(
        text.contains("Max WsText: 1") && text.contains("BinanceFutures WsText: 2"),
        "{text}"
    );
    assert!(text.contains("gaps: 1"), "{text}");
    assert!(text.contains("torn: no"), "{text}");

    // Cut the file inside its footer (a crash while closing): the block before it is still
    // read whole, and the tear is named.
    let bytes = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &bytes[..bytes.len() - 40]).unwrap();
    let out = arbline()
        .args(["capture", "info", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("frames 3"), "{text}");
    assert!(text.contains("torn: torn capture"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `arbline replay`: what it says when there is nothing to replay or a setting is wrong, each
/// with exit status 1 or 2 and nothing written.
#[test]
fn replay_refuses_an_empty_capture_a_bad_setting_and_a_bad_speed_clearly() {
    let dir = std::env::temp_dir().join(format!("arbline-cli-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let out = arbline()
        .args(["replay", d, "--out", &format!("{d}/out")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no frame") || stderr.contains("capture"),
        "{stderr}"
    );
    assert!(!dir.join("out").exists(), "nothing written");

    let out = arbline()
        .args(["replay", d, "--set", "scanner.arbitrage.edge_bsp=5,10"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("edge_bsp"),
        "the unknown key is named: {stderr}"
    );

    for (args, named) in [
        (vec!["--set", "edge_bps"], "--set"),
        (vec!["--speed", "0x"], "--speed"),
        (vec!["--from", "yesterday"], "--from"),
    ] {
        let out = arbline().arg("replay").arg(d).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
