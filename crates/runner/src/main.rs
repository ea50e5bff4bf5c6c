//! The `engram` command line: run, check and inspect simulations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use engram::interrupt::Signal;
use engram::resources::load_options;
use engram::run::{RunError, RunOptions};
use engram_config::ConfigError;
use engram_core::ErrorKind;
use engram_io::Publish;
use serde_json::json;

/// A fast, exact, reproducible spiking-network simulator.
#[derive(Parser)]
#[command(name = "engram", version, long_about = None)]
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
        /// Do not compare the memory estimate with the memory of this machine.
        #[arg(long)]
        no_memory_check: bool,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
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
    /// Draw figures of an output file: spike rasters, rates, stored and recalled images,
    /// state traces. On a sweep folder, draw one metric over the swept axes.
    Plot(PlotArgs),
    /// Convert an output file to another format: NWB 2 (a Units table with every recorded
    /// neuron's spikes in seconds, the config and the provenance).
    Export {
        /// An HDF5 file written by `engram run`.
        file: PathBuf,
        /// The NWB file to write.
        #[arg(long, value_name = "OUT.nwb")]
        nwb: PathBuf,
        /// Replace an existing NWB file (a regular file only).
        #[arg(long)]
        force: bool,
        /// Print the file written as one JSON object (`{"output": ...}`).
        #[arg(long)]
        json: bool,
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
    /// Print a shell completion script on stdout (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page engram(1) on stdout (roff), or write it and one page per
    /// subcommand into a folder.
    Man {
        /// Write engram.1 and engram-<subcommand>.1 into this folder (created if missing;
        /// pages already there are replaced) and print their paths.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct PlotArgs {
    /// An HDF5 file written by `engram run`, or a folder written by `engram sweep`.
    file: PathBuf,
    /// Folder for the figures. Default: `<file stem>_plots/` beside the file; the sweep
    /// folder itself for a sweep.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The metric to draw from a sweep folder (a column of its summary.csv).
    #[arg(long)]
    metric: Option<String>,
    /// File format: PNG (bitmap), SVG or PDF (vector, text embedded as glyphs).
    #[arg(long, value_enum, default_value_t = engram::plot::Format::Png)]
    format: engram::plot::Format,
    /// Width of every figure in pixels (200 to 16000; PDF: 1 pixel = 1 point). Default:
    /// each figure's own.
    #[arg(long, value_name = "PX")]
    width: Option<u32>,
    /// Height of every figure in pixels (200 to 16000); panels share it in their usual
    /// proportions. Default: each figure's own.
    #[arg(long, value_name = "PX")]
    height: Option<u32>,
    /// Size of the numbers on the axes (4 to 100); titles, axis names and the room kept
    /// for them scale with it.
    #[arg(long, value_name = "PX", default_value_t = engram::plot::DEFAULT_FONT_SIZE)]
    font_size: f64,
    /// Logarithmic colour scale (the heatmap of a sweep; its means must be above 0).
    /// Figures without a colour scale are unchanged.
    #[arg(long)]
    log: bool,
    /// Print the figures written as one JSON object (`{"files": [...]}`).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The config file.
    config: PathBuf,
    /// Output file. Default: results/<config name>.h5 (replaced on each run). Only regular
    /// files are written: a folder, FIFO, device or socket is refused, even with --force; a
    /// symbolic link to a regular file is written through (the link stays a link), a
    /// dangling one is refused.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Worker threads (the result does not depend on it). Default: all cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Seed; overrides simulation.seed (0 to 2^63 - 1, the range of a config's integers).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    seed: Option<u64>,
    /// Override a field: `--set path.to.field=value` (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Replace an existing output file given with -o (a regular file only). Without it, a
    /// file that appears at the path during the run is kept and the run fails.
    #[arg(long)]
    force: bool,
    /// Run even when the memory estimate exceeds the memory of this machine.
    #[arg(long)]
    no_memory_check: bool,
    /// No progress bar and no summary table.
    #[arg(short, long)]
    quiet: bool,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// An error with the exit code it maps to: 2 for bad input, 1 for failures while running,
/// 128 + the signal for a run that a signal stopped.
enum Failure {
    Input(anyhow::Error),
    Runtime(anyhow::Error),
    Interrupted(Signal, String),
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Input(e) => Failure::Input(e),
            RunError::Runtime(e) => Failure::Runtime(e),
            RunError::Interrupted { signal, .. } => Failure::Interrupted(signal, e.to_string()),
        }
    }
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
            SweepError::File(f) => Failure::Input(f.into()),
            SweepError::Runtime(m) => Failure::Runtime(anyhow::anyhow!(m)),
            SweepError::Interrupted(signal, m) => Failure::Interrupted(signal, m),
        }
    }
}

