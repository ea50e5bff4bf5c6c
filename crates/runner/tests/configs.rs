//! The shipped configs are valid.

use crate::common::{assert_ok, engram, repo_file};

#[test]
fn every_shipped_config_passes_check() {
    let mut n = 0;
    for dir in ["configs", "tests/configs"] {
        for entry in std::fs::read_dir(repo_file(dir)).expect("the folder exists") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let name = path.file_name().expect("a file name").to_string_lossy();
            if name.starts_with("sweep-") {
                // A sweep file: every point is checked by a dry run, once its base exists.
                let text = std::fs::read_to_string(&path).expect("readable");
                let base: toml::Table = toml::from_str(&text).expect("TOML");
                let base = path.with_file_name(base["base"].as_str().expect("base"));
                if !base.exists() {
                    eprintln!("{name}: skipped until {} exists", base.display());
                    continue;
                }
                let o = engram(["sweep".as_ref(), path.as_os_str(), "--dry-run".as_ref()]);
                assert_ok(&o, &format!("engram sweep --dry-run {}", path.display()));
            } else {
                let o = engram(["check".as_ref(), path.as_os_str()]);
                assert_ok(&o, &format!("engram check {}", path.display()));
            }
            n += 1;
        }
    }
    assert!(n >= 2, "no configs found");
}
