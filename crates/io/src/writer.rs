//! The writer of a run's file: spikes as SONATA, then what the run adds beside them,
//! then the provenance (see the crate docs for the layout).
//!
//! Spikes are sorted by time, then by node id. They stream to disk in chunks, so a run
//! never holds all its spikes in memory. The file is written under a temporary name in
//! the same folder and renamed only when complete (see [`crate::output`]): an error, an
//! interruption or a panic removes the temporary file, and a crash leaves a `.tmp-<pid>`
//! file, never a file that looks finished.

use std::ops::Range;
use std::path::{Path, PathBuf};

use engram_core::time::StepClock;
use engram_network::{NetworkSpec, Simulation, SpikeSink};
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, File, H5Type};

use engram_experiments::{Attr, Data, Group};

use crate::output::{OutputError, OutputPath, OutputProblem, Publish, TemporaryFile};
use crate::storage::{self, Compression};
use crate::{Error, unicode, write_strings};

mod report;
pub use report::ReportOut;

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

/// Spikes buffered before they are appended to the file (a multiple of
/// [`SPIKE_CHUNK`], so that appends fill whole chunks).
const FLUSH_AT: usize = 1 << 16;

/// Spikes per chunk of a group that outgrows its buffer: 128 KiB of times.
const SPIKE_CHUNK: usize = storage::CHUNK_BYTES / 8;

/// The spikes of one population: buffered, and appended to its datasets when the buffer
/// is full and at the end.
struct PopWriter {
    group: hdf5::Group,
    /// `timestamps` and `node_ids`, created at the first append: a group whose spikes all
    /// fit in the buffer gets one chunk of exactly their number.
    datasets: Option<(Dataset, Dataset)>,
    buf_t: Vec<f64>,
    buf_id: Vec<u64>,
    written: usize,
}

impl PopWriter {
    /// Appends the buffered spikes; `last` says that no more will come.
    fn flush(&mut self, compression: Compression, last: bool) -> hdf5::Result<()> {
        let (timestamps, node_ids) = match &self.datasets {
            Some(d) => d,
            None => {
                let chunk = if last {
                    storage::chunk_len(self.buf_t.len(), 8)
                } else {
                    SPIKE_CHUNK
                };
                let timestamps = storage::chunked(&self.group, &[chunk], compression)
                    .empty::<f64>()
                    .shape(0..)
                    .create("timestamps")?;
                str_attr(&timestamps, "units", "ms")?;
                let node_ids = storage::chunked(&self.group, &[chunk], compression)
                    .empty::<u64>()
                    .shape(0..)
                    .create("node_ids")?;
                self.datasets.insert((timestamps, node_ids))
            }
        };
        if self.buf_t.is_empty() {
            return Ok(());
        }
        let new_len = self.written + self.buf_t.len();
        timestamps.resize(new_len)?;
        node_ids.resize(new_len)?;
        timestamps.write_slice(&self.buf_t, self.written..new_len)?;
        node_ids.write_slice(&self.buf_id, self.written..new_len)?;
        self.written = new_len;
        self.buf_t.clear();
        self.buf_id.clear();
        Ok(())
    }
}

/// Provenance written beside the spikes. What the program was built from, the date and
/// the host are added by the writer ([`crate::build_info`]).
#[derive(Debug, Clone)]
pub struct Provenance {
    /// Path of the config file (absolute, so that it names the file from anywhere).
    pub config_path: String,
    /// Config text after `--set` edits, with the paths of external inputs made absolute.
    pub config_text: String,
    /// SHA-256 of the config file as read (hex), before any edit.
    pub config_sha256: String,
    /// Every external file the config read (image files of stimuli, ...): its absolute
    /// path and the SHA-256 of its content (hex), in the order read.
    pub inputs: Vec<(String, String)>,
    /// The command line that started the run (program and arguments), or empty.
    pub command_line: Vec<String>,
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

/// A run's file while it is written: streams spikes into a SONATA file and writes what
/// the run adds beside them (see the crate docs for the layout). Dropped unfinished (an
/// error, an interruption), it removes its temporary file.
pub struct RunWriter {
    // Fields drop in this order: the HDF5 handles are closed before the guard removes
    // the temporary file.
    file: Option<File>,
    pop_ranges: Vec<Range<u32>>,
    writers: Vec<Option<PopWriter>>,
    compression: Compression,
    /// The path as given (what `finish` returns).
    given: PathBuf,
    /// Where the file goes: `given`, or the file a symbolic link leads to.
    target: PathBuf,
    publish: Publish,
    temporary: TemporaryFile,
}

pub(crate) fn str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&unicode(value)?)
}

fn scalar_attr<T: H5Type>(loc: &hdf5::Location, name: &str, value: T) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(&value)
}

