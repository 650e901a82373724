//! The miner's threads: the hook each runs first, and a runner that hands
//! tasks to them and stops them all on the first error or cancel.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::error::MineError;

pub(super) static THREAD_START: OnceLock<fn()> = OnceLock::new();

/// A function every thread of the miner calls first. The PostgreSQL
/// extension blocks signals there, so that they reach the backend's own
/// thread.
pub fn set_thread_start(hook: fn()) {
    let _ = THREAD_START.set(hook);
}

/// What every thread of the miner (and of the sort) runs first.
pub(crate) fn thread_start() {
    if let Some(hook) = THREAD_START.get() {
        hook();
    }
}

/// Sets the flag when dropped: when the calling thread leaves the counting
/// (normally, or unwinding from a cancel raised in `tick`), the other
/// threads stop at their next check instead of finishing their range.
pub(super) struct StopOnDrop<'a>(pub(super) &'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Why a task stopped early: an error, or another thread's.
pub(super) enum Halt {
    Error(MineError),
    Stopped,
}

impl From<MineError> for Halt {
    fn from(e: MineError) -> Self {
        Halt::Error(e)
    }
}

/// Runs tasks `0..n_tasks` on one thread per state (the calling thread with
/// `states[0]`, calling `tick` as it goes), each thread taking the next task
/// when done with one. The first error stops the others at their next check.
pub(super) fn run_tasks<S: Send>(
    n_tasks: usize,
    states: &mut [S],
    stop: &AtomicBool,
    tick: &mut dyn FnMut(),
    task: &(dyn Fn(&mut S, usize, &mut dyn FnMut()) -> Result<(), Halt> + Sync),
) -> Result<(), MineError> {
    let next = AtomicUsize::new(0);
    let error: Mutex<Option<MineError>> = Mutex::new(None);
    let work = |state: &mut S, tick: &mut dyn FnMut()| loop {
        let t = next.fetch_add(1, Ordering::Relaxed);
        if t >= n_tasks || stop.load(Ordering::Relaxed) {
            break;
        }
        match task(state, t, tick) {
            Ok(()) => {}
            Err(Halt::Stopped) => break,
            Err(Halt::Error(e)) => {
                error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
    };
    // No more threads than tasks (a small job, one of many groups, runs on
    // the calling thread alone).
    let used = states.len().min(n_tasks.max(1));
    let Some((first, rest)) = states[..used].split_first_mut() else { return Ok(()) };
    let caller = std::thread::current();
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter_mut()
            .map(|state| {
                let work = &work;
                let caller = caller.clone();
                scope.spawn(move || {
                    thread_start();
                    // A panic here stops the others too.
                    let stop_others = StopOnDrop(stop);
                    work(state, &mut || {});
                    std::mem::forget(stop_others);
                    // The caller waits for the last one: wake it now.
                    caller.unpark();
                })
            })
            .collect();
        // A cancel raised in `tick` unwinds from here: the others stop at
        // their next check, and the scope waits for them.
        let stop_others = StopOnDrop(stop);
        work(first, tick);
        // Still answering a cancel while the others finish their last task.
        while !handles.iter().all(|h| h.is_finished()) {
            tick();
            std::thread::park_timeout(std::time::Duration::from_millis(2));
        }
        for h in handles {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        std::mem::forget(stop_others);
    });
    match error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
