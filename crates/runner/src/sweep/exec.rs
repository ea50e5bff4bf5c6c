//! Running the points of a sweep on a pool of workers.
//!
//! `jobs` workers take the points in index order from a shared counter, so what runs when
//! depends on scheduling, but nothing a point computes does: its seed and parameters are
//! fixed by the sweep file. Each point writes `points/<index>.h5` (atomically, by the run
//! itself) and then `points/<index>.json` (atomically): a point killed at any moment
//! leaves no `.json`, and is run again by `--resume`. A signal (see
//! [`crate::interrupt`]) stops the running points, whose temporary files are removed, and
//! no new point starts; the finished points stay.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::json;

use engram_config::sweep::points::Sweep;
use engram_config::sweep::spec::Point;

use super::SweepError;
use super::store::{Layout, write_atomic};
use crate::interrupt::{self, Signal};
use crate::run::{RunError, RunOptions, execute};

/// How a point ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Its output and summary are written.
    Done {
        /// Wall time of the point (s).
        wall_s: f64,
    },
    /// It failed; the error is also in `points/<index>.error`.
    Failed(String),
    /// A signal stopped it; it left no file and is run again by `--resume`.
    Interrupted(Signal),
}

/// Told when points start and end (from the worker threads).
pub trait Observer: Sync {
    /// Point `p` starts.
    fn started(&self, p: &Point);
    /// Point `p` ended.
    fn finished(&self, p: &Point, outcome: &Outcome);
}

/// An observer that does nothing.
pub struct Silent;

impl Observer for Silent {
    fn started(&self, _: &Point) {}
    fn finished(&self, _: &Point, _: &Outcome) {}
}

/// Runs the points `indices` of `sweep` into `layout` on `jobs` workers; returns each
/// point's outcome, in index order. A failing point does not stop the others; a signal
/// stops them all, and the points that had not started have no outcome.
pub fn run_points(
    sweep: &Sweep,
    layout: &Layout,
    indices: &[usize],
    jobs: usize,
    observer: &dyn Observer,
) -> Result<Vec<(usize, Outcome)>, SweepError> {
    std::fs::create_dir_all(layout.points_dir()).map_err(|e| {
        SweepError::Runtime(format!(
            "cannot create {}: {e}",
            layout.points_dir().display()
        ))
    })?;
    let workers = jobs.max(1).min(indices.len().max(1));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("sweep-{i}"))
        .build()
        .map_err(|e| SweepError::Runtime(format!("cannot start {workers} workers: {e}")))?;
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(indices.len()));
    pool.scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| {
                loop {
                    if interrupt::received().is_some() {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = indices.get(k) else { break };
                    let p = &sweep.points[i];
                    observer.started(p);
                    let outcome = run_point(sweep, layout, p);
                    observer.finished(p, &outcome);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((i, outcome));
                }
            });
        }
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(i, _)| *i);
    Ok(results)
}

/// The attributes written under `/engram/parameters` of a point's output.
pub fn attributes(p: &Point) -> Vec<(String, String)> {
    let mut a: Vec<(String, String)> = p
        .params
        .iter()
        .map(|(k, v)| (k.clone(), v.render()))
        .collect();
    a.push(("sweep.index".into(), p.index.to_string()));
    a.push(("sweep.repeat".into(), p.repeat.to_string()));
    a.push(("sweep.seed".into(), p.seed.to_string()));
    a
}

/// Runs one point and records its outcome in the folder.
fn run_point(sweep: &Sweep, layout: &Layout, p: &Point) -> Outcome {
    let started = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        try_point(sweep, layout, p, started)
    }))
    .unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(PointError::Failed(format!("the run panicked: {what}")))
    });
    match result {
        Ok(()) => Outcome::Done {
            wall_s: started.elapsed().as_secs_f64(),
        },
        Err(PointError::Interrupted(signal)) => Outcome::Interrupted(signal),
        Err(PointError::Failed(message)) => {
            // Best effort: the error is also reported at the end of the sweep.
            let _ = write_atomic(&layout.error(p.index), format!("{message}\n").as_bytes());
            Outcome::Failed(message)
        }
    }
}

/// Why a point did not finish.
enum PointError {
    /// It failed.
    Failed(String),
    /// A signal stopped it.
    Interrupted(Signal),
}

impl From<String> for PointError {
    fn from(message: String) -> Self {
        PointError::Failed(message)
    }
}

fn try_point(
    sweep: &Sweep,
    layout: &Layout,
    p: &Point,
    started: Instant,
) -> Result<(), PointError> {
    layout
        .clear_point(p.index)
        .map_err(|e| format!("cannot clear the old files of the point: {e}"))?;
    let model = sweep.model(p).map_err(|e| e.to_string())?;
    let opts = RunOptions {
        attributes: attributes(p),
        started,
        // The sweep's command line: the point is one part of it.
        command_line: std::env::args().collect(),
        ..RunOptions::new(layout.h5(p.index), sweep.spec.threads)
    };
    let summary = execute(&model, &opts)
        .map_err(|e| match e {
            RunError::Input(e) | RunError::Runtime(e) => PointError::Failed(format!("{e:#}")),
            RunError::Interrupted { signal, .. } => PointError::Interrupted(signal),
        })?
        .json;
    let parameters: serde_json::Map<String, serde_json::Value> = p
        .params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.render())))
        .collect();
    let record = json!({
        "index": p.index,
        "repeat": p.repeat,
        "seed": p.seed,
        "parameters": parameters,
        "summary": summary,
    });
    let text = serde_json::to_string_pretty(&record).expect("serialisable");
    write_atomic(&layout.json(p.index), text.as_bytes()).map_err(|e| {
        PointError::Failed(format!(
            "cannot write {}: {e}",
            layout.json(p.index).display()
        ))
    })
}
