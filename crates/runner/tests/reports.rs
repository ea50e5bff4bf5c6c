//! State reports through the command: the SONATA layout of `/report`, the sample times,
//! and that recording changes no spike and does not depend on the thread count.

use std::path::{Path, PathBuf};

use engram_io::RunReader;

use crate::common::{read_spikes, run_json, small_cuba};

/// The small CUBA network with reports of E's `v` and `i_syn` on three neurons every
/// 0.5 ms in (10, 150] ms and I's `theta` on an evenly spaced tenth, every step.
fn config_with_reports(dir: &Path) -> PathBuf {
    let base = std::fs::read_to_string(small_cuba()).expect("small_cuba.toml");
    let text = format!(
        "{base}\n[[output.reports]]\npopulation = \"E\"\nvariables = [\"v\", \"i_syn\"]\n\
         neurons = [700, 0, 3]\ninterval_ms = 0.5\nstart_ms = 10.0\nstop_ms = 150.0\n\n\
         [[output.reports]]\npopulation = \"I\"\nvariables = [\"theta\"]\n\
         neurons = {{ fraction = 0.1 }}\n"
    );
    let path = dir.join("cuba_reports.toml");
    std::fs::write(&path, text).expect("written");
    path
}

#[test]
fn reports_are_sonata_soma_reports() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let config = config_with_reports(tmp.path());
    let out = tmp.path().join("out.h5");
    run_json(&config, &out, &["--threads", "2"]);
    let reports = RunReader::open(&out)
        .expect("opens")
        .reports()
        .expect("reads");
    let names: Vec<(&str, &str)> = reports
        .iter()
        .map(|r| (r.population.as_str(), r.variable.as_str()))
        .collect();
    assert_eq!(names, [("E", "v"), ("E", "i_syn"), ("I", "theta")]);
    let v = &reports[0];
    assert_eq!(v.node_ids, [0, 3, 700], "sorted");
    assert_eq!(v.units, "mV");
    assert_eq!(reports[1].units, "pA");
    // Multiples of 0.5 ms in (10, 150]: 10.5, 11, ..., 150.
    assert_eq!(v.time_ms.len(), 280);
    assert!((v.time_ms[0] - 10.5).abs() < 1e-9 && (v.time_ms[279] - 150.0).abs() < 1e-9);
    // Sampled after the step's crossings and resets: every potential is below the
    // threshold (-50 mV); inhibition may push it below the reset (-60 mV).
    assert!(
        v.data.iter().all(|&x| (-80.0..-50.0).contains(&x)),
        "{:?}",
        &v.data[..6]
    );
    assert!(v.data.iter().any(|&x| x != v.data[0]), "V moves");
    let theta = &reports[2];
    // A tenth of 200 neurons, evenly spaced from 0; every step of the 200 ms.
    assert_eq!(theta.node_ids, (0..200).step_by(10).collect::<Vec<u64>>());
    assert_eq!(theta.time_ms.len(), 2000);
    assert!(
        theta.data.iter().all(|&x| x == -50.0),
        "no adaptation, no modulation"
    );

    // The raw layout libsonata reads.
    let f = hdf5::File::open(&out).expect("opens");
    let m = f.group("report/E/v/mapping").expect("mapping");
    let pointers = m
        .dataset("index_pointers")
        .and_then(|d| d.read_raw::<u64>());
    assert_eq!(pointers.expect("index_pointers"), [0, 1, 2, 3]);
    let elements = m.dataset("element_ids").and_then(|d| d.read_raw::<u32>());
    assert_eq!(elements.expect("element_ids"), [0, 0, 0]);
    let time = m
        .dataset("time")
        .and_then(|d| d.read_raw::<f64>())
        .expect("time");
    assert_eq!(time.len(), 3);
    assert!((time[0] - 10.5).abs() < 1e-9 && (time[1] - 150.5).abs() < 1e-9);
    let data = f.dataset("report/E/v/data").expect("data");
    assert_eq!(data.shape(), [280, 3]);
    assert_eq!(
        data.dtype().expect("a type").size(),
        4,
        "SONATA data is f32"
    );
}

#[test]
fn reports_change_no_spike_and_not_with_threads() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let config = config_with_reports(tmp.path());
    let plain = tmp.path().join("plain.h5");
    run_json(&small_cuba(), &plain, &["--threads", "1"]);
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(format!("t{threads}.h5"));
        run_json(&config, &out, &["--threads", threads]);
        runs.push(out);
    }
    for pop in ["E", "I"] {
        let a = read_spikes(&plain, pop);
        for out in &runs {
            let b = read_spikes(out, pop);
            assert_eq!(a.timestamp_bits(), b.timestamp_bits(), "{pop}");
            assert_eq!(a.node_ids, b.node_ids, "{pop}");
        }
    }
    let read = |p: &Path| RunReader::open(p).expect("opens").reports().expect("reads");
    let (one, two) = (read(&runs[0]), read(&runs[1]));
    for (a, b) in one.iter().zip(&two) {
        let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&a.data),
            bits(&b.data),
            "{}/{}",
            a.population,
            a.variable
        );
    }
}
