//! What `engram run` and `engram sweep` do to the paths they write: only regular files,
//! symbolic links written through, no silent replacement by a concurrent run, no
//! temporary file left by an error or a signal, and stale ones cleaned up.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{assert_ok, code, dir_entries, engram, repo_file, small_cuba, stderr};

/// The 4000-neuron CUBA network for 1000 s: a run that does not end by itself.
fn endless() -> Vec<String> {
    vec![
        "run".into(),
        repo_file("configs/cuba.toml").display().to_string(),
        "--set".into(),
        "simulation.duration_ms=1e6".into(),
        "--threads".into(),
        "1".into(),
        "--quiet".into(),
    ]
}

/// Starts `engram ARGS` with its standard error captured.
fn start<I, S>(args: I) -> Child
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_engram"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the engram binary starts")
}

/// Waits up to `limit` for `child`; kills it and panics with `what` if it runs longer.
fn finish(mut child: Child, limit: Duration, what: &str) -> Output {
    let t0 = Instant::now();
    while child.try_wait().expect("waitable").is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().expect("the killed run ends");
            panic!(
                "{what}: still running after {limit:?}; killed\nstderr:\n{}",
                stderr(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("the run ends")
}

/// Waits up to a minute until `dir` holds a temporary file (`.<name>.tmp-<pid>`).
fn wait_for_temporary(dir: &Path) -> PathBuf {
    let t0 = Instant::now();
    loop {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().contains(".tmp-") {
                    return e.path();
                }
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no temporary file appeared in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends `signal` (`INT`, `TERM`) to process `pid`.
fn send(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -s {signal} {pid}");
}

#[test]
fn a_fifo_is_refused_even_with_force() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let fifo = tmp.path().join("pipe.h5");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let mut args = endless();
    args.extend(["-o".into(), fifo.display().to_string(), "--force".into()]);
    let o = finish(start(&args), Duration::from_secs(20), "run -o FIFO --force");
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains("pipe.h5") && err.contains("a FIFO") && err.contains("only regular files"),
        "{err}"
    );
    let ft = std::fs::symlink_metadata(&fifo)
        .expect("still there")
        .file_type();
    assert!(ft.is_fifo(), "the FIFO was replaced: {ft:?}");
    assert_eq!(dir_entries(tmp.path()), ["pipe.h5"]);
}

#[test]
fn folders_and_names_ending_in_a_slash_are_refused_before_running() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let d = tmp.path();
    std::fs::create_dir(d.join("folder")).expect("a folder");
    std::fs::write(d.join("file"), "x").expect("a file");
    let cases = [
        (format!("{}/new/x/", d.display()), "ends with '/'"),
        (format!("{}/folder/", d.display()), "ends with '/'"),
        (format!("{}/folder", d.display()), "a folder"),
        (format!("{}/folder/.", d.display()), "ends with '/'"),
        (format!("{}/folder/..", d.display()), "ends with '/'"),
        (format!("{}/file/x.h5", d.display()), "is not a folder"),
    ];
    for (out, needle) in cases {
        let mut args = endless();
        args.extend(["-o".into(), out.clone(), "--force".into()]);
        let t0 = Instant::now();
        let o = finish(start(&args), Duration::from_secs(20), &out);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "-o {out}: {err}");
        assert!(err.contains(needle), "-o {out}: `{needle}` not in {err}");
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "-o {out}: refused only after {:?}",
            t0.elapsed()
        );
        assert_eq!(dir_entries(d), ["file", "folder"], "-o {out}");
        assert!(dir_entries(&d.join("folder")).is_empty(), "-o {out}");
    }
}

