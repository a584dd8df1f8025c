//! `tuning/check` and `tuning/apply`: the check reports every item on this host without a bash
//! error; the dry run changes nothing; apply and undo against a fake /proc + /sys tree change the
//! values and then restore them exactly; the placement check catches spinning threads off
//! isolated cores.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Every item the check reports, by the name it prints (a prefix for the per-NIC line).
const ITEMS: &[&str] = &[
    "cmdline.isolcpus",
    "cmdline.nohz_full",
    "cmdline.rcu_nocbs",
    "sysfs.isolated",
    "sysfs.nohz_full",
    "irq.affinity",
    "irq.default_affinity",
    "irqbalance",
    "cpufreq.governor",
    "cpufreq.turbo",
    "cpuidle.states",
    "cmdline.max_cstate",
    "cpu_dma_latency",
    "thp.enabled",
    "thp.defrag",
    "swap",
    "vm.swappiness",
    "net.core.busy_poll",
    "net.core.busy_read",
    "net.core.rmem_max",
    "net.core.wmem_max",
    "nic.coalesce",
    "clocksource",
    "cpu.tsc_flags",
    "timesync.daemon",
    "timesync.offset",
    "placement.threads",
    "placement.pinned",
    "placement.spin",
    "placement.shared_core",
];

fn tmpdir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "arbline-tuning-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn script(name: &str) -> Command {
    Command::new(Path::new(REPO).join("tuning").join(name))
}

fn run(mut c: Command) -> (i32, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("run the script");
    let mut text = String::from_utf8_lossy(&stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&stderr));
    (status.code().unwrap_or(-1), text)
}

fn assert_no_bash_error(out: &str) {
    for bad in [
        "command not found",
        "unbound variable",
        "syntax error",
        "No such file or directory",
        "bad substitution",
        "integer expression expected",
        "ambiguous redirect",
    ] {
        assert!(!out.contains(bad), "bash error {bad:?} in:\n{out}");
    }
}

/// item -> status ("OK", "NOT TUNED", "UNKNOWN (…)") from the check's report.
fn items(out: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for line in out.lines() {
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        let Some((name, status)) = rest.split_once(' ') else {
            continue;
        };
        let status = status.trim_start();
        let st = if status.starts_with("OK — ") {
            "OK".to_string()
        } else if status.starts_with("NOT TUNED — ") {
            "NOT TUNED".to_string()
        } else if status.starts_with("UNKNOWN (") {
            status.to_string()
        } else {
            continue;
        };
        assert!(
            m.insert(name.to_string(), st).is_none(),
            "item {name} reported twice:\n{out}"
        );
    }
    m
}

fn has_item(m: &BTreeMap<String, String>, item: &str) -> bool {
    m.keys()
        .any(|k| k == item || k.starts_with(&format!("{item}.")))
}

fn status<'a>(m: &'a BTreeMap<String, String>, item: &str) -> &'a str {
    m.get(item)
        .unwrap_or_else(|| panic!("no item {item} in {m:#?}"))
}

fn summary(out: &str) -> (usize, usize, usize) {
    let line = out
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{out}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(n.len(), 3, "{line}");
    (n[0], n[1], n[2])
}

#[test]
fn check_reports_every_item_on_this_host_and_exits_zero() {
    let (rc, out) = run(script("check"));
    assert_eq!(rc, 0, "a report exits 0:\n{out}");
    assert_no_bash_error(&out);
    let m = items(&out);
    for item in ITEMS {
        assert!(has_item(&m, item), "no line for {item}:\n{out}");
    }
    let (ok, bad, unknown) = summary(&out);
    assert_eq!(
        ok + bad + unknown,
        m.len(),
        "summary counts every item:\n{out}"
    );
    assert_eq!(bad, m.values().filter(|s| *s == "NOT TUNED").count());
    for (item, st) in &m {
        if st.as_str() != "OK" {
            // every item that is not OK says how to fix it, except an offset nobody can read
            let fix = out
                .lines()
                .skip_while(|l| !l.starts_with(&format!("  {item} ")))
                .nth(1)
                .unwrap_or("");
            assert!(
                fix.trim_start().starts_with("fix: ") || item == "timesync.offset",
                "{item} is {st} with no fix line:\n{out}"
            );
        }
    }

    let mut strict = script("check");
    strict.arg("--strict");
    let (rc, out) = run(strict);
    assert_no_bash_error(&out);
    let (_, bad, _) = summary(&out);
    assert_eq!(
        rc,
        i32::from(bad > 0),
        "--strict fails exactly when something is NOT TUNED"
    );
}

