//! [`Scanners`]: the strategies of the scanner stage, each run on the book tops of the
//! instruments it uses (an index by instrument built at start: a top costs the same with one
//! pair configured or five hundred), with the latest Live top per instrument, the trading hours
//! and the freshness gate they share, and the signals' sequence numbers and statistics.

use super::arbitrage::{Arbitrage, Skip};
use super::config::{self, ScannerConfig};
use super::gates::{TradingHours, is_fresh};
use super::stable_coin::StableCoin;
use crate::model::{BookStatus, BookTop, InstrumentId, Instruments, InvalidSetting, Signal};
use crate::pipeline::EngineClock;
use crate::pipeline::board::PositionBoard;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScannerStats {
    pub tops: u64,
    pub signals: u64,
    pub stale: u64,
    pub cooldown: u64,
    pub outside_hours: u64,
    pub no_room: u64,
    pub not_live: u64,
    pub warming_up: u64,
}

pub struct Scanners {
    instruments: Instruments,
    /// Latest Live top per instrument; `None` while the book is not Live.
    tops: Vec<Option<BookTop>>,
    arbitrage: Vec<Arbitrage>,
    /// The arbitrage strategies that use each instrument: those of instrument `i` are
    /// `routes[route_start[i]..route_start[i + 1]]`.
    route_start: Vec<u32>,
    routes: Vec<u16>,
    stable: Option<StableCoin>,
    hours: TradingHours,
    seq: u64,
    stats: ScannerStats,
}

