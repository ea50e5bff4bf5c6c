//! The sweep file: parsing, axis expansion, point seeds.
//!
//! Nothing here reads the base config or runs anything: a [`SweepSpec`] is the file's
//! content, checked, and [`SweepSpec::points`] lists the points it stands for.

use std::path::{Path, PathBuf};

use super::SweepFileError;
use crate::Value;

/// Keys allowed at the top of a sweep file.
const TOP_KEYS: &[&str] = &[
    "base", "repeats", "seed", "threads", "axes", "zip", "sample",
];

/// The largest point seed plus one: seeds fit in 53 bits, so they are exact as doubles too.
const SEED_LIMIT: u64 = 1 << 53;

/// How a dimension's values were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimensionKind {
    /// An explicit list.
    List,
    /// `{ linspace = [start, stop, n] }`.
    Linspace,
    /// `{ logspace = [start, stop, n] }` (values, spaced geometrically).
    Logspace,
    /// A `[zip]` group: several fields that vary together.
    Zip,
    /// `[sample]`: `n` random draws of every sampled field.
    Sample,
}

impl DimensionKind {
    /// The kind's name as written in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            DimensionKind::List => "list",
            DimensionKind::Linspace => "linspace",
            DimensionKind::Logspace => "logspace",
            DimensionKind::Zip => "zip",
            DimensionKind::Sample => "sample",
        }
    }
}

/// One dimension of the points grid: one axis, one `[zip]` group or the `[sample]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    /// How the values were given.
    pub kind: DimensionKind,
    /// The dotted config paths this dimension sets (one for an axis).
    pub fields: Vec<String>,
    /// `values[step][field]`: the value of each field at each step.
    pub values: Vec<Vec<Value>>,
}

impl Dimension {
    /// Number of steps.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True if the dimension has no steps (never for a checked spec).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A short name: the field, or the first field and how many others vary with it.
    pub fn label(&self) -> String {
        match self.fields.len() {
            1 => self.fields[0].clone(),
            n => format!("{} (+{} more)", self.fields[0], n - 1),
        }
    }
}

/// A checked sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The sweep file.
    pub file: PathBuf,
    /// The base config, resolved against the sweep file's folder.
    pub base: PathBuf,
    /// Seeds per point of the grid.
    pub repeats: u64,
    /// Base seed of the point seeds; `None`: the base config's `simulation.seed`.
    pub seed: Option<u64>,
    /// Simulation threads of each point.
    pub threads: usize,
    /// The grid's dimensions: axes in file order, then `[zip]` groups, then `[sample]`.
    pub dimensions: Vec<Dimension>,
}

/// One point of a sweep: a grid position and a repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Position in the sweep, `grid * repeats + repeat`.
    pub index: usize,
    /// Position in the grid (the product of the dimensions, first dimension slowest).
    pub grid: usize,
    /// Which repeat of the grid position.
    pub repeat: u64,
    /// The step of each dimension.
    pub coords: Vec<usize>,
    /// `(dotted path, value)` of every swept field, in dimension order.
    pub params: Vec<(String, Value)>,
    /// The point's seed: [`point_seed`], or the value of a `simulation.seed` axis.
    pub seed: u64,
}

/// SplitMix64's output function: a bijective 64-bit mix.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of grid position `grid`, repeat `repeat`: a hash of the base seed and both,
/// below 2^53. It depends on nothing else (not on scheduling, shards or other points).
pub fn point_seed(base_seed: u64, grid: usize, repeat: u64) -> u64 {
    let h = splitmix64(splitmix64(splitmix64(base_seed) ^ grid as u64) ^ repeat);
    h % SEED_LIMIT
}