/// `error: ` in bold red when stderr is a terminal and `NO_COLOR` is not set, else plain:
/// every error of the command starts with it.
fn error_prefix() -> &'static str {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if !no_color && std::io::stderr().is_terminal() {
        "\x1b[1;31merror:\x1b[0m "
    } else {
        "error: "
    }
}

/// Prints a failure on stderr and, for a command given `--json`, as one JSON object on
/// stdout (`{"error": {kind, message, file, line, path, exit_code}}`), where a program
/// reading the JSON looks, unless the command printed its own JSON object already;
/// returns the exit code.
fn report_failure(failure: Failure, as_json: bool) -> ExitCode {
    let (kind, code, message, about) = match &failure {
        Failure::Input(e) => ("input", 2, format!("{e:#}"), About::of(e)),
        Failure::Runtime(e) => ("runtime", 1, format!("{e:#}"), About::of(e)),
        Failure::Interrupted(signal, m) => (
            "interrupted",
            signal.exit_code(),
            m.clone(),
            About::default(),
        ),
    };
    match failure {
        Failure::Interrupted(..) => eprintln!("{message}"),
        _ => eprintln!("{}{message}", error_prefix()),
    }
    if as_json {
        print_error_json(kind, &message, &about, code);
    }
    ExitCode::from(code)
}

/// What an error is about, for its JSON object: the file, the line in it and the field.
#[derive(Default)]
struct About {
    file: Option<String>,
    line: Option<usize>,
    path: Option<String>,
}

impl About {
    /// From a config error (its file, line and dotted field path) or an error about one
    /// file ([`engram::FileError`]); nothing for other errors.
    fn of(e: &anyhow::Error) -> About {
        if let Some(c) = e.downcast_ref::<ConfigError>() {
            About {
                file: Some(c.file.display().to_string()),
                line: c.line,
                path: Some(c.path.clone()).filter(|p| !p.is_empty()),
            }
        } else if let Some(f) = e.downcast_ref::<engram::FileError>() {
            About {
                file: Some(f.file.display().to_string()),
                line: f.line,
                path: f.path.clone(),
            }
        } else {
            About::default()
        }
    }
}

/// Prints the `--json` error object on stdout, where a program reading the JSON looks:
/// `{"error": {kind, message, file, line, path, exit_code}}`, always these six keys (null
/// where nothing can be named); not after a command printed its own JSON object (a
/// sweep's summary lists its failed points).
fn print_error_json(kind: &str, message: &str, about: &About, code: u8) {
    if engram::JSON_PRINTED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let out = json!({ "error": {
        "kind": kind,
        "message": message,
        "file": about.file,
        "line": about.line,
        "path": about.path,
        "exit_code": code,
    }});
    engram::outln!(
        "{}",
        serde_json::to_string_pretty(&out).expect("serialisable")
    );
}

