//! Readers of a run's file: what `engram inspect` shows, and what `engram plot` draws.

use std::path::Path;

use hdf5::types::{VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, File, Group};

use crate::{Error, Sorting};

mod arrays;
mod report;
mod spike_input;
pub use arrays::WeightTable;
pub use report::ReportTrace;
pub use spike_input::{PopulationSpikes, read_population_spikes};

fn format_error(msg: impl Into<String>) -> Error {
    Error::Format(msg.into())
}

/// What `engram inspect` shows of one population.
#[derive(Debug, Clone)]
pub struct PopulationSummary {
    /// Population name.
    pub name: String,
    /// Neurons (from the `n_nodes` attribute; 0 if missing).
    pub n: u64,
    /// Spikes in the file.
    pub spikes: u64,
    /// First and last spike time (ms).
    pub t_range_ms: Option<(f64, f64)>,
}

/// The value of an attribute, as its type stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Text.
    Text(String),
    /// A floating-point number.
    Number(f64),
    /// An unsigned integer.
    Count(u64),
    /// A signed integer.
    Integer(i64),
    /// A type `inspect` does not read.
    Other,
}

impl std::fmt::Display for AttrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrValue::Text(s) => f.write_str(s),
            AttrValue::Number(x) => write!(f, "{x}"),
            AttrValue::Count(n) => write!(f, "{n}"),
            AttrValue::Integer(n) => write!(f, "{n}"),
            AttrValue::Other => f.write_str("?"),
        }
    }
}

/// One state report of `/report`, without its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    /// The population.
    pub population: String,
    /// The variable (`v`, `i_syn`, ...).
    pub variable: String,
    /// Units of the values.
    pub units: String,
    /// Neurons recorded.
    pub neurons: usize,
    /// Samples per neuron.
    pub samples: usize,
    /// Time of the first and the last sample (ms), if there is one.
    pub t_range_ms: Option<(f64, f64)>,
    /// Smallest and largest value, if there is one.
    pub value_range: Option<(f64, f64)>,
}

/// What a file holds: populations, provenance attributes, config text, the experiment's
/// summary and the state reports.
#[derive(Debug, Clone)]
pub struct FileSummary {
    /// Spike groups.
    pub populations: Vec<PopulationSummary>,
    /// `/engram` attributes, by name.
    pub provenance: Vec<(String, AttrValue)>,
    /// The config text, if present.
    pub config: Option<String>,
    /// `/engram/inputs`: the files the config read (path, SHA-256).
    pub inputs: Vec<(String, String)>,
    /// The experiment's results as JSON text (`/analysis@summary`), if the run had one.
    pub analysis: Option<String>,
    /// The state reports of `/report`, in the config's order.
    pub reports: Vec<ReportSummary>,
}

/// The population groups under `/spikes` in the order of the config that wrote them
/// (their `population_index` attributes), or by name when a group has none. Two groups
/// with the same `population_index` are an error (`file` names the file in it).
fn population_names(file: &Path, spikes: &Group) -> crate::Result<Vec<String>> {
    let mut names = spikes
        .member_names()
        .map_err(|e| format_error(format!("{}: cannot list /spikes ({e})", file.display())))?;
    let index: Vec<Option<u64>> = names
        .iter()
        .map(|n| {
            spikes
                .group(n)
                .and_then(|g| g.attr("population_index"))
                .and_then(|a| a.read_scalar::<u64>())
                .ok()
        })
        .collect();
    let mut seen: Vec<(u64, &str)> = index
        .iter()
        .zip(&names)
        .filter_map(|(i, n)| i.map(|i| (i, n.as_str())))
        .collect();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format_error(format!(
            "{}: /spikes: population_index = {} is given to both /spikes/{} and /spikes/{}",
            file.display(),
            w[0].0,
            w[0].1,
            w[1].1
        )));
    }
    if let Some(index) = index.into_iter().collect::<Option<Vec<u64>>>() {
        let mut pairs: Vec<(u64, String)> = index.into_iter().zip(names).collect();
        pairs.sort();
        names = pairs.into_iter().map(|p| p.1).collect();
    }
    Ok(names)
}

/// Spikes read at a time when a population is checked or summarised.
const READ_CHUNK: usize = 1 << 16;

