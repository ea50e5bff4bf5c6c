//! engram's TOML files, read into what the library crates run: the only crate that parses
//! TOML.
//!
//! It owns
//!
//! - the config schema ([`ConfigFile`]) and its validation into a [`Model`]: a checked
//!   [`NetworkSpec`], the steps to run, the populations to record, the acetylcholine
//!   kinetics and the compiled experiment [`Plan`];
//! - `--set path.to.field=value` edits by dotted path, and error locations: every error is
//!   a [`ConfigError`] naming the file, the line when the value comes from the file, the
//!   dotted field path and what is allowed;
//! - the choice of the experiment kind by `[experiment] kind` ([`experiment`]: the kinds
//!   a config can name are listed there, one line each);
//! - reading the image folders of `[stimuli] path` ([`images`]) and the spike files of
//!   `spike_file` inputs ([`spike_files`]: CSV here, SONATA through a reader that the
//!   front end passes in [`LoadOptions::spike_reader`]);
//! - the sweep file ([`sweep`]): its parsing, its points, and their check as configs;
//! - [`Value`]: a config value as `--set` and a sweep write it.
//!
//! Loading goes raw text -> TOML value (+ `--set` edits) -> typed [`ConfigFile`] (unknown
//! keys are errors) -> [`Model`] (checked, with a [`NetworkSpec`] inside).

use std::fmt;
use std::path::{Path, PathBuf};

use engram_core::memory::{MemoryEstimate, MemoryLimit};
use engram_core::{ErrorKind, FieldError};
use engram_experiments::Plan;
use engram_experiments::stimuli::{ImageSet, StimulusError};
use engram_network::{NetworkError, NetworkSpec};
use indexmap::IndexMap;

mod edit;
pub mod experiment;
pub mod images;
mod lower;
mod reports;
mod schema;
pub mod spike_files;
pub mod sweep;
mod value;

use edit::{apply_set, line_of_offset, line_of_path, replace_value};
pub(crate) use edit::{clean_path, parse_value};
use lower::{ach_of, protocol_pulse_path, to_spec};
pub use schema::*;

pub use experiment::ExperimentParams;
pub use spike_files::{SpikeFileReader, SpikeTable};
pub use value::Value;

/// A config that cannot be used: where, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line of the offending value, when it comes from the file.
    pub line: Option<usize>,
    /// Dotted path of the field (`projections.E_to_E.connectivity.p`); empty for syntax
    /// errors.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// [`ErrorKind::Memory`] when the model (or a part of it: stimuli, inputs, a report)
    /// would need more memory than [`LoadOptions::memory`] allows; [`ErrorKind::Invalid`]
    /// for everything else (a value not allowed, a syntax error, a file that cannot be
    /// read).
    pub kind: ErrorKind,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.path.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// A file outside the config that the config reads (an image of `stimuli.path`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The field that names it (`stimuli.path`).
    pub field: String,
    /// Its absolute path.
    pub path: PathBuf,
    /// SHA-256 of its content as read (hex).
    pub sha256: String,
}

/// SHA-256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    let digest = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        write!(s, "{b:02x}").expect("writing to a String");
    }
    s
}

/// A checked config, ready to build.
#[derive(Debug, Clone)]
pub struct Model {
    /// The file it came from.
    pub file: PathBuf,
    /// The config text after `--set` edits, as written to the output, with the paths of
    /// external inputs made absolute: it runs the same from any working directory.
    pub text: String,
    /// SHA-256 (hex) of the config text as read, before any edit.
    pub text_sha256: String,
    /// Every file outside the config that it read, with its content hash, in the order
    /// read.
    pub inputs: Vec<InputFile>,
    /// The typed config.
    pub config: ConfigFile,
    /// The network.
    pub spec: NetworkSpec,
    /// Number of steps to run.
    pub steps: u64,
    /// Indices of the populations to record.
    pub record: Vec<usize>,
    /// The state reports (`[[output.reports]]`), one per population and variable.
    pub reports: Vec<engram_network::ReportSpec>,
    /// Acetylcholine kinetics and effects, if configured.
    pub ach: Option<(
        engram_cholinergic::ValidAchParams,
        engram_cholinergic::Modulator,
    )>,
    /// The compiled experiment, if any (its inputs are already in `spec`).
    pub experiment: Option<Plan>,
}