/// Whether the command line asks for JSON output: a `--json` before any `--`.
fn json_requested() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// A command line clap refuses (an unknown option, a bad value, a missing argument):
/// clap's message on stderr and exit code 2, as always; with `--json`, also the error
/// object on stdout (kind `input`, the message without clap's hints).
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as Clap;
    if matches!(
        e.kind(),
        Clap::DisplayHelp | Clap::DisplayVersion | Clap::DisplayHelpOnMissingArgumentOrSubcommand
    ) || !json_requested()
    {
        e.exit();
    }
    let _ = e.print();
    let text = e.render().to_string();
    let message = text
        .trim_start_matches("error: ")
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    print_error_json("input", &message, &About::default(), 2);
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let started = Instant::now();
    // `--version` names the commit the program was built from.
    let version: &'static str = engram_io::build_info::version_line().leak();
    let command = Cli::command().version(version);
    let cli = match command
        .clone()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let as_json = match &cli.command {
        Command::Run(a) => a.json,
        Command::Sweep(a) => a.json,
        Command::Plot(a) => a.json,
        Command::Check { json, .. }
        | Command::Inspect { json, .. }
        | Command::Export { json, .. }
        | Command::Merge { json, .. } => *json,
        Command::Completions { .. } | Command::Man { .. } => false,
    };
    if matches!(cli.command, Command::Run(_) | Command::Sweep(_)) {
        // Ctrl-C and SIGTERM stop a run cleanly (see engram::interrupt); the other commands
        // keep the default (they write no long-lived files).
        if let Err(e) = engram::interrupt::install() {
            eprintln!(
                "warning: cannot handle SIGINT and SIGTERM ({e}); Ctrl-C may leave a temporary file"
            );
        }
    }
    let result = match cli.command {
        Command::Run(args) => run(args, started),
        Command::Check {
            config,
            sets,
            threads,
            no_memory_check,
            json,
        } => check(&config, &sets, threads, no_memory_check, json),
        Command::Inspect { file, config, json } => inspect(&file, config, json),
        Command::Plot(args) => plot(&args),
        Command::Export {
            file,
            nwb,
            force,
            json,
        } => export(&file, &nwb, force, json),
        Command::Sweep(args) => engram::sweep::cli::sweep(&args).map_err(Failure::from),
        Command::Merge { dir, json, quiet } => {
            engram::sweep::cli::merge(&dir, json, quiet).map_err(Failure::from)
        }
        Command::Completions { shell } => completions(command, shell),
        Command::Man { out } => man(command, out.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report_failure(failure, as_json),
    }
}

fn default_output(config: &Path) -> PathBuf {
    let stem = config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    PathBuf::from("results").join(format!("{stem}.h5"))
}

/// A config error, with the way out of the memory check when that is what failed (kept
/// as a [`ConfigError`], so that `--json` can name its file, line and field).
fn config_failure(mut e: ConfigError) -> Failure {
    if e.kind == ErrorKind::Memory {
        e.message
            .push_str(" (or pass --no-memory-check to run it anyway)");
    }
    Failure::Input(anyhow::Error::new(e))
}

fn run(args: RunArgs, started: Instant) -> Result<(), Failure> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = load_options(args.seed, threads, !args.no_memory_check);
    let model =
        engram_config::load_with(&args.config, &args.sets, &options).map_err(config_failure)?;
    // The default output is replaced on each run; an explicit -o only with --force.
    let (out, publish) = match &args.output {
        Some(p) if !args.force => (p.clone(), Publish::Exclusive),
        Some(p) => (p.clone(), Publish::Replace),
        None => (default_output(&args.config), Publish::Replace),
    };
    let output = engram::run::check_output(&out, publish)?;
    let stale = engram_io::output::remove_stale_temporaries(
        &output.folder(),
        engram_io::output::Stale::DeadWriters,
    );
    for leftover in stale {
        eprintln!("{leftover}");
    }
    let opts = RunOptions {
        progress: !args.quiet && !args.json,
        started,
        publish,
        command_line: std::env::args().collect(),
        ..RunOptions::new(out, threads)
    };
    let summary = engram::run::execute(&model, &opts)?;
    if args.json {
        engram::outln!(
            "{}",
            serde_json::to_string_pretty(&summary.json).expect("serialisable")
        );
    } else if !args.quiet {
        engram::run::print_summary(&summary);
    }
    Ok(())
}

