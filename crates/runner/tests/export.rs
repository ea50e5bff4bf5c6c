//! `engram export OUT.h5 --nwb OUT.nwb`: the NWB file's layout and contents, read back
//! with the hdf5 crate, and its refusals.

use hdf5::types::VarLenUnicode;
use hdf5::{File, ObjectReference, ObjectReference1, ReferencedObject};

use crate::common::{assert_ok, code, engram, read_spikes, run_json, small_cuba, stderr};

fn text_attr(loc: &hdf5::Location, name: &str) -> String {
    loc.attr(name)
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .unwrap_or_else(|e| panic!("attribute {name}: {e}"))
        .to_string()
}

fn text(f: &File, name: &str) -> String {
    f.dataset(name)
        .and_then(|d| d.read_scalar::<VarLenUnicode>())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .to_string()
}

#[test]
fn export_writes_an_nwb_units_table_of_every_recorded_neuron() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let h5 = dir.path().join("run.h5");
    let nwb = dir.path().join("run.nwb");
    let summary = run_json(&small_cuba(), &h5, &[]);
    let out = engram([
        "export".as_ref(),
        h5.as_os_str(),
        "--nwb".as_ref(),
        nwb.as_os_str(),
    ]);
    assert_ok(&out, "engram export");

    let f = File::open(&nwb).expect("the NWB file opens");
    assert_eq!(text_attr(&f, "neurodata_type"), "NWBFile");
    assert_eq!(text_attr(&f, "namespace"), "core");
    assert!(text_attr(&f, "nwb_version").starts_with("2."));
    assert_eq!(text_attr(&f, "object_id").len(), 36);
    for g in [
        "acquisition",
        "analysis",
        "processing",
        "stimulus/presentation",
        "general",
    ] {
        assert!(f.group(g).is_ok(), "/{g} is missing");
    }
    assert!(text(&f, "session_start_time").ends_with('Z'));
    let config = std::fs::read_to_string(small_cuba()).expect("the config reads");
    assert_eq!(text(&f, "general/source_script"), config);
    assert!(text(&f, "general/notes").contains("seed = "));

    let units = f.group("units").expect("/units");
    assert_eq!(text_attr(&units, "neurodata_type"), "Units");
    let times = units.dataset("spike_times").expect("spike_times");
    let resolution: f64 = times.attr("resolution").unwrap().read_scalar().unwrap();
    assert!((resolution - summary["dt_ms"].as_f64().unwrap() / 1000.0).abs() < 1e-15);
    let times: Vec<f64> = times.read_raw().unwrap();
    let ends: Vec<u64> = units
        .dataset("spike_times_index")
        .unwrap()
        .read_raw()
        .unwrap();
    let pops: Vec<VarLenUnicode> = units.dataset("population").unwrap().read_raw().unwrap();
    let node_ids: Vec<u64> = units.dataset("node_id").unwrap().read_raw().unwrap();
    let obs: Vec<f64> = units.dataset("obs_intervals").unwrap().read_raw().unwrap();
    // The index's target is an object reference to the column.
    let index = units.dataset("spike_times_index").unwrap();
    let target: ObjectReference1 = index.attr("target").unwrap().read_scalar().unwrap();
    match target.dereference(&units).expect("the reference resolves") {
        ReferencedObject::Dataset(d) => assert_eq!(d.name(), "/units/spike_times"),
        _ => panic!("target is not a dataset"),
    }

    // Every neuron of every population is a unit, in order; its spikes are the SONATA
    // file's, in seconds.
    let mut row = 0usize;
    let mut start = 0usize;
    let duration_s = summary["duration_ms"].as_f64().unwrap() / 1000.0;
    for (name, p) in summary["populations"].as_object().unwrap() {
        let n = p["n"].as_u64().unwrap() as usize;
        let sonata = read_spikes(&h5, name);
        for id in 0..n {
            assert_eq!(pops[row].as_str(), name);
            assert_eq!(node_ids[row], id as u64);
            assert_eq!(&obs[2 * row..2 * row + 2], &[0.0, duration_s]);
            let end = ends[row] as usize;
            let expected: Vec<f64> = sonata
                .timestamps
                .iter()
                .zip(&sonata.node_ids)
                .filter(|&(_, &i)| i == id as u64)
                .map(|(t, _)| t / 1000.0)
                .collect();
            assert_eq!(times[start..end], expected[..], "{name} {id}");
            start = end;
            row += 1;
        }
    }
    assert_eq!(row, ends.len());
    assert_eq!(start, times.len());
}

#[test]
fn export_refuses_bad_input_with_exit_code_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let h5 = dir.path().join("run.h5");
    let nwb = dir.path().join("run.nwb");
    // No such input.
    let out = engram([
        "export".as_ref(),
        h5.as_os_str(),
        "--nwb".as_ref(),
        nwb.as_os_str(),
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));
    // Not an engram file.
    std::fs::write(&h5, "not hdf5").unwrap();
    let out = engram([
        "export".as_ref(),
        h5.as_os_str(),
        "--nwb".as_ref(),
        nwb.as_os_str(),
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(!nwb.exists());
    // An existing output without --force; with it, replaced.
    run_json(&small_cuba(), &h5, &["--force"]);
    std::fs::write(&nwb, "mine").unwrap();
    let out = engram([
        "export".as_ref(),
        h5.as_os_str(),
        "--nwb".as_ref(),
        nwb.as_os_str(),
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&nwb).unwrap(), b"mine");
    let out = engram([
        "export".as_ref(),
        h5.as_os_str(),
        "--nwb".as_ref(),
        nwb.as_os_str(),
        "--force".as_ref(),
    ]);
    assert_ok(&out, "engram export --force");
    assert!(File::open(&nwb).is_ok());
    // Only the two files: no temporary file is left.
    assert_eq!(
        crate::common::dir_entries(dir.path()),
        ["run.h5", "run.nwb"]
    );
}
