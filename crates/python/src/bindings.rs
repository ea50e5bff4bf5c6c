//! The functions of `engram._engram`. They take and return plain values (strings, numbers,
//! dicts of numpy arrays); the classes users see are written in Python
//! (`python/engram/__init__.py`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use engram::interrupt::{self, Signal};
use engram::resources::load_options;
use engram::run::{RunError, RunOptions};
use engram_config::{ConfigError, LoadOptions};
use engram_core::ErrorKind;
use engram_experiments::{Observer, Progress};
use engram_io::{AttrValue, Publish, RunReader};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// An exception of `engram._errors`: `class(*args)`.
fn error<'py, A>(py: Python<'py>, class: &str, args: A) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    match py
        .import("engram._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1(args))
    {
        Ok(obj) => PyErr::from_value(obj),
        Err(e) => e,
    }
}

/// `engram.InputError` (bad input: exit code 2 in the CLI).
fn input_error(py: Python<'_>, message: String) -> PyErr {
    error(py, "InputError", (message,))
}

/// `engram.RunFailed` (a failure while running or writing: exit code 1 in the CLI).
fn run_failed(py: Python<'_>, message: String) -> PyErr {
    error(py, "RunFailed", (message,))
}

/// `engram.ConfigError` with the CLI's message and its parts. `text_is_generated`: the
/// config text was made from a Python dict, so its line numbers mean nothing to the user
/// and are left out.
fn config_error(py: Python<'_>, mut e: ConfigError, text_is_generated: bool) -> PyErr {
    if text_is_generated {
        e.line = None;
    }
    let (kind, hint) = match e.kind {
        ErrorKind::Memory => ("memory", " (or pass memory_check=False to run it anyway)"),
        ErrorKind::Invalid => ("invalid", ""),
    };
    error(
        py,
        "ConfigError",
        (
            format!("{e}{hint}"),
            e.file.display().to_string(),
            e.line,
            e.path.clone(),
            e.message.clone(),
            kind,
        ),
    )
}

/// The progress of a run for Python: checks for Ctrl-C and calls the user's callback
/// `callback(done_steps, total_steps, time_ms, phase)` at most every 0.1 s (and at the
/// end). An exception in either stops the run at its next step and is raised by `run`.
struct PyObserver {
    callback: Option<Py<PyAny>>,
    last: Option<Instant>,
    error: Option<PyErr>,
}

impl Observer for PyObserver {
    fn progress(&mut self, p: Progress<'_>) {
        if self.error.is_some() {
            return;
        }
        let due = self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if !due && p.done < p.total {
            return;
        }
        self.last = Some(Instant::now());
        let callback = &self.callback;
        let result = Python::attach(|py| {
            py.check_signals()?;
            if let Some(cb) = callback {
                cb.bind(py).call1((p.done, p.total, p.time_ms, p.phase))?;
            }
            Ok::<(), PyErr>(())
        });
        if let Err(e) = result {
            self.error = Some(e);
            interrupt::request(Signal::INT);
        }
    }
}

/// Loads a config as `engram run` does: from the file `source`, or (`text`) from the
/// TOML text `source`, named `file` in messages (relative paths in it are relative to
/// `file`'s folder). Returns the model; errors are `engram.ConfigError`.
fn load(
    py: Python<'_>,
    source: &str,
    text: bool,
    file: &str,
    sets: &[String],
    options: &LoadOptions,
    generated: bool,
) -> PyResult<engram_config::Model> {
    let loaded = py.detach(|| {
        if text {
            engram_config::from_text_with(Path::new(file), source, sets, options)
        } else {
            engram_config::load_with(Path::new(source), sets, options)
        }
    });
    loaded.map_err(|e| config_error(py, e, generated))
}

/// Loads and checks a config without running it; returns the config text as it would be
/// written to the output (after `sets` and `seed`).
#[pyfunction]
#[pyo3(signature = (source, text, file, sets, seed, memory_check, generated))]
#[allow(clippy::too_many_arguments)]
fn check(
    py: Python<'_>,
    source: &str,
    text: bool,
    file: &str,
    sets: Vec<String>,
    seed: Option<u64>,
    memory_check: bool,
    generated: bool,
) -> PyResult<String> {
    let options = load_options(seed, 1, memory_check);
    let model = load(py, source, text, file, &sets, &options, generated)?;
    Ok(model.text)
}