/// Reads the spike groups and provenance of a file. Every spike group is read once, in
/// chunks, and checked as [`SpikeData::for_each`] checks it: a file whose spikes are
/// inconsistent is an [`Error::Format`] naming the file, the group, the first offending
/// index and its value.
pub fn inspect(path: &Path) -> crate::Result<FileSummary> {
    let reader = RunReader::open(path)?;
    let mut pops = Vec::new();
    for name in reader.population_names()? {
        let data = reader.population(&name)?.spikes()?;
        let mut t_range_ms: Option<(f64, f64)> = None;
        data.for_each(READ_CHUNK, |t, _| {
            for &t in t {
                t_range_ms = Some(t_range_ms.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
            }
        })?;
        pops.push(PopulationSummary {
            name,
            n: data.n_nodes().unwrap_or(0),
            spikes: data.len() as u64,
            t_range_ms,
        });
    }
    let summary = reader
        .provenance()
        .map_err(|e| format_error(format!("{}: cannot read /engram ({e})", path.display())))?;
    let analysis = reader
        .file
        .group("analysis")
        .ok()
        .and_then(|g| report::text_attr(&g, "summary"));
    let reports = reader
        .reports()?
        .into_iter()
        .map(|r| {
            let rows = r.time_ms.len();
            let range = |v: &[f64]| {
                v.iter().fold(None, |acc: Option<(f64, f64)>, &x| {
                    Some(acc.map_or((x, x), |(a, b)| (a.min(x), b.max(x))))
                })
            };
            ReportSummary {
                neurons: r.node_ids.len(),
                samples: rows,
                t_range_ms: r
                    .time_ms
                    .first()
                    .zip(r.time_ms.last())
                    .map(|(a, b)| (*a, *b)),
                value_range: range(&r.data),
                population: r.population,
                variable: r.variable,
                units: r.units,
            }
        })
        .collect();
    Ok(FileSummary {
        populations: pops,
        analysis,
        reports,
        ..summary
    })
}

/// A phase of an experiment's protocol, from `/protocol`.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpan {
    /// Its name (`encode 3`).
    pub name: String,
    /// Start (ms).
    pub start_ms: f64,
    /// End (ms), not before the start.
    pub stop_ms: f64,
}

/// The acetylcholine trace, from `/ach`: at least one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct AchTrace {
    /// Sample times (ms), increasing.
    pub time_ms: Vec<f64>,
    /// Concentration at those times.
    pub concentration: Vec<f64>,
}

/// The stored and recalled images of a recall experiment, from `/stimuli`.
#[derive(Debug, Clone, PartialEq)]
pub struct StimulusImages {
    /// Image width (sensory neurons), at least 1.
    pub width: usize,
    /// Image height, at least 1.
    pub height: usize,
    /// The stored images, row-major, `width * height` each.
    pub encoded: Vec<Vec<f64>>,
    /// What was recalled, one image per stored one.
    pub recalled: Vec<Vec<f64>>,
    /// From `/stimuli/fidelity` (optional, one per memory): the fidelity the run's summary
    /// reports for each recall, and what it compares (attribute `fidelity_compares`).
    pub fidelity: Option<(Vec<f64>, String)>,
}

/// An open run file, for drawing it. Every error is an [`Error::Format`] whose message
/// names the file or the group that is missing or malformed.
pub struct RunReader {
    path: std::path::PathBuf,
    file: File,
    spikes: Group,
}

/// The spikes of one population under `/spikes`.
pub struct SpikeGroup {
    /// `FILE: /spikes/<name>`, for messages.
    what: String,
    group: Group,
    /// Whether spikes of equal times must be in node id order (files engram wrote).
    ids_sorted_within_time: bool,
}

fn read_f64s(g: &Group, name: &str, what: &str) -> crate::Result<Vec<f64>> {
    let ds = g
        .dataset(name)
        .map_err(|_| format_error(format!("{what}: no dataset {name}")))?;
    if ds.ndim() != 1 {
        return Err(format_error(format!(
            "{what}/{name}: expected a 1-D dataset, found shape {:?}",
            ds.shape()
        )));
    }
    ds.read_raw::<f64>()
        .map_err(|e| format_error(format!("{what}/{name}: cannot read as f64 ({e})")))
}

