//! One run of a model: build the network, simulate it (or drive its experiment protocol),
//! write the SONATA file, and return the summary that `engram run --json` prints with the
//! experiment's typed results.
//!
//! Used by `engram run` and by every point of `engram sweep`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use engram_experiments::metrics::RecallSize;
use engram_experiments::recall::RecallResults;
use engram_experiments::{Observer, Outcome, run_steps};
use engram_network::Simulation;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use engram_config::Model;
use engram_io::{OutputPath, OutputProblem, Provenance, Publish, ReportOut, RunWriter};

use crate::interrupt::{Interrupted, Interruptible, Signal, SinkError};

/// How to run a model.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The output file: a regular file, or a symbolic link to one (written through), or a
    /// new name (see [`engram_io::output`]).
    pub output: PathBuf,
    /// Whether an existing output file is replaced ([`Publish::Replace`]) or is an error,
    /// also when it appears during the run ([`Publish::Exclusive`]).
    pub publish: Publish,
    /// Worker threads of the simulation.
    pub threads: usize,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
    /// When the run started (counts into the reported wall and build times).
    pub started: Instant,
    /// Extra attributes written on the output's `/engram` group (name, value).
    pub attributes: Vec<(String, String)>,
    /// The command line that started the run, for the provenance (empty: none).
    pub command_line: Vec<String>,
}

impl RunOptions {
    /// Options for a quiet run into `output` (replaced if it exists) on `threads` threads,
    /// starting now.
    pub fn new(output: PathBuf, threads: usize) -> RunOptions {
        RunOptions {
            output,
            publish: Publish::Replace,
            threads,
            progress: false,
            started: Instant::now(),
            attributes: Vec::new(),
            command_line: Vec::new(),
        }
    }
}

/// What [`execute`] returns: the run summary and the experiment's typed results.
#[derive(Debug)]
pub struct RunSummary {
    /// The summary as `engram run --json` prints it; with an experiment, its results are
    /// merged in (serialized from `outcome`).
    pub json: Value,
    /// The typed results of the model's experiment, if it has one.
    pub outcome: Option<Outcome>,
}

/// What went wrong: bad input (exit code 2), a failure while running (exit code 1), or a
/// signal (exit code 128 + signal).
#[derive(Debug)]
pub enum RunError {
    /// The model or the options are not acceptable; nothing was written.
    Input(anyhow::Error),
    /// Something failed while running or writing; the temporary file is removed.
    Runtime(anyhow::Error),
    /// A signal stopped the run (see [`crate::interrupt`]); nothing was written.
    Interrupted {
        /// The signal.
        signal: Signal,
        /// The temporary file that was being written, removed by the time the error is
        /// returned.
        temporary: Option<PathBuf>,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Input(e) | RunError::Runtime(e) => write!(f, "{e:#}"),
            RunError::Interrupted { signal, temporary } => {
                write!(f, "interrupted by {signal}; ")?;
                if let Some(t) = temporary {
                    write!(f, "{} removed; ", t.display())?;
                }
                write!(f, "no output written")
            }
        }
    }
}

impl std::error::Error for RunError {}

impl RunError {
    /// The run was interrupted while `temporary` (if any) was written.
    fn interrupted(i: Interrupted, temporary: Option<&Path>) -> RunError {
        RunError::Interrupted {
            signal: i.0,
            temporary: temporary.map(Path::to_path_buf),
        }
    }
}

/// Checks, before anything runs, that the run may write `path` (see
/// [`engram_io::output`]): bad names, folders that are no folders and existing files that
/// are not regular files are refused, and an existing file unless `publish` is
/// [`Publish::Replace`]. Returns where the file will go.
pub fn check_output(path: &Path, publish: Publish) -> Result<OutputPath, RunError> {
    let refused = |message: String| RunError::Input(crate::FileError::new(path, message).into());
    let output = OutputPath::check(path).map_err(|e| refused(format!("-o {e}")))?;
    if output.exists && publish == Publish::Exclusive {
        return Err(refused(format!(
            "{} exists; pass --force to replace it",
            path.display()
        )));
    }
    Ok(output)
}

