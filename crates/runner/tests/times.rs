//! Times in the output are the decimal times of their steps: `k dt` as the f64 nearest to
//! the decimal (`0.3`, not `3 * 0.1 = 0.30000000000000004`), so they print as the grid's
//! decimals and join with times computed elsewhere; and a run of `T` ms has its spikes in
//! `(0, T]`.

use std::path::Path;

use crate::common::{read_spikes, repo_file, run_json};

/// Panics unless every time is the decimal time of a step of 0.1 ms: the f64 nearest to
/// `k / 10`, whose shortest decimal (what Python's `repr` prints) has at most one digit
/// after the point, so that `t == round(t, 4)` in Python.
fn assert_decimal_steps(what: &str, times: &[f64]) {
    assert!(!times.is_empty(), "{what}: no times");
    for (i, &t) in times.iter().enumerate() {
        let k = (t * 10.0).round();
        assert_eq!(t, k / 10.0, "{what}[{i}] = {t:?} is not step {k} / 10");
        let text = format!("{t:?}");
        let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
        assert!(decimals <= 1, "{what}[{i}] prints as {text}");
    }
}

fn read_f64(file: &Path, dataset: &str) -> Vec<f64> {
    hdf5::File::open(file)
        .and_then(|f| f.dataset(dataset))
        .and_then(|d| d.read_raw::<f64>())
        .unwrap_or_else(|e| panic!("{}: {dataset}: {e}", file.display()))
}

#[test]
fn every_spike_time_of_cuba_is_its_decimal_step_time() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("cuba.h5");
    let summary = run_json(&repo_file("configs/cuba.toml"), &out, &["--threads", "2"]);
    let mut n = 0;
    for pop in ["E", "I"] {
        let spikes = read_spikes(&out, pop);
        assert_decimal_steps(&format!("/spikes/{pop}/timestamps"), &spikes.timestamps);
        assert!(
            spikes.timestamps.iter().all(|&t| t > 0.0 && t <= 1000.0),
            "{pop}: a spike outside (0, 1000]"
        );
        n += spikes.timestamps.len();
    }
    assert_eq!(Some(n as u64), summary["spikes"].as_u64());
}

#[test]
fn the_ach_trace_and_the_protocol_are_on_the_decimal_grid() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("gap_ach.h5");
    run_json(&repo_file("tests/configs/gap_ach.toml"), &out, &[]);
    let t = read_f64(&out, "ach/time_ms");
    assert_decimal_steps("/ach/time_ms", &t);
    // One sample per step, at the step's end: dt, 2 dt, ..., T.
    assert_eq!(t.first(), Some(&0.1));
    for (k, &x) in t.iter().enumerate() {
        assert_eq!(x, (k + 1) as f64 / 10.0);
    }

    let out = tmp.path().join("recall.h5");
    run_json(&repo_file("tests/configs/small_recall.toml"), &out, &[]);
    for d in ["protocol/start_ms", "protocol/stop_ms", "protocol/cue_ms"] {
        let t = read_f64(&out, d);
        // start_ms begins at 0, which is on the grid too.
        assert_decimal_steps(d, &t);
    }
}

/// A neuron driven so hard that it fires in every step (no refractory period).
const EVERY_STEP: &str = "[simulation]\nduration_ms = 2.0\n\n[neuron]\nt_ref_ms = 0.0\n\
    i_e_pa = 1e6\n\n[populations.A]\nn = 2\n";

#[test]
fn a_spike_of_the_last_step_is_at_the_end_of_the_run() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let config = tmp.path().join("every_step.toml");
    std::fs::write(&config, EVERY_STEP).expect("written");
    let out = tmp.path().join("out.h5");
    run_json(&config, &out, &[]);
    let spikes = read_spikes(&out, "A");
    // 20 steps of 0.1 ms, 2 neurons: spikes at 0.1, 0.2, ..., 2.0, never at 0.
    assert_eq!(spikes.timestamps.len(), 40);
    assert_decimal_steps("/spikes/A/timestamps", &spikes.timestamps);
    assert_eq!(spikes.timestamps.first(), Some(&0.1));
    assert_eq!(spikes.timestamps.last(), Some(&2.0));
    let at_end = spikes.timestamps.iter().filter(|&&t| t == 2.0).count();
    assert_eq!(at_end, 2, "both neurons fire in the last step, stamped T");
    assert_eq!(spikes.node_ids[38..], [0, 1]);
}
