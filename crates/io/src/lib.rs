//! The HDF5 files of engram: the only crate that knows the file layout.
//!
//! - [`RunWriter`] streams a run's spikes into a SONATA file (under a temporary name,
//!   renamed when complete) and writes beside them the ACh trace, the final weights and
//!   tags, the results of an experiment and the provenance.
//! - [`inspect`] and [`RunReader`] read those files back (for `engram inspect` and
//!   `engram plot`) and check every spike group as they stream through it.
//! - [`read_population_spikes`] reads one population of a SONATA spike file into plain
//!   arrays, for inputs of spike trains per node.
//! - [`write_summary_table`] writes the summary of a sweep.
//! - [`export_nwb`] writes a run's file as NWB 2 (a Units table, the config and the
//!   provenance; see [`nwb`]).
//! - [`storage`] fits each dataset's chunks to its data and compresses them (shuffle and
//!   deflate, readable without plugins; [`Compression`]).
//! - [`output`] decides where a file may be written (only regular files; symbolic links to
//!   regular files are written through), publishes finished files without ever leaving a
//!   partial one at the final name, and removes the temporary files of killed runs.
//!
//! Layout of a run's file:
//!
//! ```text
//! /                            attrs magic = 0x0A7A (u32), version = [0, 1] (u32)
//! /spikes/<population>         attr sorting = by_time (HDF5 enum, int8 base), n_nodes (u64),
//!                              population_index (u64, its place in the config)
//! /spikes/<population>/timestamps   f64, ms, attr units = "ms"
//! /spikes/<population>/node_ids     u64, index in the population
//! /engram                      attrs: version, git_commit, git_dirty, build_profile,
//!                              target, target_features, rustc, created_utc (RFC 3339),
//!                              host, command_line, seed, dt_ms, duration_ms, threads,
//!                              wall times, synapse and event counts, config_path
//!                              (absolute), config_sha256, compression
//! /engram/inputs/{path, sha256}  every file the config read (absolute paths, SHA-256)
//! /engram/config               the full config text (after --set edits)
//! /engram/parameters           attrs: a sweep point's parameters (strings)
//! /ach/{time_ms, concentration}          the ACh trace, when ACh is configured
//! /weights/<projection>/{source, target, weight_pa, tag}   final weights, when asked for
//! /report/<population>         attr population_index (u64)
//! /report/<population>/<variable>/data   f32 [times, neurons], attr units (mV or pA);
//!                              attrs variable, description, report_index (its place
//!                              among the config's reports) on the group
//! /report/<population>/<variable>/mapping/{node_ids (u64), index_pointers (u64),
//!                              element_ids (u32, 0), time (f64 [start, stop, step], ms)}
//!                              state reports (SONATA soma reports), when asked for
//! /protocol, /stimuli, /analysis         a recall experiment's results, written from
//!                                        `engram_experiments::Group`s
//! ```

pub mod build_info;
pub mod nwb;
pub mod output;
mod read;
pub mod storage;
mod summary;
mod writer;

pub use nwb::export_nwb;
pub use output::{OutputError, OutputPath, OutputProblem, Publish};
pub use read::{
    AchTrace, AttrValue, FileSummary, PhaseSpan, PopulationSpikes, PopulationSummary,
    ReportSummary, ReportTrace, RunReader, SpikeData, SpikeGroup, StimulusImages, WeightTable,
    inspect, read_population_spikes,
};
pub use storage::Compression;
pub use summary::{Column, SummaryTable, write_summary_table};
pub use writer::{Provenance, ReportOut, RunWriter, Sorting};

/// Why reading or writing a file failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HDF5 library failed (the file cannot be created, opened, read or written).
    #[error(transparent)]
    Hdf5(#[from] hdf5::Error),
    /// The output path cannot be written, or the finished file cannot take its name.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The file is not laid out as expected; the message names the file or group.
    #[error("{0}")]
    Format(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A variable-length UTF-8 string for HDF5.
fn unicode(value: &str) -> hdf5::Result<hdf5::types::VarLenUnicode> {
    value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e:?}")))
}

/// Writes `values` as the 1-D dataset `name` of variable-length UTF-8 strings in `loc`.
fn write_strings(loc: &hdf5::Group, name: &str, values: &[String]) -> hdf5::Result<()> {
    let list = values
        .iter()
        .map(|v| unicode(v))
        .collect::<hdf5::Result<Vec<_>>>()?;
    loc.new_dataset_builder().with_data(&list).create(name)?;
    Ok(())
}