/// The host files a dry run must not touch.
fn host_snapshot() -> BTreeMap<String, String> {
    let mut paths: Vec<PathBuf> = [
        "/sys/kernel/mm/transparent_hugepage/enabled",
        "/sys/kernel/mm/transparent_hugepage/defrag",
        "/proc/sys/vm/swappiness",
        "/proc/sys/net/core/busy_poll",
        "/proc/sys/net/core/busy_read",
        "/proc/irq/default_smp_affinity",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    for dir in ["/proc/irq", "/sys/devices/system/cpu"] {
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                paths.push(p.join("smp_affinity_list"));
                paths.push(p.join("cpufreq/scaling_governor"));
                if let Ok(states) = fs::read_dir(p.join("cpuidle")) {
                    for s in states.flatten() {
                        paths.push(s.path().join("disable"));
                    }
                }
            }
        }
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let v = fs::read_to_string(&p).ok()?;
            Some((p.display().to_string(), v))
        })
        .collect()
}

#[test]
fn apply_dry_run_prints_the_commands_and_changes_nothing() {
    let dir = tmpdir("dry");
    let state = dir.join("state");
    let before = host_snapshot();
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut c = script("apply");
    c.arg("--state-file").arg(&state);
    if ncpu >= 2 {
        c.args(["--cores", &(ncpu - 1).to_string()]);
    }
    let (rc, out) = run(c);
    assert_eq!(rc, 0, "{out}");
    assert_no_bash_error(&out);
    assert!(out.contains("dry run"), "{out}");
    assert!(out.contains("isolcpus="), "the GRUB line:\n{out}");
    assert!(out.contains("reboot"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("echo ")) || out.contains("nothing to change"),
        "commands, or why there are none:\n{out}"
    );
    assert!(!state.exists(), "a dry run saves no state");
    assert_eq!(before, host_snapshot(), "a dry run changed the host");
    // the default mode is the dry run too
    let (rc, out) = run(script("apply"));
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("dry run"), "{out}");
    assert_eq!(before, host_snapshot(), "the default mode changed the host");
    let _ = fs::remove_dir_all(&dir);
}

fn put(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel.trim_start_matches('/'));
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

