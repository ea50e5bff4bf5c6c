//! `engram sweep`, `engram merge` and `engram plot` on sweep folders.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{assert_ok, code, dir_entries, engram, repo_file, small_cuba, stderr, stdout};

/// Writes a sweep file `name` into `dir` whose base is `base` (absolute) and whose body is
/// `body`.
fn sweep_file(dir: &Path, name: &str, base: &Path, body: &str) -> PathBuf {
    let path = dir.join(name);
    let text = format!("base = {:?}\n{body}", base.display().to_string());
    std::fs::write(&path, text).expect("the sweep file is written");
    path
}

/// `engram sweep FILE -o OUT --quiet ARGS...`
fn sweep(file: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    let mut all: Vec<std::ffi::OsString> = vec![
        "sweep".into(),
        file.into(),
        "-o".into(),
        out.into(),
        "--quiet".into(),
    ];
    all.extend(args.iter().map(Into::into));
    engram(&all)
}

/// Fails unless the sweep exited with 2, named every needle and wrote nothing.
fn assert_refused(o: &std::process::Output, out: &Path, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(code(o), 2, "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
    assert!(!out.exists(), "{} was created: {err}", out.display());
}

/// The cells of a CSV line (quoted cells may hold commas and doubled quotes).
fn cells(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("a cell").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().expect("a cell").push(c),
        }
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The small CUBA network for 50 ms: a point takes a few milliseconds.
const FAST: &str = "\"simulation.duration_ms\" = [50.0]\n";

#[test]
fn a_sweep_writes_points_and_a_summary_with_parameters_and_seeds() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = sweep_file(
        tmp.path(),
        "s.toml",
        &small_cuba(),
        &format!(
            "repeats = 2\n[axes]\n{FAST}\"projections.E_to_E.weight_pa\" = [10.0, 30.0]\n\
             \"inputs.drive.neurons\" = [\"all\", {{ range = [0, 100] }}]\n"
        ),
    );
    let out = tmp.path().join("out");
    let o = sweep(&file, &out, &["--jobs", "2", "--json"]);
    assert_ok(&o, "engram sweep");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(j["points"], 8);
    assert_eq!(j["done"], 8);
    assert_eq!(j["failed"].as_array().map(Vec::len), Some(0));
    let names = dir_entries(&out.join("points"));
    assert_eq!(names.len(), 16, "{names:?}");
    assert_eq!(names[0], "0000.h5");
    assert_eq!(names[15], "0007.json");

    let csv = read(&out.join("summary.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 9, "{csv}");
    assert!(lines[0].starts_with(
        "index,repeat,seed,simulation.duration_ms,projections.E_to_E.weight_pa,\
         inputs.drive.neurons,status,"
    ));
    for col in [
        "populations.E.rate_hz",
        "populations.I.spikes",
        "n_synapses",
    ] {
        assert!(lines[0].split(',').any(|c| c == col), "{col}: {}", lines[0]);
    }
    for timing in ["wall_s", "sim_s", "build_s", "peak_rss_mb", "output"] {
        assert!(!lines[0].contains(timing), "{timing}: {}", lines[0]);
    }
    assert!(lines[1].starts_with("0,0,"), "{}", lines[1]);
    assert!(lines[1].contains(",50.0,10.0,all,done,"), "{}", lines[1]);
    assert!(
        lines[4].contains(",50.0,10.0,\"{ range = [0, 100] }\",done,"),
        "{}",
        lines[4]
    );
    assert!(read(&out.join("timings.csv")).starts_with("index,"));

    // The point's output says what it is; its seed is the one in the summary.
    let seed: u64 = lines[4]
        .split(',')
        .nth(2)
        .expect("a seed")
        .parse()
        .expect("u64");
    let f = hdf5::File::open(out.join("points/0003.h5")).expect("the point's output");
    let attr = |g: &hdf5::Group, name: &str| -> String {
        g.attr(name)
            .and_then(|a| a.read_scalar::<hdf5::types::VarLenUnicode>())
            .map(|s| s.to_string())
            .unwrap_or_else(|e| panic!("attribute {name}: {e}"))
    };
    let params = f.group("engram/parameters").expect("/engram/parameters");
    assert_eq!(attr(&params, "projections.E_to_E.weight_pa"), "10.0");
    assert_eq!(
        attr(&params, "inputs.drive.neurons"),
        "{ range = [0, 100] }"
    );
    assert_eq!(attr(&params, "sweep.index"), "3");
    let file_seed: u64 = f
        .group("engram")
        .and_then(|g| g.attr("seed"))
        .and_then(|a| a.read_scalar::<u64>())
        .expect("the seed attribute");
    assert_eq!(file_seed, seed);
    // The two repeats of a grid position have different seeds and spikes.
    let row = |i: usize| {
        lines[i + 1]
            .split(',')
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_ne!(row(2)[2], row(3)[2]);

    // summary.h5 holds the same table.
    let h = hdf5::File::open(out.join("summary.h5")).expect("summary.h5");
    let index = h
        .dataset("index")
        .and_then(|d| d.read_raw::<u64>())
        .expect("index");
    assert_eq!(index, (0..8).collect::<Vec<u64>>());
    let w = h
        .dataset("parameters/projections.E_to_E.weight_pa")
        .and_then(|d| d.read_raw::<f64>())
        .expect("a numeric parameter column");
    assert_eq!(w, [10.0, 10.0, 10.0, 10.0, 30.0, 30.0, 30.0, 30.0]);
    let rate = h
        .dataset("metrics/populations.E.rate_hz")
        .and_then(|d| d.read_raw::<f64>())
        .expect("a metric column");
    let csv_rate: Vec<f64> = {
        let head = cells(lines[0]);
        let k = head
            .iter()
            .position(|c| c == "populations.E.rate_hz")
            .expect("col");
        (1..9)
            .map(|i| cells(lines[i])[k].parse().expect("f64"))
            .collect()
    };
    assert_eq!(rate, csv_rate);
}

#[test]
fn the_dry_run_lists_every_point_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = sweep_file(
        tmp.path(),
        "s.toml",
        &small_cuba(),
        "repeats = 3\n[axes]\n\"neuron.tau_m_ms\" = { linspace = [10.0, 20.0, 2] }\n",
    );
    let o = engram(["sweep".as_ref(), file.as_os_str(), "--dry-run".as_ref()]);
    assert_ok(&o, "engram sweep --dry-run");
    let text = stdout(&o);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("neuron.tau_m_ms")),
        "{text}"
    );
    assert!(text.contains("6 of 6 points"), "{text}");
    assert_eq!(dir_entries(tmp.path()), ["s.toml"]);
    let o = engram([
        "sweep".as_ref(),
        file.as_os_str(),
        "--dry-run".as_ref(),
        "--json".as_ref(),
    ]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(j["points"].as_array().map(Vec::len), Some(6));
    assert_eq!(j["points"][5]["parameters"]["neuron.tau_m_ms"], "20.0");
    // Only this shard's points.
    let o = engram([
        "sweep".as_ref(),
        file.as_os_str(),
        "--dry-run".as_ref(),
        "--shard".as_ref(),
        "1/4".as_ref(),
    ]);
    assert!(stdout(&o).contains("2 of 6 points"), "{}", stdout(&o));
}

#[test]
fn bad_values_and_paths_stop_the_sweep_before_anything_is_written() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("out");
    let cases: &[(&str, &[&str])] = &[
        // A value the config rejects, at the second point.
        (
            "[axes]\n\"neuron.tau_m_ms\" = [10.0, -1.0]\n",
            &[
                "axis \"neuron.tau_m_ms\"",
                "point 1",
                "neuron.tau_m_ms = -1.0",
                "set by the sweep",
            ],
        ),
        // A value of the wrong type.
        (
            "[axes]\n\"populations.I.n\" = [100, \"many\"]\n",
            &["axis \"populations.I.n\"", "point 1"],
        ),
        // A path the config does not have.
        (
            "[axes]\n\"neuron.tau_mm_ms\" = [10.0]\n",
            &["axis \"neuron.tau_mm_ms\"", "tau_mm_ms"],
        ),
        // A projection that does not exist.
        (
            "[axes]\n\"projections.E_to_X.weight_pa\" = [1.0]\n",
            &["axis \"projections.E_to_X.weight_pa\"", "E_to_X"],
        ),
        // A path through a value.
        (
            "[axes]\n\"neuron.tau_m_ms.x\" = [1.0]\n",
            &["neuron.tau_m_ms"],
        ),
        // A zip group whose second step is bad.
        (
            "[zip]\n\"neuron.v_th_mv\" = [-50.0, -70.0]\n\"neuron.v_reset_mv\" = [-60.0, -60.0]\n",
            &["point 1", "neuron.v_th_mv = -70.0"],
        ),
    ];
    for (body, needles) in cases {
        let file = sweep_file(tmp.path(), "s.toml", &small_cuba(), body);
        let o = sweep(&file, &out, &[]);
        assert_refused(&o, &out, needles);
        assert!(stderr(&o).contains("s.toml"), "{}", stderr(&o));
    }
}

