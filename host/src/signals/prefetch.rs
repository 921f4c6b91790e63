//! Asking the CPU for a symbol's detector state ahead of its bar. Between two bars of one
//! symbol the event loop works through every other symbol's, which evicts that state; read as
//! the detectors follow their pointers, each line would cost a round trip to memory, one after
//! another. Requested before the features are computed (the state itself) and before the
//! detectors run (what it points to), the lines arrive together. A request is only a hint: it
//! never faults, whatever the address, and changes no value.

use std::collections::VecDeque;

/// Bytes in a cache line.
const LINE: usize = 64;

/// Requests the line holding address `p`.
#[inline(always)]
pub fn line<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing into the program and cannot fault, whatever the
    // address; SSE, which has it, is part of every x86_64.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Requests the lines of `bytes` bytes from `p` (none for no bytes).
#[inline(always)]
pub fn range<T>(p: *const T, bytes: usize) {
    let start = p as usize;
    let end = start.saturating_add(bytes);
    let mut at = start & !(LINE - 1);
    while at < end {
        line(at as *const u8);
        match at.checked_add(LINE) {
            Some(next) => at = next,
            None => break,
        }
    }
}

/// Requests the lines of `value`'s own bytes (not what it points to).
#[inline(always)]
pub fn value<T>(value: &T) {
    range(value, size_of::<T>());
}

/// Requests the lines of `values`.
#[inline(always)]
pub fn slice<T>(values: &[T]) {
    range(values.as_ptr(), size_of_val(values));
}

/// Requests a deque's front and back lines: what its next pop takes and, most often, the line
/// its next push writes (the slot after the back). Values read across the whole deque (a
/// detector's scan on the rare bar that breaks out) are left to be fetched then.
#[inline(always)]
pub fn deque_ends<T>(deque: &VecDeque<T>) {
    let (a, b) = deque.as_slices();
    if let Some(front) = a.first() {
        line(front);
    }
    if let Some(back) = b.last().or(a.last()) {
        line(back);
    }
}
