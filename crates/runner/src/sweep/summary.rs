//! The summary of a sweep: one row per point, from the point files alone, written as CSV
//! and HDF5.
//!
//! Columns: `index, repeat, seed`, one per swept field (the value as TOML text; strings
//! bare), `status` (`done`, `failed` or `missing`), then every scalar leaf of the run's
//! `--json` summary by dotted path (`populations.E.rate_hz`), in the order they first
//! appear; booleans are 1 and 0, strings and lists are left out. The timing fields
//! ([`TIMING_FIELDS`], at any depth) differ from run to run: they go to `timings.csv`
//! instead, so `summary.csv` is the same byte for byte whenever the points are.

use std::path::Path;

use engram_config::Value as ConfigValue;
use engram_io::{Column, SummaryTable, write_summary_table};
use serde_json::Value;

use super::SweepError;
use super::store::{Layout, Manifest, PointState, point_state, write_atomic};

/// Last parts of the summary paths that hold times or memory: they vary between runs.
pub const TIMING_FIELDS: &[&str] = &[
    "wall_s",
    "build_s",
    "sim_s",
    "write_s",
    "events_per_s",
    "realtime_factor",
    "peak_rss_mb",
];

/// Top-level summary fields that are not metrics (the seed has its own column).
const NOT_METRICS: &[&str] = &["seed"];

/// The status of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Finished.
    Done,
    /// Failed (see `points/<index>.error`).
    Failed,
    /// Not run yet, or interrupted.
    Missing,
}

impl Status {
    /// The status as written in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Missing => "missing",
        }
    }
}

/// One point's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Point index.
    pub index: usize,
    /// Repeat.
    pub repeat: u64,
    /// Seed.
    pub seed: u64,
    /// Values of the swept fields, as TOML text.
    pub params: Vec<String>,
    /// Done, failed or missing.
    pub status: Status,
    /// The error of a failed point.
    pub error: Option<String>,
    /// Scalar metrics by dotted path.
    pub metrics: Values,
    /// Timing fields by dotted path.
    pub timings: Values,
}

/// Named values: `(dotted path, value)`.
pub type Values = Vec<(String, f64)>;

/// Splits the scalar leaves of a run summary into metrics and timings.
pub fn flatten(summary: &Value) -> (Values, Values) {
    fn walk(
        v: &Value,
        prefix: &str,
        metrics: &mut Vec<(String, f64)>,
        timings: &mut Vec<(String, f64)>,
    ) {
        let Value::Object(map) = v else { return };
        for (k, v) in map {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if prefix.is_empty() && NOT_METRICS.contains(&k.as_str()) {
                continue;
            }
            let x = match v {
                Value::Number(n) => n.as_f64(),
                Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                Value::Object(_) => {
                    walk(v, &path, metrics, timings);
                    None
                }
                _ => None,
            };
            if let Some(x) = x {
                if TIMING_FIELDS.contains(&k.as_str()) {
                    timings.push((path, x));
                } else {
                    metrics.push((path, x));
                }
            }
        }
    }
    let mut metrics = Vec::new();
    let mut timings = Vec::new();
    walk(summary, "", &mut metrics, &mut timings);
    (metrics, timings)
}

/// The rows of the points `indices`, read from the point files of `layout`.
pub fn rows(manifest: &Manifest, layout: &Layout, indices: &[usize]) -> Vec<Row> {
    indices
        .iter()
        .map(|&i| {
            let p = &manifest.points[i];
            let mut row = Row {
                index: i,
                repeat: p.repeat,
                seed: p.seed,
                params: p.params.clone(),
                status: Status::Missing,
                error: None,
                metrics: Vec::new(),
                timings: Vec::new(),
            };
            match point_state(layout, i) {
                PointState::Done(v) => {
                    let (m, t) = flatten(&v["summary"]);
                    row.status = Status::Done;
                    row.metrics = m;
                    row.timings = t;
                }
                PointState::Failed(e) => {
                    row.status = Status::Failed;
                    row.error = Some(e);
                }
                PointState::Missing => {}
            }
            row
        })
        .collect()
}

/// Names of a set of columns, in the order they first appear in `rows`.
fn column_names(rows: &[Row], pick: impl Fn(&Row) -> &[(String, f64)]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in rows {
        for (k, _) in pick(r) {
            if seen.insert(k.clone()) {
                names.push(k.clone());
            }
        }
    }
    names
}