/// How a config is loaded beyond its text and `--set` edits.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Reads SONATA spike files (HDF5) for `spike_file` inputs: engram-io's reader, which
    /// the runner passes (`engram::load_options`). `None`: only CSV spike files can be
    /// read.
    pub spike_reader: Option<SpikeFileReader>,
    /// Replaces `simulation.seed`.
    pub seed: Option<u64>,
    /// The memory the run may use: a model whose estimate (see [`Model::memory_estimate`])
    /// exceeds it is refused, and stimuli are refused before they are allocated. `None`:
    /// no limit.
    pub memory: Option<MemoryLimit>,
    /// Threads the run will use (the estimate depends on it a little); 0 counts as 1.
    pub threads: usize,
}

/// Reads, edits (`--set path=value`), parses and checks a config file, with no memory
/// limit (see [`load_with`]).
pub fn load(path: &Path, sets: &[String], seed: Option<u64>) -> Result<Model, ConfigError> {
    load_with(
        path,
        sets,
        &LoadOptions {
            seed,
            ..LoadOptions::default()
        },
    )
}

/// Reads, edits, parses and checks a config file, and refuses a model that needs more
/// memory than `options.memory`.
pub fn load_with(
    path: &Path,
    sets: &[String],
    options: &LoadOptions,
) -> Result<Model, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        path: String::new(),
        message: format!("cannot read the config: {e}"),
        kind: ErrorKind::Invalid,
    })?;
    from_text_with(path, &text, sets, options)
}

/// As [`load`], from text already read.
pub fn from_text(
    file: &Path,
    text: &str,
    sets: &[String],
    seed: Option<u64>,
) -> Result<Model, ConfigError> {
    from_text_with(
        file,
        text,
        sets,
        &LoadOptions {
            seed,
            ..LoadOptions::default()
        },
    )
}

