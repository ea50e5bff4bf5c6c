//! Provenance: what built the program, where, when and how it ran, and every input the
//! config read, hashed; a config that names external files is stored with absolute paths,
//! so the config in an output file reproduces the run from any working directory.

use std::path::Path;

use hdf5::types::VarLenUnicode;

use crate::common::{assert_ok, engram_in, read_spikes, repo_file};

fn attr(file: &Path, name: &str) -> String {
    let f = hdf5::File::open(file).expect("opens");
    let v: VarLenUnicode = f
        .group("engram")
        .and_then(|g| g.attr(name))
        .and_then(|a| a.read_scalar())
        .unwrap_or_else(|e| panic!("/engram@{name}: {e}"));
    v.as_str().to_string()
}

fn strings(file: &Path, dataset: &str) -> Vec<String> {
    let f = hdf5::File::open(file).expect("opens");
    let v: Vec<VarLenUnicode> = f
        .dataset(dataset)
        .and_then(|d| d.read_raw())
        .unwrap_or_else(|e| panic!("{dataset}: {e}"));
    v.iter().map(|s| s.as_str().to_string()).collect()
}

fn stored_config(file: &Path) -> String {
    let f = hdf5::File::open(file).expect("opens");
    let v: VarLenUnicode = f
        .dataset("engram/config")
        .and_then(|d| d.read_scalar())
        .expect("/engram/config");
    v.as_str().to_string()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// `configs/recall-images.toml` and its image folder copied into a fresh folder, with the
/// same layout (the config names `../tests/images/digits`).
fn copy_recall_images(root: &Path) {
    let configs = root.join("configs");
    let digits = root.join("tests/images/digits");
    std::fs::create_dir_all(&configs).expect("made");
    std::fs::create_dir_all(&digits).expect("made");
    std::fs::copy(
        repo_file("configs/recall-images.toml"),
        configs.join("recall-images.toml"),
    )
    .expect("copied");
    for e in std::fs::read_dir(repo_file("tests/images/digits")).expect("the digits") {
        let p = e.expect("an entry").path();
        std::fs::copy(&p, digits.join(p.file_name().expect("a name"))).expect("copied");
    }
}

#[test]
fn the_stored_config_reproduces_a_run_with_images_from_anywhere() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let root = tmp.path().canonicalize().expect("a real path");
    copy_recall_images(&root);
    let first = root.join("first.h5");
    let o = engram_in(
        Some(&root.join("configs")),
        ["run", "recall-images.toml", "-o", "../first.h5", "--quiet"],
    );
    assert_ok(&o, "the first run");

    // The stored config names the image folder by its absolute path, and each image is
    // listed with its hash.
    let digits = root.join("tests/images/digits");
    let text = stored_config(&first);
    let want = format!(
        "path = {}",
        toml::Value::String(digits.display().to_string())
    );
    assert!(text.contains(&want), "{want} not in\n{text}");
    assert!(text.contains("# "), "comments are kept:\n{text}");
    let paths = strings(&first, "engram/inputs/path");
    let hashes = strings(&first, "engram/inputs/sha256");
    assert_eq!(paths.len(), 10);
    assert_eq!(hashes.len(), 10);
    assert_eq!(paths[0], digits.join("digit_0.pgm").display().to_string());
    assert_eq!(
        hashes[0],
        "d59830af50ddac772120b40f82691f25c777a73186d977881bfb6fa553cbb909"
    );
    assert!(hashes.iter().all(|h| is_hex(h, 64)), "{hashes:?}");

    // The stored config, run from elsewhere, gives the same spikes.
    let elsewhere = root.join("elsewhere/deeper");
    std::fs::create_dir_all(&elsewhere).expect("made");
    std::fs::write(elsewhere.join("stored.toml"), &text).expect("written");
    let o = engram_in(
        Some(&elsewhere),
        ["run", "stored.toml", "-o", "second.h5", "--quiet"],
    );
    assert_ok(&o, "the run of the stored config");
    let second = elsewhere.join("second.h5");
    for pop in ["sensory", "cortex", "mtl"] {
        let a = read_spikes(&first, pop);
        assert!(!a.timestamps.is_empty(), "{pop}: no spikes");
        assert_eq!(a, read_spikes(&second, pop), "{pop}");
    }
    assert_eq!(strings(&second, "engram/inputs/sha256"), hashes);
    assert_eq!(
        attr(&second, "config_path"),
        elsewhere.join("stored.toml").display().to_string()
    );
    // The stored text is another file than the original.
    assert_ne!(
        attr(&first, "config_sha256"),
        attr(&second, "config_sha256")
    );
}

#[test]
fn provenance_names_the_build_the_host_the_time_and_the_command() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let root = tmp.path().canonicalize().expect("a real path");
    let config = repo_file("tests/configs/small_cuba.toml");
    std::fs::copy(&config, root.join("c.toml")).expect("copied");
    let o = engram_in(
        Some(&root),
        [
            "run",
            "c.toml",
            "-o",
            "out.h5",
            "--quiet",
            "--set",
            "simulation.duration_ms=20",
        ],
    );
    assert_ok(&o, "the run");
    let out = root.join("out.h5");
    assert_eq!(attr(&out, "version"), env!("CARGO_PKG_VERSION"));
    let commit = attr(&out, "git_commit");
    assert!(commit == "unknown" || is_hex(&commit, 40), "{commit}");
    let dirty = attr(&out, "git_dirty");
    assert!(
        ["true", "false", "unknown"].contains(&dirty.as_str()),
        "{dirty}"
    );
    assert!(["release", "debug"].contains(&attr(&out, "build_profile").as_str()));
    assert!(!attr(&out, "target").is_empty());
    assert!(attr(&out, "rustc").starts_with("rustc "));
    // x86_64 and aarch64 targets always have some features.
    assert!(!attr(&out, "target_features").is_empty());
    let date = attr(&out, "created_utc");
    let b = date.as_bytes();
    assert!(
        date.len() == 20
            && b[4] == b'-'
            && b[10] == b'T'
            && b[19] == b'Z'
            && date.as_str() >= "2025",
        "{date}"
    );
    assert!(!attr(&out, "host").is_empty());
    let command = attr(&out, "command_line");
    assert!(
        command.ends_with("run c.toml -o out.h5 --quiet --set simulation.duration_ms=20"),
        "{command}"
    );
    assert_eq!(
        attr(&out, "config_path"),
        root.join("c.toml").display().to_string()
    );
    assert!(is_hex(&attr(&out, "config_sha256"), 64));
    // A config that reads no file: an empty list.
    assert!(strings(&out, "engram/inputs/path").is_empty());
}