/// An untuned 4-CPU host: powersave, a deep C6 enabled, THP always, swappiness 60, no busy
/// polling, every IRQ on every CPU.
fn fake_host(isolated: &str) -> PathBuf {
    let r = tmpdir("root");
    put(
        &r,
        "/proc/cmdline",
        "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n",
    );
    put(
        &r,
        "/proc/swaps",
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
    );
    put(
        &r,
        "/proc/cpuinfo",
        "processor\t: 0\nflags\t\t: fpu tsc constant_tsc nonstop_tsc\n",
    );
    put(&r, "/proc/1/comm", "systemd\n");
    put(&r, "/proc/sys/vm/swappiness", "60\n");
    put(&r, "/proc/sys/net/core/busy_poll", "0\n");
    put(&r, "/proc/sys/net/core/busy_read", "0\n");
    put(&r, "/proc/sys/net/core/rmem_max", "212992\n");
    put(&r, "/proc/sys/net/core/wmem_max", "212992\n");
    put(&r, "/proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
    put(&r, "/proc/sys/net/ipv4/tcp_slow_start_after_idle", "1\n");
    put(&r, "/proc/irq/default_smp_affinity", "f\n");
    for irq in [0, 9, 24, 25] {
        put(&r, &format!("/proc/irq/{irq}/smp_affinity_list"), "0-3\n");
    }
    // IRQ 25 is a NIC queue already steered to CPU 3: it moves to what is left
    put(&r, "/proc/irq/25/smp_affinity_list", "3\n");
    put(&r, "/sys/devices/system/cpu/online", "0-3\n");
    put(
        &r,
        "/sys/devices/system/cpu/isolated",
        &format!("{isolated}\n"),
    );
    put(
        &r,
        "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        "tsc\n",
    );
    put(
        &r,
        "/sys/kernel/mm/transparent_hugepage/enabled",
        "[always] madvise never\n",
    );
    put(
        &r,
        "/sys/kernel/mm/transparent_hugepage/defrag",
        "always defer defer+madvise [madvise] never\n",
    );
    fs::create_dir_all(r.join("sys/class/net/lo")).unwrap();
    for cpu in 0..4 {
        let c = format!("/sys/devices/system/cpu/cpu{cpu}");
        put(&r, &format!("{c}/cpufreq/scaling_governor"), "powersave\n");
        put(
            &r,
            &format!("{c}/cpufreq/scaling_available_governors"),
            "performance powersave\n",
        );
        for (i, (name, lat)) in [("POLL", 0), ("C1", 2), ("C6", 133)].iter().enumerate() {
            let s = format!("{c}/cpuidle/state{i}");
            put(&r, &format!("{s}/name"), &format!("{name}\n"));
            put(&r, &format!("{s}/latency"), &format!("{lat}\n"));
            put(&r, &format!("{s}/disable"), "0\n");
        }
    }
    r
}

/// Every regular file under `root`, relative path -> content.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, d: &Path, m: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, m);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                m.insert(rel, fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(root, root, &mut m);
    m
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel.trim_start_matches('/')))
        .unwrap()
        .trim()
        .to_string()
}

/// The selected word of a sysfs choice file ("[always] madvise never" -> "always"), or the word.
fn selected(s: &str) -> String {
    match (s.find('['), s.find(']')) {
        (Some(a), Some(b)) => s[a + 1..b].to_string(),
        _ => s.trim().to_string(),
    }
}

fn check_on(root: &Path, extra: &[&str]) -> (i32, String, BTreeMap<String, String>) {
    let mut c = script("check");
    c.env("ROOT", root)
        .env("ARBLINE_BIN", root.join("no-such-binary"));
    c.args(extra);
    let (rc, out) = run(c);
    assert_no_bash_error(&out);
    let m = items(&out);
    (rc, out, m)
}

