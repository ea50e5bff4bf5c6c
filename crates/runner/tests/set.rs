//! `--set path=value` overrides.

use crate::common::{code, dir_entries, engram, pop_u64, repo_file, run_json, small_cuba, stderr};

#[test]
fn an_invalid_set_value_is_blamed_on_the_command_line() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("out.h5");
    let cuba = repo_file("configs/cuba.toml");
    let o = engram([
        "run".as_ref(),
        cuba.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--set".as_ref(),
        "projections.E_to_E.connectivity.p=2".as_ref(),
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("projections.E_to_E.connectivity.p"), "{err}");
    assert!(err.contains("command line"), "{err}");
    assert!(err.contains("cuba.toml"), "{err}");
    assert_eq!(dir_entries(tmp.path()), Vec::<String>::new());

    let o = engram([
        "check".as_ref(),
        cuba.as_os_str(),
        "--set".as_ref(),
        "projections.E_to_E.connectivity.p=2".as_ref(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("command line"), "{}", stderr(&o));
}

#[test]
fn a_valid_set_changes_the_network_and_the_stored_config() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("out.h5");
    let summary = run_json(
        &small_cuba(),
        &out,
        &[
            "--set",
            "populations.E.n=100",
            // The drive's range [0, 400) no longer fits; a bare word is taken as a string.
            "--set",
            "inputs.drive.neurons=all",
            "--set",
            "simulation.duration_ms=50",
            "--threads",
            "1",
        ],
    );
    assert_eq!(pop_u64(&summary, "E", "n"), 100);
    assert_eq!(pop_u64(&summary, "I", "n"), 200);
    assert_eq!(summary["duration_ms"].as_f64(), Some(50.0));
    let spikes = crate::common::read_spikes(&out, "E");
    assert!(spikes.node_ids.iter().all(|&i| i < 100));
    let f = hdf5::File::open(&out).expect("the output opens");
    let text = f
        .dataset("engram/config")
        .and_then(|d| d.read_scalar::<hdf5::types::VarLenUnicode>())
        .expect("/engram/config is a string")
        .to_string();
    let stored: toml::Table = toml::from_str(&text).expect("the stored config is TOML");
    assert_eq!(stored["populations"]["E"]["n"].as_integer(), Some(100));
    assert_eq!(stored["inputs"]["drive"]["neurons"].as_str(), Some("all"));
}

#[test]
fn a_set_on_an_unknown_field_names_the_path() {
    let o = engram([
        "check".as_ref(),
        repo_file("configs/cuba.toml").as_os_str(),
        "--set".as_ref(),
        "nonexistent.field=1".as_ref(),
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("nonexistent.field"), "{err}");
    assert!(err.contains("command line"), "{err}");

    let o = engram([
        "check".as_ref(),
        repo_file("configs/cuba.toml").as_os_str(),
        "--set".as_ref(),
        "populations.E.nn=1".as_ref(),
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("populations.E.nn"), "{err}");
}

#[test]
fn a_set_without_a_value_is_rejected() {
    let o = engram([
        "check".as_ref(),
        repo_file("configs/cuba.toml").as_os_str(),
        "--set".as_ref(),
        "populations.E.n".as_ref(),
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("--set populations.E.n"), "{err}");
    assert!(err.contains("path.to.field=value"), "{err}");
}
