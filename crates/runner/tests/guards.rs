//! Resource and arithmetic guards: every config that would need more memory than the
//! process may use, wrap the step arithmetic, make an input's cost explode or fail only
//! at the end of a run is refused up front with exit code 2 by `check` and by `run`, and
//! errors name the field the user wrote.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{code, repo_file, small_cuba, stderr, stdout};

/// Runs `engram ARGS` under an address-space limit of `limit_kb` (so that the memory
/// guard sees the same limit on every machine), killed after `secs` seconds: a hang is
/// reported instead of stalling the suite.
fn engram_limited(args: &[&str], limit_kb: u64, secs: u64) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {limit_kb}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_engram"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("sh starts");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "engram {} did not finish within {secs} s\nstderr:\n{}",
                args.join(" "),
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// 4 GB of address space: plenty for every test config, far below what the bad ones ask.
const LIMIT_KB: u64 = 4_000_000;

/// Asserts that `engram check` and `engram run` both refuse `config` edited by `sets`,
/// with exit code 2, a message that contains every one of `expect`, and no output file.
fn refused(config: &Path, sets: &[&str], expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.h5");
    let config = config.to_str().unwrap();
    let mut check = vec!["check", config];
    let mut run = vec!["run", config, "-o", out.to_str().unwrap(), "--quiet"];
    for s in sets {
        check.extend(["--set", s]);
        run.extend(["--set", s]);
    }
    for args in [check, run] {
        let o = engram_limited(&args, LIMIT_KB, 60);
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "engram {}: {:?}\nstderr:\n{err}",
            args.join(" "),
            o.status
        );
        assert!(err.starts_with("error: "), "{err}");
        for e in expect {
            assert!(err.contains(e), "expected `{e}` in:\n{err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "files left after a refused run: {left:?}");
    }
}

#[test]
fn stimuli_larger_than_memory_are_refused_before_they_are_drawn() {
    // 2^32 - 1 sensory cells x 40 memories of f64 intensities: 1.3 TB.
    refused(
        &repo_file("configs/recall.toml"),
        &["populations.sensory.n=4294967295"],
        &["stimuli:", "MiB", "ulimit -v", "--no-memory-check"],
    );
    refused(
        &repo_file("configs/recall.toml"),
        &["experiment.memories=1000000000"],
        &["stimuli:", "1000000000 memories"],
    );
}

#[test]
fn networks_larger_than_memory_are_refused_before_they_are_built() {
    // 200 000 neurons at p = 0.075: 3e9 synapses, 24 GB.
    refused(
        &small_cuba(),
        &[
            "populations.E.n=200000",
            "projections.E_to_E.connectivity.p=0.075",
        ],
        &[
            "synapses",
            "MiB",
            "make the model smaller (or pass --no-memory-check to run it anyway)",
        ],
    );
}

#[test]
fn every_memory_refusal_offers_to_turn_the_check_off() {
    // Each part checked against the memory limit before it is allocated is refused with
    // exit code 2 and the way out (the stimuli and the whole network: above): the inputs'
    // target lists, the protocol's inputs, a state report, an image folder (a header that
    // claims 100 000 x 100 000 pixels).
    let way_out = "(or pass --no-memory-check to run it anyway)";
    let cuba = small_cuba();
    refused(
        &cuba,
        &["populations.E.n=4000000000", "inputs.drive.neurons=\"all\""],
        &["inputs: their target lists alone needs about", way_out],
    );
    refused(
        &repo_file("tests/configs/small_recall.toml"),
        &[
            "experiment.pointer_size=500000000",
            "projections.cortex_to_mtl.connectivity={rule=\"fixed_indegree\",k=1}",
        ],
        &["experiment: the protocol's inputs needs about", way_out],
    );
    refused(
        &cuba,
        &[
            "output.reports=[{population=\"E\",variables=[\"v\"]}]",
            "simulation.duration_ms=1e7",
        ],
        &["output.reports.0: this report needs about", way_out],
    );
    let images = tempfile::tempdir().unwrap();
    std::fs::write(images.path().join("huge.pgm"), b"P5\n100000 100000\n255\n").unwrap();
    refused(
        &repo_file("configs/recall-images.toml"),
        &[&format!("stimuli.path={}", images.path().display())],
        &["stimuli.path: the images of", way_out],
    );
    // A value that is not allowed is not a memory refusal: no way out is offered.
    let o = engram_limited(
        &[
            "check",
            cuba.to_str().unwrap(),
            "--set",
            "simulation.dt_ms=-1",
        ],
        LIMIT_KB,
        60,
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("simulation.dt_ms: -1 must be a number > 0"),
        "{err}"
    );
    assert!(!err.contains("--no-memory-check"), "{err}");
}

#[test]
fn the_memory_check_can_be_turned_off() {
    // Under 2 GB of address space the small network passes; with 3e9 synapses (24 GB)
    // only the memory check is in the way, and
    // `--no-memory-check` lets `check` through (it allocates nothing of that size).
    let cfg = small_cuba();
    let cfg = cfg.to_str().unwrap();
    let o = engram_limited(&["check", cfg], 2_000_000, 60);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("memory estimate"));
    let big = [
        "--set",
        "populations.E.n=200000",
        "--set",
        "projections.E_to_E.connectivity.p=0.075",
    ];
    let o = engram_limited(&[&["check", cfg][..], &big].concat(), 2_000_000, 60);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = engram_limited(
        &[&["check", cfg, "--no-memory-check"][..], &big].concat(),
        2_000_000,
        60,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn durations_that_would_wrap_the_step_count_are_refused() {
    let recall = repo_file("configs/recall.toml");
    for field in ["delay_ms", "pause_ms", "recall_ms", "encode_ms"] {
        for v in ["1e300", "1e308"] {
            let set = format!("experiment.{field}={v}");
            refused(
                &recall,
                &[&set],
                &[&format!("experiment.{field}: {v} ms is more than the 2^40")],
            );
        }
    }
    refused(
        &small_cuba(),
        &["simulation.duration_ms=1e300"],
        &["simulation.duration_ms: 1e300 ms is more than the 2^40"],
    );
    refused(
        &small_cuba(),
        &["simulation.dt_ms=1e-300"],
        &["simulation.duration_ms:", "more than the 2^40"],
    );
}

#[test]
fn durations_that_give_no_step_are_refused() {
    refused(
        &small_cuba(),
        &["simulation.dt_ms=1000"],
        &["simulation.duration_ms: 200 ms gives no step of dt = 1000 ms"],
    );
    // A phase shorter than half a step used to run and fail at the analysis.
    refused(
        &repo_file("configs/recall.toml"),
        &["experiment.encode_ms=0.01"],
        &["experiment.encode_ms: 0.01 ms is less than half a step"],
    );
}

#[test]
fn poisson_rates_above_the_bound_are_refused() {
    for rate in ["1e8", "1e308"] {
        let set = format!("inputs.drive.rate_hz={rate}");
        refused(
            &small_cuba(),
            &[&set],
            &[&format!(
                "inputs.drive.rate_hz: {rate} must be a rate in Hz between 0 and 1e6"
            )],
        );
    }
}

#[test]
fn a_poisson_input_at_the_bound_runs() {
    // 1 MHz into 1000 neurons for 50 ms: 5e7 events, drawn as counts per step. Checked
    // for its result, not its time: the run completes and every neuron is driven hard.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.h5");
    let cfg = small_cuba();
    let o = engram_limited(
        &[
            "run",
            cfg.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
            "--threads",
            "1",
            "--set",
            "inputs.drive.rate_hz=1e6",
            "--set",
            "inputs.drive.weight_pa=1.0",
            "--set",
            "simulation.duration_ms=50",
        ],
        LIMIT_KB,
        120,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // 1 pA x 1e6 Hz x tau_syn 5 ms = 5 nA of mean drive: far above threshold, so the
    // neurons fire at their refractory-limited rate (up to 200 Hz).
    let rate = summary["populations"]["E"]["rate_hz"].as_f64().unwrap();
    assert!(rate > 100.0, "rate {rate}");
}

#[test]
fn check_finds_unstable_gap_coupling() {
    refused(
        &repo_file("configs/recall.toml"),
        &["projections.sensory_to_cortex.gap.kappa_ns=1e5"],
        &["projections.sensory_to_cortex.gap.kappa_ns", "unstable"],
    );
}

#[test]
fn errors_name_the_field_the_user_wrote() {
    let recall = repo_file("configs/recall.toml");
    // The protocol's ACh pulse, not the `[ach]` pulse list it joins; the number short.
    refused(
        &recall,
        &["experiment.ach_pulse.duration_ms=1e30"],
        &["experiment.ach_pulse.duration_ms: 1e30:", "until 1e30 ms"],
    );
    refused(
        &recall,
        &["populations.sensory.n=0"],
        &["populations.sensory.n: 0: a layer of the experiment needs at least one neuron"],
    );
}

#[test]
fn seeds_beyond_the_config_range_are_refused_by_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.h5");
    let cfg = small_cuba();
    let o = engram_limited(
        &[
            "run",
            cfg.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--seed",
            "18446744073709551615",
        ],
        LIMIT_KB,
        60,
    );
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("--seed") && err.contains("9223372036854775807"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn set_accepts_list_indices_as_sweeps_do() {
    let cfg = repo_file("tests/configs/gap_ach.toml");
    let cfg = cfg.to_str().unwrap();
    let o = engram_limited(
        &["check", cfg, "--set", "ach.pulses.0.amplitude=2"],
        LIMIT_KB,
        60,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = engram_limited(
        &["check", cfg, "--set", "ach.pulses.3.amplitude=2"],
        LIMIT_KB,
        60,
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("index 3 is out of range"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sweeps_whose_points_do_not_fit_are_refused_before_any_runs() {
    // Each point alone fits under 3 GB (~1.8 GB of synapses); two at once do not.
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("big.toml");
    std::fs::write(
        &sweep,
        format!(
            "base = \"{}\"\n[axes]\n\"projections.E_to_E.connectivity.p\" = [0.5, 0.55]\n\
             \"populations.E.n\" = [20000]\n",
            small_cuba().display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let (sweep, out) = (sweep.display().to_string(), out.display().to_string());
    let args = ["sweep", &sweep, "-o", &out, "--jobs", "2", "--quiet"];
    let o = engram_limited(&args, 3_000_000, 120);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("2 point(s) at once") && err.contains("lower --jobs"),
        "{err}"
    );
    assert!(!Path::new(&out).join("points").exists(), "no point ran");
}

#[test]
fn protocol_inputs_that_would_not_fit_or_explode_are_refused() {
    let recall = repo_file("configs/recall.toml");
    refused(
        &recall,
        &["stimuli.max_rate_hz=1e300"],
        &["stimuli.max_rate_hz: must be at most 1e6 Hz", "got 1e300"],
    );
    refused(
        &recall,
        &["experiment.cue.spikes=4294967295"],
        &[
            "experiment.cue.spikes: 4294967295 spikes at 200 Hz last",
            "recall window",
        ],
    );
    refused(
        &repo_file("configs/recall-fixed-no-tags.toml"),
        &["experiment.pointer_size=4294967295"],
        &["experiment.pointer_size:", "at most 2^32 - 2"],
    );
}

#[test]
fn recall_metric_rules_out_of_range_are_refused() {
    let recall = repo_file("configs/recall.toml");
    for (set, message) in [
        (
            "experiment.metrics.min_recall_fraction=0",
            "experiment.metrics.min_recall_fraction: 0 must be a fraction in (0, 1]",
        ),
        (
            "experiment.metrics.min_recall_fraction=1.5",
            "experiment.metrics.min_recall_fraction: 1.5 must be a fraction in (0, 1]",
        ),
        (
            "experiment.metrics.significance=0.7",
            "experiment.metrics.significance: 0.7 must be a significance level in (0, 0.5]",
        ),
        (
            "experiment.metrics.latency_bin_ms=0",
            "experiment.metrics.latency_bin_ms: 0 must be a number > 0",
        ),
        (
            "experiment.cue.fraction=0",
            "experiment.cue.fraction: 0: the fraction of the pointer group that is cued must be in (0, 1]",
        ),
        (
            "experiment.kwta.cortex=1.5",
            "experiment.kwta.cortex: 1.5: give a whole number of cells (>= 1), a fraction",
        ),
        (
            "experiment.kwta_window_ms=0",
            "experiment.kwta_window_ms: 0 must be a number > 0",
        ),
    ] {
        refused(&recall, &[set], &[message]);
    }
}

#[test]
fn names_that_cannot_name_an_output_group_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(small_cuba()).unwrap();
    for (i, name) in ["a/b", "/", ".."].iter().enumerate() {
        let edited = text
            .replace("[populations.E]", &format!("[populations.\"{name}\"]"))
            .replace("= \"E\"", &format!("= \"{name}\""));
        let cfg = dir.path().join(format!("names{i}.toml"));
        std::fs::write(&cfg, edited).unwrap();
        refused(&cfg, &[], &["populations:", "must not"]);
    }
}
