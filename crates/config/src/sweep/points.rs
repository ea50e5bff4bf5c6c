//! A loaded sweep: the sweep file, its base config, and every point checked against it.

use std::path::Path;

use engram_core::memory::{MemoryEstimate, MemoryLimit};

use super::SweepFileError;
use super::spec::{Point, SweepSpec};
use crate::{ConfigError, LoadOptions, Model, SpikeFileReader, Value};

/// A sweep whose every point is a valid config.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The sweep file, checked.
    pub spec: SweepSpec,
    /// The sweep file's text.
    pub text: String,
    /// The base config's text.
    pub base_text: String,
    /// Every point, in index order.
    pub points: Vec<Point>,
    /// The `--set` edits of each point (same order as `points`).
    pub sets: Vec<Vec<String>>,
    /// The memory one point may use (stimuli and models larger than it are refused).
    pub memory: Option<MemoryLimit>,
    /// The memory estimate of the largest point (on the sweep's threads per point).
    pub largest: MemoryEstimate,
    /// The reader of SONATA spike files the points are loaded with (see
    /// [`LoadOptions::spike_reader`]).
    pub spike_reader: Option<SpikeFileReader>,
}

impl Sweep {
    /// Reads the sweep file and its base config, expands the points and checks each one as
    /// a config; the first bad point is an error naming its axis, index and values. No
    /// memory limit (see [`Sweep::load_with`]).
    pub fn load(file: &Path) -> Result<Sweep, SweepFileError> {
        Sweep::load_with(file, None, None)
    }

    /// As [`Sweep::load`], refusing a point whose stimuli or model exceed `memory` (what one
    /// point may use), and reading SONATA spike files with `spike_reader`.
    pub fn load_with(
        file: &Path,
        memory: Option<&MemoryLimit>,
        spike_reader: Option<SpikeFileReader>,
    ) -> Result<Sweep, SweepFileError> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            SweepFileError::at(file, "", format!("cannot read the sweep file: {e}"))
        })?;
        let spec = SweepSpec::parse(file, &text)?;
        let base_text = std::fs::read_to_string(&spec.base).map_err(|e| {
            SweepFileError::at(
                file,
                "base",
                format!("cannot read the config {}: {e}", spec.base.display()),
            )
        })?;
        let base_table: toml::Table = toml::from_str(&base_text).map_err(|e| {
            SweepFileError::at(
                file,
                "base",
                format!("{}: {}", spec.base.display(), e.message().trim()),
            )
        })?;
        // The base need not be valid on its own, only with each point's edits; the base
        // seed is that of the first grid position without a seed override.
        let provisional = spec.points(0);
        let mut sets = Vec::with_capacity(provisional.len());
        for p in &provisional {
            let s = point_sets(&base_table, &p.params)
                .map_err(|(path, m)| SweepFileError::at(file, &format!("axis \"{path}\""), m))?;
            sets.push(s);
        }
        let first = &provisional[0];
        let options = LoadOptions {
            memory: memory.cloned(),
            threads: spec.threads,
            spike_reader,
            ..LoadOptions::default()
        };
        let base_seed = crate::from_text_with(&spec.base, &base_text, &sets[0], &options)
            .map_err(|e| point_error(file, first, &sweep_wording(e)))?
            .config
            .simulation
            .seed;
        let points = spec.points(base_seed);
        let mut sweep = Sweep {
            spec,
            text,
            base_text,
            points,
            sets,
            memory: memory.cloned(),
            largest: MemoryEstimate::new(),
            spike_reader,
        };
        // Points that differ only in their seed check alike: check one per grid position.
        for p in sweep.points.iter().filter(|p| p.repeat == 0) {
            match sweep.model(p) {
                Ok(m) => {
                    let e = m.memory_estimate(sweep.spec.threads);
                    if e.total() > sweep.largest.total() {
                        sweep.largest = e;
                    }
                }
                Err(e) => return Err(point_error(&sweep.spec.file, p, &e)),
            }
        }
        Ok(sweep)
    }

    /// The checked config of point `p`.
    pub fn model(&self, p: &Point) -> Result<Model, ConfigError> {
        let options = LoadOptions {
            seed: Some(p.seed),
            memory: self.memory.clone(),
            threads: self.spec.threads,
            spike_reader: self.spike_reader,
        };
        crate::from_text_with(
            &self.spec.base,
            &self.base_text,
            &self.sets[p.index],
            &options,
        )
        .map_err(sweep_wording)
    }
}

/// A config error caused by a sweep's edit says so, not "set on the command line".
fn sweep_wording(mut e: ConfigError) -> ConfigError {
    e.message = e
        .message
        .replace("set on the command line: --set ", "set by the sweep: ");
    e
}

