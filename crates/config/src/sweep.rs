//! Sweep files: what `engram sweep SWEEP.toml` varies, read and checked into points.
//!
//! [`spec`] parses the file into a [`spec::SweepSpec`] and lists its points; [`points`]
//! reads the base config and checks every point as a config ([`points::Sweep`]). Running
//! the points and the sweep folder are the front end's.
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

pub mod points;
pub mod spec;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

/// A sweep file, its base config or one of its points cannot be used (bad input): the
/// message names the sweep file and, when one can be named, the field, axis or point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SweepFileError {
    /// The whole message, starting with the sweep file.
    pub message: String,
    /// The file the error is in: the sweep file, or the base config for a field of the
    /// base config that no axis sets.
    pub file: PathBuf,
    /// The line in `file`, where known.
    pub line: Option<usize>,
    /// The key or axis of the sweep file (`repeats`, `axes."populations.E.n"`, the field
    /// an axis sets), or the field of the base config; empty if none can be named.
    pub path: String,
}

impl SweepFileError {
    /// An error at `path` (a field or axis; may be empty) of `file`.
    pub fn at(file: &Path, path: &str, message: impl std::fmt::Display) -> SweepFileError {
        let message = if path.is_empty() {
            format!("{}: {message}", file.display())
        } else {
            format!("{}: {path}: {message}", file.display())
        };
        SweepFileError {
            message,
            file: file.to_path_buf(),
            line: None,
            path: path.to_owned(),
        }
    }
}
