//! What this program was built from and where and when a file is written: the
//! provenance that does not come from the config.
//!
//! The build values are captured by `crates/io/build.rs` when the crate is compiled:
//! outside a git checkout (a source tarball) the commit and the dirty flag are `unknown`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The version of engram (the workspace's `version`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit the program was built from (40 hex digits), or `unknown`.
pub const GIT_COMMIT: &str = env!("ENGRAM_GIT_HASH");
/// `true` if the checkout had uncommitted changes to tracked files when the program was
/// built, `false` if not, `unknown` outside a git checkout.
pub const GIT_DIRTY: &str = env!("ENGRAM_GIT_DIRTY");
/// The cargo profile of the build: `release` or `debug`.
pub const PROFILE: &str = env!("ENGRAM_BUILD_PROFILE");
/// The target triple (`x86_64-unknown-linux-gnu`).
pub const TARGET: &str = env!("ENGRAM_TARGET");
/// The CPU features the code was compiled for, comma-separated (`fxsr,sse,sse2`).
pub const TARGET_FEATURES: &str = env!("ENGRAM_TARGET_FEATURES");
/// The compiler (`rustc 1.90.0 (...)`).
pub const RUSTC: &str = env!("ENGRAM_RUSTC");

/// `VERSION (commit COMMIT[, dirty])`, as `engram --version` prints it: `0.1.0 (commit
/// 1a2b3c4d5e6f, dirty)`, or `0.1.0 (commit unknown)`.
pub fn version_line() -> String {
    let commit = if GIT_COMMIT.len() >= 12 && GIT_COMMIT != "unknown" {
        &GIT_COMMIT[..12]
    } else {
        GIT_COMMIT
    };
    let dirty = match GIT_DIRTY {
        "true" => ", dirty",
        "false" => "",
        _ => ", dirty: unknown",
    };
    let dirty = if GIT_COMMIT == "unknown" { "" } else { dirty };
    format!("{VERSION} (commit {commit}{dirty}; {PROFILE} build, {TARGET})")
}

/// The current time in UTC as RFC 3339, to the second (`2026-03-01T12:34:56Z`).
pub fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// `secs` since the Unix epoch as an RFC 3339 UTC time.
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The name of this machine, or `unknown`.
pub fn host_name() -> String {
    let from_proc = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string());
    let from_command = || {
        std::process::Command::new("hostname")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    from_proc
        .filter(|s| !s.is_empty())
        .or_else(from_command)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// A command line as one string that a POSIX shell splits back into the same words: words
/// of plain characters as they are, others in single quotes.
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        let now = now_utc();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
    }

    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let args: Vec<String> = ["engram", "run", "a b.toml", "--set", "x=\"it's\"", ""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            shell_words(&args),
            r#"engram run 'a b.toml' --set 'x="it'\''s"' ''"#
        );
    }

    #[test]
    fn the_build_is_described() {
        assert!(
            GIT_COMMIT == "unknown"
                || (GIT_COMMIT.len() == 40 && GIT_COMMIT.chars().all(|c| c.is_ascii_hexdigit())),
            "{GIT_COMMIT}"
        );
        assert!(
            ["true", "false", "unknown"].contains(&GIT_DIRTY),
            "{GIT_DIRTY}"
        );
        assert!(["release", "debug"].contains(&PROFILE), "{PROFILE}");
        assert!(!TARGET.is_empty());
        assert!(version_line().starts_with(VERSION));
        assert!(!host_name().is_empty());
    }
}
