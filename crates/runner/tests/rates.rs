//! The CUBA benchmark fires at the rate the reference simulators give.

use crate::common::{pop_u64, repo_file, run_json};

#[test]
fn cuba_mean_rate_matches_reference_simulators() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut rates = Vec::new();
    for seed in ["1", "2", "3"] {
        let out = tmp.path().join(format!("cuba-{seed}.h5"));
        let s = run_json(
            &repo_file("configs/cuba.toml"),
            &out,
            &["--threads", "2", "--seed", seed],
        );
        let duration_s = s["duration_ms"].as_f64().expect("duration_ms") / 1000.0;
        let spikes = pop_u64(&s, "E", "spikes") + pop_u64(&s, "I", "spikes");
        let neurons = pop_u64(&s, "E", "n") + pop_u64(&s, "I", "n");
        assert_eq!(neurons, 4000);
        let rate = spikes as f64 / neurons as f64 / duration_s;
        eprintln!("cuba.toml seed {seed}: mean rate {rate:.3} Hz");
        rates.push((seed, rate));
    }
    for (seed, rate) in rates {
        assert!(
            (5.0..=6.5).contains(&rate),
            "seed {seed}: mean rate {rate:.3} Hz outside [5.0, 6.5]"
        );
    }
}
