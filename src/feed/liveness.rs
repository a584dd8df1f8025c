//! Whether a WebSocket is alive, per connection: a connection is dead when neither a frame nor
//! the answer to our ping arrived within the deadline, even if TCP says it is open (a venue
//! that stops sending without closing). And the keep-alive the venue asks for: MAX closes a
//! connection it has not heard a ping from in 130 s, so every MAX connection, the private one
//! included, pings at least every `ping_every` (spec max.md §3.5).
//!
//! The feed reports every frame it reads ([`Liveness::on_frame`]: text, ping or pong) and asks
//! [`Liveness::check`] on each poll what to do:
//! - the connection has been quiet for half the deadline and we have not pinged since the last
//!   frame: send a probe ping (a quiet but live server answers it with a pong);
//! - `ping_every` has passed since our last ping: send the keep-alive ping;
//! - quiet for the whole deadline: the connection is dead; the feed closes it, counts it,
//!   reports it and reconnects (its books resync).

use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LivenessAction {
    Nothing,
    /// Send a ping now (a probe or the keep-alive).
    Ping,
    /// Nothing arrived within the deadline: close and reconnect.
    Dead,
}

#[derive(Clone, Copy, Debug)]
pub struct Liveness {
    timeout: Duration,
    ping_every: Duration,
    last_frame: Instant,
    last_ping: Instant,
}

impl Liveness {
    /// `timeout`: the deadline for a frame or a pong; `ping_every`: the longest time between
    /// two pings (the venue's keep-alive).
    pub fn new(timeout: Duration, ping_every: Duration, now: Instant) -> Liveness {
        Liveness {
            timeout,
            ping_every,
            last_frame: now,
            last_ping: now,
        }
    }

    /// A fresh connection (its handshake counts as the last frame and the last ping).
    pub fn restart(&mut self, now: Instant) {
        self.last_frame = now;
        self.last_ping = now;
    }

    pub fn on_frame(&mut self, now: Instant) {
        self.last_frame = now;
    }

    /// Call after a ping was sent.
    pub fn pinged(&mut self, now: Instant) {
        self.last_ping = now;
    }

    pub fn quiet_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_frame)
    }

    pub fn check(&self, now: Instant) -> LivenessAction {
        let quiet = self.quiet_for(now);
        if quiet >= self.timeout {
            return LivenessAction::Dead;
        }
        let since_ping = now.saturating_duration_since(self.last_ping);
        let probe_due = quiet >= self.timeout / 2 && self.last_ping <= self.last_frame;
        if probe_due || since_ping >= self.ping_every {
            return LivenessAction::Ping;
        }
        LivenessAction::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_quiet_connection_is_probed_then_declared_dead() {
        let t0 = Instant::now();
        let mut l = Liveness::new(S(4_000), S(30_000), t0);
        assert_eq!(l.check(t0 + S(1_999)), LivenessAction::Nothing);
        assert_eq!(l.check(t0 + S(2_000)), LivenessAction::Ping, "probe");
        l.pinged(t0 + S(2_000));
        assert_eq!(l.check(t0 + S(3_999)), LivenessAction::Nothing, "one probe");
        assert_eq!(l.check(t0 + S(4_000)), LivenessAction::Dead);
    }

    #[test]
    fn an_answered_probe_keeps_it_alive() {
        let t0 = Instant::now();
        let mut l = Liveness::new(S(4_000), S(30_000), t0);
        l.pinged(t0 + S(2_000));
        l.on_frame(t0 + S(2_001)); // the pong
        assert_eq!(l.check(t0 + S(4_000)), LivenessAction::Nothing);
        assert_eq!(
            l.check(t0 + S(4_001)),
            LivenessAction::Ping,
            "quiet again: probe"
        );
    }

    #[test]
    fn a_busy_connection_still_pings_every_keep_alive_period() {
        let t0 = Instant::now();
        let mut l = Liveness::new(S(4_000), S(30_000), t0);
        let mut pings = 0;
        for ms in (0..=120_000).step_by(10) {
            let now = t0 + S(ms);
            l.on_frame(now);
            if l.check(now) == LivenessAction::Ping {
                l.pinged(now);
                pings += 1;
            }
        }
        assert_eq!(pings, 4, "at 30, 60, 90 and 120 s");
    }
}