/// `path = value, ...` of a point.
pub fn describe(p: &Point) -> String {
    if p.params.is_empty() {
        return "the base config".into();
    }
    p.params
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bad point: the axis whose value the config rejects (when one can be named), the
/// point and the config's own error.
fn point_error(file: &Path, p: &Point, e: &ConfigError) -> SweepFileError {
    let axis = p.params.iter().map(|(k, _)| k).find(|k| {
        e.path == **k
            || e.path.starts_with(&format!("{k}."))
            || k.starts_with(&format!("{}.", e.path)) && !e.path.is_empty()
    });
    let message = format!(
        "{}: {}point {} ({}): {e}",
        file.display(),
        axis.map_or(String::new(), |a| format!("axis \"{a}\", ")),
        p.index,
        describe(p)
    );
    match axis {
        // The axis of the sweep file that sets the rejected value.
        Some(a) => SweepFileError {
            message,
            file: file.to_path_buf(),
            line: None,
            path: a.clone(),
        },
        // A field of the base config that no axis sets: where the config error is.
        None => SweepFileError {
            message,
            file: e.file.clone(),
            line: e.line,
            path: e.path.clone(),
        },
    }
}

/// The `--set` edits that give a point its values. A path that crosses an array of the
/// base config (`ach.pulses.0.amplitude`) becomes an edit of the whole array.
pub(crate) fn point_sets(
    base: &toml::Table,
    params: &[(String, Value)],
) -> Result<Vec<String>, (String, String)> {
    let mut edited = base.clone();
    let mut roots: Vec<String> = Vec::new();
    let mut sets = Vec::new();
    for (path, value) in params {
        match array_root(base, path) {
            None => sets.push(format!("{path}={value}")),
            Some(root) => {
                set_in(&mut edited, path, value.0.clone()).map_err(|m| (path.clone(), m))?;
                if !roots.contains(&root) {
                    roots.push(root);
                }
            }
        }
    }
    for root in roots {
        let v = get(&edited, &root).expect("the array was found");
        sets.push(format!("{root}={v}"));
    }
    Ok(sets)
}

/// The prefix of `path` that is an array in `base`, if the path goes through one.
fn array_root(base: &toml::Table, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut table = base;
    for (i, part) in parts.iter().enumerate() {
        match table.get(*part)? {
            toml::Value::Table(t) => table = t,
            toml::Value::Array(_) if i + 1 < parts.len() => {
                return Some(parts[..=i].join("."));
            }
            _ => return None,
        }
    }
    None
}

fn get<'a>(root: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = path.split('.');
    let mut cur = root.get(parts.next()?)?;
    for part in parts {
        cur = match cur {
            toml::Value::Table(t) => t.get(part)?,
            toml::Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Sets `path` (dotted; a part may index a list: `ach.pulses.0.amplitude`) in `root`;
/// tables on the way are created. Returns the path of the first table it had to create,
/// if any (so that an unknown table can be blamed on the edit). Shared by sweeps and
/// `--set`.
pub(crate) fn set_in(
    root: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> Result<Option<String>, String> {
    let parts: Vec<&str> = path.split('.').collect();
    let (last, walk) = parts.split_last().expect("split gives one part at least");
    let Some((first, rest)) = walk.split_first() else {
        root.insert(last.to_string(), value);
        return Ok(None);
    };
    let mut created = (!root.contains_key(*first)).then(|| first.to_string());
    let mut cur: &mut toml::Value = root
        .entry(first.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let mut walked = first.to_string();
    for part in rest {
        if created.is_none() && matches!(cur, toml::Value::Table(t) if !t.contains_key(*part)) {
            created = Some(format!("{walked}.{part}"));
        }
        cur = step(cur, part, &walked)?;
        walked = format!("{walked}.{part}");
    }
    match cur {
        toml::Value::Table(t) => {
            t.insert(last.to_string(), value);
        }
        toml::Value::Array(a) => {
            let slot = index(a, last, &walked)?;
            a[slot] = value;
        }
        _ => return Err(format!("`{walked}` is a value, not a table or a list")),
    }
    Ok(created)
}

fn step<'a>(
    cur: &'a mut toml::Value,
    part: &str,
    walked: &str,
) -> Result<&'a mut toml::Value, String> {
    match cur {
        toml::Value::Table(t) => Ok(t
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))),
        toml::Value::Array(a) => {
            let i = index(a, part, walked)?;
            Ok(&mut a[i])
        }
        _ => Err(format!("`{walked}` is a value, not a table or a list")),
    }
}

fn index(a: &[toml::Value], part: &str, walked: &str) -> Result<usize, String> {
    let i: usize = part.parse().map_err(|_| {
        format!("`{walked}` is a list: the next part of the path must be an index, not `{part}`")
    })?;
    if i >= a.len() {
        return Err(format!(
            "`{walked}` has {} entries; index {i} is out of range",
            a.len()
        ));
    }
    Ok(i)
}
