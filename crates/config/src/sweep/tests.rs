//! Unit tests of the sweep file, its expansion and point edits.

use std::path::Path;

use super::SweepFileError;
use super::points::point_sets;
use super::spec::{DimensionKind, SweepSpec, point_seed};
use crate::Value;

fn parse(text: &str) -> Result<SweepSpec, SweepFileError> {
    SweepSpec::parse(Path::new("dir/s.toml"), text)
}

fn ok(text: &str) -> SweepSpec {
    parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn input_error(text: &str) -> String {
    match parse(text) {
        Err(SweepFileError { message, .. }) => message,
        other => panic!("expected an input error, got {other:?}\n{text}"),
    }
}

fn floats(spec: &SweepSpec, dim: usize) -> Vec<f64> {
    spec.dimensions[dim]
        .values
        .iter()
        .map(|s| s[0].0.as_float().expect("a float"))
        .collect()
}

/// `params` of every point as `path=value` text.
fn table(spec: &SweepSpec) -> Vec<String> {
    spec.points(1)
        .iter()
        .map(|p| {
            p.params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn base_is_resolved_against_the_sweep_file() {
    let s = ok("base = \"cuba.toml\"");
    assert_eq!(s.base, Path::new("dir/cuba.toml"));
    let s = ok("base = \"/abs/cuba.toml\"");
    assert_eq!(s.base, Path::new("/abs/cuba.toml"));
    assert_eq!((s.repeats, s.threads, s.seed), (1, 1, None));
}

#[test]
fn lists_are_taken_as_given() {
    let s = ok(r#"base = "b.toml"
        [axes]
        "a.x" = [1, 2.5, "all", { range = [0, 3] }]"#);
    assert_eq!(s.dimensions.len(), 1);
    assert_eq!(s.dimensions[0].kind, DimensionKind::List);
    assert_eq!(s.len(), 4);
    assert_eq!(
        table(&s),
        ["a.x=1", "a.x=2.5", "a.x=\"all\"", "a.x={ range = [0, 3] }"]
    );
}

#[test]
fn linspace_includes_both_ends() {
    let s = ok(r#"base = "b.toml"
        [axes]
        "a.x" = { linspace = [0.0, 1.0, 5] }
        "a.y" = { linspace = [2.0, 2.0, 1] }
        "a.z" = { linspace = [0, 10, 3] }"#);
    assert_eq!(floats(&s, 0), [0.0, 0.25, 0.5, 0.75, 1.0]);
    assert_eq!(floats(&s, 1), [2.0]);
    // Integer ends give integers.
    let z: Vec<i64> = s.dimensions[2]
        .values
        .iter()
        .map(|v| v[0].0.as_integer().expect("an integer"))
        .collect();
    assert_eq!(z, [0, 5, 10]);
}

#[test]
fn logspace_takes_values_and_spaces_them_geometrically() {
    let s = ok(r#"base = "b.toml"
        [axes]
        "a.x" = { logspace = [0.1, 1000.0, 5] }"#);
    let x = floats(&s, 0);
    assert_eq!(x[0], 0.1);
    assert_eq!(x[4], 1000.0);
    for (got, want) in x.iter().zip([0.1, 1.0, 10.0, 100.0, 1000.0]) {
        approx::assert_relative_eq!(*got, want, max_relative = 1e-12);
    }
    let e = input_error(
        r#"base = "b.toml"
        [axes]
        "a.x" = { logspace = [0.0, 1.0, 3] }"#,
    );
    assert!(e.contains("axes.\"a.x\"") && e.contains("> 0"), "{e}");
}

#[test]
fn the_product_runs_the_first_axis_slowest_and_repeats_innermost() {
    let s = ok(r#"base = "b.toml"
        repeats = 2
        [axes]
        "a.x" = [1, 2]
        "a.y" = [10, 20, 30]"#);
    assert_eq!(s.grid_len(), 6);
    assert_eq!(s.len(), 12);
    let pts = s.points(7);
    let t = table(&s);
    assert_eq!(t[0], "a.x=1 a.y=10");
    assert_eq!(t[1], "a.x=1 a.y=10");
    assert_eq!(t[2], "a.x=1 a.y=20");
    assert_eq!(t[6], "a.x=2 a.y=10");
    assert_eq!(t[11], "a.x=2 a.y=30");
    for (i, p) in pts.iter().enumerate() {
        assert_eq!(p.index, i);
        assert_eq!(p.grid, i / 2);
        assert_eq!(p.repeat, (i % 2) as u64);
        assert_eq!(p.coords, [i / 6, (i / 2) % 3]);
        assert_eq!(p.seed, point_seed(7, p.grid, p.repeat));
    }
}

#[test]
fn seeds_are_distinct_fixed_and_below_2_pow_53() {
    let s = ok("base = \"b.toml\"\nrepeats = 50\n[axes]\n\"a.x\" = [1, 2, 3, 4]");
    let pts = s.points(1);
    let mut seeds: Vec<u64> = pts.iter().map(|p| p.seed).collect();
    assert!(seeds.iter().all(|&x| x < 1 << 53));
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), 200);
    // The same sweep gives the same seeds; another base seed gives others.
    assert_eq!(s.points(1), pts);
    assert_ne!(s.points(2)[0].seed, pts[0].seed);
    // A seed in the file replaces the base config's.
    let s = ok("base = \"b.toml\"\nseed = 9\nrepeats = 2");
    assert_eq!(s.points(1)[1].seed, point_seed(9, 0, 1));
}

#[test]
fn a_file_with_only_base_and_repeats_is_a_seed_sweep() {
    let s = ok("base = \"b.toml\"\nrepeats = 4");
    let pts = s.points(3);
    assert_eq!(pts.len(), 4);
    assert!(pts.iter().all(|p| p.params.is_empty() && p.grid == 0));
    let seeds: Vec<u64> = (0..4).map(|r| point_seed(3, 0, r)).collect();
    assert_eq!(pts.iter().map(|p| p.seed).collect::<Vec<_>>(), seeds);
}

#[test]
fn a_seed_axis_sets_the_seed_and_needs_one_repeat() {
    let s = ok("base = \"b.toml\"\n[axes]\n\"simulation.seed\" = [5, 6]");
    assert_eq!(
        s.points(1).iter().map(|p| p.seed).collect::<Vec<_>>(),
        [5, 6]
    );
    let e = input_error("base = \"b.toml\"\nrepeats = 2\n[axes]\n\"simulation.seed\" = [5, 6]");
    assert!(
        e.contains("simulation.seed") && e.contains("repeats"),
        "{e}"
    );
}

#[test]
fn zip_groups_vary_together() {
    let s = ok(r#"base = "b.toml"
        [axes]
        "a.x" = [1, 2]
        [zip]
        "b.u" = [10, 20, 30]
        "b.v" = { linspace = [0.0, 1.0, 3] }"#);
    assert_eq!(s.dimensions.len(), 2);
    assert_eq!(s.dimensions[1].kind, DimensionKind::Zip);
    assert_eq!(s.len(), 6);
    let t = table(&s);
    assert_eq!(t[0], "a.x=1 b.u=10 b.v=0.0");
    assert_eq!(t[1], "a.x=1 b.u=20 b.v=0.5");
    assert_eq!(t[5], "a.x=2 b.u=30 b.v=1.0");
    // Several groups.
    let s = ok(r#"base = "b.toml"
        [[zip]]
        "b.u" = [1, 2]
        "b.v" = [3, 4]
        [[zip]]
        "c.u" = [5, 6, 7]"#);
    assert_eq!(s.len(), 6);
}

#[test]
fn a_zip_group_of_unequal_lengths_is_an_error_naming_the_field() {
    let e = input_error(
        r#"base = "b.toml"
        [zip]
        "b.u" = [1, 2, 3]
        "b.v" = [1, 2]"#,
    );
    assert!(
        e.contains("zip.\"b.v\"") && e.contains("b.u") && e.contains("same number"),
        "{e}"
    );
}

#[test]
fn samples_are_deterministic_and_within_their_ranges() {
    let text = r#"base = "b.toml"
        [sample]
        n = 200
        seed = 4
        "a.u" = { uniform = [2.0, 3.0] }
        "a.l" = { loguniform = [0.01, 100.0] }
        "a.c" = { choice = ["x", "y", 3] }"#;
    let s = ok(text);
    assert_eq!(s.dimensions[0].kind, DimensionKind::Sample);
    assert_eq!(s.len(), 200);
    assert_eq!(ok(text), s);
    let d = &s.dimensions[0];
    let mut low_decades = 0;
    let mut choices = std::collections::HashSet::new();
    for v in &d.values {
        let u = v[0].0.as_float().expect("float");
        assert!((2.0..3.0).contains(&u), "{u}");
        let l = v[1].0.as_float().expect("float");
        assert!((0.01..=100.0).contains(&l), "{l}");
        if l < 1.0 {
            low_decades += 1;
        }
        choices.insert(v[2].to_string());
    }
    // Log-uniform: about half of the draws below 1.
    assert!((60..140).contains(&low_decades), "{low_decades}");
    assert_eq!(choices.len(), 3);
    // Another seed, other draws.
    let other = ok(&text.replace("seed = 4", "seed = 5"));
    assert_ne!(other.dimensions[0].values, d.values);
}

#[test]
fn bad_sweep_files_name_the_field() {
    let cases: &[(&str, &[&str])] = &[
        ("repeats = 2", &["base", "missing"]),
        ("base = 3", &["base"]),
        ("base = \"b.toml\"\nrepeat = 2", &["repeat", "unknown key"]),
        ("base = \"b.toml\"\nrepeats = 0", &["repeats", ">= 1"]),
        (
            "base = \"b.toml\"\n[axes]\n\"a.x\" = []",
            &["axes.\"a.x\"", "empty"],
        ),
        (
            "base = \"b.toml\"\n[axes]\n\"a.x\" = 3",
            &["axes.\"a.x\"", "linspace"],
        ),
        (
            "base = \"b.toml\"\n[axes]\n\"a.x\" = { linspace = [0, 1] }",
            &["axes.\"a.x\"", "three numbers"],
        ),
        (
            "base = \"b.toml\"\n[axes]\n\"a.x\" = { linspace = [0, 1, 0] }",
            &["axes.\"a.x\"", "n must be"],
        ),
        (
            "base = \"b.toml\"\n[axes]\n\"a.x\" = { linspace = [0, \"z\", 3] }",
            &["axes.\"a.x\"", "finite numbers"],
        ),
        (
            "base = \"b.toml\"\n[axes]\n\"a.x\" = { range = [0, 1, 3] }",
            &["axes.\"a.x\"", "unknown range"],
        ),
        (
            "base = \"b.toml\"\n[axes]\n\"tau\" = [1]",
            &["axes.\"tau\"", "config field"],
        ),
        (
            "base = \"b.toml\"\n[axes]\n\"a..b\" = [1]",
            &["axes.\"a..b\"", "dotted"],
        ),
        (
            "base = \"b.toml\"\n[axes]\n\"a.x\" = [1]\n[zip]\n\"a.x\" = [2]",
            &["a.x", "twice"],
        ),
        (
            "base = \"b.toml\"\n[sample]\n\"a.x\" = { uniform = [0, 1] }",
            &["sample.n", "missing"],
        ),
        (
            "base = \"b.toml\"\n[sample]\nn = 3\n\"a.x\" = { normal = [0, 1] }",
            &["sample.\"a.x\"", "unknown distribution"],
        ),
        (
            "base = \"b.toml\"\n[sample]\nn = 3\n\"a.x\" = { uniform = [1, 0] }",
            &["sample.\"a.x\"", "low <= high"],
        ),
        (
            "base = \"b.toml\"\n[sample]\nn = 3",
            &["sample", "no fields"],
        ),
        (
            "base = \"b.toml\"\n[sample]\nn = 3\ncount = 2",
            &["sample.\"count\""],
        ),
        ("base = \"b.toml\"\n[axes\n", &["line"]),
    ];
    for (text, needles) in cases {
        let e = input_error(text);
        assert!(e.starts_with("dir/s.toml"), "{e}");
        for n in *needles {
            assert!(e.contains(n), "`{n}` not in: {e}\n--- for:\n{text}");
        }
    }
}

#[test]
fn paths_through_arrays_edit_the_whole_array() {
    let base: toml::Table = toml::from_str(
        r#"[ach]
        tonic = 0.05
        pulses = [{ time_ms = 1.0, amplitude = 1.0 }, { time_ms = 5.0, amplitude = 1.0 }]"#,
    )
    .expect("TOML");
    let v = |x: f64| Value(toml::Value::Float(x));
    let sets = point_sets(
        &base,
        &[
            ("ach.tonic".into(), v(0.1)),
            ("ach.pulses.1.amplitude".into(), v(2.0)),
            ("ach.pulses.0.time_ms".into(), v(3.0)),
            ("new.table.x".into(), v(4.0)),
        ],
    )
    .expect("valid edits");
    assert_eq!(sets[0], "ach.tonic=0.1");
    assert_eq!(sets[1], "new.table.x=4.0");
    assert_eq!(
        sets[2],
        "ach.pulses=[{ time_ms = 3.0, amplitude = 1.0 }, { time_ms = 5.0, amplitude = 2.0 }]"
    );
    let e = point_sets(&base, &[("ach.pulses.2.amplitude".into(), v(1.0))]).unwrap_err();
    assert_eq!(e.0, "ach.pulses.2.amplitude");
    assert!(e.1.contains("out of range"), "{}", e.1);
    let e = point_sets(&base, &[("ach.pulses.first.amplitude".into(), v(1.0))]).unwrap_err();
    assert!(e.1.contains("index"), "{}", e.1);
}