/// As [`load_with`], from text already read.
pub fn from_text_with(
    file: &Path,
    text: &str,
    sets: &[String],
    options: &LoadOptions,
) -> Result<Model, ConfigError> {
    let seed = options.seed;
    let memory = options.memory.as_ref();
    let err = |line: Option<usize>, path: &str, message: String| ConfigError {
        file: file.to_path_buf(),
        line,
        path: path.to_string(),
        message,
        kind: ErrorKind::Invalid,
    };
    let mut value: toml::Table = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(text, s.start));
        err(line, "", e.message().trim().to_string())
    })?;
    // (path whose value a `--set` wrote, the `--set` path): the set path itself, and the
    // first table the set had to create, if any (so an unknown table is blamed on it).
    let mut set_paths: Vec<(String, String)> = Vec::new();
    for s in sets {
        let (p, created) =
            apply_set(&mut value, s).map_err(|m| err(None, "", format!("--set {s}: {m}")))?;
        if let Some(c) = created {
            set_paths.push((c, p.clone()));
        }
        set_paths.push((p.clone(), p));
    }
    if let Some(seed) = seed {
        let sim = value
            .entry("simulation")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = sim {
            t.insert("seed".into(), toml::Value::Integer(seed as i64));
        }
    }
    let edited = if set_paths.is_empty() && seed.is_none() {
        text.to_string()
    } else {
        toml::to_string(&value).unwrap_or_default()
    };
    // Where a path's value comes from: a line of the file, or the command line.
    let locate = |path: &str| -> (Option<usize>, String) {
        if let Some((_, p)) = set_paths
            .iter()
            .rev()
            .find(|(c, _)| path == c || path.starts_with(&format!("{c}.")))
        {
            return (None, format!(" (set on the command line: --set {p})"));
        }
        (line_of_path(text, path), String::new())
    };
    let experiment = value.get("experiment").cloned();
    let mut config: ConfigFile = serde_path_to_error::deserialize(toml::Value::Table(value))
        .map_err(|e| {
            let path = clean_path(&e.path().to_string());
            let (line, origin) = locate(&path);
            err(
                line,
                &path,
                format!("{}{origin}", e.inner().message().trim()),
            )
        })?;
    let refused = |e: FieldError| {
        let (line, origin) = locate(&e.path);
        ConfigError {
            kind: e.kind,
            ..err(line, &e.path, format!("{}{origin}", e.message))
        }
    };
    let invalid = |path: String, message: String| refused(FieldError::new(path, message));
    config.experiment = experiment
        .map(experiment::parse)
        .transpose()
        .map_err(|(p, m)| invalid(p, m))?;
    if config.stimuli.is_some() && config.experiment.is_none() {
        return Err(invalid(
            "stimuli".into(),
            "stimuli are used by an experiment; add an [experiment] table or remove [stimuli]"
                .into(),
        ));
    }
    let mut inputs: Vec<InputFile> = Vec::new();
    // (as written, absolute) of the image folder, once read.
    let mut image_dir: Option<(PathBuf, PathBuf)> = None;
    let prepared = match &config.experiment {
        Some(e) => {
            let by_cli = set_paths
                .iter()
                .any(|(_, p)| p == "stimuli.path" || p == "stimuli");
            let mut sizes: IndexMap<String, Option<u32>> = config
                .populations
                .iter()
                .map(|(name, p)| (name.clone(), p.n))
                .collect();
            // A relative image folder is relative to the config file, unless it was given on
            // the command line (then to the working directory). It is stored absolute.
            let mut images = |raw: &Path| -> Result<ImageSet, StimulusError> {
                let dir = if raw.is_absolute() || by_cli {
                    raw.to_path_buf()
                } else {
                    file.parent().unwrap_or(Path::new("")).join(raw)
                };
                let dir = dir
                    .canonicalize()
                    .or_else(|_| std::path::absolute(&dir))
                    .unwrap_or(dir);
                let (set, digests) = images::load_images_hashed(&dir, memory)?;
                inputs.clear();
                inputs.extend(set.files.iter().zip(digests).map(|(f, sha256)| InputFile {
                    field: "stimuli.path".into(),
                    path: f.clone(),
                    sha256,
                }));
                image_dir = Some((raw.to_path_buf(), dir));
                Ok(set)
            };
            let prepared = e
                .prepare(
                    config.stimuli.as_ref(),
                    &mut sizes,
                    config.simulation.seed,
                    &mut images,
                    memory,
                )
                .map_err(refused)?;
            for (p, n) in config.populations.values_mut().zip(sizes.into_values()) {
                p.n = n;
            }
            Some(prepared)
        }
        None => None,
    };
    // The spike files of `spike_file` inputs: a relative path is relative to the config,
    // unless the command line set it (then to the working directory).
    let set_by_cli = |name: &str| {
        let own = format!("inputs.{name}");
        set_paths
            .iter()
            .any(|(_, p)| p == "inputs" || *p == own || *p == format!("{own}.path"))
    };
    let spike_files =
        spike_files::read_all(&config, file, set_by_cli, options.spike_reader, memory)
            .map_err(refused)?;
    for (name, f) in &spike_files {
        inputs.push(InputFile {
            field: format!("inputs.{name}.path"),
            path: f.path.clone(),
            sha256: f.sha256.clone(),
        });
    }
    let (mut spec, mut steps, record) = to_spec(&config, memory, &spike_files).map_err(refused)?;
    let experiment = match (&config.experiment, prepared) {
        (Some(e), Some(prepared)) => {
            let plan = e
                .build(config.stimuli.as_ref(), prepared, &mut spec, memory)
                .map_err(refused)?;
            steps = plan.steps();
            Some(plan)
        }
        _ => None,
    };
    spec.validate().map_err(|e| match e {
        NetworkError::Invalid { path, message } => invalid(path, message),
        other => invalid(String::new(), other.to_string()),
    })?;
    let reports = reports::reports_of(&config, &spec, steps, memory).map_err(refused)?;
    let pulses = experiment
        .as_ref()
        .map_or_else(Vec::new, Plan::ach_releases);
    let ach = match (&config.ach, pulses.is_empty()) {
        (None, true) => None,
        (a, _) => {
            // The protocol's recall pulses join the user's; those are checked first, so
            // an error names the user's pulse.
            let duration = steps as f64 * spec.dt_ms;
            let mut a = a.clone().unwrap_or_default();
            ach_of(&a, &spec, duration).map_err(|(p, m)| invalid(p, m))?;
            let n_user = a.pulses.len();
            a.pulses.extend(pulses.iter().map(|r| AchPulseConfig {
                time_ms: r.time_ms,
                amplitude: r.amplitude,
                duration_ms: r.duration_ms,
            }));
            Some(
                ach_of(&a, &spec, duration)
                    .map_err(|(p, m)| invalid(protocol_pulse_path(&p, n_user), m))?,
            )
        }
    };
    let mut edited = edited;
    if let Some((_, dir)) = image_dir.filter(|(raw, dir)| raw != dir) {
        edited = with_value(&edited, "stimuli.path", dir.to_string_lossy().into_owned());
    }
    for (name, f) in spike_files.iter().filter(|(_, f)| f.raw != f.path) {
        let path = f.path.to_string_lossy().into_owned();
        edited = with_value(&edited, &format!("inputs.{name}.path"), path);
    }
    let model = Model {
        file: file.to_path_buf(),
        text: edited,
        text_sha256: sha256_hex(text.as_bytes()),
        inputs,
        config,
        spec,
        steps,
        record,
        reports,
        ach,
        experiment,
    };
    model
        .memory_estimate(options.threads)
        .check(memory)
        .map_err(|e| ConfigError {
            kind: ErrorKind::Memory,
            ..err(None, "", format!("the run {e}; make the model smaller"))
        })?;
    Ok(model)
}