impl RunWriter {
    /// Opens `.<name>.tmp-<pid>` beside the file `path` will be (beside the target of a
    /// symbolic link: see [`crate::output`]) and lays out the spike groups of the recorded
    /// populations (`record[i]` says whether population `i` is written). `publish` says
    /// whether [`RunWriter::finish`] may replace an existing file; with
    /// [`Publish::Exclusive`], an existing file is an error here already.
    ///
    /// Fails, leaving nothing behind, if `path` cannot be written ([`OutputPath::check`])
    /// or the file cannot be created and laid out.
    pub fn create(
        path: &Path,
        publish: Publish,
        names: &[String],
        pop_ranges: &[Range<u32>],
        record: &[bool],
    ) -> crate::Result<RunWriter> {
        let output = OutputPath::check(path)?;
        if output.exists && publish == Publish::Exclusive {
            return Err(OutputError {
                path: path.to_path_buf(),
                problem: OutputProblem::Exists,
            }
            .into());
        }
        // Guarded before it exists: whatever fails from here on removes it.
        let temporary = TemporaryFile::new(crate::output::temporary_path(&output.target));
        let file = File::create(temporary.path())?;
        let writers = layout(&file, names, pop_ranges, record)?;
        Ok(RunWriter {
            file: Some(file),
            pop_ranges: pop_ranges.to_vec(),
            writers,
            compression: Compression::DEFAULT,
            given: output.given,
            target: output.target,
            publish,
            temporary,
        })
    }

    /// Sets how engram's own datasets written from now on are stored (see
    /// [`crate::storage`]; [`Compression::DEFAULT`] until then); `/spikes` and `/report`
    /// are never filtered, so that every SONATA reader opens them. The values read back
    /// do not depend on it.
    pub fn set_compression(&mut self, compression: Compression) {
        self.compression = compression;
    }

    /// The temporary file being written (removed when the writer is dropped unfinished).
    pub fn temporary_path(&self) -> &Path {
        self.temporary.path()
    }

    /// Writes an experiment's results (see `engram_experiments::Experiment::record`) as
    /// groups under the root: numbers as f64, matrices as 2-D f64 `[rows, columns]`,
    /// strings and text as variable-length UTF-8, counts as u64.
    pub fn write_groups(&mut self, groups: &[Group]) -> crate::Result<()> {
        let file = self.file.as_ref().expect("not finished");
        for g in groups {
            write_group(file, g, self.compression)?;
        }
        Ok(())
    }

    /// Writes the ACh concentration of `steps` steps: `/ach/time_ms` (the end of each
    /// step, its decimal time from `clock`) and `/ach/concentration`, the values `next()`
    /// returns in order. Streamed in chunks, so a long run never holds its whole trace.
    pub fn write_ach(
        &mut self,
        clock: StepClock,
        steps: u64,
        mut next: impl FnMut() -> f64,
    ) -> crate::Result<()> {
        let file = self.file.as_ref().expect("not finished");
        let g = file.create_group("ach")?;
        let chunk = storage::chunk_len(usize::try_from(steps).unwrap_or(usize::MAX), 8);
        let time = storage::chunked(&g, &[chunk], self.compression)
            .empty::<f64>()
            .shape(0..)
            .create("time_ms")?;
        let conc = storage::chunked(&g, &[chunk], self.compression)
            .empty::<f64>()
            .shape(0..)
            .create("concentration")?;
        let (mut t, mut c) = (Vec::with_capacity(chunk), Vec::with_capacity(chunk));
        let mut written = 0usize;
        for k in 1..=steps {
            t.push(clock.time_ms(k));
            c.push(next());
            if t.len() == chunk || k == steps {
                let end = written + t.len();
                time.resize(end)?;
                conc.resize(end)?;
                time.write_slice(&t, written..end)?;
                conc.write_slice(&c, written..end)?;
                written = end;
                t.clear();
                c.clear();
            }
        }
        Ok(())
    }

    /// Writes `/weights/<projection>/{source, target, weight_pa}` (indices within the
    /// populations, sorted by source then target) and, for projections with gap junctions,
    /// `tag`: each junction's encoding tag `e` in [0, 1] at the end of the run.
    pub fn write_weights(&mut self, spec: &NetworkSpec, sim: &Simulation) -> crate::Result<()> {
        let file = self.file.as_ref().expect("not finished");
        let g = file.create_group("weights")?;
        for (i, p) in spec.projections.iter().enumerate() {
            let w = sim.weights(i);
            let pg = g.create_group(&p.name)?;
            let src: Vec<u32> = w.iter().map(|x| x.0).collect();
            let tgt: Vec<u32> = w.iter().map(|x| x.1).collect();
            let val: Vec<f32> = w.iter().map(|x| x.2).collect();
            let c = self.compression;
            let n = w.len();
            storage::fitted_1d(&pg, n, 4, c)
                .with_data(&src)
                .create("source")?;
            storage::fitted_1d(&pg, n, 4, c)
                .with_data(&tgt)
                .create("target")?;
            storage::fitted_1d(&pg, n, 4, c)
                .with_data(&val)
                .create("weight_pa")?;
            if let Some(tags) = sim.tags(i) {
                let tag: Vec<f32> = tags.iter().map(|x| x.2).collect();
                storage::fitted_1d(&pg, tag.len(), 4, c)
                    .with_data(&tag)
                    .create("tag")?;
            }
        }
        Ok(())
    }

