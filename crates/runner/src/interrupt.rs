//! Ending a run cleanly on Ctrl-C (`SIGINT`) and `SIGTERM`.
//!
//! [`install`] (called by `engram run` and `engram sweep` before anything else) makes
//! these signals set a flag instead of killing the process. A running simulation notices
//! it at its next step ([`Interruptible`], a spike sink that checks the flag and then
//! passes the spikes on), so the engine and the experiments know nothing of signals: the
//! run ends with an [`Interrupted`] error, the writer is dropped (which removes its
//! temporary file), and the process exits with `128 + signal` (130 for `SIGINT`, 143 for
//! `SIGTERM`). A second signal ends the process at once, with the same code; a run's
//! temporary file may then be left, and the next run into that folder removes it.
//!
//! Without [`install`] the flag is never set and everything runs to its end.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use engram_network::SpikeSink;

/// The signal that asked the process to stop (0: none).
static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// Set with the first signal: the second ends the process at once.
static ARMED: AtomicBool = AtomicBool::new(false);

/// A signal that asks the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(i32);

impl Signal {
    /// `SIGINT` (Ctrl-C).
    pub const INT: Signal = Signal(signal_hook::consts::SIGINT);
    /// `SIGTERM`.
    pub const TERM: Signal = Signal(signal_hook::consts::SIGTERM);

    /// Its name (`SIGINT`).
    pub fn name(self) -> &'static str {
        match self {
            Signal::INT => "SIGINT",
            Signal::TERM => "SIGTERM",
            _ => "a signal",
        }
    }

    /// The exit code of a process it ended: 128 + its number.
    pub fn exit_code(self) -> u8 {
        u8::try_from(128 + self.0).unwrap_or(255)
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Makes `SIGINT` and `SIGTERM` ask the process to stop (see the module docs).
pub fn install() -> std::io::Result<()> {
    for signal in [Signal::INT, Signal::TERM] {
        // The shutdown goes first: on the first signal it sees ARMED false, and the
        // second action arms it.
        signal_hook::flag::register_conditional_shutdown(
            signal.0,
            i32::from(signal.exit_code()),
            &ARMED,
        )?;
        signal_hook::flag::register(signal.0, &ARMED)?;
        signal_hook::flag::register_usize(signal.0, &RECEIVED, signal.0 as usize)?;
    }
    Ok(())
}

/// The signal that asked the process to stop, if one did.
pub fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::Relaxed) {
        0 => None,
        n => Some(Signal(i32::try_from(n).unwrap_or(0))),
    }
}

/// Asks the running simulation to stop as if `signal` had arrived (without [`install`]'s
/// second-signal exit): for front ends that see the signal themselves, as the Python
/// package does through the interpreter's own handler. Undone by [`clear`].
pub fn request(signal: Signal) {
    RECEIVED.store(signal.0 as usize, Ordering::Relaxed);
}

/// Forgets a signal seen by [`request`] (or by the handlers of [`install`]), so that the
/// next run in the same process runs to its end.
pub fn clear() {
    RECEIVED.store(0, Ordering::Relaxed);
}

/// A signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by {0}")]
pub struct Interrupted(pub Signal);

/// `Err(Interrupted)` once a signal asked the process to stop.
pub fn check() -> Result<(), Interrupted> {
    match received() {
        Some(s) => Err(Interrupted(s)),
        None => Ok(()),
    }
}

/// Why an [`Interruptible`] sink stopped the run.
#[derive(Debug, thiserror::Error)]
pub enum SinkError<E> {
    /// The sink it wraps failed.
    #[error(transparent)]
    Sink(E),
    /// A signal asked the process to stop.
    #[error(transparent)]
    Interrupted(Interrupted),
}

/// A spike sink that stops the run when a signal asked the process to stop (one atomic
/// load per step) and otherwise hands the spikes to `inner`.
pub struct Interruptible<'a, S> {
    inner: &'a mut S,
}

impl<'a, S> Interruptible<'a, S> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut S) -> Self {
        Interruptible { inner }
    }
}

impl<S: SpikeSink> SpikeSink for Interruptible<'_, S> {
    type Error = SinkError<S::Error>;

    fn record(&mut self, step: u64, time_ms: f64, spikes: &[u32]) -> Result<(), Self::Error> {
        check().map_err(SinkError::Interrupted)?;
        self.inner
            .record(step, time_ms, spikes)
            .map_err(SinkError::Sink)
    }
}
