//! The memory this machine lets a run use, for the check every run makes before it
//! allocates anything (see `engram_config::Model::memory_estimate`).
//!
//! The limit is the smallest of: the memory the kernel reports as available
//! (`MemAvailable` in `/proc/meminfo`), the address-space limit of the process
//! (`ulimit -v`, from `/proc/self/limits`), and the free part of the cgroup's memory
//! limit (`/sys/fs/cgroup/memory.max` minus `memory.current`). Where none can be read,
//! there is no limit. `--no-memory-check` turns the check off.

use engram_config::LoadOptions;
use engram_core::memory::MemoryLimit;

/// The options of loading a config for a run on `threads` threads with `seed` (or the
/// config's own): checked against [`machine_limit`] unless `memory_check` is off. The
/// command line and the Python package load configs with these.
pub fn load_options(seed: Option<u64>, threads: usize, memory_check: bool) -> LoadOptions {
    LoadOptions {
        seed,
        memory: if memory_check { machine_limit() } else { None },
        threads,
        spike_reader: Some(crate::read_spike_file),
    }
}

/// The memory a run may use on this machine now, or `None` where nothing says.
pub fn machine_limit() -> Option<MemoryLimit> {
    let candidates = [
        read("/proc/meminfo")
            .and_then(|t| meminfo_available(&t))
            .map(|b| (b, "the memory available on this machine (MemAvailable)")),
        read("/proc/self/limits")
            .and_then(|t| address_space_limit(&t))
            .map(|b| (b, "the address-space limit of the process (ulimit -v)")),
        cgroup_free().map(|b| (b, "the free part of the cgroup's memory limit")),
    ];
    candidates
        .into_iter()
        .flatten()
        .min_by_key(|(b, _)| *b)
        .map(|(bytes, source)| MemoryLimit {
            bytes,
            source: source.to_string(),
        })
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// `MemAvailable` (bytes) from the text of `/proc/meminfo`.
fn meminfo_available(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// The soft address-space limit (bytes) from the text of `/proc/self/limits`; `None` when
/// unlimited.
fn address_space_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    let soft = line
        .trim_start_matches("Max address space")
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

/// `memory.max - memory.current` of the process's cgroup (v2), when limited.
fn cgroup_free() -> Option<u64> {
    let max: u64 = read("/sys/fs/cgroup/memory.max")?.trim().parse().ok()?;
    let current: u64 = read("/sys/fs/cgroup/memory.current")?.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_meminfo_and_limits() {
        let meminfo =
            "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   23478596 kB\n";
        assert_eq!(meminfo_available(meminfo), Some(23_478_596 * 1024));
        assert_eq!(meminfo_available("MemTotal: 1 kB\n"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max address space         6144000000           unlimited            bytes     \n";
        assert_eq!(address_space_limit(limits), Some(6_144_000_000));
        let unlimited =
            "Max address space         unlimited            unlimited            bytes     \n";
        assert_eq!(address_space_limit(unlimited), None);
    }
}