fn read_strings(ds: &Dataset) -> hdf5::Result<Vec<String>> {
    if let Ok(v) = ds.read_raw::<VarLenUnicode>() {
        return Ok(v.iter().map(|s| s.as_str().to_owned()).collect());
    }
    let v = ds.read_raw::<VarLenAscii>()?;
    Ok(v.iter().map(|s| s.as_str().to_owned()).collect())
}

fn read_images(g: &Group, name: &str, pixels: usize) -> crate::Result<Vec<Vec<f64>>> {
    let ds = g.dataset(name).map_err(|e| format_error(format!("{e}")))?;
    let shape = ds.shape();
    if shape.len() != 2 || shape[1] != pixels {
        return Err(format_error(format!(
            "/stimuli/{name}: expected shape [memories, {pixels}] (width * height), found {shape:?}"
        )));
    }
    let raw = ds
        .read_raw::<f64>()
        .map_err(|e| format_error(format!("/stimuli/{name}: cannot read as f64 ({e})")))?;
    Ok(raw.chunks(pixels.max(1)).map(<[f64]>::to_vec).collect())
}

impl RunReader {
    /// Opens `path`, which must be an HDF5 file with a `/spikes` group.
    pub fn open(path: &Path) -> crate::Result<RunReader> {
        if !path.exists() {
            return Err(format_error(format!("{}: no such file", path.display())));
        }
        let file = File::open(path)
            .map_err(|e| format_error(format!("{}: not an HDF5 file ({e})", path.display())))?;
        let not_spikes = || {
            format_error(format!(
                "{}: not an engram/SONATA spike file (no /spikes group)",
                path.display()
            ))
        };
        if !file.link_exists("spikes") {
            return Err(not_spikes());
        }
        let spikes = file.group("spikes").map_err(|_| not_spikes())?;
        Ok(RunReader {
            path: path.to_path_buf(),
            file,
            spikes,
        })
    }

    /// The populations under `/spikes`, in the order of the config that wrote them; an
    /// error if two of them claim the same `population_index`.
    pub fn population_names(&self) -> crate::Result<Vec<String>> {
        population_names(&self.path, &self.spikes)
    }

    /// The spike group of population `name`.
    pub fn population(&self, name: &str) -> crate::Result<SpikeGroup> {
        let what = format!("{}: /spikes/{name}", self.path.display());
        let group = self
            .spikes
            .group(name)
            .map_err(|_| format_error(format!("{what} is not a group")))?;
        Ok(SpikeGroup {
            what,
            group,
            // engram writes the spikes of a step in node id order; other writers of
            // SONATA files need not.
            ids_sorted_within_time: self.file.link_exists("engram"),
        })
    }

