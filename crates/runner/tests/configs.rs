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
            let o = engram(["check".as_ref(), path.as_os_str()]);
            assert_ok(&o, &format!("engram check {}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 2, "no configs found");
}
