//! Captures what the program was built from, for the provenance of its files and
//! `engram --version`: the git commit and whether the checkout had uncommitted changes,
//! the build profile, the target and its CPU features, the compiler.
//!
//! Outside a git checkout (a source tarball), or without `git`, the commit and the dirty
//! flag are "unknown"; `ENGRAM_GIT_HASH` (and `ENGRAM_GIT_DIRTY`) set in the environment
//! of the build take their place, for packagers who know them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("../..");
    println!("cargo:rerun-if-env-changed=ENGRAM_GIT_HASH");
    println!("cargo:rerun-if-env-changed=ENGRAM_GIT_DIRTY");

    // Only the workspace's own repository counts: a tarball unpacked inside some other
    // repository has no commit of its own.
    let root_abs = root.canonicalize().ok();
    let toplevel = git(&root, &["rev-parse", "--show-toplevel"])
        .and_then(|t| PathBuf::from(t).canonicalize().ok());
    let in_repo = toplevel.is_some() && toplevel == root_abs;

    let (hash, dirty) = match std::env::var("ENGRAM_GIT_HASH") {
        Ok(h) if !h.is_empty() => (
            h,
            std::env::var("ENGRAM_GIT_DIRTY").unwrap_or_else(|_| "unknown".into()),
        ),
        _ if in_repo => {
            let hash = git(&root, &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
            let dirty = git(&root, &["status", "--porcelain", "--untracked-files=no"])
                .map_or("unknown".to_string(), |s| (!s.is_empty()).to_string());
            // Run again when the commit, the index or the sources change.
            for (arg, files) in [
                ("--git-dir", ["HEAD", "index"]),
                ("--git-common-dir", ["packed-refs", "refs"]),
            ] {
                if let Some(dir) = git(&root, &["rev-parse", arg]) {
                    let dir = root.join(dir);
                    for f in files {
                        if dir.join(f).exists() {
                            println!("cargo:rerun-if-changed={}", dir.join(f).display());
                        }
                    }
                }
            }
            for f in ["crates", "Cargo.toml", "Cargo.lock"] {
                println!("cargo:rerun-if-changed={}", root.join(f).display());
            }
            (hash, dirty)
        }
        _ => ("unknown".into(), "unknown".into()),
    };
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".to_string(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        });
    println!("cargo:rustc-env=ENGRAM_GIT_HASH={hash}");
    println!("cargo:rustc-env=ENGRAM_GIT_DIRTY={dirty}");
    println!("cargo:rustc-env=ENGRAM_BUILD_PROFILE={}", env("PROFILE"));
    println!("cargo:rustc-env=ENGRAM_TARGET={}", env("TARGET"));
    println!(
        "cargo:rustc-env=ENGRAM_TARGET_FEATURES={}",
        env("CARGO_CFG_TARGET_FEATURE")
    );
    println!("cargo:rustc-env=ENGRAM_RUSTC={rustc}");
}
