//! The SONATA output file, the JSON summary, output paths and `engram inspect`.

use std::path::Path;

use engram_io::Sorting;
use hdf5::types::VarLenUnicode;

use crate::common::{
    assert_ok, code, dir_entries, engram, engram_in, pop_u64, population_names, read_spikes,
    run_json, small_cuba, stderr, stdout,
};

/// One run of the small network shared by the checks on its file.
fn run_small(dir: &Path) -> (std::path::PathBuf, serde_json::Value) {
    let out = dir.join("out.h5");
    let summary = run_json(&small_cuba(), &out, &["--threads", "2"]);
    (out, summary)
}

#[test]
fn spikes_are_sorted_in_range_and_described() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let (out, summary) = run_small(tmp.path());
    let duration = summary["duration_ms"].as_f64().expect("duration_ms");
    assert_eq!(duration, 200.0);
    let f = hdf5::File::open(&out).expect("the output opens");
    let pops = population_names(&summary);
    assert_eq!(pops, ["E", "I"]);
    for pop in &pops {
        let n = pop_u64(&summary, pop, "n");
        let s = read_spikes(&out, pop);
        assert_eq!(s.timestamps.len(), s.node_ids.len(), "{pop}");
        assert!(!s.timestamps.is_empty(), "{pop}: no spikes");
        for k in 1..s.timestamps.len() {
            let prev = (s.timestamps[k - 1], s.node_ids[k - 1]);
            let cur = (s.timestamps[k], s.node_ids[k]);
            assert!(
                prev.0 < cur.0 || (prev.0 == cur.0 && prev.1 < cur.1),
                "{pop}: spike {k} {cur:?} is not after {prev:?}"
            );
        }
        for (&t, &id) in s.timestamps.iter().zip(&s.node_ids) {
            assert!(
                t > 0.0 && t <= duration,
                "{pop}: spike time {t} outside (0, {duration}]"
            );
            assert!(id < n, "{pop}: node id {id} >= n = {n}");
        }
        let g = f.group(&format!("spikes/{pop}")).expect("the spike group");
        let sorting = g
            .attr("sorting")
            .and_then(|a| a.read_scalar::<Sorting>())
            .expect("a sorting attribute");
        assert_eq!(sorting, Sorting::by_time, "{pop}");
        let n_nodes = g
            .attr("n_nodes")
            .and_then(|a| a.read_scalar::<u64>())
            .expect("an n_nodes attribute");
        assert_eq!(n_nodes, n, "{pop}");
        let units = g
            .dataset("timestamps")
            .and_then(|d| d.attr("units"))
            .and_then(|a| a.read_scalar::<VarLenUnicode>())
            .expect("a units attribute on the timestamps");
        assert_eq!(units.as_str(), "ms", "{pop}");
    }
    let config = f
        .dataset("engram/config")
        .and_then(|d| d.read_scalar::<VarLenUnicode>())
        .expect("/engram/config");
    let text = std::fs::read_to_string(small_cuba()).expect("the config reads");
    assert_eq!(config.as_str(), text);
}

#[test]
fn json_summary_has_the_documented_keys_and_matching_counts() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let (out, summary) = run_small(tmp.path());
    for key in [
        "populations",
        "wall_s",
        "build_s",
        "sim_s",
        "syn_events",
        "output",
    ] {
        assert!(summary.get(key).is_some(), "no `{key}` in {summary}");
    }
    for key in ["wall_s", "build_s", "sim_s"] {
        let v = summary[key].as_f64().unwrap_or(-1.0);
        assert!(v >= 0.0, "{key} = {v}");
    }
    assert!(summary["syn_events"].as_u64().unwrap_or(0) > 0);
    assert_eq!(summary["output"].as_str(), out.to_str());
    let mut total = 0;
    for pop in population_names(&summary) {
        let n = pop_u64(&summary, &pop, "n");
        let spikes = pop_u64(&summary, &pop, "spikes");
        let rate = summary["populations"][&pop]["rate_hz"]
            .as_f64()
            .expect("rate_hz");
        assert_eq!(
            spikes,
            read_spikes(&out, &pop).timestamps.len() as u64,
            "{pop}: JSON count vs dataset length"
        );
        let want = spikes as f64 / n as f64 / 0.2;
        assert!(
            (rate - want).abs() < 1e-9,
            "{pop}: rate_hz {rate}, want {want}"
        );
        total += spikes;
    }
    assert_eq!(summary["spikes"].as_u64(), Some(total));
}

