//! The `engram` command line: run, check and inspect simulations.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use engram::config::{self, ConfigError};
use engram::output::{self, Provenance, SpikeWriter};
use engram_network::Simulation;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

/// engram: a fast, exact, reproducible spiking-network simulator.
#[derive(Parser)]
#[command(name = "engram", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a network described by a TOML config and write a SONATA spike file.
    Run(RunArgs),
    /// Validate a config; print neurons, synapses and a memory estimate.
    Check {
        /// The config file.
        config: PathBuf,
        /// Override a field: `--set path.to.field=value` (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Threads the run would use (changes the memory estimate a little).
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Show populations, spike counts, rates, config and provenance of an output file.
    Inspect {
        /// An HDF5 file written by `engram run`.
        file: PathBuf,
        /// Print the config text too.
        #[arg(long)]
        config: bool,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Draw PNG figures of an output file: spike rasters, rates, stored and recalled images.
    Plot {
        /// An HDF5 file written by `engram run`.
        file: PathBuf,
        /// Folder for the PNGs. Default: `<file stem>_plots/` beside the file.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// The config file.
    config: PathBuf,
    /// Output file. Default: results/<config name>.h5 (replaced on each run).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Worker threads (the result does not depend on it). Default: all cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Seed; overrides simulation.seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override a field: `--set path.to.field=value` (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Replace an existing output file given with -o.
    #[arg(long)]
    force: bool,
    /// No progress bar and no summary table.
    #[arg(short, long)]
    quiet: bool,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// An error with the exit code it maps to: 2 for bad input, 1 for failures while running.
enum Failure {
    Input(anyhow::Error),
    Runtime(anyhow::Error),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Input(anyhow::Error::new(e))
    }
}

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args, started),
        Command::Check {
            config,
            sets,
            threads,
        } => check(&config, &sets, threads),
        Command::Inspect { file, config, json } => inspect(&file, config, json),
        Command::Plot { file, output } => plot(&file, output.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn default_output(config: &Path) -> PathBuf {
    let stem = config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    PathBuf::from("results").join(format!("{stem}.h5"))
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn run(args: RunArgs, started: Instant) -> Result<(), Failure> {
    let model = config::load(&args.config, &args.sets, args.seed)?;
    let out = match &args.output {
        Some(p) => {
            if p.exists() && !args.force {
                return Err(Failure::Input(anyhow::anyhow!(
                    "{} exists; pass --force to replace it",
                    p.display()
                )));
            }
            p.clone()
        }
        None => default_output(&args.config),
    };
    if out.is_dir() {
        return Err(Failure::Input(anyhow::anyhow!(
            "-o {}: is a folder; give a file name",
            out.display()
        )));
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(Failure::Input(anyhow::anyhow!(
            "--threads 0: give at least 1"
        )));
    }
    let spec = &model.spec;
    let seed = model.config.simulation.seed;
    let build_start = Instant::now();
    let mut sim = Simulation::build(spec, seed, threads)
        .with_context(|| format!("cannot build the network of {}", args.config.display()))
        .map_err(Failure::Input)?;
    // A plain run learns and tags all the time; protocols switch these per phase.
    sim.set_plasticity(true);
    sim.set_tagging(true);
    let ach_trace = match &model.ach {
        Some((params, effects)) => {
            let kinetics = params
                .kinetics(spec.dt_ms)
                .map_err(|e| Failure::Input(anyhow::anyhow!("ach.{e}")))?;
            sim.set_acetylcholine(kinetics, effects.clone());
            Some(
                engram_cholinergic::trace(params, spec.dt_ms, model.steps as usize)
                    .map_err(|e| Failure::Input(anyhow::anyhow!("ach.{e}")))?,
            )
        }
        None => None,
    };
    let build_s = build_start.elapsed().as_secs_f64() + (build_start - started).as_secs_f64();
    let names: Vec<String> = spec.populations.iter().map(|p| p.name.clone()).collect();
    let mut record = vec![false; names.len()];
    for &i in &model.record {
        record[i] = true;
    }
    // Only now that the network is built, so that a run that fails earlier leaves nothing.
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))
            .map_err(Failure::Input)?;
    }
    let mut writer = SpikeWriter::create(&out, &names, sim.population_ranges(), &record)
        .with_context(|| format!("cannot create {}", out.display()))
        .map_err(Failure::Runtime)?;

    let show_bar = !args.quiet && !args.json && std::io::stderr().is_terminal();
    let bar = if show_bar {
        let bar = ProgressBar::with_draw_target(
            Some(model.steps),
            ProgressDrawTarget::stderr_with_hz(10),
        );
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {percent:>3}%  {msg}  ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Some(bar)
    } else {
        None
    };
    let sim_start = Instant::now();
    let steps = model.steps;
    let block = (steps / 200).clamp(1, 10_000);
    let mut done = 0;
    let mut last_draw = Instant::now();
    while done < steps {
        let n = block.min(steps - done);
        sim.run(n, &mut writer)
            .with_context(|| format!("cannot write spikes to {}", out.display()))
            .map_err(Failure::Runtime)?;
        done += n;
        if let Some(bar) = &bar {
            if last_draw.elapsed() > Duration::from_millis(100) || done == steps {
                let elapsed = sim_start.elapsed().as_secs_f64();
                let factor = sim.time_ms() / 1000.0 / elapsed.max(1e-9);
                bar.set_position(done);
                bar.set_message(format!(
                    "t = {:.0} / {:.0} ms  {factor:.2}x realtime",
                    sim.time_ms(),
                    steps as f64 * spec.dt_ms
                ));
                last_draw = Instant::now();
            }
        }
    }
    let sim_s = sim_start.elapsed().as_secs_f64();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let prov = Provenance {
        config_path: args.config.display().to_string(),
        config_text: model.text.clone(),
        seed,
        dt_ms: spec.dt_ms,
        duration_ms: steps as f64 * spec.dt_ms,
        threads,
        build_s,
        sim_s,
        n_synapses: sim.n_synapses(),
        syn_events: sim.syn_events(),
    };
    if let Some(trace) = &ach_trace {
        writer
            .write_ach(spec.dt_ms, trace)
            .with_context(|| format!("cannot write the ACh trace to {}", out.display()))
            .map_err(Failure::Runtime)?;
    }
    let path = writer
        .finish(&prov)
        .with_context(|| format!("cannot finish {}", out.display()))
        .map_err(Failure::Runtime)?;
    let wall_s = started.elapsed().as_secs_f64();
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
    let events_per_s = sim.syn_events() as f64 / sim_s.max(1e-12);
    let summary = json!({
        "config": args.config.display().to_string(),
        "output": path.display().to_string(),
        "seed": seed,
        "threads": threads,
        "dt_ms": spec.dt_ms,
        "duration_ms": prov.duration_ms,
        "n_neurons": n_neurons,
        "n_synapses": sim.n_synapses(),
        "populations": pops,
        "spikes": total_spikes,
        "rate_hz": if n_neurons > 0 && duration_s > 0.0 { total_spikes as f64 / n_neurons as f64 / duration_s } else { 0.0 },
        "syn_events": sim.syn_events(),
        "events_per_s": events_per_s,
        "build_s": build_s,
        "sim_s": sim_s,
        "wall_s": wall_s,
        "realtime_factor": duration_s / sim_s.max(1e-12),
        "peak_rss_mb": peak_rss_mb(),
    });
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("serialisable")
        );
    } else if !args.quiet {
        println!(
            "{:<16} {:>10} {:>12} {:>10}",
            "population", "neurons", "spikes", "rate (Hz)"
        );
        for (i, p) in spec.populations.iter().enumerate() {
            let rate = pops[&p.name]["rate_hz"].as_f64().unwrap_or(0.0);
            println!(
                "{:<16} {:>10} {:>12} {:>10.3}",
                p.name, p.n, counts[i], rate
            );
        }
        println!();
        println!("synapses          {:>14}", sim.n_synapses());
        println!(
            "synaptic events   {:>14}  ({:.3e} per s of wall time)",
            sim.syn_events(),
            events_per_s
        );
        println!("build             {:>12.3} s", build_s);
        println!(
            "simulate          {:>12.3} s  ({:.2}x realtime, {} threads)",
            sim_s,
            duration_s / sim_s.max(1e-12),
            threads
        );
        println!("total             {:>12.3} s", wall_s);
        if let Some(mb) = peak_rss_mb() {
            println!("peak memory       {:>12.1} MiB", mb);
        }
        println!("output            {}", path.display());
    }
    Ok(())
}