/// A uniform number in [0, 1) from a hash of `(seed, draw, field)`.
fn unit(seed: u64, draw: usize, field: usize) -> f64 {
    let h = splitmix64(splitmix64(splitmix64(seed) ^ draw as u64) ^ field as u64);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Renders a value as TOML (`1.5`, `"all"`, `{ range = [0, 10] }`).
fn render(v: &toml::Value) -> String {
    Value(v.clone()).render()
}

impl SweepSpec {
    /// Parses and checks the sweep file `file` whose text is `text`.
    pub fn parse(file: &Path, text: &str) -> Result<SweepSpec, SweepFileError> {
        let err = |path: &str, message: String| SweepFileError::at(file, path, message);
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let at = line.map_or(String::new(), |l| format!("line {l}: "));
            err("", format!("{at}{}", e.message().trim()))
        })?;
        for key in table.keys() {
            if !TOP_KEYS.contains(&key.as_str()) {
                return Err(err(
                    key,
                    format!("unknown key; allowed: {}", TOP_KEYS.join(", ")),
                ));
            }
        }
        let base = match table.get("base") {
            Some(toml::Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => {
                return Err(err(
                    "base",
                    "must be the path of a config file (a string)".into(),
                ));
            }
            None => {
                return Err(err(
                    "base",
                    "missing: give the config the sweep varies, e.g. base = \"cuba.toml\" \
                     (relative to the sweep file)"
                        .into(),
                ));
            }
        };
        let base_path = Path::new(&base);
        let base = if base_path.is_absolute() {
            base_path.to_path_buf()
        } else {
            file.parent().unwrap_or(Path::new("")).join(base_path)
        };
        let repeats = match table.get("repeats") {
            None => 1,
            Some(v) => positive_int(v)
                .ok_or_else(|| err("repeats", format!("{}: must be an integer >= 1", render(v))))?,
        };
        let seed =
            match table.get("seed") {
                None => None,
                Some(v) => Some(non_negative_int(v).ok_or_else(|| {
                    err("seed", format!("{}: must be an integer >= 0", render(v)))
                })?),
            };
        let threads = match table.get("threads") {
            None => 1,
            Some(v) => positive_int(v)
                .ok_or_else(|| err("threads", format!("{}: must be an integer >= 1", render(v))))?
                as usize,
        };

        let mut dimensions = Vec::new();
        match table.get("axes") {
            None => {}
            Some(toml::Value::Table(axes)) => {
                for (path, spec) in axes {
                    let at = format!("axes.\"{path}\"");
                    check_path(path).map_err(|m| err(&at, m))?;
                    let (kind, values) = axis_values(spec).map_err(|m| err(&at, m))?;
                    dimensions.push(Dimension {
                        kind,
                        fields: vec![path.clone()],
                        values: values.into_iter().map(|v| vec![Value(v)]).collect(),
                    });
                }
            }
            Some(_) => {
                return Err(err(
                    "axes",
                    "must be a table of \"dotted.path\" = values".into(),
                ));
            }
        }
        match table.get("zip") {
            None => {}
            Some(toml::Value::Table(group)) => {
                dimensions.push(zip_group(group, "zip").map_err(|(p, m)| err(&p, m))?);
            }
            Some(toml::Value::Array(groups)) => {
                for (g, group) in groups.iter().enumerate() {
                    let at = format!("zip.{g}");
                    let toml::Value::Table(group) = group else {
                        return Err(err(
                            &at,
                            "must be a table of \"dotted.path\" = values".into(),
                        ));
                    };
                    dimensions.push(zip_group(group, &at).map_err(|(p, m)| err(&p, m))?);
                }
            }
            Some(_) => {
                return Err(err(
                    "zip",
                    "must be a table ([zip]) or tables ([[zip]]) of \"dotted.path\" = values"
                        .into(),
                ));
            }
        }
        match table.get("sample") {
            None => {}
            Some(toml::Value::Table(sample)) => {
                dimensions.push(sample_dimension(sample).map_err(|(p, m)| err(&p, m))?);
            }
            Some(_) => {
                return Err(err(
                    "sample",
                    "must be a table with n, seed and \"dotted.path\" = distribution".into(),
                ));
            }
        }

        let mut seen: Vec<&str> = Vec::new();
        for d in &dimensions {
            for f in &d.fields {
                if seen.contains(&f.as_str()) {
                    return Err(err(
                        f,
                        "is swept twice (in two axes, groups or samples)".into(),
                    ));
                }
                seen.push(f);
            }
        }
        if let Some(d) = dimensions
            .iter()
            .find(|d| d.fields.iter().any(|f| f == "simulation.seed"))
        {
            if repeats > 1 {
                return Err(err(
                    "simulation.seed",
                    format!(
                        "is an axis ({}), so every repeat would be the same run: use repeats = 1, \
                         or drop the axis and let repeats give the seeds",
                        d.label()
                    ),
                ));
            }
            for step in &d.values {
                let k = d
                    .fields
                    .iter()
                    .position(|f| f == "simulation.seed")
                    .expect("present");
                if non_negative_int(&step[k].0).is_none() {
                    return Err(err(
                        "simulation.seed",
                        format!("{}: seeds must be integers >= 0", step[k]),
                    ));
                }
            }
        }
        let total = dimensions
            .iter()
            .try_fold(repeats, |acc, d| acc.checked_mul(d.len() as u64))
            .filter(|&n| n <= 10_000_000);
        if total.is_none() {
            return Err(err("", "more than 10 000 000 points".into()));
        }
        Ok(SweepSpec {
            file: file.to_path_buf(),
            base,
            repeats,
            seed,
            threads,
            dimensions,
        })
    }

    /// Number of grid positions (the product of the dimension lengths; 1 without any).
    pub fn grid_len(&self) -> usize {
        self.dimensions.iter().map(Dimension::len).product()
    }

    /// Number of points: grid positions times repeats.
    pub fn len(&self) -> usize {
        self.grid_len() * self.repeats as usize
    }

    /// True if there are no points (never for a checked spec).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every point, in index order: the Cartesian product of the dimensions (first
    /// dimension slowest), each position `repeats` times in a row. `base_seed` is used
    /// unless the file gives `seed`.
    pub fn points(&self, base_seed: u64) -> Vec<Point> {
        let base_seed = self.seed.unwrap_or(base_seed);
        let mut out = Vec::with_capacity(self.len());
        for grid in 0..self.grid_len() {
            let mut coords = vec![0; self.dimensions.len()];
            let mut rest = grid;
            for (k, d) in self.dimensions.iter().enumerate().rev() {
                coords[k] = rest % d.len();
                rest /= d.len();
            }
            let params: Vec<(String, Value)> = self
                .dimensions
                .iter()
                .zip(&coords)
                .flat_map(|(d, &c)| d.fields.iter().cloned().zip(d.values[c].iter().cloned()))
                .collect();
            let seed_axis = params
                .iter()
                .find(|(p, _)| p == "simulation.seed")
                .and_then(|(_, v)| non_negative_int(&v.0));
            for repeat in 0..self.repeats {
                out.push(Point {
                    index: out.len(),
                    grid,
                    repeat,
                    coords: coords.clone(),
                    params: params.clone(),
                    seed: seed_axis.unwrap_or_else(|| point_seed(base_seed, grid, repeat)),
                });
            }
        }
        out
    }
}

