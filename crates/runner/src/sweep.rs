//! Parameter sweeps: `engram sweep SWEEP.toml`, `engram merge DIR`.
//!
//! The sweep file, its points and their seeds are described in [`engram_config::sweep`],
//! which reads and checks them; this module runs the points and keeps the sweep folder.
//!
//! # The sweep folder
//!
//! ```text
//! DIR/sweep.toml               a copy of the sweep file
//! DIR/sweep.json               the manifest: identity, dimensions, every point's parameters
//!                              and seed (merge and plot read only this and points/)
//! DIR/points/<index>.h5        the run's output, parameters under /engram/parameters
//! DIR/points/<index>.json      the run's summary; written after the .h5 is complete, so a
//!                              point is done if and only if its .json exists
//! DIR/points/<index>.error     why a point failed
//! DIR/summary.csv, .h5         one row per point: index, repeat, seed, parameters, status
//!                              and every scalar metric of the run summary, except timings
//! DIR/timings.csv              index and the timing fields (wall_s, sim_s, ...), which
//!                              differ from run to run, so summary.csv is reproducible byte
//!                              for byte
//! ```
//!
//! A shard `I/N` writes `summary.shard-I-of-N.csv` (and `.h5`, `timings.shard-...csv`)
//! over its own points; `engram merge DIR` writes the full summary from the point files.

pub mod cli;
pub mod exec;
pub mod store;
pub mod summary;

#[cfg(test)]
mod tests;

use engram_config::sweep::SweepFileError;

/// Why a sweep cannot run or did not finish: bad input (exit code 2), a failure while
/// running or writing (exit code 1), or a signal (exit code 128 + signal).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file, the base config, a point, the options or the folder are not
    /// acceptable; nothing was written.
    #[error("{0}")]
    Input(String),
    /// As `Input`, about one file: the sweep file (or a field of it or of its base
    /// config), or the folder that is no sweep folder.
    #[error("{0}")]
    File(crate::FileError),
    /// Something failed while running or writing.
    #[error("{0}")]
    Runtime(String),
    /// A signal stopped the sweep: the running points were stopped and left no files, the
    /// finished ones stay.
    #[error("{1}")]
    Interrupted(crate::interrupt::Signal, String),
}

impl From<SweepFileError> for SweepError {
    fn from(e: SweepFileError) -> Self {
        SweepError::File(e.into())
    }
}