/// Maps the error of a run through an [`Interruptible`] writer: an interruption, or a
/// failure to write spikes to `out`.
fn sink_error(e: SinkError<engram_io::Error>, out: &Path, temporary: &Path) -> RunError {
    match e {
        SinkError::Interrupted(i) => RunError::interrupted(i, Some(temporary)),
        SinkError::Sink(e) => RunError::Runtime(
            anyhow::Error::new(e).context(format!("cannot write spikes to {}", out.display())),
        ),
    }
}

/// Peak resident memory of this process (MiB), where the OS tells.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A progress bar over simulation steps, drawn only when asked for and on a terminal: the
/// [`Observer`] of a run.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_draw: Instant,
    total_ms: f64,
}

impl Progress {
    pub(crate) fn new(show: bool, steps: u64, dt_ms: f64) -> Progress {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr_with_hz(10));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {percent:>3}%  {msg}  ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            last_draw: Instant::now(),
            total_ms: steps as f64 * dt_ms,
        }
    }
}

impl Drop for Progress {
    /// Clears the bar, also when the run ends early.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn progress(&mut self, p: engram_experiments::Progress<'_>) {
        let Some(bar) = &self.bar else { return };
        if self.last_draw.elapsed() < Duration::from_millis(100) {
            return;
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let factor = p.time_ms / 1000.0 / elapsed.max(1e-9);
        bar.set_position(p.done);
        bar.set_message(format!(
            "{}t = {:.0} / {:.0} ms  {factor:.2}x realtime",
            p.phase, p.time_ms, self.total_ms
        ));
        self.last_draw = Instant::now();
    }
}

/// Builds, simulates and writes one model; returns the run summary (see `engram run --json`)
/// and the experiment's results.
///
/// The output path is checked first ([`check_output`]). The output folder is created only
/// once the network is built, so a model that fails to build leaves nothing behind; the
/// file itself appears only when complete, and every error or interruption (a signal, see
/// [`crate::interrupt`]) removes the temporary file.
pub fn execute(model: &Model, opts: &RunOptions) -> Result<RunSummary, RunError> {
    let mut progress = Progress::new(opts.progress, model.steps, model.spec.dt_ms);
    execute_observed(model, opts, &mut progress)
}