/// Runs a config into the HDF5 file `output` with the CLI's pipeline; returns the run
/// summary (`engram run --json`) as JSON text. The GIL is released while the network is
/// built and simulated.
#[pyfunction]
#[pyo3(signature = (source, text, file, sets, seed, threads, output, force, memory_check, generated, progress))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    source: &str,
    text: bool,
    file: &str,
    sets: Vec<String>,
    seed: Option<u64>,
    threads: usize,
    output: PathBuf,
    force: bool,
    memory_check: bool,
    generated: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let started = Instant::now();
    let options = load_options(seed, threads, memory_check);
    let model = load(py, source, text, file, &sets, &options, generated)?;
    let publish = if force {
        Publish::Replace
    } else {
        Publish::Exclusive
    };
    let opts = RunOptions {
        started,
        publish,
        ..RunOptions::new(output, threads)
    };
    let mut observer = PyObserver {
        callback: progress,
        last: None,
        error: None,
    };
    interrupt::clear();
    let result = py.detach(|| engram::run::execute_observed(&model, &opts, &mut observer));
    interrupt::clear();
    match result {
        Ok(summary) => Ok(summary.json.to_string()),
        Err(RunError::Input(e)) => Err(input_error(py, format!("{e:#}"))),
        Err(RunError::Runtime(e)) => Err(run_failed(py, format!("{e:#}"))),
        Err(e @ RunError::Interrupted { .. }) => Err(observer
            .error
            .take()
            .unwrap_or_else(|| pyo3::exceptions::PyKeyboardInterrupt::new_err(e.to_string()))),
    }
}

/// An `engram_io` error as a Python exception: a malformed or missing file is bad input.
fn io_error(py: Python<'_>, e: engram_io::Error) -> PyErr {
    match e {
        engram_io::Error::Format(m) => input_error(py, m),
        e => run_failed(py, e.to_string()),
    }
}

/// Everything `read` returns, read with the GIL released.
struct FileData {
    populations: Vec<(String, u64, Vec<f64>, Vec<u64>)>,
    provenance: Vec<(String, AttrValue)>,
    parameters: Vec<(String, String)>,
    config: Option<String>,
    results: Option<String>,
    ach: Option<engram_io::AchTrace>,
    reports: Vec<engram_io::ReportTrace>,
    weights: Vec<engram_io::WeightTable>,
    protocol: Vec<engram_io::PhaseSpan>,
}

fn read_file(path: &Path) -> engram_io::Result<FileData> {
    let reader = RunReader::open(path)?;
    let mut populations = Vec::new();
    for name in reader.population_names()? {
        let data = reader.population(&name)?.spikes()?;
        let (times, ids) = data.read_all()?;
        let n = data
            .n_nodes()
            .unwrap_or_else(|| ids.iter().max().map_or(0, |m| m + 1));
        populations.push((name, n, times, ids));
    }
    Ok(FileData {
        populations,
        provenance: reader.provenance_attrs()?,
        parameters: reader.parameters(),
        config: reader.config_text(),
        results: reader.results_json(),
        ach: reader.ach()?,
        reports: reader.reports()?,
        weights: reader.weights()?,
        protocol: reader.protocol()?,
    })
}