fn positive_int(v: &toml::Value) -> Option<u64> {
    v.as_integer().filter(|&n| n >= 1).map(|n| n as u64)
}

fn non_negative_int(v: &toml::Value) -> Option<u64> {
    v.as_integer().filter(|&n| n >= 0).map(|n| n as u64)
}

fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.split('.').any(|s| s.trim().is_empty()) {
        return Err("is not a dotted config path (like \"neuron.tau_m_ms\")".into());
    }
    if !path.contains('.') {
        return Err(
            "is not a config field: fields are at least two levels deep (\"neuron.tau_m_ms\")"
                .into(),
        );
    }
    Ok(())
}

const AXIS_FORMS: &str = "a list of values, { linspace = [start, stop, n] } or \
                          { logspace = [start, stop, n] }";

/// A number of a range: an integer or a finite float.
fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// The values of one axis.
fn axis_values(spec: &toml::Value) -> Result<(DimensionKind, Vec<toml::Value>), String> {
    match spec {
        toml::Value::Array(values) => {
            if values.is_empty() {
                return Err(format!("an empty list; give {AXIS_FORMS}"));
            }
            Ok((DimensionKind::List, values.clone()))
        }
        toml::Value::Table(t) => {
            let mut keys = t.keys();
            let (Some(key), None) = (keys.next(), keys.next()) else {
                return Err(format!("expected {AXIS_FORMS}"));
            };
            let kind = match key.as_str() {
                "linspace" => DimensionKind::Linspace,
                "logspace" => DimensionKind::Logspace,
                other => {
                    return Err(format!("unknown range `{other}`; expected {AXIS_FORMS}"));
                }
            };
            let form = format!("{key} = [start, stop, n]");
            let bad = |why: &str| format!("{}: {why}; write {form}", render(spec));
            let Some(toml::Value::Array(args)) = t.get(key) else {
                return Err(bad("not a list"));
            };
            let [a, b, n] = args.as_slice() else {
                return Err(bad("needs exactly three numbers"));
            };
            let (Some(lo), Some(hi)) = (number(a), number(b)) else {
                return Err(bad("start and stop must be finite numbers"));
            };
            let Some(n) = positive_int(n) else {
                return Err(bad("n must be an integer >= 1"));
            };
            if n > 1_000_000 {
                return Err(bad("n must be at most 1 000 000"));
            }
            let n = n as usize;
            if kind == DimensionKind::Logspace && (lo <= 0.0 || hi <= 0.0) {
                return Err(bad(
                    "logspace takes values (not exponents), which must be > 0",
                ));
            }
            let integers = a.is_integer() && b.is_integer();
            let values = (0..n)
                .map(|i| {
                    let x = if i == 0 {
                        lo
                    } else if i + 1 == n {
                        hi
                    } else {
                        let f = i as f64 / (n - 1) as f64;
                        match kind {
                            DimensionKind::Logspace => lo * (hi / lo).powf(f),
                            _ => lo + (hi - lo) * f,
                        }
                    };
                    if integers {
                        toml::Value::Integer(x.round() as i64)
                    } else {
                        toml::Value::Float(x)
                    }
                })
                .collect();
            Ok((kind, values))
        }
        other => Err(format!("{}: expected {AXIS_FORMS}", render(other))),
    }
}

