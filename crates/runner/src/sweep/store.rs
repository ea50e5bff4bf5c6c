//! The sweep folder: its layout, the manifest, atomic writes, and which points are done.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SweepError;
use engram_config::sweep::points::Sweep;

/// Version of the manifest format.
pub const MANIFEST_FORMAT: u32 = 1;

/// Where the files of a sweep folder are.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The sweep folder.
    pub dir: PathBuf,
    /// Digits of a point's file name (zero-padded, so names sort like indices).
    pub width: usize,
}

impl Layout {
    /// The layout of `dir` for a sweep of `n_points` points.
    pub fn new(dir: &Path, n_points: usize) -> Layout {
        let digits = n_points.saturating_sub(1).to_string().len();
        Layout {
            dir: dir.to_path_buf(),
            width: digits.max(4),
        }
    }

    /// `DIR/points`.
    pub fn points_dir(&self) -> PathBuf {
        self.dir.join("points")
    }

    /// The file name stem of point `index` (`0042`).
    pub fn name(&self, index: usize) -> String {
        format!("{index:0width$}", width = self.width)
    }

    /// `DIR/points/<index>.h5`: the run's output.
    pub fn h5(&self, index: usize) -> PathBuf {
        self.points_dir().join(format!("{}.h5", self.name(index)))
    }

    /// `DIR/points/<index>.json`: the run's summary; present if and only if the point is
    /// done.
    pub fn json(&self, index: usize) -> PathBuf {
        self.points_dir().join(format!("{}.json", self.name(index)))
    }

    /// `DIR/points/<index>.error`: why the point failed.
    pub fn error(&self, index: usize) -> PathBuf {
        self.points_dir()
            .join(format!("{}.error", self.name(index)))
    }

    /// `DIR/sweep.json`.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("sweep.json")
    }

    /// `DIR/sweep.toml`: a copy of the sweep file.
    pub fn sweep_copy(&self) -> PathBuf {
        self.dir.join("sweep.toml")
    }

    /// Removes the old files of point `index` (an error, an output without a summary)
    /// before it runs again.
    pub fn clear_point(&self, index: usize) -> std::io::Result<()> {
        remove_if_present(&self.error(index))?;
        remove_if_present(&self.json(index))?;
        remove_if_present(&self.h5(index))
    }

    /// Removes the temporary files that interrupted runs of the points `indices` left
    /// (`.<index>.h5.tmp-<pid>`, `.<index>.json.tmp-<pid>`, whatever process wrote them):
    /// one pass over the folder. Only these points': other shards, maybe on other
    /// machines, may be writing theirs. Returns what it removed.
    pub fn clear_temporaries(
        &self,
        indices: &[usize],
    ) -> std::io::Result<Vec<engram_io::output::Leftover>> {
        use engram_io::output::{Fate, Stale, remove_stale_temporaries};
        let names: std::collections::HashSet<String> =
            indices.iter().map(|&i| self.name(i)).collect();
        let ours = |name: &str| names.contains(name.split('.').next().unwrap_or(""));
        let found = remove_stale_temporaries(&self.points_dir(), Stale::Names(&ours));
        for l in &found {
            if let Fate::Failed(e) = &l.fate {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("cannot remove {}: {e}", l.path.display()),
                ));
            }
        }
        Ok(found)
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// `path` is either absent, the old file or the complete new one, whenever the process is
/// killed; on an error the temporary file is removed. (No fsync: it guards against a crash
/// of the process, not of the machine.)
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use engram_io::output::{Publish, TemporaryFile, temporary_path};
    use std::io::Write;
    let tmp = TemporaryFile::new(temporary_path(path));
    let mut f = std::fs::File::create(tmp.path())?;
    f.write_all(bytes)?;
    drop(f);
    tmp.publish(path, Publish::Replace)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// One dimension, as stored in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestDimension {
    /// `list`, `linspace`, `logspace`, `zip` or `sample`.
    pub kind: String,
    /// The dotted paths it sets.
    pub fields: Vec<String>,
    /// `values[step][field]`, as TOML text.
    pub values: Vec<Vec<String>>,
}

