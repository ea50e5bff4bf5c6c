//! The checks of spike groups: small broken files, written by hand, are rejected by
//! [`inspect`] and by [`RunReader`] (what `engram plot` reads through) with a message that
//! names the file, the group, the first offending index and its value.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use crate::{Error, RunReader, Sorting, inspect};

/// Spikes the readers read at a time (tests cross a chunk boundary with it).
const READ_CHUNK: usize = 1 << 16;

/// One population's group, as a test writes it.
struct Pop<'a> {
    name: &'a str,
    timestamps: Vec<f64>,
    node_ids: Vec<u64>,
    n_nodes: Option<u64>,
    sorting: Option<Sorting>,
    population_index: Option<u64>,
}

impl<'a> Pop<'a> {
    /// A population of `n_nodes` neurons sorted by time, with these spikes.
    fn new(name: &'a str, timestamps: Vec<f64>, node_ids: Vec<u64>, n_nodes: u64) -> Self {
        Pop {
            name,
            timestamps,
            node_ids,
            n_nodes: Some(n_nodes),
            sorting: Some(Sorting::by_time),
            population_index: None,
        }
    }
}

/// Writes `pops` under `/spikes` of `dir/name`; with `engram`, also an `/engram` group as
/// engram writes it (which makes the reader hold the file to engram's order of spikes).
fn write(dir: &Path, name: &str, pops: &[Pop], engram: bool) -> PathBuf {
    let path = dir.join(name);
    let f = hdf5::File::create(&path).unwrap();
    let spikes = f.create_group("spikes").unwrap();
    for p in pops {
        let g = spikes.create_group(p.name).unwrap();
        if let Some(n) = p.n_nodes {
            g.new_attr::<u64>()
                .create("n_nodes")
                .unwrap()
                .write_scalar(&n)
                .unwrap();
        }
        if let Some(s) = p.sorting {
            g.new_attr::<Sorting>()
                .create("sorting")
                .unwrap()
                .write_scalar(&s)
                .unwrap();
        }
        if let Some(i) = p.population_index {
            g.new_attr::<u64>()
                .create("population_index")
                .unwrap()
                .write_scalar(&i)
                .unwrap();
        }
        g.new_dataset_builder()
            .with_data(&p.timestamps)
            .create("timestamps")
            .unwrap();
        g.new_dataset_builder()
            .with_data(&p.node_ids)
            .create("node_ids")
            .unwrap();
    }
    if engram {
        let meta = f.create_group("engram").unwrap();
        meta.new_attr::<VarLenUnicode>()
            .create("version")
            .unwrap()
            .write_scalar(&"0.1.0".parse::<VarLenUnicode>().unwrap())
            .unwrap();
    }
    path
}

/// The message of a format error.
fn message(r: crate::Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::Format(m)) => m,
        other => panic!("expected a format error, got {other:?}"),
    }
}

/// What `engram plot` does with a file: every population's spikes, read in chunks.
fn read_all(path: &Path) -> crate::Result<u64> {
    let reader = RunReader::open(path)?;
    let mut n = 0;
    for name in reader.population_names()? {
        let data = reader.population(&name)?.spikes()?;
        data.for_each(READ_CHUNK, |t, _| n += t.len() as u64)?;
    }
    Ok(n)
}

/// Both readers reject `path` with `expected` (the whole message).
fn assert_rejected(path: &Path, expected: &str) {
    assert_eq!(message(inspect(path)), expected, "inspect");
    assert_eq!(message(read_all(path)), expected, "RunReader");
}

#[test]
fn timestamps_and_node_ids_of_different_lengths_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "x.h5",
        &[Pop::new("cortex", vec![1.0, 2.0, 3.0], vec![0, 1], 10)],
        false,
    );
    assert_rejected(
        &path,
        &format!(
            "{}: /spikes/cortex: timestamps and node_ids have different lengths (3, 2)",
            path.display()
        ),
    );
}