#[test]
fn bad_sweep_files_exit_2_naming_the_field_and_write_nothing() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("out");
    let write = |text: &str| {
        let p = tmp.path().join("bad.toml");
        std::fs::write(&p, text).expect("written");
        p
    };
    let base = format!("base = {:?}\n", small_cuba().display().to_string());
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("repeats = 2\n".into(), vec!["bad.toml", "base", "missing"]),
        (
            "base = \"nowhere.toml\"\n".into(),
            vec!["base", "nowhere.toml"],
        ),
        (
            format!("{base}[axes]\n\"neuron.tau_m_ms\" = {{ linspace = [1.0, 2.0] }}\n"),
            vec!["axes.\"neuron.tau_m_ms\"", "linspace = [start, stop, n]"],
        ),
        (
            format!(
                "{base}[zip]\n\"neuron.v_th_mv\" = [1.0, 2.0]\n\"neuron.v_reset_mv\" = [1.0]\n"
            ),
            vec!["zip.\"neuron.v_reset_mv\"", "same number"],
        ),
        (format!("{base}axis = 3\n"), vec!["axis", "unknown key"]),
        (format!("{base}[axes\n"), vec!["bad.toml", "line"]),
    ];
    for (text, needles) in &cases {
        let file = write(text);
        let o = sweep(&file, &out, &[]);
        assert_refused(&o, &out, needles);
    }
    // A base config that is itself invalid.
    let bad_base = tmp.path().join("bad_base.toml");
    let text = read(&small_cuba()).replace("dt_ms = 0.1", "dt_ms = -1.0");
    std::fs::write(&bad_base, text).expect("written");
    let file = sweep_file(tmp.path(), "s.toml", &bad_base, "");
    assert_refused(&sweep(&file, &out, &[]), &out, &["base", "dt_ms"]);
    // Bad options.
    let file = sweep_file(tmp.path(), "s.toml", &small_cuba(), "");
    assert_refused(
        &sweep(&file, &out, &["--shard", "2/2"]),
        &out,
        &["--shard 2/2"],
    );
    assert_refused(&sweep(&file, &out, &["--jobs", "0"]), &out, &["--jobs"]);
}