/// One point, as stored in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestPoint {
    /// Position in the sweep.
    pub index: usize,
    /// Position in the grid.
    pub grid: usize,
    /// Repeat.
    pub repeat: u64,
    /// Seed of the run.
    pub seed: u64,
    /// Step of each dimension.
    pub coords: Vec<usize>,
    /// Values of [`Manifest::fields`], as TOML text.
    pub params: Vec<String>,
}

/// `DIR/sweep.json`: all that `merge` and `plot` need to know about a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: u32,
    /// A hash of the base config's text, the threads per point and the points table: two
    /// runs with the same identity compute the same points.
    pub identity: String,
    /// The sweep file, as given.
    pub sweep_file: String,
    /// The base config, as resolved.
    pub base: String,
    /// Seeds per grid position.
    pub repeats: u64,
    /// Simulation threads per point.
    pub threads: usize,
    /// The swept fields, in column order.
    pub fields: Vec<String>,
    /// The grid's dimensions.
    pub dimensions: Vec<ManifestDimension>,
    /// Every point, in index order.
    pub points: Vec<ManifestPoint>,
}

/// FNV-1a, 64 bits: a stable hash (not a cryptographic one).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Manifest {
    /// The manifest of a loaded sweep.
    pub fn of(sweep: &Sweep) -> Manifest {
        let spec = &sweep.spec;
        let fields: Vec<String> = spec
            .dimensions
            .iter()
            .flat_map(|d| d.fields.iter().cloned())
            .collect();
        let dimensions = spec
            .dimensions
            .iter()
            .map(|d| ManifestDimension {
                kind: d.kind.name().into(),
                fields: d.fields.clone(),
                values: d
                    .values
                    .iter()
                    .map(|step| step.iter().map(engram_config::Value::render).collect())
                    .collect(),
            })
            .collect();
        let points: Vec<ManifestPoint> = sweep
            .points
            .iter()
            .map(|p| ManifestPoint {
                index: p.index,
                grid: p.grid,
                repeat: p.repeat,
                seed: p.seed,
                coords: p.coords.clone(),
                params: p.params.iter().map(|(_, v)| v.render()).collect(),
            })
            .collect();
        let mut key = sweep.base_text.clone().into_bytes();
        key.extend(format!("\0threads={}\0", spec.threads).bytes());
        key.extend(serde_json::to_vec(&(&fields, &points)).expect("serialisable"));
        Manifest {
            format: MANIFEST_FORMAT,
            identity: format!("{:016x}", fnv1a(&key)),
            sweep_file: spec.file.display().to_string(),
            base: spec.base.display().to_string(),
            repeats: spec.repeats,
            threads: spec.threads,
            fields,
            dimensions,
            points,
        }
    }

    /// Reads `DIR/sweep.json`.
    pub fn read(dir: &Path) -> Result<Manifest, SweepError> {
        let path = dir.join("sweep.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SweepError::File(crate::FileError::new(
                dir,
                format!(
                    "{}: not a sweep folder (cannot read {}: {e})",
                    dir.display(),
                    path.display()
                ),
            ))
        })?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            SweepError::File(crate::FileError::new(
                &path,
                format!("{}: not a sweep manifest: {e}", path.display()),
            ))
        })?;
        if m.format != MANIFEST_FORMAT {
            return Err(SweepError::File(crate::FileError::new(
                &path,
                format!(
                    "{}: manifest format {} (this engram reads {MANIFEST_FORMAT})",
                    path.display(),
                    m.format
                ),
            )));
        }
        Ok(m)
    }

    /// The folder layout of this sweep in `dir`.
    pub fn layout(&self, dir: &Path) -> Layout {
        Layout::new(dir, self.points.len())
    }
}

/// Whether a point is done, failed or not run (yet).
#[derive(Debug, Clone, PartialEq)]
pub enum PointState {
    /// Finished: its stored summary (`points/<index>.json`).
    Done(serde_json::Value),
    /// Failed, with its error.
    Failed(String),
    /// Not run, or interrupted.
    Missing,
}

