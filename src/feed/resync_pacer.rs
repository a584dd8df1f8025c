//! How often a feed may ask the venue for a book's snapshot: at most once per back-off step,
//! per book, and the requests of one connection's books that are due together go out together.
//!
//! The book stage raises a resync request whenever a book cannot be trusted (a gap, a version
//! change, an empty snapshot, a crossed book). Answering each request at once turns a venue
//! that keeps sending unusable snapshots into a storm: an empty MAX snapshot answered by an
//! immediate resubscription, answered by another empty snapshot, thousands of times a second.
//! The pacer holds a request until the book's next step (exponential with ±25 % jitter, 100 ms
//! → 5 s) and resets the steps once the book has gone [`RESET_AFTER`] without asking. Meanwhile
//! the book stays `Resyncing`, so nothing trades on it.
//!
//! The initial subscription of a connection counts as an ask for every book it covers
//! ([`ResyncPacer::asked_all`]).

use crate::pipeline::backoff::Backoff;
use std::time::{Duration, Instant};

pub const STEP_MIN: Duration = Duration::from_millis(100);
pub const STEP_MAX: Duration = Duration::from_secs(5);
/// A book that went this long without a resync request starts again from the first step.
pub const RESET_AFTER: Duration = Duration::from_secs(10);

struct BookPace {
    owed: bool,
    next_allowed: Instant,
    last_ask: Option<Instant>,
    backoff: Backoff,
}

pub struct ResyncPacer {
    books: Vec<BookPace>,
}

impl ResyncPacer {
    /// One pace per book of the connection, indexed as the feed indexes them.
    pub fn new(books: usize, seed: u64) -> ResyncPacer {
        let now = Instant::now();
        ResyncPacer {
            books: (0..books)
                .map(|i| BookPace {
                    owed: false,
                    next_allowed: now,
                    last_ask: None,
                    backoff: Backoff::new(
                        STEP_MIN,
                        STEP_MAX,
                        seed ^ (i as u64).wrapping_mul(0x9e37_79b9),
                    ),
                })
                .collect(),
        }
    }

    /// Book `i` needs a snapshot.
    pub fn request(&mut self, i: usize) {
        if let Some(b) = self.books.get_mut(i)
            && !b.owed
        {
            b.owed = true;
        }
    }

    fn ask(b: &mut BookPace, now: Instant) {
        if b.last_ask
            .is_some_and(|t| now.saturating_duration_since(t) >= RESET_AFTER)
        {
            b.backoff.reset();
        }
        b.owed = false;
        b.last_ask = Some(now);
        b.next_allowed = now + b.backoff.next_wait();
    }

    /// A subscription that brings every book a snapshot went out (a new connection): nothing
    /// is owed, and each book's next ask waits for its step.
    pub fn asked_all(&mut self, now: Instant) {
        for b in &mut self.books {
            Self::ask(b, now);
        }
    }

    /// Whether a book is owed a snapshot that its step does not allow yet.
    pub fn any_held(&self, now: Instant) -> bool {
        self.books.iter().any(|b| b.owed && now < b.next_allowed)
    }

    /// Whether any book may be asked for now.
    pub fn any_due(&self, now: Instant) -> bool {
        self.books.iter().any(|b| b.owed && now >= b.next_allowed)
    }

    /// Hands every book that is owed a snapshot and allowed one now to `ask` (in index order)
    /// and records the ask; returns how many.
    pub fn take_due(&mut self, now: Instant, ask: impl FnMut(usize)) -> usize {
        self.take_due_up_to(now, usize::MAX, ask)
    }

    /// [`ResyncPacer::take_due`] for at most `limit` books (what the connection's budget has
    /// room for); the others stay due.
    pub fn take_due_up_to(
        &mut self,
        now: Instant,
        limit: usize,
        mut ask: impl FnMut(usize),
    ) -> usize {
        let mut n = 0;
        for (i, b) in self.books.iter_mut().enumerate() {
            if n >= limit {
                break;
            }
            if b.owed && now >= b.next_allowed {
                Self::ask(b, now);
                ask(i);
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_that_keeps_asking_is_answered_once_per_growing_step() {
        let t0 = Instant::now();
        let mut p = ResyncPacer::new(1, 7);
        p.asked_all(t0);
        let mut asks = Vec::new();
        // The book asks again every millisecond for 3 s (an empty snapshot, over and over).
        for ms in 0..3_000u64 {
            let now = t0 + Duration::from_millis(ms);
            p.request(0);
            p.take_due(now, |_| asks.push(ms));
        }
        assert!(
            (3..=6).contains(&asks.len()),
            "a handful of asks in 3 s, not thousands: {asks:?}"
        );
        for w in asks.windows(2) {
            assert!(w[1] > w[0] + 70, "steps grow: {asks:?}");
        }
    }

    #[test]
    fn due_books_go_out_together_and_a_calm_book_starts_from_the_first_step() {
        let t0 = Instant::now();
        let mut p = ResyncPacer::new(3, 1);
        let mut now = t0 + Duration::from_secs(60);
        p.request(0);
        p.request(2);
        let mut got = Vec::new();
        assert_eq!(p.take_due(now, |i| got.push(i)), 2);
        assert_eq!(got, [0, 2], "one round for both");
        p.request(0);
        assert!(
            p.any_held(now) && !p.any_due(now),
            "the next ask waits for its step"
        );
        now += STEP_MAX;
        assert!(p.any_due(now));
        p.take_due(now, |_| {});
        // Calm for a while, then one request: answered at once, and the step is short again.
        now += RESET_AFTER + STEP_MAX;
        p.request(0);
        assert_eq!(p.take_due(now, |_| {}), 1);
        p.request(0);
        assert!(p.any_due(now + STEP_MIN * 5 / 4 + Duration::from_millis(1)));
    }
}