impl Scanners {
    pub fn new(cfg: &ScannerConfig, instruments: &Instruments) -> Result<Scanners, InvalidSetting> {
        cfg.validate()?;
        let arbitrage = cfg
            .arbitrage
            .iter()
            .enumerate()
            .map(|(i, a)| Arbitrage::new(a, instruments, &format!("scanner.arbitrage[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let stable = if cfg.stable_coin.enabled {
            Some(StableCoin::new(&cfg.stable_coin, instruments)?)
        } else {
            None
        };
        let h = &cfg.trading_hours;
        let hours = TradingHours::new(
            h.utc_offset_minutes,
            config::hhmm("scanner.trading_hours.start", &h.start)?,
            config::hhmm("scanner.trading_hours.end", &h.end)?,
        );
        let (route_start, routes) = routes_by_instrument(&arbitrage, instruments.len());
        Ok(Scanners {
            instruments: instruments.clone(),
            tops: vec![None; instruments.len()],
            arbitrage,
            route_start,
            routes,
            stable,
            hours,
            seq: 0,
            stats: ScannerStats::default(),
        })
    }

    pub fn stats(&self) -> ScannerStats {
        self.stats
    }

    /// The latest top of `i` if present and younger than `max_age_ns`.
    fn fresh(
        &self,
        i: InstrumentId,
        now_raw: u64,
        clock: &EngineClock,
        max_age_ns: u64,
    ) -> Option<&BookTop> {
        let t = self.tops[i.index()].as_ref()?;
        is_fresh(clock.delta_ns(t.ts_frame, now_raw), max_age_ns).then_some(t)
    }

    fn count(&mut self, s: Skip) {
        match s {
            Skip::MissingInput => {}
            Skip::WarmingUp => self.stats.warming_up += 1,
            Skip::NoEdge => {}
            Skip::Cooldown => self.stats.cooldown += 1,
            Skip::NoRoom => self.stats.no_room += 1,
        }
    }

    /// Runs every strategy that uses `top.instrument`; `out` gets each signal. Returns how many.
    pub fn on_top<F: FnMut(&Signal)>(
        &mut self,
        top: &BookTop,
        now_raw: u64,
        clock: &EngineClock,
        board: &PositionBoard,
        mut out: F,
    ) -> usize {
        self.stats.tops += 1;
        let idx = top.instrument.index();
        if idx >= self.tops.len() {
            return 0;
        }
        if top.status != BookStatus::Live {
            self.tops[idx] = None;
            self.stats.not_live += 1;
            return 0;
        }
        self.tops[idx] = Some(*top);
        let now_ns = clock.unix_ns(top.market_raw(now_raw));
        let open = self.hours.is_open(now_ns);
        let mut n = 0;
        let (first, end) = (self.route_start[idx], self.route_start[idx + 1]);
        for r in first..end {
            let k = self.routes[r as usize] as usize;
            let a = &self.arbitrage[k];
            let age = a.max_age_ns;
            let leader = self.fresh(a.leader, now_raw, clock, age).copied();
            let max = self.fresh(a.max, now_raw, clock, age).copied();
            let conv = a
                .conversion
                .and_then(|c| self.fresh(c, now_raw, clock, age).copied());
            if (leader.is_none() && self.tops[a.leader.index()].is_some())
                || (max.is_none() && self.tops[a.max.index()].is_some())
            {
                self.stats.stale += 1;
            }
            let position = board.get(crate::model::Strategy::Arbitrage, a.max);
            let r = self.arbitrage[k].evaluate(
                leader.as_ref(),
                max.as_ref(),
                conv.as_ref(),
                position,
                &self.instruments,
                now_ns,
                top,
            );
            match r {
                Ok(sig) if open => {
                    n += self.emit(sig, now_raw, &mut out);
                }
                Ok(_) => self.stats.outside_hours += 1,
                Err(s) => self.count(s),
            }
        }
        if let Some(s) = &self.stable
            && s.uses(top.instrument)
        {
            let max = self.fresh(s.max, now_raw, clock, s.max_age_ns).copied();
            let reference = self
                .fresh(s.reference, now_raw, clock, s.ref_max_age_ns)
                .copied();
            let position = board.get(crate::model::Strategy::StableCoin, s.max);
            let instruments = &self.instruments;
            let r = self.stable.as_mut().map(|s| {
                s.evaluate(
                    max.as_ref(),
                    reference.as_ref(),
                    position,
                    instruments,
                    now_ns,
                    top,
                )
            });
            match r {
                Some(Ok(sig)) if open => n += self.emit(sig, now_raw, &mut out),
                Some(Ok(_)) => self.stats.outside_hours += 1,
                Some(Err(s)) => self.count(s),
                None => {}
            }
        }
        n
    }

    /// The arbitrage strategies that use instrument `i` (tests and reports).
    pub fn routes(&self, i: InstrumentId) -> impl Iterator<Item = usize> + '_ {
        let idx = i.index();
        let (first, end) = if idx < self.tops.len() {
            (self.route_start[idx], self.route_start[idx + 1])
        } else {
            (0, 0)
        };
        self.routes[first as usize..end as usize]
            .iter()
            .map(|&k| k as usize)
    }

    #[inline]
    fn emit<F: FnMut(&Signal)>(&mut self, mut sig: Signal, now_raw: u64, out: &mut F) -> usize {
        self.seq += 1;
        sig.seq = self.seq;
        sig.ts_signal = now_raw;
        self.stats.signals += 1;
        out(&sig);
        1
    }
}

/// The index from instrument to the arbitrage strategies that use it, in configuration order
/// (a strategy using an instrument twice is listed once).
fn routes_by_instrument(arbitrage: &[Arbitrage], instruments: usize) -> (Vec<u32>, Vec<u16>) {
    let mut route_start = Vec::with_capacity(instruments + 1);
    let mut routes = Vec::new();
    for i in 0..instruments {
        route_start.push(routes.len() as u32);
        let id = InstrumentId(i as u16);
        routes.extend(
            (0..arbitrage.len())
                .filter(|&k| arbitrage[k].uses(id))
                .map(|k| k as u16),
        );
    }
    route_start.push(routes.len() as u32);
    (route_start, routes)
}

#[cfg(test)]
mod tests;
