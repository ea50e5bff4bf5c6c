//! The engram runner: the `engram` command, runs, sweeps and plots.
//!
//! The binary (`src/main.rs`) is a thin layer over these modules: `engram_config` turns a
//! TOML file into a checked model, [`run`] runs it and writes its file through `engram_io`.

/// `println!` for the command's output on stdout, except that when stdout has been closed
/// (`engram inspect OUT.h5 | head`) the process ends quietly with status 0 instead of
/// panicking: everything the command had to write to files is complete by the time it
/// prints.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::print_line(format_args!($($arg)*))
    };
}

/// Set once a command printed its JSON object on stdout (a sweep's summary, which lists
/// its failed points): a failure after it is not printed as a second JSON object.
pub static JSON_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints `value` as the command's one JSON object on stdout (see [`JSON_PRINTED`]).
pub fn print_json(value: &serde_json::Value) {
    print_line(format_args!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialisable")
    ));
    JSON_PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Writes one line to stdout; see [`outln!`].
pub fn print_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{args}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("failed printing to stdout: {e}");
    }
}

/// Reads one population of a SONATA spike file for a `spike_file` input, with engram-io:
/// the reader that every front end gives engram-config
/// ([`engram_config::LoadOptions::spike_reader`]), which links no HDF5 itself.
pub fn read_spike_file(
    path: &std::path::Path,
    population: Option<&str>,
) -> Result<engram_config::SpikeTable, String> {
    engram_io::read_population_spikes(path, population)
        .map(|s| engram_config::SpikeTable {
            node_ids: s.node_ids,
            times_ms: s.times_ms,
        })
        .map_err(|e| e.to_string())
}

/// An error about one file, with where in it when known: a config or sweep file (with
/// the field), an input that cannot be read, an output that is refused. The message names
/// the file too; a `--json` error object gives `file`, `line` and `path` from it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    /// The whole message.
    pub message: String,
    /// The file (or folder) the error is about.
    pub file: std::path::PathBuf,
    /// The line in `file`, where known.
    pub line: Option<usize>,
    /// The field or key in `file`, where one can be named.
    pub path: Option<String>,
}

impl FileError {
    /// An error about `file` as a whole.
    pub fn new(file: &std::path::Path, message: impl std::fmt::Display) -> FileError {
        FileError {
            message: message.to_string(),
            file: file.to_path_buf(),
            line: None,
            path: None,
        }
    }
}

impl From<engram_config::sweep::SweepFileError> for FileError {
    fn from(e: engram_config::sweep::SweepFileError) -> FileError {
        FileError {
            message: e.message,
            file: e.file,
            line: e.line,
            path: Some(e.path).filter(|p| !p.is_empty()),
        }
    }
}

pub mod interrupt;
pub mod plot;
pub mod resources;
pub mod run;
pub mod sweep;