/// Reads a run's file: a dict of its spikes (numpy arrays), provenance, config, results
/// (JSON text), ACh trace, state reports, weights and protocol phases.
#[pyfunction]
fn read(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyDict>> {
    let data = py
        .detach(|| read_file(&path))
        .map_err(|e| io_error(py, e))?;
    let out = PyDict::new(py);
    let pops = PyList::empty(py);
    for (name, n, times, ids) in data.populations {
        let d = PyDict::new(py);
        d.set_item("name", name)?;
        d.set_item("n", n)?;
        d.set_item("times_ms", PyArray1::from_vec(py, times))?;
        d.set_item("node_ids", PyArray1::from_vec(py, ids))?;
        pops.append(d)?;
    }
    out.set_item("populations", pops)?;
    let prov = PyDict::new(py);
    for (k, v) in data.provenance {
        match v {
            AttrValue::Text(s) => prov.set_item(k, s)?,
            AttrValue::Count(x) => prov.set_item(k, x)?,
            AttrValue::Integer(x) => prov.set_item(k, x)?,
            AttrValue::Number(x) => prov.set_item(k, x)?,
            AttrValue::Other => prov.set_item(k, py.None())?,
        }
    }
    out.set_item("provenance", prov)?;
    let params = PyDict::new(py);
    for (k, v) in data.parameters {
        params.set_item(k, v)?;
    }
    out.set_item("parameters", params)?;
    out.set_item("config", data.config)?;
    out.set_item("results", data.results)?;
    match data.ach {
        Some(a) => out.set_item(
            "ach",
            (
                PyArray1::from_vec(py, a.time_ms),
                PyArray1::from_vec(py, a.concentration),
            ),
        )?,
        None => out.set_item("ach", py.None())?,
    }
    let reports = PyList::empty(py);
    for r in data.reports {
        let d = PyDict::new(py);
        let shape = [r.time_ms.len(), r.node_ids.len()];
        d.set_item("population", r.population)?;
        d.set_item("variable", r.variable)?;
        d.set_item("units", r.units)?;
        d.set_item("node_ids", PyArray1::from_vec(py, r.node_ids))?;
        d.set_item("time_ms", PyArray1::from_vec(py, r.time_ms))?;
        d.set_item("data", PyArray1::from_vec(py, r.data).reshape(shape)?)?;
        reports.append(d)?;
    }
    out.set_item("reports", reports)?;
    let weights = PyList::empty(py);
    for w in data.weights {
        let d = PyDict::new(py);
        d.set_item("projection", w.projection)?;
        d.set_item("source", PyArray1::from_vec(py, w.source))?;
        d.set_item("target", PyArray1::from_vec(py, w.target))?;
        d.set_item("weight_pa", PyArray1::from_vec(py, w.weight_pa))?;
        match w.tag {
            Some(t) => d.set_item("tag", PyArray1::from_vec(py, t))?,
            None => d.set_item("tag", py.None())?,
        }
        weights.append(d)?;
    }
    out.set_item("weights", weights)?;
    let phases: Vec<(String, f64, f64)> = data
        .protocol
        .into_iter()
        .map(|p| (p.name, p.start_ms, p.stop_ms))
        .collect();
    out.set_item("protocol", phases)?;
    Ok(out)
}

/// Writes the NWB file of the run's file `path` to `nwb` (see `engram_io::nwb`), as
/// `engram export PATH --nwb NWB [--force]` does; returns the path written.
#[pyfunction]
#[pyo3(signature = (path, nwb, force))]
fn export_nwb(py: Python<'_>, path: PathBuf, nwb: PathBuf, force: bool) -> PyResult<String> {
    let publish = if force {
        Publish::Replace
    } else {
        Publish::Exclusive
    };
    let written = py
        .detach(|| engram_io::export_nwb(&path, &nwb, publish))
        .map_err(|e| match e {
            engram_io::Error::Output(o) => input_error(py, o.to_string()),
            e => io_error(py, e),
        })?;
    Ok(written.display().to_string())
}

/// Runs a sweep file as `engram sweep FILE --quiet` does; returns the sweep folder.
#[pyfunction]
#[pyo3(signature = (file, output, jobs, resume, force, shard, memory_check))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    file: PathBuf,
    output: Option<PathBuf>,
    jobs: Option<usize>,
    resume: bool,
    force: bool,
    shard: Option<String>,
    memory_check: bool,
) -> PyResult<String> {
    use engram::sweep::SweepError;
    let dir = output
        .clone()
        .unwrap_or_else(|| engram::sweep::cli::default_dir(&file));
    let args = engram::sweep::cli::SweepArgs {
        file,
        output,
        jobs,
        resume,
        force,
        shard,
        dry_run: false,
        no_memory_check: !memory_check,
        quiet: true,
        json: false,
    };
    interrupt::clear();
    let result = py.detach(|| engram::sweep::cli::sweep(&args));
    interrupt::clear();
    match result {
        Ok(()) => Ok(dir.display().to_string()),
        Err(SweepError::Input(m)) => Err(input_error(py, m)),
        Err(SweepError::File(f)) => Err(input_error(py, f.message)),
        Err(SweepError::Runtime(m)) => Err(run_failed(py, m)),
        Err(SweepError::Interrupted(_, m)) => {
            Err(pyo3::exceptions::PyKeyboardInterrupt::new_err(m))
        }
    }
}

/// The native module `engram._engram`.
#[pymodule]
fn _engram(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(export_nwb, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