/// As [`execute`], telling `observer` how far the simulation has got instead of drawing a
/// progress bar (`opts.progress` is not looked at): the Python package passes its callback
/// here. The run itself is the same, bit for bit.
pub fn execute_observed(
    model: &Model,
    opts: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<RunSummary, RunError> {
    let out = &opts.output;
    check_output(out, opts.publish)?;
    if opts.threads == 0 {
        return Err(RunError::Input(anyhow!("--threads 0: give at least 1")));
    }
    let spec = &model.spec;
    let seed = model.config.simulation.seed;
    let build_start = Instant::now();
    let mut sim = Simulation::build(spec, seed, opts.threads)
        .with_context(|| format!("cannot build the network of {}", model.file.display()))
        .map_err(RunError::Input)?;
    // A plain run learns and tags all the time; protocols switch these per phase.
    sim.set_plasticity(true);
    sim.set_tagging(true);
    // The trace written to the file: the same kinetics, integrated again step by step
    // while it is written (streamed, so its memory does not grow with the run).
    let ach_trace = match &model.ach {
        Some((params, effects)) => {
            let kinetics = params
                .kinetics(spec.dt_ms)
                .map_err(|e| RunError::Input(anyhow!("ach.{e}")))?;
            sim.set_acetylcholine(kinetics.clone(), effects.clone());
            Some(kinetics)
        }
        None => None,
    };
    for r in &model.reports {
        sim.add_report(r.clone())
            .context("cannot add a state report")
            .map_err(RunError::Input)?;
    }
    let build_s = build_start.elapsed().as_secs_f64() + (build_start - opts.started).as_secs_f64();
    crate::interrupt::check().map_err(|i| RunError::interrupted(i, None))?;
    let names: Vec<String> = spec.populations.iter().map(|p| p.name.clone()).collect();
    let mut record = vec![false; names.len()];
    for &i in &model.record {
        record[i] = true;
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))
            .map_err(RunError::Input)?;
    }
    let mut writer = RunWriter::create(out, opts.publish, &names, sim.population_ranges(), &record)
        .with_context(|| format!("cannot create {}", out.display()))
        .map_err(RunError::Runtime)?;
    let temporary = writer.temporary_path().to_path_buf();
    let level = model.config.output.compression_level();
    writer.set_compression(
        engram_io::Compression::from_level(level).expect("checked by engram-config"),
    );

    let sim_start = Instant::now();
    // From here on the writer is dropped on every early return: the temporary file goes.
    let experiment = match &model.experiment {
        None => {
            let mut sink = Interruptible::new(&mut writer);
            run_steps(&mut sim, model.steps, model.steps, &mut sink, observer, "")
                .map_err(|e| sink_error(e, out, &temporary))?;
            None
        }
        Some(plan) => {
            let mut sink = Interruptible::new(&mut writer);
            let measured = plan
                .run(&mut sim, &mut sink, observer)
                .map_err(|e| sink_error(e, out, &temporary))?;
            let outcome = plan
                .analyse(spec, &measured)
                .context("cannot compute the recall metrics")
                .map_err(RunError::Runtime)?;
            Some((plan, measured, outcome))
        }
    };
    let sim_s = sim_start.elapsed().as_secs_f64();
    let results_json = experiment
        .as_ref()
        .map(|(_, _, outcome)| serde_json::to_value(outcome).expect("serialisable"));
    if let Some((plan, measured, outcome)) = &experiment {
        let text = serde_json::to_string(results_json.as_ref().expect("set with an experiment"))
            .expect("serialisable");
        writer
            .write_groups(&plan.record(spec, measured, outcome, &text))
            .with_context(|| format!("cannot write the recall results to {}", out.display()))
            .map_err(RunError::Runtime)?;
    }

    let config_path = model
        .file
        .canonicalize()
        .or_else(|_| std::path::absolute(&model.file))
        .unwrap_or_else(|_| model.file.clone());
    let prov = Provenance {
        config_path: config_path.display().to_string(),
        config_text: model.text.clone(),
        config_sha256: model.text_sha256.clone(),
        inputs: model
            .inputs
            .iter()
            .map(|i| (i.path.display().to_string(), i.sha256.clone()))
            .collect(),
        command_line: opts.command_line.clone(),
        seed,
        dt_ms: spec.dt_ms,
        duration_ms: sim.clock().time_ms(model.steps),
        threads: opts.threads,
        build_s,
        sim_s,
        n_synapses: sim.n_synapses(),
        syn_events: sim.syn_events(),
        parameters: opts.attributes.clone(),
    };
    if let Some(mut kinetics) = ach_trace {
        writer
            .write_ach(sim.clock(), model.steps, || kinetics.step())
            .with_context(|| format!("cannot write the ACh trace to {}", out.display()))
            .map_err(RunError::Runtime)?;
    }
    if !model.reports.is_empty() {
        let reports: Vec<ReportOut<'_>> = sim
            .reports()
            .iter()
            .map(|r| ReportOut {
                population: &names[r.spec.population],
                population_index: r.spec.population,
                report: r,
                clock: sim.clock(),
            })
            .collect();
        writer
            .write_reports(&reports)
            .with_context(|| format!("cannot write the state reports to {}", out.display()))
            .map_err(RunError::Runtime)?;
    }
    if model.config.output.weights {
        writer
            .write_weights(spec, &sim)
            .with_context(|| format!("cannot write the weights to {}", out.display()))
            .map_err(RunError::Runtime)?;
    }
    // The last moment to stop: after this the file is published.
    crate::interrupt::check().map_err(|i| RunError::interrupted(i, Some(&temporary)))?;
    let path = writer.finish(&prov).map_err(|e| {
        let hint = match &e {
            engram_io::Error::Output(o) if matches!(o.problem, OutputProblem::Appeared) => {
                " (pass --force to replace it)"
            }
            _ => "",
        };
        RunError::Runtime(anyhow!("cannot finish {}: {e}{hint}", out.display()))
    })?;
    let mut json = summary(model, &sim, &prov, &record, &path, opts);
    if let (Some(Value::Object(extra)), Value::Object(all)) = (results_json, &mut json) {
        all.extend(extra);
    }
    Ok(RunSummary {
        json,
        outcome: experiment.map(|(_, _, outcome)| outcome),
    })
}