#[test]
fn a_symlink_to_a_regular_file_is_written_through() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let d = tmp.path();
    std::fs::create_dir(d.join("data")).expect("a folder");
    std::fs::create_dir(d.join("links")).expect("a folder");
    let real = d.join("data/real.h5");
    std::fs::write(&real, "old").expect("written");
    let link = d.join("links/out.h5");
    std::os::unix::fs::symlink("../data/real.h5", &link).expect("a link");
    let run = |out: &Path, force: bool| {
        let mut a: Vec<std::ffi::OsString> = vec![
            "run".into(),
            small_cuba().into(),
            "-o".into(),
            out.into(),
            "--quiet".into(),
            "--set".into(),
            "simulation.duration_ms=20".into(),
        ];
        if force {
            a.push("--force".into());
        }
        engram(a)
    };

    // Without --force the file it leads to exists.
    let o = run(&link, false);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&real).expect("read"), b"old");

    assert_ok(&run(&link, true), "run -o LINK --force");
    let meta = std::fs::symlink_metadata(&link).expect("the link is there");
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        std::fs::read_link(&link).expect("a link"),
        Path::new("../data/real.h5")
    );
    assert!(std::fs::symlink_metadata(&real).expect("there").is_file());
    assert_ok(&engram(["inspect".as_ref(), real.as_os_str()]), "inspect");
    assert_eq!(dir_entries(&d.join("data")), ["real.h5"]);
    assert_eq!(dir_entries(&d.join("links")), ["out.h5"]);

    // A dangling link and a link to a folder are refused and stay.
    let dangling = d.join("links/dangling.h5");
    std::os::unix::fs::symlink("../data/none.h5", &dangling).expect("a link");
    let to_folder = d.join("links/folder.h5");
    std::os::unix::fs::symlink("../data", &to_folder).expect("a link");
    for (l, needle) in [(&dangling, "does not exist"), (&to_folder, "a folder")] {
        let o = run(l, true);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
        assert!(std::fs::symlink_metadata(l).expect("there").is_symlink());
    }
    assert_eq!(dir_entries(&d.join("data")), ["real.h5"]);
}

#[test]
fn of_two_runs_to_one_new_path_one_wins_and_the_other_says_so() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("both.h5");
    let args = [
        "run".into(),
        small_cuba().into_os_string(),
        "-o".into(),
        out.clone().into_os_string(),
        "--quiet".into(),
        "--threads".into(),
        "1".into(),
        "--set".into(),
        "simulation.duration_ms=20000".into(),
    ];
    let a = start(&args);
    let b = start(&args);
    let a = finish(a, Duration::from_secs(300), "the first run");
    let b = finish(b, Duration::from_secs(300), "the second run");
    let (won, lost) = match (code(&a), code(&b)) {
        (0, _) => (a, b),
        (_, 0) => (b, a),
        _ => panic!("neither run succeeded:\n{}\n{}", stderr(&a), stderr(&b)),
    };
    assert_ok(&won, "the winning run");
    let err = stderr(&lost);
    assert_eq!(code(&lost), 1, "{err}");
    assert!(
        err.contains("both.h5") && err.contains("another process") && err.contains("kept"),
        "{err}"
    );
    assert_eq!(dir_entries(tmp.path()), ["both.h5"]);
    let o = engram([
        "inspect".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
        "--config".as_ref(),
    ]);
    assert_ok(&o, "inspect the surviving file");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(j["provenance"]["duration_ms"].as_f64(), Some(20000.0));
    assert!(
        j["populations"]["E"]["spikes"].as_u64().unwrap_or(0) > 0,
        "{j}"
    );
}

#[test]
fn sigint_and_sigterm_end_a_run_without_leaving_files() {
    for (signal, exit) in [("INT", 130), ("TERM", 143)] {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let out = tmp.path().join("x.h5");
        let mut args = endless();
        args.extend(["-o".into(), out.display().to_string()]);
        let child = start(&args);
        let temporary = wait_for_temporary(tmp.path());
        std::thread::sleep(Duration::from_secs(1));
        assert!(temporary.exists());
        send(signal, child.id());
        let t0 = Instant::now();
        let o = finish(child, Duration::from_secs(20), "the interrupted run");
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(exit),
            "SIG{signal}: {:?} {err}",
            o.status
        );
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "SIG{signal}: ended only after {:?}",
            t0.elapsed()
        );
        assert!(
            err.contains(&format!("interrupted by SIG{signal}"))
                && err.contains("removed; no output written"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(dir_entries(tmp.path()).is_empty(), "SIG{signal}");
    }
}