#[test]
fn node_ids_not_below_n_nodes_are_rejected_with_their_index() {
    let dir = tempfile::tempdir().unwrap();
    // The offending spike is in the second chunk the readers read.
    let len = READ_CHUNK + 40;
    let bad = READ_CHUNK + 17;
    let t: Vec<f64> = (0..len).map(|k| k as f64 * 0.1).collect();
    let mut ids: Vec<u64> = (0..len as u64).map(|k| k % 4000).collect();
    ids[bad] = 4000;
    let path = write(
        dir.path(),
        "x.h5",
        &[Pop::new("cortex", t.clone(), ids.clone(), 4000)],
        false,
    );
    assert_rejected(
        &path,
        &format!(
            "{}: /spikes/cortex: node_ids[{bad}] = 4000 is not below n_nodes = 4000",
            path.display()
        ),
    );

    // Below n_nodes, the same spikes are read, across the chunk boundary.
    ids[bad] = 3999;
    let ok = write(
        dir.path(),
        "ok.h5",
        &[Pop::new("cortex", t, ids, 4000)],
        false,
    );
    let summary = inspect(&ok).unwrap();
    assert_eq!(summary.populations[0].spikes, len as u64);
    assert_eq!(summary.populations[0].n, 4000);
    assert_eq!(read_all(&ok).unwrap(), len as u64);
}

#[test]
fn times_that_are_not_finite_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for (i, bad) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY]
        .into_iter()
        .enumerate()
    {
        let name = format!("x{i}.h5");
        // Unsorted, so that only finiteness is checked.
        let mut pop = Pop::new("thalamus", vec![1.0, 2.0, bad, 4.0], vec![0, 1, 2, 3], 4);
        pop.sorting = None;
        let path = write(dir.path(), &name, &[pop], false);
        assert_rejected(
            &path,
            &format!(
                "{}: /spikes/thalamus: timestamps[2] = {bad} is not finite",
                path.display()
            ),
        );
    }
}

#[test]
fn times_out_of_order_are_rejected_only_under_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let t = vec![0.5, 1.0, 1.0, 0.75, 2.0];
    let ids = vec![3, 1, 2, 0, 4];
    let path = write(
        dir.path(),
        "x.h5",
        &[Pop::new("cortex", t.clone(), ids.clone(), 5)],
        false,
    );
    assert_rejected(
        &path,
        &format!(
            "{}: /spikes/cortex: timestamps[3] = 0.75 is before timestamps[2] = 1 \
             (sorting = by_time)",
            path.display()
        ),
    );

    // The same spikes declared unsorted are fine, and their range is min..max.
    let mut pop = Pop::new("cortex", t, ids, 5);
    pop.sorting = Some(Sorting::none);
    let ok = write(dir.path(), "ok.h5", &[pop], false);
    let summary = inspect(&ok).unwrap();
    assert_eq!(summary.populations[0].t_range_ms, Some((0.5, 2.0)));
    assert_eq!(read_all(&ok).unwrap(), 5);
}

#[test]
fn node_ids_out_of_order_within_a_time_are_rejected_in_engram_files() {
    let dir = tempfile::tempdir().unwrap();
    let t = vec![0.1, 0.2, 0.2, 0.2, 0.3];
    let ids = vec![5, 1, 4, 2, 0];
    let path = write(
        dir.path(),
        "x.h5",
        &[Pop::new("mtl", t.clone(), ids.clone(), 6)],
        true,
    );
    assert_rejected(
        &path,
        &format!(
            "{}: /spikes/mtl: node_ids[3] = 2 is below node_ids[2] = 4 at the same time \
             0.2 ms (engram sorts spikes by time, then node id)",
            path.display()
        ),
    );

    // SONATA's by_time says nothing of ids within a time: other writers' files are read.
    let foreign = write(
        dir.path(),
        "foreign.h5",
        &[Pop::new("mtl", t, ids, 6)],
        false,
    );
    assert_eq!(inspect(&foreign).unwrap().populations[0].spikes, 5);
    assert_eq!(read_all(&foreign).unwrap(), 5);
}

