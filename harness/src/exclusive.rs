//! One input at a time in a process. The host heap count (`alloc.rs`) and
//! the resident set (`resident.rs`, whose doc tells how it is read) are the
//! process's, so pages another thread touches while an input runs would
//! count towards that input's budget. A fuzz target runs one input at a
//! time anyway; a test binary runs its tests on parallel threads, and each
//! may run inputs. Every layer's entry points that check an input run it
//! through [`run`], which waits for any other thread's input to finish; an
//! entry reached from inside another (layer 3's input runs its resource
//! module through `run_resource_module`, itself an entry) passes straight
//! through. A replay that gives up on a hung input [`abandon`]s
//! it, so that the inputs after it run (beside it, as they must).

use std::cell::Cell;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

/// The thread whose input is running, if any.
static HOLDER: Mutex<Option<ThreadId>> = Mutex::new(None);
/// Signalled when [`HOLDER`] is cleared.
static FREED: Condvar = Condvar::new();

thread_local! {
    /// Whether this thread's input is running.
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

fn holder() -> MutexGuard<'static, Option<ThreadId>> {
    HOLDER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Frees the lock when the outermost entry returns or unwinds (an oracle
/// firing panics through it), unless the input was abandoned meanwhile.
struct Running(ThreadId);

impl Drop for Running {
    fn drop(&mut self) {
        HOLDING.with(|holding| holding.set(false));
        abandon(self.0);
    }
}

/// Runs `input` once no other thread is running one.
pub fn run<T>(input: impl FnOnce() -> T) -> T {
    if HOLDING.with(Cell::get) {
        return input();
    }
    let me = std::thread::current().id();
    let mut holder = holder();
    while holder.is_some() {
        holder = FREED.wait(holder).unwrap_or_else(PoisonError::into_inner);
    }
    *holder = Some(me);
    drop(holder);
    HOLDING.with(|holding| holding.set(true));
    let _running = Running(me);
    input()
}

/// Lets other inputs run while `thread`'s input, given up on (hung, or past
/// the memory limit), is still running; nothing if another thread holds the lock.
pub fn abandon(thread: ThreadId) {
    let mut holder = holder();
    if *holder == Some(thread) {
        *holder = None;
        FREED.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

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

    #[test]
    fn an_abandoned_input_does_not_keep_others_out() {
        let (started, running) = mpsc::channel();
        let (finish, finished) = mpsc::channel::<()>();
        let hung = std::thread::spawn(move || {
            run(|| {
                started.send(()).unwrap();
                finished.recv().ok();
            })
        });
        running.recv().unwrap();
        let (ran, done) = mpsc::channel();
        let waiting = std::thread::spawn(move || run(|| ran.send(()).unwrap()));
        assert!(done.recv_timeout(Duration::from_millis(200)).is_err(), "ran beside a held input");
        abandon(hung.thread().id());
        assert!(done.recv_timeout(Duration::from_secs(10)).is_ok(), "kept out by an abandoned input");
        waiting.join().unwrap();
        finish.send(()).unwrap();
        hung.join().unwrap();
    }
}
