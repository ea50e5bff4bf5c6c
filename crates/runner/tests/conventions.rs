//! Conventions of the command line: `--version` names the commit, errors have one style
//! (no colour when stderr is not a terminal), and with `--json` a failure is a JSON object
//! on stdout too, with the same exit code. (Signals: `output_safety.rs`.)

use crate::common::{code, engram, repo_file, stderr, stdout};

#[test]
fn version_names_the_commit() {
    let o = engram(["--version"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("engram {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let commit = text
        .split("(commit ")
        .nth(1)
        .and_then(|t| t.split([',', ';', ')']).next())
        .expect("a commit");
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}

#[test]
fn a_failure_with_json_is_a_json_object_with_the_field() {
    let bad = repo_file("tests/bad_configs/compression_level_too_high.toml");
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("x.h5");
    let o = engram([
        "run".as_ref(),
        bad.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    let e = &j["error"];
    assert_eq!(e["kind"], "input");
    assert_eq!(e["path"], "output.compression_level");
    assert_eq!(e["file"], bad.display().to_string());
    assert_eq!(e["line"].as_u64(), Some(6));
    assert_eq!(e["exit_code"].as_u64(), Some(2));
    let message = e["message"].as_str().expect("a message");
    // The same text as on stderr, in the one style of errors, without colour off a
    // terminal.
    assert_eq!(stderr(&o), format!("error: {message}\n"));
    assert!(!stderr(&o).contains('\x1b'));

    // Without --json: the message alone, nothing on stdout.
    let o = engram([
        "run".as_ref(),
        bad.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    assert_eq!(stderr(&o), format!("error: {message}\n"));

    // Not a config error: no field, still an object and code 2.
    let o = engram([
        "inspect".as_ref(),
        tmp.path().join("missing.h5").as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(code(&o), 2);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(j["error"]["kind"], "input");
    assert!(j["error"]["path"].is_null());
    assert!(
        j["error"]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("no such file"))
    );
}
