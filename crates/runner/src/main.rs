//! The `engram` command line: run, check and inspect simulations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use engram::run::{RunError, RunOptions};
use engram_config::ConfigError;
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
    /// On a sweep folder, draw one metric over the swept axes.
    Plot {
        /// An HDF5 file written by `engram run`, or a folder written by `engram sweep`.
        file: PathBuf,
        /// Folder for the PNGs. Default: `<file stem>_plots/` beside the file; the sweep
        /// folder itself for a sweep.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The metric to draw from a sweep folder (a column of its summary.csv).
        #[arg(long)]
        metric: Option<String>,
    },
    /// Run a parameter sweep: every point of a sweep file, in parallel, resumable.
    Sweep(engram::sweep::cli::SweepArgs),
    /// Build the summary of a sweep folder from its point files (after sharded runs).
    Merge {
        /// The sweep folder.
        dir: PathBuf,
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
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

impl From<engram::sweep::SweepError> for Failure {
    fn from(e: engram::sweep::SweepError) -> Self {
        use engram::sweep::SweepError;
        match e {
            SweepError::Input(m) => Failure::Input(anyhow::anyhow!(m)),
            SweepError::Runtime(m) => Failure::Runtime(anyhow::anyhow!(m)),
        }
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
        Command::Plot {
            file,
            output,
            metric,
        } => plot(&file, output.as_deref(), metric.as_deref()),
        Command::Sweep(args) => engram::sweep::cli::sweep(&args).map_err(Failure::from),
        Command::Merge { dir, json, quiet } => {
            engram::sweep::cli::merge(&dir, json, quiet).map_err(Failure::from)
        }
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

fn run(args: RunArgs, started: Instant) -> Result<(), Failure> {
    let model = engram_config::load(&args.config, &args.sets, args.seed)?;
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
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let opts = RunOptions {
        progress: !args.quiet && !args.json,
        started,
        ..RunOptions::new(out, threads)
    };
    let summary = engram::run::execute(&model, &opts).map_err(|e| match e {
        RunError::Input(e) => Failure::Input(e),
        RunError::Runtime(e) => Failure::Runtime(e),
    })?;
    if args.json {
        engram::outln!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("serialisable")
        );
    } else if !args.quiet {
        engram::run::print_summary(&summary);
    }
    Ok(())
}

fn check(path: &Path, sets: &[String], threads: usize) -> Result<(), Failure> {
    let model = engram_config::load(path, sets, None)?;
    let spec = &model.spec;
    engram::outln!("{}: ok", path.display());
    engram::outln!("{:<16} {:>10}", "population", "neurons");
    for p in &spec.populations {
        engram::outln!("{:<16} {:>10}", p.name, p.n);
    }
    let mut synapses = 0.0;
    for (i, p) in spec.projections.iter().enumerate() {
        let n = spec.expected_synapses(i);
        synapses += n;
        engram::outln!(
            "projection {:<20} {} -> {}  ~{:.0} synapses",
            p.name,
            spec.populations[p.source].name,
            spec.populations[p.target].name,
            n
        );
    }
    let bytes = spec.estimate_memory_bytes(threads.max(1)) as f64;
    engram::outln!("neurons           {:>14}", spec.n_neurons());
    engram::outln!("synapses          {:>14.0}", synapses);
    engram::outln!(
        "steps             {:>14}  (dt = {} ms)",
        model.steps,
        spec.dt_ms
    );
    engram::outln!("memory estimate   {:>12.1} MiB", bytes / (1024.0 * 1024.0));
    Ok(())
}

fn inspect(path: &Path, show_config: bool, as_json: bool) -> Result<(), Failure> {
    if !path.exists() {
        return Err(Failure::Input(anyhow::anyhow!(
            "{}: no such file",
            path.display()
        )));
    }
    let engram_io::FileSummary {
        populations: pops,
        provenance: prov,
        config,
    } = engram_io::inspect(path).map_err(|e| Failure::Input(e.into()))?;
    let duration_s = prov
        .iter()
        .find(|(k, _)| k == "duration_ms")
        .and_then(|(_, v)| v.parse::<f64>().ok())
        .map(|ms| ms / 1000.0);
    let rate = |p: &engram_io::PopulationSummary| match duration_s {
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
        engram::outln!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serialisable")
        );
        return Ok(());
    }
    engram::outln!("{}", path.display());
    engram::outln!(
        "{:<16} {:>10} {:>12} {:>10}  first..last spike (ms)",
        "population",
        "neurons",
        "spikes",
        "rate (Hz)"
    );
    for p in &pops {
        let r = rate(p).map_or("-".to_string(), |r| format!("{r:.3}"));
        let t = p
            .t_range_ms
            .map_or("-".to_string(), |(a, b)| format!("{a:.1}..{b:.1}"));
        engram::outln!(
            "{:<16} {:>10} {:>12} {:>10}  {}",
            p.name,
            p.n,
            p.spikes,
            r,
            t
        );
    }
    if !prov.is_empty() {
        engram::outln!();
        for (k, v) in &prov {
            engram::outln!("{k:<16} {v}");
        }
    }
    if show_config {
        if let Some(c) = config {
            engram::outln!("\n# config\n{c}");
        }
    }
    Ok(())
}

fn plot(file: &Path, dir: Option<&Path>, metric: Option<&str>) -> Result<(), Failure> {
    use engram::plot::PlotError;
    let written = if file.is_dir() {
        engram::plot::sweep::plot_sweep(file, dir, metric).map(|p| vec![p])
    } else if metric.is_some() {
        Err(PlotError::Input(format!(
            "--metric is for sweep folders; {} is a file",
            file.display()
        )))
    } else {
        engram::plot::plot(file, dir)
    };
    let written = written.map_err(|e| match e {
        PlotError::Input(_) => Failure::Input(e.into()),
        PlotError::Render(_) => Failure::Runtime(e.into()),
    })?;
    for path in written {
        engram::outln!("{}", path.display());
    }
    Ok(())
}
