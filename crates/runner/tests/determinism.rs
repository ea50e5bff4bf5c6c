//! The result does not depend on the number of threads, and does depend on the seed.

use crate::common::{Spikes, population_names, read_spikes, run_json, small_cuba};

/// Runs the small network and returns its summary and per-population spikes.
fn run(threads: &str, seed: Option<&str>) -> (serde_json::Value, Vec<(String, Spikes)>) {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("out.h5");
    let mut args = vec!["--threads", threads];
    if let Some(s) = seed {
        args.extend(["--seed", s]);
    }
    let summary = run_json(&small_cuba(), &out, &args);
    let spikes = population_names(&summary)
        .into_iter()
        .map(|p| {
            let s = read_spikes(&out, &p);
            (p, s)
        })
        .collect();
    (summary, spikes)
}

fn counts(summary: &serde_json::Value) -> Vec<(String, u64)> {
    population_names(summary)
        .into_iter()
        .map(|p| {
            let n = crate::common::pop_u64(summary, &p, "spikes");
            (p, n)
        })
        .collect()
}

#[test]
fn spikes_are_identical_for_1_2_and_4_threads() {
    let (s1, sp1) = run("1", None);
    assert_eq!(
        sp1.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["E", "I"]
    );
    for (pop, s) in &sp1 {
        assert!(
            s.timestamps.len() > 100,
            "{pop}: only {} spikes; the test network should be active",
            s.timestamps.len()
        );
    }
    for threads in ["2", "4"] {
        let (s, sp) = run(threads, None);
        assert_eq!(
            counts(&s),
            counts(&s1),
            "JSON spike counts, {threads} threads"
        );
        assert_eq!(s["syn_events"], s1["syn_events"], "{threads} threads");
        assert_eq!(s["n_synapses"], s1["n_synapses"], "{threads} threads");
        for ((pop, a), (_, b)) in sp1.iter().zip(&sp) {
            assert_eq!(
                a.timestamp_bits(),
                b.timestamp_bits(),
                "{pop} timestamps, 1 vs {threads} threads"
            );
            assert_eq!(
                a.node_ids, b.node_ids,
                "{pop} node_ids, 1 vs {threads} threads"
            );
        }
    }
}

#[test]
fn another_seed_gives_other_spikes() {
    let (_, a) = run("2", None);
    let (summary, b) = run("2", Some("8"));
    assert_eq!(summary["seed"].as_u64(), Some(8));
    for ((pop, x), (_, y)) in a.iter().zip(&b) {
        assert!(!y.timestamps.is_empty(), "{pop}: no spikes with seed 8");
        assert_ne!(x, y, "{pop}: seeds 7 and 8 give the same spikes");
    }
}
