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

/// The `--json` error object of a failed command: exit code 2, nothing else on stdout,
/// exactly the six keys of every error object, and the message that stderr shows.
fn json_error(args: &[&std::ffi::OsStr]) -> serde_json::Map<String, serde_json::Value> {
    let o = engram(args);
    assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: no JSON object on stdout ({e}): {}", stdout(&o)));
    let top = j.as_object().expect("an object");
    assert_eq!(top.keys().collect::<Vec<_>>(), ["error"], "{args:?}");
    let e = top["error"]
        .as_object()
        .expect("error is an object")
        .clone();
    assert_eq!(
        e.keys().collect::<Vec<_>>(),
        ["kind", "message", "file", "line", "path", "exit_code"],
        "{args:?}"
    );
    assert_eq!(e["kind"], "input", "{args:?}");
    assert_eq!(e["exit_code"].as_u64(), Some(2), "{args:?}");
    let message = e["message"].as_str().expect("a message");
    assert!(!message.is_empty());
    // stderr: the same message after `error: ` (clap adds its usage hints below).
    assert!(
        stderr(&o).starts_with(&format!("error: {message}")),
        "{args:?}: {} vs {message}",
        stderr(&o)
    );
    for key in ["file", "path"] {
        assert!(e[key].is_null() || e[key].is_string(), "{args:?}: {key}");
    }
    assert!(e["line"].is_null() || e["line"].is_u64(), "{args:?}: line");
    e
}

#[test]
fn every_json_error_object_has_one_shape_and_names_its_file() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let os = |p: &std::path::Path| p.as_os_str().to_owned();
    let missing_toml = tmp.path().join("missing.toml");
    let missing_h5 = tmp.path().join("missing.h5");
    let nwb = tmp.path().join("x.nwb");
    let bad = repo_file("tests/bad_configs/compression_level_too_high.toml");
    let name = |p: &std::path::Path| serde_json::Value::from(p.display().to_string());
    let cases: Vec<(Vec<std::ffi::OsString>, serde_json::Value)> = vec![
        (
            vec!["run".into(), os(&missing_toml), "--json".into()],
            name(&missing_toml),
        ),
        (
            vec!["check".into(), os(&missing_toml), "--json".into()],
            name(&missing_toml),
        ),
        (
            vec!["inspect".into(), os(&missing_h5), "--json".into()],
            name(&missing_h5),
        ),
        (
            vec!["plot".into(), os(&missing_h5), "--json".into()],
            name(&missing_h5),
        ),
        (
            vec![
                "export".into(),
                os(&missing_h5),
                "--nwb".into(),
                os(&nwb),
                "--json".into(),
            ],
            name(&missing_h5),
        ),
        (
            vec!["sweep".into(), os(&missing_toml), "--json".into()],
            name(&missing_toml),
        ),
        (
            vec!["merge".into(), os(tmp.path()), "--json".into()],
            name(tmp.path()),
        ),
        // Not about a file: an option the sweep refuses, and clap's usage errors.
        (
            vec![
                "sweep".into(),
                os(&missing_toml),
                "--jobs".into(),
                "0".into(),
                "--json".into(),
            ],
            serde_json::Value::Null,
        ),
        (vec!["run".into(), "--json".into()], serde_json::Value::Null),
        (
            vec![
                "inspect".into(),
                os(&missing_h5),
                "--bogus".into(),
                "--json".into(),
            ],
            serde_json::Value::Null,
        ),
    ];
    for (args, file) in &cases {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let e = json_error(&args);
        assert_eq!(e["file"], *file, "{args:?}");
        assert!(
            e["line"].is_null() && e["path"].is_null(),
            "{args:?}: {e:?}"
        );
    }

    // A config error names its file, line and field under every command that reads
    // configs.
    for command in ["run", "check"] {
        let e = json_error(&[command.as_ref(), bad.as_os_str(), "--json".as_ref()]);
        assert_eq!(e["file"], name(&bad), "{command}");
        assert_eq!(e["line"].as_u64(), Some(6), "{command}");
        assert_eq!(e["path"], "output.compression_level", "{command}");
    }

    // A usage error without --json prints no JSON.
    let o = engram(["run"]);
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
}

#[test]
fn a_sweep_error_names_the_axis_or_the_base_field() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let base = crate::common::small_cuba();
    let sweep = tmp.path().join("bad.toml");
    std::fs::write(
        &sweep,
        format!(
            "base = {:?}\nrepeats = 1\n[axes]\n\"populations.E.n\" = [800, -5]\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    let e = json_error(&["sweep".as_ref(), sweep.as_os_str(), "--json".as_ref()]);
    assert_eq!(e["file"], sweep.display().to_string());
    assert_eq!(e["path"], "populations.E.n");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("axis \"populations.E.n\", point 1")),
        "{e:?}"
    );

    // A value the axis sets breaks a field of the base config that no axis sets (the
    // drive's neuron range of E, 0..400, in 10 neurons): that field, in the base config.
    std::fs::write(
        &sweep,
        format!(
            "base = {:?}\nrepeats = 1\n[axes]\n\"populations.E.n\" = [10, 800]\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    let e = json_error(&["sweep".as_ref(), sweep.as_os_str(), "--json".as_ref()]);
    assert_eq!(e["file"], base.display().to_string());
    assert_eq!(e["path"], "inputs.drive.neurons");
    let line = e["line"].as_u64().expect("a line") as usize;
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(
        text.lines()
            .nth(line - 1)
            .is_some_and(|l| l.contains("neurons")),
        "line {line} of the base config"
    );

    // A key of the sweep file itself.
    std::fs::write(
        &sweep,
        format!(
            "base = {:?}\nrepeats = 0\n[axes]\n\"populations.E.n\" = [10, 20]\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    let e = json_error(&["sweep".as_ref(), sweep.as_os_str(), "--json".as_ref()]);
    assert_eq!(e["file"], sweep.display().to_string());
    assert_eq!(e["path"], "repeats");
}

#[test]
fn check_plot_and_export_print_one_json_object() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let config = crate::common::small_cuba();
    let o = engram(["check".as_ref(), config.as_os_str(), "--json".as_ref()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(j["config"], config.display().to_string());
    assert_eq!(j["populations"]["E"]["n"], 800);
    assert_eq!(j["neurons"], 1000);
    assert_eq!(j["steps"], 2000);
    assert_eq!(j["projections"]["E_to_E"]["source"], "E");
    assert!(j["memory_bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(
        j["gap_coupling_stable"].is_null(),
        "no junctions: not checked"
    );

    let h5 = tmp.path().join("small.h5");
    crate::common::run_json(&config, &h5, &[]);
    let figs = tmp.path().join("figs");
    let o = engram([
        "plot".as_ref(),
        h5.as_os_str(),
        "-o".as_ref(),
        figs.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let files: Vec<&str> = j["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f.as_str().expect("a path"))
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| std::path::Path::new(f).is_file()));

    let nwb = tmp.path().join("small.nwb");
    let o = engram([
        "export".as_ref(),
        h5.as_os_str(),
        "--nwb".as_ref(),
        nwb.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(j["output"], nwb.display().to_string());
    // Exporting again without --force: the NWB file is named.
    let e = json_error(&[
        "export".as_ref(),
        h5.as_os_str(),
        "--nwb".as_ref(),
        nwb.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(e["file"], nwb.display().to_string());
}
