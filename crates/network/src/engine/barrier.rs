//! The spin barrier at which the workers of a run meet once per step.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use super::lock;

/// A barrier for the workers of one run. Waiting workers spin briefly (a step takes
/// microseconds, so the others usually arrive within the spin), then sleep on a condition
/// variable: on a machine shared with other programs a descheduled worker must not be
/// starved by its partners spinning. The last to arrive opens the barrier with one atomic
/// increment and wakes sleepers only if there are any.
pub(super) struct SpinBarrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

impl SpinBarrier {
    /// A barrier for `n` workers.
    pub(super) fn new(n: usize) -> Self {
        SpinBarrier {
            n,
            count: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Returns once all `n` workers have called `wait` in this round.
    pub(super) fn wait(&self) {
        if self.n <= 1 {
            return;
        }
        let generation = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
            if self.sleepers.load(Ordering::Acquire) > 0 {
                let _guard = lock(&self.lock);
                self.wake.notify_all();
            }
            return;
        }
        for _ in 0..4000 {
            if self.generation.load(Ordering::Acquire) != generation {
                return;
            }
            std::hint::spin_loop();
        }
        self.sleepers.fetch_add(1, Ordering::AcqRel);
        let mut guard = lock(&self.lock);
        while self.generation.load(Ordering::Acquire) == generation {
            guard = self
                .wake
                .wait_timeout(guard, std::time::Duration::from_micros(200))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        drop(guard);
        self.sleepers.fetch_sub(1, Ordering::AcqRel);
    }
}
