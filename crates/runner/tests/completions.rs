//! `engram completions SHELL` and `engram man`: generated from the command's definition,
//! so they name every subcommand.

use std::process::Command;

use crate::common::{assert_ok, code, engram, stderr, stdout};

/// The subcommands `engram --help` lists (its `Commands:` section), `help` left out.
fn subcommands() -> Vec<String> {
    let o = engram(["--help"]);
    assert_ok(&o, "engram --help");
    let text = stdout(&o);
    let names: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect();
    // The listing is parsed, not assumed: it must hold the commands known to exist.
    for known in [
        "run",
        "check",
        "inspect",
        "plot",
        "export",
        "sweep",
        "merge",
        "completions",
        "man",
    ] {
        assert!(names.iter().any(|n| n == known), "{known} not in {names:?}");
    }
    names
}

fn has_program(name: &str) -> bool {
    Command::new(name).arg("--version").output().is_ok()
}

#[test]
fn bash_completion_offers_every_subcommand() {
    let o = engram(["completions", "bash"]);
    assert_ok(&o, "engram completions bash");
    let script = stdout(&o);
    assert!(script.contains("complete -F _engram"), "{script}");
    // The words offered after `engram`: the line of options and subcommands of the
    // top-level case.
    let top = script
        .lines()
        .find(|l| l.trim_start().starts_with("opts=\"-h -V --help --version"))
        .unwrap_or_else(|| panic!("no top-level opts line:\n{script}"));
    let offered: Vec<&str> = top
        .trim()
        .trim_start_matches("opts=\"")
        .trim_end_matches('"')
        .split_whitespace()
        .collect();
    for sub in subcommands() {
        assert!(offered.contains(&sub.as_str()), "{sub} not offered: {top}");
        // ... and each has its own case, which completes its options.
        assert!(
            script.contains(&format!("engram__subcmd__{sub})")),
            "no completion case for {sub}"
        );
    }
    // The options of a subcommand are completed too.
    assert!(script.contains("--no-memory-check"));
    if has_program("bash") {
        let check = Command::new("bash")
            .args(["-n", "-c", &script])
            .output()
            .expect("bash starts");
        assert!(
            check.status.success(),
            "bash -n: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

#[test]
fn every_shell_gets_a_script_and_others_are_refused() {
    for (shell, marker) in [
        ("bash", "_engram()"),
        ("zsh", "#compdef engram"),
        ("fish", "complete -c engram"),
        ("elvish", "edit:completion:arg-completer[engram]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = engram(["completions", shell]);
        assert_ok(&o, shell);
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        assert!(script.contains("inspect"), "{shell}: no inspect");
        assert!(o.stderr.is_empty(), "{shell}: {}", stderr(&o));
    }
    let o = engram(["completions", "tcsh"]);
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
    assert!(err.contains("bash, elvish, fish, powershell, zsh"), "{err}");
}

/// The requests of a roff man page that clap_mangen writes, in order, with the text of
/// the `.TH` line.
fn check_roff(page: &str, name: &str) {
    let th = page
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap_or_else(|| panic!("no .TH line:\n{page}"));
    assert!(th.starts_with(&format!(".TH {name} 1 ")), "{th}");
    let sections: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix(".SH "))
        .collect();
    for s in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS"] {
        assert!(
            sections.contains(&s),
            "{name}: no section {s}: {sections:?}"
        );
    }
    // No text line starts with the other control character by accident (a description
    // beginning with an apostrophe would vanish as an unknown request).
    for line in page.lines() {
        assert!(!line.starts_with('\''), "{name}: {line}");
    }
    if has_program("groff") {
        // -ww: every warning; -z: no output, only the diagnostics.
        let mut child = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("groff starts");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(page.as_bytes())
            .expect("groff reads the page");
        let o = child.wait_with_output().expect("groff ends");
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "groff on {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn the_man_page_is_roff_naming_every_subcommand() {
    let o = engram(["man"]);
    assert_ok(&o, "engram man");
    let page = stdout(&o);
    check_roff(&page, "engram");
    let listed: Vec<&str> = page
        .lines()
        .skip_while(|l| *l != ".SH SUBCOMMANDS")
        .skip(1)
        .take_while(|l| !l.starts_with(".SH "))
        .filter(|l| !l.starts_with('.'))
        .collect();
    for sub in subcommands() {
        // roff escapes the hyphen.
        let entry = format!("engram\\-{sub}(1)");
        assert!(
            listed.contains(&entry.as_str()),
            "{entry} not under SUBCOMMANDS: {listed:?}"
        );
    }
    assert!(page.contains("(commit "), "the version names the commit");
}

#[test]
fn man_out_writes_one_page_per_subcommand() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path().join("man1");
    let o = engram(["man".as_ref(), "--out".as_ref(), dir.as_os_str()]);
    assert_ok(&o, "engram man --out");
    let listed: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    let mut names = vec!["engram".to_string()];
    names.extend(subcommands().iter().map(|s| format!("engram-{s}")));
    for name in &names {
        let path = dir.join(format!("{name}.1"));
        assert!(
            listed.contains(&path.display().to_string()),
            "{} not listed: {listed:?}",
            path.display()
        );
        let page = std::fs::read_to_string(&path).expect("the page is written");
        check_roff(&page, name);
    }
    let run = std::fs::read_to_string(dir.join("engram-run.1")).unwrap();
    assert!(run.contains("\\-\\-no\\-memory\\-check"), "{run}");
    assert!(
        run.contains("\\fBengram run\\fR"),
        "synopsis names `engram run`"
    );

    // A file in the way is bad input, named.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = engram(["man".as_ref(), "--out".as_ref(), file.as_os_str()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!("error: --out {}: not a folder", file.display())),
        "{}",
        stderr(&o)
    );
}
