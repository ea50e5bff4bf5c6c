//! The crate graph: the model crates stay free of the runner's dependencies, the library
//! crates point one way, and every outside dependency has one owner crate.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::repo_root;

/// `cargo tree` with `args` (normal dependencies only), one package per line.
fn cargo_tree(args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let o = Command::new(&cargo)
        .current_dir(repo_root())
        .args(["tree", "--offline", "-e", "normal"])
        .args(args)
        .output()
        .expect("cargo starts");
    assert!(
        o.status.success(),
        "cargo tree {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The package names of a `--prefix none --format {p}` listing.
fn names(listing: &str) -> BTreeSet<String> {
    listing
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Every package `krate` depends on, directly or not, itself included.
fn all_dependencies(krate: &str) -> BTreeSet<String> {
    names(&cargo_tree(&[
        "-p", krate, "--prefix", "none", "--format", "{p}",
    ]))
}

#[test]
fn core_crates_do_not_depend_on_runner_libraries() {
    for krate in [
        "engram-core",
        "engram-neuron",
        "engram-cholinergic",
        "engram-network",
    ] {
        let deps = all_dependencies(krate);
        assert!(
            deps.contains(krate),
            "{krate} not in its own tree: {deps:?}"
        );
        for banned in ["hdf5-metno", "clap", "indicatif", "anyhow", "signal-hook"] {
            assert!(!deps.contains(banned), "{krate} depends on {banned}");
        }
    }
}

#[test]
fn experiments_do_no_io_and_know_no_front_end() {
    let deps = all_dependencies("engram-experiments");
    for banned in [
        "hdf5-metno",
        "toml",
        "serde_path_to_error",
        "image",
        "serde_json",
        "clap",
        "indicatif",
        "anyhow",
        "plotters",
        "signal-hook",
    ] {
        assert!(
            !deps.contains(banned),
            "engram-experiments depends on {banned}"
        );
    }
}

/// The workspace crates each crate may depend on directly: dependencies point from the
/// runner towards the model crates, never back.
const ALLOWED: &[(&str, &[&str])] = &[
    ("engram-core", &[]),
    ("engram-neuron", &["engram-core"]),
    ("engram-cholinergic", &["engram-core"]),
    (
        "engram-network",
        &["engram-core", "engram-neuron", "engram-cholinergic"],
    ),
    (
        "engram-experiments",
        &[
            "engram-core",
            "engram-neuron",
            "engram-cholinergic",
            "engram-network",
        ],
    ),
    (
        "engram-io",
        &["engram-core", "engram-experiments", "engram-network"],
    ),
    (
        "engram-python",
        &[
            "engram",
            "engram-config",
            "engram-core",
            "engram-experiments",
            "engram-io",
        ],
    ),
    (
        "engram-config",
        &[
            "engram-core",
            "engram-neuron",
            "engram-cholinergic",
            "engram-network",
            "engram-experiments",
        ],
    ),
];

#[test]
fn workspace_dependencies_point_one_way() {
    for (krate, allowed) in ALLOWED {
        let direct = names(&cargo_tree(&[
            "-p", krate, "--depth", "1", "--prefix", "none", "--format", "{p}",
        ]));
        for dep in direct
            .iter()
            .filter(|d| d.starts_with("engram") && *d != krate)
        {
            assert!(
                allowed.contains(&dep.as_str()),
                "{krate} depends on {dep}; allowed: {allowed:?}"
            );
        }
    }
}

/// Outside dependencies and the workspace crates that may use each directly: one owner,
/// except `image`, which engram-config uses to read stimulus folders and the runner to
/// write plots.
const OWNERS: &[(&str, &[&str])] = &[
    ("hdf5-metno", &["engram-io"]),
    ("toml", &["engram-config"]),
    ("serde_path_to_error", &["engram-config"]),
    ("sha2", &["engram-config"]),
    ("image", &["engram", "engram-config"]),
    ("clap", &["engram"]),
    ("clap_complete", &["engram"]),
    ("clap_mangen", &["engram"]),
    ("indicatif", &["engram"]),
    ("anyhow", &["engram"]),
    ("plotters", &["engram"]),
    ("svg2pdf", &["engram"]),
    ("usvg", &["engram"]),
    ("serde_json", &["engram"]),
    ("signal-hook", &["engram"]),
];

#[test]
fn every_outside_dependency_has_its_owners() {
    for (package, owners) in OWNERS {
        let users = names(&cargo_tree(&[
            "--workspace",
            "-i",
            package,
            "--depth",
            "1",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ]));
        let crates: Vec<&str> = users
            .iter()
            .map(String::as_str)
            .filter(|u| u.starts_with("engram"))
            .collect();
        assert_eq!(
            crates, *owners,
            "the workspace crates that use {package} directly"
        );
    }
}