type Invalid = (String, String);

fn zip_group(group: &toml::Table, at: &str) -> Result<Dimension, Invalid> {
    if group.is_empty() {
        return Err((
            at.to_string(),
            "an empty group; give \"dotted.path\" = values for the fields that vary together"
                .into(),
        ));
    }
    let mut fields = Vec::new();
    let mut columns: Vec<Vec<toml::Value>> = Vec::new();
    for (path, spec) in group {
        let field_at = format!("{at}.\"{path}\"");
        check_path(path).map_err(|m| (field_at.clone(), m))?;
        let (_, values) = axis_values(spec).map_err(|m| (field_at.clone(), m))?;
        if let Some(first) = columns.first() {
            if first.len() != values.len() {
                return Err((
                    field_at,
                    format!(
                        "has {} values but `{}` has {}: the fields of a zip group vary \
                         together and need the same number of values",
                        values.len(),
                        fields[0],
                        first.len()
                    ),
                ));
            }
        }
        fields.push(path.clone());
        columns.push(values);
    }
    let n = columns[0].len();
    let values = (0..n)
        .map(|i| columns.iter().map(|c| Value(c[i].clone())).collect())
        .collect();
    Ok(Dimension {
        kind: DimensionKind::Zip,
        fields,
        values,
    })
}

const SAMPLE_FORMS: &str = "{ uniform = [low, high] }, { loguniform = [low, high] } or \
                            { choice = [values...] }";