    /// Writes the remaining spikes and the provenance, closes the file and gives it its
    /// final name (see [`Publish`]; the target is checked again first: it may have changed
    /// during the run); returns the path as given to [`RunWriter::create`]. On any error
    /// the temporary file is removed and nothing appears at the final name.
    pub fn finish(mut self, prov: &Provenance) -> crate::Result<PathBuf> {
        for w in self.writers.iter_mut().flatten() {
            w.flush(storage::SONATA, true)?;
        }
        let file = self.file.take().expect("finish is called once");
        write_provenance(&file, prov, self.compression)?;
        file.flush()?;
        file.close()?;
        self.temporary.publish(&self.target, self.publish)?;
        Ok(self.given)
    }
}

/// Writes `/engram`: the provenance of the run.
fn write_provenance(file: &File, prov: &Provenance, compression: Compression) -> crate::Result<()> {
    use crate::build_info as b;
    let meta = file.create_group("engram")?;
    str_attr(&meta, "version", b::VERSION)?;
    str_attr(&meta, "git_commit", b::GIT_COMMIT)?;
    str_attr(&meta, "git_dirty", b::GIT_DIRTY)?;
    str_attr(&meta, "build_profile", b::PROFILE)?;
    str_attr(&meta, "target", b::TARGET)?;
    str_attr(&meta, "target_features", b::TARGET_FEATURES)?;
    str_attr(&meta, "rustc", b::RUSTC)?;
    str_attr(&meta, "created_utc", &b::now_utc())?;
    str_attr(&meta, "host", &b::host_name())?;
    str_attr(&meta, "command_line", &b::shell_words(&prov.command_line))?;
    str_attr(&meta, "compression", &compression.describe())?;
    str_attr(&meta, "config_path", &prov.config_path)?;
    str_attr(&meta, "config_sha256", &prov.config_sha256)?;
    scalar_attr(&meta, "seed", prov.seed)?;
    scalar_attr(&meta, "dt_ms", prov.dt_ms)?;
    scalar_attr(&meta, "duration_ms", prov.duration_ms)?;
    scalar_attr(&meta, "threads", prov.threads as u64)?;
    scalar_attr(&meta, "build_s", prov.build_s)?;
    scalar_attr(&meta, "sim_s", prov.sim_s)?;
    scalar_attr(&meta, "n_synapses", prov.n_synapses)?;
    scalar_attr(&meta, "syn_events", prov.syn_events)?;
    let text = unicode(&prov.config_text)?;
    meta.new_dataset::<VarLenUnicode>()
        .create("config")?
        .write_scalar(&text)?;
    // Always there (empty when the config reads no file), so readers need no special case.
    let inputs = meta.create_group("inputs")?;
    let paths: Vec<String> = prov.inputs.iter().map(|(p, _)| p.clone()).collect();
    let hashes: Vec<String> = prov.inputs.iter().map(|(_, h)| h.clone()).collect();
    write_strings(&inputs, "path", &paths)?;
    write_strings(&inputs, "sha256", &hashes)?;
    if !prov.parameters.is_empty() {
        let g = meta.create_group("parameters")?;
        for (k, v) in &prov.parameters {
            str_attr(&g, k, v)?;
        }
    }
    Ok(())
}

/// Writes the root attributes and the spike groups of a new file.
fn layout(
    file: &File,
    names: &[String],
    pop_ranges: &[Range<u32>],
    record: &[bool],
) -> crate::Result<Vec<Option<PopWriter>>> {
    // SONATA marks every file with these root attributes.
    scalar_attr(file, "magic", 0x0A7Au32)?;
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
        writers.push(Some(PopWriter {
            group: g,
            datasets: None,
            buf_t: Vec::with_capacity(FLUSH_AT),
            buf_id: Vec::with_capacity(FLUSH_AT),
            written: 0,
        }));
    }
    Ok(writers)
}

