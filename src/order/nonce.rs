//! MAX nonces: milliseconds of server time, strictly increasing per API key (spec max.md §1.3).
//! `offset_ms` = server time − local time, kept current by time sync.

#[derive(Default)]
pub struct NonceGen {
    last: u64,
    offset_ms: i64,
}

impl NonceGen {
    pub fn new() -> Self {
        Self::default()
    }
    /// A new clock correction restarts the sequence on the venue's clock: nonces issued against
    /// the wrong clock were either refused (too far off) or are older than any new one will be
    /// once the 30 s window has passed; MAX requires each nonce once, not an ever-growing one.
    pub fn set_offset_ms(&mut self, offset_ms: i64) {
        if offset_ms != self.offset_ms {
            self.last = 0;
        }
        self.offset_ms = offset_ms;
    }
    pub fn next(&mut self, local_ms: u64) -> u64 {
        let server = (local_ms as i64 + self.offset_ms).max(0) as u64;
        let n = server.max(self.last + 1);
        self.last = n;
        n
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn strictly_increasing_with_offset() {
        let mut g = super::NonceGen::new();
        assert_eq!(g.next(20_000), 20_000);
        g.set_offset_ms(-500);
        assert_eq!(
            g.next(10_000),
            9_500,
            "a correction restarts on the venue clock"
        );
        assert_eq!(g.next(10_000), 9_501);
        assert_eq!(g.next(9_000), 9_502);
    }
}
