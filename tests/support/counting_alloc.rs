//! A global allocator that counts the allocations (and reallocations) made by the current
//! thread, for the tests that show a path allocates nothing after warm-up. Per thread, because
//! the test harness runs tests on parallel threads. A test installs it with
//! `#[global_allocator] static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

pub struct Counting;

fn bump() {
    // `try_with`: a thread being torn down has no thread-locals left, and may still allocate.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

/// Allocations made by the current thread so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

/// Asserts the counter sees an allocation on this thread, so a zero count later means
/// something.
#[allow(dead_code)]
pub fn assert_counting() {
    let before = allocations();
    drop(std::hint::black_box(Vec::<u8>::with_capacity(8)));
    assert!(
        allocations() > before,
        "the counting allocator is installed"
    );
}

// SAFETY: forwards every call unchanged to the system allocator; counting touches only a const
// thread-local that needs no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, n) }
    }
}
