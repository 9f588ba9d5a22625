//! One input at a time in a process. The host heap count (`alloc.rs`) and
//! the resident set (`resident.rs`, whose doc tells how it is read) are the
//! process's, so pages another thread touches while an input runs would
//! count towards that input's budget. A fuzz target runs one input at a
//! time anyway; a test binary runs its tests on parallel threads, and each
//! may run inputs. Every layer's entry points that check an input run it
//! through [`run`], which waits for any other thread's input to finish; an entry
//! reached from inside another (a layer running an explicit module) passes
//! straight through.

use std::cell::Cell;
use std::sync::{Mutex, PoisonError};

/// Held while an input runs.
static RUNNING: Mutex<()> = Mutex::new(());

thread_local! {
    /// Whether this thread holds [`RUNNING`].
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

/// Clears [`HOLDING`] when the outermost entry returns or unwinds (an
/// oracle firing panics through it).
struct Holding;

impl Drop for Holding {
    fn drop(&mut self) {
        HOLDING.with(|holding| holding.set(false));
    }
}

/// Runs `input` once no other thread is running one.
pub fn run<T>(input: impl FnOnce() -> T) -> T {
    if HOLDING.with(Cell::get) {
        return input();
    }
    let _running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    HOLDING.with(|holding| holding.set(true));
    let _holding = Holding;
    input()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn inputs_on_two_threads_never_overlap_and_nested_entries_pass_through() {
        static INSIDE: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let input = || {
            for _ in 0..200 {
                run(|| {
                    let inside = INSIDE.fetch_add(1, Ordering::SeqCst) + 1;
                    MOST.fetch_max(inside, Ordering::SeqCst);
                    run(std::thread::yield_now);
                    INSIDE.fetch_sub(1, Ordering::SeqCst);
                });
            }
        };
        std::thread::scope(|scope| {
            scope.spawn(input);
            scope.spawn(input);
        });
        assert_eq!(MOST.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_input_that_panics_does_not_keep_others_out() {
        let panicked = std::panic::catch_unwind(|| run(|| panic!("oracle: fired")));
        assert!(panicked.is_err());
        assert!(!HOLDING.with(Cell::get));
        let other = std::thread::spawn(|| run(|| 7)).join();
        assert_eq!(other.ok(), Some(7));
    }
}
