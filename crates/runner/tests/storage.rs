//! How files are stored: chunks fitted to the data; engram's own datasets compressed by
//! default (shuffle + deflate; `output.compression_level = 0` for none), the SONATA
//! datasets never (libsonata's wheels cannot read deflate); the values read back are the
//! same either way.

use std::path::Path;

use hdf5::filters::Filter;

use crate::common::{read_spikes, repo_file, run_json};

/// The filters and chunk shape of `/spikes/<pop>/timestamps`.
fn layout(file: &Path, dataset: &str) -> (Vec<Filter>, Option<Vec<usize>>) {
    let f = hdf5::File::open(file).expect("opens");
    let d = f.dataset(dataset).expect("a dataset");
    (d.filters(), d.chunk())
}

fn size(file: &Path) -> u64 {
    std::fs::metadata(file).expect("written").len()
}

#[test]
fn a_cuba_file_is_no_larger_than_three_times_its_spikes() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let cuba = repo_file("configs/cuba.toml");
    let packed = tmp.path().join("packed.h5");
    let plain = tmp.path().join("plain.h5");
    let summary = run_json(&cuba, &packed, &["--threads", "1"]);
    run_json(
        &cuba,
        &plain,
        &["--threads", "1", "--set", "output.compression_level=0"],
    );
    let spikes = summary["spikes"].as_u64().expect("a count");
    // A spike is a time (f64) and an id (u64).
    let raw = spikes * 16;
    assert!(spikes > 10_000, "{spikes}");
    for pop in ["E", "I"] {
        let a = read_spikes(&packed, pop);
        assert_eq!(a, read_spikes(&plain, pop), "{pop}: the same spikes");
        let n = a.timestamps.len();
        for name in ["timestamps", "node_ids"] {
            let d = format!("spikes/{pop}/{name}");
            let (filters, chunk) = layout(&packed, &d);
            assert!(filters.is_empty(), "{d}: SONATA datasets are not filtered");
            // A population's spikes, all in the writer's buffer at the end, are split
            // into equal chunks of at most 16 384 (128 KiB), the last one not mostly
            // empty.
            let parts = n.div_ceil(16_384);
            assert_eq!(chunk, Some(vec![n.div_ceil(parts)]), "{d}: {n} spikes");
            let (filters, _) = layout(&plain, &d);
            assert!(filters.is_empty(), "{d}: {filters:?}");
        }
    }
    let (packed_bytes, plain_bytes) = (size(&packed), size(&plain));
    assert!(
        plain_bytes <= 3 * raw,
        "uncompressed: {plain_bytes} bytes for {raw} bytes of spikes"
    );
    assert!(
        packed_bytes <= 3 * raw,
        "compressed: {packed_bytes} bytes for {raw} bytes of spikes"
    );
    let f = hdf5::File::open(&packed).expect("opens");
    let c: hdf5::types::VarLenUnicode = f
        .group("engram")
        .and_then(|g| g.attr("compression"))
        .and_then(|a| a.read_scalar())
        .expect("the compression is in the provenance");
    assert_eq!(c.as_str(), "shuffle+deflate(1)");
}

#[test]
fn weights_are_compressed_and_reports_fitted() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("w.h5");
    run_json(
        &repo_file("tests/configs/small_cuba.toml"),
        &out,
        &[
            "--set",
            "output.weights=true",
            "--set",
            "output.compression_level=6",
            "--set",
            r#"output.reports=[{ population = "E", variables = ["v"] }]"#,
        ],
    );
    for d in [
        "weights/E_to_E/source",
        "weights/E_to_E/weight_pa",
        "report/E/v/data",
    ] {
        let (filters, chunk) = layout(&out, d);
        if d.starts_with("report") {
            assert!(filters.is_empty(), "{d}: {filters:?}");
        } else {
            assert_eq!(filters, [Filter::Shuffle, Filter::Deflate(6)], "{d}");
        }
        let chunk_bytes: usize = chunk.expect("chunked").iter().product::<usize>() * 4;
        assert!(chunk_bytes <= 128 * 1024, "{d}: {chunk_bytes}");
    }
}
