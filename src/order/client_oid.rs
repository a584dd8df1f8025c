//! Client order ids: `{strategy_id}_{wallet_type}_{ms_timestamp}` (the seed's naming), at most
//! 36 bytes (MAX's limit), unique even within one millisecond.
//!
//! Uniqueness: the millisecond written is `max(now_ms, last + 1)`, strictly increasing per
//! generator, so a burst of N orders inside one millisecond takes N consecutive values and the
//! ids run ahead of the clock by at most N − 1 ms until the clock catches up. MAX validates
//! uniqueness over 24 h; one engine owns one generator per key.

use crate::model::{ClientOid, Strategy, WalletType};

#[derive(Default)]
pub struct ClientOidGen {
    last_ms: u64,
}

impl ClientOidGen {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next id. No allocation: written into a stack buffer.
    pub fn next(&mut self, strategy: Strategy, wallet: WalletType, now_ms: u64) -> ClientOid {
        let ms = now_ms.max(self.last_ms + 1);
        self.last_ms = ms;
        // Longest case: "stable_coin_spot_" (17) + 20 digits = 37 > 36 only past year 5138.
        let mut buf = [0u8; 48];
        let mut n = 0;
        for part in [
            strategy.id().as_bytes(),
            b"_",
            wallet.wire().as_bytes(),
            b"_",
        ] {
            buf[n..n + part.len()].copy_from_slice(part);
            n += part.len();
        }
        // Decimal digits of `ms`, written without the formatting machinery.
        let mut digits = [0u8; 20];
        let mut d = digits.len();
        let mut v = ms;
        loop {
            d -= 1;
            digits[d] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let len = digits.len() - d;
        buf[n..n + len].copy_from_slice(&digits[d..]);
        ClientOid::from_bytes(&buf[..n + len]).unwrap_or_default()
    }

    /// Splits an id back into its parts; `None` if it is not one of ours.
    pub fn parse(oid: &ClientOid) -> Option<(Strategy, WalletType, u64)> {
        let s = oid.as_str();
        let (rest, ms) = s.rsplit_once('_')?;
        let (strategy, wallet) = rest.rsplit_once('_')?;
        let strategy = Strategy::ALL.into_iter().find(|x| x.id() == strategy)?;
        let wallet = match wallet {
            "spot" => WalletType::Spot,
            "m" => WalletType::Margin,
            _ => return None,
        };
        Some((strategy, wallet, ms.parse().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_burst_inside_one_millisecond_stays_unique_short_and_parsable() {
        let mut g = ClientOidGen::new();
        let now = 1_767_225_600_123;
        let mut seen = HashSet::new();
        for i in 0..10_000u64 {
            let s = Strategy::ALL[(i % 3) as usize];
            let w = if i % 2 == 0 {
                WalletType::Spot
            } else {
                WalletType::Margin
            };
            let id = g.next(s, w, now);
            assert!(id.as_str().len() <= 36, "{id}");
            assert!(seen.insert(id), "duplicate {id}");
            assert_eq!(ClientOidGen::parse(&id), Some((s, w, now + i)));
        }
        assert_eq!(
            g.next(Strategy::Test, WalletType::Spot, now + 20_000)
                .as_str(),
            "test_spot_1767225620123"
        );
    }
}