/// `text` with the string at `path` set to `value`: in place where the text has it (its
/// comments kept), else through a parse and a rewrite.
fn with_value(text: &str, path: &str, value: String) -> String {
    let literal = toml::Value::String(value.clone()).to_string();
    if let Some(t) = replace_value(text, path, &literal) {
        return t;
    }
    let mut table: toml::Table = toml::from_str(text).unwrap_or_default();
    let _ = sweep::points::set_in(&mut table, path, toml::Value::String(value));
    toml::to_string(&table).unwrap_or_else(|_| text.to_string())
}

impl Model {
    /// Estimated memory of a run of the model on `threads` threads (0 counts as 1), part
    /// by part: the network's (see `NetworkSpec::memory_estimate`), the experiment's
    /// (stimuli, measurements), the spike buffers of the output and a fixed allowance for
    /// the program itself (libraries, thread stacks).
    pub fn memory_estimate(&self, threads: usize) -> MemoryEstimate {
        let threads = threads.max(1);
        let mut m = self.spec.memory_estimate(threads);
        if let Some(plan) = &self.experiment {
            m.extend(&plan.memory(&self.spec));
        }
        // Spikes are buffered 65 536 at a time per recorded population (16 bytes each),
        // beside each worker's spike lists.
        m.add("output buffers", self.record.len() as f64 * 65_536.0 * 16.0);
        // The samples of the state reports are held until the end of the run.
        let reports = self.reports.iter().map(|r| r.memory_bytes(self.steps));
        m.add("state reports", reports.sum::<f64>());
        m.add(
            "program",
            64.0 * 1024.0 * 1024.0 + threads as f64 * 8.0 * 1024.0 * 1024.0,
        );
        m
    }
}