/// inode and modification time of every file of a folder.
fn stamps(dir: &Path) -> Vec<(String, u64, i64, i64)> {
    dir_entries(dir)
        .into_iter()
        .map(|n| {
            let m = std::fs::metadata(dir.join(&n)).expect("metadata");
            (n, m.ino(), m.mtime(), m.mtime_nsec())
        })
        .collect()
}

fn count_done(points: &Path) -> usize {
    std::fs::read_dir(points)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_sweep_killed_with_sigkill_resumes_without_recomputing_and_ends_identical() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    // 8 points of the 4000-neuron CUBA network for 1 s, about 0.15 s each.
    let file = sweep_file(
        tmp.path(),
        "s.toml",
        &repo_file("configs/cuba.toml"),
        "repeats = 4\n[axes]\n\"simulation.duration_ms\" = [1000.0]\n\
         \"projections.E_to_E.weight_pa\" = [18.0, 20.25]\n",
    );
    let whole = tmp.path().join("whole");
    assert_ok(
        &sweep(&file, &whole, &["--jobs", "1"]),
        "the uninterrupted sweep",
    );

    let cut = tmp.path().join("cut");
    let mut child = Command::new(env!("CARGO_BIN_EXE_engram"))
        .args([
            "sweep".as_ref(),
            file.as_os_str(),
            "-o".as_ref(),
            cut.as_os_str(),
        ])
        .args(["--jobs", "1", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sweep starts");
    let points = cut.join("points");
    let t0 = Instant::now();
    while count_done(&points) < 2 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("the sweep ends");
    let done = count_done(&points);
    assert!((2..8).contains(&done), "{done} points done when killed");
    assert!(!cut.join("summary.csv").exists());

    // Without --resume the finished points are not silently recomputed or mixed.
    let o = sweep(&file, &cut, &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));

    let finished: Vec<_> = stamps(&points)
        .into_iter()
        .filter(|(n, ..)| {
            let stem = n.split('.').next().unwrap_or("");
            points.join(format!("{stem}.json")).exists() && !n.starts_with('.')
        })
        .collect();
    assert_eq!(finished.len(), 2 * done, "{finished:?}");
    // What a point killed while writing leaves behind (the last point is never done yet).
    std::fs::write(points.join(".0007.h5.tmp-1"), "half a file").expect("written");
    let o = sweep(&file, &cut, &["--resume", "--json"]);
    assert_ok(&o, "the resumed sweep");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(j["skipped"], done);
    assert_eq!(j["ran"], 8 - done);
    let after = stamps(&points);
    for f in &finished {
        assert!(after.contains(f), "{f:?} was rewritten");
    }
    assert_eq!(
        after.iter().filter(|(n, ..)| n.starts_with('.')).count(),
        0,
        "temporary files are left: {after:?}"
    );
    assert_eq!(
        read(&cut.join("summary.csv")),
        read(&whole.join("summary.csv"))
    );
}

#[test]
fn two_shards_and_a_merge_give_the_unsharded_summary() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = sweep_file(
        tmp.path(),
        "s.toml",
        &small_cuba(),
        &format!("repeats = 2\n[axes]\n{FAST}\"neuron.tau_m_ms\" = [15.0, 20.0, 25.0]\n"),
    );
    let whole = tmp.path().join("whole");
    assert_ok(&sweep(&file, &whole, &[]), "the unsharded sweep");

    let sharded = tmp.path().join("sharded");
    assert_ok(&sweep(&file, &sharded, &["--shard", "0/2"]), "shard 0");
    let shard0 = read(&sharded.join("summary.shard-0-of-2.csv"));
    assert_eq!(shard0.lines().count(), 4, "{shard0}");
    // Before the second shard ran, the merge names the missing points.
    let o = engram(["merge".as_ref(), sharded.as_os_str()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("missing points") && stderr(&o).contains("1, 3, 5"),
        "{}",
        stderr(&o)
    );

    // The second shard from a Slurm array numbered 1-2.
    let o = Command::new(env!("CARGO_BIN_EXE_engram"))
        .args([
            "sweep".as_ref(),
            file.as_os_str(),
            "-o".as_ref(),
            sharded.as_os_str(),
        ])
        .arg("--quiet")
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "2")
        .output()
        .expect("the shard runs");
    assert_ok(&o, "shard 1 from Slurm");
    assert!(sharded.join("summary.shard-1-of-2.csv").exists());
    let o = engram(["merge".as_ref(), sharded.as_os_str(), "--json".as_ref()]);
    assert_ok(&o, "engram merge");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(j["done"], 6);
    assert_eq!(
        read(&sharded.join("summary.csv")),
        read(&whole.join("summary.csv"))
    );
}