    /// A summary without populations: the attributes of `/engram` as text and the config
    /// text of `/engram/config` (none of either without `/engram`).
    fn provenance(&self) -> hdf5::Result<FileSummary> {
        let mut summary = FileSummary {
            populations: Vec::new(),
            provenance: Vec::new(),
            config: None,
            inputs: Vec::new(),
            analysis: None,
            reports: Vec::new(),
        };
        let Ok(meta) = self.file.group("engram") else {
            return Ok(summary);
        };
        for attr in meta.attr_names()? {
            let a = meta.attr(&attr)?;
            let desc = a.dtype().and_then(|t| t.to_descriptor());
            use hdf5::types::TypeDescriptor as T;
            let value = match desc {
                Ok(T::VarLenUnicode) => a
                    .read_scalar::<VarLenUnicode>()
                    .map_or(AttrValue::Other, |v| AttrValue::Text(v.to_string())),
                Ok(T::VarLenAscii) => a
                    .read_scalar::<VarLenAscii>()
                    .map_or(AttrValue::Other, |v| AttrValue::Text(v.to_string())),
                Ok(T::Float(_)) => a
                    .read_scalar::<f64>()
                    .map_or(AttrValue::Other, AttrValue::Number),
                Ok(T::Unsigned(_) | T::Integer(_)) => a
                    .read_scalar::<u64>()
                    .map_or(AttrValue::Other, AttrValue::Count),
                _ => AttrValue::Other,
            };
            summary.provenance.push((attr, value));
        }
        if let Ok(ds) = meta.dataset("config") {
            summary.config = ds
                .read_scalar::<VarLenUnicode>()
                .ok()
                .map(|v| v.to_string());
        }
        if let Ok(g) = meta.group("inputs") {
            let read = |name: &str| -> Vec<String> {
                g.dataset(name)
                    .and_then(|d| d.read_raw::<VarLenUnicode>())
                    .map(|v| v.iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default()
            };
            summary.inputs = read("path").into_iter().zip(read("sha256")).collect();
        }
        Ok(summary)
    }

    /// `/engram`'s `duration_ms`, when it is there and a number > 0.
    pub fn duration_ms(&self) -> Option<f64> {
        self.file
            .group("engram")
            .and_then(|g| g.attr("duration_ms"))
            .and_then(|a| a.read_scalar::<f64>())
            .ok()
            .filter(|d| d.is_finite() && *d > 0.0)
    }

    /// The phases of `/protocol` (empty without one): names, start and stop times.
    pub fn protocol(&self) -> crate::Result<Vec<PhaseSpan>> {
        let file = &self.file;
        if !file.link_exists("protocol") {
            return Ok(Vec::new());
        }
        let what = "/protocol";
        let g = file
            .group("protocol")
            .map_err(|_| format_error("/protocol is not a group"))?;
        let names_ds = g
            .dataset("names")
            .map_err(|_| format_error("/protocol: no dataset names"))?;
        let names = read_strings(&names_ds).map_err(|e| {
            format_error(format!(
                "/protocol/names: cannot read as variable-length strings ({e}); \
                 fixed-length strings are not read"
            ))
        })?;
        let start = read_f64s(&g, "start_ms", what)?;
        let stop = read_f64s(&g, "stop_ms", what)?;
        if names.len() != start.len() || names.len() != stop.len() {
            return Err(format_error(format!(
                "/protocol: names, start_ms and stop_ms have different lengths ({}, {}, {})",
                names.len(),
                start.len(),
                stop.len()
            )));
        }
        let mut phases = Vec::with_capacity(names.len());
        for ((name, a), b) in names.into_iter().zip(start).zip(stop) {
            if !(a.is_finite() && b.is_finite() && b >= a) {
                return Err(format_error(format!(
                    "/protocol: phase {name:?} has start_ms = {a}, stop_ms = {b}; need start <= stop"
                )));
            }
            phases.push(PhaseSpan {
                name,
                start_ms: a,
                stop_ms: b,
            });
        }
        Ok(phases)
    }

    /// The ACh trace of `/ach`, if there is one with at least one sample.
    pub fn ach(&self) -> crate::Result<Option<AchTrace>> {
        let file = &self.file;
        if !file.link_exists("ach") {
            return Ok(None);
        }
        let g = file
            .group("ach")
            .map_err(|_| format_error("/ach is not a group"))?;
        let time_ms = read_f64s(&g, "time_ms", "/ach")?;
        let concentration = read_f64s(&g, "concentration", "/ach")?;
        if time_ms.len() != concentration.len() {
            return Err(format_error(format!(
                "/ach: time_ms and concentration have different lengths ({}, {})",
                time_ms.len(),
                concentration.len()
            )));
        }
        if time_ms.is_empty() {
            return Ok(None);
        }
        Ok(Some(AchTrace {
            time_ms,
            concentration,
        }))
    }

    /// The images of `/stimuli`, if it has both `encoded` and `recalled`.
    pub fn stimuli(&self) -> crate::Result<Option<StimulusImages>> {
        let file = &self.file;
        if !file.link_exists("stimuli") {
            return Ok(None);
        }
        let g = file
            .group("stimuli")
            .map_err(|_| format_error("/stimuli is not a group"))?;
        if !(g.link_exists("encoded") && g.link_exists("recalled")) {
            return Ok(None);
        }
        let size = |attr: &str| -> crate::Result<usize> {
            g.attr(attr)
                .and_then(|a| a.read_scalar::<u64>())
                .map(|v| v as usize)
                .map_err(|_| format_error(format!("/stimuli: no u64 attribute {attr}")))
        };
        let (width, height) = (size("width")?, size("height")?);
        if width == 0 || height == 0 {
            return Err(format_error(format!(
                "/stimuli: width = {width}, height = {height}; both must be at least 1"
            )));
        }
        let encoded = read_images(&g, "encoded", width * height)?;
        let recalled = read_images(&g, "recalled", width * height)?;
        if encoded.len() != recalled.len() {
            return Err(format_error(format!(
                "/stimuli: {} encoded but {} recalled memories",
                encoded.len(),
                recalled.len()
            )));
        }
        let fidelity = if g.link_exists("fidelity") {
            let values = read_f64s(&g, "fidelity", "/stimuli")?;
            if values.len() != encoded.len() {
                return Err(format_error(format!(
                    "/stimuli/fidelity: {} values for {} memories",
                    values.len(),
                    encoded.len()
                )));
            }
            let compares = g
                .attr("fidelity_compares")
                .ok()
                .and_then(|a| a.read_scalar::<VarLenUnicode>().ok())
                .map_or_else(|| "fidelity".to_owned(), |t| t.as_str().to_owned());
            Some((values, compares))
        } else {
            None
        };
        Ok(Some(StimulusImages {
            width,
            height,
            encoded,
            recalled,
            fidelity,
        }))
    }
}

impl SpikeGroup {
    /// The time of the last spike, if the group has a readable non-empty `timestamps`.
    pub fn last_time_ms(&self) -> Option<f64> {
        let ts = self.group.dataset("timestamps").ok()?;
        let len = ts.size();
        if len == 0 {
            return None;
        }
        ts.read_slice_1d::<f64, _>(len - 1..len)
            .ok()
            .map(|last| last[0])
    }