/// The run summary as JSON.
fn summary(
    model: &Model,
    sim: &Simulation,
    prov: &Provenance,
    record: &[bool],
    path: &std::path::Path,
    opts: &RunOptions,
) -> Value {
    let spec = &model.spec;
    let wall_s = opts.started.elapsed().as_secs_f64();
    let duration_s = prov.duration_ms / 1000.0;
    let counts = sim.spike_counts();
    let mut pops = serde_json::Map::new();
    for (i, p) in spec.populations.iter().enumerate() {
        let rate = if p.n > 0 && duration_s > 0.0 {
            counts[i] as f64 / f64::from(p.n) / duration_s
        } else {
            0.0
        };
        pops.insert(
            p.name.clone(),
            json!({ "n": p.n, "spikes": counts[i], "rate_hz": rate, "recorded": record[i] }),
        );
    }
    let total_spikes: u64 = counts.iter().sum();
    let n_neurons = spec.n_neurons();
    let sim_s = prov.sim_s;
    json!({
        "config": model.file.display().to_string(),
        "output": path.display().to_string(),
        "seed": prov.seed,
        "threads": opts.threads,
        "dt_ms": spec.dt_ms,
        "duration_ms": prov.duration_ms,
        "n_neurons": n_neurons,
        "n_synapses": sim.n_synapses(),
        "populations": pops,
        "spikes": total_spikes,
        "rate_hz": if n_neurons > 0 && duration_s > 0.0 { total_spikes as f64 / n_neurons as f64 / duration_s } else { 0.0 },
        "syn_events": sim.syn_events(),
        "events_per_s": sim.syn_events() as f64 / sim_s.max(1e-12),
        "build_s": prov.build_s,
        "sim_s": sim_s,
        "wall_s": wall_s,
        "realtime_factor": duration_s / sim_s.max(1e-12),
        "peak_rss_mb": peak_rss_mb(),
    })
}

/// Prints a run summary as the table `engram run` shows, then the experiment's results.
pub fn print_summary(run: &RunSummary) {
    let summary = &run.json;
    let f = |k: &str| summary[k].as_f64().unwrap_or(0.0);
    outln!(
        "{:<16} {:>10} {:>12} {:>10}",
        "population",
        "neurons",
        "spikes",
        "rate (Hz)"
    );
    if let Some(pops) = summary["populations"].as_object() {
        for (name, p) in pops {
            outln!(
                "{:<16} {:>10} {:>12} {:>10.3}",
                name,
                p["n"].as_u64().unwrap_or(0),
                p["spikes"].as_u64().unwrap_or(0),
                p["rate_hz"].as_f64().unwrap_or(0.0)
            );
        }
    }
    outln!();
    outln!("synapses          {:>14}", summary["n_synapses"]);
    outln!(
        "synaptic events   {:>14}  ({:.3e} per s of wall time)",
        summary["syn_events"],
        f("events_per_s")
    );
    outln!("build             {:>12.3} s", f("build_s"));
    outln!(
        "simulate          {:>12.3} s  ({:.2}x realtime, {} threads)",
        f("sim_s"),
        f("realtime_factor"),
        summary["threads"]
    );
    outln!("total             {:>12.3} s", f("wall_s"));
    if let Some(mb) = summary["peak_rss_mb"].as_f64() {
        outln!("peak memory       {:>12.1} MiB", mb);
    }
    outln!(
        "output            {}",
        summary["output"].as_str().unwrap_or("")
    );
    match &run.outcome {
        Some(Outcome::Recall(results)) => print_recall(results),
        None => {}
    }
}

/// A metric where it is defined: `None` for a missing or non-finite value (which the JSON
/// summary holds as `null`).
fn defined(x: Option<f64>) -> Option<f64> {
    x.filter(|x| x.is_finite())
}

/// A metric with three decimals, or `-` where it is not [`defined`].
fn metric(x: impl Into<Option<f64>>) -> String {
    defined(x.into()).map_or("-".to_string(), |x| format!("{x:.3}"))
}