fn check(
    path: &Path,
    sets: &[String],
    threads: usize,
    no_memory_check: bool,
    as_json: bool,
) -> Result<(), Failure> {
    let options = load_options(None, threads, !no_memory_check);
    let model = engram_config::load_with(path, sets, &options).map_err(config_failure)?;
    let spec = &model.spec;
    // The one check that needs the drawn weights: the stability of gap coupling. Built
    // only for models with gap junctions, once the memory estimate has passed.
    let has_gaps = spec.projections.iter().any(|p| p.gap.is_some());
    if has_gaps {
        engram_network::Simulation::build(spec, model.config.simulation.seed, 1).map_err(|e| {
            Failure::Input(engram::FileError::new(path, format!("{}: {e}", path.display())).into())
        })?;
    }
    if as_json {
        let estimate = model.memory_estimate(threads);
        let populations: serde_json::Map<String, serde_json::Value> = spec
            .populations
            .iter()
            .map(|p| (p.name.clone(), json!({ "n": p.n })))
            .collect();
        let projections: serde_json::Map<String, serde_json::Value> = spec
            .projections
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    p.name.clone(),
                    json!({
                        "source": spec.populations[p.source].name,
                        "target": spec.populations[p.target].name,
                        "expected_synapses": spec.expected_synapses(i),
                    }),
                )
            })
            .collect();
        let parts: serde_json::Map<String, serde_json::Value> = estimate
            .parts()
            .iter()
            .map(|(part, b)| (part.clone(), json!(b)))
            .collect();
        engram::print_json(&json!({
            "config": path.display().to_string(),
            "populations": populations,
            "projections": projections,
            "neurons": spec.n_neurons(),
            "expected_synapses": (0..spec.projections.len()).map(|i| spec.expected_synapses(i)).sum::<f64>(),
            "steps": model.steps,
            "dt_ms": spec.dt_ms,
            "memory_bytes": estimate.total(),
            "memory_parts_bytes": parts,
            "gap_coupling_stable": has_gaps.then_some(true),
        }));
        return Ok(());
    }
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
    let estimate = model.memory_estimate(threads);
    let bytes = estimate.total() as f64;
    engram::outln!("neurons           {:>14}", spec.n_neurons());
    engram::outln!("synapses          {:>14.0}", synapses);
    engram::outln!(
        "steps             {:>14}  (dt = {} ms)",
        model.steps,
        spec.dt_ms
    );
    engram::outln!("memory estimate   {:>12.1} MiB", bytes / (1024.0 * 1024.0));
    for (part, b) in estimate.parts() {
        engram::outln!("  {:<22} {:>11.1} MiB", part, b / (1024.0 * 1024.0));
    }
    if has_gaps {
        engram::outln!("gap coupling      stable (checked on the built network)");
    }
    Ok(())
}

/// Bad input about the file `path` (an input that cannot be read, an output refused).
fn bad_file(path: &Path, message: impl std::fmt::Display) -> Failure {
    Failure::Input(engram::FileError::new(path, message).into())
}

