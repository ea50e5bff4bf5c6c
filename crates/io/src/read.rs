//! Readers of a run's file: what `engram inspect` shows, and what `engram plot` draws.

use std::path::Path;

use hdf5::types::{VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, File, Group};

use crate::Error;

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

/// What a file holds: populations, provenance attributes, config text.
#[derive(Debug, Clone)]
pub struct FileSummary {
    /// Spike groups.
    pub populations: Vec<PopulationSummary>,
    /// `/engram` attributes as text.
    pub provenance: Vec<(String, String)>,
    /// The config text, if present.
    pub config: Option<String>,
}

/// The population groups under `/spikes` in the order of the config that wrote them
/// (their `population_index` attributes), or by name when a group has none.
fn population_names(spikes: &Group) -> hdf5::Result<Vec<String>> {
    let mut names = spikes.member_names()?;
    let index: Option<Vec<u64>> = names
        .iter()
        .map(|n| {
            spikes
                .group(n)
                .and_then(|g| g.attr("population_index"))
                .and_then(|a| a.read_scalar::<u64>())
                .ok()
        })
        .collect();
    if let Some(index) = index {
        let mut pairs: Vec<(u64, String)> = index.into_iter().zip(names).collect();
        pairs.sort();
        names = pairs.into_iter().map(|p| p.1).collect();
    }
    Ok(names)
}

/// Reads the spike groups and provenance of a file.
pub fn inspect(path: &Path) -> crate::Result<FileSummary> {
    let file = File::open(path)?;
    let spikes = file.group("spikes")?;
    let mut pops = Vec::new();
    for name in population_names(&spikes)? {
        let g = spikes.group(&name)?;
        let n = g
            .attr("n_nodes")
            .and_then(|a| a.read_scalar::<u64>())
            .unwrap_or(0);
        let ts = g.dataset("timestamps")?;
        let len = ts.size();
        let t_range_ms = if len > 0 {
            let first: Vec<f64> = ts.read_slice_1d(0..1)?.to_vec();
            let last: Vec<f64> = ts.read_slice_1d(len - 1..len)?.to_vec();
            Some((first[0], last[0]))
        } else {
            None
        };
        pops.push(PopulationSummary {
            name,
            n,
            spikes: len as u64,
            t_range_ms,
        });
    }
    let mut prov = Vec::new();
    let mut config = None;
    if let Ok(meta) = file.group("engram") {
        for attr in meta.attr_names()? {
            let a = meta.attr(&attr)?;
            let text = if let Ok(v) = a.read_scalar::<VarLenUnicode>() {
                v.to_string()
            } else if let Ok(v) = a.read_scalar::<f64>() {
                format!("{v}")
            } else if let Ok(v) = a.read_scalar::<u64>() {
                format!("{v}")
            } else {
                "?".into()
            };
            prov.push((attr, text));
        }
        if let Ok(ds) = meta.dataset("config") {
            config = ds
                .read_scalar::<VarLenUnicode>()
                .ok()
                .map(|v| v.to_string());
        }
    }
    Ok(FileSummary {
        populations: pops,
        provenance: prov,
        config,
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
    what: String,
    group: Group,
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

    /// The populations under `/spikes`, in the order of the config that wrote them.
    pub fn population_names(&self) -> crate::Result<Vec<String>> {
        population_names(&self.spikes).map_err(|e| {
            format_error(format!(
                "{}: cannot list /spikes ({e})",
                self.path.display()
            ))
        })
    }

    /// The spike group of population `name`.
    pub fn population(&self, name: &str) -> crate::Result<SpikeGroup> {
        let group = self
            .spikes
            .group(name)
            .map_err(|_| format_error(format!("/spikes/{name} is not a group")))?;
        Ok(SpikeGroup {
            what: format!("/spikes/{name}"),
            group,
        })
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
        Ok(Some(StimulusImages {
            width,
            height,
            encoded,
            recalled,
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

    /// The population's spikes, checked: `timestamps` and `node_ids` of one length.
    pub fn spikes(&self) -> crate::Result<SpikeData> {
        let what = &self.what;
        let ts = self
            .group
            .dataset("timestamps")
            .map_err(|_| format_error(format!("{what}: no dataset timestamps")))?;
        let ids = self
            .group
            .dataset("node_ids")
            .map_err(|_| format_error(format!("{what}: no dataset node_ids")))?;
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
            ts,
            ids,
            len,
        })
    }
}

/// The spike datasets of one population, read in chunks.
pub struct SpikeData {
    what: String,
    n_nodes: Option<u64>,
    ts: Dataset,
    ids: Dataset,
    len: usize,
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
        let len = self.len;
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

    /// Calls `f` with the node ids of the spikes, `chunk` at a time.
    pub fn for_each_ids(&self, chunk: usize, mut f: impl FnMut(&[u64])) -> crate::Result<()> {
        for range in self.chunks(chunk) {
            f(&self.read::<u64>(&self.ids, range)?);
        }
        Ok(())
    }

    /// Calls `f` with the times (ms) and node ids of the spikes, `chunk` at a time, in the
    /// file's order (by time).
    pub fn for_each(&self, chunk: usize, mut f: impl FnMut(&[f64], &[u64])) -> crate::Result<()> {
        for range in self.chunks(chunk) {
            let t = self.read::<f64>(&self.ts, range.clone())?;
            f(&t, &self.read::<u64>(&self.ids, range)?);
        }
        Ok(())
    }
}