fn write_group(parent: &hdf5::Group, g: &Group, c: Compression) -> hdf5::Result<()> {
    let loc = parent.create_group(&g.name)?;
    for (name, value) in &g.attrs {
        match value {
            Attr::Count(v) => scalar_attr(&loc, name, *v)?,
            Attr::Number(v) => scalar_attr(&loc, name, *v)?,
            Attr::Text(v) => str_attr(&loc, name, v)?,
        }
    }
    for (name, value) in &g.datasets {
        match value {
            Data::Numbers(v) => {
                storage::fitted_1d(&loc, v.len(), 8, c)
                    .with_data(v)
                    .create(name.as_str())?;
            }
            Data::Matrix(rows) => {
                let cols = rows.first().map_or(0, Vec::len);
                let flat: Vec<f64> = rows.iter().flatten().copied().collect();
                storage::fitted_2d(&loc, rows.len(), cols, 8, c)
                    .empty::<f64>()
                    .shape((rows.len(), cols))
                    .create(name.as_str())?
                    .write_raw(&flat)?;
            }
            Data::Strings(v) => write_strings(&loc, name, v)?,
        }
    }
    for sub in &g.groups {
        write_group(&loc, sub, c)?;
    }
    Ok(())
}

impl SpikeSink for RunWriter {
    type Error = Error;

    fn record(&mut self, _step: u64, time_ms: f64, spikes: &[u32]) -> crate::Result<()> {
        let mut p = 0;
        for &g in spikes {
            while g >= self.pop_ranges[p].end {
                p += 1;
            }
            if let Some(w) = &mut self.writers[p] {
                w.buf_t.push(time_ms);
                w.buf_id.push(u64::from(g - self.pop_ranges[p].start));
                if w.buf_t.len() >= FLUSH_AT {
                    w.flush(storage::SONATA, false)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provenance() -> Provenance {
        Provenance {
            config_path: "c.toml".into(),
            config_text: String::new(),
            config_sha256: String::new(),
            inputs: Vec::new(),
            command_line: Vec::new(),
            seed: 1,
            dt_ms: 0.1,
            duration_ms: 1.0,
            threads: 1,
            build_s: 0.0,
            sim_s: 0.0,
            n_synapses: 0,
            syn_events: 0,
            parameters: Vec::new(),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// A writer of one population of 3 neurons into `out`.
    fn one_population(out: &Path, publish: Publish) -> crate::Result<RunWriter> {
        let range = 0..3;
        RunWriter::create(
            out,
            publish,
            &names(&["E"]),
            std::slice::from_ref(&range),
            &[true],
        )
    }

    /// The files in `dir`, sorted.
    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("readable")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_finished_file_takes_its_name() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let out = dir.path().join("x.h5");
        let mut w = one_population(&out, Publish::Exclusive).expect("created");
        w.record(0, 0.1, &[1, 2]).expect("recorded");
        assert_eq!(entries(dir.path()).len(), 1);
        assert_eq!(w.finish(&provenance()).expect("finished"), out);
        assert_eq!(entries(dir.path()), ["x.h5"]);
        // Exclusive onto an existing file: refused before anything is written.
        let e = one_population(&out, Publish::Exclusive)
            .err()
            .expect("refused");
        assert!(e.to_string().ends_with("x.h5: exists"), "{e}");
        assert_eq!(entries(dir.path()), ["x.h5"]);
    }

    #[test]
    fn a_failed_layout_leaves_nothing() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let out = dir.path().join("x.h5");
        // Two populations of one name: the second group cannot be created.
        let r = RunWriter::create(
            &out,
            Publish::Replace,
            &names(&["E", "E"]),
            &[0..3, 3..5],
            &[true, true],
        );
        assert!(r.is_err());
        assert_eq!(entries(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn an_unfinished_or_failed_file_is_removed() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let out = dir.path().join("x.h5");
        let w = one_population(&out, Publish::Replace).expect("created");
        assert!(w.temporary_path().exists());
        drop(w);
        assert_eq!(entries(dir.path()), Vec::<String>::new());

        // The target became a folder during the run: the folder stays, the file goes.
        let w = one_population(&out, Publish::Replace).expect("created");
        std::fs::create_dir(&out).expect("a folder");
        let e = w.finish(&provenance()).expect_err("refused");
        assert!(e.to_string().contains("became a folder"), "{e}");
        assert_eq!(entries(dir.path()), ["x.h5"]);
        assert!(out.is_dir());
        std::fs::remove_dir(&out).expect("removed");

        // A file appeared during an exclusive run: it is kept, this run's file goes.
        let w = one_population(&out, Publish::Exclusive).expect("created");
        std::fs::write(&out, "theirs").expect("written");
        let e = w.finish(&provenance()).expect_err("refused");
        assert!(e.to_string().contains("another process"), "{e}");
        assert_eq!(entries(dir.path()), ["x.h5"]);
        assert_eq!(std::fs::read(&out).expect("read"), b"theirs");
    }
}