fn inspect(path: &Path, show_config: bool, as_json: bool) -> Result<(), Failure> {
    if !path.exists() {
        return Err(bad_file(path, format!("{}: no such file", path.display())));
    }
    use engram_io::AttrValue;
    let engram_io::FileSummary {
        populations: pops,
        provenance: prov,
        config,
        inputs,
        analysis,
        reports,
    } = engram_io::inspect(path).map_err(|e| bad_file(path, e))?;
    let duration_s = prov
        .iter()
        .find(|(k, _)| k == "duration_ms")
        .and_then(|(_, v)| match v {
            AttrValue::Number(x) => Some(*x),
            AttrValue::Count(n) => Some(*n as f64),
            AttrValue::Integer(n) => Some(*n as f64),
            _ => None,
        })
        .map(|ms| ms / 1000.0);
    // The experiment's results, as `engram run --json` gives them (`recall`, `naming`, ...).
    let analysis: Option<serde_json::Map<String, serde_json::Value>> =
        analysis.and_then(|text| serde_json::from_str(&text).ok());
    let rate = |p: &engram_io::PopulationSummary| match duration_s {
        Some(d) if p.n > 0 && d > 0.0 => Some(p.spikes as f64 / p.n as f64 / d),
        _ => None,
    };
    if as_json {
        let populations: serde_json::Map<String, serde_json::Value> = pops
            .iter()
            .map(|p| (p.name.clone(), json!({ "n": p.n, "spikes": p.spikes, "rate_hz": rate(p), "t_range_ms": p.t_range_ms })))
            .collect();
        let provenance: serde_json::Map<String, serde_json::Value> = prov
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    AttrValue::Text(s) => json!(s),
                    AttrValue::Number(x) => json!(x),
                    AttrValue::Count(n) => json!(n),
                    AttrValue::Integer(n) => json!(n),
                    AttrValue::Other => serde_json::Value::Null,
                };
                (k.clone(), v)
            })
            .collect();
        let inputs: Vec<serde_json::Value> = inputs
            .iter()
            .map(|(p, h)| json!({ "path": p, "sha256": h }))
            .collect();
        let reports: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                json!({
                    "population": r.population,
                    "variable": r.variable,
                    "units": r.units,
                    "neurons": r.neurons,
                    "samples": r.samples,
                    "t_range_ms": r.t_range_ms,
                    "value_range": r.value_range,
                })
            })
            .collect();
        let mut out = json!({
            "file": path.display().to_string(),
            "populations": populations,
            "provenance": provenance,
            "inputs": inputs,
            "reports": reports,
            "config": if show_config { config } else { None },
        });
        if let (Some(extra), serde_json::Value::Object(all)) = (analysis, &mut out) {
            all.extend(extra);
        }
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
    if !reports.is_empty() {
        engram::outln!();
        engram::outln!(
            "{:<16} {:<8} {:>8} {:>9}  {:<18} range",
            "report",
            "variable",
            "neurons",
            "samples",
            "times (ms)"
        );
        for r in &reports {
            let t = r
                .t_range_ms
                .map_or("-".to_string(), |(a, b)| format!("{a}..{b}"));
            let v = r.value_range.map_or("-".to_string(), |(a, b)| {
                format!("{a:.3}..{b:.3} {}", r.units)
            });
            engram::outln!(
                "{:<16} {:<8} {:>8} {:>9}  {:<18} {v}",
                r.population,
                r.variable,
                r.neurons,
                r.samples,
                t
            );
        }
    }
    if let Some(recall) = analysis.as_ref().and_then(|a| a.get("recall")) {
        let number = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_f64)
                .map_or("-".to_string(), |x| format!("{x:.3}"))
        };
        engram::outln!();
        engram::outln!(
            "recall of {} memories",
            recall["n_memories"].as_u64().unwrap_or(0)
        );
        for (label, key) in [
            ("identification accuracy", "identification_accuracy"),
            ("best fidelity match", "best_match_accuracy"),
            ("fidelity, sensory", "fidelity_mean"),
            ("specificity", "specificity_mean"),
            ("Jaccard, recalled-own", "jaccard_mean"),
        ] {
            engram::outln!("  {label:<24} {:>7}", number(recall.get(key)));
        }
        let naming = analysis
            .as_ref()
            .and_then(|a| a.get("naming"))
            .and_then(|n| n.get("accuracy"));
        engram::outln!("  {:<24} {:>7}", "naming accuracy", number(naming));
    }
    if !inputs.is_empty() {
        engram::outln!();
        for (p, h) in &inputs {
            engram::outln!("input  {h}  {p}");
        }
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

fn export(file: &Path, nwb: &Path, force: bool, as_json: bool) -> Result<(), Failure> {
    let publish = if force {
        Publish::Replace
    } else {
        Publish::Exclusive
    };
    // Unreadable input and a refused output path are bad input; the rest is a failure
    // while writing.
    engram_io::RunReader::open(file).map_err(|e| bad_file(file, e))?;
    let output =
        engram_io::OutputPath::check(nwb).map_err(|e| bad_file(nwb, format!("--nwb {e}")))?;
    if output.exists && !force {
        return Err(bad_file(
            nwb,
            format!("{} exists; pass --force to replace it", nwb.display()),
        ));
    }
    let written = engram_io::export_nwb(file, nwb, publish).map_err(|e| match e {
        engram_io::Error::Format(_) => bad_file(file, e),
        _ => Failure::Runtime(
            engram::FileError::new(nwb, format!("cannot write {}: {e}", nwb.display())).into(),
        ),
    })?;
    if as_json {
        engram::print_json(&json!({ "output": written.display().to_string() }));
    } else {
        engram::outln!("{}", written.display());
    }
    Ok(())
}

fn plot(args: &PlotArgs) -> Result<(), Failure> {
    use engram::plot::PlotError;
    let (file, dir, metric, as_json) = (
        args.file.as_path(),
        args.output.as_deref(),
        args.metric.as_deref(),
        args.json,
    );
    let opts = engram::plot::PlotOptions {
        format: args.format,
        width: args.width,
        height: args.height,
        font_size: args.font_size,
        log: args.log,
    };
    let written = if file.is_dir() {
        engram::plot::sweep::plot_sweep(file, dir, metric, &opts).map(|p| vec![p])
    } else if metric.is_some() {
        Err(PlotError::Input(format!(
            "--metric is for sweep folders; {} is a file",
            file.display()
        )))
    } else {
        engram::plot::plot(file, dir, &opts)
    };
    let written = written.map_err(|e| match e {
        PlotError::Input(_) => Failure::Input(e.into()),
        PlotError::File(f) => Failure::Input(f.into()),
        PlotError::Render(_) => Failure::Runtime(e.into()),
    })?;
    if as_json {
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        engram::print_json(&json!({ "files": files }));
    } else {
        for path in written {
            engram::outln!("{}", path.display());
        }
    }
    Ok(())
}

/// Writes `bytes` to stdout as they are; a closed pipe ends the program quietly (as
/// [`engram::outln!`] does).
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::Runtime(anyhow::anyhow!(
            "cannot write to stdout: {e}"
        ))),
    }
}