#[test]
fn a_failing_point_does_not_stop_the_others_and_gives_exit_1() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    // A coupling this strong passes the config check but makes the network unstable,
    // which only building it finds.
    let file = sweep_file(
        tmp.path(),
        "s.toml",
        &repo_file("tests/configs/gap_ach.toml"),
        "[axes]\n\"simulation.duration_ms\" = [50.0]\n\
         \"projections.sensory_to_cortex.gap.kappa_ns\" = [0.5, 10000.0, 1.0]\n\
         \"ach.pulses.0.amplitude\" = [0.5]\n\"ach.pulses.0.time_ms\" = [20.0]\n",
    );
    let out = tmp.path().join("out");
    let o = sweep(&file, &out, &["--jobs", "1"]);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("1 point(s) failed") && err.contains("point 1:"),
        "{err}"
    );
    assert!(err.contains("unstable"), "{err}");
    assert_eq!(
        dir_entries(&out.join("points")),
        ["0000.h5", "0000.json", "0001.error", "0002.h5", "0002.json"]
    );
    let csv = read(&out.join("summary.csv"));
    let status: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(7).expect("status"))
        .collect();
    assert_eq!(status, ["done", "failed", "done"], "{csv}");
    // The array edit reached the run.
    let f = hdf5::File::open(out.join("points/0000.h5")).expect("output");
    let text = f
        .dataset("engram/config")
        .and_then(|d| d.read_scalar::<hdf5::types::VarLenUnicode>())
        .expect("the config text")
        .to_string();
    assert!(
        text.contains("amplitude = 0.5") && text.contains("time_ms = 20.0"),
        "{text}"
    );
    // --resume runs the failed point again (and it fails again).
    let o = sweep(&file, &out, &["--resume"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
}

#[test]
fn a_folder_of_another_sweep_is_not_mixed_with_this_one() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let a = sweep_file(
        tmp.path(),
        "a.toml",
        &small_cuba(),
        &format!("[axes]\n{FAST}\"neuron.tau_m_ms\" = [15.0, 20.0]\n"),
    );
    let b = sweep_file(
        tmp.path(),
        "b.toml",
        &small_cuba(),
        &format!("[axes]\n{FAST}\"neuron.tau_m_ms\" = [15.0, 30.0]\n"),
    );
    let out = tmp.path().join("out");
    assert_ok(&sweep(&a, &out, &[]), "sweep a");
    let before = read(&out.join("summary.csv"));
    for args in [&[][..], &["--resume"][..]] {
        let o = sweep(&b, &out, args);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(stderr(&o).contains("another sweep"), "{}", stderr(&o));
    }
    assert_eq!(read(&out.join("summary.csv")), before);
    assert_ok(&sweep(&b, &out, &["--force"]), "sweep b with --force");
    assert!(read(&out.join("summary.csv")).contains(",30.0,"));
    // A folder that is no sweep folder is refused too.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::write(other.join("notes.txt"), "mine").expect("written");
    let o = sweep(&a, &other, &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(dir_entries(&other), ["notes.txt"]);
}

#[test]
fn plot_draws_a_line_for_one_axis_and_a_heatmap_for_two() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let one = sweep_file(
        tmp.path(),
        "one.toml",
        &small_cuba(),
        &format!("repeats = 2\n[axes]\n{FAST}\"neuron.tau_m_ms\" = [10.0, 20.0, 30.0]\n"),
    );
    let two = sweep_file(
        tmp.path(),
        "two.toml",
        &small_cuba(),
        &format!(
            "[axes]\n{FAST}\"neuron.tau_m_ms\" = [10.0, 20.0]\n\
             \"projections.E_to_E.weight_pa\" = {{ logspace = [5.0, 50.0, 3] }}\n"
        ),
    );
    for (file, name) in [(&one, "one"), (&two, "two")] {
        let out = tmp.path().join(name);
        assert_ok(&sweep(file, &out, &[]), "the sweep");
        let o = engram([
            "plot".as_ref(),
            out.as_os_str(),
            "--metric".as_ref(),
            "populations.E.rate_hz".as_ref(),
        ]);
        assert_ok(&o, "engram plot DIR --metric");
        let png = out.join("populations.E.rate_hz.png");
        assert_eq!(stdout(&o).trim(), png.display().to_string());
        let img = image::open(&png).expect("a PNG").to_rgb8();
        assert_eq!(img.dimensions(), (1200, 800));
        // Not blank: many colours.
        let colours: std::collections::HashSet<_> = img.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 20, "{name}: {} colours", colours.len());
    }
    let out = tmp.path().join("one");
    let o = engram(["plot".as_ref(), out.as_os_str()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--metric") && stderr(&o).contains("populations.E.rate_hz"));
    let o = engram([
        "plot".as_ref(),
        out.as_os_str(),
        "--metric".as_ref(),
        "recall.identification_accuracy".as_ref(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not in the summary"), "{}", stderr(&o));
}

#[test]
fn sweep_figures_name_their_axes_and_take_every_format_and_a_log_colour_scale() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = sweep_file(
        tmp.path(),
        "two.toml",
        &small_cuba(),
        &format!(
            "[axes]\n{FAST}\"neuron.tau_m_ms\" = [10.0, 20.0]\n\
             \"projections.E_to_E.weight_pa\" = [10.0, 40.0]\n"
        ),
    );
    let out = tmp.path().join("two");
    assert_ok(&sweep(&file, &out, &[]), "the sweep");
    let draw = |metric: &str, extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "plot".as_ref(),
            out.as_os_str(),
            "--metric".as_ref(),
            metric.as_ref(),
        ];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        engram(args)
    };
    for (format, magic) in [("svg", &b"<svg "[..]), ("pdf", &b"%PDF-"[..])] {
        let o = draw("populations.E.rate_hz", &["--format", format]);
        assert_ok(&o, format);
        let path = out.join(format!("populations.E.rate_hz.{format}"));
        assert_eq!(stdout(&o).trim(), path.display().to_string());
        let bytes = std::fs::read(&path).expect("written");
        assert!(bytes.starts_with(magic) && bytes.len() > 1000, "{format}");
    }
    let svg = std::fs::read_to_string(out.join("populations.E.rate_hz.svg")).unwrap();
    // Axes by full name and unit, and the colour bar labelled with the metric's.
    for text in [
        "tau m (ms)",
        "synaptic weight, E → E (pA)",
        "firing rate of E (Hz)",
    ] {
        assert!(svg.contains(text), "no {text:?}");
    }
    for dotted in ["neuron.tau_m_ms", "projections.E_to_E.weight_pa"] {
        assert!(!svg.contains(dotted), "{dotted} drawn");
    }
    // A logarithmic colour scale, and its refusal where a mean is 0.
    let o = draw("populations.E.rate_hz", &["--log", "--format", "svg"]);
    assert_ok(&o, "--log");
    let log = std::fs::read_to_string(out.join("populations.E.rate_hz.svg")).unwrap();
    assert!(log.contains("firing rate of E (Hz), log scale"));
    assert_ne!(log, svg);
    let o = draw(
        "populations.E.rate_hz",
        &["--log", "--width", "700", "--height", "500"],
    );
    assert_ok(&o, "--log, sized");
    let img = image::open(out.join("populations.E.rate_hz.png"))
        .expect("a PNG")
        .to_rgb8();
    assert_eq!(img.dimensions(), (700, 500));
}

#[test]
fn the_base_needs_to_be_valid_only_with_the_sweep_s_edits() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    // 100 excitatory neurons: the drive's range [0, 400) no longer fits...
    let base = tmp.path().join("base.toml");
    let text = read(&small_cuba()).replacen("n = 800", "n = 100", 1);
    std::fs::write(&base, text).expect("written");
    let o = engram(["check".as_ref(), base.as_os_str()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // ... which every point of the sweep changes.
    let file = sweep_file(
        tmp.path(),
        "s.toml",
        &base,
        "repeats = 2\n[axes]\n\"inputs.drive.neurons\" = [\"all\", { range = [0, 50] }]\n",
    );
    let o = engram(["sweep".as_ref(), file.as_os_str(), "--dry-run".as_ref()]);
    assert_ok(&o, "the dry run");
    assert!(stdout(&o).contains("4 of 4 points"), "{}", stdout(&o));
}
