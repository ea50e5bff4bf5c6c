//! Unit tests of shards, point files and summaries.

use std::path::Path;

use super::cli::Shard;
use super::summary::flatten;

#[test]
fn shards_parse_and_come_from_slurm() {
    assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
    for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
        assert!(Shard::parse(bad).is_err(), "{bad}");
    }
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(Shard::from_slurm(env(&[])), Ok(None));
    let s = Shard::from_slurm(env(&[
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "16"),
    ]));
    assert_eq!(
        s,
        Ok(Some(Shard {
            index: 3,
            count: 16
        }))
    );
    // --array=1-16: ids start at 1.
    let s = Shard::from_slurm(env(&[
        ("SLURM_ARRAY_TASK_ID", "16"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "16"),
    ]));
    assert_eq!(
        s,
        Ok(Some(Shard {
            index: 15,
            count: 16
        }))
    );
    assert!(Shard::from_slurm(env(&[("SLURM_ARRAY_TASK_ID", "3")])).is_err());
    assert!(
        Shard::from_slurm(env(&[
            ("SLURM_ARRAY_TASK_ID", "20"),
            ("SLURM_ARRAY_TASK_COUNT", "16"),
        ]))
        .is_err()
    );
}

#[test]
fn summaries_flatten_scalars_and_set_timings_apart() {
    let v = serde_json::json!({
        "seed": 3, "output": "x.h5", "wall_s": 1.5, "spikes": 10, "ok": true,
        "populations": { "E": { "rate_hz": 5.5, "n": 4 } },
        "recall": { "identification_accuracy": 0.75, "per_memory": [1, 0], "sim_s": 0.2 },
    });
    let (metrics, timings) = flatten(&v);
    let names: Vec<&str> = metrics.iter().map(|(k, _)| k.as_str()).collect();
    for want in [
        "spikes",
        "ok",
        "populations.E.rate_hz",
        "populations.E.n",
        "recall.identification_accuracy",
    ] {
        assert!(names.contains(&want), "{want} not in {names:?}");
    }
    for absent in [
        "seed",
        "output",
        "wall_s",
        "recall.per_memory",
        "recall.sim_s",
    ] {
        assert!(!names.contains(&absent), "{absent} in {names:?}");
    }
    let t: Vec<&str> = timings.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(t.len(), 2);
    assert!(
        t.contains(&"wall_s") && t.contains(&"recall.sim_s"),
        "{t:?}"
    );
}

#[test]
fn point_files_are_zero_padded_so_they_sort_like_indices() {
    use super::store::Layout;
    let l = Layout::new(Path::new("d"), 16);
    assert_eq!(l.name(3), "0003");
    assert_eq!(l.h5(15), Path::new("d/points/0015.h5"));
    let l = Layout::new(Path::new("d"), 123_457);
    assert_eq!(l.name(42), "000042");
    assert_eq!(Layout::new(Path::new("d"), 1).name(0), "0000");
}

#[test]
fn csv_cells_with_commas_or_quotes_are_quoted() {
    use super::summary::{Row, Status, csv};
    let row = Row {
        index: 0,
        repeat: 1,
        seed: 5,
        params: vec!["\"all\"".into(), "{ range = [0, 3] }".into(), "2.5".into()],
        status: Status::Done,
        error: None,
        metrics: vec![("m.x".into(), 0.1), ("flag".into(), 1.0)],
        timings: vec![],
    };
    let missing = Row {
        index: 1,
        status: Status::Missing,
        metrics: vec![],
        ..row.clone()
    };
    let fields = ["a.s".to_string(), "a.t".to_string(), "a.f".to_string()];
    assert_eq!(
        csv(&fields, &[row, missing]),
        "index,repeat,seed,a.s,a.t,a.f,status,m.x,flag\n\
         0,1,5,all,\"{ range = [0, 3] }\",2.5,done,0.1,1\n\
         1,1,5,all,\"{ range = [0, 3] }\",2.5,missing,,\n"
    );
}