/// The metric columns of `rows`.
pub fn metric_names(rows: &[Row]) -> Vec<String> {
    column_names(rows, |r| &r.metrics)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn lookup(pairs: &[(String, f64)], key: &str) -> Option<f64> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// A cell of a swept field: strings bare, everything else as TOML.
fn param_cell(text: &str) -> String {
    ConfigValue::parse(text).render_plain()
}

/// The summary as CSV text.
pub fn csv(fields: &[String], rows: &[Row]) -> String {
    let metrics = metric_names(rows);
    let mut out = String::new();
    let head: Vec<String> = ["index", "repeat", "seed"]
        .iter()
        .map(|s| s.to_string())
        .chain(fields.iter().cloned())
        .chain(std::iter::once("status".to_string()))
        .chain(metrics.iter().cloned())
        .map(|s| csv_field(&s))
        .collect();
    out.push_str(&head.join(","));
    out.push('\n');
    for r in rows {
        let mut cells = vec![
            r.index.to_string(),
            r.repeat.to_string(),
            r.seed.to_string(),
        ];
        cells.extend(r.params.iter().map(|p| csv_field(&param_cell(p))));
        cells.push(r.status.name().to_string());
        cells.extend(
            metrics
                .iter()
                .map(|m| lookup(&r.metrics, m).map_or(String::new(), |x| x.to_string())),
        );
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The timings as CSV text: `index`, then every timing field.
pub fn timings_csv(rows: &[Row]) -> String {
    let names = column_names(rows, |r| &r.timings);
    let mut out = std::iter::once("index".to_string())
        .chain(names.iter().map(|s| csv_field(s)))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in rows.iter().filter(|r| r.status == Status::Done) {
        let cells: Vec<String> = std::iter::once(r.index.to_string())
            .chain(
                names
                    .iter()
                    .map(|m| lookup(&r.timings, m).map_or(String::new(), |x| x.to_string())),
            )
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Writes the summary as HDF5 through `engram_io` (see [`engram_io::write_summary_table`]):
/// `/parameters/<field>` is f64 when every value is a number, else TOML text, and
/// `/metrics/<path>` is NaN where a point has no value.
pub fn write_h5(path: &Path, fields: &[String], rows: &[Row]) -> Result<(), SweepError> {
    let parameters = fields
        .iter()
        .enumerate()
        .map(|(k, field)| {
            let numbers: Option<Vec<f64>> = rows
                .iter()
                .map(|r| ConfigValue::parse(&r.params[k]).as_number())
                .collect();
            let column = match numbers {
                Some(x) => Column::Numbers(x),
                None => Column::Text(rows.iter().map(|r| r.params[k].clone()).collect()),
            };
            (field.clone(), column)
        })
        .collect();
    let metrics = metric_names(rows)
        .into_iter()
        .map(|m| {
            let x = rows
                .iter()
                .map(|r| lookup(&r.metrics, &m).unwrap_or(f64::NAN))
                .collect();
            (m, x)
        })
        .collect();
    let table = SummaryTable {
        index: rows.iter().map(|r| r.index as u64).collect(),
        repeat: rows.iter().map(|r| r.repeat).collect(),
        seed: rows.iter().map(|r| r.seed).collect(),
        status: rows.iter().map(|r| r.status.name().to_string()).collect(),
        parameters,
        metrics,
    };
    write_summary_table(path, &table)
        .map_err(|e| SweepError::Runtime(format!("cannot write {}: {e}", path.display())))
}

/// Writes `<stem>.csv`, `<stem>.h5` and `timings<suffix>.csv` for `rows` into the sweep
/// folder, where `suffix` is what follows `summary` in `stem` (`.shard-0-of-2`).
pub fn write_all(
    layout: &Layout,
    manifest: &Manifest,
    rows: &[Row],
    suffix: &str,
) -> Result<Vec<std::path::PathBuf>, SweepError> {
    let csv_path = layout.dir.join(format!("summary{suffix}.csv"));
    let h5_path = layout.dir.join(format!("summary{suffix}.h5"));
    let timings_path = layout.dir.join(format!("timings{suffix}.csv"));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| SweepError::Runtime(format!("cannot write {}: {e}", p.display()))
    };
    write_atomic(&csv_path, csv(&manifest.fields, rows).as_bytes()).map_err(io(&csv_path))?;
    write_h5(&h5_path, &manifest.fields, rows)?;
    write_atomic(&timings_path, timings_csv(rows).as_bytes()).map_err(io(&timings_path))?;
    Ok(vec![csv_path, h5_path, timings_path])
}