    /// Whether the group's `sorting` attribute says `by_time` (an HDF5 enum as engram and
    /// libsonata write it, or a string).
    fn sorted_by_time(&self) -> bool {
        let Ok(a) = self.group.attr("sorting") else {
            return false;
        };
        if let Ok(s) = a.read_scalar::<Sorting>() {
            return s == Sorting::by_time;
        }
        if let Ok(s) = a.read_scalar::<VarLenUnicode>() {
            return s.as_str() == "by_time";
        }
        a.read_scalar::<VarLenAscii>()
            .is_ok_and(|s| s.as_str() == "by_time")
    }

    /// The population's spikes: `timestamps` and `node_ids`, 1-D and of one length. Their
    /// values are checked as they are read (see [`SpikeData::for_each`]).
    pub fn spikes(&self) -> crate::Result<SpikeData> {
        let what = &self.what;
        let dataset = |name: &str| -> crate::Result<Dataset> {
            let ds = self
                .group
                .dataset(name)
                .map_err(|_| format_error(format!("{what}: no dataset {name}")))?;
            if ds.ndim() != 1 {
                return Err(format_error(format!(
                    "{what}: {name} is not 1-D (shape {:?})",
                    ds.shape()
                )));
            }
            Ok(ds)
        };
        let ts = dataset("timestamps")?;
        let ids = dataset("node_ids")?;
        let len = ts.size();
        if ids.size() != len {
            return Err(format_error(format!(
                "{what}: timestamps and node_ids have different lengths ({len}, {})",
                ids.size()
            )));
        }
        Ok(SpikeData {
            what: what.clone(),
            n_nodes: self
                .group
                .attr("n_nodes")
                .and_then(|a| a.read_scalar::<u64>())
                .ok(),
            by_time: self.sorted_by_time(),
            ids_sorted_within_time: self.ids_sorted_within_time,
            ts,
            ids,
            len,
        })
    }
}

/// The spike datasets of one population, read in chunks and checked as they are read.
pub struct SpikeData {
    what: String,
    n_nodes: Option<u64>,
    /// `sorting = by_time`: times must not decrease.
    by_time: bool,
    /// With `by_time`, spikes of equal times must be in node id order.
    ids_sorted_within_time: bool,
    ts: Dataset,
    ids: Dataset,
    len: usize,
}

/// The running check of one population's spikes, fed chunk by chunk in file order.
struct SpikeCheck<'a> {
    data: &'a SpikeData,
    /// Index of the first spike of the next chunk.
    next: usize,
    /// Time and node id of the last spike checked.
    last: Option<(f64, u64)>,
}

