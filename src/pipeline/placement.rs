//! Which stages run on which thread, pinned to which core, waiting how.
//!
//! On a host with the cores, give every hot stage its own pinned thread on an isolated core
//! (`tuning/`), with `spin`. On a small host put several stages on one thread and use `park`
//! or `yield`: two spinning threads on a 2-core machine starve everything else.

use super::wait::WaitKind;
use crate::model::InvalidSetting;
use serde::{Deserialize, Serialize};

/// The hot stages a thread can host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    /// Market-data feeds (and, in process, the synthetic venue with its gateway).
    Feed,
    Book,
    Scanner,
    Order,
}

impl StageName {
    pub const ALL: [StageName; 4] = [
        StageName::Feed,
        StageName::Book,
        StageName::Scanner,
        StageName::Order,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Feed => "feed",
            StageName::Book => "book",
            StageName::Scanner => "scanner",
            StageName::Order => "order",
        }
    }
}

/// `core = 3` pins to core 3; `core = "auto"` pins only when the host has a core for every
/// thread plus one for the side thread and the OS; `core = "none"` never pins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CoreSpec {
    Index(usize),
    Named(String),
}

impl Default for CoreSpec {
    fn default() -> Self {
        CoreSpec::Named("auto".into())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThreadSpec {
    pub name: String,
    pub stages: Vec<StageName>,
    pub core: CoreSpec,
    pub wait: WaitKind,
    /// Sleep per idle round once a `park` thread has spun and yielded, in microseconds.
    pub park_us: u64,
}

impl Default for ThreadSpec {
    fn default() -> Self {
        ThreadSpec {
            name: String::new(),
            stages: Vec::new(),
            core: CoreSpec::default(),
            wait: WaitKind::Park,
            park_us: 50,
        }
    }
}

/// The default for any host: the feed on one thread, book + scanner + order on another.
pub fn default_threads() -> Vec<ThreadSpec> {
    vec![
        ThreadSpec {
            name: "feed".into(),
            stages: vec![StageName::Feed],
            ..Default::default()
        },
        ThreadSpec {
            name: "engine".into(),
            stages: vec![StageName::Book, StageName::Scanner, StageName::Order],
            ..Default::default()
        },
    ]
}

/// A thread after `auto` was decided against this host.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedThread {
    pub name: String,
    pub stages: Vec<StageName>,
    pub core: Option<usize>,
    pub wait: WaitKind,
    pub park_us: u64,
}

/// Checks that every stage runs exactly once and resolves cores for a host with `host_cores`.
pub fn resolve(
    threads: &[ThreadSpec],
    host_cores: usize,
) -> Result<Vec<ResolvedThread>, InvalidSetting> {
    if threads.is_empty() {
        return Err(InvalidSetting::new(
            "pipeline.threads",
            "at least one thread is needed",
        ));
    }
    for s in StageName::ALL {
        let n = threads
            .iter()
            .flat_map(|t| t.stages.iter())
            .filter(|x| **x == s)
            .count();
        if n != 1 {
            return Err(InvalidSetting::new(
                "pipeline.threads",
                format!(
                    "stage `{}` must be placed exactly once (found {n})",
                    s.as_str()
                ),
            ));
        }
    }
    let auto_fits = host_cores > threads.len();
    let mut out = Vec::with_capacity(threads.len());
    for (i, t) in threads.iter().enumerate() {
        if t.name.is_empty() {
            return Err(InvalidSetting::new(
                format!("pipeline.threads[{i}].name"),
                "must not be empty",
            ));
        }
        if t.stages.is_empty() {
            return Err(InvalidSetting::new(
                format!("pipeline.threads[{i}].stages"),
                "must not be empty",
            ));
        }
        let core = match &t.core {
            CoreSpec::Index(c) if *c < host_cores => Some(*c),
            CoreSpec::Index(c) => {
                return Err(InvalidSetting::new(
                    format!("pipeline.threads[{i}].core"),
                    format!("core {c} does not exist on this host ({host_cores} cores)"),
                ));
            }
            CoreSpec::Named(n) if n == "none" => None,
            // Core 0 is left to the OS, interrupts and the side thread.
            CoreSpec::Named(n) if n == "auto" => auto_fits.then_some(i + 1),
            CoreSpec::Named(n) => {
                return Err(InvalidSetting::new(
                    format!("pipeline.threads[{i}].core"),
                    format!("expected a core number, \"auto\" or \"none\", got {n:?}"),
                ));
            }
        };
        if t.wait == WaitKind::Park && t.park_us == 0 {
            return Err(InvalidSetting::new(
                format!("pipeline.threads[{i}].park_us"),
                "must be > 0 with wait = \"park\"",
            ));
        }
        out.push(ResolvedThread {
            name: t.name.clone(),
            stages: t.stages.clone(),
            core,
            wait: t.wait,
            park_us: t.park_us,
        });
    }
    Ok(out)
}

/// The CPUs of this host, by number: every `cpuN` the kernel lists (online or not), else those
/// the process may run on now. Not the process's affinity mask alone: a service started with
/// `CPUAffinity=` (or on an `isolcpus=` host, where services start on the other cores) may pin
/// its threads to cores outside its starting mask, and `core = N` must be accepted for them.
pub fn host_cores() -> usize {
    let listed = std::fs::read_dir("/sys/devices/system/cpu")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name();
                    let n = name.to_str()?.strip_prefix("cpu")?.parse::<usize>().ok()?;
                    Some(n + 1)
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let allowed = core_affinity::get_core_ids()
        .map(|c| c.iter().map(|c| c.id + 1).max().unwrap_or(0))
        .unwrap_or(0);
    listed.max(allowed).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_has_at_least_the_cores_this_process_may_use() {
        let allowed = core_affinity::get_core_ids().map(|c| c.len()).unwrap_or(1);
        assert!(host_cores() >= allowed, "{} < {allowed}", host_cores());
    }

    #[test]
    fn auto_pins_only_with_cores_to_spare() {
        let t = default_threads();
        assert!(resolve(&t, 2).unwrap().iter().all(|r| r.core.is_none()));
        let r = resolve(&t, 16).unwrap();
        assert_eq!(
            r.iter().map(|r| r.core).collect::<Vec<_>>(),
            vec![Some(1), Some(2)]
        );
    }

    #[test]
    fn every_stage_exactly_once() {
        let mut t = default_threads();
        t[1].stages.pop();
        assert!(resolve(&t, 4).unwrap_err().to_string().contains("`order`"));
        let mut t = default_threads();
        t[0].stages.push(StageName::Book);
        assert!(resolve(&t, 4).unwrap_err().to_string().contains("`book`"));
    }

    #[test]
    fn bad_cores_are_named() {
        let mut t = default_threads();
        t[0].core = CoreSpec::Index(7);
        assert!(
            resolve(&t, 2)
                .unwrap_err()
                .to_string()
                .contains("threads[0].core")
        );
        t[0].core = CoreSpec::Named("fast".into());
        assert!(resolve(&t, 2).unwrap_err().to_string().contains("\"fast\""));
    }
}
