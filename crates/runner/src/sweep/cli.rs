//! The `engram sweep` and `engram merge` commands: options, shards, progress, printing.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use engram_config::sweep::points::{Sweep, describe};
use engram_config::sweep::spec::Point;

use super::SweepError;
use super::exec::{Observer, Outcome, run_points};
use super::store::{self, Existing, Layout, Manifest, PointState, check_dir, point_state};
use super::summary::{self, Status};

/// Options of `engram sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// The sweep file (see the README: `base`, `repeats`, `[axes]`, `[zip]`, `[sample]`).
    pub file: PathBuf,
    /// The sweep folder. Default: `results/<sweep file stem>/`.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Points run at once. Default: all cores.
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// Keep the finished points of an interrupted sweep in the folder and run the rest.
    #[arg(long)]
    pub resume: bool,
    /// Run every point again; in a folder of another sweep, delete its points first.
    #[arg(long)]
    pub force: bool,
    /// Run only the points with index % N == I (0-based I). Default: from
    /// SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT when set.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Check every point and print the points table; run and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run even when the points running at once would need more memory than this machine
    /// has.
    #[arg(long)]
    pub no_memory_check: bool,
    /// No progress and no per-point lines.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print one JSON object on stdout (the points table with --dry-run).
    #[arg(long)]
    pub json: bool,
}