#[test]
fn apply_then_undo_on_a_fake_sysfs_changes_then_restores_every_value() {
    let root = fake_host("");
    let state = root.join("var/tmp/arbline-tuning.state");
    let before = tree(&root);

    let (_, out, m) = check_on(&root, &["--cores", "2-3"]);
    for item in [
        "cpufreq.governor",
        "cpuidle.states",
        "thp.enabled",
        "vm.swappiness",
        "net.core.busy_poll",
        "net.core.busy_read",
        "irq.affinity",
        "irq.default_affinity",
        "net.core.rmem_max",
        "net.ipv4.tcp_slow_start_after_idle",
    ] {
        assert_eq!(
            status(&m, item),
            "NOT TUNED",
            "{item} on the untuned fake host:\n{out}"
        );
    }
    assert_eq!(status(&m, "thp.defrag"), "OK", "{out}");
    assert_eq!(status(&m, "swap"), "OK", "{out}");
    assert_eq!(status(&m, "clocksource"), "OK", "{out}");

    // dry run under the fake root: commands naming the fake paths, nothing written
    let mut dry = script("apply");
    dry.arg("--root-dir")
        .arg(&root)
        .arg("--state-file")
        .arg(&state);
    dry.args(["--cores", "2-3"]);
    let (rc, out) = run(dry);
    assert_eq!(rc, 0, "{out}");
    assert_no_bash_error(&out);
    let gov = format!(
        "echo performance > {}/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
        root.display()
    );
    assert!(out.contains(&gov), "{gov} in:\n{out}");
    assert_eq!(before, tree(&root), "the dry run wrote");

    let mut apply = script("apply");
    apply
        .arg("--apply")
        .arg("--root-dir")
        .arg(&root)
        .arg("--state-file")
        .arg(&state);
    apply.args(["--cores", "2-3"]);
    let (rc, out) = run(apply);
    assert_eq!(rc, 0, "{out}");
    assert_no_bash_error(&out);
    assert!(state.exists(), "the previous values are saved:\n{out}");
    for cpu in 0..4 {
        let c = format!("sys/devices/system/cpu/cpu{cpu}");
        assert_eq!(
            read(&root, &format!("{c}/cpufreq/scaling_governor")),
            "performance"
        );
        assert_eq!(
            read(&root, &format!("{c}/cpuidle/state0/disable")),
            "0",
            "POLL stays"
        );
        assert_eq!(
            read(&root, &format!("{c}/cpuidle/state1/disable")),
            "0",
            "C1 stays"
        );
        assert_eq!(
            read(&root, &format!("{c}/cpuidle/state2/disable")),
            "1",
            "C6 off"
        );
    }
    assert_eq!(
        selected(&read(&root, "sys/kernel/mm/transparent_hugepage/enabled")),
        "never"
    );
    assert_eq!(
        selected(&read(&root, "sys/kernel/mm/transparent_hugepage/defrag")),
        "never"
    );
    assert_eq!(read(&root, "proc/sys/vm/swappiness"), "1");
    assert_eq!(read(&root, "proc/sys/net/core/busy_poll"), "50");
    assert_eq!(read(&root, "proc/sys/net/core/busy_read"), "50");
    for irq in [0, 9, 24, 25] {
        assert_eq!(
            read(&root, &format!("proc/irq/{irq}/smp_affinity_list")),
            "0-1",
            "IRQ {irq}"
        );
    }
    assert_eq!(read(&root, "proc/irq/default_smp_affinity"), "3");
    // untouched: not in the runtime set
    assert_eq!(read(&root, "proc/sys/net/core/rmem_max"), "212992");
    assert_eq!(
        read(&root, "proc/cmdline"),
        "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet"
    );
    assert!(
        out.contains("isolcpus=2-3 nohz_full=2-3 rcu_nocbs=2-3"),
        "GRUB line:\n{out}"
    );

    // the check now sees the runtime items tuned
    let (_, out, m) = check_on(&root, &["--cores", "2-3"]);
    for item in [
        "cpufreq.governor",
        "cpuidle.states",
        "thp.enabled",
        "thp.defrag",
        "vm.swappiness",
        "net.core.busy_poll",
        "net.core.busy_read",
        "irq.affinity",
        "irq.default_affinity",
    ] {
        assert_eq!(status(&m, item), "OK", "{item} after apply:\n{out}");
    }
    assert_eq!(
        status(&m, "cmdline.isolcpus"),
        "NOT TUNED",
        "never applied:\n{out}"
    );

    // a second apply would save tuned values as the host's own: refused
    let mut again = script("apply");
    again
        .arg("--apply")
        .arg("--root-dir")
        .arg(&root)
        .arg("--state-file")
        .arg(&state);
    let (rc, out) = run(again);
    assert_ne!(rc, 0, "{out}");
    assert!(out.contains("--undo first"), "{out}");

    let mut undo = script("apply");
    undo.arg("--undo")
        .arg("--root-dir")
        .arg(&root)
        .arg("--state-file")
        .arg(&state);
    let (rc, out) = run(undo);
    assert_eq!(rc, 0, "{out}");
    assert_no_bash_error(&out);
    assert!(!state.exists(), "undo removes the state file:\n{out}");
    let after = tree(&root);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (path, was) in &before {
        let now = &after[path];
        if path.contains("transparent_hugepage") {
            // the kernel shows the choice list; a plain file keeps the word written back
            assert_eq!(selected(was), selected(now), "{path}");
        } else {
            assert_eq!(was, now, "{path} not restored exactly");
        }
    }

    let mut undo = script("apply");
    undo.arg("--undo")
        .arg("--root-dir")
        .arg(&root)
        .arg("--state-file")
        .arg(&state);
    let (rc, out) = run(undo);
    assert_ne!(rc, 0, "nothing left to undo:\n{out}");
    let _ = fs::remove_dir_all(&root);
}