#[test]
fn two_groups_with_one_population_index_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Pop::new("exc", vec![1.0], vec![0], 4);
    let mut b = Pop::new("inh", vec![1.0], vec![0], 4);
    let mut c = Pop::new("input", vec![1.0], vec![0], 4);
    a.population_index = Some(1);
    b.population_index = Some(0);
    c.population_index = Some(1);
    let path = write(dir.path(), "x.h5", &[a, b, c], true);
    assert_rejected(
        &path,
        &format!(
            "{}: /spikes: population_index = 1 is given to both /spikes/exc and /spikes/input",
            path.display()
        ),
    );

    // Distinct indices give the config's order.
    let mut a = Pop::new("exc", vec![1.0], vec![0], 4);
    let mut b = Pop::new("inh", vec![1.0], vec![0], 4);
    a.population_index = Some(1);
    b.population_index = Some(0);
    let ok = write(dir.path(), "ok.h5", &[a, b], true);
    let names: Vec<String> = inspect(&ok)
        .unwrap()
        .populations
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["inh", "exc"]);
}

#[test]
fn population_spikes_are_read_as_plain_arrays() {
    use crate::read_population_spikes;
    let dir = tempfile::tempdir().unwrap();
    let one = write(
        dir.path(),
        "one.h5",
        &[Pop::new("E", vec![0.5, 1.0, 1.0], vec![3, 0, 2], 4)],
        false,
    );
    let s = read_population_spikes(&one, None).unwrap();
    assert_eq!(s.population, "E");
    assert_eq!(s.times_ms, [0.5, 1.0, 1.0]);
    assert_eq!(s.node_ids, [3, 0, 2]);
    assert_eq!(read_population_spikes(&one, Some("E")).unwrap(), s);

    let two = write(
        dir.path(),
        "two.h5",
        &[
            Pop::new("E", vec![1.0], vec![0], 4),
            Pop::new("I", vec![2.0, 3.0], vec![1, 1], 2),
        ],
        false,
    );
    assert_eq!(
        read_population_spikes(&two, Some("I")).unwrap().times_ms,
        [2.0, 3.0]
    );
    let m = message(read_population_spikes(&two, None));
    assert_eq!(
        m,
        format!(
            "{}: 2 populations under /spikes; name the one to read (it has E, I)",
            two.display()
        )
    );
    let m = message(read_population_spikes(&two, Some("X")));
    assert_eq!(
        m,
        format!("{}: no population /spikes/X (it has E, I)", two.display())
    );
}

#[test]
fn population_spikes_in_seconds_are_converted_and_other_units_refused() {
    use crate::read_population_spikes;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "s.h5",
        &[Pop::new("E", vec![0.0015, 0.25], vec![0, 1], 2)],
        false,
    );
    let set_units = |units: &str| {
        let f = hdf5::File::open_rw(&path).unwrap();
        let ts = f.dataset("spikes/E/timestamps").unwrap();
        if ts.attr("units").is_ok() {
            ts.delete_attr("units").unwrap();
        }
        ts.new_attr::<VarLenUnicode>()
            .create("units")
            .unwrap()
            .write_scalar(&units.parse::<VarLenUnicode>().unwrap())
            .unwrap();
    };
    set_units("s");
    assert_eq!(
        read_population_spikes(&path, None).unwrap().times_ms,
        [1.5, 250.0]
    );
    set_units("us");
    let m = message(read_population_spikes(&path, None));
    assert_eq!(
        m,
        format!(
            "{}: /spikes/E/timestamps: units = \"us\"; spike times must be in \"ms\" or \"s\"",
            path.display()
        )
    );
}

#[test]
fn population_spikes_need_the_sonata_datasets() {
    use crate::read_population_spikes;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrong.h5");
    {
        let f = hdf5::File::create(&path).unwrap();
        let g = f.create_group("spikes/E").unwrap();
        g.new_dataset_builder()
            .with_data(&[1.0f64, 2.0])
            .create("times")
            .unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64, 1])
            .create("node_ids")
            .unwrap();
    }
    let m = message(read_population_spikes(&path, None));
    assert_eq!(
        m,
        format!("{}: /spikes/E: no dataset timestamps", path.display())
    );
    let missing = dir.path().join("missing.h5");
    let m = message(read_population_spikes(&missing, None));
    assert_eq!(m, format!("{}: no such file", missing.display()));
}