#[test]
fn sigint_stops_a_sweep_and_keeps_its_finished_points() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("s.toml");
    // Point 0 takes a moment, point 1 does not end by itself.
    std::fs::write(
        &file,
        format!(
            "base = {:?}\n[axes]\n\"simulation.duration_ms\" = [50.0, 1e6]\n",
            small_cuba().display().to_string()
        ),
    )
    .expect("written");
    let dir = tmp.path().join("sweep");
    let child = start([
        "sweep".as_ref(),
        file.as_os_str(),
        "-o".as_ref(),
        dir.as_os_str(),
        "--jobs".as_ref(),
        "2".as_ref(),
        "--quiet".as_ref(),
    ]);
    let points = dir.join("points");
    let t0 = Instant::now();
    let running = |points: &Path| {
        dir_entries_or_empty(points)
            .iter()
            .any(|n| n.starts_with(".0001.h5.tmp-"))
    };
    while !(points.join("0000.json").exists() && running(&points)) {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the points did not start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    send("INT", child.id());
    let o = finish(child, Duration::from_secs(20), "the interrupted sweep");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{:?} {err}", o.status);
    assert!(
        err.contains("interrupted by SIGINT") && err.contains("--resume"),
        "{err}"
    );
    assert_eq!(dir_entries(&points), ["0000.h5", "0000.json"]);
    assert!(!dir.join("summary.csv").exists());
    // The stopped point is missing, not failed: --resume runs it again.
    let o = engram(["merge".as_ref(), dir.as_os_str(), "--json".as_ref()]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(j["missing"], serde_json::json!([1]), "{j}");
    assert_eq!(j["failed"], serde_json::json!([]), "{j}");
}

/// The entries of `dir`, or none if it cannot be read (yet).
fn dir_entries_or_empty(dir: &Path) -> Vec<String> {
    if dir.is_dir() {
        dir_entries(dir)
    } else {
        Vec::new()
    }
}

#[test]
fn the_next_run_removes_stale_temporary_files_and_nothing_else() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let d = tmp.path();
    let mut gone = Command::new("true").spawn().expect("true starts");
    let dead = gone.id();
    gone.wait().expect("true ends");
    let stale = format!(".x.h5.tmp-{dead}");
    let keep = [
        ".x.h5.tmp-notapid".to_string(),
        format!(".x.h5.tmp-{}", std::process::id()),
        format!("x.h5.tmp-{dead}"),
        format!(".x.h5.tmp-{dead}.bak"),
        "other.txt".to_string(),
    ];
    for f in keep.iter().chain([&stale]) {
        std::fs::write(d.join(f), "half a file").expect("written");
    }
    let o = engram([
        "run".as_ref(),
        small_cuba().as_os_str(),
        "-o".as_ref(),
        d.join("y.h5").as_os_str(),
        "--quiet".as_ref(),
        "--set".as_ref(),
        "simulation.duration_ms=20".as_ref(),
    ]);
    assert_ok(&o, "the run");
    let err = stderr(&o);
    assert!(!d.join(&stale).exists(), "{stale} is still there");
    for f in &keep {
        assert!(d.join(f).exists(), "{f} was removed");
    }
    assert!(d.join("y.h5").is_file());
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(".tmp-")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains(&stale) && lines[0].contains(&dead.to_string()),
        "{err}"
    );
}

#[test]
fn a_write_failure_at_the_end_removes_the_temporary_file() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let out = tmp.path().join("x.h5");
    let child = start([
        "run".as_ref(),
        small_cuba().as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
        "--threads".as_ref(),
        "1".as_ref(),
        "--set".as_ref(),
        "simulation.duration_ms=30000".as_ref(),
    ]);
    wait_for_temporary(tmp.path());
    // The final name becomes a folder during the run: the rename cannot replace it (as
    // root too).
    std::fs::create_dir(&out).expect("a folder");
    let o = finish(child, Duration::from_secs(300), "the run");
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("x.h5") && err.contains("a folder"), "{err}");
    assert_eq!(dir_entries(tmp.path()), ["x.h5"], "{err}");
    assert!(out.is_dir() && dir_entries(&out).is_empty());
}