/// Prints the recall metrics of a `[experiment] kind = "recall"` run. Metrics that hold by
/// construction are marked "sanity check".
fn print_recall(results: &RecallResults) {
    let r = &results.summary;
    let sensory = &r.sensory;
    let n = r.n_memories;
    let (fidelity_min, fidelity_min_memory) = sensory.fidelity_min();
    outln!();
    outln!("recall of {n} memories");
    outln!(
        "  identification accuracy  {:>7}   (chance {:.3}; {} identified, {} weak, {} silent)",
        metric(r.identification_accuracy),
        1.0 / n.max(1) as f64,
        sensory.identified.iter().filter(|&&x| x).count(),
        sensory.count(RecallSize::Weak),
        sensory.count(RecallSize::Silent)
    );
    outln!(
        "    identified = fidelity row peaks at the cued memory AND >= {} of its encoded \
         sensory ensemble fires, above spontaneous activity (p < {})",
        metric(r.min_recall_fraction),
        results.significance
    );
    if results.content_cue.is_some() {
        outln!(
            "    content cue: the sensory recall includes the cued cells, which the stimulus \
             drives; see completion below"
        );
    }
    outln!(
        "  best fidelity match      {:>7}   (the fidelity part alone, without the size rule)",
        metric(sensory.best_match_accuracy())
    );
    outln!(
        "  fidelity, sensory        {:>7}   Pearson, recalled vs encoded counts (min {}, memory {});  cosine {}",
        metric(sensory.fidelity_mean()),
        metric(fidelity_min),
        fidelity_min_memory,
        metric(r.fidelity_cosine_mean)
    );
    outln!(
        "  specificity              {:>7}",
        metric(r.specificity_mean)
    );
    outln!(
        "  Jaccard, recalled-own    {:>7}   (between memories' ensembles {}; random sets {})",
        metric(r.jaccard_mean),
        metric(r.jaccard_between_memories),
        metric(r.jaccard_chance)
    );
    for l in &results.per_layer {
        let sanity = if l.sanity_check.is_some() {
            "   [sanity check: by construction]"
        } else {
            ""
        };
        outln!(
            "  layer {:<12}       fidelity {} (min {})  identification {}  \
             spontaneous {:.1} Hz{sanity}",
            l.population,
            metric(l.fidelity_mean),
            metric(l.fidelity_min),
            metric(l.identification_accuracy),
            l.spontaneous_hz
        );
    }
    let lat = &r.latency_ms;
    let parts: Vec<String> = lat
        .iter()
        .map(|l| {
            format!(
                "{} {} ({}/{})",
                l.population,
                defined(l.mean_ms).map_or("none".to_string(), |x| format!("{x:.1} ms")),
                l.found,
                l.recalls
            )
        })
        .collect();
    outln!("  latency from cue         {}", parts.join(" < "));
    outln!(
        "    onset = first {} ms bin after the cue above the layer's spontaneous rate \
         (p < {} per window; baseline {} ms without stimulus or cue)",
        results.bin_ms,
        results.significance,
        results.baseline_ms
    );
    let below = match r.latency_ordered_below_pointer {
        Some(true) => "ordered",
        Some(false) => "NOT ordered",
        None => "n/a (one layer below the pointer layer)",
    };
    let mean = |k: usize| lat.get(k).and_then(|l| defined(l.mean_ms));
    let pointer_first = match (mean(0), mean(1)) {
        (Some(a), Some(b)) if a < b => "yes",
        _ => "no",
    };
    let why = if results.content_cue.is_some() {
        "a result: the content cue enters the sensory layer"
    } else {
        "sanity check: the cue enters it"
    };
    outln!("  flow below the pointer   {below}   (pointer first: {pointer_first}, {why})");
    if let Some(c) = &results.content_cue {
        outln!(
            "  content cue              {} of each pattern's active cells for {} ms; {} of the \
             cued cells fired",
            metric(c.fraction),
            c.duration_ms,
            metric(c.cued_fired_mean())
        );
        let (min, min_memory) = c.completion_min().unzip();
        outln!(
            "  completion, sensory      {:>7}   (min {}, memory {}) of the uncued pattern cells \
             fire; false completion {} (max {}) of the other cells",
            metric(c.completion_mean()),
            metric(min),
            min_memory.map_or("-".to_string(), |m| m.to_string()),
            metric(c.false_completion_mean()),
            metric(c.false_completion_max())
        );
        outln!(
            "    fires = at least {} spikes in the recall window (above spontaneous activity, \
             p < {})",
            c.completion.min_spikes,
            results.significance
        );
        outln!(
            "    with one spike or more: completion {}, false completion {} (spontaneous \
             activity alone: {})",
            metric(c.any_spike_completion_mean()),
            metric(c.any_spike_false_completion_mean()),
            metric(c.spontaneous_p)
        );
    }
    outln!(
        "  naming accuracy          {:>7}",
        metric(r.naming_accuracy)
    );
}
