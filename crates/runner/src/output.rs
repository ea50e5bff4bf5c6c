//! SONATA-compatible HDF5 output.
//!
//! Layout of a run's file:
//!
//! ```text
//! /                            attrs magic = 0x0A7A (u32), version = [0, 1] (u32)
//! /spikes/<population>         attr sorting = by_time (HDF5 enum, int8 base), n_nodes (u64),
//!                              population_index (u64, its place in the config)
//! /spikes/<population>/timestamps   f64, ms, attr units = "ms"
//! /spikes/<population>/node_ids     u64, index in the population
//! /engram                      attrs: version, seed, dt_ms, duration_ms, threads, wall
//!                              times, synapse and event counts, config path
//! /engram/config               the full config text (after --set edits)
//! ```
//!
//! Spikes are sorted by time, then by node id. They stream to disk in chunks, so a run
//! never holds all its spikes in memory. The file is written under a temporary name in
//! the same folder and renamed only when complete: a crash leaves a `.tmp` file, never a
//! file that looks finished.

use std::ops::Range;
use std::path::{Path, PathBuf};

use engram_network::SpikeSink;
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, File, H5Type};

/// SONATA's `sorting` attribute: an enum with an int8 base type, as libsonata requires.
#[derive(H5Type, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i8)]
#[allow(non_camel_case_types)]
pub enum Sorting {
    /// Unsorted.
    none = 0,
    /// Sorted by node id.
    by_id = 1,
    /// Sorted by time.
    by_time = 2,
}

/// Spikes buffered before they are appended to the file.
const FLUSH_AT: usize = 1 << 16;

struct PopWriter {
    timestamps: Dataset,
    node_ids: Dataset,
    buf_t: Vec<f64>,
    buf_id: Vec<u64>,
    written: usize,
}

impl PopWriter {
    fn flush(&mut self) -> hdf5::Result<()> {
        if self.buf_t.is_empty() {
            return Ok(());
        }
        let new_len = self.written + self.buf_t.len();
        self.timestamps.resize(new_len)?;
        self.node_ids.resize(new_len)?;
        self.timestamps
            .write_slice(&self.buf_t, self.written..new_len)?;
        self.node_ids
            .write_slice(&self.buf_id, self.written..new_len)?;
        self.written = new_len;
        self.buf_t.clear();
        self.buf_id.clear();
        Ok(())
    }
}

/// Provenance written beside the spikes.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// Path of the config file.
    pub config_path: String,
    /// Config text after `--set` edits.
    pub config_text: String,
    /// Seed.
    pub seed: u64,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Simulated time (ms).
    pub duration_ms: f64,
    /// Threads used.
    pub threads: usize,
    /// Build time (s).
    pub build_s: f64,
    /// Simulation time (s).
    pub sim_s: f64,
    /// Number of synapses.
    pub n_synapses: u64,
    /// Synaptic events delivered.
    pub syn_events: u64,
    /// Extra named values (a sweep point's parameters), written as string attributes of
    /// `/engram/parameters`.
    pub parameters: Vec<(String, String)>,
}

/// Streams spikes into a SONATA file; see the module docs for the layout.
pub struct SpikeWriter {
    file: Option<File>,
    tmp_path: PathBuf,
    final_path: PathBuf,
    pop_ranges: Vec<Range<u32>>,
    writers: Vec<Option<PopWriter>>,
}

fn str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e:?}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

fn scalar_attr<T: H5Type>(loc: &hdf5::Location, name: &str, value: T) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(&value)
}

