//! Shared test utilities: running the binary, reading its output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (where `configs/` and `tests/` are).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// A file under the workspace root.
pub fn repo_file(rel: &str) -> PathBuf {
    repo_root().join(rel)
}

/// The small CUBA-like test network (1000 neurons, 200 ms, Poisson drive).
pub fn small_cuba() -> PathBuf {
    repo_file("tests/configs/small_cuba.toml")
}

/// Runs `engram ARGS` in the current directory.
pub fn engram<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    engram_in(None, args)
}

/// Runs `engram ARGS` in `dir` (or the current directory).
pub fn engram_in<I, S>(dir: Option<&Path>, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_engram"));
    cmd.args(args);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    cmd.output().expect("the engram binary starts")
}

/// Exit code of a finished process (panics if it was killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {}", stderr(out)))
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Panics with both streams unless the process exited with 0.
pub fn assert_ok(out: &Output, what: &str) {
    assert_eq!(
        code(out),
        0,
        "{what} failed\nstdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

/// Runs `engram run CONFIG -o OUT --json --quiet EXTRA...` and returns the JSON summary.
pub fn run_json(config: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<std::ffi::OsString> = vec![
        "run".into(),
        config.into(),
        "-o".into(),
        out.into(),
        "--json".into(),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(Into::into));
    let o = engram(&args);
    assert_ok(&o, &format!("engram run {} {extra:?}", config.display()));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "the --json summary is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

/// The spikes of one population in an output file.
#[derive(Debug, Clone, PartialEq)]
pub struct Spikes {
    /// `/spikes/<pop>/timestamps` (ms).
    pub timestamps: Vec<f64>,
    /// `/spikes/<pop>/node_ids`.
    pub node_ids: Vec<u64>,
}

impl Spikes {
    /// The timestamps as bit patterns, for byte-exact comparison.
    pub fn timestamp_bits(&self) -> Vec<u64> {
        self.timestamps.iter().map(|t| t.to_bits()).collect()
    }
}

/// Reads `/spikes/<pop>/timestamps` and `/spikes/<pop>/node_ids`.
pub fn read_spikes(file: &Path, pop: &str) -> Spikes {
    let f = hdf5::File::open(file).unwrap_or_else(|e| panic!("open {}: {e}", file.display()));
    let g = f
        .group(&format!("spikes/{pop}"))
        .unwrap_or_else(|e| panic!("{}: no /spikes/{pop}: {e}", file.display()));
    let timestamps = g
        .dataset("timestamps")
        .and_then(|d| d.read_raw::<f64>())
        .expect("timestamps are f64");
    let node_ids = g
        .dataset("node_ids")
        .and_then(|d| d.read_raw::<u64>())
        .expect("node_ids are u64");
    Spikes {
        timestamps,
        node_ids,
    }
}

/// Names of the entries of a directory, sorted.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

/// Population names of a `--json` run summary, in the order JSON gives them.
pub fn population_names(summary: &serde_json::Value) -> Vec<String> {
    summary["populations"]
        .as_object()
        .expect("populations is an object")
        .keys()
        .cloned()
        .collect()
}

/// `populations.<pop>.<field>` of a summary as u64.
pub fn pop_u64(summary: &serde_json::Value, pop: &str, field: &str) -> u64 {
    summary["populations"][pop][field]
        .as_u64()
        .unwrap_or_else(|| panic!("populations.{pop}.{field} is not an integer: {summary}"))
}