/// The state of point `index`, from its files alone.
pub fn point_state(layout: &Layout, index: usize) -> PointState {
    if let Ok(text) = std::fs::read_to_string(layout.json(index)) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if v["index"].as_u64() == Some(index as u64) && layout.h5(index).is_file() {
                return PointState::Done(v);
            }
        }
    }
    match std::fs::read_to_string(layout.error(index)) {
        Ok(e) => PointState::Failed(e.trim_end().to_string()),
        Err(_) => PointState::Missing,
    }
}

/// What to do with an existing folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// No folder, or an empty one.
    Fresh,
    /// A folder of this very sweep.
    Same,
    /// A folder of another sweep (or not a sweep folder), to be cleared (`--force`).
    Replace,
}

/// Decides, before anything is written, whether the sweep may use `layout.dir`.
///
/// - a folder of another sweep, or a non-empty folder that is no sweep folder: refused
///   unless `force` (then [`Existing::Replace`]);
/// - a folder of this sweep with finished points among `selected`: refused unless `resume`
///   (keep them) or `force` (run them again).
pub fn check_dir(
    layout: &Layout,
    manifest: &Manifest,
    selected: &[usize],
    resume: bool,
    force: bool,
) -> Result<Existing, SweepError> {
    let dir = &layout.dir;
    if !dir.exists() {
        return Ok(Existing::Fresh);
    }
    if !dir.is_dir() {
        return Err(refused(
            dir,
            format!("-o {}: is a file; the sweep needs a folder", dir.display()),
        ));
    }
    // Temporary files count as nothing: another shard may be writing the manifest.
    let empty = std::fs::read_dir(dir)
        .map_err(|e| refused(dir, format!("cannot read {}: {e}", dir.display())))?
        .flatten()
        .all(|e| {
            e.file_name()
                .to_str()
                .and_then(engram_io::output::parse_temporary)
                .is_some()
        });
    if empty {
        return Ok(Existing::Fresh);
    }
    let stored = match Manifest::read(dir) {
        Ok(m) => m,
        Err(_) if force => return Ok(Existing::Replace),
        Err(_) => {
            return Err(refused(
                dir,
                format!(
                    "{} exists and is not a sweep folder (no readable sweep.json); give another \
                 -o DIR, or --force to write into it anyway",
                    dir.display()
                ),
            ));
        }
    };
    if stored.identity != manifest.identity {
        if force {
            return Ok(Existing::Replace);
        }
        return Err(refused(
            dir,
            format!(
                "{} holds the points of another sweep ({}; its points, seeds or base config \
             differ from {}): give another -o DIR, or --force to delete its points and start \
             over",
                dir.display(),
                stored.sweep_file,
                manifest.sweep_file
            ),
        ));
    }
    if !resume && !force {
        let done = selected
            .iter()
            .filter(|&&i| matches!(point_state(layout, i), PointState::Done(_)))
            .count();
        if done > 0 {
            return Err(refused(
                dir,
                format!(
                    "{} already holds {done} finished point(s) of this sweep: pass --resume to keep \
                 them and run the rest, or --force to run them again",
                    dir.display()
                ),
            ));
        }
    }
    Ok(Existing::Same)
}

/// Bad input about the sweep folder `dir`.
fn refused(dir: &Path, message: String) -> SweepError {
    SweepError::File(crate::FileError::new(dir, message))
}

/// Deletes what a sweep writes in `dir` (points, summaries, manifest); other files stay.
pub fn clear_dir(dir: &Path) -> std::io::Result<()> {
    let points = dir.join("points");
    if points.is_dir() {
        std::fs::remove_dir_all(&points)?;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let f = e.file_name().to_string_lossy().into_owned();
            let ours = f == "sweep.json"
                || f == "sweep.toml"
                || (f.starts_with("summary.") || f.starts_with("timings."))
                    && (f.ends_with(".csv") || f.ends_with(".h5"));
            if ours {
                remove_if_present(&e.path())?;
            }
        }
    }
    Ok(())
}