impl SpikeCheck<'_> {
    fn error(&self, msg: String) -> Error {
        format_error(format!("{}: {msg}", self.data.what))
    }

    /// Checks node ids `ids`, the next ones in the file, against `n_nodes`.
    fn ids(&self, ids: &[u64]) -> crate::Result<()> {
        let Some(n) = self.data.n_nodes else {
            return Ok(());
        };
        match ids.iter().position(|&id| id >= n) {
            Some(k) => Err(self.error(format!(
                "node_ids[{}] = {} is not below n_nodes = {n}",
                self.next + k,
                ids[k]
            ))),
            None => Ok(()),
        }
    }

    /// Checks the next chunk of spikes: ids below `n_nodes`, finite times and, under
    /// `sorting = by_time`, their order.
    fn chunk(&mut self, t: &[f64], ids: &[u64]) -> crate::Result<()> {
        self.ids(ids)?;
        for (k, (&t, &id)) in t.iter().zip(ids).enumerate() {
            let i = self.next + k;
            if !t.is_finite() {
                return Err(self.error(format!("timestamps[{i}] = {t} is not finite")));
            }
            if let (true, Some((t0, id0))) = (self.data.by_time, self.last) {
                if t < t0 {
                    return Err(self.error(format!(
                        "timestamps[{i}] = {t} is before timestamps[{}] = {t0} \
                         (sorting = by_time)",
                        i - 1
                    )));
                }
                if t == t0 && id < id0 && self.data.ids_sorted_within_time {
                    return Err(self.error(format!(
                        "node_ids[{i}] = {id} is below node_ids[{}] = {id0} at the same \
                         time {t} ms (engram sorts spikes by time, then node id)",
                        i - 1
                    )));
                }
            }
            self.last = Some((t, id));
        }
        self.next += t.len();
        Ok(())
    }
}

impl SpikeData {
    /// Number of spikes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no spikes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `n_nodes` attribute, if present.
    pub fn n_nodes(&self) -> Option<u64> {
        self.n_nodes
    }

    /// The ranges of `chunk` spikes (the last one shorter) that cover them all.
    fn chunks(&self, chunk: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
        let (len, chunk) = (self.len, chunk.max(1));
        (0..len)
            .step_by(chunk)
            .map(move |start| start..(start + chunk).min(len))
    }

    fn read<T: hdf5::H5Type + Copy>(
        &self,
        ds: &Dataset,
        range: std::ops::Range<usize>,
    ) -> crate::Result<Vec<T>> {
        ds.read_slice_1d::<T, _>(range)
            .map(|a| a.to_vec())
            .map_err(|e| format_error(format!("{}: cannot read spikes ({e})", self.what)))
    }

    fn check(&self) -> SpikeCheck<'_> {
        SpikeCheck {
            data: self,
            next: 0,
            last: None,
        }
    }

    /// Calls `f` with the node ids of the spikes, `chunk` at a time; an error, before `f`
    /// sees it, for a chunk with an id not below `n_nodes`.
    pub fn for_each_ids(&self, chunk: usize, mut f: impl FnMut(&[u64])) -> crate::Result<()> {
        let mut check = self.check();
        for range in self.chunks(chunk) {
            let ids = self.read::<u64>(&self.ids, range)?;
            check.ids(&ids)?;
            check.next += ids.len();
            f(&ids);
        }
        Ok(())
    }

    /// Calls `f` with the times (ms) and node ids of the spikes, `chunk` at a time, in the
    /// file's order. Each chunk is checked before `f` sees it: an [`Error::Format`] names
    /// the file, the group and the first spike whose id is not below `n_nodes`, whose time
    /// is not finite, or which breaks the order of `sorting = by_time` (by time, and for
    /// files engram wrote, by node id within a time).
    pub fn for_each(&self, chunk: usize, mut f: impl FnMut(&[f64], &[u64])) -> crate::Result<()> {
        let mut check = self.check();
        for range in self.chunks(chunk) {
            let t = self.read::<f64>(&self.ts, range.clone())?;
            let ids = self.read::<u64>(&self.ids, range)?;
            check.chunk(&t, &ids)?;
            f(&t, &ids);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
