//! The library crates stay free of the runner's dependencies.

use std::process::Command;

use crate::common::repo_root;

#[test]
fn core_crates_do_not_depend_on_runner_libraries() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for krate in [
        "engram-core",
        "engram-neuron",
        "engram-cholinergic",
        "engram-network",
    ] {
        let o = Command::new(&cargo)
            .current_dir(repo_root())
            .args(["tree", "--offline", "-p", krate, "-e", "normal"])
            .output()
            .expect("cargo starts");
        let tree = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "cargo tree -p {krate} failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(tree.contains(krate), "{krate} not in its own tree:\n{tree}");
        for banned in ["hdf5", "clap", "indicatif", "anyhow"] {
            assert!(
                !tree.contains(banned),
                "{krate} depends on {banned}:\n{tree}"
            );
        }
    }
}