/// A stand-in for `arbline check-config` printing the given placement.
fn fake_bin(dir: &Path, threads: &[(&str, &str, &str)]) -> PathBuf {
    let mut s = String::from("#!/bin/sh\necho \"$4: ok\"\n");
    for (name, core, wait) in threads {
        s.push_str(&format!(
            "echo '  thread {name:<10} stages {name:<24} core {core:<9} wait {wait}'\n"
        ));
    }
    let p = dir.join("arbline");
    fs::write(&p, s).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn placement(root: &Path, threads: &[(&str, &str, &str)]) -> (String, BTreeMap<String, String>) {
    let bin = fake_bin(root, threads);
    let mut c = script("check");
    c.env("ROOT", root).env("ARBLINE_BIN", &bin);
    let (rc, out) = run(c);
    assert_eq!(rc, 0, "{out}");
    assert_no_bash_error(&out);
    let m = items(&out);
    (out, m)
}

#[test]
fn check_flags_spinning_threads_off_isolated_cores_and_sharing_a_core() {
    let root = fake_host("2-3");

    let (out, m) = placement(
        &root,
        &[
            ("feed", "2", "Spin"),
            ("engine", "3", "Spin"),
            ("side", "unpinned", "Park"),
        ],
    );
    for item in [
        "placement.threads",
        "placement.pinned",
        "placement.spin",
        "placement.shared_core",
    ] {
        assert_eq!(status(&m, item), "OK", "{item}, a tuned placement:\n{out}");
    }
    assert_eq!(status(&m, "sysfs.isolated"), "OK", "{out}");
    // the engine's cores come from the placement: IRQs on 2-3 are flagged
    assert_eq!(status(&m, "irq.affinity"), "NOT TUNED", "{out}");

    let (out, m) = placement(
        &root,
        &[
            ("feed", "1", "Spin"),
            ("engine", "1", "Spin"),
            ("user", "unpinned", "Spin"),
        ],
    );
    assert_eq!(
        status(&m, "placement.pinned"),
        "NOT TUNED",
        "core 1 is not isolated:\n{out}"
    );
    assert_eq!(status(&m, "placement.spin"), "NOT TUNED", "{out}");
    assert_eq!(status(&m, "placement.shared_core"), "NOT TUNED", "{out}");
    assert!(out.contains("core 1: feed,engine"), "{out}");

    let (out, m) = placement(
        &root,
        &[("feed", "unpinned", "Park"), ("engine", "unpinned", "Park")],
    );
    assert_eq!(status(&m, "placement.pinned"), "NOT TUNED", "{out}");
    assert_eq!(
        status(&m, "placement.spin"),
        "OK",
        "parking anywhere is safe:\n{out}"
    );

    // no binary: say how to get one
    let (_, out, m) = check_on(&root, &[]);
    assert!(
        status(&m, "placement.pinned").starts_with("UNKNOWN ("),
        "{out}"
    );
    assert!(out.contains("cargo build --release"), "{out}");
    let _ = fs::remove_dir_all(&root);
}