fn check(path: &Path, sets: &[String], threads: usize) -> Result<(), Failure> {
    let model = config::load(path, sets, None)?;
    let spec = &model.spec;
    println!("{}: ok", path.display());
    println!("{:<16} {:>10}", "population", "neurons");
    for p in &spec.populations {
        println!("{:<16} {:>10}", p.name, p.n);
    }
    let mut synapses = 0.0;
    for (i, p) in spec.projections.iter().enumerate() {
        let n = spec.expected_synapses(i);
        synapses += n;
        println!(
            "projection {:<20} {} -> {}  ~{:.0} synapses",
            p.name, spec.populations[p.source].name, spec.populations[p.target].name, n
        );
    }
    let bytes = spec.estimate_memory_bytes(threads.max(1)) as f64;
    println!("neurons           {:>14}", spec.n_neurons());
    println!("synapses          {:>14.0}", synapses);
    println!(
        "steps             {:>14}  (dt = {} ms)",
        model.steps, spec.dt_ms
    );
    println!("memory estimate   {:>12.1} MiB", bytes / (1024.0 * 1024.0));
    Ok(())
}

fn inspect(path: &Path, show_config: bool, as_json: bool) -> Result<(), Failure> {
    if !path.exists() {
        return Err(Failure::Input(anyhow::anyhow!(
            "{}: no such file",
            path.display()
        )));
    }
    let output::FileSummary {
        populations: pops,
        provenance: prov,
        config,
    } = output::inspect(path)
        .with_context(|| format!("{}: not an engram/SONATA spike file", path.display()))
        .map_err(Failure::Input)?;
    let duration_s = prov
        .iter()
        .find(|(k, _)| k == "duration_ms")
        .and_then(|(_, v)| v.parse::<f64>().ok())
        .map(|ms| ms / 1000.0);
    let rate = |p: &output::PopulationSummary| match duration_s {
        Some(d) if p.n > 0 && d > 0.0 => Some(p.spikes as f64 / p.n as f64 / d),
        _ => None,
    };
    if as_json {
        let populations: serde_json::Map<String, serde_json::Value> = pops
            .iter()
            .map(|p| (p.name.clone(), json!({ "n": p.n, "spikes": p.spikes, "rate_hz": rate(p), "t_range_ms": p.t_range_ms })))
            .collect();
        let provenance: serde_json::Map<String, serde_json::Value> =
            prov.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let out = json!({ "file": path.display().to_string(), "populations": populations, "provenance": provenance, "config": if show_config { config } else { None } });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serialisable")
        );
        return Ok(());
    }
    println!("{}", path.display());
    println!(
        "{:<16} {:>10} {:>12} {:>10}  first..last spike (ms)",
        "population", "neurons", "spikes", "rate (Hz)"
    );
    for p in &pops {
        let r = rate(p).map_or("-".to_string(), |r| format!("{r:.3}"));
        let t = p
            .t_range_ms
            .map_or("-".to_string(), |(a, b)| format!("{a:.1}..{b:.1}"));
        println!(
            "{:<16} {:>10} {:>12} {:>10}  {}",
            p.name, p.n, p.spikes, r, t
        );
    }
    if !prov.is_empty() {
        println!();
        for (k, v) in &prov {
            println!("{k:<16} {v}");
        }
    }
    if show_config {
        if let Some(c) = config {
            println!("\n# config\n{c}");
        }
    }
    Ok(())
}

fn plot(file: &Path, dir: Option<&Path>) -> Result<(), Failure> {
    use engram::plot::PlotError;
    let written = engram::plot::plot(file, dir).map_err(|e| match e {
        PlotError::Input(_) => Failure::Input(e.into()),
        PlotError::Render(_) => Failure::Runtime(e.into()),
    })?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}
