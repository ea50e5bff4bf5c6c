//! Parameter sweeps: `engram sweep SWEEP.toml`, `engram merge DIR`.
//!
//! # The sweep file
//!
//! ```toml
//! base = "cuba.toml"        # the config the sweep varies; relative to this file or absolute
//! repeats = 3               # seeds per grid position (default 1)
//! # seed = 5                # base of the point seeds (default: the base's simulation.seed)
//! # threads = 1             # simulation threads of each point (default 1)
//!
//! [axes]                    # one dimension each, in file order; any config field by path
//! "projections.E_to_E.weight_pa" = [15.0, 20.25, 25.0]
//! "neuron.tau_m_ms" = { linspace = [10.0, 30.0, 5] }      # 10, 15, 20, 25, 30
//! "inputs.drive.rate_hz" = { logspace = [10.0, 1000.0, 3] }  # 10, 100, 1000 (values)
//!
//! [zip]                     # one dimension: these fields vary together (same lengths);
//! "neuron.v_th_mv" = [-50.0, -52.0]          # [[zip]] gives several groups
//! "neuron.v_reset_mv" = [-60.0, -62.0]
//!
//! [sample]                  # one dimension of n random draws (deterministic in seed)
//! n = 20
//! seed = 1
//! "neuron.t_ref_ms" = { uniform = [1.0, 5.0] }
//! "inputs.drive.weight_pa" = { loguniform = [10.0, 100.0] }
//! "inputs.drive.neurons" = { choice = ["all", { range = [0, 100] }] }
//! ```
//!
//! - A path that crosses an array takes an index: `"ach.pulses.0.amplitude"`.
//! - `linspace` and `logspace` give floats; when both ends are integers, the values are
//!   rounded to integers. `logspace` takes the end values, not their exponents.
//! - The points are the Cartesian product of the dimensions (axes in file order, then zip
//!   groups, then the sample), first dimension slowest, each grid position `repeats` times
//!   in a row: point `index = grid * repeats + repeat`. A file with only `base` and
//!   `repeats` is a seed sweep.
//! - The seed of a point is a hash ([`spec::point_seed`]) of the base seed, the grid
//!   position and the repeat, so it never depends on scheduling or sharding. An axis over
//!   `simulation.seed` sets the seed itself (and needs `repeats = 1`).
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
pub mod points;
pub mod spec;
pub mod store;
pub mod summary;

#[cfg(test)]
mod tests;

use std::path::Path;

/// Why a sweep cannot run or did not finish: bad input (exit code 2) or a failure while
/// running or writing (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file, the base config, a point, the options or the folder are not
    /// acceptable; nothing was written.
    #[error("{0}")]
    Input(String),
    /// Something failed while running or writing.
    #[error("{0}")]
    Runtime(String),
}

impl SweepError {
    /// An input error at `path` (a field or axis; may be empty) of `file`.
    pub fn input(file: &Path, path: &str, message: impl std::fmt::Display) -> SweepError {
        if path.is_empty() {
            SweepError::Input(format!("{}: {message}", file.display()))
        } else {
            SweepError::Input(format!("{}: {path}: {message}", file.display()))
        }
    }
}