/// `engram completions SHELL`: the completion script clap_complete generates from the
/// command's definition.
fn completions(mut command: clap::Command, shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "engram", &mut script);
    write_stdout(&script)
}

/// The roff man page of `command`.
fn man_page(command: clap::Command) -> Result<Vec<u8>, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("cannot render the man page: {e}")))?;
    Ok(page)
}

/// `engram man [--out DIR]`: engram(1) on stdout, or engram.1 and one page per subcommand
/// (`engram-run.1`, ...) in `DIR`.
fn man(mut command: clap::Command, out: Option<&Path>) -> Result<(), Failure> {
    let Some(dir) = out else {
        return write_stdout(&man_page(command)?);
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::Input(anyhow::anyhow!(
            "--out {}: not a folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::Input(anyhow::anyhow!(
            "--out {}: cannot create the folder: {e}",
            dir.display()
        ))
    })?;
    command.build();
    let mut pages = vec![("engram".to_string(), command.clone())];
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        // The page of a subcommand is named and titled as man(1) looks it up:
        // `man engram-run`.
        // (clap takes these names as `&'static str`; the program ends right after.)
        let name: &'static str = format!("engram-{}", sub.get_name()).leak();
        let version: &'static str = command.get_version().unwrap_or_default().to_owned().leak();
        let page = sub
            .clone()
            .name(name)
            .display_name(name)
            .bin_name(format!("engram {}", sub.get_name()))
            .version(version);
        pages.push((name.to_string(), page));
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, man_page(page)?).map_err(|e| {
            Failure::Runtime(anyhow::anyhow!("cannot write {}: {e}", path.display()))
        })?;
        engram::outln!("{}", path.display());
    }
    Ok(())
}