impl SpikeWriter {
    /// Opens `<path>.tmp-<pid>` for writing and lays out the spike groups of the recorded
    /// populations (`record[i]` says whether population `i` is written).
    pub fn create(
        path: &Path,
        names: &[String],
        pop_ranges: &[Range<u32>],
        record: &[bool],
    ) -> hdf5::Result<SpikeWriter> {
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp_path = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
        let file = File::create(&tmp_path)?;
        // SONATA marks every file with these root attributes.
        scalar_attr(&file, "magic", 0x0A7Au32)?;
        file.new_attr::<u32>()
            .shape(2)
            .create("version")?
            .write(&[0u32, 1])?;
        let spikes = file.create_group("spikes")?;
        let mut writers = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            if !record[i] {
                writers.push(None);
                continue;
            }
            let g = spikes.create_group(name)?;
            scalar_attr(&g, "sorting", Sorting::by_time)?;
            // HDF5 lists groups by name; readers restore the config's order from this.
            scalar_attr(&g, "population_index", i as u64)?;
            scalar_attr(
                &g,
                "n_nodes",
                u64::from(pop_ranges[i].end - pop_ranges[i].start),
            )?;
            let timestamps = g
                .new_dataset::<f64>()
                .chunk(FLUSH_AT)
                .shape(0..)
                .create("timestamps")?;
            str_attr(&timestamps, "units", "ms")?;
            let node_ids = g
                .new_dataset::<u64>()
                .chunk(FLUSH_AT)
                .shape(0..)
                .create("node_ids")?;
            writers.push(Some(PopWriter {
                timestamps,
                node_ids,
                buf_t: Vec::with_capacity(FLUSH_AT),
                buf_id: Vec::with_capacity(FLUSH_AT),
                written: 0,
            }));
        }
        Ok(SpikeWriter {
            file: Some(file),
            tmp_path,
            final_path: path.to_path_buf(),
            pop_ranges: pop_ranges.to_vec(),
            writers,
        })
    }

    /// The open file, for experiment data beside the spikes (`/protocol`, `/stimuli`,
    /// `/analysis`).
    pub fn file(&self) -> &File {
        self.file.as_ref().expect("not finished")
    }

    /// Writes the ACh concentration: `/ach/time_ms` (the end of each step) and
    /// `/ach/concentration`.
    pub fn write_ach(&mut self, dt_ms: f64, concentration: &[f64]) -> hdf5::Result<()> {
        let file = self.file.as_ref().expect("not finished");
        let g = file.create_group("ach")?;
        let t: Vec<f64> = (1..=concentration.len())
            .map(|k| k as f64 * dt_ms)
            .collect();
        g.new_dataset_builder().with_data(&t).create("time_ms")?;
        g.new_dataset_builder()
            .with_data(concentration)
            .create("concentration")?;
        Ok(())
    }

    /// Writes the remaining spikes and the provenance, closes the file and renames it to
    /// its final name.
    pub fn finish(mut self, prov: &Provenance) -> hdf5::Result<PathBuf> {
        for w in self.writers.iter_mut().flatten() {
            w.flush()?;
        }
        let file = self.file.take().expect("finish is called once");
        let meta = file.create_group("engram")?;
        str_attr(&meta, "version", env!("CARGO_PKG_VERSION"))?;
        str_attr(&meta, "config_path", &prov.config_path)?;
        scalar_attr(&meta, "seed", prov.seed)?;
        scalar_attr(&meta, "dt_ms", prov.dt_ms)?;
        scalar_attr(&meta, "duration_ms", prov.duration_ms)?;
        scalar_attr(&meta, "threads", prov.threads as u64)?;
        scalar_attr(&meta, "build_s", prov.build_s)?;
        scalar_attr(&meta, "sim_s", prov.sim_s)?;
        scalar_attr(&meta, "n_synapses", prov.n_synapses)?;
        scalar_attr(&meta, "syn_events", prov.syn_events)?;
        let text: VarLenUnicode = prov
            .config_text
            .parse()
            .map_err(|e| hdf5::Error::from(format!("{e:?}")))?;
        meta.new_dataset::<VarLenUnicode>()
            .create("config")?
            .write_scalar(&text)?;
        if !prov.parameters.is_empty() {
            let g = meta.create_group("parameters")?;
            for (k, v) in &prov.parameters {
                str_attr(&g, k, v)?;
            }
        }
        file.flush()?;
        file.close()?;
        std::fs::rename(&self.tmp_path, &self.final_path).map_err(|e| {
            hdf5::Error::from(format!("cannot rename {}: {e}", self.tmp_path.display()))
        })?;
        Ok(self.final_path.clone())
    }
}

impl Drop for SpikeWriter {
    fn drop(&mut self) {
        // Not finished: remove the partial file.
        if let Some(file) = self.file.take() {
            drop(file);
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

impl SpikeSink for SpikeWriter {
    type Error = hdf5::Error;

    fn record(&mut self, _step: u64, time_ms: f64, spikes: &[u32]) -> hdf5::Result<()> {
        let mut p = 0;
        for &g in spikes {
            while g >= self.pop_ranges[p].end {
                p += 1;
            }
            if let Some(w) = &mut self.writers[p] {
                w.buf_t.push(time_ms);
                w.buf_id.push(u64::from(g - self.pop_ranges[p].start));
                if w.buf_t.len() >= FLUSH_AT {
                    w.flush()?;
                }
            }
        }
        Ok(())
    }
}

/// What `engram inspect` shows of one population.
#[derive(Debug, Clone, serde::Serialize)]
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
pub fn population_names(spikes: &hdf5::Group) -> hdf5::Result<Vec<String>> {
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
pub fn inspect(path: &Path) -> hdf5::Result<FileSummary> {
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