fn sample_dimension(sample: &toml::Table) -> Result<Dimension, Invalid> {
    let n = match sample.get("n") {
        Some(v) => positive_int(v)
            .filter(|&n| n <= 10_000_000)
            .ok_or_else(|| {
                (
                    "sample.n".to_string(),
                    format!("{}: must be an integer >= 1", render(v)),
                )
            })?,
        None => {
            return Err(("sample.n".into(), "missing: how many points to draw".into()));
        }
    } as usize;
    let seed = match sample.get("seed") {
        Some(v) => non_negative_int(v).ok_or_else(|| {
            (
                "sample.seed".to_string(),
                format!("{}: must be an integer >= 0", render(v)),
            )
        })?,
        None => 0,
    };
    enum Dist {
        Uniform(f64, f64),
        LogUniform(f64, f64),
        Choice(Vec<toml::Value>),
    }
    let mut fields = Vec::new();
    let mut dists = Vec::new();
    for (path, spec) in sample {
        if path == "n" || path == "seed" {
            continue;
        }
        let at = format!("sample.\"{path}\"");
        check_path(path).map_err(|m| {
            (
                at.clone(),
                format!("{m}; [sample] takes n, seed and \"dotted.path\" = distribution"),
            )
        })?;
        let bad = |why: String| (at.clone(), format!("{}: {why}", render(spec)));
        let toml::Value::Table(t) = spec else {
            return Err(bad(format!("expected {SAMPLE_FORMS}")));
        };
        let mut keys = t.keys();
        let (Some(key), None) = (keys.next(), keys.next()) else {
            return Err(bad(format!("expected {SAMPLE_FORMS}")));
        };
        let args = match t.get(key) {
            Some(toml::Value::Array(a)) => a,
            _ => return Err(bad(format!("{key} takes a list"))),
        };
        let range = |log: bool| -> Result<(f64, f64), Invalid> {
            match args.as_slice() {
                [a, b] => match (number(a), number(b)) {
                    (Some(lo), Some(hi)) if lo <= hi && (!log || lo > 0.0) => Ok((lo, hi)),
                    _ => Err(bad(format!(
                        "{key} needs [low, high] with low <= high{}",
                        if log { " and low > 0" } else { "" }
                    ))),
                },
                _ => Err(bad(format!("{key} needs [low, high]"))),
            }
        };
        let dist = match key.as_str() {
            "uniform" => {
                let (lo, hi) = range(false)?;
                Dist::Uniform(lo, hi)
            }
            "loguniform" => {
                let (lo, hi) = range(true)?;
                Dist::LogUniform(lo, hi)
            }
            "choice" => {
                if args.is_empty() {
                    return Err(bad("choice needs at least one value".into()));
                }
                Dist::Choice(args.clone())
            }
            other => {
                return Err(bad(format!(
                    "unknown distribution `{other}`; expected {SAMPLE_FORMS}"
                )));
            }
        };
        fields.push(path.clone());
        dists.push(dist);
    }
    if fields.is_empty() {
        return Err((
            "sample".into(),
            format!("no fields to sample; add \"dotted.path\" = {SAMPLE_FORMS}"),
        ));
    }
    let values = (0..n)
        .map(|i| {
            dists
                .iter()
                .enumerate()
                .map(|(j, d)| {
                    let u = unit(seed, i, j);
                    Value(match d {
                        Dist::Uniform(lo, hi) => toml::Value::Float(lo + (hi - lo) * u),
                        Dist::LogUniform(lo, hi) => {
                            toml::Value::Float((lo.ln() + (hi.ln() - lo.ln()) * u).exp())
                        }
                        Dist::Choice(list) => {
                            let k = ((u * list.len() as f64) as usize).min(list.len() - 1);
                            list[k].clone()
                        }
                    })
                })
                .collect()
        })
        .collect();
    Ok(Dimension {
        kind: DimensionKind::Sample,
        fields,
        values,
    })
}