#[test]
fn default_output_path_can_be_written_twice() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    std::fs::copy(small_cuba(), tmp.path().join("small_cuba.toml")).expect("copy");
    for round in 0..2 {
        let o = engram_in(
            Some(tmp.path()),
            [
                "run",
                "small_cuba.toml",
                "--quiet",
                "--threads",
                "1",
                "--set",
                "simulation.duration_ms=50",
            ],
        );
        assert_ok(&o, &format!("run {round}"));
        assert_eq!(dir_entries(tmp.path()), ["results", "small_cuba.toml"]);
        assert_eq!(
            dir_entries(&tmp.path().join("results")),
            ["small_cuba.h5"],
            "run {round}"
        );
        let s = read_spikes(&tmp.path().join("results/small_cuba.h5"), "E");
        assert!(!s.timestamps.is_empty(), "run {round}");
    }
}

#[test]
fn an_existing_output_needs_force() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("out.h5");
    std::fs::write(&out, b"keep me").expect("write");
    let args = |force: bool| {
        let mut a: Vec<std::ffi::OsString> = vec![
            "run".into(),
            small_cuba().into(),
            "-o".into(),
            out.clone().into(),
            "--quiet".into(),
            "--set".into(),
            "simulation.duration_ms=20".into(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let o = engram(args(false));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(stderr(&o).contains("out.h5"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).expect("read"), b"keep me");
    assert_eq!(dir_entries(tmp.path()), ["out.h5"]);

    let o = engram(args(true));
    assert_ok(&o, "run --force");
    assert_eq!(dir_entries(tmp.path()), ["out.h5"]);
    hdf5::File::open(&out).expect("the replaced file is HDF5");
}

#[test]
fn inspect_shows_populations_and_counts() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let (out, summary) = run_small(tmp.path());
    let o = engram(["inspect".as_ref(), out.as_os_str()]);
    assert_ok(&o, "inspect");
    let text = stdout(&o);
    for pop in population_names(&summary) {
        let n = pop_u64(&summary, &pop, "n");
        let spikes = pop_u64(&summary, &pop, "spikes");
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(pop.as_str()))
            .unwrap_or_else(|| panic!("no line for {pop} in:\n{text}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[1], n.to_string(), "{line}");
        assert_eq!(fields[2], spikes.to_string(), "{line}");
    }

    let o = engram(["inspect".as_ref(), out.as_os_str(), "--json".as_ref()]);
    assert_ok(&o, "inspect --json");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    for pop in population_names(&summary) {
        assert_eq!(
            j["populations"][&pop]["spikes"].as_u64(),
            Some(pop_u64(&summary, &pop, "spikes")),
            "{pop}"
        );
        assert_eq!(
            j["populations"][&pop]["n"].as_u64(),
            Some(pop_u64(&summary, &pop, "n")),
            "{pop}"
        );
    }
    // Numbers are JSON numbers, text is text.
    assert_eq!(j["provenance"]["seed"].as_u64(), Some(7));
    assert_eq!(j["provenance"]["dt_ms"].as_f64(), Some(0.1));
    assert!(j["provenance"]["sim_s"].is_f64(), "{}", j["provenance"]);
    assert!(j["provenance"]["version"].is_string());
    assert!(j["inputs"].as_array().is_some_and(Vec::is_empty));
    assert!(j["reports"].as_array().is_some_and(Vec::is_empty));
    assert!(j.get("recall").is_none());
}

#[test]
fn inspect_shows_the_recall_metrics_and_the_reports() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("recall.h5");
    let summary = crate::common::run_json(
        &crate::common::repo_file("tests/configs/small_recall.toml"),
        &out,
        &[
            "--set",
            r#"output.reports=[{ population = "cortex", variables = ["v"], neurons = [0, 3, 5], start_ms = 10.0, stop_ms = 20.0 }]"#,
        ],
    );
    let o = engram(["inspect".as_ref(), out.as_os_str(), "--json".as_ref()]);
    assert_ok(&o, "inspect --json");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    // The recall results as `engram run --json` gives them.
    for key in ["recall", "naming", "layers", "recall_rules"] {
        assert_eq!(j[key], summary[key], "{key}");
    }
    assert!(j["recall"]["identification_accuracy"].is_f64());
    let r = &j["reports"][0];
    assert_eq!(r["population"], "cortex");
    assert_eq!(r["variable"], "v");
    assert_eq!(r["units"], "mV");
    assert_eq!(r["neurons"].as_u64(), Some(3));
    // Samples at 10.1, 10.2, ..., 20.0.
    assert_eq!(r["samples"].as_u64(), Some(100));
    assert_eq!(r["t_range_ms"], serde_json::json!([10.1, 20.0]));
    let low = r["value_range"][0].as_f64().expect("a number");
    assert!((-90.0..-40.0).contains(&low), "{r}");

    let o = engram(["inspect".as_ref(), out.as_os_str()]);
    assert_ok(&o, "inspect");
    let text = stdout(&o);
    assert!(text.contains("recall of 4 memories"), "{text}");
    assert!(text.contains("identification accuracy"), "{text}");
    assert!(
        text.lines().any(
            |l| l.split_whitespace().take(4).collect::<Vec<_>>() == ["cortex", "v", "3", "100"]
        ),
        "{text}"
    );
}

#[test]
fn inspect_rejects_missing_and_foreign_files() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let missing = tmp.path().join("missing.h5");
    let o = engram(["inspect".as_ref(), missing.as_os_str()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("missing.h5"), "{}", stderr(&o));

    let foreign = tmp.path().join("foreign.h5");
    std::fs::write(&foreign, b"not HDF5").expect("write");
    let o = engram(["inspect".as_ref(), foreign.as_os_str()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("foreign.h5"), "{}", stderr(&o));
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    // `engram inspect OUT.h5 | head -1`: the reader is gone before the command prints.
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = run_small(dir.path());
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_engram"))
        .arg("inspect")
        .arg(&file)
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Writes a SONATA file with one population `cortex` of 4000 neurons sorted by time.
fn write_cortex(path: &Path, timestamps: &[f64], node_ids: &[u64]) {
    let f = hdf5::File::create(path).expect("create");
    let g = f.create_group("spikes/cortex").expect("group");
    g.new_attr::<u64>()
        .create("n_nodes")
        .and_then(|a| a.write_scalar(&4000u64))
        .expect("n_nodes");
    g.new_attr::<Sorting>()
        .create("sorting")
        .and_then(|a| a.write_scalar(&Sorting::by_time))
        .expect("sorting");
    g.new_dataset_builder()
        .with_data(timestamps)
        .create("timestamps")
        .expect("timestamps");
    g.new_dataset_builder()
        .with_data(node_ids)
        .create("node_ids")
        .expect("node_ids");
}

/// Runs `engram inspect FILE` or `engram plot FILE` with HDF5 file locking off (a child
/// of another test may hold a descriptor of the file, inherited while it was open).
fn read_cmd(cmd: &str, file: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_engram"))
        .arg(cmd)
        .arg(file)
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("the engram binary starts")
}

#[test]
fn inspect_and_plot_reject_inconsistent_spike_groups() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let t: Vec<f64> = (0..40).map(|k| f64::from(k) * 0.5).collect();
    let mut ids: Vec<u64> = (0..40).collect();
    ids[17] = 4000;
    let cases = [
        (
            "ids.h5",
            t.clone(),
            ids,
            "node_ids[17] = 4000 is not below n_nodes = 4000",
        ),
        (
            "lengths.h5",
            vec![1.0, 2.0, 3.0],
            vec![0, 1],
            "timestamps and node_ids have different lengths (3, 2)",
        ),
        (
            "order.h5",
            vec![1.0, 3.0, 2.0],
            vec![0, 1, 2],
            "timestamps[2] = 2 is before timestamps[1] = 3 (sorting = by_time)",
        ),
        (
            "nan.h5",
            vec![1.0, f64::NAN],
            vec![0, 1],
            "timestamps[1] = NaN is not finite",
        ),
    ];
    for (name, t, ids, what) in cases {
        let file = tmp.path().join(name);
        write_cortex(&file, &t, &ids);
        let expected = format!("error: {}: /spikes/cortex: {what}", file.display());
        for cmd in ["inspect", "plot"] {
            let o = read_cmd(cmd, &file);
            assert_eq!(code(&o), 2, "{cmd} {name}: {}", stderr(&o));
            assert_eq!(stderr(&o).trim_end(), expected, "{cmd} {name}");
        }
        let stem = name.trim_end_matches(".h5");
        assert!(!tmp.path().join(format!("{stem}_plots")).exists(), "{name}");
    }
}