/// A shard: the points with `index % count == index_of_shard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard (0-based).
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` (0 <= I < N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text}: expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Slurm array task, from `SLURM_ARRAY_TASK_ID`,
    /// `SLURM_ARRAY_TASK_COUNT` and `SLURM_ARRAY_TASK_MIN` (the id of the first task, so
    /// `--array=1-16` works as well as `--array=0-15`); `None` outside an array job.
    pub fn from_slurm(env: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>, String> {
        let Some(id) = env("SLURM_ARRAY_TASK_ID") else {
            return Ok(None);
        };
        let num = |name: &str| -> Result<Option<usize>, String> {
            match env(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{name}={v}: not a number")),
            }
        };
        let id: usize = id
            .trim()
            .parse()
            .map_err(|_| format!("SLURM_ARRAY_TASK_ID={id}: not a number"))?;
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard I/N",
        )?;
        let index = id.checked_sub(min).filter(|&i| i < count).ok_or_else(|| {
            format!(
                "SLURM_ARRAY_TASK_ID={id} with SLURM_ARRAY_TASK_MIN={min} and \
                 SLURM_ARRAY_TASK_COUNT={count} is no shard: use a contiguous array \
                 (--array=0-{}) or pass --shard I/N",
                count.saturating_sub(1)
            )
        })?;
        Ok(Some(Shard { index, count }))
    }

    /// `.shard-I-of-N`, the suffix of the shard's summary files.
    pub fn suffix(&self) -> String {
        format!(".shard-{}-of-{}", self.index, self.count)
    }
}

/// The folder a sweep writes to by default: `results/<sweep file stem>/`.
pub fn default_dir(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    PathBuf::from("results").join(stem)
}

/// `engram sweep`: see [`super`].
pub fn sweep(args: &SweepArgs) -> Result<(), SweepError> {
    let started = Instant::now();
    if args.resume && args.force {
        return Err(SweepError::Input(
            "--resume keeps finished points and --force runs them again: give one".into(),
        ));
    }
    let jobs = match args.jobs {
        Some(0) => return Err(SweepError::Input("--jobs 0: give at least 1".into())),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let memory = if args.no_memory_check {
        None
    } else {
        crate::resources::machine_limit()
    };
    let sweep = Sweep::load_with(&args.file, memory.as_ref(), Some(crate::read_spike_file))?;
    let (shard, shard_origin) = match &args.shard {
        Some(s) => (Some(Shard::parse(s).map_err(SweepError::Input)?), "--shard"),
        None => (
            Shard::from_slurm(|k| std::env::var(k).ok()).map_err(SweepError::Input)?,
            "the Slurm array task",
        ),
    };
    let selected: Vec<usize> = (0..sweep.points.len())
        .filter(|i| shard.is_none_or(|s| i % s.count == s.index))
        .collect();
    if args.dry_run {
        print_points(&sweep, &selected, args.json);
        return Ok(());
    }
    // The largest point as many times as points run at once.
    let at_once = jobs.min(selected.len()).max(1);
    let mut need = engram_core::memory::MemoryEstimate::new();
    for _ in 0..at_once {
        need.extend(&sweep.largest);
    }
    need.check(memory.as_ref()).map_err(|e| {
        SweepError::File(crate::FileError::new(
            &args.file,
            format!(
                "{}: {at_once} point(s) at once {e}; lower --jobs, make the points smaller, \
                 or pass --no-memory-check",
                args.file.display()
            ),
        ))
    })?;
    let dir = args
        .output
        .clone()
        .unwrap_or_else(|| default_dir(&args.file));
    let manifest = Manifest::of(&sweep);
    let layout = Layout::new(&dir, sweep.points.len());
    let existing = check_dir(&layout, &manifest, &selected, args.resume, args.force)?;

    // Everything is checked: from here on, write.
    let io = |what: &Path| {
        let what = what.to_path_buf();
        move |e: std::io::Error| {
            SweepError::Runtime(format!("cannot write {}: {e}", what.display()))
        }
    };
    if existing == Existing::Replace {
        store::clear_dir(&dir).map_err(io(&dir))?;
    }
    // The manifest first: shards starting at the same time into one folder see either no
    // folder, only temporary files, or the manifest.
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let manifest_text = serde_json::to_string_pretty(&manifest).expect("serialisable");
    store::write_atomic(&layout.manifest(), manifest_text.as_bytes())
        .map_err(io(&layout.manifest()))?;
    store::write_atomic(&layout.sweep_copy(), sweep.text.as_bytes())
        .map_err(io(&layout.sweep_copy()))?;
    std::fs::create_dir_all(layout.points_dir()).map_err(io(&layout.points_dir()))?;
    // What killed runs of these points left (only these: other shards write theirs).
    let removed = layout.clear_temporaries(&selected).map_err(|e| {
        SweepError::Runtime(format!(
            "cannot remove old temporary files in {}: {e}",
            layout.points_dir().display()
        ))
    })?;
    if !args.quiet {
        for l in &removed {
            eprintln!(
                "removed {}, a temporary file of an interrupted run",
                l.path.display()
            );
        }
    }

    let (skipped, to_run): (Vec<usize>, Vec<usize>) = selected
        .iter()
        .partition(|&&i| args.resume && matches!(point_state(&layout, i), PointState::Done(_)));
    let show = !args.quiet && !args.json;
    if show {
        if let Some(s) = shard {
            eprintln!(
                "shard {}/{} (from {shard_origin}): {} of {} points",
                s.index,
                s.count,
                selected.len(),
                sweep.points.len()
            );
        }
        if !skipped.is_empty() {
            eprintln!(
                "{} point(s) already done in {}; running the other {}",
                skipped.len(),
                dir.display(),
                to_run.len()
            );
        }
    }
    let progress = Progress::new(show, to_run.len(), layout.clone());
    let outcomes = run_points(&sweep, &layout, &to_run, jobs, &progress)?;
    progress.finish();
    if let Some(signal) = crate::interrupt::received() {
        let stopped = outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Interrupted(_)))
            .count();
        if stopped > 0 || outcomes.len() < to_run.len() {
            let done = selected
                .iter()
                .filter(|&&i| matches!(point_state(&layout, i), PointState::Done(_)))
                .count();
            return Err(SweepError::Interrupted(
                signal,
                format!(
                    "interrupted by {signal}; {stopped} running point(s) stopped and their \
                     temporary files removed; {done} of {} point(s) done in {} (run the sweep \
                     again with --resume to finish)",
                    selected.len(),
                    dir.display()
                ),
            ));
        }
    }

    let rows = summary::rows(&manifest, &layout, &selected);
    let suffix = shard.map_or(String::new(), |s| s.suffix());
    let written = summary::write_all(&layout, &manifest, &rows, &suffix)?;
    let failed: Vec<(usize, String)> = outcomes
        .iter()
        .filter_map(|(i, o)| match o {
            Outcome::Failed(e) => Some((*i, e.clone())),
            Outcome::Done { .. } | Outcome::Interrupted(_) => None,
        })
        .collect();
    let done = rows.iter().filter(|r| r.status == Status::Done).count();
    if args.json {
        let out = json!({
            "dir": dir.display().to_string(),
            "sweep": args.file.display().to_string(),
            "points": sweep.points.len(),
            "shard": shard.map(|s| format!("{}/{}", s.index, s.count)),
            "selected": selected.len(),
            "ran": to_run.len(),
            "skipped": skipped.len(),
            "done": done,
            "failed": failed.iter().map(|(i, e)| json!({ "index": i, "error": e })).collect::<Vec<_>>(),
            "summary": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "jobs": jobs,
            "wall_s": started.elapsed().as_secs_f64(),
        });
        crate::print_json(&out);
    } else if !args.quiet {
        outln!(
            "{}: {} point(s), {} done ({} already), {} failed, in {:.1} s with {jobs} job(s)",
            dir.display(),
            selected.len(),
            done,
            skipped.len(),
            failed.len(),
            started.elapsed().as_secs_f64()
        );
        for p in &written {
            outln!("  {}", p.display());
        }
        if shard.is_some() {
            outln!("  when every shard is done: engram merge {}", dir.display());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(SweepError::Runtime(failure_list(&layout, &failed)))
    }
}

fn failure_list(layout: &Layout, failed: &[(usize, String)]) -> String {
    let mut msg = format!(
        "{} point(s) failed (errors in {}/<index>.error):",
        failed.len(),
        layout.points_dir().display()
    );
    for (i, e) in failed.iter().take(20) {
        let first = e.lines().next().unwrap_or("");
        msg.push_str(&format!("\n  point {i}: {first}"));
    }
    if failed.len() > 20 {
        msg.push_str(&format!("\n  ... and {} more", failed.len() - 20));
    }
    msg
}

/// `engram sweep --dry-run`: the points table.
fn print_points(sweep: &Sweep, selected: &[usize], as_json: bool) {
    let fields: Vec<String> = sweep
        .spec
        .dimensions
        .iter()
        .flat_map(|d| d.fields.iter().cloned())
        .collect();
    if as_json {
        let points: Vec<serde_json::Value> = selected
            .iter()
            .map(|&i| {
                let p = &sweep.points[i];
                let params: serde_json::Map<String, serde_json::Value> = p
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v.render())))
                    .collect();
                json!({ "index": p.index, "repeat": p.repeat, "seed": p.seed, "parameters": params })
            })
            .collect();
        let out = json!({ "sweep": sweep.spec.file.display().to_string(), "base": sweep.spec.base.display().to_string(), "points": points });
        outln!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serialisable")
        );
        return;
    }
    let mut table: Vec<Vec<String>> = vec![
        ["index", "repeat", "seed"]
            .iter()
            .map(|s| s.to_string())
            .chain(fields.iter().cloned())
            .collect(),
    ];
    for &i in selected {
        let p = &sweep.points[i];
        table.push(
            [
                p.index.to_string(),
                p.repeat.to_string(),
                p.seed.to_string(),
            ]
            .into_iter()
            .chain(p.params.iter().map(|(_, v)| v.render_plain()))
            .collect(),
        );
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:>w$}"))
            .collect();
        outln!("{}", line.join("  ").trim_end());
    }
    outln!(
        "{} of {} points; base {}",
        selected.len(),
        sweep.points.len(),
        sweep.spec.base.display()
    );
}

/// Progress of a sweep on stderr: on a terminal, an overall bar and a line per running
/// point; otherwise one line per finished point.
struct Progress {
    show: bool,
    layout: Layout,
    total: usize,
    bars: Option<(MultiProgress, ProgressBar)>,
    running: Mutex<HashMap<usize, ProgressBar>>,
    counts: Mutex<(usize, usize)>,
}

impl Progress {
    fn new(show: bool, total: usize, layout: Layout) -> Progress {
        let bars = (show && std::io::stderr().is_terminal()).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            let overall = multi.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "[{bar:30}] {pos}/{len} points  {msg}  {elapsed_precise}  ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            overall.set_message("0 failed");
            overall.enable_steady_tick(Duration::from_millis(200));
            (multi, overall)
        });
        Progress {
            show,
            layout,
            total,
            bars,
            running: Mutex::new(HashMap::new()),
            counts: Mutex::new((0, 0)),
        }
    }

    fn finish(self) {
        if let Some((multi, overall)) = self.bars {
            overall.finish_and_clear();
            let _ = multi.clear();
        }
    }
}

impl Observer for Progress {
    fn started(&self, p: &Point) {
        let Some((multi, _)) = &self.bars else { return };
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {msg}  {elapsed}").expect("valid template"),
        );
        bar.set_message(format!(
            "point {}  {}",
            self.layout.name(p.index),
            describe(p)
        ));
        bar.enable_steady_tick(Duration::from_millis(200));
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(p.index, bar);
    }

    fn finished(&self, p: &Point, outcome: &Outcome) {
        let (done, failed) = {
            let mut c = self
                .counts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match outcome {
                Outcome::Done { .. } => c.0 += 1,
                Outcome::Failed(_) => c.1 += 1,
                Outcome::Interrupted(_) => {}
            }
            *c
        };
        if let Some((multi, overall)) = &self.bars {
            if let Some(bar) = self
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&p.index)
            {
                bar.finish_and_clear();
                multi.remove(&bar);
            }
            if let Outcome::Failed(e) = outcome {
                let _ = multi.println(format!(
                    "point {} failed: {}",
                    p.index,
                    e.lines().next().unwrap_or("")
                ));
            }
            overall.set_message(format!("{failed} failed"));
            overall.inc(1);
        } else if self.show {
            match outcome {
                Outcome::Done { wall_s } => eprintln!(
                    "point {} done in {wall_s:.2} s ({}/{}; {})",
                    p.index,
                    done + failed,
                    self.total,
                    describe(p)
                ),
                Outcome::Failed(e) => eprintln!(
                    "point {} failed ({}/{}; {}): {}",
                    p.index,
                    done + failed,
                    self.total,
                    describe(p),
                    e.lines().next().unwrap_or("")
                ),
                Outcome::Interrupted(_) => {}
            }
        }
    }
}

/// `engram merge DIR`: the full summary from the point files of every shard.
pub fn merge(dir: &Path, as_json: bool, quiet: bool) -> Result<(), SweepError> {
    let manifest = Manifest::read(dir)?;
    let layout = manifest.layout(dir);
    let all: Vec<usize> = (0..manifest.points.len()).collect();
    let rows = summary::rows(&manifest, &layout, &all);
    let written = summary::write_all(&layout, &manifest, &rows, "")?;
    let of = |s: Status| -> Vec<usize> {
        rows.iter()
            .filter(|r| r.status == s)
            .map(|r| r.index)
            .collect()
    };
    let (done, failed, missing) = (of(Status::Done), of(Status::Failed), of(Status::Missing));
    if as_json {
        let out = json!({
            "dir": dir.display().to_string(),
            "points": rows.len(),
            "done": done.len(),
            "failed": failed,
            "missing": missing,
            "summary": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        crate::print_json(&out);
    } else if !quiet {
        outln!(
            "{}: {} points, {} done, {} failed, {} missing",
            dir.display(),
            rows.len(),
            done.len(),
            failed.len(),
            missing.len()
        );
        for p in &written {
            outln!("  {}", p.display());
        }
    }
    if failed.is_empty() && missing.is_empty() {
        return Ok(());
    }
    let list = |v: &[usize]| {
        let mut s = v
            .iter()
            .take(50)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if v.len() > 50 {
            s.push_str(&format!(", ... ({} in all)", v.len()));
        }
        s
    };
    let mut msg = String::from("the summary is incomplete:");
    if !missing.is_empty() {
        msg.push_str(&format!(
            "\n  missing points (not run, or interrupted; run the sweep again with --resume): {}",
            list(&missing)
        ));
    }
    if !failed.is_empty() {
        msg.push_str(&format!(
            "\n  failed points (errors in {}/<index>.error): {}",
            layout.points_dir().display(),
            list(&failed)
        ));
    }
    Err(SweepError::Runtime(msg))
}
