//! Every file in `tests/bad_configs/` must be rejected by `engram run` and `engram check`
//! with exit code 2 and a message naming the file and the offending field, and a rejected
//! run must leave nothing behind.

use std::path::PathBuf;

use crate::common::{code, dir_entries, engram, repo_file, stderr};

/// The bad configs and the substring each one's error must contain (its first line is
/// `# expect: <substring>`).
fn bad_configs() -> Vec<(PathBuf, String)> {
    let dir = repo_file("tests/bad_configs");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/bad_configs exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let first = text.lines().next().unwrap_or_default();
        let expect = first
            .strip_prefix("# expect:")
            .unwrap_or_else(|| {
                panic!(
                    "{}: the first line must be `# expect: <substring>`",
                    path.display()
                )
            })
            .trim()
            .to_string();
        assert!(!expect.is_empty(), "{}: empty expectation", path.display());
        out.push((path, expect));
    }
    out.sort();
    out
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn there_are_enough_bad_configs() {
    let n = bad_configs().len();
    assert!(n >= 24, "only {n} bad configs in tests/bad_configs");
}

#[test]
fn run_rejects_every_bad_config_and_writes_nothing() {
    let mut failures = Vec::new();
    for (path, expect) in bad_configs() {
        let name = file_name(&path);
        let tmp = tempfile::tempdir().expect("a temp dir");
        let out_file = tmp.path().join("out.h5");
        let o = engram([
            "run".as_ref(),
            path.as_os_str(),
            "-o".as_ref(),
            out_file.as_os_str(),
            "--quiet".as_ref(),
        ]);
        let err = stderr(&o);
        let mut problems = Vec::new();
        if code(&o) != 2 {
            problems.push(format!("exit code {} instead of 2", code(&o)));
        }
        if !err.starts_with("error: ") {
            problems.push("stderr does not start with `error: `".to_string());
        }
        if !err.contains(&name) {
            problems.push(format!("stderr does not name the file {name}"));
        }
        if !err.contains(&expect) {
            problems.push(format!("stderr does not contain `{expect}`"));
        }
        if err.contains("panicked") {
            problems.push("the binary panicked".to_string());
        }
        let left = dir_entries(tmp.path());
        if !left.is_empty() {
            problems.push(format!("files left in the output folder: {left:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n  stderr: {}",
                problems.join("; "),
                err.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn check_rejects_every_bad_config() {
    let mut failures = Vec::new();
    for (path, expect) in bad_configs() {
        let name = file_name(&path);
        let o = engram(["check".as_ref(), path.as_os_str()]);
        let err = stderr(&o);
        if code(&o) != 2 || !err.contains(&expect) || !err.contains(&name) {
            failures.push(format!(
                "{name}: exit code {} (want 2), expected `{expect}` in: {}",
                code(&o),
                err.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn syntax_errors_give_the_line_of_the_file() {
    let path = repo_file("tests/bad_configs/toml_syntax_error.toml");
    let o = engram(["check".as_ref(), path.as_os_str()]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(&format!("{}:6:", path.display())),
        "want `<file>:6:` in: {}",
        stderr(&o)
    );
}

#[test]
fn zero_threads_is_rejected_before_anything_is_written() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out_file = tmp.path().join("sub").join("out.h5");
    let o = engram([
        "run".as_ref(),
        crate::common::small_cuba().as_os_str(),
        "-o".as_ref(),
        out_file.as_os_str(),
        "--threads".as_ref(),
        "0".as_ref(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--threads"), "{}", stderr(&o));
    assert_eq!(dir_entries(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_missing_config_file_is_an_input_error() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let missing = tmp.path().join("nope.toml");
    let o = engram(["check".as_ref(), missing.as_os_str()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("nope.toml"), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}
