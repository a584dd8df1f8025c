//! How a Binance venue's symbols are spread over connections: Binance allows at most 1024
//! streams on one connection (spec binance.md §1.1, §1.2) and each symbol takes two
//! (`<symbol>@depth@100ms` and `<symbol>@bookTicker`), so a desk with more symbols than
//! `[venues.binance] streams_per_connection` allows needs several connections, one feed each.
//!
//! The symbols are cut, in configuration order, into the fewest groups that keep every
//! connection within the limit, as even as possible (65 symbols at 40 streams a connection: four
//! groups of 17, 16, 16 and 16), so no connection carries much more traffic than another.

use crate::model::InstrumentId;

/// Streams a symbol takes on a connection: diff depth and bookTicker.
pub const STREAMS_PER_SYMBOL: usize = 2;

/// `symbols` split into the fewest groups of at most `streams_per_connection` streams each
/// (at least one symbol a group, whatever the setting), in order; no group when there are no
/// symbols.
pub fn connection_groups(
    symbols: &[InstrumentId],
    streams_per_connection: usize,
) -> Vec<Vec<InstrumentId>> {
    if symbols.is_empty() {
        return Vec::new();
    }
    let per_group = (streams_per_connection / STREAMS_PER_SYMBOL).max(1);
    let groups = symbols.len().div_ceil(per_group);
    // The first `extra` groups take one symbol more than the others.
    let (base, extra) = (symbols.len() / groups, symbols.len() % groups);
    let mut out = Vec::with_capacity(groups);
    let mut rest = symbols;
    for g in 0..groups {
        let n = base + usize::from(g < extra);
        let (head, tail) = rest.split_at(n);
        out.push(head.to_vec());
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<InstrumentId> {
        (0..n).map(|i| InstrumentId(i as u16)).collect()
    }

    #[test]
    fn every_symbol_in_exactly_one_group_within_the_limit() {
        for n in [1, 2, 19, 20, 21, 65, 512, 513, 1000] {
            for cap in [2, 3, 4, 39, 40, 41, 1024] {
                let symbols = ids(n);
                let groups = connection_groups(&symbols, cap);
                let per = (cap / 2).max(1);
                assert_eq!(groups.len(), n.div_ceil(per), "{n} symbols, cap {cap}");
                for g in &groups {
                    assert!(!g.is_empty());
                    assert!(g.len() * STREAMS_PER_SYMBOL <= cap.max(2), "{n}, {cap}");
                }
                let flat: Vec<InstrumentId> = groups.iter().flatten().copied().collect();
                assert_eq!(flat, symbols, "{n}, {cap}: each once, in order");
                let (min, max) = (
                    groups.iter().map(Vec::len).min().unwrap(),
                    groups.iter().map(Vec::len).max().unwrap(),
                );
                assert!(max - min <= 1, "{n}, {cap}: even groups ({min}..{max})");
            }
        }
    }

    #[test]
    fn the_default_limit_keeps_a_desk_on_one_connection_and_none_without_symbols() {
        assert_eq!(connection_groups(&ids(65), 1024).len(), 1);
        assert_eq!(connection_groups(&ids(512), 1024).len(), 1);
        assert_eq!(connection_groups(&ids(513), 1024).len(), 2);
        assert!(connection_groups(&[], 1024).is_empty());
        let g = connection_groups(&ids(65), 40);
        let sizes: Vec<usize> = g.iter().map(Vec::len).collect();
        assert_eq!(sizes, [17, 16, 16, 16]);
    }
}
